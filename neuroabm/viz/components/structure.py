"""The synaptic structure live: neurons coloured by in-strength, and the strongest synapses as lines.

The in-strength of a neuron is the sum of the positive (excitatory) weights of its incoming
synapses [mV], as in the graph metrics (:func:`neuroabm.analysis.spatial_metrics.strengths`).
The :data:`TOP_EDGES` synapses of largest weight are drawn as lines from the presynaptic to the
postsynaptic neuron along the shortest image on the torus; a line that leaves the square is
drawn again from the other side, so both of its ends show.

Without plasticity the structure cannot change: the view is drawn once per model and the frame
is reused for every step. With plasticity (or structural plasticity) it is recomputed every
:data:`STRUCTURE_EVERY_MS` of biology.
"""

from __future__ import annotations

import math
from collections.abc import Hashable

import numpy as np
from matplotlib.collections import LineCollection
from matplotlib.colors import Normalize

from neuroabm.analysis.spatial_metrics import strengths
from neuroabm.model.model import NeuroModel
from neuroabm.viz.components.figure import LiveFigure, figure_component
from neuroabm.viz.components.torus import drawn_subset

#: number of strongest synapses drawn
TOP_EDGES = 200
#: a plastic network's structure is recomputed at most this often [ms of biology]
STRUCTURE_EVERY_MS = 500.0
#: marker size of a neuron [points^2] and colour of the synapse lines
DOT_AREA, EDGE_COLOR = 10.0, "#e8590c"
#: the box behind a note over the neurons
NOTE_BOX = {"boxstyle": "round", "facecolor": "white", "edgecolor": "0.6", "alpha": 0.9}
#: line widths of the weakest and strongest drawn synapse [points]
EDGE_WIDTHS = (0.4, 2.0)


def top_edges(weight: np.ndarray, k: int = TOP_EDGES) -> np.ndarray:
    """Indices of the ``k`` largest positive weights, largest first (fewer if fewer are positive)."""
    positive = np.flatnonzero(weight > 0)
    if positive.size > k:
        positive = positive[np.argpartition(weight[positive], -k)[-k:]]
    return positive[np.argsort(weight[positive], kind="stable")[::-1]]


def torus_segments(start: np.ndarray, end: np.ndarray, side: float) -> tuple[np.ndarray, np.ndarray]:
    """Line segments [mm] from ``start`` to ``end`` (``(n, 2)`` each) along the shortest image on the torus.

    Each pair gives the segment ``start -> start + d`` with ``d`` the minimum-image displacement;
    if that leaves the square ``[0, side)^2``, the segment ``end - d -> end`` is added too (the
    line reappears on the other side and ends at ``end``).

    Returns:
        The segments ``(m, 2, 2)`` (the ``n`` first pieces, then the second pieces of wrapped lines)
        and, for each segment, the index of its pair.

    """
    d = end - start
    d -= side * np.round(d / side)
    tip = start + d
    outside = np.any((tip < 0.0) | (tip >= side), axis=1)
    first = np.stack([start, tip], axis=1)
    second = np.stack([end[outside] - d[outside], end[outside]], axis=1)
    return np.concatenate([first, second]), np.concatenate([np.arange(len(start)), np.flatnonzero(outside)])


def nice_range(values: np.ndarray) -> tuple[float, float]:
    """A colour range covering ``values`` in coarse steps, so that it (and the colour bar) changes rarely.

    The step is half the power of ten at or above the values' spread (at least 1% of their
    largest magnitude); the limits are multiples of it.
    """
    lo, hi = float(values.min()), float(values.max())
    span = max(hi - lo, 0.01 * max(abs(lo), abs(hi)), 1e-9)
    q = 10.0 ** math.ceil(math.log10(span)) / 2.0
    lo, hi = math.floor(lo / q) * q, math.ceil(hi / q) * q
    return (lo, hi) if hi > lo else (lo - q, hi + q)


class StructureFigure(LiveFigure):
    """Neurons on the torus coloured by in-strength [mV], the strongest synapses as lines over them."""

    size_in = (4.8, 4.2)

    def __init__(self) -> None:
        super().__init__()
        self.ax = ax = self.fig.add_axes((0.12, 0.11, 0.64, 0.82))
        cax = self.fig.add_axes((0.79, 0.11, 0.035, 0.82))
        self.dots = ax.scatter(
            np.zeros(0), np.zeros(0), c=np.zeros(0), s=DOT_AREA, cmap="viridis", norm=Normalize(0.0, 1.0),
            edgecolors="none", zorder=2,
        )  # fmt: skip
        self.fig.colorbar(self.dots, cax=cax, label="in-strength [mV]")
        self.lines = LineCollection(np.zeros((0, 2, 2)), colors=EDGE_COLOR, alpha=0.75, zorder=3)
        ax.add_collection(self.lines)
        self.note = ax.text(0.5, 0.5, "", transform=ax.transAxes, ha="center", va="center", zorder=4, bbox=NOTE_BOX)
        ax.set_xlabel("x [mm]")
        ax.set_ylabel("y [mm]")
        self.animate(self.dots, self.lines, self.note)  # the note over the neurons; empty, it costs nothing
        self.shown = np.zeros(0, np.int64)
        self.plastic = False
        self.side = 1.0
        self.in_strength = np.zeros(0)
        self.top = np.zeros(0, np.int64)

    def bind(self, model: NeuroModel) -> None:
        """Positions and axes of a new model; whether its structure can change."""
        self.side = side = float(model.params.side_mm)
        self.shown = drawn_subset(model.n_neurons)
        self.dots.set_offsets(model.positions[self.shown])
        self.plastic = model.plasticity is not None or bool(model.params.structural)
        self.ax.set_xlim(0.0, side)
        self.ax.set_ylim(0.0, side)

    def frame_key(self, model: NeuroModel) -> Hashable:
        """Static networks: one frame per model; plastic ones: every :data:`STRUCTURE_EVERY_MS`."""
        return int(model.time // STRUCTURE_EVERY_MS) if self.plastic else 0

    def update(self, model: NeuroModel) -> None:
        """In-strengths and the strongest synapses now."""
        src, tgt, w = model.synapses.edges(model.synapse_weights())
        self.in_strength = s_in = strengths(src, tgt, w, model.n_neurons)[0]
        self.dots.set_array(s_in[self.shown])
        self.dots.set_clim(*nice_range(s_in))
        w_pos = w[w > 0]
        uniform = w_pos.size == 0 or w_pos.min() == w_pos.max()
        self.top = top = np.zeros(0, np.int64) if uniform else top_edges(w)
        pos = model.positions
        segments, owner = torus_segments(pos[src[top]], pos[tgt[top]], self.side)
        self.lines.set_segments(segments)
        if top.size:
            w_top = w[top].astype(float)
            rel = (w_top - w_top.min()) / max(w_top.max() - w_top.min(), 1e-12)
            widths = EDGE_WIDTHS[0] + (EDGE_WIDTHS[1] - EDGE_WIDTHS[0]) * rel
            self.lines.set_linewidths(widths[owner])
            weights = f"{w_top.min():.2f}-{w_top.max():.2f} mV"
            self.note.set_text("")
            self.status = f"strongest {top.size} of {w.size} synapses ({weights}); in-strength {_range(s_in)} mV"
        else:
            w_text = f"{w_pos[0]:.2g} mV" if w_pos.size else "none"
            self.note.set_text(f"all excitatory weights equal ({w_text}):\nno strongest synapses yet")
            self.status = f"in-strength {_range(s_in)} mV; all {w_pos.size} excitatory weights equal"
        if not self.plastic:
            self.status += " (static network: drawn once)"

    def static_key(self, model: NeuroModel) -> Hashable:
        """The colour scale (the colour bar is part of the background)."""
        return self.dots.get_clim()


def _range(x: np.ndarray) -> str:
    return f"{float(x.min()):.1f}-{float(x.max()):.1f}" if x.size else "-"


StructureView = figure_component(
    StructureFigure,
    "neuroabm-structure",
    f"Neurons coloured by excitatory in-strength (sum of incoming positive weights) and the {TOP_EDGES} strongest "
    f"synapses (line width by weight, shortest path on the torus); with plasticity updated every "
    f"{STRUCTURE_EVERY_MS:g} ms of biology.",
)
