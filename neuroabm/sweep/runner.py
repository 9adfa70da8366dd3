"""``run_sweep``: a sweep file's points as Dask tasks, resumable, with one results table.

::

    from neuroabm.sweep import run_sweep
    df = run_sweep(Path("runs/sweeps/brunel_phase.toml"), Path("out/brunel_phase"))

Folder layout: ``DIR/sweep.toml`` (a copy of the sweep file), ``DIR/results.parquet`` (one row per
point and seed), ``DIR/points/<key>/`` (the usual run folder of each point, without
``spikes.parquet`` unless ``keep_spikes``) and ``DIR/phase.png`` when the sweep maps a plane.
``DIR`` must be reachable by every worker under the same path (a shared filesystem on a cluster).
"""

from __future__ import annotations

import hashlib
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import pandas as pd
from tqdm.auto import tqdm

from neuroabm.sweep.expand import Point, expand
from neuroabm.sweep.regimes import RegimeCriteria, classify_regime
from neuroabm.sweep.results import RESULTS_NAME, ResultsTable
from neuroabm.sweep.spec import SweepSpec, load_sweep
from neuroabm.sweep.task import PointTask, failed_row, one_line, run_point

__all__ = ["POINTS_DIR", "reclassify", "run_sweep"]

POINTS_DIR = "points"
#: rows of earlier points that the current sweep file no longer produces
PREVIOUS_NAME = "results_previous.parquet"
#: tasks kept in flight per Dask thread (bounded, so client memory does not grow with the sweep)
IN_FLIGHT_PER_THREAD = 2


def _task(spec: SweepSpec, point: Point, out: Path, keep_spikes: bool, threads_by_host: dict[str, int]) -> PointTask:
    config = {**spec.base, **spec.fixed, **point.values, "seed": point.seed}
    return PointTask(
        key=point.key, seed=point.seed, values=point.values, config=config,
        run_dir=str(out / POINTS_DIR / point.key), keep_spikes=keep_spikes,
        analysis=spec.analysis, criteria=spec.criteria, threads_by_host=threads_by_host,
    )  # fmt: skip


def reclassify(frame: pd.DataFrame, criteria: RegimeCriteria) -> pd.DataFrame:
    """The ``regime`` of every finished row under ``criteria`` (rows resumed from a run with other thresholds)."""
    ok = frame["status"] == "ok"
    if ok.any() and {"rate_ss_hz", "cv_ss", "freq_hz", "peak_ratio"} <= set(frame.columns):
        rows = frame.loc[ok, ["rate_ss_hz", "cv_ss", "freq_hz", "peak_ratio"]].astype(float).itertuples(index=False)
        frame.loc[ok, "regime"] = [classify_regime(*row, criteria) for row in rows]
    return frame


def _set_aside_other_rows(table: ResultsTable, keys: set[str], out: Path) -> None:
    """Move the rows of points this sweep does not produce to ``results_previous.parquet``.

    Such rows come from an edited sweep file or an earlier model version (a new parameter changes
    every resolved configuration, hence every key).
    """
    other = ~table.frame["key"].isin(keys)
    if not other.any():
        return
    previous = ResultsTable(out / PREVIOUS_NAME)
    for row in table.frame[other].to_dict("records"):
        previous.add(row)
    previous.flush()
    table.frame = table.frame[~other].reset_index(drop=True)
    table.flush()
    print(
        f"neuroabm sweep: {int(other.sum())} rows of points not in this sweep moved to {PREVIOUS_NAME}",
        file=sys.stderr,
    )


def _write_figure(frame: pd.DataFrame, spec: SweepSpec, out: Path) -> None:
    if spec.plot is None or not (frame["status"] == "ok").any():
        return
    from neuroabm.sweep.phase import write_phase_figure

    try:
        write_phase_figure(frame, spec, out / "phase.png")
    except (ValueError, KeyError) as exc:
        print(f"neuroabm sweep: phase.png not written: {one_line(exc)}", file=sys.stderr)


def _run_tasks(
    client: Any, tasks: list[Point], make: Any, table: ResultsTable, bar: tqdm, threads: int, tag: str
) -> int:
    """Submit ``tasks`` keeping a bounded number in flight; record each row as it arrives.

    ``threads`` (the cluster's Dask threads) bounds the points running at once; twice as many are
    kept submitted so that no worker waits for the client.
    """
    window = max(2, IN_FLIGHT_PER_THREAD * threads)
    from distributed import as_completed

    pending = iter(tasks)
    in_flight: dict[str, Point] = {}
    done = as_completed()
    failed = 0

    def submit_next() -> None:
        point = next(pending, None)
        if point is not None:
            fut = client.submit(run_point, make(point), key=f"neuroabm-point-{tag}-{point.key}", pure=False)
            in_flight[fut.key] = point
            done.add(fut)

    for _ in range(window):
        submit_next()
    try:
        for fut in done:
            point = in_flight.pop(fut.key)
            try:
                row = fut.result()
            except Exception as exc:  # the task was lost too often (KilledWorker) or could not run
                row = failed_row(point.key, point.seed, point.values, one_line(exc))
            fut.release()
            failed += row["status"] != "ok"
            table.add(row)
            bar.update(1)
            bar.set_postfix_str(f"running {min(len(in_flight), threads)}, failed {failed}", refresh=False)
            submit_next()
    finally:
        for key in list(in_flight):
            client.cancel(key, force=True)
    return failed


def run_sweep(
    sweep_file: Path,
    out: Path,
    scheduler: str | None = None,
    workers: int | None = None,
    threads_per_worker: int | None = None,
    keep_spikes: bool = False,
) -> pd.DataFrame:
    """Run (or resume) the sweep described by ``sweep_file`` into the folder ``out``.

    Points already recorded as finished in ``out/results.parquet`` are skipped; failed and missing
    ones run. Points run on an embedded ``LocalCluster`` (``scheduler=None``; ``workers`` and
    ``threads_per_worker`` default from the core count, see :mod:`neuroabm.sweep.cluster`) or on
    the Dask scheduler at ``scheduler`` (e.g. ``"tcp://10.0.0.5:8786"``).

    Returns:
        The rows of this sweep's points (params, summary, analysis fields, ``status``, ``error``).

    Raises:
        SweepError: the sweep file is invalid (one line naming the field).
        ValueError: ``workers x threads_per_worker`` exceeds the local cores.

    """
    from neuroabm.exports.atomic import atomic_path
    from neuroabm.sweep.cluster import local_plan, open_client, warm_up

    spec = load_sweep(sweep_file)
    if scheduler is None:
        local_plan(workers, threads_per_worker)  # refuse oversubscription before anything starts
    out = Path(out)
    (out / POINTS_DIR).mkdir(parents=True, exist_ok=True)
    with atomic_path(out / "sweep.toml") as tmp:
        shutil.copyfile(spec.path, tmp)
    points = expand(spec)
    keys = [p.key for p in points]
    table = ResultsTable(out / RESULTS_NAME)
    _set_aside_other_rows(table, set(keys), out)
    finished = table.finished_keys()
    invalid = [p for p in points if p.error and p.key not in finished]
    todo = [p for p in points if not p.error and p.key not in finished]
    for p in invalid:
        table.add(failed_row(p.key, p.seed, p.values, p.error))
    skipped = len(points) - len(todo) - len(invalid)
    msg = f"neuroabm sweep: {len(points)} points, {skipped} already finished, {len(todo)} to run"
    print(msg + (f", {len(invalid)} refused by the configuration" if invalid else ""), file=sys.stderr)
    tag = hashlib.sha256(str(out.resolve()).encode()).hexdigest()[:8]
    t0 = time.perf_counter()
    try:
        if todo:
            with open_client(scheduler, workers, threads_per_worker) as (client, plan):
                if plan.dashboard:
                    print(f"neuroabm sweep: Dask dashboard at {plan.dashboard}", file=sys.stderr)
                print(
                    f"neuroabm sweep: {plan.n_workers} workers, numba threads per host {plan.threads_by_host}",
                    file=sys.stderr,
                )

                client.run(warm_up)  # every worker loads the engine once, in parallel, before the points

                def make(point: Point) -> PointTask:
                    return _task(spec, point, out, keep_spikes, plan.threads_by_host)

                with tqdm(
                    total=len(points), initial=skipped + len(invalid), unit="pt", desc="sweep",
                    dynamic_ncols=True, file=sys.stderr,
                ) as bar:  # fmt: skip
                    _run_tasks(client, todo, make, table, bar, plan.dask_threads, tag)
    finally:
        table.flush()
    table.frame = reclassify(table.frame, spec.criteria)
    table.flush()
    frame = table.rows(keys)
    n_failed = int((frame["status"] != "ok").sum())
    print(
        f"neuroabm sweep: {len(frame) - n_failed} finished, {n_failed} failed in {time.perf_counter() - t0:.1f} s; "
        f"wrote {out / RESULTS_NAME}",
        file=sys.stderr,
    )
    _write_figure(frame, spec, out)
    return frame
