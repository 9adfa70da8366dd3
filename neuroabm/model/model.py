"""NeuroModel: a spiking network of LIF (or Izhikevich, ``neuron_model``) neurons on a torus, as a Mesa model.

State lives in arrays owned by the model (struct of arrays); ``Neuron`` agents are views onto them.
One ``model.step()`` advances ``STEP_MS`` = 1 ms of biology, so ``model.time`` is in ms. The
neuron dynamics are Brunel (2000) model A (docs/REFERENCES.md §1): exact integration of
``tau_m dV/dt = -V + R I(t)`` with delta-pulse synapses, threshold, reset, refractory clamp (inputs
dropped), optionally without leak (perfect integrator). Slower processes (metrics now; dopamine,
plasticity later) hang on Mesa's event list with ``schedule_recurring``, after the neuron step of
the same millisecond. The neuron model (state and block kernel) plugs in through
:mod:`neuroabm.model.neurons`; the Izhikevich (2003) kernel is :mod:`neuroabm.model.izhikevich_kernel`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, TypeVar

import mesa
import networkx as nx
import numpy as np
from mesa.experimental.continuous_space import ContinuousSpace
from mesa.time import Priority, Schedule

from neuroabm.config.groups.engine import poisson_drive
from neuroabm.config.params import STEP_MS, ConfigError, Params, validate_params
from neuroabm.model.agents import Neuron, NeuronType
from neuroabm.model.connectivity import all_to_all_sources, draw_sources
from neuroabm.model.depression import Depression
from neuroabm.model.dopamine.system import DopamineSystem
from neuroabm.model.kernel_call import KernelCall
from neuroabm.model.kernels import deliver_block, deliver_block_serial, gather_spikes
from neuroabm.model.layout import n_partitions
from neuroabm.model.neurons import neuron_model
from neuroabm.model.plasticity import PlasticitySystem
from neuroabm.model.quantal import quantal_table
from neuroabm.model.random_streams import poisson_table, uniform
from neuroabm.model.space import place_uniform, spatial_order
from neuroabm.model.store_builder import build_uniform
from neuroabm.model.subsystem import Subsystem
from neuroabm.model.synapses import Synapses
from neuroabm.model.threads import ThreadPolicy, pool_size
from neuroabm.recorders.criticality import CriticalityRecorder
from neuroabm.recorders.dopamine import DopamineRecorder
from neuroabm.recorders.graph import GraphRecorder, tracks_graph
from neuroabm.recorders.metrics import WindowRates, make_datacollector
from neuroabm.recorders.spikes import SpikeRecorder
from neuroabm.recorders.voltage import VoltageRecorder, select_neurons

S = TypeVar("S", bound=Subsystem)

#: neurons per integration chunk (fixed, so results do not depend on the thread count)
CHUNK_NEURONS = 256


def _fresh_seed() -> int:
    return int(np.random.SeedSequence().entropy % (2**63))


class NeuroModel(mesa.Model):
    """Brunel-type spiking network on a toroidal ContinuousSpace.

    Args:
        seed: random seed (None draws one; the resolved seed is in ``model.params.seed``).
        rng: accepted for Mesa compatibility when it is an integer seed.
        **params: any parameter of :class:`neuroabm.config.Params` by its flat name.

    Attributes:
        params: validated, resolved parameters.
        v: membrane potentials [mV], shape (n,).
        refr: remaining refractory steps, shape (n,).
        spike_count: spikes per neuron since the start.
        last_spike_step: integration step of the last spike (-1 if none).
        synapses: the CSR synapse store.
        recorder: the spike recorder.
        datacollector: model-level metrics every ``metrics_period_ms``.

    """

    #: not checkpointed (:mod:`neuroabm.checkpoint`): the configuration (saved as config.toml), the
    #: thread policy (results do not depend on it) and the agents (views onto the arrays)
    checkpoint_exclude = ("params", "thread_policy", "neuron_list")

    def __init__(self, seed: int | None = None, rng: Any = None, **params: Any) -> None:
        if rng is not None:
            if seed is not None or not isinstance(rng, (int, np.integer)):
                raise ConfigError(f"invalid rng = {rng!r}: allowed an integer seed (or use seed=)")
            seed = int(rng)
        p = validate_params(params, seed=seed)
        if p.seed is None:
            p = p.model_copy(update={"seed": _fresh_seed()})
        super().__init__(rng=p.seed)
        self.params: Params = p
        self._setup_time(p)
        self._setup_neurons(p)
        self._setup_synapses(p)
        self._setup_drive(p)
        #: the attached parts, in order (:mod:`neuroabm.model.subsystem`); the block loop calls the hooks
        self.subsystems: list[Subsystem] = []
        self._block_hooks: list[Callable[[np.ndarray, np.ndarray], None]] = []
        self.dopamine: DopamineSystem | None = self.attach(DopamineSystem(self)) if p.dopamine else None
        self.plasticity: PlasticitySystem | None = self.attach(PlasticitySystem(self)) if p.plasticity else None
        if self.plasticity is not None:
            self.dopamine.after_step.append(self.plasticity.after_field_step)
        self._setup_recording(p)
        self.thread_policy = ThreadPolicy(p.threads, self.n_neurons)
        self._bind_kernels(p)
        self._mesa_step = self.step  # Mesa's: time + 1 with the events due (this class's step first)
        self.step = self._step_under_thread_policy

    def _step_under_thread_policy(self) -> None:
        """One Mesa step with the thread policy's count applied to all of it (:meth:`ThreadPolicy.around`)."""
        self.thread_policy.around(self._mesa_step)

    def run_for(self, duration: float) -> None:
        """Mesa's ``run_for`` [ms] under the thread policy (the events between steps included)."""
        self.thread_policy.around(lambda: super(NeuroModel, self).run_for(duration))

    def run_until(self, end_time: float) -> None:
        """Mesa's ``run_until`` [ms] under the thread policy (the events between steps included)."""
        self.thread_policy.around(lambda: super(NeuroModel, self).run_until(end_time))

    # ----------------------------------------------------------------------------------- setup
    def _setup_time(self, p: Params) -> None:
        self.dt_ms = p.dt_ms
        self.steps_per_ms = round(STEP_MS / p.dt_ms)
        self.delay_steps = round(p.delay_ms / p.dt_ms)
        self.ref_steps = round(p.t_ref_ms / p.dt_ms)
        # spikes of a block cannot arrive within it, so a block is at most one delay long
        self.block_steps = min(self.steps_per_ms, self.delay_steps)
        self.k = 0  # integration steps done

    def _setup_neurons(self, p: Params) -> None:
        self.n_exc, self.n_inh = p.n_exc, p.n_inh
        n = self.n_neurons = p.n_exc + p.n_inh
        side = p.side_mm
        n_agents = n + (p.n_sites if p.dopamine else 0)
        self.space = ContinuousSpace([[0.0, side], [0.0, side]], torus=True, random=self.random, n_agents=n_agents)
        pos = place_uniform(self.rng, n, side)
        for lo, hi in ((0, p.n_exc), (p.n_exc, n)):  # number each population in spatial order
            pos[lo:hi] = pos[lo:hi][spatial_order(pos[lo:hi], side)]
        self.neuron_list = [
            Neuron(self, i, NeuronType.EXCITATORY if i < p.n_exc else NeuronType.INHIBITORY) for i in range(n)
        ]
        self.space.agent_positions[:n] = pos
        self.is_exc = np.arange(n) < p.n_exc
        self.neuron_model = neuron_model(p.neuron_model)  # v, refr and its own state (model/neurons.py)
        self.neuron_model.init_state(self, p)
        self.spike_count = np.zeros(n, np.int64)
        self.last_spike_step = np.full(n, -1, np.int64)
        self.isi_sum = np.zeros(n)  # [steps]
        self.isi_sq = np.zeros(n)  # [steps^2]

    def _setup_synapses(self, p: Params) -> None:
        w_of_source = np.where(self.is_exc, p.j_mv, -p.g * p.j_mv).astype(np.float32)
        threads = pool_size()
        if p.connectivity == "fixed_indegree" and p.kernel == "uniform":  # streamed: one copy of the edges
            self.synapses = build_uniform(self.rng, self.n_neurons, p.n_exc, p.k_exc, p.k_inh, w_of_source, threads)
        else:
            if p.connectivity == "all_to_all":
                sources = all_to_all_sources(self.n_neurons)
            else:
                sources = draw_sources(
                    self.rng, self.positions, p.n_exc, p.k_exc, p.k_inh, p.side_mm, p.kernel, p.sigma_mm
                )
            self.synapses = Synapses.from_sources(sources, w_of_source, n_parts=n_partitions(self.n_neurons, threads))
            del sources
        self.in_degree = self.synapses.in_degree()
        # [mV] pending recurrent input per future step; float32 halves the cache footprint of the
        # scatter (a row of 10k neurons is 40 kB) at a precision of 1e-7 relative
        self.ring = np.zeros((self.delay_steps, self.n_neurons), np.float32)
        self.depression: Depression | None = None
        if p.synapse_model == "depressing":  # one resource per presynaptic neuron: exact, see depression.py
            self.depression = Depression(self.n_neurons, p.u_depress, p.tau_rec_ms, p.dt_ms)
        # quantal variability: per-(spike, synapse) factors on excitatory rows (neuroabm/model/quantal.py)
        self.quantal_table: np.ndarray | None = quantal_table() if p.quantal == "cleft" else None

    def _setup_drive(self, p: Params) -> None:
        dt, tau = p.dt_ms, p.tau_m_ms
        self.decay = math.exp(-dt / tau) if p.leak else 1.0
        self.drift = self.noise_sd = 0.0
        lam = 0.0
        if p.drive == "white_noise":
            # exact OU step: V -> mu + (V - mu) e^(-dt/tau) + sigma sqrt((1 - e^(-2 dt/tau)) / 2) xi
            if p.leak:
                self.drift = p.mu_mv * (1.0 - self.decay)
                self.noise_sd = p.sigma_mv * math.sqrt((1.0 - self.decay**2) / 2.0)
            else:  # tau dV = mu dt + sigma sqrt(tau) dW
                self.drift = p.mu_mv * dt / tau
                self.noise_sd = p.sigma_mv * math.sqrt(dt / tau)
            self.nu_ext_hz = 0.0
        elif p.drive in ("pulse", "current"):  # current: a constant input current (neuron model's kernel)
            self.nu_ext_hz = 0.0
        else:
            self.nu_ext_hz, lam = poisson_drive(p)  # lam: external inputs per neuron per step
        self.poisson_on = lam > 0.0
        self.poisson_upper, self.poisson_guide = poisson_table(lam)
        self.key = np.uint64(self.rng.integers(0, 2**63))
        # pulse drive: pulse m = 1, 2, ... reaches neuron floor(U_m n) at t = m T (end of step m T/dt - 1),
        # U_m draw m of its own counter-based stream (only drawn with this drive: others stay bit-identical)
        self.pulse_steps = round(p.pulse_period_ms / dt) if p.drive == "pulse" and p.pulse_mv > 0 else 0
        self.pulse_key = np.uint64(self.rng.integers(0, 2**63)) if self.pulse_steps else np.uint64(0)
        self.n_pulses = 0  # pulses delivered so far
        # Perfect integrators without drift, noise, Poisson input, dopamine or refractoriness change only
        # when input arrives: a block with no input in the ring, after a block without spikes, is skipped
        # (exactly: nothing in it could change). Spikes are rare in pulse-driven networks (Levina 2007).
        self.quiet_skip = (
            not p.leak and self.drift == 0.0 and self.noise_sd == 0.0 and lam == 0.0 and not p.dopamine
        ) and self.ref_steps == 0
        self._busy_until = 0  # last step that may hold ring input or start with a neuron at threshold

    def _setup_recording(self, p: Params) -> None:
        n = self.n_neurons
        n_chunks = max(1, math.ceil(n / CHUNK_NEURONS))
        self.chunk_lo = np.linspace(0, n, n_chunks + 1).round().astype(np.int64)
        self.spikes_per_block = math.ceil(self.block_steps / (self.ref_steps + 1))
        self._spk_neuron = np.empty(n * self.spikes_per_block, np.int32)
        self._spk_step = np.empty(n * self.spikes_per_block, np.int64)
        self._spk_scale = np.empty(n * self.spikes_per_block) if self.depression is not None else None
        self._chunk_n = np.zeros(n_chunks, np.int64)
        self.recorder = SpikeRecorder(p.dt_ms)
        self.voltage_recorder: VoltageRecorder | None = None
        v_ids = select_neurons(p.record_v, n)
        if v_ids.size:  # samples at t = 0, record_v_dt_ms, ...; blocks end on sample steps (see step)
            every = round(p.record_v_dt_ms / p.dt_ms)
            capacity = round(p.duration_ms / p.dt_ms) // every + 1
            self.voltage_recorder = self.attach(VoltageRecorder(v_ids, every, p.dt_ms, capacity))
            self.voltage_recorder.sample(self.k, self.v)
        if self.dopamine is not None:
            self.dopamine.attach(self.recorder)
        self.spike_totals = np.zeros(2, np.int64)  # [excitatory, inhibitory]
        self.window_rates = WindowRates()
        self.datacollector = make_datacollector(dopamine=p.dopamine)
        self.da_recorder = self.attach(DopamineRecorder(self)) if p.dopamine else None
        tracked = tracks_graph(p.plasticity, self.synapses.n_synapses)
        self.graph_recorder = self.attach(GraphRecorder(self)) if tracked else None
        critical = p.criticality_period_ms > 0
        self.criticality_recorder = self.attach(CriticalityRecorder(self)) if critical else None
        period = float(p.metrics_period_ms)
        self.schedule_recurring(self._collect_metrics, Schedule(interval=period, start=period), Priority.LOW)

    def attach(self, subsystem: S) -> S:
        """Plug ``subsystem`` in (:mod:`neuroabm.model.subsystem`): its block hook, outputs and summary.

        Returns it, so ``self.part = self.attach(Part(self))`` reads as one line.
        """
        self.subsystems.append(subsystem)
        if type(subsystem).has_block_hook():
            self._block_hooks.append(subsystem.on_block)
        return subsystem

    def subsystem(self, name: str) -> Subsystem | None:
        """The attached subsystem called ``name`` (None if there is none)."""
        return next((s for s in self.subsystems if s.name == name), None)

    # ------------------------------------------------------------------------------- dynamics
    def step(self) -> None:
        """Advance the network by one model step (1 ms of biology)."""
        policy = self.thread_policy
        policy.begin()
        done = 0
        while done < self.steps_per_ms:
            n_steps = min(self.block_steps, self.steps_per_ms - done)
            vrec = self.voltage_recorder
            if vrec is not None:  # shorter blocks are exact: spikes still land in later steps
                n_steps = min(n_steps, vrec.steps_to_next(self.k))
            self._advance_block(n_steps)
            if vrec is not None and vrec.due(self.k):
                vrec.sample(self.k, self.v)
            done += n_steps
        policy.end()
        if self.time >= self.params.duration_ms:
            self.running = False
            if self.time % self.params.metrics_period_ms:  # else the scheduled collection follows
                self._collect_metrics()

    def _advance_block(self, n_steps: int) -> None:
        if self.pulse_steps:
            self._inject_pulses(n_steps)
        if self.quiet_skip and self.k > self._busy_until:
            self.k += n_steps
            return
        serial = self.thread_policy.serial
        self._integrate(serial, self.k, n_steps)
        rec = self.recorder
        rec.ensure_room(self._spk_neuron.shape[0])
        start = rec.pos
        rec.pos = gather_spikes(
            self._spk_neuron, self._spk_step, self.chunk_lo, self._chunk_n, self.spikes_per_block,
            rec.step, rec.neuron, start,
        )  # fmt: skip
        n_new = rec.pos - start
        if n_new:
            for hook in self._block_hooks:  # e.g. contingent rewards, then STDP (which delivers its rows)
                hook(rec.step[start : rec.pos], rec.neuron[start : rec.pos])
            self._busy_until = max(self._busy_until, self.k + n_steps - 1 + self.delay_steps)
            n_e = int(np.count_nonzero(rec.neuron[start : rec.pos] < self.n_exc))
            self.spike_totals[0] += n_e
            self.spike_totals[1] += n_new - n_e
            syn = self.synapses
            if self.depression is not None:  # efficacy of each spike, then its depression
                self.depression.apply(
                    self._spk_neuron, self._spk_step, self.chunk_lo, self._chunk_n, self.spikes_per_block,
                    self._spk_scale,
                )  # fmt: skip
            self._deliver(
                serial, syn.indptr, syn.split, syn.stored, syn.delivery_weights(), syn.row_weight, syn.target_base
            )  # names bound in _bind_kernels
        self.k += n_steps

    def _inject_pulses(self, n_steps: int) -> None:
        """Add the drive pulses falling in steps ``k .. k + n_steps - 1`` to the ring (applied in their step)."""
        n_slots = self.ring.shape[0]
        while (self.n_pulses + 1) * self.pulse_steps - 1 < self.k + n_steps:
            self.n_pulses += 1
            target = int(uniform(self.pulse_key, np.uint64(self.n_pulses)) * self.n_neurons)
            self.ring[(self.n_pulses * self.pulse_steps - 1) % n_slots, target] += self.params.pulse_mv
            self._busy_until = max(self._busy_until, self.n_pulses * self.pulse_steps - 1)

    def _collect_metrics(self) -> None:
        self.window_rates.update(self)
        self.datacollector.collect(self)

    def _bind_kernels(self, p: Params) -> None:
        """The neuron and delivery kernels with their arguments bound by name (:mod:`~neuroabm.model.kernel_call`).

        Bound here: what stays the same object for the model's life (state arrays, updated in
        place) or the same value. Given per block: the step range and the synapse store's arrays
        (structural plasticity may replace them).
        """
        self._integrate = self.neuron_model.bind(self, p)
        self._deliver = KernelCall(
            deliver_block, deliver_block_serial,
            spk_neuron=self._spk_neuron, spk_step=self._spk_step, chunk_lo=self.chunk_lo, chunk_n=self._chunk_n,
            cap=self.spikes_per_block, ring=self.ring, delay_steps=self.delay_steps, spk_scale=self._spk_scale,
            first_src=self.n_exc if self.plasticity is not None else 0,  # the plastic rows: delivered by on_block
            q_table=self.quantal_table, q_key=self.key, q_sources=self.n_exc,
        ).positional("indptr", "split", "targets", "weights", "row_weight", "target_base")  # fmt: skip

    # ---------------------------------------------------------------------------------- access
    @property
    def positions(self) -> np.ndarray:
        """Neuron positions [mm], shape (n, 2): a view of the ContinuousSpace's array."""
        return self.space.agent_positions[: self.n_neurons]

    @property
    def neurons(self) -> mesa.agent.AgentSet:
        """All neurons as a Mesa AgentSet."""
        return self.agents_by_type[Neuron]

    @property
    def da_local(self) -> np.ndarray:
        """Dopamine concentration at every neuron [uM] (zeros without dopamine)."""
        return self.dopamine.da_local if self.dopamine is not None else np.zeros(self.n_neurons)

    @property
    def sites(self) -> mesa.agent.AgentSet:
        """All release sites as a Mesa AgentSet (empty without dopamine)."""
        from neuroabm.model.dopamine.sites import ReleaseSite

        return self.agents_by_type.get(ReleaseSite, mesa.agent.AgentSet([], random=self.random))

    def synapse_weights(self) -> np.ndarray:
        """Weight of every synapse slot [mV], store order, up to date (a copy with plasticity on)."""
        if self.plasticity is not None:
            return self.plasticity.current_weights()
        return self.synapses.weights

    def to_networkx(self) -> nx.DiGraph:
        """The synaptic graph now, as a ``networkx.DiGraph`` (see :mod:`neuroabm.exports.graph`)."""
        from neuroabm.exports.graph import graph_tables, to_networkx

        return to_networkx(*graph_tables(self))

    def neuron(self, index: int) -> Neuron:
        """The agent viewing neuron ``index``."""
        return self.neuron_list[index]

    def voltages(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Recorded membrane potentials ``(t_ms, neuron_ids, V)``: (n_t,), (n_rec,), (n_t, n_rec) [ms, -, mV].

        Sampled every ``record_v_dt_ms`` from t = 0 (the state after that many ms); empty without ``record_v``.
        """
        if self.voltage_recorder is None:
            return np.empty(0), np.empty(0, np.int64), np.empty((0, 0), np.float32)
        return self.voltage_recorder.voltages()

    def spikes(self) -> tuple[np.ndarray, np.ndarray]:
        """Recorded spikes ``(t_ms, neuron)``, sorted by time."""
        return self.recorder.spikes()

    def rates_hz(self) -> np.ndarray:
        """Mean firing rate of every neuron since the start [Hz]."""
        return self.spike_count / (self.time / 1000.0) if self.time > 0 else np.zeros(self.n_neurons)

    def isi_cv(self, min_isis: int = 2) -> np.ndarray:
        """Coefficient of variation of the inter-spike intervals of every neuron (NaN if too few)."""
        m = np.maximum(self.spike_count - 1, 0).astype(float)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = self.isi_sum / m
            var = self.isi_sq / m - mean**2
            cv = np.sqrt(np.maximum(var, 0.0)) / mean
        cv[m < min_isis] = np.nan
        return cv

    def run(self, progress: bool = False) -> NeuroModel:
        """Step until ``duration_ms`` is reached, optionally with a progress bar. Returns self."""
        from neuroabm.runner import progress_loop

        progress_loop(self, enabled=progress)
        return self
