"""Cleft kernel throughput: molecule-steps per second, and the 3,000-molecule / 1 ms / 100-trial run.

    NUMBA_NUM_THREADS=2 python benchmarks/bench_cleft.py [--json out.json]

Targets (issue 18, 2-core machine): >= 5e7 molecule-steps/s; 3,000 molecules, 1 ms after release,
100 trials in <= 10 s. Throughput is measured with a reflecting rim (every molecule stays free for
every step, so molecule-steps = N x steps x trials exactly), with the default 80 receptors and
their binding checks. The 100-trial run is the default synapse (absorbing rim) for 1 ms.
"""

from __future__ import annotations

import argparse
import json
import time

import numba

from neuroabm.cleft import simulate, validate_cleft_params


def throughput(threads: int, n: int = 3000, duration_ms: float = 0.2, trials: int = 8) -> float:
    numba.set_num_threads(threads)
    p = validate_cleft_params(rim="reflecting", n_transmitter=n, duration_ms=duration_ms, fp_window_us=100.0)
    res = simulate(p, trials=trials, seed=1)
    steps = round(duration_ms * 1000 / p.dt_us)
    return n * steps * trials / res.wall_s


def hundred_trials(threads: int) -> tuple[float, float]:
    numba.set_num_threads(threads)
    p = validate_cleft_params(duration_ms=1.0)
    t0 = time.perf_counter()
    res = simulate(p, trials=100, seed=1)
    return time.perf_counter() - t0, res.wall_s


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    simulate(validate_cleft_params(n_transmitter=100, duration_ms=0.01, fp_window_us=10.0), trials=2)  # compile
    pool = numba.config.NUMBA_NUM_THREADS
    out: dict[str, float] = {}
    for threads in sorted({1, pool}):
        rate = max(throughput(threads) for _ in range(3))
        total, kernel = min(hundred_trials(threads) for _ in range(3))
        out[f"molecule_steps_per_s_{threads}t"] = rate
        out[f"hundred_trials_s_{threads}t"] = total
        print(f"{threads} thread(s): {rate:.3g} molecule-steps/s (target 5e7 on 2 cores); "
              f"3,000 molecules x 1 ms x 100 trials: {total:.2f} s (kernel {kernel:.2f} s; target 10 s)")  # fmt: skip
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(out, fh, indent=2)


if __name__ == "__main__":
    main()
