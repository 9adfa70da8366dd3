"""Release sites, their catchments and release law, rewards, and the coupling to the neurons."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.optimize import brentq

from neuroabm import NeuroModel, Neuron
from neuroabm.model.dopamine.sites import ReleaseSite, SiteArrays, catchment_matrix, site_positions
from neuroabm.model.space import periodic_distance
from neuroabm.theory import siegert_rate

#: a quiet 500-neuron network with dopamine on, no tonic release, no decay
QUIET = dict(
    n_exc=400, n_inh=100, k_exc=40, k_inh=10, j_mv=0.5, eta=0.0, v_init="rest", duration_ms=60.0, seed=3,
    dopamine=True, n_sites=9, release_tonic=0.0, tau_da_ms=math.inf, grid_n=32, field_record_ms=10,
)  # fmt: skip


def _observe(sites: SiteArrays, spikes_per_neuron: np.ndarray, dt_ms: float) -> None:
    """Count the given spikes per neuron into the catchments and update the sites over ``dt_ms``."""
    sites.counts += sites.catchment @ np.asarray(spikes_per_neuron, dtype=float)
    sites.update(dt_ms)


def test_lattice_sites_sit_at_cell_centres():
    xy = site_positions(np.random.default_rng(0), 16, 2.0, "lattice")
    assert sorted(set(np.round(xy[:, 0], 12))) == [0.25, 0.75, 1.25, 1.75]
    assert len({tuple(p) for p in xy}) == 16


def test_catchments_reach_across_the_torus_seam():
    site = np.array([[0.01, 0.5]])
    neurons = np.array([[0.99, 0.5], [0.5, 0.5], [0.01, 0.96], [0.03, 0.47]])
    members = catchment_matrix(site, neurons, 0.05, 1.0).indices
    assert sorted(members) == [0, 3]  # 0.02 mm across the x seam, 0.036 mm away; not 0.46 or 0.46
    rng = np.random.default_rng(1)
    sites, cells = rng.uniform(0, 1, (20, 2)), rng.uniform(0, 1, (3000, 2))
    c = catchment_matrix(sites, cells, 0.12, 1.0).toarray().astype(bool)
    brute = periodic_distance(sites[:, None, :], cells[None, :, :], 1.0) <= 0.12
    assert np.array_equal(c, brute)


def test_rate_estimate_relaxes_exponentially_and_sets_the_release():
    catch = catchment_matrix(np.array([[0.5, 0.5]]), np.array([[0.5, 0.5], [0.52, 0.5]]), 0.1, 1.0)
    s = SiteArrays(np.array([[0.5, 0.5]]), catch, release_tonic=0.2, feedback_gain=0.01, target_rate_hz=10.0,
                   tau_site_ms=100.0)  # fmt: skip
    assert s.release[0] == pytest.approx(0.2)  # estimate starts at the set point
    _observe(s, np.array([1.0, 1.0]), dt_ms=50.0)  # 2 spikes from 2 neurons in 50 ms: 20 Hz
    expected = 20.0 + (10.0 - 20.0) * math.exp(-0.5)
    assert s.rate_hz[0] == pytest.approx(expected, rel=1e-12)
    assert s.release[0] == pytest.approx(0.2 + 0.01 * (10.0 - expected), rel=1e-12)
    for _ in range(50):
        _observe(s, np.array([10.0, 10.0]), dt_ms=50.0)  # 200 Hz: release clipped at zero
    assert s.release[0] == 0.0


def test_sites_and_neurons_share_one_agent_set():
    m = NeuroModel(**QUIET)
    assert len(m.agents) == 500 + 9
    assert len(m.agents_by_type[ReleaseSite]) == 9 and len(m.agents_by_type[Neuron]) == 500
    assert len(m.sites) == 9 and len(m.neurons) == 500
    site = m.dopamine.site_agents[4]
    assert np.allclose(site.position, m.dopamine.sites.xy_mm[site.index])
    members = site.catchment
    d = periodic_distance(site.position, m.positions, 1.0)
    assert np.array_equal(members, np.flatnonzero(d <= m.params.site_radius_mm))


def test_a_reward_pulse_appears_at_its_time():
    m = NeuroModel(**{**QUIET, "reward_times_ms": [30.0], "reward_amount": 0.5})
    while m.time < 29:
        m.step()
    assert m.dopamine.field.mass() == 0.0
    m.step()
    assert m.dopamine.rewards.delivered_ms == [30.0]
    assert m.dopamine.field.mass() == pytest.approx(9 * 0.5, rel=1e-12)


def test_periodic_rewards_repeat():
    m = NeuroModel(**{**QUIET, "reward_period_ms": 20.0, "reward_amount": 1.0}).run()
    assert m.dopamine.rewards.delivered_ms == [20.0, 40.0, 60.0]
    assert m.dopamine.field.mass() == pytest.approx(27.0, rel=1e-12)


def test_contingent_reward_follows_the_pair_after_its_delay():
    m = NeuroModel(**{**QUIET, "reward_pair": [0, 1], "reward_delay_min_ms": 100.0, "reward_delay_max_ms": 300.0,
                      "duration_ms": 400.0})  # fmt: skip
    m.v[0] = 25.0  # A fires at 0.1 ms
    m.step()
    m.v[1] = 25.0  # B fires at 1.1 ms: 1 ms after A
    m.run()
    rewards = m.dopamine.rewards
    assert rewards.pair_events_ms == [pytest.approx(1.1)]
    assert len(rewards.delivered_ms) == 1
    assert 101.1 <= rewards.delivered_ms[0] <= 302.0
    # B before A is not rewarded
    m2 = NeuroModel(**{**QUIET, "reward_pair": [0, 1], "duration_ms": 5.0})
    m2.v[1] = 25.0
    m2.step()
    m2.v[0] = 25.0
    m2.run()
    assert m2.dopamine.rewards.pair_events_ms == []


def test_excitability_shifts_the_resting_potential_by_the_local_dopamine():
    """Free membranes relax to V = da_excitability * D_local when the field is constant."""
    m = NeuroModel(**{**QUIET, "reward_times_ms": [0.0], "reward_amount": 1.0, "kappa_mm2_per_ms": 1.0,
                      "da_excitability_mv": 2.0, "duration_ms": 300.0})  # fmt: skip
    m.run()
    d = m.da_local
    assert d.std() < 1e-9 * d.mean()  # diffusion has flattened the field
    assert d.mean() == pytest.approx(9 * 1.0 / 1.0**2, rel=1e-9)  # mass / area
    assert m.spike_count.sum() == 0
    assert np.allclose(m.v, 2.0 * d, rtol=1e-4)  # ~15 membrane time constants
    assert m.neuron(3).dopamine == pytest.approx(d[3])


# ---------------------------------------------------------------- closed loop: feedback vs theory
#: 500 unconnected LIF neurons driven by white noise (mu = 15 mV, sigma = 4 mV: 5.9 Hz by Siegert),
#: one site whose catchment holds every neuron, fast diffusion (diffusion length sqrt(kappa tau_D)
#: = 1.4 mm > the 1 mm torus, so the field is nearly uniform: CV ~2 %), dopamine adds
#: da_excitability_mv per uM to the mean input.
LOOP = dict(
    n_exc=400, n_inh=100, k_exc=0, k_inh=0, drive="white_noise", mu_mv=15.0, sigma_mv=4.0, eta=0.0,
    duration_ms=5000.0, seed=7, dopamine=True, n_sites=1, site_radius_mm=0.8, grid_n=16,
    kappa_mm2_per_ms=0.01, tau_da_ms=200.0, tau_site_ms=200.0, release_tonic=0.0, target_rate_hz=20.0,
    da_excitability_mv=1.0, field_record_ms=0,
)  # fmt: skip


def late_rate_hz(model: NeuroModel, after_ms: float) -> float:
    t, _ = model.spikes()
    return np.count_nonzero(t > after_ms) / model.n_neurons / ((model.time - after_ms) / 1000.0)


def closed_loop_rate_hz(gain: float) -> float:
    """Steady state of the loop: r = Siegert(mu + exc D), D = release accumulated under decay.

    With release R = gain (target - r) deposited every 1 ms step and the field decaying by
    q = exp(-1 ms / tau_D) per step, the mass settles at M = R q / (1 - q) [uM mm^2], i.e. a
    uniform concentration D = M / L^2 on the 1 mm torus.
    """
    q = math.exp(-1.0 / LOOP["tau_da_ms"])
    exc, mu, sigma, target = LOOP["da_excitability_mv"], LOOP["mu_mv"], LOOP["sigma_mv"], LOOP["target_rate_hz"]
    return brentq(lambda r: siegert_rate(mu + exc * gain * (target - r) * q / (1 - q), sigma) - r, 0.0, target)


def test_homeostatic_feedback_pulls_the_rate_to_the_set_point_predicted_by_siegert():
    # Same seed, gain off vs on. Tolerance 4 %: ~7,500-19,000 spikes in the 2.5 s window (Poisson
    # error ~1 %), plus the small non-uniformity of the field.
    off = NeuroModel(**LOOP, feedback_gain=0.0).run()
    on = NeuroModel(**LOOP, feedback_gain=0.003).run()
    r_off, r_on = late_rate_hz(off, 2500.0), late_rate_hz(on, 2500.0)
    assert r_off == pytest.approx(siegert_rate(15.0, 4.0), rel=0.04)  # 5.9 Hz
    assert r_on == pytest.approx(closed_loop_rate_hz(0.003), rel=0.04)  # 15.4 Hz
    assert abs(20.0 - r_on) < 0.4 * abs(20.0 - r_off)  # the loop closes most of the gap
    site = on.dopamine.site_agents[0]
    assert site.rate_estimate_hz == pytest.approx(r_on, rel=0.1)  # the site's running estimate
    assert site.release_rate == pytest.approx(0.003 * (20.0 - site.rate_estimate_hz), rel=1e-12)


def test_negative_gain_is_runaway_feedback():
    # The catchment fires above a 2 Hz set point, so a negative gain releases dopamine, which
    # raises the rate further: the rate and the field keep growing away from the set point.
    m = NeuroModel(**{**LOOP, "target_rate_hz": 2.0, "duration_ms": 3000.0}, feedback_gain=-0.002)
    rates, fields = [], []
    for _ in range(3):
        start = m.time
        for _ in range(1000):
            m.step()
        rates.append(late_rate_hz(m, start))
        fields.append(m.dopamine.field.values.mean())
    assert rates[0] > siegert_rate(15.0, 4.0)
    assert rates[0] < rates[1] < rates[2] and fields[0] < fields[1] < fields[2]


def test_sites_count_every_spike_even_when_the_recorder_flushes_between_field_steps():
    # Sites read spikes from the recorder's buffer at each field step (here every 5 ms); reading
    # the spikes (model.spikes()) flushes that buffer mid-window, and the pending spikes must
    # still be counted: the rate estimates match an undisturbed run exactly.
    cfg = {**QUIET, "eta": 1.5, "field_dt_ms": 5, "field_record_ms": 0, "duration_ms": 40.0, "feedback_gain": 1e-3}
    calm, flushed = NeuroModel(**cfg), NeuroModel(**cfg)
    for k in range(40):
        calm.step()
        flushed.step()
        if k % 7 == 3:
            flushed.spikes()
    assert calm.spike_totals.sum() > 100
    np.testing.assert_array_equal(calm.dopamine.sites.rate_hz, flushed.dopamine.sites.rate_hz)
    # and the estimate of a site equals the relaxation of its catchment's spikes, window by window:
    # the field step at t = 5 w ms comes after the neurons' millisecond ending at t (Mesa priorities)
    t, nrn = calm.spikes()
    cat = calm.dopamine.site_agents[0].catchment
    p = calm.params
    alpha = -math.expm1(-5.0 / p.tau_site_ms)
    rate = p.target_rate_hz
    window = (np.rint(t / p.dt_ms).astype(int) - 1) // 50  # spike in step k: window k // 50 (5 ms)
    for w in range(8):
        n = np.count_nonzero(np.isin(nrn, cat) & (window == w))
        rate += (n / (cat.size * 0.005) - rate) * alpha
    assert calm.dopamine.sites.rate_hz[0] == pytest.approx(rate, rel=1e-12)


FEEDBACK = {**QUIET, "eta": 0.9, "release_tonic": 1e-4, "feedback_gain": 2e-4, "target_rate_hz": 8.0,
            "tau_da_ms": 200.0, "da_excitability_mv": 2.0, "duration_ms": 200.0, "v_init": "uniform"}  # fmt: skip


def test_sites_deciding_one_by_one_equal_the_vectorized_update():
    """Each ReleaseSite.step applies the release law to its own row: bit-identical to the vectorized twin."""
    bulk = NeuroModel(**FEEDBACK).run()
    agents = NeuroModel(**FEEDBACK)
    agents.dopamine.per_agent = True
    agents.run()
    assert not bulk.dopamine.per_agent  # the default runs the twin
    assert agents.dopamine.total_released > 0 and agents.spike_totals.sum() > 100
    for a, b in ((agents.spikes()[0], bulk.spikes()[0]), (agents.spikes()[1], bulk.spikes()[1]),
                 (agents.dopamine.sites.release, bulk.dopamine.sites.release),
                 (agents.dopamine.field.values, bulk.dopamine.field.values)):  # fmt: skip
        np.testing.assert_array_equal(a, b)
    assert agents.dopamine.total_released == bulk.dopamine.total_released


class SilentSite(ReleaseSite):
    """A site that never releases (e.g. a lesioned terminal field)."""

    def step(self) -> None:
        super().step()
        sites = self._sites
        sites._lists[3][self.index] = sites._lists[4][self.index] = 0.0  # release and amount


def test_a_site_with_its_own_behaviour_is_stepped_as_an_agent():
    m = NeuroModel(**FEEDBACK)
    m.dopamine.site_agents[4].__class__ = SilentSite
    m.run()
    assert m.dopamine.per_agent  # detected at the first field step
    release = np.stack(m.da_recorder.release)  # every 10 ms: (snapshots, sites)
    assert not release[:, 4].any() and np.all(np.delete(release, 4, axis=1).max(axis=0) > 0.0)


def test_sites_are_mesa_agents_with_behaviour():
    """select() and shuffle_do('step') act on the sites; the order of their steps does not matter."""
    m = NeuroModel(**FEEDBACK)
    for _ in range(30):
        m.step()
    sites = m.dopamine.sites
    busy = np.tile(np.arange(m.n_exc // 10, dtype=np.int32), 50)  # one corner fires hard, the rest is silent
    sites.open_window(500.0, busy)  # a long window: the estimates move far toward it
    before = sites.counts.copy()
    ordered = SiteArrays.__new__(SiteArrays)
    ordered.__dict__ = {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in sites.__dict__.items()}
    m.sites.shuffle_do("step")
    sites.close_window()
    ordered.open_window(500.0)
    for i in range(ordered.n_sites):
        ordered.decide(i)
    ordered.close_window()
    assert before.sum() > 0 and not sites.counts.any()
    np.testing.assert_array_equal(sites.release, ordered.release)
    target = m.params.target_rate_hz
    quiet = m.sites.select(lambda s: s.rate_estimate_hz < target)
    loud = m.sites.select(lambda s: s.rate_estimate_hz > target)
    assert len(quiet) > 0 and all(s.release_rate > m.params.release_tonic for s in quiet)
    assert len(loud) > 0 and all(s.release_rate < m.params.release_tonic for s in loud)
