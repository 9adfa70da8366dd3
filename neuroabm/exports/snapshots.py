"""Reading the graph snapshots of a run folder (``snapshots/t_<ms>ms_{nodes,edges}.parquet``).

A static run (no plasticity) cannot change its synapses, so its snapshots hold only the node table
and a ``t_<ms>ms_edges.static`` marker: the edge table is the network the run's ``config.toml``
builds (same seed, same synapses, bit for bit), and :func:`read_snapshot` rebuilds it when asked
(about a second per million synapses) instead of every static run writing it (about 0.1 s per
million synapses, several per cent of a short run).
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

_NAME = re.compile(r"t_(\d+)ms_nodes\.parquet$")
#: suffix of the marker standing for a static run's edge table
STATIC_EDGES = "_edges.static"


def _edges_path(stem: Path) -> Path:
    return stem.with_name(stem.name + "_edges.parquet")


def _static_marker(stem: Path) -> Path:
    return stem.with_name(stem.name + STATIC_EDGES)


def list_snapshots(run_dir: str | Path) -> dict[float, Path]:
    """Snapshot time [ms] -> path stem, for every complete snapshot of a run."""
    folder = Path(run_dir) / "snapshots"
    found = {}
    for path in sorted(folder.glob("t_*ms_nodes.parquet")) if folder.is_dir() else []:
        m = _NAME.search(path.name)
        stem = path.with_name(path.name.removesuffix("_nodes.parquet"))
        if m and (_edges_path(stem).exists() or _static_marker(stem).exists()):
            found[float(m.group(1))] = stem
    return found


def find_snapshot(run_dir: str | Path, at_ms: float | None = None) -> tuple[float, Path]:
    """The snapshot at ``at_ms`` (or the last one): ``(time [ms], path stem)``.

    Raises:
        FileNotFoundError: If the run has no snapshots.
        ValueError: If there is none at ``at_ms``; the message lists the times available.

    """
    snaps = list_snapshots(run_dir)
    if not snaps:
        raise FileNotFoundError(
            f"{run_dir}: no graph snapshots (every run writes them, except static networks above 5e7 synapses "
            "and sweep points without --keep-spikes)"
        )
    if at_ms is None:
        t = max(snaps)
        return t, snaps[t]
    if float(at_ms) not in snaps:
        times = ", ".join(f"{t:g}" for t in sorted(snaps))
        raise ValueError(f"--at = {at_ms:g} ms: no snapshot at that time; available: {times}")
    return float(at_ms), snaps[float(at_ms)]


def read_snapshot(stem: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(nodes, edges)`` of one snapshot; a static run's edges are rebuilt from its ``config.toml``."""
    nodes = pd.read_parquet(stem.with_name(stem.name + "_nodes.parquet"))
    if _edges_path(stem).exists():
        return nodes, pd.read_parquet(_edges_path(stem))
    return nodes, static_edges(stem.parent.parent)


def static_edges(run_dir: Path) -> pd.DataFrame:
    """The edge table (``source, target, weight`` [mV]) of the static network a run folder's config builds."""
    from neuroabm.config import load_config, validate_params
    from neuroabm.exports.graph import edge_table
    from neuroabm.model.model import NeuroModel

    params = validate_params(load_config(run_dir / "config.toml"))
    if params.plasticity:
        raise ValueError(f"{run_dir}: a plastic run's snapshot has no edge table; the run was not completed")
    return edge_table(NeuroModel(**params.model_dump()))
