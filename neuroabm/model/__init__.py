"""The model layer: agents, space, synapses, kernels and the Mesa model that ties them."""

from neuroabm.model.agents import Neuron, NeuronType
from neuroabm.model.model import NeuroModel
from neuroabm.model.synapses import Synapses

__all__ = ["NeuroModel", "Neuron", "NeuronType", "Synapses"]
