"""Graph metrics over time and the distribution of the plastic weights.

The metrics are the rows the model's :class:`~neuroabm.recorders.graph.GraphRecorder` appends every
``graph_period_ms`` (without plasticity the structural columns repeat the first row). The weight
histogram is that of the excitatory (plastic) synapses now, over ``[0, w_max_mv]``, drawn over the
histogram at the start; it is refreshed every :data:`HIST_EVERY_MS` of biology.
"""

from __future__ import annotations

from collections.abc import Hashable

import numpy as np

from neuroabm.model.model import NeuroModel
from neuroabm.recorders.graph import WEIGHT_BINS
from neuroabm.viz.components.figure import LiveFigure, figure_component, level

#: (column of the graph metrics table, panel label)
METRICS = (
    ("in_degree_mean", "mean degree"),
    ("clustering", "clustering"),
    ("modularity", "modularity"),
    ("weight_mean_mv", "mean weight [mV]"),
)
#: the weight histogram is recomputed at most this often [ms of biology]
HIST_EVERY_MS = 200.0
#: shown in a metric's panel until the recorder has given it a (finite) value
WAITING = "waiting for data"


def excitatory_weight_counts(model: NeuroModel, edges: np.ndarray) -> np.ndarray:
    """Histogram of the weights of all synapses from excitatory neurons over the bin ``edges`` [mV]."""
    src, _, w = model.synapses.edges(model.synapse_weights())
    return np.histogram(w[src < model.n_exc], bins=edges)[0]


def expand_limits(limits: tuple[float, float], y: np.ndarray) -> tuple[float, float]:
    """``limits``, or if a finite value of ``y`` falls outside them, the data range padded by half of it."""
    y = y[np.isfinite(y)]
    if y.size == 0 or (limits[0] <= y.min() and y.max() <= limits[1]):
        return limits
    lo, hi = float(y.min()), float(y.max())
    pad = 0.5 * (hi - lo) if hi > lo else 0.1 * max(abs(lo), 1e-3)
    return lo - pad, hi + pad


def first_limits(y0: float) -> tuple[float, float]:
    """Axis limits around a metric's first value ``y0``: +-10% of it (+-0.1 about zero), rounded out."""
    pad = 0.1 * abs(y0) if y0 != 0.0 else 0.1
    q = 10.0 ** np.floor(np.log10(pad))
    return float(np.floor((y0 - pad) / q) * q), float(np.ceil((y0 + pad) / q) * q)


class GraphFigure(LiveFigure):
    """Four metric traces over time and the weight histogram."""

    size_in = (6.4, 4.2)

    def __init__(self) -> None:
        super().__init__()
        grid = self.fig.add_gridspec(2, 3, left=0.09, right=0.98, bottom=0.11, top=0.93, wspace=0.45, hspace=0.55)
        self.axes = [self.fig.add_subplot(grid[i // 3, i % 3]) for i in range(len(METRICS))]
        self.lines = []
        for ax, (_, label) in zip(self.axes, METRICS, strict=True):
            (line,) = ax.plot([], [], marker="o", markersize=2.5, lw=1.0, color="tab:purple")
            self.lines.append(line)
            ax.set_title(label, fontsize=9)
            ax.tick_params(labelsize=7)
            ax.set_xlim(0.0, 1.0)
        for ax in self.axes[-2:]:
            ax.set_xlabel("t [s]", fontsize=8)
        self.animate(*self.lines)
        self.ax_w = self.fig.add_subplot(grid[1, 1:])
        self.initial = self.ax_w.stairs(np.zeros(1), [0.0, 1.0], color="0.6", label="start")
        self.now = self.ax_w.stairs(np.zeros(1), [0.0, 1.0], color="tab:green", fill=True, alpha=0.6, label="now")
        self.ax_w.set_yscale("symlog", linthresh=1.0)
        self.ax_w.set_title("excitatory weights", fontsize=9)
        self.ax_w.set_xlabel("w [mV]", fontsize=8)
        self.ax_w.tick_params(labelsize=7)
        self.ax_w.legend(fontsize=7, frameon=False)
        self.animate(self.now)
        self.note = self.fig.text(0.5, 0.5, "", ha="center", va="center", color="0.4", fontsize=9)
        kw = {"ha": "center", "va": "center", "color": "0.45", "fontsize": 8}
        self.waiting = [ax.text(0.5, 0.5, WAITING, transform=ax.transAxes, **kw) for ax in self.axes]

    def bind(self, model: NeuroModel) -> None:
        """Histogram bins and the starting histogram of a new model."""
        self.seen = dict.fromkeys((key for key, _ in METRICS), False)  # a metric has had a finite value
        p = model.params
        w_hi = p.w_max_mv if p.plasticity else 1.25 * p.j_mv
        self.edges = np.linspace(0.0, max(w_hi, 1e-9), WEIGHT_BINS + 1)
        counts = excitatory_weight_counts(model, self.edges)
        self.initial.set_data(counts, self.edges)
        self.ax_w.set_xlim(self.edges[0], self.edges[-1])
        tracked = model.graph_recorder is not None and p.graph_period_ms > 0
        self.note.set_text("" if tracked else "graph metrics at start and end only (graph_period_ms = 0)")

    def frame_key(self, model: NeuroModel) -> Hashable:
        """New metrics rows, or the next histogram refresh."""
        rows = len(model.graph_recorder.rows) if model.graph_recorder is not None else 0
        return rows, int(model.time // HIST_EVERY_MS)

    def update(self, model: NeuroModel) -> None:
        """Metric traces from the recorder's rows; the weight histogram now."""
        rows = model.graph_recorder.rows if model.graph_recorder is not None else []
        t_s = np.array([r["t_ms"] for r in rows]) / 1000.0
        for ax, line, (key, _) in zip(self.axes, self.lines, METRICS, strict=True):
            y = np.array([r[key] for r in rows], float)
            line.set_data(t_s, y)
            t_max = level(max(1.0, 1.05 * t_s.max(initial=0.0)))
            ax.set_xlim(-0.03 * t_max, t_max)  # a point at t = 0 stays clear of the frame
            finite = y[np.isfinite(y)]
            if finite.size and not self.seen[key]:  # the first value: limits around it
                ax.set_ylim(*first_limits(float(finite[0])))
                self.seen[key] = True
            ax.set_ylim(*expand_limits(ax.get_ylim(), y))
        for text, (key, _) in zip(self.waiting, METRICS, strict=True):
            text.set_visible(not self.seen[key])
        counts = excitatory_weight_counts(model, self.edges)
        self.now.set_data(counts, self.edges)
        self.ax_w.set_ylim(0.0, level(2.0 * max(1, counts.max(), self.initial.get_data().values.max())))

    def static_key(self, model: NeuroModel) -> Hashable:
        """The axis limits (they change in coarse steps)."""
        limits = ((ax.get_xlim(), ax.get_ylim()) for ax in self.axes)
        return (*limits, self.ax_w.get_ylim(), tuple(self.seen.values()))


GraphView = figure_component(
    GraphFigure,
    "neuroabm-graphs",
    "Graph metrics every graph_period_ms (with plasticity) and the excitatory weight distribution (grey: at t = 0).",
)
