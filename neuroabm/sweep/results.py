"""``results.parquet``: one row per point and seed, written incrementally and atomically.

The file is the sweep's record: a point whose row says ``status = "ok"`` is finished and is skipped
when the sweep runs again; failed and missing points are run. Rows are rewritten whole through a
temporary file and a rename (:func:`neuroabm.exports.atomic.atomic_path`), at most every
``flush_every_s`` and at the end, so an interrupted sweep leaves a readable table of what finished.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pandas as pd

from neuroabm.exports.atomic import atomic_path

__all__ = ["RESULTS_NAME", "TIMING_COLUMNS", "ResultsTable", "deterministic_columns"]

RESULTS_NAME = "results.parquet"
#: columns that depend on the machine and the moment, not on the point (everything else is reproducible)
TIMING_COLUMNS = ("wall_s", "build_s", "realtime_factor", "events_per_s", "worker", "started_s", "finished_s")


def deterministic_columns(frame: pd.DataFrame) -> list[str]:
    """The columns a rerun of the same points must reproduce bit for bit."""
    return [c for c in frame.columns if c not in TIMING_COLUMNS]


class ResultsTable:
    """The rows of a sweep folder's ``results.parquet``, kept in memory as a compact frame."""

    def __init__(self, path: str | Path, flush_every_s: float = 2.0) -> None:
        self.path = Path(path)
        self.flush_every_s = flush_every_s
        self.frame = pd.read_parquet(self.path) if self.path.is_file() else pd.DataFrame({"key": [], "status": []})
        self._pending: list[dict[str, Any]] = []
        self._last_flush = time.monotonic()

    def finished_keys(self) -> set[str]:
        """Keys of the points recorded as finished (``status == "ok"``)."""
        ok = self.frame["status"] == "ok"
        return set(self.frame.loc[ok, "key"].astype(str))

    def add(self, row: dict[str, Any]) -> None:
        """Record a row (replacing an earlier row of the same key) and flush if one is due."""
        self._pending.append(row)
        if time.monotonic() - self._last_flush >= self.flush_every_s:
            self.flush()

    def flush(self) -> None:
        """Merge the pending rows and rewrite the file atomically."""
        if self._pending:
            new = pd.DataFrame(self._pending)
            parts = [f for f in (self.frame, new) if len(f)]
            frame = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
            self.frame = frame.drop_duplicates("key", keep="last").reset_index(drop=True)
            self._pending = []
        with atomic_path(self.path) as tmp:
            self.frame.to_parquet(tmp, index=False)
        self._last_flush = time.monotonic()

    def rows(self, keys: list[str]) -> pd.DataFrame:
        """The recorded rows of ``keys``, in that order (keys without a row are left out)."""
        frame = self.frame.set_index("key", drop=False)
        present = [k for k in keys if k in frame.index]
        return frame.loc[present].reset_index(drop=True)
