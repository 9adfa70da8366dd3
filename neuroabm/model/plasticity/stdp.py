"""Numba kernels of dopamine-gated STDP (three-factor rule; Izhikevich 2007, docs/REFERENCES.md §4).

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
  form; between two touches a weight changes by ``eta_da C (Psi_j(t) - Psi_j(t_last))``, so the
  store keeps ``u = w - eta_da C Psi_j(t_last)`` in a plastic synapse's weight slot and the weight
  now is ``u + eta_da C Psi_j(t)`` (no per-synapse ``Psi_j(t_last)`` to stream; after a flush
  ``Psi = 0`` and ``u = w``);
- **depression** is applied at each pre spike, row by row (sequential memory);
- **potentiation is deferred**: a post spike of ``j`` at ``t_k`` is appended to ``j``'s history
  ``(t_k, e_k = exp(-(t_k - t_tr)/tau_plus + (t_k - t_ref)/tau_c), e_k Psi_j(t_k))``. A synapse
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
target, so results do not depend on the thread count. It also delivers the plastic rows' spikes
in the same pass (one walk over those rows per spike instead of two).

Cost (Brunel-10k, ~280 million plastic synapse touches per biological second): per synapse the
kernel reads its target's packed state (two cache lines, usually the only per-target read: a
target rarely fired more than twice since the synapse's last touch) and streams 12 bytes in
(target, ``u``, ``C``) and 8 out. Both are latency bound, so the targets' state a few synapses
ahead and the first lines of the next row piece are prefetched. The row loop is one numba function called per row piece
(:func:`_touch_row`) with every per-synapse step written out in it: numba-level inlining of
helpers that take arrays (``inline="always"``) adds reference-count calls per synapse, which cost
more than the update itself.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from neuroabm.model.prefetch import prefetch

#: synapses ahead whose target's packed state is prefetched (a few hundred ns of work ahead)
PREFETCH_AHEAD = 12


#: Columns of the packed per-neuron state ``nstate`` (n x :data:`NSTATE_COLUMNS` float64, two 64-byte
#: cache lines per neuron): what a synapse reads of its target. Named here for the kernels, the
#: plasticity system and the tests alike (numba folds the names into constants).
PSI0 = 0  #: Psi_j at the last field step [uM ms], referenced like the eligibility
DA_DEV = 1  #: D_j - D0 since the last field step [uM]
Y_REF = 2  #: the post trace, referenced to t_tr
T_NEW, E_NEW, EP_NEW = 3, 4, 5  #: newest pending post spike: time [ms], e_k, e_k Psi_j(t_k)
T_SECOND, E_SECOND, EP_SECOND = 6, 8, 9  #: the second newest: time, e_k, e_k Psi
T_THIRD = 7  #: time of the third newest (older entries are read from the history)
NSTATE_COLUMNS = 16
SECOND_LINE = 8  #: first column of a neuron's second cache line (prefetched with the first)
#: the times of the packed pending entries (-inf: none) and their factors (0: none)
PENDING_TIMES = (T_NEW, T_SECOND, T_THIRD)
PENDING_FACTORS = (E_NEW, EP_NEW, E_SECOND, EP_SECOND)


@nb.njit(cache=True)
def _trace_before(ref, j, t, first, nxt, ev_t, jump):
    """Referenced trace of neuron ``j`` including its spikes of this block strictly before ``t``."""
    v = ref[j]
    e = first[j]
    while e >= 0 and ev_t[e] < t:
        v += jump[e]
        e = nxt[e]
    return v


@nb.njit(cache=True)
def _older_pending(hist, hist_n, j, n_packed, t_after):
    """``(sum e_k, sum e_k Psi_k)`` over the history entries of ``j`` after ``t_after``, but the newest ``n_packed``."""
    s_e = 0.0
    s_ep = 0.0
    k = hist_n[j] - 1 - n_packed
    while k >= 0 and hist[j, k, 0] > t_after:
        s_e += hist[j, k, 1]
        s_ep += hist[j, k, 2]
        k -= 1
    return s_e, s_ep


@nb.njit(cache=True, fastmath={"contract"}, boundscheck=False)
def _touch_row(
    a, b, targets, weights, elig, nstate, hist, hist_n, et, t_after, gain, a_minus, gm, gc, eta, w_max,
    rebase, shrink, ring, slot,
) -> None:  # fmt: skip
    """Catch up synapses ``a .. b - 1`` of one source, then depress them or re-reference them.

    The weight slots hold ``u = w - eta C Psi_last`` (module docstring). Catch-up: the weight
    integral since the last touch, and the potentiation by the post spikes
    of each target after ``t_after`` (the source's last touch), with ``gain`` = A+ times the
    source's referenced trace. ``Psi_j`` now is ``nstate[j, PSI0] + nstate[j, DA_DEV] et``. Then,
    at a pre spike (``rebase`` False): depression ``A- y_j gm gc`` and, with ``ring``, delivery of
    the new weight into ``ring[slot]``; at a flush (``rebase`` True): the eligibility scaled by
    ``shrink`` and the weight itself stored (``Psi`` is re-referenced to 0 now).

    The two newest post spikes of a target are packed in ``nstate[j]`` (``T_NEW, E_NEW, EP_NEW``:
    t, e, e Psi of the newest; ``T_SECOND, E_SECOND, EP_SECOND`` of the second; ``T_THIRD``: t of the
    third) and are selected by arithmetic, not branches; older ones (rare) are read from the history.

    The loop runs on unsigned indices (no negative-index wraparound code per access) and
    prefetches without a branch (at the end of the row piece it prefetches its last target again).
    """
    dep = a_minus * gm * gc
    ahead_max = np.uint64(b - 1)
    for q in range(np.uint64(a), np.uint64(b)):
        ahead = np.int64(targets[min(q + np.uint64(PREFETCH_AHEAD), ahead_max)])
        prefetch(nstate, (ahead, PSI0))
        prefetch(nstate, (ahead, SECOND_LINE))
        j = np.int64(targets[q])
        psi = nstate[j, PSI0] + nstate[j, DA_DEV] * et
        y = nstate[j, Y_REF]
        f1 = np.float64(nstate[j, T_NEW] > t_after)
        f2 = np.float64(nstate[j, T_SECOND] > t_after)
        s_e = f1 * nstate[j, E_NEW] + f2 * nstate[j, E_SECOND]
        s_ep = f1 * nstate[j, EP_NEW] + f2 * nstate[j, EP_SECOND]
        if nstate[j, T_THIRD] > t_after:
            o_e, o_ep = _older_pending(hist, hist_n, j, 2, t_after)
            s_e += o_e
            s_ep += o_ep
        c = elig[q]
        w = weights[q] + eta * (c * psi + gain * (s_e * psi - s_ep))  # the store holds u = w - eta C Psi_last
        wf = np.float32(min(max(w, 0.0), w_max))
        if rebase:  # Psi is re-referenced to 0 now: u = w
            weights[q] = wf
            elig[q] = np.float32(c + gain * s_e) * shrink
        else:
            c2 = np.float32(c + gain * s_e - dep * y)
            elig[q] = c2
            weights[q] = wf - np.float32(eta * psi) * c2  # one float32 fused multiply-add
            if ring is not None:
                ring[slot, j] += wf


@nb.njit(cache=True)
def _prefetch_row(a, b, targets, weights, elig) -> None:
    """Prefetch the first lines of the row piece ``a .. b - 1`` (the hardware prefetcher takes over)."""
    for q in range(a, min(b, a + 64), 16):  # 16 float32 per 64-byte line
        prefetch(weights, q)
        prefetch(elig, q)
        if (q - a) % 32 == 0:
            prefetch(targets, q)


@nb.njit(cache=True, parallel=True, fastmath={"contract"}, boundscheck=False)
def stdp_block(
    steps, neurons, dt, n_exc, bounds, indptr, split, targets, weights, elig, x_ref, nstate, t_last,
    first, hist, hist_n, t_tr, t_ref, t0, t_flush, tau_plus, tau_minus, tau_c, a_plus, a_minus, eta, w_max,
    ring=None, delay_steps=0,
) -> None:  # fmt: skip
    """Apply one block's spikes (any order) in time order: depression, deferred potentiation, traces.

    ``steps, neurons`` are the block's spikes (a spike in step ``k`` is at ``(k + 1) dt`` ms);
    ``bounds, indptr, split, targets, weights`` the synapse store and its target partitions;
    ``elig`` the per-synapse eligibility (``weights`` holding ``u`` for the plastic rows); ``x_ref,
    y_ref`` the referenced traces (reference ``t_tr``) and ``t_last`` every neuron's last spike time
    [ms]; ``first`` a scratch array of one int64 per neuron, all -1 on entry and on return;
    ``hist[j, k] = (t_k, e_k, e_k Psi_j(t_k))`` and ``hist_n`` the post-spike histories since the
    flush at ``t_flush`` (the caller checks there is room for this block's spikes); ``nstate[j]``
    what a synapse reads of its target: ``Psi_j(t0)`` (at the last field step ``t0`` [uM ms],
    referenced to ``t_ref`` like the eligibility), ``D_j - D0`` since then [uM], ``y_ref[j]``, then
    the newest history entries as :func:`_touch_row` reads them (16 columns, two 64-byte cache
    lines).
    Constants are named as the parameters.

    With ``ring`` (the model's delay ring [mV]) the plastic rows are also delivered, in the same
    pass: each synapse adds its weight just brought up to date to ``ring[(step + delay_steps) %
    len(ring)]``, exactly what a separate delivery after this kernel would add, in the same order
    (per ring row: by source). The caller then delivers only the other rows.
    """
    m = steps.shape[0]
    order = np.argsort(steps * np.int64(1 << 32) + neurons)
    ev_t = np.empty(m)
    ev_k = np.empty(m, np.int64)
    jx = np.empty(m)
    jy = np.empty(m)
    x_before = np.empty(m)  # referenced pre trace of the event's neuron just before the event
    t_touch = np.empty(m)  # when the event neuron's outgoing synapses were last touched
    nxt = np.full(m, -1, np.int64)
    who = np.empty(m, np.int64)  # neuron of each event, by time rank
    for r in range(m):
        e = order[r]
        ev_k[r] = steps[e]
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
    next_pre = np.full(m, m, np.int64)  # rank of the next pre spike (an excitatory neuron's) after r
    for r in range(m - 2, -1, -1):
        next_pre[r] = r + 1 if who[r + 1] < n_exc else next_pre[r + 1]
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
                    ep_k = e_k * (nstate[n, PSI0] + nstate[n, DA_DEV] * et)
                    hist[n, k, 0] = t
                    hist[n, k, 1] = e_k
                    hist[n, k, 2] = ep_k
                    hist_n[n] = k + 1
                    nstate[n, T_THIRD] = nstate[n, T_SECOND]  # the newest entry becomes the second newest
                    nstate[n, E_SECOND] = nstate[n, E_NEW]
                    nstate[n, EP_SECOND] = nstate[n, EP_NEW]
                    nstate[n, T_SECOND] = nstate[n, T_NEW]
                    nstate[n, T_NEW] = t
                    nstate[n, E_NEW] = e_k
                    nstate[n, EP_NEW] = ep_k
            gm = math.exp(-(t - t_tr) / tau_minus)
            for r in range(r0, r1):
                n = who[r]
                if n < n_exc:  # pre spike: catch up, depress (post traces from before t), deliver
                    if next_pre[r] < m:  # the next row piece's first lines arrive while this one is done
                        n2 = who[next_pre[r]]
                        _prefetch_row(
                            indptr[n2] + split[n2, part], indptr[n2] + split[n2, part + 1], targets, weights, elig,
                        )  # fmt: skip
                    a = indptr[n] + split[n, part]
                    slot = (ev_k[r] + delay_steps) % ring.shape[0] if ring is not None else 0
                    _touch_row(
                        a=a, b=indptr[n] + split[n, part + 1], targets=targets, weights=weights, elig=elig,
                        nstate=nstate, hist=hist, hist_n=hist_n, et=et, t_after=t_touch[r],
                        gain=a_plus * x_before[r], a_minus=a_minus, gm=gm, gc=gc, eta=eta, w_max=w_max,
                        rebase=False, shrink=1.0, ring=ring, slot=slot,
                    )  # fmt: skip
            for r in range(r0, r1):  # the post traces jump only now, after this step's pre spikes read them
                n = who[r]
                if lo <= n < hi:
                    nstate[n, Y_REF] += jy[r]
            r0 = r1
    for r in range(m):
        j = who[r]
        x_ref[j] += jx[r]
        t_last[j] = ev_t[r]
        first[j] = -1


@nb.njit(cache=True, parallel=True, fastmath={"contract"}, boundscheck=False)
def flush(
    indptr, split, targets, weights, elig, n_exc, x_ref, t_last, hist, hist_n, nstate, t, t_ref, t0,
    t_flush, tau_c, a_plus, eta, w_max,
) -> None:  # fmt: skip
    """Bring every plastic synapse up to time ``t``, pending potentiation included.

    The eligibility is re-referenced to ``t`` and the plastic weight slots hold the weights
    themselves (``Psi = 0`` at ``t``); the caller then clears the histories and re-references ``Psi``.
    """
    et = tau_c * (math.exp(-(t0 - t_ref) / tau_c) - math.exp(-(t - t_ref) / tau_c))
    shrink = math.exp(-(t - t_ref) / tau_c)
    for i in nb.prange(n_exc):
        a = indptr[i]
        _touch_row(
            a=a, b=a + split[i, split.shape[1] - 1], targets=targets, weights=weights, elig=elig, nstate=nstate,
            hist=hist, hist_n=hist_n, et=et, t_after=max(t_flush, t_last[i]), gain=a_plus * x_ref[i],
            a_minus=0.0, gm=0.0, gc=0.0, eta=eta, w_max=w_max, rebase=True, shrink=shrink, ring=None, slot=0,
        )  # fmt: skip


@nb.njit(cache=True, boundscheck=False)
def advance_psi(nstate, span, da, d0) -> None:
    """``Psi_j += (D_j - D0) span`` for every neuron (``span`` [ms]); then, with ``da`` [uM], ``D_j - D0 = da_j - d0``.

    One pass over the packed state (rather than two strided numpy column operations).
    """
    for j in range(nstate.shape[0]):
        nstate[j, PSI0] += nstate[j, DA_DEV] * span
        if da is not None:
            nstate[j, DA_DEV] = da[j] - d0


@nb.njit(cache=True, boundscheck=False)
def scale_pending(hist, hist_n, nstate, f) -> None:
    """Multiply the factors ``(e_k, e_k Psi_k)`` of every pending post spike by ``f`` (history and packed copies)."""
    for j in range(hist.shape[0]):
        for k in range(hist_n[j]):
            hist[j, k, 1] *= f
            hist[j, k, 2] *= f
        for col in PENDING_FACTORS:
            nstate[j, col] *= f
