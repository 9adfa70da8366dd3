"""Branching ratio of binned population activity, fully sampled or subsampled.

- :func:`branching_ratio_conventional`: the mean ratio of successive counts (``method="ratio"``,
  the descendants-per-ancestor estimate of Beggs & Plenz 2003) or the lag-1 linear regression
  slope (``method="regression"``, the "conventional estimator" of Wilting & Priesemann 2018). Both
  are biased under subsampling.
- :func:`branching_ratio_mr`: multistep regression (Wilting & Priesemann 2018, Nat Commun
  9:2325) with ``mrestimator``: the lagged regression slopes ``r_k`` of ``A_{t+k}`` on ``A_t`` decay
  as ``b m^k`` where subsampling only changes ``b``, so the fitted ``m`` is unbiased.
- :func:`subsample_neurons`: keep the spikes of a random subset of neurons.
"""

from __future__ import annotations

import contextlib
import io
import logging
import math
import warnings
from dataclasses import dataclass
from types import ModuleType

import numpy as np

__all__ = [
    "MRResult",
    "branching_ratio_conventional",
    "branching_ratio_mr",
    "present_neurons",
    "subsample_neurons",
]


@dataclass(frozen=True)
class MRResult:
    """Result of :func:`branching_ratio_mr`.

    Attributes:
        m: branching ratio per bin, ``exp(-bin_ms / tau_ms)``.
        m_err: bootstrap standard error of ``m`` (NaN with fewer than 2 trials).
        m_ci: central 95% bootstrap interval of ``m`` (NaNs with fewer than 2 trials).
        tau_ms: autocorrelation time [ms] of the fitted ``r_k``.
        tau_err_ms: its bootstrap standard error [ms].
        amplitude: fitted ``b`` of ``r_k = b m^k`` (the subsampling factor for a branching process).
        k_max: longest lag fitted (bins).
        bin_ms: bin width [ms].
        fitfunc: the ``mrestimator`` fit function used.

    """

    m: float
    m_err: float
    m_ci: tuple[float, float]
    tau_ms: float
    tau_err_ms: float
    amplitude: float
    k_max: int
    bin_ms: float
    fitfunc: str


def _counts(counts: np.ndarray) -> np.ndarray:
    a = np.asarray(counts, dtype=float)
    if a.ndim != 1:
        raise ValueError(f"counts must be one-dimensional (got shape {a.shape})")
    if a.size and (not np.all(np.isfinite(a)) or a.min() < 0):
        raise ValueError("counts must be finite and >= 0 (events per bin)")
    return a


def branching_ratio_conventional(counts: np.ndarray, method: str = "ratio") -> float:
    """Branching ratio from successive bins of a count series.

    Args:
        counts: events per bin.
        method: ``"ratio"``: mean of ``A_{t+1} / A_t`` over bins with ``A_t > 0``; ``"regression"``:
            least-squares slope of ``A_{t+1}`` on ``A_t``, ``Cov(A_t, A_{t+1}) / Var(A_t)``.

    Returns:
        The estimate, NaN when undefined (no active bin, or constant activity for regression).

    """
    a = _counts(counts)
    if method not in ("ratio", "regression"):
        raise ValueError(f"method must be 'ratio' or 'regression' (got {method!r})")
    if a.size < 2:
        return float("nan")
    x, y = a[:-1], a[1:]
    if method == "ratio":
        active = x > 0
        return float(np.mean(y[active] / x[active])) if np.any(active) else float("nan")
    dx = x - x.mean()
    var = float(np.dot(dx, dx))
    return float(np.dot(dx, y - y.mean()) / var) if var > 0 else float("nan")


def _mrestimator() -> ModuleType:
    """Import ``mrestimator`` (slow, so only when needed) without its global side effect.

    On import it patches ``tqdm.tqdm.__init__`` to disable every progress bar of the process;
    the original is put back so the runner's progress bar still shows.
    """
    import tqdm

    init = tqdm.tqdm.__init__
    try:
        import mrestimator
    finally:
        tqdm.tqdm.__init__ = init
    return mrestimator


@contextlib.contextmanager
def _quiet_mrestimator():
    """Silence ``mrestimator``'s logging, its progress bars (on stderr) and fit warnings."""
    log = logging.getLogger("mrestimator")
    level = log.level
    log.setLevel(logging.CRITICAL + 1)
    try:
        with contextlib.redirect_stderr(io.StringIO()), np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # scipy's OptimizeWarning from curve_fit
            yield
    finally:
        log.setLevel(level)


@contextlib.contextmanager
def _as_value_error():
    """Mrestimator divides by zero on nearly silent pieces: report it as too little activity."""
    try:
        yield
    except (ZeroDivisionError, FloatingPointError) as exc:
        raise ValueError(f"too little activity to estimate a branching ratio ({exc})") from exc


def branching_ratio_mr(
    counts: np.ndarray,
    k_max: int = 100,
    bin_ms: float = 1.0,
    fitfunc: str = "exponential",
    n_trials: int = 10,
    numboot: int = 100,
    seed: int = 5330,
) -> MRResult:
    """Branching ratio by multistep regression (Wilting & Priesemann 2018) using ``mrestimator``.

    The series is cut into ``n_trials`` equal pieces (stationary-mean method, so the pieces share
    one mean); bootstrapping over pieces gives the error. ``k_max`` should cover a few
    autocorrelation times (``m = 0.98`` per bin: ``tau = 49.5`` bins) and stay far below the
    piece length.

    Args:
        counts: events per bin.
        k_max: longest lag (bins), >= 3.
        bin_ms: bin width [ms].
        fitfunc: ``"exponential"`` (``b m^k``) or ``"exponential_offset"`` (``b m^k + c``, for
            slow drifts of the rate).
        n_trials: pieces for bootstrapping (1 disables errors); each must be longer than
            ``2 k_max``.
        numboot: bootstrap replicas.
        seed: seed of ``mrestimator``'s bootstrap (it reseeds numpy's legacy global generator).

    Raises:
        ValueError: bad arguments, a series too short for ``k_max``, or constant activity.

    """
    mre = _mrestimator()
    a = _counts(counts)
    if isinstance(k_max, bool) or int(k_max) != k_max or k_max < 3:
        raise ValueError(f"k_max must be an integer >= 3 bins (got {k_max!r})")
    if isinstance(n_trials, bool) or int(n_trials) != n_trials or n_trials < 1:
        raise ValueError(f"n_trials must be an integer >= 1 (got {n_trials!r})")
    if not (math.isfinite(float(bin_ms)) and float(bin_ms) > 0):
        raise ValueError(f"bin_ms must be a finite number > 0 ms (got {bin_ms!r})")
    funcs = {"exponential": mre.f_exponential, "exponential_offset": mre.f_exponential_offset}
    if fitfunc not in funcs:
        raise ValueError(f"fitfunc must be one of {sorted(funcs)} (got {fitfunc!r})")
    k_max, n_trials = int(k_max), int(n_trials)
    length = a.size // n_trials
    if length <= 2 * k_max:
        raise ValueError(
            f"counts too short: {a.size} bins in {n_trials} trials of {length} bins, need > 2 k_max = {2 * k_max}"
        )
    trials = a[: length * n_trials].reshape(n_trials, length)
    if np.all(trials.var(axis=1) == 0):
        raise ValueError("counts must vary in time to estimate a branching ratio (constant activity)")
    with _quiet_mrestimator(), _as_value_error():
        rk = mre.coefficients(
            trials,
            method="sm",
            steps=(1, k_max),
            dt=float(bin_ms),
            dtunit="ms",
            numboot=numboot if n_trials > 1 else 0,
            seed=seed,
        )
        if not np.all(np.isfinite(rk.coefficients)):
            raise ValueError("correlation coefficients are not finite (too little activity?)")
        fit = mre.fit(rk, fitfunc=funcs[fitfunc], numboot=numboot if n_trials > 1 else 0, quantiles=[0.025, 0.975])
    if fit.tau is None or not np.isfinite(fit.tau):
        raise ValueError("the multistep regression fit did not converge")
    nan = float("nan")
    boot = fit.mrestderr is not None
    return MRResult(
        m=float(fit.mre),
        m_err=float(fit.mrestderr) if boot else nan,
        m_ci=(float(fit.mrequantiles[0]), float(fit.mrequantiles[1])) if boot else (nan, nan),
        tau_ms=float(fit.tau),
        tau_err_ms=float(fit.taustderr) if boot else nan,
        amplitude=float(fit.popt[1]),
        k_max=k_max,
        bin_ms=float(bin_ms),
        fitfunc=fitfunc,
    )


def present_neurons(neurons: np.ndarray) -> np.ndarray:
    """Sorted distinct neuron indices (``O(n)`` via ``bincount`` for non-negative integers)."""
    nr = np.asarray(neurons)
    if nr.size == 0:
        return nr.astype(np.int64)
    if np.issubdtype(nr.dtype, np.integer) and nr.min() >= 0:
        return np.flatnonzero(np.bincount(nr.astype(np.int64, copy=False)))
    return np.unique(nr)


def subsample_neurons(
    times_ms: np.ndarray, neurons: np.ndarray, n_keep: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Spikes of ``n_keep`` neurons drawn without replacement among those that spiked.

    Args:
        times_ms: spike times [ms].
        neurons: neuron index of each spike (non-negative integers).
        n_keep: neurons to keep, 1 .. number of distinct neurons.
        rng: the random generator (consumed).

    Returns:
        ``(times_ms, neurons)`` of the kept spikes, in their original order.

    """
    t = np.asarray(times_ms)
    nr = np.asarray(neurons)
    if t.shape != nr.shape:
        raise ValueError(f"times_ms and neurons must have the same shape (got {t.shape} and {nr.shape})")
    if nr.size and not (np.issubdtype(nr.dtype, np.integer) and nr.min() >= 0):
        raise ValueError("neurons must be non-negative integer indices")
    ids = present_neurons(nr)
    if isinstance(n_keep, bool) or int(n_keep) != n_keep or not 1 <= n_keep <= ids.size:
        raise ValueError(f"n_keep must be an integer in [1, {ids.size}] (the neurons that spiked; got {n_keep!r})")
    chosen = rng.choice(ids, size=int(n_keep), replace=False)
    keep_id = np.zeros(int(ids[-1]) + 1, dtype=bool)
    keep_id[chosen] = True
    mask = keep_id[nr]
    return t[mask], nr[mask]
