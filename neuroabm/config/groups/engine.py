"""Parameter groups of the engine: network, neuron, synapse, drive and run."""

from __future__ import annotations

import math
import warnings
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import Field

from neuroabm.config.groups.base import STEP_MS, Fail, ParamGroup, _p, is_multiple

if TYPE_CHECKING:
    from neuroabm.config.params import Params


class NetworkParams(ParamGroup):
    """[network] Neurons, torus and connectivity."""

    n_exc: int = _p(800, "network", "number of excitatory neurons", ge=1, le=10_000_000)
    n_inh: int = _p(200, "network", "number of inhibitory neurons", ge=0, le=10_000_000)
    k_exc: int = _p(80, "network", "excitatory inputs per neuron (fixed in-degree C_E)", ge=0, le=100_000)
    k_inh: int = _p(20, "network", "inhibitory inputs per neuron (fixed in-degree C_I)", ge=0, le=100_000)
    side_mm: float = _p(1.0, "network", "side of the square torus [mm]", ge=0.001, le=1000.0)
    kernel: Literal["uniform", "gaussian"] = _p(
        "uniform", "network", "how sources are drawn: uniformly, or with a periodic Gaussian distance kernel"
    )
    sigma_mm: float = _p(0.1, "network", "width of the Gaussian connection kernel [mm]", ge=1e-4, le=1000.0)
    connectivity: Literal["fixed_indegree", "all_to_all"] = _p(
        "fixed_indegree",
        "network",
        "k_exc + k_inh sources per neuron, or every neuron to every other (no self-connections; ignores k_*)",
    )

    @classmethod
    def check(cls, p: Params, fail: Fail) -> None:
        """Sizes the connectivity can draw."""
        if p.connectivity == "all_to_all" and p.n_exc + p.n_inh > 20_000:
            fail(
                "connectivity", p.connectivity, "'fixed_indegree' above 20,000 neurons (all-to-all stores n^2 synapses)"
            )
        if p.connectivity == "fixed_indegree" and p.k_exc > max(p.n_exc - 1, 0):
            fail("k_exc", p.k_exc, f"<= n_exc - 1 = {p.n_exc - 1} (no self-connections)")
        if p.connectivity == "fixed_indegree" and p.k_inh > max(p.n_inh - 1, 0) and p.k_inh > 0:
            fail("k_inh", p.k_inh, f"<= n_inh - 1 = {max(p.n_inh - 1, 0)} (no self-connections)")
        if p.kernel == "gaussian" and not math.isfinite(p.sigma_mm):
            fail("sigma_mm", p.sigma_mm, "a finite number")


class NeuronParams(ParamGroup):
    """[neuron] The neuron model and its constants."""

    tau_m_ms: float = _p(20.0, "neuron", "membrane time constant [ms]", gt=0.0, le=10_000.0)
    v_th_mv: float = _p(20.0, "neuron", "firing threshold theta [mV] (rest is 0 mV)", ge=-1000.0, le=1000.0)
    v_reset_mv: float = _p(10.0, "neuron", "reset potential V_r [mV]", ge=-1000.0, le=1000.0)
    t_ref_ms: float = _p(2.0, "neuron", "absolute refractory period [ms]", ge=0.0, le=1000.0)
    leak: bool = _p(True, "neuron", "leaky integrate-and-fire; false = perfect integrator")
    reset: Literal["set", "subtract"] = _p(
        "set", "neuron", "after a spike V = v_reset_mv, or V -= v_th_mv - v_reset_mv (keeps the overshoot; Levina 2007)"
    )
    v_init: Literal["uniform", "reset", "rest"] = _p(
        "uniform", "neuron", "initial V: uniform in [v_reset_mv, v_th_mv), all at v_reset_mv, or all at 0 mV"
    )
    neuron_model: Literal["lif", "izhikevich"] = _p(
        "lif",
        "neuron",
        "membrane model: leaky integrate-and-fire (Brunel 2000), or Izhikevich (2003) with the izh_* parameters "
        "(v in mV, 30 mV peak, starts at v = c, u = b c; docs/ARCHITECTURE.md)",
    )
    izh_substep_ms: float = _p(
        0.025,
        "neuron",
        "Izhikevich: longest integration sub-step [ms]; each dt_ms step is cut into the fewest equal sub-steps "
        "no longer (any length is stable; spike-time error ~ sub-step^2, docs/ARCHITECTURE.md)",
        gt=0.0,
        le=1000.0,
    )
    izh_a_exc: float = _p(
        0.02, "neuron", "Izhikevich a of excitatory neurons [1/ms] (regular spiking)", gt=0.0, le=10.0
    )
    izh_b_exc: float = _p(0.2, "neuron", "Izhikevich b of excitatory neurons [1]", ge=-10.0, le=10.0)
    izh_c_exc: float = _p(-65.0, "neuron", "Izhikevich reset c of excitatory neurons [mV]", ge=-200.0, lt=30.0)
    izh_d_exc: float = _p(8.0, "neuron", "Izhikevich jump d of u of excitatory neurons [mV]", ge=-1000.0, le=1000.0)
    izh_a_inh: float = _p(0.1, "neuron", "Izhikevich a of inhibitory neurons [1/ms] (fast spiking)", gt=0.0, le=10.0)
    izh_b_inh: float = _p(0.2, "neuron", "Izhikevich b of inhibitory neurons [1]", ge=-10.0, le=10.0)
    izh_c_inh: float = _p(-65.0, "neuron", "Izhikevich reset c of inhibitory neurons [mV]", ge=-200.0, lt=30.0)
    izh_d_inh: float = _p(2.0, "neuron", "Izhikevich jump d of u of inhibitory neurons [mV]", ge=-1000.0, le=1000.0)

    @classmethod
    def check(cls, p: Params, fail: Fail) -> None:
        """Threshold above reset, the refractory period on the step grid, and what each neuron model allows."""
        if p.v_reset_mv >= p.v_th_mv:
            fail("v_reset_mv", p.v_reset_mv, f"< v_th_mv = {p.v_th_mv:g} mV")
        if not is_multiple(p.t_ref_ms, p.dt_ms):
            fail("t_ref_ms", p.t_ref_ms, f"a whole multiple of dt_ms = {p.dt_ms:g} ms (including 0)")
        if p.neuron_model != "izhikevich":
            return
        if not p.leak:
            fail("leak", p.leak, "true with neuron_model = 'izhikevich' (its quadratic has no perfect-integrator form)")
        if p.reset == "subtract":
            fail("reset", p.reset, "'set' with neuron_model = 'izhikevich' (v <- c, u <- u + d)")
        if p.t_ref_ms != 0:
            fail("t_ref_ms", p.t_ref_ms, "0 with neuron_model = 'izhikevich' (its reset replaces a refractory clamp)")
        if p.v_init == "uniform":
            fail(
                "v_init", p.v_init, "'reset' or 'rest' with neuron_model = 'izhikevich' (both start at v = c, u = b c)"
            )


class SynapseParams(ParamGroup):
    """[synapse] Synaptic weights, delay and synapse model."""

    j_mv: float = _p(0.1, "synapse", "excitatory PSP amplitude J [mV] (delta synapses)", ge=0.0, le=100.0)
    g: float = _p(5.0, "synapse", "relative inhibitory strength: inhibitory PSP = -g J", ge=0.0, le=100.0)
    delay_ms: float = _p(1.5, "synapse", "synaptic delay D [ms], a multiple of dt_ms", gt=0.0, le=1000.0)
    synapse_model: Literal["static", "depressing"] = _p(
        "static", "synapse", "static weights, or depressing: PSP = weight x resource of the presynaptic neuron"
    )
    u_depress: float = _p(0.2, "synapse", "fraction of the resource used by a spike (Levina's u)", gt=0.0, le=1.0)
    tau_rec_ms: float = _p(
        30_000.0, "synapse", "recovery time constant of the resource [ms] (Levina's tau_J = 10 tau N)", gt=0.0, le=1e9
    )
    quantal: Literal["off", "cleft"] = _p(
        "off",
        "synapse",
        "random factor q (mean 1) on every recurrent excitatory PSP: off, or per spike and synapse from the "
        "cleft's peak open-receptor counts (E[q^2] = 1.79; docs/cleft.md)",
    )

    @classmethod
    def check(cls, p: Params, fail: Fail) -> None:
        """The delay on the step grid; STDP delivers static, deterministic excitatory rows itself."""
        if not is_multiple(p.delay_ms, p.dt_ms):
            fail("delay_ms", p.delay_ms, f"a whole multiple of dt_ms = {p.dt_ms:g} ms")
        if p.quantal != "off" and p.plasticity:
            fail("quantal", p.quantal, "'off' when plasticity = true (the STDP kernel delivers the excitatory rows)")
        if p.synapse_model == "depressing" and p.plasticity:
            fail("synapse_model", p.synapse_model, "'static' when plasticity = true (STDP acts on static weights)")


class DriveParams(ParamGroup):
    """[drive] External input."""

    drive: Literal["poisson", "white_noise", "pulse", "current"] = _p(
        "poisson",
        "drive",
        "external drive: k_exc Poisson inputs of size J at eta*nu_thr, white noise, pulses to one random neuron, "
        "or a constant current i_ext_mv_per_ms (izhikevich only)",
    )
    eta: float = _p(2.0, "drive", "Poisson drive rate relative to threshold rate, nu_ext / nu_thr", ge=0.0, le=100.0)
    mu_mv: float = _p(15.0, "drive", "white-noise mean input mu [mV]", ge=-1000.0, le=1000.0)
    sigma_mv: float = _p(5.0, "drive", "white-noise amplitude sigma [mV]", ge=0.0, le=1000.0)
    pulse_mv: float = _p(
        0.025, "drive", "pulse drive: input to the chosen neuron [mV] (Levina's I_ext)", ge=0.0, le=1000.0
    )
    pulse_period_ms: float = _p(
        10.0,
        "drive",
        "pulse drive: one pulse every this many ms [ms], a multiple of dt_ms (Levina's tau)",
        gt=0.0,
        le=1e9,
    )
    i_ext_mv_per_ms: float = _p(
        10.0,
        "drive",
        "current drive: constant input current I of every neuron [mV/ms] (Izhikevich's I)",
        ge=-1e4,
        le=1e4,
    )

    @classmethod
    def check(cls, p: Params, fail: Fail) -> None:
        """Pulses on the step grid; a Poisson drive needs inputs to scale by; the drives each neuron model takes."""
        if p.drive == "current" and p.neuron_model != "izhikevich":
            fail("drive", p.drive, "'current' only with neuron_model = 'izhikevich' (LIF: white_noise, sigma_mv = 0)")
        if p.drive == "white_noise" and p.neuron_model == "izhikevich":
            fail("drive", p.drive, "'poisson', 'pulse' or 'current' with neuron_model = 'izhikevich'")
        if p.drive == "pulse" and not is_multiple(p.pulse_period_ms, p.dt_ms):
            fail("pulse_period_ms", p.pulse_period_ms, f"a whole multiple of dt_ms = {p.dt_ms:g} ms")
        if p.drive == "poisson" and p.eta > 0 and (p.k_exc == 0 or p.j_mv == 0):
            fail("eta", p.eta, "0 when k_exc or j_mv is 0 (the Poisson drive has k_exc inputs of size j_mv)")
        inputs = poisson_drive(p)[1] if p.drive == "poisson" else 0.0
        if inputs > MAX_INPUTS_PER_STEP:
            allowed = (
                f"a rate that keeps the Poisson drive <= {MAX_INPUTS_PER_STEP:.0e} inputs per neuron and step "
                f"(here {inputs:.3g} = eta v_th_mv dt_ms / (j_mv tau_m_ms), with j_mv = {p.j_mv:g}); "
                "lower eta or raise j_mv"
            )
            fail("eta", p.eta, allowed)


#: most external Poisson inputs per neuron and step (the drive's sampling table grows with it;
#: 10^6 per 0.1 ms step is 10^10 Hz per neuron, far beyond any network)
MAX_INPUTS_PER_STEP = 1e6


def poisson_drive(p: Params) -> tuple[float, float]:
    """The Poisson drive of Brunel (2000): ``(nu_ext_hz, inputs per neuron and step)``.

    Each neuron has ``k_exc`` inputs of size ``j_mv`` at ``eta`` times the threshold rate
    ``nu_thr = v_th / (j_mv k_exc tau_m)``; ``(0, 0)`` without inputs.

    >>> from types import SimpleNamespace as P
    >>> poisson_drive(P(v_th_mv=20.0, j_mv=0.1, k_exc=1000, tau_m_ms=20.0, eta=2.0, dt_ms=0.1))
    (20.0, 2.0)
    """
    nu_thr_per_ms = p.v_th_mv / (p.j_mv * p.k_exc * p.tau_m_ms) if p.k_exc and p.j_mv else 0.0
    return p.eta * nu_thr_per_ms * 1000.0, p.k_exc * p.eta * nu_thr_per_ms * p.dt_ms


class RunParams(ParamGroup):
    """[run] Time step, duration, seed, recording and threads."""

    dt_ms: float = _p(0.1, "run", "integration time step [ms]; must divide the 1 ms model step", gt=0.0, le=1.0)
    duration_ms: float = _p(1000.0, "run", "biological time to simulate [ms], whole ms", gt=0.0, le=1e9)
    seed: int | None = _p(None, "run", "random seed; none draws one and records it", ge=0, le=2**63 - 1)
    metrics_period_ms: int = _p(
        10, "run", "interval of model-level metrics (population rate, mean V) [ms]", ge=1, le=10**9
    )
    checkpoint_period_ms: int = _p(
        60_000, "run", "biological time between checkpoints of 'neuroabm run' [ms]; 0 = only on SIGINT/SIGTERM "
        "(resume with 'neuroabm run --resume OUT'; docs/checkpoints.md)", ge=0, le=10**9,
    )  # fmt: skip
    threads: Annotated[int, Field(ge=1, le=1024)] | Literal["auto"] = Field(
        "auto",
        description="threads of the kernels: auto measures while running and keeps the faster of 1 and all "
        "(see neuroabm/model/threads.py); results do not depend on it",
        json_schema_extra={"section": "run", "allowed": "'auto' or an integer 1 .. 1024"},
    )
    record_v: int | list[int] = Field(
        0,
        description="membrane potentials to record: a number of evenly spaced neurons (0 = none) or a list of indices",
        json_schema_extra={"section": "run", "allowed": "a count 0 .. n_exc + n_inh or a list of neuron indices"},
    )
    record_v_dt_ms: float = _p(
        1.0, "run", "sampling interval of record_v [ms], a whole multiple of dt_ms", gt=0.0, le=1e9
    )

    @classmethod
    def check(cls, p: Params, fail: Fail) -> None:
        """The step grid, the recorded neurons, and a step short against the membrane time constant."""
        if not is_multiple(STEP_MS, p.dt_ms):
            fail("dt_ms", p.dt_ms, f"a divisor of the {STEP_MS:g} ms model step (e.g. 0.1, 0.05, 0.25, 0.5, 1)")
        if not is_multiple(p.duration_ms, STEP_MS):
            fail("duration_ms", p.duration_ms, f"a whole number of {STEP_MS:g} ms model steps")
        n = p.n_exc + p.n_inh
        if not is_multiple(p.record_v_dt_ms, p.dt_ms):
            fail("record_v_dt_ms", p.record_v_dt_ms, f"a whole multiple of dt_ms = {p.dt_ms:g} ms")
        if isinstance(p.record_v, int) and not 0 <= p.record_v <= n:
            fail("record_v", p.record_v, f"a count in 0 .. n_exc + n_inh = {n} or a list of neuron indices")
        if isinstance(p.record_v, list) and (
            len(set(p.record_v)) != len(p.record_v) or not all(0 <= i < n for i in p.record_v)
        ):
            fail("record_v", p.record_v, f"distinct neuron indices in 0 .. {n - 1}")
        if p.dt_ms >= p.tau_m_ms:
            fail("dt_ms", p.dt_ms, f"< tau_m_ms = {p.tau_m_ms:g} ms (a step longer than the membrane time constant)")
        if p.dt_ms > p.tau_m_ms / 10:
            warnings.warn(
                f"dt_ms = {p.dt_ms:g} ms is more than tau_m_ms / 10 = {p.tau_m_ms / 10:g} ms: spike times and "
                "rates are coarse; a smaller dt_ms is advised",
                RuntimeWarning,
                stacklevel=4,
            )
