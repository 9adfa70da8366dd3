"""GraphML and GEXF written straight from the node and edge tables, in chunks of edges.

No ``networkx`` graph is built: multapses are merged by a vectorised group-by on ``(source,
target)`` (:func:`merge_multapses`), then the file is written in blocks of ``chunk_edges`` edges
formatted with ``%`` templates into the file's buffer, so memory stays near the tables plus
the merged arrays (32 B per connected pair, ~40 B per synapse while merging) and one block's
Python lists (~11 MB per 100 000 edges), instead of ~2 kB per synapse through ``networkx``.

The files have the layout, key ids, attribute names and types ``networkx`` writes for the graph
of :func:`neuroabm.exports.graph.to_networkx` (directed; nodes ``x_mm, y_mm, kind, dopamine_um``,
edges ``weight, n_synapses``; GEXF nodes also carry ``viz:position``), so ``nx.read_graphml`` /
``nx.read_gexf`` give back the same graph. Floats are written as Python's shortest round-trip
``repr``: reading them back gives the same doubles bit for bit.
"""

from __future__ import annotations

import math
import os
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, NamedTuple

import numpy as np
import pandas as pd

from neuroabm.exports.atomic import atomic_path

#: edges formatted per block (each block: ~11 MB of Python lists)
CHUNK_EDGES = 100_000

#: node attributes and their GraphML key ids / GEXF attribute ids, in the order networkx assigns them
NODE_KEYS = (("x_mm", "double"), ("y_mm", "double"), ("kind", "string"), ("dopamine_um", "double"))

_XML_DECL = "<?xml version='1.0' encoding='utf-8'?>\n"
_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")


class MergedEdges(NamedTuple):
    """One row per connected ordered pair, sorted by ``(source, target)``."""

    source: np.ndarray  #: presynaptic neuron (int64)
    target: np.ndarray  #: postsynaptic neuron (int64)
    weight: np.ndarray  #: summed weight of the pair's synapses [mV] (float64)
    n_synapses: np.ndarray  #: number of synapses of the pair (int64)


def merge_multapses(source: np.ndarray, target: np.ndarray, weight: np.ndarray) -> MergedEdges:
    """Merge the synapses of each ``(source, target)`` pair: weights [mV] add, ``n_synapses`` counts.

    Sorts by one int64 key ``source * span + target`` (skipped when the rows are already in that
    order, as a model's edge table is) and sums each run of equal keys with ``np.add.reduceat`` in
    float64, in row order within the pair.

    Raises:
        ValueError: If the arrays differ in length or a neuron index is negative or too large
            for the key (``(max source + 1) * (max target + 1) >= 2**63``).

    """
    source, target = np.asarray(source), np.asarray(target)
    weight = np.asarray(weight)
    if not source.shape == target.shape == weight.shape or source.ndim != 1:
        raise ValueError(f"source, target and weight must be 1-d of one length (got {source.shape}, "
                         f"{target.shape}, {weight.shape})")  # fmt: skip
    if source.size == 0:
        empty = np.zeros(0, np.int64)
        return MergedEdges(empty, empty.copy(), np.zeros(0), empty.copy())
    if min(int(source.min()), int(target.min())) < 0:
        raise ValueError("neuron indices must be >= 0")
    span = int(target.max()) + 1
    if (int(source.max()) + 1) * span >= 2**63:
        raise ValueError("neuron indices too large to merge multapses with an int64 key")
    key = source.astype(np.int64) * span + target
    weight = weight.astype(np.float64, copy=False)  # never written to: sorting makes new arrays
    if np.any(key[1:] < key[:-1]):
        order = np.argsort(key, kind="stable")
        key = key[order]
        weight = weight[order]
        del order
    starts = np.flatnonzero(np.concatenate(([True], key[1:] != key[:-1])))
    summed = np.add.reduceat(weight, starts)
    del weight
    pair = key[starts]  # one key per pair; intermediates are freed as soon as possible (peak ~ 40 B/synapse)
    del key
    counts = np.diff(starts, append=source.size)
    del starts
    tgt = pair % span
    pair //= span
    return MergedEdges(pair, tgt, summed, counts)


def _xml_text(value: str) -> str:
    r"""``value`` escaped for XML character data (``\r`` as a reference: parsers turn a raw one into ``\n``)."""
    if _INVALID_XML.search(value):
        raise ValueError(f"string attribute {value!r} holds a character XML cannot carry")
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")


def _xml_attr(value: str) -> str:
    """``value`` escaped for a double-quoted XML attribute (whitespace kept as character references)."""
    return _xml_text(value).replace('"', "&quot;").replace("\n", "&#10;").replace("\t", "&#09;")


def _escaped(values: pd.Series, escape: str) -> list[str]:
    """The strings of ``values`` escaped (``escape``: 'text' or 'attr'), escaping each distinct value once."""
    codes, uniques = pd.factorize(values.astype(str), use_na_sentinel=False)
    fn = _xml_text if escape == "text" else _xml_attr
    table = np.array([fn(str(u)) for u in uniques], dtype=object)
    return table[codes].tolist()


def _gexf_float(value: float) -> str:
    """A float as networkx writes a GEXF attvalue (``INF``, ``-INF``, ``NaN`` for the non-finite)."""
    if math.isfinite(value):
        return repr(value)
    return "NaN" if math.isnan(value) else ("INF" if value > 0 else "-INF")


def _node_rows(nodes: pd.DataFrame, escape: str) -> tuple[list[int], list[float], list[float], list[str], list[float]]:
    """Node ids and the attributes (``x_mm`` [mm], ``y_mm`` [mm], ``kind``, ``dopamine_um`` [µM]) as lists."""
    return (
        nodes["neuron"].to_numpy(np.int64).tolist(),
        nodes["x_mm"].to_numpy(np.float64).tolist(),
        nodes["y_mm"].to_numpy(np.float64).tolist(),
        _escaped(nodes["kind"], escape),
        nodes["dopamine_um"].to_numpy(np.float64).tolist(),
    )


def _merged(nodes: pd.DataFrame, edges: pd.DataFrame) -> MergedEdges:
    """The merged edges, after checking that every endpoint is a neuron of ``nodes`` (ids unique).

    Raises:
        ValueError: On duplicate neuron ids or an edge to or from a neuron the node table lacks.

    """
    ids = nodes["neuron"].to_numpy(np.int64)
    if np.unique(ids).size != ids.size:
        raise ValueError("the node table lists a neuron twice")
    merged = merge_multapses(edges["source"].to_numpy(), edges["target"].to_numpy(), edges["weight"].to_numpy())
    if merged.source.size:
        contiguous = ids.size > 0 and np.array_equal(ids, np.arange(ids.size))
        for end in (merged.source, merged.target):
            inside = (end.max() < ids.size) if contiguous else np.isin(end, ids).all()
            if not inside:
                raise ValueError("an edge joins a neuron missing from the node table")
    return merged


def _chunks(merged: MergedEdges, chunk_edges: int, ids: bool = False) -> Iterator[zip]:
    """Per block of edges, a zip of ``(source, target[, edge index], weight [mV], n_synapses)``."""
    for a in range(0, merged.source.size, chunk_edges):
        b = min(a + chunk_edges, merged.source.size)
        columns = [merged.source[a:b].tolist(), merged.target[a:b].tolist(), merged.weight[a:b].tolist(),
                   merged.n_synapses[a:b].tolist()]  # fmt: skip
        if ids:
            columns.insert(2, range(a, b))
        yield zip(*columns, strict=True)


def _edge_lines(template: str, rows: Iterator[tuple]) -> Iterator[str]:
    """The edge elements of one block, ``template % row`` each, made one at a time as the file takes them."""
    return (template % row for row in rows)


_GRAPHML_OPEN = (
    '<graphml xmlns="http://graphml.graphdrawing.org/xmlns" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
    'xsi:schemaLocation="http://graphml.graphdrawing.org/xmlns '
    'http://graphml.graphdrawing.org/xmlns/1.0/graphml.xsd">\n'
)
_GRAPHML_NODE = (
    '    <node id="%d">\n      <data key="d0">%r</data>\n      <data key="d1">%r</data>\n'
    '      <data key="d2">%s</data>\n      <data key="d3">%r</data>\n    </node>\n'
)
_GRAPHML_EDGE = (
    '    <edge source="%d" target="%d">\n      <data key="d4">%r</data>\n      <data key="d5">%d</data>\n    </edge>\n'
)


def _graphml_body(fh: IO[str], nodes: pd.DataFrame, merged: MergedEdges, chunk_edges: int) -> None:
    """Everything of a GraphML file: keys (ids as networkx numbers them), nodes, then blocks of edges."""
    fh.write(_XML_DECL + _GRAPHML_OPEN)
    keys = [f'  <key id="d{i}" for="node" attr.name="{name}" attr.type="{kind}" />\n'
            for i, (name, kind) in enumerate(NODE_KEYS)] if len(nodes) else []  # fmt: skip
    if merged.source.size:
        keys += ['  <key id="d4" for="edge" attr.name="weight" attr.type="double" />\n',
                 '  <key id="d5" for="edge" attr.name="n_synapses" attr.type="long" />\n']  # fmt: skip
    fh.write("".join(reversed(keys)))  # networkx inserts each new key first
    fh.write('  <graph edgedefault="directed">\n')
    fh.write("".join([_GRAPHML_NODE % row for row in zip(*_node_rows(nodes, "text"), strict=True)]))
    for rows in _chunks(merged, chunk_edges):
        fh.writelines(_edge_lines(_GRAPHML_EDGE, rows))
    fh.write("  </graph>\n</graphml>\n")


_GEXF_OPEN = (
    '<gexf xmlns:viz="http://www.gexf.net/1.2draft/viz" xmlns="http://www.gexf.net/1.2draft" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
    'xsi:schemaLocation="http://www.gexf.net/1.2draft http://www.gexf.net/1.2draft/gexf.xsd" version="1.2">\n'
)
_GEXF_NODE = (
    '      <node id="%d" label="%d">\n        <viz:position x="%s" y="%s" z="0.0" />\n        <attvalues>\n'
    '          <attvalue for="0" value="%s" />\n          <attvalue for="1" value="%s" />\n'
    '          <attvalue for="2" value="%s" />\n          <attvalue for="3" value="%s" />\n'
    "        </attvalues>\n      </node>\n"
)
_GEXF_EDGE = (
    '      <edge source="%d" target="%d" id="%d" weight="%r">\n        <attvalues>\n'
    '          <attvalue for="4" value="%d" />\n        </attvalues>\n      </edge>\n'
)


def _gexf_body(fh: IO[str], nodes: pd.DataFrame, merged: MergedEdges, chunk_edges: int) -> None:
    """Everything of a GEXF 1.2 file: meta, attribute declarations, nodes with positions, blocks of edges."""
    from neuroabm import __version__

    fh.write(_XML_DECL + _GEXF_OPEN)
    fh.write(f'  <meta lastmodifieddate="{time.strftime("%Y-%m-%d")}">\n    <creator>neuroabm {__version__}'
             "</creator>\n  </meta>\n")  # fmt: skip
    fh.write('  <graph defaultedgetype="directed" mode="static" name="">\n')
    if merged.source.size:
        fh.write('    <attributes mode="static" class="edge">\n'
                 '      <attribute id="4" title="n_synapses" type="long" />\n    </attributes>\n')  # fmt: skip
    if len(nodes):
        fh.write('    <attributes mode="static" class="node">\n')
        fh.write("".join(f'      <attribute id="{i}" title="{name}" type="{kind}" />\n'
                         for i, (name, kind) in enumerate(NODE_KEYS)))  # fmt: skip
        fh.write("    </attributes>\n")
    fh.write("    <nodes>\n")
    ids, x, y, kind, da = _node_rows(nodes, "attr")
    fh.write("".join([_GEXF_NODE % (n, n, str(a), str(b), _gexf_float(a), _gexf_float(b), k, _gexf_float(d))
                      for n, a, b, k, d in zip(ids, x, y, kind, da, strict=True)]))  # fmt: skip
    fh.write("    </nodes>\n    <edges>\n")
    for rows in _chunks(merged, chunk_edges, ids=True):
        fh.writelines(_edge_lines(_GEXF_EDGE, rows))
    fh.write("    </edges>\n  </graph>\n</gexf>\n")


_Body = Callable[[IO[str], pd.DataFrame, MergedEdges, int], None]


def _write(
    body: _Body, nodes: pd.DataFrame, edges: pd.DataFrame, path: str | os.PathLike[str], chunk_edges: int
) -> Path:  # fmt: skip
    """Merge, then stream ``body`` into a temporary file renamed to ``path`` once complete."""
    if chunk_edges < 1:
        raise ValueError(f"chunk_edges must be >= 1 (got {chunk_edges})")
    path = Path(path)
    merged = _merged(nodes, edges)
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8", newline="\n", buffering=1 << 20) as fh:
        body(fh, nodes, merged, chunk_edges)
    return path


def write_graphml_stream(
    nodes: pd.DataFrame, edges: pd.DataFrame, path: str | os.PathLike[str], *, chunk_edges: int = CHUNK_EDGES
) -> Path:  # fmt: skip
    """Write the snapshot ``(nodes, edges)`` as GraphML at ``path`` (atomically); returns ``path``.

    ``nx.read_graphml(path, node_type=int)`` equals :func:`~neuroabm.exports.graph.to_networkx`
    of the same tables. ``chunk_edges`` edges are formatted at a time (memory per block ~110 B per edge).

    Raises:
        ValueError: If the tables are inconsistent (see :func:`merge_multapses`) or a ``kind``
            string holds a character XML cannot carry.

    """
    return _write(_graphml_body, nodes, edges, path, chunk_edges)


def write_gexf_stream(
    nodes: pd.DataFrame, edges: pd.DataFrame, path: str | os.PathLike[str], *, chunk_edges: int = CHUNK_EDGES
) -> Path:  # fmt: skip
    """Write the snapshot ``(nodes, edges)`` as GEXF 1.2 at ``path`` (atomically); returns ``path``.

    Nodes carry ``viz:position`` = ``(x_mm, y_mm, 0)`` so Gephi draws the torus in place; edge
    weights are the GEXF ``weight`` attribute, ``n_synapses`` an attvalue. ``nx.read_gexf`` gives
    the graph :func:`~neuroabm.exports.graph.to_networkx` builds, plus the GEXF-only ``label``,
    ``viz`` (nodes) and ``id`` (edges) entries networkx's own writer leads to.

    Raises:
        ValueError: As :func:`write_graphml_stream`.

    """
    return _write(_gexf_body, nodes, edges, path, chunk_edges)
