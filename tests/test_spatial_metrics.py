"""Spatial structure metrics against networkx, brute force and hand-computed cases."""

from __future__ import annotations

import math

import networkx as nx
import numpy as np
import pytest

from neuroabm.analysis.graph_metrics import louvain
from neuroabm.analysis.spatial_metrics import (
    catchment_labels,
    catchment_rate_spread,
    correlation_length,
    nearest_site_distance,
    normalized_mutual_information,
    strengths,
    strong_reciprocity,
)

RNG = np.random.default_rng(11)


def torus_distances(a: np.ndarray, b: np.ndarray, side: float) -> np.ndarray:
    d = a[:, None, :] - b[None, :, :]
    d -= side * np.round(d / side)
    return np.hypot(d[..., 0], d[..., 1])


def test_catchments_and_site_distances_equal_brute_force_on_the_torus():
    xy, sites = RNG.uniform(0, 2.0, (500, 2)), RNG.uniform(0, 2.0, (7, 2))
    d = torus_distances(xy, sites, 2.0)
    np.testing.assert_array_equal(catchment_labels(xy, sites, 2.0), d.argmin(axis=1))
    np.testing.assert_allclose(nearest_site_distance(xy, sites, 2.0), d.min(axis=1), rtol=1e-12)


def test_nmi_hand_computed_case():
    # A = [0 0 0 1 1 1], B = [0 0 1 1 2 2]: H(A) = ln 2, H(B) = ln 3,
    # joint cells (0,0):2 (0,1):1 (1,1):1 (1,2):2 -> H(A,B) = -2 (1/3 ln 1/3) - 2 (1/6 ln 1/6)
    a, b = np.array([0, 0, 0, 1, 1, 1]), np.array([0, 0, 1, 1, 2, 2])
    h_a, h_b = math.log(2), math.log(3)
    h_ab = -2 * (1 / 3) * math.log(1 / 3) - 2 * (1 / 6) * math.log(1 / 6)
    expected = (h_a + h_b - h_ab) / ((h_a + h_b) / 2)
    assert normalized_mutual_information(a, b) == pytest.approx(expected, rel=1e-12)
    assert normalized_mutual_information(b, a) == pytest.approx(expected, rel=1e-12)
    assert normalized_mutual_information(a, np.zeros(6)) == 0.0
    assert normalized_mutual_information(np.zeros(6), np.ones(6)) == 1.0


def test_nmi_agrees_with_scikit_learn_when_installed():
    metrics = pytest.importorskip("sklearn.metrics")
    for _ in range(5):
        a, b = RNG.integers(0, 5, 300), RNG.integers(0, 8, 300)
        ref = metrics.normalized_mutual_info_score(a, b)
        assert normalized_mutual_information(a, b) == pytest.approx(ref, rel=1e-9, abs=1e-12)


def test_planted_communities_equal_to_catchments_give_nmi_one():
    # neurons clustered around 4 sites, wired densely inside each cluster: Louvain finds the
    # clusters, which are exactly the catchments
    sites = np.array([[0.25, 0.25], [0.75, 0.25], [0.25, 0.75], [0.75, 0.75]])
    group = np.repeat(np.arange(4), 50)
    xy = sites[group] + RNG.uniform(-0.1, 0.1, (200, 2))
    same = group[:, None] == group[None, :]
    adj = RNG.random((200, 200)) < np.where(same, 0.3, 0.005)
    np.fill_diagonal(adj, False)
    src, tgt = np.nonzero(adj)
    labels, _ = louvain(src, tgt, np.ones(src.size), 200, seed=0)
    catch = catchment_labels(xy, sites, 1.0)
    np.testing.assert_array_equal(catch, group)
    assert normalized_mutual_information(labels, catch) == pytest.approx(1.0)
    # and independent random labels give NMI near 0
    assert normalized_mutual_information(RNG.integers(0, 4, 200), catch) < 0.05


def test_strengths_equal_networkx_weighted_degrees():
    src, tgt, w = RNG.integers(0, 40, 300), RNG.integers(0, 40, 300), RNG.normal(0.2, 0.5, 300)
    g = nx.MultiDiGraph()
    g.add_nodes_from(range(40))
    g.add_weighted_edges_from((int(s), int(t), max(float(x), 0.0)) for s, t, x in zip(src, tgt, w, strict=True))
    s_in, s_out = strengths(src, tgt, w, 40)
    np.testing.assert_allclose(s_in, [g.in_degree(i, weight="weight") for i in range(40)], rtol=1e-12)
    np.testing.assert_allclose(s_out, [g.out_degree(i, weight="weight") for i in range(40)], rtol=1e-12)


def test_strong_reciprocity_equals_networkx_on_the_strong_subgraph():
    n = 60
    src, tgt = RNG.integers(0, n, 1500), RNG.integers(0, n, 1500)
    w = RNG.exponential(1.0, 1500)
    observed, chance = strong_reciprocity(src, tgt, w, n, quantile=0.8)
    # reference: merge multapses, keep the top 20 %, networkx reciprocity of that DiGraph
    merged: dict[tuple[int, int], float] = {}
    for s, t, x in zip(src.tolist(), tgt.tolist(), w.tolist(), strict=True):
        if s != t:
            merged[(s, t)] = merged.get((s, t), 0.0) + x
    threshold = np.quantile(list(merged.values()), 0.8)
    g = nx.DiGraph([e for e, x in merged.items() if x >= threshold])
    assert observed == pytest.approx(nx.overall_reciprocity(g), rel=1e-12)
    assert chance == pytest.approx(g.number_of_edges() / (n * (n - 1)), rel=1e-12)


def test_correlation_length_of_a_smoothed_white_field_is_twice_the_kernel_width():
    # white noise on a fine grid smoothed with a periodic Gaussian of width s has C(r) = exp(-r^2 / 4 s^2):
    # 1/e at r = 2 s
    side, m, s = 1.0, 128, 0.03
    k = np.fft.fftfreq(m, d=side / m) * 2 * np.pi
    kx, ky = np.meshgrid(k, k, indexing="ij")
    field = np.fft.ifft2(np.fft.fft2(RNG.normal(size=(m, m))) * np.exp(-0.5 * s * s * (kx**2 + ky**2))).real
    xy = RNG.uniform(0, side, (3000, 2))
    values = field[(xy[:, 0] / side * m).astype(int) % m, (xy[:, 1] / side * m).astype(int) % m]
    got = correlation_length(values, xy, side, r_max_mm=0.2, n_bins=40, seed=0)
    assert got == pytest.approx(2 * s, rel=0.2)
    # uncorrelated values: below the first bin
    assert correlation_length(RNG.normal(size=3000), xy, side, r_max_mm=0.2, n_bins=40) < 0.2 / 40
    # seeded sampling: the same seed gives the same estimate
    a = correlation_length(values, xy, side, 0.2, 40, max_pairs=100_000, seed=3)
    assert a == correlation_length(values, xy, side, 0.2, 40, max_pairs=100_000, seed=3)


def test_catchment_rate_spread_hand_computed():
    rates = np.array([2.0, 4.0, 10.0, 12.0, 5.0])
    labels = np.array([1, 1, 7, 7, 3])  # means 3, 11, 5 -> sd of (3, 11, 5)
    assert catchment_rate_spread(rates, labels) == pytest.approx(np.std([3.0, 11.0, 5.0]), rel=1e-12)
