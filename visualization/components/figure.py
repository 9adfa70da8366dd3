"""Live matplotlib figures shown as images by Solara components.

A :class:`LiveFigure` owns one fixed-size Agg figure whose artists are made once and then updated
in place (``set_data``, ``set_offsets``, ...): no figure or axes is re-created per frame and there
is no ``tight`` bounding box (which would draw twice). Drawing text, ticks and axes is most of
matplotlib's cost (tens of ms per figure on the 2-core machine), so frames are *blitted*: the
figure is fully drawn only when its :meth:`~LiveFigure.static_key` changes (new axis limits, a new
colour scale); that background is kept, and every other frame restores it and draws only the
artists registered with :meth:`~LiveFigure.animate`. A frame is produced only when the
:meth:`~LiveFigure.frame_key` changes, and encoded straight from the Agg buffer as JPEG (see
:data:`JPEG_QUALITY`).
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable, Hashable
from typing import Any

import PIL.Image
import solara
from matplotlib.artist import Artist
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from mesa.visualization.utils import update_counter

from neuroabm.model.model import NeuroModel

#: resolution of every figure [dots per inch]
DPI = 90
#: JPEG quality of the frames: encoding takes ~1 ms where PNG (level 1) takes ~10 ms for the same
#: 430 x 380 frame on the 2-core machine; at 90 with full-resolution colour, text and thin raster
#: marks stay sharp
JPEG_QUALITY = 90


def new_figure(width_in: float, height_in: float) -> Figure:
    """A figure of fixed size [inch] on its own Agg canvas (no pyplot state)."""
    fig = Figure(figsize=(width_in, height_in), dpi=DPI)
    FigureCanvasAgg(fig)
    return fig


def image_bytes(fig: Figure) -> bytes:
    """The figure's current Agg buffer as JPEG bytes (:data:`JPEG_QUALITY`, no chroma subsampling)."""
    buf = io.BytesIO()
    image = PIL.Image.frombuffer("RGBA", fig.canvas.get_width_height(), fig.canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
    image.convert("RGB").save(buf, format="jpeg", quality=JPEG_QUALITY, subsampling=0)
    return buf.getvalue()


def level(x: float, base: float = 2.0) -> float:
    """The smallest power of ``base`` >= ``x`` (> 0): axis limits that change only in coarse steps."""
    return float(base ** math.ceil(math.log(max(x, 1e-300), base)))


class LiveFigure:
    """A figure bound to one model at a time, blitted per frame, fully redrawn when its static key changes.

    Subclasses make their artists in ``__init__`` (after calling it), mark the per-frame ones with
    :meth:`animate`, set up per-model artists in :meth:`bind` and update them in :meth:`update`.
    """

    size_in: tuple[float, float] = (5.0, 4.0)

    def __init__(self) -> None:
        self.fig = new_figure(*self.size_in)
        self.dynamic: list[Artist] = []
        self._model: NeuroModel | None = None
        self._key: Hashable = None
        self._static: Hashable = None
        self._background: Any = None
        self._image = b""
        self.n_frames = 0  # frames produced
        self.n_full = 0  # of which full redraws

    def animate(self, *artists: Artist) -> None:
        """Draw these artists on every frame, over the kept background."""
        for artist in artists:
            artist.set_animated(True)
            self.dynamic.append(artist)

    def bind(self, model: NeuroModel) -> None:
        """Set up what stays fixed during a model's life (positions, sites, axis limits)."""

    def update(self, model: NeuroModel) -> None:
        """Bring the artists up to date with ``model``."""

    def frame_key(self, model: NeuroModel) -> Hashable:
        """A frame is produced when this changes; default: every new model time."""
        return float(model.time)

    def static_key(self, model: NeuroModel) -> Hashable:
        """The background is redrawn when this changes (called after :meth:`update`); default: every frame."""
        return self.n_frames

    def render(self, model: NeuroModel) -> bytes:
        """JPEG bytes of the figure for ``model`` now (cached while the frame key is unchanged)."""
        if model is not self._model:
            self._model, self._key, self._background = model, None, None
            self.bind(model)
        key = self.frame_key(model)
        if key == self._key and self._image:
            return self._image
        self.update(model)
        static = self.static_key(model)
        canvas = self.fig.canvas
        if self._background is None or static != self._static:
            canvas.draw()  # skips the animated artists
            self._background = canvas.copy_from_bbox(self.fig.bbox)
            self._static = static
            self.n_full += 1
        else:
            canvas.restore_region(self._background)
        for artist in self.dynamic:
            self.fig.draw_artist(artist)
        self._image = image_bytes(self.fig)
        self._key = key
        self.n_frames += 1
        return self._image


def figure_component(make: Callable[[], LiveFigure], css_class: str, caption: str) -> Callable[..., Any]:
    """A Solara component ``View(model)`` showing a :class:`LiveFigure` made by ``make``.

    The component re-renders whenever Mesa's controller steps or resets the model (it reads Mesa's
    ``update_counter``); the image carries the CSS class ``css_class`` (for tests and styling).
    """

    @solara.component
    def View(model: NeuroModel) -> None:
        update_counter.get()
        live = solara.use_memo(make, [])
        image = live.render(model)
        with solara.Column(gap="2px"):
            solara.Image(image, format="jpeg", width="100%", classes=[css_class])
            solara.Text(caption, style={"font-size": "12px", "color": "#555"})

    View.__name__ = View.__qualname__ = f"{make.__name__}View"
    return View
