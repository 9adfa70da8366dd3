"""Analytical reference results the simulations are checked against.

- :mod:`~neuroabm.theory.siegert`: stationary rate of a white-noise-driven LIF neuron.
- :mod:`~neuroabm.theory.isi_cv`: the CV of its inter-spike intervals.
- :mod:`~neuroabm.theory.brunel`: mean-field rate of the Brunel (2000) E-I network (model A).
- :mod:`~neuroabm.theory.brunel_stability`: linear stability of its asynchronous state, the LIF rate
  response at complex frequency and the Hopf lines of Brunel (2000) Fig. 2.
- :mod:`~neuroabm.theory.heat_kernel`: the periodic heat kernel (continuum and lattice) with decay.
- :mod:`~neuroabm.theory.first_passage`: inverse Gaussian first passage of a perfect integrator
  and the method-of-images occupation density.
- :mod:`~neuroabm.theory.branching_process`: Galton-Watson and driven branching processes with
  their exact size, duration and mean-size laws (the avalanche reference, section 6).
- :mod:`~neuroabm.theory.fokker_planck`: numerical Fokker–Planck first passage of the LIF (or
  perfect integrator) with white noise: F(t), S(t), P(V, t) and the mean first-passage time.

All functions are pure; the formulas are in docs/REFERENCES.md §1–§3.
"""

from neuroabm.theory.branching_process import (
    avalanche_activity,
    borel_pmf,
    driven_branching_process,
    galton_watson_avalanches,
    gw_duration_pmf,
    gw_mean_size_given_duration,
    subsampled_regression_slope,
)
from neuroabm.theory.brunel import brunel_input, brunel_rate, nu_threshold_hz
from neuroabm.theory.brunel_stability import (
    ModelA,
    hopf_lines,
    nyquist_crossings,
    open_loop_gain,
    rate_transfer,
    stationary_state,
)
from neuroabm.theory.first_passage import (
    image_occupation_density,
    inverse_gaussian_cdf,
    inverse_gaussian_cv,
    inverse_gaussian_mean,
    inverse_gaussian_pdf,
)
from neuroabm.theory.fokker_planck import (
    FokkerPlanckSolution,
    fokker_planck_first_passage,
    fokker_planck_mean_fpt_ms,
)
from neuroabm.theory.heat_kernel import lattice_heat_kernel, periodic_heat_kernel
from neuroabm.theory.isi_cv import isi_cv
from neuroabm.theory.siegert import siegert_mean_isi_ms, siegert_rate

__all__ = [
    "FokkerPlanckSolution",
    "ModelA",
    "avalanche_activity",
    "borel_pmf",
    "brunel_input",
    "brunel_rate",
    "driven_branching_process",
    "fokker_planck_first_passage",
    "fokker_planck_mean_fpt_ms",
    "galton_watson_avalanches",
    "gw_duration_pmf",
    "gw_mean_size_given_duration",
    "hopf_lines",
    "image_occupation_density",
    "inverse_gaussian_cdf",
    "inverse_gaussian_cv",
    "inverse_gaussian_mean",
    "inverse_gaussian_pdf",
    "isi_cv",
    "lattice_heat_kernel",
    "nu_threshold_hz",
    "nyquist_crossings",
    "open_loop_gain",
    "periodic_heat_kernel",
    "rate_transfer",
    "siegert_mean_isi_ms",
    "siegert_rate",
    "stationary_state",
    "subsampled_regression_slope",
]
