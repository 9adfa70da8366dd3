"""The plasticity system of a model: dopamine-gated STDP on every synapse from an excitatory neuron.

State per plastic synapse (the first ``indptr[n_exc]`` synapses of the store, the rows of the
excitatory neurons): the weight (the store's own float32), the referenced eligibility ``C``
(float32) and ``psi_last`` (float32), plus the incoming index (int32 position and source) for
potentiation at post spikes: 14 bytes per plastic synapse on top of the store's 6.

Hooks (see :mod:`neuroabm.model.plasticity.stdp` for the rule and why it is exact):

- every block, before delivery, :meth:`on_block` applies the block's spikes in time order;
- every field step, before the neurons' dopamine is refreshed, :meth:`on_field_step` advances
  the per-neuron dopamine integrals ``Psi`` over the interval that just ended;
- every ``plasticity_period_ms`` (a Mesa event, priority LOW: after the neuron step and the field)
  :meth:`sweep` brings every weight up to date and re-references the eligibility, so stored
  numbers stay in range; readers (``model.synapse_weights()``, exports) call it first.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
from mesa.time import Priority, Schedule

from neuroabm.model.plasticity.stdp import incoming_index, stdp_block, sweep
from neuroabm.model.plasticity.structural import StructuralPlasticity

if TYPE_CHECKING:
    from neuroabm.model.model import NeuroModel

#: traces are re-referenced when they have grown by more than exp(this)
_TRACE_REBASE = 40.0
#: eligibility is re-referenced (a sweep) when it has grown by more than exp(this)
_ELIG_REBASE = 4.0
#: synapses per parallel chunk in the sweep
_SWEEP_CHUNK = 1 << 16


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
        self.refresh_incoming()
        self.elig = np.zeros(self.n_plastic, np.float32)  # C: eligibility referenced to t_ref
        self.psi_last = np.zeros(self.n_plastic, np.float32)
        self.x_ref = np.zeros(n)  # pre traces referenced to t_tr
        self.y_ref = np.zeros(n)  # post traces referenced to t_tr
        self.psi0 = np.zeros(n)  # Psi_j at t0 [uM ms], referenced to t_ref
        self._first = np.full(n, -1, np.int64)
        self.t_tr = self.t_ref = self.t0 = 0.0
        self.wall_s = 0.0
        model.schedule_recurring(
            self.sweep, Schedule(interval=float(p.plasticity_period_ms), start=float(p.plasticity_period_ms)),
            priority=Priority.LOW,
        )  # fmt: skip
        self.structure = StructuralPlasticity(model) if p.structural else None
        if self.structure is not None:
            every = float(p.struct_period_ms)
            model.schedule_recurring(self.structure.step, Schedule(interval=every, start=every), priority=Priority.LOW)

    def refresh_incoming(self) -> None:
        """Rebuild the incoming index of the plastic synapses (after the store's rows changed)."""
        syn, model = self.model.synapses, self.model
        self.in_ptr, self.in_syn, self.in_src = incoming_index(
            syn.indptr, syn.split[:, -1], syn.targets, model.n_exc, model.n_neurons
        )

    # ------------------------------------------------------------------------------- hooks
    def on_block(self, steps: np.ndarray, neurons: np.ndarray) -> None:
        """Apply a block's spikes (before they are delivered, so delivered weights are current)."""
        if steps.size == 0:
            return
        model, p, syn = self.model, self.model.params, self.model.synapses
        t_end = (int(steps.max()) + 1) * model.dt_ms
        if (t_end - self.t_tr) / min(p.tau_plus_ms, p.tau_minus_ms) > _TRACE_REBASE:
            self._rebase_traces(model.time)
        if (t_end - self.t_ref) / p.tau_c_ms > _ELIG_REBASE:
            self.sweep()
        stdp_block(
            steps, neurons, model.dt_ms, model.n_exc, syn.bounds, syn.indptr, syn.split, syn.targets, syn.weights,
            self.elig, self.psi_last, self.in_ptr, self.in_syn, self.in_src, self.x_ref, self.y_ref, self._first,
            self.psi0, model.dopamine.da_local, self.t_tr, self.t_ref, self.t0, p.tau_plus_ms, p.tau_minus_ms,
            p.tau_c_ms, p.a_plus, p.a_minus, p.eta_da, p.da_baseline_um, p.w_max_mv,
        )  # fmt: skip

    def on_field_step(self, t_ms: float) -> None:
        """Advance ``Psi`` to ``t_ms`` with the dopamine that held since the last field step."""
        p = self.model.params
        da = self.model.dopamine.da_local
        span = p.tau_c_ms * (
            math.exp(-(self.t0 - self.t_ref) / p.tau_c_ms) - math.exp(-(t_ms - self.t_ref) / p.tau_c_ms)
        )
        self.psi0 += (da - p.da_baseline_um) * span
        self.t0 = t_ms

    def sweep(self) -> None:
        """Bring every plastic weight up to the current time and re-reference eligibility and ``Psi``."""
        model, p = self.model, self.model.params
        t = float(model.time)
        da = model.dopamine.da_local
        tau = p.tau_c_ms
        sweep(
            model.synapses.targets[: self.n_plastic], model.synapses.weights, self.elig, self.psi_last, self.psi0,
            da, t, self.t_ref, self.t0, tau, p.eta_da, p.da_baseline_um, p.w_max_mv, _SWEEP_CHUNK,
        )  # fmt: skip
        # Psi re-referenced to t: Psi'(t) = 0, so Psi'(t0) = -(D - D0) tau (exp((t - t0) / tau) - 1)
        self.psi0[:] = -(da - p.da_baseline_um) * tau * math.expm1((t - self.t0) / tau)
        self.t_ref = t

    def _rebase_traces(self, t: float) -> None:
        p = self.model.params
        self.x_ref *= math.exp(-(t - self.t_tr) / p.tau_plus_ms)
        self.y_ref *= math.exp(-(t - self.t_tr) / p.tau_minus_ms)
        self.t_tr = t

    # ------------------------------------------------------------------------------ access
    def eligibility(self) -> np.ndarray:
        """Eligibility ``c`` of every plastic synapse at the current time (float64)."""
        return self.elig * math.exp(-(self.model.time - self.t_ref) / self.model.params.tau_c_ms)

    def traces(self) -> tuple[np.ndarray, np.ndarray]:
        """Pre and post traces ``(x, y)`` of every neuron at the current time."""
        p = self.model.params
        dt = self.model.time - self.t_tr
        return self.x_ref * math.exp(-dt / p.tau_plus_ms), self.y_ref * math.exp(-dt / p.tau_minus_ms)
