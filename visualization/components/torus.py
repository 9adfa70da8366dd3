"""Moved to :mod:`neuroabm.viz.components.torus` (the app ships with the package); re-exported here."""

from neuroabm.viz.components.torus import *  # noqa: F403
