"""Physics of the dopamine field: exact diffusion-decay steps (releases and reads: test_dopamine_sampling).

Every numerical result is compared with an independent exact solution:

- the lattice operator with the exact semi-discrete kernel (modified Bessel functions, summed
  over periodic images) of ``neuroabm.theory.heat_kernel.lattice_heat_kernel``;
- the spectral operator with the continuum periodic heat kernel (Gaussian images);
- the lattice operator with the continuum within its predicted O(h^2 / sigma^2) error;
- the total mass with ``M0 exp(-t / tau)``.

Grid convention: node ``(i, j)`` is at ``(i h, j h)``, ``h = L / N``. ``s = kappa dt / h^2`` is the
dimensionless step; the explicit 5-point stencil is stable only for ``s <= 1/4``. Direct-path
tests reuse a few values of ``s`` because each tap count compiles its own kernels.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from field_helpers import DT, S_MAIN, S_NARROW, SIDE, H, N, cic_nodes, kappa_for, node_grid, rel_max_error
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import ive

from neuroabm.model.dopamine import DopamineField
from neuroabm.model.dopamine.field import TAP_RELATIVE_CUTOFF, lattice_taps
from neuroabm.theory.heat_kernel import lattice_heat_kernel, periodic_heat_kernel

# --------------------------------------------------------------------------------------------
# point releases against the exact kernels
# --------------------------------------------------------------------------------------------

RELEASES = [pytest.param((20 * H, 37 * H), id="at-node"), pytest.param((20.3 * H, 37.8 * H), id="off-node")]


@pytest.mark.parametrize("xy", RELEASES)
@pytest.mark.parametrize("method", ["direct", "fft"])
def test_lattice_step_is_the_exact_lattice_kernel(xy: tuple[float, float], method: str) -> None:
    # After k steps the field is the CIC-weighted sum of lattice kernels at t = k dt; the direct path
    # truncates taps at 1e-13 of the centre (< 1e-13 of the maximum per step); round-off ~1e-16 per step.
    kappa, tau, mass, steps = kappa_for(S_MAIN), 40.0, 3.0, 6
    field = DopamineField(N, SIDE, kappa, tau, DT, method=method)
    field.deposit(np.array([xy]), np.array([mass]))
    for _ in range(steps):
        field.step()
    ii, jj = node_grid()
    t = steps * DT
    exact = sum(
        w * lattice_heat_kernel(ii, jj, a, b, t, kappa, H, N, tau_ms=tau, mass=mass) for a, b, w in cic_nodes(*xy)
    )
    assert rel_max_error(field.values, exact) < 1e-10


@pytest.mark.parametrize("xy", RELEASES)
def test_spectral_step_is_the_continuum_kernel_once_resolved(xy: tuple[float, float]) -> None:
    # The spectral multiplier is the continuum one on the resolved band, so the only error is the
    # part of the continuum spectrum beyond Nyquist, exp(-pi^2 kappa t / h^2) = exp(-pi^2 * 2) ~ 3e-9
    # per edge mode at sqrt(2 kappa t) = 2 h (s_t = 2); summed over an edge it is ~1e-9 of the peak.
    kappa, mass = kappa_for(0.5), 2.0
    field = DopamineField(N, SIDE, kappa, math.inf, DT, "spectral")
    field.deposit(np.array([xy]), np.array([mass]))
    for _ in range(4):
        field.step()
    t = 4 * DT
    assert math.sqrt(2 * kappa * t) == pytest.approx(2 * H)
    ii, jj = node_grid()
    exact = sum(
        w * periodic_heat_kernel(ii * H, jj * H, a * H, b * H, t, kappa, SIDE, mass=mass) for a, b, w in cic_nodes(*xy)
    )
    assert rel_max_error(field.values, exact) < 1e-8


def test_lattice_converges_to_the_continuum_as_h2_over_sigma2() -> None:
    # The 1D lattice kernel exp(-2s) I_m(2s) is the Skellam law: variance 2s (exact, as in the continuum)
    # and fourth cumulant 2s. Its Edgeworth correction to the Gaussian is kappa4 / (24 sigma^4) He4(m/sigma)
    # = He4 / (48 s), largest at the peak (He4(0) = 3): 1/(16 s) per axis, 1/(8 s) = h^2 / (4 sigma^2) in 2D
    # with sigma^2 = 2 kappa t, up to O(1/s^2). So error * 8 s -> 1.
    kappa = kappa_for(S_MAIN)
    field = DopamineField(N, SIDE, kappa, math.inf, DT)
    x0 = y0 = 31 * H
    field.deposit(np.array([[x0, y0]]), np.array([1.0]))
    ii, jj = node_grid()
    scaled, done = [], 0
    for steps in (3, 5, 10, 20):  # s_t = kappa t / h^2 = 4.9, 8.2, 16.4, 32.8
        while done < steps:
            field.step()
            done += 1
        t = steps * DT
        s_t = kappa * t / H**2
        continuum = periodic_heat_kernel(ii * H, jj * H, x0, y0, t, kappa, SIDE)
        scaled.append(rel_max_error(field.values, continuum) * 8 * s_t)
    assert all(abs(c - 1.0) < 0.2 for c in scaled), scaled
    assert abs(scaled[-1] - 1.0) < abs(scaled[0] - 1.0)  # higher orders fade as s grows


# --------------------------------------------------------------------------------------------
# mass
# --------------------------------------------------------------------------------------------

PATHS = [("lattice", "direct"), ("lattice", "fft"), ("spectral", "fft")]


@pytest.mark.parametrize(("operator", "method"), PATHS)
def test_mass_decays_exactly_as_exp_minus_t_over_tau(operator: str, method: str) -> None:
    tau, steps = 35.0, 200
    field = DopamineField(N, SIDE, kappa_for(S_MAIN), tau, DT, operator, method=method)
    rng = np.random.default_rng(1)
    field.deposit(rng.uniform(0, SIDE, (40, 2)), rng.uniform(0, 1, 40))
    m0 = field.mass()
    for k in range(1, steps + 1):
        field.step()
        if k % 50 == 0:
            assert field.mass() == pytest.approx(m0 * math.exp(-k * DT / tau), rel=1e-12, abs=0)


@pytest.mark.parametrize(("operator", "method"), PATHS)
def test_mass_is_conserved_without_decay(operator: str, method: str) -> None:
    field = DopamineField(N, SIDE, kappa_for(S_MAIN), math.inf, DT, operator, method=method)
    assert field.decay_per_step == 1.0
    rng = np.random.default_rng(2)
    field.deposit(rng.uniform(-SIDE, 2 * SIDE, (25, 2)), rng.uniform(0, 1, 25))
    m0 = field.mass()
    for _ in range(1000):
        field.step()
    # each step moves the sum by a few ulp (renormalized taps / k = 0 mode multiplied by exactly 1)
    assert abs(field.mass() / m0 - 1.0) < 1e-12


# --------------------------------------------------------------------------------------------
# stability and positivity
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("operator", "method", "s"),
    [
        ("lattice", "auto", 25.0),  # kernel wider than 48 taps per side -> Fourier path
        ("lattice", "fft", 25.0),
        ("spectral", "fft", 25.0),
        ("lattice", "direct", S_MAIN),
    ],
)
def test_unconditionally_stable_far_beyond_the_explicit_limit(operator: str, method: str, s: float) -> None:
    # s = 25 is 100x the explicit 5-point limit s <= 1/4. Exact multipliers lie in (0, 1], so no mode grows:
    # the L2 norm never increases; the lattice step is a probability kernel, so neither does the maximum.
    field = DopamineField(N, SIDE, kappa_for(s), math.inf, DT, operator, method=method)
    assert field.method == ("fft" if method == "auto" else method)
    rng = np.random.default_rng(3)
    field.values[:] = rng.uniform(0, 1, (N, N))
    field.values[7, 9] = 50.0
    norm, top = np.linalg.norm(field.values), field.values.max()
    for _ in range(50):
        field.step()
        assert np.all(np.isfinite(field.values))
        new_norm = np.linalg.norm(field.values)
        assert new_norm <= norm * (1 + 1e-14)
        norm = new_norm
        if operator == "lattice":
            assert field.values.max() <= top * (1 + 1e-14)
            top = field.values.max()


@settings(max_examples=40, deadline=None)
@given(
    kappa=st.floats(1e-7, 1e-2),
    dt=st.floats(0.01, 50.0),
    xy=st.lists(st.tuples(st.floats(-2.0, 3.0), st.floats(-2.0, 3.0)), min_size=1, max_size=6),
    amounts=st.lists(st.floats(0.0, 10.0), min_size=6, max_size=6),
    steps=st.integers(1, 4),
)
def test_lattice_operator_is_never_negative(
    kappa: float, dt: float, xy: list[tuple[float, float]], amounts: list[float], steps: int
) -> None:
    # Any s (the Fourier path, so that random kappa dt do not each compile a kernel; the direct path is
    # the same operator and is checked below). Round-off of the FFT is ~1e-16 of the maximum.
    field = DopamineField(32, SIDE, kappa, math.inf, dt, method="fft")
    field.deposit(np.array(xy), np.array(amounts[: len(xy)]))
    for _ in range(steps):
        field.step()
    assert field.values.min() >= -1e-13 * max(field.values.max(), 1e-300)


@pytest.mark.parametrize("s", [S_NARROW, S_MAIN])
def test_direct_lattice_step_is_exactly_non_negative(s: float) -> None:
    # non-negative taps times non-negative values: no cancellation at all
    field = DopamineField(N, SIDE, kappa_for(s), 80.0, DT, method="direct")
    rng = np.random.default_rng(4)
    for _ in range(30):
        field.deposit(rng.uniform(0, SIDE, (3, 2)), rng.exponential(1.0, 3))
        field.step()
        assert field.values.min() >= 0.0


def test_spectral_kernel_rings_below_zero_for_a_fresh_point_release() -> None:
    # A fresh release is a single-node spike; the spectral multiplier exp(-kappa |k|^2 dt) cut at Nyquist
    # (still exp(-0.2 pi^2) ~ 0.14 on the axes) is a band-limited Gaussian with Gibbs ringing.
    for operator, expect_negative in (("spectral", True), ("lattice", False)):
        field = DopamineField(N, SIDE, kappa_for(S_NARROW), math.inf, DT, operator)
        field.deposit(np.array([[10 * H, 12 * H]]), np.array([1.0]))
        field.step()
        ratio = field.values.min() / field.values.max()
        if expect_negative:
            assert ratio < -1e-3  # about -1.2 % of the peak
        else:
            assert ratio >= 0.0


# --------------------------------------------------------------------------------------------
# implementations agree
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [64, 50])  # 50: not a multiple of the vector width
@pytest.mark.parametrize("s", [S_NARROW, S_MAIN])
def test_direct_convolution_equals_fourier_multiplier(n: int, s: float) -> None:
    h = SIDE / n
    kwargs = dict(grid_n=n, side_mm=SIDE, kappa_mm2_per_ms=kappa_for(s, h), tau_ms=60.0, dt_ms=DT)
    direct, fourier = DopamineField(**kwargs, method="direct"), DopamineField(**kwargs, method="fft")
    rng = np.random.default_rng(5)
    start = rng.uniform(0, 1, (n, n))
    direct.values[:] = start
    fourier.values[:] = start
    for _ in range(10):
        direct.step()
        fourier.step()
    # truncation budget: < 1e-13 of the maximum per step, 10 steps
    assert rel_max_error(direct.values, fourier.values) < 1e-12


def test_taps_are_the_bessel_kernel_truncated_at_the_cutoff() -> None:
    w = lattice_taps(S_MAIN)
    assert w[0] + 2 * w[1:].sum() == pytest.approx(1.0, abs=1e-15)
    assert w[-1] >= TAP_RELATIVE_CUTOFF * w[0] > ive(w.size, 2 * S_MAIN)  # the first dropped tap
    np.testing.assert_allclose(w[1:], ive(np.arange(1, w.size), 2 * S_MAIN), rtol=1e-12)
    assert np.all(np.diff(w) < 0)
    assert lattice_taps(0.0).tolist() == [1.0]


def test_no_diffusion_leaves_only_the_decay() -> None:
    field = DopamineField(N, SIDE, 0.0, 10.0, DT)
    field.values[3, 4] = 2.0
    field.step()
    assert field.values[3, 4] == pytest.approx(2.0 * math.exp(-0.1), rel=1e-15)
    assert np.count_nonzero(field.values) == 1


# --------------------------------------------------------------------------------------------
# validation
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        (dict(grid_n=2), "grid_n"),
        (dict(grid_n=64.0), "grid_n"),
        (dict(grid_n=True), "grid_n"),
        (dict(side_mm=0.0), "side_mm"),
        (dict(side_mm=math.inf), "side_mm"),
        (dict(kappa_mm2_per_ms=-1e-4), "kappa_mm2_per_ms"),
        (dict(kappa_mm2_per_ms=math.nan), "kappa_mm2_per_ms"),
        (dict(tau_ms=0.0), "tau_ms"),
        (dict(tau_ms=-math.inf), "tau_ms"),
        (dict(dt_ms=0.0), "dt_ms"),
        (dict(dt_ms=math.inf), "dt_ms"),
        (dict(operator="continuum"), "operator"),
        (dict(method="magic"), "method"),
        (dict(operator="spectral", method="direct"), "direct"),
        (dict(kappa_mm2_per_ms=kappa_for(25.0), method="direct"), "2r \\+ 1 <= grid_n"),
    ],
)
def test_invalid_arguments_name_the_argument_and_range(kwargs: dict, name: str) -> None:
    base = dict(grid_n=N, side_mm=SIDE, kappa_mm2_per_ms=kappa_for(S_MAIN), tau_ms=math.inf, dt_ms=DT)
    with pytest.raises(ValueError, match=name):
        DopamineField(**{**base, **kwargs})


def test_deposit_rejects_bad_input() -> None:
    field = DopamineField(N, SIDE, kappa_for(S_MAIN), math.inf, DT)
    with pytest.raises(ValueError, match="amounts"):
        field.deposit(np.zeros((3, 2)), np.ones(2))
    with pytest.raises(ValueError, match="xy_mm"):
        field.deposit(np.zeros(3), np.ones(3))
    with pytest.raises(ValueError, match="finite"):
        field.deposit(np.array([[0.1, np.inf]]), np.ones(1))
    with pytest.raises(ValueError, match="finite"):
        field.deposit(np.array([[0.1, 0.2]]), np.array([np.nan]))
    assert field.mass() == 0.0


# --------------------------------------------------------------------------------------------
# the reference kernels themselves
# --------------------------------------------------------------------------------------------


def test_reference_kernels_carry_the_decayed_mass() -> None:
    ii, jj = node_grid()
    t, kappa, tau, mass = 7.0, kappa_for(S_MAIN), 20.0, 2.5
    lattice = lattice_heat_kernel(ii, jj, 3, 60, t, kappa, H, N, tau_ms=tau, mass=mass)
    assert lattice.sum() * H * H == pytest.approx(mass * math.exp(-t / tau), rel=1e-13)
    # a periodic Gaussian is band-limited enough that the node sum is its integral to round-off
    fine = 256
    xs = np.arange(fine) * SIDE / fine
    cont = periodic_heat_kernel(xs[:, None], xs[None, :], 0.9, 0.05, 50.0, 1e-4, SIDE, tau_ms=tau, mass=mass)
    assert cont.sum() * (SIDE / fine) ** 2 == pytest.approx(mass * math.exp(-50.0 / tau), rel=1e-12)


def test_reference_kernels_agree_across_their_summation_forms() -> None:
    # image sums and Fourier / DFT forms of the same periodic kernel
    x = np.linspace(0, SIDE, 17)
    for t in (0.5, 50.0, 2e4):  # narrow, moderate, wider than the box
        images = periodic_heat_kernel(x, 0.3, 0.1, 0.3, t, 1e-4, SIDE, n_images=400)
        auto = periodic_heat_kernel(x, 0.3, 0.1, 0.3, t, 1e-4, SIDE)
        np.testing.assert_allclose(auto, images, rtol=1e-12)
    ii, jj = node_grid()
    for s in (3.0, 5e4):  # Bessel image sum; wider than the grid (finite DFT form)
        t = s * H * H / 1e-4
        kernel = lattice_heat_kernel(ii, jj, 5, 60, t, 1e-4, H, N)
        # independent: inverse FFT of the lattice multiplier applied to a unit node mass
        mult_1d = np.exp(-4 * s * np.sin(np.pi * np.fft.fftfreq(N)) ** 2)
        spike = np.zeros((N, N))
        spike[5, 60] = 1 / H**2
        expected = np.fft.ifft2(np.fft.fft2(spike) * np.outer(mult_1d, mult_1d)).real
        np.testing.assert_allclose(kernel, expected, rtol=0, atol=1e-12 * expected.max())
        assert kernel.sum() * H * H == pytest.approx(1.0, rel=1e-12)
    delta = lattice_heat_kernel(ii, jj, 5, 60, 0.0, 1e-4, H, N)
    assert delta[5, 60] * H * H == 1.0
    assert np.count_nonzero(delta) == 1
