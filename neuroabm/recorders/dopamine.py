"""Recording the dopamine system: field snapshots (compressed ``.npz``) and per-site release.

Every ``field_record_ms`` (after the field step of that millisecond) the recorder keeps a float32
copy of the field and, per site, the release rate, the catchment-rate estimate and the local
concentration. Snapshots go to ``field.npz`` (one array store, not Parquet rows per cell); the
site series to ``sites.parquet``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from mesa.time import Priority, Schedule

from neuroabm.exports.atomic import atomic_path
from neuroabm.exports.tables import write_parquet
from neuroabm.model.subsystem import Subsystem

if TYPE_CHECKING:
    from neuroabm.model.model import NeuroModel


class DopamineRecorder(Subsystem):
    """Snapshots of the field and of the sites at a fixed interval."""

    name = "dopamine_recorder"

    def __init__(self, model: NeuroModel) -> None:
        self.model = model
        self.t_ms: list[float] = []
        self.fields: list[np.ndarray] = []
        self.release: list[np.ndarray] = []
        self.rate_hz: list[np.ndarray] = []
        self.site_da: list[np.ndarray] = []
        every = model.params.field_record_ms
        if every > 0:
            model.schedule_recurring(self.record, Schedule(interval=float(every), start=float(every)), Priority.LOW)

    def record(self) -> None:
        """Keep one snapshot now."""
        system = self.model.dopamine
        self.t_ms.append(float(self.model.time))
        self.fields.append(system.field.values.astype(np.float32))
        self.release.append(system.sites.release.copy())
        self.rate_hz.append(system.sites.rate_hz.copy())
        self.site_da.append(system.at_sites())

    def sites_frame(self) -> pd.DataFrame:
        """Long table: one row per (snapshot, site)."""
        n_sites = self.model.dopamine.sites.n_sites
        k = len(self.t_ms)
        return pd.DataFrame(
            {
                "t_ms": np.repeat(np.asarray(self.t_ms), n_sites),
                "site": np.tile(np.arange(n_sites, dtype=np.int32), k),
                "release": np.concatenate(self.release) if k else np.empty(0),
                "rate_estimate_hz": np.concatenate(self.rate_hz) if k else np.empty(0),
                "dopamine_um": np.concatenate(self.site_da) if k else np.empty(0),
            }
        )

    def write(self, folder: Path) -> list[Path]:
        """``field.npz`` (the snapshots) and ``sites.parquet`` (one row per snapshot and site)."""
        self.write_npz(folder / "field.npz")
        write_parquet(self.sites_frame(), folder / "sites.parquet")
        return [folder / "field.npz", folder / "sites.parquet"]

    def write_npz(self, path: str | Path) -> None:
        """Write the snapshots to a compressed ``.npz`` atomically."""
        system = self.model.dopamine
        p = self.model.params
        n = p.grid_n
        fields = np.stack(self.fields) if self.fields else np.empty((0, n, n), np.float32)
        with atomic_path(path) as tmp, open(tmp, "wb") as fh:
            np.savez_compressed(
                fh,
                t_ms=np.asarray(self.t_ms),
                field_um=fields,
                site_xy_mm=system.sites.xy_mm,
                side_mm=np.float64(p.side_mm),
                grid_n=np.int64(n),
            )
