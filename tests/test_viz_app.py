"""The browser app's structure view, its state at t = 0, freeing closed sessions, and the packaged app.

Rendered in process (no browser); ``tests/test_viz_browser.py`` drives the served app in Chromium.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest
import solara

from neuroabm import cli
from neuroabm.analysis.spatial_metrics import strengths
from neuroabm.viz import sessions
from neuroabm.viz.app import Layout, Page
from neuroabm.viz.components.avalanches import AvalancheFigure
from neuroabm.viz.components.controls import VizModel
from neuroabm.viz.components.graphs import GraphFigure
from neuroabm.viz.components.raster import RasterFigure
from neuroabm.viz.components.structure import StructureFigure, top_edges, torus_segments
from neuroabm.viz.components.torus import TorusFigure

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # visualization/browser.py: the repo's test helpers
from visualization.browser import CHROMIUM, open_app

REPO = Path(__file__).resolve().parents[1]
#: text that must not appear on the page: NaN, and colour bars scaled by a tiny power of ten
BROKEN = re.compile(r"\bnan\b|1e[-−]\d", re.IGNORECASE)


@pytest.fixture(autouse=True)
def _no_config(monkeypatch):
    monkeypatch.delenv("NEUROABM_VIZ_CONFIG", raising=False)


def widget_texts(widget) -> list[str]:
    """Every string child and label anywhere under ``widget``."""
    out = [getattr(widget, "label", None) or ""]
    for child in getattr(widget, "children", ()) or ():
        out.extend([child] if isinstance(child, str) else widget_texts(child))
    return out


def figure_texts(live) -> list[str]:
    """Every text drawn in a live figure (titles, notes, tick labels, legends) and its status line."""
    live.fig.canvas.draw()  # tick labels exist once drawn
    texts = [t.get_text() for t in live.fig.findobj(lambda a: hasattr(a, "get_text") and a.get_visible())]
    return [t for t in texts if t] + [live.status]


# ------------------------------------------------------------------------------ t = 0
def test_the_app_at_t0_renders_no_nan_text():
    model = VizModel(n_neurons=300)
    box, _ = solara.render(_app(solara.reactive(model)), handle_error=False)
    page = [t for t in widget_texts(box) if t]
    assert any(t.startswith("Time: ") for t in page)
    assert not [t for t in page if BROKEN.search(t)]
    for make in (TorusFigure, RasterFigure, GraphFigure, AvalancheFigure, StructureFigure):
        live = make()
        live.render(model)
        texts = figure_texts(live)
        assert not [t for t in texts if BROKEN.search(t)], (make.__name__, [t for t in texts if BROKEN.search(t)])
        if make in (TorusFigure, AvalancheFigure):  # nothing to show yet: a placeholder says so
            assert any("waiting for data" in t for t in texts), make.__name__
        if make is StructureFigure:  # all weights equal at t = 0: no strongest synapses to draw
            assert any("weights equal" in t for t in texts)
        if make is GraphFigure:  # the first row of metrics (t = 0) is shown inside limits around it
            for ax, line in zip(live.axes, live.lines, strict=True):
                y = line.get_ydata()
                lo, hi = ax.get_ylim()
                assert y.size == 1 and lo < y[0] < hi and ax.get_xlim()[0] < 0.0


def test_avalanche_panel_names_the_size_exponent_tau_as_analysis_json():
    live = AvalancheFigure()
    model = VizModel(n_neurons=300)
    live.render(model)
    assert "τ" in live.title.get_text() and "α" not in live.title.get_text()


def _app(model):
    @solara.component
    def App():
        with Layout():
            Page(model)

    return App()


# ------------------------------------------------------------------------------ structure view
def test_top_edges_are_the_largest_positive_weights_in_order():
    w = np.array([0.5, -3.0, 2.0, 0.0, 1.0, 2.5])
    np.testing.assert_array_equal(top_edges(w, k=3), [5, 2, 4])
    np.testing.assert_array_equal(top_edges(w, k=10), [5, 2, 4, 0])  # never a non-positive weight


def test_torus_segments_take_the_shortest_image_and_show_both_ends():
    start = np.array([[0.1, 0.5], [0.4, 0.4]])
    end = np.array([[0.9, 0.5], [0.6, 0.5]])
    seg, owner = torus_segments(start, end, side=1.0)
    # 0.1 -> 0.9 is 0.2 mm the short way (leftwards across x = 0): two pieces, each ending at a neuron
    np.testing.assert_allclose(seg[0], [[0.1, 0.5], [-0.1, 0.5]])
    np.testing.assert_allclose(seg[1], [[0.4, 0.4], [0.6, 0.5]])  # inside: one piece
    np.testing.assert_allclose(seg[2], [[1.1, 0.5], [0.9, 0.5]])
    np.testing.assert_array_equal(owner, [0, 1, 0])


def test_structure_view_shows_the_models_in_strength_and_strongest_synapses():
    model = VizModel(n_neurons=300)
    while model.time < 1000:  # plasticity spreads the weights
        model.step()
    live = StructureFigure()
    live.render(model)
    src, tgt, w = model.synapses.edges(model.synapse_weights())
    np.testing.assert_allclose(live.in_strength, strengths(src, tgt, w, model.n_neurons)[0])
    np.testing.assert_allclose(live.dots.get_array(), live.in_strength[live.shown])
    assert live.top.size == 200 and np.all(w[live.top] >= np.sort(w)[-200])
    n_wrapped = len(live.lines.get_segments()) - live.top.size
    assert n_wrapped >= 0 and "strongest 200" in live.status


def test_structure_of_a_static_network_is_drawn_once():
    model = VizModel(n_neurons=300, plasticity=False)
    live = StructureFigure()
    first = live.render(model)
    for _ in range(600):
        model.step()
    assert live.render(model) is first and live.n_frames == 1  # the cached frame: nothing recomputed
    assert "drawn once" in live.status


# ------------------------------------------------------------------------------ sessions
def test_a_closed_sessions_model_and_figures_are_released():
    model = VizModel(n_neurons=300)
    live = TorusFigure()
    live.render(model)
    sessions._adopted["test-kernel"].extend([sessions.weakref.ref(model), sessions.weakref.ref(live)])
    before = sessions.live_models()
    assert sessions.release_kernel("test-kernel") == 2
    assert sessions.live_models() == before - 1
    assert not hasattr(model, "synapses") and model.running is False  # the state is gone
    assert not hasattr(live, "fig")


# ------------------------------------------------------------------------------ the packaged app
def test_cli_serves_the_app_shipped_in_the_package():
    import neuroabm.viz.app as packaged

    assert cli.VIZ_APP.is_file() and cli.VIZ_APP == Path(packaged.__file__).resolve()
    assert cli.VIZ_APP.is_relative_to(Path(cli.__file__).resolve().parent)  # inside the package


def test_visualization_app_re_exports_the_packaged_app():
    import neuroabm.viz.app as packaged
    import visualization.app as legacy

    assert legacy.Page is packaged.Page and legacy.Layout is packaged.Layout


@pytest.mark.slow
def test_a_non_editable_install_ships_the_app(tmp_path):
    """``pip install`` (not editable) into a throwaway venv; from there ``neuroabm viz`` serves the app (~40 s)."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    py = venv / "bin" / "python"
    site = Path(
        subprocess.check_output(
            [str(py), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"], text=True
        ).strip()
    )
    # the dependencies: this environment's packages, after the venv's own (a bare path: its .pth
    # files, among them this checkout's editable hook, are not run)
    (site / "zz_deps.pth").write_text(sysconfig.get_path("purelib") + "\n")
    # ... and their data files (Jupyter's widget config, solara-assets' front end), which pip
    # would have put under the venv's own prefix
    data = Path(sys.prefix)
    env = {
        **os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1", "NUMBA_NUM_THREADS": "1",
        "JUPYTER_CONFIG_PATH": str(data / "etc" / "jupyter"), "JUPYTER_PATH": str(data / "share" / "jupyter"),
        "SOLARA_ASSETS_PROXY_CACHE_DIR": str(data / "share" / "solara" / "cdn"),
    }  # fmt: skip
    env.pop("PYTHONPATH", None)
    env.pop("NEUROABM_VIZ_CONFIG", None)
    # the build backend (setuptools) comes from the package index, in pip's isolated build environment
    src = tmp_path / "src"  # a copy of the sources: pip builds in the tree it is given (build/, *.egg-info)
    shutil.copytree(REPO / "neuroabm", src / "neuroabm", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy2(REPO / name, src / name)
    pip = [str(py), "-m", "pip", "install", "-q", "--no-deps", str(src)]
    built = subprocess.run(pip, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=600)
    if built.returncode and re.search(r"connection|resolve|network|No matching distribution", built.stderr, re.I):
        pytest.skip(f"no package index for the build backend: {built.stderr[-300:]}")
    assert built.returncode == 0, built.stderr
    probe = (
        "import pathlib, neuroabm, neuroabm.cli as c; print(pathlib.Path(neuroabm.__file__).parent); print(c.VIZ_APP)"
    )
    out = subprocess.run([str(py), "-c", probe], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    assert out.returncode == 0, out.stderr
    pkg, app = out.stdout.split()
    assert Path(pkg) == site / "neuroabm"  # the installed copy, not this checkout
    assert Path(app) == site / "neuroabm" / "viz" / "app.py" and Path(app).is_file()

    port = free_port()
    log = tmp_path / "server.log"
    with open(log, "wb") as out_file:
        server = subprocess.Popen(
            [str(py), "-m", "neuroabm", "viz", "--port", str(port)],
            stdout=out_file, stderr=subprocess.STDOUT, env=env, cwd=tmp_path, start_new_session=True,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 180
        while True:
            assert server.poll() is None, log.read_text()[-2000:]
            assert time.monotonic() < deadline, "the installed app did not answer within 180 s"
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as r:
                    if r.status == 200:
                        break
            except OSError:
                time.sleep(0.5)
        assert "Traceback" not in log.read_text()
        if CHROMIUM.exists() and importlib.util.find_spec("playwright"):  # the page works: every view is shown
            from playwright.sync_api import sync_playwright

            with sync_playwright() as p:
                browser, page = open_app(p, f"http://127.0.0.1:{port}/")
                try:
                    page.locator("img.neuroabm-structure").wait_for(timeout=60_000)
                finally:
                    browser.close()
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
