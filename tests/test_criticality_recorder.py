"""The criticality recorder: every window's row is the analysis of that window's spikes.

The analysis functions themselves are checked against branching-process theory in
``test_avalanches.py`` and ``test_branching.py``; here the recorder must (1) hand them exactly the
spikes of each window, with the window's own bins, however the spike buffer is flushed, (2) give
NaN rather than fail on quiet windows, and (3) reject bad parameters with a clear message. One
check against theory is repeated on the recorder's branching columns: a driven branching process
``A_{t+1} ~ Poisson(m A_t + h)`` (Wilting & Priesemann 2018) has lag-1 regression slope ``m``.
"""

from __future__ import annotations

import inspect
import math

import numpy as np
import pandas as pd
import pytest

from neuroabm import NeuroModel
from neuroabm.analysis.avalanches import analyze_avalanches, binned_counts
from neuroabm.analysis.branching import branching_ratio_conventional, branching_ratio_mr
from neuroabm.config.params import CRITICALITY_MR_LAGS, CRITICALITY_MR_TRIALS, ConfigError, validate_params
from neuroabm.recorders.criticality import (
    AVALANCHE_KEYS,
    COLUMNS,
    avalanche_columns,
    branching_columns,
    grid_bin_ms,
)
from neuroabm.runner import run_to_directory
from neuroabm.theory.branching_process import driven_branching_process

#: 500 neurons in the asynchronous irregular state (~20 Hz); two windows of 2.1 s, the shortest
#: allowed with 1 ms branching bins (10 pieces of > 2 x 100 lags)
NET = dict(n_exc=400, n_inh=100, k_exc=40, k_inh=10, j_mv=0.5, g=5.0, eta=2.0, seed=11)
WINDOW = dict(criticality_period_ms=2100, criticality_mr_bin_ms=1.0, duration_ms=4200.0)


def test_off_by_default_and_nothing_hooked() -> None:
    m = NeuroModel(**NET, duration_ms=5.0)
    assert m.criticality_recorder is None
    assert m.recorder.before_flush == []  # no per-flush work when off


def test_row_is_the_analysis_of_the_window_even_across_buffer_flushes() -> None:
    m = NeuroModel(**{**NET, **WINDOW, "duration_ms": 2100.0 + 700.0}, criticality_neurons=60)
    # a tiny spike buffer: it flushes every couple of ms, so windows span many flushes
    m.recorder.step = np.empty(1200, np.int64)
    m.recorder.neuron = np.empty(1200, np.int32)
    m.run()
    rec = m.criticality_recorder
    t, nr = m.spikes()
    assert m.recorder.n_total > 20 * 1200  # flushed at least 20 times (at most 1200 spikes per flush)
    assert [r["t_ms"] for r in rec.rows] == [2100.0]  # the partial window that follows is not analysed
    dt = m.params.dt_ms
    for row, (t0, t1) in zip(rec.rows, [(0.0, 2100.0)], strict=True):
        in_window = (t > t0) & (t <= t1)  # a spike of step k is at (k + 1) dt: windows are (t0, t1]
        assert row["rate_hz"] == pytest.approx(in_window.sum() / (m.n_neurons * 2.1), rel=1e-12)
        # avalanches of the electrode neurons, binned at their mean inter-event interval on the dt grid
        sub = t[in_window & np.isin(nr, rec.neurons)]
        assert row["n_neurons"] == 60 and row["n_spikes"] == sub.size
        iei = (sub.max() - sub.min()) / (sub.size - 1)
        assert row["bin_ms"] == pytest.approx(max(1, round(iei / dt)) * dt, rel=1e-12)
        ref = analyze_avalanches(sub, bin_ms=row["bin_ms"], mr_bin_ms=1.0, mr_k_max=CRITICALITY_MR_LAGS)
        for key in AVALANCHE_KEYS:
            assert row[key] == pytest.approx(ref[key], rel=1e-12, nan_ok=True), key
        assert row["m_mr_subsample"] == pytest.approx(ref["m_mr"], rel=1e-12)
        assert math.isfinite(row["tau"]) and row["n_avalanches"] > 100
        # branching ratios of all neurons in 1 ms bins tiling (t0, t1]: bin i holds (t0 + i, t0 + i + 1]
        counts = binned_counts(t[in_window], 1.0, t_start_ms=t0 + dt, t_stop_ms=t1 + dt)
        assert counts.size == 2100 and counts.sum() == in_window.sum()
        assert row["m_conventional"] == pytest.approx(branching_ratio_conventional(counts), rel=1e-12)
        assert row["m_regression"] == pytest.approx(branching_ratio_conventional(counts, "regression"), rel=1e-12)
        mr = branching_ratio_mr(counts, k_max=CRITICALITY_MR_LAGS, bin_ms=1.0)
        assert row["m_mr"] == pytest.approx(mr.m, rel=1e-12)
        assert row["mr_tau_ms"] == pytest.approx(mr.tau_ms, rel=1e-12)
    assert list(rec.frame().columns) == list(COLUMNS)


def test_silent_network_gives_nan_rows() -> None:
    m = NeuroModel(**{**NET, "eta": 0.0}, **WINDOW)  # no drive: no spike at all
    m.run()
    f = m.criticality_recorder.frame()
    assert len(f) == 2 and (f["rate_hz"] == 0).all() and (f["n_avalanches"] == 0).all()
    for key in ("bin_ms", "tau", "alpha", "gamma", "m_conventional", "m_regression", "m_mr", "m_mr_subsample"):
        assert f[key].isna().all(), key


def test_quiet_windows_give_nan_not_errors() -> None:
    empty = avalanche_columns(np.empty(0), 0.0, 1.0, 0.1)
    assert empty["n_spikes"] == 0 and empty["n_avalanches"] == 0 and math.isnan(empty["bin_ms"])
    one = avalanche_columns(np.array([5.0]), 0.5, 1.0, 0.1)  # an explicit bin is kept
    assert one["bin_ms"] == 0.5 and math.isnan(one["tau"])
    # a few spikes: a bin and some avalanches, but too few for any fit (fewer than 10 values)
    few = avalanche_columns(np.array([1.0, 3.0, 3.1, 7.0, 9.0, 9.2, 9.3, 15.0]), 0.0, 1.0, 0.1)
    assert few["bin_ms"] == pytest.approx(2.0) and few["n_avalanches"] >= 1
    assert math.isnan(few["tau"]) and math.isnan(few["alpha"]) and math.isnan(few["m_mr_subsample"])
    for counts in (np.zeros(3000, np.int64), np.full(3000, 4), np.zeros(1, np.int64)):
        b = branching_columns(counts, 1.0)
        assert math.isnan(b["m_regression"]) and math.isnan(b["m_mr"])
    sparse = np.zeros(3000, np.int64)
    sparse[[10, 11, 40]] = 1  # activity in one of the 10 pieces: mrestimator's bootstrap divides by zero
    assert math.isnan(branching_columns(sparse, 1.0)["m_mr"])
    assert math.isnan(avalanche_columns(np.array([1.0, 1.1, 4.0, 200.0]), 0.0, 1.0, 0.1)["m_mr_subsample"])


def test_grid_bin_is_the_mean_interval_rounded_to_the_step() -> None:
    assert grid_bin_ms(np.arange(101) * 0.37, 0.1) == pytest.approx(0.4)
    assert grid_bin_ms(np.arange(101) * 0.02, 0.1) == pytest.approx(0.1)  # never below one step
    with pytest.raises(ValueError, match="at least 2 spikes"):
        grid_bin_ms(np.array([1.0]), 0.1)


def test_branching_columns_recover_a_driven_branching_process() -> None:
    # A_{t+1} ~ Poisson(m A_t + h): the lag-1 regression slope estimates m with standard error
    # sqrt((1 - m^2) / N) = 0.0022 for N = 20,000 bins at m = 0.95; 0.01 is 4.5 standard errors.
    # MR fits r_k = m^k over 100 lags with its own scatter: 0.02 (its bootstrap error is ~0.005).
    m_true = 0.95
    counts = driven_branching_process(m_true, 2.0, 20_000, np.random.default_rng(3))
    b = branching_columns(counts, 1.0)
    assert b["m_regression"] == pytest.approx(m_true, abs=0.01)
    assert b["m_mr"] == pytest.approx(m_true, abs=0.02)
    assert b["mr_tau_ms"] == pytest.approx(-1.0 / math.log(m_true), rel=0.5)


def test_mr_piece_count_matches_the_estimator() -> None:
    default = inspect.signature(branching_ratio_mr).parameters["n_trials"].default
    assert default == CRITICALITY_MR_TRIALS  # the window-length check assumes it


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"criticality_period_ms": -5}, r"invalid criticality_period_ms = -5: allowed an integer >= 0"),
        ({"criticality_period_ms": 1000}, r"criticality_period_ms = 1000: allowed 0 \(off\) or > 4000 ms"),
        ({"criticality_period_ms": 2500, "criticality_mr_bin_ms": 1.0}, None),
        ({"criticality_bin_ms": 0.15}, r"criticality_bin_ms = 0.15: allowed 0 or a whole multiple of dt_ms"),
        ({"criticality_bin_ms": -1.0}, r"invalid criticality_bin_ms = -1.0: allowed a number >= 0"),
        ({"criticality_mr_bin_ms": 0.0}, r"invalid criticality_mr_bin_ms = 0.0: allowed a number > 0"),
        ({"criticality_mr_bin_ms": 1.25}, r"criticality_mr_bin_ms = 1.25: allowed a whole multiple of dt_ms"),
        ({"criticality_neurons": 501}, r"criticality_neurons = 501: allowed 0 \(all\) \.\. n_exc \+ n_inh = 500"),
    ],
)
def test_parameter_validation(override: dict, message: str | None) -> None:
    if message is None:
        assert validate_params({**NET, **override}).criticality_period_ms == override["criticality_period_ms"]
        return
    with pytest.raises(ConfigError, match=message):
        validate_params({**NET, **override})


def test_runner_writes_criticality_parquet(tmp_path) -> None:
    params = validate_params({**NET, **WINDOW, "duration_ms": 2100.0, "criticality_neurons": 50})
    run_to_directory(params, tmp_path, progress=False)
    f = pd.read_parquet(tmp_path / "criticality.parquet")
    assert list(f.columns) == list(COLUMNS) and f["t_ms"].tolist() == [2100.0]
    assert f["n_neurons"].iloc[0] == 50 and f["n_avalanches"].iloc[0] > 0
