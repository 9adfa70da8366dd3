"""Two versions of the engine side by side: this checkout against a git revision, phase by phase.

A slowdown of a few percent is smaller than this VM's drift between minutes (±30 % seen), so two
versions are only comparable in interleaved rounds: each round runs one child process per version
(the order alternates between rounds), each child builds the same network, warms up (kernels
compiled or loaded from cache), then times ``--bio-ms`` of biology split into the neuron kernel
(``integrate``), the delivery kernel (``deliver``) and everything else in the step (``rest``:
spike gathering, hooks, Mesa events, data collection). The printout has each version's medians
and the median, min and max of the per-round ratios (this / base), which cancel the drift a round
shares.

The base revision is checked out into a temporary ``git worktree`` (removed afterwards) and run
with its own package on ``PYTHONPATH``; revisions before issue 16 (no ``model._integrate``) are timed
through the module's kernel names.

Usage: python benchmarks/bench_versions.py --base 49a7bd0 [--rounds 6] [--threads 1] [--contend 1]
       [--config runs/brunel_ai.toml] [--bio-ms 1000]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench_engine import start_competitors, stop_competitors

ROOT = Path(__file__).parents[1]
PHASES = ("total", "integrate", "deliver", "rest")


def child(config: str, threads: str, bio_ms: int, warm_ms: int = 200) -> dict[str, float]:
    """Time one run of ``config`` in this process (the package on ``sys.path`` is the version)."""
    import neuroabm.model.model as model_module
    from neuroabm import NeuroModel, load_config

    spent = {"integrate": 0.0, "deliver": 0.0}

    def timed(phase: str, kernel: Callable[..., Any]) -> Callable[..., Any]:
        def call(*args: Any) -> Any:
            t0 = time.perf_counter()
            out = kernel(*args)
            spent[phase] += time.perf_counter() - t0
            return out

        return call

    params = dict(load_config(config))
    params.update(threads=int(threads) if threads.isdigit() else threads, duration_ms=float(warm_ms + bio_ms + 1))
    model = NeuroModel(**params)
    for _ in range(warm_ms):
        model.step()
    if hasattr(model, "_integrate"):  # kernels bound by name (issue 16 on)
        model._integrate, model._deliver = timed("integrate", model._integrate), timed("deliver", model._deliver)
    else:  # older revisions call the module's kernels by name
        for name in ("integrate_block", "integrate_block_serial", "deliver_block", "deliver_block_serial"):
            setattr(model_module, name, timed(name.split("_")[0], getattr(model_module, name)))
    t0 = time.perf_counter()
    for _ in range(bio_ms):
        model.step()
    total = time.perf_counter() - t0
    scale = 1000.0 / bio_ms  # seconds per biological second
    return {
        "total": total * scale,
        "integrate": spent["integrate"] * scale,
        "deliver": spent["deliver"] * scale,
        "rest": (total - spent["integrate"] - spent["deliver"]) * scale,
        "spikes": int(model.spike_totals.sum()),
    }


def run_child(checkout: Path, args: argparse.Namespace) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": str(checkout), "OMP_WAIT_POLICY": "passive"}
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", "--config", args.config,
           "--threads", args.threads, "--bio-ms", str(args.bio_ms)]  # fmt: skip
    out = subprocess.run(cmd, cwd=checkout, env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def compare(base: Path, args: argparse.Namespace) -> dict[str, list[dict[str, float]]]:
    runs: dict[str, list[dict[str, float]]] = {"base": [], "this": []}
    competitors = start_competitors(args.contend)
    try:
        for r in range(args.rounds):
            order = ("base", "this") if r % 2 == 0 else ("this", "base")
            for version in order:
                runs[version].append(run_child(base if version == "base" else ROOT, args))
            b, t = runs["base"][-1], runs["this"][-1]
            print(f"round {r + 1}/{args.rounds}: base {b['total']:.3f}  this {t['total']:.3f} s per biological s"
                  f"  (ratio {t['total'] / b['total']:.3f})", flush=True)  # fmt: skip
    finally:
        stop_competitors(competitors)
    return runs


def report(runs: dict[str, list[dict[str, float]]], args: argparse.Namespace) -> None:
    if runs["base"][0]["spikes"] != runs["this"][0]["spikes"]:
        print(
            f"note: the versions fire differently ({runs['base'][0]['spikes']} vs {runs['this'][0]['spikes']} spikes)"
        )
    print(f"\n{args.config}, threads = {args.threads}, {args.contend} busy loop(s), {args.rounds} rounds,"
          f" base {args.base}; seconds per biological second")  # fmt: skip
    print(f"{'phase':<10} {'base':>8} {'this':>8}   {'ratio: median':>13} {'min':>6} {'max':>6}")
    for phase in PHASES:
        base = [run[phase] for run in runs["base"]]
        this = [run[phase] for run in runs["this"]]
        ratios = [t / b for t, b in zip(this, base, strict=True)]
        print(f"{phase:<10} {statistics.median(base):8.3f} {statistics.median(this):8.3f}   "
              f"{statistics.median(ratios):13.3f} {min(ratios):6.3f} {max(ratios):6.3f}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="HEAD", help="git revision to compare against (default HEAD)")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--threads", default="1", help="the model's threads setting (1, 2 or auto)")
    parser.add_argument("--contend", type=int, default=0, help="busy-loop processes beside the runs")
    parser.add_argument("--config", default="runs/brunel_ai.toml")
    parser.add_argument("--bio-ms", type=int, default=1000, help="timed biology per run [ms]")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.config, args.threads, args.bio_ms)))
        return
    if args.rounds < 1 or args.bio_ms < 1:
        parser.error("--rounds and --bio-ms must be at least 1")
    print(f"load average before: {', '.join(f'{x:.2f}' for x in os.getloadavg())} (compare on a quiet machine)")
    with tempfile.TemporaryDirectory(prefix="neuroabm-base-") as tmp:
        base = Path(tmp) / "base"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "-q", str(base), args.base], check=True)
        try:
            report(compare(base, args), args)
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(base)], check=False)


if __name__ == "__main__":
    main()
