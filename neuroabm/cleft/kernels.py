"""Numba kernels: Brownian dynamics of transmitter molecules in the cleft, Doi binding, receptor CTMC.

One trial is one release. Trials run in parallel (``prange``), each from its own counter-based
streams, so every trial's result is a pure function of (seed, trial) and bit-identical on any
number of threads.

Per time step ``dt`` (times in us, lengths in nm):

1. Receptor first-order transitions (unbinding, opening, desensitization ...) are exact: each
   receptor holds the time of its next transition, drawn from an exponential of its state's total
   exit rate whenever it enters a state; all transitions up to the step's end are applied in time
   order. An unbinding puts one molecule back at a uniform point of the site's reaction hemisphere
   (Doi's reversible placement).
2. Every free molecule moves by ``N(0, 2 D dt)`` per axis (ziggurat normals,
   :mod:`neuroabm.cleft.rng`). The faces ``z = 0`` and ``z = h`` reflect: folding the free
   displacement into ``[0, h]`` is the exact transition density of the reflected process. The rim
   ``rho = R`` absorbs (the molecule leaves the cleft) or reflects (``rho -> 2R - rho``). An
   absorbing rim also catches excursions inside a step: with both ends inside at distances
   ``d0, d1`` from the rim, the Brownian bridge crossed it with probability ``exp(-d0 d1 / (D dt))``
   (planar approximation).
3. First passage to the radii ``r_k`` (measured from the release point) uses the same endpoint and
   bridge tests; crossings are dated at the step's midpoint.
4. A molecule within ``sigma`` of sites that can bind reacts with probability
   ``1 - exp(-sum lambda dt)`` (competing Doi hazards; :mod:`neuroabm.cleft.reactions`), the site
   chosen in proportion to its ``lambda``.

Random draws: molecule ``m`` in step ``n`` reads counters ``(n N + m) 8 + j`` of the trial's move
key (j = 0-2 normals, 3 binding, 4 the Brownian-bridge tests); receptor ``r``'s ``e``-th event reads
``(r << 32) + 8 e + j`` of the receptor key; release times and positions come from a third key.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from neuroabm.cleft.rng import FALLBACK_SALT, normal_from_bits
from neuroabm.model.random_streams import GAMMA, bits_to_uniform, mix64, stream_state

__all__ = ["run_trials"]

_U8 = np.uint64(8)
_S32 = np.uint64(32)
_SALT_REC = np.uint64(0x5EC0_0000_0000_0001)
_SALT_REL = np.uint64(0x4E1E_A5E0_0000_0002)
FREE, BOUND, GONE, WAITING = 1, 2, 3, 0
#: most sites one molecule can reach in one step (reaction hemispheres overlapping at one point)
_MAX_CANDIDATES = 64


@nb.njit(inline="always", cache=True)
def _u(key: np.uint64, counter: np.uint64) -> float:
    return bits_to_uniform(mix64(stream_state(key, counter)))


@nb.njit(cache=True)
def _advance(t_to, rstate, t_next, ev, held, rec_xy, key_r, sigma, h, ptr, dst, rate, out_rate, bound, is_open,
             counts, x, y, z, rc, rrl, status, act, n_act, peak):  # fmt: skip
    """Apply every receptor transition with time <= ``t_to`` in time order; return the new ``n_act``."""
    n_rec = rstate.shape[0]
    while n_rec > 0:
        r = 0
        for q in range(1, n_rec):
            if t_next[q] < t_next[r]:
                r = q
        t_ev = t_next[r]
        if not t_ev <= t_to:
            break
        s = rstate[r]
        c = (np.uint64(r) << _S32) + ev[r] * _U8
        ev[r] += np.uint64(1)
        v = _u(key_r, c) * out_rate[s]
        d = dst[ptr[s + 1] - 1]
        for j in range(ptr[s], ptr[s + 1]):
            v -= rate[j]
            if v < 0.0:
                d = dst[j]
                break
        for _ in range(bound[s] - bound[d]):  # unbinding: the molecule reappears in the site's hemisphere
            nh = bound[s] - 1 - _
            m = held[r, nh]
            rad = sigma * _u(key_r, c + np.uint64(1)) ** (1.0 / 3.0)
            cos_t = _u(key_r, c + np.uint64(2))
            phi = 2.0 * math.pi * _u(key_r, c + np.uint64(3))
            sin_t = math.sqrt(1.0 - cos_t * cos_t)
            x[m] = rec_xy[r, 0] + rad * sin_t * math.cos(phi)
            y[m] = rec_xy[r, 1] + rad * sin_t * math.sin(phi)
            z[m] = min(rad * cos_t, h)
            rc[m] = -1.0  # distances to the centre and the release point: recomputed on the next move
            rrl[m] = -1.0
            status[m] = FREE
            act[n_act] = m
            n_act += 1
        _enter(r, d, t_ev, c, rstate, t_next, key_r, out_rate, is_open, counts, peak)
    return n_act


@nb.njit(inline="always", cache=True)
def _enter(r, d, t_ev, c, rstate, t_next, key_r, out_rate, is_open, counts, peak):  # fmt: skip
    """Receptor ``r`` enters state ``d`` at ``t_ev``: counts, open peak, and its next transition time."""
    s = rstate[r]
    counts[s] -= 1
    counts[d] += 1
    rstate[r] = d
    if is_open[d] and not is_open[s]:
        n_open = 0
        for q in range(counts.shape[0]):
            if is_open[q]:
                n_open += counts[q]
        if n_open > peak[0]:
            peak[0] = n_open
            peak[1] = t_ev
    if out_rate[d] > 0.0:
        t_next[r] = t_ev - math.log(1.0 - _u(key_r, c + np.uint64(4))) / out_rate[d]
    else:
        t_next[r] = np.inf


@nb.njit(cache=True)
def _trial(key, n_mol, release_xy, rec_xy, rstate, cell_start, cell_items, grid_n, cell_nm, radius, h, diff, dt,
           sigma, rim_absorbing, uniform_release, release_tau, n_steps, rec_every, occ_every, radii, lam, bound,
           bind_next, ptr, dst, rate, out_rate, is_open, snap_steps, snaps, out_states, out_fp, out_fp_sum, out_fp_n,
           out_occ, out_r2, out_free, out_escape, peak, out_capt):  # fmt: skip
    """Simulate one release; fill this trial's output slices."""
    n_rec = rstate.shape[0]
    n_states = bound.shape[0]
    n_r = radii.shape[0]
    n_fp_bins = out_fp.shape[1]
    n_out = out_states.shape[0]
    n_occ = out_occ.shape[0]
    key_r = mix64(key ^ _SALT_REC)
    key_rel = mix64(key ^ _SALT_REL)
    key_fb = key ^ FALLBACK_SALT
    n_pre = 0
    for r in range(n_rec):
        n_pre += bound[rstate[r]]
    n_tot = n_mol + n_pre
    x = np.zeros(n_tot)
    y = np.zeros(n_tot)
    z = np.zeros(n_tot)
    rc = np.full(n_tot, -1.0)  # distance from the cleft centre (-1: not known)
    rrl = np.full(n_tot, -1.0)  # distance from the release point (-1: not known)
    ring = np.zeros(n_tot, np.int32)
    status = np.full(n_tot, WAITING, np.int8)
    act = np.empty(n_tot, np.int32)
    held = np.empty((n_rec, 2), np.int32)
    counts = np.zeros(n_states, np.int64)
    t_next = np.empty(n_rec)
    ev = np.zeros(n_rec, np.uint64)
    cand = np.empty(_MAX_CANDIDATES, np.int64)
    rx, ry = release_xy[0], release_xy[1]
    off = math.sqrt(rx * rx + ry * ry)
    centred = off == 0.0
    track_rings = not uniform_release
    # receptors: initial states, pre-bound molecules, first transition times
    m_pre = n_mol
    for r in range(n_rec):
        s = rstate[r]
        counts[s] += 1
        for b in range(bound[s]):
            held[r, b] = m_pre
            status[m_pre] = BOUND
            ring[m_pre] = n_r
            m_pre += 1
        c = (np.uint64(r) << _S32) + ev[r] * _U8
        ev[r] += np.uint64(1)
        t_next[r] = np.inf if out_rate[s] <= 0.0 else -math.log(1.0 - _u(key_r, c + np.uint64(4))) / out_rate[s]
    for q in range(n_states):
        if is_open[q]:
            peak[0] += counts[q]
    # release times (sorted) and, for a uniform release, positions
    t_rel = np.zeros(n_mol)
    for m in range(n_mol):
        c = np.uint64(m) * _U8
        if release_tau > 0.0:
            t_rel[m] = -release_tau * math.log(1.0 - _u(key_rel, c))
        if uniform_release:
            rho = radius * math.sqrt(_u(key_rel, c + np.uint64(1)))
            phi = 2.0 * math.pi * _u(key_rel, c + np.uint64(2))
            x[m] = rho * math.cos(phi)
            y[m] = rho * math.sin(phi)
            z[m] = h * _u(key_rel, c + np.uint64(3))
        else:
            x[m] = rx
            y[m] = ry
            z[m] = h
    order = np.argsort(t_rel, kind="mergesort")
    n_rel = 0
    n_act = 0
    sd = math.sqrt(2.0 * diff * dt)
    sig2 = sigma * sigma
    inv_cell = 1.0 / cell_nm
    bridge_lim = 30.0 * diff * dt  # exp(-30) ~ 1e-13: no bridge test beyond
    n_tot_u = np.uint64(n_tot)
    i_snap = 0
    fp_bin = occ_every * dt
    step = 0
    while step < n_steps:
        t0 = step * dt
        t1 = t0 + dt
        t_mid = t0 + 0.5 * dt
        n_act = _advance(t1, rstate, t_next, ev, held, rec_xy, key_r, sigma, h, ptr, dst, rate, out_rate, bound,
                         is_open, counts, x, y, z, rc, rrl, status, act, n_act, peak)  # fmt: skip
        while n_rel < n_mol and t_rel[order[n_rel]] < t1:
            m = order[n_rel]
            status[m] = FREE
            act[n_act] = m
            n_act += 1
            n_rel += 1
        w = 0
        for k in range(n_act):
            m = act[k]
            cnt = (np.uint64(step) * n_tot_u + np.uint64(m)) * _U8
            st = stream_state(key, cnt)
            x0 = x[m]
            y0 = y[m]
            r0c = rc[m]
            if r0c < 0.0:
                r0c = math.sqrt(x0 * x0 + y0 * y0)
            x1 = x0 + sd * normal_from_bits(mix64(st), key_fb, cnt)
            y1 = y0 + sd * normal_from_bits(mix64(st + GAMMA), key_fb, cnt + np.uint64(1))
            z1 = z[m] + sd * normal_from_bits(mix64(st + np.uint64(2) * GAMMA), key_fb, cnt + np.uint64(2))
            if z1 < 0.0:  # one reflection suffices unless a step exceeds h (then fold by the modulo)
                z1 = -z1
            if z1 > h:
                z1 = 2.0 * h - z1
                if z1 < 0.0:
                    z1 = abs(z1) % (2.0 * h)
                    if z1 > h:
                        z1 = 2.0 * h - z1
            rho2 = x1 * x1 + y1 * y1
            rho1 = math.sqrt(rho2)
            u_bridge = -1.0  # one uniform per step for every bridge test: nested events stay consistent
            escaped = False
            if rho1 >= radius:
                if rim_absorbing:
                    escaped = True
                else:
                    f = max(2.0 * radius - rho1, 0.0) / rho1
                    x1 *= f
                    y1 *= f
                    rho1 *= f
            elif rim_absorbing:
                d0 = radius - r0c
                d1 = radius - rho1
                if d0 * d1 < bridge_lim:
                    u_bridge = _u(key, cnt + np.uint64(4))
                    escaped = u_bridge < math.exp(-d0 * d1 / (diff * dt))
            rr = rho1
            if track_rings and ring[m] < n_r:
                if centred:
                    r0r = r0c
                else:
                    r0r = rrl[m]
                    if r0r < 0.0:
                        r0r = math.sqrt((x0 - rx) * (x0 - rx) + (y0 - ry) * (y0 - ry))
                    rr = math.sqrt((x1 - rx) * (x1 - rx) + (y1 - ry) * (y1 - ry))
                reach = rr
                if escaped:
                    reach = max(rr, radius - off)
                elif rr < radii[ring[m]]:
                    d0 = radii[ring[m]] - r0r
                    d1 = radii[ring[m]] - rr
                    if d0 * d1 < bridge_lim:
                        if u_bridge < 0.0:
                            u_bridge = _u(key, cnt + np.uint64(4))
                        if u_bridge < math.exp(-d0 * d1 / (diff * dt)):
                            reach = radii[ring[m]]
                while ring[m] < n_r and reach >= radii[ring[m]]:
                    kr = ring[m]
                    b = int(t_mid / fp_bin)
                    if b < n_fp_bins:
                        out_fp[kr, b] += 1
                    out_fp_sum[kr] += t_mid
                    out_fp_n[kr] += 1
                    ring[m] = kr + 1
            elif not centred:
                rr = -1.0
            if escaped:
                status[m] = GONE
                out_escape[0] += t_mid
                out_escape[1] += 1.0
                continue
            x[m] = x1
            y[m] = y1
            z[m] = z1
            rc[m] = rho1
            rrl[m] = rr
            if z1 < sigma and n_rec > 0:
                ix0 = max(int((x1 - sigma + radius) * inv_cell), 0)  # cells >= 2 sigma: at most 2 x 2 to visit
                ix1 = min(int((x1 + sigma + radius) * inv_cell), grid_n - 1)
                iy0 = max(int((y1 - sigma + radius) * inv_cell), 0)
                iy1 = min(int((y1 + sigma + radius) * inv_cell), grid_n - 1)
                n_c = 0
                lam_tot = 0.0
                for cx in range(ix0, ix1 + 1):
                    for cy in range(iy0, iy1 + 1):
                        cell = cx * grid_n + cy
                        for j in range(cell_start[cell], cell_start[cell + 1]):
                            r = cell_items[j]
                            if bind_next[rstate[r]] < 0:
                                continue
                            ddx = x1 - rec_xy[r, 0]
                            ddy = y1 - rec_xy[r, 1]
                            if ddx * ddx + ddy * ddy + z1 * z1 < sig2 and n_c < _MAX_CANDIDATES:
                                cand[n_c] = r
                                n_c += 1
                                lam_tot += lam[rstate[r]]
                if lam_tot > 0.0:
                    p = 1.0 - math.exp(-lam_tot * dt)
                    u = _u(key, cnt + np.uint64(3))
                    if u < p:
                        v = u / p * lam_tot
                        r = cand[n_c - 1]
                        for j in range(n_c):
                            v -= lam[rstate[cand[j]]]
                            if v < 0.0:
                                r = cand[j]
                                break
                        s = rstate[r]
                        d = bind_next[s]
                        if bound[d] > bound[s]:
                            held[r, bound[s]] = m
                            status[m] = BOUND
                        else:
                            status[m] = GONE
                        out_capt[0] += 1
                        c = (np.uint64(r) << _S32) + ev[r] * _U8
                        ev[r] += np.uint64(1)
                        if d != s:
                            _enter(r, d, t1, c, rstate, t_next, key_r, out_rate, is_open, counts, peak)
                        continue
            act[w] = m
            w += 1
        n_act = w
        done = step + 1
        if done % rec_every == 0 and done // rec_every - 1 < n_out:
            out_states[done // rec_every - 1, :] = counts
        if done % occ_every == 0 and done // occ_every - 1 < n_occ:
            j = done // occ_every - 1
            for k in range(n_act):
                m = act[k]
                ex = x[m] - rx
                ey = y[m] - ry
                rr2 = ex * ex + ey * ey
                b = int(math.sqrt(rr2) / radii[0])
                if b < n_r:
                    out_occ[j, b] += 1
                out_r2[j] += rr2
            out_free[j] = n_act
        if i_snap < snap_steps.shape[0] and snap_steps[i_snap] == done:
            for k in range(n_act):
                m = act[k]
                snaps[i_snap, m, 0] = x[m]
                snaps[i_snap, m, 1] = y[m]
                snaps[i_snap, m, 2] = z[m]
            i_snap += 1
        step = done
        if n_act == 0 and n_rel == n_mol:  # no free transmitter: skip to the step of the next receptor event
            t_min = np.inf
            for r in range(n_rec):
                t_min = min(t_min, t_next[r])
            nxt = n_steps if not t_min < np.inf else min(n_steps, max(done, math.ceil(t_min / dt) - 1))
            for j in range(done // rec_every, min(nxt // rec_every, n_out)):
                out_states[j, :] = counts
            step = nxt


@nb.njit(parallel=True, cache=True)
def run_trials(keys, n_mol, release_xy, rec_xy, rec_state, cell_start, cell_items, grid_n, cell_nm, radius, h, diff,
               dt, sigma, rim_absorbing, uniform_release, release_tau, n_steps, rec_every, occ_every, radii, lam, bound,
               bind_next, ptr, dst, rate, out_rate, is_open, snap_steps, snaps, out_states, out_fp, out_fp_sum,
               out_fp_n, out_occ, out_r2, out_free, out_escape, out_peak, out_capt):  # fmt: skip
    """Run every trial (in parallel over trials); outputs are per-trial arrays filled in place.

    ``rec_state`` is copied per trial (the receptors' initial states); ``snaps`` is filled for
    trial 0 only. See :func:`neuroabm.cleft.simulate.simulate` for shapes and units.
    """
    for tr in nb.prange(keys.shape[0]):
        state = rec_state[tr].copy()
        snap = snaps if tr == 0 else snaps[:0]
        steps = snap_steps if tr == 0 else snap_steps[:0]
        _trial(keys[tr], n_mol[tr], release_xy[tr], rec_xy[tr], state, cell_start[tr], cell_items[tr], grid_n,
               cell_nm, radius, h, diff, dt, sigma, rim_absorbing, uniform_release, release_tau, n_steps, rec_every,
               occ_every, radii, lam, bound, bind_next, ptr, dst, rate, out_rate, is_open, steps, snap,
               out_states[tr], out_fp[tr], out_fp_sum[tr], out_fp_n[tr], out_occ[tr], out_r2[tr], out_free[tr],
               out_escape[tr], out_peak[tr], out_capt[tr:tr + 1])  # fmt: skip
