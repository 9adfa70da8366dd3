"""Moved to :mod:`neuroabm.viz.components.spike_window` (the app ships with the package); re-exported here."""

from neuroabm.viz.components.spike_window import *  # noqa: F403
