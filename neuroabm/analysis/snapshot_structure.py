"""Structural measures of a run folder's graph snapshot, computed on demand.

A static run's graph cannot change, so its records leave clustering, Louvain modularity and the
spatial columns that need the partition NaN (:mod:`neuroabm.recorders.graph`); ``neuroabm
analyze`` computes them here, once, from the run's last snapshot, with the seeds the recorder
uses, and writes them into ``analysis.json["structure"]``. Release-site catchments come from the
site positions in ``field.npz`` (runs with dopamine and sites); without them ``nmi_catchments``
is NaN.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from neuroabm.analysis.spatial_metrics import catchment_labels
from neuroabm.config import Params
from neuroabm.exports.snapshots import find_snapshot, list_snapshots, read_snapshot
from neuroabm.recorders.structure_row import structural_columns


def snapshot_structure(run_dir: str | Path, p: Params) -> dict[str, Any] | None:
    """The structural measures of the run's last snapshot (None if the run has no snapshots).

    Clustering, modularity, communities, NMI with the catchments, in-strength correlation length
    and strong reciprocity (:func:`~neuroabm.recorders.structure_row.structural_columns`). The result also
    holds ``t_ms`` (the snapshot's time) and ``static`` (True when the synapses could not change, so the values
    hold for the whole run).
    """
    run_dir = Path(run_dir)
    if not list_snapshots(run_dir):
        return None
    t_ms, stem = find_snapshot(run_dir)
    nodes, edges = read_snapshot(stem)
    xy = nodes[["x_mm", "y_mm"]].to_numpy(np.float64)
    catchments = None
    field = run_dir / "field.npz"
    if field.exists():
        with np.load(field) as data:
            sites = data["site_xy_mm"]
        if sites.size:
            catchments = catchment_labels(xy, sites, p.side_mm)
    columns, _ = structural_columns(
        edges["source"].to_numpy(np.int64), edges["target"].to_numpy(np.int64), edges["weight"].to_numpy(),
        p.n_exc, xy, p.side_mm, catchments, int(p.seed or 0), clustering_sample=p.graph_clustering_sample,
    )  # fmt: skip
    return {"t_ms": t_ms, "static": not p.plasticity, **columns}
