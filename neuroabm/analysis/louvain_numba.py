"""Louvain community detection (Blondel et al. 2008) in numba, on a symmetric CSR adjacency.

Local moving gathers each node's weights to neighbouring communities in one pass over its links
(a dense scratch array, O(degree)); once few communities remain it keeps a node x community weight
table updated on every move. A level ends when a sweep over all nodes gains less than
:data:`LOUVAIN_TOL`; communities are then aggregated into nodes and the next level starts. The
result is checked against networkx and igraph in ``tests/test_graph.py``; the public entry point is
:func:`neuroabm.analysis.graph_metrics.louvain`.
"""

from __future__ import annotations

import numba as nb
import numpy as np

__all__ = ["dense_labels", "louvain_csr", "modularity_csr"]

#: Louvain stops sweeping a level when one sweep gains less modularity than this (networkx's default
#: threshold); a sweep costs O(E), and on dense near-random graphs the last sweeps move a few
#: near-tied nodes each for gains of ~1e-5
LOUVAIN_TOL = 1e-7
#: local moving keeps a node x community weight table once at most this many communities remain
LOUVAIN_TABLE_MAX = 256
#: at most this many sweeps per level (never reached in the tests; a guard against float cycling)
LOUVAIN_MAX_SWEEPS = 1000


@nb.njit(cache=True)
def modularity_csr(ptr, nbr, wt, labels, n_comm):  # pragma: no cover - numba
    """``Q = sum_c [in_c / 2m - (tot_c / 2m)^2]`` on a symmetric adjacency (NaN without edges)."""
    tot = np.zeros(n_comm)
    inside = np.zeros(n_comm)
    m2 = 0.0
    for i in range(ptr.shape[0] - 1):
        c = labels[i]
        for e in range(ptr[i], ptr[i + 1]):
            tot[c] += wt[e]
            m2 += wt[e]
            if labels[nbr[e]] == c:
                inside[c] += wt[e]
    if m2 == 0.0:
        return np.nan
    q = 0.0
    for c in range(n_comm):
        q += inside[c] / m2 - (tot[c] / m2) ** 2
    return q


@nb.njit(cache=True)
def _link_table(ptr, nbr, wt, comm):  # pragma: no cover - numba
    """Relabel ``comm`` densely (in place) and tabulate ``T[i, c]``, the weight from node i to community c."""
    n = comm.shape[0]
    new = np.full(n, -1, np.int64)
    n_comm = 0
    for i in range(n):
        if new[comm[i]] < 0:
            new[comm[i]] = n_comm
            n_comm += 1
        comm[i] = new[comm[i]]
    table = np.zeros((n, n_comm))
    for i in range(n):
        for e in range(ptr[i], ptr[i + 1]):
            if nbr[e] != i:
                table[i, comm[nbr[e]]] += wt[e]
    return table


@nb.njit(cache=True)
def _move_nodes(ptr, nbr, wt, k, comm, order, m2, tol, max_sweeps, table_max):  # pragma: no cover - numba
    """Louvain's local moving: visit nodes in ``order``, move each to its best neighbouring community.

    Moving isolated node ``i`` into community ``c`` gains ``[k_ic - tot_c k_i / 2m] / m`` modularity
    (``k_ic``: weight from i to c, ``tot_c``: total degree of c). Candidates are the communities i
    has links of positive weight to; a node moves only for a strictly larger gain than staying, so
    ties keep it in place and modularity rises with every move. Sweeps repeat until one moves
    nothing or gains less than ``tol``. Returns the sweeps made.

    Two ways to get ``k_ic``, with the same candidates and gains: gather it from i's links (O(d)
    per visit), or, once the communities are few (at most ``table_max`` and fewer than a quarter
    of the mean degree), keep a table ``T[i, c]`` updated at every move (O(C) per visit, O(d) per
    move). On dense graphs with few communities (10^4 nodes, d ~ 2000, C ~ 10) late sweeps, where
    a handful of nodes move, get ~100x cheaper; a warm start from a partition starts in the table.
    The switch depends only on the community count, so results stay reproducible.
    """
    n = k.shape[0]
    acc = np.zeros(n)
    stamp = np.full(n, -1, np.int64)
    touched = np.empty(n, np.int64)
    present = np.zeros(n, np.bool_)
    table = np.zeros((0, 0))
    mean_degree = ptr[n] / max(n, 1)
    sweeps = 0
    while sweeps < max_sweeps:
        sweeps += 1
        if table.shape[0] == 0:
            present[:] = False
            for i in range(n):
                present[comm[i]] = True
            n_comm = present.sum()
            if n_comm <= table_max and 4 * n_comm < mean_degree:
                table = _link_table(ptr, nbr, wt, comm)
        tot = np.zeros(n)
        for i in range(n):
            tot[comm[i]] += k[i]
        moves = 0
        gain = 0.0
        for i in order:
            ci = comm[i]
            ki = k[i]
            eps = 1e-12 * ki  # below float residue of the sums: neither a link nor a gain
            tot[ci] -= ki
            if table.shape[0]:
                row = table[i]
                stay = row[ci] - tot[ci] * ki / m2
                best, best_gain = ci, stay
                for c in range(row.shape[0]):
                    if row[c] > eps and c != ci:
                        g = row[c] - tot[c] * ki / m2
                        if g > best_gain + eps:
                            best, best_gain = c, g
            else:
                n_touched = 0
                for e in range(ptr[i], ptr[i + 1]):
                    j = nbr[e]
                    if j == i:  # an aggregated node's self-loop moves with it: no part of the gain
                        continue
                    c = comm[j]
                    if stamp[c] != i:
                        stamp[c] = i
                        acc[c] = 0.0
                        touched[n_touched] = c
                        n_touched += 1
                    acc[c] += wt[e]
                stay = (acc[ci] if stamp[ci] == i else 0.0) - tot[ci] * ki / m2
                best, best_gain = ci, stay
                for t in range(n_touched):
                    c = touched[t]
                    if acc[c] > eps and c != ci:
                        g = acc[c] - tot[c] * ki / m2
                        if g > best_gain + eps:
                            best, best_gain = c, g
            tot[best] += ki
            if best != ci:
                comm[i] = best
                moves += 1
                gain += 2.0 * (best_gain - stay) / m2
                if table.shape[0]:
                    for e in range(ptr[i], ptr[i + 1]):
                        j = nbr[e]
                        if j != i:
                            table[j, ci] -= wt[e]
                            table[j, best] += wt[e]
        if moves == 0 or gain < tol:
            break
    return sweeps


@nb.njit(cache=True)
def _aggregate(ptr, nbr, wt, comm, n_comm):  # pragma: no cover - numba
    """The community graph: one node per community, entry (c, d) = summed weight between them.

    Links inside a community become its self-loop (both directions, as in the symmetric CSR).
    """
    n = comm.shape[0]
    start = np.zeros(n_comm + 1, np.int64)
    for i in range(n):
        start[comm[i] + 1] += 1
    for c in range(n_comm):
        start[c + 1] += start[c]
    members = np.empty(n, np.int64)
    fill = start[:-1].copy()
    for i in range(n):
        members[fill[comm[i]]] = i
        fill[comm[i]] += 1
    acc = np.zeros(n_comm)
    stamp = np.full(n_comm, -1, np.int64)
    touched = np.empty(n_comm, np.int64)
    cap = min(ptr[n], n_comm * n_comm)
    new_ptr = np.zeros(n_comm + 1, np.int64)
    new_nbr = np.empty(cap, np.int32)
    new_wt = np.empty(cap)
    pos = 0
    for c in range(n_comm):
        n_touched = 0
        for q in range(start[c], start[c + 1]):
            i = members[q]
            for e in range(ptr[i], ptr[i + 1]):
                d = comm[nbr[e]]
                if stamp[d] != c:
                    stamp[d] = c
                    acc[d] = 0.0
                    touched[n_touched] = d
                    n_touched += 1
                acc[d] += wt[e]
        for t in range(n_touched):
            new_nbr[pos] = touched[t]
            new_wt[pos] = acc[touched[t]]
            pos += 1
        new_ptr[c + 1] = pos
    return new_ptr, new_nbr[:pos].copy(), new_wt[:pos].copy()


def dense_labels(labels: np.ndarray) -> tuple[np.ndarray, int]:
    """Relabel communities as ``0 .. n_communities-1``; returns the labels and their count."""
    uniq, dense = np.unique(labels, return_inverse=True)
    return dense.astype(np.int64), int(uniq.size)


@nb.njit(cache=True)
def _weighted_degree(ptr, wt):  # pragma: no cover - numba
    k = np.zeros(ptr.shape[0] - 1)
    for i in range(k.shape[0]):
        for e in range(ptr[i], ptr[i + 1]):
            k[i] += wt[e]
    return k


def louvain_csr(
    ptr: np.ndarray, nbr: np.ndarray, wt: np.ndarray, rng: np.random.Generator, initial: np.ndarray | None
) -> np.ndarray:
    """Louvain on a symmetric adjacency: local moving, aggregation, repeated until a level merges nothing."""
    n = ptr.size - 1
    comm = np.arange(n, dtype=np.int64) if initial is None else dense_labels(initial)[0]
    labels = None
    k = _weighted_degree(ptr, wt)
    m2 = float(k.sum())
    while True:
        size = k.size
        _move_nodes(
            ptr, nbr, wt, k, comm, rng.permutation(size), m2, LOUVAIN_TOL, LOUVAIN_MAX_SWEEPS, LOUVAIN_TABLE_MAX
        )
        comm, n_comm = dense_labels(comm)
        labels = comm if labels is None else comm[labels]
        if n_comm == size:
            return labels
        ptr, nbr, wt = _aggregate(ptr, nbr, wt, comm, n_comm)
        k = _weighted_degree(ptr, wt)
        comm = np.arange(n_comm, dtype=np.int64)
