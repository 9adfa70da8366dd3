"""Streaming GraphML / GEXF exports: networkx reads back the graph to_networkx builds, written atomically."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pandas as pd
import pytest

from neuroabm import NeuroModel
from neuroabm.exports import graph_stream
from neuroabm.exports.graph import _write_graph_networkx, graph_tables, to_networkx, write_graph
from neuroabm.exports.graph_stream import merge_multapses, write_gexf_stream, write_graphml_stream

WRITERS = {"graphml": write_graphml_stream, "gexf": write_gexf_stream}


def random_tables(seed: int, n: int = 60, m: int = 400, kinds: tuple[str, str] = ("E", "I")):
    """Snapshot tables as a run writes them (int64 source, int32 target, float32 weight [mV]), in random
    row order, with many multapses (sources and targets drawn from the first 20 neurons), self-loops and
    isolated neurons (the last 40 have no synapse)."""
    rng = np.random.default_rng(seed)
    nodes = pd.DataFrame(
        {
            "neuron": np.arange(n, dtype=np.int32),
            "x_mm": rng.random(n),
            "y_mm": rng.random(n),
            "kind": np.where(rng.random(n) < 0.8, *kinds),
            "dopamine_um": rng.exponential(1e-3, n),
            "in_strength_mv": rng.random(n),
        }
    )
    src = rng.integers(0, 20, m)
    tgt = rng.integers(0, 20, m)
    src[:5] = tgt[:5]  # at least five self-loops
    weight = np.where(rng.random(m) < 0.8, 0.1, -0.5) * rng.lognormal(0.0, 0.3, m)
    edges = pd.DataFrame({"source": src, "target": tgt.astype(np.int32), "weight": weight.astype(np.float32)})
    return nodes, edges


def read(path, fmt: str) -> nx.DiGraph:
    return nx.read_graphml(path, node_type=int) if fmt == "graphml" else nx.read_gexf(path, node_type=int)


def without_gexf_extras(g: nx.DiGraph) -> nx.DiGraph:
    """The graph without what GEXF adds: node ``label`` and ``viz``, edge ``id`` (checked, then dropped)."""
    for n, data in g.nodes(data=True):
        assert data.pop("label") == str(n)
        assert data.pop("viz") == {"position": {"x": data["x_mm"], "y": data["y_mm"], "z": 0.0}}
    for _, _, data in g.edges(data=True):
        data.pop("id")
    return g


def assert_same_graph(got: nx.DiGraph, ref: nx.DiGraph) -> None:
    """Same direction, nodes, edges and attributes; floats compared exactly (repr round-trips)."""
    assert got.is_directed() and not got.is_multigraph()
    assert dict(got.nodes(data=True)) == dict(ref.nodes(data=True))
    assert {(s, t): d for s, t, d in got.edges(data=True)} == {(s, t): d for s, t, d in ref.edges(data=True)}


@pytest.mark.parametrize("fmt", ["graphml", "gexf"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_streamed_file_reads_back_as_to_networkx(tmp_path, fmt, seed):
    nodes, edges = random_tables(seed)
    path = WRITERS[fmt](nodes, edges, tmp_path / f"g.{fmt}")
    ref = to_networkx(nodes, edges)
    assert any(d["n_synapses"] > 1 for _, _, d in ref.edges(data=True))  # multapses were merged
    assert nx.number_of_selfloops(ref) > 0 and nx.number_of_isolates(ref) >= 40
    assert {d["kind"] for _, d in ref.nodes(data=True)} == {"E", "I"}
    got = read(path, fmt)
    assert_same_graph(without_gexf_extras(got) if fmt == "gexf" else got, ref)


@pytest.mark.parametrize("fmt", ["graphml", "gexf"])
def test_streamed_file_reads_back_as_networkx_own_file(tmp_path, fmt):
    # the old path (to_networkx, then networkx's writer) is the reference, GEXF extras and graph data included
    nodes, edges = random_tables(3)
    got = read(WRITERS[fmt](nodes, edges, tmp_path / f"stream.{fmt}"), fmt)
    ref = read(_write_graph_networkx(nodes, edges, tmp_path / f"networkx.{fmt}", fmt), fmt)
    assert got.graph == ref.graph
    assert_same_graph(got, ref)


@pytest.mark.parametrize("fmt", ["graphml", "gexf"])
def test_model_snapshot_reads_back_as_the_models_graph(tmp_path, fmt):
    model = NeuroModel(n_exc=80, n_inh=20, k_exc=8, k_inh=2, seed=5)
    nodes, edges = graph_tables(model)
    (path,) = write_graph(nodes, edges, tmp_path / f"g.{fmt}", fmt)  # the path 'neuroabm export' takes
    got = read(path, fmt)
    assert_same_graph(without_gexf_extras(got) if fmt == "gexf" else got, model.to_networkx())


@pytest.mark.parametrize("fmt", ["graphml", "gexf"])
def test_strings_are_xml_escaped(tmp_path, fmt):
    kinds = ('E & "<exc>"', "I\t'inh'\r\n")
    nodes, edges = random_tables(4, kinds=kinds)
    got = read(WRITERS[fmt](nodes, edges, tmp_path / f"g.{fmt}"), fmt)
    assert {d["kind"] for _, d in got.nodes(data=True)} == set(kinds)
    nodes.loc[0, "kind"] = "E\x00"  # XML 1.0 cannot carry NUL at all
    with pytest.raises(ValueError, match="XML cannot carry"):
        WRITERS[fmt](nodes, edges, tmp_path / f"bad.{fmt}")
    assert not (tmp_path / f"bad.{fmt}").exists()


@pytest.mark.parametrize("fmt", ["graphml", "gexf"])
def test_graph_without_synapses_keeps_every_neuron(tmp_path, fmt):
    nodes, edges = random_tables(5)
    edges = edges.iloc[:0]
    got = read(WRITERS[fmt](nodes, edges, tmp_path / f"g.{fmt}"), fmt)
    assert got.number_of_edges() == 0
    assert_same_graph(without_gexf_extras(got) if fmt == "gexf" else got, to_networkx(nodes, edges))


@pytest.mark.parametrize("fmt", ["graphml", "gexf"])
def test_file_does_not_depend_on_the_block_size(tmp_path, fmt):
    nodes, edges = random_tables(6)
    whole = WRITERS[fmt](nodes, edges, tmp_path / f"whole.{fmt}", chunk_edges=10**6).read_bytes()
    blocks = WRITERS[fmt](nodes, edges, tmp_path / f"blocks.{fmt}", chunk_edges=7).read_bytes()
    assert blocks == whole  # GEXF edge ids keep counting across blocks


def test_merge_sums_multapses_like_a_pandas_group_by():
    _, edges = random_tables(7, m=5000)
    merged = merge_multapses(edges["source"].to_numpy(), edges["target"].to_numpy(), edges["weight"].to_numpy())
    groups = edges.astype({"weight": np.float64}).groupby(["source", "target"])
    ref = groups.agg(w=("weight", "sum"), c=("weight", "size"))
    np.testing.assert_array_equal(merged.source, ref.index.get_level_values(0))
    np.testing.assert_array_equal(merged.target, ref.index.get_level_values(1))
    np.testing.assert_array_equal(merged.n_synapses, ref["c"])
    np.testing.assert_allclose(merged.weight, ref["w"], rtol=1e-12)
    assert merged.n_synapses.sum() == len(edges)


@pytest.mark.parametrize("fmt", ["graphml", "gexf"])
def test_a_failed_write_leaves_no_file_and_keeps_the_old_one(tmp_path, fmt, monkeypatch):
    nodes, edges = random_tables(8)
    target = tmp_path / f"g.{fmt}"
    calls = []

    def fail_on_second_block(template, rows):
        calls.append(template)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        return (template % row for row in rows)

    monkeypatch.setattr(graph_stream, "_edge_lines", fail_on_second_block)
    with pytest.raises(OSError, match="No space left"):
        WRITERS[fmt](nodes, edges, target, chunk_edges=10)
    assert list(tmp_path.iterdir()) == []  # neither the file nor a temporary one
    target.write_text("old export")
    calls.clear()
    with pytest.raises(OSError, match="No space left"):
        WRITERS[fmt](nodes, edges, target, chunk_edges=10)
    assert target.read_text() == "old export" and list(tmp_path.iterdir()) == [target]


def test_edges_to_unknown_neurons_are_refused(tmp_path):
    nodes, edges = random_tables(9)
    with pytest.raises(ValueError, match="missing from the node table"):
        write_graphml_stream(nodes.iloc[:10], edges, tmp_path / "g.graphml")
    with pytest.raises(ValueError, match="twice"):
        write_gexf_stream(pd.concat([nodes, nodes.iloc[:1]]), edges, tmp_path / "g.gexf")
    assert list(tmp_path.iterdir()) == []
