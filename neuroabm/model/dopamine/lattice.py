"""Direct lattice step of the field: truncated Bessel taps and the generated banded kernel.

The exact lattice multiplier ``exp(dt kappa (Lx (+) Ly))`` is separable; its 1D factor is the
circular convolution with ``exp(-2 s) I_m(2 s)``, ``s = kappa dt / h^2`` (see
:mod:`neuroabm.model.dopamine.field` for the numbers and the accuracy).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable

import numba as nb
import numpy as np
from scipy.special import ive

#: direct-convolution taps are dropped below this fraction of the centre tap: the dropped mass
#: (the taps fall off faster than geometrically) changes a step by < 1e-13 of the field's maximum,
#: far below the lattice's own O(h^2 / sigma^2) distance from the continuum
TAP_RELATIVE_CUTOFF = 1e-13


def lattice_taps(
    s: float, relative_cutoff: float = TAP_RELATIVE_CUTOFF, max_half_width: int | None = None
) -> np.ndarray | None:
    """One-sided taps of the truncated 1D lattice heat kernel, normalized to unit sum.

    Args:
        s: Dimensionless hopping time ``kappa dt / h^2``; >= 0.
        relative_cutoff: Taps below this fraction of the centre tap are dropped.
        max_half_width: If given, return ``None`` as soon as more than this many taps per side
            would be needed (the kernel is too wide for the direct convolution).

    Returns:
        ``w`` of length ``r + 1``: ``w[m]`` multiplies the nodes at distance ``m`` on either
        side, ``w[0] + 2 sum(w[1:]) = 1`` to within half an ulp (the centre tap takes the
        rounding), ``w[m] = exp(-2 s) I_m(2 s)`` up to the ~1e-17 relative renormalization.
        ``None`` if ``max_half_width`` is exceeded.

    """
    if s == 0.0:
        return np.ones(1)
    centre = ive(0, 2.0 * s)
    r = 0
    while ive(r + 1, 2.0 * s) >= relative_cutoff * centre:
        r += 1
        if max_half_width is not None and r > max_half_width:
            return None
    w = ive(np.arange(r + 1), 2.0 * s)
    w /= math.fsum([w[0], *(2.0 * w[1:])])
    # the centre tap absorbs the rounding, so that the float taps sum to 1 within half an ulp
    w[0] = 1.0 - 2.0 * math.fsum(w[1:])
    return w


def _tap_expression(r: int, stride: int, centre: int) -> str:
    """Source of ``sum_m w_m (b[t + centre + m stride] + b[t + centre - m stride])`` in 4 partial sums."""
    parts: list[list[str]] = [[] for _ in range(4)]
    parts[0].append(f"w0 * b[t + {centre}]")
    for m in range(1, r + 1):
        parts[m % 4].append(f"w{m} * (b[t + {centre + m * stride}] + b[t + {centre - m * stride}])")
    sums = ["(" + " + ".join(p) + ")" if p else "0.0" for p in parts]
    return f"({sums[0]} + {sums[1]}) + ({sums[2]} + {sums[3]})"


#: up to this half-width the x pass is generated with one row per tap (faster: no read-modify-write
#: of the output row per tap); wider kernels accumulate tap by tap (fewer live registers)
_UNROLL_X_MAX = 8


def _x_pass_source(r: int) -> str:
    """Source of the x pass for one output row ``o`` from source rows around ``ii`` (see ``band_kernel``)."""
    pad = " " * 12
    if r <= _UNROLL_X_MAX:
        rows = "".join(
            f"{pad}a{t} = src[(ii + {t}) % n]\n{pad}b{t} = src[(ii - {t} + n) % n]\n" for t in range(1, r + 1)
        )
        parts: list[list[str]] = [[] for _ in range(4)]
        parts[0].append("x0 * centre[j]")
        for t in range(1, r + 1):
            parts[t % 4].append(f"x{t} * (a{t}[j] + b{t}[j])")
        sums = ["(" + " + ".join(p) + ")" if p else "0.0" for p in parts]
        return f"{rows}{pad}for j in range(m):\n{pad}    o[j + {r}] = ({sums[0]} + {sums[1]}) + ({sums[2]} + {sums[3]})"
    return (
        f"{pad}for j in range(m):\n{pad}    o[j + {r}] = x0 * centre[j]\n"
        f"{pad}for t in range(1, {r + 1}):\n{pad}    above = src[(ii + t) % n]\n"
        f"{pad}    below = src[(ii - t + n) % n]\n{pad}    wt = wx[t]\n"
        f"{pad}    for j in range(m):\n{pad}        o[j + {r}] += wt * (above[j] + below[j])"
    )


@functools.cache
def band_kernel(r: int) -> Callable[..., None]:
    """Numba kernel of one direct step for half-width ``r``, optionally sampling points as it goes.

    ``_band_step(src, dst, wx, wy, pad, scratch, band_rows, row_ptr, order, j0, fx, fy, out)``
    writes ``dst = (x pass with wx) o (y pass with wy) of src`` in bands of ``band_rows`` rows,
    one band per parallel task (a single parallel region per step). Each task:

    1. x pass: each of its rows (plus the first row after the band, if there are points to read)
       as a weighted sum of whole source rows ``(i +- m) mod n`` (contiguous, vectorized over
       ``j``; unrolled over the taps up to ``_UNROLL_X_MAX``), into the task's own padded buffer
       ``pad[q]`` with ``r`` periodic ghost columns on each side (small enough to stay in L1/L2);
    2. y pass: every tap a multiply-add at a literal offset of the padded row (the kernel is
       generated for ``r``; a loop over taps runs ~3x slower here because the compiler cannot rule
       out aliasing), into ``dst`` (the extra row into ``scratch[q]``);
    3. sampling: the points whose lower cell row lies in the band (``row_ptr`` / ``order``, see
       :meth:`BilinearSampler.row_tables`) are read from the rows just written, with the same
       arithmetic as :class:`BilinearSampler`.

    ``src`` and ``dst`` must be different arrays. Compiled on first use of ``r`` in a process
    (~1-2 s).
    """
    weights = "\n".join(f"    w{m} = wy[{m}]" for m in range(r + 1))
    weights += "\n" + "\n".join(f"    x{m} = wx[{m}]" for m in range(r + 1))
    source = f"""
def _band_step(src, dst, wx, wy, pad, scratch, band_rows, row_ptr, order, j0, fx, fy, out):
{weights}
    n = src.shape[0]
    m = src.shape[1]
    extra = 1 if row_ptr[n] > 0 else 0
    for q in prange(scratch.shape[0]):
        lo = q * band_rows
        hi = min(n, lo + band_rows)
        rows = pad[q]
        for i in range(lo, hi + extra):
            ii = i % n
            o = rows[i - lo]
            centre = src[ii]
{_x_pass_source(r)}
            for j in range({r}):
                o[j] = o[m + j]
                o[m + {r} + j] = o[{r} + j]
        for i in range(lo, hi + extra):
            b = rows[i - lo]
            o = dst[i] if i < hi else scratch[q]
            for t in range(m):
                o[t] = {_tap_expression(r, 1, r)}
        for i in range(lo, hi):
            r0 = dst[i]
            r1 = dst[i + 1] if i + 1 < hi else scratch[q]
            for k in range(row_ptr[i], row_ptr[i + 1]):
                ja = j0[k]
                jb = ja + 1 if ja + 1 < m else 0
                gy = fy[k]
                low = r0[ja] + gy * (r0[jb] - r0[ja])
                high = r1[ja] + gy * (r1[jb] - r1[ja])
                out[order[k]] = low + fx[k] * (high - low)
"""
    namespace: dict = {"prange": nb.prange, "np": np}
    exec(compile(source, f"<neuroabm dopamine field step r={r}>", "exec"), namespace)
    return nb.njit(parallel=True, fastmath={"contract"}, boundscheck=False)(namespace["_band_step"])
