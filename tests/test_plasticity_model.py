"""Plasticity inside the model: the rule seen end to end from the recorded spike trains."""

from __future__ import annotations

import math

import numpy as np
import pytest

from neuroabm import NeuroModel
from neuroabm.model.plasticity import system

#: 1,000 neurons with local dopamine, plasticity on every excitatory synapse
BASE = dict(
    n_exc=800, n_inh=200, k_exc=80, k_inh=20, j_mv=0.5, eta=1.5, duration_ms=400.0, seed=4, dopamine=True,
    n_sites=4, kappa_mm2_per_ms=0.01, tau_da_ms=200.0, field_record_ms=0, plasticity=True,
)  # fmt: skip


def expected_eligibility(t_pre: np.ndarray, t_post: np.ndarray, t: float, p) -> float:
    """All-to-all pair sum of the STDP window, each term decayed with tau_c from its later spike."""
    lag = t_post[None, :] - t_pre[:, None]
    later = np.maximum(t_post[None, :], t_pre[:, None])
    decay = np.exp(-(t - later) / p.tau_c_ms)
    pot = np.where(lag > 0, p.a_plus * np.exp(-np.abs(lag) / p.tau_plus_ms), 0.0)
    dep = np.where(lag < 0, -p.a_minus * np.exp(-np.abs(lag) / p.tau_minus_ms), 0.0)
    return float(((pot + dep) * decay).sum())


def check_eligibility_against_spike_trains(m: NeuroModel) -> None:
    """Every sampled synapse's eligibility is the pair sum over its source's and target's spikes."""
    t, nrn = m.spikes()
    syn = m.synapses
    sources = syn.sources()[: m.plasticity.n_plastic]
    c = m.plasticity.eligibility()
    rng = np.random.default_rng(0)
    checked = 0
    for q in rng.choice(m.plasticity.n_plastic, 300, replace=False):
        pre, post = sources[q], int(syn.targets[q])
        want = expected_eligibility(t[nrn == pre], t[nrn == post], m.time, m.params)
        assert c[q] == pytest.approx(want, rel=2e-5, abs=1e-6), (pre, post)
        checked += want != 0.0
    assert checked > 100  # most sampled synapses saw pairs


def test_eligibility_of_every_sampled_synapse_matches_the_spike_trains():
    check_eligibility_against_spike_trains(NeuroModel(**BASE, release_tonic=1e-3, eta_da=1e-3).run())


def test_eligibility_is_exact_with_the_traces_re_referenced_every_few_ms(monkeypatch):
    # the traces are re-referenced when they have grown by e^2 (every 40 ms here) instead of e^40
    monkeypatch.setattr(system, "_TRACE_REBASE", 2.0)
    m = NeuroModel(**BASE, release_tonic=1e-3, eta_da=1e-3)
    rebases = []
    original = m.plasticity.rebase_traces
    monkeypatch.setattr(m.plasticity, "rebase_traces", lambda t: (rebases.append(t), original(t)))
    m.run()
    assert len(rebases) >= 8
    check_eligibility_against_spike_trains(m)


def test_no_dopamine_means_fixed_weights_and_unchanged_dynamics():
    # No release at all: D = 0 = da_baseline_um, so weights stay put; eligibility still moves. The
    # plastic rows are delivered weight by weight instead of by the row fast path: same spikes.
    quiet = dict(release_tonic=0.0, feedback_gain=0.0)
    plastic = NeuroModel(**BASE, **quiet, eta_da=1.0).run()
    static = NeuroModel(**{**BASE, "plasticity": False}, **quiet).run()
    plastic.plasticity.sweep()
    assert np.all(plastic.synapses.weights == static.synapses.weights)
    assert np.abs(plastic.plasticity.eligibility()).max() > 0.1
    for a, b in zip(plastic.spikes(), static.spikes(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_eligibility_is_exact_when_full_histories_force_flushes_inside_blocks(monkeypatch):
    # a history that fills after a few post spikes forces a flush before many blocks; the flush
    # must bring everything to the block's start (not its end), or the block's own post spikes,
    # earlier than the flush time, would never be collected by their synapses
    monkeypatch.setattr(system, "HISTORY", 4)
    m = NeuroModel(**BASE, release_tonic=1e-3, eta_da=1e-3)
    flushes = []
    original = m.plasticity.sweep
    monkeypatch.setattr(m.plasticity, "sweep", lambda *t: (flushes.append(m.time), original(*t)))
    m.run()
    assert len(flushes) >= 5
    check_eligibility_against_spike_trains(m)


def test_weights_stay_in_bounds_and_move_with_dopamine():
    m = NeuroModel(**BASE, release_tonic=1e-3, eta_da=5e-3, w_max_mv=1.0).run()
    m.plasticity.sweep()
    w = m.synapses.weights[: m.plasticity.n_plastic]
    assert w.min() >= 0.0 and w.max() <= 1.0
    assert np.count_nonzero(w != np.float32(0.5)) > 0.5 * w.size
    assert np.all(m.synapses.weights[m.plasticity.n_plastic :] == np.float32(-5.0 * 0.5))  # inhibitory: fixed


def test_plasticity_needs_dopamine():
    with pytest.raises(ValueError, match="plasticity"):
        NeuroModel(**{**BASE, "dopamine": False})


def test_weight_integral_uses_the_dopamine_at_each_postsynaptic_neuron():
    # After the run, bring everything up to date and check one synapse by hand: between its last
    # touch and now, dw = eta c (Psi_j(now) - Psi_j(touch)); with no spikes after a quiet tail the
    # weight then relaxes as the closed form of a decaying c times the held dopamine.
    m = NeuroModel(**BASE, release_tonic=1e-3, eta_da=2e-3)
    for _ in range(300):
        m.step()
    m.plasticity.sweep()
    p = m.params
    q = int(np.argmax(np.abs(m.plasticity.eligibility())))
    post = int(m.synapses.targets[q])
    w0, c0, d = float(m.synapses.weights[q]), float(m.plasticity.eligibility()[q]), m.dopamine.da_local[post]
    m.plasticity.on_field_step(m.time)  # Psi up to now (no-op in time)
    # advance time by hand with the neurons frozen: move t by 100 ms using the field hook and a sweep
    t1 = m.time + 100.0
    m.plasticity.on_field_step(t1)
    m.time = t1
    m.plasticity.sweep()
    want = w0 + p.eta_da * c0 * (d - p.da_baseline_um) * p.tau_c_ms * (1 - math.exp(-100.0 / p.tau_c_ms))
    assert float(m.synapses.weights[q]) == pytest.approx(min(max(want, 0.0), p.w_max_mv), rel=1e-5, abs=1e-6)


def test_histories_never_overflow_with_long_blocks_and_no_refractory_period():
    # dt = 0.01 ms (blocks of 100 steps) and no refractoriness: a neuron may fire in every step of
    # a block, so the history must hold a whole block after a flush; flushes come early as needed.
    cfg = {**BASE, "dt_ms": 0.01, "delay_ms": 1.0, "t_ref_ms": 0.0, "eta": 4.0, "duration_ms": 30.0}
    m = NeuroModel(**cfg, release_tonic=1e-3)
    assert m.plasticity.history_len >= 2 * 100
    m.run()
    assert m.plasticity.hist_n.max() <= m.plasticity.history_len
    w = m.synapse_weights()[: m.plasticity.n_plastic]
    assert np.all(np.isfinite(w)) and w.min() >= 0.0 and w.max() <= m.params.w_max_mv


def test_observing_a_run_does_not_change_it():
    # Readers (weights, eligibility, graph metrics, snapshots) compute on copies: a run observed
    # every 10 ms gives the same spikes and final weights as one never looked at.
    cfg = dict(**BASE, release_tonic=1e-3, eta_da=2e-2)
    quiet, watched = NeuroModel(**cfg), NeuroModel(**cfg)
    for k in range(400):
        quiet.step()
        watched.step()
        if k % 10 == 3:
            watched.synapse_weights()
            watched.plasticity.eligibility()
    for a, b in zip(quiet.spikes(), watched.spikes(), strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(quiet.synapse_weights(), watched.synapse_weights())
