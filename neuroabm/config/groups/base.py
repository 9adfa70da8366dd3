"""What every parameter group shares: the field helper, the numeric limits and the check protocol."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    from neuroabm.config.params import Params

#: Biological time advanced by one ``model.step()``; ``model.time`` counts these, so it is in ms.
STEP_MS = 1.0
#: lags (bins) of the multistep-regression branching ratio fitted in each criticality window
CRITICALITY_MR_LAGS = 100
#: pieces the multistep regression cuts a window into (``branching_ratio_mr``'s ``n_trials``)
CRITICALITY_MR_TRIALS = 10
#: the upper bound of a number given none of its own: finite, far above any sensible value, and
#: inside int64 (numba's integers), so no value can overflow a kernel
DEFAULT_MAX = 10**9

#: ``fail(key, value, allowed)`` raises the one-line ConfigError naming the field
Fail = Callable[[str, Any, str], None]


class ConfigError(ValueError):
    """A configuration value is unknown, of the wrong type or out of its allowed range."""


def _p(default: Any, section: str, doc: str, **constraints: Any) -> Any:
    numeric = isinstance(default, (int, float)) and not isinstance(default, bool)
    if numeric and not {"le", "lt"} & constraints.keys():
        constraints["le"] = float(DEFAULT_MAX) if isinstance(default, float) else DEFAULT_MAX
    return Field(default, description=doc, json_schema_extra={"section": section}, **constraints)


def is_multiple(x: float, unit: float) -> bool:
    """Whether ``x`` is a whole multiple of ``unit`` (to 1e-9 relative).

    >>> is_multiple(1.5, 0.1), is_multiple(0.15, 0.1)
    (True, False)
    """
    q = x / unit
    return abs(q - round(q)) < 1e-9 * max(1.0, abs(q))


class ParamGroup(BaseModel):
    """One subsystem's parameters (one TOML section) and the cross-checks that refuse one of them.

    :class:`~neuroabm.config.params.Params` inherits every group, so the names stay flat.
    A check that relates fields of several groups lives with the group whose field it refuses.
    """

    # no NaN or infinity anywhere (list elements included) unless a field says what inf means
    model_config = ConfigDict(extra="forbid", strict=True, validate_default=True, allow_inf_nan=False)

    @classmethod
    def check(cls, p: Params, fail: Fail) -> None:
        """Raise (through ``fail``) if ``p`` breaks a relation this group's fields must satisfy."""
