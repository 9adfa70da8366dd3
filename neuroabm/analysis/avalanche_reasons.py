"""Why an avalanche quantity could not be estimated, and what to run instead.

:func:`neuroabm.analysis.avalanches.analyze_avalanches` never raises for lack of data: a quantity
it cannot estimate is NaN, and its ``<name>_reason`` field (``tau_reason``, ``alpha_reason``,
``gamma_reason``, ``crackling_reason``, ``m_conventional_reason``, ``m_mr_reason``) says why; the
field is None when the quantity was estimated. ``suggestion`` proposes what to analyse instead
(None when nothing is missing). The same text is printed on the panels of ``analysis.png``.
"""

from __future__ import annotations

import math
from typing import Any

__all__ = ["REASON_KEYS", "no_avalanche_reason", "suggest_instead"]

#: quantities that carry a ``<name>_reason`` field
REASON_KEYS = ("tau", "alpha", "gamma", "crackling", "m_conventional", "m_mr")

#: fewest avalanches for which the exponents mean anything (Clauset et al. 2009 need ~10^3 in the tail)
RECOMMENDED_AVALANCHES = 1000


def no_avalanche_reason(
    n_spikes: int, n_bins: int, n_silent: int, bin_ms: float, iei_ms: float | None, dt_ms: float | None
) -> str | None:
    """Why the spike train yields no (or too few) avalanches, or None if it has silent bins to split on."""
    if n_spikes < 2:
        return f"only {n_spikes} spike(s): no inter-event interval, no avalanche"
    if n_silent == 0 or n_bins - n_silent == 0:
        per_bin = n_spikes / max(n_bins, 1)
        text = (
            f"no silent bin at bin {bin_ms:.3g} ms: the pooled spikes ({per_bin:.3g} per bin on average) "
            "never stop, so no avalanche is delimited"
        )
        if iei_ms is not None and dt_ms is not None and iei_ms < dt_ms:
            text += (
                f" (the mean inter-event interval {iei_ms:.3g} ms is below the time step {dt_ms:.3g} ms, "
                "and a bin is never finer than the time step)"
            )
        return text
    return None


def suggest_instead(out: dict[str, Any], rate_per_neuron_per_ms: float | None, dt_ms: float | None) -> str | None:
    """A run or analysis that would give the missing quantities, or None if nothing is missing."""
    missing = [k for k in REASON_KEYS if out.get(f"{k}_reason")]
    if not missing:
        return None
    n_av = int(out.get("n_avalanches", 0))
    parts = []
    if any(k in missing for k in ("tau", "alpha", "gamma", "crackling")) or n_av < RECOMMENDED_AVALANCHES:
        keep = None
        if rate_per_neuron_per_ms and dt_ms and rate_per_neuron_per_ms > 0:
            # k neurons at rate r give k r dt spikes per time step: below ~0.5 per step the mean
            # inter-event interval exceeds dt and about e^-1 of the bins are silent
            keep = max(1, math.floor(0.5 / (rate_per_neuron_per_ms * dt_ms)))
            n_kept = out.get("n_neurons_kept")
            if n_kept:
                keep = min(keep, max(1, int(n_kept) // 2))
        sub = f"about {keep}" if keep else "a few hundred or fewer"
        parts.append(
            f"analyse a random subsample of {sub} neurons, like the electrodes of an array "
            f"(analyze_avalanches(t_ms, neuron, subsample={keep or 100}, rng=0), or "
            f"'neuroabm analyze RUN --subsample {keep or 100}')"
        )
        parts.append(
            "or simulate a regime with silences between bursts (e.g. runs/levina2007.toml) for longer, "
            f"to get at least {RECOMMENDED_AVALANCHES:,} avalanches"
        )
    if "m_mr" in missing or "m_conventional" in missing:
        parts.append("for the branching ratio, a longer recording or a coarser mr_bin_ms (e.g. the synaptic delay)")
    return "; ".join(parts)
