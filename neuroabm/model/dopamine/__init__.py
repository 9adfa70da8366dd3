"""Dopamine: a diffusing, decaying concentration field on the torus, read by the neurons.

- :class:`~neuroabm.model.dopamine.field.DopamineField`: ``dD/dt = kappa Laplacian(D) - D / tau``
  on a periodic grid, advanced exactly (lattice or spectral operator), with bilinear point releases.
- :class:`~neuroabm.model.dopamine.sampler.BilinearSampler`: bilinear reads at fixed positions.
- ``grid`` (the periodic grid's cells), ``lattice`` (the exact lattice step's taps and kernel),
  ``sites`` and ``rewards`` (release sites and cues), ``system`` (all of it, inside a model).
"""

from neuroabm.model.dopamine.field import BilinearSampler, DopamineField

__all__ = ["BilinearSampler", "DopamineField"]
