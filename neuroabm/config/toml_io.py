"""Reading and writing TOML run configurations.

A config file groups the flat parameter names into sections for humans::

    [network]
    n_exc = 8000
    [synapse]
    g = 5.0

Loading flattens the sections; every key must be known and sit in its own section.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import tomli_w

from neuroabm.config.params import (
    PARAM_NAMES,
    SECTIONS,
    ConfigError,
    Params,
    section_of,
    unknown_key_message,
)
from neuroabm.exports.atomic import write_text_atomic


def flatten_sections(doc: dict[str, Any]) -> dict[str, Any]:
    """Flatten ``{section: {key: value}}`` (top-level keys allowed too) into ``{key: value}``."""
    flat: dict[str, Any] = {}
    for name, value in doc.items():
        if isinstance(value, dict):
            if name not in SECTIONS:
                raise ConfigError(f"unknown section [{name}]; allowed sections: {', '.join(SECTIONS)}")
            for key, v in value.items():
                if key not in PARAM_NAMES:
                    raise ConfigError(unknown_key_message(key, f" in [{name}]"))
                if section_of(key) != name:
                    raise ConfigError(f"parameter '{key}' belongs in [{section_of(key)}], not [{name}]")
                flat[key] = v
        else:
            if name not in PARAM_NAMES:
                raise ConfigError(unknown_key_message(name))
            flat[name] = value
    return flat


#: a run configuration is a few kB; anything far larger is not one
MAX_CONFIG_BYTES = 1 << 20


def load_config(path: str | Path) -> dict[str, Any]:
    """Read a TOML config into a flat dictionary (not yet validated)."""
    path = Path(path)
    try:
        if path.is_dir():
            raise ConfigError(f"{path} is a folder: give a TOML configuration file (see runs/)")
        with open(path, "rb") as fh:
            raw = fh.read(MAX_CONFIG_BYTES + 1)
        if len(raw) > MAX_CONFIG_BYTES:
            raise ConfigError(f"{path}: larger than {MAX_CONFIG_BYTES // 1024} kB, not a run configuration")
        doc = tomllib.loads(raw.decode("utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not a text (UTF-8) file; give a TOML configuration") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    except RecursionError:
        raise ConfigError(f"{path}: nested too deeply to be a run configuration") from None
    except OSError as exc:  # permissions, symlink loops, devices
        raise ConfigError(f"{path}: cannot be read: {exc.strerror or exc}") from None
    return flatten_sections(doc)


def parse_assignment(text: str) -> tuple[str, Any]:
    """Parse a ``KEY=VALUE`` override; VALUE is read as a TOML value, else as a bare string."""
    if "=" not in text:
        raise ConfigError(f"--set expects KEY=VALUE, got {text!r}")
    key, raw = (s.strip() for s in text.split("=", 1))
    if key not in PARAM_NAMES:
        raise ConfigError(unknown_key_message(key, " in --set"))
    try:
        value = tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw
    return key, value


def to_toml(params: Params) -> str:
    """Render validated parameters as a sectioned TOML document (the resolved config)."""
    values = params.model_dump()
    doc = {section: {k: values[k] for k in names if values[k] is not None} for section, names in SECTIONS.items()}
    header = "# Resolved neuroabm configuration: every parameter, as this run used it.\n"
    return header + tomli_w.dumps(doc)


def write_config(params: Params, path: str | Path) -> None:
    """Write the resolved config atomically."""
    write_text_atomic(path, to_toml(params))
