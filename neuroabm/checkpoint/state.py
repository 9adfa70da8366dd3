"""The state of an object tree as plain arrays and JSON, and back into a freshly built tree.

A checkpoint never pickles. :func:`capture` walks an object's attributes (``__dict__``, in name
order) and turns them into a JSON tree whose leaves are numbers, strings, booleans, ``None`` or
references to arrays kept apart (written to an ``.npz``); :func:`restore` walks a model built
afresh from the same configuration and puts the values back. What is state and what is not:

- **state**: numpy arrays and scalars, Python numbers, strings, ``None``, random generators
  (``numpy.random.Generator``: their bit-generator state), and lists, tuples and string-keyed
  dicts of these; objects of this package (``neuroabm.*``) and subsystems attached from outside it
  (:class:`~neuroabm.model.subsystem.Subsystem`), reached through attributes or in lists of such
  objects, are walked in turn;
- **not state** (skipped): callables (functions, methods, compiled kernels, :class:`KernelCall`
  bindings), Mesa agents and models (agents are views; the model is walked from the top), and
  the attributes a class names in ``checkpoint_exclude`` (built from the configuration, such as
  sparse catchment matrices, or set again when a run resumes, such as a snapshot folder);
- anything else is an error (:class:`CheckpointError`) naming the attribute: a value the
  checkpoint cannot hold must not be dropped silently, or a resumed run would quietly differ.

Arrays are restored **in place** when the fresh model's array has the same shape and dtype, so
every binding made at build time (kernel arguments, views such as the plasticity's packed
columns) stays valid; otherwise (structural plasticity resized a store, a recorder grew) the
attribute is replaced. An object is walked once; later references to it are left alone.

>>> import numpy as np
>>> class Counter:
...     __module__ = "neuroabm.example"
...     def __init__(self):
...         self.n = 0
...         self.hist = np.zeros(3)
>>> a = Counter(); a.n = 7; a.hist[:] = [1.0, 2.0, 3.0]
>>> arrays = {}
>>> tree = capture(a, arrays)
>>> b = Counter(); restore(b, tree, arrays)
>>> b.n, b.hist.tolist()
(7, [1.0, 2.0, 3.0])
"""

from __future__ import annotations

import types
from typing import Any

import numpy as np
from mesa import Agent, Model

from neuroabm.model.subsystem import Subsystem

#: lists at least this long with one scalar type are kept as one array, not as JSON numbers
_PACK_MIN = 8


class CheckpointError(RuntimeError):
    """A value cannot be checkpointed or restored (one line naming the attribute)."""


class _Skip:
    """Marker: the value is not state."""


SKIP = _Skip()


def is_part(obj: Any) -> bool:
    """Whether ``obj`` is walked: an object of this package, or a subsystem written outside it."""
    return type(obj).__module__.startswith("neuroabm.") or isinstance(obj, Subsystem)


def _not_state(value: Any) -> bool:
    """Callables, kernel bindings, Mesa agents and models, classes and modules."""
    if isinstance(value, (types.FunctionType, types.MethodType, types.BuiltinFunctionType, type, types.ModuleType)):
        return True
    module = type(value).__module__
    if module.startswith(("numba.", "mesa.")):
        return True
    if isinstance(value, (Agent, Model)):
        return True
    return getattr(type(value), "checkpoint_opaque", False)


def _excluded(obj: Any) -> frozenset[str]:
    names: set[str] = set()
    for cls in type(obj).__mro__:
        names.update(getattr(cls, "checkpoint_exclude", ()))
    return frozenset(names)


class _Encoder:
    def __init__(self, arrays: dict[str, np.ndarray]) -> None:
        self.arrays = arrays
        self.seen: set[int] = set()

    def put(self, path: str, value: np.ndarray) -> str:
        self.arrays[path] = value
        return path

    def obj(self, obj: Any, path: str, skip: frozenset[str] = frozenset()) -> dict[str, Any] | _Skip:
        if id(obj) in self.seen:
            return SKIP
        self.seen.add(id(obj))
        excluded = _excluded(obj) | skip
        fields = {}
        for name in sorted(vars(obj)):
            if name in excluded:
                continue
            node = self.value(getattr(obj, name), f"{path}.{name}" if path else name)
            if node is not SKIP:
                fields[name] = node
        return {"obj": fields}

    def value(self, v: Any, path: str) -> Any:
        if v is None or isinstance(v, (bool, str)):
            return v
        if isinstance(v, (int, float)) and type(v) in (int, float):
            return v if type(v) is float or -(2**63) <= v < 2**63 else {"bigint": str(v)}
        if isinstance(v, np.ndarray):
            if v.dtype == object:
                raise CheckpointError(f"cannot checkpoint {path}: an array of Python objects")
            return {"nd": self.put(path, v)}
        if isinstance(v, np.generic):
            return {"np": v.dtype.str, "v": v.item() if v.dtype.kind != "V" else None}
        if isinstance(v, np.random.Generator):
            return {"rng": v.bit_generator.state}
        if isinstance(v, (list, tuple)):
            return self.sequence(v, path)
        if isinstance(v, dict):
            if not all(isinstance(k, str) for k in v):
                raise CheckpointError(f"cannot checkpoint {path}: a dict with non-string keys")
            items = {k: self.value(x, f"{path}[{k}]") for k, x in v.items()}
            if any(x is SKIP for x in items.values()):
                return SKIP
            return {"dict": items}
        if _not_state(v):
            return SKIP
        if is_part(v):
            return self.obj(v, path)
        raise CheckpointError(
            f"cannot checkpoint {path}: a {type(v).__module__}.{type(v).__name__}; name it in the class's "
            "checkpoint_exclude if it is rebuilt from the configuration"
        )

    def sequence(self, v: list[Any] | tuple[Any, ...], path: str) -> Any:
        kind = "tuple" if isinstance(v, tuple) else "list"
        types_ = {type(x) for x in v}
        if len(v) >= _PACK_MIN and len(types_) == 1:
            (t,) = types_
            if t is float or (t is int and all(-(2**63) <= x < 2**63 for x in v)):
                return {"packed": kind, "type": t.__name__, "nd": self.put(path, np.array(v))}
            if issubclass(t, np.generic) and t().dtype.kind in "biuf":
                return {"packed": kind, "type": "np", "nd": self.put(path, np.array(v))}
        items = [self.value(x, f"{path}[{i}]") for i, x in enumerate(v)]
        if v and all(is_part(x) for x in v):  # parts (e.g. the subsystems): each walked, or skipped
            if all(x is SKIP for x in items):
                return SKIP
            return {"objects": [None if x is SKIP else x for x in items]}
        if any(x is SKIP for x in items):
            return SKIP
        return {kind: items}


def capture(
    obj: Any, arrays: dict[str, np.ndarray], prefix: str = "", skip: frozenset[str] = frozenset()
) -> dict[str, Any]:
    """The state of ``obj`` as a JSON-ready tree; its arrays are added to ``arrays`` by path.

    ``skip`` names attributes of ``obj`` itself that the caller handles (e.g. Mesa's clock).
    """
    node = _Encoder(arrays).obj(obj, prefix, skip)
    assert not isinstance(node, _Skip)
    return node


def encode_value(value: Any, arrays: dict[str, np.ndarray], path: str) -> Any:
    """One value (a dict of lists, arrays, ...) as a JSON-ready node; objects are not walked here."""
    node = _Encoder(arrays).value(value, path)
    if node is SKIP or (isinstance(node, dict) and "obj" in node):
        raise CheckpointError(f"cannot checkpoint {path}: not plain data")
    return node


def decode_value(node: Any, arrays: Any, current: Any) -> Any:
    """The value of a node from :func:`encode_value` (arrays written into ``current`` where they fit)."""
    return _decode(node, arrays, current, "")


def _decode(node: Any, arrays: Any, current: Any, path: str) -> Any:
    """The value of ``node``, written into ``current`` where it is an array of the same shape."""
    if not isinstance(node, dict):
        return node
    if "nd" in node and "packed" not in node:
        saved = arrays[node["nd"]]
        if isinstance(current, np.ndarray) and current.shape == saved.shape and current.dtype == saved.dtype:
            if current.flags.writeable:
                current[...] = saved
                return current
            if np.array_equal(current, saved, equal_nan=True):  # a shared read-only table, unchanged
                return current
        return np.array(saved)
    if "packed" in node:
        values = arrays[node["nd"]]
        out = values.tolist() if node["type"] in ("int", "float") else list(values)
        return tuple(out) if node["packed"] == "tuple" else out
    if "np" in node:
        return np.dtype(node["np"]).type(node["v"])
    if "bigint" in node:
        return int(node["bigint"])
    if "rng" in node:
        if isinstance(current, np.random.Generator):
            current.bit_generator.state = node["rng"]
            return current
        raise CheckpointError(f"cannot restore {path}: the fresh model has no random generator there")
    if "dict" in node:
        cur = current if isinstance(current, dict) else {}
        return {k: _decode(x, arrays, cur.get(k), f"{path}[{k}]") for k, x in node["dict"].items()}
    if "list" in node or "tuple" in node:
        items = node.get("list", node.get("tuple"))
        cur = current if isinstance(current, (list, tuple)) and len(current) == len(items) else [None] * len(items)
        out = [_decode(x, arrays, c, f"{path}[{i}]") for i, (x, c) in enumerate(zip(items, cur, strict=True))]
        return tuple(out) if "tuple" in node else out
    raise CheckpointError(f"cannot restore {path}: unknown entry {sorted(node)}")


def restore(obj: Any, node: dict[str, Any], arrays: Any, path: str = "") -> None:
    """Put the state ``node`` (from :func:`capture`) back into ``obj``, a freshly built twin."""
    for name, field in node["obj"].items():
        where = f"{path}.{name}" if path else name
        current = getattr(obj, name, None)
        if isinstance(field, dict) and "obj" in field:
            if current is None or not is_part(current):
                raise CheckpointError(f"cannot restore {where}: the fresh model has no {name} object to fill")
            restore(current, field, arrays, where)
        elif isinstance(field, dict) and "objects" in field:
            if not isinstance(current, list) or len(current) != len(field["objects"]):
                raise CheckpointError(f"cannot restore {where}: the fresh model's list of parts differs")
            for i, (item, part) in enumerate(zip(field["objects"], current, strict=True)):
                if isinstance(item, dict):
                    restore(part, item, arrays, f"{where}[{i}]")
        else:
            value = _decode(field, arrays, current, where)
            if value is not current:
                setattr(obj, name, value)
