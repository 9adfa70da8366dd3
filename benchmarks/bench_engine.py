"""Engine benchmark: Brunel model A at N = 10,000 (runs/brunel_ai.toml), end to end.

Prints build seconds, simulation seconds per biological second, recurrent synaptic events per
second (all Mesa agents present, spikes recorded), bytes per synapse and peak memory. The target
for the engine is >= 4e8 events/s and <= 12 bytes per synapse on a 2-core machine.

``--contend K`` starts K CPU-bound competitor processes (busy loops) beside the measurement, as a
browser, a second run or a test suite would be on a user's machine, and times the default thread
policy (``threads="auto"``) against one thread (``threads=1``) and all threads (``threads=<pool>``);
the target is auto <= 1.25 x one thread with one competitor, and all threads >= 1.6 x faster than
one thread on an idle machine (``--contend 0``).

``--neuron-model izhikevich`` times the same network with Izhikevich (2003) neurons (exact
Riccati sub-steps of ``izh_substep_ms``), for the speed of the second neuron model beside LIF.

Usage: python benchmarks/bench_engine.py [--repeats 3] [--config runs/brunel_ai.toml] [--contend K] [--neuron-model M]
"""

from __future__ import annotations

import argparse
import gc
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numba
import numpy as np

from neuroabm import NeuroModel, load_config

ROOT = Path(__file__).parents[1]


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def start_competitors(k: int) -> list[subprocess.Popen]:
    """K busy-loop processes (one core each), stopped by :func:`stop_competitors`."""
    return [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(k)]


def stop_competitors(procs: list[subprocess.Popen]) -> None:
    for proc in procs:
        proc.kill()
        proc.wait()


def thread_settings(pool: int) -> list[int | str]:
    """The ``threads`` values compared: the default, one thread and the whole pool."""
    return ["auto", 1] + ([pool] if pool > 1 else [])


def one_run(params: dict) -> dict:
    t0 = time.perf_counter()
    model = NeuroModel(**params)
    build_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    while model.running:
        model.step()
    wall_s = time.perf_counter() - t0
    syn = model.synapses
    events = int(np.dot(model.spike_count, syn.out_degree()))
    sim_s = model.time / 1000.0
    return {
        "build_s": build_s,
        "wall_s": wall_s,
        "sim_s_per_bio_s": wall_s / sim_s,
        "thread_switches": model.thread_policy.log,
        "events_per_s": events / wall_s,
        "rate_hz": float(model.spike_count.sum() / model.n_neurons / sim_s),
        "n_agents": len(model.agents),
        "n_synapses": syn.n_synapses,
        "synapse_bytes_per_synapse": syn.nbytes() / syn.n_synapses,
        "state_bytes_per_synapse": (syn.nbytes() + model.ring.nbytes + model.v.nbytes * 6) / syn.n_synapses,
    }


def contention_table(params: dict, repeats: int, contend: int) -> dict[str, float]:
    """Median simulation seconds per biological second for each thread setting, K competitors running."""
    pool = numba.get_num_threads()
    procs = start_competitors(contend)
    try:
        time.sleep(0.5)  # let the competitors reach full speed
        times: dict[str, list[float]] = {str(t): [] for t in thread_settings(pool)}
        for _ in range(repeats):  # interleaved, so a load change affects every setting alike
            for t in thread_settings(pool):
                times[str(t)].append(one_run({**params, "threads": t})["sim_s_per_bio_s"])
                gc.collect()
    finally:
        stop_competitors(procs)
    return {k: statistics.median(v) for k, v in times.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", default=str(ROOT / "runs" / "brunel_ai.toml"))
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--contend", type=int, default=None, metavar="K", help="CPU-bound competitors beside the run")
    ap.add_argument(
        "--neuron-model", choices=("lif", "izhikevich"), default="lif",
        help="izhikevich: the same network with Izhikevich (2003) neurons (RS/FS defaults, no refractory clamp)",
    )  # fmt: skip
    args = ap.parse_args()
    params = load_config(args.config)
    if args.neuron_model == "izhikevich":  # the same network, drive and weights; only the membrane changes
        params |= {"neuron_model": "izhikevich", "t_ref_ms": 0.0, "v_init": "rest"}
    # compile / load the numba kernels outside the measurement (serial and parallel twins)
    small = {**params, "n_exc": 80, "n_inh": 20, "k_exc": 8, "k_inh": 2, "duration_ms": 5.0}
    for t in (1, 2):
        NeuroModel(**{**small, "threads": t}).run()
    if args.contend is not None:
        med = contention_table(params, args.repeats, args.contend)
        one = med["1"]
        print(f"config            {args.config}  (pool {numba.get_num_threads()} threads, {args.repeats} repeats)")
        print(f"competitors       {args.contend} busy loop(s)")
        for key, value in med.items():
            print(f"threads = {key:<6}   {value:.3f} s per biological s   ({value / one:.2f} x one thread)")
        print(json.dumps({"contend": args.contend, "sim_s_per_bio_s": med}))
        return
    base_mb = peak_rss_mb()
    runs = []
    for _ in range(args.repeats):
        runs.append(one_run(params))
        gc.collect()  # Mesa models hold reference cycles (agents <-> model)
    peak_mb = peak_rss_mb()
    med = {k: statistics.median(r[k] for r in runs) for k in ("build_s", "wall_s", "sim_s_per_bio_s", "events_per_s")}
    best_events = max(r["events_per_s"] for r in runs)
    r0 = runs[0]
    print(f"config            {args.config}  ({numba.get_num_threads()} threads, {args.repeats} repeats)")
    print(f"neurons / agents  {r0['n_agents']}   synapses {r0['n_synapses']:,}   rate {r0['rate_hz']:.2f} Hz")
    print(f"build             {med['build_s']:.2f} s (median)")
    print(f"simulation        {med['sim_s_per_bio_s']:.3f} s per biological s (median)")
    print(f"synaptic events   {med['events_per_s']:.3g} /s median, {best_events:.3g} /s best   (target >= 4e8)")
    print(f"synapse store     {r0['synapse_bytes_per_synapse']:.2f} bytes/synapse   (target <= 12)")
    print(f"all model state   {r0['state_bytes_per_synapse']:.2f} bytes/synapse")
    print(f"peak memory       {peak_mb:.0f} MB RSS ({peak_mb - base_mb:.0f} MB above the interpreter and kernels)")
    print(json.dumps({"median": med, "best_events_per_s": best_events, "peak_rss_mb": peak_mb, "runs": runs}))


if __name__ == "__main__":
    main()
