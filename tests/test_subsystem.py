"""The subsystem seam: a part defined outside the package plugs in without editing the model."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from neuroabm import NeuroModel
from neuroabm.config import validate_params
from neuroabm.exports.tables import write_parquet
from neuroabm.model.subsystem import Subsystem
from neuroabm.runner import run_to_directory

NET = dict(n_exc=400, n_inh=100, k_exc=40, k_inh=10, j_mv=0.5, eta=1.2, seed=4, dopamine=True, n_sites=9,
           grid_n=32, field_record_ms=0, duration_ms=80.0)  # fmt: skip


class CatchmentSpikes(Subsystem):
    """Counts the spikes of each release site's catchment, from the block loop's spikes."""

    name = "catchment_spikes"

    def __init__(self, model: NeuroModel) -> None:
        self.by_neuron = model.dopamine.sites.catchment.T.tocsr()  # neuron -> the sites that hold it
        self.counts = np.zeros(model.dopamine.sites.n_sites, np.int64)
        self.blocks = 0

    def on_block(self, steps: np.ndarray, neurons: np.ndarray) -> None:
        self.blocks += 1
        np.add.at(self.counts, self.by_neuron[neurons].indices, 1)

    def write(self, folder: Path) -> list[Path]:
        write_parquet(pd.DataFrame({"site": np.arange(self.counts.size), "spikes": self.counts}),
                      folder / "catchment_spikes.parquet")  # fmt: skip
        return [folder / "catchment_spikes.parquet"]

    def summary(self) -> dict[str, int]:
        return {"catchment_spikes_total": int(self.counts.sum())}


def test_a_recorder_from_outside_sees_every_spike_and_changes_nothing():
    plain = NeuroModel(**NET).run()
    model = NeuroModel(**NET)
    counter = model.attach(CatchmentSpikes(model))
    model.run()
    t, i = model.spikes()
    np.testing.assert_array_equal(t, plain.spikes()[0])  # watching does not change the run
    expected = np.asarray(model.dopamine.sites.catchment @ np.bincount(i, minlength=model.n_neurons)).ravel()
    assert expected.sum() > 100
    np.testing.assert_array_equal(counter.counts, expected)  # the catchment counts of the recorded spikes
    assert model.subsystem("catchment_spikes") is counter


def test_the_runner_writes_an_attached_parts_outputs_and_summary(tmp_path):
    summary = run_to_directory(validate_params(NET), tmp_path / "run", progress=False, extra=[CatchmentSpikes])
    table = pd.read_parquet(tmp_path / "run" / "catchment_spikes.parquet")
    on_disk = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert on_disk["catchment_spikes_total"] == summary["catchment_spikes_total"] == int(table["spikes"].sum()) > 0
    assert (tmp_path / "run" / "field.npz").exists()  # the model's own parts still write theirs
