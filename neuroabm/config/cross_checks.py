"""Relations between parameters that single-field ranges cannot express (called by ``validate_params``).

Each lives with its parameter group (``neuroabm/config/groups``), the one whose field it refuses;
this runs them in section order, but the run group first: its step grid (``dt_ms`` a divisor of
the model step) is what the other groups' "whole multiple of dt_ms" checks assume, so a bad
``dt_ms`` is named as the cause rather than a delay or refractory period that does not fit it.
"""

from __future__ import annotations

from typing import Any

from neuroabm.config.groups.engine import RunParams
from neuroabm.config.params import GROUPS, ConfigError, Params


def cross_checks(p: Params) -> None:
    """Every group's checks (the run group's first); the first broken relation raises a one-line ConfigError."""

    def fail(key: str, value: Any, allowed: str) -> None:
        raise ConfigError(f"invalid {key} = {value!r}: allowed {allowed}")

    for group in (RunParams, *(g for g in GROUPS if g is not RunParams)):
        group.check(p, fail)
