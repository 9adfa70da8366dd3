"""First-passage analysis of runs and membrane recording, against the perfect integrator's exact theory.

Uncoupled perfect integrators, tau dV = mu dt + sigma sqrt(tau) dW from V_r to theta, are a
drifted Brownian motion from 0 to the barrier a = theta - V_r: the times from reset to the next
spike are inverse Gaussian and the recorded V of neurons that have not fired since reset follow
the method-of-images density (docs/REFERENCES.md §2). The engine integrates them exactly and finds
crossings between grid points with the exact Brownian-bridge probability, so the only
discretization left is that a spike is registered at the end of its step.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from numpy.polynomial.legendre import leggauss
from scipy import stats

from neuroabm import NeuroModel
from neuroabm.analysis.first_passage import first_passage_density, first_passage_times, occupation_density
from neuroabm.config.params import ConfigError, validate_params
from neuroabm.recorders.voltage import select_neurons
from neuroabm.runner import run_to_directory
from neuroabm.theory import image_occupation_density, inverse_gaussian_cdf

N, T_MS, DT = 1000, 1000.0, 0.1
MU, SIGMA, TAU, V_R, THETA, T_REF = 10.0, 5.0, 20.0, 10.0, 20.0, 2.0
A, DRIFT, DIFF = THETA - V_R, MU / TAU, SIGMA / math.sqrt(TAU)  # [mV], [mV/ms], [mV/ms^(1/2)]
#: nearly every trial ends within this time: P(T > 150 ms) = 1 - inverse_gaussian_cdf(150) ~ 1e-17
HORIZON_MS = 150.0


@pytest.fixture(scope="module")
def perfect_integrators() -> NeuroModel:
    """Isolated perfect integrators, all at reset at t = 0, every V recorded each millisecond."""
    return NeuroModel(
        n_exc=N, n_inh=0, k_exc=0, k_inh=0, eta=0.0, drive="white_noise", mu_mv=MU, sigma_mv=SIGMA, leak=False,
        v_init="reset", duration_ms=T_MS, dt_ms=DT, seed=5, record_v=N, record_v_dt_ms=1.0,
    ).run()  # fmt: skip


# --------------------------------------------------------------------------- first passage
def test_first_passage_times_run_from_the_end_of_refractoriness_to_the_next_spike():
    t = np.array([12.0, 3.0, 30.0, 8.0, 5.0])
    nr = np.array([0, 1, 0, 1, 0])  # neuron 0 at 5, 12, 30; neuron 1 at 3, 8
    assert first_passage_times(t, nr, 2.0).tolist() == [12 - 7, 30 - 14, 8 - 5]
    assert first_passage_times(t, nr, 2.0, start_ms=0.0).tolist() == [5, 3, 12 - 7, 30 - 14, 8 - 5]
    assert first_passage_times(t, nr, 2.0, max_start_ms=10.0).tolist() == [5, 3]  # trials from 7 and 5
    with pytest.raises(ValueError, match="t_ref_ms"):
        first_passage_times(t, nr, 6.0)  # neuron 1 would fire 1 ms into its refractory period
    with pytest.raises(ValueError, match="t_ref_ms"):
        first_passage_times(t, nr, -1.0)


def test_first_passage_density_is_normalized_by_all_times():
    rng = np.random.default_rng(3)
    x = rng.exponential(10.0, 200_000)  # F(t) = exp(-t / 10) / 10
    edges, f = first_passage_density(x, np.arange(0.0, 31.0, 1.0))
    expected = (np.exp(-edges[:-1] / 10) - np.exp(-edges[1:] / 10)) / np.diff(edges)
    # Poisson counts: sd = sqrt(n p) / (n width); 5 sd over 30 bins
    sd = np.sqrt(expected * x.size) / x.size
    assert np.all(np.abs(f - expected) < 5 * sd)
    assert np.sum(f * np.diff(edges)) == pytest.approx(np.mean(x < 30.0))  # the tail beyond 30 ms is missing
    edges, f = first_passage_density([1.0, 2.0, 4.0], 4)
    assert edges.tolist() == [0.0, 1.0, 2.0, 3.0, 4.0] and np.sum(f) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="bins"):
        first_passage_density(x, [3.0, 1.0])


def test_perfect_integrator_first_passage_times_are_inverse_gaussian(perfect_integrators):
    t, nr = perfect_integrators.spikes()
    # trials started by T - 150 ms have all ended; dropping later ones does not depend on their length
    fpt = first_passage_times(t, nr, T_REF, start_ms=0.0, max_start_ms=T_MS - HORIZON_MS)
    assert fpt.size > 30_000
    assert np.allclose(fpt / DT, np.round(fpt / DT), atol=1e-6)  # spikes are registered on the step grid
    # A spike is registered at the end of the step in which V crossed: fpt = dt ceil(T / dt).
    # Subtracting U(0, dt) turns its CDF into the linear interpolation of the inverse Gaussian CDF
    # between grid points, within dt^2 max|F'| / 8 ~ 1e-5 of it: far below the KS resolution
    # 1 / sqrt(n) ~ 5e-3.
    jittered = fpt - np.random.default_rng(0).uniform(0.0, DT, fpt.size)
    assert stats.kstest(jittered, lambda x: inverse_gaussian_cdf(x, A, DRIFT, DIFF)).pvalue > 0.01


def _image_bin_average(t_edges: np.ndarray, v_edges: np.ndarray) -> np.ndarray:
    """Method-of-images P averaged over each V bin (Gauss-Legendre) and the ten 0.1 ms offsets in a 1 ms bin.

    Samples come every 1 ms and resets fall on the 0.1 ms step grid, so a sample in the time bin
    [b, b + 1) has a time since reset b + 0.1 j, j = 0..9, about equally often.
    """
    nodes, weights = leggauss(8)
    v = 0.5 * (v_edges[:-1, None] + v_edges[1:, None]) + 0.5 * np.diff(v_edges)[:, None] * nodes[None, :]
    tau = t_edges[:-1, None] + DT * np.arange(10)[None, :]
    p = image_occupation_density(v[None, None] - V_R, tau[:, :, None, None], A, DRIFT, DIFF)
    return (p * weights / 2.0).sum(axis=-1).mean(axis=1)


def test_perfect_integrator_occupation_is_the_method_of_images_density(perfect_integrators):
    t_ms, ids, v = perfect_integrators.voltages()
    assert v.shape == (t_ms.size, N) and t_ms[1] - t_ms[0] == 1.0
    t, nr = perfect_integrators.spikes()
    v_edges, t_edges = np.arange(-10.0, 20.01, 0.5), np.arange(2.0, 41.0, 1.0)
    occ = occupation_density(v, t_ms, ids, t, nr, v_edges, t_edges, t_ref_ms=T_REF, start_ms=0.0)
    assert occ.trials.min() > 30_000
    expected = _image_bin_average(t_edges, v_edges)
    n_bin = occ.trials[:, None] * np.diff(v_edges)[None, :]
    # time bins = sampling interval, so each trial puts at most one sample in a bin: binomial
    # counts with sd <= sqrt(expected count). ~2300 bins: P(max |z| > 5) ~ 1e-3 for Gaussian errors.
    # (From 2 ms on: the density is > 1.5 mV wide, so the 0.5 mV bins resolve it.)
    z = (occ.density_per_mv - expected) * n_bin / np.sqrt(np.maximum(expected * n_bin, 1.0))
    assert np.max(np.abs(z)) < 5.0
    # summed over V, the survivors are S(t) = 1 - inverse Gaussian CDF (at ~1 % binomial precision)
    survival = 1.0 - inverse_gaussian_cdf(t_edges[:-1, None] + DT * np.arange(10), A, DRIFT, DIFF).mean(axis=1)
    # (binomial sd, at least one trial's worth; paths below -10 mV, outside the bins: < exp(-16))
    sd = np.sqrt(np.maximum(survival * (1 - survival), 1 / occ.trials) / occ.trials)
    assert np.all(np.abs(occ.survival - survival) < 5 * sd)


def test_occupation_counts_each_sample_in_its_current_trial():
    # neuron 5 fires at 3 ms (refractory until 4 ms); neuron 7 never; neuron 9 is not recorded
    times = np.arange(10.0)
    v = np.column_stack([np.full(10, 0.5), np.full(10, 1.5)])  # neuron 5 in V bin 0, neuron 7 in bin 1
    spikes_t, spikes_n = np.array([2.0, 3.0]), np.array([9, 5])
    occ = occupation_density(
        v, times, [5, 7], spikes_t, spikes_n, [0.0, 1.0, 2.0], np.arange(11.0), t_ref_ms=1.0, start_ms=0.0
    )
    # trials: neuron 5 from 0 (ends at 3) and from 4; neuron 7 from 0; samples up to 9 ms
    assert occ.trials.tolist() == [3, 3, 3, 3, 3, 3, 2, 2, 2, 2]
    assert occ.counts[:, 0].tolist() == [2, 2, 2, 1, 1, 1, 0, 0, 0, 0]
    assert occ.counts[:, 1].tolist() == [1] * 10
    assert occ.survival == pytest.approx([1, 1, 1, 2 / 3, 2 / 3, 2 / 3, 1 / 2, 1 / 2, 1 / 2, 1 / 2])
    # without a start, neuron 5's trials begin at its reset and neuron 7 has none
    occ = occupation_density(v, times, [5, 7], spikes_t, spikes_n, [0.0, 1.0, 2.0], np.arange(11.0), t_ref_ms=1.0)
    assert occ.trials.tolist() == [1] * 6 + [0] * 4 and np.isnan(occ.density_per_mv[6:]).all()
    # on a 0.1 ms grid (sums like 0.3 + 0.1 carry rounding) nothing moves between bins
    fine = occupation_density(
        v, 0.1 * times, [5, 7], 0.1 * spikes_t, spikes_n, [0.0, 1.0, 2.0], 0.1 * np.arange(11.0),
        t_ref_ms=0.1, start_ms=0.0,
    )  # fmt: skip
    assert fine.trials.tolist() == [3, 3, 3, 3, 3, 3, 2, 2, 2, 2]
    assert fine.counts[:, 0].tolist() == [2, 2, 2, 1, 1, 1, 0, 0, 0, 0]
    with pytest.raises(ValueError, match="v_samples"):
        occupation_density(v[:, :1], times, [5, 7], spikes_t, spikes_n, [0.0, 1.0], [0.0, 1.0], t_ref_ms=1.0)
    with pytest.raises(ValueError, match="t_bins"):
        occupation_density(v, times, [5, 7], spikes_t, spikes_n, [0.0, 1.0], [-1.0, 1.0], t_ref_ms=1.0)


# ------------------------------------------------------------------------------- recording
def test_v_is_sampled_after_every_integration_step():
    """Without noise a LIF from reset follows V(t) = mu + (V_r - mu) exp(-t / tau) exactly."""
    mu = 25.0
    m = NeuroModel(
        n_exc=3, n_inh=0, k_exc=0, k_inh=0, eta=0.0, drive="white_noise", mu_mv=mu, sigma_mv=0.0, v_init="reset",
        duration_ms=60.0, dt_ms=DT, seed=1, record_v=3, record_v_dt_ms=DT,
    ).run()  # fmt: skip
    t_ms, ids, v = m.voltages()
    k = np.arange(601)
    assert ids.tolist() == [0, 1, 2] and np.allclose(t_ms, k * DT, rtol=0, atol=1e-12)
    # V reaches theta at tau ln((mu - V_r) / (mu - theta)) = 21.97 ms, in step 219: spike at 22.0 ms,
    # then V_r during the 2 ms refractory period; integration resumes at 24.0 ms: period 240 steps
    phase = k % 240
    expected = np.where(phase < 220, mu + (V_R - mu) * np.exp(-phase * DT / TAU), V_R)
    assert np.allclose(v, expected[:, None], rtol=0, atol=1e-5)  # float32 storage: 2e-6 mV at 20 mV
    assert np.allclose(m.spikes()[0], np.repeat([22.0, 46.0], 3))


def test_recording_does_not_change_the_run():
    """Blocks split at sample steps: spikes still land a delay later, in the same order per target."""
    kw = dict(n_exc=400, n_inh=100, k_exc=40, k_inh=10, j_mv=0.5, g=5.0, eta=2.0, duration_ms=100.0, seed=7)
    plain = NeuroModel(**kw).run()
    recorded = NeuroModel(**kw, record_v=37, record_v_dt_ms=0.3).run()
    assert plain.voltage_recorder is None and plain.voltages()[2].shape == (0, 0)
    for x, y in zip(plain.spikes(), recorded.spikes(), strict=True):
        assert np.array_equal(x, y)
    assert np.array_equal(plain.v, recorded.v)
    t_ms, ids, v = recorded.voltages()
    assert t_ms.size == 334 and np.allclose(np.diff(t_ms), 0.3)  # 0, 0.3, ..., 99.9
    assert ids.tolist() == select_neurons(37, 500).tolist() and v.shape == (334, 37)


def test_record_v_selects_spread_out_neurons_and_rejects_bad_values():
    ids = select_neurons(4, 10)
    assert ids.tolist() == [0, 3, 6, 9]
    assert select_neurons([7, 2], 10).tolist() == [7, 2] and select_neurons(0, 10).size == 0
    for bad in ({"record_v": -1}, {"record_v": 1001}, {"record_v": [1, 1]}, {"record_v": [1000]}, {"record_v": "x"}):
        with pytest.raises(ConfigError, match="record_v"):
            validate_params(bad)
    with pytest.raises(ConfigError, match=r"record_v_dt_ms = 0.25: allowed a whole multiple of dt_ms"):
        validate_params(record_v=3, record_v_dt_ms=0.25, dt_ms=0.1)
    with pytest.raises(ValueError, match="record_v"):
        select_neurons(11, 10)


def test_run_folder_holds_the_voltages(tmp_path):
    params = validate_params(
        n_exc=80, n_inh=20, k_exc=8, k_inh=2, j_mv=1.0, duration_ms=20.0, seed=3, record_v=[4, 50], record_v_dt_ms=2.0
    )
    run_to_directory(params, tmp_path, progress=False)
    with np.load(tmp_path / "voltages.npz") as z:
        assert z["t_ms"].tolist() == list(np.arange(0.0, 21.0, 2.0))
        assert z["neuron"].tolist() == [4, 50] and z["v_mv"].shape == (11, 2) and z["v_mv"].dtype == np.float32
