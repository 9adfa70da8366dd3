"""The sweep file: a base run configuration, fixed overrides, the parameters to vary and the seeds.

Minimal form (the public contract; everything else is optional)::

    base = "runs/brunel_ai.toml"   # relative to the sweep file, else to the working directory
    seeds = [1, 2]                 # or a count: seeds = 3 means [0, 1, 2]
    [set]                          # fixed overrides, flat parameter names
    duration_ms = 300
    [grid]                         # crossed: every combination
    g = [3.0, 5.0, 6.0]
    eta = {start = 0.5, stop = 2.0, step = 0.5}   # a range (stop included); or {start, stop, num}

Optional sections: ``[list]`` (equal-length lists varied together, zipped), ``[sample]`` (``n``,
``method = "random" | "lhs"``, ``seed``, and ``name = [low, high]`` per parameter), ``[analysis]``
(``transient_ms``, ``rate_bin_ms``, ``chi_bin_ms``, ``mr_bin_ms``), ``[regimes]`` (the thresholds of
:class:`neuroabm.sweep.regimes.RegimeCriteria`) and ``[plot]`` (``x``, ``y``,
``panels``: which fields ``phase.png`` maps). Every error is one line naming the field.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from neuroabm.config import ConfigError, Params, load_config, validate_params
from neuroabm.config.params import PARAM_NAMES, unknown_key_message
from neuroabm.sweep.regimes import RegimeCriteria

__all__ = ["AnalysisSpec", "PlotSpec", "SampleSpec", "SweepError", "SweepSpec", "load_sweep", "parse_sweep"]

TOP_KEYS = ("base", "seeds", "description", "set", "grid", "list", "sample", "analysis", "regimes", "plot")
#: most points a sweep file may expand to (a typo guard, not a limit of the engine)
MAX_POINTS = 1_000_000
DEFAULT_PANELS = ("rate_hz", "cv_isi", "chi", "freq_hz", "regime")


class SweepError(ConfigError):
    """A sweep file is unreadable, or one of its fields is unknown, of the wrong type or out of range."""


@dataclass(frozen=True)
class SampleSpec:
    """``n`` random or Latin-hypercube points in the box ``ranges`` (name -> (low, high))."""

    n: int
    method: str
    seed: int
    ranges: dict[str, tuple[float, float]]


@dataclass(frozen=True)
class AnalysisSpec:
    """How each point's spikes are reduced to the analysis fields (see :mod:`neuroabm.sweep.regimes`)."""

    transient_ms: float = 100.0
    rate_bin_ms: float = 0.5
    chi_bin_ms: float = 2.0
    #: bin of the branching ratio ``m_mr`` (multistep regression) of the population counts; 0 = not computed
    mr_bin_ms: float = 0.0


@dataclass(frozen=True)
class PlotSpec:
    """Axes and panels of ``phase.png``."""

    x: str
    y: str
    panels: tuple[str, ...] = DEFAULT_PANELS


@dataclass(frozen=True)
class SweepSpec:
    """A parsed, validated sweep file."""

    path: Path
    base_path: Path
    base: dict[str, Any]
    fixed: dict[str, Any]
    seeds: tuple[int, ...]
    grid: dict[str, tuple[Any, ...]] = field(default_factory=dict)
    zipped: dict[str, tuple[Any, ...]] = field(default_factory=dict)
    sample: SampleSpec | None = None
    analysis: AnalysisSpec = field(default_factory=AnalysisSpec)
    criteria: RegimeCriteria = field(default_factory=RegimeCriteria)
    plot: PlotSpec | None = None
    description: str = ""

    @property
    def varied(self) -> tuple[str, ...]:
        """Names of the varied parameters, in file order (grid, list, sample)."""
        names = [*self.grid, *self.zipped, *(self.sample.ranges if self.sample else ())]
        return tuple(dict.fromkeys(names))


def _fail(where: str, msg: str) -> SweepError:
    return SweepError(f"{where}: {msg}")


def _table(doc: dict[str, Any], name: str) -> dict[str, Any]:
    value = doc.get(name, {})
    if not isinstance(value, dict):
        raise _fail(name, f"expected a table [{name}], got {value!r}")
    return value


def _check_name(section: str, key: str) -> None:
    if key not in PARAM_NAMES:
        raise _fail(f"[{section}] {key}", unknown_key_message(key))


def _number(where: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise _fail(where, f"expected a finite number, got {value!r}")
    return float(value)


def _range_values(where: str, spec: dict[str, Any]) -> list[float]:
    """``{start, stop, step}`` (stop included when reached) or ``{start, stop, num}`` (linspace)."""
    extra = set(spec) - {"start", "stop", "step", "num"}
    if extra or "start" not in spec or "stop" not in spec or ("step" in spec) == ("num" in spec):
        raise _fail(where, f"a range needs start, stop and one of step or num, got {spec!r}")
    start, stop = _number(f"{where}.start", spec["start"]), _number(f"{where}.stop", spec["stop"])
    if "num" in spec:
        num = spec["num"]
        if isinstance(num, bool) or not isinstance(num, int) or num < 1:
            raise _fail(f"{where}.num", f"expected an integer >= 1, got {num!r}")
        if num == 1:
            return [start]
        return [round(start + i * (stop - start) / (num - 1), 12) for i in range(num)]
    step = _number(f"{where}.step", spec["step"])
    if step == 0 or (stop - start) / step < 0:
        raise _fail(f"{where}.step", f"must be non-zero and lead from start = {start:g} to stop = {stop:g}")
    count = math.floor((stop - start) / step + 1e-9) + 1
    if count > MAX_POINTS:
        raise _fail(where, f"{count} values exceed the limit of {MAX_POINTS}")
    return [round(start + i * step, 12) for i in range(count)]


def _values(where: str, value: Any) -> tuple[Any, ...]:
    if isinstance(value, dict):
        values: list[Any] = _range_values(where, value)
    elif isinstance(value, list) and value:
        values = value
    else:
        raise _fail(where, f"expected a non-empty list or a range table {{start, stop, step|num}}, got {value!r}")
    return tuple(values)


def _coerced(values: dict[str, Any]) -> dict[str, Any]:
    """TOML integers where the model takes floats, as :func:`validate_params` accepts them."""
    out = dict(values)
    for key, value in values.items():
        ann = Params.model_fields[key].annotation
        if ann is float and isinstance(value, int) and not isinstance(value, bool):
            out[key] = float(value)
    return out


def _check_value(where: str, name: str, value: Any, context: dict[str, Any]) -> Any:
    """Check one value of ``name`` against its own type and range; return it as the model takes it.

    Relations with other parameters (e.g. ``k_exc <= n_exc - 1``) are not checked here: they depend
    on the other varied values, so each point is validated on its own and recorded as failed.
    """
    try:
        return getattr(Params(**_coerced({**context, name: value})), name)
    except ValidationError:
        try:
            validate_params(context, **{name: value})
        except ConfigError as exc:
            raise _fail(where, str(exc)) from None
        raise _fail(where, f"invalid {name} = {value!r}") from None  # pragma: no cover


def _parse_seeds(doc: dict[str, Any], base: dict[str, Any]) -> tuple[int, ...]:
    seeds = doc.get("seeds")
    if seeds is None:
        if base.get("seed") is None:
            raise _fail("seeds", "required when the base configuration sets no seed (points must be reproducible)")
        return (int(base["seed"]),)
    if isinstance(seeds, int) and not isinstance(seeds, bool):
        if seeds < 1:
            raise _fail("seeds", f"a count must be >= 1, got {seeds}")
        return tuple(range(seeds))
    ok = isinstance(seeds, list) and seeds and all(isinstance(s, int) and not isinstance(s, bool) for s in seeds)
    if not ok or any(s < 0 for s in seeds) or len(set(seeds)) != len(seeds):
        raise _fail("seeds", f"expected a count or a list of distinct integers >= 0, got {seeds!r}")
    return tuple(seeds)


def _parse_sample(doc: dict[str, Any], context: dict[str, Any]) -> SampleSpec | None:
    table = _table(doc, "sample")
    if not table:
        return None
    n, method, seed = table.get("n"), table.get("method", "lhs"), table.get("seed", 0)
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= MAX_POINTS:
        raise _fail("[sample] n", f"expected an integer in 1 .. {MAX_POINTS}, got {n!r}")
    if method not in ("random", "lhs"):
        raise _fail("[sample] method", f"expected 'random' or 'lhs', got {method!r}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise _fail("[sample] seed", f"expected an integer >= 0, got {seed!r}")
    ranges: dict[str, tuple[float, float]] = {}
    for key, value in table.items():
        if key in ("n", "method", "seed"):
            continue
        where = f"[sample] {key}"
        _check_name("sample", key)
        if not (isinstance(value, list) and len(value) == 2):
            raise _fail(where, f"expected [low, high], got {value!r}")
        lo, hi = _number(where, value[0]), _number(where, value[1])
        if not lo < hi:
            raise _fail(where, f"expected low < high, got {value!r}")
        _check_value(where, key, lo, context)
        _check_value(where, key, hi, context)
        ranges[key] = (lo, hi)
    if not ranges:
        raise _fail("[sample]", "names no parameter range (name = [low, high])")
    return SampleSpec(n=n, method=method, seed=seed, ranges=ranges)


def _parse_numbers(doc: dict[str, Any], section: str, cls: Any, may_be_zero: tuple[str, ...]) -> Any:
    """A dataclass of non-negative numbers from table ``[section]`` (zero only where allowed)."""
    allowed = cls.__dataclass_fields__
    values = {}
    for key, value in _table(doc, section).items():
        if key not in allowed:
            raise _fail(f"[{section}] {key}", f"unknown key; allowed: {', '.join(allowed)}")
        x = _number(f"[{section}] {key}", value)
        zero_ok = key in may_be_zero
        if x < 0 or (x == 0 and not zero_ok):
            raise _fail(f"[{section}] {key}", f"expected a number {'>=' if zero_ok else '>'} 0, got {x:g}")
        values[key] = x
    return cls(**values)


def _parse_plot(doc: dict[str, Any], varied: tuple[str, ...]) -> PlotSpec | None:
    table = _table(doc, "plot")
    if not table:
        return PlotSpec(varied[0], varied[1]) if len(varied) == 2 else None
    for key in table:
        if key not in ("x", "y", "panels"):
            raise _fail(f"[plot] {key}", "unknown key; allowed: x, y, panels")
    x, y = table.get("x"), table.get("y")
    for where, name in (("[plot] x", x), ("[plot] y", y)):
        if name not in varied:
            raise _fail(where, f"expected one of the varied parameters {list(varied)}, got {name!r}")
    panels = table.get("panels", list(DEFAULT_PANELS))
    if not (isinstance(panels, list) and panels and all(isinstance(p, str) for p in panels)):
        raise _fail("[plot] panels", f"expected a non-empty list of result fields, got {panels!r}")
    return PlotSpec(x=str(x), y=str(y), panels=tuple(panels))


def _resolve_base(value: Any, sweep_path: Path) -> Path:
    if not isinstance(value, str) or not value:
        raise _fail("base", f"expected the path of a run configuration, got {value!r}")
    for candidate in (sweep_path.parent / value, Path(value)):
        if candidate.is_file():
            return candidate.resolve()
    raise _fail("base", f"run configuration {value!r} not found next to {sweep_path} or in the working directory")


def parse_sweep(doc: dict[str, Any], path: Path) -> SweepSpec:
    """Validate a sweep document read from ``path``."""
    for key in doc:
        if key not in TOP_KEYS:
            raise _fail(key, f"unknown key in the sweep file; allowed: {', '.join(TOP_KEYS)}")
    base_path = _resolve_base(doc.get("base"), path)
    try:
        base = load_config(base_path)
    except ConfigError as exc:
        raise _fail("base", str(exc)) from None
    fixed = dict(_table(doc, "set"))
    for key in fixed:
        _check_name("set", key)
    context = {**base, **fixed}
    try:
        validate_params(context)
    except ConfigError as exc:
        raise _fail("[set]", f"base + [set] is not a valid configuration: {exc}") from None
    grid: dict[str, tuple[Any, ...]] = {}
    for key, value in _table(doc, "grid").items():
        _check_name("grid", key)
        grid[key] = tuple(_check_value(f"[grid] {key}", key, v, context) for v in _values(f"[grid] {key}", value))
    zipped: dict[str, tuple[Any, ...]] = {}
    for key, value in _table(doc, "list").items():
        _check_name("list", key)
        zipped[key] = tuple(_check_value(f"[list] {key}", key, v, context) for v in _values(f"[list] {key}", value))
    if len({len(v) for v in zipped.values()}) > 1:
        sizes = ", ".join(f"{k}: {len(v)}" for k, v in zipped.items())
        raise _fail("[list]", f"lists varied together must have equal lengths ({sizes})")
    sample = _parse_sample(doc, context)
    names = [*grid, *zipped, *(sample.ranges if sample else ())]
    twice = sorted({n for n in names if names.count(n) > 1} | ({"seed"} & set(names)))
    if twice:
        raise _fail(twice[0], "varied in more than one section (or 'seed', which the seeds key sets)")
    spec = SweepSpec(
        path=path, base_path=base_path, base=base, fixed=fixed, seeds=_parse_seeds(doc, context),
        grid=grid, zipped=zipped, sample=sample,
        analysis=_parse_numbers(doc, "analysis", AnalysisSpec, ("transient_ms", "mr_bin_ms")),
        criteria=_parse_numbers(doc, "regimes", RegimeCriteria, ("quiescent_hz", "f_min_hz")),
        plot=None, description=str(doc.get("description", "")),
    )  # fmt: skip
    n_points = math.prod(len(v) for v in grid.values()) * (len(next(iter(zipped.values()))) if zipped else 1)
    n_points *= (sample.n if sample else 1) * len(spec.seeds)
    if n_points > MAX_POINTS:
        raise _fail("grid", f"the sweep expands to {n_points} points, more than the limit of {MAX_POINTS}")
    return SweepSpec(**{**spec.__dict__, "plot": _parse_plot(doc, spec.varied)})


def load_sweep(path: str | Path) -> SweepSpec:
    """Read and validate a sweep file.

    Raises:
        SweepError: one line naming the field at fault.

    """
    path = Path(path)
    try:
        with open(path, "rb") as fh:
            doc = tomllib.load(fh)
    except FileNotFoundError:
        raise SweepError(f"sweep file not found: {path}") from None
    except tomllib.TOMLDecodeError as exc:
        raise SweepError(f"{path}: not valid TOML: {exc}") from None
    return parse_sweep(doc, path)
