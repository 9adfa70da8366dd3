"""``neuroabm run``: the run folder, and bad configs that write nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from neuroabm import load_config, validate_params

ROOT = Path(__file__).parents[1]
TINY = """
[network]
n_exc = 160
n_inh = 40
k_exc = 16
k_inh = 4
[synapse]
j_mv = 1.0
[run]
duration_ms = 60
seed = 5
"""


def neuroabm(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "neuroabm", *args], capture_output=True, text=True, cwd=ROOT)


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("cli")
    cfg = tmp / "tiny.toml"
    cfg.write_text(TINY)
    out = tmp / "out"
    res = neuroabm("run", str(cfg), "--out", str(out), "--set", "g=6", "--seed", "9", "--no-progress")
    assert res.returncode == 0, res.stderr
    return out


def test_run_writes_every_output(run_dir):
    names = {p.name for p in run_dir.iterdir()}
    assert names == {
        "config.toml",
        "neurons.parquet",
        "spikes.parquet",
        "metrics.parquet",
        "summary.json",
        "report.png",
        "graph_metrics.parquet",  # every run: graph rows at start and end, and the two snapshots
        "snapshots",
    }


def test_resolved_config_holds_the_overrides_and_reproduces_the_run(run_dir):
    params = validate_params(load_config(run_dir / "config.toml"))
    assert params.g == 6.0 and params.seed == 9 and params.n_exc == 160
    from neuroabm import NeuroModel

    t, nr = NeuroModel(**params.model_dump()).run().spikes()
    spikes = pd.read_parquet(run_dir / "spikes.parquet")
    assert spikes["t_ms"].tolist() == t.tolist() and spikes["neuron"].tolist() == nr.tolist()


def test_tables_have_the_documented_columns(run_dir):
    neurons = pd.read_parquet(run_dir / "neurons.parquet")
    assert {"neuron", "x_mm", "y_mm", "type"} <= set(neurons.columns)
    assert set(neurons["type"]) == {"E", "I"} and (neurons["type"] == "E").sum() == 160
    metrics = pd.read_parquet(run_dir / "metrics.parquet")
    assert "t_ms" in metrics and "rate_hz" in metrics and metrics["t_ms"].iloc[-1] == 60.0
    summary = json.loads((run_dir / "summary.json").read_text())
    for key in ("n_neurons", "n_synapses", "duration_ms", "rate_hz", "rate_exc_hz", "rate_inh_hz", "cv_isi",
                "sim_s", "wall_s", "events_per_s"):  # fmt: skip
        assert key in summary
    assert summary["n_neurons"] == 200 and summary["n_synapses"] == 200 * 20
    spikes = pd.read_parquet(run_dir / "spikes.parquet")
    assert summary["rate_hz"] == pytest.approx(len(spikes) / (200 * 0.06))


def test_report_is_a_png_with_drawn_panels(run_dir):
    import matplotlib.image

    assert (run_dir / "report.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    img = matplotlib.image.imread(run_dir / "report.png")[..., :3]
    # the panels are drawn: a blank or failed figure is (almost) all white; raster dots, curves and
    # axes of the report's panels cover several percent of it, in more than one colour
    ink = img.min(axis=2) < 0.8
    assert ink.mean() > 0.02
    colours = np.unique((img[ink] * 4).round().astype(int), axis=0)
    assert len(colours) > 3


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--set", "g=-2"], "invalid g = -2: allowed a number >= 0"),
        (["--set", "gg=2"], "unknown parameter 'gg'"),
        (["--set", "dt_ms=0.3"], "invalid dt_ms = 0.3"),
    ],
)
def test_bad_input_is_one_clear_line_and_writes_nothing(tmp_path, args, message):
    cfg = tmp_path / "tiny.toml"
    cfg.write_text(TINY)
    out = tmp_path / "never"
    res = neuroabm("run", str(cfg), "--out", str(out), "--no-progress", *args)
    assert res.returncode == 2
    assert message in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1
    assert not out.exists()


def test_missing_config_is_a_clear_error(tmp_path):
    res = neuroabm("run", str(tmp_path / "nope.toml"), "--no-progress")
    assert res.returncode == 2 and "config file not found" in res.stderr


def test_dopamine_run_adds_the_field_store_and_the_site_table(tmp_path):
    cfg = tmp_path / "da.toml"
    cfg.write_text(TINY + "[dopamine]\ndopamine = true\nn_sites = 4\ngrid_n = 16\nfield_record_ms = 20\n")
    out = tmp_path / "out"
    res = neuroabm("run", str(cfg), "--out", str(out), "--no-progress")
    assert res.returncode == 0, res.stderr
    assert {"field.npz", "sites.parquet"} <= {p.name for p in out.iterdir()}
    with np.load(out / "field.npz") as z:
        assert z["t_ms"].tolist() == [20.0, 40.0, 60.0]
        assert z["field_um"].shape == (3, 16, 16) and z["site_xy_mm"].shape == (4, 2)
    sites = pd.read_parquet(out / "sites.parquet")
    assert list(sites.columns) == ["t_ms", "site", "release", "rate_estimate_hz", "dopamine_um"]
    assert len(sites) == 3 * 4
    # outputs get the permissions of an ordinary new file (a temp file's 0o600 is not kept)
    umask = os.umask(0)
    os.umask(umask)
    assert {p.stat().st_mode & 0o777 for p in out.iterdir() if p.is_file()} == {0o666 & ~umask}


def test_plastic_run_writes_graph_metrics_and_snapshots_and_exports(tmp_path):
    cfg = tmp_path / "plastic.toml"
    cfg.write_text(
        TINY
        + "[dopamine]\ndopamine = true\nn_sites = 4\ngrid_n = 16\nrelease_tonic = 0.001\n"
        + "[plasticity]\nplasticity = true\neta_da = 0.005\n[graph]\ngraph_period_ms = 30\nsnapshot_period_ms = 30\n"
    )
    out = tmp_path / "out"
    res = neuroabm("run", str(cfg), "--out", str(out), "--no-progress")
    assert res.returncode == 0, res.stderr
    metrics = pd.read_parquet(out / "graph_metrics.parquet")
    assert metrics["t_ms"].tolist() == [0.0, 30.0, 60.0]  # the start, then every period
    assert {"clustering", "modularity", "length_mean_mm", "da_in_strength_corr"} <= set(metrics.columns)
    snaps = sorted(p.name for p in (out / "snapshots").iterdir())
    assert snaps == [f"t_{t:012d}ms_{k}.parquet" for t in (0, 30, 60) for k in ("edges", "nodes")]
    res = neuroabm("export", str(out), "--format", "gexf", "--at", "30")
    assert res.returncode == 0, res.stderr
    assert (out / "graph_30ms.gexf").exists()
    res = neuroabm("export", str(out), "--format", "graphml", "--at", "45")
    assert res.returncode == 2 and "available: 0, 30, 60" in res.stderr
