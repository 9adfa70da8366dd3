"""Browser app benchmark: a click on *Step* in a real browser, until the page shows the new state.

Serves the app with ``neuroabm viz`` (its default network, N = 1,000; or ``--url`` of a running
server), opens Debian's Chromium headless through playwright, clicks *Step* ``--warmup`` times
(numba's cache loads, the first full draws), then ``--clicks`` times, each timed in the page
(``visualization/browser.py``): click to the "Time: ..." counter changing and to the page fully
updated (images too), split into the server's share (click to the first widget update), the
sending (first to last widget update) and the browser's (last update to the page changed).
``benchmarks/bench_viz.py`` times the model and the figures in process.

Usage: python benchmarks/bench_viz_browser.py [--clicks 40] [--warmup 10] [--width 1800] [--url URL]
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repo: visualization/ is not installed

from visualization.browser import click_step, open_app, served_app, summary


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clicks", type=int, default=40)
    ap.add_argument("--warmup", type=int, default=10)
    ap.add_argument("--width", type=int, default=1800, help="browser window width [px]")
    ap.add_argument("--url", default=None, help="a running app (default: start `neuroabm viz`)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        url = args.url or stack.enter_context(served_app(Path(tmp) / "server.log"))
        with sync_playwright() as p:
            browser, page = open_app(p, url, width=args.width)
            try:
                for _ in range(args.warmup):
                    click_step(page)
                clicks = [click_step(page) for _ in range(args.clicks)]
            finally:
                browser.close()
    print(summary(clicks))
    print("  per click, page fully updated [ms]: " + " ".join(f"{c.done_ms:.0f}" for c in clicks))


if __name__ == "__main__":
    main()
