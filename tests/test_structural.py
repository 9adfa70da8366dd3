"""Structural plasticity: pruning and growth rewrite rows in place, delivery stays exact."""

from __future__ import annotations

import numpy as np
import pytest

from neuroabm import NeuroModel
from neuroabm.model.kernels import deliver_block
from neuroabm.model.plasticity.structural import grow_synapses
from neuroabm.model.space import periodic_distance
from neuroabm.model.synapses import Synapses, _row_splits, row_weights

BASE = dict(
    n_exc=800, n_inh=200, k_exc=80, k_inh=20, j_mv=0.5, eta=1.5, seed=4, dopamine=True, n_sites=4,
    kappa_mm2_per_ms=0.01, tau_da_ms=200.0, field_record_ms=0, plasticity=True, release_tonic=1e-3, eta_da=1e-3,
    structural=True, struct_period_ms=200, w_prune_mv=0.05, growth_hz=5.0, kernel="gaussian", sigma_mm=0.1,
    graph_period_ms=0,
)  # fmt: skip


def fresh_store(src: np.ndarray, tgt: np.ndarray, w: np.ndarray, n: int, bounds: np.ndarray) -> Synapses:
    """A compact store built from scratch from an edge list (rows sorted by target)."""
    order = np.lexsort((tgt, src))
    indptr = np.zeros(n + 1, np.int64)
    np.cumsum(np.bincount(src, minlength=n), out=indptr[1:])
    targets, weights = tgt[order].astype(np.uint16), w[order].astype(np.float32)
    return Synapses(
        indptr, targets, weights, _row_splits(indptr, targets, bounds), row_weights(indptr, weights), bounds
    )


def deliver(store: Synapses, spikes: np.ndarray, n: int) -> np.ndarray:
    ring = np.zeros((3, n), np.float32)
    cap = spikes.size
    deliver_block(spikes.astype(np.int32), np.zeros(cap, np.int64), np.array([0, n]), np.array([cap]), cap,
                  store.indptr, store.split, store.targets, store.weights, store.row_weight, ring, 1)  # fmt: skip
    return ring


@pytest.fixture(scope="module")
def restructured() -> NeuroModel:
    m = NeuroModel(**BASE, duration_ms=1000.0).run()  # five pruning-and-growth steps
    m.plasticity.sweep()
    return m


def test_many_prunings_and_growths_happened(restructured):
    h = restructured.plasticity.structure.history
    assert len(h) == 5
    assert sum(x["pruned"] for x in h) > 0  # below-threshold synapses are gone (checked in the next test)
    # growth: Poisson with mean 1,000 neurons x 5 Hz x 0.2 s x 5 steps = 5,000 (sd 71)
    assert abs(sum(x["grown"] + x["dropped"] for x in h) - 5000) < 300


def test_delivery_matches_a_freshly_built_store_of_the_same_edges(restructured):
    m = restructured
    syn = m.synapses
    src, tgt, w = syn.edges()
    fresh = fresh_store(src.astype(np.int64), tgt.astype(np.int64), w, m.n_neurons, syn.bounds)
    rng = np.random.default_rng(1)
    for _ in range(3):
        spikes = np.sort(rng.choice(m.n_neurons, 300, replace=False))
        np.testing.assert_allclose(deliver(syn, spikes, m.n_neurons), deliver(fresh, spikes, m.n_neurons),
                                   rtol=1e-6, atol=1e-6)  # fmt: skip


def test_rows_stay_sorted_within_capacity_and_free_slots_are_empty(restructured):
    syn = restructured.synapses
    length = syn.split[:, -1]
    cap = np.diff(syn.indptr)
    assert np.all(length <= cap)
    for s in range(0, restructured.n_exc, 37):
        a = syn.indptr[s]
        live = syn.targets[a : a + length[s]].astype(int)
        assert np.all(np.diff(live) >= 0)
        assert np.all(syn.targets[a + length[s] : a + cap[s]] == 0)
        assert np.all(syn.weights[a + length[s] : a + cap[s]] == 0)
    assert np.all(syn.weights[syn.live()][syn.sources()[syn.live()] < restructured.n_exc] >= 0.05)  # pruned below
    np.testing.assert_array_equal(restructured.in_degree, np.bincount(syn.edges()[1], minlength=1000))


def test_pruned_synapses_stop_and_grown_ones_deliver_from_the_next_step():
    m = NeuroModel(**BASE, duration_ms=400.0)
    for _ in range(199):
        m.step()
    before = set(zip(*[a.tolist() for a in m.synapses.edges()[:2]], strict=True))
    m.step()  # ms 200 ends with the first pruning-and-growth step
    assert len(m.plasticity.structure.history) == 1
    src, tgt, w = m.synapses.edges()
    after = set(zip(src.tolist(), tgt.tolist(), strict=True))
    gone, new = before - after, after - before
    assert gone and new
    s, t = next(iter(new))
    spikes = np.array([s])
    ring = deliver(m.synapses, spikes, m.n_neurons)
    assert ring[1, t] == pytest.approx(w[(src == s) & (tgt == t)].sum(), rel=1e-6)  # a new synapse delivers
    s, _ = next(iter(gone))
    ring = deliver(m.synapses, np.array([s]), m.n_neurons)
    # what s delivers is exactly its live synapses: the pruned ones are gone from the scatter
    expected = np.bincount(tgt[src == s], weights=w[src == s], minlength=m.n_neurons)
    np.testing.assert_allclose(ring[1], expected, rtol=1e-6, atol=1e-7)


def test_grown_synapses_follow_the_distance_kernel():
    # Sources drawn with the periodic Gaussian kernel (sigma = 0.05 mm on a 1 mm torus, density uniform):
    # their distances follow the Rayleigh law, mean sigma sqrt(pi / 2).
    m = NeuroModel(**{**BASE, "n_exc": 4000, "n_inh": 1000, "k_exc": 20, "k_inh": 5, "sigma_mm": 0.05,
                      "growth_hz": 20.0, "struct_period_ms": 1000}, duration_ms=1.0)  # fmt: skip
    src, tgt = grow_synapses(m)
    assert src.size == pytest.approx(5000 * 20, rel=0.02)  # Poisson total
    d = periodic_distance(m.positions[src], m.positions[tgt], 1.0)
    sigma = 0.05
    assert d.mean() == pytest.approx(sigma * np.sqrt(np.pi / 2), rel=0.02)
    r = np.array([0.5, 1.0, 2.0, 3.0]) * sigma
    cdf = np.array([(d <= x).mean() for x in r])
    np.testing.assert_allclose(cdf, 1 - np.exp(-(r**2) / (2 * sigma**2)), atol=0.01)
    assert np.all(src < m.n_exc) and np.all(src != tgt)


def test_growth_follows_local_dopamine_when_gained():
    m = NeuroModel(**{**BASE, "growth_da_gain": 5.0, "growth_hz": 50.0, "n_sites": 1, "kappa_mm2_per_ms": 1e-4},
                   duration_ms=300.0).run()  # fmt: skip
    _, tgt = grow_synapses(m)
    counts = np.bincount(tgt, minlength=m.n_neurons)
    expected = 50.0 * 0.2 * np.maximum(0.0, 1.0 + 5.0 * (m.da_local - 0.0))
    assert np.corrcoef(counts, expected)[0, 1] > 0.9
