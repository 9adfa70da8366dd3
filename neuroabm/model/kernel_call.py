"""Kernel arguments bound by name: a swapped, missing or misspelt argument cannot reach a kernel.

The numba kernels take 15-30 positional arguments, many of them floats or arrays of one type, and
numba accepts two swapped floats (``v_th`` and ``v_reset``) without a word. Calling them with
keywords would be safe but costs ~1.3 us per call in numba's dispatcher. :class:`KernelCall`
does the naming once, at setup: every argument is given by its parameter name (checked against the
kernel's signature: unknown or missing names raise ``TypeError``), kept in a list in signature
order, and each call fills in the few that change by name and passes the list positionally (the
cost of a list copy, ~0.2 us); :meth:`KernelCall.positional` names the per-call arguments once and
returns a caller as cheap as a hand-written positional call, for the model's block loop. The
serial twin (:func:`neuroabm.model.threads.serial_twin`) has the same signature and shares the
binding.

>>> import numba
>>> import numpy as np
>>> @numba.njit
... def axpy(a, x, y):
...     y += a * x
>>> x, y = np.ones(3), np.zeros(3)
>>> call = KernelCall(axpy, x=x, y=y)
>>> call(a=2.0)
>>> y.tolist()
[2.0, 2.0, 2.0]
>>> KernelCall(axpy, x=x, why=y)
Traceback (most recent call last):
    ...
TypeError: axpy has no argument 'why' (its arguments: a, x, y)
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

#: marks an argument that every call must give
_PER_CALL = object()


class KernelCall:
    """``kernel`` with its fixed arguments bound by name; call it with the others by name.

    Args:
        kernel: A numba dispatcher (its Python signature is read from ``py_func``).
        serial: The serial twin (same signature), used when a call asks for it.
        **fixed: Arguments that stay the same object or value for the model's lifetime (arrays are
            bound by reference: state updated in place is seen; a replaced array must be given per
            call instead). Parameters with defaults that are not given keep their defaults.

    """

    #: a binding, not state: a checkpoint (:mod:`neuroabm.checkpoint`) skips it; the arrays it holds
    #: are restored in place through their owners
    checkpoint_opaque = True

    def __init__(self, kernel: Callable[..., Any], serial: Callable[..., Any] | None = None, **fixed: Any) -> None:
        self.kernel, self.serial = kernel, serial or kernel
        self.name = getattr(kernel, "__name__", "kernel")
        params = inspect.signature(getattr(kernel, "py_func", kernel)).parameters
        self.names = list(params)
        unknown = [n for n in fixed if n not in params]
        if unknown:
            raise TypeError(f"{self.name} has no argument {unknown[0]!r} (its arguments: {', '.join(self.names)})")
        self._slot = {n: i for i, n in enumerate(self.names)}
        self._template = [
            fixed[n] if n in fixed else (p.default if p.default is not inspect.Parameter.empty else _PER_CALL)
            for n, p in params.items()
        ]
        self.per_call = frozenset(n for n, v in zip(self.names, self._template, strict=True) if v is _PER_CALL)

    def __call__(self, serial: bool = False, **values: Any) -> Any:
        """Run the kernel (its serial twin with ``serial``) with ``values`` filling the named slots."""
        args = self._template.copy()
        try:
            for name, value in values.items():
                args[self._slot[name]] = value
        except KeyError as exc:
            raise TypeError(f"{self.name} has no argument {exc.args[0]!r}") from None
        missing = sorted(self.per_call - set(values))
        if missing:
            raise TypeError(f"{self.name} needs {', '.join(missing)} at every call")
        return (self.serial if serial else self.kernel)(*args)

    def positional(self, *names: str) -> Callable[..., Any]:
        """A caller ``f(serial, *values)`` for a hot loop: ``values`` fill ``names`` in that order.

        ``names`` must include every argument not bound at setup (checked now, once; others with
        defaults may be added). The caller
        writes them into one argument list kept between calls (the model calls from one thread),
        so a call costs what a hand-written positional call does.
        """
        unknown = [n for n in names if n not in self._slot]
        if unknown or not self.per_call.issubset(names) or len(names) != len(set(names)):
            raise TypeError(
                f"{self.name}: the per-call arguments must include {', '.join(sorted(self.per_call))} and be "
                f"among its arguments, each once (given {', '.join(names)})"
            )
        args = self._template.copy()
        kernel, serial_kernel = self.kernel, self.serial
        slots = [self._slot[n] for n in names]
        if len(slots) == 2:  # the neuron kernel's (k0, n_steps): unrolled
            i, j = slots

            def call2(serial: bool, a: Any, b: Any) -> Any:
                args[i] = a
                args[j] = b
                return (serial_kernel if serial else kernel)(*args)

            return call2

        def call(serial: bool, *values: Any) -> Any:
            for slot, value in zip(slots, values, strict=True):
                args[slot] = value
            return (serial_kernel if serial else kernel)(*args)

        return call


__all__ = ["KernelCall"]
