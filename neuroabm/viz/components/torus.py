"""The torus: dopamine field heatmap, neurons by type flashing when they fire, release sites.

The field ``values[i, j]`` is the concentration at node ``(i h, j h)`` (first index x), drawn as
``values.T`` with the lower origin, each node centred on its cell. Neurons that fired since the
previous frame (at most :data:`FLASH_MAX_MS` back) are drawn larger and bright. Above
:data:`MAX_DRAWN` neurons, a fixed random subset is drawn so a frame costs the same at any N.
"""

from __future__ import annotations

from collections.abc import Hashable

import numpy as np
from matplotlib.colors import PowerNorm

from neuroabm.model.model import NeuroModel
from neuroabm.viz.components.figure import LiveFigure, figure_component, level
from neuroabm.viz.components.spike_window import SpikeWindow

#: at most this many neurons are drawn (a fixed random subset of larger networks)
MAX_DRAWN = 2000
#: a neuron flashes if it fired since the last frame, but at most this long ago [ms]
FLASH_MAX_MS = 50.0
#: colours of excitatory and inhibitory neurons at rest, and of a neuron that just fired
EXC_COLOR, INH_COLOR, FLASH_COLOR = "#4da6ff", "#ff5a4d", "#ffffc0"
#: marker diameters [points] at rest and when flashing
REST_SIZE, FLASH_SIZE = 2.6, 6.0
#: the colour bar's top is at least this [uM] (a power of 2): before any release the field is 0
MIN_TOP_UM = 1.0
#: shown over the heatmap while the field is still zero everywhere
NO_DOPAMINE_YET = "waiting for data:\nno dopamine released yet"


def drawn_subset(n: int, max_drawn: int = MAX_DRAWN, seed: int = 0) -> np.ndarray:
    """Indices of the neurons drawn: all of them, or a fixed sorted random subset of ``max_drawn``."""
    if n <= max_drawn:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, max_drawn, replace=False))


class TorusFigure(LiveFigure):
    """Heatmap of the dopamine field with the neurons and release sites on top."""

    size_in = (4.8, 4.2)

    def __init__(self) -> None:
        super().__init__()
        self.ax = ax = self.fig.add_axes((0.13, 0.11, 0.66, 0.82))
        cax = self.fig.add_axes((0.83, 0.11, 0.035, 0.82))
        # square-root colour scale: release sites make sharp peaks over a low background
        norm = PowerNorm(0.5, vmin=0.0, vmax=1.0)
        self.heat = ax.imshow(np.zeros((2, 2)), origin="lower", cmap="magma", interpolation="nearest", norm=norm)
        self.fig.colorbar(self.heat, cax=cax, label="dopamine [µM] (square-root scale)")
        # one Line2D per marker style: Agg stamps a cached marker, far cheaper than a scatter
        dots = {"linestyle": "none", "marker": "o", "markeredgewidth": 0, "zorder": 2}
        (self.exc_dots,) = ax.plot([], [], color=EXC_COLOR, markersize=REST_SIZE, **dots)
        (self.inh_dots,) = ax.plot([], [], color=INH_COLOR, markersize=REST_SIZE, **dots)
        (self.flash_dots,) = ax.plot([], [], color=FLASH_COLOR, markersize=FLASH_SIZE, **dots)
        self.site_marks = ax.scatter(
            np.zeros(0), np.zeros(0), marker="P", s=60, c="white", edgecolors="black", linewidths=0.7, zorder=3
        )
        box = {"boxstyle": "round", "facecolor": "white", "edgecolor": "0.6", "alpha": 0.9}
        self.note = ax.text(0.5, 0.5, "", transform=ax.transAxes, ha="center", va="center", zorder=4, bbox=box)
        ax.set_xlabel("x [mm]")
        ax.set_ylabel("y [mm]")
        # the note is drawn over the heatmap (animated too); empty, it costs nothing
        self.animate(self.heat, self.exc_dots, self.inh_dots, self.flash_dots, self.site_marks, self.note)
        self.shown = np.zeros(0, np.int64)
        self.xy = np.zeros((0, 2))
        self.shown_exc = np.zeros(0, bool)
        self.n_flashing = 0
        self._last_t = 0.0

    def bind(self, model: NeuroModel) -> None:
        """Positions, colours, sites and the field's extent of a new model."""
        side = model.params.side_mm
        self.shown = drawn_subset(model.n_neurons)
        self.xy = model.positions[self.shown]
        self.shown_exc = model.is_exc[self.shown]
        da = model.dopamine
        self.heat.set_visible(da is not None)
        self.note.set_text(NO_DOPAMINE_YET if da is not None else "dopamine off")
        if da is not None:
            h = side / da.field.values.shape[0]
            self.heat.set_extent((-h / 2, side - h / 2, -h / 2, side - h / 2))
            self.site_marks.set_offsets(da.sites.xy_mm)
        else:
            self.site_marks.set_offsets(np.zeros((0, 2)))
        self.ax.set_xlim(0.0, side)
        self.ax.set_ylim(0.0, side)
        self._last_t = float(model.time)

    def update(self, model: NeuroModel) -> None:
        """Flash the neurons that fired since the last frame; redraw the field."""
        now = float(model.time)
        t0 = max(self._last_t, now - FLASH_MAX_MS)
        _, fired = SpikeWindow.of(model).update().since(t0)
        flashing = np.zeros(model.n_neurons, bool)
        flashing[fired] = True
        self.n_flashing = int(flashing.sum())
        flash = flashing[self.shown]
        for line, mask in ((self.exc_dots, ~flash & self.shown_exc), (self.inh_dots, ~flash & ~self.shown_exc)):
            line.set_data(self.xy[mask, 0], self.xy[mask, 1])
        self.flash_dots.set_data(self.xy[flash, 0], self.xy[flash, 1])
        if model.dopamine is not None:
            values = model.dopamine.field.values
            top = float(values.max())
            self.heat.set_clim(0.0, level(max(top, MIN_TOP_UM)))  # the colour bar changes rarely
            if top > 0.0:
                self.note.set_text("")
            # colour the grid's nodes here (64 x 64): matplotlib then only scales an RGBA image up,
            # instead of scaling the values up and normalizing every screen pixel (~7 ms a frame)
            self.heat.set_data(self.heat.to_rgba(values.T, bytes=True))
        subset = f" ({self.shown.size} drawn)" if self.shown.size < model.n_neurons else ""
        self.status = (
            f"t = {now / 1000:.2f} s: {self.n_flashing} of {model.n_neurons}{subset} fired in {now - t0:.0f} ms"
        )
        self._last_t = now

    def static_key(self, model: NeuroModel) -> Hashable:
        """The colour scale (a power of 2 [uM]): the colour bar is part of the background."""
        return self.heat.get_clim()


TorusView = figure_component(
    TorusFigure,
    "neuroabm-torus",
    "Dopamine field (heatmap); neurons: excitatory blue, inhibitory red, bright = fired since the last frame; "
    "+ release sites.",
)
