"""What structure tracking (issue 13) costs: a static run's overhead and a plastic run's graph share.

Static: ``runs/dopamine_feedback.toml`` (4,000 neurons, 1.6 M synapses, 20 s; no plasticity) with
the default ``graph_period_ms``: the first record (all metrics, computed once), the O(n) rows after
it, and the initial and final snapshots (edge table written once, then linked), over the time spent
stepping (target < 1 %). Plastic: ``runs/structure_feedback.toml`` (the main job): the recorder's
own wall time over the run's (target <= 10 %), and the main job's wall time end to end (target
<= 2 minutes).

Usage: python benchmarks/bench_structure.py [--static-only | --plastic-only] [--duration-ms MS]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from neuroabm import NeuroModel, load_config
from neuroabm.runner import progress_loop, run_to_directory

ROOT = Path(__file__).parents[1]


def static_overhead(duration_ms: float | None) -> None:
    params = dict(load_config(ROOT / "runs" / "dopamine_feedback.toml"))
    if duration_ms:
        params["duration_ms"] = duration_ms
    model = NeuroModel(**params)
    rec = model.graph_recorder
    first_s = rec.wall_s
    with tempfile.TemporaryDirectory() as tmp:
        rec.snapshot_dir = Path(tmp)
        t0 = time.perf_counter()
        rec.snapshot()
        snap_s = time.perf_counter() - t0
        wall = progress_loop(model, enabled=False)
        t0 = time.perf_counter()
        rec.snapshot()
        snap_s += time.perf_counter() - t0
    total = rec.wall_s + snap_s
    print(f"static run: {model.synapses.n_synapses:,} synapses, {params['duration_ms'] / 1000:g} s of biology in "
          f"{wall:.1f} s of stepping")  # fmt: skip
    print(f"  first record {first_s:.3f} s, later rows {rec.wall_s - first_s:.3f} s ({len(rec.rows) - 1} rows), "
          f"snapshots {snap_s:.3f} s: {100 * total / wall:.2f} % of the stepping time (target < 1 %)")  # fmt: skip


def plastic_share(duration_ms: float | None) -> None:
    params = dict(load_config(ROOT / "runs" / "structure_feedback.toml"))
    if duration_ms:
        params["duration_ms"] = duration_ms
    from neuroabm.config import validate_params

    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        summary = run_to_directory(validate_params(params), tmp, progress=False)
        end_to_end = time.perf_counter() - t0
    print(f"main job: {params['duration_ms'] / 1000:g} s of biology, {end_to_end:.1f} s end to end "
          f"(stepping {summary['wall_s']:.1f} s; target <= 120 s)")  # fmt: skip
    model = NeuroModel(**{**params, "field_record_ms": 0})
    wall = progress_loop(model, enabled=False)
    rec = model.graph_recorder
    print(f"  graph records: {rec.wall_s:.2f} s of {wall:.1f} s stepping = {100 * rec.wall_s / wall:.1f} % "
          f"({len(rec.rows)} rows, all with clustering and modularity; target <= 10 %)")  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--static-only", action="store_true")
    ap.add_argument("--plastic-only", action="store_true")
    ap.add_argument("--duration-ms", type=float, default=None)
    args = ap.parse_args()
    if not args.plastic_only:
        static_overhead(args.duration_ms)
    if not args.static_only:
        plastic_share(args.duration_ms)


if __name__ == "__main__":
    main()
