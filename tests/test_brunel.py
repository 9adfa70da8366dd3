"""Brunel (2000) model A at full scale (N = 10,000, C_E = 800, C_I = 200, J = 0.1 mV, D = 1.5 ms).

The asynchronous irregular state (g = 5, eta = 2) must fire at the self-consistent mean-field rate.
docs/REFERENCES.md §1: simulations agree with it "within a few percent" in the AI state; the diffusion
approximation behind it neglects the finite PSP size (J = 1 % of theta - V_r) and the correlations
of a finite network, so we allow 3 %. The synchronous regular state (g = 3) must be told apart.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from neuroabm import NeuroModel, load_config
from neuroabm.analysis import cv_isi, population_rate
from neuroabm.theory import brunel_rate

CONFIG = load_config(Path(__file__).parents[1] / "runs" / "brunel_ai.toml")
WARMUP_MS = 200.0


def simulate(g: float, duration_ms: float) -> dict:
    m = NeuroModel(**{**CONFIG, "g": g, "duration_ms": duration_ms, "seed": 2000}).run()
    t, nr = m.spikes()
    keep = t > WARMUP_MS
    window_s = (duration_ms - WARMUP_MS) / 1000.0
    _, pop = population_rate(t[keep] - WARMUP_MS, m.n_neurons, duration_ms - WARMUP_MS, bin_ms=0.1)
    return {
        "rate_hz": keep.sum() / (m.n_neurons * window_s),
        "cv_isi": float(np.nanmean(cv_isi(t[keep], nr[keep]))),
        "pop_cv": float(pop.std() / pop.mean()),
    }


@pytest.fixture(scope="module")
def ai() -> dict:
    return simulate(g=5.0, duration_ms=1000.0)


@pytest.fixture(scope="module")
def sr() -> dict:
    return simulate(g=3.0, duration_ms=400.0)


def test_ai_state_fires_at_the_mean_field_rate(ai):
    theory = brunel_rate(eta=2.0, g=5.0, k_exc=800, k_inh=200, j_mv=0.1)
    assert ai["rate_hz"] == pytest.approx(theory, rel=0.03)


def test_ai_state_is_irregular_and_sr_state_is_regular_and_synchronous(ai, sr):
    # AI: single neurons fire irregularly; SR: nearly clock-like at a high rate, in synchrony
    assert ai["cv_isi"] > 0.3
    assert sr["cv_isi"] < 0.15
    assert ai["cv_isi"] > 3 * sr["cv_isi"]
    assert sr["rate_hz"] > 5 * ai["rate_hz"]
    assert sr["pop_cv"] > 1.5 * ai["pop_cv"], (sr, ai)
