"""Model-level metrics collected by a Mesa ``DataCollector`` every ``metrics_period_ms``.

Reporters are model-level only (per-agent reporters at 10k agents cost milliseconds per collect).
Rates are population averages over the last period, from running spike totals.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from mesa import DataCollector

if TYPE_CHECKING:
    from neuroabm.model.model import NeuroModel


class WindowRates:
    """Population rates [Hz] over the window since the previous collection."""

    def __init__(self) -> None:
        self._last_counts = np.zeros(2, np.int64)
        self._last_t = 0.0
        self.values = (0.0, 0.0, 0.0)

    def update(self, model: NeuroModel) -> None:
        """Compute the rates of the window ending now (call once per collection)."""
        counts = model.spike_totals.copy()
        win_s = (model.time - self._last_t) / 1000.0
        d = counts - self._last_counts
        n_e, n_i = model.n_exc, model.n_inh
        rate_e = d[0] / (n_e * win_s) if n_e and win_s > 0 else 0.0
        rate_i = d[1] / (n_i * win_s) if n_i and win_s > 0 else 0.0
        rate = d.sum() / ((n_e + n_i) * win_s) if win_s > 0 else 0.0
        self.values = (float(rate), float(rate_e), float(rate_i))
        self._last_counts = counts
        self._last_t = model.time


def make_datacollector(dopamine: bool = False) -> DataCollector:
    """The model-level reporters written to ``metrics.parquet`` (one row per collection)."""
    extra = {}
    if dopamine:
        extra = {
            "da_mean_um": lambda m: float(m.dopamine.field.values.mean()),
            "da_max_um": lambda m: float(m.dopamine.field.values.max()),
            "da_neuron_mean_um": lambda m: float(m.dopamine.da_local.mean()),
            "release_total": lambda m: float(m.dopamine.sites.release.sum()),
            "n_rewards": lambda m: len(m.dopamine.rewards.delivered_ms),
        }
    return DataCollector(
        model_reporters={
            "t_ms": lambda m: float(m.time),
            "rate_hz": lambda m: m.window_rates.values[0],
            "rate_exc_hz": lambda m: m.window_rates.values[1],
            "rate_inh_hz": lambda m: m.window_rates.values[2],
            "v_mean_mv": lambda m: float(m.v.mean()),
            "v_sd_mv": lambda m: float(m.v.std()),
            "frac_refractory": lambda m: float(np.count_nonzero(m.refr) / m.n_neurons),
            **extra,
        }
    )
