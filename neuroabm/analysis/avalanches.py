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

from neuroabm.analysis.avalanche_reasons import no_avalanche_reason, suggest_instead
from neuroabm.analysis.branching import (
    branching_ratio_conventional,
    branching_ratio_mr,
    present_neurons,
    subsample_neurons,
)
from neuroabm.analysis.power_laws import crackling_relation, fit_power_law, size_duration_fit
from neuroabm.checks import positive

__all__ = [
    "Avalanches",
    "analyze_avalanches",
    "avalanches_from_counts",
    "binned_counts",
    "find_avalanches",
    "mean_interevent_interval_ms",
    "spike_time_step_ms",
]

#: relative tolerance of :func:`spike_time_step_ms` when testing that times lie on one grid
_GRID_TOL = 1e-4
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


def spike_time_step_ms(times_ms: np.ndarray) -> float | None:
    """The time step of a spike train recorded on a grid, or None if the times lie on no grid.

    The grid is the smallest positive interval between distinct spike times, accepted when every
    time lies (within ``_GRID_TOL`` of a step) on a whole multiple of it from the first spike.
    Costs a sort (about a second for ``10^7`` spikes).
    """
    t = np.unique(_times(times_ms))
    if t.size < 2:
        return None
    step = float(np.diff(t).min())
    k = (t - t[0]) / step
    if step <= 0.0 or not np.all(np.abs(k - np.round(k)) < _GRID_TOL):
        return None
    return step


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

    The default bin is rounded to the spikes' time grid and never below its step, as in
    :func:`analyze_avalanches`.

    Args:
        times_ms: spike times [ms] of all neurons.
        bin_ms: bin width [ms]; None for :func:`mean_interevent_interval_ms` on the time grid.
        t_start_ms: start of the first bin [ms] (default the first spike, so the first
            avalanche is incomplete and dropped when ``complete_only``).
        t_stop_ms: end of the recording [ms] (default the bin of the last spike).
        complete_only: drop avalanches touching the ends of the recording.

    """
    if bin_ms is None:
        bin_ms = _automatic_bin_ms(_times(times_ms), None)[0]
    counts = binned_counts(times_ms, bin_ms, t_start_ms, t_stop_ms)
    return avalanches_from_counts(counts, bin_ms, complete_only)


def _fit_summary(prefix: str, values: np.ndarray, max_samples: int | None, seed: int) -> dict[str, Any]:
    try:
        fit = fit_power_law(values, discrete=True, max_samples=max_samples, rng=seed)
    except ValueError as exc:
        nan = float("nan")
        reason = f"no power-law fit: {exc}"
        return {
            prefix: nan,
            f"{prefix}_err": nan,
            f"{prefix}_xmin": nan,
            f"{prefix}_n_tail": 0,
            f"{prefix}_reason": reason,
        }
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
        f"{prefix}_reason": None,
    }


def _gamma_summary(av: Avalanches, alpha_xmin: float) -> dict[str, Any]:
    """``gamma`` over the duration scaling range (from the duration fit's ``x_min``), and that range."""
    nan = float("nan")
    try:
        fit = size_duration_fit(av.sizes, av.durations, duration_xmin=alpha_xmin)
    except ValueError as exc:
        return {
            "gamma": nan, "gamma_err": nan, "gamma_t_min": None, "gamma_t_max": None, "gamma_n_durations": 0,
            "gamma_range": None, "gamma_reason": f"no <S>(T) fit: {exc}",
        }  # fmt: skip
    return {
        "gamma": fit.gamma,
        "gamma_err": fit.gamma_err,
        "gamma_t_min": fit.t_min,
        "gamma_t_max": fit.t_max,
        "gamma_n_durations": fit.n_durations,
        "gamma_range": fit.range_source,
        "gamma_reason": None,
    }


def _crackling_summary(out: dict[str, Any]) -> dict[str, Any]:
    nan = float("nan")
    if all(math.isfinite(out[k]) for k in ("tau", "alpha", "gamma")) and out["tau"] != 1.0:
        cr = crackling_relation(
            out["tau"], out["alpha"], out["gamma"], out["tau_err"], out["alpha_err"], out["gamma_err"]
        )
        return {
            "predicted_gamma": cr["predicted_gamma"],
            "crackling_difference": cr["difference"],
            "crackling_difference_err": cr["difference_err"],
            "crackling_reason": None,
        }
    missing = [k for k in ("tau", "alpha", "gamma") if not math.isfinite(out[k])]
    why = f"{', '.join(missing)} not estimated" if missing else "tau = 1"
    return {
        "predicted_gamma": nan,
        "crackling_difference": nan,
        "crackling_difference_err": nan,
        "crackling_reason": why,
    }


def _automatic_bin_ms(t: np.ndarray, dt_ms: float | None) -> tuple[float, float | None, float | None]:
    """``(bin, mean inter-event interval, time step)``: the interval, never below the time step.

    On a grid the bin is the interval rounded to a whole multiple (>= 1) of the step (a bin between
    grid multiples would alias), as in :func:`neuroabm.recorders.criticality.grid_bin_ms`.
    """
    step = dt_ms if dt_ms is not None else spike_time_step_ms(t)
    iei = mean_interevent_interval_ms(t)
    if step is None:
        return iei, iei, None
    return max(1, round(iei / step)) * step, iei, step


def analyze_avalanches(
    times_ms: np.ndarray,
    neurons: np.ndarray | None = None,
    bin_ms: float | None = None,
    subsample: int | None = None,
    rng: np.random.Generator | int | None = None,
    mr_bin_ms: float | None = None,
    mr_k_max: int = 100,
    fit_max_samples: int | None = 200_000,
    dt_ms: float | None = None,
) -> dict[str, Any]:
    """One-call avalanche summary of a spike train (JSON-serializable numbers).

    Args:
        times_ms: spike times [ms].
        neurons: neuron index of each spike (needed only to subsample).
        bin_ms: avalanche bin [ms]; None for the mean inter-event interval (of the subsample),
            never below the time step: rounded to a whole multiple (>= 1) of ``dt_ms``.
        subsample: keep the spikes of this many randomly chosen neurons (None keeps all).
        rng: generator or seed for the subsample (required with ``subsample``).
        mr_bin_ms: bin [ms] of the branching-ratio estimates; None uses the avalanche bin.
        mr_k_max: longest lag of the multistep regression (bins).
        fit_max_samples: the power laws are fitted to a random subset of at most this many
            avalanches (seeded, see :func:`fit_power_law`); None fits all (slow beyond ~10^6).
        dt_ms: time step [ms] of the recording; None detects it from the spike times
            (:func:`spike_time_step_ms`; no grid, no limit).

    Returns:
        ``n_spikes``, ``n_neurons_kept``, ``bin_ms``, ``iei_ms`` (mean inter-event interval),
        ``dt_ms`` (the grid used, or None), ``n_avalanches``; the size fit (``tau``, ``tau_err``,
        ``tau_xmin``, ``tau_n_tail``, KS and likelihood-ratio tests with prefix ``tau_``); the
        duration fit (``alpha``... likewise); ``gamma``, ``gamma_err`` and the duration range it
        was fitted on (``gamma_t_min``, ``gamma_t_max`` in bins, ``gamma_n_durations``,
        ``gamma_range``: see :func:`size_duration_fit`); the crackling ``predicted_gamma``,
        ``crackling_difference`` and its error; ``m_conventional``, ``m_mr``, ``m_mr_err``,
        ``mr_tau_ms`` and ``mr_bin_ms``. Quantities that cannot be estimated are NaN, and
        ``<name>_reason`` says why (None otherwise); ``suggestion`` proposes what to run instead
        (:mod:`neuroabm.analysis.avalanche_reasons`).

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
    if dt_ms is not None:
        dt_ms = positive("dt_ms", dt_ms, "ms")
    iei = step = None
    if bin_ms is None and t.size >= 2 and t.max() > t.min():
        bin_ms, iei, step = _automatic_bin_ms(t, dt_ms)
    elif t.size >= 2 and t.max() > t.min():
        iei, step = mean_interevent_interval_ms(t), dt_ms
    nan = float("nan")
    out: dict[str, Any] = {
        "n_spikes": int(t.size),
        "n_neurons_kept": n_neurons_kept,
        "bin_ms": float(bin_ms) if bin_ms is not None else nan,
        "iei_ms": iei,
        "dt_ms": step,
    }
    if bin_ms is None:  # fewer than 2 spikes, or all simultaneous: nothing to bin
        counts = np.zeros(0, np.int64)
        av = avalanches_from_counts(counts, 1.0)
    else:
        counts = binned_counts(t, bin_ms) if t.size else np.zeros(0, np.int64)
        av = avalanches_from_counts(counts, bin_ms)
    out["n_avalanches"] = len(av)
    none_reason = no_avalanche_reason(t.size, counts.size, int(np.sum(counts == 0)), out["bin_ms"], iei, step)
    out |= _fit_summary("tau", av.sizes, fit_max_samples, seed=1)
    out |= _fit_summary("alpha", av.durations, fit_max_samples, seed=2)
    out |= _gamma_summary(av, out["alpha_xmin"])
    out |= _crackling_summary(out)
    if none_reason is not None:  # the root cause beats the fitter's complaint
        for k in ("tau", "alpha", "gamma"):
            out[f"{k}_reason"] = none_reason
    if mr_bin_ms is not None and step is not None and mr_bin_ms < step:
        raise ValueError(f"mr_bin_ms must be >= the time step {step:g} ms (got {mr_bin_ms!r})")
    out |= _branching_summary(t, counts, out["bin_ms"], mr_bin_ms, mr_k_max)
    span_ms = float(t.max() - t.min()) if t.size >= 2 else 0.0
    rate = t.size / n_neurons_kept / span_ms if n_neurons_kept and span_ms > 0 else None
    out["suggestion"] = suggest_instead(out, rate, step)
    return out


def _branching_summary(
    t: np.ndarray, counts: np.ndarray, bin_ms: float, mr_bin_ms: float | None, mr_k_max: int
) -> dict[str, Any]:
    nan = float("nan")
    mr_bin = float(bin_ms if mr_bin_ms is None else mr_bin_ms)
    out: dict[str, Any] = {}
    if not math.isfinite(mr_bin) or t.size < 2:
        why = "fewer than 2 spikes at different times"
        return {
            "m_conventional": nan, "m_conventional_reason": why, "m_mr": nan, "m_mr_err": nan, "mr_tau_ms": nan,
            "m_mr_reason": why, "mr_bin_ms": mr_bin,
        }  # fmt: skip
    mr_counts = counts if mr_bin_ms is None else binned_counts(t, mr_bin_ms)
    out["m_conventional"] = branching_ratio_conventional(mr_counts)
    out["m_conventional_reason"] = (
        None if math.isfinite(out["m_conventional"]) else "no pair of successive bins with activity in the first"
    )
    try:
        mr = branching_ratio_mr(mr_counts, k_max=mr_k_max, bin_ms=mr_bin)
        out |= {"m_mr": mr.m, "m_mr_err": mr.m_err, "mr_tau_ms": mr.tau_ms, "m_mr_reason": None}
    except (ValueError, ZeroDivisionError) as exc:
        why = f"multistep regression failed on {mr_counts.size} bins of {mr_bin:g} ms: {exc}"
        out |= {"m_mr": nan, "m_mr_err": nan, "mr_tau_ms": nan, "m_mr_reason": why}
    out["mr_bin_ms"] = mr_bin
    return out
