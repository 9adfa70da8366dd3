"""Sweep engine on Dask: speedup of 2 workers over 1, per-task overhead, client memory vs points.

    python benchmarks/bench_sweep.py            # all three (about 3 minutes on 2 cores)
    python benchmarks/bench_sweep.py --only speedup

1. **speedup**: 8 Brunel points (model A at N = 5,000, C_E = 800, 1 s of biology; the network of
   ``runs/sweeps/brunel_phase.toml``) on a LocalCluster of 1 worker x 1 thread and of 2 workers x 1
   thread. Target: >= 1.8x. ``--duration-ms`` lengthens the points (the per-point fixed work, about
   0.7 s of build, writing and analysis, then weighs less). Reported twice: wall time from the
   call to the return (the cluster's start, a few seconds paid once per sweep, included) and the
   span of the points alone.
2. **overhead**: 40 trivial points (100 neurons, 1 ms; 40 seeds) on 1 worker. The per-task overhead is the
   idle time of the worker between two tasks (scheduling, result transfer, the client's
   bookkeeping and table flushes): ``(last finish - first start - sum of task times) / (n - 1)``.
   Target: <= 0.5 s.
3. **memory**: the client's peak Python allocations (tracemalloc) during sweeps of 10, 40 and 160
   trivial points on 2 workers. Flat means the bytes per point stay small and constant (rows only:
   spikes never reach the client, tasks in flight are bounded).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import tracemalloc
from pathlib import Path

from neuroabm.sweep import run_sweep

BRUNEL_BASE = """
[network]
n_exc = 4000
n_inh = 1000
k_exc = 800
k_inh = 200
[synapse]
j_mv = 0.1
delay_ms = 1.5
[run]
dt_ms = 0.1
duration_ms = 1000
seed = 1
"""
TINY_BASE = """
[network]
n_exc = 80
n_inh = 20
k_exc = 8
k_inh = 2
[synapse]
j_mv = 0.5
[run]
duration_ms = 1
seed = 1
"""


def _sweep(folder: Path, base: str, grid: str, seeds: str = "[1]") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "base.toml").write_text(base)
    (folder / "sweep.toml").write_text(f'base = "base.toml"\nseeds = {seeds}\n[grid]\n{grid}\n')
    return folder / "sweep.toml"


def speedup(root: Path, duration_ms: float = 1000.0) -> None:
    base = BRUNEL_BASE.replace("duration_ms = 1000", f"duration_ms = {duration_ms:g}")
    sweep = _sweep(root / "speedup", base, "g = [4.0, 5.0, 6.0, 7.0]\neta = [1.5, 2.5]")
    times, spans = {}, {}
    for workers in (1, 2):
        t0 = time.perf_counter()
        df = run_sweep(sweep, root / f"speedup_out_{workers}", workers=workers, threads_per_worker=1)
        times[workers] = time.perf_counter() - t0
        spans[workers] = float(df["finished_s"].max() - df["started_s"].min())
        assert (df["status"] == "ok").all(), df["error"].tolist()
        print(
            f"speedup: {workers} worker(s) x 1 thread: {times[workers]:.1f} s for 8 points "
            f"({spans[workers]:.1f} s from the first point's start to the last one's end)",
            flush=True,
        )
    print(
        f"speedup: 2 workers / 1 worker = {times[1] / times[2]:.2f}x with the cluster start, "
        f"{spans[1] / spans[2]:.2f}x on the points alone (target >= 1.8x)",
        flush=True,
    )


def overhead(root: Path, n: int = 40) -> None:
    sweep = _sweep(root / "overhead", TINY_BASE, "g = [5.0]", seeds=str(n))
    df = run_sweep(sweep, root / "overhead_out", workers=1, threads_per_worker=1).sort_values("started_s")
    busy = float((df["finished_s"] - df["started_s"]).sum())
    span = float(df["finished_s"].max() - df["started_s"].min())
    print(
        f"overhead: {n} trivial points on 1 worker: mean task {busy / n:.3f} s, "
        f"idle between tasks {(span - busy) / (n - 1):.3f} s per task (target <= 0.5 s)",
        flush=True,
    )


def memory(root: Path) -> None:
    run_sweep(_sweep(root / "memory_warmup", TINY_BASE, "g = [5.0]", seeds="2"), root / "memory_warmup_out", workers=2)
    previous = None  # the warm-up above leaves the one-off imports (distributed, matplotlib) out of the peaks
    for n in (10, 40, 160):
        sweep = _sweep(root / f"memory_{n}", TINY_BASE, "g = [5.0]", seeds=str(n))
        tracemalloc.start()
        run_sweep(sweep, root / f"memory_out_{n}", workers=2, threads_per_worker=1)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        extra = f", {(peak - previous[1]) / (n - previous[0]) / 1024:.1f} KiB per extra point" if previous else ""
        print(f"memory: {n} points: client peak {peak / 2**20:.1f} MiB{extra}", flush=True)
        previous = (n, peak)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", choices=("speedup", "overhead", "memory"))
    parser.add_argument("--duration-ms", type=float, default=1000.0, help="biology per speedup point [ms]")
    args = parser.parse_args()
    print(f"cores: {os.cpu_count()}; NUMBA_NUM_THREADS={os.environ.get('NUMBA_NUM_THREADS', 'unset')}")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for name, fn in (("speedup", speedup), ("overhead", overhead), ("memory", memory)):
            if args.only in (None, name):
                fn(root, args.duration_ms) if name == "speedup" else fn(root)


if __name__ == "__main__":
    main()
