"""A whole model's state in one file (``checkpoint.npz``: arrays plus one JSON member), and back.

:func:`save_checkpoint` writes, atomically, everything a run needs to continue as if it had never
stopped: the model's arrays and counters and those of every part (:mod:`neuroabm.checkpoint.state`),
the random streams (``model.rng``'s bit generator, ``model.random``), Mesa's clock and pending
events (:mod:`neuroabm.checkpoint.events`), the ``DataCollector``'s rows, and what a part adds
through ``checkpoint_state()`` (the spike recorder's unflushed buffer). :func:`load_checkpoint`
builds the model afresh from its configuration (same seed, so the same network, which is then
overwritten) and restores all of it. The file is a plain ``.npz`` (``numpy.load`` with
``allow_pickle=False`` reads it); the JSON member is ``__state__``.
"""

from __future__ import annotations

import functools
import json
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import mesa
import numpy as np

from neuroabm.checkpoint.events import capture_events, object_paths, restore_events
from neuroabm.checkpoint.state import CheckpointError, capture, decode_value, encode_value, restore
from neuroabm.exports.atomic import atomic_path

if TYPE_CHECKING:
    from neuroabm.model.model import NeuroModel

#: version of the checkpoint layout; a file of another version is refused
FORMAT = 1
FILE_NAME = "checkpoint.npz"
_STATE = "__state__"


@functools.cache
def _mesa_attributes() -> frozenset[str]:
    """Attributes every Mesa model has (clock, event list, random streams, agent registry): handled here."""
    return frozenset(vars(mesa.Model(rng=0)))


def capture_model(model: NeuroModel) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """``(state, arrays)``: the JSON-ready state of ``model`` and the arrays it refers to by name."""
    arrays: dict[str, np.ndarray] = {}
    objects = object_paths(model)
    extra = {
        path: encode_value(obj.checkpoint_state(), arrays, f"extra:{path}")
        for path, obj in objects.items()
        if hasattr(obj, "checkpoint_state")
    }
    version, internal, gauss = model.random.getstate()
    state = {
        "format": FORMAT,
        "time": float(model.time),
        "steps": int(model.steps),
        "running": bool(model.running),
        "rng": model.rng.bit_generator.state,
        "random": [version, list(internal), gauss],
        "model": capture(model, arrays, skip=_mesa_attributes()),
        "datacollector": encode_value(model.datacollector.model_vars, arrays, "datacollector"),
        "extra": extra,
        "events": capture_events(model, objects),
    }
    return state, arrays


def restore_model(model: NeuroModel, state: dict[str, Any], arrays: Any) -> None:
    """Overwrite a freshly built ``model`` (same configuration) with a captured ``state``."""
    if state.get("format") != FORMAT:
        raise CheckpointError(f"checkpoint format {state.get('format')} is not {FORMAT}: made by another version")
    restore(model, state["model"], arrays)
    model.time = state["time"]
    model.steps = state["steps"]
    model.running = state["running"]
    model.rng.bit_generator.state = state["rng"]
    version, internal, gauss = state["random"]
    model.random.setstate((version, tuple(internal), gauss))
    model.datacollector.model_vars = decode_value(state["datacollector"], arrays, None)
    objects = object_paths(model)
    for path, node in state["extra"].items():
        if path not in objects:
            raise CheckpointError(f"cannot restore {path or 'the model'}: the fresh model has no such part")
        objects[path].restore_checkpoint_state(decode_value(node, arrays, None))
    restore_events(model, state["events"], objects)


def save_checkpoint(model: NeuroModel, folder: str | Path) -> Path:
    """Write ``folder/checkpoint.npz`` atomically (the previous one stays until the new one is complete)."""
    state, arrays = capture_model(model)
    text = json.dumps(state, separators=(",", ":"))
    arrays[_STATE] = np.frombuffer(text.encode("utf-8"), np.uint8)
    path = Path(folder) / FILE_NAME
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        np.savez(fh, **arrays)
    return path


def read_state(folder: str | Path) -> tuple[dict[str, Any], Any]:
    """``(state, arrays)`` of ``folder/checkpoint.npz`` (arrays: a lazy ``NpzFile``).

    Raises :class:`CheckpointError` (one line) if the file cannot be read.
    """
    path = Path(folder) / FILE_NAME
    try:
        arrays = np.load(path, allow_pickle=False)
        state = json.loads(arrays[_STATE].tobytes().decode("utf-8"))
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, UnicodeDecodeError) as exc:
        raise CheckpointError(f"the checkpoint {path} cannot be read ({exc}); run the configuration again") from None
    return state, arrays


def load_checkpoint(model: NeuroModel, folder: str | Path) -> NeuroModel:
    """Restore ``folder/checkpoint.npz`` into ``model`` (built from the run's config); return it."""
    state, arrays = read_state(folder)
    with arrays:
        restore_model(model, state, arrays)
    return model
