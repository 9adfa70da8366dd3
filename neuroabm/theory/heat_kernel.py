"""Heat kernels of ``dD/dt = kappa Laplacian(D) - D / tau`` on a periodic square domain.

Two exact references for the dopamine field (:mod:`neuroabm.model.dopamine`):

- :func:`periodic_heat_kernel` is the continuum solution for a point release of mass ``M`` at
  ``(x0, y0)`` at ``t = 0`` on the ``L x L`` torus (docs/REFERENCES.md §3)::

      D(x, t) = M exp(-t / tau) sum_n (4 pi kappa t)^(-1) exp(-|x - x0 - n L|^2 / (4 kappa t))

  The 2D sum factorizes into two 1D periodic Gaussians. It is summed over images while the
  kernel is narrow (``sqrt(4 kappa t)`` below the side) and, when it is wide, through the
  equivalent Fourier series (Poisson summation)
  ``(1/L) [1 + 2 sum_k exp(-kappa (2 pi k / L)^2 t) cos(2 pi k d / L)]``.

- :func:`lattice_heat_kernel` is the exact solution of the *space-discretized* equation on an
  ``N x N`` periodic grid of spacing ``h`` (5-point Laplacian), i.e. the transition kernel of a
  continuous-time random walk that hops to each neighbour at rate ``kappa / h^2``. With
  ``s = kappa t / h^2`` the 1D kernel on the infinite lattice is ``exp(-2 s) I_m(2 s)``
  (modified Bessel function; the Skellam distribution), its periodic version is the sum over
  images ``m + k N``, and the 2D kernel is the product of two 1D factors times
  ``M / h^2 exp(-t / tau)`` (a concentration: mass per area). It is non-negative and converges
  to the continuum kernel as ``O(h^2 / sigma^2)``, ``sigma^2 = 2 kappa t``.

Units only need to be consistent; in the package lengths are in mm, times in ms, ``kappa`` in
mm^2/ms, masses in uM mm^2 and concentrations in uM. Both functions are pure and vectorized.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
from scipy.special import ive

from neuroabm.checks import finite, non_negative, positive

__all__ = ["lattice_heat_kernel", "periodic_heat_kernel"]

#: images (or Fourier terms) are kept while ``exp(-arg)`` exceeds ``exp(-_TAIL_ARG)`` ~ 1e-19
_TAIL_ARG = 44.0
#: above this many images per side the Fourier / DFT forms are used instead
_MAX_IMAGES = 64


def _output(values: np.ndarray) -> float | np.ndarray:
    """Return a Python float for 0-d results, the array otherwise."""
    return float(values) if values.ndim == 0 else values


def _periodic_gaussian_1d(d: np.ndarray, four_kt: float, side: float, n_images: int | None) -> np.ndarray:
    """``sum_n (pi four_kt)^(-1/2) exp(-(d - n side)^2 / four_kt)`` for ``d`` in ``[-side/2, side/2)``."""
    width = math.sqrt(four_kt * _TAIL_ARG)
    if n_images is None:
        needed = max(1, math.ceil(width / side + 0.5))
        if needed <= _MAX_IMAGES:
            n_images = needed
    if n_images is not None:
        shifts = side * np.arange(-n_images, n_images + 1, dtype=np.float64)
        z = d[..., None] - shifts
        return np.exp(-(z * z) / four_kt).sum(axis=-1) / math.sqrt(math.pi * four_kt)
    # wide kernel: Fourier series, terms exp(-kappa (2 pi k / L)^2 t) = exp(-(pi k / L)^2 four_kt)
    n_terms = max(1, math.ceil(side / math.pi * math.sqrt(_TAIL_ARG / four_kt)))
    k = np.arange(1, n_terms + 1, dtype=np.float64)
    damping = np.exp(-((math.pi * k / side) ** 2) * four_kt)
    phase = (2.0 * math.pi / side) * d[..., None] * k
    return (1.0 + 2.0 * (damping * np.cos(phase)).sum(axis=-1)) / side


def periodic_heat_kernel(
    x: npt.ArrayLike,
    y: npt.ArrayLike,
    x0: float,
    y0: float,
    t_ms: float,
    kappa: float,
    side_mm: float,
    tau_ms: float = math.inf,
    mass: float = 1.0,
    n_images: int | None = None,
) -> float | np.ndarray:
    """Continuum periodic heat kernel: a point release of ``mass`` at ``(x0, y0)`` after ``t_ms``.

    ``D(x, y, t) = mass exp(-t/tau) g(x - x0) g(y - y0)`` with the 1D periodic Gaussian
    ``g(d) = sum_n (4 pi kappa t)^(-1/2) exp(-(d - n L)^2 / (4 kappa t))``. Displacements are
    first wrapped into ``[-L/2, L/2)``.

    Args:
        x: Position(s) ``x`` [mm]; broadcast against ``y``.
        y: Position(s) ``y`` [mm].
        x0: Release position ``x0`` [mm].
        y0: Release position ``y0`` [mm].
        t_ms: Time since the release [ms]; > 0.
        kappa: Diffusion coefficient [mm^2/ms]; > 0.
        side_mm: Side ``L`` of the square torus [mm]; > 0.
        tau_ms: Decay time constant [ms]; > 0, ``inf`` for no decay.
        mass: Released mass [uM mm^2] (any finite number; the result is linear in it).
        n_images: Images per side and axis (``n = -n_images .. n_images``). ``None`` chooses
            enough images that the omitted terms are below ~1e-19 of the peak, or switches to the
            Fourier series when that would need more than 64.

    Returns:
        The concentration [uM] (mass per mm^2), a float for scalar inputs or an array of the
        broadcast shape of ``x`` and ``y``.

    Raises:
        ValueError: If a parameter is out of range or non-finite, or ``n_images < 0``.

    """
    t_ms = positive("t_ms", t_ms, "[ms]")
    kappa = positive("kappa", kappa, "[mm^2/ms]")
    side_mm = positive("side_mm", side_mm, "[mm]")
    tau_ms = positive("tau_ms", tau_ms, "[ms]", allow_inf=True)
    mass = finite("mass", mass)
    x0 = finite("x0", x0)
    y0 = finite("y0", y0)
    if n_images is not None and (isinstance(n_images, bool) or int(n_images) != n_images or n_images < 0):
        raise ValueError(f"n_images must be None or an integer >= 0 (got {n_images!r})")
    xa, ya = np.broadcast_arrays(np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64))
    half = 0.5 * side_mm
    dx = np.mod(xa - x0 + half, side_mm) - half
    dy = np.mod(ya - y0 + half, side_mm) - half
    four_kt = 4.0 * kappa * t_ms
    n_img = None if n_images is None else int(n_images)
    gx = _periodic_gaussian_1d(dx, four_kt, side_mm, n_img)
    gy = _periodic_gaussian_1d(dy, four_kt, side_mm, n_img)
    return _output(mass * math.exp(-t_ms / tau_ms) * gx * gy)


def _lattice_factor_1d(d: np.ndarray, s: float, grid_n: int) -> np.ndarray:
    """Periodic 1D lattice kernel ``sum_k exp(-2 s) I_{d + k N}(2 s)`` for integer ``d`` in ``[0, N)``."""
    if s == 0.0:
        return (d == 0).astype(np.float64)
    # smallest order whose term is below ~1e-19 of the centre term
    centre = ive(0, 2.0 * s)
    cutoff = 1
    while ive(cutoff, 2.0 * s) > centre * math.exp(-_TAIL_ARG):
        cutoff *= 2
    n_images = cutoff // grid_n + 1
    if n_images <= _MAX_IMAGES:
        k = np.arange(-n_images, n_images + 1, dtype=np.float64)
        orders = np.abs(d[..., None].astype(np.float64) + grid_n * k)
        return ive(orders, 2.0 * s).sum(axis=-1)
    # very wide kernel: the exact finite DFT of the lattice multiplier exp(-4 s sin^2(pi q / N))
    q = np.arange(grid_n, dtype=np.float64)
    multiplier = np.exp(-4.0 * s * np.sin(math.pi * q / grid_n) ** 2)
    phase = (2.0 * math.pi / grid_n) * d[..., None].astype(np.float64) * q
    return (multiplier * np.cos(phase)).sum(axis=-1) / grid_n


def _integer_array(name: str, value: npt.ArrayLike) -> np.ndarray:
    arr = np.asarray(value)
    if arr.dtype.kind in "iu":
        return arr.astype(np.int64)
    arr = arr.astype(np.float64)
    if not np.all(np.isfinite(arr)) or np.any(arr != np.round(arr)):
        raise ValueError(f"{name} must hold integer node indices (got {value!r})")
    return arr.astype(np.int64)


def lattice_heat_kernel(
    i: npt.ArrayLike,
    j: npt.ArrayLike,
    i0: int,
    j0: int,
    t_ms: float,
    kappa: float,
    h_mm: float,
    grid_n: int,
    tau_ms: float = math.inf,
    mass: float = 1.0,
) -> float | np.ndarray:
    """Exact periodic lattice heat kernel: a release of ``mass`` at node ``(i0, j0)`` after ``t_ms``.

    Solution of ``dD/dt = kappa L5 D - D / tau`` (``L5`` the periodic 5-point Laplacian on an
    ``N x N`` grid of spacing ``h``) from ``D = mass / h^2`` at node ``(i0, j0)`` and 0 elsewhere::

        D(i, j, t) = mass / h^2 exp(-t / tau) f(i - i0) f(j - j0),
        f(m) = sum_k exp(-2 s) I_{m + k N}(2 s),   s = kappa t / h^2.

    ``exp(-2 s) I_m(2 s)`` is evaluated as ``scipy.special.ive(m, 2 s)``. When the image sum would
    need more than 64 images per side the equivalent finite DFT of the lattice multiplier is used.

    Args:
        i: Node index/indices along ``x``; any integers (taken modulo ``grid_n``), broadcast
            against ``j``.
        j: Node index/indices along ``y``.
        i0: Release node index along ``x``.
        j0: Release node index along ``y``.
        t_ms: Time since the release [ms]; >= 0.
        kappa: Diffusion coefficient [mm^2/ms]; >= 0.
        h_mm: Grid spacing [mm]; > 0.
        grid_n: Nodes per side ``N``; integer >= 1.
        tau_ms: Decay time constant [ms]; > 0, ``inf`` for no decay.
        mass: Released mass [uM mm^2] (any finite number).

    Returns:
        The node concentration [uM], a float for scalar inputs or an array of the broadcast
        shape of ``i`` and ``j``. The values sum to ``mass exp(-t/tau) / h^2`` over the grid.

    Raises:
        ValueError: If a parameter is out of range, non-finite or not an integer where one is needed.

    """
    t_ms = non_negative("t_ms", t_ms, "[ms]")
    kappa = non_negative("kappa", kappa, "[mm^2/ms]")
    h_mm = positive("h_mm", h_mm, "[mm]")
    tau_ms = positive("tau_ms", tau_ms, "[ms]", allow_inf=True)
    mass = finite("mass", mass)
    if isinstance(grid_n, bool) or int(grid_n) != grid_n or grid_n < 1:
        raise ValueError(f"grid_n must be an integer >= 1 (got {grid_n!r})")
    grid_n = int(grid_n)
    ia, ja = np.broadcast_arrays(_integer_array("i", i), _integer_array("j", j))
    i0 = int(_integer_array("i0", i0))
    j0 = int(_integer_array("j0", j0))
    s = kappa * t_ms / (h_mm * h_mm)
    fx = _lattice_factor_1d(np.mod(ia - i0, grid_n), s, grid_n)
    fy = _lattice_factor_1d(np.mod(ja - j0, grid_n), s, grid_n)
    return _output(mass / (h_mm * h_mm) * math.exp(-t_ms / tau_ms) * fx * fy)
