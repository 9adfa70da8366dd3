"""Analyses of spike trains and runs: pure functions on arrays."""

from neuroabm.analysis.spike_stats import cv_isi, population_rate

__all__ = ["cv_isi", "population_rate"]
