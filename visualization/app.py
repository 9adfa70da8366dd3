"""neuroabm in the browser: Mesa's SolaraViz with live views of the torus, spikes, graph and avalanches.

Start it with ``neuroabm viz [CONFIG]`` or ``solara run visualization/app.py`` (then the config, if
any, is named by ``$NEUROABM_VIZ_CONFIG``); both listen on 127.0.0.1 unless told otherwise.

One click on *Step* advances the model by Mesa's *Render Interval* steps, i.e. that many ms of
biology (default :data:`MS_PER_STEP_CLICK`); *Play* repeats it. *Reset* rebuilds the model from the
base configuration and the sliders. Each browser session gets its own model.
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
from visualization.components.raster import RasterView  # noqa: E402
from visualization.components.torus import TorusView  # noqa: E402

#: ms of biology per click on Step (Mesa's "Render Interval" slider, 1 model step = 1 ms)
MS_PER_STEP_CLICK = 20
#: pause between steps while playing [ms] (Mesa's "Play Interval" slider)
PLAY_INTERVAL_MS = 20


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
    """The app: one model per browser session, Mesa's controls and sliders, the four views.

    The views are laid out here rather than passed to ``SolaraViz(components=...)``: Mesa 3.5.1
    places components with ``solara.GridDraggable``, whose front end (vue-grid-layout, a Vue 2
    library) never mounts under the Vue 3 front end of solara 1.58 with ipyvuetify 3, so the main
    area stays empty in a real browser. ``SolaraViz`` gets the model as a reactive variable, so its
    *Reset* replaces the model that the views draw.

    Args:
        model: the model as a reactive variable (for tests); None builds one from the base config.

    """
    base = solara.use_memo(base_params, [])
    first = solara.use_memo(lambda: VizModel() if model is None else None, [])
    own = solara.use_reactive(first)
    model = own if model is None else model
    SolaraViz(
        model,
        components=[],
        model_params=model_params(base),
        name="neuroabm",
        play_interval=PLAY_INTERVAL_MS,
        render_interval=MS_PER_STEP_CLICK,
    )
    Views(model.value)
