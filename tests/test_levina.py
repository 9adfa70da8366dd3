"""Levina, Herrmann & Geisel (2007): depressing synapses make avalanches critical over a range of alpha.

Reference exponent: the fit range is ``1 <= S <= N/10 = 30``, where even an exactly critical
branching process is not yet a pure ``S^-3/2`` (its sizes follow the Borel distribution, REFERENCES
§6), so the reference is the exponent a power-law fit on that range converges to for the critical
(``m = 1``) Borel law, computed from the theory here (about 1.47). Static synapses with coupling
``alpha`` form a branching process with ``m = alpha`` (each of ``N - 1`` neurons is pushed over
threshold with probability ``alpha / N``), critical only near ``alpha_cr = 1 - 1/sqrt(N) = 0.94``
(Eurich et al. 2002).

Tolerances: ``3 sigma`` of the fitted exponent (Fisher information of the truncated discrete power
law, from the number of avalanches) plus 0.05 for the model: the exponent of a branching process
moves by about 0.03 between ``m = 0.9`` and ``m = 1`` on this range, and a finite network is
critical only to about ``1/sqrt(N)``.

Supercriticality shows as an excess of system-size avalanches: the share of ``S >= N/2`` is 0.065
for the critical branching process (less with the finite-size cut-off); twice that is clearly
supercritical, whatever the sampling error (about 0.005 for 2000 avalanches).
"""

from __future__ import annotations

import numpy as np
import pytest

from neuroabm.experiments.levina_sweep import (
    FIT_FRACTION,
    N_LEVINA,
    LevinaModel,
    pseudo_true_exponent,
    truncated_fisher_se,
)
from neuroabm.theory.branching_process import borel_pmf

XMAX = N_LEVINA // FIT_FRACTION
#: model allowance on the exponent (see the module docstring)
MODEL_TOL = 0.05


def reference_exponent(m: float = 1.0) -> float:
    """Exponent a fit on 1..XMAX converges to for a branching process with ratio ``m`` (Borel sizes)."""
    return pseudo_true_exponent(borel_pmf(np.arange(1, XMAX + 1), m))


def critical_large_share() -> float:
    """P(S >= N/2) of the critical branching process (no cut-off)."""
    return 1.0 - float(borel_pmf(np.arange(1, N_LEVINA // 2), 1.0).sum())


def run_levina(alpha: float, synapse_model: str, duration_s: float, seed: int = 1) -> dict:
    m = LevinaModel(alpha=alpha, synapse_model=synapse_model, duration_ms=duration_s * 1000.0, seed=seed)
    m.run()
    return m.avalanche_statistics() | {"mean_efficacy": m.mean_efficacy()}


def tolerance(stats: dict) -> float:
    return 3.0 * truncated_fisher_se(stats["tau"], stats["n_avalanches"], XMAX) + MODEL_TOL


def test_reference_exponent_is_near_three_halves():
    # the fit-range correction is small: the Borel law at m = 1 is s^-3/2 / sqrt(2 pi) asymptotically
    assert reference_exponent() == pytest.approx(1.5, abs=0.05)
    assert reference_exponent(0.7) > reference_exponent() + 0.2  # subcritical: steeper


def test_depressing_synapses_give_a_three_halves_power_law():
    # 300 s of biology (~550 avalanches after the 60 s transient): sigma ~0.045
    stats = run_levina(1.5, "depressing", 300.0)
    assert stats["n_avalanches"] > 300
    assert stats["tau"] == pytest.approx(reference_exponent(), abs=tolerance(stats))
    assert stats["frac_large"] < 2 * critical_large_share()
    assert 0.0 < stats["mean_efficacy"] < 1.0  # the synapses are depressed below alpha/u


@pytest.mark.slow
@pytest.mark.parametrize("alpha", [1.4, 1.6, 1.8])
def test_depressing_synapses_are_critical_over_a_range_of_alpha(alpha):
    stats = run_levina(alpha, "depressing", 1000.0)
    assert stats["n_avalanches"] > 1500
    assert stats["tau"] == pytest.approx(reference_exponent(), abs=tolerance(stats))
    assert stats["frac_large"] < 2 * critical_large_share()


@pytest.mark.slow
def test_static_synapses_below_the_critical_coupling_are_subcritical():
    stats = run_levina(0.7, "static", 1000.0)
    # a branching process with m = 0.7: its own exponent, far steeper than the critical one
    assert stats["tau"] == pytest.approx(reference_exponent(0.7), abs=tolerance(stats))
    assert stats["tau"] > reference_exponent() + tolerance(stats)
    assert stats["frac_large"] < 0.01


@pytest.mark.slow
def test_static_synapses_above_the_critical_coupling_are_supercritical():
    stats = run_levina(0.99, "static", 1000.0)
    assert stats["frac_large"] > 2 * critical_large_share()


def test_run_file_is_the_levina_network():
    from pathlib import Path

    from neuroabm.config import load_config, validate_params
    from neuroabm.experiments.levina_sweep import levina_params

    path = Path(__file__).parent.parent / "runs" / "levina2007.toml"
    from_file = validate_params(load_config(path))
    expected = validate_params(levina_params(1.5, duration_ms=1_000_000.0, seed=1, metrics_period_ms=1000))
    assert from_file == expected
