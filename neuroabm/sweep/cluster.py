"""Where the points run: an embedded Dask ``LocalCluster``, or any scheduler by its address.

Threads never fight. A local cluster has ``workers`` processes of one Dask thread each (one point
at a time per process) and each point runs its kernels on ``threads_per_worker`` numba threads,
with ``workers x threads_per_worker <= cores``. Unset, both follow from the core count: as many
single-threaded workers as cores, since whole points in parallel scale better than threads inside
one. On a remote cluster each worker's points get ``threads_per_worker`` numba threads if given,
else the host's cores divided by the Dask threads of all workers on that host (start workers with
``--nthreads 1`` so that each point gets its share of the cores).
"""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import os
import socket
import sys
from collections.abc import Iterator
from dataclasses import dataclass

__all__ = ["ClusterPlan", "local_plan", "open_client", "usable_cores"]


def usable_cores() -> int:
    """Cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


@dataclass(frozen=True)
class ClusterPlan:
    """Workers, Dask threads and numba threads per host, as connected."""

    n_workers: int
    dask_threads: int
    threads_by_host: dict[str, int]
    dashboard: str | None = None


def local_plan(workers: int | None, threads_per_worker: int | None, cores: int | None = None) -> tuple[int, int]:
    """``(workers, numba threads per worker)`` for a local cluster on ``cores`` cores.

    Raises:
        ValueError: a count below 1, or ``workers x threads_per_worker`` above the core count.

    """
    cores = cores or usable_cores()
    for name, value in (("workers", workers), ("threads_per_worker", threads_per_worker)):
        if value is not None and value < 1:
            raise ValueError(f"{name} must be >= 1 (got {value})")
    if workers is None and threads_per_worker is None:
        return cores, 1
    if workers is None:
        return max(1, cores // threads_per_worker), threads_per_worker  # type: ignore[operator]
    if threads_per_worker is None:
        return workers, max(1, cores // workers)
    if workers * threads_per_worker > cores:
        raise ValueError(
            f"workers x threads_per_worker = {workers} x {threads_per_worker} exceeds the {cores} cores of this machine"
        )
    return workers, threads_per_worker


def _host_cores() -> tuple[str, int]:
    return socket.gethostname(), usable_cores()


def remote_threads(client: object, threads_per_worker: int | None) -> dict[str, int]:
    """Numba threads per host of a connected cluster: given, else cores // Dask threads on the host."""
    hosts = client.run(_host_cores)  # type: ignore[attr-defined]
    workers = client.scheduler_info(n_workers=-1)["workers"]  # type: ignore[attr-defined]
    dask_threads: dict[str, int] = {}
    cores: dict[str, int] = {}
    for addr, (host, n_cores) in hosts.items():
        dask_threads[host] = dask_threads.get(host, 0) + int(workers.get(addr, {}).get("nthreads", 1))
        cores[host] = n_cores
    plan = {}
    for host, n in dask_threads.items():
        share = max(1, cores[host] // n)
        if threads_per_worker is not None and threads_per_worker > share:
            print(
                f"neuroabm sweep: {threads_per_worker} threads per worker would oversubscribe {host} "
                f"({cores[host]} cores, {n} Dask threads); using {share}",
                file=sys.stderr,
            )
        plan[host] = share if threads_per_worker is None else min(threads_per_worker, share)
    return plan


def warm_up() -> float:
    """Import the engine and load its compiled kernels in this worker; return the seconds it took.

    Run on every worker (``client.run``) before the first point, in parallel: the imports and
    numba's cache loads (a few seconds per process) would otherwise fall into each worker's first
    point, which skews the progress bar's estimate and, with few points per worker, the speedup.
    """
    import time

    import numba

    from neuroabm.model.model import NeuroModel
    from neuroabm.sweep.regimes import analyze_spikes  # noqa: F401  (the point's analysis imports)

    t0 = time.perf_counter()
    threads = numba.get_num_threads()
    tiny = dict(n_exc=80, n_inh=20, k_exc=8, k_inh=2, duration_ms=2.0, seed=1)
    for mode in (1, 2):  # the serial twins and the parallel kernels (run on this worker's threads)
        NeuroModel(**tiny, threads=mode).run()
    numba.set_num_threads(threads)
    return time.perf_counter() - t0


def _dashboard(client: object) -> str | None:
    info = client.scheduler_info(n_workers=0)  # type: ignore[attr-defined]
    if "dashboard" not in info.get("services", {}):
        return None
    return str(client.dashboard_link)  # type: ignore[attr-defined]


@contextlib.contextmanager
def open_client(
    scheduler: str | None = None,
    workers: int | None = None,
    threads_per_worker: int | None = None,
    timeout_s: float = 60.0,
) -> Iterator[tuple[object, ClusterPlan]]:
    """A Dask client on an embedded ``LocalCluster`` (``scheduler=None``) or on ``scheduler``'s cluster.

    Yields ``(client, plan)``; the local cluster is shut down on exit, a remote one left running.
    """
    from distributed import Client, LocalCluster

    if scheduler is None:
        n_workers, n_threads = local_plan(workers, threads_per_worker)
        dash = ":0" if importlib.util.find_spec("bokeh") else None
        cluster = LocalCluster(
            n_workers=n_workers, threads_per_worker=1, processes=True, dashboard_address=dash,
            silence_logs=logging.ERROR, host="127.0.0.1",
        )  # fmt: skip
        try:
            with Client(cluster) as client:
                plan = ClusterPlan(n_workers, n_workers, {socket.gethostname(): n_threads}, _dashboard(client))
                yield client, plan
        finally:
            cluster.close()
        return
    with Client(scheduler, timeout=timeout_s) as client:
        if workers is not None:
            client.wait_for_workers(workers, timeout=timeout_s)
        else:
            client.wait_for_workers(1, timeout=timeout_s)
        info = client.scheduler_info(n_workers=-1)["workers"]
        plan = ClusterPlan(
            n_workers=len(info),
            dask_threads=sum(int(w.get("nthreads", 1)) for w in info.values()),
            threads_by_host=remote_threads(client, threads_per_worker),
            dashboard=_dashboard(client),
        )
        yield client, plan
