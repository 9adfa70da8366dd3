"""The spikes of the last seconds of a running model, for live views.

A :class:`SpikeWindow` reads the model's spike recorder the way the dopamine system does: the
spikes appended since its last read (``recorder.neuron[seen:pos]``), plus any buffer contents
handed over just before a flush. It never flushes, sorts or copies the recorder's data in place,
so watching a run does not change it. Each read appends the new spikes (sorted by time) and drops
those older than ``keep_ms``; the window is therefore always sorted by time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from neuroabm.checks import positive

if TYPE_CHECKING:
    from neuroabm.model.model import NeuroModel

#: default length of the window [ms]: the avalanche statistics use all of it
KEEP_MS = 60_000.0


class SpikeWindow:
    """Spike times [ms] and neuron indices of the last ``keep_ms`` of a model, sorted by time.

    Args:
        model: the model to watch (its recorder is read, never modified).
        keep_ms: length of the window [ms], > 0.

    Attributes:
        t_ms: spike times [ms], sorted.
        neuron: neuron index of each spike.

    """

    def __init__(self, model: NeuroModel, keep_ms: float = KEEP_MS) -> None:
        self.keep_ms = positive("keep_ms", keep_ms, "ms")
        self.model = model
        self.dt_ms = model.recorder.dt_ms
        self.t_ms = np.empty(0, np.float64)
        self.neuron = np.empty(0, np.int32)
        self._seen = model.recorder.pos
        self._handed: list[tuple[np.ndarray, np.ndarray]] = []
        model.recorder.before_flush.append(self._before_flush)

    @classmethod
    def of(cls, model: NeuroModel, keep_ms: float = KEEP_MS) -> SpikeWindow:
        """The window attached to ``model``, created on first use (one per model)."""
        window = getattr(model, "_viz_spike_window", None)
        if window is None:
            window = cls(model, keep_ms)
            model._viz_spike_window = window  # type: ignore[attr-defined]
        return window

    def _before_flush(self) -> None:
        rec = self.model.recorder
        self._handed.append((rec.step[self._seen : rec.pos].copy(), rec.neuron[self._seen : rec.pos].copy()))
        self._seen = 0

    def update(self) -> SpikeWindow:
        """Take in the spikes recorded since the last call and forget those older than ``keep_ms``."""
        rec = self.model.recorder
        parts = [*self._handed, (rec.step[self._seen : rec.pos], rec.neuron[self._seen : rec.pos])]
        self._seen = rec.pos
        self._handed = []
        steps = np.concatenate([p[0] for p in parts])
        if steps.size:
            order = np.argsort(steps, kind="stable")
            self.t_ms = np.concatenate([self.t_ms, (steps[order] + 1) * self.dt_ms])
            self.neuron = np.concatenate([self.neuron, np.concatenate([p[1] for p in parts])[order]])
        start = np.searchsorted(self.t_ms, float(self.model.time) - self.keep_ms, side="right")
        if start:
            self.t_ms, self.neuron = self.t_ms[start:], self.neuron[start:]
        return self

    def since(self, t0_ms: float) -> tuple[np.ndarray, np.ndarray]:
        """Spikes at times > ``t0_ms`` [ms] as ``(t_ms, neuron)`` views."""
        start = np.searchsorted(self.t_ms, t0_ms, side="right")
        return self.t_ms[start:], self.neuron[start:]
