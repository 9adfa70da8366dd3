"""``neuroabm analyze``: a run folder's avalanches and first passage, checked against theory end to end."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from neuroabm.analysis.run_analysis import analyze_run
from neuroabm.config import validate_params, write_config
from neuroabm.runner import run_to_directory
from neuroabm.theory.branching_process import avalanche_activity

ROOT = Path(__file__).parents[1]


@pytest.fixture(scope="module")
def isolated_run(tmp_path_factory) -> Path:
    """Unconnected LIF neurons with white-noise input: exactly the process of the Siegert formula."""
    out = tmp_path_factory.mktemp("isolated")
    params = validate_params(
        n_exc=160, n_inh=40, k_exc=0, k_inh=0, drive="white_noise", mu_mv=20.0, sigma_mv=5.0,
        dt_ms=0.1, duration_ms=3000.0, seed=11, record_v=60, record_v_dt_ms=0.5,
    )  # fmt: skip
    run_to_directory(params, out, progress=False)
    return out


def test_mean_first_passage_time_of_isolated_neurons_equals_siegert(isolated_run):
    result = analyze_run(isolated_run)
    fp = result["first_passage"]
    assert fp["theory"] == "exact"
    # Siegert at (mu, sigma) = (20, 5) mV: 27.34 Hz (docs/REFERENCES.md §2), so 1000/27.34 - t_ref = 34.58 ms
    assert fp["theory_mean_fpt_ms"] == pytest.approx(1000.0 / 27.34 - 2.0, rel=1e-3)
    assert fp["fokker_planck_mean_fpt_ms"] == pytest.approx(fp["theory_mean_fpt_ms"], rel=5e-3)
    # several thousand independent trials: the sample mean is within 4 standard errors of theory
    # (plus the half-step registration delay of spikes on the 0.1 ms grid)
    assert fp["n_trials"] > 2000
    assert abs(fp["mean_fpt_ms"] - fp["theory_mean_fpt_ms"]) < 4 * fp["mean_fpt_sem_ms"] + 0.05
    # 60 recorded neurons give ~5000 trials per 0.5 ms time bin; at the density peak (~0.15/mV,
    # 0.67 mV bins) a bin holds ~500 samples, a 4-5 % binomial error, i.e. ~0.007/mV; averaged over
    # all (t, V) bins (most of them near zero density) the error must be well below that
    assert fp["occupation_mean_abs_error_per_mv"] < 0.007
    # the membrane gives the drive back (tests/test_membrane_noise.py derives the errors): here
    # ~6000 windows, so sigma within 4 x 5 / sqrt(12000) = 0.18 mV
    assert fp["sigma_membrane_mv"] == pytest.approx(5.0, abs=4 * 5.0 / np.sqrt(2 * fp["membrane_windows"]))
    assert "sigma_basis" not in fp  # the theory is exact here: no approximation to name
    # the figure's content: 13 x 7.5 in at 110 dpi, and the red Fokker-Planck curve of F(t) drawn in
    # the first-passage panel (bottom row, middle column) and nowhere in the summary panel (left)
    import matplotlib.image

    img = matplotlib.image.imread(isolated_run / "analysis.png")
    assert img.shape[:2] == (825, 1430)
    red = (img[..., 0] > 0.9) & (img[..., 1] < 0.15) & (img[..., 2] < 0.15)
    h, w = red.shape
    assert red[h // 2 :, w // 3 : 2 * w // 3].sum() > 200  # a curve, not a stray pixel
    assert red[h // 2 :, : w // 3].sum() == 0
    saved = json.loads((isolated_run / "analysis.json").read_text())
    assert saved["first_passage"]["n_trials"] == fp["n_trials"]


def _synthetic_run(folder: Path, counts: np.ndarray, rng: np.random.Generator) -> None:
    """Write a run folder whose spikes are a given activity per 1 ms bin (any spike train will do)."""
    n = 1000
    folder.mkdir()
    params = validate_params(
        n_exc=n, n_inh=0, k_exc=0, k_inh=0, eta=0.0, dt_ms=1.0, delay_ms=1.0, t_ref_ms=0.0,
        duration_ms=float(counts.size), seed=0,
    )  # fmt: skip
    write_config(params, folder / "config.toml")
    t_ms = np.repeat(np.arange(counts.size, dtype=np.float64) + 1.0, counts)
    neuron = rng.integers(0, n, t_ms.size).astype(np.int32)
    pd.DataFrame({"t_ms": t_ms, "neuron": neuron}).to_parquet(folder / "spikes.parquet")


def test_a_critical_branching_process_analysed_from_its_spike_train(tmp_path):
    rng = np.random.default_rng(2024)
    # avalanches stopped after 1000 generations (fewer than 0.2 % of them; keeps the spike count ~10^7)
    counts = avalanche_activity(1.0, 10_000, rng, max_generations=1000)
    _synthetic_run(tmp_path / "critical", counts, rng)
    a = analyze_run(tmp_path / "critical", figure=False)["avalanches"]
    assert a["bin_ms"] == 1.0  # the mean inter-event interval is shorter than the time step here
    assert a["n_avalanches"] >= 9_990  # all but the ones cut by the ends of the record
    # mean-field exponent 3/2; the exact Borel law fitted above x_min = 2-3 gives 1.487-1.497
    # (finite-size reference), plus 4 standard errors of the maximum-likelihood estimate
    assert abs(a["tau"] - 1.5) < 4 * a["tau_err"] + 0.015
    # Poisson(1) offspring observed completely: the conventional estimator is unbiased; with ~10^5
    # active bins of variance ~1/A its standard error is ~0.005
    assert a["m_conventional"] == pytest.approx(1.0, abs=0.02)
    assert a["tau_lr_exponential"] > 0 and a["tau_p_exponential"] < 0.01


def test_analyze_cli_writes_both_files_and_reports_a_missing_folder(isolated_run, tmp_path):
    ok = subprocess.run(
        [sys.executable, "-m", "neuroabm", "analyze", str(isolated_run)], capture_output=True, text=True, cwd=ROOT
    )
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout[: ok.stdout.rindex("}") + 1])["n_avalanches"] > 0
    assert "analysis.png" in ok.stdout
    bad = subprocess.run(
        [sys.executable, "-m", "neuroabm", "analyze", str(tmp_path / "nope")], capture_output=True, text=True, cwd=ROOT
    )
    assert bad.returncode == 2
    assert "not a folder written by" in bad.stderr and len(bad.stderr.strip().splitlines()) == 1


def test_subsampled_analysis_uses_only_the_chosen_neurons(isolated_run):
    full = analyze_run(isolated_run, figure=False)["avalanches"]
    sub = analyze_run(isolated_run, subsample=20, seed=3, figure=False)["avalanches"]
    assert sub["n_neurons_kept"] == 20
    # 20 of 200 statistically identical neurons carry about a tenth of the spikes (Poisson spread)
    assert sub["n_spikes"] == pytest.approx(full["n_spikes"] / 10, rel=0.2)
    # their mean inter-event interval, hence the bin, is about ten times longer
    assert sub["bin_ms"] > 5 * full["bin_ms"]


def _dense_grid_train(n_neurons: int, rate_hz: float, dt_ms: float, duration_ms: float, seed: int):
    """Poisson spikes on the dt grid: the pooled train of many neurons never falls silent."""
    rng = np.random.default_rng(seed)
    steps = int(duration_ms / dt_ms)
    counts = rng.poisson(n_neurons * rate_hz * dt_ms / 1000.0, steps)
    t_ms = np.repeat(np.arange(steps) * dt_ms, counts)
    return t_ms, rng.integers(0, n_neurons, t_ms.size)


def test_avalanche_bin_is_never_below_dt_and_missing_quantities_say_why():
    """Issue 19: 10,000 neurons at 44 Hz on a 0.1 ms grid (the README example).

    The mean inter-event interval is 1 / (10^4 * 0.044 / ms) = 0.0023 ms, 44 spikes per 0.1 ms
    step: no bin of >= dt is ever empty (P = e^-44), so there is no avalanche. The bin must be dt,
    not 0.0023 ms, and every NaN must carry a reason, with a subsample proposed instead: k neurons
    give k * 0.0044 spikes per step, below 0.5 for k <= 113.
    """
    from neuroabm.analysis.avalanches import analyze_avalanches

    t_ms, neuron = _dense_grid_train(10_000, 44.0, 0.1, 2000.0, seed=1)
    out = analyze_avalanches(t_ms, neuron, mr_bin_ms=1.5)
    json.dumps(out)
    assert out["dt_ms"] == pytest.approx(0.1)
    assert out["bin_ms"] == pytest.approx(0.1)  # never below dt (it was 0.0023 ms)
    assert out["iei_ms"] == pytest.approx(1.0 / 440.0, rel=0.02)
    assert out["n_avalanches"] == 0
    for key in ("tau", "alpha", "gamma", "crackling"):
        value = out["predicted_gamma"] if key == "crackling" else out[key]
        assert np.isnan(value)
        assert "no silent bin" in out[f"{key}_reason"] or "not estimated" in out[f"{key}_reason"], key
    assert "below the time step" in out["tau_reason"]
    assert "subsample=113" in out["suggestion"]
    # following the suggestion gives avalanches: 113 neurons, ~0.5 spikes per step, e^-0.5 of the
    # 0.1 ms bins (at least dt, the interval rounded to the grid) silent
    sub = analyze_avalanches(t_ms, neuron, subsample=113, rng=0, mr_bin_ms=1.5)
    assert sub["bin_ms"] >= 0.1 and sub["n_avalanches"] > 1000
    assert sub["tau_reason"] is None and sub["alpha_reason"] is None


def test_analyze_run_without_silences_writes_reasons_into_json_and_figure(tmp_path):
    from neuroabm.report.analysis_figure import summary_lines

    rng = np.random.default_rng(5)
    counts = rng.poisson(30.0, 2000)  # 30 spikes per 1 ms step: never silent
    _synthetic_run(tmp_path / "dense", counts, rng)
    result = analyze_run(tmp_path / "dense")
    a = json.loads((tmp_path / "dense" / "analysis.json").read_text())["avalanches"]
    assert a == json.loads(json.dumps(result["avalanches"]).replace("NaN", "null"))  # strict JSON: NaN is null
    assert a["bin_ms"] == 1.0 and a["n_avalanches"] == 0
    assert a["tau"] is None or np.isnan(a["tau"])
    assert "no silent bin" in a["tau_reason"] and "subsample" in a["suggestion"]
    text = "\n".join(summary_lines(result["avalanches"]))
    assert "no silent bin" in text and "instead:" in text
