"""What a worker does for one point: run it into its own folder, reduce the spikes, return one row.

The row holds scalars only (parameters, summary, analysis fields, ``status``, ``error``), so the
client never receives spike data. Unless ``keep_spikes``, the worker deletes the bulky per-event
files once reduced: ``spikes.parquet`` and the graph snapshots (``snapshots/``, edge lists).
Every failure (a configuration the model refuses, an exception in a kernel) becomes a row with
``status = "failed"`` and a one-line ``error``; the task itself never raises. A worker process
that dies is handled by Dask: the scheduler gives the task to another worker.
"""

from __future__ import annotations

import dataclasses
import math
import os
import shutil
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from neuroabm.sweep.regimes import RegimeCriteria
from neuroabm.sweep.spec import AnalysisSpec

__all__ = ["PointTask", "failed_row", "numba_threads_here", "one_line", "run_point"]


@dataclass(frozen=True)
class PointTask:
    """Everything a worker needs to run one point (picklable, small)."""

    key: str
    seed: int
    values: dict[str, Any]
    config: dict[str, Any]
    run_dir: str
    keep_spikes: bool = False
    analysis: AnalysisSpec = dataclasses.field(default_factory=AnalysisSpec)
    criteria: RegimeCriteria = dataclasses.field(default_factory=RegimeCriteria)
    #: numba threads per host name; hosts not listed use cores // Dask threads of this worker
    threads_by_host: dict[str, int] = dataclasses.field(default_factory=dict)


def one_line(exc: BaseException) -> str:
    """``Type: first line of the message``."""
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}".rstrip(": ")


def failed_row(key: str, seed: int, values: dict[str, Any], error: str) -> dict[str, Any]:
    """The row of a point that did not finish."""
    return {"key": key, "seed": seed, **values, "status": "failed", "error": error}


def numba_threads_here(threads_by_host: dict[str, int]) -> int:
    """Numba threads for a point on this worker: the plan for this host, else cores // Dask threads.

    Never more than numba's pool (``NUMBA_NUM_THREADS``), never less than 1.
    """
    import numba

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    n = threads_by_host.get(socket.gethostname())
    if n is None:
        try:
            from distributed import get_worker

            n = cores // max(1, get_worker().state.nthreads)
        except (ImportError, ValueError):  # not on a Dask worker
            n = cores
    return max(1, min(int(n), numba.config.NUMBA_NUM_THREADS))


def _scalar(value: Any) -> bool:
    return value is None or isinstance(value, bool | int | float | str)


def _extra_fields(task: PointTask, params: Any, t_ms: Any, neuron: Any, n_neurons: int) -> dict[str, Any]:
    """Feedback fields: the steady-state rate error against the set point and the branching ratio."""
    import numpy as np

    out: dict[str, Any] = {}
    a = task.analysis
    t0 = min(a.transient_ms, params.duration_ms / 2)
    if params.dopamine and params.target_rate_hz > 0:
        window_s = (params.duration_ms - t0) * 1e-3
        rate = float((t_ms >= t0).sum() / (n_neurons * window_s))
        out["rate_error"] = (rate - params.target_rate_hz) / params.target_rate_hz
    if a.mr_bin_ms > 0:
        from neuroabm.analysis.branching import branching_ratio_mr

        edges = np.arange(t0, params.duration_ms + 1e-9, a.mr_bin_ms)
        counts = np.histogram(t_ms, bins=edges)[0]
        k_max = min(100, counts.size // 20 - 1)
        try:
            out["m_mr"] = branching_ratio_mr(counts, k_max=k_max, bin_ms=a.mr_bin_ms, numboot=0).m
        except ValueError:
            out["m_mr"] = math.nan
    return out


def run_point(task: PointTask) -> dict[str, Any]:
    """Run one point into ``task.run_dir`` and return its result row (never raises)."""
    started = time.time()
    try:
        import numba
        import pyarrow.parquet as pq

        from neuroabm.config import validate_params
        from neuroabm.runner import run_to_directory
        from neuroabm.sweep.regimes import analyze_spikes

        numba.set_num_threads(numba_threads_here(task.threads_by_host))  # per thread: set where it runs
        params = validate_params(task.config)
        out = Path(task.run_dir)
        if out.exists():  # a previous attempt (a killed worker, a failed run): start clean
            shutil.rmtree(out)
        summary = run_to_directory(params, out, progress=False, bulk=task.keep_spikes, checkpoints=False)
        spikes = pq.read_table(out / "spikes.parquet", columns=["t_ms", "neuron"])
        t_ms, neuron = spikes.column("t_ms").to_numpy(), spikes.column("neuron").to_numpy()
        n = int(summary["n_neurons"])
        a = task.analysis
        analysis = analyze_spikes(
            t_ms, neuron, n, float(summary["duration_ms"]), a.transient_ms, a.rate_bin_ms, a.chi_bin_ms, task.criteria
        )
        analysis.update(_extra_fields(task, params, t_ms, neuron, n))
        del spikes, t_ms, neuron
        if not task.keep_spikes:  # the bulky per-event data (snapshots and report.png were not written)
            (out / "spikes.parquet").unlink()
    except Exception as exc:  # every failure is recorded, the sweep goes on
        row = failed_row(task.key, task.seed, task.values, one_line(exc))
        row.update(worker=socket.gethostname(), started_s=started, finished_s=time.time())
        return row
    row: dict[str, Any] = {"key": task.key, "seed": task.seed, **task.values, "status": "ok", "error": ""}
    row.update({k: v for k, v in summary.items() if _scalar(v) and k not in row})
    row.update(analysis)
    row.update(run_dir=out.name, worker=socket.gethostname(), started_s=started, finished_s=time.time())
    return row
