"""Dopamine field micro-benchmark: microseconds per network step spent on the field.

One step = deposit at 64 release sites + one exact field step + bilinear sampling at 10,000
neurons (fused into the step on the direct path, as the model does), on a 128 x 128 grid over a
1 mm torus with dt = 1 ms and kappa = 1e-6 mm^2/ms (``s = kappa dt / h^2 = 0.016``, 5 taps per
side for the direct lattice convolution) or, with ``--kappa 1e-4``, ``s = 1.64`` (18 taps).
Each operator/implementation is timed in total and by parts. Timings are the median of
``--repeats`` runs of ``--steps`` steps each, after a warm-up that also pays numba's compilation.
The in-model cost next to a network is ``benchmarks/bench_dopamine.py``.

Usage: python benchmarks/bench_field.py [--kappa 1e-6] [--steps 2000] [--repeats 5] [--threads N]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numba
import numpy as np

from neuroabm.model.dopamine import DopamineField
from neuroabm.model.space import spatial_order

GRID_N = 128
SIDE_MM = 1.0
DT_MS = 1.0
TAU_MS = 10_000.0
N_SITES = 64
N_NEURONS = 10_000

PATHS = [("lattice", "direct"), ("lattice", "fft"), ("spectral", "fft")]


def time_path(operator: str, method: str, kappa: float, steps: int, repeats: int) -> dict[str, float]:
    rng = np.random.default_rng(0)
    field = DopamineField(GRID_N, SIDE_MM, kappa, TAU_MS, DT_MS, operator, method=method)
    sites = rng.uniform(0.0, SIDE_MM, size=(N_SITES, 2))
    amounts = rng.uniform(0.0, 1e-4, size=N_SITES)
    neurons = rng.uniform(0.0, SIDE_MM, size=(N_NEURONS, 2))
    sampler = field.sampler(neurons[spatial_order(neurons, SIDE_MM)])  # numbered as the model does
    out = np.empty(N_NEURONS)

    def one() -> None:
        field.deposit(sites, amounts)
        field.step_and_sample(sampler, out)

    for _ in range(50):  # warm-up (and JIT compilation)
        one()
    results: dict[str, list[float]] = {"total": [], "deposit": [], "step": [], "sample": []}
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(steps):
            one()
        results["total"].append((time.perf_counter() - t0) / steps * 1e6)
        parts = {
            "deposit": lambda: field.deposit(sites, amounts),
            "step": field.step,
            "sample": lambda: sampler.sample(field.values, out),
        }
        for name, fn in parts.items():
            t0 = time.perf_counter()
            for _ in range(steps):
                fn()
            results[name].append((time.perf_counter() - t0) / steps * 1e6)
    summary = {k: statistics.median(v) for k, v in results.items()}
    summary["half_width"] = field.half_width if field.half_width is not None else -1
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kappa", type=float, default=1e-6, help="diffusion coefficient [mm^2/ms]")
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=None, help="numba threads (default: all)")
    args = parser.parse_args()
    if args.threads is not None:
        numba.set_num_threads(args.threads)
    print(
        f"grid {GRID_N}x{GRID_N}, side {SIDE_MM} mm, kappa {args.kappa} mm^2/ms, dt {DT_MS} ms, "
        f"{N_SITES} sites, {N_NEURONS} neurons, numba threads {numba.get_num_threads()}"
    )
    print(f"{'operator':<10}{'method':<8}{'r':>4}{'total us':>11}{'deposit':>10}{'step':>9}{'sample':>9}")
    for operator, method in PATHS:
        s = time_path(operator, method, args.kappa, args.steps, args.repeats)
        r = "-" if s["half_width"] < 0 else str(int(s["half_width"]))
        print(
            f"{operator:<10}{method:<8}{r:>4}{s['total']:>11.1f}{s['deposit']:>10.1f}{s['step']:>9.1f}{s['sample']:>9.1f}"
        )


if __name__ == "__main__":
    main()
