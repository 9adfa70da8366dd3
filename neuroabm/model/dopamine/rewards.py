"""External cues: phasic dopamine pulses at given times, periodically, or contingent on spikes.

The contingent schedule follows Izhikevich (2007) (docs/REFERENCES.md §4): whenever neuron B fires
within ``reward_window_ms`` after neuron A, a reward is delivered after a delay drawn uniformly
from ``[reward_delay_min_ms, reward_delay_max_ms]``. Every reward is a Mesa event (priority HIGH:
at a given millisecond it comes before the field step, which runs at DEFAULT); when it fires, each
release site deposits ``reward_amount`` into the field, which the next field step spreads.

Timing convention (issue 14): the field step at time ``t`` advances the field over
``[t - field_dt_ms, t]`` (:mod:`neuroabm.model.dopamine.system`). A reward scheduled at ``t0`` is
deposited just before the step at ``t0`` (priority HIGH), so the field sampled at ``t0`` already
holds it, spread by one full field step: the reward acts as a release at ``t0 - field_dt_ms``, up
to one field step early. With the default ``field_dt_ms = 1`` that is 1 ms, against reward delays
of 1-3 s (Izhikevich 2007); with coarse field steps, schedule rewards one step later to compensate.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
from mesa.time import Priority, Schedule

from neuroabm.model.subsystem import Subsystem

if TYPE_CHECKING:
    from neuroabm.model.model import NeuroModel


class RewardSchedule(Subsystem):
    """Schedules reward events on the model's event list and remembers when they were delivered.

    Args:
        model: the model (its event list, rng and spike stream).
        deliver: called with no argument to release one reward.

    """

    name = "rewards"

    def __init__(self, model: NeuroModel, deliver: Callable[[], None]) -> None:
        p = model.params
        self.model = model
        self._deliver = deliver
        self.delivered_ms: list[float] = []
        self.pair_events_ms: list[float] = []
        for t in sorted(p.reward_times_ms):
            model.schedule_event(self._fire, at=float(t), priority=Priority.HIGH)
        if p.reward_period_ms > 0:
            period = float(p.reward_period_ms)
            # the handle keeps the recurring event generator alive (and lets a caller stop it)
            self._periodic = model.schedule_recurring(
                self._fire, Schedule(interval=period, start=period), priority=Priority.HIGH
            )
        self.pair = tuple(p.reward_pair) if p.reward_pair else None
        self.window_steps = p.reward_window_ms / model.dt_ms
        self._last_a = -np.inf  # step of A's last spike

    def _fire(self) -> None:
        self.delivered_ms.append(float(self.model.time))
        self._deliver()

    def on_block(self, steps: np.ndarray, neurons: np.ndarray) -> None:
        """The block loop's hook (attached only with a ``reward_pair``): :meth:`observe_spikes`."""
        self.observe_spikes(steps, neurons)

    def observe_spikes(self, steps: np.ndarray, neurons: np.ndarray) -> None:
        """Check a block of spikes for the rewarded pair (A then B within the window)."""
        if self.pair is None:
            return
        a, b = self.pair
        hit = np.flatnonzero((neurons == a) | (neurons == b))
        if hit.size == 0:
            return
        order = hit[np.lexsort((neurons[hit] == a, steps[hit]))]  # by time; at equal steps, B before A
        p = self.model.params
        for e in order:
            k = steps[e]
            if neurons[e] == b and 0 < k - self._last_a <= self.window_steps + 1e-9:
                t_ms = (k + 1) * self.model.dt_ms
                self.pair_events_ms.append(t_ms)
                delay = self.model.rng.uniform(p.reward_delay_min_ms, p.reward_delay_max_ms)
                # rewards land on the 1 ms event grid of the model, no earlier than now
                at = max(float(np.ceil(t_ms + delay)), self.model.time)
                self.model.schedule_event(self._fire, at=at, priority=Priority.HIGH)
            if neurons[e] == a:
                self._last_a = k
