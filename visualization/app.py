"""The browser app, kept here for ``solara run visualization/app.py``: it lives in :mod:`neuroabm.viz.app`.

``neuroabm viz`` serves the packaged app directly; this file only re-exports it, so the two are
the same app (one ``Page``, one ``Layout``).
"""

from __future__ import annotations

import sys
from pathlib import Path

_REPO = str(Path(__file__).resolve().parents[1])
if _REPO not in sys.path:  # `solara run visualization/app.py` puts only visualization/ on the path
    sys.path.insert(0, _REPO)

from neuroabm.viz.app import MS_PER_STEP_CLICK, PLAY_INTERVAL_MS, Layout, Page, Views  # noqa: E402

__all__ = ["MS_PER_STEP_CLICK", "PLAY_INTERVAL_MS", "Layout", "Page", "Views"]
