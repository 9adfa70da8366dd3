"""Membrane potentials of a few neurons, sampled on a fixed grid of integration steps.

The model hands the recorder its whole ``v`` array at every step ``k`` that is a multiple of
``every_steps``; the recorder copies the selected entries into one row of a preallocated float32
array (precision ~1e-6 mV at 20 mV), which doubles if the run goes on longer than planned. A
sample at step ``k`` is the state after ``k`` integration steps, at ``t = k dt`` — the same grid
as the spike times ``(step + 1) dt`` of :class:`~neuroabm.recorders.spikes.SpikeRecorder`, so a
neuron that fired in the step just before a sample shows its reset value ``V_r``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt

from neuroabm.exports.atomic import atomic_path
from neuroabm.model.subsystem import Subsystem

__all__ = ["VoltageRecorder", "select_neurons"]


def select_neurons(record_v: int | list[int], n_neurons: int) -> np.ndarray:
    """The neurons to record: ``record_v`` evenly spaced indices, or the given list.

    Evenly spaced (``round(linspace(0, n - 1, record_v))``, distinct since the spacing is at least
    1) rather than the first ones, because neurons are numbered in spatial order and by population:
    the sample spans the torus and both populations.

    Args:
        record_v: Number of neurons (0 records none) or explicit neuron indices.
        n_neurons: Number of neurons in the model.

    Returns:
        The neuron indices, int64, shape (n_rec,).

    Raises:
        ValueError: If the count exceeds ``n_neurons`` or an index is out of range or repeated.

    """
    if isinstance(record_v, (int, np.integer)) and not isinstance(record_v, bool):
        if not 0 <= record_v <= n_neurons:
            raise ValueError(f"record_v must be a count in 0 .. {n_neurons} or a list of indices (got {record_v!r})")
        if record_v == 0:
            return np.empty(0, np.int64)
        return np.linspace(0, n_neurons - 1, int(record_v)).round().astype(np.int64)
    ids = np.asarray(record_v)
    if ids.ndim != 1 or (ids.size and not np.issubdtype(ids.dtype, np.integer)):
        raise ValueError(f"record_v must be a count or a list of neuron indices (got {record_v!r})")
    ids = ids.astype(np.int64)
    if ids.size and (ids.min() < 0 or ids.max() >= n_neurons):
        raise ValueError(f"record_v indices must lie in 0 .. {n_neurons - 1} (got {record_v!r})")
    if np.unique(ids).size != ids.size:
        raise ValueError(f"record_v indices must be distinct (got {record_v!r})")
    return ids


class VoltageRecorder(Subsystem):
    """Samples ``v[neuron_ids]`` every ``every_steps`` integration steps.

    Args:
        neuron_ids: Indices of the recorded neurons, shape (n_rec,).
        every_steps: Sampling interval in integration steps (>= 1).
        dt_ms: Integration step [ms].
        capacity: Expected number of samples (the buffer grows if more come).

    Attributes:
        neuron_ids: The recorded neurons.
        every_steps: Sampling interval [steps].
        n_samples: Samples taken so far.

    """

    name = "voltages"

    def __init__(self, neuron_ids: npt.ArrayLike, every_steps: int, dt_ms: float, capacity: int = 1) -> None:
        if every_steps < 1:
            raise ValueError(f"every_steps must be an integer >= 1 (got {every_steps!r})")
        self.neuron_ids = np.asarray(neuron_ids, np.int64)
        self.every_steps = int(every_steps)
        self.dt_ms = float(dt_ms)
        cap = max(1, int(capacity))
        self._v = np.empty((cap, self.neuron_ids.size), np.float32)
        self._step = np.empty(cap, np.int64)
        self.n_samples = 0

    def steps_to_next(self, k: int) -> int:
        """Integration steps from step count ``k`` to the next sample (1 .. ``every_steps``)."""
        return self.every_steps - k % self.every_steps

    def due(self, k: int) -> bool:
        """Whether a sample is due after ``k`` integration steps."""
        return k % self.every_steps == 0

    def sample(self, k: int, v: np.ndarray) -> None:
        """Store ``v[neuron_ids]`` as the state after ``k`` integration steps [mV]."""
        if self.n_samples == self._step.shape[0]:
            self._v = np.concatenate([self._v, np.empty_like(self._v)])
            self._step = np.concatenate([self._step, np.empty_like(self._step)])
        self._v[self.n_samples] = v[self.neuron_ids]
        self._step[self.n_samples] = k
        self.n_samples += 1

    def voltages(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(t_ms, neuron_ids, V)``: sample times [ms] (n_t,), neurons (n_rec,), V [mV] (n_t, n_rec).

        Views of the internal buffers (valid until the next sample); copy to keep them.
        """
        n = self.n_samples
        return self._step[:n] * self.dt_ms, self.neuron_ids, self._v[:n]

    def write(self, folder: Path) -> list[Path]:
        """``voltages.npz`` in the run folder."""
        self.write_npz(folder / "voltages.npz")
        return [folder / "voltages.npz"]

    def write_npz(self, path: str | Path) -> None:
        """Write ``t_ms``, ``neuron`` and ``v_mv`` (float32) to a compressed ``.npz`` atomically."""
        t_ms, ids, v = self.voltages()
        with atomic_path(path) as tmp, open(tmp, "wb") as fh:
            np.savez_compressed(fh, t_ms=t_ms, neuron=ids, v_mv=v)
