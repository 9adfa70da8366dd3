"""From a :class:`~neuroabm.cleft.simulate.CleftResult` to tables and the run summary.

* ``F(r, t)`` [1/us]: first passages to distance ``r`` from the release point per released
  molecule and unit time, pooled over trials (its integral over ``t`` is the fraction that ever
  gets that far).
* ``P(r, t)`` [1/nm]: free molecules at distance ``r`` at time ``t`` per released molecule and
  unit distance (its integral over ``r`` is the fraction still free in the cleft).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from neuroabm.cleft.simulate import CleftResult

__all__ = ["decay_time", "first_passage_frame", "occupation_frame", "receptors_frame", "summarize"]


def first_passage_frame(res: CleftResult) -> pd.DataFrame:
    """``first_passage.parquet``: one row per (r, time bin): ``r_nm, t_lo_us, t_hi_us, count, F_per_us``."""
    counts = res.fp_counts.sum(axis=0)  # (n_r, n_bins)
    bin_us = res.params.fp_bin_us
    total = max(int(res.n_released.sum()), 1)
    r, t = np.meshgrid(res.radii_nm, res.t_fp_us, indexing="ij")
    return pd.DataFrame(
        {
            "r_nm": r.ravel(),
            "t_lo_us": t.ravel(),
            "t_hi_us": t.ravel() + bin_us,
            "count": counts.ravel().astype(np.int64),
            "F_per_us": counts.ravel() / (total * bin_us),
        }
    )


def occupation_frame(res: CleftResult) -> pd.DataFrame:
    """``occupation.parquet``: one row per (time, radial bin): ``t_us, r_lo_nm, r_hi_nm, count, P_per_nm``."""
    counts = res.occ_counts.sum(axis=0)  # (n_times, n_r)
    edges = np.concatenate([[0.0], res.radii_nm])
    width = np.diff(edges)
    total = max(int(res.n_released.sum()), 1)
    t, k = np.meshgrid(res.t_occ_us, np.arange(len(width)), indexing="ij")
    return pd.DataFrame(
        {
            "t_us": t.ravel(),
            "r_lo_nm": edges[:-1][k.ravel()],
            "r_hi_nm": edges[1:][k.ravel()],
            "count": counts.ravel().astype(np.int64),
            "P_per_nm": (counts / (total * width[None, :])).ravel(),
        }
    )


def receptors_frame(res: CleftResult) -> pd.DataFrame:
    """``receptors.parquet``: per trial and sampling time, the count in every state and the groups.

    Columns: ``trial, t_us``, one per state (``C0`` ...), ``bound`` (holding >= 1 molecule),
    ``open``, ``desensitized``.
    """
    s = res.scheme
    n_tr, n_t, _ = res.states.shape
    cols: dict[str, Any] = {
        "trial": np.repeat(np.arange(n_tr, dtype=np.int32), n_t),
        "t_us": np.tile(res.t_states_us, n_tr),
    }
    flat = res.states.reshape(n_tr * n_t, s.n_states)
    for i, name in enumerate(s.names):
        cols[name] = flat[:, i].astype(np.int32)
    bound = [i for i, b in enumerate(s.bound) if b > 0]
    cols["bound"] = flat[:, bound].sum(axis=1).astype(np.int32)
    cols["open"] = flat[:, list(s.open_states)].sum(axis=1).astype(np.int32)
    cols["desensitized"] = flat[:, list(s.desensitized_states)].sum(axis=1).astype(np.int32)
    return pd.DataFrame(cols)


def decay_time(t_us: np.ndarray, trace: np.ndarray) -> float:
    """Time [us] from the peak of ``trace`` until it first falls to ``1/e`` of the peak (NaN if never).

    >>> t = np.arange(0.0, 50.0, 0.5)
    >>> round(decay_time(t, np.exp(-t / 10.0)), 3)
    10.0
    """
    if len(trace) == 0 or not np.max(trace) > 0:
        return float("nan")
    i = int(np.argmax(trace))
    level = trace[i] / np.e
    after = np.nonzero(trace[i:] <= level)[0]
    if len(after) == 0:
        return float("nan")
    j = i + int(after[0])
    if j == i:
        return 0.0
    t_a, t_b, y_a, y_b = t_us[j - 1], t_us[j], trace[j - 1], trace[j]
    t_cross = t_a + (y_a - level) / (y_a - y_b) * (t_b - t_a) if y_a != y_b else t_b
    return float(t_cross - t_us[i])


def summarize(res: CleftResult) -> dict[str, Any]:
    """``summary.json``: peak open count (mean, sd, CV), time to peak, decay time, escape time, captures."""
    peaks = res.peak_open.astype(float)
    mean_peak = float(peaks.mean()) if len(peaks) else float("nan")
    sd_peak = float(peaks.std(ddof=1)) if len(peaks) > 1 else float("nan")
    open_mean = res.open_counts.mean(axis=0) if res.states.size else np.zeros(0)
    n_esc = int(res.escape_n.sum())
    p = res.params
    return {
        "trials": len(peaks),
        "n_released_mean": float(res.n_released.mean()),
        "peak_open_mean": mean_peak,
        "peak_open_sd": sd_peak,
        "peak_open_cv": sd_peak / mean_peak if mean_peak > 0 else float("nan"),
        "quantal_second_moment_ratio": float(np.mean(peaks**2) / mean_peak**2) if mean_peak > 0 else float("nan"),
        "time_to_peak_us": float(np.mean(res.t_peak_us)) if len(peaks) else float("nan"),
        "time_to_peak_of_mean_us": float(res.t_states_us[np.argmax(open_mean)]) if open_mean.size else float("nan"),
        "decay_time_us": decay_time(res.t_states_us, open_mean),
        "escape_time_mean_us": float(res.escape_sum_us.sum() / n_esc) if n_esc else float("nan"),
        "escaped_fraction": n_esc / max(int(res.n_released.sum()), 1),
        "bindings_per_trial": float(res.captures.mean()) if len(peaks) else float("nan"),
        "wall_s": float(res.wall_s),
        "rim": p.rim,
        "dt_us": p.dt_us,
        "diffusion_um2_per_ms": p.diffusion_um2_per_ms,
        "n_receptors": p.n_receptors,
        "seed": p.seed,
    }
