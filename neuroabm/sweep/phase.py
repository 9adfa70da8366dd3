"""``phase.png``: the sweep's results over a plane of two varied parameters.

One panel per field of ``[plot] panels`` (numbers averaged over seeds, the regime by majority),
on the grid of the two varied parameters (a scatter when they were sampled). When the plane is
Brunel's (``g`` x ``eta`` with the Poisson drive) the figure adds what Brunel (2000) published for
model A: the mean-field rate of the asynchronous state (contours, from ``theory_rate_hz``), the
balance line ``g = C_E / C_I`` (``g gamma = 1``; synchronous regular firing lies on its
excitation-dominated side), the line ``nu_ext = nu_thr`` (``eta = 1``; below it the external drive
alone does not reach threshold) and the four states of his Fig. 8 (A SR, B SI fast, C AI,
D SI slow) at their published coordinates. The regime panel also gets the Hopf lines of the
asynchronous state (Brunel 2000 Fig. 2; :func:`neuroabm.theory.brunel_stability.hopf_lines` for the
sweep's C_E, C_I, J, tau, theta, V_r, tau_rp and D), computed once and cached in
``hopf_lines.csv`` next to ``phase.png``.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from neuroabm.exports.atomic import atomic_path
from neuroabm.sweep.regimes import REGIMES

if TYPE_CHECKING:
    from neuroabm.sweep.spec import SweepSpec

__all__ = ["BRUNEL_FIG8_STATES", "REGIME_COLORS", "brunel_hopf_lines", "phase_grid", "write_phase_figure"]

#: Brunel (2000) Fig. 8: (label, g, nu_ext / nu_thr, state) of the four simulated states of model A
BRUNEL_FIG8_STATES = (
    ("A", 3.0, 2.0, "SR"),
    ("B", 6.0, 4.0, "SI fast"),
    ("C", 5.0, 2.0, "AI"),
    ("D", 4.5, 0.9, "SI slow"),
)
REGIME_COLORS = {
    "quiescent": "#d9d9d9",
    "AI": "#4daf4a",
    "SR": "#e41a1c",
    "SI fast": "#377eb8",
    "SI slow": "#ff7f00",
}
#: file next to phase.png caching the Hopf lines (columns branch, g, eta, f_hz and the model parameters)
HOPF_CACHE = "hopf_lines.csv"
#: the model-A parameters of the Hopf lines, as named in the run configuration
HOPF_PARAMS = ("k_exc", "k_inh", "j_mv", "tau_m_ms", "v_th_mv", "v_reset_mv", "t_ref_ms", "delay_ms")
#: line colours of the Hopf lines (darker shades of the regime colours they border)
HOPF_COLORS = {"SI fast": "#08306b", "SI slow": "#7f2704", "SR": "#67000d"}
#: colour scale ceiling of the spectral peak ratio (locked SR states reach 1e10 and would hide the AI/SI contrast)
PEAK_RATIO_CLIP = 1000.0
#: contour levels of the mean-field rate [Hz]
THEORY_LEVELS_HZ = (1.0, 5.0, 20.0, 50.0, 100.0, 200.0)
PANEL_TITLES = {
    "rate_hz": "rate [Hz]",
    "rate_ss_hz": "steady-state rate [Hz]",
    "cv_isi": "CV of ISIs",
    "cv_ss": "CV of ISIs (steady state)",
    "chi": "synchrony χ",
    "freq_hz": "dominant population frequency [Hz]",
    "peak_ratio": "spectral peak / median (clipped at 1e3)",
    "regime": "regime",
    "rate_error": "rate error (ν − ν*)/ν*",
    "m_mr": "branching ratio m (MR)",
    "theory_rate_hz": "mean-field rate [Hz]",
}


def _mode(values: pd.Series) -> Any:
    counts = values.value_counts()
    return counts.index[0] if len(counts) else np.nan


def phase_grid(frame: pd.DataFrame, x: str, y: str, field: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(xs, ys, z)`` with ``z[j, i]`` the seed-average (or majority, for text) of ``field`` at ``(xs[i], ys[j])``."""
    ok = frame[frame["status"] == "ok"]
    agg = _mode if ok[field].dtype.kind in "OSUT" or field == "regime" else "mean"
    table = ok.groupby([y, x])[field].agg(agg).unstack(x)
    xs, ys = np.asarray(table.columns, dtype=float), np.asarray(table.index, dtype=float)
    return xs, ys, table.to_numpy()


def _log_axis(v: np.ndarray) -> bool:
    """Positive values spanning more than two decades are drawn on a log axis."""
    v = np.asarray(v, dtype=float)
    return bool(v.size > 2 and np.all(v > 0) and v.max() / v.min() > 100)


def _edges(v: np.ndarray) -> np.ndarray:
    """Cell edges around sorted centres ``v`` (geometric midpoints on a log axis)."""
    if v.size == 1:
        return np.array([v[0] - 0.5, v[0] + 0.5])
    log = _log_axis(v)
    w = np.log(v) if log else v
    mid = (w[1:] + w[:-1]) / 2
    e = np.concatenate([[2 * w[0] - mid[0]], mid, [2 * w[-1] - mid[-1]]])
    return np.exp(e) if log else e


def _is_grid(frame: pd.DataFrame, x: str, y: str) -> bool:
    ok = frame[frame["status"] == "ok"]
    return ok[x].nunique() * ok[y].nunique() <= 2 * ok.groupby([x, y]).ngroups


def _draw_panel(ax: Any, frame: pd.DataFrame, x: str, y: str, field: str, grid: bool) -> None:
    from matplotlib.colors import BoundaryNorm, ListedColormap

    ok = frame[frame["status"] == "ok"]
    if field == "regime":
        cmap = ListedColormap([REGIME_COLORS[r] for r in REGIMES])
        norm = BoundaryNorm(np.arange(len(REGIMES) + 1) - 0.5, len(REGIMES))
        code = {r: i for i, r in enumerate(REGIMES)}
        if grid:
            xs, ys, z = phase_grid(frame, x, y, field)
            zc = np.vectorize(lambda r: code.get(r, np.nan), otypes=[float])(z)
            ax.pcolormesh(_edges(xs), _edges(ys), np.ma.masked_invalid(zc), cmap=cmap, norm=norm)
        else:
            ax.scatter(ok[x], ok[y], c=ok[field].map(code), cmap=cmap, norm=norm, s=25)
        handles = [ax.scatter([], [], color=REGIME_COLORS[r], marker="s", label=r) for r in REGIMES]
        ax.legend(handles=handles, fontsize=7, loc="upper left", framealpha=0.8)
        return
    if grid:
        xs, ys, z = phase_grid(frame, x, y, field)
        values = np.ma.masked_invalid(z.astype(float))
        log = field in ("rate_hz", "rate_ss_hz", "freq_hz", "peak_ratio") and np.nanmin(z) >= 0
        if log:
            from matplotlib.colors import LogNorm

            positive = z[np.isfinite(z) & (z > 0)].astype(float)
            norm = None
            if positive.size:
                top = min(positive.max(), PEAK_RATIO_CLIP) if field == "peak_ratio" else positive.max()
                norm = LogNorm(positive.min(), max(top, positive.min() * 1.01))
            mesh = ax.pcolormesh(_edges(xs), _edges(ys), np.ma.masked_less_equal(values, 0), norm=norm)
        else:
            mesh = ax.pcolormesh(_edges(xs), _edges(ys), values)
    else:
        mesh = ax.scatter(ok[x], ok[y], c=ok[field], s=25)
    ax.figure.colorbar(mesh, ax=ax, shrink=0.85)


def _is_brunel_plane(frame: pd.DataFrame, spec: SweepSpec) -> bool:
    config = {**spec.base, **spec.fixed}
    return {spec.plot.x, spec.plot.y} == {"g", "eta"} and config.get("drive", "poisson") == "poisson"  # type: ignore[union-attr]


def _brunel_overlay(ax: Any, frame: pd.DataFrame, spec: SweepSpec, theory: bool) -> None:
    """Brunel's published lines and states (and the mean-field rate contours) on one panel."""
    x, y = spec.plot.x, spec.plot.y  # type: ignore[union-attr]
    config = {**spec.base, **spec.fixed}
    k_exc, k_inh = config.get("k_exc", 80), config.get("k_inh", 20)

    def xy(g: float, eta: float) -> tuple[float, float]:
        return (g, eta) if x == "g" else (eta, g)

    ok = frame[frame["status"] == "ok"]
    if theory and "theory_rate_hz" in ok and ok["theory_rate_hz"].notna().any() and _is_grid(frame, x, y):
        xs, ys, z = phase_grid(frame, x, y, "theory_rate_hz")
        if min(z.shape) >= 2:
            cs = ax.contour(xs, ys, z.astype(float), levels=THEORY_LEVELS_HZ, colors="k", linewidths=0.6)
            ax.clabel(cs, fmt="%g Hz", fontsize=6)
    if k_inh > 0:
        g_bal = k_exc / k_inh
        ax.plot(*zip(xy(g_bal, 0.0), xy(g_bal, 4.0), strict=True), "w--", lw=1.0)
        ax.plot(*zip(xy(g_bal, 0.0), xy(g_bal, 4.0), strict=True), "k:", lw=1.0)
    ax.plot(*zip(xy(0.0, 1.0), xy(8.0, 1.0), strict=True), "k:", lw=1.0)
    for label, g, eta, state in BRUNEL_FIG8_STATES:
        px, py = xy(g, eta)
        ax.plot(px, py, marker="*", ms=11, mfc=REGIME_COLORS[state], mec="k", mew=0.8, ls="none")
        ax.annotate(f"{label} {state}", (px, py), xytext=(4, 4), textcoords="offset points", fontsize=7)


def brunel_hopf_lines(frame: pd.DataFrame, spec: SweepSpec, folder: str | Path | None = None) -> dict[str, np.ndarray]:
    """Hopf lines ``{branch: (n, 3) array of (g, eta, f_hz)}`` over the sweep's (g, eta) range.

    Model A with the sweep's parameters (:data:`HOPF_PARAMS` of base + ``[set]``), g in steps of
    0.25 over the sweep's range, the default eta scan of :func:`hopf_lines` within its range. With
    ``folder`` the result is read from (or, after computing it, about 10 s, written to)
    ``folder / HOPF_CACHE``; the cache is used only if its parameters and ranges match. Empty when
    the network is not model A (no leak, or ``quantal`` PSP amplitudes).
    """
    from neuroabm.theory.brunel_stability import ModelA, hopf_lines

    config = {**spec.base, **spec.fixed}
    if not config.get("leak", True) or config.get("quantal", "off") != "off" or spec.plot is None:
        return {}  # not model A: no leak, or random (quantal) excitatory PSP amplitudes
    model = ModelA(**{k: float(config[k]) for k in HOPF_PARAMS if k in config})
    ok = frame[frame["status"] == "ok"]
    g_lo, g_hi = float(ok["g"].min()), float(ok["g"].max())
    eta_hi = float(ok["eta"].max())
    gs = np.arange(g_lo, g_hi + 1e-9, 0.25)
    etas = np.concatenate([np.arange(0.8, 1.0, 0.02), np.arange(1.0, 1.5, 0.1), np.arange(1.5, 4.01, 0.25)])
    etas = np.unique(np.append(etas[etas <= eta_hi], eta_hi))
    if len(gs) < 1 or len(etas) < 2:
        return {}
    key = {**{k: getattr(model, k) for k in HOPF_PARAMS}, "g_lo": g_lo, "g_hi": g_hi, "eta_hi": eta_hi}
    cache = Path(folder) / HOPF_CACHE if folder is not None else None
    if cache is not None and cache.exists():
        table = pd.read_csv(cache)
        if len(table) and set(key) <= set(table) and all(np.isclose(table[k].iloc[0], v) for k, v in key.items()):
            return {b: t[["g", "eta", "f_hz"]].to_numpy() for b, t in table.groupby("branch", sort=True) if b != "none"}
    lines = hopf_lines(gs, etas, model)
    if cache is not None:
        rows = [{"branch": b, "g": g, "eta": e, "f_hz": f, **key} for b, pts in lines.items() for g, e, f in pts]
        table = pd.DataFrame(rows or [{"branch": "none", "g": np.nan, "eta": np.nan, "f_hz": np.nan, **key}])
        try:
            with atomic_path(cache) as tmp:
                table.to_csv(tmp, index=False)
        except OSError:  # a read-only folder: draw without caching
            pass
    return lines


def _draw_hopf(ax: Any, lines: dict[str, np.ndarray], x: str) -> None:
    """The Hopf lines on one panel, each labelled with its branch and frequency range."""
    for name, pts in lines.items():
        if not len(pts):
            continue
        kind = "SR" if name.startswith("SR") else name
        # a gap of more than one g step (0.25) or 0.5 in eta separates two pieces of one branch
        gap = np.r_[False, (np.abs(np.diff(pts[:, 0])) > 0.3) | (np.abs(np.diff(pts[:, 1])) > 0.5)]
        pts = np.insert(pts, np.nonzero(gap)[0], np.nan, axis=0)
        px, py = (pts[:, 0], pts[:, 1]) if x == "g" else (pts[:, 1], pts[:, 0])
        style = dict(marker="D", ms=3, ls="none") if kind == "SR" else dict(marker="o", ms=2, ls="-")
        ax.plot(px, py, color="w", lw=2.4, **{**style, "ms": style["ms"] + 1.5})
        ax.plot(px, py, color=HOPF_COLORS.get(kind, "k"), lw=1.3, **style)
        f_lo, f_hi = np.nanmin(pts[:, 2]), np.nanmax(pts[:, 2])
        text = f"Hopf {name}: {f_lo:.0f} Hz" if f_hi - f_lo < 1 else f"Hopf {name}: {f_lo:.0f}–{f_hi:.0f} Hz"
        i = int(np.nanargmin(pts[:, 1])) if kind == "SI slow" else int(np.nanargmax(pts[:, 1]))
        ax.annotate(
            text,
            (px[i], py[i]),
            xytext=(3, -9 if kind == "SI slow" else 3),
            textcoords="offset points",
            fontsize=6,
            color=HOPF_COLORS.get(kind, "k"),
            bbox=dict(fc="w", ec="none", alpha=0.7, pad=0.5),
        )


def write_phase_figure(frame: pd.DataFrame, spec: SweepSpec, path: str | Path) -> None:
    """Draw the sweep's plane (``spec.plot``) into ``path`` (PNG), atomically."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    if spec.plot is None:
        raise ValueError("the sweep has no [plot] plane (it needs two varied parameters)")
    x, y = spec.plot.x, spec.plot.y
    panels = [p for p in spec.plot.panels if p in frame.columns and frame[p].notna().any()]
    if not panels:
        raise ValueError(f"none of the panels {list(spec.plot.panels)} is in the results")
    grid = _is_grid(frame, x, y)
    brunel = _is_brunel_plane(frame, spec)
    ncols = min(3, len(panels))
    nrows = -(-len(panels) // ncols)
    hopf: dict[str, np.ndarray] = {}
    if brunel and "regime" in panels:
        try:
            hopf = brunel_hopf_lines(frame, spec, Path(path).parent)
        except Exception as exc:  # the figure is drawn without the lines
            warnings.warn(f"Hopf lines not drawn: {exc}", stacklevel=2)
    fig, axes = plt.subplots(nrows, ncols, figsize=(4.6 * ncols, 3.8 * nrows), squeeze=False)
    for ax, field in zip(axes.flat, panels, strict=False):
        _draw_panel(ax, frame, x, y, field, grid)
        if brunel:
            _brunel_overlay(ax, frame, spec, theory=field in ("rate_hz", "rate_ss_hz", "regime"))
        if field == "regime" and hopf:
            _draw_hopf(ax, hopf, x)
        ok = frame[frame["status"] == "ok"]
        for axis, name, set_scale in ((ax.xaxis, x, ax.set_xscale), (ax.yaxis, y, ax.set_yscale)):
            if _log_axis(np.unique(ok[name])):
                set_scale("log")
            else:  # at most 5 ticks, compact labels (1e-3 rather than 0.0010 side by side)
                axis.set_major_locator(MaxNLocator(5))
                axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.3g}"))
        ax.set_title(PANEL_TITLES.get(field, field), fontsize=9)
        ax.set_xlabel(x)
        ax.set_ylabel(y)
    for ax in list(axes.flat)[len(panels) :]:
        ax.set_visible(False)
    n_ok = int((frame["status"] == "ok").sum())
    title = spec.description or spec.path.stem
    fig.suptitle(f"{title}: {n_ok} runs", fontsize=10)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, format="png")
    plt.close(fig)
