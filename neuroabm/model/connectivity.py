"""Fixed in-degree connectivity: which neurons project onto each neuron.

Every neuron receives exactly ``k_exc`` excitatory and ``k_inh`` inhibitory synapses (Brunel 2000
model A). Sources are drawn with replacement (multapses allowed, as in NEST's ``fixed_indegree``
default) and never the target itself, either uniformly from the pool or with probability
proportional to a periodic Gaussian kernel ``exp(-d^2 / (2 sigma^2))`` of the torus distance
(docs/REFERENCES.md §5).
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numba as nb
import numpy as np

from neuroabm.config.params import ConfigError
from neuroabm.model.space import torus_tree

#: the Gaussian kernel is cut at this many sigma (mass beyond: exp(-KERNEL_CUT**2 / 2) < 4e-6)
KERNEL_CUT = 5.0


#: targets per block of uniform draws (part of the random stream's definition: changing it changes networks)
UNIFORM_BLOCK = 4096


def uniform_blocks(rng: np.random.Generator, n: int, lo: int, hi: int, k: int) -> Iterator[tuple[int, np.ndarray]]:
    """Yield ``(first target, draws)`` blocks: for targets ``a .. a + len - 1``, k sources in [lo, hi), never itself.

    Blocks of :data:`UNIFORM_BLOCK` targets keep memory near one block, so a store can be built
    from them twice (count, then fill) by replaying the generator's state.
    """
    size = hi - lo
    for a in range(0, n, UNIFORM_BLOCK):
        targets = np.arange(a, min(a + UNIFORM_BLOCK, n), dtype=np.int32)[:, None]
        own = (targets >= lo) & (targets < hi)
        high = (size - own).astype(np.int32) if size > 1 else np.ones_like(own, np.int32)
        draw = rng.integers(0, high, size=(targets.shape[0], k), dtype=np.int32) + lo
        draw += own & (draw >= targets)
        yield a, draw


def _uniform_pool(rng: np.random.Generator, n: int, lo: int, hi: int, k: int) -> np.ndarray:
    """For every target 0..n-1, k sources uniform in [lo, hi) excluding the target itself."""
    out = np.empty((n, k), np.int32)
    for a, draw in uniform_blocks(rng, n, lo, hi, k):
        out[a : a + draw.shape[0]] = draw
    return out


@nb.njit(cache=True)
def _weighted_draws(tpos, tself, pool, cand, ptr, sigma, side, u, out):
    """For each target b, draw ``u.shape[1]`` candidates with weight exp(-d^2 / 2 sigma^2).

    Candidates of target b are ``cand[ptr[b]:ptr[b + 1]]`` (indices into ``pool``); the target's own
    index ``tself[b]`` gets weight 0. Writes -1 into ``out[b, 0]`` when no candidate has weight.
    """
    inv = 0.5 / (sigma * sigma)
    for b in range(tpos.shape[0]):
        a0, a1 = ptr[b], ptr[b + 1]
        cum = np.empty(a1 - a0)
        total = 0.0
        for q in range(a0, a1):
            c = cand[q]
            if c != tself[b]:
                dx = abs(pool[c, 0] - tpos[b, 0])
                dy = abs(pool[c, 1] - tpos[b, 1])
                dx = min(dx, side - dx)
                dy = min(dy, side - dy)
                total += math.exp(-(dx * dx + dy * dy) * inv)
            cum[q - a0] = total
        if total == 0.0:
            out[b, 0] = -1
            continue
        for j in range(u.shape[1]):
            idx = np.searchsorted(cum, u[b, j] * total, side="right")
            out[b, j] = cand[a0 + min(idx, a1 - a0 - 1)]


def _gaussian_draws(
    rng: np.random.Generator, pos: np.ndarray, targets: np.ndarray, side_mm: float, sigma_mm: float, lo: int,
    hi: int, k: int,
) -> np.ndarray:  # fmt: skip
    """For each entry of ``targets``, k sources in [lo, hi) drawn with the periodic Gaussian kernel."""
    out = np.empty((targets.size, k), np.int32)
    if k == 0 or targets.size == 0:
        return out
    pool = np.ascontiguousarray(pos[lo:hi])
    tree = torus_tree(pool, side_mm)
    radius = KERNEL_CUT * sigma_mm
    everyone = radius >= side_mm / np.sqrt(2.0)
    block = max(1, min(targets.size, 2**24 // max(hi - lo, 1)))  # bound the candidate lists to ~16M entries
    for a in range(0, targets.size, block):
        b = min(a + block, targets.size)
        tpos = np.ascontiguousarray(pos[targets[a:b]])
        if everyone:
            cand = np.tile(np.arange(hi - lo, dtype=np.int64), b - a)
            ptr = np.arange(b - a + 1, dtype=np.int64) * (hi - lo)
        else:
            lists = tree.query_ball_point(np.mod(tpos, side_mm), radius)
            ptr = np.zeros(b - a + 1, np.int64)
            ptr[1:] = np.cumsum([len(x) for x in lists])
            cand = np.fromiter((c for x in lists for c in x), np.int64, count=ptr[-1])
        tself = targets[a:b].astype(np.int64) - lo  # own index in the pool (outside it if not a member)
        _weighted_draws(tpos, tself, pool, cand, ptr, sigma_mm, side_mm, rng.random((b - a, k)), out[a:b])
        bad = np.flatnonzero(out[a:b, 0] < 0)
        if bad.size:
            raise ConfigError(
                f"invalid sigma_mm = {sigma_mm!r}: neuron {targets[a + bad[0]]} has no source within "
                f"{KERNEL_CUT:g} sigma; allowed: a wider kernel or more neurons"
            )
    return out + lo


def _gaussian_pool(
    rng: np.random.Generator, pos: np.ndarray, side_mm: float, sigma_mm: float, lo: int, hi: int, k: int
) -> np.ndarray:
    """For every target, k sources in [lo, hi) drawn with the periodic Gaussian kernel."""
    return _gaussian_draws(rng, pos, np.arange(pos.shape[0]), side_mm, sigma_mm, lo, hi, k)


def draw_sources_at(
    rng: np.random.Generator, pos: np.ndarray, targets: np.ndarray, lo: int, hi: int, side_mm: float,
    kernel: str = "uniform", sigma_mm: float = 0.1,
) -> np.ndarray:  # fmt: skip
    """One source in [lo, hi) for each entry of ``targets`` (never the target itself), with the kernel.

    Used to grow synapses: ``targets`` lists the postsynaptic neuron of every new synapse.
    """
    targets = np.asarray(targets, np.int64)
    if kernel == "gaussian":
        return _gaussian_draws(rng, pos, targets, side_mm, sigma_mm, lo, hi, 1)[:, 0]
    own = (targets >= lo) & (targets < hi)
    src = lo + rng.integers(0, hi - lo - own.astype(np.int64), size=targets.size)
    return np.where(own & (src >= targets), src + 1, src).astype(np.int32)


def all_to_all_sources(n: int) -> np.ndarray:
    """Every other neuron as a source of every neuron: shape (n, n - 1), row ``i`` = ``0 .. n-1`` without ``i``.

    The connectivity of Levina, Herrmann & Geisel (2007) (docs/REFERENCES.md §6); deterministic, no
    self-connections, no multapses.
    """
    j = np.arange(max(n - 1, 0), dtype=np.int32)[None, :]
    return j + (j >= np.arange(n, dtype=np.int32)[:, None])


def draw_sources(
    rng: np.random.Generator,
    pos: np.ndarray,
    n_exc: int,
    k_exc: int,
    k_inh: int,
    side_mm: float,
    kernel: str = "uniform",
    sigma_mm: float = 0.1,
) -> np.ndarray:
    """Presynaptic sources of every neuron, shape (n, k_exc + k_inh), excitatory columns first.

    Args:
        rng: seeded generator.
        pos: neuron positions [mm], shape (n, 2); neurons ``0 .. n_exc-1`` are excitatory.
        n_exc: number of excitatory neurons.
        k_exc: excitatory in-degree.
        k_inh: inhibitory in-degree.
        side_mm: torus side [mm].
        kernel: "uniform" or "gaussian".
        sigma_mm: Gaussian kernel width [mm].

    """
    n = pos.shape[0]
    if kernel == "uniform":
        exc = _uniform_pool(rng, n, 0, n_exc, k_exc) if k_exc else np.empty((n, 0), np.int32)
        inh = _uniform_pool(rng, n, n_exc, n, k_inh) if k_inh else np.empty((n, 0), np.int32)
    elif kernel == "gaussian":
        exc = _gaussian_pool(rng, pos, side_mm, sigma_mm, 0, n_exc, k_exc)
        inh = _gaussian_pool(rng, pos, side_mm, sigma_mm, n_exc, n, k_inh)
    else:
        raise ConfigError(f"invalid kernel = {kernel!r}: allowed one of 'uniform', 'gaussian'")
    return np.concatenate([exc, inh], axis=1)
