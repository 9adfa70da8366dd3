"""Graph metrics (networkx vs igraph vs direct counts) and exports that round-trip."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pandas as pd
import pytest

from neuroabm import NeuroModel
from neuroabm.analysis.graph_metrics import (
    average_clustering,
    graph_metrics,
    louvain,
    modularity,
    sampled_clustering,
)
from neuroabm.config.params import ConfigError
from neuroabm.exports.graph import graph_tables, write_graph

RNG = np.random.default_rng(3)


def random_edges(n: int, m: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return RNG.integers(0, n, m), RNG.integers(0, n, m), RNG.normal(0.3, 0.5, m)


def planted(n_groups: int = 4, size: int = 40, p_in: float = 0.3, p_out: float = 0.01):
    """A directed planted-partition graph: dense inside groups, sparse between them."""
    labels = np.repeat(np.arange(n_groups), size)
    same = labels[:, None] == labels[None, :]
    adj = RNG.random((labels.size, labels.size)) < np.where(same, p_in, p_out)
    np.fill_diagonal(adj, False)
    src, tgt = np.nonzero(adj)
    return src, tgt, np.ones(src.size), labels


@pytest.mark.parametrize(("n", "m"), [(50, 300), (200, 3000)])
def test_clustering_equals_networkx_directed_graph_made_undirected(n, m):
    src, tgt, _ = random_edges(n, m)
    g = nx.DiGraph(zip(src.tolist(), tgt.tolist(), strict=True))
    g.add_nodes_from(range(n))
    g.remove_edges_from(nx.selfloop_edges(g))
    reference = nx.average_clustering(g.to_undirected())
    assert average_clustering(src, tgt, n, backend="networkx") == pytest.approx(reference, rel=1e-12)
    assert average_clustering(src, tgt, n, backend="igraph") == pytest.approx(reference, rel=1e-12)
    assert average_clustering(src, tgt, n, backend="numba") == pytest.approx(reference, rel=1e-12)
    assert sampled_clustering(src, tgt, n, n_sample=0) == (pytest.approx(reference, rel=1e-12), 0.0)


def test_modularity_of_a_partition_agrees_between_backends():
    src, tgt, w = random_edges(120, 2000)
    labels = RNG.integers(0, 6, 120)
    a = modularity(src, tgt, w, 120, labels, backend="networkx")
    for backend in ("igraph", "numba"):  # the same sum, in another order: float rounding only
        assert modularity(src, tgt, w, 120, labels, backend=backend) == pytest.approx(a, rel=1e-9, abs=1e-12)


def test_louvain_finds_planted_groups_with_both_backends():
    src, tgt, w, labels = planted()
    truth = modularity(src, tgt, w, labels.size, labels, backend="networkx")
    for backend in ("networkx", "igraph", "numba"):
        found, q = louvain(src, tgt, w, labels.size, seed=1, backend=backend)
        assert q == pytest.approx(truth, rel=0.05)  # the planted partition is (near) optimal
        # every planted group ends up (almost) in one community
        purity = np.mean([np.bincount(found[labels == g]).max() / 40 for g in range(4)])
        assert purity > 0.95


def test_numba_louvain_reports_its_partitions_modularity_and_matches_networkx_quality():
    n, m = 300, 3000
    src, tgt, w = random_edges(n, m)
    q_nx, q_nb = [], []
    for seed in range(5):
        labels, q = louvain(src, tgt, w, n, seed=seed, backend="numba")
        # the reported value is the exact modularity of the returned partition (reference: networkx)
        assert q == pytest.approx(modularity(src, tgt, w, n, labels, backend="networkx"), rel=1e-9)
        q_nb.append(q)
        q_nx.append(louvain(src, tgt, w, n, seed=seed, backend="networkx")[1])
    # Louvain on a graph without planted structure stops in one of many near-equal local optima:
    # across visiting orders the modularity spreads by ~1-3 % here, so the medians agree within 5 %
    assert np.median(q_nb) == pytest.approx(np.median(q_nx), rel=0.05)


def test_warm_start_never_loses_modularity_and_matches_cold_start_after_a_small_change():
    src, tgt, w, truth = planted(n_groups=5, size=40, p_in=0.25, p_out=0.02)
    n = truth.size
    labels, _ = louvain(src, tgt, w, n, seed=0)
    # local moving only accepts gains: from any start, the result is at least as modular
    start = RNG.integers(0, 7, n)
    assert louvain(src, tgt, w, n, seed=0, initial=start)[1] >= modularity(src, tgt, w, n, start) - 1e-12
    # the graph drifts slowly: 2 % of the edges rewired, as between two records
    moved = RNG.random(src.size) < 0.02
    tgt2 = np.where(moved, RNG.integers(0, n, src.size), tgt)
    q_warm = louvain(src, tgt2, w, n, seed=1, initial=labels)[1]
    q_cold = louvain(src, tgt2, w, n, seed=1)[1]
    # both recover the planted groups, whose modularity is within ~1 % of the optimum for this
    # contrast; 2 % allows the few boundary nodes Louvain places differently
    assert q_warm == pytest.approx(q_cold, rel=0.02)
    assert q_warm == pytest.approx(modularity(src, tgt2, w, n, truth), rel=0.02)


def test_sampled_clustering_is_unbiased_with_a_calibrated_standard_error():
    # 20 groups of 20 nodes, dense inside with densities 0.1 ... 0.7: local clustering ~ the group's
    # density, so the sample mean has a real spread to estimate (own generator: order-independent)
    rng = np.random.default_rng(11)
    dens = np.repeat(np.linspace(0.1, 0.7, 20), 20)
    adj = rng.random((400, 400)) < np.where(dens[:, None] == dens[None, :], dens, 0.005)
    np.fill_diagonal(adj, False)
    src, tgt = np.nonzero(adj)
    exact = average_clustering(src, tgt, 400)
    assert sampled_clustering(src, tgt, 400, 400)[1] == 0.0  # the whole population: exact
    est, se = np.array([sampled_clustering(src, tgt, 400, 40, seed=s) for s in range(60)]).T
    # 60 independent samples of 40 nodes: their mean is within 4 of its standard errors of the exact
    # value (no bias); their spread matches the reported error up to the ~10 % sampling error of a
    # 60-sample standard deviation (0.3 = 3 of those); +-2 reported errors cover ~95 % (t, 39 dof),
    # and 85 % is 3.5 binomial standard deviations (0.028) below that
    assert abs(est.mean() - exact) < 4 * est.std(ddof=1) / np.sqrt(est.size)
    assert np.std(est) / np.mean(se) == pytest.approx(1.0, abs=0.3)
    assert np.mean(np.abs(est - exact) < 2 * se) >= 0.85
    # a seed fixes the neurons: the same estimate every time
    assert sampled_clustering(src, tgt, 400, 40, seed=5) == sampled_clustering(src, tgt, 400, 40, seed=5)


def test_bad_graph_arguments_name_the_parameter():
    src, tgt, w = random_edges(20, 50)
    with pytest.raises(ValueError, match="n_sample"):
        sampled_clustering(src, tgt, 20, -1)
    with pytest.raises(ValueError, match="backend"):
        louvain(src, tgt, w, 20, backend="leiden")
    with pytest.raises(ValueError, match="initial"):
        louvain(src, tgt, w, 20, backend="igraph", initial=np.zeros(20, int))
    with pytest.raises(ValueError, match=r"\[0, 9\]"):
        average_clustering(src, tgt, 10)
    with pytest.raises(ConfigError, match="graph_heavy_every"):
        NeuroModel(graph_heavy_every=0)


def test_graph_metrics_count_degrees_weights_and_lengths():
    xy = np.array([[0.05, 0.5], [0.95, 0.5], [0.5, 0.5], [0.5, 0.1]])
    src, tgt = np.array([0, 0, 1, 2]), np.array([1, 2, 2, 3])
    w = np.array([1.0, 2.0, -1.0, 0.5])
    da = np.array([0.0, 1.0, 3.0, 0.5])
    got = graph_metrics(src, tgt, w, xy, 1.0, da)
    assert (
        got["n_edges"] == 4
        and got["in_degree_mean"] == 1.0
        and got["out_degree_std"] == pytest.approx(np.std([2, 1, 1, 0]))
    )
    assert got["weight_total_mv"] == 2.5
    lengths = [0.1, 0.45, 0.45, 0.4]  # 0 -> 1 crosses the seam
    assert got["length_mean_mm"] == pytest.approx(np.mean(lengths), rel=1e-12)
    strength = np.array([0.0, 1.0, 2.0, 0.5])  # positive weights in
    assert got["da_in_strength_corr"] == pytest.approx(np.corrcoef(da, strength)[0, 1], rel=1e-12)


@pytest.fixture(scope="module")
def plastic_model() -> NeuroModel:
    return NeuroModel(
        n_exc=160, n_inh=40, k_exc=16, k_inh=4, j_mv=1.0, eta=1.5, duration_ms=200.0, seed=2, dopamine=True,
        n_sites=4, kappa_mm2_per_ms=0.01, release_tonic=1e-3, plasticity=True, eta_da=5e-3, field_record_ms=0,
        graph_period_ms=100,
    ).run()  # fmt: skip


def test_to_networkx_carries_positions_kinds_dopamine_and_summed_weights(plastic_model):
    m = plastic_model
    g = m.to_networkx()
    w = m.synapse_weights()
    src, tgt = m.synapses.sources(), m.synapses.targets.astype(int)
    assert g.number_of_nodes() == m.n_neurons
    assert g.number_of_edges() == len(set(zip(src.tolist(), tgt.tolist(), strict=True)))
    total = pd.Series(w.astype(float)).groupby([src, tgt]).sum()
    for (s, t), value in total.sample(50, random_state=0).items():
        assert g.edges[s, t]["weight"] == pytest.approx(value, rel=1e-6)
    node = g.nodes[7]
    assert node["kind"] == "E" and node["x_mm"] == m.positions[7, 0] and node["dopamine_um"] == m.da_local[7]
    assert [r["t_ms"] for r in m.graph_recorder.rows] == [0.0, 100.0, 200.0]  # the start, every period


def test_structural_measures_on_the_first_and_every_nth_record_reproducibly():
    cfg = dict(
        n_exc=160, n_inh=40, k_exc=16, k_inh=4, j_mv=1.0, eta=1.5, duration_ms=200.0, seed=4, dopamine=True,
        n_sites=4, release_tonic=1e-3, plasticity=True, eta_da=5e-3, field_record_ms=0, graph_period_ms=50,
        graph_heavy_every=2, graph_clustering_sample=50,
    )  # fmt: skip
    m = NeuroModel(**cfg).run()
    df = m.graph_recorder.frame()
    assert df["t_ms"].tolist() == [0.0, 50.0, 100.0, 150.0, 200.0]  # the start, then every period
    heavy = df["modularity"].notna().to_numpy()
    assert heavy.tolist() == [True, False, True, False, True] and df["n_edges"].notna().all()
    # the last row is the graph now: sampled clustering of the seeded 50 neurons, and the
    # modularity of the kept partition (exact equalities: the same arrays, the same kernels)
    src, tgt, w = m.synapses.edges(m.synapse_weights())
    last = df.iloc[-1]
    assert (last["clustering"], last["clustering_se"]) == sampled_clustering(src, tgt, m.n_neurons, 50, seed=4)
    assert last["modularity"] == pytest.approx(modularity(src, tgt, w, m.n_neurons, m.graph_recorder.partition))
    again = NeuroModel(**cfg).run().graph_recorder.frame()
    pd.testing.assert_frame_equal(df, again)  # warm starts and samples depend on the seed only


@pytest.mark.parametrize("fmt", ["graphml", "gexf"])
def test_graph_files_round_trip(plastic_model, tmp_path, fmt):
    m = plastic_model
    nodes, edges = graph_tables(m)
    (path,) = write_graph(nodes, edges, tmp_path / f"g.{fmt}", fmt)
    g = nx.read_graphml(path) if fmt == "graphml" else nx.read_gexf(path)
    ref = m.to_networkx()
    text = path.read_text()
    assert 'attr.name="type"' not in text and 'title="type"' not in text  # no attribute named type
    assert g.number_of_nodes() == ref.number_of_nodes() and g.number_of_edges() == ref.number_of_edges()
    for n, data in list(ref.nodes(data=True))[:20]:
        got = g.nodes[str(n)]
        assert got["kind"] == data["kind"] and float(got["x_mm"]) == pytest.approx(data["x_mm"], rel=1e-12)
        if fmt == "gexf":
            assert got["viz"]["position"]["x"] == pytest.approx(data["x_mm"], rel=1e-6)
    for s, t, data in list(ref.edges(data=True))[:50]:
        assert float(g.edges[str(s), str(t)]["weight"]) == pytest.approx(data["weight"], rel=1e-6)


def test_parquet_snapshot_equals_the_model_arrays(plastic_model, tmp_path):
    m = plastic_model
    nodes, edges = graph_tables(m)
    paths = write_graph(nodes, edges, tmp_path / "snap", "parquet")
    n2, e2 = (pd.read_parquet(p) for p in paths)
    np.testing.assert_array_equal(e2["weight"].to_numpy(), m.synapse_weights())
    np.testing.assert_array_equal(e2["target"].to_numpy(), m.synapses.targets.astype(np.int32))
    np.testing.assert_array_equal(n2["dopamine_um"].to_numpy(), m.da_local)
