"""The cleft layer: parameters, reaction-model algebra, random normals, outputs, reproducibility."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numba as nb
import numpy as np
import pandas as pd
import pytest
from scipy import stats

from neuroabm.cleft import load_cleft_config, simulate, validate_cleft_params
from neuroabm.cleft.kinetics import ampa_scheme, stationary_states
from neuroabm.cleft.quantal import quantal_distribution
from neuroabm.cleft.reactions import doi_lambda, doi_rate_hemisphere, kon_nm3_per_us
from neuroabm.cleft.rng import FALLBACK_SALT, normal_from_bits
from neuroabm.cleft.runner import OUTPUT_FILES, run_cleft
from neuroabm.config.params import ConfigError
from neuroabm.model.random_streams import mix64, stream_state

ROOT = Path(__file__).resolve().parents[1]
#: a small synapse that runs in well under a second once compiled
SMALL = dict(n_transmitter=600, n_receptors=20, duration_ms=0.3, fp_window_us=100.0)


def test_defaults_and_runs_config_load():
    p = load_cleft_config(ROOT / "runs" / "cleft" / "synapse.toml")
    assert p == validate_cleft_params()  # the shipped config spells out the defaults
    assert p.cleft_height_nm == 20.0 and p.n_transmitter == 3000 and p.diffusion_um2_per_ms == 0.33


@pytest.mark.parametrize(
    ("key", "value", "needle"),
    [
        ("cleft_radius_nm", -5.0, "invalid cleft_radius_nm = -5.0: allowed a number > 10 and <= 100000 nm"),
        ("rim", "sticky", "allowed one of 'absorbing', 'reflecting'"),
        ("record_us", 0.15, "whole multiple (>= 1) of dt_us"),
        ("binding_radius_nm", 15.0, "half the cleft height"),
        ("n_receptors", 1.5, "invalid n_receptors"),
    ],
)
def test_bad_values_give_one_line_naming_field_and_range(key, value, needle):
    with pytest.raises(ConfigError) as err:
        validate_cleft_params({key: value})
    msg = str(err.value)
    assert needle in msg and "\n" not in msg and key in msg


def test_unknown_key_and_wrong_section_are_rejected(tmp_path):
    with pytest.raises(ConfigError, match="unknown cleft parameter 'radius'"):
        validate_cleft_params(radius=3.0)
    cfg = tmp_path / "c.toml"
    cfg.write_text("[geometry]\nn_receptors = 3\n")
    with pytest.raises(ConfigError, match="belongs in another section"):
        load_cleft_config(cfg)


def test_doi_rate_inverts_and_has_both_limits():
    d, s = 330.0, 5.0
    k = kon_nm3_per_us(13.0)
    assert k == pytest.approx(13.0 / 6.02214076e-4 / 1000.0)
    lam = doi_lambda(k, d, s)
    assert doi_rate_hemisphere(lam, d, s) == pytest.approx(k, rel=1e-10)
    # reaction-limited: lambda * (2/3) pi sigma^3 to within the depletion correction (< 0.5 % here)
    assert lam * 2.0 / 3.0 * np.pi * s**3 == pytest.approx(k, rel=5e-3)
    assert doi_rate_hemisphere(1e12, d, s) == pytest.approx(2 * np.pi * d * s, rel=1e-4)  # Smoluchowski / 2
    with pytest.raises(ValueError, match="diffusion limit"):
        doi_lambda(2 * np.pi * d * s, d, s)


def test_stationary_states_of_the_ampa_scheme_balance_the_generator():
    scheme = ampa_scheme()
    pi = stationary_states(scheme, 1e-4)
    assert pi.sum() == pytest.approx(1.0) and np.all(pi >= 0)
    assert np.abs(pi @ scheme.rate_matrix(1e-4)).max() < 1e-12


@nb.njit
def _normals(n, key):
    out = np.empty(n)
    kf = key ^ FALLBACK_SALT
    for i in range(n):
        c = np.uint64(i)
        out[i] = normal_from_bits(mix64(stream_state(key, c)), kf, c)
    return out


def test_ziggurat_normals_are_standard_normal():
    """KS on 4e5 draws (p > 1e-3), and the tails: P(|x| > 3) = 0.0027 within 5 SE of the binomial."""
    x = _normals(400_000, np.uint64(2024))
    assert stats.kstest(x, "norm").pvalue > 1e-3
    assert abs(x.mean()) < 5 / np.sqrt(len(x)) and abs(x.var() - 1) < 5 * np.sqrt(2 / len(x))
    p3 = 2 * stats.norm.sf(3)
    assert abs((np.abs(x) > 3).mean() - p3) < 5 * np.sqrt(p3 * (1 - p3) / len(x))


def test_counts_are_conserved_and_runs_are_reproducible():
    p = validate_cleft_params(**SMALL, receptor_init="random", background_glutamate_um=2000.0)
    a = simulate(p, trials=3, seed=11)
    b = simulate(p, trials=3, seed=11)
    c = simulate(p, trials=3, seed=12)
    assert np.array_equal(a.states, b.states) and np.array_equal(a.fp_counts, b.fp_counts)
    assert not np.array_equal(a.occ_counts, c.occ_counts)
    assert np.all(a.states.sum(axis=2) == p.n_receptors)
    # a trial does not depend on how many trials run beside it
    d = simulate(p, trials=1, seed=11)
    assert np.array_equal(d.states[0], a.states[0]) and np.array_equal(d.occ_counts[0], a.occ_counts[0])


_THREAD_SCRIPT = """
import hashlib, numba
from neuroabm.cleft import simulate, validate_cleft_params
p = validate_cleft_params(n_transmitter=600, n_receptors=20, duration_ms=0.3, fp_window_us=100.0,
                          release_jitter_nm=60.0, n_transmitter_cv=0.3)
r = simulate(p, trials=6, seed=5)
h = hashlib.sha256()
for a in (r.states, r.fp_counts, r.occ_counts, r.r2_sum_nm2, r.peak_open, r.t_peak_us, r.escape_sum_us):
    h.update(a.tobytes())
print(numba.get_num_threads(), h.hexdigest())
"""


def test_same_seed_is_bit_identical_on_one_and_two_threads():
    out = []
    for threads in ("1", "2"):
        env = {**os.environ, "NUMBA_NUM_THREADS": threads, "OMP_WAIT_POLICY": "passive"}
        run = subprocess.run([sys.executable, "-c", _THREAD_SCRIPT], env=env, capture_output=True, text=True)
        assert run.returncode == 0, run.stderr
        out.append(run.stdout.split())
    assert [o[0] for o in out] == ["1", "2"]
    assert out[0][1] == out[1][1]


def test_run_cleft_writes_the_run_folder(tmp_path):
    summary = run_cleft(None, tmp_path / "run", trials=4, seed=3, overrides=SMALL)
    for name in OUTPUT_FILES:
        assert (tmp_path / "run" / name).stat().st_size > 0
    assert not [f for f in (tmp_path / "run").iterdir() if f.name.startswith(".")]  # no temporaries left
    on_disk = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert on_disk["trials"] == summary["trials"] == 4
    rec = pd.read_parquet(tmp_path / "run" / "receptors.parquet")
    assert set(rec.columns) >= {"trial", "t_us", "C0", "O", "bound", "open", "desensitized"}
    assert (rec[["C0", "C1", "C2", "D1", "D2", "O"]].sum(axis=1) == 20).all()
    fp = pd.read_parquet(tmp_path / "run" / "first_passage.parquet")
    occ = pd.read_parquet(tmp_path / "run" / "occupation.parquet")
    assert {"r_nm", "t_lo_us", "F_per_us"} <= set(fp.columns) and {"t_us", "r_lo_nm", "P_per_nm"} <= set(occ.columns)
    # probability bookkeeping: F integrates to at most 1, P to the free fraction
    f_int = fp.groupby("r_nm").apply(lambda g: (g.F_per_us * (g.t_hi_us - g.t_lo_us)).sum(), include_groups=False)
    assert f_int.max() <= 1.0 + 1e-12 and f_int.iloc[0] > 0.9
    p_int = occ.groupby("t_us").apply(lambda g: (g.P_per_nm * (g.r_hi_nm - g.r_lo_nm)).sum(), include_groups=False)
    assert p_int.iloc[0] == pytest.approx(1.0, abs=0.02) and p_int.max() <= 1.0 + 1e-12


def test_quantal_distribution_has_mean_one_and_second_moment():
    q = quantal_distribution(np.array([3, 5, 4, 8, 0, 4]))
    assert q.samples.mean() == pytest.approx(1.0)
    assert q.second_moment_ratio == pytest.approx(np.mean(q.samples**2))
    assert q.cv == pytest.approx(np.std(q.samples))
    with pytest.raises(ValueError):
        quantal_distribution([0, 0])
