"""Configuration: the flat parameter namespace, its validation and TOML files."""

from neuroabm.config.params import (
    PARAM_NAMES,
    SECTIONS,
    STEP_MS,
    ConfigError,
    Params,
    defaults,
    validate_params,
)
from neuroabm.config.toml_io import load_config, parse_assignment, to_toml, write_config

__all__ = [
    "PARAM_NAMES",
    "SECTIONS",
    "STEP_MS",
    "ConfigError",
    "Params",
    "defaults",
    "load_config",
    "parse_assignment",
    "to_toml",
    "validate_params",
    "write_config",
]
