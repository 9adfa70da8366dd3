"""neuroabm in the browser: Mesa's SolaraViz with live views of the torus, spikes, graph and avalanches.

Start it with ``neuroabm viz [CONFIG]`` or ``solara run visualization/app.py`` (then the config, if
any, is named by ``$NEUROABM_VIZ_CONFIG``); both listen on 127.0.0.1 unless told otherwise.

One click on *Step* advances the model by Mesa's *Render Interval* steps, i.e. that many ms of
biology (default :data:`MS_PER_STEP_CLICK`); *Play* repeats it. *Reset* rebuilds the model from the
base configuration and the sliders. Each browser session gets its own model.

The page is framed by :func:`~visualization.components.layout.Layout` (solara's router uses a
module's ``Layout`` instead of its default ``AppLayout``, whose sidebar covers the content under
ipyvuetify 3). The sidebar is Mesa's ``SolaraViz`` (controller, sliders, time); the views follow
the steps in place (:mod:`visualization.components.live`).
"""

from __future__ import annotations

import sys
from pathlib import Path

_REPO = str(Path(__file__).resolve().parents[1])
if _REPO not in sys.path:  # `solara run visualization/app.py` puts only visualization/ on the path
    sys.path.insert(0, _REPO)

import solara  # noqa: E402
from mesa.visualization import SolaraViz  # noqa: E402

from visualization.components.avalanches import AvalancheView  # noqa: E402
from visualization.components.controls import VizModel, base_params, model_params  # noqa: E402
from visualization.components.graphs import GraphView  # noqa: E402
from visualization.components.layout import Layout  # noqa: E402
from visualization.components.raster import RasterView  # noqa: E402
from visualization.components.torus import TorusView  # noqa: E402

#: ms of biology per click on Step (Mesa's "Render Interval" slider, 1 model step = 1 ms)
MS_PER_STEP_CLICK = 20
#: pause between steps while playing [ms] (Mesa's "Play Interval" slider)
PLAY_INTERVAL_MS = 20

__all__ = ["MS_PER_STEP_CLICK", "PLAY_INTERVAL_MS", "Layout", "Page", "Views"]


@solara.component
def Views(model: VizModel) -> None:
    """The four live views in two rows."""
    with solara.Columns([1, 1]):
        TorusView(model)
        RasterView(model)
    with solara.Columns([1, 1]):
        GraphView(model)
        AvalancheView(model)


@solara.component
def Page(model: solara.Reactive[VizModel] | None = None) -> None:
    """The app: Mesa's ``SolaraViz`` (controls, sliders, time) and the four live views, one model per session.

    The views are laid out here, not passed as ``SolaraViz(components=...)``: Mesa 3.5.1 places
    components with ``solara.GridDraggable``, whose front end (vue-grid-layout, a Vue 2 library)
    never mounts under the Vue 3 front end of solara 1.58 with ipyvuetify 3, so its main area stays
    empty in a real browser. The views follow the steps in place
    (:mod:`visualization.components.live`): a step re-renders only SolaraViz's own sidebar, whose
    reconciliation costs a few ms (measured: click to page updated 88-90 ms median either way).
    ``SolaraViz`` gets the model as a reactive variable, so its *Reset* replaces the model that the
    views draw.

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
