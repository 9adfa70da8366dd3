"""Input mean and noise measured on the membrane: exact for white-noise input, silent or firing."""

from __future__ import annotations

import math

import pytest

from neuroabm import NeuroModel
from neuroabm.analysis.membrane_noise import membrane_input

CELL = dict(n_exc=200, n_inh=0, k_exc=0, k_inh=0, drive="white_noise", duration_ms=2000.0, record_v=100,
            record_v_dt_ms=0.5, seed=3)  # fmt: skip


def estimate(mu_mv: float, sigma_mv: float):
    m = NeuroModel(**CELL, mu_mv=mu_mv, sigma_mv=sigma_mv).run()
    t, ids, v = m.voltages()
    st, sn = m.spikes()
    p = m.params
    return membrane_input(v, t, ids, st, sn, p.tau_m_ms, p.v_th_mv, p.v_reset_mv, p.t_ref_ms), st.size


@pytest.mark.parametrize(
    ("mu_mv", "sigma_mv", "min_spikes"),
    [(10.0, 2.0, 0), (18.0, 3.0, 3000), (25.0, 1.0, 10_000)],
    ids=["never fires", "fluctuation-driven 12 Hz", "mean-driven 42 Hz"],
)
def test_white_noise_input_is_recovered_from_the_membrane(mu_mv, sigma_mv, min_spikes):
    """The estimator is exact for an OU membrane with resets and refractory clamps undone.

    With n independent windows of lag L (b = e^(-L/tau)), var(r) has relative standard error
    sqrt(2 / n), so sigma has sqrt(1 / (2 n)); mean(r) has standard error sd(r) / sqrt(n) with
    sd(r) = sigma sqrt((1 - b^2) / 2), divided by (1 - b) for mu. Both within 4 standard errors: no
    slack for bias, which white noise leaves none of (no overshoot above threshold). Dropping the
    windows with a spike instead leaves sigma 8 % low at 12 Hz.
    """
    est, n_spikes = estimate(mu_mv, sigma_mv)
    assert n_spikes >= min_spikes
    b = math.exp(-est.lag_ms / 20.0)
    assert est.lag_ms == 10.0 and est.n_pairs > 15_000
    se_sigma = sigma_mv / math.sqrt(2 * est.n_pairs)
    se_mu = sigma_mv * math.sqrt((1 - b * b) / 2) / math.sqrt(est.n_pairs) / (1 - b)
    assert est.sigma_mv == pytest.approx(sigma_mv, abs=4 * se_sigma)
    assert est.mu_mv == pytest.approx(mu_mv, abs=4 * se_mu)
