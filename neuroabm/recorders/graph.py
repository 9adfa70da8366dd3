"""Tracking the synaptic graph: metrics every ``graph_period_ms``, snapshots every ``snapshot_period_ms``.

Both are Mesa events at priority LOW (after the neuron step and the field). Metrics rows are kept
in memory (one small row each) and written as ``graph_metrics.parquet``; snapshots are written as
they are taken, into a folder the runner provides (``snapshots/t_<ms>ms_{nodes,edges}.parquet``).

Cost (issue 4: graph metrics <= 10 % of the run time at the default period). Degrees, weights,
lengths and the dopamine correlation are one O(E) pass (~0.1 s at 10^7 synapses, plus reading the
up-to-date weights) and go into every row. Clustering and Louvain modularity cost ~1-3 s at 10^7
synapses, so they are computed on the first record and then on every ``graph_heavy_every``-th
(NaN in the rows between; the choice depends only on the record's index, never on wall time, so a
run is reproducible from its seed). Weights drift on the time scale of ``1 / eta_da`` and
structure changes at ``growth_hz`` (~0.5 new synapses per neuron and second against in-degrees of
10^2-10^3, i.e. 1-10 % of the inputs in 20 s), so the default 20 s spacing of the structural
measures still resolves their change while the 1 s rows follow the weights. Clustering averages a
fixed seeded sample of ``graph_clustering_sample`` neurons (with its standard error), and Louvain
starts from the last partition (``graph_warm_start``), which the slow drift makes a good start.
A warm start can only keep or raise the modularity of the partition it starts from, so a
warm-started series tends to sit above a cold-started one (by ~1-2 % on near-random graphs, in
benchmarks/bench_graph.py by up to a third when the graph changed a lot); set
``graph_warm_start = false`` for values that do not depend on earlier records.
"""

from __future__ import annotations

import time
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from mesa.time import Priority, Schedule

from neuroabm.analysis.graph_metrics import basic_metrics, structure_metrics
from neuroabm.exports.graph import graph_tables, write_graph

if TYPE_CHECKING:
    from neuroabm.model.model import NeuroModel


#: bins of the weight histograms kept for the report
WEIGHT_BINS = 60
#: above this many synapses, one record of clustering and modularity takes seconds (warned at build)
LARGE_GRAPH_EDGES = 2_000_000
#: the columns of the structural measures, NaN on the records between two of them
HEAVY_COLUMNS = ("clustering", "clustering_se", "modularity", "n_communities")


def snapshot_stem(folder: Path, t_ms: float) -> Path:
    """Path stem of the snapshot taken at ``t_ms``."""
    return folder / f"t_{t_ms:012.0f}ms"


class GraphRecorder:
    """Graph metrics and snapshots of a model over time."""

    def __init__(self, model: NeuroModel) -> None:
        p = model.params
        self.model = model
        self.rows: list[dict[str, float]] = []
        self.snapshot_dir: Path | None = None
        self.wall_s = 0.0
        #: wall time of each metrics record [s] (for benchmarks; not part of the reproducible rows)
        self.record_wall_s: list[float] = []
        #: the Louvain partition of the last structural record (the next one's warm start)
        self.partition: np.ndarray | None = None
        #: histogram of the plastic weights at the start, over [0, w_max_mv] in WEIGHT_BINS bins
        self.initial_weight_counts = self.weight_counts()
        if p.graph_period_ms > 0:
            every = float(p.graph_period_ms)
            model.schedule_recurring(self.record, Schedule(interval=every, start=every), Priority.LOW)
            n_syn = model.synapses.n_synapses
            if n_syn > LARGE_GRAPH_EDGES:
                warnings.warn(
                    f"clustering and modularity on {n_syn:,} synapses take seconds each; they are computed on "
                    f"every graph_heavy_every = {p.graph_heavy_every}-th record of graph_period_ms = "
                    f"{p.graph_period_ms} ms; consider a longer period if the run is slow",
                    RuntimeWarning,
                    stacklevel=2,
                )
        if p.snapshot_period_ms > 0:
            every = float(p.snapshot_period_ms)
            model.schedule_recurring(self.snapshot, Schedule(interval=every, start=every), Priority.LOW)

    def weight_counts(self) -> np.ndarray:
        """Histogram of the plastic (excitatory) weights now, over [0, w_max_mv]."""
        m = self.model
        src, _, w = m.synapses.edges(m.synapse_weights())
        w = w[src < m.n_exc]
        return np.histogram(w, bins=WEIGHT_BINS, range=(0.0, m.params.w_max_mv))[0]

    def record(self) -> None:
        """Append one row of graph metrics (see :func:`neuroabm.analysis.graph_metrics.graph_metrics`)."""
        t0 = time.perf_counter()
        m = self.model
        src, tgt, weights = m.synapses.edges(m.synapse_weights())
        p = m.params
        row: dict[str, float] = {"t_ms": float(m.time)}
        row.update(basic_metrics(src, tgt, weights, m.positions, p.side_mm, m.da_local))
        if len(self.rows) % p.graph_heavy_every == 0:
            initial = self.partition if p.graph_warm_start else None
            seed = int(p.seed or 0)
            heavy, self.partition = structure_metrics(
                src, tgt, weights, m.n_neurons, seed, clustering_sample=p.graph_clustering_sample, initial=initial
            )
            row.update(heavy)
        else:
            row.update(dict.fromkeys(HEAVY_COLUMNS, float("nan")))
        self.rows.append(row)
        self.record_wall_s.append(time.perf_counter() - t0)
        self.wall_s += self.record_wall_s[-1]

    def snapshot(self) -> list[Path]:
        """Write the graph now as Parquet node and edge tables (if the runner gave a folder)."""
        if self.snapshot_dir is None:
            return []
        nodes, edges = graph_tables(self.model)
        return write_graph(nodes, edges, snapshot_stem(self.snapshot_dir, float(self.model.time)), "parquet")

    def frame(self) -> pd.DataFrame:
        """The metrics rows as a table."""
        return pd.DataFrame(self.rows)
