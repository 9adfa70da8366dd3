"""Neuronal avalanches from pooled spike times (Beggs & Plenz 2003, J Neurosci 23:11167).

All spikes are pooled and binned (by default at the mean inter-event interval); an avalanche is a
run of non-empty bins bounded by empty ones, its size ``S`` the number of spikes, its duration
``T`` the number of bins. Everything is vectorized (``O(n)`` in spikes and bins, no loop over
spikes), so ``10^7`` spikes take about a second; the power-law fits cost more (see
``benchmarks/bench_analysis.py``). Works on any spike train given as times [ms], with optional
neuron indices.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from neuroabm.analysis.branching import (
    branching_ratio_conventional,
    branching_ratio_mr,
    present_neurons,
    subsample_neurons,
)
from neuroabm.analysis.power_laws import crackling_relation, fit_power_law, size_duration_exponent
from neuroabm.checks import positive

__all__ = [
    "Avalanches",
    "analyze_avalanches",
    "avalanches_from_counts",
    "binned_counts",
    "find_avalanches",
    "mean_interevent_interval_ms",
]

#: spikes within this fraction of a bin below a bin edge count in the next bin (absorbs rounding
#: of grid times such as 0.3 / 0.1 = 2.9999999999999996)
_EDGE_TOL = 1e-9


@dataclass(frozen=True)
class Avalanches:
    """Avalanches of a binned spike train.

    Attributes:
        sizes: spikes per avalanche (int64).
        durations: bins per avalanche (int64).
        bin_ms: bin width [ms].
        starts: index of each avalanche's first bin (int64), counted from the first bin.

    """

    sizes: np.ndarray
    durations: np.ndarray
    bin_ms: float
    starts: np.ndarray

    def __len__(self) -> int:
        return int(self.sizes.size)


def _times(times_ms: np.ndarray) -> np.ndarray:
    t = np.asarray(times_ms, dtype=float).ravel()
    if t.size and not np.all(np.isfinite(t)):
        raise ValueError("times_ms must be finite spike times [ms]")
    return t


def mean_interevent_interval_ms(times_ms: np.ndarray) -> float:
    """Mean interval [ms] between successive spikes of the pooled train.

    Intervals between simultaneous spikes (zero) count, so the mean is ``(t_last - t_first) /
    (n - 1)``: no sort is needed.

    Raises:
        ValueError: fewer than 2 spikes, or all spikes at the same time.

    """
    t = _times(times_ms)
    if t.size < 2:
        raise ValueError(f"times_ms must hold at least 2 spikes to define an inter-event interval (got {t.size})")
    span = float(t.max() - t.min())
    if span <= 0.0:
        raise ValueError("times_ms must span a positive time (all spikes are simultaneous)")
    return span / (t.size - 1)


def binned_counts(
    times_ms: np.ndarray,
    bin_ms: float,
    t_start_ms: float | None = None,
    t_stop_ms: float | None = None,
) -> np.ndarray:
    """Spikes per bin ``[t_start + i bin, t_start + (i + 1) bin)``.

    Args:
        times_ms: spike times [ms], any order.
        bin_ms: bin width [ms], > 0.
        t_start_ms: start of the first bin [ms]; default the first spike.
        t_stop_ms: end of the recording [ms] (the last bin may be partial); default: the bin
            holding the last spike is the last. Spikes outside ``[t_start, t_stop)`` are ignored.

    Returns:
        int64 counts, one per bin.

    """
    t = _times(times_ms)
    bin_ms = positive("bin_ms", bin_ms, "ms")
    if t_start_ms is None:
        if t.size == 0:
            raise ValueError("t_start_ms is required when times_ms is empty")
        t_start_ms = float(t.min())
    if t_stop_ms is None:
        if t.size == 0:
            raise ValueError("t_stop_ms is required when times_ms is empty")
        n_bins = math.floor((float(t.max()) - t_start_ms) / bin_ms + _EDGE_TOL) + 1
    else:
        if not t_stop_ms > t_start_ms:
            raise ValueError(f"t_stop_ms must be > t_start_ms={t_start_ms} ms (got {t_stop_ms!r})")
        n_bins = math.ceil((t_stop_ms - t_start_ms) / bin_ms - _EDGE_TOL)
    n_bins = max(n_bins, 0)
    idx = np.floor((t - t_start_ms) / bin_ms + _EDGE_TOL).astype(np.int64)
    if t.size and (idx.min() < 0 or idx.max() >= n_bins):
        idx = idx[(idx >= 0) & (idx < n_bins)]
    return np.bincount(idx, minlength=n_bins).astype(np.int64, copy=False)


def avalanches_from_counts(counts: np.ndarray, bin_ms: float, complete_only: bool = True) -> Avalanches:
    """Avalanches (runs of non-empty bins) of a binned spike count series.

    Args:
        counts: spikes per bin (non-negative integers).
        bin_ms: bin width [ms] (recorded in the result).
        complete_only: drop runs touching the first or last bin, whose start or end lies outside
            the recording.

    """
    c = np.asarray(counts)
    if c.ndim != 1:
        raise ValueError(f"counts must be one-dimensional (got shape {c.shape})")
    if c.size and (not np.issubdtype(c.dtype, np.integer) or c.min() < 0):
        if not (np.all(np.isfinite(c)) and np.all(c >= 0) and np.all(c == np.round(c))):
            raise ValueError("counts must be non-negative integers (spikes per bin)")
    c = c.astype(np.int64, copy=False)
    bin_ms = positive("bin_ms", bin_ms, "ms")
    active = np.zeros(c.size + 2, dtype=np.int8)
    active[1:-1] = c > 0
    change = np.flatnonzero(np.diff(active))
    starts, ends = change[0::2], change[1::2]  # [start, end) in bin indices
    if complete_only and starts.size:
        keep = (starts > 0) & (ends < c.size)
        starts, ends = starts[keep], ends[keep]
    cum = np.concatenate(([0], np.cumsum(c)))
    return Avalanches(
        sizes=(cum[ends] - cum[starts]).astype(np.int64),
        durations=(ends - starts).astype(np.int64),
        bin_ms=bin_ms,
        starts=starts.astype(np.int64),
    )


def find_avalanches(
    times_ms: np.ndarray,
    bin_ms: float | None = None,
    t_start_ms: float | None = None,
    t_stop_ms: float | None = None,
    complete_only: bool = True,
) -> Avalanches:
    """Avalanches of a pooled spike train binned at ``bin_ms`` (default: the mean inter-event interval).

    Args:
        times_ms: spike times [ms] of all neurons.
        bin_ms: bin width [ms]; None for :func:`mean_interevent_interval_ms`.
        t_start_ms: start of the first bin [ms] (default the first spike, so the first
            avalanche is incomplete and dropped when ``complete_only``).
        t_stop_ms: end of the recording [ms] (default the bin of the last spike).
        complete_only: drop avalanches touching the ends of the recording.

    """
    if bin_ms is None:
        bin_ms = mean_interevent_interval_ms(times_ms)
    counts = binned_counts(times_ms, bin_ms, t_start_ms, t_stop_ms)
    return avalanches_from_counts(counts, bin_ms, complete_only)


def _fit_summary(prefix: str, values: np.ndarray, max_samples: int | None, seed: int) -> dict[str, Any]:
    try:
        fit = fit_power_law(values, discrete=True, max_samples=max_samples, rng=seed)
    except ValueError:
        nan = float("nan")
        return {prefix: nan, f"{prefix}_err": nan, f"{prefix}_xmin": nan, f"{prefix}_n_tail": 0}
    return {
        prefix: fit.alpha,
        f"{prefix}_err": fit.sigma,
        f"{prefix}_xmin": fit.xmin,
        f"{prefix}_n_tail": fit.n_tail,
        f"{prefix}_ks": fit.ks_distance,
        f"{prefix}_lr_lognormal": fit.lr_lognormal,
        f"{prefix}_p_lognormal": fit.p_lognormal,
        f"{prefix}_lr_exponential": fit.lr_exponential,
        f"{prefix}_p_exponential": fit.p_exponential,
    }


def analyze_avalanches(
    times_ms: np.ndarray,
    neurons: np.ndarray | None = None,
    bin_ms: float | None = None,
    subsample: int | None = None,
    rng: np.random.Generator | int | None = None,
    mr_bin_ms: float | None = None,
    mr_k_max: int = 100,
    fit_max_samples: int | None = 200_000,
) -> dict[str, Any]:
    """One-call avalanche summary of a spike train (JSON-serializable numbers).

    Args:
        times_ms: spike times [ms].
        neurons: neuron index of each spike (needed only to subsample).
        bin_ms: avalanche bin [ms]; None for the mean inter-event interval (of the subsample).
        subsample: keep the spikes of this many randomly chosen neurons (None keeps all).
        rng: generator or seed for the subsample (required with ``subsample``).
        mr_bin_ms: bin [ms] of the branching-ratio estimates; None uses the avalanche bin.
        mr_k_max: longest lag of the multistep regression (bins).
        fit_max_samples: the power laws are fitted to a random subset of at most this many
            avalanches (seeded, see :func:`fit_power_law`); None fits all (slow beyond ~10^6).

    Returns:
        ``n_spikes``, ``n_neurons_kept``, ``bin_ms``, ``n_avalanches``; the size fit (``tau``,
        ``tau_err``, ``tau_xmin``, ``tau_n_tail``, KS and likelihood-ratio tests with prefix
        ``tau_``); the duration fit (``alpha``... likewise); ``gamma``, ``gamma_err``, the
        crackling ``predicted_gamma``, ``crackling_difference`` and its error;
        ``m_conventional``, ``m_mr``, ``m_mr_err``, ``mr_tau_ms`` and ``mr_bin_ms``. Quantities
        that cannot be estimated (too few avalanches) are NaN.

    """
    t = _times(times_ms)
    n_neurons_kept = None
    if subsample is not None:
        if neurons is None:
            raise ValueError("neurons is required to subsample (the neuron index of each spike)")
        if rng is None:
            raise ValueError("rng (a numpy Generator or a seed) is required to subsample")
        t, kept = subsample_neurons(t, neurons, subsample, np.random.default_rng(rng))
        n_neurons_kept = int(present_neurons(kept).size)
    elif neurons is not None:
        n_neurons_kept = int(present_neurons(neurons).size)
    if bin_ms is None:
        bin_ms = mean_interevent_interval_ms(t)
    counts = binned_counts(t, bin_ms)
    av = avalanches_from_counts(counts, bin_ms)
    nan = float("nan")
    out: dict[str, Any] = {
        "n_spikes": int(t.size),
        "n_neurons_kept": n_neurons_kept,
        "bin_ms": float(bin_ms),
        "n_avalanches": len(av),
    }
    out |= _fit_summary("tau", av.sizes, fit_max_samples, seed=1)
    out |= _fit_summary("alpha", av.durations, fit_max_samples, seed=2)
    try:
        gamma, gamma_err = size_duration_exponent(av.sizes, av.durations)
    except ValueError:
        gamma, gamma_err = nan, nan
    out |= {"gamma": gamma, "gamma_err": gamma_err}
    if all(math.isfinite(out[k]) for k in ("tau", "alpha", "gamma")) and out["tau"] != 1.0:
        cr = crackling_relation(out["tau"], out["alpha"], gamma, out["tau_err"], out["alpha_err"], gamma_err)
        out |= {
            "predicted_gamma": cr["predicted_gamma"],
            "crackling_difference": cr["difference"],
            "crackling_difference_err": cr["difference_err"],
        }
    else:
        out |= {"predicted_gamma": nan, "crackling_difference": nan, "crackling_difference_err": nan}
    mr_counts = counts if mr_bin_ms is None else binned_counts(t, mr_bin_ms)
    mr_bin = float(bin_ms if mr_bin_ms is None else mr_bin_ms)
    out["m_conventional"] = branching_ratio_conventional(mr_counts)
    try:
        mr = branching_ratio_mr(mr_counts, k_max=mr_k_max, bin_ms=mr_bin)
        out |= {"m_mr": mr.m, "m_mr_err": mr.m_err, "mr_tau_ms": mr.tau_ms}
    except ValueError:
        out |= {"m_mr": nan, "m_mr_err": nan, "mr_tau_ms": nan}
    out["mr_bin_ms"] = mr_bin
    return out
