"""Moved to :mod:`neuroabm.viz.components.live` (the app ships with the package); re-exported here."""

from neuroabm.viz.components.live import *  # noqa: F403
