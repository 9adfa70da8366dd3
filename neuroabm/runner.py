"""Running a model to completion: progress display and the run folder.

``run_to_directory`` is what ``neuroabm run`` does: build, simulate with a progress bar, and write
``config.toml``, ``neurons.parquet``, ``spikes.parquet``, ``metrics.parquet``, ``summary.json`` and
``report.png``, each atomically; with dopamine also ``field.npz`` and ``sites.parquet``; with
``record_v`` also ``voltages.npz`` (``t_ms``, ``neuron``, ``v_mv``); with ``criticality_period_ms`` also
``criticality.parquet`` (avalanche exponents and branching ratios per window).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tqdm.auto import tqdm

from neuroabm.analysis.summary import summarize
from neuroabm.config.params import Params
from neuroabm.config.toml_io import write_config
from neuroabm.exports.atomic import atomic_path
from neuroabm.exports.run_folder import discard, estimate_output_bytes, publish, stage
from neuroabm.exports.tables import write_json, write_metrics, write_neurons

if TYPE_CHECKING:
    from neuroabm.model.model import NeuroModel
    from neuroabm.model.subsystem import Subsystem

#: progress-bar refresh interval [ms of biology]
PROGRESS_EVERY_MS = 50


def progress_loop(model: NeuroModel, enabled: bool = True) -> float:
    """Step ``model`` until it stops running; return the wall time spent stepping [s].

    The bar counts biological milliseconds, so its speed reads as ms of biology per wall second.
    """
    total = float(model.params.duration_ms)
    start = time.perf_counter()
    fmt = "{l_bar}{bar}| {n:.0f}/{total:.0f} ms biological [{elapsed}<{remaining}, {rate_fmt}{postfix}]"
    with tqdm(
        total=total,
        initial=float(model.time),
        unit="ms",
        disable=not enabled,
        desc="simulating",
        dynamic_ncols=True,
        bar_format=fmt,
    ) as bar:  # fmt: skip
        shown = model.time
        with model.thread_policy.held():  # numba's thread count is set once, not per step
            while model.running:
                model.step()
                if model.time - shown >= PROGRESS_EVERY_MS or not model.running:
                    bar.update(model.time - shown)
                    shown = model.time
                    bar.set_postfix_str(f"{model.window_rates.values[0]:.1f} Hz", refresh=False)
    return time.perf_counter() - start


def run_to_directory(
    params: Params,
    out_dir: str | Path,
    progress: bool = True,
    force: bool = False,
    on_build: Callable[[], None] | None = None,
    extra: Sequence[Callable[[NeuroModel], Subsystem]] = (),
    bulk: bool = True,
) -> dict[str, Any]:
    """Build and run a model from validated ``params`` and write the run folder; return the summary.

    The folder is checked (empty unless ``force``, writable, enough free space) before anything is
    built, filled as a hidden staging folder and moved into place only when complete
    (:mod:`neuroabm.exports.run_folder`); on any error or interruption the staging folder is removed.
    ``on_build`` is called once the folder is ready, just before the (silent) build. ``extra``
    builds more subsystems (:mod:`neuroabm.model.subsystem`) from the new model, which are attached
    after the model's own: their outputs and summary fields land in the run folder like the rest.
    ``bulk = False`` leaves out what a sweep point does not need: ``report.png`` (about 1.5 s of
    drawing) and the graph snapshots (edge tables); every table and the summary are written.
    """
    n = params.n_exc + params.n_inh
    staging = stage(out_dir, force=force, need_bytes=estimate_output_bytes(n, params.duration_ms))
    try:
        if on_build is not None:
            on_build()
        summary = _write_run(params, staging, progress, extra, bulk)
        publish(staging, out_dir)
    except BaseException:
        discard(staging)
        raise
    return summary


def _write_run(
    params: Params, out: Path, progress: bool, extra: Sequence[Callable[[NeuroModel], Subsystem]] = (),
    bulk: bool = True,
) -> dict[str, Any]:  # fmt: skip
    """Build, run and write every output into ``out`` (the staging folder)."""
    from neuroabm.model.model import NeuroModel
    from neuroabm.report.figure import write_report

    t0 = time.perf_counter()
    model = NeuroModel(**params.model_dump())
    for make in extra:
        model.attach(make(model))
    build_s = time.perf_counter() - t0
    write_config(model.params, out / "config.toml")
    write_neurons(model, out / "neurons.parquet")
    for part in model.subsystems if bulk else ():  # outputs streamed during the run: graph snapshots
        part.prepare(out)
    with atomic_path(out / "spikes.parquet") as tmp:
        model.recorder.stream_to(tmp)
        wall_s = progress_loop(model, enabled=progress)
        model.recorder.close()
    write_metrics(model, out / "metrics.parquet")
    for part in model.subsystems:  # voltages.npz, field.npz, graph_metrics.parquet, criticality.parquet, ...
        part.write(out)
    summary = summarize(model, wall_s=wall_s, build_s=build_s)
    write_json(summary, out / "summary.json")
    if bulk:
        write_report(model, out / "report.png")
    return summary
