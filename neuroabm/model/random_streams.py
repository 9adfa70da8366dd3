"""Counter-based random numbers for the numba kernels.

Every draw is a pure function of (key, counter): the SplitMix64 output function (Steele, Lea &
Flood 2014, "Fast splittable pseudorandom number generators") applied to ``key + (counter + 1) *
gamma``. That is exactly the SplitMix64 sequence seeded with ``key``, read at position
``counter``, so draws need no state, cost a few integer operations inline, and are identical
whichever thread computes them: the same seed gives bit-identical spikes on any number of cores.

Counters are laid out as ``((step * n_streams) + stream) * DRAWS_PER_SLOT + j``; the kernels walk
a neuron's counters by adding a constant per step (:func:`stream_state`, :func:`stream_stride`).
Draw ``j`` of a slot: 0, 1 white noise (Box-Muller); 2 Brownian-bridge test; 3 Poisson drive.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

GAMMA = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S11 = np.uint64(11)
_INV53 = 1.0 / 9007199254740992.0  # 2**-53
#: independent draws available to one stream in one time step
DRAWS_PER_SLOT = 4
#: the Poisson guide table is indexed by the top GUIDE_BITS bits of a draw
GUIDE_BITS = 12
_GUIDE_SHIFT = np.uint64(64 - GUIDE_BITS)


@nb.njit(inline="always", cache=True)
def mix64(z: np.uint64) -> np.uint64:
    """SplitMix64 output function (a bijective avalanche mixer)."""
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


@nb.njit(inline="always", cache=True)
def stream_state(key: np.uint64, counter: np.uint64) -> np.uint64:
    """The SplitMix64 state whose mix is draw ``counter`` of stream ``key``."""
    return key + (counter + np.uint64(1)) * GAMMA


@nb.njit(inline="always", cache=True)
def stream_stride(n_streams: int) -> np.uint64:
    """State increment from one step to the next for the same stream and draw."""
    return np.uint64(n_streams * DRAWS_PER_SLOT) * GAMMA


@nb.njit(inline="always", cache=True)
def draw_bits(state: np.uint64, j: int) -> np.uint64:
    """64 random bits: draw ``j`` of the slot whose draw-0 state is ``state``."""
    return mix64(state + np.uint64(j) * GAMMA)


@nb.njit(inline="always", cache=True)
def bits_to_uniform(z: np.uint64) -> float:
    """Uniform double in [0, 1) from the top 53 bits (via int64: faster than uint64 -> float)."""
    return float(np.int64(z >> _S11)) * _INV53


@nb.njit(inline="always", cache=True)
def slot_counter(step: np.int64, n_streams: np.int64, stream: np.int64) -> np.uint64:
    """Counter of draw 0 of (step, stream)."""
    return np.uint64((step * n_streams + stream) * DRAWS_PER_SLOT)


@nb.njit(inline="always", cache=True)
def uniform(key: np.uint64, counter: np.uint64) -> float:
    """Uniform double in [0, 1) for position ``counter`` of stream ``key``."""
    return bits_to_uniform(mix64(stream_state(key, counter)))


@nb.njit(inline="always", cache=True)
def standard_normal(state: np.uint64) -> float:
    """One standard normal (Box-Muller) from draws 0 and 1 of a slot."""
    u1 = bits_to_uniform(draw_bits(state, 0))
    u2 = bits_to_uniform(draw_bits(state, 1))
    return math.sqrt(-2.0 * math.log(1.0 - u1)) * math.cos(2.0 * math.pi * u2)


def poisson_table(lam: float) -> tuple[np.ndarray, np.ndarray]:
    """Tables for Poisson sampling by inversion of 64 random bits with a guide table.

    The sample for bits ``z`` is the smallest ``k`` with ``z <= upper[k]``, where
    ``upper[k] = floor(P(N <= k) 2^64) - 1``, so ``P(sample <= k) = P(N <= k)`` to 2^-64; the tail
    beyond the last entry (mass below 1e-16) is folded into it. ``guide[m]`` is the answer for the
    smallest ``z`` of cell ``m = z >> 52``: with 4096 cells most cells lie inside one value's step,
    so the search loop almost never runs (Chen & Asau 1974).

    Args:
        lam: Poisson mean per draw (dimensionless, e.g. inputs per time step).

    Returns:
        ``(upper, guide)``: uint64 and int32 arrays.

    """
    if lam < 0 or not math.isfinite(lam):
        raise ValueError(f"Poisson mean must be finite and >= 0, got {lam}")
    from scipy.stats import poisson

    kmax = int(lam + 12.0 * math.sqrt(lam) + 40)
    k = np.arange(kmax + 1)
    sf = poisson.sf(k, lam)
    last = int(np.argmax(sf < 1e-16)) if np.any(sf < 1e-16) else kmax
    cdf = poisson.cdf(k[: last + 1], lam)
    two64 = 1 << 64
    upper_int = [max(int(c * two64) - 1, 0) for c in cdf[:-1]] + [two64 - 1]
    upper = np.array(upper_int, dtype=np.uint64)
    cells = [m << (64 - GUIDE_BITS) for m in range(1 << GUIDE_BITS)]
    guide = np.empty(len(cells), np.int32)
    q = 0
    for m, z in enumerate(cells):
        while z > upper_int[q]:
            q += 1
        guide[m] = q
    return upper, guide


@nb.njit(inline="always", cache=True)
def poisson_draw(z: np.uint64, upper: np.ndarray, guide: np.ndarray) -> int:
    """Poisson variate from 64 random bits ``z`` by guided inversion (see :func:`poisson_table`)."""
    k = guide[z >> _GUIDE_SHIFT]
    while z > upper[k]:
        k += 1
    return k
