"""The plasticity system of a model: dopamine-gated STDP on every synapse from an excitatory neuron.

State per plastic synapse (the excitatory rows of the store): the weight (the store's own
float32), the referenced eligibility ``C`` and ``psi_last`` (float32 each): 12 bytes on top of the
store's target index. Per neuron: the referenced traces, the last spike time, and the history of
its post spikes since the last flush (``HISTORY`` entries).

Hooks (see :mod:`neuroabm.model.plasticity.stdp` for the rule and why it is exact):

- every block, :meth:`on_block` applies the block's spikes in time order and delivers those of
  the plastic rows in the same pass (with the weights just brought up to date); the model then
  delivers the other rows;
- every field step, before the neurons' dopamine is refreshed, :meth:`on_field_step` advances
  the per-neuron dopamine integrals ``Psi`` over the interval that just ended;
- every ``plasticity_period_ms`` (a Mesa event, priority LOW: after the neuron step and the field),
  and whenever a history is about to fill, :meth:`sweep` flushes: it brings every weight and
  eligibility up to date and re-references the stored numbers. The flushes are part of the
  dynamics (float32 rounding happens where they happen), so readers never flush:
  :meth:`current_weights` and :meth:`eligibility` run the same computation on copies, and a run
  is the same whether or not, and how often, it is observed.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
from mesa.time import Priority, Schedule

from neuroabm.model.plasticity.stdp import flush, stdp_block
from neuroabm.model.plasticity.structural import StructuralPlasticity

if TYPE_CHECKING:
    from neuroabm.model.model import NeuroModel

#: post spikes per neuron kept between flushes (at least; a flush comes early when one would overflow)
HISTORY = 64
#: traces are re-referenced (a flush) when they have grown by more than exp(this)
_TRACE_REBASE = 40.0
#: eligibility is re-referenced (a sweep) when it has grown by more than exp(this)
_ELIG_REBASE = 4.0
#: columns of ``nstate`` holding the times of the three newest history entries
_TIMES = [3, 6, 7]


def _cache_aligned(shape: tuple[int, int]) -> np.ndarray:
    """A zeroed float64 array starting on a 64-byte boundary (rows of 8 or 16 columns: one or two lines)."""
    size = shape[0] * shape[1]
    raw = np.zeros(size + 8)
    offset = (-raw.ctypes.data % 64) // 8
    return raw[offset : offset + size].reshape(shape)


class PlasticitySystem:
    """Owns the STDP state of one model (three-factor rule, Izhikevich 2007)."""

    def __init__(self, model: NeuroModel) -> None:
        p = model.params
        if p.structural:  # spare room at the end of every excitatory row, for growth
            model.synapses = model.synapses.with_slack(model.n_exc, p.row_slack)
        syn = model.synapses
        self.model = model
        n = model.n_neurons
        self.n_plastic = int(syn.indptr[model.n_exc])  # storage slots of the excitatory rows
        syn.row_weight[: model.n_exc] = np.nan  # plastic rows: delivery reads per-synapse weights
        self.elig = np.zeros(self.n_plastic, np.float32)  # C: eligibility referenced to t_ref
        self.psi_last = np.zeros(self.n_plastic, np.float32)
        self.x_ref = np.zeros(n)  # pre traces referenced to t_tr
        self.t_last = np.full(n, -np.inf)  # last spike of every neuron [ms]
        # what a synapse reads of its target, packed in two cache lines: Psi_j at t0 [uM ms]
        # (referenced to t_ref), D_j - D0 [uM], the post trace referenced to t_tr, then the newest
        # history entry (t, e, e Psi), the times of the second and third newest, (e, e Psi) of the
        # second newest (see stdp_block)
        self.nstate = _cache_aligned((n, 16))
        self.nstate[:, _TIMES] = -np.inf
        self.psi0, self.y_ref = self.nstate[:, 0], self.nstate[:, 2]  # views
        self.refresh_dopamine()
        # at most one spike per refractory period + 1 step: spikes per neuron in one block
        self._per_block = -(-model.block_steps // (model.ref_steps + 1))
        self.history_len = max(HISTORY, 2 * self._per_block)  # a block always fits after a flush
        self.hist = np.zeros((n, self.history_len, 3))  # per post spike since the flush: (t, e, Psi)
        self.hist_n = np.zeros(n, np.int64)
        self._first = np.full(n, -1, np.int64)
        self.t_tr = self.t_ref = self.t0 = self.t_flush = 0.0
        self.n_flushes = 0
        self.wall_s = 0.0
        model.schedule_recurring(
            self.sweep, Schedule(interval=float(p.plasticity_period_ms), start=float(p.plasticity_period_ms)),
            priority=Priority.LOW,
        )  # fmt: skip
        self.structure = StructuralPlasticity(model) if p.structural else None
        if self.structure is not None:
            every = float(p.struct_period_ms)
            model.schedule_recurring(self.structure.step, Schedule(interval=every, start=every), priority=Priority.LOW)

    # ------------------------------------------------------------------------------- hooks
    def on_block(self, steps: np.ndarray, neurons: np.ndarray) -> None:
        """Apply a block's spikes and deliver those of the plastic rows with their weights just updated.

        The model then delivers only the other rows (see :func:`stdp_block`).
        """
        if steps.size == 0:
            return
        model, p, syn = self.model, self.model.params, self.model.synapses
        t_end = (int(steps.max()) + 1) * model.dt_ms
        if (
            int(self.hist_n.max()) + self._per_block > self.history_len
            or (t_end - self.t_tr) / min(p.tau_plus_ms, p.tau_minus_ms) > _TRACE_REBASE
            or (t_end - self.t_ref) / p.tau_c_ms > _ELIG_REBASE
        ):
            self.sweep()
        stdp_block(
            steps, neurons, model.dt_ms, model.n_exc, syn.bounds, syn.indptr, syn.split, syn.targets, syn.weights,
            self.elig, self.psi_last, self.x_ref, self.nstate, self.t_last, self._first, self.hist, self.hist_n,
            self.t_tr, self.t_ref, self.t0,
            self.t_flush, p.tau_plus_ms, p.tau_minus_ms, p.tau_c_ms, p.a_plus, p.a_minus, p.eta_da, p.w_max_mv,
            model.ring, model.delay_steps,
        )  # fmt: skip

    def on_field_step(self, t_ms: float) -> None:
        """Advance ``Psi`` to ``t_ms`` with the dopamine that held since the last field step."""
        tau = self.model.params.tau_c_ms
        span = tau * (math.exp(-(self.t0 - self.t_ref) / tau) - math.exp(-(t_ms - self.t_ref) / tau))
        self.psi0 += self.nstate[:, 1] * span
        self.t0 = t_ms

    def refresh_dopamine(self) -> None:
        """Copy the neurons' new dopamine (after a field step) into the packed state, as ``D - D0``."""
        np.subtract(self.model.dopamine.da_local, self.model.params.da_baseline_um, out=self.nstate[:, 1])

    def sweep(self) -> None:
        """Flush: every plastic weight and eligibility up to now; re-reference traces, eligibility, ``Psi``."""
        model, p = self.model, self.model.params
        t = float(model.time)
        tau = p.tau_c_ms
        syn = model.synapses
        flush(
            syn.indptr, syn.split, syn.targets, syn.weights, self.elig, self.psi_last, model.n_exc, self.x_ref,
            self.t_last, self.hist, self.hist_n, self.nstate, t, self.t_ref, self.t0, self.t_flush, tau, p.a_plus,
            p.eta_da, p.w_max_mv,
        )  # fmt: skip
        self.hist_n[:] = 0
        self.nstate[:, _TIMES] = -np.inf
        # Psi re-referenced to t: Psi'(t) = 0, so Psi'(t0) = -(D - D0) tau (exp((t - t0) / tau) - 1)
        self.psi0[:] = -self.nstate[:, 1] * tau * math.expm1((t - self.t0) / tau)
        self.t_ref = self.t_flush = t
        self.x_ref *= math.exp(-(t - self.t_tr) / p.tau_plus_ms)
        self.y_ref *= math.exp(-(t - self.t_tr) / p.tau_minus_ms)
        self.t_tr = t
        self.n_flushes += 1

    # ------------------------------------------------------------------------------ access
    def _flushed_copies(self) -> tuple[np.ndarray, np.ndarray]:
        """``(weights, eligibility)`` as a flush now would leave them, computed on copies (no side effect)."""
        model, p = self.model, self.model.params
        syn = model.synapses
        weights, elig, psi_last = syn.weights.copy(), self.elig.copy(), self.psi_last.copy()
        flush(
            syn.indptr, syn.split, syn.targets, weights, elig, psi_last, model.n_exc, self.x_ref, self.t_last,
            self.hist, self.hist_n, self.nstate, float(model.time), self.t_ref, self.t0, self.t_flush, p.tau_c_ms,
            p.a_plus, p.eta_da, p.w_max_mv,
        )  # fmt: skip
        return weights, elig

    def current_weights(self) -> np.ndarray:
        """Weight of every synapse slot now [mV] (a copy; the model's state is not touched)."""
        return self._flushed_copies()[0]

    def eligibility(self) -> np.ndarray:
        """Eligibility ``c`` of every plastic synapse slot now (a copy; the model's state is not touched)."""
        return self._flushed_copies()[1].astype(np.float64)

    def traces(self) -> tuple[np.ndarray, np.ndarray]:
        """Pre and post traces ``(x, y)`` of every neuron at the current time."""
        p = self.model.params
        dt = self.model.time - self.t_tr
        return self.x_ref * math.exp(-dt / p.tau_plus_ms), self.y_ref * math.exp(-dt / p.tau_minus_ms)
