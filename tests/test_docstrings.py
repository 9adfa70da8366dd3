"""The examples in the package's docstrings run and print what they show (NetworkX style).

Every module of ``neuroabm`` is imported and its ``>>>`` examples executed with :mod:`doctest`;
a docstring example that drifts from the code fails here, named by module and function.
"""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import neuroabm

MODULES = sorted(
    m.name
    for m in pkgutil.walk_packages(neuroabm.__path__, prefix="neuroabm.")
    if not m.name.endswith("__main__")  # runs the command line on import
)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples in {name} failed (output above)"


def test_the_examples_are_found() -> None:
    """The collection sees the package's examples (a walk that found nothing would pass vacuously)."""
    finder = doctest.DocTestFinder()
    with_examples = [n for n in MODULES if any(t.examples for t in finder.find(importlib.import_module(n)))]
    assert len(with_examples) >= 20, with_examples
    assert "neuroabm.model.spike_buffer" in with_examples and "neuroabm.model.kernel_call" in with_examples
