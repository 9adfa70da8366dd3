"""Synapse storage: compressed sparse rows by *source* neuron (outgoing synapses).

Rows are sorted by target and cut into target partitions (``split``), which is what lets delivery
run in parallel without write conflicts. All synapses share one delay, handled by the model's delay
ring buffer. ``row_weight`` caches, per source, the weight shared by all of its synapses (NaN where
they differ); delivery then skips reading per-synapse weights.

Bytes per synapse. Delivery is bound by reading targets, so they are stored in the fewest bytes:
two. Up to 65,536 neurons a target is its index (uint16). Above, every partition is at most 65,536
neurons wide and a target is stored as its offset from the partition's first neuron
(``target_base``), still uint16; :attr:`Synapses.targets` gives absolute indices on demand. A
static store holds no per-synapse weights at all (every row has one weight, ``row_weight``);
:attr:`Synapses.weights` materializes them on first use, and :meth:`Synapses.editable` gives the
store plasticity edits (absolute targets, per-synapse weights). So a static network costs 2 bytes
per synapse plus 8 + 4 (n_parts + 2) bytes per neuron.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from neuroabm.model.layout import MAX_PART_WIDTH, n_partitions, target_dtype


@nb.njit(cache=True)
def _csr_from_sources(sources: np.ndarray, w_of_source: np.ndarray, n: int):
    """Counting sort of a (targets x in-degree) source table into source-major CSR.

    Targets are visited in increasing order, so every row comes out sorted by target.
    """
    n_tgt, k = sources.shape
    counts = np.zeros(n + 1, np.int64)
    for t in range(n_tgt):
        for j in range(k):
            counts[sources[t, j] + 1] += 1
    indptr = np.cumsum(counts)
    fill = indptr[:-1].copy()
    targets = np.empty(indptr[-1], np.int32)
    weights = np.empty(indptr[-1], np.float32)
    for t in range(n_tgt):
        for j in range(k):
            s = sources[t, j]
            q = fill[s]
            targets[q] = t
            weights[q] = w_of_source[s]
            fill[s] = q + 1
    return indptr, targets, weights


@nb.njit(cache=True)
def _row_splits(indptr: np.ndarray, targets: np.ndarray, bounds: np.ndarray) -> np.ndarray:
    """``split[s, p]`` = number of targets in row ``s`` below ``bounds[p]`` (rows are sorted)."""
    split = np.empty((indptr.shape[0] - 1, bounds.shape[0]), np.int32)
    update_splits(indptr, np.diff(indptr), targets, bounds, split, 0, indptr.shape[0] - 1)
    return split


@nb.njit(cache=True)
def update_splits(
    indptr: np.ndarray, row_len: np.ndarray, targets: np.ndarray, bounds: np.ndarray, split: np.ndarray,
    first_row: int, last_row: int,
) -> None:  # fmt: skip
    """Recompute ``split`` for rows ``first_row .. last_row - 1`` whose live part is ``row_len`` long."""
    n_parts = bounds.shape[0] - 1
    for s in range(first_row, last_row):
        a = indptr[s]
        b = a + row_len[s]
        q = a
        for p in range(n_parts + 1):
            while q < b and targets[q] < bounds[p]:
                q += 1
            split[s, p] = q - a


@nb.njit(cache=True)
def row_weights(indptr: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Per row, the weight shared by all of its synapses, or NaN if they differ (or the row is empty)."""
    n = indptr.shape[0] - 1
    out = np.full(n, np.nan, np.float32)
    for s in range(n):
        a = indptr[s]
        b = indptr[s + 1]
        if b > a:
            w = weights[a]
            same = True
            for q in range(a + 1, b):
                if weights[q] != w:
                    same = False
                    break
            if same:
                out[s] = w
    return out


@nb.njit(cache=True)
def _visit_targets(indptr, split, stored, base, absolute, counts):
    """One pass over the live slots: write absolute targets into ``absolute`` and/or count them in ``counts``.

    Either output may be None (numba compiles the pass without it); free slots at row ends are skipped.
    """
    n_parts = split.shape[1] - 1
    for s in range(indptr.shape[0] - 1):
        a = indptr[s]
        for p in range(n_parts):
            off = base[p]
            for q in range(a + split[s, p], a + split[s, p + 1]):
                t = off + stored[q]
                if absolute is not None:
                    absolute[q] = t
                if counts is not None:
                    counts[t] += 1


class Synapses:
    """Source-major CSR synapse store.

    Attributes:
        indptr: row pointers, shape (n + 1,), int64.
        stored: the stored target of each slot: its index, or with ``target_base`` its offset from
            its partition's first neuron; uint16 (n <= 65,536 or relative) or int32 (editable, wide).
        split: per-row offsets of the delivery partitions, shape (n, n_parts + 1), int32.
        row_weight: per source, the weight common to its whole row [mV], or NaN (float32).
        bounds: the target partitions: partition ``p`` holds neurons ``bounds[p] .. bounds[p+1]-1``.
        target_base: per partition, what is added to a stored offset (``bounds[:-1]``), or None
            when ``stored`` holds absolute indices.

    """

    def __init__(
        self,
        indptr: np.ndarray,
        targets: np.ndarray,
        weights: np.ndarray | None,
        split: np.ndarray,
        row_weight: np.ndarray,
        bounds: np.ndarray,
        target_base: np.ndarray | None = None,
    ) -> None:
        self.indptr, self.stored, self._weights = indptr, targets, weights
        self.split, self.row_weight, self.bounds, self.target_base = split, row_weight, bounds, target_base

    @classmethod
    def from_sources(cls, sources: np.ndarray, w_of_source: np.ndarray, n_parts: int = 8) -> Synapses:
        """Build from a table ``sources[target, j]`` of presynaptic indices (fixed in-degree).

        Args:
            sources: int array, shape (n_neurons, in_degree).
            w_of_source: weight of any synapse from each source [mV], shape (n_neurons,).
            n_parts: number of target partitions for parallel delivery (results do not depend on it);
                raised to :func:`n_partitions` when the network is wider than 65,536 neurons.

        """
        n = sources.shape[0]
        n_parts = max(n_parts, n_partitions(n, 1))
        indptr, targets, weights = _csr_from_sources(np.ascontiguousarray(sources, np.int32), w_of_source, n)
        bounds = np.linspace(0, n, n_parts + 1).round().astype(np.int64)
        split = _row_splits(indptr, targets, bounds)
        row_weight = row_weights(indptr, weights)
        if n <= MAX_PART_WIDTH:
            weights = _unless_uniform(weights, row_weight, indptr)
            return cls(indptr, targets.astype(np.uint16), weights, split, row_weight, bounds)
        base = bounds[:-1].copy()
        stored = np.empty(targets.size, np.uint16)
        for p in range(n_parts):  # rows are sorted, so partition p is one slice of every row
            sel = (targets >= bounds[p]) & (targets < bounds[p + 1])
            stored[sel] = targets[sel] - base[p]
        return cls(indptr, stored, _unless_uniform(weights, row_weight, indptr), split, row_weight, bounds, base)

    # ------------------------------------------------------------------------------ shape
    @property
    def n_neurons(self) -> int:
        """Number of neurons (rows)."""
        return self.indptr.shape[0] - 1

    @property
    def n_synapses(self) -> int:
        """Number of (live) synapses."""
        return int(self.split[:, -1].sum())

    @property
    def relative(self) -> bool:
        """True when targets are stored as offsets within their partition."""
        return self.target_base is not None

    # -------------------------------------------------------------------------- contents
    @property
    def targets(self) -> np.ndarray:
        """Postsynaptic neuron of every storage slot: the stored array, or absolute int32 (a new array)."""
        if self.target_base is None:
            return self.stored
        out = np.zeros(self.stored.size, np.int32)
        _visit_targets(self.indptr, self.split, self.stored, self.target_base, out, None)
        return out

    @property
    def weights(self) -> np.ndarray:
        """PSP amplitude of every storage slot [mV], float32.

        A static store computes them from ``row_weight`` on every call (a new array, not kept, so
        graph records and exports do not double the store); an editable store returns its own array.
        """
        if self._weights is None:
            w = np.repeat(self.row_weight, np.diff(self.indptr)).astype(np.float32)
            w[~self.live()] = 0.0
            return w
        return self._weights

    @property
    def has_weights(self) -> bool:
        """True when per-synapse weights are held (editable stores)."""
        return self._weights is not None

    def delivery_weights(self) -> np.ndarray:
        """The per-synapse weights delivery reads (empty when every row has one weight)."""
        return self._weights if self._weights is not None else _NO_WEIGHTS

    def delivery_base(self) -> np.ndarray:
        """Per partition, the offset delivery adds to a stored target (zeros for absolute storage)."""
        if self.target_base is None:
            return np.zeros(self.bounds.size - 1, np.int64)
        return self.target_base

    def row_targets(self, src: int) -> np.ndarray:
        """Absolute targets of the live synapses of row ``src``, sorted (int64)."""
        a = int(self.indptr[src])
        if self.target_base is None:
            return self.stored[a : a + self.split[src, -1]].astype(np.int64)
        pieces = [
            self.stored[a + self.split[src, p] : a + self.split[src, p + 1]].astype(np.int64) + self.target_base[p]
            for p in range(self.split.shape[1] - 1)
        ]
        return np.concatenate(pieces)

    def out_degree(self) -> np.ndarray:
        """Outgoing synapses per neuron: the live part of each row (``split[:, -1]``)."""
        return self.split[:, -1].astype(np.int64)

    def live(self) -> np.ndarray:
        """Mask over the storage slots: True for synapses, False for free slots at row ends."""
        if self.indptr[-1] == self.n_synapses:
            return np.ones(int(self.indptr[-1]), bool)
        row_of_slot = np.repeat(np.arange(self.n_neurons), np.diff(self.indptr))
        return np.arange(self.indptr[-1]) - self.indptr[row_of_slot] < self.split[row_of_slot, -1]

    def in_degree(self) -> np.ndarray:
        """Incoming synapses per neuron (one pass over the store, no copy of it)."""
        counts = np.zeros(self.n_neurons, np.int64)
        _visit_targets(self.indptr, self.split, self.stored, self.delivery_base(), None, counts)
        return counts

    def sources(self) -> np.ndarray:
        """Presynaptic neuron of every storage slot (the row index), int32."""
        return np.repeat(np.arange(self.n_neurons, dtype=np.int32), np.diff(self.indptr))

    def edges(self, weights: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(source, target, weight)`` of every live synapse, store order (``weights`` default: the store's)."""
        w = self.weights if weights is None else weights
        src, tgt = self.sources(), self.targets
        if self.indptr[-1] == self.n_synapses:
            return src, tgt, w
        keep = self.live()
        return src[keep], tgt[keep], w[keep]

    # ----------------------------------------------------------------------------- editing
    def editable(self) -> Synapses:
        """The store plasticity can edit in place: absolute targets and per-synapse weights (self if it is)."""
        if self.target_base is None and self._weights is not None:
            return self
        targets = self.targets.astype(target_dtype(self.n_neurons))
        return Synapses(self.indptr, targets, self.weights, self.split, self.row_weight, self.bounds)

    def with_slack(self, n_rows: int, slack: float, extra: int = 2) -> Synapses:
        """A copy whose first ``n_rows`` rows have room to grow: capacity ``ceil(len (1 + slack)) + extra``.

        Free slots sit at the end of each row (target 0, weight 0) and are never delivered
        (``split[:, -1]`` is the live length). The copy is editable (see :meth:`editable`).
        """
        src = self.editable()
        n = src.n_neurons
        length = np.diff(src.indptr)
        cap = length.copy()
        cap[:n_rows] = np.ceil(length[:n_rows] * (1.0 + slack)).astype(np.int64) + extra
        indptr = np.zeros(n + 1, np.int64)
        np.cumsum(cap, out=indptr[1:])
        slot = np.repeat(indptr[:-1] - src.indptr[:-1], length) + np.arange(src.indptr[-1])
        targets = np.zeros(indptr[-1], src.stored.dtype)
        weights = np.zeros(indptr[-1], np.float32)
        targets[slot] = src.stored
        weights[slot] = src.weights
        split = src.split.copy()
        return Synapses(indptr, targets, weights, split, src.row_weight.copy(), src.bounds)

    def nbytes(self) -> int:
        """Memory held by the store [bytes]."""
        arrays = [self.indptr, self.stored, self.split, self.row_weight]
        if self._weights is not None:
            arrays.append(self._weights)
        return sum(a.nbytes for a in arrays)


_NO_WEIGHTS = np.zeros(0, np.float32)


def _unless_uniform(weights: np.ndarray, row_weight: np.ndarray, indptr: np.ndarray) -> np.ndarray | None:
    """``weights``, or None when every non-empty row has one weight (``row_weight`` holds them all)."""
    uniform = (row_weight == row_weight) | (np.diff(indptr) == 0)
    return None if bool(np.all(uniform)) else weights
