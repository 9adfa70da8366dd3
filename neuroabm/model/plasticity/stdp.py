"""Numba kernels of dopamine-gated STDP (three-factor rule; Izhikevich 2007, REFERENCES.md §4).

Per synapse ``q`` (from an excitatory neuron ``i`` to a neuron ``j``)::

    dc/dt = -c / tau_c + A+ x_i(t) [post spikes of j] - A- y_j(t) [pre spikes of i]
    dw/dt = eta_da c (D_j(t) - D0),  0 <= w <= w_max

with per-neuron traces ``x`` (pre, ``tau_plus``) and ``y`` (post, ``tau_minus``) that jump by 1 at
each spike (all-to-all pairing), read just before the spike's own jump (pairs at equal times do
not count). ``D_j`` is the dopamine at the postsynaptic neuron, piecewise constant between field
steps.

Everything is event driven, exact for that piecewise-constant dopamine, and walks the synapse
store in its own (source-major) order:

- traces are stored referenced to ``t_tr``: ``X_i = sum_s exp((t_s - t_tr) / tau_plus)``, so
  ``x_i(t) = X_i exp(-(t - t_tr) / tau_plus)``;
- eligibility is stored referenced to ``t_ref``: ``C = c exp((t - t_ref) / tau_c)``;
- per neuron, ``Psi_j(t) = int_{t_ref}^{t} exp(-(s - t_ref) / tau_c) (D_j(s) - D0) ds`` has a closed
  form; between two touches a weight changes by ``eta_da C (Psi_j(t) - Psi_j(t_last))``;
- **depression** is applied at each pre spike, row by row (sequential memory);
- **potentiation is deferred**: a post spike of ``j`` at ``t_k`` is appended to ``j``'s history
  ``(t_k, e_k = exp(-(t_k - t_tr)/tau_plus + (t_k - t_ref)/tau_c), Psi_j(t_k))``. A synapse
  ``i -> j`` collects it the next time it is touched (the next spike of ``i``, or the flush;
  post spikes at the same time step as that pre spike are appended first, and collected with the
  pre trace from before it, so equal times never pair):
  since ``X_i`` is constant between spikes of ``i``, the pending jumps sum to
  ``A+ X_i sum_k e_k`` and their weight integrals to ``eta_da A+ X_i sum_k e_k (Psi_j(now) -
  Psi_j(t_k))``. No random access per post spike: every synapse is reached through its row.
- the **flush** touches every plastic synapse, clears the histories and re-references traces,
  eligibility and ``Psi`` (it runs every ``plasticity_period_ms``, and early if a history fills).

Clamping at the bounds is applied at each touch (exact unless a weight would cross a bound and
come back between two touches). The block kernel runs in parallel over the target partitions of
the store: a synapse, and the history of its target, are only touched by the task that owns the
target, so results do not depend on the thread count.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np


@nb.njit(cache=True, inline="always")
def _trace_before(ref, j, t, first, nxt, ev_t, jump):
    """Referenced trace of neuron ``j`` including its spikes of this block strictly before ``t``."""
    v = ref[j]
    e = first[j]
    while e >= 0 and ev_t[e] < t:
        v += jump[e]
        e = nxt[e]
    return v


@nb.njit(cache=True, inline="always")
def _catch_up(q, j, psi, nstate, t_after, t_before, x_pre, weights, elig, psi_last, hist, hist_n, a_plus, eta, w_max):
    """Bring synapse ``q`` (target ``j``) up to the dopamine integral ``psi``.

    The post spikes of ``j`` in ``(t_after, t_before]`` are collected as potentiation, with the
    referenced pre trace ``x_pre``.
    """
    s_e = 0.0
    s_ep = 0.0
    if nstate[j, 3] > t_after:  # something new since the last touch
        if nstate[j, 6] <= t_after and nstate[j, 3] <= t_before:  # only the newest: it is in nstate too
            s_e = nstate[j, 4]
            s_ep = nstate[j, 4] * nstate[j, 5]
        else:
            k = hist_n[j] - 1
            while k >= 0 and hist[j, k, 0] > t_after:
                if hist[j, k, 0] <= t_before:
                    s_e += hist[j, k, 1]
                    s_ep += hist[j, k, 1] * hist[j, k, 2]
                k -= 1
    c = elig[q]
    gain = a_plus * x_pre
    w = weights[q] + eta * (c * (psi - psi_last[q]) + gain * (s_e * psi - s_ep))
    weights[q] = min(max(w, 0.0), w_max)
    elig[q] = c + gain * s_e
    psi_last[q] = psi


@nb.njit(cache=True, parallel=True, fastmath={"contract"}, boundscheck=False)
def stdp_block(
    steps, neurons, dt, n_exc, bounds, indptr, split, targets, weights, elig, psi_last, x_ref, nstate, t_last,
    first, hist, hist_n, t_tr, t_ref, t0, t_flush, tau_plus, tau_minus, tau_c, a_plus, a_minus, eta, w_max,
) -> None:  # fmt: skip
    """Apply one block's spikes (any order) in time order: depression, deferred potentiation, traces.

    ``steps, neurons`` are the block's spikes (a spike in step ``k`` is at ``(k + 1) dt`` ms);
    ``bounds, indptr, split, targets, weights`` the synapse store and its target partitions;
    ``elig, psi_last`` the per-synapse state; ``x_ref, y_ref`` the referenced traces (reference
    ``t_tr``) and ``t_last`` every neuron's last spike time [ms]; ``first`` a scratch array of one
    int64 per neuron, all -1 on entry and on return; ``hist[j, k] = (t_k, e_k, Psi_j(t_k))`` and
    ``hist_n`` the post-spike histories since the flush at ``t_flush`` (the caller checks there is
    room for this block's spikes); ``nstate[j] = (Psi_j(t0), D_j - D0, y_ref[j], t, e, Psi of the
    newest history entry, t of the one before, -)``: what a synapse reads of its target, packed in
    one 64-byte cache line (usually all it needs: a target rarely fires twice between two spikes
    of the source) (``Psi`` at the
    last field step ``t0`` [uM ms], the dopamine since then [uM], referenced to ``t_ref`` like the
    eligibility). Constants are named as the parameters.
    """
    m = steps.shape[0]
    order = np.argsort(steps * np.int64(1 << 32) + neurons)
    ev_t = np.empty(m)
    jx = np.empty(m)
    jy = np.empty(m)
    x_before = np.empty(m)  # referenced pre trace of the event's neuron just before the event
    t_touch = np.empty(m)  # when the event neuron's outgoing synapses were last touched
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
            prev_t = t_last[j]
        else:
            p = first[j]
            while nxt[p] >= 0:
                p = nxt[p]
            nxt[p] = r
            prev_t = ev_t[p]
        who[r] = j
        t_touch[r] = max(t_flush, prev_t)
    for r in range(m):
        x_before[r] = _trace_before(x_ref, who[r], ev_t[r], first, nxt, ev_t, jx)
    e0 = math.exp(-(t0 - t_ref) / tau_c)
    n_parts = bounds.shape[0] - 1
    for part in nb.prange(n_parts):
        lo = bounds[part]
        hi = bounds[part + 1]
        r0 = 0
        while r0 < m:  # one time step at a time: its post spikes first, so that its pre spikes collect
            t = ev_t[r0]  # them with the pre trace from before t (equal times never pair)
            r1 = r0
            while r1 < m and ev_t[r1] == t:
                r1 += 1
            gc = math.exp((t - t_ref) / tau_c)
            et = tau_c * (e0 - math.exp(-(t - t_ref) / tau_c))
            for r in range(r0, r1):
                n = who[r]
                if lo <= n < hi:  # post spike: into the history of n, collected later by each synapse
                    k = hist_n[n]
                    e_k = math.exp(-(t - t_tr) / tau_plus) * gc
                    psi_k = nstate[n, 0] + nstate[n, 1] * et
                    hist[n, k, 0] = t
                    hist[n, k, 1] = e_k
                    hist[n, k, 2] = psi_k
                    hist_n[n] = k + 1
                    nstate[n, 6] = nstate[n, 3]  # the newest entry becomes the second newest
                    nstate[n, 3] = t
                    nstate[n, 4] = e_k
                    nstate[n, 5] = psi_k
            gm = math.exp(-(t - t_tr) / tau_minus)
            for r in range(r0, r1):
                n = who[r]
                if n >= n_exc:
                    continue
                # pre spike: catch up and depress the outgoing synapses of this partition
                xb = x_before[r]
                tt = t_touch[r]
                a = indptr[n] + split[n, part]
                b = indptr[n] + split[n, part + 1]
                for q in range(a, b):
                    j = np.int64(targets[q])
                    psi = nstate[j, 0] + nstate[j, 1] * et
                    _catch_up(q, j, psi, nstate, tt, t, xb, weights, elig, psi_last, hist, hist_n, a_plus, eta,
                              w_max)  # fmt: skip
                    y = nstate[j, 2]
                    f = first[j]
                    while f >= 0 and ev_t[f] < t:  # this block's post spikes of j before t
                        y += jy[f]
                        f = nxt[f]
                    elig[q] -= a_minus * y * gm * gc
            r0 = r1
    for r in range(m):
        j = who[r]
        x_ref[j] += jx[r]
        nstate[j, 2] += jy[r]
        t_last[j] = ev_t[r]
        first[j] = -1


@nb.njit(cache=True, parallel=True, fastmath={"contract"}, boundscheck=False)
def flush(
    indptr, split, targets, weights, elig, psi_last, n_exc, x_ref, t_last, hist, hist_n, nstate, t, t_ref, t0,
    t_flush, tau_c, a_plus, eta, w_max,
) -> None:  # fmt: skip
    """Bring every plastic synapse up to time ``t``, pending potentiation included.

    The eligibility is re-referenced to ``t`` (``psi_last = 0``); the caller then clears the histories.
    """
    et = tau_c * (math.exp(-(t0 - t_ref) / tau_c) - math.exp(-(t - t_ref) / tau_c))
    shrink = math.exp(-(t - t_ref) / tau_c)
    for i in nb.prange(n_exc):
        tt = max(t_flush, t_last[i])
        xb = x_ref[i]
        a = indptr[i]
        for q in range(a, a + split[i, split.shape[1] - 1]):
            j = np.int64(targets[q])
            psi = nstate[j, 0] + nstate[j, 1] * et
            _catch_up(q, j, psi, nstate, tt, math.inf, xb, weights, elig, psi_last, hist, hist_n, a_plus, eta,
                      w_max)  # fmt: skip
            elig[q] *= shrink
            psi_last[q] = 0.0
