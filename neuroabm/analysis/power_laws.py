"""Power-law fits of avalanche distributions and the scaling of mean size with duration.

- :func:`fit_power_law`: maximum-likelihood exponent with ``x_min`` chosen by the minimal
  Kolmogorov–Smirnov distance, and likelihood-ratio tests against a lognormal and an exponential
  (Clauset, Shalizi & Newman 2009, SIAM Rev 51:661), computed with the ``powerlaw`` package
  (Alstott, Bullmore & Plenz 2014).
- :func:`size_duration_fit` (and :func:`size_duration_exponent`): ``<S>(T) ~ T^gamma`` by weighted
  least squares in log-log over the *scaling range* of durations: from the ``x_min`` of the
  duration power law (chosen by the KS scan, as for the exponent ``alpha``) to the longest duration
  seen at least ``min_count`` times. Below that range the mean size of short avalanches has not
  reached its scaling form: for a critical branching process the exact local slope of
  ``ln E[S | T]`` is only 1.25–1.54 at ``T = 2..5`` and tends to 2 (docs/REFERENCES.md §6), so a fit
  from ``T = 2`` returns ``gamma`` near 1.6 instead of 2.
- :func:`crackling_relation`: the scaling relation ``(alpha - 1) / (tau - 1) = gamma`` (Sethna,
  Dahmen & Myers 2001; Friedman et al. 2012) as a measured difference.

Exponent names follow the avalanche literature: sizes ``P(S) ~ S^-tau``, durations
``P(T) ~ T^-alpha``; :class:`PowerLawFit` calls the exponent of whatever it fits ``alpha``.
"""

from __future__ import annotations

import contextlib
import io
import math
import warnings
from dataclasses import dataclass

import numpy as np

__all__ = [
    "PowerLawFit",
    "SizeDurationFit",
    "crackling_relation",
    "fit_power_law",
    "size_duration_exponent",
    "size_duration_fit",
]

#: fewest values :func:`fit_power_law` accepts (the KS scan needs a few distinct tails)
MIN_VALUES = 10
#: default cap on the number of x_min candidates scanned (the smallest distinct values)
MAX_XMIN_CANDIDATES = 200


@dataclass(frozen=True)
class PowerLawFit:
    """Result of :func:`fit_power_law`.

    Attributes:
        alpha: exponent of ``P(x) ~ x^-alpha`` above ``xmin`` (positive).
        sigma: its standard error ``(alpha - 1) / sqrt(n_tail)`` (Clauset et al. 2009, eq. 3.2).
        xmin: lower end of the power-law tail.
        n_tail: number of values in ``[xmin, xmax]``.
        ks_distance: KS distance between the tail and the fitted power law.
        lr_lognormal: log-likelihood ratio R (power law vs lognormal); R > 0 favours the power law.
        p_lognormal: significance of the sign of R (Vuong's test, non-nested).
        lr_exponential: R for power law vs exponential.
        p_exponential: its significance.

    """

    alpha: float
    sigma: float
    xmin: float
    n_tail: int
    ks_distance: float
    lr_lognormal: float
    p_lognormal: float
    lr_exponential: float
    p_exponential: float


@contextlib.contextmanager
def _quiet():
    """Silence ``powerlaw``'s prints, warnings and floating-point complaints."""
    with (
        contextlib.redirect_stdout(io.StringIO()),
        warnings.catch_warnings(),
        np.errstate(all="ignore"),
    ):
        warnings.simplefilter("ignore")
        yield


def _check_values(values: np.ndarray, discrete: bool) -> np.ndarray:
    x = np.asarray(values, dtype=float).ravel()
    if x.size < MIN_VALUES:
        raise ValueError(f"values must hold at least {MIN_VALUES} numbers to fit a power law (got {x.size})")
    if not np.all(np.isfinite(x)) or np.any(x <= 0.0):
        raise ValueError("values must be finite and > 0")
    if discrete and np.any(x != np.round(x)):
        raise ValueError("values must be integers when discrete=True")
    return x


def fit_power_law(
    values: np.ndarray,
    discrete: bool = True,
    xmin: float | tuple[float, float] | None = None,
    xmax: float | None = None,
    max_xmin_candidates: int | None = MAX_XMIN_CANDIDATES,
    max_samples: int | None = None,
    rng: np.random.Generator | int | None = None,
) -> PowerLawFit:
    """Fit ``P(x) ~ x^-alpha`` above ``xmin`` by maximum likelihood (Clauset et al. 2009).

    Args:
        values: positive samples (avalanche sizes or durations), at least ``MIN_VALUES``.
        discrete: integer data (exact discrete power law normalized by the Hurwitz zeta function).
        xmin: fixed lower cut-off, a ``(low, high)`` range to scan, or None to scan the data.
        xmax: optional upper cut-off (values above are dropped).
        max_xmin_candidates: when scanning, only this many smallest distinct values are tried
            as ``xmin`` (keeps the scan fast on long-tailed data; None scans them all).
        max_samples: fit a random subset of this many values when there are more (``powerlaw``
            costs ~5 us per value and likelihood evaluation: 2 million values take ~15 s per fit);
            None fits all. Valid for independent samples such as avalanches; the standard error
            grows accordingly (``n_tail`` counts the subset).
        rng: generator or seed for that subset (default seed 0, so results are reproducible).

    Returns:
        The fit with its likelihood-ratio tests.

    Raises:
        ValueError: too few values, values not positive (or not integers when discrete), or too
            few distinct values to choose ``xmin``.

    """
    import powerlaw  # slow import (~1 s): only when fitting

    x = _check_values(values, discrete)
    if max_samples is not None:
        if isinstance(max_samples, bool) or int(max_samples) != max_samples or max_samples < MIN_VALUES:
            raise ValueError(f"max_samples must be an integer >= {MIN_VALUES} or None (got {max_samples!r})")
        if x.size > max_samples:
            x = np.random.default_rng(0 if rng is None else rng).choice(x, size=int(max_samples), replace=False)
    if xmax is not None and not (math.isfinite(float(xmax)) and float(xmax) > 0.0):
        raise ValueError(f"xmax must be a finite number > 0 or None (got {xmax!r})")
    if xmin is None and max_xmin_candidates is not None:
        if int(max_xmin_candidates) < 2:
            raise ValueError(f"max_xmin_candidates must be an integer >= 2 or None (got {max_xmin_candidates!r})")
        distinct = np.unique(x if xmax is None else x[x <= float(xmax)])
        if distinct.size > max_xmin_candidates:
            # powerlaw scans distinct values v with low <= v < high
            xmin = (float(distinct[0]), float(distinct[int(max_xmin_candidates)]))
    if np.unique(x).size < 3:
        raise ValueError("values must hold at least 3 distinct numbers to fit a power law")
    with _quiet():
        # estimate_discrete=False: always the exact discrete MLE (zeta-normalized), never the
        # continuous approximation powerlaw switches to for xmin >= 10
        fit = powerlaw.Fit(x, discrete=discrete, xmin=xmin, xmax=xmax, estimate_discrete=False, verbose=0)
        if not np.isfinite(fit.xmin) or fit.n_tail < 2:
            raise ValueError("values have too few distinct numbers above xmin to fit a power law")
        pl = fit.power_law
        lr_ln, p_ln = fit.distribution_compare("power_law", "lognormal", nested=False)
        lr_exp, p_exp = fit.distribution_compare("power_law", "exponential", nested=False)
    return PowerLawFit(
        alpha=float(pl.alpha),
        sigma=float(pl.standard_err),
        xmin=float(fit.xmin),
        n_tail=int(fit.n_tail),
        ks_distance=float(pl.D),
        lr_lognormal=float(lr_ln),
        p_lognormal=float(p_ln),
        lr_exponential=float(lr_exp),
        p_exponential=float(p_exp),
    )


@dataclass(frozen=True)
class SizeDurationFit:
    """Result of :func:`size_duration_fit`.

    Attributes:
        gamma: exponent of ``<S>(T) ~ T^gamma``.
        gamma_err: its standard error (weighted least squares, inflated by ``sqrt(chi^2/dof)``).
        t_min: shortest duration fitted (bins).
        t_max: longest duration fitted (bins): the longest seen at least ``min_count`` times.
        n_durations: number of distinct durations (points) in the fit.
        n_avalanches: avalanches with those durations.
        range_source: how ``t_min`` was chosen: ``"given"``, ``"duration power-law x_min"``,
            ``"straight in log-log within errors"`` (moved above that ``x_min``), or
            ``"fallback T >= 2 ..."`` (the duration tail held fewer than 3 usable durations).

    """

    gamma: float
    gamma_err: float
    t_min: int
    t_max: int
    n_durations: int
    n_avalanches: int
    range_source: str


#: shortest duration ever fitted: ``T = 1`` is the count of one bin, not a scaling size
MIN_T_MIN = 2
#: fewest durations the automatic scaling range keeps
MIN_RANGE_POINTS = 5


def _usable_durations(n: np.ndarray, t_min: int, t_max: int | None, min_count: int) -> np.ndarray:
    """Durations in ``[t_min, t_max]`` seen at least ``min_count`` times (``n``: counts per duration)."""
    dur = np.flatnonzero(n >= min_count)
    dur = dur[dur >= t_min]
    return dur if t_max is None else dur[dur <= t_max]


def _wls_line(dur: np.ndarray, n: np.ndarray, s1: np.ndarray, s2: np.ndarray) -> tuple[float, float, float, int]:
    """Weighted fit of ``ln <S>_T = gamma ln T + c`` over durations ``dur``: ``(gamma, var, chi2, dof)``."""
    n_t, mean = n[dur].astype(float), s1[dur] / n[dur]
    var = np.maximum(s2[dur] / n_t - mean**2, 0.0) * n_t / (n_t - 1.0)
    se_log = np.sqrt(var / n_t) / mean
    # durations where every avalanche has the same size (e.g. T = 1 with one spike per bin) carry
    # no scatter estimate: give them the smallest error seen among the others
    floor = se_log[se_log > 0].min() if np.any(se_log > 0) else 1.0
    w = 1.0 / np.maximum(se_log, floor) ** 2
    lx, ly = np.log(dur.astype(float)), np.log(mean)
    design = np.column_stack([lx, np.ones_like(lx)])
    cov = np.linalg.inv(design.T @ (design * w[:, None]))
    coef = cov @ (design.T @ (w * ly))
    chi2 = float(np.sum(w * (ly - design @ coef) ** 2))
    return float(coef[0]), float(cov[0, 0]), chi2, int(dur.size - 2)


def _straight(dur: np.ndarray, n: np.ndarray, s1: np.ndarray, s2: np.ndarray) -> bool:
    """``ln <S>_T`` is straight in ``ln T`` over ``dur`` within the errors.

    Two tests: the scatter about the line (``chi^2`` within 3 sd of ``dof``), and no bend: the
    slopes fitted on the lower and upper half of the range (split at the geometric middle, each
    at least 3 durations) agree within 2 standard errors of their difference. The bend test is
    what detects the slow approach of the local slope to its limit (1.65 at ``T = 8`` to 1.96 at
    ``T = 114`` for a critical branching process), which ``chi^2`` alone misses.
    """
    _, _, chi2, dof = _wls_line(dur, n, s1, s2)
    if dof < 1 or chi2 > dof + 3.0 * math.sqrt(2.0 * dof):
        return False
    split = math.sqrt(float(dur[0]) * float(dur[-1]))
    low, high = dur[dur <= split], dur[dur > split]
    if low.size < 3 or high.size < 3:
        return True
    g_lo, v_lo, c_lo, d_lo = _wls_line(low, n, s1, s2)
    g_hi, v_hi, c_hi, d_hi = _wls_line(high, n, s1, s2)
    v_lo *= max(1.0, c_lo / d_lo)
    v_hi *= max(1.0, c_hi / d_hi)
    return abs(g_hi - g_lo) <= 2.0 * math.sqrt(v_lo + v_hi)


def size_duration_fit(
    sizes: np.ndarray,
    durations: np.ndarray,
    min_count: int = 10,
    t_min: int | None = None,
    t_max: int | None = None,
    duration_xmin: float | None = None,
) -> SizeDurationFit:
    """Exponent ``gamma`` of the mean avalanche size versus duration, ``<S>(T) ~ T^gamma``.

    For every duration ``T`` in ``[t_min, t_max]`` seen at least ``min_count`` times, the mean size
    ``<S>_T`` and the standard error of its logarithm, ``sd(S|T) / (sqrt(n_T) <S>_T)``, are
    computed; ``log <S>_T = gamma log T + c`` is then fitted by weighted least squares. The error
    is the weighted-fit standard error, scaled up by ``sqrt(chi^2 / dof)`` when the points scatter
    more than their errors (curvature from finite-size corrections).

    Scaling range, unless ``t_min`` is given: the fit starts no lower than the ``x_min`` of the
    duration power law (``duration_xmin``, or a :func:`fit_power_law` of ``durations``) and no
    lower than ``T = 2``, and moves up to the first duration from which the points lie on a straight
    line within their errors (no excess scatter, no bend between the lower and upper half of the
    range, see :func:`_straight`), keeping at least
    ``MIN_RANGE_POINTS`` durations. ``range_source`` says which rule set ``t_min``; the range is
    in ``t_min`` and ``t_max``. Short avalanches have not reached their scaling form: for a critical
    branching process the exact local slope of ``ln E[S | T]`` is 1.25–1.54 at ``T = 2..5`` and
    only tends to 2, so a fit from ``T = 2`` returns about 1.6.

    Args:
        sizes: avalanche sizes (spikes).
        durations: avalanche durations (bins), same length.
        min_count: fewest avalanches per duration for its mean to enter the fit (>= 2).
        t_min: shortest duration fitted (bins); None chooses the scaling range from the data.
        t_max: longest duration fitted (bins), None for no limit.
        duration_xmin: ``x_min`` of a duration power-law fit already made (saves refitting).

    Raises:
        ValueError: mismatched inputs, or fewer than 3 durations with enough avalanches.

    """
    s = np.asarray(sizes, dtype=float).ravel()
    t = np.asarray(durations).ravel()
    if s.shape != t.shape:
        raise ValueError(f"sizes and durations must have the same length (got {s.size} and {t.size})")
    if isinstance(min_count, bool) or int(min_count) != min_count or min_count < 2:
        raise ValueError(f"min_count must be an integer >= 2 (got {min_count!r})")
    if t.size and (np.any(t < 1) or np.any(s <= 0)):
        raise ValueError("durations must be >= 1 bin and sizes > 0")
    t = t.astype(np.int64)
    n = np.bincount(t)
    s1 = np.bincount(t, s)
    s2 = np.bincount(t, s * s)
    if t_min is not None:
        source, dur = "given", _usable_durations(n, int(t_min), t_max, min_count)
    else:
        if duration_xmin is None or not math.isfinite(duration_xmin):
            try:
                duration_xmin = fit_power_law(t, max_samples=200_000, rng=2).xmin
            except ValueError:
                duration_xmin = float(MIN_T_MIN)
        source, dur = (
            "duration power-law x_min",
            _usable_durations(n, max(MIN_T_MIN, math.ceil(duration_xmin)), t_max, min_count),
        )
        if dur.size < 3:
            source, dur = (
                f"fallback T >= {MIN_T_MIN} (duration tail too short)",
                _usable_durations(n, MIN_T_MIN, t_max, min_count),
            )
        for i in range(max(0, dur.size - MIN_RANGE_POINTS + 1)):
            if _straight(dur[i:], n, s1, s2):
                if i:
                    source = "straight in log-log within errors"
                dur = dur[i:]
                break
    if dur.size < 3:
        raise ValueError(
            f"need at least 3 durations with >= min_count={min_count} avalanches in [t_min, t_max] (got {dur.size})"
        )
    gamma, var, chi2, dof = _wls_line(dur, n, s1, s2)
    scale = max(1.0, chi2 / dof) if dof > 0 else 1.0
    return SizeDurationFit(
        gamma=gamma,
        gamma_err=float(math.sqrt(var * scale)),
        t_min=int(dur[0]),
        t_max=int(dur[-1]),
        n_durations=int(dur.size),
        n_avalanches=int(n[dur].sum()),
        range_source=source,
    )


def size_duration_exponent(
    sizes: np.ndarray,
    durations: np.ndarray,
    min_count: int = 10,
    t_min: int | None = None,
    t_max: int | None = None,
) -> tuple[float, float]:
    """``(gamma, gamma_err)`` of :func:`size_duration_fit` (scaling range chosen from the data by default)."""
    fit = size_duration_fit(sizes, durations, min_count=min_count, t_min=t_min, t_max=t_max)
    return fit.gamma, fit.gamma_err


def crackling_relation(
    tau: float,
    alpha: float,
    gamma: float,
    tau_err: float = 0.0,
    alpha_err: float = 0.0,
    gamma_err: float = 0.0,
) -> dict[str, float]:
    """Compare the measured ``gamma`` with ``(alpha - 1) / (tau - 1)`` predicted by the exponents.

    Args:
        tau: size exponent (``P(S) ~ S^-tau``), != 1.
        alpha: duration exponent (``P(T) ~ T^-alpha``).
        gamma: measured exponent of ``<S>(T) ~ T^gamma``.
        tau_err: standard error of ``tau`` (0 if unknown).
        alpha_err: standard error of ``alpha`` (0 if unknown).
        gamma_err: standard error of ``gamma`` (0 if unknown).

    Returns:
        ``predicted_gamma``, ``measured_gamma``, ``difference`` (measured - predicted) and
        ``difference_err`` (independent errors propagated to first order).

    """
    tau, alpha, gamma = (float(v) for v in (tau, alpha, gamma))
    if not all(math.isfinite(v) for v in (tau, alpha, gamma)) or tau == 1.0:
        raise ValueError(f"tau, alpha and gamma must be finite numbers with tau != 1 (got {tau}, {alpha}, {gamma})")
    predicted = (alpha - 1.0) / (tau - 1.0)
    d_alpha = alpha_err / abs(tau - 1.0)
    d_tau = abs(predicted / (tau - 1.0)) * tau_err
    err = math.sqrt(d_alpha**2 + d_tau**2 + gamma_err**2)
    return {
        "predicted_gamma": predicted,
        "measured_gamma": gamma,
        "difference": gamma - predicted,
        "difference_err": err,
    }
