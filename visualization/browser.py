"""Drive the browser app in a real browser: serve it, open Chromium, time clicks on *Step*.

Used by ``tests/test_viz_browser.py`` and ``benchmarks/bench_viz_browser.py``. The browser is the
system's Chromium (``/usr/bin/chromium``, driven by playwright with ``executable_path``; never
``playwright install``). Timings are taken inside the page with ``performance.now()``: a script
installed before the app loads wraps the WebSocket (time and size of every message in and out)
and watches the DOM (when Mesa's "Time: ..." text and the views' ``<img>`` sources change). The
server brackets its answer to an event with two small kernel status messages (busy, idle); the
widget updates come between them. A click's latency splits into

- *ack*: from the click to the "busy" message (the event's round trip, nothing computed yet);
- *server*: from the click to the first widget update (the model steps, the views render, Solara
  renders and diffs the component tree, then starts sending);
- *transfer*: from the first to the last widget update (the counter, status lines and images:
  Solara sends widget by widget while it walks the tree);
- *browser*: from the last widget update to the last change on the page.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: Debian's Chromium
CHROMIUM = Path("/usr/bin/chromium")
#: headless, no sandbox (containers), no GPU, no background requests (offline)
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]

#: installed before the app's own scripts: records WebSocket traffic and page changes
_PROBE_JS = """
(() => {
  const log = window.__neuroabm = {ws: [], time: [], img: [], click: []};
  const size = d => d.byteLength ?? d.size ?? d.length ?? 0;
  const Native = window.WebSocket;
  window.WebSocket = class extends Native {
    constructor(...args) {
      super(...args);  // listening first: arrival time, before the app handles the message
      this.addEventListener('message', e => log.ws.push([performance.now(), 'in', size(e.data)]));
    }
    send(data) { log.ws.push([performance.now(), 'out', size(data)]); return super.send(data); }
  };
  document.addEventListener('click', () => log.click.push(performance.now()), true);
  const seen = new Map();
  new MutationObserver(records => {
    const now = performance.now();
    for (const r of records) {
      if (r.type === 'attributes' && r.target.tagName === 'IMG') { log.img.push(now); continue; }
      const node = r.type === 'characterData' ? r.target.parentElement : r.target;
      const text = node && node.textContent;
      if (text && text.startsWith('Time: ') && text.length < 40 && seen.get('time') !== text) {
        seen.set('time', text);
        log.time.push([now, text]);
      }
    }
  }).observe(document, {subtree: true, childList: true, characterData: true, attributes: true,
                        attributeFilter: ['src']});
})();
"""


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def served_app(log_path: Path, start_timeout_s: float = 90.0) -> Iterator[str]:
    """``neuroabm viz`` (the app's default network) on a free local port; yields its URL.

    The server runs in its own process group with one numba thread, writes to ``log_path``, and
    is always stopped (SIGTERM, then SIGKILL) on exit.

    Raises:
        RuntimeError: if the server does not answer within ``start_timeout_s`` [s].

    """
    with served_app_process(log_path, start_timeout_s) as (url, _):
        yield url


@contextlib.contextmanager
def served_app_process(
    log_path: Path, start_timeout_s: float = 90.0, env: dict[str, str] | None = None
) -> Iterator[tuple[str, subprocess.Popen]]:
    """As :func:`served_app`, yielding ``(url, server process)``; ``env`` adds environment variables."""
    port = free_port()
    env = {**os.environ, "NUMBA_NUM_THREADS": "1", **(env or {})}
    env.pop("NEUROABM_VIZ_CONFIG", None)
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "neuroabm", "viz", "--port", str(port)],
            stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True,
        )  # fmt: skip
        url = f"http://127.0.0.1:{port}/"
        try:
            deadline = time.monotonic() + start_timeout_s
            while not _answers(url):
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"server did not start: {Path(log_path).read_text()[-2000:]}")
                time.sleep(0.5)
            yield url, proc
        finally:
            _stop(proc)


def rss_mb(pid: int) -> float:
    """Resident memory of process ``pid`` [MB] (Linux ``/proc``)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024.0
    raise RuntimeError(f"no VmRSS for process {pid}")


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2.0) as r:
            return r.status == 200
    except OSError:
        return False


def _stop(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=15)
    except ProcessLookupError:
        pass
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=15)


def open_app(playwright: Any, url: str, width: int = 1800, height: int = 1300) -> tuple[Any, Any]:
    """Chromium with the timing probe on ``url``, once the views are shown; returns ``(browser, page)``."""
    browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    page = browser.new_page(viewport={"width": width, "height": height})
    page.add_init_script(_PROBE_JS)
    page.goto(url)
    page.get_by_role("button", name="Step").wait_for(timeout=60_000)
    page.locator("img.neuroabm-torus").wait_for(timeout=60_000)
    return browser, page


@dataclass(frozen=True)
class ClickTiming:
    """One click on *Step*, timed in the page [ms] from the click event."""

    ack_ms: float  # the first message back (kernel busy)
    server_ms: float  # the first widget update
    last_update_ms: float  # the last widget update
    counter_ms: float  # the "Time: ..." text changed on the page
    done_ms: float  # the last change on the page (counter or image)
    bytes_in: int  # bytes of the widget updates
    time_text: str  # the counter's new text

    @property
    def transfer_ms(self) -> float:
        """First to last widget update."""
        return self.last_update_ms - self.server_ms

    @property
    def browser_ms(self) -> float:
        """Last widget update to the last change on the page."""
        return max(self.done_ms - self.last_update_ms, 0.0)


def click_step(page: Any, settle_ms: float = 300.0) -> ClickTiming:
    """Click *Step*, wait until the time counter changes and traffic settles; time it in the page.

    Args:
        page: a page opened by :func:`open_app`.
        settle_ms: the update counts as done after this long without a message [ms].

    """
    n_time = page.evaluate("window.__neuroabm.time.length")
    page.get_by_role("button", name="Step").click()
    page.wait_for_function(f"window.__neuroabm.time.length > {n_time}", timeout=60_000, polling=10)
    page.wait_for_function(
        "s => { const w = window.__neuroabm.ws; return performance.now() - w[w.length - 1][0] > s; }",
        arg=settle_ms, timeout=60_000, polling=20,
    )  # fmt: skip
    rec = page.evaluate(
        "n => { const l = window.__neuroabm; const t0 = l.click[l.click.length - 1];"
        " return {t0, time: l.time[n], ws: l.ws.filter(w => w[0] >= t0), img: l.img.filter(t => t >= t0)}; }",
        n_time,
    )
    t0 = rec["t0"]
    incoming = [(t - t0, size) for t, way, size in rec["ws"] if way == "in"]
    updates = incoming[1:-1] or incoming  # between the kernel's busy and idle messages
    counter_ms = rec["time"][0] - t0
    return ClickTiming(
        ack_ms=incoming[0][0],
        server_ms=updates[0][0],
        last_update_ms=updates[-1][0],
        counter_ms=counter_ms,
        done_ms=max([counter_ms] + [t - t0 for t in rec["img"]]),
        bytes_in=sum(size for _, size in updates),
        time_text=rec["time"][1],
    )


def summary(clicks: list[ClickTiming]) -> str:
    """Medians of the click timings, one line each."""

    def med(name: str) -> float:
        return statistics.median(getattr(c, name) for c in clicks)

    done = [c.done_ms for c in clicks]
    return (
        f"click -> time counter updated: median {med('counter_ms'):.0f} ms; -> page fully updated (images too):"
        f" median {statistics.median(done):.0f} ms (min {min(done):.0f}, max {max(done):.0f})"
        f" over {len(clicks)} clicks\n"
        f"  medians: event round trip {med('ack_ms'):.0f} ms; click -> first widget update (server)"
        f" {med('server_ms'):.0f} ms; updates sent over {med('transfer_ms'):.0f} ms ({med('bytes_in') / 1e3:.0f} kB);"
        f" browser after the last update {med('browser_ms'):.0f} ms"
    )
