"""Cost of checkpoints on Brunel-10k with plasticity (issue 15): target <= 2 % of the run at the default period.

The model is benchmarks/bench_plasticity.py's plastic Brunel-10k (10^7 synapses, STDP on every
excitatory one, field with 64 sites), with structural plasticity on as well (``--static`` for the
network without dopamine or plasticity). Prints:

- the run's speed (s of wall time per biological s, after a warm-up);
- the time to write one checkpoint (``Checkpoints.save``: the spike part cut, the state captured
  and written with an fsync; median of ``--repeats``) and its size;
- the share of the run that checkpoints take at the default ``checkpoint_period_ms``
  (save time / (period x speed));
- the time to resume: build the network again from its configuration, then restore.

``--contend K`` runs K busy loops beside everything (a user's machine is rarely idle).

Usage: python benchmarks/bench_checkpoint.py [--repeats 3] [--contend K] [--dir FOLDER] [--static]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from bench_engine import start_competitors, stop_competitors
from bench_plasticity import plastic_params

from neuroabm import NeuroModel, load_config
from neuroabm.checkpoint import load_checkpoint
from neuroabm.config.params import Params
from neuroabm.runner import CHECKPOINT_FILE, Checkpoints

ROOT = Path(__file__).parents[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--duration", type=float, default=2000.0, help="biological time timed for the speed [ms]")
    ap.add_argument("--contend", type=int, default=0, metavar="K", help="CPU-bound competitors beside the run")
    ap.add_argument("--dir", type=Path, default=None, help="where to write the checkpoints (default: a temp folder)")
    ap.add_argument("--static", action="store_true", help="the static Brunel-10k instead (no dopamine, no STDP)")
    args = ap.parse_args()
    base = {**load_config(ROOT / "runs" / "brunel_ai.toml"), "duration_ms": 10 * args.duration}
    params = base if args.static else {**plastic_params(base), "structural": True}
    NeuroModel(**{**params, "n_exc": 80, "n_inh": 20, "k_exc": 8, "k_inh": 2, "duration_ms": 5.0}).run()  # compile
    procs = start_competitors(args.contend)
    try:
        time.sleep(0.5 if procs else 0.0)
        model = NeuroModel(**params)
        for _ in range(300):  # warm-up: the thread policy settles, histories fill
            model.step()
        t0 = time.perf_counter()
        for _ in range(round(args.duration)):
            model.step()
        speed = (time.perf_counter() - t0) / (args.duration / 1000.0)
        with tempfile.TemporaryDirectory(dir=args.dir) as folder:
            saver = Checkpoints(model, Path(folder), 0.0, {"signum": None})
            saves = []
            for _ in range(args.repeats):
                t0 = time.perf_counter()
                saver.save()
                saves.append(time.perf_counter() - t0)
                model.step()
            size = (Path(folder) / CHECKPOINT_FILE).stat().st_size
            t0 = time.perf_counter()
            fresh = NeuroModel(**params)
            build = time.perf_counter() - t0
            load_checkpoint(fresh, folder)
            restore = time.perf_counter() - build - t0
    finally:
        stop_competitors(procs)
    save = statistics.median(saves)
    period_s = Params.model_fields["checkpoint_period_ms"].default / 1000.0
    share = save / (period_s * speed)
    n_syn = model.synapses.n_synapses
    print(f"model              Brunel-10k {'static' if args.static else 'with STDP, structure, field'}, "
          f"{n_syn:,} synapses; {args.contend} busy loop(s) beside it")  # fmt: skip
    print(f"speed              {speed:.3f} s per biological s")
    print(f"checkpoint         {save:.3f} s to write (median of {args.repeats}), {size / 2**20:.1f} MiB "
          f"({size / n_syn:.1f} bytes per synapse)")  # fmt: skip
    print(f"share of the run   {100 * share:.2f} % at checkpoint_period_ms = {period_s * 1000:.0f} (target <= 2 %)")
    print(f"resume             {build:.2f} s to build the network again + {restore:.2f} s to restore")
    print(json.dumps({
        "contend": args.contend, "static": args.static, "sim_s_per_bio_s": speed, "save_s": save, "bytes": size,
        "share": share, "build_s": build, "restore_s": restore,
    }))  # fmt: skip


if __name__ == "__main__":
    main()
