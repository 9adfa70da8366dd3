"""Recorders: spikes into chunked buffers, model-level metrics at coarse intervals."""

from neuroabm.recorders.metrics import make_datacollector
from neuroabm.recorders.spikes import SpikeRecorder

__all__ = ["SpikeRecorder", "make_datacollector"]
