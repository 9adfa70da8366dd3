"""Depressing synapses, the pulse drive, subtractive reset and all-to-all connectivity.

The depression variable has closed forms: under a periodic presynaptic train the efficacy before
spike n is a geometric approach to the fixed point ``x* = (1 - E) / (1 - (1 - u) E)``; under a
Poisson train its mean is ``1 / (1 + u nu tau)``. In the network the potential of a non-leaky
neuron with subtractive reset and threshold-sized pulses is exactly the sum of the PSPs it
received, which checks delivery spike by spike.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import chisquare

from neuroabm import NeuroModel
from neuroabm.config import ConfigError
from neuroabm.experiments.levina_sweep import levina_params
from neuroabm.model.connectivity import all_to_all_sources
from neuroabm.model.depression import Depression, periodic_steady_state, poisson_mean_efficacy
from neuroabm.model.kernels import deliver_block


def _train_efficacies(steps: np.ndarray, u: float, tau_ms: float, dt_ms: float = 1.0) -> np.ndarray:
    """Efficacy of every spike of one neuron's train, through the engine's block kernel (one block per spike)."""
    dep = Depression(1, u, tau_ms, dt_ms)
    out = np.empty(1)
    eff = np.empty(steps.size)
    for q, k in enumerate(steps):
        dep.apply(np.zeros(1, np.int32), np.array([k]), np.array([0, 1]), np.array([1]), 1, out)
        eff[q] = out[0]
    return eff


def test_periodic_train_follows_the_closed_form_to_its_fixed_point():
    u, tau, period = 0.2, 100.0, 7.0
    eff = _train_efficacies(np.arange(200) * 7 + 3, u, tau)
    x_star = periodic_steady_state(u, period, tau)
    e = math.exp(-period / tau)
    # x_{n+1} - x* = (1 - u) E (x_n - x*), x_0 = 1: exact up to rounding (200 steps of a contraction)
    n = np.arange(eff.size)
    expected = x_star + (1.0 - x_star) * ((1.0 - u) * e) ** n
    np.testing.assert_allclose(eff, expected, rtol=0, atol=1e-12)
    assert eff[-1] == pytest.approx(x_star, abs=1e-12)
    assert x_star == pytest.approx((1 - e) / (1 - 0.8 * e))


def test_poisson_train_mean_efficacy():
    rng = np.random.default_rng(3)
    u, tau, rate_hz, dt = 0.2, 500.0, 10.0, 0.1
    steps = np.cumsum(rng.geometric(rate_hz * dt / 1000.0, size=40_000))  # Bernoulli in steps of 0.1 ms
    eff = _train_efficacies(steps, u, tau, dt)[1000:]  # drop the start (x0 = 1)
    # PASTA: spikes see the time average 1 / (1 + u nu tau) = 0.5. The efficacy (sd ~0.1) is
    # correlated over ~tau / (1 + u nu tau) = 250 ms = 2.5 spikes, so ~8000 independent values:
    # standard error ~0.0012; 0.006 is 5 of them (the Bernoulli grid changes the mean by < 1e-3).
    assert eff.mean() == pytest.approx(poisson_mean_efficacy(u, rate_hz, tau), abs=0.006)


def test_closed_forms_reject_bad_arguments():
    with pytest.raises(ValueError, match="u must"):
        periodic_steady_state(0.0, 10.0, 100.0)
    with pytest.raises(ValueError, match="period_ms"):
        periodic_steady_state(0.5, -1.0, 100.0)
    with pytest.raises(ValueError, match="rate_hz"):
        poisson_mean_efficacy(0.5, -1.0, 100.0)


def test_delivery_scales_every_spike_by_its_efficacy():
    # two spikes of sources with mixed per-synapse weights (row_weight NaN) and one uniform row
    indptr = np.array([0, 3, 5, 5])
    targets = np.array([0, 1, 2, 0, 2], np.uint16)
    weights = np.array([1.0, 2.0, 3.0, 0.5, 0.5], np.float32)
    split = np.array([[0, 3], [0, 2], [0, 0]], np.int32)
    row_weight = np.array([np.nan, 0.5, np.nan], np.float32)
    ring = np.zeros((2, 3), np.float32)
    spk = np.array([0, 1], np.int32)
    scale = np.array([0.25, 0.5])
    deliver_block(spk, np.zeros(2, np.int64), np.array([0, 2]), np.array([2]), 1, indptr, split, targets, weights,
                  row_weight, ring, 1, scale)  # fmt: skip
    np.testing.assert_allclose(ring[1], [1.0 * 0.25 + 0.5 * 0.5, 2.0 * 0.25, 3.0 * 0.25 + 0.5 * 0.5])


def test_all_to_all_sources_are_everyone_else():
    src = all_to_all_sources(5)
    assert src.shape == (5, 4)
    for i in range(5):
        assert sorted(src[i]) == [j for j in range(5) if j != i]
    m = NeuroModel(**levina_params(1.0, n=50, duration_ms=1.0, seed=1))
    assert np.all(m.synapses.in_degree() == 49) and np.all(m.synapses.out_degree() == 49)
    s, t, _ = m.synapses.edges()
    assert not np.any(s == t)


def _pulse_net(**kw) -> NeuroModel:
    return NeuroModel(**{**levina_params(1.0, n=10, seed=5, duration_ms=5000.0), **kw})


def test_pulses_hit_one_uniformly_chosen_neuron_every_period():
    # pulses of one threshold and no coupling: every pulse is one spike at t = m T
    m = _pulse_net(pulse_mv=1.0, j_mv=0.0, synapse_model="static", v_init="rest").run()
    t, nrn = m.spikes()
    np.testing.assert_array_equal(t, np.arange(1, 501) * 10.0)
    assert m.n_pulses == 500
    # 500 draws over 10 neurons: chi-square test of uniformity at the 0.1 % level
    assert chisquare(np.bincount(nrn, minlength=10)).pvalue > 1e-3


def test_network_delivers_each_spike_with_its_depressed_efficacy():
    u, tau, j = 0.2, 50.0, 0.002
    m = _pulse_net(
        pulse_mv=1.0, j_mv=j, v_init="rest", u_depress=u, tau_rec_ms=tau, duration_ms=2000.0
    ).run()  # fmt: skip
    t, nrn = m.spikes()
    assert t.size == 200  # every pulse fires its neuron (V >= 0), nothing else fires (V < 1)
    # efficacy of every spike from the closed form, one neuron's train at a time
    received = np.zeros(10)
    for i in range(10):
        ti = t[nrn == i]
        x, last, eff = 1.0, 0.0, []
        for tk in ti:
            x = 1.0 - (1.0 - x) * math.exp(-(tk - last) / tau)
            eff.append(x)
            x *= 1.0 - u
            last = tk
        arrived = ti + 1.0 <= m.time  # a spike at the last ms has not arrived yet
        received += j * np.sum(np.array(eff)[arrived]) * (np.arange(10) != i)
    # subtractive reset by one threshold with pulses of one threshold: V = all PSPs received
    # (float32 ring: relative error ~1e-7 per input)
    np.testing.assert_allclose(m.v, received, rtol=1e-5)


def test_subtractive_reset_keeps_the_overshoot():
    m = _pulse_net(pulse_mv=1.5, j_mv=0.0, synapse_model="static", v_init="rest", duration_ms=10.0).run()
    assert m.spike_count.sum() == 1
    assert m.v.max() == pytest.approx(0.5, abs=1e-7)  # 0 + 1.5 - 1 (float32 pulse)


def test_skipping_silent_blocks_changes_nothing():
    kw = levina_params(1.6, n=100, seed=2, duration_ms=8000.0, tau_rec_ms=1000.0)
    a = NeuroModel(**kw)
    b = NeuroModel(**kw)
    b.quiet_skip = False
    a.run()
    b.run()
    assert a.quiet_skip and a.spike_count.sum() > 50
    for x, y in zip(a.spikes(), b.spikes(), strict=True):
        np.testing.assert_array_equal(x, y)
    np.testing.assert_array_equal(a.v, b.v)
    np.testing.assert_array_equal(a.depression.x, b.depression.x)


@pytest.mark.parametrize(
    ("key", "value"),
    [("u_depress", 0.0), ("u_depress", 1.5), ("tau_rec_ms", 0.0), ("pulse_period_ms", 2.5), ("synapse_model", "x")],
)
def test_bad_depression_and_pulse_parameters_are_named(key, value):
    kw = levina_params(1.5, n=10, seed=1)
    kw["dt_ms"] = 1.0
    with pytest.raises(ConfigError, match=key):
        NeuroModel(**{**kw, key: value})


def test_depression_needs_static_plasticity():
    with pytest.raises(ConfigError, match="synapse_model"):
        NeuroModel(n_exc=40, n_inh=10, k_exc=4, k_inh=1, dopamine=True, plasticity=True, synapse_model="depressing")
