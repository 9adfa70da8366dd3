"""The seam through which parts of the model plug in: dopamine, plasticity, recorders, and yours.

A :class:`Subsystem` is attached to a model once (:meth:`NeuroModel.attach
<neuroabm.model.model.NeuroModel.attach>`); from then on the model, the runner and the summary
reach it only through these methods, never by name:

- :meth:`Subsystem.on_block`: the spikes of each integration block, in the block loop, before they
  are delivered (a block is at most one synaptic delay long, so a subsystem sees every spike
  before it can act on a neuron);
- :meth:`Subsystem.prepare`: the run folder, before the first step, for outputs streamed during
  the run (e.g. snapshots as they are taken; not called for runs without bulk outputs, such as
  sweep points);
- :meth:`Subsystem.reopen`: the run folder again when a run resumes from a checkpoint
  (:mod:`neuroabm.checkpoint`: a subsystem's attributes are checkpointed and restored for it;
  a class lists in ``checkpoint_exclude`` what is rebuilt from the configuration or set again here);
- :meth:`Subsystem.write`: its outputs, into the run folder, after the last step;
- :meth:`Subsystem.summary`: its fields of ``summary.json``.

What a subsystem schedules (Mesa's ``schedule_recurring`` on the model, at its period) it
schedules itself when built. Subsystems are called in the order they were attached; the model
attaches its own in a fixed order (dopamine, plasticity, then the recorders), which is part of
what makes a run reproducible.

A recorder counting spikes per release-site catchment, written outside the package::

    class CatchmentCounts(Subsystem):
        name = "catchment_counts"

        def __init__(self, model):
            self.counts = np.zeros(model.dopamine.sites.n_sites, np.int64)
            self.member = model.dopamine.sites.catchment.T.tocsr()  # neuron -> sites

        def on_block(self, steps, neurons):
            np.add.at(self.counts, self.member[neurons].indices, 1)

        def summary(self):
            return {"catchment_spikes_max": int(self.counts.max())}

    model.attach(CatchmentCounts(model))
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np


class Subsystem:
    """Base class of the model's parts; every method is optional (the defaults do nothing).

    Attributes:
        name: Short identifier (used in messages and by :meth:`NeuroModel.subsystem`).

    """

    name: str = "subsystem"

    def on_block(self, steps: np.ndarray, neurons: np.ndarray) -> None:
        """The block's spikes: integration step and neuron of each, in the order recorded."""

    def prepare(self, folder: Path) -> None:
        """The run folder (staging) before the first step."""

    def reopen(self, folder: Path) -> None:
        """The run folder (staging) again, when a run resumes from a checkpoint (``prepare`` ran before)."""

    def write(self, folder: Path) -> list[Path]:
        """Write this subsystem's outputs into the run folder; return the files written."""
        return []

    def summary(self) -> dict[str, Any]:
        """Fields of the run summary (JSON-ready values) that this subsystem contributes."""
        return {}

    @classmethod
    def has_block_hook(cls) -> bool:
        """Whether the subclass overrides :meth:`on_block` (the block loop calls only those)."""
        return cls.on_block is not Subsystem.on_block
