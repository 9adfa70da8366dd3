"""Bilinear reads of the periodic grid at fixed positions (the neurons), and their tables."""

from __future__ import annotations

import numba as nb
import numpy as np
import numpy.typing as npt

from neuroabm.checks import positive
from neuroabm.model.dopamine.grid import axis_cell, check_grid_n, check_positions

#: points per parallel chunk when sampling
_SAMPLE_CHUNK = 2500

#: bit flags in a packed sampler cell: the upper node wraps around the seam in x / in y
_WRAP_X = 1 << 30
_WRAP_Y = 1 << 29
_INDEX_MASK = _WRAP_Y - 1


@nb.njit(cache=True)
def _sampler_tables(xy: np.ndarray, side: float, h: float, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Packed cell (flat lower-left index | wrap flags) and fractional offsets of each point."""
    m = xy.shape[0]
    cell = np.empty(m, np.int32)
    fx = np.empty(m, np.float64)
    fy = np.empty(m, np.float64)
    for p in range(m):
        i0, i1, gx = axis_cell(xy[p, 0], side, h, n)
        j0, j1, gy = axis_cell(xy[p, 1], side, h, n)
        code = i0 * n + j0
        if i1 == 0:
            code |= _WRAP_X
        if j1 == 0:
            code |= _WRAP_Y
        cell[p] = code
        fx[p] = gx
        fy[p] = gy
    return cell, fx, fy


@nb.njit(cache=True, parallel=True, fastmath={"contract"}, boundscheck=False)
def _sample_kernel(
    flat: np.ndarray, n: int, cell: np.ndarray, fx: np.ndarray, fy: np.ndarray, out: np.ndarray, chunk: int
) -> None:
    """Bilinear interpolation of ``flat`` (a C-ordered ``n x n`` grid) at the precomputed cells."""
    m = out.shape[0]
    n_chunks = (m + chunk - 1) // chunk
    step_x_wrap = n - n * n
    for c in nb.prange(n_chunks):
        for p in range(c * chunk, min(m, (c + 1) * chunk)):
            code = cell[p]
            b = code & _INDEX_MASK
            di = step_x_wrap if code & _WRAP_X else n
            dj = 1 - n if code & _WRAP_Y else 1
            # unsigned indices: no negative-index wrap-around test on the gathers
            a00 = flat[np.uint64(b)]
            a01 = flat[np.uint64(b + dj)]
            a10 = flat[np.uint64(b + di)]
            a11 = flat[np.uint64(b + di + dj)]
            gy = fy[p]
            low = a00 + gy * (a01 - a00)
            high = a10 + gy * (a11 - a10)
            out[p] = low + fx[p] * (high - low)


class BilinearSampler:
    """Bilinear reads of an ``N x N`` periodic grid at fixed positions (e.g. neurons).

    The cell of each point (its lower node ``(i0, j0)``, the periodic upper node and the
    fractional offsets ``fx = x/h - floor(x/h)``, ``fy``) is computed once; :meth:`sample` is then
    a vectorized gather::

        D(x, y) = (1-fx)(1-fy) D[i0,j0] + (1-fx) fy D[i0,j1] + fx (1-fy) D[i1,j0] + fx fy D[i1,j1]

    with ``i1 = (i0 + 1) mod N``, so a point just below ``x = L`` reads between node ``N - 1`` and
    node 0. The weights are those of :meth:`DopamineField.deposit`, so sampling is the adjoint of
    depositing. Bilinear interpolation is exact for fields that are linear in ``x`` and ``y``
    within a cell and reproduces node values at nodes.

    Attributes:
        grid_n: Nodes per side ``N``.
        side_mm: Side ``L`` of the torus [mm].
        h_mm: Grid spacing ``L / N`` [mm].
        n_points: Number of sampled positions.

    """

    def __init__(self, xy_mm: npt.ArrayLike, grid_n: int, side_mm: float) -> None:
        """Precompute the cells of the positions.

        Args:
            xy_mm: Positions, shape (m, 2) [mm]; any finite values (wrapped onto the torus).
            grid_n: Nodes per side ``N``; integer in ``GRID_N_RANGE``.
            side_mm: Side ``L`` of the torus [mm]; > 0.

        Raises:
            ValueError: If an argument is out of range or ``xy_mm`` is not finite with shape (m, 2).

        """
        self.grid_n = check_grid_n(grid_n)
        self.side_mm = positive("side_mm", side_mm, "[mm]")
        self.h_mm = self.side_mm / self.grid_n
        xy = check_positions(xy_mm)
        self.n_points = xy.shape[0]
        self._cell, self._fx, self._fy = _sampler_tables(xy, self.side_mm, self.h_mm, self.grid_n)
        self._rows: tuple[np.ndarray, ...] | None = None

    def row_tables(self) -> tuple[np.ndarray, ...]:
        """The points grouped by lower cell row: ``(row_ptr, order, j0, fx, fy)`` (built once)."""
        if self._rows is None:
            n = self.grid_n
            flat = self._cell & _INDEX_MASK
            i0, j0 = flat // n, flat % n
            order = np.argsort(i0, kind="stable")
            row_ptr = np.zeros(n + 1, np.int64)
            np.cumsum(np.bincount(i0, minlength=n), out=row_ptr[1:])
            self._rows = (row_ptr, order.astype(np.int32), j0[order].astype(np.int32),
                          self._fx[order], self._fy[order])  # fmt: skip
        return self._rows

    def sample(self, values: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """Interpolate ``values`` at the positions.

        Args:
            values: Node values, shape (N, N), float64 (first index = x).
            out: Optional preallocated float64 output of shape (m,), written in place.

        Returns:
            The interpolated values, shape (m,) float64 (``out`` if given).

        Raises:
            ValueError: If ``values`` or ``out`` has the wrong shape or dtype.

        """
        n = self.grid_n
        if values.shape != (n, n) or values.dtype != np.float64:
            raise ValueError(f"values must be a float64 array of shape ({n}, {n}) (got {values.dtype} {values.shape})")
        flat = values.reshape(-1) if values.flags.c_contiguous else np.ascontiguousarray(values).reshape(-1)
        if out is None:
            out = np.empty(self.n_points, dtype=np.float64)
        elif out.shape != (self.n_points,) or out.dtype != np.float64 or not out.flags.c_contiguous:
            raise ValueError(f"out must be a contiguous float64 array of shape ({self.n_points},)")
        _sample_kernel(flat, n, self._cell, self._fx, self._fy, out, _SAMPLE_CHUNK)
        return out

    __call__ = sample
