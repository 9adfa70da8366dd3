"""Analytical reference results the simulations are checked against.

- :mod:`~neuroabm.theory.siegert`: stationary rate of a white-noise-driven LIF neuron.
- :mod:`~neuroabm.theory.isi_cv`: the CV of its inter-spike intervals.
- :mod:`~neuroabm.theory.brunel`: mean-field rate of the Brunel (2000) E-I network (model A).
- :mod:`~neuroabm.theory.heat_kernel`: the periodic heat kernel (continuum and lattice) with decay.
- :mod:`~neuroabm.theory.first_passage`: inverse Gaussian first passage of a perfect integrator
  and the method-of-images occupation density.

All functions are pure; the formulas are in the project's REFERENCES (sections 1-3).
"""

from neuroabm.theory.brunel import brunel_input, brunel_rate, nu_threshold_hz
from neuroabm.theory.first_passage import (
    image_occupation_density,
    inverse_gaussian_cdf,
    inverse_gaussian_cv,
    inverse_gaussian_mean,
    inverse_gaussian_pdf,
)
from neuroabm.theory.heat_kernel import lattice_heat_kernel, periodic_heat_kernel
from neuroabm.theory.isi_cv import isi_cv
from neuroabm.theory.siegert import siegert_mean_isi_ms, siegert_rate

__all__ = [
    "brunel_input",
    "brunel_rate",
    "image_occupation_density",
    "inverse_gaussian_cdf",
    "inverse_gaussian_cv",
    "inverse_gaussian_mean",
    "inverse_gaussian_pdf",
    "isi_cv",
    "lattice_heat_kernel",
    "nu_threshold_hz",
    "periodic_heat_kernel",
    "siegert_mean_isi_ms",
    "siegert_rate",
]
