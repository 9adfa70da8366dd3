"""Structure of the synaptic graph: degrees, weights, clustering, modularity, wiring length.

Pure functions on edge arrays (``source, target, weight``; neurons ``0 .. n-1``), so they apply to
a live model, a saved snapshot or any graph. Two quantities need more than counting:

- **average clustering**: of the undirected simple graph (direction and multiplicity dropped);
  nodes with fewer than two neighbours count as 0 and every node is averaged;
- **modularity**: of a Louvain partition (Blondel et al. 2008) of the undirected graph whose pair
  weight is the sum of the absolute synaptic weights between the two neurons (inhibitory weights
  are negative, and modularity needs non-negative weights). Self-loops are dropped.

Backends. networkx is the reference; python-igraph (C) and numba kernels compute the same
quantities faster. On 10^4 nodes with 10^7 synapses (docs/REFERENCES.md §7 and
``benchmarks/bench_graph.py``) networkx takes minutes, igraph ~30-120 s for Louvain (its local
moving sorts every node's neighbour list by community, O(d log d) per node and sweep) and ~10 s to
build its graph, while the numba Louvain here gathers the weights to neighbouring communities in a
dense scratch array (O(d)) straight from a symmetric adjacency built in one O(E) pass without
sorting: ~0.1 s per sweep of all nodes, a few seconds in all. Clustering uses neighbourhood bit
sets (exact popcounts of intersections, n^2/8 bytes).

``backend="auto"``: numba for Louvain and for the modularity of a given partition (exact,
cross-tested against networkx and igraph), bit sets for clustering up to :data:`BITSET_MAX_NODES`
nodes, igraph beyond. ``"bitset"`` is an alias of ``"numba"``. The backends agree exactly on
clustering and on the modularity of a given partition; Louvain partitions differ by the
algorithms' randomness (visiting order, tie-breaking), so their modularities agree to a few percent.

Two cost controls for large graphs (both reproducible from the seed, never wall-clock dependent):

- :func:`sampled_clustering` averages the exact local clustering over a fixed seeded sample of
  nodes and reports its standard error (exact, error 0, when the sample covers every node);
- :func:`louvain` accepts an ``initial`` partition: local moving then starts from it (a warm
  start, e.g. from the previous record of a slowly changing graph) instead of from singletons.
  It is still Louvain (local moving and aggregation until no move gains); only the starting point
  differs, so the result is a partition of the same quality at a fraction of the sweeps.
"""

from __future__ import annotations

import random
from typing import Literal

import igraph as ig
import networkx as nx
import numba as nb
import numpy as np

from neuroabm.analysis.louvain_numba import dense_labels, louvain_csr, modularity_csr

Backend = Literal["auto", "networkx", "igraph", "numba", "bitset"]
BACKENDS = ("auto", "networkx", "igraph", "numba", "bitset")
#: the bit-set clustering holds n^2 / 8 bytes: used up to this many nodes (312 MB)
BITSET_MAX_NODES = 50_000


def _check_backend(backend: str) -> str:
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(map(repr, BACKENDS))} (got {backend!r})")
    return "numba" if backend == "bitset" else backend


def _edges(source: np.ndarray, target: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Sources and targets as int32 (one kernel signature), checked against ``0 <= node < n``."""
    src, tgt = np.asarray(source), np.asarray(target)
    if src.shape != tgt.shape or src.ndim != 1:
        raise ValueError(f"source and target must be 1-d arrays of equal length (got {src.shape}, {tgt.shape})")
    if src.size and (min(src.min(), tgt.min()) < 0 or max(src.max(), tgt.max()) >= n):
        raise ValueError(f"source and target must hold node indices in [0, {n - 1}] (n = {n})")
    return src.astype(np.int32, copy=False), tgt.astype(np.int32, copy=False)


# --- one pass over the edges: degrees, strengths, lengths -----------------------------------------


@nb.njit(cache=True, parallel=True)
def _edge_sums(src, tgt, w, xy, side):  # pragma: no cover - numba
    """Degrees, positive in-strength, total weight, summed torus length in one pass; False if a node is outside [0, n).

    Takes the edge arrays in any integer/float dtype, so 10^7-edge arrays are never copied. The
    edges are split into 8 fixed contiguous chunks (run in parallel), each with its own sums, added
    up at the end in chunk order: the result does not depend on the thread count.
    """
    n = xy.shape[0]
    m = src.shape[0]
    n_chunks = 8
    k_in = np.zeros((n_chunks, n), np.int64)
    k_out = np.zeros((n_chunks, n), np.int64)
    strength = np.zeros((n_chunks, n))
    length = np.zeros(n_chunks)
    total = np.zeros(n_chunks)
    bad = np.zeros(n_chunks, np.bool_)
    for c in nb.prange(n_chunks):
        for e in range(c * m // n_chunks, (c + 1) * m // n_chunks):
            s, t = np.int64(src[e]), np.int64(tgt[e])
            if s < 0 or s >= n or t < 0 or t >= n:
                bad[c] = True
                break
            k_out[c, s] += 1
            k_in[c, t] += 1
            total[c] += w[e]
            if w[e] > 0.0:
                strength[c, t] += w[e]
            dx = xy[t, 0] - xy[s, 0]
            dy = xy[t, 1] - xy[s, 1]
            dx -= side * np.floor(dx / side + 0.5)
            dy -= side * np.floor(dy / side + 0.5)
            length[c] += np.sqrt(dx * dx + dy * dy)
    return k_in.sum(axis=0), k_out.sum(axis=0), strength.sum(axis=0), total.sum(), length.sum(), not bad.any()


# --- undirected views ----------------------------------------------------------------------------


def undirected_pairs(source: np.ndarray, target: np.ndarray, weight: np.ndarray | None, n: int):
    """Unique unordered pairs ``(a < b)`` without self-loops, with the summed absolute weight of each."""
    a = np.minimum(source, target).astype(np.int64)
    b = np.maximum(source, target).astype(np.int64)
    keep = a != b
    key = a[keep] * n + b[keep]
    uniq, inverse = np.unique(key, return_inverse=True)
    w = np.ones(key.size) if weight is None else np.abs(np.asarray(weight, float)[keep])
    summed = np.bincount(inverse, weights=w, minlength=uniq.size)
    return uniq // n, uniq % n, summed


@nb.njit(cache=True)
def _symmetric_adjacency(n, src, tgt, w):  # pragma: no cover - numba
    """CSR of the undirected multigraph: every non-loop synapse ``s -> t`` listed in rows s and t with |w|.

    Duplicates are kept: a pair's entries in a row sum to its pair weight, which is all that
    modularity and Louvain read, so no sort is needed (O(E)).
    """
    ptr = np.zeros(n + 1, np.int64)
    for e in range(src.shape[0]):
        if src[e] != tgt[e]:
            ptr[src[e] + 1] += 1
            ptr[tgt[e] + 1] += 1
    for i in range(n):
        ptr[i + 1] += ptr[i]
    fill = ptr[:-1].copy()
    nbr = np.empty(ptr[n], np.int32)
    wt = np.empty(ptr[n])
    for e in range(src.shape[0]):
        s, t = src[e], tgt[e]
        if s != t:
            x = abs(w[e])
            nbr[fill[s]] = t
            wt[fill[s]] = x
            fill[s] += 1
            nbr[fill[t]] = s
            wt[fill[t]] = x
            fill[t] += 1
    return ptr, nbr, wt


def _nx_graph(n: int, a: np.ndarray, b: np.ndarray, w: np.ndarray | None = None) -> nx.Graph:
    g = nx.Graph()
    g.add_nodes_from(range(n))
    if w is None:
        g.add_edges_from(zip(a.tolist(), b.tolist(), strict=True))
    else:
        g.add_weighted_edges_from(zip(a.tolist(), b.tolist(), w.tolist(), strict=True))
    return g


# --- clustering ----------------------------------------------------------------------------------


@nb.njit(cache=True)
def _popcount(x: np.uint64) -> np.uint64:  # pragma: no cover - numba
    x = x - ((x >> np.uint64(1)) & np.uint64(0x5555555555555555))
    x = (x & np.uint64(0x3333333333333333)) + ((x >> np.uint64(2)) & np.uint64(0x3333333333333333))
    x = (x + (x >> np.uint64(4))) & np.uint64(0x0F0F0F0F0F0F0F0F)
    return (x * np.uint64(0x0101010101010101)) >> np.uint64(56)


@nb.njit(cache=True)
def _neighbour_bitsets(n, src, tgt):  # pragma: no cover - numba
    """Neighbourhood of every node of the undirected simple graph as a bit set, and its size."""
    words = (n + 63) // 64
    bits = np.zeros((n, words), np.uint64)
    for e in range(src.shape[0]):
        i, j = src[e], tgt[e]
        if i != j:
            bits[i, j >> 6] |= np.uint64(1) << np.uint64(j & 63)
            bits[j, i >> 6] |= np.uint64(1) << np.uint64(i & 63)
    deg = np.zeros(n, np.int64)
    for i in range(n):
        for w in range(words):
            deg[i] += _popcount(bits[i, w])
    return bits, deg


@nb.njit(cache=True, parallel=True)
def _local_clustering(bits, deg, nodes):  # pragma: no cover - numba
    """Local clustering of ``nodes``: links among the neighbours of ``i`` are ``sum_{j in N(i)} |N(i) & N(j)| / 2``.

    Each node is independent (one output each), so the result does not depend on the thread count.
    """
    words = bits.shape[1]
    out = np.zeros(nodes.shape[0])
    for q in nb.prange(nodes.shape[0]):
        i = nodes[q]
        d = deg[i]
        if d < 2:
            continue
        links = np.uint64(0)
        for w in range(words):
            word = bits[i, w]
            while word:
                low = word & (~word + np.uint64(1))
                j = w * 64 + np.int64(_popcount(low - np.uint64(1)))
                word ^= low
                for v in range(words):
                    links += _popcount(bits[i, v] & bits[j, v])
        out[q] = links / (d * (d - 1.0))  # every link among the neighbours is seen from both ends
    return out


def average_clustering(source: np.ndarray, target: np.ndarray, n: int, backend: Backend = "auto") -> float:
    """Mean local clustering coefficient of the undirected simple graph (0 for degree < 2; exact)."""
    backend = _check_backend(backend)
    if n == 0:
        return float("nan")
    src, tgt = _edges(source, target, n)
    if backend == "numba" or (backend == "auto" and n <= BITSET_MAX_NODES):
        bits, deg = _neighbour_bitsets(n, src, tgt)
        return float(_local_clustering(bits, deg, np.arange(n)).mean())
    a, b, _ = undirected_pairs(src, tgt, None, n)
    if backend in ("igraph", "auto"):
        g = ig.Graph(n=n, edges=np.column_stack([a, b]))
        return float(g.transitivity_avglocal_undirected(mode="zero"))
    return float(nx.average_clustering(_nx_graph(n, a, b)))


def sampled_clustering(
    source: np.ndarray, target: np.ndarray, n: int, n_sample: int, seed: int = 0
) -> tuple[float, float]:
    """Average clustering estimated from the exact local clustering of ``n_sample`` seeded nodes.

    The nodes are drawn without replacement by ``numpy.random.default_rng(seed)``, so the same seed
    gives the same nodes on every call: a time series of a changing graph then follows the same
    neurons and its changes are not resampling noise. The standard error is that of a mean over a
    simple random sample of a finite population, ``s / sqrt(m) * sqrt(1 - m / n)`` (``s``: sample
    standard deviation of the local coefficients). Cost: ``m d n / 64`` word operations for mean
    degree ``d`` instead of ``n d n / 64``.

    Args:
        source: the source node of every directed edge, in ``[0, n)``.
        target: the target node of every directed edge, in ``[0, n)``.
        n: number of nodes.
        n_sample: nodes to sample, ``>= 0``; ``0`` or ``>= n`` gives the exact mean with error 0.
        seed: seed of the node sample.

    Returns:
        ``(estimate, standard_error)``; NaN for an empty graph.

    """
    if not (isinstance(n_sample, (int, np.integer)) and n_sample >= 0):
        raise ValueError(f"n_sample must be an integer >= 0 (0 = every node) (got {n_sample!r})")
    if n == 0:
        return float("nan"), float("nan")
    if n > BITSET_MAX_NODES:
        raise ValueError(f"sampled_clustering holds n^2/8 bytes: n must be <= {BITSET_MAX_NODES} (got {n})")
    src, tgt = _edges(source, target, n)
    bits, deg = _neighbour_bitsets(n, src, tgt)
    if n_sample == 0 or n_sample >= n:
        return float(_local_clustering(bits, deg, np.arange(n)).mean()), 0.0
    nodes = np.sort(np.random.default_rng(seed).choice(n, n_sample, replace=False))
    local = _local_clustering(bits, deg, nodes)
    se = local.std(ddof=1) / np.sqrt(n_sample) * np.sqrt(1.0 - n_sample / n)
    return float(local.mean()), float(se)


# --- modularity and Louvain (numba) --------------------------------------------------------------


def modularity(
    source: np.ndarray, target: np.ndarray, weight: np.ndarray, n: int, partition: np.ndarray,
    backend: Backend = "auto",
) -> float:  # fmt: skip
    """Modularity of a given partition (community label per node) of the |weight| pair graph."""
    backend = _check_backend(backend)
    labels = np.asarray(partition)
    if labels.shape != (n,):
        raise ValueError(f"partition must hold one label per node, shape ({n},) (got {labels.shape})")
    src, tgt = _edges(source, target, n)
    w = np.asarray(weight, float)
    if backend in ("auto", "numba"):
        dense, n_comm = dense_labels(labels)
        return float(modularity_csr(*_symmetric_adjacency(n, src, tgt, w), dense, n_comm))
    a, b, pair_w = undirected_pairs(src, tgt, w, n)
    if backend == "igraph":
        g = ig.Graph(n=n, edges=np.column_stack([a, b]), edge_attrs={"weight": pair_w})
        return float(g.modularity(labels.tolist(), weights="weight"))
    groups = [set(np.flatnonzero(labels == c).tolist()) for c in np.unique(labels)]
    return float(nx.community.modularity(_nx_graph(n, a, b, pair_w), groups, weight="weight"))


def louvain(
    source: np.ndarray, target: np.ndarray, weight: np.ndarray, n: int, seed: int = 0,
    backend: Backend = "auto", initial: np.ndarray | None = None,
) -> tuple[np.ndarray, float]:  # fmt: skip
    """Louvain partition of the |weight| pair graph: ``(label per node, modularity)`` (seeded).

    Args:
        source: the source node of every directed edge, in ``[0, n)``.
        target: the target node of every directed edge, in ``[0, n)``.
        weight: the weight of every edge [mV]; its absolute value is used.
        n: number of nodes.
        seed: seed of the visiting order (numba, igraph) or of networkx's own generator.
        backend: see the module docstring; ``"auto"`` is numba.
        initial: a starting partition (one label per node; numba only), e.g. the previous record's.

    Returns:
        Dense labels ``0 .. n_communities-1`` and the partition's modularity (NaN without edges).

    """
    backend = _check_backend(backend)
    src, tgt = _edges(source, target, n)
    w = np.asarray(weight, float)
    if initial is not None:
        if backend not in ("auto", "numba"):
            raise ValueError(f"initial (a warm start) needs backend 'auto' or 'numba' (got {backend!r})")
        if np.shape(initial) != (n,):
            raise ValueError(f"initial must hold one label per node, shape ({n},) (got {np.shape(initial)})")
    if backend in ("auto", "numba"):
        ptr, nbr, wt = _symmetric_adjacency(n, src, tgt, w)
        if not wt.sum() > 0.0:  # no edges, or only zero weights: no modularity
            return np.arange(n, dtype=np.int64), float("nan")
        labels = louvain_csr(ptr, nbr, wt, np.random.default_rng(seed), initial)
        return labels, float(modularity_csr(ptr, nbr, wt, labels, int(labels.max()) + 1))
    a, b, pair_w = undirected_pairs(src, tgt, w, n)
    if backend == "igraph":
        g = ig.Graph(n=n, edges=np.column_stack([a, b]), edge_attrs={"weight": pair_w})
        ig.set_random_number_generator(random.Random(seed))  # seeded, then back to the default
        try:
            parts = g.community_multilevel(weights="weight")
        finally:
            ig.set_random_number_generator(random)
        return dense_labels(np.asarray(parts.membership))[0], float(parts.modularity)
    g = _nx_graph(n, a, b, pair_w)
    groups = nx.community.louvain_communities(g, weight="weight", seed=seed)
    labels = np.empty(n, np.int64)
    for c, members in enumerate(groups):
        labels[list(members)] = c
    return labels, float(nx.community.modularity(g, groups, weight="weight"))


# --- the tracked metrics -------------------------------------------------------------------------


def basic_metrics(
    source: np.ndarray, target: np.ndarray, weight: np.ndarray, xy_mm: np.ndarray, side_mm: float,
    dopamine_um: np.ndarray | None = None,
) -> dict[str, float]:  # fmt: skip
    """Counts, weights, lengths and the dopamine/in-strength correlation: one O(E) pass.

    ``in_strength`` is the sum of incoming *positive* (excitatory) weights [mV]; the last metric
    is its Pearson correlation with the dopamine at the neuron (NaN if either is constant).
    Lengths are shortest distances on the torus of side ``side_mm`` [mm].
    """
    n = xy_mm.shape[0]
    src, tgt, w = np.asarray(source), np.asarray(target), np.asarray(weight)
    if not (src.ndim == 1 and src.shape == tgt.shape == w.shape):
        raise ValueError(f"source, target, weight must be 1-d of one length (got {src.shape}, {tgt.shape}, {w.shape})")
    k_in, k_out, strength, total, length, ok = _edge_sums(src, tgt, w, np.asarray(xy_mm, float), float(side_mm))
    if not ok:
        raise ValueError(f"source and target must hold node indices in [0, {n - 1}] (n = {n})")
    corr = float("nan")
    if dopamine_um is not None and np.std(dopamine_um) > 0 and np.std(strength) > 0:
        corr = float(np.corrcoef(dopamine_um, strength)[0, 1])
    nan = float("nan")
    return {
        "n_edges": int(src.size),
        "in_degree_mean": float(k_in.mean()),
        "in_degree_std": float(k_in.std()),
        "out_degree_mean": float(k_out.mean()),
        "out_degree_std": float(k_out.std()),
        "weight_total_mv": float(total),
        "weight_mean_mv": float(total) / src.size if src.size else nan,
        "length_mean_mm": length / src.size if src.size else nan,
        "da_in_strength_corr": corr,
    }


def structure_metrics(
    source: np.ndarray, target: np.ndarray, weight: np.ndarray, n: int, seed: int = 0,
    backend: Backend = "auto", clustering_sample: int = 0, initial: np.ndarray | None = None,
) -> tuple[dict[str, float], np.ndarray]:  # fmt: skip
    """Clustering and Louvain modularity: ``(metrics, partition)``, the partition for a later warm start.

    ``clustering_sample > 0`` (numba/auto backends only) estimates the average clustering from
    that many seeded nodes (:func:`sampled_clustering`); ``clustering_se`` is its standard error
    (0 when exact).
    """
    if clustering_sample and _check_backend(backend) in ("auto", "numba") and n <= BITSET_MAX_NODES:
        clustering, se = sampled_clustering(source, target, n, clustering_sample, seed)
    else:
        clustering, se = average_clustering(source, target, n, backend=backend), 0.0
    if np.size(source):
        labels, q = louvain(source, target, weight, n, seed=seed, backend=backend, initial=initial)
    else:
        labels, q = np.arange(n, dtype=np.int64), float("nan")
    metrics = {
        "clustering": clustering,
        "clustering_se": se,
        "modularity": q,
        "n_communities": int(labels.max()) + 1 if n else 0,
    }
    return metrics, labels


def graph_metrics(
    source: np.ndarray, target: np.ndarray, weight: np.ndarray, xy_mm: np.ndarray, side_mm: float,
    dopamine_um: np.ndarray | None = None, seed: int = 0, backend: Backend = "auto", clustering_sample: int = 0,
) -> dict[str, float]:  # fmt: skip
    """All tracked structure metrics of one directed weighted graph.

    :func:`basic_metrics` and :func:`structure_metrics` (exact clustering unless
    ``clustering_sample > 0``; Louvain from singletons).
    """
    row = basic_metrics(source, target, weight, xy_mm, side_mm, dopamine_um)
    row.update(structure_metrics(source, target, weight, xy_mm.shape[0], seed, backend, clustering_sample)[0])
    return row
