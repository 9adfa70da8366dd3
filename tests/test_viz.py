"""The browser app without a browser: Solara components rendered in process, and the live views' numbers.

The views must show the model's state exactly: every count drawn is checked against the model's own
spike recorder (``model.spikes()``), an independent path to the same spikes (the views read a
:class:`SpikeWindow` fed from the recorder's raw buffer, before sorting and flushing).
"""

from __future__ import annotations

import io

import ipyvuetify as v
import ipywidgets
import matplotlib
import numpy as np
import PIL.Image
import pytest
import solara

from neuroabm.config import ConfigError
from neuroabm.config.params import STEP_MS
from neuroabm.viz.app import MS_PER_STEP_CLICK, Layout, Page
from neuroabm.viz.components.avalanches import WAITING, AvalancheFigure, log_binned_pmf
from neuroabm.viz.components.controls import VIZ_DEFAULTS, VizModel, base_params, model_params, resize
from neuroabm.viz.components.figure import DPI, LiveFigure, level
from neuroabm.viz.components.layout import SIDEBAR_PX
from neuroabm.viz.components.raster import (
    EXC_RGB,
    INH_RGB,
    SPAN_MS,
    RasterFigure,
    population_rate,
    raster_rows,
    spike_pixels,
)
from neuroabm.viz.components.spike_window import SpikeWindow
from neuroabm.viz.components.torus import MAX_DRAWN, TorusFigure, drawn_subset

#: a small network (builds in milliseconds): dopamine and plasticity on, as in the app's default
SMALL = {"n_neurons": 300}


@pytest.fixture(autouse=True)
def _no_config(monkeypatch):
    monkeypatch.delenv("NEUROABM_VIZ_CONFIG", raising=False)


def small_viz_model(**overrides) -> VizModel:
    return VizModel(**{**SMALL, **overrides})


def render_app(model: solara.Reactive[VizModel]):
    @solara.component
    def App():
        with Layout():  # the app's own layout (solara's router uses it): Mesa's controls go to its sidebar
            Page(model)

    _, rc = solara.render(App(), handle_error=False)
    return rc


def _image_widgets(rc):
    return rc.find(ipywidgets.Image).widgets


def texts(widget) -> list[str]:
    """Every string child anywhere under ``widget``."""
    out = []
    for child in getattr(widget, "children", ()) or ():
        out.extend([child] if isinstance(child, str) else texts(child))
    return out


def status_text(rc, view: str) -> str:
    """The status line above a view's image."""
    return rc.find(v.Html, class_=f"neuroabm-{view}-status").widget.children[0]


def time_text(rc) -> str:
    """Mesa's time counter ("Time: <model.time>")."""
    return next(t for t in texts(rc.find(v.Html).widget) if t.startswith("Time: "))


# ------------------------------------------------------------------------------ the Solara page
def test_page_builds_and_step_advances_model_time():
    model = solara.reactive(small_viz_model())
    rc = render_app(model)
    classes = {c for w in _image_widgets(rc) for c in w._dom_classes}
    assert {
        "neuroabm-torus",
        "neuroabm-raster",
        "neuroabm-graphs",
        "neuroabm-avalanches",
        "neuroabm-structure",
    } <= classes
    assert time_text(rc) == "Time: 0.0"
    step = rc.find(v.Btn, children=["Step"]).widget
    for _ in range(3):
        step.click()
    # one click = Mesa's render interval of model steps, each STEP_MS of biology: exact
    assert model.value.time == 3 * MS_PER_STEP_CLICK * STEP_MS
    assert time_text(rc) == f"Time: {3 * MS_PER_STEP_CLICK * STEP_MS:.1f}"


def test_sidebar_holds_the_controls_and_the_main_area_the_views():
    rc = render_app(solara.reactive(small_viz_model()))
    drawer = rc.find(v.NavigationDrawer)
    # a number of pixels: Vuetify 3 keeps that much room free for the drawer (a CSS width such as
    # solara's "min-content" becomes NaN, and the drawer covers the content)
    assert drawer.widget.width == SIDEBAR_PX and isinstance(SIDEBAR_PX, int)
    assert drawer.widget.v_model is True  # open at first
    drawer.find(v.Btn, children=["Step"]).assert_single()  # Mesa's controls are in the sidebar ...
    assert not drawer.find(ipywidgets.Image).widgets
    assert len(rc.find(v.Main).find(ipywidgets.Image).widgets) == 5  # ... the five views in the main area
    rc.find(v.Btn, class_="neuroabm-menu").widget.click()  # the menu button closes it
    assert drawer.widget.v_model is False


def test_reset_rebuilds_the_model_with_the_slider_values():
    model = solara.reactive(small_viz_model())
    rc = render_app(model)
    rc.find(v.Btn, children=["Step"]).widget.click()
    rc.find(v.Slider, label="N (neurons)").widget.v_model = 500
    rc.find(v.Slider, label="g (inhibition / excitation)").widget.v_model = 6.5
    rc.find(v.Checkbox, label="plasticity (needs dopamine)").widget.v_model = False
    rc.find(v.Btn, children=["Reset"]).widget.click()
    new = model.value
    assert new.time == 0.0
    assert (new.n_neurons, new.params.g, new.params.plasticity) == (500, 6.5, False)
    # the excitatory fraction and in-degrees of the base are kept (K_E = 80 < n_exc = 400)
    assert (new.n_exc, new.n_inh, new.params.k_exc, new.params.k_inh) == (400, 100, 80, 20)
    assert time_text(rc) == "Time: 0.0"
    rc.find(v.Btn, children=["Step"]).widget.click()  # the views follow the new model
    assert new.time == MS_PER_STEP_CLICK * STEP_MS
    assert status_text(rc, "torus").startswith(f"t = {new.time / 1000:.2f} s: ") and "of 500 fired" in status_text(
        rc, "torus"
    )


def test_a_step_updates_the_views_in_place():
    model = solara.reactive(small_viz_model())
    rc = render_app(model)
    images = {w._dom_classes[0]: w for w in _image_widgets(rc)}
    before = {name: w.value for name, w in images.items()}
    renders = rc.render_count
    rc.find(v.Btn, children=["Step"]).widget.click()
    # a step re-renders SolaraViz's sidebar (its time display) at most once; the views' widgets are
    # not rebuilt but set in place
    assert rc.render_count <= renders + 1
    assert {w._dom_classes[0]: w for w in _image_widgets(rc)} == images
    assert images["neuroabm-torus"].value != before["neuroabm-torus"]
    assert images["neuroabm-raster"].value != before["neuroabm-raster"]
    assert time_text(rc) == f"Time: {MS_PER_STEP_CLICK * STEP_MS:.1f}"
    assert status_text(rc, "raster").startswith("last 1 s: mean rate ")


def test_sliders_start_at_the_base_configuration(tmp_path, monkeypatch):
    cfg = tmp_path / "c.toml"
    cfg.write_text("[network]\nn_exc = 1600\nn_inh = 400\n[synapse]\ng = 4.5\n[dopamine]\ndopamine = true\n")
    monkeypatch.setenv("NEUROABM_VIZ_CONFIG", str(cfg))
    params = model_params()
    assert params["n_neurons"]["value"] == 2000
    assert params["g"]["value"] == 4.5
    assert params["kappa_mm2_per_ms"]["value"] == 1e-6  # the package default: the config is not mixed with the app's
    assert params["n_sites"]["value"] in params["n_sites"]["values"]
    assert base_params()["duration_ms"] >= 1e9  # the app runs until paused


# ------------------------------------------------------------------------------ model and sliders
def test_resize_keeps_fraction_and_in_degree_and_caps_it():
    big = resize(VIZ_DEFAULTS, 5000)
    assert (big["n_exc"], big["n_inh"], big["k_exc"], big["k_inh"]) == (4000, 1000, 80, 20)
    tiny = resize(VIZ_DEFAULTS, 50)  # in-degrees capped at the population size minus one
    assert (tiny["n_exc"], tiny["n_inh"], tiny["k_exc"], tiny["k_inh"]) == (40, 10, 39, 9)


@pytest.mark.parametrize("bad", [5, 10**6, 2.5, True])
def test_bad_network_size_names_the_parameter_and_range(bad):
    with pytest.raises(ConfigError, match=r"n_neurons = .*allowed an integer >= 10 and <= 100000"):
        VizModel(n_neurons=bad)


def test_without_dopamine_plasticity_is_switched_off():
    model = small_viz_model(dopamine=False)
    assert model.dopamine is None and model.plasticity is None
    png = TorusFigure().render(model)  # the torus draws without a field
    assert PIL.Image.open(io.BytesIO(png)).size == (round(4.8 * DPI), round(4.2 * DPI))


# ------------------------------------------------------------------------------ spike window
def test_spike_window_matches_the_recorder_across_flushes():
    model = small_viz_model()
    window = SpikeWindow(model, keep_ms=100.0)
    for t_end in (40, 90, 170):
        while model.time < t_end:
            model.step()
        if t_end == 90:
            model.spikes()  # flushes the recorder's buffer: the window must not lose those spikes
        window.update()
    t, n = model.spikes()
    last = t > model.time - 100.0
    assert np.array_equal(window.t_ms, t[last])  # the recorder sorts by (time, neuron): compare as sets
    assert sorted(zip(window.t_ms, window.neuron, strict=True)) == sorted(zip(t[last], n[last], strict=True))


def test_spike_window_rejects_bad_length():
    with pytest.raises(ValueError, match="keep_ms must be a finite number > 0 ms"):
        SpikeWindow(small_viz_model(), keep_ms=0.0)


# ------------------------------------------------------------------------------ views
def run_to(model, t_ms: float) -> None:
    while model.time < t_ms:
        model.step()


def test_torus_flashes_exactly_the_neurons_that_fired_since_the_last_frame():
    model = small_viz_model()
    fig = TorusFigure()
    run_to(model, 30)
    fig.render(model)
    run_to(model, 50)
    fig.render(model)
    t, n = model.spikes()
    fired = np.unique(n[(t > 30.0) & (t <= 50.0)])
    assert fig.n_flashing == fired.size > 0
    drawn = fig.flash_dots.get_xdata().size + fig.exc_dots.get_xdata().size + fig.inh_dots.get_xdata().size
    assert drawn == model.n_neurons  # every neuron drawn once (N < MAX_DRAWN)


def test_raster_rate_counts_every_spike_of_the_last_second():
    model = small_viz_model()
    run_to(model, 1300)
    fig = RasterFigure()
    fig.render(model)
    t, _ = model.spikes()
    n_last = np.count_nonzero(t > model.time - SPAN_MS)
    centres, rate = population_rate(SpikeWindow.of(model).t_ms, model.n_neurons, model.time)
    # rate = count / (N bin): summing count back must give every spike of the span, exactly
    assert round(rate.sum() * model.n_neurons * 5.0 / 1000.0) == n_last
    assert fig.mean_rate_hz == pytest.approx(n_last / (model.n_neurons * SPAN_MS / 1000.0), rel=1e-12)
    assert centres[0] == model.time - SPAN_MS + 2.5 and centres[-1] == model.time - 2.5


def test_torus_heatmap_colours_each_node_by_the_square_root_scale():
    model = small_viz_model()
    run_to(model, 200)
    fig = TorusFigure()
    fig.render(model)
    values = model.dopamine.field.values
    c_max = level(float(values.max()))  # the colour bar's top: a power of 2 uM
    assert fig.heat.get_clim() == (0.0, c_max)
    magma = matplotlib.colormaps["magma"]
    expected = magma(np.sqrt(values.T / c_max), bytes=True)  # node (i, j) at x = i h: column i of the image
    lut = magma(np.linspace(0.0, 1.0, magma.N), bytes=True).astype(int)
    # the same 256-entry lookup table: a value on a bin edge may fall into the neighbouring bin
    # (sqrt rounded differently), so allow one step of the table
    one_step = np.abs(np.diff(lut, axis=0)).max()
    np.testing.assert_allclose(fig.heat.get_array().astype(int), expected.astype(int), atol=one_step)


def test_spike_pixels_put_time_on_columns_and_rows_bottom_up():
    t = np.array([0.0, -500.0, -999.9, -0.1])
    row = np.array([0, 19, 10, 9])
    i, j = spike_pixels(t, row, n_rows=20, shape=(10, 100), span_ms=1000.0)
    # 10 ms per column: now is in the last column, 500 ms ago starts column 50, ~1 s ago is column 0;
    # 2 rows per pixel row, raster row 0 at the bottom (pixel row 9), row 19 at the top
    np.testing.assert_array_equal(j, [99, 50, 0, 99])
    np.testing.assert_array_equal(i, [9, 0, 4, 5])


def test_raster_colours_exactly_the_pixels_of_last_seconds_spikes():
    model = small_viz_model()
    run_to(model, 1300)
    fig = RasterFigure()
    fig.render(model)
    rows, cols = fig.inner
    inside = np.asarray(fig.fig.canvas.buffer_rgba())[rows, cols, :3]
    # the spikes from the recorder (sorted and flushed: an independent path to the same spikes)
    t, n = model.spikes()
    last = t > model.time - SPAN_MS
    row = raster_rows(model.n_neurons)[n[last]]
    i, j = spike_pixels(t[last] - model.time, row, model.n_neurons, inside.shape[:2])
    exc = n[last] < model.n_exc

    def pixel_set(mask):
        return set(zip(*np.nonzero(mask), strict=True))

    inh_pix = set(zip(i[~exc], j[~exc], strict=True))
    assert pixel_set(np.all(inside == INH_RGB, axis=2)) == inh_pix  # inhibitory spikes are drawn on top
    assert pixel_set(np.all(inside == EXC_RGB, axis=2)) == set(zip(i[exc], j[exc], strict=True)) - inh_pix
    assert pixel_set(np.any(inside != 255, axis=2)) <= inh_pix | set(zip(i, j, strict=True))  # white elsewhere
    assert "mean rate" in fig.status


def test_large_networks_are_drawn_subsampled():
    shown = drawn_subset(20_000)
    assert shown.size == MAX_DRAWN and np.all(np.diff(shown) > 0)
    rows = raster_rows(20_000)
    assert rows.max() + 1 == 1000 and rows[0] == 0 and rows[-1] == 999


class MovingDot(LiveFigure):
    """A dot at x = model time (drawn per frame) on fixed axes (the background)."""

    def __init__(self) -> None:
        super().__init__()
        ax = self.fig.add_axes((0.1, 0.1, 0.8, 0.8), xlim=(0, 10), ylim=(0, 1))
        (self.dot,) = ax.plot([], [], "o", color="red", markersize=12)
        self.animate(self.dot)

    def update(self, model) -> None:
        self.dot.set_data([model.time], [0.5])

    def static_key(self, model):
        return "fixed axes"


def test_frames_are_cached_and_blitted_over_a_kept_background():
    model = small_viz_model()
    fig = MovingDot()
    first = fig.render(model)
    assert fig.render(model) is first and fig.n_frames == 1  # same model time: the cached frame
    model.step()
    second = fig.render(model)
    assert fig.n_frames == 2 and fig.n_full == 1  # the second frame reused the background
    a, b = (np.asarray(PIL.Image.open(io.BytesIO(x)).convert("RGB"), float) for x in (first, second))
    assert a.shape == b.shape == (round(4.0 * DPI), round(5.0 * DPI), 3)
    # the dot moved by 1/10 of the axes: pixels changed, but only a small part of the frame
    changed = np.abs(a - b).sum(axis=2) > 60
    assert 0 < changed.mean() < 0.01


def test_raster_frame_is_cached_while_time_stands():
    model = small_viz_model()
    fig = RasterFigure()
    first = fig.render(model)
    assert fig.render(model) is first and fig.n_frames == 1


def test_avalanche_panel_says_when_there_is_too_little_data():
    model = small_viz_model()
    run_to(model, 5)
    fig = AvalancheFigure()
    fig.render(model)
    assert fig.stats.message == WAITING


def test_log_binned_pmf_is_a_probability_per_integer():
    sizes = np.arange(1, 101)  # each size once: P(S) = 1/100 for every S
    x, pmf = log_binned_pmf(sizes)
    np.testing.assert_allclose(pmf, 0.01, rtol=1e-12)
    assert np.all(np.diff(x) > 0) and x[0] == 1.0
