"""Report panels of the synaptic structure: communities on the torus, degrees, metrics over time, strong edges.

Drawn for plastic runs (a static run's structure is its start: see ``graph_metrics.parquet``). The
start of every panel comes from the graph recorder's first record (degrees, a sample of edges,
the first Louvain partition), the end from the model now.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import numpy as np

if TYPE_CHECKING:
    from neuroabm.model.model import NeuroModel

#: edges drawn on the torus in each strong-edge panel
EDGES_DRAWN = 300
#: "strong": the top (1 - this) of the excitatory weights at the end
STRONG_QUANTILE = 0.9


def _torus_axes(ax: plt.Axes, model: NeuroModel, title: str) -> None:
    side = model.params.side_mm
    ax.set(xlim=(0, side), ylim=(0, side), aspect="equal", xlabel="x [mm]", ylabel="y [mm]", title=title)


def _sites(ax: plt.Axes, model: NeuroModel) -> None:
    if model.dopamine is not None and model.params.n_sites:
        xy = model.dopamine.sites.xy_mm
        ax.scatter(xy[:, 0], xy[:, 1], marker="x", c="k", s=40, lw=1.5, label="release sites")
        ax.legend(loc="upper right", fontsize=8, framealpha=0.8)


def plot_communities(ax: plt.Axes, model: NeuroModel) -> None:
    """Louvain communities of the last structural record, each neuron at its position, with the sites."""
    rec = model.graph_recorder
    pos = model.positions
    if rec.partition is None:
        ax.text(0.5, 0.5, "no structural record", ha="center", transform=ax.transAxes)
        return
    labels = rec.partition
    order = np.random.default_rng(0).permutation(int(labels.max()) + 1)  # neighbours get distinct colours
    ax.scatter(pos[:, 0], pos[:, 1], c=order[labels] % 20, cmap="tab20", s=5, vmin=0, vmax=19)
    row = next(r for r in reversed(rec.rows) if np.isfinite(r.get("modularity", np.nan)))  # the partition's record
    nmi = row.get("nmi_catchments", float("nan"))
    _torus_axes(ax, model, f"Louvain communities at {row['t_ms']:g} ms (NMI with catchments {nmi:.2f})")
    _sites(ax, model)


def plot_in_strength(ax: plt.Axes, model: NeuroModel) -> None:
    """Excitatory in-strength of every neuron at its position, with the sites."""
    _, tgt, w = model.synapses.edges(model.synapse_weights())
    strength = np.bincount(tgt, weights=np.maximum(w, 0.0), minlength=model.n_neurons)
    pos = model.positions
    sc = ax.scatter(pos[:, 0], pos[:, 1], c=strength, s=4, cmap="viridis")
    plt.colorbar(sc, ax=ax, label="in-strength [mV]", shrink=0.85)
    _torus_axes(ax, model, "Excitatory in-strength")
    _sites(ax, model)


def plot_degrees(ax: plt.Axes, model: NeuroModel) -> None:
    """In- and out-degree distributions at the start and now."""
    rec = model.graph_recorder
    src, tgt, _ = model.synapses.edges()
    n = model.n_neurons
    now = (np.bincount(tgt, minlength=n), np.bincount(src, minlength=n))
    start = rec.initial_degrees
    hi = max(int(max(a.max() for a in (*now, *start))), 1)
    bins = np.linspace(0, hi + 1, 50)
    for (k0, k1), name, color in zip(zip(start, now, strict=True), ("in", "out"), ("#16a085", "#d35400"), strict=True):
        ax.hist(k0, bins=bins, histtype="stepfilled", alpha=0.25, color=color, label=f"{name}-degree, start")
        ax.hist(k1, bins=bins, histtype="step", lw=1.5, color=color, label=f"{name}-degree, {model.time:g} ms")
    ax.set(xlabel="synapses per neuron", ylabel="neurons", title="Degree distributions")
    ax.legend(frameon=False, fontsize=8)


def plot_structure_over_time(ax: plt.Axes, model: NeuroModel) -> None:
    """Synapse count, mean |weight|, modularity, NMI and strength-site correlation over time (each / first)."""
    df = model.graph_recorder.frame()
    series = (("n_edges", "synapses"), ("modularity", "modularity"), ("nmi_catchments", "NMI(communities, catchments)"),
              ("in_strength_corr_length_mm", "in-strength corr. length"))  # fmt: skip
    for name, label in series:
        col = df[["t_ms", name]].dropna()
        if len(col) and col[name].iloc[0]:
            ax.plot(col["t_ms"] / 1000.0, col[name] / col[name].iloc[0], marker=".", label=label)
    ax.axhline(1.0, color="0.6", lw=0.6)
    ax.set(xlabel="time [s]", ylabel="relative to the start", title="Structure over time")
    twin = ax.twinx()
    col = df[["t_ms", "site_dist_in_strength_corr"]].dropna()
    twin.plot(col["t_ms"] / 1000.0, col["site_dist_in_strength_corr"], color="k", ls="--", lw=1.2)
    twin.set_ylabel("corr(in-strength, distance to site) (dashed)")
    twin.set_ylim(-1, 1)
    ax.legend(frameon=False, fontsize=8, loc="lower left")


def _draw_edges(ax: plt.Axes, model: NeuroModel, src: np.ndarray, tgt: np.ndarray, color: str) -> None:
    side = model.params.side_mm
    pos = model.positions
    a = pos[src]
    d = pos[tgt] - a
    d -= side * np.round(d / side)  # the shortest way on the torus (may leave the square: clipped)
    segments = np.stack([a, a + d], axis=1)
    from matplotlib.collections import LineCollection

    ax.add_collection(LineCollection(segments, colors=color, linewidths=0.5, alpha=0.6))
    ax.scatter(pos[:, 0], pos[:, 1], s=0.5, c="0.75")


def plot_strong_edges(ax_start: plt.Axes, ax_end: plt.Axes, model: NeuroModel) -> None:
    """A seeded sample of excitatory edges at the start, and of the strongest 10 % now, drawn on the torus."""
    rec = model.graph_recorder
    src0, tgt0 = rec.initial_edge_sample
    _draw_edges(ax_start, model, src0, tgt0, "#7f8c8d")
    _torus_axes(ax_start, model, f"{src0.size} excitatory edges at the start (sample)")
    _sites(ax_start, model)
    src, tgt, w = model.synapses.edges(model.synapse_weights())
    exc = np.flatnonzero(src < model.n_exc)
    if exc.size:
        strong = exc[w[exc] >= np.quantile(w[exc], STRONG_QUANTILE)]
        pick = np.random.default_rng(0).choice(strong, min(EDGES_DRAWN, strong.size), replace=False)
        _draw_edges(ax_end, model, src[pick], tgt[pick].astype(np.int64), "#8e44ad")
    _torus_axes(ax_end, model, f"strongest 10 % of excitatory edges at {model.time:g} ms (sample)")
    _sites(ax_end, model)
