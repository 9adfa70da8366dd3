"""Normal variates from counter-based bits: a 256-layer ziggurat on the SplitMix64 streams.

The kernels need three standard normals per molecule and time step. Box-Muller costs a logarithm,
a square root and a sine per pair; the ziggurat of Marsaglia & Tsang (2000, "The ziggurat method
for generating random variables", J. Stat. Softw. 5(8)) returns a normal from one 64-bit draw in
~99 % of calls with a table read, a multiply and a compare. The tables here are built from the
method's definition (below); the bits come from :mod:`neuroabm.model.random_streams`, so a draw is
a pure function of (key, counter) and results do not depend on the thread that computes them.

One 64-bit draw is split as: bits 0-7 the layer ``i``, bit 8 the sign, bits 11-63 a uniform
``u`` in [0, 1). Layer ``i`` is the rectangle ``[0, x_i] x [f(x_i), f(x_{i+1})]`` under
``f(x) = exp(-x^2 / 2)`` (all 256 of equal area ``v``; the bottom one, ``i = 0``, also holds the
tail beyond ``r = x_1``); the candidate is ``x = u x_i``. It is accepted at once when
``x < x_{i+1}`` (inside the curve for sure); otherwise the wedge test or, for the bottom layer,
Marsaglia's tail algorithm decides with further draws. Those come from a second key
(:func:`fallback_counter`), so the main counters advance by exactly one per normal.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from neuroabm.model.random_streams import bits_to_uniform, mix64, stream_state

__all__ = ["FALLBACK_SALT", "ZIG_R", "fallback_counter", "normal_from_bits", "ziggurat_tables"]

#: right edge of the base layer and common area of the 256 layers (Marsaglia & Tsang 2000, Table 1)
ZIG_R = 3.6541528853610088
ZIG_V = 0.00492867323399
#: xor-ed into a stream key to get the key of its fallback draws
FALLBACK_SALT = np.uint64(0xA5A5_5A5A_C3C3_3C3C)
#: fallback draws reserved per normal (a retry takes <= 3; 85 retries have probability < 1e-160)
FALLBACK_DRAWS = 256
_S8 = np.uint64(8)
_S11 = np.uint64(11)
_MASK8 = np.uint64(255)
_ONE = np.uint64(1)
_INV53 = 1.0 / 9007199254740992.0


def ziggurat_tables() -> tuple[np.ndarray, np.ndarray]:
    """Layer edges ``x[0..256]`` and ``f(x)`` for the 256-layer normal ziggurat.

    ``x[0] = v / f(r)`` is the width of the pseudo-rectangle that makes the base layer (strip plus
    tail) of area ``v``; ``x[1] = r``; ``x[i+1] = f^-1(f(x[i]) + v / x[i])``; ``x[256] = 0``.

    >>> x, fx = ziggurat_tables()
    >>> bool(x[1] == ZIG_R and x[256] == 0.0 and np.all(np.diff(x[1:]) < 0))
    True
    """
    x = np.empty(257)
    x[0] = ZIG_V / math.exp(-0.5 * ZIG_R * ZIG_R)
    x[1] = ZIG_R
    for i in range(1, 255):
        y = math.exp(-0.5 * x[i] * x[i]) + ZIG_V / x[i]
        x[i + 1] = math.sqrt(-2.0 * math.log(y))
    x[256] = 0.0
    return x, np.exp(-0.5 * x * x)


_ZX, _ZF = ziggurat_tables()


@nb.njit(inline="always", cache=True)
def fallback_counter(counter: np.uint64) -> np.uint64:
    """First fallback counter of the normal whose main draw is at ``counter``."""
    return counter * np.uint64(FALLBACK_DRAWS)


@nb.njit(cache=True)
def _slow_normal(i: int, x: float, key_fb: np.uint64, c_fb: np.uint64) -> float:
    """The ~1 % of ziggurat calls outside the core: wedge test, tail, or a fresh draw."""
    k = c_fb
    while True:
        if i == 0:  # tail beyond r (Marsaglia 1964): x = r + a with a ~ Exp(r) thinned
            while True:
                a = -math.log(1.0 - bits_to_uniform(mix64(stream_state(key_fb, k)))) / ZIG_R
                b = -math.log(1.0 - bits_to_uniform(mix64(stream_state(key_fb, k + _ONE))))
                k += np.uint64(2)
                if 2.0 * b > a * a:
                    return ZIG_R + a
        y = _ZF[i] + bits_to_uniform(mix64(stream_state(key_fb, k))) * (_ZF[i + 1] - _ZF[i])
        k += _ONE
        if y < math.exp(-0.5 * x * x):
            return x
        z = mix64(stream_state(key_fb, k))  # rejected: start again with fresh bits
        k += _ONE
        i = int(z & _MASK8)
        x = float(np.int64(z >> _S11)) * _INV53 * _ZX[i]
        if x < _ZX[i + 1]:
            return x


@nb.njit(inline="always", cache=True)
def normal_from_bits(z: np.uint64, key_fb: np.uint64, counter: np.uint64) -> float:
    """Standard normal from the 64 bits ``z`` drawn at ``counter`` (fallbacks from ``key_fb``)."""
    i = int(z & _MASK8)
    x = float(np.int64(z >> _S11)) * _INV53 * _ZX[i]
    if x >= _ZX[i + 1]:
        x = _slow_normal(i, x, key_fb, fallback_counter(counter))
    return -x if (z >> _S8) & _ONE else x
