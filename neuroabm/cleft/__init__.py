"""The synaptic cleft, molecule by molecule: transmitter diffusion, receptor binding and gating.

A layer of its own (docs/cleft.md): :mod:`params` (validated parameters), :mod:`geometry`,
:mod:`reactions` (Doi model), :mod:`kinetics` (AMPA scheme, mass action), :mod:`kernels`
(numba Brownian dynamics), :mod:`simulate`, :mod:`analysis` (F(r, t), P(r, t), summary),
:mod:`theory` (references for the tests), :mod:`quantal`, :mod:`report`, :mod:`runner`.
"""

from neuroabm.cleft.params import CleftParams, load_cleft_config, validate_cleft_params
from neuroabm.cleft.simulate import CleftResult, simulate

__all__ = ["CleftParams", "CleftResult", "load_cleft_config", "simulate", "validate_cleft_params"]
