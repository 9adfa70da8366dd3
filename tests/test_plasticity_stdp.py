"""Dopamine-gated STDP (docs/REFERENCES.md §4): the pair window, the eligibility trace, the weight law.

A three-neuron store (all excitatory, every neuron projecting to the two others) is driven with
hand-placed spikes through the same kernels the model uses, and compared with the closed forms:

- an isolated pre-then-post pair at lag dt adds A+ exp(-dt / tau+) to c of pre->post and
  subtracts A- exp(-dt / tau-) from c of post->pre (which saw post-then-pre);
- c decays as exp(-t / tau_c);
- with dopamine D held constant, w(t) = w0 + eta c0 (D - D0) tau_c (1 - exp(-t / tau_c)), clamped
  to [0, w_max]; with D = D0 nothing changes.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from neuroabm.model.plasticity.stdp import (
    DA_DEV,
    NSTATE_COLUMNS,
    PENDING_TIMES,
    PSI0,
    Y_REF,
    flush,
    scale_pending,
    stdp_block,
)
from neuroabm.model.synapses import Synapses

DT = 0.1
A_PLUS, A_MINUS, TAU_P, TAU_M, TAU_C = 1.0, 1.5, 20.0, 15.0, 1000.0


class Harness:
    """The state the plasticity system keeps, around the kernels, for 3 excitatory neurons."""

    def __init__(self, w0: float = 1.0, eta: float = 0.0, da: float = 0.0, da0: float = 0.0, w_max: float = 4.0):
        sources = np.array([[1, 2], [0, 2], [0, 1]])  # target t receives from the two others
        self.syn = Synapses.from_sources(sources, np.full(3, w0, np.float32), n_parts=2).editable()  # as plasticity
        m = self.syn.n_synapses
        self.elig = np.zeros(m, np.float32)
        self.x = np.zeros(3)
        self.nstate = np.zeros((3, NSTATE_COLUMNS))  # Psi at t0, D - D0, post trace, the newest entries
        self.nstate[:, DA_DEV] = da - da0
        self.nstate[:, list(PENDING_TIMES)] = -np.inf
        self.t_last = np.full(3, -np.inf)
        self.first = np.full(3, -1, np.int64)
        self.hist = np.zeros((3, 16, 3))
        self.hist_n = np.zeros(3, np.int64)
        self.eta, self.da0, self.w_max = eta, da0, w_max
        self.t_tr = self.t_ref = self.t_flush = 0.0

    def q(self, pre: int, post: int) -> int:
        """Position of synapse pre -> post in the store."""
        row = range(self.syn.indptr[pre], self.syn.indptr[pre + 1])
        return next(q for q in row if self.syn.targets[q] == post)

    def spikes(self, *events: tuple[float, int]) -> None:
        """Apply spikes given as (time [ms], neuron), as one block."""
        steps = np.array([round(t / DT) - 1 for t, _ in events], np.int64)
        neurons = np.array([n for _, n in events], np.int32)
        s = self.syn
        stdp_block(
            steps, neurons, DT, 3, s.bounds, s.indptr, s.split, s.targets, s.weights, self.elig, self.x, self.nstate,
            self.t_last, self.first, self.hist, self.hist_n, self.t_tr, self.t_ref, 0.0, self.t_flush, TAU_P, TAU_M,
            TAU_C, A_PLUS, A_MINUS, self.eta, self.w_max,
        )  # fmt: skip

    def flush(self, t: float) -> None:
        """Bring everything to time t, as the plasticity system's sweep does."""
        s = self.syn
        flush(
            s.indptr, s.split, s.targets, s.weights, self.elig, 3, self.x, self.t_last, self.hist,
            self.hist_n, self.nstate, t, self.t_ref, 0.0, self.t_flush, TAU_C, A_PLUS, self.eta, self.w_max,
        )  # fmt: skip
        self.hist_n[:] = 0
        self.nstate[:, list(PENDING_TIMES)] = -np.inf
        self.nstate[:, PSI0] = -self.nstate[:, DA_DEV] * TAU_C * math.expm1(t / TAU_C)  # no field step since t0 = 0
        self.x *= math.exp(-(t - self.t_tr) / TAU_P)
        self.nstate[:, Y_REF] *= math.exp(-(t - self.t_tr) / TAU_M)
        self.t_ref = self.t_flush = self.t_tr = t

    def rebase(self, t: float) -> None:
        """Re-reference the traces to t without a flush, as the plasticity system's rebase_traces does."""
        self.x *= math.exp(-(t - self.t_tr) / TAU_P)
        self.nstate[:, Y_REF] *= math.exp(-(t - self.t_tr) / TAU_M)
        scale_pending(self.hist, self.hist_n, self.nstate, math.exp((t - self.t_tr) / TAU_P))
        self.t_tr = t

    def c(self, pre: int, post: int, t: float) -> float:
        self.flush(t)
        return float(self.elig[self.q(pre, post)])

    def weights_at(self, t: float) -> np.ndarray:
        self.flush(t)
        return self.syn.weights.copy()


@pytest.mark.parametrize("lag_ms", [0.5, 1.0, 7.3, 20.0, 55.0])
def test_pre_before_post_potentiates_and_post_before_pre_depresses(lag_ms):
    h = Harness()
    t_pre = 10.0
    h.spikes((t_pre, 0), (t_pre + lag_ms, 1))
    t = t_pre + lag_ms
    assert h.c(0, 1, t) == pytest.approx(A_PLUS * math.exp(-lag_ms / TAU_P), rel=1e-6)  # float32 store
    assert h.c(1, 0, t) == pytest.approx(-A_MINUS * math.exp(-lag_ms / TAU_M), rel=1e-6)
    assert h.c(0, 2, t) == 0.0 and h.c(2, 1, t) == 0.0  # neuron 2 never fired


def test_pairs_across_blocks_with_equal_times_unpaired():
    # 0 fires at 5 and 30 ms, 1 at 12 ms, 2 at 30 ms (same time as 0: that pair does not count)
    h = Harness()
    h.spikes((5.0, 0))
    h.spikes((12.0, 1))
    h.spikes((30.0, 0), (30.0, 2))
    t = 30.0

    def ltp(lag: float, at: float) -> float:  # potentiation at time `at`, decayed to t
        return A_PLUS * math.exp(-lag / TAU_P) * math.exp(-(t - at) / TAU_C)

    def ltd(lag: float, at: float) -> float:
        return -A_MINUS * math.exp(-lag / TAU_M) * math.exp(-(t - at) / TAU_C)

    expected = {
        (0, 1): ltp(7.0, 12.0) + ltd(18.0, 30.0),
        (1, 0): ltd(7.0, 12.0) + ltp(18.0, 30.0),
        (0, 2): ltp(25.0, 30.0),
        (2, 0): ltd(25.0, 30.0),
        (1, 2): ltp(18.0, 30.0),
        (2, 1): ltd(18.0, 30.0),
    }
    for (pre, post), c in expected.items():
        assert h.c(pre, post, t) == pytest.approx(c, rel=1e-6), (pre, post)


def test_all_to_all_traces_add():
    h = Harness()
    h.spikes((10.0, 0), (14.0, 0), (20.0, 1))  # two pre spikes, one post spike, one block
    expected = A_PLUS * (math.exp(-10.0 / TAU_P) + math.exp(-6.0 / TAU_P))
    assert h.c(0, 1, 20.0) == pytest.approx(expected, rel=1e-6)


def test_eligibility_decays_with_tau_c():
    h = Harness()
    h.spikes((1.0, 0), (3.0, 1))
    c0 = h.c(0, 1, 3.0)
    for t in (3.0, 250.0, 1000.0, 3000.0):
        # float32 store, re-referenced at each read (a flush): ~1e-7 rounding per flush
        assert h.c(0, 1, t) == pytest.approx(c0 * math.exp(-(t - 3.0) / TAU_C), rel=1e-6)


def test_no_dopamine_deviation_means_no_weight_change():
    h = Harness(w0=1.0, eta=0.5, da=0.3, da0=0.3)
    h.spikes((1.0, 0), (3.0, 1), (9.0, 2))
    assert np.all(h.weights_at(2000.0) == np.float32(1.0))


@pytest.mark.parametrize(("da", "sign"), [(0.8, +1), (0.0, -1)])
def test_weight_follows_the_integral_of_eligibility_times_dopamine(da, sign):
    eta, da0 = 2e-3, 0.3
    h = Harness(w0=1.0, eta=eta, da=da, da0=da0)
    h.spikes((1.0, 0), (3.0, 1))
    c3 = h.c(0, 1, 3.0)
    for t in (100.0, 1000.0, 5000.0):
        # integral of c(s) (D - D0) from the jump at 3 ms on (D held since 0 ms)
        expected = 1.0 + eta * c3 * (da - da0) * TAU_C * (1.0 - math.exp(-(t - 3.0) / TAU_C))
        assert h.weights_at(t)[h.q(0, 1)] == pytest.approx(expected, rel=1e-5)
        assert np.sign(h.weights_at(t)[h.q(0, 1)] - 1.0) == sign


def test_re_referencing_the_traces_between_spikes_changes_nothing():
    # Post spikes of 1 (four: the two newest packed, two older in the history) and of 2 are still
    # pending (not yet collected by their synapses) when the traces are re-referenced at 50 ms
    # (factors of e^2.5 and e^3.3); the spikes after it collect them and read the post traces:
    # eligibility and weights as without the re-reference.
    plain, rebased = (Harness(eta=2e-3, da=0.8, da0=0.3) for _ in range(2))
    for h in (plain, rebased):
        h.spikes((1.0, 0), (3.0, 1), (4.0, 2), (6.0, 1), (9.0, 1), (12.0, 1))
    rebased.rebase(50.0)
    for h in (plain, rebased):
        h.spikes((60.0, 0), (61.0, 1), (75.0, 2))
    for pre, post in [(0, 1), (0, 2), (1, 0), (1, 2), (2, 0), (2, 1)]:
        assert rebased.c(pre, post, 100.0) == pytest.approx(plain.c(pre, post, 100.0), rel=1e-6)
    np.testing.assert_allclose(rebased.weights_at(500.0), plain.weights_at(500.0), rtol=1e-6)
    assert plain.c(0, 1, 500.0) != 0.0


def test_weights_never_leave_their_bounds():
    h = Harness(w0=1.0, eta=10.0, da=5.0, da0=0.0, w_max=2.0)
    h.spikes((1.0, 0), (3.0, 1))  # strong potentiation of 0->1, depression of 1->0
    w = h.weights_at(5000.0)
    assert w[h.q(0, 1)] == np.float32(2.0) and w[h.q(1, 0)] == np.float32(0.0)
    assert np.all((w >= 0.0) & (w <= 2.0))
