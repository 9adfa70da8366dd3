"""Branching processes (the reference simulator) and branching-ratio estimators.

The simulator is checked against exact results for Poisson offspring (Borel size law, iterated
generating function for durations and mean size per duration, stationary moments of the driven
process). The estimators are checked on it: the conventional estimators recover ``m`` from fully
observed activity; under binomial subsampling the lag-1 regression collapses to the predicted
``b m`` (Wilting & Priesemann 2018) while multistep regression still recovers ``m``.

Tolerances are in standard errors (SE) computed from the sample, with the autocorrelation of the
driven process taken into account where it matters; 4 SE leaves a 1-in-15,000 false alarm rate
per check for a Gaussian estimate.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from neuroabm.analysis.branching import (
    branching_ratio_conventional,
    branching_ratio_mr,
    subsample_neurons,
)
from neuroabm.theory.branching_process import (
    avalanche_activity,
    borel_pmf,
    driven_branching_process,
    driven_stationary_mean,
    driven_stationary_variance,
    galton_watson_avalanches,
    gw_duration_cdf,
    gw_duration_pmf,
    gw_mean_size_given_duration,
    subsampled_regression_slope,
)

# --------------------------------------------------------------------------------------------
# The simulator against exact results
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("m", [0.9, 1.0])
def test_avalanche_sizes_and_durations_follow_the_exact_laws(m: float) -> None:
    n = 50_000
    av = galton_watson_avalanches(m, n, np.random.default_rng(11))
    assert not av.truncated.any()
    # P(S = s), s = 1..6, against the Borel law; P(T = t), t = 1..6, against the iterated
    # generating function. Each frequency is binomial: SE = sqrt(p (1 - p) / n).
    for observed, exact in (
        (av.sizes, borel_pmf(np.arange(1, 7), m)),
        (av.durations, gw_duration_pmf(6, m)[1:]),
    ):
        freq = np.array([np.mean(observed == k) for k in range(1, 7)])
        se = np.sqrt(exact * (1 - exact) / n)
        assert np.all(np.abs(freq - exact) < 4 * se), (freq, exact)


def test_mean_size_per_duration_matches_the_generating_function() -> None:
    av = galton_watson_avalanches(1.0, 50_000, np.random.default_rng(12))
    exact = gw_mean_size_given_duration(8, 1.0)
    for t in range(1, 9):
        s = av.sizes[av.durations == t]
        se = s.std(ddof=1) / math.sqrt(s.size) if t > 1 else 0.0
        assert abs(s.mean() - exact[t - 1]) <= 4 * se + 1e-12, (t, s.mean(), exact[t - 1])


def test_exact_laws_have_the_mean_field_exponents() -> None:
    # Borel at m = 1: P(S = s) sqrt(2 pi) s^{3/2} -> 1 (Stirling; correction 1 - 1/(12 s))
    s = np.array([1e3, 1e4])
    assert np.allclose(borel_pmf(s, 1.0) * np.sqrt(2 * np.pi) * s**1.5, 1.0, rtol=1e-3)
    # Kolmogorov: P(T > t) t -> 2 / sigma^2 = 2 (the correction is O(log t / t))
    t = 20_000
    assert (1.0 - gw_duration_cdf(t, 1.0)[t]) * t == pytest.approx(2.0, rel=2e-3)
    # <S>(T) ~ T^2: the local log-log slope tends to gamma = 2 (it is ~1.83 at T = 20)
    ms = gw_mean_size_given_duration(4000, 1.0)
    slope = math.log(ms[3999] / ms[1999]) / math.log(2.0)
    assert slope == pytest.approx(2.0, abs=0.01)
    # subcritical durations are geometric: P(T > t + 1) / P(T > t) -> m
    u = 1.0 - gw_duration_cdf(200, 0.9)
    assert u[200] / u[199] == pytest.approx(0.9, rel=1e-6)


def test_activity_trace_holds_the_same_avalanches() -> None:
    trace = avalanche_activity(1.0, 500, np.random.default_rng(3))
    av = galton_watson_avalanches(1.0, 500, np.random.default_rng(3))
    assert trace.size == av.durations.sum() + 500
    assert trace.sum() == av.sizes.sum()
    assert np.count_nonzero(trace == 0) == 500  # one empty bin closes each avalanche


def test_supercritical_avalanches_are_truncated() -> None:
    av = galton_watson_avalanches(1.5, 200, np.random.default_rng(0), max_generations=30)
    # survival probability of Poisson(1.5) is 1 - q with q = exp(1.5 (q - 1)): q = 0.417
    assert av.truncated.mean() == pytest.approx(0.583, abs=4 * math.sqrt(0.583 * 0.417 / 200))
    assert np.all(av.durations[av.truncated] == 30)


def test_driven_process_has_the_stationary_moments() -> None:
    m, h, n = 0.98, 10.0, 200_000
    a = driven_branching_process(m, h, n, np.random.default_rng(5)).astype(float)
    mean, var = driven_stationary_mean(m, h), driven_stationary_variance(m, h)
    # AR(1)-like correlations m^k: Var(sample mean) = var (1 + m) / ((1 - m) n), and
    # Var(sample variance) = 2 var^2 (1 + m^2) / ((1 - m^2) n)
    se_mean = math.sqrt(var * (1 + m) / ((1 - m) * n))
    se_var = var * math.sqrt(2 * (1 + m * m) / ((1 - m * m) * n))
    assert abs(a.mean() - mean) < 4 * se_mean
    assert abs(a.var() - var) < 4 * se_var


def test_simulator_rejects_bad_parameters() -> None:
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="m must be"):
        galton_watson_avalanches(-1.0, 10, rng)
    with pytest.raises(ValueError, match="n_avalanches must be an integer >= 1"):
        galton_watson_avalanches(1.0, 0, rng)
    with pytest.raises(ValueError, match=r"m must be a finite number in \(0, 1\)"):
        driven_branching_process(1.0, 1.0, 10, rng)
    with pytest.raises(ValueError, match="h must be"):
        driven_branching_process(0.5, 0.0, 10, rng)
    with pytest.raises(ValueError, match="fraction must be"):
        subsampled_regression_slope(0.9, 1.5)


# --------------------------------------------------------------------------------------------
# Estimators
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("m", [0.9, 1.0])
def test_ratio_estimator_is_unbiased_on_a_fully_observed_branching_process(m: float) -> None:
    # within an avalanche E[A_{t+1} | A_t] = m A_t, and the step into the closing empty bin is a
    # genuine extinction: the mean ratio over A_t > 0 estimates m without bias
    trace = avalanche_activity(m, 20_000, np.random.default_rng(21))
    x, y = trace[:-1], trace[1:]
    ratios = y[x > 0] / x[x > 0]
    se = ratios.std(ddof=1) / math.sqrt(ratios.size)
    assert abs(branching_ratio_conventional(trace) - m) < 4 * se


def test_regression_estimator_recovers_m_of_the_driven_process() -> None:
    m = 0.95
    a = driven_branching_process(m, 5.0, 100_000, np.random.default_rng(22))
    # least-squares AR(1) coefficient: SE = sqrt((1 - m^2) / n)
    assert abs(branching_ratio_conventional(a, method="regression") - m) < 4 * math.sqrt((1 - m * m) / a.size)


def _piece_se(a: np.ndarray, n_pieces: int = 10) -> float:
    """SE of the lag-1 regression from its spread over independent-enough pieces of the series."""
    est = [branching_ratio_conventional(p, method="regression") for p in np.array_split(a, n_pieces)]
    return float(np.std(est, ddof=1) / math.sqrt(n_pieces))


def test_mr_recovers_m_under_strong_subsampling_where_regression_is_biased_low() -> None:
    m, h, fraction = 0.98, 10.0, 0.01  # <A> = 500 units active per bin, 5 of them observed
    rng = np.random.default_rng(23)
    full = driven_branching_process(m, h, 200_000, rng)
    seen = rng.binomial(full, fraction)  # each event observed independently with p = 1%

    conventional = branching_ratio_conventional(seen, method="regression")
    predicted = subsampled_regression_slope(m, fraction)  # b m = 0.199
    assert abs(conventional - predicted) < 4 * _piece_se(seen)
    assert conventional < 0.5 * m  # biased low, by a factor b ~ 0.2

    # MR: r_k = b m^k over k = 1..250 bins (5 autocorrelation times of 49.5 bins). The bootstrap
    # over 10 pieces estimates the SE to ~25% (relative SE of an SD from 10 samples is
    # 1/sqrt(18)), so 4 bootstrap SE stands for ~3 true SE.
    mr = branching_ratio_mr(seen, k_max=250, bin_ms=4.0)
    assert mr.m_err < 0.005
    assert abs(mr.m - m) < 4 * mr.m_err
    assert mr.tau_ms == pytest.approx(-4.0 / math.log(mr.m))
    assert mr.m_ci[0] < mr.m < mr.m_ci[1]

    # fully observed, both agree with m
    mr_full = branching_ratio_mr(full, k_max=250, bin_ms=4.0)
    assert abs(mr_full.m - m) < 4 * mr_full.m_err


def test_estimators_reject_bad_input() -> None:
    with pytest.raises(ValueError, match="method must be"):
        branching_ratio_conventional(np.ones(10), method="mle")
    with pytest.raises(ValueError, match="counts must be finite and >= 0"):
        branching_ratio_conventional(np.array([1.0, -1.0, 2.0]))
    assert math.isnan(branching_ratio_conventional(np.zeros(10)))
    with pytest.raises(ValueError, match="counts too short"):
        branching_ratio_mr(np.arange(100), k_max=50)
    with pytest.raises(ValueError, match="k_max must be an integer >= 3"):
        branching_ratio_mr(np.arange(1000), k_max=1)
    with pytest.raises(ValueError, match="constant activity"):
        branching_ratio_mr(np.full(10_000, 3), k_max=10)
    with pytest.raises(ValueError, match="fitfunc must be one of"):
        branching_ratio_mr(np.arange(10_000) % 7, k_max=10, fitfunc="complex")


# --------------------------------------------------------------------------------------------
# Subsampling neurons
# --------------------------------------------------------------------------------------------


def test_subsample_keeps_all_spikes_of_the_chosen_neurons() -> None:
    rng = np.random.default_rng(30)
    neurons = rng.integers(0, 1000, 200_000)
    times = np.sort(rng.uniform(0.0, 1000.0, neurons.size))
    t, nr = subsample_neurons(times, neurons, 10, np.random.default_rng(31))
    kept = np.unique(nr)
    assert kept.size == 10
    assert np.array_equal(t, times[np.isin(neurons, kept)])  # all their spikes, in order
    # spikes assigned to neurons uniformly: the kept share is binomial(n, 1%)
    assert abs(t.size - 2000) < 4 * math.sqrt(200_000 * 0.01 * 0.99)
    with pytest.raises(ValueError, match=r"n_keep must be an integer in \[1, 1000\]"):
        subsample_neurons(times, neurons, 1001, rng)
    with pytest.raises(ValueError, match="neurons must be non-negative integer"):
        subsample_neurons(times, -neurons - 1, 1, rng)


def test_mr_on_nearly_silent_pieces_is_a_clear_error_not_a_crash():
    counts = np.zeros(3000, np.int64)
    counts[[5, 10, 11]] = [1, 2, 1]  # all activity in the first of 10 pieces
    with pytest.raises(ValueError, match="activity"):
        branching_ratio_mr(counts)
