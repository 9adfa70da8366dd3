"""First passage of a perfect (non-leaky) integrator with white noise through a fixed barrier.

The membrane ``x`` starts at 0 at ``t = 0`` and follows ``dx = mu dt + sigma dW``; the
neuron fires when ``x`` first reaches the barrier ``a > 0``. The first-passage time density
is the inverse Gaussian (Wald) distribution::

    F(t) = a / (sigma sqrt(2 pi t^3)) exp(-(a - mu t)^2 / (2 sigma^2 t))

with mean ``a / mu`` and ``CV^2 = sigma^2 / (a mu)`` for ``mu > 0``. The density of paths that
have not yet fired follows from the method of images (an absorbing barrier at ``a``)::

    P(x, t) = (2 pi sigma^2 t)^(-1/2) [exp(-(x - mu t)^2 / (2 sigma^2 t))
              - exp(2 mu a / sigma^2) exp(-(x - 2a - mu t)^2 / (2 sigma^2 t))],   x < a

its integral over ``x < a`` is the survival probability ``S(t)`` and ``F = -dS/dt``.

Units only need to be consistent; in the package ``t`` is in ms, ``x`` and ``a`` in mV,
``mu`` in mV/ms and ``sigma`` in mV/ms^(1/2), so densities are per ms (``F``) and per mV (``P``).
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
from scipy.stats import norm

from neuroabm.checks import finite, positive

__all__ = [
    "image_occupation_density",
    "inverse_gaussian_cdf",
    "inverse_gaussian_cv",
    "inverse_gaussian_mean",
    "inverse_gaussian_pdf",
]

_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)


def _output(values: np.ndarray, scalar: bool) -> float | np.ndarray:
    """Return a Python float for scalar input, the array otherwise."""
    return float(values) if scalar else values


def inverse_gaussian_pdf(t: npt.ArrayLike, a: float, mu: float, sigma: float) -> float | np.ndarray:
    """First-passage time density of ``dx = mu dt + sigma dW`` from 0 to the barrier ``a``.

    ``F(t) = a / (sigma sqrt(2 pi t^3)) exp(-(a - mu t)^2 / (2 sigma^2 t))`` for ``t > 0`` and
    0 for ``t <= 0`` (evaluated in log space, so tiny and huge ``t`` do not overflow). For
    ``mu > 0`` this is the inverse Gaussian density and integrates to 1; for ``mu = 0`` it is the
    Levy density (infinite mean) and for ``mu < 0`` it integrates to ``exp(2 a mu / sigma^2)``.

    Args:
        t: Time(s) since the start at ``x = 0`` [ms]; any shape.
        a: Barrier height ``a`` above the start [mV]; > 0.
        mu: Drift ``mu`` [mV/ms].
        sigma: Noise amplitude ``sigma`` [mV/ms^(1/2)]; > 0.

    Returns:
        The density ``F(t)`` [1/ms], a float for scalar ``t`` or an array of the shape of ``t``.
        NaN entries of ``t`` give NaN.

    Raises:
        ValueError: If ``a <= 0``, ``sigma <= 0`` or a parameter is non-finite.

    """
    a = positive("a", a, "mV")
    mu = finite("mu", mu)
    sigma = positive("sigma", sigma, "mV/ms^(1/2)")
    t_arr = np.asarray(t, dtype=float)
    out = np.zeros(t_arr.shape)
    inside = (t_arr > 0.0) & np.isfinite(t_arr)
    tp = t_arr[inside]
    log_f = (
        math.log(a) - math.log(sigma) - _LOG_SQRT_2PI - 1.5 * np.log(tp) - (a - mu * tp) ** 2 / (2.0 * sigma**2 * tp)
    )
    out[inside] = np.exp(log_f)
    out[np.isnan(t_arr)] = np.nan
    return _output(out, t_arr.ndim == 0)


def inverse_gaussian_cdf(t: npt.ArrayLike, a: float, mu: float, sigma: float) -> float | np.ndarray:
    """Probability that ``dx = mu dt + sigma dW`` has reached the barrier ``a`` by time ``t``.

    Closed form (``Phi`` the standard normal cdf)::

        P(T <= t) = Phi((mu t - a) / (sigma sqrt t)) + exp(2 a mu / sigma^2) Phi(-(a + mu t) / (sigma sqrt t))

    The second term is evaluated as ``exp(2 a mu / sigma^2 + log Phi(...))`` so it does not
    overflow for large ``a mu / sigma^2``. Suitable as the ``cdf`` argument of
    :func:`scipy.stats.kstest` (e.g. ``lambda t: inverse_gaussian_cdf(t, a, mu, sigma)``).
    For ``mu < 0`` the limit ``t -> inf`` is ``exp(2 a mu / sigma^2) < 1`` (the barrier may
    never be reached).

    Args:
        t: Time(s) since the start at ``x = 0`` [ms]; any shape. ``t <= 0`` gives 0.
        a: Barrier height ``a`` above the start [mV]; > 0.
        mu: Drift ``mu`` [mV/ms].
        sigma: Noise amplitude ``sigma`` [mV/ms^(1/2)]; > 0.

    Returns:
        The cumulative first-passage probability (dimensionless, in ``[0, 1]``), a float for
        scalar ``t`` or an array of the shape of ``t``. NaN entries of ``t`` give NaN.

    Raises:
        ValueError: If ``a <= 0``, ``sigma <= 0`` or a parameter is non-finite.

    """
    a = positive("a", a, "mV")
    mu = finite("mu", mu)
    sigma = positive("sigma", sigma, "mV/ms^(1/2)")
    t_arr = np.asarray(t, dtype=float)
    out = np.zeros(t_arr.shape)
    inside = (t_arr > 0.0) & np.isfinite(t_arr)
    tp = t_arr[inside]
    scale = sigma * np.sqrt(tp)
    direct = norm.cdf((mu * tp - a) / scale)
    with np.errstate(over="ignore"):
        image = np.exp(2.0 * a * mu / sigma**2 + norm.logcdf(-(a + mu * tp) / scale))
    out[inside] = np.clip(direct + image, 0.0, 1.0)
    out[np.isposinf(t_arr)] = 1.0 if mu >= 0.0 else math.exp(2.0 * a * mu / sigma**2)
    out[np.isnan(t_arr)] = np.nan
    return _output(out, t_arr.ndim == 0)


def inverse_gaussian_mean(a: float, mu: float) -> float:
    """Mean first-passage time ``a / mu`` of ``dx = mu dt + sigma dW`` from 0 to ``a``.

    Independent of the noise ``sigma``: on average the barrier is reached when the drift alone
    would reach it.

    Args:
        a: Barrier height ``a`` above the start [mV]; > 0.
        mu: Drift ``mu`` [mV/ms]; > 0 (for ``mu <= 0`` the mean is infinite).

    Returns:
        The mean first-passage time [ms].

    Raises:
        ValueError: If ``a <= 0`` or ``mu <= 0`` or an argument is non-finite.

    """
    a = positive("a", a, "mV")
    mu = positive("mu", mu, "mV/ms")
    return a / mu


def inverse_gaussian_cv(a: float, mu: float, sigma: float) -> float:
    """Coefficient of variation ``sqrt(sigma^2 / (a mu))`` of the first-passage time.

    The variance of the inverse Gaussian is ``a sigma^2 / mu^3``; divided by the squared mean
    ``(a / mu)^2`` it gives ``CV^2 = sigma^2 / (a mu)``.

    Args:
        a: Barrier height ``a`` above the start [mV]; > 0.
        mu: Drift ``mu`` [mV/ms]; > 0.
        sigma: Noise amplitude ``sigma`` [mV/ms^(1/2)]; > 0.

    Returns:
        The coefficient of variation (standard deviation / mean, dimensionless).

    Raises:
        ValueError: If an argument is non-finite or not positive.

    """
    a = positive("a", a, "mV")
    mu = positive("mu", mu, "mV/ms")
    sigma = positive("sigma", sigma, "mV/ms^(1/2)")
    return math.sqrt(sigma**2 / (a * mu))


def image_occupation_density(
    x: npt.ArrayLike, t: npt.ArrayLike, a: float, mu: float, sigma: float
) -> float | np.ndarray:
    """Density of surviving paths of ``dx = mu dt + sigma dW`` with an absorbing barrier at ``a``.

    Method of images: a free Gaussian from the source at 0 minus an image source at ``2a``
    weighted by ``exp(2 mu a / sigma^2)``::

        P(x, t) = (2 pi sigma^2 t)^(-1/2) [exp(-(x - mu t)^2 / (2 sigma^2 t))
                  - exp(2 mu a / sigma^2) exp(-(x - 2a - mu t)^2 / (2 sigma^2 t))]

    for ``x < a`` and 0 for ``x >= a``. It is evaluated in the algebraically identical form
    ``(2 pi sigma^2 t)^(-1/2) exp(-(x - mu t)^2 / (2 sigma^2 t)) (1 - exp(-2 a (a - x) / (sigma^2 t)))``,
    which has no large exponentials and vanishes exactly at the barrier. Its integral over
    ``x < a`` is the survival probability ``1 - inverse_gaussian_cdf(t, ...)`` and the
    probability flux ``-(sigma^2 / 2) dP/dx`` at ``x = a`` is the first-passage density.

    Args:
        x: Position(s) of the membrane variable [mV]; broadcast against ``t``.
        t: Time(s) since the start at ``x = 0`` [ms]; every entry must be finite and > 0.
        a: Barrier height ``a`` above the start [mV]; > 0.
        mu: Drift ``mu`` [mV/ms].
        sigma: Noise amplitude ``sigma`` [mV/ms^(1/2)]; > 0.

    Returns:
        The density ``P(x, t)`` [1/mV], a float when ``x`` and ``t`` are scalars or an array of
        their broadcast shape.

    Raises:
        ValueError: If ``a <= 0``, ``sigma <= 0``, a parameter is non-finite or some ``t <= 0``.

    """
    a = positive("a", a, "mV")
    mu = finite("mu", mu)
    sigma = positive("sigma", sigma, "mV/ms^(1/2)")
    x_arr, t_arr = np.broadcast_arrays(np.asarray(x, dtype=float), np.asarray(t, dtype=float))
    if not np.all((t_arr > 0.0) & np.isfinite(t_arr)):
        raise ValueError("t must be finite and > 0 ms everywhere (P(x, 0) is a delta function at x = 0)")
    var = sigma**2 * t_arr
    free = np.exp(-((x_arr - mu * t_arr) ** 2) / (2.0 * var)) / np.sqrt(2.0 * np.pi * var)
    distance = np.maximum(a - x_arr, 0.0)  # distance below the barrier [mV]
    absorbed = -np.expm1(-2.0 * a * distance / var)
    out = np.where(x_arr < a, free * absorbed, 0.0)
    return _output(out, out.ndim == 0)
