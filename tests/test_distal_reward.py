"""Izhikevich (2007) distal reward, shortened: the rewarded synapse leaves the bulk; the control's does not.

The published experiment runs an hour of biology (``runs/distal_reward.toml``); here the same
network, drive, plasticity and reward schedule run for half of it. With n ~ 10^2 rewards the pair's
weight has grown by a sum of n positive increments, while a typical synapse has taken n increments
of random sign (its eligibility when a pulse arrives is uncorrelated with the pulse), so the pair
separates from the bulk like n / sqrt(n): a few of its standard deviations at n ~ 10^2.

Unlike in the paper, the bulk is not all there is: with these LIF neurons a strong synapse makes its
target fire just after its source, so its eligibility at reward times is positive and the pulses
push it further. By 30 minutes 2-7 % of the other synapses have been carried above 2 mV this way
(1,800-5,200 of 80,000 in seeds 1-4), and the rewarded synapse ends inside the top of that tail
(98.6-99.5th percentile, 3.5-5.4 robust standard deviations above the bulk's median, over seeds
1-4). So the test asks for the top 2 % (a synapse the rewards did not single out lands there with
probability 0.02: its rank among the others is then uniform) and for three standard deviations from
the bulk, measured with the median and the MAD, which that minority tail does not move (the plain
z-score it does: 2.8-4.3 in seeds 1-4).

**This is a regression test.** The two marks (top 2 %, 3 robust standard deviations) were set after
measuring seeds 1-4, not derived before the runs: the 2 % is the chance level argued above, but the
choice of the robust z and of the number 3 came from the measured 3.5-5.4. The test guards the
behaviour of this implementation; it is not an independent check of the paper's claim.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from neuroabm.config import ConfigError, load_config, validate_params
from neuroabm.experiments.distal_reward import first_pair, pair_slot, robust_z, run_with_control
from neuroabm.model.model import NeuroModel

CONFIG = Path(__file__).parents[1] / "runs" / "distal_reward.toml"


def published_params(**overrides):
    return validate_params({**load_config(CONFIG), **overrides})


def test_config_is_the_published_scale_and_its_pair_is_a_plastic_synapse():
    p = published_params()
    assert (p.n_exc, p.n_inh, p.k_exc + p.k_inh) == (800, 200, 100)
    assert (p.a_minus / p.a_plus, p.tau_plus_ms, p.tau_c_ms, p.tau_da_ms, p.w_max_mv) == (1.5, 20.0, 1000.0, 200.0, 4.0)
    assert (p.reward_delay_min_ms, p.reward_delay_max_ms, p.reward_window_ms) == (1000.0, 3000.0, 20.0)
    # tonic level and reward pulse of the paper: 0.01 uM and 0.5 uM, spread over the 1 mm^2 torus
    assert p.n_sites * p.release_tonic * p.tau_da_ms / p.side_mm**2 == pytest.approx(0.01)
    assert p.n_sites * p.reward_amount / p.side_mm**2 == pytest.approx(0.5)
    model = NeuroModel(**{**p.model_dump(), "duration_ms": 1.0})
    assert tuple(p.reward_pair) == first_pair(model)
    assert model.synapses.targets[pair_slot(model, *p.reward_pair)] == p.reward_pair[1]
    with pytest.raises(ConfigError, match=r"reward_pair = \[900, 0\]: no plastic synapse"):
        pair_slot(model, 900, 0)  # inhibitory synapses are not plastic


def test_robust_z_is_the_z_score_of_a_gaussian_bulk_and_ignores_a_minority_tail():
    bulk = np.random.default_rng(0).normal(1.0, 0.2, 100_000)
    assert robust_z(2.0, bulk) == pytest.approx(5.0, rel=0.02)  # (2 - 1) / 0.2
    tail = np.full(3_000, 3.5)  # 3 % far out: the plain z-score of 2.0 drops from 5 to ~2, this one hardly moves
    with_tail = np.concatenate([bulk, tail])
    assert robust_z(2.0, with_tail) == pytest.approx(5.0, rel=0.06)
    assert (2.0 - with_tail.mean()) / with_tail.std() < 2.5


@pytest.mark.slow
def test_regression_rewarded_synapse_ends_clearly_above_the_others_and_the_control_does_not_single_it_out():
    rewarded, control = run_with_control(published_params(duration_ms=1_800_000.0))
    # pair events: by chance alone r_A r_B x 20 ms x 1800 s = 36 at ~1 Hz, more through the A->B synapse
    # itself; the rewarded run needs ~10^2 for the sqrt(n) argument above, the control sees the chance ones
    assert rewarded.n_rewards >= 50
    assert control.n_pair_events >= 30
    # rewarded: in the top 2 % of all other excitatory synapses and > 3 robust sd above their bulk
    assert rewarded.percentile > 98.0
    assert rewarded.robust_z > 3.0
    # ... while the rest of the distribution stays low (tonic dopamine changes nothing on its own)
    assert np.median(rewarded.w_others_mv) < 1.0 + 0.05
    # control: no dopamine pulses, so the pair's synapse is an ordinary member of the distribution
    assert control.percentile < 99.0
    assert abs(control.z_score) < 3.0
    assert control.robust_z < 3.0
    assert control.w_pair_t_mv[-1] < rewarded.w_pair_t_mv[-1] - 0.5


def test_izhikevich_config_has_the_papers_weight_change_scale():
    """The published code: every 10 ms s += (0.002 + DA) c, c jumping by 0.1 per pairing (docs/distal_reward.md)."""
    p = validate_params(load_config(CONFIG.with_name("distal_reward_izhikevich.toml")))
    assert p.eta_da * p.a_plus == pytest.approx(0.1 / 10.0)  # mV/(uM ms) per unit of eligibility jump
    tonic_um = p.n_sites * p.release_tonic * p.tau_da_ms / p.side_mm**2
    assert tonic_um - p.da_baseline_um == pytest.approx(0.002)  # the code's tonic drift
    assert p.n_sites * p.reward_amount / p.side_mm**2 == pytest.approx(0.5)


def test_a_run_folder_of_the_experiment_gives_the_same_result_as_the_run_in_memory(tmp_path):
    """Hour-long runs go through 'neuroabm run' (checkpoints); their folder must measure the same."""
    from neuroabm.experiments.distal_reward import result_from_run, run_distal_reward
    from neuroabm.runner import run_to_directory

    p = published_params(duration_ms=3000.0, reward_times_ms=[500.0, 1500.0, 2500.0])  # the pair is rare in 3 s
    in_memory = run_distal_reward(p)
    run_to_directory(p, tmp_path / "run", progress=False)
    from_folder = result_from_run(tmp_path / "run")
    assert from_folder.w_pair_mv == pytest.approx(in_memory.w_pair_mv, abs=1e-6)  # float32 in the snapshot
    assert from_folder.percentile == pytest.approx(in_memory.percentile, abs=0.01)
    assert (from_folder.n_rewards, from_folder.n_pair_events) == (in_memory.n_rewards, in_memory.n_pair_events)
    assert from_folder.n_rewards > 0
