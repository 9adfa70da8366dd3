"""The browser app in a real browser: `neuroabm viz` served locally, driven by Debian's Chromium.

Offline by construction: the machine's network is closed, so the page only works if every front-end
asset comes from the local server (solara-assets). The server is started on a free port in its
own process group and always stopped by the fixture that started it (``visualization/browser.py``).
"""

from __future__ import annotations

import base64
import io
import re
import statistics
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # visualization/ lives in the repo, not the package

from visualization.browser import CHROMIUM, click_step, open_app, served_app, summary

#: ms of biology per Step click (visualization/app.py: MS_PER_STEP_CLICK)
MS_PER_CLICK = 20
#: Mesa's time counter
TIME_TEXT = re.compile(r"^Time: ")

pytestmark = [
    pytest.mark.slow,  # ~30 s: server start, first numba loads, a browser
    pytest.mark.skipif(not CHROMIUM.exists(), reason="no /usr/bin/chromium (apt-get install chromium; .ci/run does)"),
]


@pytest.fixture
def server(tmp_path):
    """``neuroabm viz`` on a free local port; yields its URL."""
    with served_app(tmp_path / "server.log") as url:  # RuntimeError with the server's log if it fails to start
        yield url


def image_pixels(img) -> np.ndarray:
    """RGB pixels of an <img> as the browser decoded it, read back through a canvas."""
    import PIL.Image

    url = img.evaluate(
        "i => { const c = document.createElement('canvas'); c.width = i.naturalWidth; c.height = i.naturalHeight;"
        " c.getContext('2d').drawImage(i, 0, 0); return c.toDataURL('image/png'); }"
    )
    png = base64.b64decode(url.split(",", 1)[1])
    return np.asarray(PIL.Image.open(io.BytesIO(png)).convert("RGB"), float)


def assert_views_beside_sidebar(page) -> None:
    """The sidebar (Mesa's controls) is open and every view starts right of it: nothing is covered."""
    sidebar = page.locator(".neuroabm-sidebar").bounding_box()
    right = sidebar["x"] + sidebar["width"]
    assert sidebar["x"] >= 0 and sidebar["width"] >= 300  # open, on screen
    for name in ("torus", "raster", "graphs", "avalanches"):
        box = page.locator(f"img.neuroabm-{name}").bounding_box()
        assert box["x"] >= right, f"{name} view at x = {box['x']:.0f} px, under the sidebar (right edge {right:.0f} px)"
        assert box["x"] + box["width"] <= page.viewport_size["width"] + 1  # and not pushed off screen


def test_step_in_a_real_browser(server, tmp_path):
    playwright = pytest.importorskip("playwright.sync_api")
    with playwright.sync_playwright() as p:
        browser, page = open_app(p, server, width=1800, height=1300)
        try:
            counter = page.get_by_text(TIME_TEXT)
            torus, raster = page.locator("img.neuroabm-torus"), page.locator("img.neuroabm-raster")
            t_start = float(counter.inner_text().removeprefix("Time: "))
            n_clicks = 6
            clicks = [click_step(page) for _ in range(n_clicks)]
            page.screenshot(path=tmp_path / "viz.png", full_page=True)
            t_end = float(counter.inner_text().removeprefix("Time: "))
            assert t_end - t_start == n_clicks * MS_PER_CLICK  # the time counter advanced, click by click
            assert [c.time_text for c in clicks] == [f"Time: {t_start + k * MS_PER_CLICK:.1f}" for k in range(1, 7)]

            for img in (torus, raster):  # both images are loaded and shown
                assert img.evaluate("i => i.complete && i.naturalWidth > 0 && i.getBoundingClientRect().width > 100")
            heat = image_pixels(torus)
            # not blank: the heatmap fills the axes (66% x 82% of the figure, 54% of its area) with
            # the magma colour map, dark where dopamine is low, under the neurons and sites; axes,
            # ticks and text alone would leave > 90% of the image white
            assert heat.std() > 20.0
            assert np.mean(heat.sum(axis=2) < 600.0) > 0.35
            spikes = image_pixels(raster)
            blue = (spikes[..., 2] > spikes[..., 0] + 60).mean()  # excitatory spike marks
            red = (spikes[..., 0] > spikes[..., 2] + 60).mean()  # inhibitory spike marks
            assert blue > 1e-3 and red > 1e-4

            # layout: the views sit right of the open sidebar at desktop widths ...
            for width in (1800, 1280):
                page.set_viewport_size({"width": width, "height": 1000})
                page.wait_for_timeout(300)  # Vuetify's layout follows the window
                assert_views_beside_sidebar(page)
            page.screenshot(path=tmp_path / "viz_1280.png")
            # ... and take the whole width when it is closed (the menu button in the app bar)
            page.locator(".neuroabm-menu").click()
            page.wait_for_timeout(500)  # the drawer slides out
            sidebar = page.locator(".neuroabm-sidebar").bounding_box()
            assert sidebar is None or sidebar["x"] + sidebar["width"] <= 0
            assert page.locator("img.neuroabm-torus").bounding_box()["x"] < 50
            page.screenshot(path=tmp_path / "viz_closed.png")

            later = clicks[1:]  # the first click also pays numba's cache loads and the first full draws
            print(f"\nfirst click: {clicks[0].counter_ms:.0f} ms; then {summary(later)}")
            print(f"screenshots in {tmp_path}")
            assert statistics.median(c.counter_ms for c in later) < 5_000  # the app answers (speed: benchmarks/)
        finally:
            browser.close()
