"""neuroabm in the browser: Mesa's SolaraViz with live views of the torus, spikes, graph, structure and avalanches.

Start it with ``neuroabm viz [CONFIG]`` or ``solara run neuroabm/viz/app.py`` (``solara run
visualization/app.py`` in a checkout works too; then the config, if any, is named by
``$NEUROABM_VIZ_CONFIG``); both listen on 127.0.0.1 unless told otherwise.

One click on *Step* advances the model by Mesa's *Render Interval* steps, i.e. that many ms of
biology (default :data:`MS_PER_STEP_CLICK`); *Play* repeats it. *Reset* rebuilds the model from the
base configuration and the sliders. Each browser session gets its own model, freed when the
session ends (:mod:`neuroabm.viz.sessions`).

The page is framed by :func:`~neuroabm.viz.components.layout.Layout` (solara's router uses a
module's ``Layout`` instead of its default ``AppLayout``, whose sidebar covers the content under
ipyvuetify 3). The sidebar is Mesa's ``SolaraViz`` (controller, sliders, time); the views follow
the steps in place (:mod:`neuroabm.viz.components.live`).
"""

from __future__ import annotations

import solara
from mesa.visualization import SolaraViz

from neuroabm.viz import sessions
from neuroabm.viz.components.avalanches import AvalancheView
from neuroabm.viz.components.controls import VizModel, base_params, model_params
from neuroabm.viz.components.graphs import GraphView
from neuroabm.viz.components.layout import Layout
from neuroabm.viz.components.raster import RasterView
from neuroabm.viz.components.structure import StructureView
from neuroabm.viz.components.torus import TorusView

#: ms of biology per click on Step (Mesa's "Render Interval" slider, 1 model step = 1 ms); on the
#: slider's grid (1, 3, 5, ...), so that the number the slider shows is the one in use
MS_PER_STEP_CLICK = 21
#: pause between steps while playing [ms] (Mesa's "Play Interval" slider, grid 1, 11, 21, ...)
PLAY_INTERVAL_MS = 21

__all__ = ["MS_PER_STEP_CLICK", "PLAY_INTERVAL_MS", "Layout", "Page", "Views"]

sessions.install()  # free the models of closed sessions


@solara.component
def Views(model: VizModel) -> None:
    """The five live views in three rows."""
    with solara.Columns([1, 1]):
        TorusView(model)
        RasterView(model)
    with solara.Columns([1, 1]):
        GraphView(model)
        AvalancheView(model)
    with solara.Columns([1, 1]):
        StructureView(model)
        solara.Div()


@solara.component
def Page(model: solara.Reactive[VizModel] | None = None) -> None:
    """The app: Mesa's ``SolaraViz`` (controls, sliders, time) and the live views, one model per session.

    The views are laid out here, not passed as ``SolaraViz(components=...)``: Mesa 3.5.1 places
    components with ``solara.GridDraggable``, whose front end (vue-grid-layout, a Vue 2 library)
    never mounts under the Vue 3 front end of solara 1.58 with ipyvuetify 3, so its main area stays
    empty in a real browser. The views follow the steps in place
    (:mod:`neuroabm.viz.components.live`): a step re-renders only SolaraViz's own sidebar, whose
    reconciliation costs a few ms. ``SolaraViz`` gets the model as a reactive variable, so its
    *Reset* replaces the model that the views draw.

    Args:
        model: the model as a reactive variable (for tests); None builds one from the base config.

    """
    base = solara.use_memo(base_params, [])
    params = solara.use_memo(lambda: model_params(base), [])
    first = solara.use_memo(lambda: VizModel() if model is None else None, [])
    own = solara.use_reactive(first)
    model = own if model is None else model
    SolaraViz(
        model,
        components=[],
        model_params=params,
        name="neuroabm",
        play_interval=PLAY_INTERVAL_MS,
        render_interval=MS_PER_STEP_CLICK,
    )
    Views(model.value)
