"""The neuron kernels' spike bookkeeping, shared by every neuron model (LIF, Izhikevich).

A spike of neuron ``i`` in step ``k`` goes into its chunk's slice of the block buffers
(``spk_neuron``, ``spk_step`` from ``base``; :mod:`neuroabm.model.kernels`) and into the per-neuron
counters the summary and the rate recorders read: spike count, last spike step and the running
sums of inter-spike intervals [steps] and their squares.
"""

from __future__ import annotations

import numba as nb
import numpy as np


@nb.njit(cache=True)
def record_spike(
    i: int,
    k: int,
    slot: int,
    spk_neuron: np.ndarray,
    spk_step: np.ndarray,
    spike_count: np.ndarray,
    last_spike: np.ndarray,
    isi_sum: np.ndarray,
    isi_sq: np.ndarray,
) -> None:
    """Write the spike of neuron ``i`` in step ``k`` to buffer position ``slot`` and count it.

    Called once per spike (not per step), so the call costs nothing next to the integration.

    >>> z = np.zeros(2)
    >>> n, s, c, last = np.zeros(2, np.int64), np.zeros(2, np.int64), np.zeros(1, np.int64), np.array([-1])
    >>> record_spike(0, 5, 0, n, s, c, last, z[:1], z[1:])
    >>> record_spike(0, 9, 1, n, s, c, last, z[:1], z[1:])
    >>> s.tolist(), c.tolist(), z.tolist()
    ([5, 9], [2], [4.0, 16.0])
    """
    spk_neuron[slot] = i
    spk_step[slot] = k
    if last_spike[i] >= 0:
        isi = float(k - last_spike[i])
        isi_sum[i] += isi
        isi_sq[i] += isi * isi
    last_spike[i] = k
    spike_count[i] += 1
