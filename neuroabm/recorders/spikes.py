"""Spike recording into preallocated buffers, flushed in chunks.

The kernels append (step, neuron) pairs into a fixed buffer; when it fills, the chunk is sorted by
time and handed to the sinks: kept in memory (up to a limit) and/or streamed to Parquet as one row
group per chunk. No per-agent Python work per spike.

The stream goes into numbered part files (``spikes.parts/00000.parquet``, ...): a checkpoint
(:mod:`neuroabm.checkpoint`) closes the current part, so every spike flushed before it is in a
complete file on disk, and keeps the few spikes still in the buffer in the checkpoint itself. A
checkpoint does not flush, so the buffer fills and flushes at the same spikes as in a run without
checkpoints, and :func:`join_parts` gives the same ``spikes.parquet`` row group for row group.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from neuroabm.exports.atomic import atomic_path

SPIKE_SCHEMA = pa.schema([("t_ms", pa.float64()), ("neuron", pa.int32())])


def part_path(folder: Path, index: int) -> Path:
    """The ``index``-th part file of a spike stream."""
    return folder / f"{index:05d}.parquet"


def join_parts(folder: Path, n_parts: int, target: Path) -> None:
    """Write parts ``0 .. n_parts - 1`` of ``folder`` as one Parquet file, row group by row group.

    Each row group is copied as it was flushed.
    """
    with pq.ParquetWriter(target, SPIKE_SCHEMA, compression="zstd") as writer:
        for i in range(n_parts):
            part = pq.ParquetFile(part_path(folder, i))
            for g in range(part.num_row_groups):
                writer.write_table(part.read_row_group(g))


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
        self._parts: Path | None = None  # folder of the stream's part files
        self.n_parts = 0  # parts started so far (all but the last are complete)
        #: called with no argument just before the buffer is flushed (``neuron[:pos]`` still valid)
        self.before_flush: list[Callable[[], None]] = []

    # -- sinks -----------------------------------------------------------------------------
    #: not state (:mod:`neuroabm.checkpoint`): the buffers (their filled part is in checkpoint_state),
    #: the in-memory chunks (read back from the parts on resume) and the open stream
    checkpoint_exclude = ("step", "neuron", "_chunks", "_writer", "_parts")

    def stream_to(self, folder: str | os.PathLike[str]) -> None:
        """Also stream every flushed chunk to part files in ``folder`` (:meth:`close`, then :func:`join_parts`)."""
        self._parts = Path(folder)
        self._parts.mkdir(exist_ok=True)
        self._open_part()

    def _open_part(self) -> None:
        self._writer = pq.ParquetWriter(part_path(self._parts, self.n_parts), SPIKE_SCHEMA, compression="zstd")
        self.n_parts += 1

    def cut(self) -> None:
        """Close the current part file and start the next (every flushed spike is then in a complete file)."""
        if self._writer is not None:
            self._writer.close()
            self._open_part()

    def checkpoint_state(self) -> dict[str, Any]:
        """The spikes still in the buffer (not yet in any part file) and the number of complete parts."""
        return {
            "buffer_step": self.step[: self.pos].copy(),
            "buffer_neuron": self.neuron[: self.pos].copy(),
            "parts_complete": self.n_parts - 1 if self._writer is not None else self.n_parts,
        }

    def restore_checkpoint_state(self, state: dict[str, Any]) -> None:
        """Put the buffered spikes back (``pos`` is restored with the rest of the state)."""
        n = state["buffer_step"].size
        if n > self.step.shape[0]:
            self.step = np.empty(n, np.int64)
            self.neuron = np.empty(n, np.int32)
        self.step[:n] = state["buffer_step"]
        self.neuron[:n] = state["buffer_neuron"]
        self.n_parts = state["parts_complete"]

    def resume_stream(self, folder: str | os.PathLike[str]) -> None:
        """Continue the stream in ``folder`` after a restore: drop parts begun after the checkpoint, reload memory.

        The restored ``n_parts`` parts are complete; later ones (the part open at the checkpoint,
        and any a run killed after it began) are removed and written again. The first
        ``keep_in_memory`` spikes are read back from the parts.
        """
        self._parts = Path(folder)
        self._parts.mkdir(exist_ok=True)
        for path in self._parts.glob("*.parquet"):
            if int(path.stem) >= self.n_parts:
                path.unlink()
        self._chunks = []
        remaining = self._n_kept
        for i in range(self.n_parts):
            if remaining <= 0:
                break
            table = pq.read_table(part_path(self._parts, i)).slice(0, remaining)
            steps = np.rint(table.column("t_ms").to_numpy() / self.dt_ms).astype(np.int64) - 1
            self._chunks.append((steps, table.column("neuron").to_numpy().astype(np.int32)))
            remaining -= table.num_rows
        self._open_part()

    def finish_stream(self, target: str | os.PathLike[str]) -> None:
        """Flush, close the stream and join its parts into ``target``.

        Several parts (a checkpoint was written, which refers to them) are copied and stay until
        :meth:`remove_parts`; a single part (no checkpoint) is moved, without a copy.
        """
        self.close()
        if self._parts is None:
            return
        if self.n_parts == 1:
            os.replace(part_path(self._parts, 0), target)
            return
        with atomic_path(target) as tmp:
            join_parts(self._parts, self.n_parts, tmp)

    def remove_parts(self) -> None:
        """Delete the part files (once nothing, such as a checkpoint, refers to them)."""
        if self._parts is not None:
            shutil.rmtree(self._parts)
            self._parts = None

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
