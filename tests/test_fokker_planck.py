"""The Fokker–Planck first-passage solver against Siegert, the inverse Gaussian and simulated neurons.

The solver is second order in the grid spacing dv and the time step dt, conserves probability
exactly (the only loss is the flux through the threshold) and integrates the survival exactly for
its grid whatever the time step. The checks: its mean first-passage time plus t_ref is Siegert's
mean interval (docs/REFERENCES.md §2); without leak its F(t) and P(V, t) are the inverse Gaussian and the
method-of-images density; isolated white-noise LIF neurons of the engine fire after reset with
its F(t).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from neuroabm import NeuroModel
from neuroabm.analysis.first_passage import first_passage_times, occupation_density
from neuroabm.theory import (
    image_occupation_density,
    inverse_gaussian_pdf,
    siegert_mean_isi_ms,
)
from neuroabm.theory.fokker_planck import fokker_planck_first_passage, fokker_planck_mean_fpt_ms

TAU, THETA, V_R, T_REF = 20.0, 20.0, 10.0, 2.0
#: docs/REFERENCES.md §2: (mu, sigma) [mV] -> reference Siegert rate [Hz] (4 significant digits)
SIEGERT_CASES = [(15.0, 5.0, 9.461), (20.0, 5.0, 27.34), (25.0, 2.0, 42.85), (10.0, 10.0, 12.08)]


@pytest.mark.parametrize(("mu", "sigma", "reference_hz"), SIEGERT_CASES)
def test_mean_first_passage_time_plus_refractory_period_is_siegert(mu, sigma, reference_hz):
    sol = fokker_planck_first_passage(mu, sigma)
    # the march reached S < 1e-6, so integral S dt is all but a negligible remainder
    assert sol.tail_ms < 1e-5 * sol.mean_fpt_ms
    isi = sol.mean_fpt_ms + T_REF
    assert isi == pytest.approx(siegert_mean_isi_ms(mu, sigma), rel=5e-3)  # the project's 0.5 %
    # and the reference rates, which carry 4 significant digits (half a unit: < 6e-4 relative)
    assert 1000.0 / isi == pytest.approx(reference_hz, rel=6e-4)


@pytest.mark.parametrize(("mu", "sigma"), [(15.0, 5.0), (25.0, 2.0)])
def test_mean_first_passage_time_converges_at_second_order_in_dv(mu, sigma):
    exact = siegert_mean_isi_ms(mu, sigma) - T_REF
    err = [abs(fokker_planck_mean_fpt_ms(mu, sigma, dv_mv=dv) / exact - 1.0) for dv in (0.2, 0.1, 0.05)]
    # halving dv divides a second-order error by 4; allow 3 to 5 (higher-order terms)
    assert 3.0 < err[0] / err[1] < 5.0
    assert 3.0 < err[1] / err[2] < 5.0


def test_mean_first_passage_time_does_not_depend_on_the_time_step():
    """Trapezoid (Crank-Nicolson) and right-point (Euler) sums of S equal the stationary solve exactly."""
    stationary = fokker_planck_mean_fpt_ms(20.0, 5.0)
    coarse = fokker_planck_first_passage(20.0, 5.0, dt_ms=0.5, t_max_ms=20.0, p_every_ms=0.5)
    fine = fokker_planck_first_passage(20.0, 5.0, dt_ms=0.05)
    assert coarse.tail_ms > 0.1 * stationary  # stopped early: the remainder is a real part of the total
    # identical up to round-off of the sparse solves (condition number ~ 1e6 on this grid)
    assert coarse.mean_fpt_ms == pytest.approx(stationary, rel=1e-9)
    assert fine.mean_fpt_ms == pytest.approx(stationary, rel=1e-9)


def test_probability_is_conserved_and_positive():
    sol = fokker_planck_first_passage(10.0, 10.0, dt_ms=0.1)
    # what has left through the threshold plus what is left is 1: exact for the trapezoid of F over
    # the Crank-Nicolson steps; the four Euler start steps balance with right-point sums instead,
    # which differs by dt F(0.4 ms) / 2 -- tiny, as hardly anything crosses 10 mV in 0.4 ms
    assert np.trapezoid(sol.density_per_ms, sol.t_ms) + sol.survival[-1] == pytest.approx(1.0, abs=1e-6)
    assert np.all(np.diff(sol.survival) <= 0.0)
    assert np.all(sol.p_per_mv >= 0.0) and np.all(sol.p_per_mv[:, -1] == 0.0)  # absorbing at theta
    every = round(float(sol.p_t_ms[1]) / 0.1)
    assert np.trapezoid(sol.p_per_mv, sol.v_mv, axis=1) == pytest.approx(sol.survival[::every], abs=1e-12)
    assert sol.cdf(0.0) == 0.0 and sol.cdf(1e9) == pytest.approx(1.0)
    assert np.all(np.diff(sol.cdf(np.linspace(0.0, 3 * sol.t_ms[-1], 500))) >= 0.0)


@pytest.mark.parametrize(("mu", "sigma"), [(10.0, 5.0), (20.0, 10.0)])
def test_without_leak_the_solution_is_the_inverse_gaussian_and_the_image_density(mu, sigma):
    """tau dV = mu dt + sigma sqrt(tau) dW: drift mu / tau, diffusion sigma / sqrt(tau), barrier theta - V_r."""
    a, drift, diff = THETA - V_R, mu / TAU, sigma / math.sqrt(TAU)
    sol = fokker_planck_first_passage(mu, sigma, leak=False)
    assert sol.mean_fpt_ms == pytest.approx(a / drift, rel=1e-4)  # O(dv^2) ~ 1e-5
    f = inverse_gaussian_pdf(sol.t_ms, a, drift, diff)
    # second order in dt and dv: (dt / rise time of F ~ 2 ms)^2 ~ 6e-4 of the peak; allow 5e-3
    assert np.max(np.abs(sol.density_per_ms - f)) < 5e-3 * f.max()
    late = sol.p_t_ms >= 2.0  # the initial delta is resolved once its width >> dv (> 1.5 mV here)
    p = image_occupation_density(sol.v_mv[None, :] - V_R, sol.p_t_ms[late][:, None], a, drift, diff)
    assert np.max(np.abs(sol.p_per_mv[late] - p)) < 5e-3 * p.max()


def test_time_stepping_error_is_second_order():
    a, drift, diff = THETA - V_R, 20.0 / TAU, 10.0 / math.sqrt(TAU)
    err = []
    for dt in (0.1, 0.05):
        sol = fokker_planck_first_passage(20.0, 10.0, leak=False, dt_ms=dt, dv_mv=0.025)
        err.append(np.max(np.abs(sol.density_per_ms - inverse_gaussian_pdf(sol.t_ms, a, drift, diff))))
    assert 3.0 < err[0] / err[1] < 5.0  # dt^2: a factor 4 (the dv^2 part is 16x smaller here)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"sigma_mv": 0.0}, "sigma_mv"),
        ({"v_reset_mv": 25.0}, "v_reset_mv"),
        ({"dv_mv": 5.0}, "dv_mv"),
        ({"dt_ms": -1.0}, "dt_ms"),
        ({"p_every_ms": 0.07}, "p_every_ms"),
        ({"survival_tol": 1.0}, "survival_tol"),
        ({"v_min_mv": 12.0}, "v_min_mv"),
        ({"leak": False, "mu_mv": -1.0}, "mu_mv"),
        ({"tau_m_ms": 0.0}, "tau_m_ms"),
        ({"mu_mv": 0.0, "sigma_mv": 2.0}, "t_max_ms"),  # mean first passage ~ 1e15 ms: too many steps
    ],
)
def test_bad_arguments_name_the_parameter(kwargs, message):
    args = {"mu_mv": 15.0, "sigma_mv": 5.0, **kwargs}
    with pytest.raises(ValueError, match=message):
        fokker_planck_first_passage(**args)


# ------------------------------------------------------------------------- against the engine
N, DT = 1000, 0.1


def lif_run(mu: float, sigma: float, duration_ms: float, **kw) -> NeuroModel:
    """Isolated white-noise LIF neurons that all start at reset at t = 0."""
    return NeuroModel(
        n_exc=N, n_inh=0, k_exc=0, k_inh=0, eta=0.0, drive="white_noise", mu_mv=mu, sigma_mv=sigma,
        v_init="reset", duration_ms=duration_ms, dt_ms=DT, seed=11, **kw,
    ).run()  # fmt: skip


def simulated_fpt(model: NeuroModel, sol) -> np.ndarray:
    """First-passage times of trials started early enough to have ended (S < 1e-4 by the run's end)."""
    horizon = float(np.interp(-np.log(1e-4), -np.log(sol.survival), sol.t_ms))
    t, nr = model.spikes()
    fpt = first_passage_times(t, nr, T_REF, start_ms=0.0, max_start_ms=model.params.duration_ms - horizon)
    # a spike is registered at the end of the step in which V crossed: fpt = dt ceil(T / dt).
    # Subtracting U(0, dt) makes the CDF the linear interpolation of the true one between grid
    # points, off by < dt^2 max|F'| / 8 ~ 1e-5: far below the KS resolution 1 / sqrt(n) ~ 5e-3.
    return fpt - np.random.default_rng(0).uniform(0.0, DT, fpt.size)


def test_simulated_lif_first_passage_times_follow_the_fokker_planck_density():
    sol = fokker_planck_first_passage(20.0, 5.0)
    fpt = simulated_fpt(lif_run(20.0, 5.0, 1000.0), sol)
    assert fpt.size > 15_000
    assert stats.kstest(fpt, sol.cdf).pvalue > 0.01


@pytest.mark.slow
@pytest.mark.parametrize(("mu", "sigma", "published_hz"), SIEGERT_CASES)
def test_simulated_lif_first_passage_times_follow_the_fokker_planck_density_long(mu, sigma, published_hz):
    sol = fokker_planck_first_passage(mu, sigma)
    fpt = simulated_fpt(lif_run(mu, sigma, 6000.0), sol)
    assert fpt.size > 40_000
    assert stats.kstest(fpt, sol.cdf).pvalue > 0.01


@pytest.mark.slow
def test_simulated_lif_occupation_density_is_the_fokker_planck_density():
    """Recorded V of surviving trials against P(V, t); bins equal to the sampling interval (1 ms)."""
    mu, sigma = 20.0, 5.0
    model = lif_run(mu, sigma, 2000.0, record_v=N, record_v_dt_ms=1.0)
    sol = fokker_planck_first_passage(mu, sigma, p_every_ms=0.1)
    t_ms, ids, v = model.voltages()
    t, nr = model.spikes()
    occ = occupation_density(
        v, t_ms, ids, t, nr, np.arange(-5.0, 20.01, 0.5), np.arange(2.0, 61.0, 1.0), t_ref_ms=T_REF, start_ms=0.0
    )
    # expected bin value: P averaged over the V bin (on the solver's grid) and over the ten
    # times since reset a sample in a 1 ms bin can have (reset times lie on the 0.1 ms grid)
    cum = np.concatenate([np.zeros((sol.p_t_ms.size, 1)), np.cumsum(
        0.5 * (sol.p_per_mv[:, 1:] + sol.p_per_mv[:, :-1]) * np.diff(sol.v_mv), axis=1)], axis=1)  # fmt: skip
    mass = np.stack([np.interp(occ.v_edges_mv, sol.v_mv, row, left=0.0, right=row[-1]) for row in cum])
    per_bin = np.diff(mass, axis=1) / np.diff(occ.v_edges_mv)
    rows = np.round((occ.t_edges_ms[:-1, None] + DT * np.arange(10)[None, :]) / 0.1).astype(int)
    expected = per_bin[rows].mean(axis=1)
    n_bin = occ.trials[:, None] * np.diff(occ.v_edges_mv)[None, :]
    # each trial gives at most one sample per bin: binomial counts, sd <= sqrt(expected count)
    z = (occ.density_per_mv - expected) * n_bin / np.sqrt(np.maximum(expected * n_bin, 1.0))
    assert np.max(np.abs(z)) < 5.0  # ~1500 bins: P(max |z| > 5) ~ 1e-3 for Gaussian errors
