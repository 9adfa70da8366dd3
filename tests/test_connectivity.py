"""Fixed in-degree connectivity, uniform or with a periodic Gaussian kernel, stored as CSR."""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import small_model

from neuroabm.model.connectivity import draw_sources
from neuroabm.model.space import periodic_distance, place_uniform
from neuroabm.model.synapses import Synapses

#: mean distance between two uniform points on a unit torus: (sqrt 2 + ln(1 + sqrt 2)) / 6
UNIFORM_TORUS_MEAN = (math.sqrt(2) + math.log(1 + math.sqrt(2))) / 6


@pytest.mark.parametrize("kernel", ["uniform", "gaussian"])
def test_every_neuron_has_exactly_k_exc_plus_k_inh_inputs(kernel):
    m = small_model(kernel=kernel, sigma_mm=0.2)
    syn = m.synapses
    assert syn.n_synapses == 500 * 50
    assert np.all(syn.in_degree() == 50)
    src = syn.sources()
    # per target: exactly k_exc excitatory and k_inh inhibitory sources, never itself
    exc_in = np.bincount(syn.targets[src < 400], minlength=500)
    assert np.all(exc_in == 40)
    assert not np.any(src == syn.targets)
    # weights: J from excitatory, -g J from inhibitory sources
    assert np.allclose(syn.weights[src < 400], 0.5) and np.allclose(syn.weights[src >= 400], -2.5)


def test_csr_rows_are_sorted_and_split_by_target_partition(model):
    syn = model.synapses
    bounds = np.linspace(0, 500, syn.split.shape[1]).round()
    for s in range(0, 500, 37):
        row = syn.targets[syn.indptr[s] : syn.indptr[s + 1]]
        assert np.all(np.diff(row) >= 0)
        for p in range(syn.split.shape[1]):
            assert syn.split[s, p] == np.count_nonzero(row < bounds[p])


def test_uniform_kernel_mean_distance_matches_the_torus_average():
    rng = np.random.default_rng(1)
    pos = place_uniform(rng, 3000, 1.0)
    src = draw_sources(rng, pos, 2400, 60, 15, 1.0, "uniform")
    d = periodic_distance(pos[:, None, :], pos[src], 1.0)
    # 225,000 distances with sd ~0.16: 5 standard errors ~ 0.0017
    assert d.mean() == pytest.approx(UNIFORM_TORUS_MEAN, abs=0.004)


def test_gaussian_kernel_gives_rayleigh_source_distances():
    """Sources drawn with exp(-d^2/2 sigma^2) over uniform positions: d is Rayleigh, mean sigma sqrt(pi/2)."""
    rng = np.random.default_rng(2)
    sigma = 0.05
    pos = place_uniform(rng, 5000, 1.0)
    src = draw_sources(rng, pos, 4000, 40, 10, 1.0, "gaussian", sigma)
    d = periodic_distance(pos[:, None, :], pos[src], 1.0)
    # 250,000 draws (sd 0.66 sigma) => standard error 0.0013 sigma; the position sample adds a
    # density fluctuation of ~1/sqrt(neurons within 2 sigma ~ 200) per target, averaged over 5000
    # targets; 2 % covers both with a wide margin, while a uniform kernel would give 7.7 sigma.
    assert d.mean() == pytest.approx(sigma * math.sqrt(math.pi / 2), rel=0.02)
    assert np.mean(d**2) == pytest.approx(2 * sigma**2, rel=0.03)  # Rayleigh second moment


def test_gaussian_kernel_far_too_narrow_is_a_clear_error():
    from neuroabm.config import ConfigError

    with pytest.raises(ConfigError, match="sigma_mm"):
        small_model(kernel="gaussian", sigma_mm=1e-4, side_mm=10.0)


def test_static_store_costs_two_bytes_per_synapse():
    """One uint16 target per synapse and one weight per source row; per-synapse weights only on demand."""
    m = small_model(n_exc=4000, n_inh=1000, k_exc=400, k_inh=100, duration_ms=1.0)
    syn: Synapses = m.synapses
    assert syn.stored.dtype == np.uint16 and not syn.has_weights
    assert syn.nbytes() / syn.n_synapses < 2.1  # + indptr, split, row_weight per neuron
    w = syn.weights  # materialized from the row weights
    src = syn.sources()
    assert np.all(w[src < 4000] == np.float32(0.5)) and np.all(w[src >= 4000] == np.float32(-2.5))


def test_wide_networks_store_partition_offsets_and_deliver_identically():
    """Above 65,536 neurons a target is stored as a uint16 offset in its partition (<= 65,536 wide).

    Delivery through the offsets fills the ring exactly as through absolute int32 targets
    (the editable store plasticity uses), and the absolute view and in-degrees agree.
    """
    from neuroabm.model.kernels import deliver_block

    rng = np.random.default_rng(3)
    n = 70_000
    sources = rng.integers(0, n, size=(n, 3)).astype(np.int32)
    w = rng.uniform(-1, 1, n).astype(np.float32)
    wide = Synapses.from_sources(sources, w, n_parts=2)
    assert wide.relative and wide.stored.dtype == np.uint16 and wide.split.shape[1] - 1 == 2
    absolute = wide.editable()
    assert absolute.stored.dtype == np.int32 and absolute.stored.max() >= 1 << 16
    np.testing.assert_array_equal(wide.targets, absolute.stored)
    assert np.all(wide.in_degree() == 3)  # fixed in-degree
    np.testing.assert_array_equal(wide.out_degree(), np.bincount(sources.ravel(), minlength=n))
    np.testing.assert_array_equal(np.sort(wide.row_targets(5)), np.sort(np.flatnonzero(sources == 5) // 3))

    spikes = np.sort(rng.choice(n, 500, replace=False)).astype(np.int32)
    steps = rng.integers(0, 10, spikes.size).astype(np.int64)
    rings = []
    for syn in (wide, absolute):
        ring = np.zeros((15, n), np.float32)
        deliver_block(spikes, steps, np.array([0, n]), np.array([spikes.size]), 1, syn.indptr, syn.split,
                      syn.stored, syn.delivery_weights(), syn.row_weight, ring, 15, None, 0,
                      syn.target_base)  # fmt: skip
        rings.append(ring)
    assert np.array_equal(rings[0], rings[1]) and np.count_nonzero(rings[0]) > 1000


def test_streamed_build_equals_the_table_build():
    """The two-pass build (one copy of the edges) draws the same network as the source table."""
    from neuroabm.model.connectivity import draw_sources
    from neuroabm.model.store_builder import build_uniform

    n, n_exc = 70_000, 56_000
    w = np.where(np.arange(n) < n_exc, 0.1, -0.5).astype(np.float32)
    streamed_rng, table_rng = np.random.default_rng(9), np.random.default_rng(9)
    streamed = build_uniform(streamed_rng, n, n_exc, 4, 1, w, threads=2)
    table = Synapses.from_sources(draw_sources(table_rng, np.zeros((n, 2)), n_exc, 4, 1, 1.0), w, n_parts=2)
    np.testing.assert_array_equal(streamed.indptr, table.indptr)
    np.testing.assert_array_equal(streamed.split, table.split)
    np.testing.assert_array_equal(streamed.stored, table.stored)
    np.testing.assert_array_equal(streamed.row_weight, table.row_weight)
    assert streamed_rng.bit_generator.state == table_rng.bit_generator.state  # the stream goes on alike
