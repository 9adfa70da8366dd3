"""Reading the graph snapshots of a run folder (``snapshots/t_<ms>ms_{nodes,edges}.parquet``)."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

_NAME = re.compile(r"t_(\d+)ms_nodes\.parquet$")


def list_snapshots(run_dir: str | Path) -> dict[float, Path]:
    """Snapshot time [ms] -> path stem, for every complete snapshot of a run."""
    folder = Path(run_dir) / "snapshots"
    found = {}
    for path in sorted(folder.glob("t_*ms_nodes.parquet")) if folder.is_dir() else []:
        m = _NAME.search(path.name)
        stem = path.with_name(path.name.removesuffix("_nodes.parquet"))
        if m and stem.with_name(stem.name + "_edges.parquet").exists():
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
            f"{run_dir}: no graph snapshots (every run writes them, except static networks above 5e7 synapses)"
        )
    if at_ms is None:
        t = max(snaps)
        return t, snaps[t]
    if float(at_ms) not in snaps:
        times = ", ".join(f"{t:g}" for t in sorted(snaps))
        raise ValueError(f"--at = {at_ms:g} ms: no snapshot at that time; available: {times}")
    return float(at_ms), snaps[float(at_ms)]


def read_snapshot(stem: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(nodes, edges)`` of one snapshot."""
    return (pd.read_parquet(stem.with_name(stem.name + "_nodes.parquet")),
            pd.read_parquet(stem.with_name(stem.name + "_edges.parquet")))  # fmt: skip
