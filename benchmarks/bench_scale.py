"""Scale benchmark: Brunel model A with 1,000 synapses per neuron at N = 10^4, 10^5 and 10^6.

Each size runs in its own process (so its peak RSS is its own) from ``runs/brunel_ai.toml`` with
``n_exc = 0.8 N, n_inh = 0.2 N, k_exc = 800, k_inh = 200``, and prints N, synapses, bytes per
synapse of the store, the memory estimate made before building, peak RSS, build seconds, simulation
seconds per biological second and recurrent synaptic events per second. Targets at N = 10^6
(10^9 synapses): <= 8 bytes per synapse, peak RSS <= 12 GiB, build <= 2 min, >= 3e8 events/s.

Usage: python benchmarks/bench_scale.py [--sizes 10000 100000 1000000] [--duration-ms 100]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).parents[1]


def one_size(n: int, duration_ms: float, threads: str) -> dict:
    import numpy as np

    from neuroabm import NeuroModel, load_config, validate_params
    from neuroabm.model.memory import estimate_memory

    params = {
        **load_config(ROOT / "runs" / "brunel_ai.toml"),
        "n_exc": int(0.8 * n),
        "n_inh": n - int(0.8 * n),
        "duration_ms": duration_ms,
        "threads": threads if threads == "auto" else int(threads),
    }
    estimate = estimate_memory(validate_params(params))
    small = {**params, "n_exc": 800, "n_inh": 200, "k_exc": 80, "k_inh": 20, "duration_ms": 5.0}
    for t in (1, 2):  # load the compiled kernels (serial and parallel) outside the measurement
        NeuroModel(**{**small, "threads": t}).run()
    t0 = time.perf_counter()
    model = NeuroModel(**params)
    build_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    model.run()
    wall_s = time.perf_counter() - t0
    syn = model.synapses
    events = int(np.dot(model.spike_count, syn.out_degree()))
    return {
        "n": n,
        "synapses": syn.n_synapses,
        "bytes_per_synapse": syn.nbytes() / syn.n_synapses,
        "estimate_gib": estimate.total_bytes / 2**30,
        "peak_rss_gib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 2**30,
        "build_s": build_s,
        "sim_s_per_bio_s": wall_s / (duration_ms / 1000.0),
        "events_per_s": events / wall_s,
        "rate_hz": float(model.spike_count.sum() / n / (duration_ms / 1000.0)),
        "threads_log": model.thread_policy.log,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    ap.add_argument("--duration-ms", type=float, default=100.0)
    ap.add_argument("--threads", default="auto")
    ap.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        print(json.dumps(one_size(args.one, args.duration_ms, args.threads)))
        return
    cols = "N", "synapses", "B/syn", "estimate", "peak RSS", "build", "s/bio s", "events/s", "rate"
    print("{:>9} {:>14} {:>6} {:>10} {:>10} {:>8} {:>8} {:>9} {:>8}".format(*cols))
    for n in args.sizes:
        cmd = [sys.executable, __file__, "--one", str(n), "--duration-ms", str(args.duration_ms)]
        out = subprocess.run([*cmd, "--threads", args.threads], capture_output=True, text=True, check=True)
        r = json.loads(out.stdout.strip().splitlines()[-1])
        print(
            f"{r['n']:>9,} {r['synapses']:>14,} {r['bytes_per_synapse']:>6.2f} {r['estimate_gib']:>8.2f} G"
            f" {r['peak_rss_gib']:>8.2f} G {r['build_s']:>7.1f}s {r['sim_s_per_bio_s']:>8.2f} {r['events_per_s']:>9.3g}"
            f" {r['rate_hz']:>6.1f}Hz",
            flush=True,
        )


if __name__ == "__main__":
    main()
