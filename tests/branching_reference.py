"""Exact finite-size exponents of Poisson branching processes, the references of the avalanche tests.

A maximum-likelihood power-law exponent fitted above ``x_min`` converges (infinitely many samples)
to the exponent of the pure discrete power law closest in Kullback–Leibler divergence to the true
law above ``x_min``: it solves ``E[ln X | X >= x_min] = -d/da ln zeta(a, x_min)``. The true laws are
exact (docs/REFERENCES.md §6): Borel sizes, durations from the iterated generating function, and
``E[S | T]`` from its derivative (:mod:`neuroabm.theory.branching_process`).

Supercritical processes (``m > 1``): only the avalanches that die out are avalanches; for Poisson
offspring they are a subcritical process with ratio ``m* = m q`` (``q`` the extinction probability,
``q = exp(m (q - 1))``), since the offspring law conditioned on extinction has generating function
``f(q s) / q = exp(m q (s - 1))`` (Harris 1963, ch. I.12).
"""

from __future__ import annotations

import math

import numpy as np
from scipy.optimize import brentq
from scipy.special import zeta

from neuroabm.theory.branching_process import borel_pmf, gw_duration_pmf, gw_mean_size_given_duration

#: exact pmf up to here; beyond, the asymptotic power law c x^-a (critical case only)
N_EXACT = 200_000


def kl_exponent(pmf: np.ndarray, xmin: int, tail_a: float = 2.0, tail_c: float = 0.0) -> float:
    """Exponent the discrete power-law MLE above ``xmin`` converges to on data drawn from ``pmf``.

    ``pmf[x]`` is exact for ``x < len(pmf)``; beyond, the law is ``tail_c x^-tail_a`` (0: no tail).
    """
    n = pmf.size
    x = np.arange(xmin, n, dtype=float)
    p = pmf[xmin:]
    h = 1e-6
    tail_mass = tail_c * zeta(tail_a, n) if tail_c else 0.0
    tail_log = -tail_c * (zeta(tail_a + h, n) - zeta(tail_a - h, n)) / (2 * h) if tail_c else 0.0
    mean_log = (np.sum(p * np.log(x)) + tail_log) / (p.sum() + tail_mass)

    def score(a: float) -> float:
        return -(math.log(zeta(a + h, xmin)) - math.log(zeta(a - h, xmin))) / (2 * h) - mean_log

    return brentq(score, 1.01, 20.0)


def extinction_probability(m: float) -> float:
    """Smallest root of ``q = exp(m (q - 1))`` (1 for ``m <= 1``)."""
    if m <= 1.0:
        return 1.0
    return brentq(lambda q: q - math.exp(m * (q - 1.0)), 1e-12, 1.0 - 1e-12)


def dual_ratio(m: float) -> float:
    """Branching ratio of the avalanches that die out: ``m`` itself for ``m <= 1``, else ``m q``."""
    return m * extinction_probability(m)


def size_pmf(m: float, s_max: int = N_EXACT) -> np.ndarray:
    """``P(S = s)`` for ``s < s_max`` of the avalanches that die out (index = size)."""
    s = np.arange(s_max, dtype=float)
    pmf = np.zeros(s_max)
    pmf[1:] = borel_pmf(s[1:], dual_ratio(m))
    return pmf


def size_exponent_at(xmin: float, m: float, s_cut: int | None = None) -> float:
    """Finite-size reference of ``tau`` above ``xmin``; ``s_cut`` drops the sizes at and above it."""
    pmf = size_pmf(m)
    critical_tail = m == 1.0 and s_cut is None
    if s_cut is not None:
        pmf = pmf[: int(s_cut)]
    return kl_exponent(pmf, int(xmin), 1.5, 1.0 / math.sqrt(2.0 * math.pi) if critical_tail else 0.0)


def duration_exponent_at(xmin: float, m: float, t_cap: int) -> float:
    """Finite-size reference of ``alpha`` above ``xmin`` for avalanches of at most ``t_cap`` generations."""
    return kl_exponent(gw_duration_pmf(t_cap, m), int(xmin))


def local_gamma_range(m: float, t_min: int, t_max: int) -> tuple[float, float]:
    """Range of the exact local slope ``d ln E[S | T] / d ln T`` over ``t_min <= T <= t_max``."""
    ms = gw_mean_size_given_duration(t_max + 1, m)
    t = np.arange(1, ms.size + 1, dtype=float)
    local = np.gradient(np.log(ms), np.log(t))[t_min - 1 : t_max]
    return float(local.min()), float(local.max())


def size_cut_matching(m: float, p_drop: float) -> int:
    """Size above which the exact size law holds mass ``p_drop`` (stands for ``T > t_cap``)."""
    tail = 1.0 - np.cumsum(size_pmf(m))
    return int(np.searchsorted(-tail, -p_drop)) + 1
