"""Structure in space: metrics of whether the synaptic graph lines up with the dopamine release sites.

Pure functions on arrays (positions on a torus of side ``side_mm``, edge arrays ``source, target,
weight``, labels), every random choice seeded. They answer issue 13's question (a):

- :func:`catchment_labels`, :func:`nearest_site_distance`: each neuron's nearest release site on
  the torus (the Voronoi catchment) and its distance to it [mm];
- :func:`normalized_mutual_information`: agreement of two partitions (e.g. Louvain communities
  and catchments), arithmetic normalization as in scikit-learn's default: 1 for equal partitions,
  ~0 for independent ones;
- :func:`strengths`, :func:`pearson`: in- and out-strength (sums of positive weights) and their
  correlation with the local dopamine or the distance to the nearest site;
- :func:`correlation_length`: the distance at which the spatial autocorrelation of a per-neuron
  quantity (in-strength) falls to 1/e;
- :func:`strong_reciprocity`: the fraction of strong connections whose reverse is also strong,
  and its chance level;
- :func:`catchment_rate_spread`: the homeostatic error, the spread of mean rates across catchments.
"""

from __future__ import annotations

import numba as nb
import numpy as np
from scipy.spatial import cKDTree


def _torus_tree(xy_mm: np.ndarray, side_mm: float) -> cKDTree:
    return cKDTree(np.mod(np.asarray(xy_mm, float), side_mm), boxsize=side_mm)


def catchment_labels(neuron_xy_mm: np.ndarray, site_xy_mm: np.ndarray, side_mm: float) -> np.ndarray:
    """Index of the nearest site of every neuron on the torus (its Voronoi catchment).

    >>> catchment_labels(np.array([[0.1, 0.1], [0.9, 0.9], [0.6, 0.4]]), np.array([[0.0, 0.0], [0.5, 0.5]]), 1.0)
    array([0, 0, 1])
    """
    return _torus_tree(site_xy_mm, side_mm).query(np.mod(neuron_xy_mm, side_mm))[1].astype(np.int64)


def nearest_site_distance(neuron_xy_mm: np.ndarray, site_xy_mm: np.ndarray, side_mm: float) -> np.ndarray:
    """Distance of every neuron to its nearest site on the torus [mm].

    >>> nearest_site_distance(np.array([[0.9, 0.0]]), np.array([[0.1, 0.0]]), 1.0).round(12).tolist()
    [0.2]
    """
    return _torus_tree(site_xy_mm, side_mm).query(np.mod(neuron_xy_mm, side_mm))[0]


def _entropy(counts: np.ndarray) -> float:
    p = counts[counts > 0] / counts.sum()
    return float(-(p * np.log(p)).sum())


def normalized_mutual_information(labels_a: np.ndarray, labels_b: np.ndarray) -> float:
    """``I(A; B) / ((H(A) + H(B)) / 2)`` of two labelings of the same items (natural logs cancel).

    1 when the partitions are equal up to renaming; 1 also when both are a single group (the
    convention of scikit-learn's ``normalized_mutual_info_score``); 0 when one is a single group
    and the other is not.

    >>> normalized_mutual_information(np.array([0, 0, 1, 1]), np.array([5, 5, 7, 7]))
    1.0
    >>> round(normalized_mutual_information(np.array([0, 0, 1, 1]), np.array([0, 1, 0, 1])), 12)
    0.0
    """
    a, b = np.asarray(labels_a), np.asarray(labels_b)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(f"labels must be 1-d arrays of one length (got {a.shape}, {b.shape})")
    _, ia = np.unique(a, return_inverse=True)
    _, ib = np.unique(b, return_inverse=True)
    table = np.zeros((ia.max() + 1 if a.size else 0, ib.max() + 1 if b.size else 0))
    np.add.at(table, (ia, ib), 1.0)
    h_a, h_b = _entropy(table.sum(axis=1)), _entropy(table.sum(axis=0))
    if h_a == 0.0 and h_b == 0.0:
        return 1.0
    h_ab = _entropy(table.ravel())
    mutual = max(0.0, h_a + h_b - h_ab)
    return float(mutual / (0.5 * (h_a + h_b)))


def strengths(
    source: np.ndarray, target: np.ndarray, weight: np.ndarray, n: int
) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """``(in_strength, out_strength)`` [mV]: sums of the positive (excitatory) weights into and out of each node.

    >>> s_in, s_out = strengths(np.array([0, 0, 1]), np.array([1, 2, 2]), np.array([1.0, -2.0, 0.5]), 3)
    >>> s_in.tolist(), s_out.tolist()
    ([0.0, 1.0, 0.5], [1.0, 0.5, 0.0])
    """
    return _strength_sums(np.asarray(source), np.asarray(target), np.asarray(weight), n)


@nb.njit(cache=True, boundscheck=False)
def _strength_sums(source: np.ndarray, target: np.ndarray, weight: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """One pass, in edge order (the sums ``np.bincount`` would form, at a fifth of its time)."""
    s_in, s_out = np.zeros(n), np.zeros(n)
    for e in range(source.shape[0]):
        w = np.float64(weight[e])
        if w > 0.0:
            s_in[target[e]] += w
            s_out[source[e]] += w
    return s_in, s_out


def pearson(x: np.ndarray, y: np.ndarray) -> float:
    """Pearson correlation, NaN if either side is constant.

    >>> pearson(np.array([1.0, 2.0, 3.0]), np.array([2.0, 4.0, 7.0])) > 0.99
    True
    """
    x, y = np.asarray(x, float), np.asarray(y, float)
    if x.size < 2 or not (np.std(x) > 0 and np.std(y) > 0):
        return float("nan")
    return float(np.corrcoef(x, y)[0, 1])


def correlation_function(
    values: np.ndarray, xy_mm: np.ndarray, side_mm: float, r_max_mm: float, n_bins: int = 20,
    max_pairs: int = 300_000, seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """Spatial autocorrelation ``C(r) = <z_i z_j>`` over pairs at torus distance ``r`` (``z``: standardized values).

    All pairs closer than ``r_max_mm`` are used if there are at most ``max_pairs`` of them;
    otherwise pairs are drawn uniformly (``numpy.random.default_rng(seed)``) and binned, so the
    estimate is reproducible. Returns ``(bin centres [mm], C)`` (NaN in empty bins).
    """
    v = np.asarray(values, float)
    z = (v - v.mean()) / v.std() if v.std() > 0 else np.zeros_like(v)
    edges = np.linspace(0.0, r_max_mm, n_bins + 1)
    xy = np.mod(np.asarray(xy_mm, float), side_mm)
    n = v.size
    if n * (n - 1) / 2 <= max_pairs:
        pairs = _torus_tree(xy, side_mm).query_pairs(r_max_mm, output_type="ndarray")
        i, j = pairs[:, 0], pairs[:, 1]
    else:
        rng = np.random.default_rng(seed)
        i, j = rng.integers(0, n, max_pairs), rng.integers(0, n, max_pairs)
        keep = i != j
        i, j = i[keep], j[keep]
    d = xy[i] - xy[j]
    d -= side_mm * np.round(d / side_mm)
    r = np.hypot(d[:, 0], d[:, 1])
    sel = r < r_max_mm
    b = np.minimum((r[sel] / r_max_mm * n_bins).astype(np.int64), n_bins - 1)
    sums = np.bincount(b, weights=z[i[sel]] * z[j[sel]], minlength=n_bins)
    counts = np.bincount(b, minlength=n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        c = sums / counts
    return 0.5 * (edges[1:] + edges[:-1]), c


def correlation_length(
    values: np.ndarray, xy_mm: np.ndarray, side_mm: float, r_max_mm: float | None = None, n_bins: int = 20,
    max_pairs: int = 300_000, seed: int = 0,
) -> float:  # fmt: skip
    """Distance [mm] at which the autocorrelation of ``values`` first falls below 1/e (linear interpolation).

    ``C(0) = 1`` (standardized values) is the start point; ``r_max_mm`` defaults to a quarter of the
    side. Returns 0 if the first bin is already below 1/e only when values are uncorrelated at the
    smallest distances (interpolated from ``C(0) = 1``), ``r_max_mm`` if it never falls, NaN for
    constant values. A Gaussian-smoothed white field of kernel width ``s`` has ``C(r) =
    exp(-r^2 / (4 s^2))``, so length ``2 s`` (tests/test_spatial_metrics.py).
    """
    v = np.asarray(values, float)
    if not v.std() > 0:
        return float("nan")
    r_max = side_mm / 4.0 if r_max_mm is None else r_max_mm
    r, c = correlation_function(v, xy_mm, side_mm, r_max, n_bins, max_pairs, seed)
    ok = np.isfinite(c)
    r, c = np.concatenate([[0.0], r[ok]]), np.concatenate([[1.0], c[ok]])
    level = np.exp(-1.0)
    below = np.flatnonzero(c < level)
    if below.size == 0:
        return float(r_max)
    k = int(below[0])
    return float(r[k - 1] + (c[k - 1] - level) / (c[k - 1] - c[k]) * (r[k] - r[k - 1]))


def strong_reciprocity(
    source: np.ndarray, target: np.ndarray, weight: np.ndarray, n: int, quantile: float = 0.9
) -> tuple[float, float]:  # fmt: skip
    """Reciprocity of the strong connections: ``(observed, chance)``.

    Strong: positive weight at or above the ``quantile`` of the positive weights (multapses
    merged first, their weights summed). ``observed`` is the fraction of strong connections
    ``i -> j`` whose reverse ``j -> i`` is also strong (networkx's ``reciprocity`` of the strong
    subgraph); ``chance`` is the density ``m / (n (n - 1))`` of the strong subgraph, the expected
    value for connections placed at random.

    >>> strong_reciprocity(np.array([0, 1, 1]), np.array([1, 0, 2]), np.array([1.0, 1.0, 1.0]), 3, 0.0)
    (0.6666666666666666, 0.5)
    """
    src, tgt = np.asarray(source, np.int64), np.asarray(target, np.int64)
    w = np.asarray(weight, float)
    keep = (w > 0) & (src != tgt)
    key, inverse = np.unique(src[keep] * n + tgt[keep], return_inverse=True)
    summed = np.bincount(inverse, weights=w[keep], minlength=key.size)
    if key.size == 0:
        return float("nan"), float("nan")
    strong = key[summed >= np.quantile(summed, quantile)]
    reverse = (strong % n) * n + strong // n
    observed = float(np.isin(reverse, strong, assume_unique=True).mean())
    return observed, float(strong.size / (n * (n - 1.0)))


def catchment_rate_spread(rates_hz: np.ndarray, labels: np.ndarray) -> float:
    """Homeostatic error: standard deviation across catchments of their mean rates [Hz].

    >>> catchment_rate_spread(np.array([1.0, 3.0, 10.0, 10.0]), np.array([0, 0, 1, 1]))
    4.0
    """
    lab = np.asarray(labels)
    _, inv = np.unique(lab, return_inverse=True)
    means = np.bincount(inv, weights=np.asarray(rates_hz, float)) / np.bincount(inv)
    return float(means.std())
