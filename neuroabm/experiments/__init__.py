"""Reproductions of published experiments, runnable as modules (``python -m neuroabm.experiments.<name>``)."""
