"""Parameters of one synapse simulated molecule by molecule, with units, ranges and citations.

The defaults describe a small glutamatergic spine synapse of the hippocampus (sources in
docs/REFERENCES.md, section "Synaptic cleft"):

* cleft height 20 nm (Savtchenko & Rusakov 2007);
* cleft radius 200 nm, postsynaptic density (PSD) radius 125 nm: CA1 active zones cover
  0.01-0.1 um^2 (radius ~55-180 nm; Schikorski & Stevens 1997); Franks et al. 2003 find that
  release beyond ~300 nm activates no receptor;
* 3,000 glutamate molecules per vesicle (Franks et al. 2002; Clements 1996: 2,000-4,000);
* D = 0.33 um^2/ms in the cleft (Nielsen, DiGregorio & Silver 2004);
* 80 AMPA receptors (Franks et al. 2002) in the six-state scheme and rates of Destexhe, Mainen
  & Sejnowski 1998 (:mod:`neuroabm.cleft.kinetics`).

Units are in the names: nm, us (microseconds), ms, um^2/ms, /mM/ms, uM. Every bad value raises
:class:`~neuroabm.config.params.ConfigError` with one line naming the field and its allowed range.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from neuroabm.config.params import ConfigError

__all__ = ["CLEFT_SECTIONS", "CleftParams", "load_cleft_config", "validate_cleft_params"]


def _f(default: Any, section: str, doc: str, unit: str = "", **constraints: Any) -> Any:
    return Field(default, description=doc, json_schema_extra={"section": section, "unit": unit}, **constraints)


class CleftParams(BaseModel):
    """All parameters of a cleft run. Units are in the names."""

    model_config = ConfigDict(extra="forbid", strict=True, validate_default=True)

    # [geometry]
    cleft_radius_nm: float = _f(200.0, "geometry", "radius of the cleft disc", "nm", gt=10.0, le=100_000.0)
    cleft_height_nm: float = _f(20.0, "geometry", "distance pre- to postsynaptic membrane", "nm", gt=1.0, le=10_000.0)
    rim: Literal["absorbing", "reflecting"] = _f(
        "absorbing", "geometry", "the rim: molecules leave to the extracellular space, or are reflected"
    )
    # [release]
    n_transmitter: int = _f(3000, "release", "glutamate molecules per vesicle", ge=0, le=10_000_000)
    n_transmitter_cv: float = _f(0.0, "release", "CV of the vesicle content over trials (dq)", ge=0.0, le=2.0)
    release: Literal["point", "uniform"] = _f(
        "point", "release", "at the fusion pore on the presynaptic face, or uniform in the cleft (well mixed)"
    )
    release_tau_us: float = _f(0.0, "release", "fusion-pore release time constant (0: all at t = 0)", "us", ge=0.0)
    release_offset_nm: float = _f(0.0, "release", "lateral distance of the release site from the centre", "nm", ge=0.0)
    release_jitter_nm: float = _f(
        0.0, "release", "per trial, the site is uniform in a disc of this radius around it", "nm", ge=0.0
    )
    diffusion_um2_per_ms: float = _f(0.33, "release", "glutamate diffusion coefficient", "um^2/ms", gt=0.0, le=100.0)
    # [receptors]
    n_receptors: int = _f(80, "receptors", "receptors on the postsynaptic face", ge=0, le=100_000)
    receptor_layout: Literal["disc", "gaussian", "random"] = _f(
        "disc", "receptors", "uniform in the PSD disc, Gaussian density (sd = PSD radius / 2), or uniform in the cleft"
    )
    psd_radius_nm: float = _f(125.0, "receptors", "radius of the postsynaptic density", "nm", gt=0.0, le=100_000.0)
    layout_per_trial: bool = _f(False, "receptors", "draw a new receptor layout for every trial")
    receptor_init: Literal["rest", "random"] = _f(
        "rest", "receptors", "all unbound, or states drawn from the steady state at background_glutamate_um"
    )
    background_glutamate_um: float = _f(
        0.0, "receptors", "ambient glutamate for receptor_init = 'random'", "uM", ge=0.0
    )
    binding_radius_nm: float = _f(5.0, "receptors", "Doi reaction radius of a binding site", "nm", gt=0.0, le=100.0)
    # [kinetics]  Destexhe, Mainen & Sejnowski 1998 (docs/REFERENCES.md)
    rb_per_mm_ms: float = _f(13.0, "kinetics", "binding C0->C1, C1->C2", "/mM/ms", ge=0.0, le=1e6)
    ru1_per_ms: float = _f(0.0059, "kinetics", "unbinding C1->C0", "/ms", ge=0.0, le=1e6)
    ru2_per_ms: float = _f(86.0, "kinetics", "unbinding C2->C1", "/ms", ge=0.0, le=1e6)
    rd_per_ms: float = _f(0.9, "kinetics", "desensitization C1->D1, C2->D2", "/ms", ge=0.0, le=1e6)
    rr_per_ms: float = _f(0.064, "kinetics", "resensitization D1->C1, D2->C2", "/ms", ge=0.0, le=1e6)
    ro_per_ms: float = _f(2.7, "kinetics", "opening C2->O", "/ms", ge=0.0, le=1e6)
    rc_per_ms: float = _f(0.2, "kinetics", "closing O->C2", "/ms", ge=0.0, le=1e6)
    scheme: Literal["ampa", "sink"] = _f(
        "ampa", "kinetics", "the AMPA scheme, or perfect sinks that capture every molecule (tests)"
    )
    # [numerics]
    dt_us: float = _f(0.1, "numerics", "Brownian-dynamics time step", "us", gt=0.0, le=10.0)
    duration_ms: float = _f(5.0, "numerics", "simulated time after release", "ms", gt=0.0, le=10_000.0)
    record_us: float = _f(10.0, "numerics", "sampling interval of receptor states (multiple of dt_us)", "us", gt=0.0)
    fp_bin_us: float = _f(2.0, "numerics", "time bin of F(r, t) and P(r, t) (multiple of dt_us)", "us", gt=0.0)
    fp_window_us: float = _f(400.0, "numerics", "time window of F(r, t) and P(r, t)", "us", gt=0.0, le=1e6)
    n_radii: int = _f(20, "numerics", "radii of F(r, t) and radial bins of P(r, t)", ge=1, le=1000)
    # [run]
    trials: int = _f(100, "run", "independent releases", ge=1, le=1_000_000)
    seed: int = _f(1, "run", "seed of every random stream", ge=0, le=2**63 - 1)


#: the TOML sections and their keys
CLEFT_SECTIONS: dict[str, list[str]] = {}
for _name, _field in CleftParams.model_fields.items():
    CLEFT_SECTIONS.setdefault(_field.json_schema_extra["section"], []).append(_name)  # type: ignore[index]


def _allowed(name: str) -> str:
    """The allowed values of a field, from its constraints and unit."""
    field = CleftParams.model_fields[name]
    ann = field.annotation
    if getattr(ann, "__origin__", None) is Literal:
        return "one of " + ", ".join(repr(c) for c in ann.__args__)  # type: ignore[union-attr]
    if ann is bool:
        return "true or false"
    parts = []
    for m in field.metadata:
        for attr, op in (("gt", ">"), ("ge", ">="), ("lt", "<"), ("le", "<=")):
            if getattr(m, attr, None) is not None:
                parts.append(f"{op} {getattr(m, attr):g}")
    unit = field.json_schema_extra.get("unit", "")  # type: ignore[union-attr]
    kind = "an integer" if ann is int else "a number"
    return f"{kind} {' and '.join(parts)} {unit}".replace("  ", " ").strip()


def _multiple(x: float, unit: float) -> bool:
    q = x / unit
    return abs(q - round(q)) < 1e-9 * max(1.0, q) and round(q) >= 1


def validate_cleft_params(values: dict[str, Any] | None = None, **overrides: Any) -> CleftParams:
    """Validate a flat dictionary (plus keyword overrides) into :class:`CleftParams`.

    >>> validate_cleft_params(cleft_radius_nm=150).cleft_radius_nm
    150.0
    >>> validate_cleft_params(cleft_height_nm=-3.0)
    Traceback (most recent call last):
    ...
    neuroabm.config.groups.base.ConfigError: invalid cleft_height_nm = -3.0: allowed a number > 1 and <= 10000 nm

    Raises:
        ConfigError: one line naming the field, the value and the allowed range.

    """
    merged = {**(values or {}), **overrides}
    for key, value in list(merged.items()):
        if key not in CleftParams.model_fields:
            raise ConfigError(f"unknown cleft parameter '{key}'; known: {', '.join(CleftParams.model_fields)}")
        if CleftParams.model_fields[key].annotation is float and isinstance(value, int) and not isinstance(value, bool):
            merged[key] = float(value)
    try:
        p = CleftParams(**merged)
    except ValidationError as exc:
        err = exc.errors()[0]
        key = str(err["loc"][0]) if err["loc"] else "?"
        raise ConfigError(f"invalid {key} = {merged.get(key, err.get('input'))!r}: allowed {_allowed(key)}") from None

    def fail(key: str, allowed: str) -> None:
        raise ConfigError(f"invalid {key} = {getattr(p, key)!r}: allowed {allowed}")

    for key in ("record_us", "fp_bin_us"):
        if not _multiple(getattr(p, key), p.dt_us):
            fail(key, f"a whole multiple (>= 1) of dt_us = {p.dt_us:g} us")
    if p.psd_radius_nm > p.cleft_radius_nm:
        fail("psd_radius_nm", f"<= cleft_radius_nm = {p.cleft_radius_nm:g} nm")
    if p.release_offset_nm + p.release_jitter_nm >= p.cleft_radius_nm:
        fail("release_offset_nm", "release_offset_nm + release_jitter_nm < cleft_radius_nm")
    if 2.0 * p.binding_radius_nm > p.cleft_height_nm:
        fail("binding_radius_nm", f"<= half the cleft height ({p.cleft_height_nm / 2:g} nm)")
    if p.duration_ms * 1000.0 / p.dt_us > 2e9:
        fail("duration_ms", f"at most 2e9 time steps of dt_us = {p.dt_us:g} us")
    return p


def load_cleft_config(path: str | Path | None, **overrides: Any) -> CleftParams:
    """Read a TOML file (sections as in :data:`CLEFT_SECTIONS`, or flat keys) and validate it.

    ``path = None`` gives the defaults (with ``overrides``).
    """
    flat: dict[str, Any] = {}
    if path is not None:
        path = Path(path)
        try:
            doc = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"config file not found: {path}") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: not valid TOML ({exc})") from None
        for name, value in doc.items():
            if isinstance(value, dict):
                if name not in CLEFT_SECTIONS:
                    raise ConfigError(f"unknown section [{name}]; allowed: {', '.join(CLEFT_SECTIONS)}")
                for key, v in value.items():
                    if key in CleftParams.model_fields and key not in CLEFT_SECTIONS[name]:
                        raise ConfigError(f"cleft parameter '{key}' belongs in another section, not [{name}]")
                    flat[key] = v
            else:
                flat[name] = value
    return validate_cleft_params(flat, **overrides)
