"""Parameter groups of the graph and criticality recorders."""

from __future__ import annotations

from typing import TYPE_CHECKING

from neuroabm.config.groups.base import CRITICALITY_MR_LAGS, CRITICALITY_MR_TRIALS, Fail, ParamGroup, _p, is_multiple

if TYPE_CHECKING:
    from neuroabm.config.params import Params


class GraphParams(ParamGroup):
    """[graph] The synaptic graph tracked over time and exported."""

    graph_period_ms: int = _p(
        1000, "graph", "interval of graph metrics (graph_metrics.parquet) [ms]; 0 = start and end only", ge=0
    )
    graph_heavy_every: int = _p(
        20,
        "graph",
        "clustering and modularity on the first graph record and every n-th after it (NaN in between; "
        "static runs: never, neuroabm analyze computes them from the snapshot)",
        ge=1,
        le=10**9,
    )
    graph_clustering_sample: int = _p(
        1000, "graph", "neurons sampled (seeded, fixed) for the average clustering; 0 = all (exact)", ge=0
    )
    graph_warm_start: bool = _p(
        True, "graph", "Louvain starts from the previous record's partition (false: from singletons each time)"
    )
    snapshot_period_ms: int = _p(
        0, "graph", "interval of graph snapshots (snapshots/*.parquet) [ms]; 0 = the final one only", ge=0
    )


class CriticalityParams(ParamGroup):
    """[criticality] Avalanches and branching ratio of each window (docs/REFERENCES.md §6)."""

    criticality_period_ms: int = _p(
        0, "criticality", "window and interval of the avalanche/branching analysis [ms]; 0 = off", ge=0, le=10**9
    )
    criticality_bin_ms: float = _p(
        0.0,
        "criticality",
        "avalanche bin [ms], a multiple of dt_ms; 0 = the window's mean inter-event interval on the dt grid",
        ge=0.0,
        le=1e6,
    )
    criticality_mr_bin_ms: float = _p(
        2.0, "criticality", "bin of the branching-ratio estimates [ms], a multiple of dt_ms", gt=0.0, le=1e6
    )
    criticality_neurons: int = _p(
        0, "criticality", "analyse a fixed random set of this many neurons (like electrodes); 0 = all", ge=0
    )

    @classmethod
    def check(cls, p: Params, fail: Fail) -> None:
        """Bins on the step grid and windows long enough for the multistep regression."""
        if not is_multiple(p.criticality_bin_ms, p.dt_ms):
            fail("criticality_bin_ms", p.criticality_bin_ms, f"0 or a whole multiple of dt_ms = {p.dt_ms:g} ms")
        if not is_multiple(p.criticality_mr_bin_ms, p.dt_ms):
            fail("criticality_mr_bin_ms", p.criticality_mr_bin_ms, f"a whole multiple of dt_ms = {p.dt_ms:g} ms")
        if p.criticality_neurons > p.n_exc + p.n_inh:
            fail("criticality_neurons", p.criticality_neurons, f"0 (all) .. n_exc + n_inh = {p.n_exc + p.n_inh}")
        mr_window = 2 * CRITICALITY_MR_LAGS * CRITICALITY_MR_TRIALS * p.criticality_mr_bin_ms
        if 0 < p.criticality_period_ms <= mr_window:
            fail(
                "criticality_period_ms",
                p.criticality_period_ms,
                f"0 (off) or > {mr_window:g} ms ({CRITICALITY_MR_TRIALS} pieces of > 2 x {CRITICALITY_MR_LAGS} "
                "lags of criticality_mr_bin_ms for the multistep regression)",
            )
