"""Cost of plasticity on Brunel-10k (runs/brunel_ai.toml): STDP on every excitatory synapse, field and sites on.

Prints, against the static network (same config, no dopamine, no plasticity; runs interleaved):
- the plastic run's time per biological second and its ratio to the static run (target <= 3x),
  and its ratio to the same model with field and sites on but no plasticity;
- both runs' mean firing rates: the learning rate is small enough (eta_da = 1e-6 mV/(uM ms)) that
  the weights move by well under 1 % in the run, so the plastic network fires as the static one
  and the two do the same synaptic work (the kernel's arithmetic does not depend on eta_da; a
  larger rate lets the weights drift and changes the firing, and with it the work);
- bytes per synapse of the synapse store plus the plasticity state (target <= 20);
- the time of a graph-metrics record with and without clustering and modularity, and their share
  of the run at the default graph_period_ms and graph_heavy_every (target <= 10 %).

Usage: python benchmarks/bench_plasticity.py [--repeats 3] [--duration 1000]

On a machine whose cores are shared with other busy processes, run it with NUMBA_NUM_THREADS=1 too:
with more threads than free cores, every parallel region waits for a descheduled thread (several per
millisecond of biology), which swamps both timings and makes the ratio meaningless.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time
from pathlib import Path

from neuroabm import NeuroModel, load_config
from neuroabm.config.params import Params

ROOT = Path(__file__).parents[1]


def timed_run(params: dict) -> tuple[float, NeuroModel]:
    model = NeuroModel(**params)
    t0 = time.perf_counter()
    while model.running:
        model.step()
    return time.perf_counter() - t0, model


def state_bytes(model: NeuroModel) -> int:
    syn, pl = model.synapses, model.plasticity
    arrays = [syn.targets, syn.weights]  # per synapse; indptr/split/row_weight are per neuron
    if pl is not None:  # per plastic synapse, plus the per-neuron histories and packed state
        arrays += [pl.elig, pl.hist, pl.nstate]
    return sum(a.nbytes for a in arrays)


def plastic_params(base: dict) -> dict:
    """``base`` (Brunel-10k) with field, 64 sites and STDP on every excitatory synapse (weights move < 1 %)."""
    return {
        **base, "dopamine": True, "grid_n": 128, "n_sites": 64, "site_radius_mm": 0.07, "release_tonic": 1e-6,
        "field_record_ms": 0, "plasticity": True, "eta_da": 1e-6, "w_max_mv": 0.4, "graph_period_ms": 0,
    }  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--duration", type=float, default=1000.0, help="biological time per run [ms]")
    args = ap.parse_args()
    base = {**load_config(ROOT / "runs" / "brunel_ai.toml"), "duration_ms": args.duration}
    plastic = plastic_params(base)
    field_only = {**plastic, "plasticity": False}
    small = {"n_exc": 80, "n_inh": 20, "k_exc": 8, "k_inh": 2, "duration_ms": 5.0}
    timed_run({**plastic, **small})  # compile outside the measurement
    static_s, plastic_s, field_s = [], [], []
    model = static = None
    for _ in range(args.repeats):
        wall, static = timed_run(base)
        static_s.append(wall)
        gc.collect()
        wall, model = timed_run(plastic)
        plastic_s.append(wall)
        gc.collect()
        field_s.append(timed_run(field_only)[0])
        gc.collect()
    s, p, f = statistics.median(static_s), statistics.median(plastic_s), statistics.median(field_s)
    bio_s = args.duration / 1000.0

    def rate(m: NeuroModel) -> float:
        return float(sum(m.spike_totals)) / m.n_neurons / bio_s

    n_syn = model.synapses.n_synapses
    print(
        f"static network      {s / bio_s:.3f} s per biological s (median of {args.repeats}, N = 10,000, 10^7 synapses)"
    )
    print(f"with plasticity     {p / bio_s:.3f} s per biological s = {p / s:.2f}x the static run (target <= 3x)")
    print(f"                    = {p / f:.2f}x the model with field and sites, no plasticity ({f / bio_s:.3f} s)")
    print(f"mean firing rate    {rate(static):.2f} Hz static, {rate(model):.2f} Hz plastic (the same work)")
    print(f"state per synapse   {state_bytes(model) / n_syn:.1f} bytes (store + STDP state + histories; target <= 20)")
    print(f"flushes             {model.plasticity.n_flushes} in {args.duration:g} ms")
    rec = model.graph_recorder
    rec.record()  # the first record has clustering and modularity (cold Louvain), the next one not
    rec.record()
    heavy, light = rec.record_wall_s[-2:]
    period_s = Params.model_fields["graph_period_ms"].default / 1000.0
    every = Params.model_fields["graph_heavy_every"].default
    per_bio_s = (light + (heavy - light) / every) / period_s
    print(f"graph metrics       {light:.2f} s per record, {heavy:.2f} s with clustering and modularity (1 in {every});"
          f" at graph_period_ms = {period_s * 1000:.0f} ms that is {100 * per_bio_s / (p / bio_s):.0f} % of the run"
          " time (target <= 10 %; warm starts make later ones cheaper: benchmarks/bench_graph.py)")  # fmt: skip


if __name__ == "__main__":
    main()
