"""Sizes of the synapse store's index types and partitions (no numba: the memory estimate uses them).

Delivery is bound by reading targets, so they are stored in the fewest bytes, two: up to 65,536
neurons a target is its index (uint16); above, every target partition is at most 65,536 neurons
wide and a target is stored as its offset from the partition's first neuron (see
:mod:`neuroabm.model.synapses`). Partitions also let delivery run in parallel without write
conflicts, and a narrow partition keeps its slice of a delay-ring row in the L2 cache.
"""

from __future__ import annotations

import os

import numpy as np

#: widest target partition whose offsets fit in uint16
MAX_PART_WIDTH = 1 << 16
#: partition width delivery aims at: a slice of a ring row (65,536 x 4 bytes = 256 kB) stays in L2
#: (measured at N = 10^6: 16 partitions deliver 25 % faster than 31)
PART_WIDTH = 1 << 16


def n_partitions(n_neurons: int, threads: int) -> int:
    """Target partitions: at least two, one per thread, and at most :data:`PART_WIDTH` neurons each.

    >>> n_partitions(10_000, 2), n_partitions(1_000_000, 2)
    (2, 16)
    """
    return max(2, threads, -(-n_neurons // PART_WIDTH))


def target_dtype(n_neurons: int) -> type[np.integer]:
    """Narrowest type for absolute target indices: uint16 up to 65,536 neurons, else int32."""
    return np.uint16 if n_neurons <= MAX_PART_WIDTH else np.int32


def pool_threads() -> int:
    """Numba's pool size as it will be (``NUMBA_NUM_THREADS``, else the core count), without importing numba."""
    value = os.environ.get("NUMBA_NUM_THREADS", "")
    return int(value) if value.isdigit() and int(value) > 0 else (os.cpu_count() or 1)
