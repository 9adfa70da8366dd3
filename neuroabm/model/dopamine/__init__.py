"""Dopamine: a diffusing, decaying concentration field on the torus, read by the neurons.

- :class:`~neuroabm.model.dopamine.field.DopamineField`: ``dD/dt = kappa Laplacian(D) - D / tau``
  on a periodic grid, advanced exactly (lattice or spectral operator), with bilinear point releases.
- :class:`~neuroabm.model.dopamine.field.BilinearSampler`: bilinear reads at fixed positions.
"""

from neuroabm.model.dopamine.field import BilinearSampler, DopamineField

__all__ = ["BilinearSampler", "DopamineField"]
