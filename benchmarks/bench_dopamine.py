"""Cost of the dopamine machinery next to the static network (runs/brunel_ai.toml, N = 10,000).

The dopamine system (128 x 128 field stepped every 1 ms, 64 release sites with activity feedback,
10,000 neuron reads and the excitability coupling per field step) runs inside the same model as the
network. Its own time is measured directly (every field step and every spike-counting call is
timed), and the cost of dispatching one Mesa event per field step is measured on an empty model
and added, because on a shared 2-core VM the run-to-run spread of the whole simulation (10-25 %)
is larger than the quantity we want (target <= 10 %). The whole-run difference is printed too, as
a noisy cross-check.

Two diffusion coefficients: the default kappa = 1e-6 mm^2/ms (docs/REFERENCES.md §3 scale; lattice kernel
half-width r = 7 at h = 1/128 mm) and a 100x faster 1e-4 mm^2/ms (r = 21).

The release sites' own ``step()`` calls (per-agent Python, issue 16: the ``per_agent`` path, taken
when a site's class overrides ``step``) are timed on their own; the default runs their vectorized
twin, which the dopamine system's time includes.

Usage: python benchmarks/bench_dopamine.py [--grid 128] [--sites 64] [--repeats 5]
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time
from pathlib import Path

import mesa
from mesa.time import Priority, Schedule

from neuroabm import NeuroModel, load_config

ROOT = Path(__file__).parents[1]


def run(params: dict) -> tuple[float, float, int]:
    """Return (wall seconds of the run, seconds inside the dopamine system, field steps)."""
    model = NeuroModel(**params)
    t0 = time.perf_counter()
    while model.running:
        model.step()
    wall = time.perf_counter() - t0
    system = model.dopamine
    return wall, (system.wall_s if system else 0.0), (system.n_steps if system else 0)


class _EventProbe(mesa.Model):
    def __init__(self, with_event: bool) -> None:
        super().__init__(rng=0)
        if with_event:
            self.schedule_recurring(self._noop, Schedule(interval=1.0, start=1.0), priority=Priority.HIGH)

    def _noop(self) -> None:
        pass

    def step(self) -> None:
        pass


def event_overhead_s(n: int = 100_000) -> float:
    """Seconds Mesa spends dispatching one recurring event per model step."""
    times = {}
    for with_event in (False, True, False, True):
        m = _EventProbe(with_event)
        t0 = time.perf_counter()
        for _ in range(n):
            m.step()
        times.setdefault(with_event, []).append((time.perf_counter() - t0) / n)
    return max(0.0, min(times[True]) - min(times[False]))


def site_steps_s(params: dict, n: int = 20_000) -> float:
    """Seconds per field step that the release sites spend deciding in their own ``step()`` (per-agent Python)."""
    model = NeuroModel(**params)
    system = model.dopamine
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        for _ in range(n):
            system.sites.open_window(1.0)
            for site in system.site_agents:
                site.step()
            system.sites.close_window()
        best = min(best, (time.perf_counter() - t0) / n)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--grid", type=int, default=128)
    ap.add_argument("--sites", type=int, default=64)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    base = load_config(ROOT / "runs" / "brunel_ai.toml")
    da = {
        **base, "dopamine": True, "grid_n": args.grid, "n_sites": args.sites, "field_dt_ms": 1,
        "site_radius_mm": 0.07, "release_tonic": 0.001, "feedback_gain": 1e-5, "target_rate_hz": 40.0,
        "da_excitability_mv": 0.1, "field_record_ms": 0,
    }  # fmt: skip
    variants = {
        "kappa 1e-6 mm^2/ms": {**da, "kappa_mm2_per_ms": 1e-6},
        "kappa 1e-4 mm^2/ms": {**da, "kappa_mm2_per_ms": 1e-4},
    }
    small = {"n_exc": 80, "n_inh": 20, "k_exc": 8, "k_inh": 2, "duration_ms": 5.0}
    for v in variants.values():
        run({**v, **small})  # compile outside the measurement
    event_s = event_overhead_s()
    agents_s = site_steps_s({**variants["kappa 1e-6 mm^2/ms"], **small})
    static: list[float] = []
    walls: dict[str, list[float]] = {k: [] for k in variants}
    inside: dict[str, list[float]] = {k: [] for k in variants}
    steps = 1
    for _ in range(args.repeats):  # interleaved, so that slow phases of the VM hit all variants
        static.append(run(base)[0])
        gc.collect()
        for name, v in variants.items():
            wall, spent, steps = run(v)
            walls[name].append(wall)
            inside[name].append(spent)
            gc.collect()
    s = statistics.median(static)
    duration_s = base["duration_ms"] / 1000.0
    print(f"static network        {s / duration_s:.3f} s per biological s (median of {args.repeats}, N = 10,000)")
    print(f"Mesa event dispatch   {1e6 * event_s:.1f} us per field step")
    print(f"site agents' steps    {1e6 * agents_s:.1f} us per field step ({args.sites} ReleaseSite.step calls, the "
          f"per_agent path) = {100 * agents_s * base['duration_ms'] / s:.2f} % of the static run; the default "
          f"runs their vectorized twin")  # fmt: skip
    for name in variants:
        d = statistics.median(inside[name]) + event_s * steps
        whole = statistics.median(walls[name]) - s
        print(f"{name}:  dopamine system {1e6 * d / steps:.0f} us per field step ({args.grid}x{args.grid} grid, "
              f"{args.sites} sites, 10,000 reads) = {100 * d / s:.1f} % of the static run (target <= 10 %); "
              f"whole-run difference {100 * whole / s:+.1f} %")  # fmt: skip


if __name__ == "__main__":
    main()
