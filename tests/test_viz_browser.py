"""The browser app in a real browser: `neuroabm viz` served locally, driven by Debian's Chromium.

Offline by construction: the machine's network is closed, so the page only works if every front-end
asset comes from the local server (solara-assets). The server is started on a free port in its
own process group and always killed by the fixture that started it.
"""

from __future__ import annotations

import base64
import io
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
#: ms of biology per Step click (visualization/app.py: MS_PER_STEP_CLICK)
MS_PER_CLICK = 20

pytestmark = [
    pytest.mark.slow,  # ~30 s: server start, first numba loads, a browser
    pytest.mark.skipif(not CHROMIUM.exists(), reason="no /usr/bin/chromium (apt-get install chromium; .ci/run does)"),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(tmp_path):
    """``neuroabm viz`` on a free local port; yields its URL; the process group is always killed."""
    port = free_port()
    log = open(tmp_path / "server.log", "wb")  # closed in finally
    env = {**os.environ, "NUMBA_NUM_THREADS": "1"}
    env.pop("NEUROABM_VIZ_CONFIG", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "neuroabm", "viz", "--port", str(port)],
        stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 90.0
        while True:
            try:
                with urllib.request.urlopen(url, timeout=2.0) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"server did not start: {(tmp_path / 'server.log').read_text()[-2000:]}")
            time.sleep(0.5)
        yield url
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=15)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=15)
        log.close()


def image_pixels(img) -> np.ndarray:
    """RGB pixels of an <img> as the browser decoded it, read back through a canvas (not a screenshot:
    Mesa's sidebar may overlay part of the page)."""
    import PIL.Image

    url = img.evaluate(
        "i => { const c = document.createElement('canvas'); c.width = i.naturalWidth; c.height = i.naturalHeight;"
        " c.getContext('2d').drawImage(i, 0, 0); return c.toDataURL('image/png'); }"
    )
    png = base64.b64decode(url.split(",", 1)[1])
    return np.asarray(PIL.Image.open(io.BytesIO(png)).convert("RGB"), float)


def test_step_in_a_real_browser(server, tmp_path):
    playwright = pytest.importorskip("playwright.sync_api")
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1800, "height": 1300})
            page.goto(server)
            step = page.get_by_role("button", name="Step")
            step.wait_for(timeout=60_000)
            counter = page.get_by_text(re.compile(r"^Time: "))
            torus, raster = page.locator("img.neuroabm-torus"), page.locator("img.neuroabm-raster")
            torus.wait_for(timeout=60_000)
            t_start = float(counter.inner_text().removeprefix("Time: "))
            click_ms = []
            n_clicks = 6
            for _ in range(n_clicks):
                before = counter.inner_text()
                t0 = time.perf_counter()
                step.click()
                page.wait_for_function(
                    "b => [...document.querySelectorAll('span')].some(s => s.innerText.startsWith('Time: ')"
                    " && s.innerText !== b)", arg=before, timeout=60_000,
                )  # fmt: skip
                click_ms.append((time.perf_counter() - t0) * 1e3)
            page.wait_for_timeout(500)  # let the images of the last step arrive
            page.screenshot(path=tmp_path / "viz.png", full_page=True)
            t_end = float(counter.inner_text().removeprefix("Time: "))
            assert t_end - t_start == n_clicks * MS_PER_CLICK  # the time counter advanced, click by click

            for img in (torus, raster):  # both images are loaded and shown
                assert img.evaluate("i => i.complete && i.naturalWidth > 0 && i.getBoundingClientRect().width > 100")
            heat = image_pixels(torus)
            # not blank: the heatmap fills the axes (66% x 78% of the figure, 51% of its area) with
            # the magma colour map, dark where dopamine is low, under the neurons and sites; axes,
            # ticks and text alone would leave > 90% of the image white
            assert heat.std() > 20.0
            assert np.mean(heat.sum(axis=2) < 600.0) > 0.35
            spikes = image_pixels(raster)
            blue = (spikes[..., 2] > spikes[..., 0] + 60).mean()  # excitatory spike marks
            red = (spikes[..., 0] > spikes[..., 2] + 60).mean()  # inhibitory spike marks
            assert blue > 1e-3 and red > 1e-4
            later = click_ms[1:]  # the first click also pays numba's cache loads and the first full draws
            median = statistics.median(later)
            print(f"\nclick -> time counter update: first {click_ms[0]:.0f} ms, then median {median:.0f} ms,")
            print(f"max {max(later):.0f} ms; screenshot {tmp_path / 'viz.png'}")
        finally:
            browser.close()
