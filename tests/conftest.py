"""Shared helpers: small, fast network configurations."""

from __future__ import annotations

import pytest

from neuroabm import NeuroModel

#: a 500-neuron Brunel network that builds and runs in milliseconds
SMALL = dict(n_exc=400, n_inh=100, k_exc=40, k_inh=10, j_mv=0.5, g=5.0, eta=2.0, duration_ms=50.0)


def small_model(**overrides) -> NeuroModel:
    """A small Brunel network; keyword arguments override :data:`SMALL`."""
    return NeuroModel(**{**SMALL, "seed": 7, **overrides})


@pytest.fixture
def model() -> NeuroModel:
    return small_model()


def pytest_configure(config) -> None:
    """Under pytest-xdist every worker runs its kernels on one thread (workers x threads <= cores).

    Tests that compare thread counts ask for ``threads=2`` explicitly, which numba's pool still has.
    """
    import os

    if os.environ.get("PYTEST_XDIST_WORKER"):
        import numba

        numba.set_num_threads(1)
