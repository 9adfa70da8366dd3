"""Synapse storage: compressed sparse rows by *source* neuron (outgoing synapses).

Per synapse the store holds a target index and a weight (float32, mV). Targets are uint16 when the
network has at most 65,536 neurons (6 bytes per synapse) and int32 above (8 bytes): delivery is
bound by reading them, so the narrow type makes it about a third faster. Rows are
sorted by target, so a row splits into contiguous pieces by target partition (``split``), which
is what lets delivery run in parallel without write conflicts. All synapses share one delay,
handled by the model's delay ring buffer. ``row_weight`` caches, per source, the weight shared by
all of its synapses (NaN where they differ); delivery then skips reading per-synapse weights.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba as nb
import numpy as np


def target_dtype(n_neurons: int) -> type[np.integer]:
    """Narrowest index type for ``n_neurons`` targets: uint16 up to 65,536 neurons, else int32."""
    return np.uint16 if n_neurons <= 1 << 16 else np.int32


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


@dataclass
class Synapses:
    """Source-major CSR synapse store.

    Attributes:
        indptr: row pointers, shape (n + 1,), int64.
        targets: postsynaptic neuron of each synapse, uint16 (n <= 65,536) or int32.
        weights: PSP amplitude of each synapse [mV], float32 (negative for inhibition).
        split: per-row offsets of the delivery partitions, shape (n, n_parts + 1), int32.
        row_weight: per source, the weight common to its whole row [mV], or NaN (float32).
        bounds: the target partitions: partition ``p`` holds neurons ``bounds[p] .. bounds[p+1]-1``.

    """

    indptr: np.ndarray
    targets: np.ndarray
    weights: np.ndarray
    split: np.ndarray
    row_weight: np.ndarray
    bounds: np.ndarray

    @classmethod
    def from_sources(cls, sources: np.ndarray, w_of_source: np.ndarray, n_parts: int = 8) -> Synapses:
        """Build from a table ``sources[target, j]`` of presynaptic indices (fixed in-degree).

        Args:
            sources: int array, shape (n_neurons, in_degree).
            w_of_source: weight of any synapse from each source [mV], shape (n_neurons,).
            n_parts: number of target partitions for parallel delivery (results do not depend on it).

        """
        n = sources.shape[0]
        indptr, targets, weights = _csr_from_sources(np.ascontiguousarray(sources, np.int32), w_of_source, n)
        targets = targets.astype(target_dtype(n))
        bounds = np.linspace(0, n, n_parts + 1).round().astype(np.int64)
        split = _row_splits(indptr, targets, bounds)
        return cls(indptr, targets, weights, split, row_weights(indptr, weights), bounds)

    @property
    def n_neurons(self) -> int:
        """Number of neurons (rows)."""
        return self.indptr.shape[0] - 1

    @property
    def n_synapses(self) -> int:
        """Number of (live) synapses."""
        return int(self.split[:, -1].sum())

    def out_degree(self) -> np.ndarray:
        """Outgoing synapses per neuron: the live part of each row (``split[:, -1]``)."""
        return self.split[:, -1].astype(np.int64)

    def live(self) -> np.ndarray:
        """Mask over the storage slots: True for synapses, False for free slots at row ends."""
        row_of_slot = np.repeat(np.arange(self.n_neurons), np.diff(self.indptr))
        return np.arange(self.indptr[-1]) - self.indptr[row_of_slot] < self.split[row_of_slot, -1]

    def in_degree(self) -> np.ndarray:
        """Incoming synapses per neuron."""
        targets = self.targets if self.indptr[-1] == self.n_synapses else self.targets[self.live()]
        return np.bincount(targets, minlength=self.n_neurons)

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

    def with_slack(self, n_rows: int, slack: float, extra: int = 2) -> Synapses:
        """A copy whose first ``n_rows`` rows have room to grow: capacity ``ceil(len (1 + slack)) + extra``.

        Free slots sit at the end of each row (target 0, weight 0) and are never delivered
        (``split[:, -1]`` is the live length).
        """
        n = self.n_neurons
        length = np.diff(self.indptr)
        cap = length.copy()
        cap[:n_rows] = np.ceil(length[:n_rows] * (1.0 + slack)).astype(np.int64) + extra
        indptr = np.zeros(n + 1, np.int64)
        np.cumsum(cap, out=indptr[1:])
        slot = np.repeat(indptr[:-1] - self.indptr[:-1], length) + np.arange(self.indptr[-1])
        targets = np.zeros(indptr[-1], self.targets.dtype)
        weights = np.zeros(indptr[-1], np.float32)
        targets[slot] = self.targets
        weights[slot] = self.weights
        split = self.split.copy()
        return Synapses(indptr, targets, weights, split, self.row_weight.copy(), self.bounds)

    def refresh_row_weights(self) -> None:
        """Recompute ``row_weight`` after weights were changed in place."""
        self.row_weight = row_weights(self.indptr, self.weights)

    def nbytes(self) -> int:
        """Memory held by the store [bytes]."""
        arrays = (self.indptr, self.targets, self.weights, self.split, self.row_weight)
        return sum(a.nbytes for a in arrays)
