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

Every run (issue 13), plastic or not, has a row at t = 0 (built with the model), one every
``graph_period_ms`` (0: none between), and one at ``duration_ms``; the runner writes the initial
and the final snapshot. Beside the graph measures each row holds the spatial columns of
:mod:`neuroabm.recorders.structure_row` (alignment with the release sites, rates per catchment).
Without plasticity the synapses cannot change: the first row's structural columns are computed
once and copied into every later row (only the dopamine correlations and the rates are
recomputed, O(n)), and its snapshots hold node tables only (the edge table is what its
``config.toml`` builds; :mod:`neuroabm.exports.snapshots` rebuilds it when read), so a static run
pays one O(E) record (benchmarks/bench_structure.py). The structural measures of :data:`HEAVY_COLUMNS` (clustering,
Louvain modularity and the spatial columns that need the partition: 0.26 s more there) are left
NaN in a static run's rows and computed on demand from its snapshot by ``neuroabm analyze``
(``analysis.json["structure"]``, :func:`neuroabm.analysis.snapshot_structure.snapshot_structure`),
with the same seeds, so a static sweep never pays for them. Static networks above :data:`STATIC_MAX_SYNAPSES`
are not tracked at all (``model.graph_recorder`` is None): their edge list alone would take
~12 bytes per synapse.
"""

from __future__ import annotations

import time
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from mesa.time import Priority, Schedule

from neuroabm.analysis.graph_metrics import basic_metrics
from neuroabm.analysis.spatial_metrics import catchment_labels, nearest_site_distance, strengths
from neuroabm.exports.atomic import write_text_atomic
from neuroabm.exports.graph import graph_tables, write_graph
from neuroabm.exports.snapshots import STATIC_EDGES
from neuroabm.exports.tables import write_parquet
from neuroabm.model.memory import STATIC_MAX_SYNAPSES
from neuroabm.model.subsystem import Subsystem
from neuroabm.recorders.structure_row import (
    DYNAMIC_COLUMNS,
    HEAVY_SPATIAL_COLUMNS,
    rate_columns,
    strength_columns,
    structural_columns,
)

if TYPE_CHECKING:
    from neuroabm.model.model import NeuroModel


#: bins of the weight histograms kept for the report
WEIGHT_BINS = 60
#: above this many synapses, one record of clustering and modularity takes seconds (warned at build)
LARGE_GRAPH_EDGES = 2_000_000
#: excitatory edges kept from the start for the report's edge drawing
EDGES_SAMPLED = 300
#: the columns of the structural measures, NaN on the records between two of them
HEAVY_COLUMNS = ("clustering", "clustering_se", "modularity", "n_communities", *HEAVY_SPATIAL_COLUMNS)


def tracks_graph(plasticity: bool, n_synapses: float) -> bool:
    """Whether a run keeps graph records and snapshots: plastic runs always, static ones up to the cap."""
    return plasticity or n_synapses <= STATIC_MAX_SYNAPSES


def snapshot_stem(folder: Path, t_ms: float) -> Path:
    """Path stem of the snapshot taken at ``t_ms``."""
    return folder / f"t_{t_ms:012.0f}ms"


class GraphRecorder(Subsystem):
    """Graph metrics and snapshots of a model over time."""

    name = "graph"
    #: the snapshot folder is given again when a run resumes (:meth:`reopen`)
    checkpoint_exclude = ("snapshot_dir",)

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
        #: synapses cannot change: structural columns computed once (see the module docstring)
        self.static = not p.plasticity
        self._static_row: dict[str, float] | None = None
        self._static_strengths: tuple[np.ndarray, np.ndarray] | None = None
        sites = model.dopamine.sites if model.dopamine is not None and p.n_sites else None
        #: nearest release site of every neuron (None without sites)
        self.catchments = catchment_labels(model.positions, sites.xy_mm, p.side_mm) if sites is not None else None
        self.site_distance_mm = (
            nearest_site_distance(model.positions, sites.xy_mm, p.side_mm) if sites is not None else None
        )
        #: the partition of the first structural record (the start of the community map)
        self.initial_partition: np.ndarray | None = None
        #: in- and out-degree of every neuron, and a seeded sample of excitatory edges, at the start
        self.initial_degrees: tuple[np.ndarray, np.ndarray] | None = None
        self.initial_edge_sample: tuple[np.ndarray, np.ndarray] = (np.empty(0, np.int64), np.empty(0, np.int64))
        self._counts_before = model.spike_count.copy()
        self._t_before = float(model.time)
        self.record()  # the start
        end = float(p.duration_ms)
        if p.graph_period_ms == 0 or end % p.graph_period_ms:
            model.schedule_event(self.record, at=end, priority=Priority.LOW)
        if p.graph_period_ms > 0:
            every = float(p.graph_period_ms)
            model.schedule_recurring(self.record, Schedule(interval=every, start=every), Priority.LOW)
            n_syn = model.synapses.n_synapses
            if n_syn > LARGE_GRAPH_EDGES and not self.static:  # a static run never computes them
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

    def prepare(self, folder: Path) -> None:
        """Snapshots go into ``folder/snapshots``; the initial one is written now."""
        self.snapshot_dir = folder / "snapshots"
        self.snapshot_dir.mkdir(exist_ok=True)
        self.snapshot()

    def reopen(self, folder: Path) -> None:
        """Snapshots go into ``folder/snapshots`` again (a resumed run: the earlier ones are there)."""
        self.snapshot_dir = folder / "snapshots"

    def write(self, folder: Path) -> list[Path]:
        """``graph_metrics.parquet`` and the final snapshot (rewritten if a periodic one fell on it)."""
        write_parquet(self.frame(), folder / "graph_metrics.parquet")
        return [folder / "graph_metrics.parquet", *self.snapshot()]

    def weight_counts(self) -> np.ndarray:
        """Histogram of the plastic (excitatory) weights now, over [0, w_max_mv]."""
        m = self.model
        src, _, w = m.synapses.edges(m.synapse_weights())
        w = w[src < m.n_exc]
        return np.histogram(w, bins=WEIGHT_BINS, range=(0.0, m.params.w_max_mv))[0]

    def record(self) -> None:
        """Append one row: graph measures, spatial columns, rates (see the module docstring)."""
        t0 = time.perf_counter()
        m = self.model
        t_ms = float(m.time)
        if self.rows and self.rows[-1]["t_ms"] == t_ms:  # the end fell on a periodic record
            return
        if self._static_row is not None:
            row = {**self._static_row, "t_ms": t_ms}
            s_in, s_out = self._static_strengths
            row.update(strength_columns(s_in, s_out, m.da_local, self.site_distance_mm))
        else:
            row = self._structure_row(t_ms)
        row.update(rate_columns(m.spike_count, self._counts_before, t_ms - self._t_before, self.catchments))
        self._counts_before = m.spike_count.copy()
        self._t_before = t_ms
        self.rows.append(row)
        self.record_wall_s.append(time.perf_counter() - t0)
        self.wall_s += self.record_wall_s[-1]

    def _structure_row(self, t_ms: float) -> dict[str, float]:
        m, p = self.model, self.model.params
        src, tgt, weights = m.synapses.edges(m.synapse_weights())
        row: dict[str, float] = {"t_ms": t_ms}
        row.update(basic_metrics(src, tgt, weights, m.positions, p.side_mm, m.da_local))
        s_in, s_out = strengths(src, tgt, weights, m.n_neurons)
        if self.initial_degrees is None:
            self._keep_start(src, tgt)
        row.update(strength_columns(s_in, s_out, m.da_local, self.site_distance_mm))
        if not self.static and len(self.rows) % p.graph_heavy_every == 0:
            heavy, self.partition = structural_columns(
                src, tgt, weights, m.n_exc, m.positions, p.side_mm, self.catchments, int(p.seed or 0),
                clustering_sample=p.graph_clustering_sample, initial=self.partition if p.graph_warm_start else None,
            )  # fmt: skip
            if self.initial_partition is None:
                self.initial_partition = self.partition.copy()
            row.update(heavy)
        else:
            row.update(dict.fromkeys(HEAVY_COLUMNS, float("nan")))
        if self.static:
            self._static_row = {k: v for k, v in row.items() if k not in DYNAMIC_COLUMNS}
            self._static_strengths = (s_in, s_out)
        return row

    def _keep_start(self, src: np.ndarray, tgt: np.ndarray) -> None:
        n = self.model.n_neurons
        self.initial_degrees = (np.bincount(tgt, minlength=n), np.bincount(src, minlength=n))
        exc = np.flatnonzero(src < self.model.n_exc)
        pick = np.random.default_rng(int(self.model.params.seed or 0)).choice(exc, min(EDGES_SAMPLED, exc.size), False)
        self.initial_edge_sample = (src[pick].astype(np.int64), tgt[pick].astype(np.int64))

    def snapshot(self) -> list[Path]:
        """Write the graph now as Parquet node and edge tables (if the runner gave a folder).

        A static run writes the node table (its dopamine changes) and a marker for the edge table,
        which :func:`neuroabm.exports.snapshots.read_snapshot` rebuilds from ``config.toml``.
        """
        if self.snapshot_dir is None:
            return []
        stem = snapshot_stem(self.snapshot_dir, float(self.model.time))
        if not self.static:
            return write_graph(*graph_tables(self.model), stem, "parquet")
        nodes, _ = graph_tables(self.model, in_strength=self._static_strengths[0])
        marker = stem.with_name(stem.name + STATIC_EDGES)
        write_text_atomic(marker, "static run: the edge table is the network config.toml builds (read_snapshot)\n")
        return [*write_graph(nodes, None, stem, "parquet"), marker]

    def frame(self) -> pd.DataFrame:
        """The metrics rows as a table."""
        return pd.DataFrame(self.rows)
