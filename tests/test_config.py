"""Configuration: one flat namespace, TOML sections for humans, one clear line per error."""

from __future__ import annotations

import pytest

from neuroabm.config import (
    PARAM_NAMES,
    SECTIONS,
    ConfigError,
    defaults,
    load_config,
    parse_assignment,
    to_toml,
    validate_params,
)
from neuroabm.config.toml_io import flatten_sections

PUBLIC_CONTRACT = """n_exc n_inh k_exc k_inh side_mm kernel sigma_mm tau_m_ms v_th_mv v_reset_mv t_ref_ms leak
j_mv g delay_ms drive eta mu_mv sigma_mv dt_ms duration_ms seed""".split()


def test_public_parameter_names_exist_once():
    assert set(PUBLIC_CONTRACT) <= PARAM_NAMES
    listed = [name for names in SECTIONS.values() for name in names]
    assert len(listed) == len(set(listed)) == len(PARAM_NAMES)
    assert {"network", "neuron", "synapse", "drive", "run"} <= set(SECTIONS)


def test_defaults_are_valid_brunel_model_a():
    p = validate_params()
    assert (p.tau_m_ms, p.v_th_mv, p.v_reset_mv, p.t_ref_ms, p.delay_ms, p.dt_ms) == (20, 20, 10, 2, 1.5, 0.1)
    assert p.k_inh / p.k_exc == pytest.approx(0.25)


@pytest.mark.parametrize(
    ("key", "value", "fragment"),
    [
        ("g", -1.0, ">= 0"),
        ("n_exc", 0, ">= 1"),
        ("dt_ms", 2.0, "<= 1"),
        ("kernel", "cauchy", "'uniform', 'gaussian'"),
        ("drive", "dc", "'poisson', 'white_noise'"),
        ("leak", "maybe", "true or false"),
        ("n_exc", 10.5, "an integer"),
        ("tau_da_ms", 0.0, "> 0"),
        ("site_layout", "hexagonal", "'lattice', 'random'"),
        ("field_operator", "explicit", "'lattice', 'spectral'"),
    ],
)
def test_out_of_range_gives_one_line_naming_key_value_and_range(key, value, fragment):
    with pytest.raises(ConfigError) as err:
        validate_params({key: value})
    msg = str(err.value)
    assert "\n" not in msg
    assert key in msg and repr(value) in msg and fragment in msg


@pytest.mark.parametrize(
    ("values", "key", "fragment"),
    [
        ({"dt_ms": 0.3}, "dt_ms", "divisor"),
        ({"delay_ms": 1.55}, "delay_ms", "multiple of dt_ms"),
        ({"t_ref_ms": 2.05}, "t_ref_ms", "multiple of dt_ms"),
        ({"duration_ms": 10.5}, "duration_ms", "whole number"),
        ({"v_reset_mv": 25.0}, "v_reset_mv", "< v_th_mv"),
        ({"k_exc": 800}, "k_exc", "n_exc - 1"),
        ({"reward_pair": [3, 3]}, "reward_pair", "two different neurons"),
        ({"reward_pair": [3, 10**6]}, "reward_pair", "two neuron indices"),
        ({"reward_delay_min_ms": 500.0, "reward_delay_max_ms": 100.0}, "reward_delay_max_ms", ">= reward_delay_min"),
        ({"field_dt_ms": 2, "field_record_ms": 5}, "field_record_ms", "multiple of field_dt_ms"),
        ({"dopamine": True, "n_sites": 10}, "n_sites", "perfect square"),
        ({"j_mv": 1e-300}, "eta", "inputs per neuron and step"),  # eta v_th dt / (J tau) = 2e299 per step
    ],
)
def test_relations_between_parameters_are_checked(values, key, fragment):
    with pytest.raises(ConfigError, match=key) as err:
        validate_params(values)
    assert fragment in str(err.value)


def test_unknown_key_is_rejected_with_a_suggestion():
    with pytest.raises(ConfigError, match=r"unknown parameter 'gg'.*did you mean 'g'"):
        validate_params({"gg": 5})


def test_integers_are_accepted_where_numbers_are_meant():
    assert validate_params(duration_ms=100, g=4).duration_ms == 100.0


def test_sections_are_flattened_and_must_match(tmp_path):
    assert flatten_sections({"synapse": {"g": 4.0}, "run": {"seed": 3}}) == {"g": 4.0, "seed": 3}
    with pytest.raises(ConfigError, match=r"'g' belongs in \[synapse\], not \[network\]"):
        flatten_sections({"network": {"g": 4.0}})
    with pytest.raises(ConfigError, match=r"unknown section \[netwerk\]"):
        flatten_sections({"netwerk": {"n_exc": 4}})
    bad = tmp_path / "bad.toml"
    bad.write_text("[network\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(bad)


def test_cli_assignments_parse_as_toml_values():
    assert parse_assignment("g=6") == ("g", 6)
    assert parse_assignment("leak=false") == ("leak", False)
    assert parse_assignment("kernel=gaussian") == ("kernel", "gaussian")
    assert parse_assignment("sigma_mm = 0.25") == ("sigma_mm", 0.25)
    with pytest.raises(ConfigError, match="KEY=VALUE"):
        parse_assignment("g")


def test_resolved_config_round_trips(tmp_path):
    p = validate_params(g=6.0, kernel="gaussian", seed=11, leak=False)
    path = tmp_path / "config.toml"
    path.write_text(to_toml(p))
    again = validate_params(load_config(path))
    assert again == p
    assert set(again.model_dump()) == set(defaults())


def test_shipped_run_configs_are_valid():
    from pathlib import Path

    runs = sorted(Path(__file__).parents[1].glob("runs/*.toml"))
    assert runs, "no configs in runs/"
    for path in runs:
        validate_params(load_config(path))


def test_params_are_composed_from_one_group_per_section():
    """The flat names are the groups' fields, in section order; each group is one TOML section."""
    from neuroabm.config.params import GROUPS, SECTIONS, Params

    assert [name for group in GROUPS for name in group.model_fields] == list(Params.model_fields)
    sections = [{f.json_schema_extra["section"] for f in group.model_fields.values()} for group in GROUPS]
    assert all(len(s) == 1 for s in sections)
    assert [s.pop() for s in sections] == list(SECTIONS)


def test_each_cross_check_lives_with_the_group_of_the_field_it_refuses():
    import inspect
    import re

    from neuroabm.config.params import GROUPS

    for group in GROUPS:
        refused = set(re.findall(r'fail\(\s*"(\w+)"', inspect.getsource(group.check)))
        assert refused <= set(group.model_fields), (group.__name__, refused - set(group.model_fields))
