"""Spike recording into preallocated buffers, flushed in chunks.

The kernels append (step, neuron) pairs into a fixed buffer; when it fills, the chunk is sorted by
time and handed to the sinks: kept in memory (up to a limit) and/or streamed to a Parquet file as
one row group per chunk. No per-agent Python work per spike.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

SPIKE_SCHEMA = pa.schema([("t_ms", pa.float64()), ("neuron", pa.int32())])


class SpikeRecorder:
    """Collects spikes as (step, neuron) and converts steps to ms on output.

    Args:
        dt_ms: integration step [ms]; a spike in step ``k`` happens at ``(k + 1) * dt_ms``.
        capacity: buffer size in spikes before a flush.
        keep_in_memory: maximum number of spikes kept in memory (0 keeps none).

    """

    def __init__(self, dt_ms: float, capacity: int = 1 << 20, keep_in_memory: int = 50_000_000) -> None:
        self.dt_ms = dt_ms
        self.step = np.empty(capacity, np.int64)
        self.neuron = np.empty(capacity, np.int32)
        self.pos = 0
        self.keep_in_memory = keep_in_memory
        self.n_total = 0
        self._chunks: list[tuple[np.ndarray, np.ndarray]] = []
        self._n_kept = 0
        self.truncated = False
        self._writer: pq.ParquetWriter | None = None
        self._path: Path | None = None
        #: called with no argument just before the buffer is flushed (``neuron[:pos]`` still valid)
        self.before_flush: list[Callable[[], None]] = []

    # -- sinks -----------------------------------------------------------------------------
    def stream_to(self, path: str | os.PathLike[str]) -> None:
        """Also stream every flushed chunk to a Parquet file (call :meth:`close` to finish it)."""
        self._path = Path(path)
        self._writer = pq.ParquetWriter(self._path, SPIKE_SCHEMA, compression="zstd")

    def ensure_room(self, n: int) -> None:
        """Flush if fewer than ``n`` free slots remain; grow if one block needs more than all."""
        if self.pos + n > self.step.shape[0]:
            self.flush()
            if n > self.step.shape[0]:
                self.step = np.empty(n, np.int64)
                self.neuron = np.empty(n, np.int32)

    def flush(self) -> None:
        """Sort the buffered spikes by (time, neuron) and pass them to the sinks."""
        if self.pos == 0:
            return
        for listener in self.before_flush:
            listener()
        step = self.step[: self.pos]
        neuron = self.neuron[: self.pos]
        order = np.lexsort((neuron, step))
        step, neuron = step[order], neuron[order]
        self.n_total += self.pos
        self.pos = 0
        if self._writer is not None:
            self._writer.write_table(pa.table({"t_ms": (step + 1) * self.dt_ms, "neuron": neuron}, schema=SPIKE_SCHEMA))
        room = self.keep_in_memory - self._n_kept
        if room < step.size:
            self.truncated = True
        if room > 0:
            self._chunks.append((step[:room].copy(), neuron[:room].copy()))
            self._n_kept += min(room, step.size)

    def close(self) -> None:
        """Flush and close the Parquet stream, if any."""
        self.flush()
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    # -- access ----------------------------------------------------------------------------
    @property
    def count(self) -> int:
        """Number of spikes recorded so far (flushed or not)."""
        return self.n_total + self.pos

    def spikes(self) -> tuple[np.ndarray, np.ndarray]:
        """All spikes kept in memory as ``(t_ms, neuron)``, sorted by time then neuron."""
        self.flush()
        if not self._chunks:
            return np.empty(0, np.float64), np.empty(0, np.int32)
        steps = np.concatenate([c[0] for c in self._chunks])
        neurons = np.concatenate([c[1] for c in self._chunks])
        return (steps + 1) * self.dt_ms, neurons
