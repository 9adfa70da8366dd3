"""Browser app micro-benchmark: wall time of one UI step, in process, including the redraw.

One UI step = what a click on *Step* does on the server: ``model.step()`` ``--ms`` times (Mesa's
"Render Interval"; 1 step = 1 ms of biology), then a frame of each of the four views (torus,
raster, graph, avalanches), encoded as the image the browser receives. Timed per step, after a
warm-up of ``--warmup-ms`` of biology (numba compilation, the first full draws, the spike window
filling); reported as median, 90th percentile and maximum, and split into model and views. The
slow steps are the ones where the model records graph metrics (every ``graph_period_ms``) or the
avalanche panel refits (every 500 ms of biology). Not included: Solara and the websocket to the
browser (``benchmarks/bench_viz_browser.py`` measures the click-to-update time in a real browser).

Usage: python benchmarks/bench_viz.py [--n 1000 5000] [--ms 20] [--steps 150] [--warmup-ms 2000] [--threads 1]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numba
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repo: visualization/ is not installed

from visualization.components.avalanches import AvalancheFigure
from visualization.components.controls import VizModel
from visualization.components.graphs import GraphFigure
from visualization.components.raster import RasterFigure
from visualization.components.torus import TorusFigure


def bench(n: int, ms_per_step: int, steps: int, warmup_ms: int) -> None:
    t0 = time.perf_counter()
    model = VizModel(n_neurons=n)
    build_s = time.perf_counter() - t0
    figures = [TorusFigure(), RasterFigure(), GraphFigure(), AvalancheFigure()]
    for _ in range(warmup_ms):
        model.step()
    for fig in figures:
        fig.render(model)
    names = [type(f).__name__.removesuffix("Figure") for f in figures]
    total, model_ms = [], []
    per_view: dict[str, list[float]] = {k: [] for k in names}
    for _ in range(steps):
        t0 = time.perf_counter()
        for _ in range(ms_per_step):
            model.step()
        t1 = time.perf_counter()
        model_ms.append((t1 - t0) * 1e3)
        for name, fig in zip(names, figures, strict=True):
            ta = time.perf_counter()
            fig.render(model)
            per_view[name].append((time.perf_counter() - ta) * 1e3)
        total.append((time.perf_counter() - t0) * 1e3)

    def stats(x: list[float]) -> str:
        a = np.asarray(x)
        return f"median {np.median(a):6.1f}  p90 {np.percentile(a, 90):6.1f}  max {a.max():6.1f} ms"

    print(f"N = {n:,} ({model.synapses.n_synapses:,} synapses, built in {build_s:.2f} s), {ms_per_step} ms per step, "
          f"{steps} steps from t = {warmup_ms} ms")  # fmt: skip
    print(f"  one UI step   {stats(total)}   ({np.mean(np.asarray(total) <= 100.0):.0%} of steps <= 100 ms)")
    print(f"  model         {stats(model_ms)}")
    for name, fig in zip(names, figures, strict=True):
        print(f"  {name:<12}  {stats(per_view[name])}   ({fig.n_full} of {fig.n_frames} frames fully redrawn)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, nargs="+", default=[1000, 5000])
    ap.add_argument("--ms", type=int, default=20, help="ms of biology per UI step")
    ap.add_argument("--steps", type=int, default=150)
    ap.add_argument("--warmup-ms", type=int, default=2000)
    ap.add_argument("--threads", type=int, default=None, help="numba threads (default: all)")
    args = ap.parse_args()
    if args.threads:
        numba.set_num_threads(args.threads)
    print(f"numba threads: {numba.get_num_threads()}")
    for n in args.n:
        bench(n, args.ms, args.steps, args.warmup_ms)


if __name__ == "__main__":
    main()
