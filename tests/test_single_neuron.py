"""Uncoupled neurons against first-passage theory: Siegert rate (LIF) and inverse Gaussian (no leak).

Tolerances come from the run length: a rate estimated from n intervals has a relative standard
error CV / sqrt(n), and we allow five of them. On top, the engine registers a spike at the end
of the integration step that contains the threshold crossing (the Brownian-bridge test finds
crossings between grid points), so every interval is biased long by less than one step: a
relative rate bias below dt * rate.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from neuroabm import NeuroModel
from neuroabm.analysis import cv_isi
from neuroabm.theory import inverse_gaussian_cv, inverse_gaussian_mean, isi_cv, siegert_rate

N, T_MS, WARMUP_MS, DT_MS = 1000, 4000.0, 200.0, 0.1


def uncoupled(mu: float, sigma: float, **kw) -> NeuroModel:
    return NeuroModel(
        n_exc=N, n_inh=0, k_exc=0, k_inh=0, eta=0.0, drive="white_noise", mu_mv=mu, sigma_mv=sigma,
        duration_ms=T_MS, dt_ms=DT_MS, seed=21, **kw,
    ).run()  # fmt: skip


def intervals(t: np.ndarray, nr: np.ndarray) -> np.ndarray:
    order = np.lexsort((t, nr))
    t, nr = t[order], nr[order]
    return np.diff(t)[nr[1:] == nr[:-1]]


@pytest.mark.parametrize(
    ("mu", "sigma", "published_hz"), [(15, 5, 9.461), (20, 5, 27.34), (25, 2, 42.85), (10, 10, 12.08)]
)
def test_white_noise_lif_fires_at_the_siegert_rate(mu, sigma, published_hz):
    theory = siegert_rate(mu, sigma)
    assert theory == pytest.approx(published_hz, rel=1e-3)
    m = uncoupled(float(mu), float(sigma))
    t, nr = m.spikes()
    keep = t > WARMUP_MS
    n = int(keep.sum())
    rate = n / (N * (T_MS - WARMUP_MS) / 1000.0)
    cv_theory = isi_cv(mu, sigma)
    tol = 5 * cv_theory / math.sqrt(n) + DT_MS * theory / 1000.0
    assert rate == pytest.approx(theory, rel=tol)
    # irregularity: pooled CV of all intervals against the diffusion theory (Brunel 2000 eq. A.9)
    isi = intervals(t[keep], nr[keep])
    assert isi.std() / isi.mean() == pytest.approx(cv_theory, rel=0.03)


def test_per_neuron_cv_helper_agrees_with_the_model_running_sums():
    m = uncoupled(20.0, 5.0)
    t, nr = m.spikes()
    assert np.allclose(cv_isi(t, nr), m.isi_cv(), equal_nan=True)


@pytest.mark.parametrize(("mu", "sigma"), [(10.0, 5.0), (20.0, 10.0)])
def test_perfect_integrator_first_passage_is_inverse_gaussian(mu, sigma):
    """tau dV = mu dt + sigma sqrt(tau) dW from V_r to theta: drift mu/tau, diffusion sigma/sqrt(tau)."""
    m = uncoupled(mu, sigma, leak=False, v_init="reset")
    p = m.params
    a, drift, diff = p.v_th_mv - p.v_reset_mv, mu / p.tau_m_ms, sigma / math.sqrt(p.tau_m_ms)
    fpt = intervals(*m.spikes()) - p.t_ref_ms
    mean, cv = inverse_gaussian_mean(a, drift), inverse_gaussian_cv(a, drift, diff)
    assert fpt.mean() == pytest.approx(mean, abs=5 * cv * mean / math.sqrt(fpt.size) + DT_MS)
    assert fpt.std() / fpt.mean() == pytest.approx(cv, rel=0.02)
