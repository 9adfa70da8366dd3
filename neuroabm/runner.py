"""Running a model to completion: progress display and the run folder.

``run_to_directory`` is what ``neuroabm run`` does: build, simulate with a progress bar, and write
``config.toml``, ``neurons.parquet``, ``spikes.parquet``, ``metrics.parquet``, ``summary.json`` and
``report.png``, each atomically; with dopamine also ``field.npz`` and ``sites.parquet``; with
``record_v`` also ``voltages.npz`` (``t_ms``, ``neuron``, ``v_mv``); with ``criticality_period_ms`` also
``criticality.parquet`` (avalanche exponents and branching ratios per window).

Runs survive interruption (:mod:`neuroabm.checkpoint`): every ``checkpoint_period_ms`` of biology,
and when SIGINT or SIGTERM arrives (acted on between two steps), the whole state is written to
``checkpoint.npz`` in the staging folder, and the spikes flushed so far are in complete part
files beside it. :func:`resume_directory` (``neuroabm run --resume DIR``) continues from it; the
resumed run's outputs equal those of a run never interrupted (bit for bit, but for wall times).
"""

from __future__ import annotations

import contextlib
import math
import signal
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tqdm.auto import tqdm

from neuroabm.analysis.summary import summarize
from neuroabm.config.params import Params
from neuroabm.config.toml_io import write_config
from neuroabm.exports.run_folder import discard, estimate_output_bytes, find_resumable, publish, stage
from neuroabm.exports.tables import write_json, write_metrics, write_neurons

if TYPE_CHECKING:
    from neuroabm.model.model import NeuroModel
    from neuroabm.model.subsystem import Subsystem

#: progress-bar refresh interval [ms of biology]
PROGRESS_EVERY_MS = 50
#: the checkpoint in a staging folder, and the folder of the spike stream's part files
CHECKPOINT_FILE = "checkpoint.npz"
SPIKE_PARTS = "spikes.parts"


class RunInterrupted(Exception):
    """SIGINT or SIGTERM stopped a run between two steps, after writing its checkpoint."""

    def __init__(self, signum: int, folder: Path, t_ms: float) -> None:
        super().__init__(f"{signal.Signals(signum).name} at t = {t_ms:g} ms")
        self.signum, self.folder, self.t_ms = signum, folder, t_ms


@contextlib.contextmanager
def stop_requests() -> Iterator[dict[str, int | None]]:
    """While open, SIGINT and SIGTERM only set ``flag["signum"]`` (checked between steps); a second one interrupts.

    Outside the main thread (a sweep worker) signals cannot be caught: the flag stays None.
    """
    flag: dict[str, int | None] = {"signum": None}
    if threading.current_thread() is not threading.main_thread():
        yield flag
        return

    def request(signum: int, frame: object) -> None:
        if flag["signum"] is not None:  # asked twice: stop now (the last periodic checkpoint stays)
            raise KeyboardInterrupt
        flag["signum"] = signum

    old = {sig: signal.signal(sig, request) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield flag
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)


class Checkpoints:
    """Called after every step: a checkpoint every ``period_ms`` of biology, and one on a stop request.

    Args:
        model: the running model.
        folder: the staging folder (``checkpoint.npz`` goes there).
        period_ms: biological time between checkpoints [ms]; 0 = only on a stop request.
        stop: the flag of :func:`stop_requests`.

    """

    def __init__(self, model: NeuroModel, folder: Path, period_ms: float, stop: dict[str, int | None]) -> None:
        self.model, self.folder, self.period_ms, self.stop = model, folder, period_ms, stop
        self.next_ms = (math.floor(model.time / period_ms) + 1) * period_ms if period_ms > 0 else math.inf
        self.n_written = 0
        self.wall_s = 0.0  # spent writing checkpoints

    def __call__(self) -> None:
        """After a step: checkpoint and stop on request; checkpoint when the period is due."""
        model = self.model
        if self.stop["signum"] is not None:
            self.save()
            raise RunInterrupted(self.stop["signum"], self.folder, float(model.time))
        if model.time >= self.next_ms:
            self.next_ms += self.period_ms
            if model.running:  # at the end the outputs follow at once
                self.save()

    def save(self) -> Path:
        """Close the spike part and write the checkpoint (atomically: the previous one stays until then)."""
        from neuroabm.checkpoint import save_checkpoint

        t0 = time.perf_counter()
        self.model.recorder.cut()
        path = save_checkpoint(self.model, self.folder)
        self.wall_s += time.perf_counter() - t0
        self.n_written += 1
        return path


def progress_loop(model: NeuroModel, enabled: bool = True, after_step: Callable[[], None] | None = None) -> float:
    """Step ``model`` until it stops running; return the wall time spent stepping [s].

    The bar counts biological milliseconds, so its speed reads as ms of biology per wall second.
    ``after_step`` is called after every step (checkpoints: :class:`Checkpoints`).
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
                if after_step is not None:
                    after_step()
                if model.time - shown >= PROGRESS_EVERY_MS or not model.running:
                    bar.update(model.time - shown)
                    shown = model.time
                    bar.set_postfix_str(f"{model.window_rates.values[0]:.1f} Hz", refresh=False)
    return time.perf_counter() - start


def checkpoint_bytes(params: Params) -> float:
    """Disk one checkpoint takes at most [bytes]: the model's memory estimate without the interpreter and kept spikes.

    Twice that is needed while a new checkpoint replaces the old one.
    """
    from neuroabm.model.memory import estimate_memory

    parts = estimate_memory(params).parts
    return float(sum(v for k, v in parts.items() if k not in ("interpreter and engine", "spikes kept")))


def run_to_directory(
    params: Params,
    out_dir: str | Path,
    progress: bool = True,
    force: bool = False,
    on_build: Callable[[], None] | None = None,
    extra: Sequence[Callable[[NeuroModel], Subsystem]] = (),
    bulk: bool = True,
    checkpoints: bool = True,
) -> dict[str, Any]:
    """Build and run a model from validated ``params`` and write the run folder; return the summary.

    The folder is checked (empty unless ``force``, writable, enough free space) before anything is
    built, filled as a hidden staging folder and moved into place only when complete
    (:mod:`neuroabm.exports.run_folder`). ``on_build`` is called once the folder is ready, just
    before the (silent) build. ``extra`` builds more subsystems (:mod:`neuroabm.model.subsystem`)
    from the new model, which are attached after the model's own: their outputs and summary
    fields land in the run folder like the rest. ``bulk = False`` leaves out what a sweep point
    does not need: ``report.png`` (about 1.5 s of drawing) and the graph snapshots (edge tables);
    every table and the summary are written.

    With ``checkpoints`` (the default), a checkpoint is written every ``params.checkpoint_period_ms``
    and on SIGINT/SIGTERM, which then raises :class:`RunInterrupted`; the staging folder is kept
    whenever it holds a checkpoint (:func:`resume_directory` continues it) and removed otherwise.
    """
    n = params.n_exc + params.n_inh
    need = estimate_output_bytes(n, params.duration_ms) + (2 * checkpoint_bytes(params) if checkpoints else 0.0)
    staging = stage(out_dir, force=force, need_bytes=need)
    return _run_in(staging, out_dir, params, progress, on_build, extra, bulk, checkpoints, resume=False)


def resume_directory(
    out_dir: str | Path,
    progress: bool = True,
    extra: Sequence[Callable[[NeuroModel], Subsystem]] = (),
    bulk: bool = True,
    on_build: Callable[[Params, float], None] | None = None,
) -> dict[str, Any]:
    """Continue the interrupted run into ``out_dir`` from its checkpoint and finish its folder; return the summary.

    The configuration is the run's own ``config.toml``; ``extra`` must build the same subsystems
    as the interrupted run had. Raises :class:`~neuroabm.exports.run_folder.RunFolderError` (one
    line) when there is nothing to resume. ``on_build(params, t_ms)`` is called before the rebuild,
    with the checkpoint's time.
    """
    from neuroabm.checkpoint import read_state
    from neuroabm.config.params import validate_params
    from neuroabm.config.toml_io import load_config

    staging = find_resumable(out_dir, CHECKPOINT_FILE)
    params = validate_params(load_config(staging / "config.toml"))
    announce = None
    if on_build is not None:
        t_ms = float(read_state(staging)[0]["time"])
        announce = lambda: on_build(params, t_ms)  # noqa: E731
    return _run_in(staging, out_dir, params, progress, announce, extra, bulk, True, resume=True)


def _run_in(
    staging: Path, out_dir: str | Path, params: Params, progress: bool, on_build: Callable[[], None] | None,
    extra: Sequence[Callable[[NeuroModel], Subsystem]], bulk: bool, checkpoints: bool, resume: bool,
) -> dict[str, Any]:  # fmt: skip
    """Run (or resume) into ``staging``, publish it as ``out_dir``; keep it only if a checkpoint can resume it."""
    try:
        if on_build is not None:
            on_build()
        summary = _write_run(params, staging, progress, extra, bulk, checkpoints, resume)
        publish(staging, out_dir)
    except BaseException:
        if not (checkpoints and (staging / CHECKPOINT_FILE).is_file()):
            discard(staging)
        raise
    return summary


def _write_run(
    params: Params, out: Path, progress: bool, extra: Sequence[Callable[[NeuroModel], Subsystem]] = (),
    bulk: bool = True, checkpoints: bool = False, resume: bool = False,
) -> dict[str, Any]:  # fmt: skip
    """Build (and restore, with ``resume``), run and write every output into ``out`` (the staging folder)."""
    from neuroabm.model.model import NeuroModel
    from neuroabm.report.figure import write_report

    t0 = time.perf_counter()
    model = NeuroModel(**params.model_dump())
    for make in extra:
        model.attach(make(model))
    if resume:
        from neuroabm.checkpoint import load_checkpoint

        load_checkpoint(model, out)
        model.recorder.resume_stream(out / SPIKE_PARTS)
        for part in model.subsystems if bulk else ():
            part.reopen(out)
    else:
        write_config(model.params, out / "config.toml")
        write_neurons(model, out / "neurons.parquet")
        for part in model.subsystems if bulk else ():  # outputs streamed during the run: graph snapshots
            part.prepare(out)
        model.recorder.stream_to(out / SPIKE_PARTS)
    build_s = time.perf_counter() - t0
    with stop_requests() if checkpoints else contextlib.nullcontext({"signum": None}) as stop:
        saver = Checkpoints(model, out, params.checkpoint_period_ms if checkpoints else 0.0, stop)
        wall_s = progress_loop(model, enabled=progress, after_step=saver if checkpoints else None)
    model.recorder.finish_stream(out / "spikes.parquet")
    write_metrics(model, out / "metrics.parquet")
    for part in model.subsystems:  # voltages.npz, field.npz, graph_metrics.parquet, criticality.parquet, ...
        part.write(out)
    summary = summarize(model, wall_s=wall_s, build_s=build_s)
    summary["checkpoints"] = {"n_written": saver.n_written, "wall_s": saver.wall_s, "resumed": resume}
    write_json(summary, out / "summary.json")
    if bulk:
        write_report(model, out / "report.png")
    (out / CHECKPOINT_FILE).unlink(missing_ok=True)  # the run is complete: its outputs replace it
    model.recorder.remove_parts()  # last: until the checkpoint is gone, a resume needs them
    return summary
