"""neuroabm: how a slow, diffusing neuromodulator reshapes a spiking network, as a Mesa model.

Quick start::

    from neuroabm import NeuroModel
    model = NeuroModel(n_exc=800, n_inh=200, k_exc=80, k_inh=20, g=5.0, eta=2.0, seed=1)
    model.run()
    t_ms, neuron = model.spikes()

The engine (Mesa, numba) is imported on first use of :class:`NeuroModel`, so the command line
answers ``--help`` and refuses bad input without loading it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from neuroabm._lazy import lazy_exports
from neuroabm._spawn_guard import check_main_script
from neuroabm._threading_env import apply_defaults

apply_defaults()  # before numba starts its thread pool
check_main_script()  # a script that would hang in mesa.batch_run stops here, in one line

__version__ = "0.1.0"

#: public name -> module that defines it (imported on first access)
_LAZY = {
    "ConfigError": "neuroabm.config",
    "Params": "neuroabm.config",
    "load_config": "neuroabm.config",
    "validate_params": "neuroabm.config",
    "NeuroModel": "neuroabm.model",
    "Neuron": "neuroabm.model",
    "NeuronType": "neuroabm.model",
}

__all__ = [
    "ConfigError",
    "NeuroModel",
    "Neuron",
    "NeuronType",
    "Params",
    "load_config",
    "validate_params",
]

if TYPE_CHECKING:
    from neuroabm.config import ConfigError, Params, load_config, validate_params
    from neuroabm.model import NeuroModel, Neuron, NeuronType


__getattr__, __dir__ = lazy_exports(__name__, _LAZY)
