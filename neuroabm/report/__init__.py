"""Figures summarizing a run."""

from neuroabm.report.figure import plot_report, write_report

__all__ = ["plot_report", "write_report"]
