"""Shared constants and helpers of the dopamine field tests (grid, step sizes, CIC weights)."""

from __future__ import annotations

import math

import numpy as np

N = 64
SIDE = 1.0
H = SIDE / N
DT = 1.0
#: s = kappa dt / h^2 of 128 nodes on 1 mm with kappa = 1e-4 mm^2/ms, dt = 1 ms: 18 taps per side
S_MAIN = 1.6384
#: a narrow step, 0.8 x the explicit limit: 9 taps per side
S_NARROW = 0.2


def kappa_for(s: float, h: float = H, dt: float = DT) -> float:
    """Diffusion coefficient [mm^2/ms] giving ``kappa dt / h^2 = s``."""
    return s * h * h / dt


def node_grid(n: int = N) -> tuple[np.ndarray, np.ndarray]:
    return np.meshgrid(np.arange(n), np.arange(n), indexing="ij")


def cic_nodes(x: float, y: float, h: float = H) -> list[tuple[int, int, float]]:
    """The 4 nodes and bilinear weights a release at (x, y) is spread to (independent re-derivation)."""
    u, v = x / h, y / h
    i0, j0 = math.floor(u), math.floor(v)
    fx, fy = u - i0, v - j0
    return [
        (i0, j0, (1 - fx) * (1 - fy)),
        (i0, j0 + 1, (1 - fx) * fy),
        (i0 + 1, j0, fx * (1 - fy)),
        (i0 + 1, j0 + 1, fx * fy),
    ]


def rel_max_error(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a - b).max() / np.abs(b).max())
