"""Synaptic plasticity: dopamine-gated STDP (three-factor rule) on excitatory synapses."""

from neuroabm.model.plasticity.system import PlasticitySystem

__all__ = ["PlasticitySystem"]
