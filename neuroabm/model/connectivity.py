"""Fixed in-degree connectivity: which neurons project onto each neuron.

Every neuron receives exactly ``k_exc`` excitatory and ``k_inh`` inhibitory synapses (Brunel 2000
model A). Sources are drawn with replacement (multapses allowed, as in NEST's ``fixed_indegree``
default) and never the target itself, either uniformly from the pool or with probability
proportional to a periodic Gaussian kernel ``exp(-d^2 / (2 sigma^2))`` of the torus distance
(REFERENCES.md §5).
"""

from __future__ import annotations

import numpy as np

from neuroabm.config.params import ConfigError
from neuroabm.model.space import periodic_distance, torus_tree

#: the Gaussian kernel is cut at this many sigma (mass beyond: exp(-KERNEL_CUT**2 / 2) < 4e-6)
KERNEL_CUT = 5.0


def _uniform_pool(rng: np.random.Generator, n: int, lo: int, hi: int, k: int) -> np.ndarray:
    """For every target 0..n-1, k sources uniform in [lo, hi) excluding the target itself."""
    size = hi - lo
    out = np.empty((n, k), np.int32)
    for a in range(0, n, 4096):  # in blocks, to keep build memory near the size of the result
        targets = np.arange(a, min(a + 4096, n), dtype=np.int32)[:, None]
        own = (targets >= lo) & (targets < hi)
        high = (size - own).astype(np.int32) if size > 1 else np.ones_like(own, np.int32)
        draw = rng.integers(0, high, size=(targets.shape[0], k), dtype=np.int32) + lo
        out[a : a + targets.shape[0]] = np.where(own & (draw >= targets), draw + 1, draw)
    return out


def _gaussian_pool(
    rng: np.random.Generator, pos: np.ndarray, side_mm: float, sigma_mm: float, lo: int, hi: int, k: int
) -> np.ndarray:
    """For every target, k sources in [lo, hi) drawn with the periodic Gaussian kernel."""
    n = pos.shape[0]
    out = np.empty((n, k), np.int32)
    if k == 0:
        return out
    pool = pos[lo:hi]
    tree = torus_tree(pool, side_mm)
    radius = KERNEL_CUT * sigma_mm
    everyone = radius >= side_mm / np.sqrt(2.0)
    all_idx = np.arange(hi - lo)
    for t in range(n):
        cand = all_idx if everyone else np.asarray(tree.query_ball_point(pos[t], radius), dtype=np.int64)
        if lo <= t < hi:
            cand = cand[cand != t - lo]
        if cand.size == 0:
            raise ConfigError(
                f"invalid sigma_mm = {sigma_mm!r}: neuron {t} has no source within {KERNEL_CUT:g} sigma; "
                "allowed: a wider kernel or more neurons"
            )
        d = periodic_distance(pos[t], pool[cand], side_mm)
        cum = np.cumsum(np.exp(-0.5 * (d / sigma_mm) ** 2))
        pick = np.searchsorted(cum, rng.random(k) * cum[-1], side="right")
        out[t] = cand[np.minimum(pick, cand.size - 1)] + lo
    return out


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
