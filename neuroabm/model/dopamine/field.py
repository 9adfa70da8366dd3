"""Dopamine concentration field on a periodic grid: diffusion, decay, point releases, sampling.

The field obeys (docs/REFERENCES.md §3)::

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
  ~8 bands of rows, one parallel task per band (see ``band_kernel``), and can read the neurons'
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

import math

import numba as nb
import numpy as np
import numpy.typing as npt
import scipy.fft

from neuroabm.checks import non_negative, positive
from neuroabm.model.dopamine.grid import GRID_N_RANGE, axis_cell, check_grid_n
from neuroabm.model.dopamine.lattice import TAP_RELATIVE_CUTOFF, band_kernel, lattice_taps
from neuroabm.model.dopamine.sampler import BilinearSampler

__all__ = [
    "GRID_N_RANGE", "METHODS", "OPERATORS", "TAP_RELATIVE_CUTOFF", "BilinearSampler", "DopamineField", "lattice_taps",
]  # fmt: skip

#: allowed values of ``operator``
OPERATORS = ("lattice", "spectral")
#: allowed values of ``method``
METHODS = ("auto", "direct", "fft")
#: ``method="auto"`` uses the direct convolution up to this half-width (taps per side)
AUTO_MAX_HALF_WIDTH = 48


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
        i0, i1, fx = axis_cell(xy[p, 0], side, h, n)
        j0, j1, fy = axis_cell(xy[p, 1], side, h, n)
        a = amounts[p] * inv_area
        values[i0, j0] += a * (1.0 - fx) * (1.0 - fy)
        values[i0, j1] += a * (1.0 - fx) * fy
        values[i1, j0] += a * fx * (1.0 - fy)
        values[i1, j1] += a * fx * fy
    return True


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
        self.grid_n = check_grid_n(grid_n)
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
        self._band_step = band_kernel(r)
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

    def deposit_uniform(self, amount: float) -> None:
        """Spread a mass ``amount`` [uM mm^2] evenly over the torus: every node gains ``amount / L^2`` [uM].

        :meth:`mass` grows by exactly ``amount`` (to round-off), as with :meth:`deposit`.
        """
        self.values += amount / (self.side_mm * self.side_mm)

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
