"""Geometry of the square torus: placement and periodic distances.

The torus is ``[0, side) x [0, side)`` [mm]; Mesa's ``ContinuousSpace(torus=True)`` holds the same
positions for the agents. Neighbour queries use scipy's ``cKDTree`` with ``boxsize`` (periodic).
"""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree


def place_uniform(rng: np.random.Generator, n: int, side_mm: float) -> np.ndarray:
    """Positions uniformly at random on the torus [mm], shape (n, 2)."""
    return rng.uniform(0.0, side_mm, size=(n, 2))


#: stripes per side used to order neurons spatially (see :func:`spatial_order`)
ORDER_STRIPES = 256


def spatial_order(xy_mm: np.ndarray, side_mm: float, stripes: int = ORDER_STRIPES) -> np.ndarray:
    """Permutation that sorts points into stripes along x, and by y within a stripe (boustrophedon).

    Neuron indices carry no meaning within a population, so the model numbers each population in
    this order: neighbours in space get nearby indices, and everything that reads per-neuron data
    by position (the dopamine sampler, local synapses) walks memory almost sequentially.
    """
    stripe = np.minimum((np.mod(xy_mm[:, 0], side_mm) / side_mm * stripes).astype(np.int64), stripes - 1)
    y = np.where(stripe % 2 == 0, xy_mm[:, 1], -xy_mm[:, 1])
    return np.lexsort((y, stripe))


def periodic_delta(a: np.ndarray, b: np.ndarray, side_mm: float) -> np.ndarray:
    """Shortest displacement ``b - a`` on the torus, componentwise in ``[-side/2, side/2)`` [mm]."""
    d = np.asarray(b, float) - np.asarray(a, float)
    return (d + 0.5 * side_mm) % side_mm - 0.5 * side_mm


def periodic_distance(a: np.ndarray, b: np.ndarray, side_mm: float) -> np.ndarray:
    """Shortest distance between points on the torus [mm] (broadcasts over leading axes)."""
    return np.linalg.norm(periodic_delta(a, b, side_mm), axis=-1)


def torus_tree(points: np.ndarray, side_mm: float) -> cKDTree:
    """A KD-tree with periodic boundaries over ``points`` (wrapped into the box first)."""
    return cKDTree(np.mod(points, side_mm), boxsize=side_mm)
