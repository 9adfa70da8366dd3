"""Avalanche analysis benchmark: seconds to analyse 10^7 spikes, step by step.

Two spike trains of ``--spikes`` spikes from ``--neurons`` neurons (times in ms, neuron ids):

- ``critical``: a driven branching process with m = 0.995 per 1-ms bin (long, heavy-tailed
  avalanches), each event a spike of a random neuron at a random time inside its bin;
- ``poisson``: independent spikes at a constant rate (the worst case for the fits: binned at the
  mean inter-event interval it yields ~2 million small avalanches).

Steps timed: mean inter-event interval, binning, avalanche detection, size and duration power-law
fits (KS x_min scan + lognormal/exponential likelihood ratios), <S>(T) exponent, conventional and
MR branching ratios (1-ms bins, k_max = 100), a subsample of 1% of the neurons, and the one-call
``analyze_avalanches``.

Usage: python benchmarks/bench_analysis.py [--spikes 10000000] [--neurons 10000] [--seed 0] [--full-fits]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from neuroabm.analysis.avalanches import (
    analyze_avalanches,
    avalanches_from_counts,
    binned_counts,
    mean_interevent_interval_ms,
)
from neuroabm.analysis.branching import branching_ratio_conventional, branching_ratio_mr, subsample_neurons
from neuroabm.analysis.power_laws import fit_power_law, size_duration_exponent
from neuroabm.theory.branching_process import driven_branching_process

FULL_FITS = False


def critical_train(n_spikes: int, n_neurons: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    m, h = 0.995, 0.5  # mean activity h / (1 - m) = 100 spikes per 1-ms bin
    counts = driven_branching_process(m, h, int(n_spikes / 100 * 1.1), rng)
    counts = counts[: np.searchsorted(np.cumsum(counts), n_spikes) + 1]
    bins = np.repeat(np.arange(counts.size, dtype=float), counts)
    times = bins + rng.uniform(0.0, 1.0, bins.size)
    return times, rng.integers(0, n_neurons, times.size)


def poisson_train(n_spikes: int, n_neurons: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    duration_ms = n_spikes / (n_neurons * 5.0) * 1000.0  # 5 Hz per neuron
    return rng.uniform(0.0, duration_ms, n_spikes), rng.integers(0, n_neurons, n_spikes)


def timed(label: str, func: Callable[[], Any], rows: list[tuple[str, float]]) -> Any:
    t0 = time.perf_counter()
    out = func()
    rows.append((label, time.perf_counter() - t0))
    return out


def run(name: str, times: np.ndarray, neurons: np.ndarray) -> None:
    rows: list[tuple[str, float]] = []
    bin_ms = timed("mean inter-event interval", lambda: mean_interevent_interval_ms(times), rows)
    counts = timed("binning", lambda: binned_counts(times, bin_ms), rows)
    av = timed("avalanches", lambda: avalanches_from_counts(counts, bin_ms), rows)
    size = timed("size fit, 2e5 of them", lambda: fit_power_law(av.sizes, max_samples=200_000), rows)
    duration = timed("duration fit, 2e5 of them", lambda: fit_power_law(av.durations, max_samples=200_000), rows)
    if FULL_FITS:
        timed("size fit, all (KS x_min, LR tests)", lambda: fit_power_law(av.sizes), rows)
        timed("duration fit, all", lambda: fit_power_law(av.durations), rows)
    gamma = timed("<S>(T) exponent", lambda: size_duration_exponent(av.sizes, av.durations), rows)
    ms_counts = timed("binning at 1 ms", lambda: binned_counts(times, 1.0), rows)
    m_conv = timed("conventional m", lambda: branching_ratio_conventional(ms_counts), rows)
    mr = timed("MR m (k_max 100)", lambda: branching_ratio_mr(ms_counts, k_max=100, bin_ms=1.0), rows)
    timed("subsample 1% of neurons", lambda: subsample_neurons(times, neurons, 100, np.random.default_rng(1)), rows)
    total = sum(t for _, t in rows)
    print(f"\n{name}: {times.size:,} spikes, bin {bin_ms:.4g} ms, {counts.size:,} bins, {len(av):,} avalanches")
    for label, t in rows:
        print(f"  {label:<32s} {t:8.3f} s")
    print(f"  {'sum of steps':<32s} {total:8.3f} s")
    print(
        f"  tau {size.alpha:.3f} +- {size.sigma:.3f} (xmin {size.xmin:g}), alpha {duration.alpha:.3f} +- "
        f"{duration.sigma:.3f} (xmin {duration.xmin:g}), gamma {gamma[0]:.3f} +- {gamma[1]:.3f}, "
        f"m_conv {m_conv:.3f}, m_MR {mr.m:.4f} +- {mr.m_err:.4f}"
    )
    t0 = time.perf_counter()
    analyze_avalanches(times, neurons, mr_bin_ms=1.0)
    print(f"  {'analyze_avalanches (one call)':<32s} {time.perf_counter() - t0:8.3f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spikes", type=int, default=10_000_000)
    parser.add_argument("--neurons", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--full-fits", action="store_true", help="also fit all avalanches (slow)")
    args = parser.parse_args()
    global FULL_FITS
    FULL_FITS = args.full_fits
    # warm-up: imports and numba compilation (mrestimator, the simulator) on a small problem
    warm_t, warm_n = critical_train(200_000, 100, np.random.default_rng(args.seed))
    analyze_avalanches(warm_t, warm_n, mr_bin_ms=1.0)
    for name, make in (("critical", critical_train), ("poisson", poisson_train)):
        times, neurons = make(args.spikes, args.neurons, np.random.default_rng(args.seed))
        run(name, times, neurons)


if __name__ == "__main__":
    main()
