"""Moved to :mod:`neuroabm.viz.components.raster` (the app ships with the package); re-exported here."""

from neuroabm.viz.components.raster import *  # noqa: F403
