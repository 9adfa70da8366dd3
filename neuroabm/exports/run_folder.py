"""Run folders that cannot mix: a run is written into a hidden staging folder and moved into place when complete.

``neuroabm run --out DIR`` refuses a non-empty ``DIR`` unless ``--force`` (the old folder is then
replaced as a whole, so no file of it survives). Until the run has finished, its outputs live in
``.DIR.partial-<pid>`` next to ``DIR``; an interrupted or failed run removes it (a killed one leaves
only that hidden folder), so ``DIR`` either holds one complete run or does not exist. Readers
(``analyze``, ``export``) call :func:`require_complete`. Writability and free space are checked
before anything is built.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

#: written last into every run folder; its presence marks a complete run
COMPLETE_MARKER = "summary.json"
#: bytes per recorded spike in spikes.parquet (zstd; measured 4-6) and a fixed allowance for the rest
SPIKE_BYTES = 6.0
OTHER_OUTPUT_BYTES = 64 * 2**20


class RunFolderError(OSError):
    """A run folder cannot be used (not empty, not writable, too little space, incomplete)."""


def estimate_output_bytes(n_neurons: int, duration_ms: float, rate_hz: float = 50.0) -> float:
    """Disk space a run's outputs need [bytes], spikes at ``rate_hz`` plus a fixed allowance.

    >>> round(estimate_output_bytes(10_000, 1000.0) / 2**20)
    67
    """
    return n_neurons * duration_ms / 1000.0 * rate_hz * SPIKE_BYTES + OTHER_OUTPUT_BYTES


def _is_empty(path: Path) -> bool:
    return not path.exists() or (path.is_dir() and not any(path.iterdir()))


def stage(out: str | Path, force: bool = False, need_bytes: float = 0.0) -> Path:
    """Check ``out`` and create its staging folder; return the staging folder.

    Raises :class:`RunFolderError` (one line) when ``out`` is a file, is not empty and ``force`` is
    false, its parent cannot be written, or the disk has less than ``need_bytes`` free.
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise RunFolderError(f"--out {out} is a file: give a folder")
    if not force and not _is_empty(out):
        raise RunFolderError(f"--out {out} is not empty: choose a new folder, or pass --force to replace it")
    parent = out.absolute().parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        staging = parent / f".{out.name}.partial-{os.getpid()}"
        if staging.exists():
            shutil.rmtree(staging)
        staging.mkdir()
    except OSError as exc:
        raise RunFolderError(f"cannot write into {parent}: {exc.strerror or exc}") from None
    free = shutil.disk_usage(staging).free
    if free < need_bytes:
        shutil.rmtree(staging, ignore_errors=True)
        raise RunFolderError(
            f"{parent} has {free / 2**30:.2f} GiB free but the outputs need about {need_bytes / 2**30:.2f} GiB: "
            "free space or choose another --out"
        )
    return staging


def publish(staging: Path, out: str | Path) -> Path:
    """Move a finished staging folder to ``out``, replacing whatever was there as a whole."""
    out = Path(out)
    old = None
    if out.exists():
        old = out.absolute().parent / f".{out.name}.old-{os.getpid()}"
        os.replace(out, old)
    os.replace(staging, out)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    return out


def discard(staging: Path) -> None:
    """Remove a staging folder (after a failure or an interruption)."""
    shutil.rmtree(staging, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def find_resumable(out: str | Path, checkpoint_name: str) -> Path:
    """The staging folder of an interrupted run into ``out`` that holds a checkpoint, taken over by this process.

    Raises :class:`RunFolderError` (one line) when ``out`` is already complete, when there is no
    checkpoint, or when the run that wrote it is still running. Of several, the newest checkpoint wins.
    """
    out = Path(out)
    if (out / COMPLETE_MARKER).is_file():
        raise RunFolderError(f"{out} is a complete run: nothing to resume")
    parent = out.absolute().parent
    found = sorted(
        (p for p in parent.glob(f".{out.name}.partial-*") if (p / checkpoint_name).is_file()),
        key=lambda p: (p / checkpoint_name).stat().st_mtime,
    )
    if not found:
        raise RunFolderError(
            f"no checkpoint of {out} to resume (an interrupted run keeps one in {parent}/.{out.name}.partial-<pid>); "
            f"run it again with --out {out}"
        )
    staging = found[-1]
    pid = int(staging.name.rsplit("-", 1)[1]) if staging.name.rsplit("-", 1)[1].isdigit() else -1
    if pid != os.getpid() and pid > 0 and _alive(pid):
        raise RunFolderError(f"{out} is still being written by process {pid}: stop it first (its checkpoint is kept)")
    mine = parent / f".{out.name}.partial-{os.getpid()}"
    if staging != mine:
        os.replace(staging, mine)
    for tmp in mine.rglob(".*.tmp"):  # files a killed run was writing (exports.atomic): never completed
        tmp.unlink()
    return mine


def require_complete(run_dir: str | Path) -> Path:
    """Return ``run_dir`` if it holds a complete run, else raise :class:`RunFolderError` in one line."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise RunFolderError(f"{run_dir} is not a folder written by 'neuroabm run'")
    if ".partial-" in run_dir.name or not (run_dir / COMPLETE_MARKER).is_file():
        raise RunFolderError(
            f"{run_dir} is not a complete run (no {COMPLETE_MARKER}): the run was interrupted or is still "
            "running; run it again"
        )
    return run_dir
