"""Building the synapse store of a uniform fixed in-degree network without holding its edge list twice.

The sources of every neuron are drawn in blocks of targets (:func:`~neuroabm.model.connectivity.uniform_blocks`).
The build runs over the blocks twice with the same random stream: the first pass only counts the
synapses of every (source, target partition) pair, which fixes the row pointers and ``split``; the
generator's state is then rewound and the second pass writes every target straight into its slot.
So the store is the only per-synapse array ever allocated (2 bytes per synapse, see
:mod:`neuroabm.model.synapses`), the draws are exactly those of :func:`~neuroabm.model.connectivity.draw_sources`
(same seed, same network as the table-based build), and the generator ends in the same state.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from neuroabm.model.connectivity import uniform_blocks
from neuroabm.model.layout import MAX_PART_WIDTH, n_partitions
from neuroabm.model.synapses import Synapses


@nb.njit(cache=True)
def _count(draws: np.ndarray, first: int, bounds: np.ndarray, counts: np.ndarray) -> None:
    """``counts[s, p + 1] += 1`` for every draw ``s`` of a target in partition ``p``."""
    p = 0
    for r in range(draws.shape[0]):
        t = first + r
        while t >= bounds[p + 1]:
            p += 1
        for j in range(draws.shape[1]):
            counts[draws[r, j], p + 1] += 1


@nb.njit(cache=True)
def _fill(draws: np.ndarray, first: int, bounds: np.ndarray, base: np.ndarray, fill: np.ndarray, out: np.ndarray):
    """Write the block's targets (minus their partition base) at the next free slot of each source row."""
    p = 0
    for r in range(draws.shape[0]):
        t = first + r
        while t >= bounds[p + 1]:
            p += 1
        stored = t - base[p]
        for j in range(draws.shape[1]):
            s = draws[r, j]
            out[fill[s]] = stored
            fill[s] += 1


def _passes(rng: np.random.Generator, n: int, n_exc: int, k_exc: int, k_inh: int):
    """The draw blocks in :func:`draw_sources` order: excitatory pool for every target, then inhibitory."""
    if k_exc:
        yield from uniform_blocks(rng, n, 0, n_exc, k_exc)
    if k_inh:
        yield from uniform_blocks(rng, n, n_exc, n, k_inh)


def build_uniform(
    rng: np.random.Generator, n: int, n_exc: int, k_exc: int, k_inh: int, w_of_source: np.ndarray, threads: int = 1
) -> Synapses:
    """The store of :func:`draw_sources` with ``kernel="uniform"``, built in two passes over one stream.

    Args:
        rng: seeded generator (left in the state a single pass would leave it in).
        n: neurons.
        n_exc: excitatory neurons, ``0 .. n_exc - 1``.
        k_exc: excitatory in-degree.
        k_inh: inhibitory in-degree.
        w_of_source: weight of every synapse from each source [mV], float32, shape (n,).
        threads: threads of the delivery (sets the minimum partition count; results do not depend on it).

    >>> import numpy as np
    >>> from neuroabm.model.connectivity import draw_sources
    >>> w = np.where(np.arange(50) < 40, 0.1, -0.5).astype(np.float32)
    >>> a = build_uniform(np.random.default_rng(1), 50, 40, 4, 1, w)
    >>> b = Synapses.from_sources(draw_sources(np.random.default_rng(1), np.zeros((50, 2)), 40, 4, 1, 1.0), w, 2)
    >>> bool(np.array_equal(a.targets, b.targets) and np.array_equal(a.indptr, b.indptr))
    True

    """
    n_parts = n_partitions(n, threads)
    bounds = np.linspace(0, n, n_parts + 1).round().astype(np.int64)
    relative = n > MAX_PART_WIDTH
    base = bounds[:-1].copy() if relative else np.zeros(n_parts, np.int64)
    start = rng.bit_generator.state
    split = np.zeros((n, n_parts + 1), np.int32)
    for first, draws in _passes(rng, n, n_exc, k_exc, k_inh):
        _count(draws, first, bounds, split)
    np.cumsum(split, axis=1, out=split)
    indptr = np.zeros(n + 1, np.int64)
    np.cumsum(split[:, -1], out=indptr[1:])
    stored = np.empty(int(indptr[-1]), np.uint16)  # absolute (n <= 65,536) or partition-relative
    end = rng.bit_generator.state
    rng.bit_generator.state = start
    fill = indptr[:-1].copy()
    for first, draws in _passes(rng, n, n_exc, k_exc, k_inh):
        _fill(draws, first, bounds, base, fill, stored)
    if rng.bit_generator.state != end:  # the replay must draw exactly the same numbers
        raise RuntimeError("the synapse build's replay diverged from its count pass")
    row_weight = np.asarray(w_of_source, np.float32).copy()
    row_weight[split[:, -1] == 0] = np.nan
    return Synapses(indptr, stored, None, split, row_weight, bounds, base if relative else None)
