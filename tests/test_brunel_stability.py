"""Linear stability of the asynchronous state of Brunel's (2000) model A (neuroabm.theory.brunel_stability).

The LIF rate response from threshold integration is checked against the Siegert rate and its
derivatives at zero frequency, against the closed form of the response to mu with parabolic
cylinder functions of complex order (mpmath) at 10 Hz - 1 kHz (tolerances from halving the voltage
step: the scheme is second order, so the error of the fine grid is about a third of the
coarse-fine difference) and against the high-frequency limits of the boundary layer at threshold
(R_mu ~ (nu0/sigma) sqrt(2/(i omega tau)), Brunel et al. 2001 PRL 86:2186; R_var -> nu0/sigma^2,
Lindner & Schimansky-Geier 2001 PRL 86:2934).
The network results are checked against what Brunel (2000) states: the four states of Fig. 8
(docs/REFERENCES.md §1: (g, eta) = (3, 2) SR, (6, 4) SI fast, (5, 2) AI, (4.5, 0.9) SI slow) and the
abstract's "in the fast oscillatory state, the network frequency is almost fully controlled by the
synaptic time scale; in the slow oscillatory state [it] depends mostly on the membrane time
constant". Coordinates of the lines in Fig. 2 are not asserted: the figure's C_E could not be
checked against the paper here, and the sweep's C_E = 800 is the model.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from neuroabm.theory import brunel_rate, siegert_rate
from neuroabm.theory.brunel_stability import (
    ModelA,
    hopf_lines,
    nyquist_crossings,
    open_loop_gain,
    rate_transfer,
    stationary_state,
)

#: (mu, sigma) [mV]: below, at and above threshold, and a wide input
POINTS = [(15.0, 5.0), (20.0, 5.0), (25.0, 2.0), (10.0, 10.0)]


def _siegert_derivatives(mu: float, sigma: float, h: float = 1e-3) -> tuple[float, float]:
    """d nu / d mu [Hz/mV] and d nu / d sigma^2 [Hz/mV^2] by central differences (error ~h^2)."""
    d_mu = (siegert_rate(mu + h, sigma) - siegert_rate(mu - h, sigma)) / (2 * h)
    var = sigma * sigma
    d_var = (siegert_rate(mu, math.sqrt(var + h)) - siegert_rate(mu, math.sqrt(var - h))) / (2 * h)
    return d_mu, d_var


@pytest.mark.parametrize(("mu", "sigma"), POINTS)
def test_zero_frequency_response_is_the_siegert_derivative(mu: float, sigma: float) -> None:
    d_mu, d_var = _siegert_derivatives(mu, sigma)
    coarse = rate_transfer(mu, sigma, [0.0], n_grid=200)
    fine = rate_transfer(mu, sigma, [0.0], n_grid=400)
    for exact, c, f in ((d_mu, coarse[0][0], fine[0][0]), (d_var, coarse[1][0], fine[1][0])):
        assert abs(f.imag) < 1e-12
        tol = abs(c - f) + 1e-6 * abs(exact)  # second order: fine-grid error ~ |coarse - fine| / 3
        assert abs(f.real - exact) <= tol, (mu, sigma, f.real, exact, tol)
        assert abs(f.real - exact) <= 2e-3 * abs(exact)


def test_response_converges_at_second_order_at_finite_frequency() -> None:
    freqs = [30.0, 200.0, 1000.0]
    r = [rate_transfer(15.0, 5.0, freqs, n_grid=n) for n in (100, 200, 400)]
    for k in (0, 1):
        d1, d2 = np.abs(r[0][k] - r[1][k]), np.abs(r[1][k] - r[2][k])
        assert np.all((d2 / d1 > 0.2) & (d2 / d1 < 0.3))  # 1/4 for a second-order scheme


def _closed_form_r_mu(mu: float, sigma: float, f_hz: float, tau: float = 20.0, t_ref: float = 2.0) -> complex:
    """R_mu [Hz/mV] from parabolic cylinder functions (Brunel & Hakim 1999; Lindner & Schimansky-Geier 2001).

    With ``a = -lambda tau``, ``x = sqrt(2) (mu - V) / sigma`` at theta = 20 mV and V_r = 10 mV and
    ``Delta = (x_r^2 - x_theta^2) / 4``::

        R_mu = (sqrt(2) nu0 / sigma) a / (a - 1) [D_{a-1}(x_th) - e^Delta D_{a-1}(x_r)]
                                                / [D_a(x_th) - e^Delta e^{a t_ref / tau} D_a(x_r)]
    """
    mpmath = pytest.importorskip("mpmath")
    nu0 = siegert_rate(mu, sigma, tau, 20.0, 10.0, t_ref)
    a = -2j * mpmath.pi * f_hz * 1e-3 * tau
    x_th, x_r = mpmath.sqrt(2) * (mu - 20.0) / sigma, mpmath.sqrt(2) * (mu - 10.0) / sigma
    e_delta = mpmath.exp((x_r**2 - x_th**2) / 4)
    num = mpmath.pcfd(a - 1, x_th) - e_delta * mpmath.pcfd(a - 1, x_r)
    den = mpmath.pcfd(a, x_th) - e_delta * mpmath.exp(a * t_ref / tau) * mpmath.pcfd(a, x_r)
    return complex(mpmath.sqrt(2) * nu0 / sigma * a / (a - 1) * num / den)


@pytest.mark.parametrize(("mu", "sigma"), [(15.0, 5.0), (25.0, 2.0)])
def test_response_to_mu_matches_the_closed_form(mu: float, sigma: float) -> None:
    freqs = [10.0, 100.0, 1000.0]
    coarse = rate_transfer(mu, sigma, freqs, n_grid=200)[0]
    fine = rate_transfer(mu, sigma, freqs, n_grid=400)[0]
    for f, c, r in zip(freqs, coarse, fine, strict=True):
        exact = _closed_form_r_mu(mu, sigma, f)
        assert abs(r - exact) <= abs(c - r) + 1e-6 * abs(exact), (f, r, exact)


@pytest.mark.parametrize(("mu", "sigma"), [(15.0, 5.0), (18.0, 3.0)])
def test_high_frequency_limits(mu: float, sigma: float) -> None:
    nu0 = siegert_rate(mu, sigma)
    freqs = np.array([1e3, 3e3, 1e4])
    r_mu, r_var = rate_transfer(mu, sigma, freqs, n_grid=1000)
    lam_tau = 2j * np.pi * freqs * 20e-3
    ratio_mu = r_mu * sigma * np.sqrt(lam_tau / 2) / nu0
    ratio_var = r_var * sigma**2 / nu0
    dev_mu, dev_var = np.abs(ratio_mu - 1), np.abs(ratio_var - 1)
    assert np.all(np.diff(dev_mu) < 0) and np.all(np.diff(dev_var) < 0)
    assert dev_mu[-1] < 0.03 and dev_var[-1] < 0.05
    # the corrections fall like 1 / sqrt(omega): a factor sqrt(10 / 3) = 1.8 from 3 to 10 kHz
    assert 1.4 < dev_mu[1] / dev_mu[2] < 2.3
    assert abs(np.degrees(np.angle(r_mu[-1])) + 45.0) < 2.0  # the 45 degree lag


def test_stationary_state_and_open_loop_gain_at_zero_frequency() -> None:
    m = ModelA()
    for eta, g in ((2.0, 5.0), (4.0, 6.0), (2.0, 3.0)):
        nu0, _, _ = stationary_state(eta, g, m)
        assert nu0 == pytest.approx(brunel_rate(eta, g), rel=1e-12)
        # the open-loop gain at f = 0 is the slope of nu -> Siegert(mu(nu), sigma(nu)) at the fixed point
        h = 1e-4 * nu0

        def self_map(nu: float, eta: float = eta, g: float = g) -> float:
            mu_, var_ = m.inputs(eta, g, nu)
            return siegert_rate(float(mu_), math.sqrt(float(var_)))

        slope = (self_map(nu0 + h) - self_map(nu0 - h)) / (2 * h)
        f0 = open_loop_gain(eta, g, [0.0], m)[0]
        assert f0.real == pytest.approx(slope, rel=1e-3, abs=1e-4)
        assert self_map(nu0) == pytest.approx(nu0, rel=1e-9)


def test_fig8_states_stability() -> None:
    """Brunel (2000) Fig. 8: A (3, 2) SR, B (6, 4) SI fast and D (4.5, 0.9) SI slow lie where the
    asynchronous state is unstable, C (5, 2) AI where it is stable; B's mode is the fast one (set by
    D = 1.5 ms), D's the slow one, A's near 1/D."""
    worst = {}
    for label, g, eta in (("A", 3.0, 2.0), ("B", 6.0, 4.0), ("C", 5.0, 2.0), ("D", 4.5, 0.9)):
        n, f, x = max(nyquist_crossings(eta, g), key=lambda c: c[2])
        worst[label] = (n, f, x)
    assert worst["C"][2] < 0.8
    assert worst["A"][2] > 1.1 and worst["A"][0] == -1 and 500 < worst["A"][1] < 800
    assert worst["B"][2] > 1.03 and worst["B"][0] == 0 and 150 < worst["B"][1] < 250
    assert worst["D"][2] > 1.0 and worst["D"][0] == 0 and 10 < worst["D"][1] < 60


def test_fast_mode_follows_the_delay_slow_mode_the_membrane() -> None:
    """Brunel (2000) abstract: fast frequency controlled by the synaptic (delay) time scale, the slow
    one mostly by the membrane time constant. Compared as d ln f / d ln D and d ln f / d ln tau."""

    def freq(eta: float, g: float, **kw: float) -> float:
        return next(f for n, f, _ in nyquist_crossings(eta, g, ModelA(**kw), n_freq=300, n_grid=200) if n == 0)

    fast, slow = (4.0, 6.0), (0.9, 4.5)
    base = {p: freq(*p) for p in (fast, slow)}
    d_delay = {p: math.log(base[p] / freq(*p, delay_ms=3.0)) / math.log(2) for p in (fast, slow)}
    d_tau = {p: math.log(base[p] / freq(*p, tau_m_ms=40.0)) / math.log(2) for p in (fast, slow)}
    assert d_delay[fast] > 2 * d_tau[fast]
    assert d_tau[slow] > d_delay[slow]


def test_hopf_lines_fast_branch() -> None:
    m = ModelA()
    lines = hopf_lines(g_values=[6.0, 8.0], eta_values=[2.0, 2.5, 3.0, 3.5, 4.0], model=m)
    assert set(lines) == {"SI fast"}
    fast = lines["SI fast"]
    assert fast[:, 0].tolist() == [6.0, 8.0]
    assert fast[0, 1] > fast[1, 1]  # the border comes down with stronger inhibition
    assert np.all((fast[:, 2] > 1000 / (6 * m.delay_ms)) & (fast[:, 2] < 1000 / (2 * m.delay_ms)))
    for g, eta, f in fast:  # on the line the gain is 1 at the returned frequency
        assert abs(open_loop_gain(eta, g, [f], m)[0] - 1.0) < 2e-3
        # just below the line the state is stable, just above it is not
        below = max(x for n, _, x in nyquist_crossings(eta - 0.05, g) if n == 0)
        above = max(x for n, _, x in nyquist_crossings(eta + 0.05, g) if n == 0)
        assert below < 1.0 < above


def test_hopf_lines_slow_tongue() -> None:
    lines = hopf_lines(g_values=[4.5], eta_values=[0.84, 0.86, 0.88, 0.9, 0.92, 0.96, 1.0])
    slow = lines["SI slow"]
    assert slow.shape == (2, 3)
    lo, hi = sorted(slow[:, 1])
    assert 0.8 < lo < hi < 1.0 and lo < 0.9 < hi  # Fig. 8D (4.5, 0.9) lies inside
    assert np.all(slow[:, 2] < 60.0)


def test_phase_figure_draws_and_caches_the_lines(tmp_path: Path) -> None:
    from neuroabm.sweep.phase import HOPF_CACHE, brunel_hopf_lines, write_phase_figure
    from neuroabm.sweep.spec import load_sweep

    spec = load_sweep(Path(__file__).parents[1] / "runs" / "sweeps" / "brunel_phase.toml")
    rows = [
        {"status": "ok", "g": g, "eta": eta, "regime": "SI fast" if eta > 3 else "AI", "theory_rate_hz": 20.0 * eta}
        for g in (7.5, 8.0)
        for eta in (2.0, 3.0, 4.0)
    ]
    frame = pd.DataFrame(rows)
    lines = brunel_hopf_lines(frame, spec, tmp_path)
    assert set(lines) == {"SI fast"} and lines["SI fast"][:, 0].tolist() == [7.5, 7.75, 8.0]
    assert (tmp_path / HOPF_CACHE).exists()
    np.testing.assert_allclose(brunel_hopf_lines(frame, spec, tmp_path)["SI fast"], lines["SI fast"], rtol=1e-12)
    write_phase_figure(frame, spec, tmp_path / "phase.png")
    assert (tmp_path / "phase.png").stat().st_size > 10_000


@pytest.mark.slow
def test_hopf_lines_default_plane() -> None:
    lines = hopf_lines()
    fast = lines["SI fast"]
    assert np.all(np.diff(fast[np.argsort(fast[:, 0]), 1]) < 0)
    assert fast[:, 0].min() >= 5.0
    assert set(lines) >= {"SI fast", "SI slow", "SR 1"}
    assert np.all(lines["SR 1"][:, 0] < 4.0)
