"""mesa.batch_run sweeps NeuroModel's flat parameters unchanged, in one or two processes."""

from __future__ import annotations

import mesa
import pandas as pd
import pytest

from neuroabm import NeuroModel

SWEEP = dict(n_exc=200, n_inh=50, k_exc=20, k_inh=5, j_mv=1.0, eta=2.0, duration_ms=20.0, metrics_period_ms=10)


@pytest.mark.parametrize("processes", [1, 2])
def test_batch_run_sweeps_g(processes):
    rows = mesa.batch_run(
        NeuroModel, {**SWEEP, "g": [4.0, 6.0]}, rng=[1, 2], number_processes=processes,
        max_steps=1000, data_collection_period=1, display_progress=False,
    )  # fmt: skip
    df = pd.DataFrame(rows)
    assert set(df["g"]) == {4.0, 6.0} and set(df["seed"]) == {1, 2}
    assert set(df["t_ms"]) == {10.0, 20.0}  # the run stopped at duration_ms
    assert len(df) == 2 * 2 * 2
    # more inhibition, less firing (same seeds)
    mean = df.groupby("g")["rate_hz"].mean()
    assert mean[6.0] < mean[4.0]


def test_batch_run_is_reproducible_from_the_seed():
    kw = dict(rng=[3], number_processes=1, max_steps=1000, data_collection_period=1, display_progress=False)
    a = pd.DataFrame(mesa.batch_run(NeuroModel, {**SWEEP, "g": 5.0}, **kw))
    b = pd.DataFrame(mesa.batch_run(NeuroModel, {**SWEEP, "g": 5.0}, **kw))
    assert a["rate_hz"].tolist() == b["rate_hz"].tolist()
