"""Moved to :mod:`neuroabm.viz.components.controls` (the app ships with the package); re-exported here."""

from neuroabm.viz.components.controls import *  # noqa: F403
