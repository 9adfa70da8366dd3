"""Structure for every run (issue 13): static runs, global mixing, shuffled sites, synaptic scaling."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from neuroabm import NeuroModel
from neuroabm.analysis.run_analysis import analyze_run
from neuroabm.analysis.spatial_metrics import catchment_labels
from neuroabm.config import validate_params
from neuroabm.exports.graph import write_graph
from neuroabm.exports.snapshots import find_snapshot, list_snapshots, read_snapshot
from neuroabm.model.dopamine.system import shuffled_positions
from neuroabm.model.memory import estimate_memory
from neuroabm.model.plasticity.scaling import scaling_factors
from neuroabm.recorders.graph import HEAVY_COLUMNS
from neuroabm.recorders.structure_row import DYNAMIC_COLUMNS, structural_columns
from neuroabm.runner import run_to_directory

SMALL = dict(n_exc=160, n_inh=40, k_exc=16, k_inh=4, j_mv=1.0, eta=1.5, seed=2, dopamine=True, n_sites=4,
             kappa_mm2_per_ms=0.01, release_tonic=1e-3, field_record_ms=0)  # fmt: skip


def test_static_run_has_constant_structure_rows_at_start_period_and_end():
    m = NeuroModel(**SMALL, duration_ms=250.0, graph_period_ms=100).run()
    df = m.graph_recorder.frame()
    assert df["t_ms"].tolist() == [0.0, 100.0, 200.0, 250.0]
    structural = df.drop(columns=["t_ms", *DYNAMIC_COLUMNS])
    for col in structural:  # exactly the first row's values (NaN stays NaN)
        first = structural[col].iloc[0]
        assert all((v == first) or (np.isnan(v) and np.isnan(first)) for v in structural[col]), col
    assert (df["n_edges"] == 4000).all()  # the O(E) columns are there
    assert df[list(HEAVY_COLUMNS)].isna().all().all()  # computed on demand by analyze (next test)
    assert df["rate_mean_hz"].iloc[1:].gt(0).all()  # the rates do follow the run


def test_analyze_computes_a_static_runs_structure_from_its_snapshot(tmp_path):
    """The structural measures a static run skips equal those of its network, computed directly."""
    params = validate_params({**SMALL, "duration_ms": 60.0})
    run_to_directory(params, tmp_path, progress=False)
    structure = analyze_run(tmp_path, figure=False)["structure"]
    model = NeuroModel(**params.model_dump())
    src, tgt, w = model.synapses.edges()
    catchments = catchment_labels(model.positions, model.dopamine.sites.xy_mm, params.side_mm)
    direct, _ = structural_columns(src.astype(np.int64), tgt.astype(np.int64), w.astype(np.float32), params.n_exc,
                                   model.positions, params.side_mm, catchments, params.seed,
                                   clustering_sample=params.graph_clustering_sample)  # fmt: skip
    assert structure["t_ms"] == 60.0 and structure["static"] is True
    for name, value in direct.items():
        assert structure[name] == pytest.approx(value, rel=1e-12, nan_ok=True), name
    assert 0.0 < structure["modularity"] < 1.0 and 0.0 <= structure["nmi_catchments"] <= 1.0
    saved = json.loads((tmp_path / "analysis.json").read_text())["structure"]
    assert saved["modularity"] == structure["modularity"]


def test_graph_period_zero_still_records_start_and_end():
    m = NeuroModel(**SMALL, duration_ms=120.0, graph_period_ms=0).run()
    assert m.graph_recorder.frame()["t_ms"].tolist() == [0.0, 120.0]


def test_static_run_folder_exports_round_trip(tmp_path):
    params = validate_params({**SMALL, "duration_ms": 100.0, "graph_period_ms": 50})
    run_to_directory(params, tmp_path, progress=False)
    snaps = list_snapshots(tmp_path)
    assert sorted(snaps) == [0.0, 100.0]
    (_, e0), (_, e1) = (read_snapshot(snaps[t]) for t in (0.0, 100.0))
    pd.testing.assert_frame_equal(e0, e1)  # the same edge table, rebuilt from config.toml
    assert not list((tmp_path / "snapshots").glob("*_edges.parquet"))  # a static run writes none
    assert find_snapshot(tmp_path)[0] == 100.0
    _, stem = find_snapshot(tmp_path)
    nodes, edges = read_snapshot(stem)
    model = NeuroModel(**{**SMALL, "duration_ms": 100.0})
    src, tgt, w = model.synapses.edges()
    np.testing.assert_array_equal(edges["source"].to_numpy(), src)
    np.testing.assert_array_equal(edges["target"].to_numpy(), tgt.astype(np.int32))
    np.testing.assert_array_equal(edges["weight"].to_numpy(), w.astype(np.float32))
    for fmt in ("graphml", "gexf"):
        (path,) = write_graph(nodes, edges, tmp_path / f"g.{fmt}", fmt)
        assert path.stat().st_size > 0
    assert (tmp_path / "graph_metrics.parquet").exists()


def test_large_static_networks_are_not_tracked_and_not_budgeted():
    small = estimate_memory(validate_params({"n_exc": 800, "n_inh": 200}))
    big = estimate_memory(validate_params({"n_exc": 800_000, "n_inh": 200_000, "k_exc": 800, "k_inh": 200}))
    assert "graph metrics (transient)" in small.parts and "graph metrics (transient)" not in big.parts


def field_run(mixing: str) -> NeuroModel:
    return NeuroModel(**{**SMALL, "release_tonic": 2e-3, "feedback_gain": 1e-4, "target_rate_hz": 5.0},
                      duration_ms=60.0, dopamine_mixing=mixing).run()  # fmt: skip


def test_global_mixing_gives_a_uniform_field_with_the_same_total_dopamine():
    diffusive, uniform = field_run("diffusive"), field_run("global")
    values = uniform.dopamine.field.values
    assert np.ptp(values) <= 1e-12 * values.max()
    assert np.ptp(uniform.da_local) <= 1e-12 * values.max()
    # total dopamine = what was released, decayed the same way: equal when the releases are equal
    # (tonic only here: the release does not depend on the different spike trains)
    tonic = NeuroModel(**{**SMALL, "release_tonic": 2e-3}, duration_ms=60.0, dopamine_mixing="global").run()
    ref = NeuroModel(**{**SMALL, "release_tonic": 2e-3}, duration_ms=60.0).run()
    assert tonic.dopamine.total_released == ref.dopamine.total_released
    assert tonic.dopamine.field.mass() == pytest.approx(ref.dopamine.field.mass(), rel=1e-12)
    assert diffusive.dopamine.field.mass() > 0


def test_shuffled_sites_release_elsewhere_but_read_their_own_catchment():
    plain = NeuroModel(**SMALL, duration_ms=1.0)
    shuffled = NeuroModel(**SMALL, duration_ms=1.0, site_shuffle=True)
    a, b = plain.dopamine.sites, shuffled.dopamine.sites
    assert (a.catchment != b.catchment).nnz == 0  # sensing unchanged
    assert sorted(map(tuple, a.xy_mm)) == sorted(map(tuple, b.xy_mm))  # the same release positions
    assert not np.any(np.all(a.xy_mm == b.xy_mm, axis=1))  # each site releases elsewhere
    np.testing.assert_array_equal(shuffled_positions(a.xy_mm, 2), b.xy_mm)


def test_scaling_factors_relax_exactly():
    f = scaling_factors(np.array([1.0, 3.0]), np.array([2.0, 2.0]), 100.0, 100.0)
    keep = np.exp(-1.0)
    np.testing.assert_allclose(f * [1.0, 3.0], 2.0 + (np.array([1.0, 3.0]) - 2.0) * keep, rtol=1e-12)


def test_scaling_moves_every_in_strength_the_exact_fraction_toward_its_start():
    m = NeuroModel(**SMALL, duration_ms=10.0, plasticity=True, structural=True, plasticity_period_ms=5,
                   scaling_tau_ms=20.0, eta_da=0.0)  # fmt: skip
    scaling = m.plasticity.scaling
    s0 = scaling.target_mv.copy()
    n_plastic = int(m.synapses.indptr[m.n_exc])
    w = m.synapses.weights[:n_plastic]
    w *= np.random.default_rng(0).uniform(0.2, 1.5, n_plastic).astype(np.float32)  # as if STDP had acted
    before = scaling.in_strength()
    for _ in range(5):  # one period: the flush, then scaling (eta_da = 0: STDP changes nothing)
        m.step()
    after = scaling.in_strength()
    expected = s0 + (before - s0) * np.exp(-5.0 / 20.0)
    has_input = s0 > 0
    np.testing.assert_allclose(after[has_input], expected[has_input], rtol=1e-5)
    assert len(scaling.history) == 1
