"""Branching processes: the reference for avalanche and branching-ratio analyses.

Two models, both with Poisson offspring (each active unit triggers ``Poisson(m)`` units in the
next time step, so ``A`` active units trigger ``Poisson(m A)``):

- the Galton–Watson process started from one seed: one *avalanche* per run, with size ``S`` (all
  units ever active) and duration ``T`` (number of generations with at least one active unit);
- the driven process ``A_{t+1} ~ Poisson(m A_t + h)`` (Wilting & Priesemann 2018, Nat Commun
  9:2325), stationary for ``m < 1`` with mean ``h / (1 - m)`` and variance ``mean / (1 - m^2)``.

Exact results used by the tests:

- sizes from one seed follow the Borel distribution ``P(S = s) = e^{-m s} (m s)^{s-1} / s!``
  (Borel 1942; Otter 1949), which at ``m = 1`` decays as ``s^{-3/2} / sqrt(2 pi)``: the mean-field
  size exponent ``tau = 3/2``;
- ``P(T <= t) = q_t`` with ``q_0 = 0`` and ``q_{t+1} = exp(m (q_t - 1))`` (the offspring generating
  function iterated); at ``m = 1``, ``P(T > t) ~ 2 / t`` (Kolmogorov 1938), so ``P(T = t) ~ t^-2``:
  the duration exponent ``alpha = 2``;
- the mean size of avalanches of duration ``T`` grows as ``T^gamma`` with ``gamma = 2`` at
  ``m = 1``, which satisfies the crackling-noise relation ``(alpha - 1) / (tau - 1) = gamma``
  (Sethna et al. 2001; Friedman et al. 2012);
- binomial subsampling (each event seen with probability ``p``) of the driven process scales all
  lagged correlations ``r_k = m^k`` by the same factor ``b`` (Wilting & Priesemann 2018), so the
  conventional (lag-1 regression) estimate is ``b m`` while the multistep-regression estimate is
  ``m``: see :func:`subsampled_regression_slope`.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numba as nb
import numpy as np
from scipy.special import gammaln

from neuroabm.checks import positive

__all__ = [
    "GaltonWatsonAvalanches",
    "avalanche_activity",
    "borel_pmf",
    "driven_branching_process",
    "driven_stationary_mean",
    "driven_stationary_variance",
    "galton_watson_avalanches",
    "gw_duration_cdf",
    "gw_duration_pmf",
    "gw_mean_size_given_duration",
    "subsampled_regression_slope",
]

#: default cap on the generations of one avalanche (only reached for m >= 1 in practice)
MAX_GENERATIONS = 10_000_000


class GaltonWatsonAvalanches(NamedTuple):
    """Avalanches of a Galton–Watson process, one per seed.

    Attributes:
        sizes: units ever active, seed included (int64).
        durations: generations with at least one active unit, seed generation included (int64).
        truncated: True where the avalanche was still alive after ``max_generations``.

    """

    sizes: np.ndarray
    durations: np.ndarray
    truncated: np.ndarray


def _check_m(m: float, allow_supercritical: bool = True) -> float:
    m = positive("m", m)
    if not allow_supercritical and m >= 1.0:
        raise ValueError(f"m must be a finite number in (0, 1) for a stationary driven process (got {m!r})")
    return m


def _check_count(name: str, value: int, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum} (got {value!r})")
    return int(value)


@nb.njit(cache=True)
def _gw_kernel(rng, m, n_avalanches, max_generations, record):  # pragma: no cover - numba
    sizes = np.empty(n_avalanches, np.int64)
    durations = np.empty(n_avalanches, np.int64)
    truncated = np.zeros(n_avalanches, np.bool_)
    trace = np.zeros(1024 if record else 0, np.int64)
    n_trace = 0
    for i in range(n_avalanches):
        active = 1
        size = 0
        t = 0
        while active > 0 and t < max_generations:
            if record:
                if n_trace >= trace.size:
                    grown = np.zeros(2 * trace.size, np.int64)
                    grown[:n_trace] = trace[:n_trace]
                    trace = grown
                trace[n_trace] = active
                n_trace += 1
            size += active
            t += 1
            active = rng.poisson(m * active)
        truncated[i] = active > 0
        sizes[i] = size
        durations[i] = t
        if record:  # one empty bin closes the avalanche
            if n_trace >= trace.size:
                grown = np.zeros(2 * trace.size, np.int64)
                grown[:n_trace] = trace[:n_trace]
                trace = grown
            n_trace += 1
    return sizes, durations, truncated, trace[:n_trace]


def galton_watson_avalanches(
    m: float, n_avalanches: int, rng: np.random.Generator, max_generations: int = MAX_GENERATIONS
) -> GaltonWatsonAvalanches:
    """Sizes and durations of independent avalanches, each from one seed, Poisson(m) offspring.

    The cost is one Poisson draw per generation (``A`` units draw ``Poisson(m A)`` children at
    once), so avalanches of size ``~T^2`` cost only ``T`` steps.

    Args:
        m: branching ratio (mean offspring per unit), > 0.
        n_avalanches: number of avalanches (seeds), >= 1.
        rng: the random generator (consumed).
        max_generations: avalanches alive after this many generations are stopped and flagged.

    """
    m = _check_m(m)
    n_avalanches = _check_count("n_avalanches", n_avalanches)
    max_generations = _check_count("max_generations", max_generations)
    sizes, durations, truncated, _ = _gw_kernel(rng, m, n_avalanches, max_generations, False)
    return GaltonWatsonAvalanches(sizes, durations, truncated)


def avalanche_activity(
    m: float, n_avalanches: int, rng: np.random.Generator, max_generations: int = MAX_GENERATIONS
) -> np.ndarray:
    """Activity of a branching process with separated time scales: one avalanche at a time.

    Each avalanche (one seed, Poisson(m) offspring) is written generation by generation as the
    number of active units per time bin, followed by one empty bin; the next seed comes in the
    bin after that. The same ``rng`` state gives the avalanches of
    :func:`galton_watson_avalanches`.

    Args:
        m: branching ratio, > 0.
        n_avalanches: number of avalanches, >= 1.
        rng: the random generator (consumed).
        max_generations: cap on the generations of one avalanche.

    Returns:
        Active units per bin (int64), of length ``sum(durations) + n_avalanches``.

    """
    m = _check_m(m)
    n_avalanches = _check_count("n_avalanches", n_avalanches)
    max_generations = _check_count("max_generations", max_generations)
    return _gw_kernel(rng, m, n_avalanches, max_generations, True)[3]


@nb.njit(cache=True)
def _driven_kernel(rng, m, h, n_steps, a0):  # pragma: no cover - numba
    out = np.empty(n_steps, np.int64)
    a = a0
    for t in range(n_steps):
        out[t] = a
        a = rng.poisson(m * a + h)
    return out


def driven_branching_process(
    m: float, h: float, n_steps: int, rng: np.random.Generator, a0: int | None = None
) -> np.ndarray:
    """Driven branching process ``A_{t+1} ~ Poisson(m A_t + h)``, ``n_steps`` values from ``A_0``.

    Args:
        m: branching ratio in (0, 1) (the process is stationary only below 1).
        h: mean external input per step (units per step), > 0.
        n_steps: length of the series, >= 1.
        rng: the random generator (consumed).
        a0: initial activity; by default the stationary mean ``h / (1 - m)`` rounded, so no
            transient needs discarding.

    Returns:
        Activity per step (int64).

    """
    m = _check_m(m, allow_supercritical=False)
    h = positive("h", h, "units per step")
    n_steps = _check_count("n_steps", n_steps)
    if a0 is None:
        a0 = round(driven_stationary_mean(m, h))
    a0 = _check_count("a0", a0, minimum=0)
    return _driven_kernel(rng, m, h, n_steps, a0)


def driven_stationary_mean(m: float, h: float) -> float:
    """Stationary mean ``h / (1 - m)`` of the driven process (units per step)."""
    return positive("h", h) / (1.0 - _check_m(m, allow_supercritical=False))


def driven_stationary_variance(m: float, h: float) -> float:
    """Stationary variance ``mean / (1 - m^2)`` of the driven process with Poisson offspring."""
    return driven_stationary_mean(m, h) / (1.0 - m * m)


def subsampled_regression_slope(m: float, fraction: float) -> float:
    """Conventional (lag-1 regression) branching-ratio estimate under binomial subsampling.

    Each event of the stationary driven process is observed with probability ``p = fraction``.
    Then ``Cov(a_t, a_{t+k}) = p^2 m^k Var A`` and ``Var a = p^2 Var A + p (1 - p) <A>``, so
    ``r_k = b m^k`` with ``b = p / (p + (1 - p)(1 - m^2))`` (Wilting & Priesemann 2018, using
    ``Var A = <A> / (1 - m^2)`` for Poisson offspring and input). The conventional estimator is
    ``r_1 = b m``; multistep regression fits ``b m^k`` and recovers ``m``.

    Args:
        m: branching ratio in (0, 1).
        fraction: observed fraction of events in (0, 1].

    """
    m = _check_m(m, allow_supercritical=False)
    p = positive("fraction", fraction)
    if p > 1.0:
        raise ValueError(f"fraction must be a number in (0, 1] (got {fraction!r})")
    return m * p / (p + (1.0 - p) * (1.0 - m * m))


def borel_pmf(s: np.ndarray | int, m: float) -> np.ndarray:
    """Exact size distribution ``P(S = s) = e^{-m s} (m s)^{s-1} / s!`` of a Poisson(m) avalanche.

    Args:
        s: sizes, >= 1.
        m: branching ratio in (0, 1].

    """
    m = _check_m(m)
    if m > 1.0:
        raise ValueError(f"m must be a finite number in (0, 1] for the Borel distribution (got {m!r})")
    s = np.asarray(s, dtype=float)
    if np.any(s < 1):
        raise ValueError("s must be sizes >= 1")
    return np.exp(-m * s + (s - 1.0) * np.log(m * s) - gammaln(s + 1.0))


def _survival(t_max: int, m: float) -> np.ndarray:
    """``u_t = P(T > t)``, ``u_0 = 1``, ``u_{t+1} = 1 - exp(-m u_t)`` (no cancellation near 1)."""
    u = np.ones(t_max + 1)
    for t in range(t_max):  # a scalar recursion, not a loop over data
        u[t + 1] = -math.expm1(-m * u[t])
    return u


def gw_duration_cdf(t_max: int, m: float) -> np.ndarray:
    """Exact ``P(T <= t)`` for ``t = 0 .. t_max`` of a Poisson(m) avalanche from one seed.

    ``q_0 = 0`` and ``q_{t+1} = exp(m (q_t - 1))``: the probability that the line of one seed is
    extinct after ``t`` generations (the seed counts as the first). Computed through the
    survival ``1 - q_t`` so that ``P(T = t) = q_t - q_{t-1}`` keeps full precision.
    """
    m = _check_m(m)
    t_max = _check_count("t_max", t_max, minimum=0)
    return 1.0 - _survival(t_max, m)


def gw_duration_pmf(t_max: int, m: float) -> np.ndarray:
    """Exact ``P(T = t)`` for ``t = 0 .. t_max`` (``P(T = 0) = 0``): differences of the survival."""
    m = _check_m(m)
    t_max = _check_count("t_max", t_max, minimum=0)
    u = _survival(t_max, m)
    return np.concatenate(([0.0], u[:-1] - u[1:]))


def gw_mean_size_given_duration(t_max: int, m: float) -> np.ndarray:
    """Exact mean size ``E[S | T = t]`` for ``t = 1 .. t_max`` of a Poisson(m) avalanche.

    With ``G_t(x) = E[x^S; T <= t] = x f(G_{t-1}(x))``, ``f(y) = exp(m (y - 1))``, the derivative at
    ``x = 1``, ``D_t = E[S; T <= t]``, obeys ``D_t = q_t (1 + m D_{t-1})``, ``D_0 = 0``; then
    ``E[S | T = t] = (D_t - D_{t-1}) / P(T = t)``. At ``m = 1`` it grows as ``t^2`` (``gamma = 2``).

    Returns:
        Array of length ``t_max``; entry ``t - 1`` is ``E[S | T = t]``.

    """
    m = _check_m(m)
    t_max = _check_count("t_max", t_max)
    u = _survival(t_max, m)
    q = 1.0 - u
    d = np.zeros(t_max + 1)
    for t in range(1, t_max + 1):  # scalar recursion
        d[t] = q[t] * (1.0 + m * d[t - 1])
    return np.diff(d) / (u[:-1] - u[1:])
