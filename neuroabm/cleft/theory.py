"""Exact references for the cleft simulation: lateral diffusion, first passage to a circle, capture.

All functions are pure and vectorized; lengths in nm, times in us, ``D`` in nm^2/us.

* Free lateral diffusion from a point (the faces reflect, so the lateral motion is free 2D
  Brownian motion): the distance ``r`` from the start has density
  ``P(r, t) = r / (2 D t) exp(-r^2 / (4 D t))`` and ``E[r^2] = 4 D t``.
* First passage from the centre of a disc of radius ``R`` to its rim (Carslaw & Jaeger 1959;
  Redner 2001, ch. 2): survival ``S(t) = sum_n 2 / (j_n J_1(j_n)) exp(-j_n^2 D t / R^2)`` with
  ``j_n`` the zeros of ``J_0``, density ``F = -dS/dt``, mean ``R^2 / (4 D)``, variance
  ``R^4 / (32 D^2)``.
* Capture by an absorbing hemisphere of radius ``a`` on a reflecting wall, in a uniform bath of
  density ``c``: by images, half of Smoluchowski's sphere, so the captures by time ``t`` are
  ``N(t) = c 2 pi D a (t + 2 a sqrt(t / (pi D)))`` (the time integral of ``k(t) = 2 pi D a (1 + a
  / sqrt(pi D t))``; Smoluchowski 1917). With capture tested only at the ends of steps of length
  ``dt``, the sphere acts as one of radius ``a - beta sqrt(2 D dt)``, ``beta = -zeta(1/2) /
  sqrt(2 pi) = 0.5826`` (the discrete-monitoring shift of Broadie, Glasserman & Kou 1997).
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
from scipy.special import j1, jn_zeros

from neuroabm.checks import non_negative, positive

__all__ = [
    "DISCRETE_MONITORING_BETA",
    "capture_count_hemisphere",
    "disc_exit_density",
    "disc_exit_mean",
    "disc_exit_survival",
    "disc_exit_variance",
    "effective_capture_radius",
    "radial_gaussian_cdf",
    "radial_gaussian_density",
]

#: -zeta(1/2) / sqrt(2 pi)
DISCRETE_MONITORING_BETA = 0.5825971579390106
_N_ZEROS = 200
_ZEROS = jn_zeros(0, _N_ZEROS)
_COEF = 2.0 / (_ZEROS * j1(_ZEROS))


def radial_gaussian_density(r_nm: npt.ArrayLike, t_us: float, d_nm2_per_us: float) -> np.ndarray:
    """Density [1/nm] of the distance ``r`` travelled in 2D by time ``t``.

    >>> float(radial_gaussian_density(0.0, 1.0, 300.0))
    0.0
    """
    four_dt = 4.0 * positive("D", d_nm2_per_us, "nm^2/us") * positive("t", t_us, "us")
    r = np.asarray(r_nm, float)
    return 2.0 * r / four_dt * np.exp(-(r * r) / four_dt)


def radial_gaussian_cdf(r_nm: npt.ArrayLike, t_us: float, d_nm2_per_us: float) -> np.ndarray:
    """``P(distance <= r)`` for 2D diffusion: ``1 - exp(-r^2 / (4 D t))``.

    >>> round(float(radial_gaussian_cdf(math.sqrt(4 * 300.0), 1.0, 300.0)), 6)
    0.632121
    """
    four_dt = 4.0 * positive("D", d_nm2_per_us, "nm^2/us") * positive("t", t_us, "us")
    r = np.asarray(r_nm, float)
    return -np.expm1(-(r * r) / four_dt)


def disc_exit_survival(t_us: npt.ArrayLike, radius_nm: float, d_nm2_per_us: float) -> np.ndarray:
    """Probability that a walker started at the centre has not reached radius ``R`` by ``t``.

    The Bessel series converges slowly for tiny ``t``; there ``S`` is 1 to double precision
    (the first passage needs ``D t / R^2`` of order 0.01 or more).

    >>> round(float(disc_exit_survival(0.0, 100.0, 300.0)), 3)
    1.0
    """
    tau = np.asarray(t_us, float) * positive("D", d_nm2_per_us, "nm^2/us") / positive("R", radius_nm, "nm") ** 2
    tau_c = np.maximum(tau, 0.0)[..., None]
    s = np.sum(_COEF * np.exp(-(_ZEROS**2) * tau_c), axis=-1)
    return np.where(tau < 0.005, 1.0, np.clip(s, 0.0, 1.0))


def disc_exit_density(t_us: npt.ArrayLike, radius_nm: float, d_nm2_per_us: float) -> np.ndarray:
    """First-passage density ``F(t)`` [1/us] from the centre to the circle of radius ``R``.

    >>> from scipy.integrate import quad
    >>> round(quad(lambda t: disc_exit_density(t, 100.0, 300.0), 0, 1e3, limit=200)[0], 6)
    1.0
    """
    d = positive("D", d_nm2_per_us, "nm^2/us")
    r2 = positive("R", radius_nm, "nm") ** 2
    tau = np.asarray(t_us, float) * d / r2
    tau_c = np.maximum(tau, 1e-12)[..., None]
    f = np.sum(_COEF * _ZEROS**2 * np.exp(-(_ZEROS**2) * tau_c), axis=-1) * d / r2
    return np.where(tau < 0.005, 0.0, f)


def disc_exit_mean(radius_nm: float, d_nm2_per_us: float) -> float:
    """Mean first-passage time ``R^2 / (4 D)`` [us] from the centre to the rim.

    >>> disc_exit_mean(200.0, 400.0)
    25.0
    """
    return positive("R", radius_nm, "nm") ** 2 / (4.0 * positive("D", d_nm2_per_us, "nm^2/us"))


def disc_exit_variance(radius_nm: float, d_nm2_per_us: float) -> float:
    """Variance ``R^4 / (32 D^2)`` [us^2] of that first-passage time (from ``E[T^2] = 3 R^4 / (32 D^2)``)."""
    return positive("R", radius_nm, "nm") ** 4 / (32.0 * positive("D", d_nm2_per_us, "nm^2/us") ** 2)


def effective_capture_radius(a_nm: float, d_nm2_per_us: float, dt_us: float) -> float:
    """Radius an absorbing sphere tested at step ends acts as: ``a - beta sqrt(2 D dt)``.

    >>> round(effective_capture_radius(10.0, 300.0, 0.001), 4)
    9.5487
    """
    return positive("a", a_nm, "nm") - DISCRETE_MONITORING_BETA * math.sqrt(
        2.0 * positive("D", d_nm2_per_us, "nm^2/us") * non_negative("dt", dt_us, "us")
    )


def capture_count_hemisphere(t_us: npt.ArrayLike, a_nm: float, d_nm2_per_us: float, c_per_nm3: float) -> np.ndarray:
    """Expected captures by an absorbing hemisphere on a reflecting wall by time ``t`` (uniform start).

    >>> round(float(capture_count_hemisphere(1.0, 10.0, 300.0, 1e-3)), 3)
    31.129
    """
    d = positive("D", d_nm2_per_us, "nm^2/us")
    a = positive("a", a_nm, "nm")
    t = np.asarray(t_us, float)
    return non_negative("c", c_per_nm3, "1/nm^3") * 2.0 * math.pi * d * a * (t + 2.0 * a * np.sqrt(t / (math.pi * d)))
