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
import time
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # visualization/ lives in the repo, not the package

from neuroabm.viz.app import MS_PER_STEP_CLICK as MS_PER_CLICK  # ms of biology per Step click
from neuroabm.viz.sessions import CLOSED_MESSAGE
from visualization.browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    click_step,
    open_app,
    rss_mb,
    served_app,
    served_app_process,
    summary,
)

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


def overlaps(a: dict, b: dict) -> bool:
    """Whether two bounding boxes (x, y, width, height [px]) intersect."""
    return (
        a["x"] < b["x"] + b["width"]
        and b["x"] < a["x"] + a["width"]
        and a["y"] < b["y"] + b["height"]
        and (b["y"] < a["y"] + a["height"])
    )


def assert_views_beside_sidebar(page) -> None:
    """The sidebar (Mesa's controls) is open and every view starts right of it: nothing is covered."""
    sidebar = page.locator(".neuroabm-sidebar").bounding_box()
    right = sidebar["x"] + sidebar["width"]
    assert sidebar["x"] >= 0 and sidebar["width"] >= 300  # open, on screen
    for name in ("torus", "raster", "graphs", "avalanches", "structure"):
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

            # every slider shows its value without dragging, and it is the value in use
            labels = page.locator(".neuroabm-sidebar .v-slider-thumb__label")
            shown = {labels.nth(i).inner_text() for i in range(labels.count()) if labels.nth(i).is_visible()}
            assert labels.count() >= 9 and {str(MS_PER_CLICK), "1000", "5.0", "0.75"} <= shown

            for img in (torus, raster, page.locator("img.neuroabm-structure")):  # the images are loaded and shown
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
            page.evaluate("window.scrollTo(0, document.body.scrollHeight)")  # Solara's banner covers no caption
            page.wait_for_timeout(300)
            banner = page.get_by_text("This website runs on").bounding_box()
            for caption in ("Avalanche sizes of the last minute", "Neurons coloured by excitatory in-strength"):
                box = page.get_by_text(caption).bounding_box()
                assert banner is None or not overlaps(banner, box), f"the banner covers the caption {caption!r}"

            page.locator(".neuroabm-menu").click()  # the sidebar again
            page.wait_for_timeout(500)
            play = page.get_by_role("button", name=re.compile(r"▶\s*Play"))  # says so, not just a glyph
            play.click()
            pause = page.get_by_role("button", name=re.compile(r"❚❚\s*Pause"))  # and so does Pause while playing
            pause.wait_for(timeout=30_000)
            pause.click()
            play.wait_for(timeout=30_000)

            later = clicks[1:]  # the first click also pays numba's cache loads and the first full draws
            print(f"\nfirst click: {clicks[0].counter_ms:.0f} ms; then {summary(later)}")
            print(f"screenshots in {tmp_path}")
            assert statistics.median(c.counter_ms for c in later) < 5_000  # the app answers (speed: benchmarks/)
        finally:
            browser.close()


def test_closed_sessions_are_freed(tmp_path):
    """Open and close browser sessions: each one's model is released and the server's memory stays flat."""
    playwright = pytest.importorskip("playwright.sync_api")
    log = tmp_path / "server.log"
    n_sessions = 6
    with served_app_process(log, env={"SOLARA_KERNEL_CULL_TIMEOUT": "1s"}) as (url, proc):
        with playwright.sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            try:
                rss = []
                for _ in range(n_sessions):
                    context = browser.new_context()  # a fresh session (cookie) each time
                    page = context.new_page()
                    page.goto(url)
                    page.locator("img.neuroabm-structure").wait_for(timeout=120_000)
                    page.get_by_role("button", name="Step").click()
                    page.wait_for_timeout(500)
                    context.close()  # the page goes away (closed or just disconnected: culled after 1 s)
                    deadline = time.monotonic() + 60
                    while log.read_text().count(CLOSED_MESSAGE) < len(rss) + 1:
                        assert time.monotonic() < deadline, "a closed session was not released within 60 s"
                        time.sleep(0.5)
                    rss.append(rss_mb(proc.pid))
            finally:
                browser.close()
    alive = [line.split(CLOSED_MESSAGE)[1].strip() for line in log.read_text().splitlines() if CLOSED_MESSAGE in line]
    assert alive[-1] == "0"  # every session's model released
    growth = (rss[-1] - rss[1]) / (n_sessions - 2)  # the first sessions pay one-off costs (imports, caches)
    print(f"\nserver RSS after each closed session [MB]: {[round(r) for r in rss]}; {growth:.1f} MB per session")
    assert growth < 8.0  # was ~22 MB per session before sessions were released
