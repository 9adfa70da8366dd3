"""The cleft simulation against exact theory, with the tolerance of every check derived below.

Statistical tolerances are 4 standard errors (a false alarm about once in 16,000 checks per
comparison); deterministic biases of the discretization are bounded separately and added.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from neuroabm.cleft import simulate, validate_cleft_params
from neuroabm.cleft.geometry import cleft_volume_nm3
from neuroabm.cleft.kinetics import mass_action
from neuroabm.cleft.reactions import kon_nm3_per_us
from neuroabm.cleft.theory import (
    capture_count_hemisphere,
    disc_exit_mean,
    disc_exit_survival,
    disc_exit_variance,
    effective_capture_radius,
    radial_gaussian_cdf,
)

D_UM2_MS = 0.33
D = D_UM2_MS * 1e3  # nm^2/us


def _chi2_pvalue(observed: np.ndarray, expected: np.ndarray, min_expected: float = 20.0) -> float:
    """Pearson chi-square p-value after pooling bins (in order) until each expects >= min_expected."""
    obs, exp = [], []
    o_acc = e_acc = 0.0
    for o, e in zip(observed, expected, strict=True):
        o_acc += o
        e_acc += e
        if e_acc >= min_expected:
            obs.append(o_acc)
            exp.append(e_acc)
            o_acc = e_acc = 0.0
    obs[-1] += o_acc
    exp[-1] += e_acc
    obs_a, exp_a = np.array(obs), np.array(exp)
    chi2 = float(np.sum((obs_a - exp_a) ** 2 / exp_a))
    return float(stats.chi2.sf(chi2, len(obs_a) - 1))


def test_free_lateral_diffusion_is_the_2d_gaussian_with_msd_4dt():
    """No receptors, reflecting faces, a rim far beyond reach (5 um; sqrt(4 D t) <= 160 nm).

    The lateral increments are exact Gaussians and the faces act on z only, so the lateral
    distribution is exactly the 2D propagator at every step: no discretization bias. P(r, t):
    chi-square against the binned CDF ``1 - exp(-r^2/(4Dt))`` (p > 1e-4). MSD: ``r^2`` of a 2D
    Gaussian is exponential with mean ``4 D t``, so its sample mean over N molecules has SE
    ``4 D t / sqrt(N)``; tolerance 4 SE.
    """
    n = 20_000
    p = validate_cleft_params(
        n_receptors=0, rim="reflecting", cleft_radius_nm=5000.0, n_radii=1000, n_transmitter=n,
        duration_ms=0.02, fp_bin_us=2.0, fp_window_us=20.0, diffusion_um2_per_ms=D_UM2_MS,
    )  # fmt: skip
    res = simulate(p, trials=1, seed=21)
    edges = np.concatenate([[0.0], res.radii_nm])
    for j in (1, 4, 9):  # t = 4, 10, 20 us
        t = res.t_occ_us[j]
        assert res.n_free[0, j] == n
        expected = n * np.diff(radial_gaussian_cdf(edges, t, D))
        assert _chi2_pvalue(res.occ_counts[0, j], expected) > 1e-4
        msd = res.r2_sum_nm2[0, j] / n
        assert abs(msd - 4 * D * t) < 4 * (4 * D * t) / math.sqrt(n)


def test_first_passage_to_a_circle_matches_the_bessel_series():
    """Centre release, no receptors, absorbing rim R = 200 nm, dt = 0.05 us.

    Mean: the first-passage time to radius r has mean r^2/(4D) and variance r^4/(32D^2)
    (module ``neuroabm.cleft.theory``), so the sample mean of N passages has SE
    ``sqrt(var / N)`` (0.35 % at N = 40,000). Biases: the Brownian-bridge test removes the
    first-order (Siegmund, beta sqrt(2 D dt)) lag of discrete monitoring; what is left is the
    planar approximation of a circle of radius r, of relative order (l / r)^2 with the step
    ``l = sqrt(2 D dt)`` (5.7 nm: 0.3 % at r = 100 nm), and dating crossings at the step's
    midpoint, at most dt / 2 on a mean of >= 7.6 us (0.3 %). Tolerance: 4 SE + 0.6 %.

    Shape: binned F(t) at r = R against ``N (S(t_lo) - S(t_hi))`` from the Bessel series,
    chi-square p > 1e-4.
    """
    n = 20_000
    p = validate_cleft_params(
        n_receptors=0, rim="absorbing", cleft_radius_nm=200.0, n_radii=4, n_transmitter=n, dt_us=0.05,
        duration_ms=0.4, fp_bin_us=2.0, fp_window_us=400.0, diffusion_um2_per_ms=D_UM2_MS,
    )  # fmt: skip
    res = simulate(p, trials=2, seed=8)
    total = 2 * n
    for k in (1, 3):  # r = 100 nm, 200 nm
        r = res.radii_nm[k]
        count = res.fp_n[:, k].sum()
        assert count == total  # every molecule gets there (and leaves at the rim)
        mean = res.fp_sum_us[:, k].sum() / count
        se = math.sqrt(disc_exit_variance(r, D) / count)
        assert abs(mean - disc_exit_mean(r, D)) < 4 * se + 0.006 * disc_exit_mean(r, D)
    counts = res.fp_counts[:, 3].sum(axis=0)
    edges = np.append(res.t_fp_us, res.t_fp_us[-1] + p.fp_bin_us)
    surv = disc_exit_survival(edges, p.cleft_radius_nm, D)
    assert _chi2_pvalue(counts, total * -np.diff(surv)) > 1e-4
    # the rim-escape times are the same first passage
    assert res.escape_n.sum() == total
    assert res.escape_sum_us.sum() / total == pytest.approx(disc_exit_mean(200.0, D), rel=0.02)


def _sink_rb(sigma_nm: float) -> float:
    """A binding constant 1 - 1e-6 of the diffusion limit: lambda dt >> 1, a perfect absorber."""
    k = (1.0 - 1e-6) * 2.0 * math.pi * D * sigma_nm
    return k / kon_nm3_per_us(1.0)


def test_capture_by_an_absorbing_hemisphere_is_smoluchowski():
    """One perfect sink of radius a = 10 nm on the postsynaptic face, uniform transmitter around it.

    Theory (module ``neuroabm.cleft.theory``): captures by t are ``c 2 pi D a (t + 2 a sqrt(t /
    (pi D)))`` -- half of Smoluchowski's ``4 pi D a`` sphere, by images in the reflecting wall --
    with ``a`` replaced by the radius the discretely tested sphere acts as, ``a - 0.5826 sqrt(2 D
    dt)`` (9.33 nm at dt = 0.002 us). Geometry: R = 120 nm, h = 60 nm; the walls' images are
    >= 100 nm from the sink, and by t = 2 us depletion has spread sqrt(4 D t) = 51 nm, so they
    change the count by < exp(-100^2 / (4 D t)) a / (2 h) < 0.2 %. Captures are Poisson-like:
    SE = sqrt(count) (2.2 % at ~2,000); tolerance 4 SE + 1 %. (The discrete-monitoring correction
    itself, -7 % here, is ~3.5 SE: this size checks the rate, not the correction's exact value.)
    """
    n, trials, a = 10_000, 10, 10.0
    p = validate_cleft_params(
        n_receptors=1, psd_radius_nm=1e-6, scheme="sink", rb_per_mm_ms=_sink_rb(a), binding_radius_nm=a,
        cleft_radius_nm=120.0, cleft_height_nm=60.0, rim="reflecting", release="uniform", n_transmitter=n,
        dt_us=0.002, duration_ms=0.002, fp_bin_us=0.5, fp_window_us=2.0, record_us=0.5, diffusion_um2_per_ms=D_UM2_MS,
    )  # fmt: skip
    res = simulate(p, trials=trials, seed=4)
    c = n / cleft_volume_nm3(p.cleft_radius_nm, p.cleft_height_nm)
    captured = trials * n - res.n_free.sum(axis=0)
    a_eff = effective_capture_radius(a, D, p.dt_us)
    for j, t in enumerate(res.t_occ_us):
        expected = trials * capture_count_hemisphere(t, a_eff, D, c)
        assert abs(captured[j] - expected) < 4 * math.sqrt(expected) + 0.01 * expected, (t, captured[j], expected)


def test_well_mixed_binding_follows_the_mass_action_ode():
    """3,000 molecules uniform in the cleft (reflecting rim), 200 AMPA receptors uniform on the face.

    Binding is reaction-limited (k = 21.6 nm^3/us, 0.2 % of 2 pi D sigma), so the cleft stays
    well mixed and the mean state counts follow the mass-action ODE of the scheme in the volume
    pi R^2 h. Per time point the mean over T trials has SE ``sd / sqrt(T)`` (sd across trials);
    tolerance 4 SE + 1 receptor-count percent of the Doi depletion correction (< 0.5 %) and
    mass-action's neglect of correlations (O(1/N), N = 3,000).
    """
    trials, n_rec = 12, 200
    p = validate_cleft_params(
        n_receptors=n_rec, receptor_layout="random", rim="reflecting", release="uniform", n_transmitter=3000,
        duration_ms=0.2, record_us=20.0, fp_window_us=20.0, diffusion_um2_per_ms=D_UM2_MS,
    )  # fmt: skip
    res = simulate(p, trials=trials, seed=2)
    vol = cleft_volume_nm3(p.cleft_radius_nm, p.cleft_height_nm)
    states0 = np.zeros(res.scheme.n_states)
    states0[0] = n_rec
    _, ode = mass_action(res.scheme, vol, p.n_transmitter, states0, np.concatenate([[0.0], res.t_states_us]))
    ode = ode[1:]
    mean = res.states.mean(axis=0)
    se = res.states.std(axis=0, ddof=1) / math.sqrt(trials)
    tol = 4 * se + 0.01 * n_rec
    assert np.all(np.abs(mean - ode) < tol), np.abs(mean - ode) / np.maximum(tol, 1e-9)
    assert ode[-1, 0] < 0.9 * n_rec  # the check is not trivial: a good part of the receptors bound


@pytest.mark.slow
def test_first_passage_mean_converges_with_dt():
    """The same mean first-passage check at dt = 0.2 us and 0.02 us with 10x more molecules."""
    for dt in (0.2, 0.02):
        n = 100_000
        p = validate_cleft_params(
            n_receptors=0, cleft_radius_nm=200.0, n_radii=2, n_transmitter=n, dt_us=dt, duration_ms=0.5,
            fp_bin_us=2.0, fp_window_us=400.0, diffusion_um2_per_ms=D_UM2_MS,
        )  # fmt: skip
        res = simulate(p, trials=1, seed=3)
        mean = res.fp_sum_us[0, 1] / res.fp_n[0, 1]
        se = math.sqrt(disc_exit_variance(200.0, D) / n)
        assert abs(mean - disc_exit_mean(200.0, D)) < 4 * se + 0.006 * disc_exit_mean(200.0, D) + 0.5 * dt
