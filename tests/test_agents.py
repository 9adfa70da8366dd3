"""Neurons are Mesa agents on a toroidal ContinuousSpace, and thin views onto the model's arrays."""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import small_model
from hypothesis import given, settings
from hypothesis import strategies as st
from mesa.experimental.continuous_space import ContinuousSpace

from neuroabm import Neuron, NeuronType
from neuroabm.model.space import periodic_distance


def test_neurons_are_agents_of_the_model_in_a_torus(model):
    assert isinstance(model.space, ContinuousSpace) and model.space.torus
    assert len(model.agents) == model.n_neurons == 500
    assert len(model.neurons) == 500
    assert all(isinstance(a, Neuron) for a in model.agents)


def test_positions_lie_inside_the_torus():
    m = small_model(side_mm=2.5)
    pos = m.positions
    assert pos.shape == (500, 2)
    assert np.all((pos >= 0) & (pos < 2.5))
    # placement is uniform: each quadrant holds a quarter, within 5 binomial standard deviations
    quadrant = (pos[:, 0] > 1.25).astype(int) * 2 + (pos[:, 1] > 1.25)
    counts = np.bincount(quadrant, minlength=4)
    assert np.all(np.abs(counts - 125) < 5 * math.sqrt(500 * 0.25 * 0.75))


def test_periodic_distance_wraps_across_the_seam(model):
    side = model.params.side_mm
    assert periodic_distance(np.array([0.01, 0.5]), np.array([0.99, 0.5]), side) == pytest.approx(0.02)
    assert periodic_distance(np.array([0.05, 0.05]), np.array([0.95, 0.95]), side) == pytest.approx(0.1 * math.sqrt(2))
    # agrees with Mesa's own torus metric for every neuron
    point = np.array([0.03, 0.97])
    mesa_d, _ = model.space.calculate_distances(point)
    assert np.allclose(periodic_distance(point, model.positions, side), mesa_d)
    assert np.all(mesa_d <= side / math.sqrt(2) + 1e-12)


def test_types_fractions_and_enum(model):
    kinds = [model.neuron(i).kind for i in range(model.n_neurons)]
    assert kinds.count(NeuronType.EXCITATORY) == 400 and kinds.count(NeuronType.INHIBITORY) == 100
    assert all(k is NeuronType.EXCITATORY for k in kinds[:400])
    assert NeuronType.EXCITATORY.value == "E" and NeuronType.INHIBITORY.value == "I"
    assert model.neurons.select(lambda a: a.is_excitatory).__len__() == 400


def test_agent_properties_read_and_write_the_arrays(model):
    n = model.neuron(17)
    n.v_mv = 12.5
    assert model.v[17] == 12.5
    model.v[17] = -3.0
    assert n.v_mv == -3.0
    assert np.array_equal(n.position, model.positions[17])
    assert (n.x_mm, n.y_mm) == tuple(model.positions[17])
    assert n.in_degree == model.in_degree[17] == 50
    assert n.out_degree == model.synapses.indptr[18] - model.synapses.indptr[17]
    assert math.isnan(n.last_spike_ms) and n.rate_hz == 0.0


def test_agent_spike_properties_follow_the_run(model):
    model.run()
    t, nr = model.spikes()
    for i in (0, 123, 450):
        agent = model.neuron(i)
        mine = t[nr == i]
        assert agent.spike_count == mine.size
        assert agent.rate_hz == pytest.approx(mine.size / 0.05)
        if mine.size:
            assert agent.last_spike_ms == pytest.approx(mine.max())


def test_incoming_and_outgoing_match_the_synapse_store(model):
    n = model.neuron(42)
    src = n.incoming()
    assert src.size == 50 and np.count_nonzero(src < 400) == 40
    assert 42 not in src
    for s in np.unique(src):
        assert np.count_nonzero(model.neuron(int(s)).outgoing() == 42) == np.count_nonzero(src == s)


def test_agents_are_never_stepped_one_by_one(model):
    with pytest.raises(RuntimeError, match="vectorized"):
        model.neuron(0).step()


coords = st.floats(min_value=-50.0, max_value=50.0, allow_nan=False)


@settings(max_examples=200, deadline=None)
@given(st.tuples(coords, coords), st.tuples(coords, coords), st.tuples(coords, coords))
def test_periodic_distance_is_a_torus_metric(a, b, shift):
    side = 2.0
    a, b, shift = np.array(a), np.array(b), np.array(shift)
    d = periodic_distance(a, b, side)
    assert 0.0 <= d <= side / math.sqrt(2) + 1e-9
    assert d == pytest.approx(periodic_distance(b, a, side), abs=1e-9)
    assert d == pytest.approx(periodic_distance(a + shift, b + shift, side), abs=1e-9)
    assert periodic_distance(a, a + side * np.array([3.0, -2.0]), side) == pytest.approx(0.0, abs=1e-9)
