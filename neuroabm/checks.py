"""Argument checks shared by the library's pure functions: one clear ``ValueError`` per bad value.

Each check names the argument, the allowed range with its unit, and the value it got, and
returns the value as a float.
"""

from __future__ import annotations

import math
from typing import Any

__all__ = ["finite", "non_negative", "positive"]


def _as_float(name: str, value: Any, allowed: str) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be {allowed} (got {value!r})") from None


def positive(name: str, value: Any, unit: str = "", allow_inf: bool = False) -> float:
    """``value`` as a float > 0 (finite unless ``allow_inf``)."""
    allowed = f"a finite number > 0{' or inf' if allow_inf else ''} {unit}".rstrip()
    x = _as_float(name, value, allowed)
    if not (x > 0.0 and (math.isfinite(x) or (allow_inf and x == math.inf))):
        raise ValueError(f"{name} must be {allowed} (got {value!r})")
    return x


def non_negative(name: str, value: Any, unit: str = "") -> float:
    """``value`` as a finite float >= 0."""
    allowed = f"a finite number >= 0 {unit}".rstrip()
    x = _as_float(name, value, allowed)
    if not (math.isfinite(x) and x >= 0.0):
        raise ValueError(f"{name} must be {allowed} (got {value!r})")
    return x


def finite(name: str, value: Any) -> float:
    """``value`` as a finite float."""
    x = _as_float(name, value, "a finite number")
    if not math.isfinite(x):
        raise ValueError(f"{name} must be a finite number (got {value!r})")
    return x
