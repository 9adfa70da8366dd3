"""The run summary (``summary.json``): rates, irregularity, speed, and the theory beside them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from neuroabm.model.model import NeuroModel


def theory_rate_hz(model: NeuroModel) -> float | None:
    """Stationary rate predicted by mean-field theory for this configuration, when one applies [Hz].

    Brunel (2000) self-consistent rate for the Poisson-driven LIF network; the Siegert rate for
    uncoupled LIF neurons with white noise. None for other cases (e.g. no leak).
    """
    from neuroabm.theory import brunel_rate, siegert_rate

    p = model.params
    if not p.leak:
        return None
    cell = dict(tau_m_ms=p.tau_m_ms, v_th_mv=p.v_th_mv, v_reset_mv=p.v_reset_mv, t_ref_ms=p.t_ref_ms)
    if p.drive == "white_noise" and p.k_exc == 0 and p.k_inh == 0 and p.sigma_mv > 0:
        return float(siegert_rate(p.mu_mv, p.sigma_mv, **cell))
    if p.drive == "poisson" and p.k_exc > 0 and p.eta > 0:
        try:
            return float(brunel_rate(p.eta, p.g, k_exc=p.k_exc, k_inh=p.k_inh, j_mv=p.j_mv, **cell))
        except (ValueError, RuntimeError):
            return None
    return None


def theory_rate_basis(model: NeuroModel) -> str | None:
    """What ``theory_rate_hz`` assumes, in words (None when there is no theory rate)."""
    p = model.params
    if theory_rate_hz(model) is None:
        return None
    if p.drive == "white_noise":
        return "Siegert rate of uncoupled LIF neurons under the white-noise drive"
    parts = ["Brunel (2000) mean field of the asynchronous state, initial synapses"]
    if p.dopamine:
        parts.append("without dopamine (no excitability bias, no feedback)")
    if p.plasticity or p.synapse_model != "static":
        parts.append("before plasticity or depression change the weights")
    return ", ".join(parts)


def summarize(model: NeuroModel, wall_s: float, build_s: float) -> dict[str, Any]:
    """Numbers describing a finished run; ``wall_s`` is the stepping time, ``build_s`` the setup time."""
    sim_s = model.time / 1000.0
    counts = model.spike_count
    exc = model.is_exc
    events = int(np.dot(counts, model.synapses.out_degree()))
    cv = model.isi_cv()
    out = {
        "n_neurons": int(model.n_neurons),
        "n_exc": int(model.n_exc),
        "n_inh": int(model.n_inh),
        "n_synapses": int(model.synapses.n_synapses),
        "duration_ms": float(model.time),
        "seed": int(model.params.seed),
        "n_spikes": int(counts.sum()),
        "rate_hz": float(counts.sum() / (model.n_neurons * sim_s)),
        "rate_exc_hz": float(counts[exc].sum() / (exc.sum() * sim_s)) if exc.any() else float("nan"),
        "rate_inh_hz": float(counts[~exc].sum() / ((~exc).sum() * sim_s)) if (~exc).any() else float("nan"),
        "theory_rate_hz": theory_rate_hz(model),
        "theory_rate_basis": theory_rate_basis(model),
        "cv_isi": float(np.nanmean(cv)) if np.isfinite(cv).any() else float("nan"),
        "synaptic_events": events,
        "sim_s": sim_s,
        "wall_s": wall_s,
        "build_s": build_s,
        "realtime_factor": wall_s / sim_s if sim_s else float("nan"),
        "events_per_s": events / wall_s if wall_s > 0 else float("nan"),
    }
    for part in model.subsystems:  # each attached part adds its own fields (the dopamine system's state, ...)
        out.update(part.summary())
    return out
