"""Irregularity of a white-noise-driven LIF neuron: the coefficient of variation of its ISIs.

For ``tau dV = (mu - V) dt + sigma sqrt(tau) dW`` with threshold ``theta``, reset ``V_r`` and
refractory period ``t_ref`` (Brunel 2000, J Comput Neurosci 8:183, eq. A.9; Tuckwell 1988)::

    CV^2 = 2 pi (nu tau)^2 integral_{y_r}^{y_th} exp(x^2) dx integral_{-inf}^{x} exp(y^2) (1 + erf y)^2 dy

with ``y = (V - mu) / sigma`` and ``nu`` the Siegert rate. Intended for moderate inputs
(``|y| < ~10``), the regime of network states.
"""

from __future__ import annotations

import math

from scipy.integrate import quad
from scipy.special import erfcx

from neuroabm.theory.siegert import siegert_rate


def _inner(x: float) -> float:
    # exp(y^2) (1 + erf y)^2 = erfcx(-y)^2 exp(-y^2): bounded and smooth for y <= 0
    value, _ = quad(lambda y: erfcx(-y) ** 2 * math.exp(-y * y), -math.inf, x, epsabs=0.0, epsrel=1e-10, limit=200)
    return value


def isi_cv(
    mu_mv: float,
    sigma_mv: float,
    tau_m_ms: float = 20.0,
    v_th_mv: float = 20.0,
    v_reset_mv: float = 10.0,
    t_ref_ms: float = 2.0,
) -> float:
    """CV of the inter-spike intervals of a white-noise-driven LIF neuron (dimensionless).

    Args:
        mu_mv: mean input [mV].
        sigma_mv: noise amplitude [mV], > 0.
        tau_m_ms: membrane time constant [ms].
        v_th_mv: threshold [mV].
        v_reset_mv: reset [mV].
        t_ref_ms: refractory period [ms].

    """
    nu_per_ms = siegert_rate(mu_mv, sigma_mv, tau_m_ms, v_th_mv, v_reset_mv, t_ref_ms) / 1000.0
    y_r = (v_reset_mv - mu_mv) / sigma_mv
    y_th = (v_th_mv - mu_mv) / sigma_mv
    outer, _ = quad(lambda x: math.exp(x * x) * _inner(x), y_r, y_th, epsabs=0.0, epsrel=1e-9, limit=200)
    return math.sqrt(2.0 * math.pi * (nu_per_ms * tau_m_ms) ** 2 * outer)
