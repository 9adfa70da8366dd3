"""Stationary firing rate of a leaky integrate-and-fire neuron driven by white noise.

The membrane obeys ``tau dV = (mu - V) dt + sigma sqrt(tau) dW``; when ``V`` reaches the
threshold ``theta`` the neuron spikes, is clamped for ``t_ref`` and restarts from ``V_r``. The
mean inter-spike interval is the refractory period plus the mean first-passage time from ``V_r``
to ``theta`` (Siegert 1951; see Brunel 2000, J Comput Neurosci 8:183, eq. 21)::

    1 / nu = t_ref + tau sqrt(pi) * integral_{(V_r - mu)/sigma}^{(theta - mu)/sigma} exp(u^2) (1 + erf u) du

The integrand ``exp(u^2) (1 + erf u)`` equals ``erfcx(-u)``, the scaled complementary error
function, which is bounded (by 1) for ``u <= 0`` and is evaluated without cancellation. For
``u > 0`` the integrand grows like ``2 exp(u^2)``; that part is integrated with ``exp(b^2)``
factored out, so the result overflows cleanly to ``inf`` (rate exactly 0) only when the true
value exceeds the floating-point range.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from scipy.integrate import quad
from scipy.special import erf, erfcx

from neuroabm.checks import finite

__all__ = ["siegert_mean_isi_ms", "siegert_rate"]

#: relative accuracy requested from every quadrature
_EPSREL = 1e-11
#: subinterval limit handed to ``scipy.integrate.quad``
_LIMIT = 200
#: ``exp(-_LOG_CUTOFF)`` is negligible next to 1 in double precision (with a wide margin)
_LOG_CUTOFF = 800.0


def _quad(func: Callable[[float], float], lo: float, hi: float) -> float:
    """Integrate ``func`` over ``[lo, hi]`` to relative accuracy ``_EPSREL``."""
    if hi <= lo:
        return 0.0
    value, _ = quad(func, lo, hi, epsabs=0.0, epsrel=_EPSREL, limit=_LIMIT)
    return float(value)


def _integral_nonpositive(lo: float, hi: float) -> float:
    """Integral of ``erfcx(-u)`` over ``[lo, hi]`` with ``lo <= hi <= 0`` (dimensionless).

    On ``[-1, 0]`` the integrand is integrated directly. Below ``-1`` it decays like
    ``1 / (sqrt(pi) |u|)``, so the substitution ``u = -exp(s)`` turns it into the smooth, nearly
    constant integrand ``exp(s) erfcx(exp(s))``; this keeps the quadrature accurate even when
    the limits are ``-1e7``, as happens for a weak noise ``sigma``.
    """
    total = _quad(lambda u: float(erfcx(-u)), max(lo, -1.0), hi)
    if lo < -1.0:
        s_lo = math.log(-min(hi, -1.0))
        s_hi = math.log(-lo)
        total += _quad(lambda s: math.exp(s) * float(erfcx(math.exp(s))), s_lo, s_hi)
    return total


def _integral_positive(lo: float, hi: float) -> float:
    """Integral of ``exp(u^2) (1 + erf u)`` over ``[lo, hi]`` with ``0 <= lo <= hi`` (dimensionless).

    Written as ``exp(hi^2) * J``. With ``w = hi - u`` the rescaled integral is
    ``J = integral_0^{hi - lo} exp(-w (2 hi - w)) (1 + erf(hi - w)) dw``, whose integrand lies in
    ``[0, 2]``. Since ``w (2 hi - w) >= w hi``, points with ``w > 800 / hi`` contribute less
    than ``exp(-800)`` relative to the neighbourhood of ``w = 0`` and are skipped, which keeps
    the quadrature resolved for any ``hi``. Returns ``inf`` when the result exceeds the
    double-precision range.
    """
    width = hi - lo
    if width <= 0.0:
        return 0.0
    if hi > 0.0:
        width = min(width, _LOG_CUTOFF / hi)

    def scaled(w: float) -> float:
        return math.exp(-w * (2.0 * hi - w)) * (1.0 + float(erf(hi - w)))

    j_scaled = _quad(scaled, 0.0, width)
    if j_scaled <= 0.0:
        return 0.0
    log_total = hi * hi + math.log(j_scaled)
    if log_total > math.log(np.finfo(float).max):
        return math.inf
    return math.exp(log_total)


def _siegert_integral(y_reset: float, y_threshold: float) -> float:
    """Integral of ``erfcx(-u)`` from ``y_reset`` to ``y_threshold`` (dimensionless, may be inf)."""
    total = 0.0
    if y_reset < 0.0:
        total += _integral_nonpositive(y_reset, min(y_threshold, 0.0))
    if y_threshold > 0.0:
        total += _integral_positive(max(y_reset, 0.0), y_threshold)
    return total


def _validate(
    mu_mv: float,
    sigma_mv: float,
    tau_m_ms: float,
    v_th_mv: float,
    v_reset_mv: float,
    t_ref_ms: float,
) -> tuple[float, float, float, float, float, float]:
    """Check the Siegert arguments and return them as floats."""
    mu = finite("mu_mv", mu_mv)
    sigma = float(sigma_mv)
    if not (math.isfinite(sigma) and sigma > 0.0):
        raise ValueError(
            f"sigma_mv must be a finite number > 0 mV (got {sigma_mv!r}); the Siegert formula "
            "needs a noisy input — for sigma -> 0 use the deterministic LIF period "
            "t_ref + tau ln((mu - V_r) / (mu - theta)) when mu > theta"
        )
    tau = finite("tau_m_ms", tau_m_ms)
    if tau <= 0.0:
        raise ValueError(f"tau_m_ms must be > 0 ms (got {tau_m_ms!r})")
    theta = finite("v_th_mv", v_th_mv)
    v_r = finite("v_reset_mv", v_reset_mv)
    if not v_r < theta:
        raise ValueError(f"v_reset_mv must be below v_th_mv (got v_reset_mv={v_reset_mv!r}, v_th_mv={v_th_mv!r})")
    t_ref = finite("t_ref_ms", t_ref_ms)
    if t_ref < 0.0:
        raise ValueError(f"t_ref_ms must be >= 0 ms (got {t_ref_ms!r})")
    return mu, sigma, tau, theta, v_r, t_ref


def siegert_mean_isi_ms(
    mu_mv: float,
    sigma_mv: float,
    tau_m_ms: float = 20.0,
    v_th_mv: float = 20.0,
    v_reset_mv: float = 10.0,
    t_ref_ms: float = 2.0,
) -> float:
    """Mean inter-spike interval of a white-noise-driven LIF neuron (Siegert formula).

    ``t_ref + tau sqrt(pi) * integral_{(V_r-mu)/sigma}^{(theta-mu)/sigma} erfcx(-u) du``, i.e.
    the refractory period plus the mean first-passage time from reset to threshold of
    ``tau dV = (mu - V) dt + sigma sqrt(tau) dW``. Equal to ``1000 / siegert_rate(...)``.

    Args:
        mu_mv: Mean input ``mu`` (asymptotic mean membrane potential without threshold) [mV].
        sigma_mv: Input noise amplitude ``sigma`` (standard deviation of the free membrane
            potential is ``sigma / sqrt(2)``) [mV]; must be > 0.
        tau_m_ms: Membrane time constant ``tau`` [ms]; > 0.
        v_th_mv: Firing threshold ``theta`` [mV].
        v_reset_mv: Reset potential ``V_r`` [mV]; must be below ``v_th_mv``.
        t_ref_ms: Absolute refractory period ``t_ref`` [ms]; >= 0.

    Returns:
        The mean inter-spike interval [ms]; ``inf`` when it exceeds the double-precision range
        (deeply subthreshold input with weak noise).

    Raises:
        ValueError: If ``sigma_mv <= 0`` or an argument is non-finite or out of range.

    """
    mu, sigma, tau, theta, v_r, t_ref = _validate(mu_mv, sigma_mv, tau_m_ms, v_th_mv, v_reset_mv, t_ref_ms)
    integral = _siegert_integral((v_r - mu) / sigma, (theta - mu) / sigma)
    return t_ref + tau * math.sqrt(math.pi) * integral


def siegert_rate(
    mu_mv: float,
    sigma_mv: float,
    tau_m_ms: float = 20.0,
    v_th_mv: float = 20.0,
    v_reset_mv: float = 10.0,
    t_ref_ms: float = 2.0,
) -> float:
    """Stationary firing rate of a white-noise-driven LIF neuron (Siegert formula).

    The neuron follows ``tau dV = (mu - V) dt + sigma sqrt(tau) dW`` below the threshold
    ``theta``, is reset to ``V_r`` and held there for ``t_ref`` after each spike. The rate is
    the inverse of the mean inter-spike interval (:func:`siegert_mean_isi_ms`)::

        1 / nu = t_ref + tau sqrt(pi) * integral_{(V_r-mu)/sigma}^{(theta-mu)/sigma} exp(u^2) (1 + erf u) du

    Reference values (tau 20 ms, t_ref 2 ms, theta 20 mV, V_r 10 mV): ``(mu, sigma) = (15, 5)``
    gives 9.461 Hz, ``(20, 5)`` 27.34 Hz, ``(25, 2)`` 42.85 Hz, ``(10, 10)`` 12.08 Hz. For
    ``sigma -> 0`` the rate tends to 0 if ``mu <= theta`` and to the deterministic LIF rate
    ``1 / (t_ref + tau ln((mu - V_r) / (mu - theta)))`` if ``mu > theta``; small positive
    ``sigma`` is handled accurately, ``sigma <= 0`` is rejected.

    Args:
        mu_mv: Mean input ``mu`` (asymptotic mean membrane potential without threshold) [mV].
        sigma_mv: Input noise amplitude ``sigma`` [mV]; must be > 0.
        tau_m_ms: Membrane time constant ``tau`` [ms]; > 0.
        v_th_mv: Firing threshold ``theta`` [mV].
        v_reset_mv: Reset potential ``V_r`` [mV]; must be below ``v_th_mv``.
        t_ref_ms: Absolute refractory period ``t_ref`` [ms]; >= 0.

    Returns:
        The stationary firing rate [Hz] (spikes per second), in ``[0, 1000 / t_ref_ms)``.
        Exactly 0.0 when the mean interval overflows the double-precision range.

    Raises:
        ValueError: If ``sigma_mv <= 0`` or an argument is non-finite or out of range.

    """
    isi_ms = siegert_mean_isi_ms(mu_mv, sigma_mv, tau_m_ms, v_th_mv, v_reset_mv, t_ref_ms)
    if not math.isfinite(isi_ms):
        return 0.0
    return 1000.0 / isi_ms
