"""Numba kernels for the network's hot loops: membrane integration and spike delivery.

Time is cut into blocks no longer than the synaptic delay. Within a block no spike emitted in
the block can arrive in the block, so (1) every neuron is integrated through the whole block
independently, in parallel over fixed chunks of neurons, and (2) the block's spikes are then
delivered, in parallel over fixed partitions of the *targets*. Chunks and partitions are fixed
by the model, not by the thread count, and each target sums its inputs in spike order, so the
result is bit-identical for any number of threads.

Step convention: step ``k`` covers ``(k dt, (k+1) dt]``. Input in ring slot ``k`` is applied at
the end of step ``k``; a spike emitted in step ``k`` happens at ``(k+1) dt`` and lands in slot
``k + delay_steps``, i.e. it arrives exactly ``delay`` later.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from neuroabm.model.prefetch import prefetch
from neuroabm.model.quantal import factor_bits, factor_from_bits, spike_stream
from neuroabm.model.random_streams import (
    bits_to_uniform,
    draw_bits,
    poisson_draw,
    slot_counter,
    standard_normal,
    stream_state,
    stream_stride,
)
from neuroabm.model.spike_buffer import record_spike
from neuroabm.model.threads import serial_twin

#: bridge probabilities below exp(-BRIDGE_CUTOFF) are treated as zero
BRIDGE_CUTOFF = 40.0
#: delivery prefetch distances [spikes]: row pointers FAR ahead, the first target lines NEAR ahead
FAR = 8
NEAR = 3
#: stored targets per 64-byte cache line (uint16)
LINE_ITEMS = 32
#: default key of the quantal draws (unused without a quantal table)
NO_KEY = np.uint64(0)


@nb.njit(parallel=True, cache=True, fastmath=False)
def integrate_block(
    v: np.ndarray,
    refr: np.ndarray,
    ring: np.ndarray,
    k0: int,
    n_steps: int,
    decay: float,
    drift: float,
    noise_sd: float | None,
    v_th: float,
    v_reset: float,
    reset_subtract: bool,
    n_ref: int,
    j_ext: float,
    upper: np.ndarray | None,
    guide: np.ndarray,
    bias: np.ndarray | None,
    bias_scale: float,
    key: np.uint64,
    chunk_lo: np.ndarray,
    cap: int,
    spk_neuron: np.ndarray,
    spk_step: np.ndarray,
    chunk_n: np.ndarray,
    spike_count: np.ndarray,
    last_spike: np.ndarray,
    isi_sum: np.ndarray,
    isi_sq: np.ndarray,
) -> None:
    """Advance all neurons through steps ``k0 .. k0 + n_steps - 1`` (exact integration).

    Per step: ``V <- drift + decay * V`` (+ white noise ``noise_sd * xi``) + external Poisson
    jumps ``j_ext * n`` + recurrent input from the ring; spike when ``V >= v_th``; reset and
    clamp for ``n_ref`` steps, dropping input (``reset_subtract``: ``V -= v_th - v_reset`` instead of
    ``V = v_reset``, keeping the overshoot, Levina et al. 2007). With white noise, a crossing between grid points
    is caught with the Brownian-bridge probability ``exp(-2 (th - V0)(th - V1) / noise_sd^2)``.

    ``bias_scale * bias[i]`` [mV per step] is a per-neuron depolarization, constant within the
    block (dopamine excitability: ``bias`` is the local dopamine [uM], ``bias_scale`` the mV per
    step and uM). ``noise_sd=None`` (no white noise), ``upper=None`` (no Poisson drive) and
    ``bias=None`` compile to specializations without those branches (numba prunes ``is None``
    tests on arguments).
    """
    n = v.shape[0]
    n_slots = ring.shape[0]
    n_chunks = chunk_lo.shape[0] - 1
    slots = np.empty(n_steps, np.int64)
    for s in range(n_steps):
        slots[s] = (k0 + s) % n_slots
    stride = stream_stride(n)
    for c in nb.prange(n_chunks):
        found = 0
        base = chunk_lo[c] * cap
        for i in range(chunk_lo[c], chunk_lo[c + 1]):
            vi = v[i]
            ri = refr[i]
            bi = bias_scale * bias[i] if bias is not None else 0.0
            state = stream_state(key, slot_counter(k0, n, i))
            for s in range(n_steps):
                slot = slots[s]
                inp = float(ring[slot, i])
                ring[slot, i] = 0.0
                st = state
                state += stride
                if ri > 0:
                    ri -= 1
                    continue
                k = k0 + s
                v_old = vi
                vi = drift + decay * vi
                if bias is not None:
                    vi += bi
                fired = False
                if noise_sd is not None:
                    vi += noise_sd * standard_normal(st)
                    if vi < v_th and v_old < v_th:
                        x = 2.0 * (v_th - v_old) * (v_th - vi) / (noise_sd * noise_sd)
                        if x < BRIDGE_CUTOFF and bits_to_uniform(draw_bits(st, 2)) < math.exp(-x):
                            fired = True
                if upper is not None:
                    inp += j_ext * poisson_draw(draw_bits(st, 3), upper, guide)
                vi += inp
                if fired or vi >= v_th:
                    record_spike(i, k, base + found, spk_neuron, spk_step, spike_count, last_spike, isi_sum, isi_sq)
                    found += 1
                    vi = vi - (v_th - v_reset) if reset_subtract else v_reset
                    ri = n_ref
            v[i] = vi
            refr[i] = ri
        chunk_n[c] = found


@nb.njit(cache=True)
def _by_slot(spk_neuron, spk_step, chunk_lo, chunk_n, cap, n_slots, delay_steps, indptr):
    """The block's spike entries grouped by the ring slot they land in (a stable counting sort).

    Delivery then fills one ring row at a time, so a partition's working set is one row slice
    (e.g. 62,500 targets x 4 bytes = 250 kB, in L2) instead of one per step of the block. Every
    ring entry still receives its spikes in buffer order, so sums are unchanged bit for bit.
    Returns the entries (positions in the block's buffers), their sources and row starts in that
    order (read sequentially by every partition), and the first entry of every slot.
    """
    n_chunks = chunk_lo.shape[0] - 1
    start = np.zeros(n_slots + 1, np.int64)
    for c in range(n_chunks):
        base = chunk_lo[c] * cap
        for e in range(chunk_n[c]):
            start[(spk_step[base + e] + delay_steps) % n_slots + 1] += 1
    for s in range(n_slots):
        start[s + 1] += start[s]
    fill = start[:-1].copy()
    order = np.empty(start[n_slots], np.int64)
    src = np.empty(start[n_slots], np.int64)
    row = np.empty(start[n_slots], np.int64)
    for c in range(n_chunks):
        base = chunk_lo[c] * cap
        for e in range(chunk_n[c]):
            slot = (spk_step[base + e] + delay_steps) % n_slots
            q = fill[slot]
            order[q] = base + e
            src[q] = spk_neuron[base + e]
            row[q] = indptr[src[q]]
            fill[slot] = q + 1
    return order, src, row, start


@nb.njit(parallel=True, cache=True)
def deliver_block(
    spk_neuron: np.ndarray,
    spk_step: np.ndarray,
    chunk_lo: np.ndarray,
    chunk_n: np.ndarray,
    cap: int,
    indptr: np.ndarray,
    split: np.ndarray,
    targets: np.ndarray,
    weights: np.ndarray,
    row_weight: np.ndarray,
    ring: np.ndarray,
    delay_steps: int,
    spk_scale: np.ndarray | None = None,
    first_src: int = 0,
    target_base: np.ndarray | None = None,
    q_table: np.ndarray | None = None,
    q_key: np.uint64 = NO_KEY,
    q_sources: int = 0,
) -> None:
    """Scatter the block's spikes into the delay ring, event-driven (only spiking rows are read).

    ``split[src, p]`` is the offset in row ``src`` of the first target of partition ``p``; each
    parallel task owns one target partition, so no two tasks write the same ring entry. Rows whose
    synapses all carry the same weight (``row_weight[src]`` not NaN) skip reading ``weights``,
    halving the memory traffic of delivery. ``spk_scale`` (per spike entry, e.g. the efficacy of a
    depressing synapse, :mod:`neuroabm.model.depression`) multiplies the weights of that spike;
    ``None`` compiles the static path without it. Sources below ``first_src`` are skipped (the
    plastic rows, which the STDP kernel delivers in its own pass over them). ``target_base[p]`` is
    added to every stored target of partition ``p`` (partition-relative uint16 storage of wide
    networks, :mod:`neuroabm.model.synapses`); ``None`` means the targets are absolute.

    Quantal variability (:mod:`neuroabm.model.quantal`): with ``q_table`` (float32 factors, mean 1)
    every synapse of a source below ``q_sources`` (the excitatory neurons) is multiplied by its own
    factor, drawn from the table by a counter-based stream keyed by (``q_key``, spike step, source,
    slot in the row). ``None`` compiles the path without it (Brunel's fixed amplitudes).
    """
    n_slots = ring.shape[0]
    n_neurons = ring.shape[1]
    n_parts = split.shape[1] - 1
    order, srcs, rows, start = _by_slot(spk_neuron, spk_step, chunk_lo, chunk_n, cap, n_slots, delay_steps, indptr)
    for p in nb.prange(n_parts):
        off = np.int64(0)
        if target_base is not None:
            off = target_base[p]
        for slot in range(n_slots):
            row = ring[slot]
            last = start[slot + 1] - 1
            for idx in range(start[slot], start[slot + 1]):
                # rows start at random places: ask for the split entries FAR spikes ahead and for
                # the target lines NEAR spikes ahead (their split entries arrived meanwhile)
                prefetch(split, (srcs[min(idx + FAR, last)], p))
                near = min(idx + NEAR, last)
                for q in range(rows[near] + split[srcs[near], p], rows[near] + split[srcs[near], p + 1], LINE_ITEMS):
                    prefetch(targets, q)
                entry = order[idx]  # position of the spike in the block's buffers
                src = srcs[idx]
                if src < first_src:
                    continue
                a = rows[idx] + split[src, p]
                b = rows[idx] + split[src, p + 1]
                w = row_weight[src]
                f = np.float32(1.0)
                if spk_scale is not None:
                    f = np.float32(spk_scale[entry])
                    w = w * f
                if q_table is not None:
                    if src < q_sources:  # one factor per (spike, synapse): see neuroabm/model/quantal.py
                        sk = spike_stream(q_key, spk_step[entry], n_neurons, src)
                        r0 = rows[idx]
                        z = factor_bits(sk, a - r0)  # one draw per four slots: renewed at slots 0 mod 4
                        if w == w:
                            for q in range(a, b):
                                if (q - r0) & 3 == 0:
                                    z = factor_bits(sk, q - r0)
                                row[off + targets[q]] += w * factor_from_bits(q_table, z, q - r0)
                        else:
                            for q in range(a, b):
                                if (q - r0) & 3 == 0:
                                    z = factor_bits(sk, q - r0)
                                row[off + targets[q]] += weights[q] * f * factor_from_bits(q_table, z, q - r0)
                        continue
                if w == w:  # not NaN: one weight for the whole row
                    for q in range(a, b):
                        row[off + targets[q]] += w
                elif spk_scale is not None:
                    for q in range(a, b):
                        row[off + targets[q]] += weights[q] * f
                else:
                    for q in range(a, b):
                        row[off + targets[q]] += weights[q]


@nb.njit(cache=True)
def gather_spikes(
    spk_neuron: np.ndarray,
    spk_step: np.ndarray,
    chunk_lo: np.ndarray,
    chunk_n: np.ndarray,
    cap: int,
    out_step: np.ndarray,
    out_neuron: np.ndarray,
    pos: int,
) -> int:
    """Append the block's spikes to the recorder buffers at ``pos``; return the new end."""
    for c in range(chunk_lo.shape[0] - 1):
        base = chunk_lo[c] * cap
        for e in range(chunk_n[c]):
            out_step[pos] = spk_step[base + e]
            out_neuron[pos] = spk_neuron[base + e]
            pos += 1
    return pos


#: the same kernels compiled without threads, for networks too small to pay for a barrier (threads.py)
integrate_block_serial = serial_twin(integrate_block)
deliver_block_serial = serial_twin(deliver_block)
