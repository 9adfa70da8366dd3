"""The synaptic graph as tables, as a networkx DiGraph, and as GraphML / GEXF files.

The canonical snapshot is two Parquet tables: nodes (``neuron, x_mm, y_mm, kind, dopamine_um,
in_strength_mv``) and edges (``source, target, weight``, one row per synapse, weights in mV).
:func:`to_networkx` turns them into a ``networkx.DiGraph`` (multapses merged: their weights add,
``n_synapses`` counts them). GraphML and GEXF are streamed from the tables by
:mod:`neuroabm.exports.graph_stream` (no intermediate graph: ~0.1 of the memory, ~1/5 of the
time of networkx's writers) and read back with networkx as :func:`to_networkx`'s graph. Node
attributes are ``x_mm, y_mm, kind`` ('E'/'I') and ``dopamine_um``; the GEXF file also puts the
torus position in ``viz.position`` so Gephi draws the network in place. No attribute is named
``type`` (GEXF and several readers reserve it).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd

from neuroabm.exports.atomic import atomic_path
from neuroabm.exports.graph_stream import merge_multapses, write_gexf_stream, write_graphml_stream
from neuroabm.exports.tables import write_parquet

if TYPE_CHECKING:
    import networkx as nx

    from neuroabm.model.model import NeuroModel

Format = Literal["graphml", "gexf", "parquet"]
FORMATS: tuple[str, ...] = ("graphml", "gexf", "parquet")


def edge_table(model: NeuroModel) -> pd.DataFrame:
    """``source, target, weight`` [mV] of every synapse of the model now, in store order."""
    src, tgt, weights = model.synapses.edges(model.synapse_weights())
    return pd.DataFrame({"source": src, "target": tgt.astype(np.int32), "weight": weights.astype(np.float32)})


def graph_tables(model: NeuroModel, in_strength: np.ndarray | None = None) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """``(nodes, edges)`` of the model now (plastic weights brought up to date first).

    Given the neurons' ``in_strength`` [mV] (known when the synapses cannot have changed), only
    the node table is built and ``edges`` is None.
    """
    edges = None
    if in_strength is None:
        edges = edge_table(model)
        w = edges["weight"].to_numpy()
        in_strength = np.bincount(edges["target"].to_numpy(), weights=np.maximum(w, 0.0), minlength=model.n_neurons)
    pos = model.positions
    nodes = pd.DataFrame(
        {
            "neuron": np.arange(model.n_neurons, dtype=np.int32),
            "x_mm": pos[:, 0].copy(),
            "y_mm": pos[:, 1].copy(),
            "kind": np.where(model.is_exc, "E", "I"),
            "dopamine_um": model.da_local.copy(),
            "in_strength_mv": in_strength,
        }
    )
    return nodes, edges


def to_networkx(nodes: pd.DataFrame, edges: pd.DataFrame) -> nx.DiGraph:
    """A DiGraph with the node attributes and summed edge weights [mV] (``n_synapses`` per edge).

    Multapses are merged by :func:`~neuroabm.exports.graph_stream.merge_multapses` (float64 sums),
    the merge the GraphML / GEXF writers use.
    """
    import networkx as nx  # imported here: the file exports do not need it

    g = nx.DiGraph()
    for row in nodes.itertuples(index=False):
        g.add_node(int(row.neuron), x_mm=float(row.x_mm), y_mm=float(row.y_mm), kind=str(row.kind),
                   dopamine_um=float(row.dopamine_um))  # fmt: skip
    merged = merge_multapses(edges["source"].to_numpy(), edges["target"].to_numpy(), edges["weight"].to_numpy())
    columns = (merged.source.tolist(), merged.target.tolist(), merged.weight.tolist(), merged.n_synapses.tolist())
    g.add_edges_from((s, t, {"weight": w, "n_synapses": c}) for s, t, w, c in zip(*columns, strict=True))
    return g


def write_graph(
    nodes: pd.DataFrame, edges: pd.DataFrame | None, path: str | os.PathLike[str], fmt: Format
) -> list[Path]:  # fmt: skip
    """Write one snapshot as ``fmt``; returns the files written (Parquet: ``*_nodes`` and ``*_edges``).

    ``edges = None`` (Parquet only) writes the node table alone.
    """
    path = Path(path)
    if fmt == "parquet":
        stem = path.with_suffix("")
        out = [stem.with_name(stem.name + "_nodes.parquet"), stem.with_name(stem.name + "_edges.parquet")]
        write_parquet(nodes, out[0])
        if edges is None:
            return out[:1]
        write_parquet(edges, out[1])
        return out
    if edges is None:
        raise ValueError(f"format {fmt!r} needs the edge table")
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)} (got {fmt!r})")
    writer = write_graphml_stream if fmt == "graphml" else write_gexf_stream
    return [writer(nodes, edges, path)]


def _write_graph_networkx(nodes: pd.DataFrame, edges: pd.DataFrame, path: str | os.PathLike[str], fmt: str) -> Path:
    """The reference writer: GraphML / GEXF through :func:`to_networkx` and networkx's writers.

    Kept for tests and ``benchmarks/bench_export.py``: it needs ~2 kB of memory per synapse
    (3 GB for 1.6 M synapses), the streaming writers the tables plus one block of edges.
    """
    import networkx as nx

    g = to_networkx(nodes, edges)
    if fmt == "gexf":
        for _, data in g.nodes(data=True):
            data["viz"] = {"position": {"x": data["x_mm"], "y": data["y_mm"], "z": 0.0}}
    with atomic_path(path) as tmp:
        (nx.write_graphml if fmt == "graphml" else nx.write_gexf)(g, tmp)
    return Path(path)
