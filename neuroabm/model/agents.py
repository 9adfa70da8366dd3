"""Mesa agents of the network. Agents are thin views: an index into the model's arrays.

Reading ``neuron.v_mv`` reads ``model.v[neuron.index]``; writing it writes the array. No state is
stored on the agent, so the numba kernels and the agents always agree.
"""

from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING

import numpy as np
from mesa.experimental.continuous_space import ContinuousSpaceAgent

from neuroabm.model.layout import target_dtype

if TYPE_CHECKING:
    from neuroabm.model.model import NeuroModel


class NeuronType(Enum):
    """Neuron type; the value is the one-letter code used in output tables."""

    EXCITATORY = "E"
    INHIBITORY = "I"


class Neuron(ContinuousSpaceAgent):
    """A neuron on the torus: a view onto row ``index`` of the model's state arrays."""

    model: NeuroModel

    def __init__(self, model: NeuroModel, index: int, kind: NeuronType) -> None:
        """Create the view; the model places it and owns all of its state."""
        super().__init__(model.space, model)
        self.index = index
        self.kind = kind

    def __repr__(self) -> str:
        return f"Neuron({self.index}, {self.kind.value}, V={self.v_mv:.2f} mV)"

    @property
    def is_excitatory(self) -> bool:
        """True for excitatory neurons."""
        return self.kind is NeuronType.EXCITATORY

    @property
    def v_mv(self) -> float:
        """Membrane potential [mV] (rest is 0 mV)."""
        return float(self.model.v[self.index])

    @v_mv.setter
    def v_mv(self, value: float) -> None:
        self.model.v[self.index] = value

    @property
    def dopamine(self) -> float:
        """Local dopamine concentration [uM], as of the last field step (0 without dopamine)."""
        system = self.model.dopamine
        return float(system.da_local[self.index]) if system is not None else 0.0

    @property
    def refractory_ms(self) -> float:
        """Remaining absolute refractory time [ms]."""
        return float(self.model.refr[self.index]) * self.model.dt_ms

    @property
    def last_spike_ms(self) -> float:
        """Time of the last spike [ms]; NaN if the neuron has not fired."""
        k = self.model.last_spike_step[self.index]
        return float((k + 1) * self.model.dt_ms) if k >= 0 else float("nan")

    @property
    def spike_count(self) -> int:
        """Number of spikes since the start."""
        return int(self.model.spike_count[self.index])

    @property
    def rate_hz(self) -> float:
        """Mean firing rate since the start [Hz]."""
        return self.spike_count / (self.model.time / 1000.0) if self.model.time > 0 else 0.0

    @property
    def in_degree(self) -> int:
        """Number of incoming synapses."""
        return int(self.model.in_degree[self.index])

    @property
    def out_degree(self) -> int:
        """Number of outgoing synapses."""
        return int(self.model.synapses.indptr[self.index + 1] - self.model.synapses.indptr[self.index])

    @property
    def x_mm(self) -> float:
        """X position on the torus [mm]."""
        return float(self.position[0])

    @property
    def y_mm(self) -> float:
        """Y position on the torus [mm]."""
        return float(self.position[1])

    def incoming(self) -> np.ndarray:
        """Presynaptic neuron of each incoming synapse (scans all synapses: O(n_synapses))."""
        src, tgt, _ = self.model.synapses.edges()
        return src[tgt == self.index].astype(np.int32)

    def outgoing(self) -> np.ndarray:
        """Postsynaptic neuron of each outgoing synapse."""
        syn = self.model.synapses
        return syn.row_targets(self.index).astype(target_dtype(syn.n_neurons))

    def step(self) -> None:
        """Neurons are advanced in bulk by the model's kernels, never one by one."""
        raise RuntimeError("neurons are stepped by NeuroModel's vectorized kernels, not per agent")
