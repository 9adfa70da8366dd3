"""Moved to :mod:`neuroabm.viz.components.figure` (the app ships with the package); re-exported here."""

from neuroabm.viz.components.figure import *  # noqa: F403
