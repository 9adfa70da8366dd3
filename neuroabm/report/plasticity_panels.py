"""Report panels of plasticity: weights at start and end, graph metrics over time (maps: structure_panels)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import numpy as np

from neuroabm.recorders.graph import WEIGHT_BINS

if TYPE_CHECKING:
    from neuroabm.model.model import NeuroModel


def plot_weights(ax: plt.Axes, model: NeuroModel) -> None:
    """Histogram of the plastic (excitatory) weights at the start and now (log counts)."""
    rec = model.graph_recorder
    edges = np.linspace(0.0, model.params.w_max_mv, WEIGHT_BINS + 1)
    ax.stairs(rec.initial_weight_counts, edges, label="start", color="0.5", fill=True, alpha=0.5)
    ax.stairs(rec.weight_counts(), edges, label=f"{model.time:g} ms", color="#8e44ad", lw=1.5)
    ax.set(yscale="log", xlabel="weight [mV]", ylabel="excitatory synapses", title="Weight distribution")
    ax.legend(frameon=False)


def plot_graph_metrics(ax: plt.Axes, model: NeuroModel) -> None:
    """Mean weight, clustering and modularity over time, each relative to its first value."""
    df = model.graph_recorder.frame()
    if df.empty:
        ax.text(0.5, 0.5, "no graph metrics recorded\n(graph_period_ms = 0 or longer than the run)",
                ha="center", va="center", transform=ax.transAxes)  # fmt: skip
        ax.set_axis_off()
        return
    for name, label in (("weight_mean_mv", "mean weight"), ("clustering", "clustering"), ("modularity", "modularity")):
        col = df[["t_ms", name]].dropna()  # clustering and modularity are computed on every n-th record only
        ax.plot(col["t_ms"], col[name], marker=".", label=label)
    ax.set(xlabel="time [ms]", title="Graph metrics over time")
    ax.legend(frameon=False, fontsize=8)
