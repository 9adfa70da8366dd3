"""Avalanches and branching ratio over time: one row per window of ``criticality_period_ms``.

Every ``criticality_period_ms`` (a Mesa event at priority LOW, after the neuron step and the field
of that millisecond) the recorder analyses the window that just ended (docs/REFERENCES.md §6) and
appends one row (:data:`COLUMNS`):

- avalanches of the *analysed neurons* (all, or a fixed random set of ``criticality_neurons``
  drawn once from the run's seed, like the electrodes of an array: the pooled spikes of a large
  network never fall silent, so avalanches are measured on a subset): size and duration exponents
  ``tau`` and ``alpha`` (Clauset et al. 2009 fits), ``gamma`` of ``<S>(T)``, all from
  :func:`neuroabm.analysis.avalanches.analyze_avalanches`; its multistep-regression branching ratio
  of that subset is kept as ``m_mr_subsample``;
- branching ratios of the *whole population*, counted in bins of ``criticality_mr_bin_ms`` that
  tile the window exactly: ``m_conventional`` (mean ``A_{t+1} / A_t``), ``m_regression`` (lag-1
  regression slope, the conventional estimator of Wilting & Priesemann 2018) and ``m_mr`` (their
  multistep regression, ``CRITICALITY_MR_LAGS`` lags), all per bin.

Window view: the recorder never reads the spike recorder's memory (it may be truncated, or only
streamed to disk, in long runs). At each record and just before each flush of the spike buffer
(``SpikeRecorder.before_flush``) it reads the spikes buffered since its last read: all of them are
added to the window's population counts (one ``bincount``), and the integration steps of the
analysed neurons' spikes are copied (8 bytes per analysed spike, freed at every record).

Avalanche bin: ``criticality_bin_ms``, or by default the window's mean inter-event interval (Beggs
& Plenz 2003) rounded to the nearest whole multiple of ``dt_ms`` (spike times lie on that grid, so
a bin between grid multiples would alias). Whatever cannot be estimated (a quiet window, too few
avalanches, constant activity) is NaN; a record never raises for lack of data.
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from mesa.time import Priority, Schedule

from neuroabm.analysis.avalanches import analyze_avalanches, mean_interevent_interval_ms
from neuroabm.analysis.branching import branching_ratio_conventional, branching_ratio_mr
from neuroabm.config.params import CRITICALITY_MR_LAGS
from neuroabm.exports.tables import write_parquet
from neuroabm.model.subsystem import Subsystem

if TYPE_CHECKING:
    from neuroabm.model.model import NeuroModel

__all__ = ["COLUMNS", "CriticalityRecorder", "avalanche_columns", "branching_columns", "grid_bin_ms"]

#: results of :func:`analyze_avalanches` on the analysed neurons, copied into a row
AVALANCHE_KEYS = (
    "n_spikes",
    "n_avalanches",
    "bin_ms",
    "tau",
    "tau_err",
    "tau_xmin",
    "tau_n_tail",
    "alpha",
    "alpha_err",
    "alpha_xmin",
    "alpha_n_tail",
    "gamma",
    "gamma_err",
    "gamma_t_min",
    "gamma_t_max",
)
#: branching ratios of the whole population
BRANCHING_KEYS = ("m_conventional", "m_regression", "m_mr", "m_mr_err", "mr_tau_ms", "mr_bin_ms")
#: columns of ``criticality.parquet``, in order
COLUMNS = (
    "t_ms",
    "window_ms",
    "rate_hz",
    "n_neurons",
    *AVALANCHE_KEYS,
    "m_mr_subsample",
    *BRANCHING_KEYS,
    "wall_s",
)


def grid_bin_ms(times_ms: np.ndarray, dt_ms: float) -> float:
    """The mean inter-event interval [ms] of ``times_ms``, rounded to a whole multiple (>= 1) of ``dt_ms``.

    Raises:
        ValueError: fewer than 2 spikes, or all at the same time.

    """
    iei = mean_interevent_interval_ms(times_ms)
    return max(1, round(iei / dt_ms)) * dt_ms


def avalanche_columns(times_ms: np.ndarray, bin_ms: float, mr_bin_ms: float, dt_ms: float) -> dict[str, Any]:
    """Avalanche statistics of one window's spikes (:data:`AVALANCHE_KEYS` and ``m_mr_subsample``).

    Args:
        times_ms: spike times [ms] of the analysed neurons in the window.
        bin_ms: avalanche bin [ms]; 0 for the mean inter-event interval on the ``dt_ms`` grid.
        mr_bin_ms: bin of the subsample's multistep regression [ms].
        dt_ms: integration step [ms] (the grid of the spike times).

    Returns:
        The values of :func:`analyze_avalanches`; NaN (and 0 avalanches) when the window has
        fewer than 2 spikes or they are simultaneous.

    """
    t = np.asarray(times_ms, dtype=float)
    out: dict[str, Any] = dict.fromkeys(AVALANCHE_KEYS, math.nan)
    out |= {"n_spikes": int(t.size), "n_avalanches": 0, "tau_n_tail": 0, "alpha_n_tail": 0, "m_mr_subsample": math.nan}
    out |= {"gamma_t_min": 0, "gamma_t_max": 0}  # 0: no range (integer columns)
    if bin_ms > 0:
        out["bin_ms"] = float(bin_ms)
    try:  # no inter-event interval, no avalanche: the NaN row
        bin_used = bin_ms if bin_ms > 0 else grid_bin_ms(t, dt_ms)
        res = analyze_avalanches(t, bin_ms=bin_used, mr_bin_ms=mr_bin_ms, mr_k_max=CRITICALITY_MR_LAGS)
    except (ValueError, ZeroDivisionError):  # ZeroDivisionError: mrestimator on mostly silent pieces
        return out
    out |= {k: res[k] for k in AVALANCHE_KEYS}
    out["gamma_t_min"] = res["gamma_t_min"] or 0
    out["gamma_t_max"] = res["gamma_t_max"] or 0
    out["m_mr_subsample"] = res["m_mr"]
    return out


def branching_columns(counts: np.ndarray, mr_bin_ms: float, k_max: int = CRITICALITY_MR_LAGS) -> dict[str, Any]:
    """Branching ratios (:data:`BRANCHING_KEYS`) of population counts per ``mr_bin_ms`` bin; NaN if undefined."""
    nan = math.nan
    out: dict[str, Any] = {
        "m_conventional": branching_ratio_conventional(counts, method="ratio"),
        "m_regression": branching_ratio_conventional(counts, method="regression"),
        "mr_bin_ms": float(mr_bin_ms),
    }
    try:
        mr = branching_ratio_mr(counts, k_max=k_max, bin_ms=mr_bin_ms)
        out |= {"m_mr": mr.m, "m_mr_err": mr.m_err, "mr_tau_ms": mr.tau_ms}
    except (ValueError, ZeroDivisionError):  # too short, constant or silent (whole pieces, in the bootstrap)
        out |= {"m_mr": nan, "m_mr_err": nan, "mr_tau_ms": nan}
    return out


class CriticalityRecorder(Subsystem):
    """Avalanche and branching-ratio analysis of every window (see the module docstring).

    Attributes:
        rows: one dict per window, keys :data:`COLUMNS`.
        neurons: the analysed neuron indices (sorted).
        wall_s: time spent in the analysis [s].

    """

    name = "criticality"

    def __init__(self, model: NeuroModel) -> None:
        p = model.params
        self.model = model
        self.period_ms = int(p.criticality_period_ms)
        self.rows: list[dict[str, Any]] = []
        self.wall_s = 0.0
        n = model.n_neurons
        if 0 < p.criticality_neurons < n:
            pick = np.random.default_rng([int(p.seed or 0), 0x5C417]).choice(n, p.criticality_neurons, replace=False)
            self.neurons = np.sort(pick)
        else:
            self.neurons = np.arange(n)
        self._keep: np.ndarray | None = None
        if self.neurons.size < n:
            self._keep = np.zeros(n, dtype=bool)
            self._keep[self.neurons] = True
        self._mr_steps = round(p.criticality_mr_bin_ms / p.dt_ms)  # integration steps per population bin
        window_steps = round(self.period_ms / p.dt_ms)
        self._counts = np.zeros(-(-window_steps // self._mr_steps), np.int64)  # the last bin may be partial
        self._full_bins = window_steps // self._mr_steps  # the branching ratios use whole bins only
        self._k0 = model.k  # first integration step of the window
        self._steps: list[np.ndarray] = []  # integration steps of the analysed neurons' spikes
        self._seen = 0  # spike-buffer position read so far
        if self.period_ms > 0:
            rec = model.recorder
            self._seen = rec.pos
            rec.before_flush.append(self._before_flush)
            every = float(self.period_ms)
            model.schedule_recurring(self.record, Schedule(interval=every, start=every), Priority.LOW)

    def write(self, folder: Path) -> list[Path]:
        """``criticality.parquet``: one row per window."""
        write_parquet(self.frame(), folder / "criticality.parquet")
        return [folder / "criticality.parquet"]

    def _take(self) -> None:
        """Read the spikes buffered since the last read; the next read starts at the buffer's end."""
        rec = self.model.recorder
        lo, hi = self._seen, rec.pos
        self._seen = hi
        if hi <= lo:
            return
        steps = rec.step[lo:hi]
        self._counts += np.bincount((steps - self._k0) // self._mr_steps, minlength=self._counts.size)
        if self._keep is not None:
            steps = steps[self._keep[rec.neuron[lo:hi]]]
        self._steps.append(steps.copy())

    def _before_flush(self) -> None:
        """Read the pending spikes before the spike recorder empties its buffer (its position resets)."""
        self._take()
        self._seen = 0

    def record(self) -> None:
        """Analyse the window that ends now and append its row."""
        t0 = time.perf_counter()
        m, p = self.model, self.model.params
        self._take()
        steps = np.concatenate(self._steps) if self._steps else np.empty(0, np.int64)
        counts = self._counts
        self._steps, self._counts, self._k0 = [], np.zeros_like(counts), m.k
        row: dict[str, Any] = {
            "t_ms": float(m.time),
            "window_ms": float(self.period_ms),
            "rate_hz": float(counts.sum()) / (m.n_neurons * self.period_ms / 1000.0),
            "n_neurons": int(self.neurons.size),
        }
        row |= avalanche_columns((steps + 1) * p.dt_ms, p.criticality_bin_ms, p.criticality_mr_bin_ms, p.dt_ms)
        row |= branching_columns(counts[: self._full_bins], p.criticality_mr_bin_ms)
        row["wall_s"] = time.perf_counter() - t0
        self.wall_s += row["wall_s"]
        self.rows.append({k: row[k] for k in COLUMNS})

    def frame(self) -> pd.DataFrame:
        """The rows as a table with :data:`COLUMNS` (empty, with those columns, before the first window)."""
        return pd.DataFrame(self.rows, columns=list(COLUMNS))
