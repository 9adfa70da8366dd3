"""The model layer: NeuroModel, its agents and its array state (imported on first use)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from neuroabm._lazy import lazy_exports

__all__ = ["NeuroModel", "Neuron", "NeuronType", "Synapses"]

_LAZY = {
    "Neuron": "neuroabm.model.agents",
    "NeuronType": "neuroabm.model.agents",
    "NeuroModel": "neuroabm.model.model",
    "Synapses": "neuroabm.model.synapses",
}

if TYPE_CHECKING:
    from neuroabm.model.agents import Neuron, NeuronType
    from neuroabm.model.model import NeuroModel
    from neuroabm.model.synapses import Synapses


__getattr__, __dir__ = lazy_exports(__name__, _LAZY)
