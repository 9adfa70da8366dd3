"""Cost of graph metrics on plastic Brunel-10k (runs/brunel_ai.toml with STDP, field and sites).

For an in-degree of 1000 (10^7 synapses, the benchmark network) or 100 (10^6), prints the median
time of each part of a record, the cost per biological second at the default ``graph_period_ms``,
``graph_heavy_every``, ``graph_clustering_sample`` and ``graph_warm_start``, and its share of the
run time (target <= 10 %), measured two ways: from the parts, and end to end as the recorder's own
wall time over a run with the defaults.

Usage: python benchmarks/bench_graph.py [--in-degree 1000] [--repeats 3] [--duration 20000]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from neuroabm import NeuroModel, load_config
from neuroabm.analysis.graph_metrics import average_clustering, basic_metrics, louvain, sampled_clustering
from neuroabm.config.params import Params

ROOT = Path(__file__).parents[1]
DEFAULTS = {name: Params.model_fields[name].default for name in Params.model_fields if name.startswith("graph_")}


def median_time(fn: Callable[[], object], repeats: int) -> tuple[float, object]:
    """Median wall time of ``fn()`` over ``repeats`` calls [s], and the last result."""
    times, out = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def plastic_params(in_degree: int, duration_ms: float, graph_period_ms: int) -> dict:
    base = {**load_config(ROOT / "runs" / "brunel_ai.toml"), "duration_ms": duration_ms}
    return {
        **base, "k_exc": in_degree * 4 // 5, "k_inh": in_degree // 5, "dopamine": True, "grid_n": 128, "n_sites": 64,
        "site_radius_mm": 0.07, "release_tonic": 1e-6, "field_record_ms": 0, "plasticity": True, "eta_da": 1e-4,
        "w_max_mv": 0.4, "graph_period_ms": graph_period_ms,
    }  # fmt: skip


def run(model: NeuroModel, until_ms: float) -> float:
    t0 = time.perf_counter()
    while model.running and model.time < until_ms:
        model.step()
    return time.perf_counter() - t0


def parts(in_degree: int, repeats: int) -> dict[str, float]:
    """Median cost of each part of a record [s] on a model run for 1 s, then for one heavy spacing more."""
    period = DEFAULTS["graph_period_ms"]
    spacing = period * DEFAULTS["graph_heavy_every"]
    model = NeuroModel(**plastic_params(in_degree, 1000.0 + spacing, 0))
    wall = run(model, 1000.0)
    out = {"run_s_per_bio_s": wall}
    m, n, sample = model, model.n_neurons, DEFAULTS["graph_clustering_sample"]
    out["edges"], (src, tgt, w) = median_time(lambda: m.synapses.edges(m.synapse_weights()), repeats)
    out["basic"], _ = median_time(lambda: basic_metrics(src, tgt, w, m.positions, 1.0, m.da_local), repeats)
    out["clustering_sampled"], (c_est, c_se) = median_time(lambda: sampled_clustering(src, tgt, n, sample), repeats)
    out["clustering_exact"], c_exact = median_time(lambda: average_clustering(src, tgt, n), repeats)
    out["louvain_cold"], (labels, q_cold) = median_time(lambda: louvain(src, tgt, w, n), repeats)
    print(f"  clustering exact {c_exact:.5f}, sampled ({sample} neurons) {c_est:.5f} +- {c_se:.5f}")
    wall = run(model, 1000.0 + spacing)
    out["run_s_per_bio_s"] = (out["run_s_per_bio_s"] + wall) / (1.0 + spacing / 1000.0)
    src, tgt, w = m.synapses.edges(m.synapse_weights())
    out["louvain_warm"], (_, q_warm) = median_time(lambda: louvain(src, tgt, w, n, initial=labels), repeats)
    out["louvain_cold_later"], (_, q_later) = median_time(lambda: louvain(src, tgt, w, n), repeats)
    print(f"  modularity cold {q_cold:.5f}; {spacing:g} ms later: warm {q_warm:.5f}, cold {q_later:.5f}")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--in-degree", type=int, default=1000, help="synapses per neuron (10^4 neurons)")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--duration", type=float, default=20000.0, help="end-to-end run with the defaults [ms]; 0 = skip")
    args = ap.parse_args()
    print(f"defaults: {DEFAULTS}")
    small = {"n_exc": 80, "n_inh": 20, "k_exc": 8, "k_inh": 2, "duration_ms": 30.0, "graph_period_ms": 10}
    NeuroModel(**{**plastic_params(10, 30.0, 10), **small}).run()  # compile outside the measurement
    t = parts(args.in_degree, args.repeats)
    for name, value in t.items():
        print(f"  {name:20s} {value:8.3f} s")
    period_s = DEFAULTS["graph_period_ms"] / 1000.0
    every = DEFAULTS["graph_heavy_every"]
    louvain_s = t["louvain_warm"] if DEFAULTS["graph_warm_start"] else t["louvain_cold"]
    light = t["edges"] + t["basic"]
    heavy = t["clustering_sampled"] + louvain_s
    per_bio_s = (light + heavy / every) / period_s
    print(
        f"per record: {light:.2f} s every {period_s:g} s, + {heavy:.2f} s every {every * period_s:g} s of biology "
        f"= {per_bio_s:.3f} s per biological s = {100 * per_bio_s / t['run_s_per_bio_s']:.1f} % of the run "
        f"({t['run_s_per_bio_s']:.2f} s per biological s without graph metrics)"
    )
    if args.duration > 0:
        model = NeuroModel(**plastic_params(args.in_degree, args.duration, DEFAULTS["graph_period_ms"]))
        wall = run(model, args.duration)
        rec = model.graph_recorder
        print(
            f"end to end, {args.duration:g} ms with the defaults: {len(rec.rows)} records, {rec.wall_s:.1f} s of "
            f"{wall:.1f} s in graph metrics = {100 * rec.wall_s / wall:.1f} % of the run (target <= 10 %)"
        )
        print("  per record [s]: " + " ".join(f"{x:.2f}" for x in rec.record_wall_s))


if __name__ == "__main__":
    main()
