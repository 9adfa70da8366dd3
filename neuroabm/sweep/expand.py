"""Expanding a sweep into points, and the key that names each point.

A point is one run: the base configuration, the fixed overrides, one combination of the varied
values and one seed. Its key is a hash of its *resolved* configuration (every parameter after
validation, defaults included) and of the analysis settings, so the same run gets the same key
whichever sweep file, order or machine produced it; that is what makes resuming safe.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from neuroabm.config import ConfigError, Params, validate_params
from neuroabm.sweep.spec import AnalysisSpec, SampleSpec, SweepSpec

__all__ = ["Point", "expand", "point_key", "sample_values", "varied_combinations"]

#: hex digits of the sha256 kept in a point key (64 bits: collisions need ~4e9 points)
KEY_HEX = 16
#: parameters that change wall time only, never results: left out of the key
KEY_EXCLUDES = frozenset({"threads"})


@dataclass(frozen=True)
class Point:
    """One run of a sweep: its key, seed and varied values; ``error`` if the combination is refused."""

    key: str
    seed: int
    values: dict[str, Any]
    error: str = ""


def point_key(params: Params, analysis: AnalysisSpec | None = None) -> str:
    """Hash of a resolved configuration (and the analysis settings): ``KEY_HEX`` hex digits."""
    values = {k: v for k, v in params.model_dump().items() if k not in KEY_EXCLUDES}
    doc = {"params": values, "analysis": dataclasses.asdict(analysis) if analysis else None}
    text = json.dumps(doc, sort_keys=True, separators=(",", ":"), default=repr)
    return hashlib.sha256(text.encode()).hexdigest()[:KEY_HEX]


def sample_values(sample: SampleSpec) -> list[dict[str, float]]:
    """``sample.n`` points in the box of ``sample.ranges``: independent uniform draws or a Latin hypercube.

    The Latin hypercube (McKay et al. 1979) cuts every axis into ``n`` equal strata and puts exactly
    one point in each stratum of each axis, at a uniform position inside it.
    """
    rng = np.random.default_rng(sample.seed)
    names = list(sample.ranges)
    d, n = len(names), sample.n
    if sample.method == "lhs":
        unit = np.empty((n, d))
        for j in range(d):
            unit[:, j] = (rng.permutation(n) + rng.random(n)) / n
    else:
        unit = rng.random((n, d))
    lo = np.array([sample.ranges[k][0] for k in names])
    hi = np.array([sample.ranges[k][1] for k in names])
    box = lo + unit * (hi - lo)
    out = []
    for row in box:
        point: dict[str, float] = {}
        for name, x in zip(names, row, strict=True):
            is_int = Params.model_fields[name].annotation in (int, int | None)
            point[name] = round(float(x)) if is_int else float(x)
        out.append(point)
    return out


def varied_combinations(spec: SweepSpec) -> Iterator[dict[str, Any]]:
    """Every combination of the varied values: grid (crossed) x lists (zipped) x samples."""
    grid_names = list(spec.grid)
    grid = itertools.product(*spec.grid.values()) if grid_names else [()]
    zipped = list(zip(*spec.zipped.values(), strict=True)) if spec.zipped else [()]
    samples = sample_values(spec.sample) if spec.sample else [{}]
    for combo in grid:
        for row in zipped:
            for sample in samples:
                grid_values = dict(zip(grid_names, combo, strict=True))
                yield {**grid_values, **dict(zip(spec.zipped, row, strict=True)), **sample}


def expand(spec: SweepSpec) -> list[Point]:
    """All points of a sweep (combinations x seeds), each validated and keyed; duplicates dropped.

    A combination the configuration refuses (a relation between parameters, e.g. ``k_exc`` above
    ``n_exc - 1``) becomes a point with its one-line ``error`` and a key hashed from its raw values.
    """
    context = {**spec.base, **spec.fixed}
    points: dict[str, Point] = {}
    for values in varied_combinations(spec):
        for seed in spec.seeds:
            try:
                params = validate_params({**context, **values, "seed": seed})
            except ConfigError as exc:
                raw = json.dumps({**context, **values, "seed": seed}, sort_keys=True, default=repr)
                key = "x" + hashlib.sha256(raw.encode()).hexdigest()[: KEY_HEX - 1]
                points.setdefault(key, Point(key, seed, values, error=f"ConfigError: {exc}"))
                continue
            key = point_key(params, spec.analysis)
            points.setdefault(key, Point(key, seed, values))
    return list(points.values())
