"""Moved to :mod:`neuroabm.viz.components.layout` (the app ships with the package); re-exported here."""

from neuroabm.viz.components.layout import *  # noqa: F403
