"""The memory estimate made before building, against the measured peak RSS."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from neuroabm import validate_params
from neuroabm.config import ConfigError
from neuroabm.model.memory import BASELINE_BYTES, check_fits, estimate_memory

PROBE = Path(__file__).with_name("memory_probe.py")


def measure(values: dict) -> tuple[float, float]:
    out = subprocess.run([sys.executable, str(PROBE), json.dumps(values)], capture_output=True, text=True, check=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    return result["estimate"], result["peak"]


@pytest.mark.slow
@pytest.mark.parametrize(
    "values",
    [  # the three build paths: streamed uniform store, Gaussian source table, plastic editable store
        dict(n_exc=160_000, n_inh=40_000, k_exc=400, k_inh=100, j_mv=0.2),
        dict(n_exc=40_000, n_inh=10_000, k_exc=320, k_inh=80, j_mv=0.25, kernel="gaussian", sigma_mm=0.2),
        dict(
            n_exc=40_000, n_inh=10_000, k_exc=160, k_inh=40, j_mv=0.5, plasticity=True, dopamine=True, structural=True
        ),
    ],
    ids=["uniform", "gaussian", "plastic"],
)
def test_estimate_is_within_25_percent_of_the_peak_rss(values):
    """Each size is chosen so the model holds at least a third of the peak (not only the interpreter)."""
    estimate, peak = measure({**values, "duration_ms": 20.0, "seed": 1})
    assert peak - BASELINE_BYTES > peak / 3
    assert abs(estimate - peak) <= 0.25 * peak


def test_synapses_cost_two_bytes_each_at_a_million_neurons():
    """10^9 synapses: 2-byte targets, no per-synapse weights, so the store is ~1.9 GiB (<= 8 B/synapse)."""
    p = validate_params(dict(n_exc=800_000, n_inh=200_000, k_exc=800, k_inh=200))
    parts = estimate_memory(p).parts
    per_synapse = (parts["synapse targets"] + parts["synapse rows"]) / 1e9
    assert 2.0 <= per_synapse <= 2.3
    assert estimate_memory(p).total_bytes < 12 * 2**30


def test_a_configuration_that_cannot_fit_is_refused_in_one_line():
    p = validate_params(dict(n_exc=8_000_000, n_inh=2_000_000, k_exc=8_000, k_inh=2_000))
    with pytest.raises(ConfigError) as err:
        check_fits(p, available=24 * 2**30)
    msg = str(err.value)
    assert "\n" not in msg and "GiB" in msg and "available" in msg and "--dry-run" in msg
    assert check_fits(validate_params({}), available=24 * 2**30).total_bytes < 1 * 2**30
