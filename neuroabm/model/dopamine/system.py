"""The dopamine system of a model: release sites, the diffusing field, rewards and the coupling.

Once per ``field_dt_ms`` (a Mesa recurring event, right after the neuron step of that millisecond):

1. the spikes recorded since the last field step are counted into the sites' catchments (read
   from the spike recorder's buffer; if it is flushed in between, the pending spikes are counted
   just before), then every site updates its catchment-rate estimate and sets its release rate
   (:meth:`ReleaseSite.step`, run for all sites at once by its vectorized twin unless a site has
   behaviour of its own: ``per_agent``);
2. each site deposits ``release * field_dt_ms`` into the field at its position (area weights);
   with ``dopamine_mixing = "global"`` the same total is spread uniformly over the torus instead
   (a control without space: the same dopamine, everywhere alike); with ``site_shuffle`` each site
   releases at another site's position (a seeded cyclic shift of a random order, so never at its
   own), while it still reads its own catchment (a control with the same field geometry but a
   non-local loop);
3. the field advances by ``field_dt_ms`` with the exact linear operator;
4. every neuron reads its local concentration by bilinear interpolation (vectorized); the neuron
   kernel turns it into a depolarization of ``da_excitability_mv`` per uM (:meth:`bias`).

Rewards deposit ``reward_amount`` at every site when their event fires.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
from mesa.time import Priority, Schedule

from neuroabm.model.dopamine.field import DopamineField
from neuroabm.model.dopamine.rewards import RewardSchedule
from neuroabm.model.dopamine.sites import ReleaseSite, SiteArrays, catchment_matrix, site_positions
from neuroabm.model.subsystem import Subsystem

if TYPE_CHECKING:
    from neuroabm.model.model import NeuroModel
    from neuroabm.recorders.spikes import SpikeRecorder


def shuffled_positions(xy_mm: np.ndarray, seed: int) -> np.ndarray:
    """Release positions of ``site_shuffle``: site ``order[i]`` releases at site ``order[i + 1]``'s position.

    ``order`` is a random order from ``default_rng([seed, 0x5E17])`` (its own stream: the model's
    other draws are unchanged), and the shift makes it a derangement: no site keeps its position.

    >>> xy = np.array([[0.0, 0.0], [1.0, 0.0], [2.0, 0.0]])
    >>> out = shuffled_positions(xy, 0)
    >>> sorted(out[:, 0].tolist()), bool((out[:, 0] != xy[:, 0]).all())
    ([0.0, 1.0, 2.0], True)
    """
    order = np.random.default_rng([seed, 0x5E17]).permutation(xy_mm.shape[0])
    out = np.empty_like(xy_mm)
    out[order] = xy_mm[np.roll(order, -1)]
    return out


class DopamineSystem(Subsystem):
    """Owns the field, the site arrays and the reward schedule of one model."""

    name = "dopamine"

    def __init__(self, model: NeuroModel) -> None:
        p = model.params
        self.model = model
        self.field = DopamineField(
            p.grid_n, p.side_mm, p.kappa_mm2_per_ms, p.tau_da_ms, float(p.field_dt_ms), operator=p.field_operator
        )
        xy = site_positions(model.rng, p.n_sites, p.side_mm, p.site_layout)
        sense_xy = xy  # where each site reads its catchment's rate
        if p.site_shuffle and p.n_sites > 1:
            xy = shuffled_positions(xy, int(p.seed or 0))
        self.global_mixing = p.dopamine_mixing == "global"
        self.sites = SiteArrays(
            xy,
            catchment_matrix(sense_xy, model.positions, p.site_radius_mm, p.side_mm),
            p.release_tonic,
            p.feedback_gain,
            p.target_rate_hz,
            p.tau_site_ms,
        )
        #: the site agents in index order (``model.sites`` is the same agents as a Mesa AgentSet)
        self.site_agents = [ReleaseSite(model, s) for s in range(p.n_sites)]
        #: step the agents one by one (their own ``step()``); False runs the vectorized twin of
        #: ReleaseSite.step, which is what every site would do: set True (or replace an agent by a
        #: subclass that overrides ``step`` before the first field step) to run per-agent behaviour
        self.per_agent = False
        n = model.n_neurons
        model.space.agent_positions[n : n + p.n_sites] = xy
        self._neuron_sampler = self.field.sampler(model.positions)
        self._site_sampler = self.field.sampler(xy) if p.n_sites else None
        self.da_local = np.zeros(n)  # [uM] at each neuron, refreshed every field step
        self.excitability = p.da_excitability_mv
        # per-step depolarization toward which V relaxes: V_inf shift (1 - e^(-dt/tau)) or dt/tau (no leak)
        self._bias_factor = (1.0 - model.decay) if p.leak else p.dt_ms / p.tau_m_ms
        self._bias_scale = self.excitability * self._bias_factor  # [mV per step and uM]
        self.total_released = 0.0  # [uM mm^2]
        self.wall_s = 0.0  # time spent in field steps [s], for benchmarks and the run summary
        self.n_steps = 0
        self.rewards = RewardSchedule(model, self.deliver_reward)
        if self.rewards.pair is not None:  # contingent rewards watch every block's spikes
            model.attach(self.rewards)
        self._seen = 0  # recorder buffer position up to which spikes have been counted
        #: called with no argument at the end of each field step, once ``da_local`` is new
        self.after_step: list[Callable[[], None]] = []
        model.schedule_recurring(self.step, Schedule(interval=float(p.field_dt_ms), start=float(p.field_dt_ms)),
                                 priority=Priority.DEFAULT)  # fmt: skip

    # ------------------------------------------------------------------------------ dynamics
    def step(self) -> None:
        """One field step (see the module docstring)."""
        t0 = time.perf_counter()
        if self.n_steps == 0:  # a site whose class overrides step() makes every site step on its own
            self.per_agent = self.per_agent or any(type(a).step is not ReleaseSite.step for a in self.site_agents)
        dt = float(self.model.params.field_dt_ms)
        rec = self.model.recorder
        spikes = rec.neuron[self._seen : rec.pos]
        self._seen = rec.pos
        if self.per_agent:  # each site decides its release in its own step()
            self.sites.open_window(dt, spikes)
            for site in self.site_agents:
                site.step()
            released = self.sites.close_window()
        else:  # ReleaseSite.step for all sites at once (the same arithmetic, tested equal bit for bit)
            released = self.sites.update(dt, spikes)
        if released != 0.0:
            if self.global_mixing:
                self.field.deposit_uniform(released)
            else:
                self.field.deposit(self.sites.xy_mm, self.sites.amounts, trusted=True)
            self.total_released += released
        self.field.step_and_sample(self._neuron_sampler, self.da_local)
        for hook in self.after_step:
            hook()
        self.wall_s += time.perf_counter() - t0
        self.n_steps += 1

    def summary(self) -> dict[str, Any]:
        """Final state: concentrations [uM], release, rewards."""
        sites = self.sites
        values = self.field.values
        return {
            "n_sites": int(sites.n_sites),
            "da_mean_um": float(values.mean()),
            "da_max_um": float(values.max()),
            "da_total_released": float(self.total_released),
            "site_release_mean": float(sites.release.mean()) if sites.n_sites else float("nan"),
            "site_rate_estimate_mean_hz": float(sites.rate_hz.mean()) if sites.n_sites else float("nan"),
            "n_rewards": len(self.rewards.delivered_ms),
            "reward_times_ms": list(self.rewards.delivered_ms),
            "pair_events_ms": list(self.rewards.pair_events_ms),
        }

    def attach(self, recorder: SpikeRecorder) -> None:
        """Read spikes from ``recorder`` (the model's, made after this system)."""
        recorder.before_flush.append(self._count_pending)
        self._seen = recorder.pos

    def _count_pending(self) -> None:
        """Count the spikes not yet seen; called before the recorder flushes (its position resets)."""
        rec = self.model.recorder
        self.sites.count_spikes(rec.neuron[self._seen : rec.pos])
        self._seen = 0

    def bias(self) -> tuple[np.ndarray | None, float]:
        """``(da_local, mV per integration step and uM)`` for the neuron kernel; ``(None, 0)`` if off."""
        if self.excitability == 0.0:
            return None, 0.0
        return self.da_local, self._bias_scale

    def deliver_reward(self) -> None:
        """A phasic pulse: every site deposits ``reward_amount``."""
        n = self.sites.n_sites
        if n:
            amount = self.model.params.reward_amount
            if self.global_mixing:
                self.field.deposit_uniform(amount * n)
            else:
                self.field.deposit(self.sites.xy_mm, np.full(n, amount))
            self.total_released += amount * n

    # -------------------------------------------------------------------------------- access
    def at_sites(self) -> np.ndarray:
        """Concentration at every site [uM]."""
        if self._site_sampler is None:
            return np.empty(0)
        return self._site_sampler.sample(self.field.values)
