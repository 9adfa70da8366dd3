"""The plasticity system of a model: dopamine-gated STDP on every synapse from an excitatory neuron.

State per plastic synapse (the excitatory rows of the store): the store's float32 weight slot,
holding ``u = w - eta_da C Psi_last`` between flushes (the weight itself right after one), and the
referenced eligibility ``C`` (float32): 8 bytes on top of the store's target index. Per neuron:
the referenced traces, the last spike time, and the history of its post spikes since the last
flush (``HISTORY`` entries).

Hooks (see :mod:`neuroabm.model.plasticity.stdp` for the rule and why it is exact):

- every block, :meth:`on_block` applies the block's spikes in time order and delivers those of
  the plastic rows in the same pass (with the weights just brought up to date); the model then
  delivers the other rows;
- at the end of every field step, :meth:`after_field_step` advances the per-neuron dopamine
  integrals ``Psi`` over the interval that just ended (with the dopamine that held in it), then
  takes the neurons' new dopamine (one numba pass over the packed state);
- every ``plasticity_period_ms`` (a Mesa event, priority LOW: after the neuron step and the field),
  and whenever a history is about to fill, :meth:`sweep` flushes: it brings every weight and
  eligibility up to date and re-references the stored numbers (the periodic flush is followed by
  synaptic scaling when ``scaling_tau_ms > 0``: :mod:`neuroabm.model.plasticity.scaling`). The flushes are part of the
  dynamics (float32 rounding happens where they happen), so readers never flush:
  :meth:`current_weights` and :meth:`eligibility` run the same computation on copies, and a run
  is the same whether or not, and how often, it is observed.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
from mesa.time import Priority, Schedule

from neuroabm.model.kernel_call import KernelCall
from neuroabm.model.plasticity.scaling import SynapticScaling
from neuroabm.model.plasticity.stdp import (
    DA_DEV,
    NSTATE_COLUMNS,
    PENDING_FACTORS,
    PENDING_TIMES,
    PSI0,
    Y_REF,
    advance_psi,
    flush,
    scale_pending,
    stdp_block,
)
from neuroabm.model.plasticity.structural import StructuralPlasticity
from neuroabm.model.subsystem import Subsystem

if TYPE_CHECKING:
    from neuroabm.model.model import NeuroModel

#: post spikes per neuron kept between flushes (at least; a flush comes early when one would overflow)
HISTORY = 128
#: traces are re-referenced (per neuron, no synapse touched) when they have grown by more than exp(this)
_TRACE_REBASE = 40.0
#: a flush comes early when the pending entries' factors could have grown by more than exp(this)
_PENDING_LIMIT = 300.0
#: eligibility is re-referenced (a sweep) when it has grown by more than exp(this)
_ELIG_REBASE = 4.0
#: columns of ``nstate`` holding the pending entries' times and their factors (e, e Psi)
_TIMES = list(PENDING_TIMES)
_FACTORS = list(PENDING_FACTORS)


def _cache_aligned(shape: tuple[int, int]) -> np.ndarray:
    """A zeroed float64 array starting on a 64-byte boundary (rows of 8 or 16 columns: one or two lines)."""
    size = shape[0] * shape[1]
    raw = np.zeros(size + 8)
    offset = (-raw.ctypes.data % 64) // 8
    return raw[offset : offset + size].reshape(shape)


class PlasticitySystem(Subsystem):
    """Owns the STDP state of one model (three-factor rule, Izhikevich 2007)."""

    name = "plasticity"

    def __init__(self, model: NeuroModel) -> None:
        p = model.params
        model.synapses = model.synapses.editable()  # absolute targets, per-synapse weights
        if p.structural:  # spare room at the end of every excitatory row, for growth
            model.synapses = model.synapses.with_slack(model.n_exc, p.row_slack)
        syn = model.synapses
        self.model = model
        n = model.n_neurons
        self.n_plastic = int(syn.indptr[model.n_exc])  # storage slots of the excitatory rows
        syn.row_weight[: model.n_exc] = np.nan  # plastic rows: delivery reads per-synapse weights
        self.elig = np.zeros(self.n_plastic, np.float32)  # C: eligibility referenced to t_ref
        self.x_ref = np.zeros(n)  # pre traces referenced to t_tr
        self.t_last = np.full(n, -np.inf)  # last spike of every neuron [ms]
        # what a synapse reads of its target, packed in two cache lines: Psi_j at t0 [uM ms]
        # (referenced to t_ref), D_j - D0 [uM], the post trace referenced to t_tr, then the newest
        # history entry (t, e, e Psi), the times of the second and third newest, (e, e Psi) of the
        # second newest (see stdp_block)
        self.nstate = _cache_aligned((n, NSTATE_COLUMNS))
        self.nstate[:, _TIMES] = -np.inf
        self.psi0, self.y_ref = self.nstate[:, PSI0], self.nstate[:, Y_REF]  # views
        self.refresh_dopamine()
        # at most one spike per refractory period + 1 step: spikes per neuron in one block
        self._per_block = -(-model.block_steps // (model.ref_steps + 1))
        self.history_len = max(HISTORY, 2 * self._per_block)  # a block always fits after a flush
        self.hist = np.zeros((n, self.history_len, 3))  # per post spike since the flush: (t, e, Psi)
        self.hist_n = np.zeros(n, np.int64)
        self._first = np.full(n, -1, np.int64)
        self._elig_scratch: np.ndarray | None = None
        self.t_tr = self.t_ref = self.t0 = self.t_flush = 0.0
        # the kernels with their arguments bound by name (KernelCall); per call: the spikes, the store
        # (structural plasticity edits it), the eligibility and the reference times
        self._stdp_block = KernelCall(
            stdp_block, dt=model.dt_ms, n_exc=model.n_exc, x_ref=self.x_ref, nstate=self.nstate, t_last=self.t_last,
            first=self._first, hist=self.hist, hist_n=self.hist_n, tau_plus=p.tau_plus_ms, tau_minus=p.tau_minus_ms,
            tau_c=p.tau_c_ms, a_plus=p.a_plus, a_minus=p.a_minus, eta=p.eta_da, w_max=p.w_max_mv, ring=model.ring,
            delay_steps=model.delay_steps,
        )  # fmt: skip
        self._flush = KernelCall(
            flush, n_exc=model.n_exc, x_ref=self.x_ref, t_last=self.t_last, hist=self.hist, hist_n=self.hist_n,
            nstate=self.nstate, tau_c=p.tau_c_ms, a_plus=p.a_plus, eta=p.eta_da, w_max=p.w_max_mv,
        )  # fmt: skip
        self.n_flushes = 0
        self.wall_s = 0.0
        self.scaling = SynapticScaling(model) if p.scaling_tau_ms > 0 else None
        model.schedule_recurring(
            self.periodic, Schedule(interval=float(p.plasticity_period_ms), start=float(p.plasticity_period_ms)),
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
        # the block's start (model.time is already its end): its spikes all come after this time,
        # so a flush here leaves them pending, to be collected like any later spike
        t_start = model.k * model.dt_ms
        tau_min = min(p.tau_plus_ms, p.tau_minus_ms)
        if (
            int(self.hist_n.max()) + self._per_block > self.history_len
            or (t_end - self.t_ref) / p.tau_c_ms > _ELIG_REBASE
            or (t_end - self.t_flush) / tau_min > _PENDING_LIMIT
        ):
            self.sweep(t_start)
        elif (t_end - self.t_tr) / tau_min > _TRACE_REBASE:
            self.rebase_traces(t_start)
        self._stdp_block(
            steps=steps, neurons=neurons, bounds=syn.bounds, indptr=syn.indptr, split=syn.split,
            targets=syn.targets, weights=syn.weights, elig=self.elig, t_tr=self.t_tr, t_ref=self.t_ref, t0=self.t0,
            t_flush=self.t_flush,
        )  # fmt: skip

    def on_field_step(self, t_ms: float, refresh: bool = False) -> None:
        """Advance ``Psi`` to ``t_ms`` with the dopamine that held since the last field step.

        With ``refresh``, then take the neurons' dopamine now (after the field step) as ``D - D0``.
        """
        p = self.model.params
        tau = p.tau_c_ms
        span = tau * (math.exp(-(self.t0 - self.t_ref) / tau) - math.exp(-(t_ms - self.t_ref) / tau))
        da = self.model.dopamine.da_local if refresh else None
        advance_psi(self.nstate, span, da, p.da_baseline_um)
        self.t0 = t_ms

    def after_field_step(self) -> None:
        """Hook at the end of a field step (the field event's time): ``Psi`` to now, then the new dopamine."""
        self.on_field_step(float(self.model.time), refresh=True)

    def refresh_dopamine(self) -> None:
        """Copy the neurons' dopamine into the packed state, as ``D - D0`` (``Psi`` untouched)."""
        np.subtract(self.model.dopamine.da_local, self.model.params.da_baseline_um, out=self.nstate[:, DA_DEV])

    def periodic(self) -> None:
        """The ``plasticity_period_ms`` event: a flush, then synaptic scaling if it is on."""
        self.sweep()
        if self.scaling is not None:
            self.scaling.apply()

    def sweep(self, t: float | None = None) -> None:
        """Flush: every plastic weight and eligibility up to ``t``; re-reference traces, eligibility, ``Psi``.

        Args:
            t: the time to flush to [ms], no earlier than the last field step and after every spike
                applied so far (default: the model's time, between steps).

        """
        model, p = self.model, self.model.params
        t = float(model.time) if t is None else t
        tau = p.tau_c_ms
        syn = model.synapses
        self._flush(
            indptr=syn.indptr, split=syn.split, targets=syn.targets, weights=syn.weights, elig=self.elig,
            t=t, t_ref=self.t_ref, t0=self.t0, t_flush=self.t_flush,
        )  # fmt: skip
        self.hist_n[:] = 0
        self.nstate[:, _TIMES] = -np.inf
        self.nstate[:, _FACTORS] = 0.0  # no pending entry: the factors stay finite under rebase_traces
        # Psi re-referenced to t: Psi'(t) = 0, so Psi'(t0) = -(D - D0) tau (exp((t - t0) / tau) - 1)
        self.psi0[:] = -self.nstate[:, DA_DEV] * tau * math.expm1((t - self.t0) / tau)
        self.t_ref = self.t_flush = t
        self.rebase_traces(t)  # nothing is pending now: only the traces change
        self.n_flushes += 1

    def rebase_traces(self, t: float) -> None:
        """Re-reference the traces to ``t`` [ms] without touching a synapse.

        Only products ``X_i e_k`` (pre trace times a pending post spike's factor) and ``y_j``
        times ``exp(-(t - t_tr) / tau_minus)`` enter the rule, so scaling ``x_ref`` and ``y_ref``
        down and the pending entries' ``e_k``, ``e_k Psi_k`` up by the same factors changes
        nothing but the reference (and keeps every number far from overflow).
        """
        p = self.model.params
        self.x_ref *= math.exp(-(t - self.t_tr) / p.tau_plus_ms)
        self.y_ref *= math.exp(-(t - self.t_tr) / p.tau_minus_ms)
        scale_pending(self.hist, self.hist_n, self.nstate, math.exp((t - self.t_tr) / p.tau_plus_ms))
        self.t_tr = t

    # ------------------------------------------------------------------------------ access
    def _flushed_copies(self) -> tuple[np.ndarray, np.ndarray]:
        """``(weights, eligibility)`` as a flush now would leave them, computed on copies (no side effect)."""
        model = self.model
        syn = model.synapses
        weights = syn.weights.copy()
        if self._elig_scratch is None or self._elig_scratch.shape != self.elig.shape:
            self._elig_scratch = np.empty_like(self.elig)  # reused: a fresh 4 B/synapse array costs page faults
        elig = self._elig_scratch
        np.copyto(elig, self.elig)
        self._flush(
            indptr=syn.indptr, split=syn.split, targets=syn.targets, weights=weights, elig=elig,
            t=float(model.time), t_ref=self.t_ref, t0=self.t0, t_flush=self.t_flush,
        )  # fmt: skip
        return weights, elig

    def current_weights(self) -> np.ndarray:
        """Weight of every synapse slot now [mV] (a copy; the model's state is not touched)."""
        return self._flushed_copies()[0]

    def eligibility(self) -> np.ndarray:
        """Eligibility ``c`` of every plastic synapse slot now (a copy; the model's state is not touched)."""
        return self._flushed_copies()[1].astype(np.float64)
