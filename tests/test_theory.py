"""Physics checks of ``neuroabm.theory``: Siegert rate, Brunel mean field, first passage.

Every analytical result is compared with an independent route to the same quantity: published
values, a limiting case, a numerical solution of the governing equation, or a quadrature of a
related closed form.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest
from scipy.integrate import quad
from scipy.linalg import solve_banded
from scipy.stats import invgauss, kstest

from neuroabm.theory import (
    brunel_input,
    brunel_rate,
    image_occupation_density,
    inverse_gaussian_cdf,
    inverse_gaussian_cv,
    inverse_gaussian_mean,
    inverse_gaussian_pdf,
    nu_threshold_hz,
    siegert_rate,
)

# Brunel (2000) model A cell: tau 20 ms, theta 20 mV, V_r 10 mV, t_ref 2 ms.
TAU_MS, THETA_MV, V_RESET_MV, T_REF_MS = 20.0, 20.0, 10.0, 2.0

# Reference Siegert rates (4 significant digits; docs/REFERENCES.md §2): (mu [mV], sigma [mV]) -> rate [Hz].
# Not read from a published table: computed by quadrature of the Siegert integral (Amit & Brunel 1997,
# Brunel 2000 eq. 21) and checked here against an independent route (the mean first-passage time).
SIEGERT_REFERENCE = [
    ((15.0, 5.0), 9.461),
    ((20.0, 5.0), 27.34),
    ((25.0, 2.0), 42.85),
    ((10.0, 10.0), 12.08),
]


def _quad(func: Callable[[float], float], lo: float, hi: float) -> float:
    value, _ = quad(func, lo, hi, epsabs=1e-13, epsrel=1e-12, limit=500)
    return value


# --------------------------------------------------------------------------------------------
# Siegert formula
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("mu_sigma", "rate_hz"), SIEGERT_REFERENCE)
def test_siegert_reproduces_the_reference_rates(mu_sigma: tuple[float, float], rate_hz: float) -> None:
    mu, sigma = mu_sigma
    assert siegert_rate(mu, sigma, TAU_MS, THETA_MV, V_RESET_MV, T_REF_MS) == pytest.approx(rate_hz, rel=1e-3)


@pytest.mark.parametrize("mu_mv", [25.0, 40.0, 100.0])
@pytest.mark.parametrize("sigma_mv", [0.1, 1e-4, 1e-8])
def test_weak_noise_suprathreshold_rate_is_the_deterministic_lif_rate(mu_mv: float, sigma_mv: float) -> None:
    # Without noise V charges from V_r towards mu and hits theta after tau ln((mu-V_r)/(mu-theta)).
    period_ms = T_REF_MS + TAU_MS * math.log((mu_mv - V_RESET_MV) / (mu_mv - THETA_MV))
    assert siegert_rate(mu_mv, sigma_mv) == pytest.approx(1000.0 / period_ms, rel=1e-2)


@pytest.mark.parametrize("mu_mv", [5.0, 15.0, 19.0, 10.0])
def test_weak_noise_subthreshold_neuron_is_silent(mu_mv: float) -> None:
    # Crossing needs a fluctuation of (theta - mu) / sigma >= 100 standard units: rate ~ 0.
    with np.errstate(all="raise"):
        rate = siegert_rate(mu_mv, 0.01)
    assert 0.0 <= rate < 1e-300


def test_rate_rises_with_mean_and_with_noise_below_threshold() -> None:
    rates_mu = [siegert_rate(mu, 3.0) for mu in (5.0, 10.0, 15.0, 20.0, 25.0, 30.0)]
    assert all(np.diff(rates_mu) > 0)
    rates_sigma = [siegert_rate(15.0, sigma) for sigma in (1.0, 2.0, 4.0, 8.0)]
    assert all(np.diff(rates_sigma) > 0)


def test_rate_never_exceeds_the_refractory_limit() -> None:
    rate = siegert_rate(1e6, 1.0)
    assert 0.99 * 1000.0 / T_REF_MS < rate < 1000.0 / T_REF_MS


def _mean_first_passage_ms_from_backward_equation(mu: float, sigma: float, n_per_mv: int = 1000) -> float:
    """Mean first-passage time V_r -> theta from the backward Kolmogorov equation (finite differences).

    T(v) obeys (sigma^2 / 2) T'' + (mu - v) T' = -tau on (v_low, theta) with T(theta) = 0 and a
    reflecting boundary T'(v_low) = 0 far below the reset (v_low = min(V_r, mu) - 10 sigma).
    Second-order central differences; V_r sits on a grid node.
    """
    h = 1.0 / n_per_mv
    n_below = math.ceil((V_RESET_MV - (min(V_RESET_MV, mu) - 10.0 * sigma)) / h)
    n_above = round((THETA_MV - V_RESET_MV) / h)
    v = V_RESET_MV + h * np.arange(-n_below, n_above)  # unknowns; T(theta) = 0 is eliminated
    diffusion = 0.5 * sigma**2 / h**2
    drift = (mu - v) / (2.0 * h)
    lower = diffusion - drift  # coefficient of T[i-1]
    main = np.full(v.size, -2.0 * diffusion)
    upper = diffusion + drift  # coefficient of T[i+1]
    upper[0] += lower[0]  # reflecting: ghost node T[-1] = T[1]
    bands = np.zeros((3, v.size))
    bands[0, 1:] = upper[:-1]
    bands[1] = main
    bands[2, :-1] = lower[1:]
    t_ms = solve_banded((1, 1), bands, np.full(v.size, -TAU_MS))
    return float(t_ms[n_below])


@pytest.mark.parametrize(("mu_sigma", "rate_hz"), [*SIEGERT_REFERENCE, ((22.0, 0.5), None)])
def test_siegert_equals_inverse_mean_first_passage_time(mu_sigma: tuple[float, float], rate_hz: float | None) -> None:
    mu, sigma = mu_sigma
    mfpt_ms = _mean_first_passage_ms_from_backward_equation(mu, sigma)
    assert siegert_rate(mu, sigma) == pytest.approx(1000.0 / (T_REF_MS + mfpt_ms), rel=1e-6)


@pytest.mark.parametrize("bad_sigma", [0.0, -1.0, math.nan, math.inf])
def test_nonpositive_noise_is_rejected_with_a_clear_message(bad_sigma: float) -> None:
    with pytest.raises(ValueError, match=r"sigma_mv must be a finite number > 0"):
        siegert_rate(15.0, bad_sigma)


def test_reset_above_threshold_is_rejected() -> None:
    with pytest.raises(ValueError, match="v_reset_mv"):
        siegert_rate(15.0, 5.0, v_th_mv=10.0, v_reset_mv=20.0)


# --------------------------------------------------------------------------------------------
# Brunel (2000) mean field
# --------------------------------------------------------------------------------------------


def test_threshold_rate_brings_the_mean_input_to_threshold() -> None:
    nu_thr = nu_threshold_hz(THETA_MV, 0.1, 800, TAU_MS)
    assert nu_thr == pytest.approx(12.5)
    mu, sigma = brunel_input(0.0, nu_thr, 800, 200, 0.1, 5.0, TAU_MS)
    assert mu == pytest.approx(THETA_MV)
    # Poisson shot noise: sigma^2 = J * mu for purely excitatory input of size J.
    assert sigma**2 == pytest.approx(0.1 * THETA_MV)


def test_balanced_inhibition_cancels_the_recurrent_mean_but_adds_noise() -> None:
    # g gamma = 1: recurrent E and I means cancel, recurrent variances add.
    mu0, sigma0 = brunel_input(0.0, 10.0, 800, 200, 0.1, 4.0, TAU_MS)
    mu, sigma = brunel_input(30.0, 10.0, 800, 200, 0.1, 4.0, TAU_MS)
    assert mu == pytest.approx(mu0)
    expected_var = sigma0**2 + 800 * 0.1**2 * TAU_MS * 1e-3 * 30.0 * (1.0 + 16.0 * 0.25)
    assert sigma**2 == pytest.approx(expected_var)


def _siegert_of_network(nu_hz: float, eta: float, g: float) -> float:
    nu_ext = eta * nu_threshold_hz(THETA_MV, 0.1, 800, TAU_MS)
    mu, sigma = brunel_input(nu_hz, nu_ext, 800, 200, 0.1, g, TAU_MS)
    return siegert_rate(mu, sigma, TAU_MS, THETA_MV, V_RESET_MV, T_REF_MS)


@pytest.mark.parametrize(("eta", "g"), [(2.0, 5.0), (2.0, 3.0), (4.0, 6.0), (0.9, 4.5), (1.0, 8.0)])
def test_brunel_rate_is_self_consistent(eta: float, g: float) -> None:
    nu = brunel_rate(eta, g)
    assert 0.0 < nu < 1000.0 / T_REF_MS
    assert _siegert_of_network(nu, eta, g) == pytest.approx(nu, rel=1e-6)


def test_brunel_rate_is_the_lowest_fixed_point() -> None:
    eta, g = 2.0, 5.0
    nu = brunel_rate(eta, g)
    below = np.linspace(0.0, nu, 60)[:-1]
    assert all(_siegert_of_network(float(x), eta, g) > x for x in below)


def test_bistable_network_returns_the_low_activity_fixed_point() -> None:
    # Weak drive, weak inhibition: a near-silent and an active fixed point coexist.
    eta, g = 0.8, 3.5
    nu = brunel_rate(eta, g)
    assert nu < 0.1
    assert _siegert_of_network(nu, eta, g) == pytest.approx(nu, rel=1e-6)
    # Further up there is a rate range where the network would sustain more than it fires ...
    assert _siegert_of_network(30.0, eta, g) > 30.0
    # ... so higher self-consistent rates exist too; the lowest one is returned.
    assert _siegert_of_network(1.0, eta, g) < 1.0


def test_brunel_rate_increases_with_external_drive() -> None:
    rates = [brunel_rate(eta, 5.0) for eta in (1.0, 1.5, 2.0, 3.0, 4.0)]
    assert all(np.diff(rates) > 0)


def test_brunel_rate_decreases_with_inhibition() -> None:
    rates = [brunel_rate(2.0, g) for g in (3.0, 4.0, 5.0, 6.0, 8.0)]
    assert all(np.diff(rates) < 0)


def test_no_external_drive_means_a_silent_network() -> None:
    assert brunel_rate(0.0, 5.0) == 0.0


# --------------------------------------------------------------------------------------------
# Perfect integrator: inverse Gaussian first passage and method of images
# --------------------------------------------------------------------------------------------

# (a [mV], mu [mV/ms], sigma [mV/ms^(1/2)]): a regular (CV 0.5) and an irregular (CV 1.4) case.
FIRST_PASSAGE_CASES = [(1.0, 1.0, 0.5), (1.0, 0.5, 1.0)]


def _moment(order: int, a: float, mu: float, sigma: float) -> float:
    mean = a / mu

    def integrand(t: float) -> float:
        return t**order * inverse_gaussian_pdf(t, a, mu, sigma)

    return _quad(integrand, 0.0, mean) + _quad(integrand, mean, math.inf)


@pytest.mark.parametrize(("a", "mu", "sigma"), FIRST_PASSAGE_CASES)
def test_first_passage_density_is_normalised(a: float, mu: float, sigma: float) -> None:
    assert _moment(0, a, mu, sigma) == pytest.approx(1.0, abs=1e-6)


@pytest.mark.parametrize(("a", "mu", "sigma"), FIRST_PASSAGE_CASES)
def test_mean_first_passage_time_is_barrier_over_drift(a: float, mu: float, sigma: float) -> None:
    assert inverse_gaussian_mean(a, mu) == a / mu
    assert _moment(1, a, mu, sigma) == pytest.approx(a / mu, rel=1e-6)


@pytest.mark.parametrize(("a", "mu", "sigma"), FIRST_PASSAGE_CASES)
def test_interval_variability_matches_the_cv_formula(a: float, mu: float, sigma: float) -> None:
    mean = _moment(1, a, mu, sigma)
    variance = _moment(2, a, mu, sigma) - mean**2
    assert math.sqrt(variance) / mean == pytest.approx(inverse_gaussian_cv(a, mu, sigma), rel=1e-6)
    assert inverse_gaussian_cv(a, mu, sigma) ** 2 == pytest.approx(sigma**2 / (a * mu))


@pytest.mark.parametrize(("a", "mu", "sigma"), FIRST_PASSAGE_CASES)
def test_cdf_is_the_integral_of_the_density(a: float, mu: float, sigma: float) -> None:
    for t in (0.05, 0.3, 1.0, 2.0, 7.5):
        integral = _quad(lambda s: inverse_gaussian_pdf(s, a, mu, sigma), 0.0, t)
        assert inverse_gaussian_cdf(t, a, mu, sigma) == pytest.approx(integral, abs=1e-9)


@pytest.mark.parametrize(("a", "mu", "sigma"), FIRST_PASSAGE_CASES)
def test_cdf_agrees_with_scipy_inverse_gaussian(a: float, mu: float, sigma: float) -> None:
    # scipy's invgauss(m / lam, scale=lam) has mean m = a / mu and shape lam = a^2 / sigma^2.
    mean, shape = a / mu, a**2 / sigma**2
    t = np.linspace(0.01, 10.0, 200)
    expected = invgauss.cdf(t, mean / shape, scale=shape)
    np.testing.assert_allclose(inverse_gaussian_cdf(t, a, mu, sigma), expected, atol=1e-12)


def test_wald_samples_pass_a_ks_test_against_the_cdf() -> None:
    # numpy's Wald sampler (mean a / mu, shape a^2 / sigma^2) is an independent implementation.
    a, mu, sigma = 1.0, 1.0, 0.5
    rng = np.random.default_rng(20240607)
    samples = rng.wald(a / mu, a**2 / sigma**2, size=4000)
    result = kstest(samples, lambda t: inverse_gaussian_cdf(t, a, mu, sigma))
    assert result.pvalue > 0.01


def test_density_and_cdf_vanish_before_the_start_and_are_vectorised() -> None:
    t = np.array([[-1.0, 0.0], [0.5, 2.0]])
    pdf = inverse_gaussian_pdf(t, 1.0, 1.0, 0.5)
    cdf = inverse_gaussian_cdf(t, 1.0, 1.0, 0.5)
    assert pdf.shape == cdf.shape == (2, 2)
    assert pdf[0, 0] == pdf[0, 1] == cdf[0, 0] == cdf[0, 1] == 0.0
    assert np.all(pdf[1] > 0) and np.all(np.diff(cdf[1]) > 0)
    assert isinstance(inverse_gaussian_pdf(0.5, 1.0, 1.0, 0.5), float)


@pytest.mark.parametrize(("a", "mu", "sigma"), FIRST_PASSAGE_CASES)
def test_surviving_mass_below_the_barrier_is_the_survival_probability(a: float, mu: float, sigma: float) -> None:
    for t in (0.1, 0.5, 1.0, 3.0):
        mass = _quad(lambda x, t=t: image_occupation_density(x, t, a, mu, sigma), -math.inf, a)
        assert mass == pytest.approx(1.0 - inverse_gaussian_cdf(t, a, mu, sigma), abs=1e-6)


@pytest.mark.parametrize(("a", "mu", "sigma"), FIRST_PASSAGE_CASES)
def test_absorbing_barrier_density_is_zero_at_and_beyond_the_barrier(a: float, mu: float, sigma: float) -> None:
    assert image_occupation_density(a, 0.7, a, mu, sigma) == 0.0
    beyond = image_occupation_density(np.array([a + 0.1, a + 5.0]), 0.7, a, mu, sigma)
    np.testing.assert_array_equal(beyond, 0.0)
    assert image_occupation_density(a - 1e-3, 0.7, a, mu, sigma) > 0.0


@pytest.mark.parametrize(("a", "mu", "sigma"), FIRST_PASSAGE_CASES)
def test_flux_through_the_barrier_is_the_first_passage_density(a: float, mu: float, sigma: float) -> None:
    # Probability current at an absorbing wall: J = -(sigma^2 / 2) dP/dx at x = a (P(a) = 0).
    h = 1e-4
    for t in (0.2, 1.0, 2.5):
        p1 = image_occupation_density(a - h, t, a, mu, sigma)
        p2 = image_occupation_density(a - 2.0 * h, t, a, mu, sigma)
        dp_dx = (4.0 * p1 - p2) / (2.0 * h)  # one-sided, second order, using P(a) = 0
        flux = 0.5 * sigma**2 * dp_dx
        assert flux == pytest.approx(inverse_gaussian_pdf(t, a, mu, sigma), rel=1e-5)


@pytest.mark.parametrize(("a", "mu", "sigma"), FIRST_PASSAGE_CASES)
def test_image_density_solves_the_fokker_planck_equation(a: float, mu: float, sigma: float) -> None:
    # dP/dt = -mu dP/dx + (sigma^2 / 2) d2P/dx2 inside the domain, by centred differences.
    x = np.linspace(-2.0, a - 0.05, 25)
    t, h, k = 0.8, 2e-4, 2e-5

    def p(xx: np.ndarray | float, tt: float) -> np.ndarray:
        return np.asarray(image_occupation_density(xx, tt, a, mu, sigma))

    dp_dt = (p(x, t + k) - p(x, t - k)) / (2.0 * k)
    dp_dx = (p(x + h, t) - p(x - h, t)) / (2.0 * h)
    d2p_dx2 = (p(x + h, t) - 2.0 * p(x, t) + p(x - h, t)) / h**2
    np.testing.assert_allclose(dp_dt, -mu * dp_dx + 0.5 * sigma**2 * d2p_dx2, atol=1e-5)


def test_invalid_first_passage_parameters_are_rejected() -> None:
    with pytest.raises(ValueError, match="sigma"):
        inverse_gaussian_pdf(1.0, 1.0, 1.0, 0.0)
    with pytest.raises(ValueError, match="a must"):
        inverse_gaussian_cdf(1.0, -1.0, 1.0, 1.0)
    with pytest.raises(ValueError, match="mu must"):
        inverse_gaussian_mean(1.0, 0.0)
    with pytest.raises(ValueError, match="t must"):
        image_occupation_density(0.0, 0.0, 1.0, 1.0, 1.0)
