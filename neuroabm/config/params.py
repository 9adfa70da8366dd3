"""The flat parameter namespace of a neuroabm run, with units, ranges and validation.

Every parameter has one unique name, so the same dictionary works as ``NeuroModel(**params)``,
as a ``mesa.batch_run`` sweep (``{"g": [4, 5, 6]}``) and on the command line (``--set g=6``).
TOML files group the names into sections for humans (see :data:`SECTIONS`); the section is
documentation only and never part of the name.

Defaults are Brunel (2000) model A at a small size (docs/REFERENCES.md §1).
"""

from __future__ import annotations

import difflib
from typing import Any, Literal

from pydantic import ConfigDict, ValidationError

from neuroabm.config.groups.base import (  # noqa: F401  (re-exported: the names every layer imports from here)
    CRITICALITY_MR_LAGS,
    CRITICALITY_MR_TRIALS,
    DEFAULT_MAX,
    STEP_MS,
    ConfigError,
    ParamGroup,
)  # fmt: skip
from neuroabm.config.groups.dopamine import DopamineParams
from neuroabm.config.groups.engine import DriveParams, NetworkParams, NeuronParams, RunParams, SynapseParams
from neuroabm.config.groups.plasticity import PlasticityParams, StructureParams
from neuroabm.config.groups.recording import CriticalityParams, GraphParams

#: the parameter groups in section order (the order of fields, TOML sections and cross-checks)
GROUPS: tuple[type[ParamGroup], ...] = (
    NetworkParams, NeuronParams, SynapseParams, DriveParams, RunParams,
    DopamineParams, PlasticityParams, StructureParams, GraphParams, CriticalityParams,
)  # fmt: skip


class Params(
    CriticalityParams, GraphParams, StructureParams, PlasticityParams, DopamineParams,
    RunParams, DriveParams, SynapseParams, NeuronParams, NetworkParams,
):  # fmt: skip
    """All parameters of a run, flat, composed from the groups (:data:`GROUPS`). Units are in the names.

    The bases are :data:`GROUPS` reversed: pydantic collects fields from the last base first, so
    the fields come in section order (network first).
    """

    model_config = ConfigDict(extra="forbid", strict=True, validate_default=True, allow_inf_nan=False)


#: section name -> parameter names, in declaration order.
SECTIONS: dict[str, list[str]] = {}
for _name, _field in Params.model_fields.items():
    SECTIONS.setdefault(_field.json_schema_extra["section"], []).append(_name)  # type: ignore[index]

PARAM_NAMES: frozenset[str] = frozenset(Params.model_fields)


def section_of(name: str) -> str:
    """Return the TOML section a parameter belongs to."""
    return Params.model_fields[name].json_schema_extra["section"]  # type: ignore[index]


def _allowed(name: str) -> str:
    """Describe the allowed values of a parameter from its declared constraints."""
    field = Params.model_fields[name]
    if "allowed" in (field.json_schema_extra or {}):  # a hand-written description (union types)
        return field.json_schema_extra["allowed"]  # type: ignore[index]
    ann = field.annotation
    choices = getattr(ann, "__args__", None)
    if getattr(ann, "__origin__", None) is Literal or (choices and all(isinstance(c, str) for c in choices)):
        return "one of " + ", ".join(repr(c) for c in choices)
    if getattr(ann, "__origin__", None) is list:
        return "a list of " + ("integers" if choices == (int,) else "finite numbers")
    if ann is bool:
        return "true or false"
    lo = hi = None
    lo_op = hi_op = ""
    for m in field.metadata:
        for attr, op in (("ge", ">="), ("gt", ">")):
            if getattr(m, attr, None) is not None:
                lo, lo_op = getattr(m, attr), op
        for attr, op in (("le", "<="), ("lt", "<")):
            if getattr(m, attr, None) is not None:
                hi, hi_op = getattr(m, attr), op
    kind = "an integer" if ann in (int, int | None) else "a number"
    parts = [f"{lo_op} {lo:g}" if lo is not None else "", f"{hi_op} {hi:g}" if hi is not None else ""]
    rng = " and ".join(p for p in parts if p)
    return f"{kind} {rng}".strip() + (" (or none)" if field.default is None else "")


def unknown_key_message(key: str, where: str = "") -> str:
    """One line naming an unknown key, and the closest known one."""
    close = difflib.get_close_matches(key, sorted(PARAM_NAMES), n=1)
    hint = f"; did you mean '{close[0]}'?" if close else ""
    return f"unknown parameter '{key}'{where}{hint}"


def _short(value: Any, limit: int = 60) -> str:
    """``repr(value)``, cut to ``limit`` characters so a refusal stays one line.

    >>> _short(list(range(100)), 20)
    '[0, 1, 2, 3, 4, 5, …'
    """
    text = repr(value).replace("\n", " ")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def validate_params(values: dict[str, Any] | None = None, **overrides: Any) -> Params:
    """Validate a flat parameter dictionary (plus keyword overrides) into :class:`Params`.

    Raises:
        ConfigError: with one line naming the key, the value and the allowed range.

    """
    merged = {**(values or {}), **overrides}
    given = dict(merged)
    for key in merged:
        if key not in PARAM_NAMES:
            raise ConfigError(unknown_key_message(key))
    # TOML and the CLI give ints where floats are meant (``duration_ms = 1000``); accept them.
    for key, value in merged.items():
        ann = Params.model_fields[key].annotation
        if ann is float and isinstance(value, int) and not isinstance(value, bool):
            merged[key] = float(value)
        elif ann == list[float] and isinstance(value, list | tuple):
            merged[key] = [float(v) if isinstance(v, int) and not isinstance(v, bool) else v for v in value]
    try:
        params = Params(**merged)
    except ValidationError as exc:
        err = exc.errors()[0]
        key = str(err["loc"][0]) if err["loc"] else "?"
        value = given.get(key, err.get("input"))
        raise ConfigError(f"invalid {key} = {_short(value)}: allowed {_allowed(key)}") from None
    from neuroabm.config.cross_checks import cross_checks  # relations between fields (its own module)

    cross_checks(params)
    return params


def defaults() -> dict[str, Any]:
    """The default value of every parameter, as a flat dictionary."""
    return {name: f.default for name, f in Params.model_fields.items()}
