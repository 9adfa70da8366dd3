"""Browser app micro-benchmark: wall time of one UI step, in process, including the redraw.

One UI step = what a click on *Step* does on the server: ``model.step()`` ``--ms`` times (Mesa's
"Render Interval"; 1 step = 1 ms of biology), then a frame of each of the five views (torus,
raster, graph, avalanches, structure), encoded as the image the browser receives. The structure
view is also timed apart, and the UI step is reported with and without it (its target: <= 100 ms
per UI step at N = 1,000 with it); ``--static`` runs without plasticity (the structure view is
then drawn once and cached). Timed per step, after a
warm-up of ``--warmup-ms`` of biology (numba compilation, the first full draws, the spike window
filling); reported as median, 90th percentile and maximum, and split into model and views. The
slow steps are the ones where the model records graph metrics (every ``graph_period_ms``) or the
avalanche panel refits (every 500 ms of biology). Not included: Solara and the websocket to the
browser (``benchmarks/bench_viz_browser.py`` measures the click-to-update time in a real browser).

Usage: python benchmarks/bench_viz.py [--n 1000 5000] [--ms 21] [--steps 150] [--warmup-ms 2000] [--threads 1]
       [--static]
"""

from __future__ import annotations

import argparse
import time

import numba
import numpy as np

from neuroabm.viz.app import MS_PER_STEP_CLICK
from neuroabm.viz.components.avalanches import AvalancheFigure
from neuroabm.viz.components.controls import VizModel
from neuroabm.viz.components.graphs import GraphFigure
from neuroabm.viz.components.raster import RasterFigure
from neuroabm.viz.components.structure import StructureFigure
from neuroabm.viz.components.torus import TorusFigure


def bench(n: int, ms_per_step: int, steps: int, warmup_ms: int, plastic: bool = True) -> None:
    t0 = time.perf_counter()
    model = VizModel(n_neurons=n, plasticity=plastic)
    build_s = time.perf_counter() - t0
    figures = [TorusFigure(), RasterFigure(), GraphFigure(), AvalancheFigure(), StructureFigure()]
    for _ in range(warmup_ms):
        model.step()
    for fig in figures:
        fig.render(model)
    names = [type(f).__name__.removesuffix("Figure") for f in figures]
    total, model_ms = [], []
    per_view: dict[str, list[float]] = {k: [] for k in names}
    new_frames: dict[str, list[float]] = {k: [] for k in names}  # the steps where a view made a new frame
    for _ in range(steps):
        t0 = time.perf_counter()
        for _ in range(ms_per_step):
            model.step()
        t1 = time.perf_counter()
        model_ms.append((t1 - t0) * 1e3)
        for name, fig in zip(names, figures, strict=True):
            ta = time.perf_counter()
            n_before = fig.n_frames
            fig.render(model)
            per_view[name].append((time.perf_counter() - ta) * 1e3)
            if fig.n_frames > n_before:
                new_frames[name].append(per_view[name][-1])
        total.append((time.perf_counter() - t0) * 1e3)

    def stats(x: list[float]) -> str:
        a = np.asarray(x)
        return f"median {np.median(a):6.1f}  p90 {np.percentile(a, 90):6.1f}  max {a.max():6.1f} ms"

    without = np.asarray(total) - np.asarray(per_view["Structure"])
    print(f"N = {n:,} ({model.synapses.n_synapses:,} synapses, built in {build_s:.2f} s), {ms_per_step} ms per step, "
          f"{steps} steps from t = {warmup_ms} ms, plasticity {'on' if plastic else 'off'}")  # fmt: skip
    print(f"  one UI step   {stats(total)}   ({np.mean(np.asarray(total) <= 100.0):.0%} of steps <= 100 ms)")
    print(f"  without structure view  {stats(list(without))}   ({np.mean(without <= 100.0):.0%} of steps <= 100 ms)")
    print(f"  model         {stats(model_ms)}")
    for name, fig in zip(names, figures, strict=True):
        print(f"  {name:<12}  {stats(per_view[name])}   ({fig.n_full} of {fig.n_frames} frames fully redrawn)")
        if new_frames[name] and len(new_frames[name]) < steps:
            print(f"    a new frame {stats(new_frames[name])}   ({len(new_frames[name])} of {steps} steps)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, nargs="+", default=[1000, 5000])
    ap.add_argument("--ms", type=int, default=MS_PER_STEP_CLICK, help="ms of biology per UI step")
    ap.add_argument("--steps", type=int, default=150)
    ap.add_argument("--warmup-ms", type=int, default=2000)
    ap.add_argument("--threads", type=int, default=None, help="numba threads (default: all)")
    ap.add_argument("--static", action="store_true", help="plasticity off (a static network)")
    args = ap.parse_args()
    if args.threads:
        numba.set_num_threads(args.threads)
    print(f"numba threads: {numba.get_num_threads()}")
    for n in args.n:
        bench(n, args.ms, args.steps, args.warmup_ms, plastic=not args.static)


if __name__ == "__main__":
    main()
