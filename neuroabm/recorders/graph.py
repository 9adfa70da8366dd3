"""Tracking the synaptic graph: metrics every ``graph_period_ms``, snapshots every ``snapshot_period_ms``.

Both are Mesa events at priority LOW (after the neuron step and the field). Metrics rows are kept
in memory (one small row each) and written as ``graph_metrics.parquet``; snapshots are written as
they are taken, into a folder the runner provides (``snapshots/t_<ms>ms_{nodes,edges}.parquet``).
"""

from __future__ import annotations

import time
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from mesa.time import Priority, Schedule

from neuroabm.analysis.graph_metrics import graph_metrics
from neuroabm.exports.graph import graph_tables, write_graph

if TYPE_CHECKING:
    from neuroabm.model.model import NeuroModel


#: bins of the weight histograms kept for the report
WEIGHT_BINS = 60
#: above this many synapses, one record of graph metrics takes seconds to minutes (warned at build)
LARGE_GRAPH_EDGES = 2_000_000


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
        #: histogram of the plastic weights at the start, over [0, w_max_mv] in WEIGHT_BINS bins
        self.initial_weight_counts = self.weight_counts()
        if p.graph_period_ms > 0:
            every = float(p.graph_period_ms)
            model.schedule_recurring(self.record, Schedule(interval=every, start=every), Priority.LOW)
            n_syn = model.synapses.n_synapses
            if n_syn > LARGE_GRAPH_EDGES:
                warnings.warn(
                    f"graph metrics on {n_syn:,} synapses take tens of seconds each (community detection); "
                    f"graph_period_ms = {p.graph_period_ms} ms; consider a longer period or 0",
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
        row = {"t_ms": float(m.time)}
        row.update(
            graph_metrics(src, tgt, weights, m.positions, m.params.side_mm, m.da_local, seed=int(m.params.seed or 0))
        )
        self.rows.append(row)
        self.wall_s += time.perf_counter() - t0

    def snapshot(self) -> list[Path]:
        """Write the graph now as Parquet node and edge tables (if the runner gave a folder)."""
        if self.snapshot_dir is None:
            return []
        nodes, edges = graph_tables(self.model)
        return write_graph(nodes, edges, snapshot_stem(self.snapshot_dir, float(self.model.time)), "parquet")

    def frame(self) -> pd.DataFrame:
        """The metrics rows as a table."""
        return pd.DataFrame(self.rows)
