"""Moved to :mod:`neuroabm.viz.components.graphs` (the app ships with the package); re-exported here."""

from neuroabm.viz.components.graphs import *  # noqa: F403
