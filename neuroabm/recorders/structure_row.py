"""The spatial columns of a graph-metrics row (see :mod:`neuroabm.analysis.spatial_metrics`).

Split by cost and by what they depend on:

- :func:`strength_columns` (every record, O(E) + O(n)): in- and out-strength against the local
  dopamine and against the distance to the nearest release site;
- :func:`heavy_spatial_columns` (on the records that compute clustering and modularity):
  NMI of the Louvain communities and the catchments, the correlation length of the in-strength
  and the reciprocity of the strongest 10 % of the excitatory connections;
- :func:`rate_columns` (every record): the mean rate and the homeostatic error over the window
  since the previous record.

Only the dopamine correlations and the rates can change while the synapses cannot, which is what
lets a static run reuse its first row (:class:`neuroabm.recorders.graph.GraphRecorder`).
"""

from __future__ import annotations

import numpy as np

from neuroabm.analysis.graph_metrics import structure_metrics
from neuroabm.analysis.spatial_metrics import (
    catchment_rate_spread,
    correlation_length,
    normalized_mutual_information,
    pearson,
    strengths,
    strong_reciprocity,
)

#: strong connections: the top (1 - this) of the positive weights
STRONG_QUANTILE = 0.9
#: strong reciprocity is measured among at most this many (seeded) excitatory neurons
RECIPROCITY_NODES = 4000
#: the in-strength correlation length is looked for up to this fraction of the side
CORR_RANGE_OF_SIDE = 0.25
#: columns that follow the dopamine or the rates (recomputed even when the synapses cannot change)
DYNAMIC_COLUMNS = ("da_in_strength_corr", "da_out_strength_corr", "rate_mean_hz", "rate_spread_hz")
#: spatial columns of the heavy records (NaN on the others)
HEAVY_SPATIAL_COLUMNS = ("nmi_catchments", "in_strength_corr_length_mm", "strong_reciprocity",
                         "strong_reciprocity_chance")  # fmt: skip


def strength_columns(
    in_strength: np.ndarray, out_strength: np.ndarray, da_um: np.ndarray, site_distance_mm: np.ndarray | None
) -> dict[str, float]:  # fmt: skip
    """Correlations of in/out-strength with the local dopamine and with the distance to the nearest site."""
    far = site_distance_mm
    nan = float("nan")
    return {
        "da_in_strength_corr": pearson(da_um, in_strength),
        "da_out_strength_corr": pearson(da_um, out_strength),
        "site_dist_in_strength_corr": pearson(far, in_strength) if far is not None else nan,
        "site_dist_out_strength_corr": pearson(far, out_strength) if far is not None else nan,
    }


def heavy_spatial_columns(
    src: np.ndarray, tgt: np.ndarray, w: np.ndarray, n_exc: int, partition: np.ndarray,
    catchments: np.ndarray | None, in_strength: np.ndarray, xy_mm: np.ndarray, side_mm: float, seed: int,
) -> dict[str, float]:  # fmt: skip
    """NMI(communities, catchments), in-strength correlation length, strong reciprocity (E -> E).

    Reciprocity is that of the subgraph induced by a fixed seeded sample of at most
    :data:`RECIPROCITY_NODES` excitatory neurons (all of them in smaller networks): a pair's two
    directions are both in it or both out of it, so the fraction is estimated without bias, and a
    record holds O(sample^2 k / n) edges instead of copying all of them.
    """
    n_s = min(n_exc, RECIPROCITY_NODES)
    keep = np.zeros(n_exc + 1, bool)  # index n_exc stands for every inhibitory neuron
    keep[np.random.default_rng([seed, 0xEC1]).choice(n_exc, n_s, replace=False)] = True
    rank = np.cumsum(keep) - 1
    sel = np.flatnonzero(keep[np.minimum(src, n_exc)] & keep[np.minimum(tgt, n_exc)])
    observed, chance = strong_reciprocity(rank[src[sel]], rank[tgt[sel]], w[sel], n_s, STRONG_QUANTILE)
    return {
        "nmi_catchments": normalized_mutual_information(partition, catchments) if catchments is not None
        else float("nan"),
        "in_strength_corr_length_mm": correlation_length(
            in_strength[:n_exc], xy_mm[:n_exc], side_mm, CORR_RANGE_OF_SIDE * side_mm, seed=seed
        ),
        "strong_reciprocity": observed,
        "strong_reciprocity_chance": chance,
    }  # fmt: skip


def structural_columns(
    src: np.ndarray, tgt: np.ndarray, w: np.ndarray, n_exc: int, xy_mm: np.ndarray, side_mm: float,
    catchments: np.ndarray | None, seed: int, clustering_sample: int = 0, initial: np.ndarray | None = None,
) -> tuple[dict[str, float], np.ndarray]:  # fmt: skip
    """Clustering, Louvain modularity and :func:`heavy_spatial_columns`: ``(columns, partition)``.

    The columns a record computes on its structural records (and ``neuroabm analyze`` from a
    snapshot); ``initial`` warm-starts Louvain from an earlier partition.
    """
    n = xy_mm.shape[0]
    heavy, partition = structure_metrics(src, tgt, w, n, seed, clustering_sample=clustering_sample, initial=initial)
    in_strength, _ = strengths(src, tgt, w, n)
    heavy.update(heavy_spatial_columns(src, tgt, w, n_exc, partition, catchments, in_strength, xy_mm, side_mm, seed))
    return heavy, partition


def rate_columns(counts_now: np.ndarray, counts_before: np.ndarray, window_ms: float,
                 catchments: np.ndarray | None) -> dict[str, float]:  # fmt: skip
    """Mean rate and the spread of the catchments' mean rates over the last ``window_ms`` [Hz]."""
    if window_ms <= 0:
        return {"rate_mean_hz": float("nan"), "rate_spread_hz": float("nan")}
    rates = (counts_now - counts_before) / (window_ms / 1000.0)
    spread = catchment_rate_spread(rates, catchments) if catchments is not None else float("nan")
    return {"rate_mean_hz": float(rates.mean()), "rate_spread_hz": spread}
