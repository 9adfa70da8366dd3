"""The pre-stated criteria of ``docs/structure_feedback.md``, evaluated on the experiment's runs, and its figure.

Every criterion compares means across seeds with the standard error of that comparison:
``se = sd / sqrt(n)`` per condition (sample sd), ``sqrt(se_a^2 + se_b^2)`` for a difference of two
conditions (different runs), and the standard error of the mean paired difference for a change
within runs (start vs end). "By more than 3 SE" means ``estimate > 3 se``. The criteria are fixed
here and in the document before the experiment was run; they are not tuned to its outcome.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

#: the set point of the main job [Hz]; "holds its activity" means at least this fraction of it
TARGET_HZ, HOLD_FRACTION = 12.0, 0.25
#: one colour per condition in every panel
COLORS = {"feedback": "C0", "tonic": "C5", "global": "C1", "no_struct": "C3", "no_stdp": "C2", "shuffled": "C4",
          "baseline": "0.4"}  # fmt: skip


def _values(runs: pd.DataFrame, condition: str, column: str) -> np.ndarray:
    return runs.loc[runs["condition"] == condition, column].to_numpy(float)


def _mean_se(x: np.ndarray) -> tuple[float, float]:
    x = x[np.isfinite(x)]
    if x.size == 0:
        return float("nan"), float("nan")
    return float(x.mean()), float(x.std(ddof=1) / np.sqrt(x.size)) if x.size > 1 else float("nan")


def difference(runs: pd.DataFrame, a: str, b: str, column: str) -> tuple[float, float]:
    """Mean of ``column`` in condition ``a`` minus in ``b``, and its standard error (independent runs)."""
    ma, sa = _mean_se(_values(runs, a, column))
    mb, sb = _mean_se(_values(runs, b, column))
    return ma - mb, float(np.hypot(sa, sb))


def paired(runs: pd.DataFrame, condition: str, after: str, before: str) -> tuple[float, float]:
    """Mean and standard error of ``after - before`` within the runs of ``condition``."""
    return _mean_se(_values(runs, condition, after) - _values(runs, condition, before))


def _row(key: str, statement: str, est: float, se: float, passed: bool) -> dict[str, Any]:
    return {"criterion": key, "statement": statement, "estimate": est, "se": se, "passed": bool(passed)}


def _diff_gain(runs: pd.DataFrame, a: str, b: str, end: str, start: str) -> tuple[float, float]:
    """(end - start) in ``a`` minus (end - start) in ``b``, with its standard error."""
    da, sa = paired(runs, a, end, start)
    db, sb = paired(runs, b, end, start)
    return da - db, float(np.hypot(sa, sb))


def evaluate(runs: pd.DataFrame) -> pd.DataFrame:
    """One row per criterion of docs/structure_feedback.md: estimate, its se, passed."""
    fb = runs[runs["condition"] == "feedback"]
    out = []
    change = float(((fb["in_degree_mean_end"] - fb["in_degree_mean_start"]).abs() / fb["in_degree_mean_start"]).mean())
    out.append(_row("C1", "structure changes: mean |in-degree change| >= 10 %", change, 0.0, change >= 0.10))
    settle = (fb["n_edges_end"] - fb["n_edges_two_thirds"]).abs() / fb["n_edges_end"]
    out.append(_row("C2", "settled: synapse count changes < 5 % over the last third (every seed)",
                    float(settle.max()), 0.0, bool((settle < 0.05).all())))  # fmt: skip
    alive = fb["rate_mean_hz_end"].between(2.0, 30.0) & (fb["in_degree_mean_end"] >= 0.25 * fb["in_degree_mean_start"])
    out.append(_row("C3", "no collapse: end rate in [2, 30] Hz and in-degree >= 25 % of start (every seed)",
                    float(fb["rate_mean_hz_end"].mean()), 0.0, bool(alive.all())))  # fmt: skip
    col = "site_dist_in_strength_corr_end"
    for key, other, what in (("A1", "global", "global mixing"), ("A3", "shuffled", "shuffled sites"),
                             ("A4", "tonic", "tonic release"), ("A5", "no_stdp", "no STDP")):  # fmt: skip
        est, se = difference(runs, "feedback", other, col)
        out.append(_row(key, f"corr(in-strength, distance to site) at the end exceeds {what} by > 3 SE", est, se,
                        est > 3 * se))  # fmt: skip
    est, se = _diff_gain(runs, "feedback", "global", "nmi_catchments_end", "nmi_catchments_start")
    out.append(_row("A2", "NMI(communities, catchments) gain exceeds global mixing's by > 3 SE", est, se, est > 3 * se))
    est, se = paired(runs, "feedback", "rate_spread_early_hz", "rate_spread_end_hz")
    out.append(_row("B1", "homeostatic error falls from 10-20 s to the last window by > 3 SE", est, se, est > 3 * se))
    est, se = _diff_gain(runs, "feedback", "no_struct", "rate_spread_early_hz", "rate_spread_end_hz")
    out.append(_row("B2", "that fall exceeds the no-structural control's by > 3 SE", est, se, est > 3 * se))
    est, se = difference(runs, "feedback", "baseline", "rate_off_hz")
    off = _values(runs, "feedback", "rate_off_hz")
    hold = bool(np.all(off >= HOLD_FRACTION * TARGET_HZ))
    out.append(_row("B3", "release off: rate exceeds the initial network's by > 3 SE and holds >= 3 Hz (every seed)",
                    est, se, est > 3 * se and hold))  # fmt: skip
    m0, m1 = (_values(runs, "feedback", f"m_regression_{w}") for w in ("start", "end"))
    est, se = _mean_se(np.abs(1.0 - m0) - np.abs(1.0 - m1))
    out.append(_row("K1", "branching ratio moves toward 1 (|1 - m| falls) by > 3 SE", est, se, est > 3 * se))
    est, se = difference(runs, "feedback", "global", "m_regression_end")
    out.append(_row("K2", "end branching ratio differs from global mixing's by > 3 SE (either sign)", est, se,
                    abs(est) > 3 * se))  # fmt: skip
    return pd.DataFrame(out)


def summary_table(runs: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Mean ± se of ``columns`` per condition (strings)."""
    table = {}
    for cond, grp in runs.groupby("condition", sort=False):
        table[cond] = {c: "{:.3g} ± {:.2g}".format(*_mean_se(grp[c].to_numpy(float))) for c in columns if c in grp}
    return pd.DataFrame(table).T


def plot_experiment(runs: pd.DataFrame, rows: pd.DataFrame, path: Path) -> None:
    """Metrics over time per condition (mean over seeds) and the end values per seed."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [
        ("n_edges", "synapses"),
        ("site_dist_in_strength_corr", "corr(in-strength, distance to site)"),
        ("nmi_catchments", "NMI(communities, catchments)"),
        ("rate_spread_hz", "rate spread across catchments [Hz]"),
        ("in_strength_corr_length_mm", "in-strength correlation length [mm]"),
        ("rate_mean_hz", "mean rate [Hz]"),
    ]
    fig, axes = plt.subplots(2, 4, figsize=(18, 8), constrained_layout=True)
    for ax, (col, label) in zip(axes.ravel(), panels, strict=False):
        for cond, grp in rows.groupby("condition", sort=False):
            mean = grp.groupby("t_ms")[col].mean()
            ax.plot(mean.index / 1000.0, mean.to_numpy(), marker=".", label=cond, color=COLORS.get(cond))
        ax.set(xlabel="time [s]", title=label)
    axes[0, 0].legend(fontsize=8, frameon=False)
    conds = [c for c in COLORS if c in set(runs["condition"])]
    ends = (("rate_off_hz", "rate with release off [Hz]"), ("m_regression_end", "branching ratio m, last window"))
    for ax, (col, label) in zip(axes.ravel()[6:], ends, strict=True):
        for i, cond in enumerate(conds):
            v = _values(runs, cond, col)
            ax.scatter(np.full(v.size, i), v, s=18, color=COLORS[cond])
            ax.errorbar(i + 0.2, *_mean_se(v), fmt="k_", capsize=3)
        ax.set_xticks(range(len(conds)), conds, rotation=45, fontsize=8)
        ax.set_title(label)
    fig.savefig(path, dpi=100)
    plt.close(fig)
