"""Fail fast, with one line, on a script that calls ``mesa.batch_run`` without a ``__main__`` guard.

``mesa.batch_run`` starts its worker processes with ``spawn``, which re-imports the script in every
worker. Called at the top level of the script, each worker calls ``batch_run`` again while it is
still starting, dies with "An attempt has been made to start a new process before the current
process has finished its bootstrapping phase", and the pool restarts it: the parent waits forever
(124 worker errors in a minute, and no result). The failure happens in the workers, before any
model is built, so the package checks the script itself instead: when ``neuroabm`` is imported by
a script run as ``__main__`` (not in a worker), :func:`check_main_script` reads the script's syntax
tree and stops with one line if a statement at its top level (outside ``if __name__ ==
"__main__":`` and outside any function or class) calls ``batch_run`` with more than one process
(``number_processes`` absent, ``None`` or above 1). A guarded script, one process, a notebook or
the command line are left alone.
"""

from __future__ import annotations

import ast
import multiprocessing
import sys
from pathlib import Path

#: scripts larger than this are not parsed (a script, not a data file)
MAX_SCRIPT_BYTES = 2_000_000


def _is_main_guard(node: ast.stmt) -> bool:
    """``if __name__ == "__main__":`` (either operand order)."""
    if not isinstance(node, ast.If) or not isinstance(node.test, ast.Compare) or len(node.test.ops) != 1:
        return False
    sides = [node.test.left, *node.test.comparators]
    names = {s.id for s in sides if isinstance(s, ast.Name)}
    values = {s.value for s in sides if isinstance(s, ast.Constant)}
    return isinstance(node.test.ops[0], ast.Eq) and names == {"__name__"} and values == {"__main__"}


def _parallel_batch_run(call: ast.Call) -> bool:
    """A call to ``batch_run`` (any module path) that may start more than one process."""
    func = call.func
    name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else None
    if name != "batch_run":
        return False
    for kw in call.keywords:
        if kw.arg == "number_processes":
            value = kw.value
            return not (isinstance(value, ast.Constant) and isinstance(value.value, int) and value.value == 1)
    return True  # Mesa's default (None) uses every core


def unguarded_batch_run_line(source: str) -> int | None:
    r"""Line of the first top-level statement that calls ``batch_run`` with several processes, or None.

    >>> unguarded_batch_run_line("import mesa\nrows = mesa.batch_run(M, {}, number_processes=2)\n")
    2
    >>> unguarded_batch_run_line('if __name__ == "__main__":\n    mesa.batch_run(M, {})\n') is None
    True
    >>> unguarded_batch_run_line("mesa.batch_run(M, {}, number_processes=1)\n") is None
    True
    """
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return None
    for stmt in tree.body:
        if _is_main_guard(stmt) or isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        for node in ast.walk(stmt):
            if isinstance(node, ast.Call) and _parallel_batch_run(node):
                return stmt.lineno
    return None


def check_main_script() -> None:
    """Stop with one line if the running script would make ``mesa.batch_run`` hang (see the module docstring)."""
    if multiprocessing.parent_process() is not None:
        return  # a worker: the parent has been checked
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    if main is None or path is None or getattr(main, "__name__", "") != "__main__":
        return
    script = Path(path)
    try:
        if script.suffix != ".py" or script.stat().st_size > MAX_SCRIPT_BYTES:
            return
        source = script.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return
    line = unguarded_batch_run_line(source)
    if line is not None:
        raise SystemExit(
            f"{script.name}, line {line}: mesa.batch_run at the top level of a script hangs (its workers are "
            f'started with spawn and re-run the script); put it under if __name__ == "__main__": '
            "(see README.md, parameter sweeps)"
        )
