"""Releases into the dopamine field and bilinear reads of it: weights, mass, seams, adjointness.

Reads are checked against exact values (fields bilinear within a cell, node values, periodic
seams) and against the deposit they are the adjoint of; the fused step-and-read pass against a
separate step and read.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from field_helpers import DT, S_MAIN, SIDE, H, N, kappa_for, node_grid

from neuroabm.model.dopamine import BilinearSampler, DopamineField

# --------------------------------------------------------------------------------------------
# releases
# --------------------------------------------------------------------------------------------


def test_deposit_spreads_mass_with_bilinear_area_weights() -> None:
    field = DopamineField(N, SIDE, kappa_for(S_MAIN), math.inf, DT)
    x, y = 5.25 * H, 9.6 * H
    field.deposit(np.array([[x, y]]), np.array([2.0]))
    expected = {(5, 9): 0.75 * 0.4, (5, 10): 0.75 * 0.6, (6, 9): 0.25 * 0.4, (6, 10): 0.25 * 0.6}
    for (i, j), w in expected.items():
        assert field.values[i, j] * H * H == pytest.approx(2.0 * w, rel=1e-12)
    assert np.count_nonzero(field.values) == 4
    # the centre of mass of the release is where it was released
    ii, jj = node_grid()
    assert (field.values * ii).sum() / field.values.sum() * H == pytest.approx(x, rel=1e-12)
    assert (field.values * jj).sum() / field.values.sum() * H == pytest.approx(y, rel=1e-12)


def test_deposit_is_mass_conserving_and_periodic() -> None:
    field = DopamineField(N, SIDE, kappa_for(S_MAIN), math.inf, DT)
    rng = np.random.default_rng(6)
    xy = rng.uniform(-3 * SIDE, 3 * SIDE, (500, 2))
    amounts = rng.uniform(0, 5, 500)
    field.deposit(xy, amounts)
    assert field.mass() == pytest.approx(amounts.sum(), rel=1e-13)
    # a release across the seam (x just below L) shares its mass between node N-1 and node 0
    seam = DopamineField(N, SIDE, kappa_for(S_MAIN), math.inf, DT)
    seam.deposit(np.array([[SIDE - 0.25 * H, 3 * H]]), np.array([1.0]))
    assert seam.values[N - 1, 3] * H * H == pytest.approx(0.25, rel=1e-12)
    assert seam.values[0, 3] * H * H == pytest.approx(0.75, rel=1e-12)
    # positions shifted by whole periods deposit identically
    shifted = DopamineField(N, SIDE, kappa_for(S_MAIN), math.inf, DT)
    shifted.deposit(xy + np.array([SIDE, -2 * SIDE]), amounts)
    np.testing.assert_allclose(shifted.values, field.values, rtol=1e-9, atol=1e-9 * field.values.max())


def test_deposit_and_sample_are_adjoint() -> None:
    # sampling uses the deposit's weights: h^2 <deposit(unit mass at p), V> = sample(V)(p)
    rng = np.random.default_rng(7)
    field = DopamineField(N, SIDE, kappa_for(S_MAIN), math.inf, DT)
    values = rng.uniform(-1, 1, (N, N))
    points = rng.uniform(0, SIDE, (20, 2))
    samples = field.sampler(points).sample(values)
    for p, sampled in zip(points, samples, strict=True):
        probe = DopamineField(N, SIDE, kappa_for(S_MAIN), math.inf, DT)
        probe.deposit(p[None, :], np.array([1.0]))
        assert (probe.values * values).sum() * H * H == pytest.approx(sampled, rel=1e-12, abs=1e-14)


# --------------------------------------------------------------------------------------------
# sampling
# --------------------------------------------------------------------------------------------


def test_sampling_is_exact_for_fields_linear_within_a_cell() -> None:
    # nodes hold a + b x + c y + d x y (bilinear, hence linear along each axis in every cell that
    # does not straddle the seam); bilinear interpolation reproduces it exactly inside those cells
    ii, jj = node_grid()
    a, b, c, d = 0.3, 1.7, -2.2, 0.9
    values = a + b * ii * H + c * jj * H + d * (ii * H) * (jj * H)
    rng = np.random.default_rng(8)
    pts = rng.uniform(0, SIDE - H, (2000, 2))  # keep off the seam cell
    got = BilinearSampler(pts, N, SIDE).sample(values)
    x, y = pts[:, 0], pts[:, 1]
    np.testing.assert_allclose(got, a + b * x + c * y + d * x * y, rtol=1e-12, atol=1e-13)


def test_sampling_reproduces_node_values_at_nodes() -> None:
    rng = np.random.default_rng(9)
    values = rng.uniform(-1, 1, (N, N))
    ij = rng.integers(0, N, (300, 2))
    got = BilinearSampler(ij * H, N, SIDE).sample(values)
    np.testing.assert_allclose(got, values[ij[:, 0], ij[:, 1]], rtol=1e-14, atol=1e-15)


def test_sampling_is_periodic_across_the_seams() -> None:
    rng = np.random.default_rng(10)
    values = rng.uniform(-1, 1, (N, N))
    y = rng.uniform(0, SIDE, 50)
    eps = 1e-9 * H
    below = BilinearSampler(np.column_stack([np.full(50, SIDE - eps), y]), N, SIDE).sample(values)
    above = BilinearSampler(np.column_stack([np.full(50, eps), y]), N, SIDE).sample(values)
    # both points are within eps of node row 0: they differ by at most 2 eps/h of a node-to-node jump
    assert np.abs(below - above).max() <= 2 * 1e-9 * 2 * np.abs(values).max() + 1e-15
    # the same at the y seam
    x = rng.uniform(0, SIDE, 50)
    left = BilinearSampler(np.column_stack([x, np.full(50, SIDE - eps)]), N, SIDE).sample(values)
    right = BilinearSampler(np.column_stack([x, np.full(50, eps)]), N, SIDE).sample(values)
    assert np.abs(left - right).max() <= 2 * 1e-9 * 2 * np.abs(values).max() + 1e-15
    # a point in the seam cell interpolates between node N-1 and node 0
    mid = BilinearSampler(np.array([[SIDE - 0.5 * H, 0.0]]), N, SIDE).sample(values)
    assert mid[0] == pytest.approx(0.5 * (values[N - 1, 0] + values[0, 0]), rel=1e-13)
    # x and x + L (and x - 3L) are the same point
    pts = rng.uniform(0, SIDE, (200, 2))
    base = BilinearSampler(pts, N, SIDE).sample(values)
    for shift in (np.array([SIDE, 0.0]), np.array([0.0, SIDE]), np.array([-3 * SIDE, 2 * SIDE])):
        np.testing.assert_allclose(BilinearSampler(pts + shift, N, SIDE).sample(values), base, rtol=0, atol=1e-12)


def test_sampler_writes_into_out_and_checks_shapes() -> None:
    field = DopamineField(N, SIDE, kappa_for(S_MAIN), math.inf, DT)
    field.values[:] = 1.5
    sampler = field.sampler(np.array([[0.1, 0.2], [0.7, 0.9]]))
    out = np.zeros(2)
    assert sampler.sample(field.values, out) is out
    np.testing.assert_allclose(out, 1.5, rtol=1e-15)
    with pytest.raises(ValueError, match="values"):
        sampler.sample(np.zeros((N, N + 1)))
    with pytest.raises(ValueError, match="out"):
        sampler.sample(field.values, np.zeros(3))
    with pytest.raises(ValueError, match="xy_mm"):
        BilinearSampler(np.zeros((4, 3)), N, SIDE)
    with pytest.raises(ValueError, match="xy_mm"):
        BilinearSampler(np.array([[np.nan, 0.0]]), N, SIDE)


@pytest.mark.parametrize("n", [64, 50, 128])
@pytest.mark.parametrize("s", [0.0164, S_MAIN])
def test_fused_step_and_sample_equals_step_then_sample(n: int, s: float) -> None:
    # The fused pass (sampling each band of rows right after computing it) must read the same
    # values as a separate sampling of the stepped field, including points in the last cell row,
    # whose upper row wraps to row 0, and points on the band boundaries.
    h = SIDE / n
    kwargs = dict(grid_n=n, side_mm=SIDE, kappa_mm2_per_ms=kappa_for(s, h), tau_ms=60.0, dt_ms=DT)
    fused, plain = DopamineField(**kwargs), DopamineField(**kwargs)
    assert fused.method == "direct"
    rng = np.random.default_rng(11)
    start = rng.uniform(0, 1, (n, n))
    fused.values[:] = start
    plain.values[:] = start
    xy = np.vstack([rng.uniform(0, SIDE, (3000, 2)), [[SIDE - 0.3 * h, SIDE - 0.2 * h], [0.0, 0.0]]])
    sampler = fused.sampler(xy)
    got = np.empty(len(xy))
    for _ in range(3):
        fused.step_and_sample(sampler, got)
        plain.step()
    np.testing.assert_array_equal(fused.values, plain.values)
    np.testing.assert_allclose(got, sampler.sample(plain.values), rtol=1e-14, atol=1e-15)
    with pytest.raises(ValueError, match="another grid"):
        fused.step_and_sample(BilinearSampler(xy, n + 2, SIDE), got)
