"""Analyses of spike trains and runs: pure functions on arrays."""

from neuroabm.analysis.avalanches import (
    Avalanches,
    analyze_avalanches,
    avalanches_from_counts,
    binned_counts,
    find_avalanches,
    mean_interevent_interval_ms,
)
from neuroabm.analysis.branching import (
    MRResult,
    branching_ratio_conventional,
    branching_ratio_mr,
    subsample_neurons,
)
from neuroabm.analysis.first_passage import (
    OccupationHistogram,
    first_passage_density,
    first_passage_times,
    occupation_density,
)
from neuroabm.analysis.power_laws import PowerLawFit, crackling_relation, fit_power_law, size_duration_exponent
from neuroabm.analysis.spike_stats import cv_isi, population_rate

__all__ = [
    "Avalanches",
    "MRResult",
    "OccupationHistogram",
    "PowerLawFit",
    "analyze_avalanches",
    "avalanches_from_counts",
    "binned_counts",
    "branching_ratio_conventional",
    "branching_ratio_mr",
    "crackling_relation",
    "cv_isi",
    "find_avalanches",
    "first_passage_density",
    "first_passage_times",
    "fit_power_law",
    "mean_interevent_interval_ms",
    "occupation_density",
    "population_rate",
    "size_duration_exponent",
    "subsample_neurons",
]
