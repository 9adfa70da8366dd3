"""The figure of ``neuroabm analyze``: avalanches with their power-law fits, and first passage vs theory.

Six panels: size and duration distributions on log–log axes with the fitted power laws above
``x_min``, the mean size per duration with its exponent, the branching ratios, the first-passage
density ``F(t)`` beside the Fokker–Planck (and closed-form) theory, and slices of the occupation
density ``P(V, t)`` beside the Fokker–Planck curves at the same times.
"""

from __future__ import annotations

import math
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING, Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import matplotlib.ticker
import numpy as np

from neuroabm.exports.atomic import atomic_path

if TYPE_CHECKING:
    from neuroabm.analysis.avalanches import Avalanches
    from neuroabm.analysis.first_passage import OccupationHistogram
    from neuroabm.analysis.run_analysis import FirstPassageTheory


def _reason_text(ax: plt.Axes, reason: str | None, y: float = 0.5) -> None:
    """Why the panel's quantity could not be estimated (the ``*_reason`` of ``analysis.json``)."""
    if reason:
        wrapped = "\n".join(textwrap.wrap(f"not estimated: {reason}", 48))
        ax.text(0.5, y, wrapped, transform=ax.transAxes, ha="center", va="center", fontsize=7, color="firebrick")


def _log_histogram(
    ax: plt.Axes, values: np.ndarray, alpha: float, xmin: float, n_tail: int, label: str, reason: str | None = None
) -> None:
    """Density of integer ``values`` in logarithmic bins, with the fitted ``x^-alpha`` tail (or why not)."""
    if values.size == 0:
        _reason_text(ax, reason or "no avalanches")
        return
    if not math.isfinite(alpha):
        _reason_text(ax, reason, y=0.2)
    edges = np.unique(np.floor(np.logspace(0, math.log10(values.max() + 1), 30)).astype(np.int64))
    edges = np.append(edges, edges[-1] + 1)
    counts, _ = np.histogram(values, bins=edges)
    density = counts / (values.size * np.diff(edges))
    centers = np.sqrt(edges[:-1] * edges[1:])
    keep = counts > 0
    ax.loglog(centers[keep], density[keep], "o", ms=3, color="0.3", label="data")
    if math.isfinite(alpha) and n_tail > 0:
        x = np.logspace(math.log10(xmin), math.log10(values.max()), 50)
        # the tail holds n_tail / n of the mass: P(x) = (n_tail / n) (alpha - 1) / xmin (x / xmin)^-alpha
        frac = n_tail / values.size
        ax.loglog(x, frac * (alpha - 1.0) / xmin * (x / xmin) ** -alpha, "r-", label=f"{label} = {alpha:.2f}")
    ax.legend(fontsize=7)
    ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())


def _panel_sizes(axes, av: Avalanches | None, s: dict[str, Any]) -> None:
    sizes = av.sizes if av is not None else np.zeros(0, np.int64)
    durations = av.durations if av is not None else np.zeros(0, np.int64)
    _log_histogram(
        axes[0], sizes, s.get("tau", math.nan), s.get("tau_xmin", 1.0), s.get("tau_n_tail", 0), "τ", s.get("tau_reason")
    )
    axes[0].set(xlabel="avalanche size S [spikes]", ylabel="P(S)", title=f"sizes (bin {s.get('bin_ms', 0):.3g} ms)")
    _log_histogram(
        axes[1],
        durations,
        s.get("alpha", math.nan),
        s.get("alpha_xmin", 1.0),
        s.get("alpha_n_tail", 0),
        "α",
        s.get("alpha_reason"),
    )
    axes[1].set(xlabel="duration T [bins]", ylabel="P(T)", title="durations")
    ax = axes[2]
    if durations.size:
        t_vals, inverse = np.unique(durations, return_inverse=True)
        mean_s = np.bincount(inverse, weights=sizes) / np.bincount(inverse)
        ax.loglog(t_vals, mean_s, "o", ms=3, color="0.3", label="data")
        gamma = s.get("gamma", math.nan)
        if math.isfinite(gamma):  # drawn over the fitted duration range
            t0, t1 = s.get("gamma_t_min") or 2, s.get("gamma_t_max") or t_vals.max()
            ref = t_vals[(t_vals >= t0) & (t_vals <= t1)]
            if ref.size:
                c = mean_s[np.searchsorted(t_vals, ref[0])] / ref[0] ** gamma
                ax.loglog(ref, c * ref**gamma, "r-", label=f"γ = {gamma:.2f} (T = {t0}–{t1})")
        ax.legend(fontsize=7)
    _reason_text(ax, s.get("gamma_reason"), y=0.5 if not durations.size else 0.2)
    diff = s.get("crackling_difference", math.nan)
    ax.set(xlabel="duration T [bins]", ylabel="⟨S⟩(T)", title=f"(α−1)/(τ−1) − γ = {diff:.2f}")


#: characters per line of the summary panel (monospace, 7.5 pt, one third of a 13 inch figure)
WRAP = 58


def summary_lines(s: dict[str, Any]) -> list[str]:
    """The text of the summary panel: exponents, branching ratios, and why any of them is missing."""

    def v(key: str) -> float:
        return s.get(key, math.nan)

    lines = [
        f"avalanches: {s.get('n_avalanches', 0):,}",
        f"τ = {v('tau'):.3f} ± {v('tau_err'):.3f}  (x_min {v('tau_xmin'):g})",
        f"  LR vs lognormal {v('tau_lr_lognormal'):.3g} (p {v('tau_p_lognormal'):.2g})",
        f"  LR vs exponential {v('tau_lr_exponential'):.3g} (p {v('tau_p_exponential'):.2g})",
        f"α = {v('alpha'):.3f} ± {v('alpha_err'):.3f}",
        f"γ = {v('gamma'):.3f} ± {v('gamma_err'):.3f}  (T = {s.get('gamma_t_min')}–{s.get('gamma_t_max')} bins)",
        "",
        f"branching ratio (bin {v('mr_bin_ms'):g} ms):",
        f"  conventional m = {v('m_conventional'):.4f}",
        f"  multistep regression m = {v('m_mr'):.4f} ± {v('m_mr_err'):.4f}",
        "critical branching process: τ = 3/2, α = 2, γ = 2, m = 1",
    ]
    reasons = {k: s.get(f"{k}_reason") for k in ("tau", "alpha", "gamma", "crackling", "m_conventional", "m_mr")}
    shown: set[str] = set()
    for key, why in reasons.items():
        if why and why not in shown:  # one line per distinct reason
            shown.add(why)
            lines += textwrap.wrap(f"{key}: not estimated: {why}", WRAP, subsequent_indent="  ")
    if s.get("suggestion"):
        lines += textwrap.wrap(f"instead: {s['suggestion']}", WRAP, subsequent_indent="  ")
    return lines


def _panel_branching(ax: plt.Axes, s: dict[str, Any]) -> None:
    ax.axis("off")
    lines = summary_lines(s)
    ax.text(0.0, 1.0, "\n".join(lines), va="top", family="monospace", fontsize=7.5, transform=ax.transAxes)


def _panel_fpt(
    ax: plt.Axes, fpt: np.ndarray, theory: FirstPassageTheory | None, measured: FirstPassageTheory | None = None
) -> None:  # fmt: skip
    """F(t): simulated, the theory's (its sigma named), and the one with the membrane's sigma if recorded."""
    if fpt.size:
        hi = float(np.quantile(fpt, 0.99))
        ax.hist(fpt, bins=60, range=(0.0, hi), density=True, color="0.75", label=f"simulated ({fpt.size:,})")
    if theory is not None:
        sol = theory.solution
        source = "Poisson input" if theory.kind == "diffusion approximation" else theory.kind
        ax.plot(sol.t_ms, sol.density_per_ms, "r-", lw=1.2,
                label=f"Fokker–Planck, σ = {theory.sigma_mv:.2f} mV ({source})")  # fmt: skip
        ax.axvline(theory.mean_fpt_ms, color="r", ls=":", lw=1, label=f"theory mean {theory.mean_fpt_ms:.1f} ms")
    if measured is not None:
        ax.plot(measured.solution.t_ms, measured.solution.density_per_ms, "b--", lw=1.2,
                label=f"Fokker–Planck, σ = {measured.sigma_mv:.2f} mV (membrane)")  # fmt: skip
    if fpt.size:
        ax.axvline(float(fpt.mean()), color="k", ls="--", lw=1, label=f"simulated mean {fpt.mean():.1f} ms")
        ax.set_xlim(0.0, float(np.quantile(fpt, 0.99)))
    ax.set(xlabel="time since reset t [ms]", ylabel="F(t) [1/ms]", title="first-passage density")
    ax.legend(fontsize=7)


def _panel_occupation(ax: plt.Axes, hist: OccupationHistogram | None, theory: FirstPassageTheory | None) -> None:
    ax.set(xlabel="V [mV]", ylabel="P(V, t) [1/mV]", title="occupation density of the not-yet-fired")
    if hist is None:
        ax.text(0.5, 0.5, "no membrane recording\n(set record_v)", transform=ax.transAxes, ha="center")
        return
    t_mid = 0.5 * (hist.t_edges_ms[1:] + hist.t_edges_ms[:-1])
    v_mid = 0.5 * (hist.v_edges_mv[1:] + hist.v_edges_mv[:-1])
    horizon = theory.mean_fpt_ms if theory else t_mid[-1] / 3.0
    for frac, color in zip((0.25, 0.75, 1.5), ("C0", "C1", "C2"), strict=True):
        i = int(np.argmin(np.abs(t_mid - frac * horizon)))
        ax.plot(v_mid, hist.density_per_mv[i], "o", ms=2.5, color=color, label=f"t = {t_mid[i]:.1f} ms")
        if theory is not None:
            sol = theory.solution
            j = int(np.argmin(np.abs(sol.p_t_ms - t_mid[i])))
            ax.plot(sol.v_mv, sol.p_per_mv[j], "-", color=color, lw=1)
    if theory is not None:  # the density is negligible more than 4 sigma below reset
        ax.set_xlim(max(hist.v_edges_mv[0], min(theory.mu_mv, hist.v_edges_mv[-1]) - 4.0 * theory.sigma_mv), None)
    ax.legend(fontsize=7, title="dots: simulated, lines: FP", title_fontsize=7)


def write_analysis_figure(
    path: str | Path,
    av: Avalanches | None,
    summary: dict[str, Any],
    fpt: np.ndarray,
    theory: FirstPassageTheory | None,
    hist: OccupationHistogram | None,
    measured: FirstPassageTheory | None = None,
) -> None:
    """Draw the six analysis panels into ``path`` (PNG, written atomically).

    ``measured`` is the first-passage theory with the input measured on the recorded membranes.
    """
    fig, axes = plt.subplots(2, 3, figsize=(13, 7.5))
    _panel_sizes(axes[0], av, summary)
    _panel_branching(axes[1, 0], summary)
    _panel_fpt(axes[1, 1], fpt, theory, measured)
    _panel_occupation(axes[1, 2], hist, theory)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, format="png")
    plt.close(fig)
