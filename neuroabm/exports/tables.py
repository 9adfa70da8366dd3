"""Run tables: neurons, metrics and the summary, written atomically."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from neuroabm.exports.atomic import atomic_path, write_text_atomic

if TYPE_CHECKING:
    from neuroabm.model.model import NeuroModel


def neurons_frame(model: NeuroModel) -> pd.DataFrame:
    """One row per neuron: index, position [mm], type 'E'/'I', degrees, rate [Hz]."""
    pos = model.positions
    return pd.DataFrame(
        {
            "neuron": np.arange(model.n_neurons, dtype=np.int32),
            "x_mm": pos[:, 0].copy(),
            "y_mm": pos[:, 1].copy(),
            "type": np.where(model.is_exc, "E", "I"),
            "in_degree": model.in_degree.astype(np.int32),
            "out_degree": model.synapses.out_degree().astype(np.int32),
        }
    )


def write_parquet(df: pd.DataFrame, path: str | Path) -> None:
    """Write a DataFrame to Parquet atomically."""
    with atomic_path(path) as tmp:
        df.to_parquet(tmp, index=False)


def write_neurons(model: NeuroModel, path: str | Path) -> None:
    """``neurons.parquet``."""
    write_parquet(neurons_frame(model), path)


def write_metrics(model: NeuroModel, path: str | Path) -> None:
    """``metrics.parquet``: the DataCollector's model-level reporters, one row per collection."""
    write_parquet(model.datacollector.get_model_vars_dataframe().reset_index(drop=True), path)


def write_json(obj: dict[str, Any], path: str | Path) -> None:
    """Write a JSON document atomically: NaN and infinities become null at any depth (strict JSON)."""

    def clean(v: Any) -> Any:
        if isinstance(v, dict):
            return {k: clean(x) for k, x in v.items()}
        if isinstance(v, (list, tuple)):
            return [clean(x) for x in v]
        if isinstance(v, np.generic):
            return clean(v.item())
        if isinstance(v, float) and not np.isfinite(v):
            return None
        return v

    write_text_atomic(path, json.dumps(clean(obj), indent=2, allow_nan=False) + "\n")
