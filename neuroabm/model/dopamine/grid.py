"""The periodic grid shared by the field and its sampler: sizes, positions, cells.

Node ``(i, j)`` of an ``N x N`` grid over an ``L x L`` torus sits at ``(i h, j h)``, ``h = L / N``
(the first array index is ``x``).
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np
import numpy.typing as npt

#: grid sizes accepted by the field and the sampler
GRID_N_RANGE = (4, 16384)


def check_grid_n(grid_n: int) -> int:
    """``grid_n`` as an int, or a ValueError naming the allowed range."""
    lo, hi = GRID_N_RANGE
    if isinstance(grid_n, bool) or not isinstance(grid_n, (int, np.integer)) or not lo <= grid_n <= hi:
        raise ValueError(f"grid_n must be an integer in [{lo}, {hi}] (got {grid_n!r})")
    return int(grid_n)


def check_positions(xy_mm: npt.ArrayLike) -> np.ndarray:
    """Positions [mm] as a contiguous float64 ``(m, 2)`` array, or a ValueError."""
    xy = np.ascontiguousarray(xy_mm, dtype=np.float64)
    if xy.ndim != 2 or xy.shape[1] != 2:
        raise ValueError(f"xy_mm must have shape (m, 2) [mm] (got shape {xy.shape})")
    if not np.all(np.isfinite(xy)):
        raise ValueError("xy_mm must be finite [mm]")
    return xy


@nb.njit(cache=True, inline="always")
def axis_cell(x: float, side: float, h: float, n: int) -> tuple[int, int, float]:
    """Lower node, upper node (periodic) and fractional offset of coordinate ``x`` [mm]."""
    u = (x % side) / h
    lower = math.floor(u)
    frac = u - lower
    i0 = int(lower) % n
    return i0, (i0 + 1) % n, frac
