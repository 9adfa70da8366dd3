"""Numba kernels of dopamine-gated STDP (three-factor rule; Izhikevich 2007, REFERENCES.md §4).

Per synapse ``q`` (from an excitatory neuron ``i`` to a neuron ``j``)::

    dc/dt = -c / tau_c + A+ x_i(t) [post spikes of j] - A- y_j(t) [pre spikes of i]
    dw/dt = eta_da c (D_j(t) - D0),  0 <= w <= w_max

with per-neuron traces ``x`` (pre, ``tau_plus``) and ``y`` (post, ``tau_minus``) that jump by 1 at
each spike (all-to-all pairing), read just before the spike's own jump (pairs at equal times do
not count). ``D_j`` is the dopamine at the postsynaptic neuron, piecewise constant between field
steps.

Everything is event driven and exact for that piecewise-constant dopamine:

- traces are stored referenced to a time ``t_tr``: ``X_i = sum_s exp((t_s - t_tr) / tau_plus)``,
  so ``x_i(t) = X_i exp(-(t - t_tr) / tau_plus)`` (no exponential per synapse);
- eligibility is stored referenced to ``t_ref``: ``C = c exp((t - t_ref) / tau_c)``, constant
  between jumps;
- per neuron, ``Psi_j(t) = int_{t_ref}^{t} exp(-(s - t_ref) / tau_c) (D_j(s) - D0) ds`` is known in
  closed form; a synapse's weight then changes between two touches by
  ``eta_da C (Psi_j(t) - Psi_j(t_last))``: each synapse keeps ``psi_last`` and is brought up to
  date whenever a spike touches it (so a weight is current whenever it is delivered) and in the
  periodic sweep. Clamping at the bounds is applied at each touch (exact unless a weight reaches
  a bound while ``D - D0`` changes sign between two touches).

The block kernel runs in parallel over the target partitions of the synapse store: a synapse is
only ever touched by the task that owns its target, so results do not depend on the thread count.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np


@nb.njit(cache=True)
def _fill_incoming(indptr, row_len, targets, n_exc, in_ptr, in_syn, in_src) -> None:
    counts = np.zeros(in_ptr.shape[0], np.int64)
    for s in range(n_exc):
        for q in range(indptr[s], indptr[s] + row_len[s]):
            counts[np.int64(targets[q]) + 1] += 1
    in_ptr[:] = np.cumsum(counts)
    fill = in_ptr[:-1].copy()
    for s in range(n_exc):
        for q in range(indptr[s], indptr[s] + row_len[s]):
            j = np.int64(targets[q])
            r = fill[j]
            in_syn[r] = q
            in_src[r] = s
            fill[j] = r + 1


def incoming_index(indptr: np.ndarray, row_len: np.ndarray, targets: np.ndarray, n_exc: int, n: int):
    """Incoming plastic synapses per neuron: ``(in_ptr, in_syn, in_src)``.

    ``in_syn[in_ptr[j]:in_ptr[j + 1]]`` are the storage positions of the synapses from excitatory
    neurons onto ``j`` (live slots ``indptr[s] .. indptr[s] + row_len[s] - 1`` of each row), in
    increasing source order; ``in_src`` their sources, in the store's target type (2 bytes up to
    65,536 neurons).
    """
    m = int(row_len[:n_exc].sum())
    in_ptr = np.zeros(n + 1, np.int64)
    in_syn = np.empty(m, np.int32 if indptr[n_exc] < 2**31 else np.int64)
    in_src = np.empty(m, targets.dtype)
    _fill_incoming(indptr, np.ascontiguousarray(row_len, np.int64), targets, n_exc, in_ptr, in_syn, in_src)
    return in_ptr, in_syn, in_src


@nb.njit(cache=True, inline="always")
def _touch(q, psi, weights, elig, psi_last, eta, w_max):
    """Bring synapse ``q`` up to date: integrate its weight to the dopamine integral ``psi``."""
    w = weights[q] + eta * elig[q] * (psi - psi_last[q])
    psi_last[q] = psi
    weights[q] = min(max(w, 0.0), w_max)


@nb.njit(cache=True, inline="always")
def _trace_before(ref, j, t, first, nxt, ev_t, jump):
    """Referenced trace of neuron ``j`` including its spikes of this block strictly before ``t``."""
    v = ref[j]
    e = first[j]
    while e >= 0 and ev_t[e] < t:
        v += jump[e]
        e = nxt[e]
    return v


@nb.njit(cache=True, parallel=True, fastmath={"contract"}, boundscheck=False)
def stdp_block(
    steps, neurons, dt, n_exc, bounds, indptr, split, targets, weights, elig, psi_last, in_ptr, in_syn, in_src,
    x_ref, y_ref, first, psi0, da, t_tr, t_ref, t0, tau_plus, tau_minus, tau_c, a_plus, a_minus, eta, da0, w_max,
) -> None:  # fmt: skip
    """Apply one block's spikes (any order) to eligibilities and weights, in time order; update traces.

    ``steps, neurons`` are the block's spikes (a spike in step ``k`` is at ``(k + 1) dt`` ms);
    ``bounds, indptr, split, targets, weights`` the synapse store and its target partitions;
    ``elig, psi_last`` the per-synapse state and ``in_ptr, in_syn, in_src`` the incoming index of
    the plastic synapses; ``x_ref, y_ref`` the referenced traces (reference time ``t_tr``);
    ``first`` a scratch array of one int64 per neuron, all -1 on entry and on return; ``psi0`` the
    dopamine integrals at ``t0`` (the last field step) [uM ms] and ``da`` the dopamine since then
    [uM], both referenced to ``t_ref`` like the eligibility. The rule's constants are named as in
    the parameters.
    """
    m = steps.shape[0]
    order = np.argsort(steps * np.int64(1 << 32) + neurons)
    ev_t = np.empty(m)
    jx = np.empty(m)
    jy = np.empty(m)
    nxt = np.full(m, -1, np.int64)
    who = np.empty(m, np.int64)  # neuron of each event, by time rank
    for r in range(m):
        e = order[r]
        t = (steps[e] + 1) * dt
        ev_t[r] = t
        jx[r] = math.exp((t - t_tr) / tau_plus)
        jy[r] = math.exp((t - t_tr) / tau_minus)
    # chain each neuron's events of this block in time order (rank r indexes the sorted events)
    for r in range(m):
        j = neurons[order[r]]
        if first[j] < 0:
            first[j] = r
        else:
            p = first[j]
            while nxt[p] >= 0:
                p = nxt[p]
            nxt[p] = r
        who[r] = j
    e0 = math.exp(-(t0 - t_ref) / tau_c)
    n_parts = bounds.shape[0] - 1
    for part in nb.prange(n_parts):
        lo = bounds[part]
        hi = bounds[part + 1]
        for r in range(m):
            n = who[r]
            t = ev_t[r]
            gc = math.exp((t - t_ref) / tau_c)
            et = tau_c * (e0 - math.exp(-(t - t_ref) / tau_c))
            if n < n_exc:  # pre spike: depression on the outgoing synapses of this partition
                gm = math.exp(-(t - t_tr) / tau_minus)
                a = indptr[n] + split[n, part]
                b = indptr[n] + split[n, part + 1]
                for q in range(a, b):
                    j = np.int64(targets[q])
                    _touch(q, psi0[j] + (da[j] - da0) * et, weights, elig, psi_last, eta, w_max)
                    y = _trace_before(y_ref, j, t, first, nxt, ev_t, jy) * gm
                    elig[q] -= a_minus * y * gc
            if lo <= n < hi:  # post spike: potentiation on the incoming plastic synapses
                gp = math.exp(-(t - t_tr) / tau_plus)
                psi = psi0[n] + (da[n] - da0) * et
                for k in range(in_ptr[n], in_ptr[n + 1]):
                    q = in_syn[k]
                    _touch(q, psi, weights, elig, psi_last, eta, w_max)
                    x = _trace_before(x_ref, np.int64(in_src[k]), t, first, nxt, ev_t, jx) * gp
                    elig[q] += a_plus * x * gc
    for r in range(m):
        j = who[r]
        x_ref[j] += jx[r]
        y_ref[j] += jy[r]
        first[j] = -1


@nb.njit(cache=True, parallel=True, fastmath={"contract"}, boundscheck=False)
def sweep(targets, weights, elig, psi_last, psi0, da, t, t_ref, t0, tau_c, eta, da0, w_max, chunk) -> None:
    """Bring every plastic synapse up to time ``t`` and re-reference eligibility to ``t`` (``psi_last = 0``)."""
    m = elig.shape[0]
    et = tau_c * (math.exp(-(t0 - t_ref) / tau_c) - math.exp(-(t - t_ref) / tau_c))
    shrink = math.exp(-(t - t_ref) / tau_c)
    n_chunks = (m + chunk - 1) // chunk
    for c in nb.prange(n_chunks):
        for q in range(c * chunk, min(m, (c + 1) * chunk)):
            j = np.int64(targets[q])
            _touch(q, psi0[j] + (da[j] - da0) * et, weights, elig, psi_last, eta, w_max)
            elig[q] *= shrink
            psi_last[q] = 0.0
