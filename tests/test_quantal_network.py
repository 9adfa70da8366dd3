"""Quantal variability fed into the network (issue 18, item 3): the draws, the delivery, the theory.

With ``quantal = "cleft"`` every recurrent excitatory PSP is ``J q`` with ``q`` drawn per (spike,
synapse) from the cleft's peak open-receptor counts normalized to mean 1
(:mod:`neuroabm.model.quantal`). Mean-field theory (Brunel 2000) then keeps the mean input and
multiplies the recurrent excitatory shot-noise variance by ``E[q^2]``
(``brunel_rate(..., exc_q2=E[q^2])``).
"""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
from scipy.stats import chisquare

from neuroabm import NeuroModel
from neuroabm.config.params import ConfigError
from neuroabm.model.kernels import deliver_block
from neuroabm.model.quantal import (
    CLEFT_PEAK_OPEN_HISTOGRAM,
    TABLE_SIZE,
    cleft_histogram,
    quantal_table,
    sample_factors,
    table_second_moment,
)
from neuroabm.theory import brunel_rate

#: standard errors allowed between a statistic and its expectation (two-sided p = 6e-7 for a normal
#: statistic: a correct implementation essentially never fails, a wrong one is caught)
Z = 5.0


def test_the_table_is_the_normalized_cleft_histogram():
    t = quantal_table().astype(np.float64)
    assert t.size == TABLE_SIZE == sum(CLEFT_PEAK_OPEN_HISTOGRAM)
    assert abs(t.mean() - 1.0) < 1e-6  # float32 rounding of the normalized counts
    counts = np.repeat(np.arange(len(CLEFT_PEAK_OPEN_HISTOGRAM)), CLEFT_PEAK_OPEN_HISTOGRAM)
    assert table_second_moment() == pytest.approx(np.mean(counts**2) / np.mean(counts) ** 2, rel=1e-6)
    assert 1.5 < table_second_moment() < 2.0  # CV 0.7-1.0 of the default synapse (docs/cleft.md)


def test_drawn_factors_have_mean_one_and_the_tables_second_moment():
    """10^6 draws over (step, source, slot): moments within Z standard errors of the table's.

    For n independent draws of q from the table, mean(q) has standard error sqrt(Var q / n) and
    mean(q^2) has sqrt(Var q^2 / n), with Var q = E[q^2] - 1 and Var q^2 = E[q^4] - E[q^2]^2 taken
    from the table itself (exact). Each of the 7 distinct values must appear with the table's
    frequency (chi-square, p > 1e-4), and neighbouring slots and spikes must be uncorrelated
    (|r| < Z / sqrt(n)).
    """
    table = quantal_table()
    rng = np.random.default_rng(11)
    n_spikes, n_slots, n_neurons = 4000, 250, 10_000
    steps = rng.integers(0, 10**6, n_spikes)
    sources = rng.integers(0, n_neurons, n_spikes)
    q = sample_factors(table, np.uint64(123456789), steps, sources, n_slots, n_neurons).astype(np.float64)
    n = q.size
    t = table.astype(np.float64)
    e2, e4 = np.mean(t**2), np.mean(t**4)
    assert abs(q.mean() - 1.0) < Z * np.sqrt((e2 - 1.0) / n)
    assert abs(np.mean(q**2) - e2) < Z * np.sqrt((e4 - e2**2) / n)
    values, expected = np.unique(t, return_counts=True)
    observed = np.array([np.count_nonzero(q == v) for v in values.astype(np.float32)])
    assert observed.sum() == n
    assert chisquare(observed, expected * n / TABLE_SIZE).pvalue > 1e-4
    qc = q - 1.0
    assert abs(np.mean(qc[:, 1:] * qc[:, :-1]) / (e2 - 1.0)) < Z / np.sqrt(n)  # slot j vs j + 1
    assert abs(np.mean(qc[1:] * qc[:-1]) / (e2 - 1.0)) < Z / np.sqrt(n)  # spike i vs i + 1


def test_delivery_multiplies_every_excitatory_synapse_by_its_own_factor():
    """One block with one excitatory and one inhibitory spike: the ring holds w q for the first, w for the second."""
    m = NeuroModel(n_exc=400, n_inh=100, k_exc=40, k_inh=10, j_mv=0.5, g=4.0, quantal="cleft", seed=4)
    syn = m.synapses
    ring = np.zeros_like(m.ring)
    spikes, steps = np.array([7, 450], np.int32), np.array([3, 3], np.int64)
    deliver_block(
        spikes, steps, np.array([0, 2]), np.array([2]), 2, syn.indptr, syn.split, syn.stored, syn.delivery_weights(),
        syn.row_weight, ring, m.delay_steps, None, 0, syn.target_base, m.quantal_table, m.key, m.n_exc,
    )  # fmt: skip
    expected = np.zeros(m.n_neurons, np.float64)
    exc_targets = syn.row_targets(7)
    q = sample_factors(m.quantal_table, m.key, steps[:1], spikes[:1].astype(np.int64), exc_targets.size, m.n_neurons)
    np.add.at(expected, exc_targets, np.float32(0.5) * q[0])
    np.add.at(expected, syn.row_targets(450), -2.0)
    got = ring[(3 + m.delay_steps) % ring.shape[0]]
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-7)
    assert len(np.unique(np.round(got[exc_targets], 5))) > 2  # the factors vary from synapse to synapse
    per_synapse = np.zeros_like(m.ring)  # rows without a common weight read per-synapse weights: same sums
    deliver_block(
        spikes, steps, np.array([0, 2]), np.array([2]), 2, syn.indptr, syn.split, syn.stored, syn.weights,
        np.full_like(syn.row_weight, np.nan), per_synapse, m.delay_steps, None, 0, syn.target_base,
        m.quantal_table, m.key, m.n_exc,
    )  # fmt: skip
    np.testing.assert_array_equal(per_synapse, ring)


def _spike_hash(**kw) -> str:
    t, n = NeuroModel(**kw).run().spikes()
    return hashlib.sha256(t.tobytes() + n.tobytes()).hexdigest()


def test_quantal_spikes_do_not_depend_on_threads_or_block_length():
    """Same seed: one thread, two threads, and blocks cut short by voltage sampling give the same spikes."""
    base = dict(n_exc=1600, n_inh=400, k_exc=160, k_inh=40, j_mv=0.3, eta=1.5, duration_ms=150.0, seed=8)
    on = _spike_hash(**base, quantal="cleft", threads=1)
    assert _spike_hash(**base, quantal="cleft", threads=2) == on
    assert _spike_hash(**base, quantal="cleft", threads=1, record_v=3, record_v_dt_ms=0.3) == on
    assert _spike_hash(**base, quantal="off", threads=1) != on


def test_quantal_with_plasticity_is_refused_in_one_line():
    with pytest.raises(ConfigError, match=r"^invalid quantal = 'cleft': allowed 'off' when plasticity") as err:
        NeuroModel(quantal="cleft", plasticity=True, dopamine=True)
    assert "\n" not in str(err.value)
    with pytest.raises(ConfigError, match="invalid quantal"):
        NeuroModel(quantal="mcell")


@pytest.mark.slow
def test_the_stored_histogram_is_reproduced_by_the_cleft_simulation():
    """The table in the code is what the seeded cleft simulation gives (about 4 minutes on one core)."""
    assert cleft_histogram() == CLEFT_PEAK_OPEN_HISTOGRAM


# ---------------------------------------------------------------------------------- network vs theory
#: batch of the batch-means error [ms]: the population activity decorrelates within ~30 ms (the
#: autocorrelation of 10 ms bins is below 0.1 beyond lag 2 in these networks), so batches are independent
BATCH_MS = 100.0
WARMUP_MS = 200.0
#: standard errors allowed for the network rates (two-sided p = 0.003 for a fresh seed)
Z_NET = 3.0


def _paired_rates(duration_ms: float, **params) -> dict[str, float]:
    """Rates [Hz] with quantal off and on (same seed: same network, start and external drive).

    Returns the two mean rates after the warm-up, their batch-means standard errors and the mean
    and standard error of the per-batch difference (the pairing makes the batches of the two runs
    positively correlated, so the paired error is smaller than the two combined).
    """
    batches = {}
    for mode in ("off", "cleft"):
        m = NeuroModel(**params, quantal=mode, duration_ms=WARMUP_MS + duration_ms, metrics_period_ms=100).run()
        t, _ = m.spikes()
        n_b = int(duration_ms // BATCH_MS)
        idx = ((t[t > WARMUP_MS] - WARMUP_MS) // BATCH_MS).astype(np.int64)
        batches[mode] = np.bincount(idx, minlength=n_b)[:n_b] / (m.n_neurons * BATCH_MS / 1000.0)
    off, on = batches["off"], batches["cleft"]
    d = on - off
    se = {k: float(v.std(ddof=1) / np.sqrt(v.size)) for k, v in (("off", off), ("on", on), ("diff", d))}
    return {
        "off": float(off.mean()), "on": float(on.mean()), "diff": float(d.mean()),
        "se_off": se["off"], "se_on": se["on"], "se_diff": se["diff"],
    }  # fmt: skip


def _check_against_theory(r: dict[str, float], params: dict, eps_d: float) -> tuple[float, float]:
    """Assert the rates and their difference against Brunel's self-consistent rates; return (theory off, on)."""
    keys = dict(k_exc=params["k_exc"], k_inh=params["k_inh"], j_mv=params["j_mv"])
    th_off = brunel_rate(params["eta"], params["g"], **keys)
    th_on = brunel_rate(params["eta"], params["g"], **keys, exc_q2=table_second_moment())
    assert abs(r["off"] - th_off) <= eps_d * th_off + Z_NET * r["se_off"], (r, th_off)
    assert abs(r["on"] - th_on) <= eps_d * th_on + Z_NET * r["se_on"], (r, th_on)
    tol_diff = Z_NET * r["se_diff"] + eps_d * (th_on - th_off)
    assert abs(r["diff"] - (th_on - th_off)) <= tol_diff, (r, th_on - th_off, tol_diff)
    assert r["diff"] > Z_NET * r["se_diff"]  # the quantal effect is resolved: ignoring the factors fails
    return th_off, th_on


#: fluctuation-driven network (eta < 1) with a weak inhibitory share of the variance (g^2 gamma = 3.1
#: instead of Brunel's 6.25), where the recurrent excitatory variance matters: theory 8.18 -> 9.01 Hz
FAST = dict(n_exc=2000, n_inh=1000, k_exc=200, k_inh=100, j_mv=0.3, g=2.5, eta=0.9, seed=3, threads=1)


def test_network_rate_follows_the_siegert_rate_with_the_quantal_variance():
    """3,000 neurons, 8 s each with quantal off and on (about 10 s): rates and difference vs theory.

    Tolerance. The statistical part is Z_NET batch-means standard errors (above; ~0.11 Hz per rate
    and ~0.12 Hz for the paired difference). The systematic part is the error of the diffusion
    approximation behind the Siegert rate: it treats the input as white noise, while here it is shot
    noise with jumps of J = 0.3 mV = 3 % of theta - V_r (up to 6.7 J with quantal factors) in a
    network of finite size. eps_d = 10 % of the rate is a regression bound, set after measuring
    this seed (-5.7 % without and -7.5 % with factors, +- 1.4 %; the larger jumps of the quantal
    run err more), not derived: the validation of the rates against theory is the slow test below
    (J = 0.1 mV, where the approximation's error is the 3 % test_brunel.py derives from Brunel 2000).
    That error is a relative shift common to both runs to first order, so it enters their difference only as
    eps_d (th_on - th_off) = 0.08 Hz; the difference is therefore the sharp check: theory 0.83 Hz
    against a tolerance of 3 x 0.12 + 0.08 = 0.43 Hz, and a kernel that ignored the factors
    (difference 0 +- 0.12 Hz) fails it.
    """
    r = _paired_rates(8000.0, **FAST)
    _check_against_theory(r, FAST, eps_d=0.10)


#: Brunel's efficacy J = 0.1 mV with C_E = 800, C_I = 400 (gamma = 0.5), g = 2.5, eta = 0.95:
#: theory 4.88 -> 5.29 Hz
SLOW = dict(n_exc=4000, n_inh=2000, k_exc=800, k_inh=400, j_mv=0.1, g=2.5, eta=0.95, seed=3, threads=1)


@pytest.mark.slow
def test_network_rate_follows_the_siegert_rate_with_the_quantal_variance_long():
    """6,000 neurons at J = 0.1 mV, 40 s each (about a minute on one core).

    As the fast test, with eps_d = 3 % (the agreement test_brunel.py requires at J = 0.1 mV; 8 s
    runs measured -0.1 % without and +1.5 % with factors). Paired standard error ~0.04 Hz, so the
    difference (theory 0.41 Hz) is checked to 3 x 0.04 + 0.012 = 0.13 Hz, a third of the effect.
    """
    r = _paired_rates(40_000.0, **SLOW)
    _check_against_theory(r, SLOW, eps_d=0.03)
