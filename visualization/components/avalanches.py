"""Moved to :mod:`neuroabm.viz.components.avalanches` (the app ships with the package); re-exported here."""

from neuroabm.viz.components.avalanches import *  # noqa: F403
