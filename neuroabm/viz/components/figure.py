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

Two more things keep a frame cheap: artists that are just pixels (a spike raster) may be written
straight into the Agg buffer by :meth:`~LiveFigure.paint` instead of going through matplotlib, and
text that changes every frame (a title with the time) is not drawn into the image (matplotlib's
text layout and rendering cost 3-7 ms per line) but shown by the page above it as
:attr:`~LiveFigure.status`.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable, Hashable
from typing import Any

import ipywidgets
import numpy as np
import PIL.Image
import solara
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from neuroabm.model.model import NeuroModel
from neuroabm.viz.components.live import text_widget, use_step_updates
from neuroabm.viz.sessions import adopt

#: resolution of every figure [dots per inch]
DPI = 90
#: JPEG quality of the frames: encoding takes ~1 ms where PNG (level 1) takes ~10 ms for the same
#: 430 x 380 frame on the 2-core machine; at 80 with full-resolution colour (no chroma subsampling)
#: text and one-pixel raster marks stay sharp, and a frame is ~30% smaller than at 90 (torus
#: ~60 kB instead of ~90 kB): less to send per click
JPEG_QUALITY = 80


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
    :meth:`animate`, set up per-model artists in :meth:`bind` and update them in :meth:`update`
    (which may also set :attr:`status`, a line of text the page shows above the image).
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
        self.status = ""  # shown above the image

    def release(self) -> None:
        """Drop the figure and the kept frames (the browser session is over)."""
        self.fig.clear()
        self.__dict__.clear()

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

    def paint(self, rgba: np.ndarray) -> None:
        """Write pixels into the frame, over the background and under the animated artists.

        Args:
            rgba: the Agg buffer, ``(height, width, 4)`` uint8, first row at the top (a view: write in place).

        """

    def inner_pixels(self, ax: Axes) -> tuple[slice, slice]:
        """Rows and columns of the buffer inside ``ax``'s frame (the frame's lines excluded)."""
        height = self.fig.canvas.get_width_height()[1]
        x0, y0, x1, y1 = ax.get_window_extent().extents  # display pixels, y up
        rows = slice(height - math.floor(y1) + 1, height - math.ceil(y0) - 1)
        return rows, slice(math.ceil(x0) + 1, math.floor(x1) - 1)

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
        self.paint(np.asarray(canvas.buffer_rgba()))
        for artist in self.dynamic:
            self.fig.draw_artist(artist)
        self._image = image_bytes(self.fig)
        self._key = key
        self.n_frames += 1
        return self._image


#: the status line above each view
_STATUS_STYLE = "font-size: 14px; text-align: center"


def figure_component(make: Callable[[], LiveFigure], css_class: str, caption: str) -> Callable[..., Any]:
    """A Solara component ``View(model)`` showing a :class:`LiveFigure` made by ``make``.

    The image and the status line above it are widgets made once and updated in place after every
    step of the model (:func:`~neuroabm.viz.components.live.use_step_updates`): a step changes
    their values and nothing else on the page. The image carries the CSS class ``css_class``, the
    status line ``css_class-status`` (for tests and styling).
    """

    @solara.component
    def View(model: NeuroModel) -> None:
        live = solara.use_memo(lambda: adopted(make()), [])
        image = solara.use_memo(lambda: _image_widget(css_class), [])
        status = solara.use_memo(lambda: text_widget(f"{css_class}-status", _STATUS_STYLE), [])

        def show() -> None:
            image.value = live.render(model)  # the same bytes while the frame is unchanged: nothing sent
            status.children = [live.status]

        use_step_updates(model, show)
        with solara.Column(gap="2px"):
            solara.Column(children=[status, image], gap="0px")
            solara.Text(caption, style={"font-size": "12px", "color": "#555"})

    View.__name__ = View.__qualname__ = f"{make.__name__}View"
    return View


def adopted(live: LiveFigure) -> LiveFigure:
    """``live``, released with the browser session it was made in (:func:`neuroabm.viz.sessions.adopt`)."""
    adopt(live)
    return live


def _image_widget(css_class: str) -> ipywidgets.Image:
    image = ipywidgets.Image(format="jpeg", layout=ipywidgets.Layout(width="100%"))
    image.add_class(css_class)
    return image
