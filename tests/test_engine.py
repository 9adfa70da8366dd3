"""The integration and delivery kernels: exact timing, refractoriness, reproducibility."""

from __future__ import annotations

import math

import numba
import numpy as np
import pytest
from conftest import small_model

from neuroabm import NeuroModel
from neuroabm.recorders.spikes import SpikeRecorder


def pair(**kw) -> NeuroModel:
    """Two excitatory neurons projecting onto each other, no external drive, starting at rest."""
    base = dict(n_exc=2, n_inh=0, k_exc=1, k_inh=0, j_mv=0.7, eta=0.0, v_init="rest", duration_ms=10.0, seed=1)
    return NeuroModel(**{**base, **kw})


def test_a_spike_arrives_exactly_one_delay_later_and_then_decays():
    m = pair(delay_ms=1.5)
    w = float(m.synapses.weights[0])  # 0.7 mV stored as float32
    m.v[0] = 25.0  # neuron 0 crosses threshold in the first step, spiking at t = 0.1 ms
    m.step()  # t = 1 ms: the PSP (due at 1.6 ms) has not arrived
    assert m.v[1] == 0.0
    assert m.neuron(0).last_spike_ms == pytest.approx(0.1)
    m.step()  # t = 2 ms: arrived at 1.6 ms, then 4 steps of exact exponential decay
    decay = math.exp(-0.1 / 20.0)
    assert m.v[1] == pytest.approx(w * decay**4, rel=1e-12)


def test_delay_shorter_than_a_model_step_is_exact_too():
    m = pair(delay_ms=0.3)
    w = float(m.synapses.weights[0])
    m.v[0] = 25.0
    m.step()  # spike at 0.1 ms arrives at 0.4 ms; decays for 6 steps until 1.0 ms
    assert m.v[1] == pytest.approx(w * math.exp(-0.6 / 20.0), rel=1e-12)


def test_inputs_during_the_refractory_period_are_dropped():
    m = pair(delay_ms=1.5, t_ref_ms=2.0)
    m.v[:] = 25.0  # both fire at 0.1 ms and are clamped until 2.1 ms
    m.step()
    m.step()  # the partner's PSP arrives at 1.6 ms, inside the refractory period
    assert m.v[1] == 10.0 and m.v[0] == 10.0
    m.step()  # free from 2.1 ms: pure decay from the reset value for 9 steps, no PSP added
    assert m.v[1] == pytest.approx(10.0 * math.exp(-0.9 / 20.0), rel=1e-12)


def test_perfect_integrator_holds_its_potential_and_sums_inputs():
    m = pair(leak=False)
    m.v[:] = [25.0, 3.0]
    m.run()
    w = float(m.synapses.weights[0])
    assert m.v[1] == pytest.approx(3.0 + w, rel=1e-12)  # one PSP, no decay
    assert m.v[0] == pytest.approx(10.0, rel=1e-12)


def test_poisson_drive_gives_shot_noise_statistics_of_the_free_membrane():
    """Threshold out of reach: V is shot noise with mean C_E J nu tau and variance C_E J^2 nu tau / 2."""
    nu_ext = 0.025  # per ms
    m = NeuroModel(
        n_exc=4000, n_inh=1000, k_exc=80, k_inh=20, j_mv=1.0, v_th_mv=1000.0, v_init="rest",
        eta=nu_ext * 1.0 * 80 * 20.0 / 1000.0, duration_ms=200.0, seed=3,
    )  # fmt: skip
    m.run()
    mean, var = 80 * 1.0 * nu_ext * 20.0, 80 * 1.0 * nu_ext * 20.0 / 2
    assert m.spike_count.sum() == 0
    # 5000 neurons after 10 tau: standard error of the mean sqrt(20/5000) = 0.06 mV
    assert m.v.mean() == pytest.approx(mean, abs=0.35)
    assert m.v.var() == pytest.approx(var, rel=0.1)  # sampling sd of a variance: sqrt(2/5000) = 2 %


def test_same_seed_gives_identical_spikes_and_another_seed_does_not():
    a = small_model(seed=5).run().spikes()
    b = small_model(seed=5).run().spikes()
    c = small_model(seed=6).run().spikes()
    assert a[0].size > 100
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    assert not (a[0].size == c[0].size and np.array_equal(a[1], c[1]))


def test_spikes_do_not_depend_on_the_number_of_threads():
    if numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip("needs at least two numba threads")
    results = []
    for threads in (1, 2):
        numba.set_num_threads(threads)
        try:
            m = small_model(seed=9, drive="white_noise", mu_mv=18.0, sigma_mv=6.0).run()
        finally:
            numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
        results.append((m.spikes(), m.v.copy()))
    (s1, v1), (s2, v2) = results
    assert np.array_equal(s1[1], s2[1]) and np.array_equal(s1[0], s2[0]) and np.array_equal(v1, v2)


def test_recorder_flushes_in_chunks_without_losing_or_reordering(tmp_path):
    import pyarrow.parquet as pq

    m = small_model(seed=4, duration_ms=100.0)
    m.recorder = SpikeRecorder(m.dt_ms, capacity=3000)  # many flushes
    m.recorder.stream_to(tmp_path / "s.parquet")
    m.run()
    m.recorder.close()
    ref = small_model(seed=4, duration_ms=100.0).run().spikes()
    t, nr = m.spikes()
    assert np.array_equal(t, ref[0]) and np.array_equal(nr, ref[1])
    table = pq.read_table(tmp_path / "s.parquet")
    assert np.array_equal(table["t_ms"].to_numpy(), t) and np.array_equal(table["neuron"].to_numpy(), nr)
    assert np.all(np.diff(t) >= 0)
    assert m.recorder.count == t.size == m.spike_count.sum()


def test_time_is_in_milliseconds_and_the_run_stops_at_duration():
    m = small_model(duration_ms=30.0)
    m.step()
    assert m.time == 1.0 and m.k == 10
    m.run()
    assert m.time == 30.0 and not m.running
    df = m.datacollector.get_model_vars_dataframe()
    assert list(df["t_ms"]) == [10.0, 20.0, 30.0]
    total = m.spike_count.sum()
    rates = df["rate_hz"].to_numpy()
    assert rates.mean() == pytest.approx(total / (500 * 0.03))
