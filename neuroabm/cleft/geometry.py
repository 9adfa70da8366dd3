"""Cleft geometry: receptor layouts on the postsynaptic face, release sites, the site lookup grid.

The cleft is the slab ``0 <= z <= h`` over the disc ``x^2 + y^2 < R^2`` (nm): the postsynaptic
membrane at ``z = 0`` carries the receptors, the vesicle fuses in the presynaptic membrane at
``z = h``. Everything here is plain numpy, seeded by the caller's ``numpy.random.Generator``.
"""

from __future__ import annotations

import math

import numpy as np

from neuroabm.checks import non_negative, positive

__all__ = ["cleft_volume_nm3", "place_receptors", "release_site", "site_grid"]


def cleft_volume_nm3(radius_nm: float, height_nm: float) -> float:
    """Volume ``pi R^2 h`` of the cleft [nm^3].

    >>> round(cleft_volume_nm3(200.0, 20.0))
    2513274
    """
    return math.pi * positive("radius_nm", radius_nm, "nm") ** 2 * positive("height_nm", height_nm, "nm")


def _uniform_disc(rng: np.random.Generator, n: int, radius: float) -> np.ndarray:
    rho = radius * np.sqrt(rng.random(n))
    phi = 2.0 * np.pi * rng.random(n)
    return np.column_stack([rho * np.cos(phi), rho * np.sin(phi)])


def place_receptors(
    rng: np.random.Generator, n: int, layout: str, psd_radius_nm: float, cleft_radius_nm: float
) -> np.ndarray:
    """Receptor positions ``(n, 2)`` [nm] on the postsynaptic face.

    ``disc``: uniform in the PSD disc; ``gaussian``: isotropic Gaussian density of sd
    ``psd_radius_nm / 2`` around the centre, redrawn outside the cleft; ``random``: uniform over
    the whole cleft.

    >>> xy = place_receptors(np.random.default_rng(0), 80, "disc", 125.0, 200.0)
    >>> xy.shape, bool(np.all(np.hypot(*xy.T) <= 125.0))
    ((80, 2), True)
    """
    psd = positive("psd_radius_nm", psd_radius_nm, "nm")
    radius = positive("cleft_radius_nm", cleft_radius_nm, "nm")
    if layout == "disc":
        return _uniform_disc(rng, n, psd)
    if layout == "random":
        return _uniform_disc(rng, n, radius)
    if layout == "gaussian":
        out = np.empty((n, 2))
        filled = 0
        while filled < n:
            cand = rng.normal(0.0, psd / 2.0, size=(n, 2))
            cand = cand[np.hypot(cand[:, 0], cand[:, 1]) < radius][: n - filled]
            out[filled : filled + len(cand)] = cand
            filled += len(cand)
        return out
    raise ValueError(f"layout must be one of 'disc', 'gaussian', 'random' (got {layout!r})")


def release_site(rng: np.random.Generator, offset_nm: float, jitter_nm: float) -> np.ndarray:
    """Release point ``(x, y)`` [nm]: ``(offset, 0)`` plus a uniform point in a disc of radius ``jitter``.

    >>> release_site(np.random.default_rng(0), 50.0, 0.0).tolist()
    [50.0, 0.0]
    """
    base = np.array([non_negative("offset_nm", offset_nm, "nm"), 0.0])
    if non_negative("jitter_nm", jitter_nm, "nm") == 0.0:
        return base
    return base + _uniform_disc(rng, 1, jitter_nm)[0]


def site_grid(xy: np.ndarray, radius_nm: float, min_cell_nm: float, max_side: int = 256) -> tuple[
    np.ndarray, np.ndarray, int, float
]:  # fmt: skip
    """Bucket receptor sites into square cells over ``[-R, R]^2`` (cells at least ``min_cell_nm`` wide).

    With cells at least ``2 sigma`` wide, the sites within ``sigma`` of a point lie in at most
    2 x 2 cells: those overlapping the square of half-side ``sigma`` around it.

    Returns:
        ``(cell_start, cell_items, side, cell_nm)``: sites of cell ``c = ix * side + iy`` are
        ``cell_items[cell_start[c]:cell_start[c + 1]]``.

    >>> start, items, side, cell = site_grid(np.array([[0.0, 0.0], [90.0, 90.0]]), 100.0, 10.0)
    >>> side, cell, items.tolist()
    (20, 10.0, [0, 1])

    """
    side = max(1, min(max_side, int(2.0 * radius_nm / min_cell_nm)))
    cell = 2.0 * radius_nm / side
    ix = np.clip(((xy[:, 0] + radius_nm) / cell).astype(np.int64), 0, side - 1)
    iy = np.clip(((xy[:, 1] + radius_nm) / cell).astype(np.int64), 0, side - 1)
    c = ix * side + iy
    order = np.argsort(c, kind="stable")
    start = np.searchsorted(c[order], np.arange(side * side + 1)).astype(np.int64)
    return start, order.astype(np.int64), side, cell
