"""Izhikevich (2003) neurons, integrated block-wise like the LIF kernel (docs/REFERENCES.md, Neuron models).

The model (t in ms, v and u in mV, I in mV/ms)::

    v' = 0.04 v^2 + 5 v + 140 - u + I,    u' = a (b v - u),    v >= 30 mV:  v <- c,  u <- u + d

Integration: every engine step of ``dt_ms`` is cut into ``n_sub`` equal sub-steps of
``h = dt_ms / n_sub`` (the fewest no longer than ``izh_substep_ms``, default 0.025 ms: four per
0.1 ms step). Each sub-step is a Strang splitting of the two equations with each part solved
*exactly*, so the scheme is stable at any ``h`` (the 2007 code's forward Euler in two 0.5 ms halves
is not: its v runs away once ``h`` is large) and second order in ``h``, and every spike resets at
its own crossing time inside the sub-step:

1. ``u`` half step with ``v`` frozen: ``u <- b v + (u - b v) exp(-a h / 2)``.
2. ``v`` full step with ``u`` and ``I`` frozen. Then ``v' = q v^2 + p v + C`` (``q = 0.04``,
   ``p = 5``, ``C = 140 - u + I``) is a Riccati equation; with ``w = v + p / (2q)`` and
   ``K = C - p^2 / (4q)`` it reads ``w' = q w^2 + K``, solved in closed form (``tan`` for ``K > 0``,
   the ratio ``(w - s) / (w + s)`` growing as ``exp(2 q s t)`` with ``s = sqrt(-K/q)`` for ``K < 0``,
   ``w0 / (1 - q w0 t)`` for ``K = 0``). The time ``t_c`` at which ``v`` reaches 30 mV comes from the
   same formulas; if ``t_c <= h`` the neuron spikes: the sub-step is split at ``t_c`` (``u`` follows
   ``v`` up to 30 mV, ``v <- c``, ``u <- u + d``, then ``[t_c, h]`` is solved from there), so the
   reset is not delayed to the grid. An engine step holds at most one spike (the spike buffers are
   sized so): a second crossing in the same step stops at 30 mV and fires at the start of the next
   step (possible only for steps of a millisecond or so).
3. ``u`` half step with the new ``v`` (as 1).

Accuracy, measured against an RK4 reference at 0.0005 ms (``tests/test_izhikevich.py``): over 1 s
of the Fig. 2 cells under I = 10, spike times drift from the exact ones by at most 0.053 ms at
``h = 0.025`` ms and 0.010 ms at ``h = 0.01`` ms (FS, 137 spikes); with ``h = 0.1`` ms about 1 ms,
and with single 1 ms steps the spike counts still match (the scheme stays stable), the times do not.

After the last sub-step of an engine step:

Jumps: the step's delayed synaptic input from the ring and the Poisson drive are added to
``v`` at the end of the step [mV]; ``v >= 30`` then spikes (reset as above). This is the 2007
paper's convention with its 1 ms steps: a weight ``s`` added to ``I`` for one step of 1 ms moves
``v`` by ``s`` mV, so the paper's weights are jumps in mV here.

``I`` is ``i_ext`` (a constant current, the ``current`` drive) plus ``bias_scale * bias[i]`` (the
dopamine excitability current, constant within the block). Spikes go to the same per-chunk
buffers as ``integrate_block`` (:mod:`neuroabm.model.kernels`), with the same step convention (a
spike in step ``k`` is recorded at ``(k + 1) dt``), so gathering, delivery, STDP and the recorders
work unchanged. Chunks are fixed and every draw comes from the counter-based stream of
(step, neuron), so spikes are bit-identical for any number of threads.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from neuroabm.model.random_streams import draw_bits, poisson_draw, slot_counter, stream_state, stream_stride
from neuroabm.model.spike_buffer import record_spike
from neuroabm.model.threads import serial_twin

#: spike cut-off [mV] (Izhikevich 2003)
V_PEAK_MV = 30.0
#: the quadratic's coefficients: v' = Q v^2 + P v + 140 - u + I
Q = 0.04
P = 5.0
#: w = v + SHIFT turns the quadratic into q w^2 + K
SHIFT = P / (2.0 * Q)
#: K = 140 - u + I - P^2 / (4 Q)
K0 = 140.0 - P * P / (4.0 * Q)
#: |K| below this is solved as K = 0 (the error is ~|K| h, far below double precision effects)
K_EPS = 1e-12
HALF_PI = 0.5 * math.pi
#: columns of the per-population parameter table
A, B, C, D, E_HALF = 0, 1, 2, 3, 4


@nb.njit(inline="always", cache=True)
def riccati(w0: float, kk: float, h: float, w_th: float) -> tuple[float, float]:
    """Solve ``w' = Q w^2 + kk`` exactly from ``w0`` for ``h`` ms.

    Returns ``(w(h), -1)``, or ``(w_th, t_c)`` if ``w`` reaches ``w_th`` at ``t_c <= h`` [ms]
    (``t_c = 0`` when ``w0 >= w_th``). One ``tan`` or ``exp`` per call; the crossing time (an
    ``atan2`` or a ``log``) only when there is a crossing.
    """
    if w0 >= w_th:
        return w_th, 0.0
    if kk > K_EPS:  # w = r tan(Q r t + atan(w0 / r))
        r = math.sqrt(kk / Q)
        phi = Q * r * h
        if phi < HALF_PI:
            x0 = w0 / r
            tt = math.tan(phi)
            den = 1.0 - x0 * tt
            if den > 0.0:  # the angle stays below pi / 2 (tan's addition formula)
                w = r * (x0 + tt) / den
                if w < w_th:
                    return w, -1.0
        else:
            th0 = math.atan(w0 / r)
            if th0 + phi < math.atan(w_th / r):
                return r * math.tan(th0 + phi), -1.0
        # crossing: the angle from atan(w0 / r) to atan(w_th / r), in (0, pi)
        tc = math.atan2((w_th - w0) * r, r * r + w_th * w0) / (Q * r)
        return w_th, min(tc, h)
    if kk < -K_EPS:  # (w - s) / (w + s) grows as exp(2 Q s t)
        s = math.sqrt(-kk / Q)
        if w0 + s == 0.0:  # at the stable fixed point
            return w0, -1.0
        r0 = (w0 - s) / (w0 + s)
        rr = r0 * math.exp(2.0 * Q * s * h)
        if w0 > s:  # above the unstable fixed point: runs away, crossing w_th (> w0 > s)
            r_th = (w_th - s) / (w_th + s)
            if rr >= r_th:
                return w_th, min(math.log(r_th / r0) / (2.0 * Q * s), h)
        return s * (1.0 + rr) / (1.0 - rr), -1.0
    if w0 > 0.0:  # kk = 0: w = w0 / (1 - Q w0 t)
        tc = (1.0 / w0 - 1.0 / w_th) / Q
        if tc <= h:
            return w_th, tc
    return w0 / (1.0 - Q * w0 * h), -1.0


@nb.njit(inline="always", cache=True)
def strang_step(
    v: float, u: float, cur: float, a: float, b: float, c: float, d: float, h: float, e_half: float, hold: bool
) -> tuple[float, float, bool]:
    """One Strang step of ``h`` ms (module doc): ``(v, u, fired)``.

    ``cur`` is ``K0 + I``, ``e_half = exp(-a h / 2)``. A spike resets at its crossing time and the
    step is split there, so ``u`` follows ``v`` up to 30 mV and from ``c`` on (second order across
    the spike too). With ``hold`` (the engine step already has its spike) a crossing stops at 30 mV
    instead, to fire at the start of the next engine step.
    """
    w_th = V_PEAK_MV + SHIFT
    u0 = u
    u = b * v + (u - b * v) * e_half
    w, tc = riccati(w0=v + SHIFT, kk=cur - u, h=h, w_th=w_th)
    if tc < 0.0 or hold:
        v = w - SHIFT
        return v, b * v + (u - b * v) * e_half, False
    e1 = math.exp(-0.5 * a * tc)
    u = b * v + (u0 - b * v) * e1
    u = b * V_PEAK_MV + (u - b * V_PEAK_MV) * e1 + d
    r = h - tc
    e2 = math.exp(-0.5 * a * r)
    u = b * c + (u - b * c) * e2
    w, _ = riccati(w0=c + SHIFT, kk=cur - u, h=r, w_th=w_th)  # a second crossing is held at 30 mV
    v = w - SHIFT
    return v, b * v + (u - b * v) * e2, True


@nb.njit(parallel=True, cache=True, fastmath=False)
def izhikevich_block(
    v: np.ndarray,
    u: np.ndarray,
    ring: np.ndarray,
    k0: int,
    n_steps: int,
    h: float,
    n_sub: int,
    n_exc: int,
    pop: np.ndarray,
    i_ext: float,
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
    """Advance all neurons through steps ``k0 .. k0 + n_steps - 1`` of ``h`` ms (scheme: module doc).

    ``pop[0]`` holds the excitatory ``(a, b, c, d, exp(-a h / 2))``, ``pop[1]`` the inhibitory ones
    (neurons ``>= n_exc``). ``i_ext`` [mV/ms] is a constant input current; ``j_ext`` [mV] the size of
    a Poisson input (drawn as in ``integrate_block``, draw 3 of the slot); ``bias_scale * bias[i]``
    [mV/ms] the dopamine current. ``upper=None`` and ``bias=None`` compile specializations without
    those branches.
    """
    n = v.shape[0]
    n_slots = ring.shape[0]
    n_chunks = chunk_lo.shape[0] - 1
    slots = np.empty(n_steps, np.int64)
    for s in range(n_steps):
        slots[s] = (k0 + s) % n_slots
    stride = stream_stride(n)
    hs = h / n_sub
    for ch in nb.prange(n_chunks):
        found = 0
        base = chunk_lo[ch] * cap
        for i in range(chunk_lo[ch], chunk_lo[ch + 1]):
            row = 0 if i < n_exc else 1
            a, b, c, d, e_half = pop[row, A], pop[row, B], pop[row, C], pop[row, D], pop[row, E_HALF]
            cur = K0 + i_ext
            if bias is not None:
                cur += bias_scale * bias[i]
            vi = v[i]
            ui = u[i]
            state = stream_state(key, slot_counter(k0, n, i))
            for s in range(n_steps):
                slot = slots[s]
                inp = float(ring[slot, i])
                ring[slot, i] = 0.0
                st = state
                state += stride
                fired = False
                for _ in range(n_sub):
                    vi, ui, now = strang_step(v=vi, u=ui, cur=cur, a=a, b=b, c=c, d=d, h=hs, e_half=e_half, hold=fired)
                    fired = fired or now
                if upper is not None:
                    inp += j_ext * poisson_draw(draw_bits(st, 3), upper, guide)
                vi += inp
                if not fired and vi >= V_PEAK_MV:
                    fired = True
                    vi = c
                    ui += d
                if fired:
                    record_spike(
                        i, k0 + s, base + found, spk_neuron, spk_step, spike_count, last_spike, isi_sum, isi_sq
                    )
                    found += 1
            v[i] = vi
            u[i] = ui
        chunk_n[ch] = found


#: the kernel compiled without threads (threads.py)
izhikevich_block_serial = serial_twin(izhikevich_block)
