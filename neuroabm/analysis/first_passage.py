"""First passage from a run: times from reset to the next spike, and where the survivors are.

A neuron that spikes at ``t_s`` is clamped for ``t_ref`` and restarts from ``V_r`` at the *reset*
``r = t_s + t_ref``; its next spike ends that *trial*. Pooled over neurons and trials:

- :func:`first_passage_times` gives the trial lengths (first-passage times from reset to threshold;
  for white-noise input each is an independent draw of the density ``F(t)`` of the theory);
- :func:`first_passage_density` histograms them as an estimate of ``F(t)`` [1/ms];
- :func:`occupation_density` histograms recorded membrane potentials over (time since reset, V)
  among trials that have not ended yet, normalized per trial: an estimate of the occupation
  density ``P(V, t)`` [1/mV] whose integral over ``V`` is the survival ``S(t)``, directly
  comparable with :func:`neuroabm.theory.image_occupation_density` and the Fokker–Planck solution.

Times closer than ``TIME_EPS_MS`` are treated as equal (spike and sample times lie on the same
``k dt`` grid but sums such as ``t_s + t_ref`` carry rounding errors).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from neuroabm.checks import finite, non_negative

__all__ = ["OccupationHistogram", "first_passage_density", "first_passage_times", "occupation_density"]

#: times closer than this are equal [ms]
TIME_EPS_MS = 1e-6
#: resets processed at once when counting trials per time bin (bounds memory to ~ this x bins)
_RESET_CHUNK = 1 << 15


def _spikes(spike_times_ms: npt.ArrayLike, neurons: npt.ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Spike arrays as float64 times and int64 neurons, sorted by (neuron, time)."""
    t = np.asarray(spike_times_ms, dtype=float)
    nr = np.asarray(neurons)
    if t.ndim != 1 or nr.shape != t.shape:
        raise ValueError(f"spike times and neurons must be 1-D arrays of one length (got {t.shape} and {nr.shape})")
    if not np.all(np.isfinite(t)):
        raise ValueError("spike times must be finite [ms]")
    nr = nr.astype(np.int64)
    order = np.lexsort((t, nr))
    return t[order], nr[order]


def first_passage_times(
    spike_times_ms: npt.ArrayLike,
    neurons: npt.ArrayLike,
    t_ref_ms: float,
    *,
    start_ms: float | None = None,
    max_start_ms: float | None = None,
) -> np.ndarray:
    """Pooled first-passage times: from each reset (end of refractoriness) to the neuron's next spike.

    The trial of a spike at ``t_s`` starts at ``t_s + t_ref_ms`` and ends at the same neuron's next
    spike. Trials without a next spike are censored and dropped. Dropping them biases a finite
    run towards short times (a long trial is more likely to straddle the end): pass
    ``max_start_ms`` (the run length minus a horizon that almost no trial exceeds) to keep only
    trials that started by then; whether a trial started before a fixed time does not depend on
    its own length, so those trials are an unbiased sample.

    Args:
        spike_times_ms: Spike times [ms], shape (n_spikes,).
        neurons: Neuron index of every spike, shape (n_spikes,).
        t_ref_ms: Absolute refractory period [ms]; >= 0.
        start_ms: If given, every neuron also starts a trial at this time (e.g. 0 with
            ``v_init="reset"``), ended by its first spike. Only neurons that spiked are known here.
        max_start_ms: If given, only trials starting at or before this time are kept [ms].

    Returns:
        The first-passage times [ms], float64, ordered by neuron then time.

    Raises:
        ValueError: If the arrays disagree in shape, ``t_ref_ms`` is negative, or a spike falls
            inside the refractory period of the previous one (``t_ref_ms`` too large).

    """
    t_ref = non_negative("t_ref_ms", t_ref_ms, "ms")
    t, nr = _spikes(spike_times_ms, neurons)
    same = nr[1:] == nr[:-1]
    starts, ends = t[:-1][same] + t_ref, t[1:][same]
    if start_ms is not None:
        first = np.ones(t.size, bool)
        first[1:] = ~same
        starts = np.concatenate([np.full(int(first.sum()), finite("start_ms", start_ms)), starts])
        ends = np.concatenate([t[first], ends])
    fpt = ends - starts
    if np.any(fpt < -TIME_EPS_MS):
        raise ValueError(
            f"a spike falls {-fpt.min():g} ms inside the refractory period: t_ref_ms = {t_ref_ms!r} is larger than "
            "an inter-spike interval (or start_ms is after a first spike)"
        )
    if max_start_ms is not None:
        fpt = fpt[starts <= finite("max_start_ms", max_start_ms) + TIME_EPS_MS]
    return np.maximum(fpt, 0.0)


def first_passage_density(fpt_ms: npt.ArrayLike, bins: int | npt.ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Histogram estimate of the first-passage density ``F(t)`` [1/ms].

    Normalized by the total number of times (not by those inside the bins), so that it estimates
    ``F`` itself even when the bins cover only part of the range.

    Args:
        fpt_ms: First-passage times [ms], e.g. from :func:`first_passage_times`.
        bins: Number of equal bins from 0 to the largest time, or increasing bin edges [ms].

    Returns:
        ``(edges_ms, density_per_ms)`` of shapes (n_bins + 1,) and (n_bins,).

    Raises:
        ValueError: If there are no times or the bins are invalid.

    """
    x = np.asarray(fpt_ms, dtype=float).ravel()
    if x.size == 0:
        raise ValueError("fpt_ms must contain at least one first-passage time")
    if np.ndim(bins) == 0:
        n_bins = int(bins)  # type: ignore[arg-type]
        if n_bins < 1:
            raise ValueError(f"bins must be >= 1 or an array of increasing edges (got {bins!r})")
        edges = np.linspace(0.0, float(x.max()), n_bins + 1)
    else:
        edges = _edges("bins", bins)
    counts, _ = np.histogram(x, edges)
    return edges, counts / (x.size * np.diff(edges))


def _edges(name: str, values: npt.ArrayLike) -> np.ndarray:
    """Strictly increasing, finite bin edges (at least two)."""
    e = np.asarray(values, dtype=float)
    if e.ndim != 1 or e.size < 2 or not np.all(np.isfinite(e)) or np.any(np.diff(e) <= 0):
        raise ValueError(f"{name} must be at least two finite, strictly increasing bin edges (got {values!r})")
    return e


@dataclass(frozen=True)
class OccupationHistogram:
    """Occupation density over (time since reset, V), per trial.

    Attributes:
        t_edges_ms: Time-since-reset bin edges [ms], shape (n_t + 1,).
        v_edges_mv: Membrane-potential bin edges [mV], shape (n_v + 1,).
        density_per_mv: ``counts / (trials * dV)`` [1/mV], shape (n_t, n_v); NaN where no trial
            was observed.
        counts: Samples of surviving trials per bin, shape (n_t, n_v).
        trials: Observed (trial, sample time) pairs per time bin — trials that ended count too —
            shape (n_t,).

    """

    t_edges_ms: np.ndarray
    v_edges_mv: np.ndarray
    density_per_mv: np.ndarray
    counts: np.ndarray
    trials: np.ndarray

    @property
    def survival(self) -> np.ndarray:
        """Fraction of trials not yet ended per time bin (exact if the V bins cover all samples)."""
        return self.counts.sum(axis=1) / np.where(self.trials > 0, self.trials, np.nan)


def occupation_density(
    v_samples: npt.ArrayLike,
    sample_times_ms: npt.ArrayLike,
    neuron_ids: npt.ArrayLike,
    spike_times: npt.ArrayLike,
    spike_neurons: npt.ArrayLike,
    v_bins: npt.ArrayLike,
    t_bins: npt.ArrayLike,
    *,
    t_ref_ms: float,
    start_ms: float | None = None,
) -> OccupationHistogram:
    """Histogram of recorded V over (time since reset, V) among neurons not yet fired since reset.

    Every sample of a recorded neuron is assigned to its current trial (the last reset before
    it); samples in the refractory period and (without ``start_ms``) before a neuron's first
    spike are skipped. Each bin count is divided by the number of (trial, sample time) pairs in
    its time bin — including trials that have already ended — and by the V bin width, so the
    result estimates ``P(V, t)`` with ``sum_V P dV = S(t)``. Choose time bins no narrower than
    the sampling interval; with bins equal to it every trial contributes at most one sample per
    bin, so the counts are binomial and independent across trials.

    Args:
        v_samples: Membrane potentials [mV], shape (n_samples, n_rec) (as ``model.voltages()``).
        sample_times_ms: Sample times [ms], increasing, shape (n_samples,).
        neuron_ids: Neuron of every column, shape (n_rec,).
        spike_times: All spike times [ms] (spikes of other neurons are ignored).
        spike_neurons: Neuron of every spike.
        v_bins: Increasing V bin edges [mV]; they should cover the recorded range.
        t_bins: Increasing time-since-reset bin edges [ms], from >= 0.
        t_ref_ms: Absolute refractory period [ms]; >= 0.
        start_ms: If given, every recorded neuron also starts a trial at this time.

    Returns:
        The :class:`OccupationHistogram`.

    Raises:
        ValueError: If shapes disagree, times are not increasing or bins are invalid.

    """
    v = np.asarray(v_samples, dtype=float)
    times = np.asarray(sample_times_ms, dtype=float)
    ids = np.asarray(neuron_ids).astype(np.int64)
    if v.ndim != 2 or v.shape != (times.size, ids.size):
        raise ValueError(
            f"v_samples must have shape (n_samples, n_rec) = ({times.size}, {ids.size}) (got {v.shape})"
        )  # fmt: skip
    if times.size and (not np.all(np.isfinite(times)) or np.any(np.diff(times) <= 0)):
        raise ValueError("sample_times_ms must be finite and strictly increasing [ms]")
    if np.unique(ids).size != ids.size:
        raise ValueError("neuron_ids must be distinct")
    v_edges, t_edges = _edges("v_bins", v_bins), _edges("t_bins", t_bins)
    if t_edges[0] < 0:
        raise ValueError(f"t_bins must start at >= 0 ms (got {t_edges[0]!r})")
    t_ref = non_negative("t_ref_ms", t_ref_ms, "ms")
    start = None if start_ms is None else finite("start_ms", start_ms)
    # spikes of the recorded neurons, as column numbers
    t_all, nr_all = _spikes(spike_times, spike_neurons)
    by_id = np.argsort(ids)
    pos = np.minimum(np.searchsorted(ids[by_id], nr_all), max(ids.size - 1, 0))
    recorded = ids[by_id][pos] == nr_all if ids.size else np.zeros(nr_all.size, bool)
    spike_t, spike_col = t_all[recorded], by_id[pos[recorded]]
    counts = _survivor_counts(v, times, spike_t, spike_col, t_ref, start, v_edges, t_edges)
    reset_t = spike_t + t_ref
    if start is not None:
        reset_t = np.concatenate([np.full(ids.size, start), reset_t])
    trials = _trial_counts(times, reset_t, t_edges)
    with np.errstate(invalid="ignore", divide="ignore"):
        density = counts / (trials[:, None] * np.diff(v_edges)[None, :])
    density[trials == 0] = np.nan
    return OccupationHistogram(t_edges, v_edges, density, counts, trials)


def _survivor_counts(
    v: np.ndarray,
    times: np.ndarray,
    spike_t: np.ndarray,
    spike_col: np.ndarray,
    t_ref: float,
    start: float | None,
    v_edges: np.ndarray,
    t_edges: np.ndarray,
) -> np.ndarray:
    """Counts of samples per (time-since-reset bin, V bin), each sample in its current trial."""
    n_t, n_rec = v.shape
    # rank every distinct time so that (column, time) becomes one exact integer key
    grid = np.unique(np.concatenate([times, spike_t]))
    n_grid = grid.size
    spike_key = np.sort(spike_col * n_grid + np.searchsorted(grid, spike_t))
    sample_col = np.tile(np.arange(n_rec, dtype=np.int64), n_t)  # row-major order of v.ravel()
    sample_t = np.repeat(times, n_rec)
    sample_key = sample_col * n_grid + np.repeat(np.searchsorted(grid, times), n_rec)
    last = np.searchsorted(spike_key, sample_key, side="right") - 1  # last spike at or before the sample
    has_spike = last >= 0
    has_spike[has_spike] = spike_key[last[has_spike]] // n_grid == sample_col[has_spike]
    reset = np.full(sample_t.size, np.nan if start is None else start)
    reset[has_spike] = grid[spike_key[last[has_spike]] % n_grid] + t_ref
    since = sample_t - reset  # NaN: no trial yet
    since[np.abs(since) < TIME_EPS_MS] = 0.0
    vals = v.ravel()
    t_bin = np.searchsorted(t_edges, since + TIME_EPS_MS, side="right") - 1
    v_bin = np.searchsorted(v_edges, vals, side="right") - 1
    ok = (since >= 0) & (t_bin >= 0) & (t_bin < t_edges.size - 1) & (v_bin >= 0) & (v_bin < v_edges.size - 1)
    n_v = v_edges.size - 1
    flat = np.bincount(t_bin[ok] * n_v + v_bin[ok], minlength=(t_edges.size - 1) * n_v)
    return flat.reshape(t_edges.size - 1, n_v)


def _trial_counts(times: np.ndarray, reset_t: np.ndarray, t_edges: np.ndarray) -> np.ndarray:
    """Number of (trial, sample time) pairs with ``t - reset`` in each time bin."""
    total = np.zeros(t_edges.size, np.int64)
    for lo in range(0, reset_t.size, _RESET_CHUNK):
        r = reset_t[lo : lo + _RESET_CHUNK, None]
        total += np.searchsorted(times, r + t_edges[None, :] - TIME_EPS_MS, side="left").sum(axis=0)
    return np.diff(total)
