"""Dopamine concentration field on a periodic grid: diffusion, decay, point releases, sampling.

The field obeys (REFERENCES section 3)::

    dD/dt = kappa Laplacian(D) - D / tau_D + sum_s R_s(t) delta(x - x_s)

on the ``L x L`` torus, discretized on ``N x N`` nodes: node ``(i, j)`` sits at
``x = i h, y = j h`` with ``h = L / N`` (the first array index is ``x``). ``values`` holds the
node concentrations [uM]; mass is ``values.sum() h^2`` [uM mm^2].

Releases (:meth:`DopamineField.deposit`) are point masses spread to the four surrounding nodes
with bilinear (cloud-in-cell) area weights, so each adds exactly its mass. Between releases the
linear part is advanced *exactly* over ``dt``: the field is multiplied, mode by mode, by
``exp(-(kappa lambda(k) + 1/tau) dt)``. Every such step is unconditionally stable (no Courant
limit, unlike the explicit stencil's ``dt <= h^2 / (4 kappa)``) and mass-exact: the ``k = 0``
mode is multiplied by exactly ``exp(-dt / tau)`` (``tau = inf``: no decay). Two choices of
``lambda`` are offered:

- ``operator="lattice"`` (default): ``lambda(k) = (4/h^2) (sin^2(k_x h/2) + sin^2(k_y h/2))``,
  the eigenvalues of the periodic 5-point Laplacian. The step is then the exact solution of the
  space-discretized equation, i.e. the transition kernel of a continuous-time random walk on the
  lattice (:func:`neuroabm.theory.heat_kernel.lattice_heat_kernel`). It is a probability kernel:
  never negative beyond round-off, mass-exact, and it converges to the continuum heat kernel as
  ``O(h^2 / sigma^2)`` with ``sigma^2 = 2 kappa t``. Concentrations stay physical (>= 0) even for
  a fresh point release, which is why it is the default.
- ``operator="spectral"``: ``lambda(k) = |k|^2`` with the continuum wavenumbers
  ``k = 2 pi m / L``. It is exact for the continuum PDE on band-limited data (a release at a node
  matches :func:`neuroabm.theory.heat_kernel.periodic_heat_kernel` to ~1e-8 once
  ``sqrt(2 kappa t) >= 2 h``), but its kernel is a band-limited Gaussian whose Gibbs ringing dips
  below zero around narrow features (e.g. a fresh point release with ``kappa dt / h^2 ~ 0.2``).

Implementations (``method``):

- ``"fft"``: ``scipy.fft`` ``rfft2`` -> multiply by the precomputed multiplier -> ``irfft2``.
  Used for the spectral operator and as the reference.
- ``"direct"`` (lattice only): the lattice multiplier is separable,
  ``exp(dt kappa (Lx (+) Ly)) = exp(dt kappa Lx) (x) exp(dt kappa Ly)``, and the 1D factor is the
  circular convolution with the exact lattice kernel ``exp(-2 s) I_m(2 s)``,
  ``s = kappa dt / h^2`` (``scipy.special.ive``), truncated at ``|m| <= r`` where the taps fall
  below ``1e-13`` of the centre tap and renormalized to sum to 1 (so the ``k = 0`` mode, the mass,
  stays exact and every tap stays positive). Each step is one convolution along ``x`` and one along ``y``:
  ``2 (2r + 1)`` multiply-adds per node; ``r = 5`` for ``s = 0.016`` (kappa = 1e-6 mm^2/ms,
  h = 1/128 mm, dt = 1 ms), ``r = 18`` for ``s = 1.64``. One numba kernel does both passes in
  ~8 bands of rows, one parallel task per band (see ``_band_kernel``), and can read the neurons'
  concentrations band by band as it goes (:meth:`DopamineField.step_and_sample`). The result
  agrees with the Fourier multiplier to ~1e-13 per step.
- ``"auto"`` (default): ``"direct"`` for the lattice operator when the truncated kernel fits the
  grid (``2r + 1 <= N``) and ``r <= 48``, else ``"fft"``.

:class:`BilinearSampler` reads the field at fixed positions (the neurons) with the same bilinear
weights as the deposit; it precomputes the nodes and weights once.

Cost on the 2-core reference machine (``benchmarks/bench_field.py``, 128 x 128 nodes, 2 numba
threads): the direct lattice step takes ~20 us at ``r = 5`` and ~50 us at ``r = 18``; reading
10,000 positions ~20 us (bound by the four gathers per point); 64 deposits ~3 us. The Fourier
path costs ~120 us per step.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable

import numba as nb
import numpy as np
import numpy.typing as npt
import scipy.fft
from scipy.special import ive

from neuroabm.checks import non_negative, positive

__all__ = ["METHODS", "OPERATORS", "BilinearSampler", "DopamineField", "lattice_taps"]

#: allowed values of ``operator``
OPERATORS = ("lattice", "spectral")
#: allowed values of ``method``
METHODS = ("auto", "direct", "fft")
#: direct-convolution taps are dropped below this fraction of the centre tap: the dropped mass
#: (the taps fall off faster than geometrically) changes a step by < 1e-13 of the field's maximum,
#: far below the lattice's own O(h^2 / sigma^2) distance from the continuum
TAP_RELATIVE_CUTOFF = 1e-13
#: ``method="auto"`` uses the direct convolution up to this half-width (taps per side)
AUTO_MAX_HALF_WIDTH = 48
#: grid sizes accepted by :class:`DopamineField`
GRID_N_RANGE = (4, 16384)
#: points per parallel chunk when sampling
_SAMPLE_CHUNK = 2500


# --------------------------------------------------------------------------- validation


def _check_grid_n(grid_n: int) -> int:
    lo, hi = GRID_N_RANGE
    if isinstance(grid_n, bool) or not isinstance(grid_n, (int, np.integer)) or not lo <= grid_n <= hi:
        raise ValueError(f"grid_n must be an integer in [{lo}, {hi}] (got {grid_n!r})")
    return int(grid_n)


def _check_positions(xy_mm: npt.ArrayLike) -> np.ndarray:
    xy = np.ascontiguousarray(xy_mm, dtype=np.float64)
    if xy.ndim != 2 or xy.shape[1] != 2:
        raise ValueError(f"xy_mm must have shape (m, 2) [mm] (got shape {xy.shape})")
    if not np.all(np.isfinite(xy)):
        raise ValueError("xy_mm must be finite [mm]")
    return xy


# --------------------------------------------------------------------------- kernels


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
    """Source of the x pass for one output row ``o`` from source rows around ``ii`` (see ``_band_kernel``)."""
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
def _band_kernel(r: int) -> Callable[..., None]:
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


@nb.njit(cache=True, inline="always")
def _axis_cell(x: float, side: float, h: float, n: int) -> tuple[int, int, float]:
    """Lower node, upper node (periodic) and fractional offset of coordinate ``x`` [mm]."""
    u = (x % side) / h
    lower = math.floor(u)
    frac = u - lower
    i0 = int(lower) % n
    return i0, (i0 + 1) % n, frac


@nb.njit(cache=True)
def _deposit_kernel(values: np.ndarray, xy: np.ndarray, amounts: np.ndarray, side: float, h: float) -> bool:
    """Add ``amounts / h^2`` to the 4 nodes around each point with bilinear (CIC) weights.

    Returns False, without touching ``values``, if a position or amount is not finite.
    """
    m = xy.shape[0]
    for p in range(m):
        if not (math.isfinite(xy[p, 0]) and math.isfinite(xy[p, 1]) and math.isfinite(amounts[p])):
            return False
    n = values.shape[0]
    inv_area = 1.0 / (h * h)
    for p in range(m):
        i0, i1, fx = _axis_cell(xy[p, 0], side, h, n)
        j0, j1, fy = _axis_cell(xy[p, 1], side, h, n)
        a = amounts[p] * inv_area
        values[i0, j0] += a * (1.0 - fx) * (1.0 - fy)
        values[i0, j1] += a * (1.0 - fx) * fy
        values[i1, j0] += a * fx * (1.0 - fy)
        values[i1, j1] += a * fx * fy
    return True


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
        i0, i1, gx = _axis_cell(xy[p, 0], side, h, n)
        j0, j1, gy = _axis_cell(xy[p, 1], side, h, n)
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


# --------------------------------------------------------------------------- sampler


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
        self.grid_n = _check_grid_n(grid_n)
        self.side_mm = positive("side_mm", side_mm, "[mm]")
        self.h_mm = self.side_mm / self.grid_n
        xy = _check_positions(xy_mm)
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


# --------------------------------------------------------------------------- field


class DopamineField:
    """Dopamine concentration on an ``N x N`` periodic grid over an ``L x L`` torus.

    Attributes:
        values: Node concentrations [uM], shape (N, N) float64, C-contiguous; node ``(i, j)`` is at
            ``(i h, j h)``. :meth:`deposit` adds in place; a direct :meth:`step` writes into a
            second buffer and rebinds ``values`` to it (so read ``field.values`` afresh after a
            step rather than keeping a reference; writing into it between steps is fine).
        grid_n: Nodes per side ``N``.
        side_mm: Side ``L`` [mm].
        h_mm: Grid spacing ``L / N`` [mm].
        kappa_mm2_per_ms: Diffusion coefficient [mm^2/ms].
        tau_ms: Decay time constant [ms] (``inf``: no decay).
        dt_ms: Time advanced by one :meth:`step` [ms].
        operator: ``"lattice"`` or ``"spectral"`` (see the module docstring).
        method: The implementation in use, ``"direct"`` or ``"fft"``.
        hop: Dimensionless ``s = kappa dt / h^2`` (the explicit 5-point stencil needs ``s <= 1/4``).
        half_width: Taps per side ``r`` of the direct convolution (``None`` for ``"fft"``).
        decay_per_step: ``exp(-dt / tau)``, the factor applied to the total mass by one step.

    """

    def __init__(
        self,
        grid_n: int,
        side_mm: float,
        kappa_mm2_per_ms: float,
        tau_ms: float,
        dt_ms: float,
        operator: str = "lattice",
        *,
        method: str = "auto",
    ) -> None:
        """Create an empty (zero) field.

        Args:
            grid_n: Nodes per side ``N``; integer in ``GRID_N_RANGE`` (4 to 16384).
            side_mm: Side ``L`` of the torus [mm]; finite and > 0.
            kappa_mm2_per_ms: Diffusion coefficient [mm^2/ms]; finite and >= 0.
            tau_ms: Decay time constant [ms]; in ``(0, inf]``, ``inf`` meaning no decay.
            dt_ms: Time step of :meth:`step` [ms]; finite and > 0. Any value is stable.
            operator: ``"lattice"`` (exact semi-discrete, non-negative; default) or ``"spectral"``
                (continuum wavenumbers).
            method: ``"auto"``, ``"direct"`` (separable convolution; lattice operator only, and only
                when ``2r + 1 <= N``) or ``"fft"``.

        Raises:
            ValueError: If an argument is out of range or a combination is not supported.

        """
        self.grid_n = _check_grid_n(grid_n)
        self.side_mm = positive("side_mm", side_mm, "[mm]")
        self.kappa_mm2_per_ms = non_negative("kappa_mm2_per_ms", kappa_mm2_per_ms, "[mm^2/ms]")
        self.tau_ms = positive("tau_ms", tau_ms, "[ms]", allow_inf=True)
        self.dt_ms = positive("dt_ms", dt_ms, "[ms]")
        if operator not in OPERATORS:
            raise ValueError(f"operator must be one of {OPERATORS} (got {operator!r})")
        if method not in METHODS:
            raise ValueError(f"method must be one of {METHODS} (got {method!r})")
        self.operator = operator
        n = self.grid_n
        self.h_mm = self.side_mm / n
        self.hop = self.kappa_mm2_per_ms * self.dt_ms / (self.h_mm * self.h_mm)
        self.decay_per_step = math.exp(-self.dt_ms / self.tau_ms)
        self.values = np.zeros((n, n), dtype=np.float64)

        # the direct convolution needs the 2r + 1 taps to fit in the grid without wrapping onto themselves
        taps = lattice_taps(self.hop, max_half_width=(n - 1) // 2) if operator == "lattice" else None
        if method == "direct" and taps is None:
            if operator != "lattice":
                raise ValueError("method='direct' needs operator='lattice' (the spectral kernel is not compact)")
            raise ValueError(
                f"method='direct' needs 2r + 1 <= grid_n, but the lattice kernel for s = kappa dt / h^2 = "
                f"{self.hop:.4g} is wider than {n} nodes; use method='fft' or 'auto'"
            )
        if method == "auto":
            method = "direct" if taps is not None and taps.size - 1 <= AUTO_MAX_HALF_WIDTH else "fft"
        self.method = method
        self.half_width: int | None = None
        if method == "direct":
            self._setup_direct(taps)
        else:
            self._setup_fft()

    # ------------------------------------------------------------------ set-up

    def _setup_direct(self, taps: np.ndarray) -> None:
        n = self.grid_n
        r = taps.size - 1
        self.half_width = r
        # the decay is folded into the x pass; the k = 0 gain is (sum of taps)^2 * decay
        self._w_x = np.ascontiguousarray(taps * self.decay_per_step)
        self._w_y = np.ascontiguousarray(taps)
        if r == 0:
            return
        self._band_step = _band_kernel(r)
        self._band_rows = max(4, -(-n // 8))  # ~8 bands: one parallel region, ~6 % extra rows when sampling
        n_bands = -(-n // self._band_rows)
        self._pad = np.zeros((n_bands, self._band_rows + 1, n + 2 * r))
        self._scratch = np.zeros((n_bands, n))
        self._spare = np.zeros((n, n))  # the step writes here, then the two buffers swap
        self._no_points = (np.zeros(n + 1, np.int64), np.zeros(0, np.int32), np.zeros(0, np.int32),
                           np.zeros(0), np.zeros(0), np.zeros(0))  # fmt: skip

    def _setup_fft(self) -> None:
        n, h = self.grid_n, self.h_mm
        kx = 2.0 * np.pi * np.fft.fftfreq(n, d=h)  # rad/mm, full axis
        ky = 2.0 * np.pi * np.fft.rfftfreq(n, d=h)  # rad/mm, half axis
        kappa_dt = self.kappa_mm2_per_ms * self.dt_ms
        if self.operator == "lattice":
            lam_x = (4.0 / h**2) * np.sin(0.5 * kx * h) ** 2
            lam_y = (4.0 / h**2) * np.sin(0.5 * ky * h) ** 2
        else:
            lam_x, lam_y = kx**2, ky**2
        decay_rate = 0.0 if self.tau_ms == math.inf else 1.0 / self.tau_ms
        self._multiplier = np.exp(-(kappa_dt * (lam_x[:, None] + lam_y[None, :]) + decay_rate * self.dt_ms))

    # ------------------------------------------------------------------ dynamics

    def deposit(self, xy_mm: npt.ArrayLike, amounts: npt.ArrayLike, trusted: bool = False) -> None:
        """Add point releases, spread to the 4 surrounding nodes with bilinear (CIC) weights.

        A release of mass ``a`` at ``(x, y)`` with cell offsets ``fx, fy`` adds
        ``a / h^2 * {(1-fx)(1-fy), (1-fx) fy, fx (1-fy), fx fy}`` to nodes
        ``(i0, j0), (i0, j1), (i1, j0), (i1, j1)`` (periodic), so :meth:`mass` grows by exactly
        ``amounts.sum()`` (to round-off) and the centre of mass of each release is preserved.

        Args:
            xy_mm: Release positions, shape (m, 2) [mm]; any finite values (wrapped onto the torus).
            amounts: Released masses, shape (m,) [uM mm^2]; finite (negative values remove mass).
            trusted: The caller guarantees C-contiguous float64 arrays of matching shapes (skips
                the conversions; finiteness is still checked).

        Raises:
            ValueError: If the shapes do not match or a value is not finite.

        """
        if trusted:
            if not _deposit_kernel(self.values, xy_mm, amounts, self.side_mm, self.h_mm):
                raise ValueError("xy_mm [mm] and amounts [uM mm^2] must be finite")
            return
        xy = np.ascontiguousarray(xy_mm, dtype=np.float64)
        a = np.ascontiguousarray(amounts, dtype=np.float64)
        if xy.ndim != 2 or xy.shape[1] != 2:
            raise ValueError(f"xy_mm must have shape (m, 2) [mm] (got shape {xy.shape})")
        if a.shape != (xy.shape[0],):
            raise ValueError(f"amounts must have shape ({xy.shape[0]},) [uM mm^2] (got shape {a.shape})")
        if not _deposit_kernel(self.values, xy, a, self.side_mm, self.h_mm):
            raise ValueError("xy_mm [mm] and amounts [uM mm^2] must be finite")

    def step(self) -> None:
        """Advance ``values`` by ``dt_ms`` with the exact operator ``exp(dt (kappa Laplacian - 1/tau))``."""
        if self.method == "fft":
            n = self.grid_n
            spectrum = scipy.fft.rfft2(self.values)
            spectrum *= self._multiplier
            self.values[...] = scipy.fft.irfft2(spectrum, s=(n, n), overwrite_x=True)
        elif self.half_width == 0:
            self.values *= self.decay_per_step
        else:
            self._direct_step(self._no_points)

    def _direct_step(self, tables: tuple[np.ndarray, ...]) -> None:
        """One banded step from ``values`` into the spare buffer, then swap (``values`` is rebound)."""
        self._band_step(self.values, self._spare, self._w_x, self._w_y, self._pad, self._scratch, self._band_rows,
                        *tables)  # fmt: skip
        self.values, self._spare = self._spare, self.values

    def step_and_sample(self, sampler: BilinearSampler, out: np.ndarray) -> None:
        """:meth:`step`, then ``sampler.sample(values, out)``; fused into one pass on the direct path.

        Args:
            sampler: A sampler made for this grid (:meth:`sampler`).
            out: Contiguous float64 output of shape ``(sampler.n_points,)``, written in place.

        """
        if sampler.grid_n != self.grid_n or sampler.side_mm != self.side_mm:
            raise ValueError("the sampler was made for another grid (use field.sampler(xy_mm))")
        if self.method != "direct" or self.half_width == 0:
            self.step()
            sampler.sample(self.values, out)
            return
        if out.shape != (sampler.n_points,) or out.dtype != np.float64 or not out.flags.c_contiguous:
            raise ValueError(f"out must be a contiguous float64 array of shape ({sampler.n_points},)")
        self._direct_step((*sampler.row_tables(), out))

    def mass(self) -> float:
        """Total mass ``values.sum() h^2`` [uM mm^2]."""
        return float(self.values.sum()) * self.h_mm * self.h_mm

    def sampler(self, xy_mm: npt.ArrayLike) -> BilinearSampler:
        """A :class:`BilinearSampler` for fixed positions ``xy_mm`` (m, 2) [mm] on this grid."""
        return BilinearSampler(xy_mm, self.grid_n, self.side_mm)

    def __repr__(self) -> str:
        return (
            f"DopamineField(grid_n={self.grid_n}, side_mm={self.side_mm}, kappa_mm2_per_ms={self.kappa_mm2_per_ms}, "
            f"tau_ms={self.tau_ms}, dt_ms={self.dt_ms}, operator={self.operator!r}, method={self.method!r})"
        )
