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
    n = indptr.shape[0] - 1
    n_parts = bounds.shape[0] - 1
    split = np.empty((n, n_parts + 1), np.int32)
    for s in range(n):
        a = indptr[s]
        b = indptr[s + 1]
        q = a
        for p in range(n_parts + 1):
            while q < b and targets[q] < bounds[p]:
                q += 1
            split[s, p] = q - a
    return split


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
        """Number of synapses."""
        return int(self.indptr[-1])

    def out_degree(self) -> np.ndarray:
        """Outgoing synapses per neuron."""
        return np.diff(self.indptr)

    def in_degree(self) -> np.ndarray:
        """Incoming synapses per neuron."""
        return np.bincount(self.targets, minlength=self.n_neurons)

    def sources(self) -> np.ndarray:
        """Presynaptic neuron of every synapse (expanded row index), int32."""
        return np.repeat(np.arange(self.n_neurons, dtype=np.int32), self.out_degree())

    def refresh_row_weights(self) -> None:
        """Recompute ``row_weight`` after weights were changed in place."""
        self.row_weight = row_weights(self.indptr, self.weights)

    def nbytes(self) -> int:
        """Memory held by the store [bytes]."""
        arrays = (self.indptr, self.targets, self.weights, self.split, self.row_weight)
        return sum(a.nbytes for a in arrays)
