"""Quantal variability in the network: a random factor on every delivered excitatory PSP.

With ``quantal = "cleft"`` each spike of an excitatory neuron reaches each of its targets with the
amplitude ``J q``, where ``q`` is drawn independently per (spike, synapse) from the peak open
receptor counts of the molecule-by-molecule cleft simulation (:mod:`neuroabm.cleft`, default
synapse ``runs/cleft/synapse.toml``) normalized to mean 1 (:func:`neuroabm.cleft.quantal.quantal_distribution`).
Mean-field theory then sees the same mean input and an excitatory shot-noise variance ``J^2 E[q^2]``
per spike (``brunel_rate(..., exc_q2=...)``).

**The table.** :data:`CLEFT_PEAK_OPEN_HISTOGRAM` holds how many of :data:`TABLE_SIZE` = 4,096
simulated releases (cleft defaults, seed :data:`CLEFT_SEED`) opened 0, 1, 2, ... receptors at their
peak; :func:`cleft_histogram` recomputes it (about 4 minutes on one core; ``tests/test_quantal_network.py``
checks the stored copy against a fresh simulation, marked slow). :func:`quantal_table` expands it to
the sorted 4,096 samples divided by their mean (float32), so every one of the 4,096 releases is one
equally likely entry and the table's own moments are exact: mean 1, :func:`table_second_moment`.

**The draws.** The factor of synapse slot ``j`` (position in its source's row, which is sorted by
target and does not depend on partitions or threads) for a spike of neuron ``src`` emitted in step
``k`` is the table entry indexed by the top 12 bits of the 16-bit field ``j % 4`` of the 64 random
bits ``z = mix64(stream_state(s, j // 4))``, with ``s = mix64(stream_state(key ^ QUANTAL_SALT, k n + src))``
(SplitMix64, :mod:`neuroabm.model.random_streams`; one draw serves four synapses, which makes
the factors cost a quarter of a hash per synapse). So a factor is a pure function of (seed, step,
source, slot): bit-identical for any thread count, block length or partitioning, and consuming no
draws of the model's other streams (runs with ``quantal = "off"`` are unchanged).
"""

from __future__ import annotations

from functools import cache

import numba as nb
import numpy as np

from neuroabm.model.random_streams import mix64, stream_state

__all__ = [
    "CLEFT_PEAK_OPEN_HISTOGRAM",
    "CLEFT_SEED",
    "QUANTAL_SALT",
    "TABLE_BITS",
    "TABLE_SIZE",
    "cleft_histogram",
    "factor_bits",
    "factor_from_bits",
    "quantal_factor",
    "quantal_table",
    "sample_factors",
    "spike_stream",
    "table_second_moment",
]

#: a factor is indexed by TABLE_BITS random bits (the top bits of a 16-bit field of a draw)
TABLE_BITS = 12
#: entries of the table: simulated releases, each equally likely
TABLE_SIZE = 1 << TABLE_BITS
#: seed of the cleft simulation behind the table
CLEFT_SEED = 1
#: xor-ed into the model's key to get the key of the quantal draws
QUANTAL_SALT = np.uint64(0x51A7_7A15_0DD5_EED5)
_SHIFT = 64 - TABLE_BITS
_MASK = np.uint64(TABLE_SIZE - 1)

#: releases (of TABLE_SIZE) whose peak open count was 0, 1, 2, ...: default cleft, seed CLEFT_SEED
CLEFT_PEAK_OPEN_HISTOGRAM: tuple[int, ...] = (1224, 1470, 907, 392, 84, 18, 0, 0, 1)


def cleft_histogram(trials: int = TABLE_SIZE, seed: int = CLEFT_SEED) -> tuple[int, ...]:
    """Peak open receptor counts of ``trials`` releases of the default cleft, as a histogram.

    Runs :func:`neuroabm.cleft.simulate.simulate` (trial ``k`` depends only on ``(seed, k)``, so
    the result does not depend on threads). Costs about 50 ms per trial on one core.
    """
    from neuroabm.cleft.params import load_cleft_config
    from neuroabm.cleft.simulate import simulate

    peak = np.asarray(simulate(load_cleft_config(None), trials=trials, seed=seed).peak_open)
    return tuple(int(c) for c in np.bincount(peak.astype(np.int64)))


@cache
def quantal_table() -> np.ndarray:
    """The :data:`TABLE_SIZE` factors: the sorted peak open counts divided by their mean (float32).

    >>> t = quantal_table()
    >>> t.shape, t.dtype.name, bool(np.all(np.diff(t) >= 0))
    ((4096,), 'float32', True)
    """
    counts = np.repeat(np.arange(len(CLEFT_PEAK_OPEN_HISTOGRAM)), CLEFT_PEAK_OPEN_HISTOGRAM).astype(np.float64)
    if counts.size != TABLE_SIZE:  # the stored histogram is part of the code: a mismatch is a bug
        raise RuntimeError(f"quantal histogram holds {counts.size} releases, expected {TABLE_SIZE}")
    table = (counts / counts.mean()).astype(np.float32)
    table.flags.writeable = False
    return table


def table_second_moment() -> float:
    """``E[q^2]`` of a uniformly drawn table entry (dimensionless; ``E[q] = 1`` to float32 rounding)."""
    return float(np.mean(quantal_table().astype(np.float64) ** 2))


@nb.njit(inline="always", cache=True)
def spike_stream(key: np.uint64, step: np.int64, n_neurons: np.int64, src: np.int64) -> np.uint64:
    """Key of the factors of the spike of ``src`` emitted in ``step`` (``key``: the model's key)."""
    return mix64(stream_state(key ^ QUANTAL_SALT, np.uint64(step * n_neurons + src)))


@nb.njit(inline="always", cache=True)
def factor_bits(spike_key: np.uint64, slot: np.int64) -> np.uint64:
    """The 64 random bits shared by slots ``4 (slot // 4) .. 4 (slot // 4) + 3`` of a spike."""
    return mix64(stream_state(spike_key, np.uint64(slot >> 2)))


@nb.njit(inline="always", cache=True)
def factor_from_bits(table: np.ndarray, bits: np.uint64, slot: np.int64) -> np.float32:
    """Factor of ``slot``: the table entry indexed by the top 12 bits of 16-bit field ``slot % 4`` of ``bits``."""
    return table[(bits >> np.uint64(_SHIFT - 16 * (slot & 3))) & _MASK]


@nb.njit(inline="always", cache=True)
def quantal_factor(table: np.ndarray, spike_key: np.uint64, slot: np.int64) -> np.float32:
    """Factor of synapse ``slot`` (offset in its row) for the spike with key ``spike_key``."""
    return factor_from_bits(table, factor_bits(spike_key, slot), slot)


@nb.njit(cache=True)
def sample_factors(
    table: np.ndarray, key: np.uint64, steps: np.ndarray, sources: np.ndarray, n_slots: int, n_neurons: int
) -> np.ndarray:
    """The factors delivery uses for the spikes ``(steps[i], sources[i])`` on slots ``0 .. n_slots - 1``.

    Returns a float32 array of shape ``(len(steps), n_slots)``: the same draws as
    :func:`neuroabm.model.kernels.deliver_block` (for tests and analysis).
    """
    out = np.empty((steps.shape[0], n_slots), np.float32)
    for i in range(steps.shape[0]):
        sk = spike_stream(key, steps[i], n_neurons, sources[i])
        for j in range(n_slots):
            out[i, j] = quantal_factor(table, sk, j)
    return out
