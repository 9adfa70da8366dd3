"""neuroabm: how a slow, diffusing neuromodulator reshapes a spiking network, as a Mesa model.

Quick start::

    from neuroabm import NeuroModel
    model = NeuroModel(n_exc=800, n_inh=200, k_exc=80, k_inh=20, g=5.0, eta=2.0, seed=1)
    model.run()
    t_ms, neuron = model.spikes()
"""

from neuroabm.config import ConfigError, Params, load_config, validate_params
from neuroabm.model import NeuroModel, Neuron, NeuronType

__version__ = "0.1.0"

__all__ = [
    "ConfigError",
    "NeuroModel",
    "Neuron",
    "NeuronType",
    "Params",
    "load_config",
    "validate_params",
]
