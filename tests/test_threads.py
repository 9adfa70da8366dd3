"""The thread policy: faster of one and all threads, and results that never depend on it."""

from __future__ import annotations

import numba
import numpy as np
import pytest

from neuroabm import NeuroModel
from neuroabm.model.threads import (
    ABORT_FACTOR,
    FIRST_RETRY_STEPS,
    SERIAL_MAX_NEURONS,
    WINDOW_STEPS,
    ThreadPolicy,
    resolve_threads,
)

needs_two = pytest.mark.skipif(numba.config.NUMBA_NUM_THREADS < 2, reason="numba's pool has one thread")


@pytest.fixture
def whole_pool():
    """Let the calling thread use numba's whole pool, as a user's script does.

    Under pytest-xdist the conftest limits every worker to one thread, and ``auto`` respects the
    caller's limit (as for a Dask worker), so without this ``auto`` would never measure.
    """
    before = numba.get_num_threads()
    numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
    yield
    numba.set_num_threads(before)


class LoadClock:
    """A fake clock: a step at ``t`` threads takes ``cost[t]`` seconds (``cost`` may change mid-run)."""

    def __init__(self, policy_ref: list[ThreadPolicy], cost: dict[int, float]) -> None:
        self.ref, self.cost, self.now, self.calls = policy_ref, cost, 0.0, 0

    def __call__(self) -> float:
        self.calls += 1
        if self.calls % 2 == 0:  # end of a step: charge it at the current thread count
            self.now += self.cost[self.ref[0].threads]
        return self.now


def drive(cost: dict[int, float], steps: int, change_at: int | None = None, new_cost=None) -> ThreadPolicy:
    ref: list[ThreadPolicy] = []
    clock = LoadClock(ref, cost)
    policy = ThreadPolicy("auto", 10 * SERIAL_MAX_NEURONS, clock=clock, pool=2)
    ref.append(policy)
    policy.begin = lambda: setattr(policy, "_t0", clock())  # no numba calls: pure decision logic
    for k in range(steps):
        if k == change_at:
            clock.cost = new_cost
        policy.begin()
        policy.end()
    return policy


def test_small_networks_run_serial_and_large_ones_measure():
    assert resolve_threads("auto", SERIAL_MAX_NEURONS - 1, pool=2) == (1, False)
    assert resolve_threads("auto", SERIAL_MAX_NEURONS, pool=2) == (2, True)
    assert resolve_threads("auto", 10**6, pool=1) == (1, False)
    assert resolve_threads(1, 10**6, pool=2) == (1, False)
    assert resolve_threads(8, 10, pool=2) == (2, False)


def test_idle_machine_switches_to_threads_after_one_window_each():
    """Two threads at half the step time win their first trial: serial window, cold step, trial window."""
    policy = drive({1: 1.0, 2: 0.5}, steps=400)
    assert policy.log[:2] == [(0, 1), (2 * WINDOW_STEPS + 1, 2)]
    assert policy.threads == 2


def test_busy_machine_stays_serial_and_a_lost_trial_costs_one_step():
    """A contended parallel step (3x a serial one) aborts its trial at once; retries back off."""
    policy = drive({1: 1.0, 2: 3.0}, steps=2000)
    assert policy.log == [(0, 1)]
    assert 3.0 > ABORT_FACTOR * 1.0  # so every retry after the cold one costs a single step
    assert policy._retry_every > FIRST_RETRY_STEPS  # backed off


def test_a_competitor_starting_mid_run_sends_the_run_back_to_one_thread():
    policy = drive({1: 1.0, 2: 0.5}, steps=3000, change_at=1000, new_cost={1: 1.0, 2: 3.0})
    assert policy.log[1][1] == 2
    assert policy.log[-1][1] == 1 and 1000 < policy.log[-1][0] < 1000 + 3 * WINDOW_STEPS
    assert policy.threads == 1


def run_spikes(n: int, threads, seed: int = 11, **extra) -> tuple[np.ndarray, np.ndarray, list]:
    k_exc = 80
    settings = dict(
        n_exc=int(0.8 * n), n_inh=n - int(0.8 * n), k_exc=k_exc, k_inh=k_exc // 4, j_mv=0.5, g=5.0, eta=2.0,
        duration_ms=120.0, seed=seed, threads=threads,
    )  # fmt: skip
    model = NeuroModel(**{**settings, **extra})
    model.run()
    t, i = model.spikes()
    return t, i, model.thread_policy


@needs_two
@pytest.mark.parametrize("n", [400, 2 * SERIAL_MAX_NEURONS])
def test_same_seed_same_spikes_on_every_path(n, whole_pool):
    """1 thread (serial twins), 2 threads (parallel kernels) and auto give bit-identical spikes.

    At n = 400 auto runs the serial twins throughout; at n = 2,000 it measures, so it runs both
    paths within one run (asserted through its switch log).
    """
    t1, i1, _ = run_spikes(n, 1)
    t2, i2, _ = run_spikes(n, 2)
    ta, ia, policy = run_spikes(n, "auto")
    assert t1.size > 1000
    np.testing.assert_array_equal(t1, t2)
    np.testing.assert_array_equal(i1, i2)
    np.testing.assert_array_equal(t1, ta)
    np.testing.assert_array_equal(i1, ia)
    assert policy.log[0] == (0, 1)  # every run starts serial
    assert policy.adaptive == (n >= SERIAL_MAX_NEURONS)  # and measures the pool only above the crossover
    if not policy.adaptive:
        assert policy.log == [(0, 1)]


@needs_two
def test_auto_visits_both_paths_with_the_same_spikes(monkeypatch, whole_pool):
    """Force the policy to alternate (every trial wins): spikes still equal the one-thread run."""
    monkeypatch.setattr("neuroabm.model.threads.MARGIN", 1e9)
    monkeypatch.setattr("neuroabm.model.threads.ABORT_FACTOR", float("inf"))
    monkeypatch.setattr("neuroabm.model.threads.FIRST_RETRY_STEPS", WINDOW_STEPS)
    t1, i1, _ = run_spikes(2000, 1, duration_ms=200.0)
    ta, ia, policy = run_spikes(2000, "auto", duration_ms=200.0)
    log = policy.log
    assert len(log) >= 4 and {t for _, t in log} == {1, 2}
    np.testing.assert_array_equal(t1, ta)
    np.testing.assert_array_equal(i1, ia)


def test_auto_under_a_callers_one_thread_limit_stays_serial():
    """A Dask worker (or an xdist worker) that set numba to one thread: auto never uses more."""
    before = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        _, _, policy = run_spikes(2 * SERIAL_MAX_NEURONS, "auto", duration_ms=40.0)
    finally:
        numba.set_num_threads(before)
    assert policy.log == [(0, 1)] and not policy.adaptive


def test_the_callers_thread_count_is_restored_after_the_run():
    before = numba.get_num_threads()
    run_spikes(400, 1)
    assert numba.get_num_threads() == before


def test_stepping_by_hand_leaves_the_callers_thread_count_alone():
    """A model stepped a few times (a notebook, the browser app) must not leave numba at one thread."""
    before = numba.get_num_threads()
    model = NeuroModel(n_exc=80, n_inh=20, k_exc=8, k_inh=2, duration_ms=50.0, seed=1, threads=1)
    for _ in range(3):
        model.step()
        assert numba.get_num_threads() == before


@needs_two
@pytest.mark.parametrize("stepping", ["step", "run_for", "runner"])
def test_the_events_due_with_a_step_run_at_the_policys_thread_count(stepping, whole_pool):
    """The field is a Mesa event beside the neuron step: it must run at the policy's count too.

    With ``threads = 1`` on a caller that allows two, a field step at two threads would spin at
    OpenMP barriers beside a competitor (5x slower field steps measured); afterwards the caller's
    count is back, whichever way the model is stepped.
    """
    from neuroabm.runner import progress_loop

    model = NeuroModel(n_exc=80, n_inh=20, k_exc=8, k_inh=2, duration_ms=6.0, seed=1, threads=1,
                       dopamine=True, grid_n=16, n_sites=4)  # fmt: skip
    seen: list[int] = []
    field_step = model.dopamine.field.step_and_sample

    def spy(*args):
        seen.append(numba.get_num_threads())
        return field_step(*args)

    model.dopamine.field.step_and_sample = spy
    if stepping == "step":
        for _ in range(5):
            model.step()
    elif stepping == "run_for":
        model.run_for(5)
    else:
        progress_loop(model, enabled=False)
    assert len(seen) >= 5 and set(seen) == {1}
    assert numba.get_num_threads() == numba.config.NUMBA_NUM_THREADS
