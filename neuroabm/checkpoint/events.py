"""Mesa's event list, saved by name and rebuilt on a fresh model in the same order.

Between two steps every pending event lies in the future. Each is either the next firing of a
recurring generator (``schedule_recurring``: the step itself, metrics, the field, plasticity,
recorders, periodic rewards) or a one-off event (``schedule_event``: contingent and fixed rewards,
the graph's closing record). An event is saved as its time, priority, kind and the **name of its
callback**: the path of the object owning the bound method (as :func:`neuroabm.checkpoint.state.capture`
walks it, e.g. ``dopamine.rewards``) and the method's name. Mesa orders events by time, then
priority, then creation; restoring them in their original creation order therefore reproduces the
order of events that share a time and priority.

On the fresh model (built from the same configuration, so with the same generators) every
scheduled event is cancelled; each saved generator event is rescheduled with Mesa's public
``schedule_recurring`` (same function, interval and priority, starting at the saved time) after
the fresh generator is stopped, and each one-off event with ``schedule_event``. This uses Mesa's
documented scheduling calls only; it reads, but does not change, the private event heap.
"""

from __future__ import annotations

import types
from collections import deque
from typing import Any

from mesa import Model
from mesa.time import Priority, Schedule

from neuroabm.checkpoint.state import CheckpointError, is_part


def object_paths(model: Model) -> dict[str, Any]:
    """``path -> object`` for the model (``""``) and every part of this package reachable from it.

    Breadth first, attributes in name order (lists element by element), so a model and its fresh
    twin give every part the same path.
    """
    found: dict[int, str] = {id(model): ""}
    by_path: dict[str, Any] = {"": model}
    queue = deque([("", model)])
    while queue:
        path, obj = queue.popleft()
        for name in sorted(vars(obj)):
            value = getattr(obj, name)
            items = list(enumerate(value)) if isinstance(value, list) else [(None, value)]
            for i, x in items:
                if id(x) in found or not is_part(x):
                    continue
                base = f"{path}.{name}" if path else name
                where = base if i is None else f"{base}[{i}]"
                found[id(x)] = where
                by_path[where] = x
                if hasattr(x, "__dict__"):
                    queue.append((where, x))
    return by_path


def _callback_name(fn: Any, paths: dict[int, str]) -> list[str]:
    """``[owner path, method name]`` of a bound method of the model or one of its parts."""
    if not isinstance(fn, types.MethodType) or id(fn.__self__) not in paths:
        raise CheckpointError(f"cannot checkpoint the event calling {fn!r}: only methods of the model's parts can be")
    return [paths[id(fn.__self__)], fn.__func__.__name__]


def capture_events(model: Model, objects: dict[str, Any]) -> list[dict[str, Any]]:
    """The pending events, in creation order, as JSON-ready records (``objects``: :func:`object_paths`)."""
    paths = {id(obj): path for path, obj in objects.items()}
    generators = {}
    for g in [model._default_schedule, *model._event_generators]:
        if g._current_event is not None:
            generators[id(g._current_event)] = g
    records = []
    for event in sorted((e for e in model._event_list._events if not e.CANCELED), key=lambda e: e.unique_id):
        gen = generators.get(id(event))
        if gen is not None:
            fn = gen.function()
            interval = gen.schedule.interval
            if callable(interval) or gen.schedule.count is not None:
                raise CheckpointError(f"cannot checkpoint the recurring event calling {fn!r}: its schedule varies")
            records.append({
                "kind": "recurring", "time": event.time, "priority": int(event.priority),
                "call": _callback_name(fn, paths), "interval": interval, "end": gen.schedule.end,
            })  # fmt: skip
        else:
            if event.function_args or event.function_kwargs:
                raise CheckpointError("cannot checkpoint an event with arguments")
            records.append({
                "kind": "once", "time": event.time, "priority": int(event.priority),
                "call": _callback_name(event.fn(), paths),
            })  # fmt: skip
    return records


def restore_events(model: Model, records: list[dict[str, Any]], objects: dict[str, Any]) -> None:
    """Replace the fresh model's pending events by ``records`` (``objects``: path -> object)."""
    for g in [model._default_schedule, *list(model._event_generators)]:
        g.stop()
    for event in list(model._event_list._events):
        event.cancel()
    for rec in records:
        owner = objects.get(rec["call"][0])
        if owner is None:
            raise CheckpointError(f"cannot restore the event calling {'.'.join(rec['call'])}: no such part")
        fn = getattr(owner, rec["call"][1])
        priority = Priority(rec["priority"])
        if rec["kind"] == "recurring":
            gen = model.schedule_recurring(fn, Schedule(interval=rec["interval"], start=rec["time"], end=rec["end"]),
                                           priority)  # fmt: skip
            if fn == model._do_step:
                model._default_schedule = gen
        else:
            model.schedule_event(fn, at=rec["time"], priority=priority)
