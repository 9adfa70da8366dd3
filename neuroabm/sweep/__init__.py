"""Parameter sweeps on Dask: sweep files, point keys, resumable execution, regimes and phase figures.

``run_sweep(sweep_file, out)`` is what ``neuroabm sweep`` does (see :mod:`neuroabm.sweep.runner`).
The regime measures (:mod:`neuroabm.sweep.regimes`) are pure functions usable on any spike data.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from neuroabm._lazy import lazy_exports

#: public name -> module that defines it (imported on first access: Dask loads only when a sweep runs)
_LAZY = {
    "SweepError": "neuroabm.sweep.spec",
    "SweepSpec": "neuroabm.sweep.spec",
    "load_sweep": "neuroabm.sweep.spec",
    "Point": "neuroabm.sweep.expand",
    "expand": "neuroabm.sweep.expand",
    "point_key": "neuroabm.sweep.expand",
    "REGIMES": "neuroabm.sweep.regimes",
    "RegimeCriteria": "neuroabm.sweep.regimes",
    "analyze_spikes": "neuroabm.sweep.regimes",
    "classify_rate_series": "neuroabm.sweep.regimes",
    "classify_regime": "neuroabm.sweep.regimes",
    "TIMING_COLUMNS": "neuroabm.sweep.results",
    "run_sweep": "neuroabm.sweep.runner",
}

__all__ = [
    "REGIMES",
    "TIMING_COLUMNS",
    "Point",
    "RegimeCriteria",
    "SweepError",
    "SweepSpec",
    "analyze_spikes",
    "classify_rate_series",
    "classify_regime",
    "expand",
    "load_sweep",
    "point_key",
    "run_sweep",
]

if TYPE_CHECKING:
    from neuroabm.sweep.expand import Point, expand, point_key
    from neuroabm.sweep.regimes import (
        REGIMES,
        RegimeCriteria,
        analyze_spikes,
        classify_rate_series,
        classify_regime,
    )
    from neuroabm.sweep.results import TIMING_COLUMNS
    from neuroabm.sweep.runner import run_sweep
    from neuroabm.sweep.spec import SweepError, SweepSpec, load_sweep


__getattr__, __dir__ = lazy_exports(__name__, _LAZY)
