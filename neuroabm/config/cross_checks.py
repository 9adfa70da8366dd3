"""Relations between parameters that single-field ranges cannot express (called by ``validate_params``)."""

from __future__ import annotations

import math
import warnings
from typing import Any

from neuroabm.config.params import CRITICALITY_MR_LAGS, CRITICALITY_MR_TRIALS, STEP_MS, ConfigError, Params


def _is_multiple(x: float, unit: float) -> bool:
    q = x / unit
    return abs(q - round(q)) < 1e-9 * max(1.0, abs(q))


def cross_checks(p: Params) -> None:
    """Relations between parameters that single-field ranges cannot express."""

    def fail(key: str, value: Any, allowed: str) -> None:
        raise ConfigError(f"invalid {key} = {value!r}: allowed {allowed}")

    if not _is_multiple(STEP_MS, p.dt_ms):
        fail("dt_ms", p.dt_ms, f"a divisor of the {STEP_MS:g} ms model step (e.g. 0.1, 0.05, 0.25, 0.5, 1)")
    if not _is_multiple(p.delay_ms, p.dt_ms):
        fail("delay_ms", p.delay_ms, f"a whole multiple of dt_ms = {p.dt_ms:g} ms")
    if not _is_multiple(p.t_ref_ms, p.dt_ms):
        fail("t_ref_ms", p.t_ref_ms, f"a whole multiple of dt_ms = {p.dt_ms:g} ms (including 0)")
    if not _is_multiple(p.duration_ms, STEP_MS):
        fail("duration_ms", p.duration_ms, f"a whole number of {STEP_MS:g} ms model steps")
    if p.v_reset_mv >= p.v_th_mv:
        fail("v_reset_mv", p.v_reset_mv, f"< v_th_mv = {p.v_th_mv:g} mV")
    if p.connectivity == "all_to_all" and p.n_exc + p.n_inh > 20_000:
        fail("connectivity", p.connectivity, "'fixed_indegree' above 20,000 neurons (all-to-all stores n^2 synapses)")
    if p.connectivity == "fixed_indegree" and p.k_exc > max(p.n_exc - 1, 0):
        fail("k_exc", p.k_exc, f"<= n_exc - 1 = {p.n_exc - 1} (no self-connections)")
    if p.connectivity == "fixed_indegree" and p.k_inh > max(p.n_inh - 1, 0) and p.k_inh > 0:
        fail("k_inh", p.k_inh, f"<= n_inh - 1 = {max(p.n_inh - 1, 0)} (no self-connections)")
    if p.drive == "pulse" and not _is_multiple(p.pulse_period_ms, p.dt_ms):
        fail("pulse_period_ms", p.pulse_period_ms, f"a whole multiple of dt_ms = {p.dt_ms:g} ms")
    if p.quantal != "off" and p.plasticity:
        fail("quantal", p.quantal, "'off' when plasticity = true (the STDP kernel delivers the excitatory rows)")
    if p.synapse_model == "depressing" and p.plasticity:
        fail("synapse_model", p.synapse_model, "'static' when plasticity = true (STDP acts on static weights)")
    if p.drive == "poisson" and p.eta > 0 and (p.k_exc == 0 or p.j_mv == 0):
        fail("eta", p.eta, "0 when k_exc or j_mv is 0 (the Poisson drive has k_exc inputs of size j_mv)")
    if p.kernel == "gaussian" and not math.isfinite(p.sigma_mm):
        fail("sigma_mm", p.sigma_mm, "a finite number")
    n = p.n_exc + p.n_inh
    if p.reward_pair and (len(p.reward_pair) != 2 or not all(0 <= i < n for i in p.reward_pair)):
        fail("reward_pair", p.reward_pair, f"[] or two neuron indices in 0 .. {n - 1}")
    if len(p.reward_pair) == 2 and p.reward_pair[0] == p.reward_pair[1]:
        fail("reward_pair", p.reward_pair, "two different neurons [A, B]")
    if p.reward_delay_max_ms < p.reward_delay_min_ms:
        fail("reward_delay_max_ms", p.reward_delay_max_ms, f">= reward_delay_min_ms = {p.reward_delay_min_ms:g}")
    if any(t < 0 for t in p.reward_times_ms):
        fail("reward_times_ms", p.reward_times_ms, "times >= 0 ms")
    if not _is_multiple(p.record_v_dt_ms, p.dt_ms):
        fail("record_v_dt_ms", p.record_v_dt_ms, f"a whole multiple of dt_ms = {p.dt_ms:g} ms")
    if isinstance(p.record_v, int) and not 0 <= p.record_v <= n:
        fail("record_v", p.record_v, f"a count in 0 .. n_exc + n_inh = {n} or a list of neuron indices")
    if isinstance(p.record_v, list) and (
        len(set(p.record_v)) != len(p.record_v) or not all(0 <= i < n for i in p.record_v)
    ):
        fail("record_v", p.record_v, f"distinct neuron indices in 0 .. {n - 1}")
    if p.field_record_ms % p.field_dt_ms:
        fail("field_record_ms", p.field_record_ms, f"a multiple of field_dt_ms = {p.field_dt_ms}")
    if not _is_multiple(p.criticality_bin_ms, p.dt_ms):
        fail("criticality_bin_ms", p.criticality_bin_ms, f"0 or a whole multiple of dt_ms = {p.dt_ms:g} ms")
    if not _is_multiple(p.criticality_mr_bin_ms, p.dt_ms):
        fail("criticality_mr_bin_ms", p.criticality_mr_bin_ms, f"a whole multiple of dt_ms = {p.dt_ms:g} ms")
    if p.criticality_neurons > n:
        fail("criticality_neurons", p.criticality_neurons, f"0 (all) .. n_exc + n_inh = {n}")
    mr_window = 2 * CRITICALITY_MR_LAGS * CRITICALITY_MR_TRIALS * p.criticality_mr_bin_ms
    if 0 < p.criticality_period_ms <= mr_window:
        fail(
            "criticality_period_ms",
            p.criticality_period_ms,
            f"0 (off) or > {mr_window:g} ms ({CRITICALITY_MR_TRIALS} pieces of > 2 x {CRITICALITY_MR_LAGS} "
            "lags of criticality_mr_bin_ms for the multistep regression)",
        )
    if p.plasticity and not p.dopamine:
        fail("plasticity", p.plasticity, "false unless dopamine = true (weights follow the local dopamine)")
    if p.structural and not p.plasticity:
        fail("structural", p.structural, "false unless plasticity = true (pruning reads the plastic weights)")
    if p.plasticity and p.j_mv > p.w_max_mv:
        fail("w_max_mv", p.w_max_mv, f">= j_mv = {p.j_mv:g} (the initial excitatory weight)")
    if p.scaling_tau_ms > 0 and not p.plasticity:
        fail("scaling_tau_ms", p.scaling_tau_ms, "0 unless plasticity = true (scaling acts on the plastic weights)")
    if p.dopamine and p.site_layout == "lattice" and math.isqrt(p.n_sites) ** 2 != p.n_sites:
        fail("n_sites", p.n_sites, "a perfect square (4, 9, 16, 25, ...) with site_layout = 'lattice'")
    _neuron_model_checks(p, fail)
    _numerics_checks(p, fail)


def _neuron_model_checks(p: Params, fail: Any) -> None:
    """Settings that only one neuron model gives a meaning to."""
    if p.neuron_model != "izhikevich":
        if p.drive == "current":
            fail("drive", p.drive, "'current' only with neuron_model = 'izhikevich' (LIF: white_noise, sigma_mv = 0)")
        return
    if not p.leak:
        fail("leak", p.leak, "true with neuron_model = 'izhikevich' (its quadratic has no perfect-integrator form)")
    if p.reset == "subtract":
        fail("reset", p.reset, "'set' with neuron_model = 'izhikevich' (v <- c, u <- u + d)")
    if p.t_ref_ms != 0:
        fail("t_ref_ms", p.t_ref_ms, "0 with neuron_model = 'izhikevich' (its reset replaces a refractory clamp)")
    if p.v_init == "uniform":
        fail("v_init", p.v_init, "'reset' or 'rest' with neuron_model = 'izhikevich' (both start at v = c, u = b c)")
    if p.drive == "white_noise":
        fail("drive", p.drive, "'poisson', 'pulse' or 'current' with neuron_model = 'izhikevich'")


def _numerics_checks(p: Params, fail: Any) -> None:
    """Values each in range whose combination would make the numerics meaningless."""
    if p.dt_ms >= p.tau_m_ms:
        fail("dt_ms", p.dt_ms, f"< tau_m_ms = {p.tau_m_ms:g} ms (a step longer than the membrane time constant)")
    if p.dt_ms > p.tau_m_ms / 10:
        warnings.warn(
            f"dt_ms = {p.dt_ms:g} ms is more than tau_m_ms / 10 = {p.tau_m_ms / 10:g} ms: spike times and "
            "rates are coarse; a smaller dt_ms is advised",
            RuntimeWarning,
            stacklevel=4,
        )
    if 0 < p.reward_period_ms < STEP_MS:
        fail("reward_period_ms", p.reward_period_ms, f"0 (off) or >= {STEP_MS:g} ms (one model step)")
    if p.structural and p.w_prune_mv >= p.w_max_mv:
        fail("w_prune_mv", p.w_prune_mv, f"< w_max_mv = {p.w_max_mv:g} mV (else every synapse is pruned)")
