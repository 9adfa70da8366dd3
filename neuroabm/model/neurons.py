"""Neuron models: what a model of the membrane gives :class:`~neuroabm.model.model.NeuroModel`.

A neuron model owns three things, and the network around it (synapses, delays, drives, dopamine,
plasticity, recorders) sees none of its insides:

- its **state**: ``init_state`` puts the arrays on the model (``model.v`` [mV] and ``model.refr``
  for every model, since recorders and agents read them; extra ones such as Izhikevich's recovery
  variable ``model.u``), drawing from ``model.rng`` in a fixed order;
- its **parameters** in ``config/params.py`` (section ``[neuron]``; selected by ``neuron_model``)
  and their cross-checks in ``config/cross_checks.py``;
- its **block kernel**, bound by name with :class:`~neuroabm.model.kernel_call.KernelCall` by
  ``bind``, which returns a caller ``f(serial, k0, n_steps)``. The kernel advances every neuron
  through steps ``k0 .. k0 + n_steps - 1``, reading and clearing the ring's delayed input, and
  writes its spikes into the model's per-chunk buffers (``model._spk_neuron``, ``_spk_step``,
  ``_chunk_n``; at most ``model.spikes_per_block`` per neuron and block) and the spike statistics
  (``spike_count``, ``last_spike_step``, ``isi_sum``, ``isi_sq``). Everything after the kernel
  (gathering, delivery, STDP, recorders) is shared.

``init_state`` runs in ``NeuroModel._setup_neurons``, ``bind`` in ``NeuroModel._bind_kernels``
(after the drive, the dopamine system and the spike buffers exist). The how-to is in
docs/ARCHITECTURE.md, "How to add a neuron model".
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from neuroabm.config.params import Params
from neuroabm.model.kernel_call import KernelCall

if TYPE_CHECKING:
    from neuroabm.model.model import NeuroModel

#: a bound block kernel: ``f(serial, k0, n_steps)``
BlockCall = Callable[[bool, int, int], Any]


class NeuronModel:
    """Base of the neuron models (see the module doc); subclasses set ``name`` and both methods."""

    name: ClassVar[str] = ""

    def init_state(self, model: NeuroModel, p: Params) -> None:
        """Create the state arrays on ``model`` (``v``, ``refr`` and any of the model's own)."""
        raise NotImplementedError

    def bind(self, model: NeuroModel, p: Params) -> BlockCall:
        """The block kernel with every fixed argument bound by name."""
        raise NotImplementedError


class LIF(NeuronModel):
    """Brunel (2000) model A: exact integration, threshold, reset, refractory clamp (``integrate_block``)."""

    name = "lif"

    def init_state(self, model: NeuroModel, p: Params) -> None:
        """``v`` uniform in ``[v_reset_mv, v_th_mv)``, all at the reset or all at rest (``v_init``)."""
        n = model.n_neurons
        if p.v_init == "uniform":
            model.v = model.rng.uniform(p.v_reset_mv, p.v_th_mv, n)
        else:
            model.v = np.full(n, p.v_reset_mv if p.v_init == "reset" else 0.0)
        model.refr = np.zeros(n, np.int32)

    def bind(self, model: NeuroModel, p: Params) -> BlockCall:
        """``integrate_block`` (:mod:`neuroabm.model.kernels`), arithmetic unchanged."""
        from neuroabm.model.kernels import integrate_block, integrate_block_serial

        m = model
        bias, bias_scale = m.dopamine.bias() if m.dopamine is not None else (None, 0.0)
        return KernelCall(
            integrate_block, integrate_block_serial,
            v=m.v, refr=m.refr, ring=m.ring, decay=m.decay, drift=m.drift,
            noise_sd=m.noise_sd if m.noise_sd > 0 else None, v_th=p.v_th_mv, v_reset=p.v_reset_mv,
            reset_subtract=p.reset == "subtract", n_ref=m.ref_steps, j_ext=p.j_mv,
            upper=m.poisson_upper if m.poisson_on else None, guide=m.poisson_guide,
            bias=bias, bias_scale=bias_scale, key=m.key, chunk_lo=m.chunk_lo, cap=m.spikes_per_block,
            spk_neuron=m._spk_neuron, spk_step=m._spk_step, chunk_n=m._chunk_n,
            spike_count=m.spike_count, last_spike=m.last_spike_step, isi_sum=m.isi_sum, isi_sq=m.isi_sq,
        ).positional("k0", "n_steps")  # fmt: skip


def izh_substeps(p: Params) -> int:
    """Sub-steps per engine step: the fewest that keep them at most ``izh_substep_ms`` long."""
    return max(1, math.ceil(p.dt_ms / p.izh_substep_ms - 1e-9))


def izhikevich_table(p: Params) -> np.ndarray:
    """Per-population ``(a, b, c, d, exp(-a h / 2))`` (``h`` the sub-step): row 0 excitatory, row 1 inhibitory."""
    rows = [(p.izh_a_exc, p.izh_b_exc, p.izh_c_exc, p.izh_d_exc), (p.izh_a_inh, p.izh_b_inh, p.izh_c_inh, p.izh_d_inh)]
    h = p.dt_ms / izh_substeps(p)
    return np.array([(a, b, c, d, math.exp(-a * h / 2.0)) for a, b, c, d in rows])


class Izhikevich(NeuronModel):
    """Izhikevich (2003) neurons, per-population ``a, b, c, d`` (``izhikevich_block``).

    State: ``v`` [mV] and the recovery variable ``u`` [mV], starting at ``v = c``, ``u = b c`` (the
    2007 code's ``v = -65``, ``u = 0.2 v``); ``refr`` stays zero (the reset replaces a refractory
    clamp). Currents [mV/ms]: ``i_ext_mv_per_ms`` with ``drive = "current"``, and dopamine's
    ``da_excitability_mv x D / tau_m_ms`` (the current that shifts a LIF neuron's steady state by
    ``da_excitability_mv`` per uM).
    """

    name = "izhikevich"

    def init_state(self, model: NeuroModel, p: Params) -> None:
        """``v = c`` and ``u = b c`` of each neuron's population."""
        table = izhikevich_table(p)
        row = (~model.is_exc).astype(np.int64)
        model.v = table[row, 2].copy()
        model.u = table[row, 1] * model.v
        model.refr = np.zeros(model.n_neurons, np.int32)

    def bind(self, model: NeuroModel, p: Params) -> BlockCall:
        """``izhikevich_block`` (:mod:`neuroabm.model.izhikevich_kernel`)."""
        from neuroabm.model.izhikevich_kernel import izhikevich_block, izhikevich_block_serial

        m = model
        bias = m.dopamine.da_local if m.dopamine is not None and p.da_excitability_mv != 0.0 else None
        return KernelCall(
            izhikevich_block, izhikevich_block_serial,
            v=m.v, u=m.u, ring=m.ring, h=p.dt_ms, n_sub=izh_substeps(p), n_exc=m.n_exc, pop=izhikevich_table(p),
            i_ext=p.i_ext_mv_per_ms if p.drive == "current" else 0.0, j_ext=p.j_mv,
            upper=m.poisson_upper if m.poisson_on else None, guide=m.poisson_guide,
            bias=bias, bias_scale=p.da_excitability_mv / p.tau_m_ms, key=m.key, chunk_lo=m.chunk_lo,
            cap=m.spikes_per_block, spk_neuron=m._spk_neuron, spk_step=m._spk_step, chunk_n=m._chunk_n,
            spike_count=m.spike_count, last_spike=m.last_spike_step, isi_sum=m.isi_sum, isi_sq=m.isi_sq,
        ).positional("k0", "n_steps")  # fmt: skip


#: the models by their ``neuron_model`` name
NEURON_MODELS: dict[str, type[NeuronModel]] = {cls.name: cls for cls in (LIF, Izhikevich)}


def neuron_model(name: str) -> NeuronModel:
    """The neuron model called ``name`` (``neuron_model`` parameter)."""
    return NEURON_MODELS[name]()


__all__ = ["LIF", "NEURON_MODELS", "BlockCall", "Izhikevich", "NeuronModel", "izhikevich_table", "neuron_model"]
