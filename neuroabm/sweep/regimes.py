"""Population measures of a run and the Brunel (2000) regime each point is in.

Pure functions on spike arrays ``(t_ms, neuron)`` or on a binned population rate:

- :func:`population_rate_hz`: the population rate in bins of ``bin_ms``.
- :func:`dominant_frequency`: the peak of the population rate's power spectrum (Welch, mean
  removed) above ``f_min_hz``, and how far it stands out: ``peak_ratio`` = peak density / median
  density over ``[f_min_hz, Nyquist)``. For a rate with no oscillation (independent irregular
  neurons, finite-size noise) the spectrum is nearly flat and the ratio is a few units; a
  population oscillation puts a narrow peak 10-1000 times above the floor.
- :func:`synchrony_chi`: Golomb's synchrony measure on binned spike counts,
  ``chi^2 = Var_t(S / N) / mean_i Var_t(n_i)`` with ``n_i`` the counts of neuron ``i`` and ``S``
  their sum over the ``N`` neurons: ``chi ~ 1 / sqrt(N)`` for independent neurons, 1 for identical
  trains.
- :func:`classify_regime`: the stated criteria (Brunel 2000, section 5 names the states):

  1. **quiescent**: steady-state rate below ``quiescent_hz`` (0.1 Hz);
  2. **SR** (synchronous regular): neurons fire regularly, mean ISI CV below ``regular_cv``
     (0.2). In these delay-coupled networks regular firing at the high rates where it occurs goes
     with locking to a fast population rhythm (the spectral peak sits at the rate or a multiple);
  3. **AI** (asynchronous irregular) unless the population rate oscillates, i.e.
     ``peak_ratio >= peak_ratio_sync`` (50; the damped finite-size fluctuations of the asynchronous
     state reach ratios of 20-45 at N = 5,000, sustained oscillations 60-400);
  4. an oscillating population of irregular neurons is **SI fast** if the dominant frequency is at
     least ``fast_hz`` (60 Hz; Brunel's fast oscillations are set by the delay, 150-200 Hz at
     D = 1.5 ms; the slow ones by the membrane time constant, 20-50 Hz), else **SI slow**.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.signal import welch

from neuroabm.analysis.spike_stats import cv_isi

__all__ = [
    "REGIMES",
    "RegimeCriteria",
    "analyze_spikes",
    "classify_rate_series",
    "classify_regime",
    "dominant_frequency",
    "population_rate_hz",
    "synchrony_chi",
]

REGIMES = ("quiescent", "AI", "SR", "SI fast", "SI slow")
#: length of a Welch segment [ms]: 7.8 Hz resolution, ~11 half-overlapping segments in 800 ms
SEGMENT_MS = 128.0


@dataclass(frozen=True)
class RegimeCriteria:
    """Thresholds of :func:`classify_regime` (see the module docstring)."""

    quiescent_hz: float = 0.1
    peak_ratio_sync: float = 50.0
    regular_cv: float = 0.2
    fast_hz: float = 60.0
    f_min_hz: float = 5.0


def population_rate_hz(t_ms: np.ndarray, n_neurons: int, t0_ms: float, t1_ms: float, bin_ms: float) -> np.ndarray:
    """Population rate [Hz] in bins of ``bin_ms`` over ``[t0_ms, t1_ms)`` (a whole number of bins)."""
    n_bins = int(np.floor((t1_ms - t0_ms) / bin_ms + 1e-9))
    idx = np.floor((np.asarray(t_ms) - t0_ms) / bin_ms + 1e-9).astype(np.int64)
    idx = idx[(idx >= 0) & (idx < n_bins)]
    counts = np.bincount(idx, minlength=n_bins)[:n_bins]
    return counts / (n_neurons * bin_ms * 1e-3)


def dominant_frequency(rate_hz: np.ndarray, bin_ms: float, f_min_hz: float = 5.0) -> tuple[float, float]:
    """``(freq_hz, peak_ratio)`` of a population rate: its spectral peak above ``f_min_hz`` [Hz].

    Welch's estimate with segments of :data:`SEGMENT_MS` (the whole series if shorter), half
    overlapping, mean removed. NaNs when the series is too short or constant.
    """
    x = np.asarray(rate_hz, dtype=float)
    nperseg = min(x.size, round(SEGMENT_MS / bin_ms))
    if nperseg < 8 or not np.ptp(x) > 0:
        return float("nan"), float("nan")
    f, psd = welch(x, fs=1000.0 / bin_ms, nperseg=nperseg, detrend="constant")
    band = (f >= f_min_hz) & (f < f[-1])
    if band.sum() < 3:
        return float("nan"), float("nan")
    fb, pb = f[band], psd[band]
    i = int(np.argmax(pb))
    floor = float(np.median(pb))
    return float(fb[i]), float(pb[i] / floor) if floor > 0 else float("inf")


def synchrony_chi(
    t_ms: np.ndarray, neuron: np.ndarray, n_neurons: int, t0_ms: float, t1_ms: float, bin_ms: float
) -> float:
    """Golomb's synchrony ``chi`` from spike counts in bins of ``bin_ms`` over ``[t0_ms, t1_ms)``.

    ``chi^2 = Var_t(S / N) / mean_i Var_t(n_i)`` over all ``N = n_neurons`` neurons (silent ones
    count with zero variance); NaN without spikes.
    """
    n_bins = int(np.floor((t1_ms - t0_ms) / bin_ms + 1e-9))
    t, nr = np.asarray(t_ms), np.asarray(neuron, dtype=np.int64)
    b = np.floor((t - t0_ms) / bin_ms + 1e-9).astype(np.int64)
    keep = (b >= 0) & (b < n_bins)
    b, nr = b[keep], nr[keep]
    if b.size == 0 or n_bins < 2:
        return float("nan")
    pop = np.bincount(b, minlength=n_bins) / n_neurons
    cells, per_cell = np.unique(nr * n_bins + b, return_counts=True)
    owner = cells // n_bins
    s1 = np.bincount(owner, per_cell, minlength=n_neurons)
    s2 = np.bincount(owner, per_cell.astype(float) ** 2, minlength=n_neurons)
    var_i = s2 / n_bins - (s1 / n_bins) ** 2
    mean_var = float(var_i.mean())
    return float(np.sqrt(pop.var() / mean_var)) if mean_var > 0 else float("nan")


def classify_regime(
    rate_hz: float, cv: float, freq_hz: float, peak_ratio: float, criteria: RegimeCriteria = RegimeCriteria()
) -> str:
    """One of :data:`REGIMES` from the steady-state rate, mean ISI CV and the rate spectrum's peak."""
    if not rate_hz >= criteria.quiescent_hz:  # NaN too
        return "quiescent"
    if cv < criteria.regular_cv:
        return "SR"
    if not peak_ratio >= criteria.peak_ratio_sync:
        return "AI"
    return "SI fast" if freq_hz >= criteria.fast_hz else "SI slow"


def classify_rate_series(
    rate_hz: np.ndarray, bin_ms: float, cv: float, criteria: RegimeCriteria = RegimeCriteria()
) -> str:
    """:func:`classify_regime` of a binned population rate [Hz] and the neurons' mean ISI CV."""
    freq, ratio = dominant_frequency(rate_hz, bin_ms, criteria.f_min_hz)
    return classify_regime(float(np.mean(rate_hz)), cv, freq, ratio, criteria)


def analyze_spikes(
    t_ms: np.ndarray,
    neuron: np.ndarray,
    n_neurons: int,
    duration_ms: float,
    transient_ms: float = 100.0,
    rate_bin_ms: float = 0.5,
    chi_bin_ms: float = 2.0,
    criteria: RegimeCriteria = RegimeCriteria(),
) -> dict[str, Any]:
    """The analysis fields of one run, measured after ``transient_ms``.

    Returns ``rate_ss_hz`` (steady-state rate), ``cv_ss`` (mean ISI CV of neurons with >= 2
    intervals), ``chi``, ``freq_hz`` and ``peak_ratio`` (:func:`dominant_frequency`) and ``regime``.
    """
    t0 = min(transient_ms, duration_ms / 2)
    t, nr = np.asarray(t_ms), np.asarray(neuron)
    late = t >= t0
    window_s = (duration_ms - t0) * 1e-3
    rate = float(late.sum() / (n_neurons * window_s)) if window_s > 0 else float("nan")
    cvs = cv_isi(t[late], nr[late])
    cv = float(np.nanmean(cvs)) if np.isfinite(cvs).any() else float("nan")
    pop = population_rate_hz(t, n_neurons, t0, duration_ms, rate_bin_ms)
    freq, ratio = dominant_frequency(pop, rate_bin_ms, criteria.f_min_hz)
    return {
        "rate_ss_hz": rate,
        "cv_ss": cv,
        "chi": synchrony_chi(t, nr, n_neurons, t0, duration_ms, chi_bin_ms),
        "freq_hz": freq,
        "peak_ratio": ratio,
        "regime": classify_regime(rate, cv, freq, ratio, criteria),
    }
