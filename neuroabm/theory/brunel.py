"""Mean-field theory of the sparse excitatory-inhibitory LIF network of Brunel (2000), model A.

Brunel N (2000) Dynamics of sparsely connected networks of excitatory and inhibitory spiking
neurons. J Comput Neurosci 8:183-208.

Every neuron receives ``C_E`` excitatory synapses of efficacy ``J``, ``C_I = gamma C_E``
inhibitory synapses of efficacy ``-g J`` and ``C_E`` external Poisson inputs of rate
``nu_ext`` and efficacy ``J``. In the diffusion approximation the recurrent and external
input to a neuron is white noise with mean ``mu`` and amplitude ``sigma`` (Brunel 2000,
eqs. 4-5)::

    mu      = C_E J   tau [nu_ext + nu (1 - g gamma)]
    sigma^2 = C_E J^2 tau [nu_ext + nu (1 + g^2 gamma)]

and the stationary rate ``nu`` of the asynchronous state solves the self-consistency
``nu = Siegert(mu(nu), sigma(nu))`` (eq. 21). The external drive is measured by
``eta = nu_ext / nu_thr`` with ``nu_thr = theta / (J C_E tau)``, the external rate that brings
the mean input to threshold without recurrent activity.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.optimize import brentq

from neuroabm.checks import non_negative, positive
from neuroabm.theory.siegert import siegert_rate

__all__ = ["brunel_input", "brunel_rate", "nu_threshold_hz"]

#: number of log-spaced rates scanned for the lowest sign change of the self-consistency
_N_SCAN = 400
#: lowest scanned rate as a fraction of the saturation rate 1 / t_ref
_SCAN_FLOOR = 1e-12


def nu_threshold_hz(v_th_mv: float, j_mv: float, k_exc: float, tau_m_ms: float) -> float:
    """External rate that drives the mean membrane potential to threshold (Brunel 2000).

    ``nu_thr = theta / (J C_E tau)``: with ``C_E`` external inputs of rate ``nu_thr`` and no
    recurrent activity the mean input ``mu`` equals the threshold ``theta``.

    Args:
        v_th_mv: Firing threshold ``theta`` [mV]; > 0.
        j_mv: Excitatory synaptic efficacy ``J`` (PSP jump) [mV]; > 0.
        k_exc: Number of excitatory (and external) inputs per neuron ``C_E``; > 0.
        tau_m_ms: Membrane time constant ``tau`` [ms]; > 0.

    Returns:
        The threshold rate ``nu_thr`` [Hz] per external input.

    Raises:
        ValueError: If an argument is non-finite or not positive.

    """
    theta = positive("v_th_mv", v_th_mv, "mV")
    j = positive("j_mv", j_mv, "mV")
    c_e = positive("k_exc", k_exc, "synapses")
    tau_s = positive("tau_m_ms", tau_m_ms, "ms") * 1e-3
    return theta / (j * c_e * tau_s)


def brunel_input(
    nu_hz: float,
    nu_ext_hz: float,
    k_exc: float,
    k_inh: float,
    j_mv: float,
    g: float,
    tau_m_ms: float,
    exc_q2: float = 1.0,
) -> tuple[float, float]:
    """Mean and amplitude of the total input in the diffusion approximation (Brunel 2000).

    With ``gamma = C_I / C_E`` and ``tau`` in seconds::

        mu      = C_E J   tau [nu_ext + nu (1 - g gamma)]
        sigma^2 = C_E J^2 tau [nu_ext + nu (q2 + g^2 gamma)]

    ``q2 = E[q^2]`` (``exc_q2``) is the second moment of a random factor ``q`` with ``E[q] = 1``
    that scales every recurrent excitatory PSP (quantal variability, :mod:`neuroabm.model.quantal`):
    the mean is unchanged and the shot-noise variance per excitatory spike becomes ``J^2 E[q^2]``.
    External inputs keep the fixed amplitude ``J``. ``q2 = 1`` is Brunel's model.

    Args:
        nu_hz: Firing rate ``nu`` of the recurrent (excitatory and inhibitory) neurons [Hz]; >= 0.
        nu_ext_hz: Rate ``nu_ext`` of each external Poisson input [Hz]; >= 0.
        k_exc: Excitatory in-degree ``C_E`` (also the number of external inputs); > 0.
        k_inh: Inhibitory in-degree ``C_I``; >= 0.
        j_mv: Excitatory efficacy ``J`` [mV]; > 0. Inhibitory synapses have ``-g J``.
        g: Relative strength of inhibition (dimensionless); >= 0.
        tau_m_ms: Membrane time constant ``tau`` [ms]; > 0.
        exc_q2: ``E[q^2]`` of the recurrent excitatory amplitude factor (dimensionless); >= 1.

    Returns:
        ``(mu_mv, sigma_mv)``: mean input ``mu`` [mV] and noise amplitude ``sigma`` [mV], in the
        convention ``tau dV = (mu - V) dt + sigma sqrt(tau) dW`` of
        :func:`neuroabm.theory.siegert_rate`.

    Raises:
        ValueError: If an argument is non-finite or out of range.

    """
    nu = non_negative("nu_hz", nu_hz, "Hz")
    nu_ext = non_negative("nu_ext_hz", nu_ext_hz, "Hz")
    c_e = positive("k_exc", k_exc, "synapses")
    c_i = non_negative("k_inh", k_inh, "synapses")
    j = positive("j_mv", j_mv, "mV")
    g = non_negative("g", g, "(dimensionless)")
    tau_s = positive("tau_m_ms", tau_m_ms, "ms") * 1e-3
    q2 = positive("exc_q2", exc_q2, "(dimensionless)")
    if q2 < 1.0:
        raise ValueError(f"exc_q2 must be >= 1, as E[q^2] >= E[q]^2 = 1 (got {exc_q2!r})")
    gamma = c_i / c_e
    mu = c_e * j * tau_s * (nu_ext + nu * (1.0 - g * gamma))
    var = c_e * j * j * tau_s * (nu_ext + nu * (q2 + g * g * gamma))
    return mu, math.sqrt(var)


def brunel_rate(
    eta: float,
    g: float,
    k_exc: float = 800,
    k_inh: float = 200,
    j_mv: float = 0.1,
    tau_m_ms: float = 20.0,
    v_th_mv: float = 20.0,
    v_reset_mv: float = 10.0,
    t_ref_ms: float = 2.0,
    exc_q2: float = 1.0,
) -> float:
    """Self-consistent stationary rate of Brunel's (2000) model A network.

    Brunel N (2000) J Comput Neurosci 8:183. Solves ``nu = siegert_rate(mu(nu), sigma(nu))``
    with ``mu``, ``sigma`` from :func:`brunel_input` and ``nu_ext = eta * nu_thr``
    (:func:`nu_threshold_hz`). The mismatch ``f(nu) = Siegert(nu) - nu`` is positive at
    ``nu = 0`` and negative at the saturation rate ``1 / t_ref``; it is evaluated on a
    log-spaced grid of ``(0, 1 / t_ref]`` and the first sign change is refined with
    :func:`scipy.optimize.brentq`.

    If several fixed points exist (e.g. a quiescent and an active state for weak external
    drive), the **lowest** one is returned. Two roots closer together than the scan spacing
    (a factor of about 1.08 in rate) could be missed; the returned value is always a root.

    This is the rate of the asynchronous (irregular) state; whether that state is stable
    (versus synchronous oscillations) is not assessed here.

    Args:
        eta: External drive relative to threshold, ``nu_ext / nu_thr`` (dimensionless); >= 0.
        g: Relative strength of inhibition (dimensionless); >= 0.
        k_exc: Excitatory in-degree ``C_E``; > 0.
        k_inh: Inhibitory in-degree ``C_I``; >= 0.
        j_mv: Excitatory efficacy ``J`` [mV]; > 0.
        tau_m_ms: Membrane time constant ``tau`` [ms]; > 0.
        v_th_mv: Firing threshold ``theta`` [mV]; > 0.
        v_reset_mv: Reset potential ``V_r`` [mV]; below ``v_th_mv``.
        t_ref_ms: Absolute refractory period ``t_ref`` [ms]; > 0 (it bounds the rate).
        exc_q2: ``E[q^2]`` of a mean-1 random factor on every recurrent excitatory PSP
            (quantal variability; see :func:`brunel_input`); >= 1, 1 = Brunel's model.

    Returns:
        The lowest self-consistent firing rate ``nu`` [Hz]. It is 0.0 when ``eta = 0`` (no input,
        no activity) or when the rate without recurrent input underflows to zero.

    Raises:
        ValueError: If an argument is non-finite or out of range.

    """
    eta = non_negative("eta", eta, "(dimensionless)")
    t_ref = positive("t_ref_ms", t_ref_ms, "ms")
    nu_ext = eta * nu_threshold_hz(v_th_mv, j_mv, k_exc, tau_m_ms)
    nu_max = 1000.0 / t_ref

    def mismatch(nu: float) -> float:
        mu, sigma = brunel_input(nu, nu_ext, k_exc, k_inh, j_mv, g, tau_m_ms, exc_q2)
        return siegert_rate(mu, sigma, tau_m_ms, v_th_mv, v_reset_mv, t_ref) - nu

    if eta == 0.0:
        # Validate the remaining arguments, then return the silent fixed point.
        brunel_input(0.0, 0.0, k_exc, k_inh, j_mv, g, tau_m_ms, exc_q2)
        return 0.0
    f_prev = mismatch(0.0)
    if f_prev <= 0.0:
        return 0.0
    nu_prev = 0.0
    for nu in np.geomspace(_SCAN_FLOOR * nu_max, nu_max, _N_SCAN):
        f_nu = mismatch(float(nu))
        if f_nu == 0.0:
            return float(nu)
        if f_nu < 0.0:
            root = brentq(mismatch, nu_prev, float(nu), xtol=1e-300, rtol=1e-13, maxiter=500)
            return float(root)
        nu_prev, f_prev = float(nu), f_nu
    # Unreachable for t_ref > 0: Siegert(nu_max) < nu_max.
    raise RuntimeError("no self-consistent rate found in (0, 1 / t_ref)")  # pragma: no cover
