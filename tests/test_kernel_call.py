"""Kernel arguments bound by name: wrong names are refused before anything runs."""

from __future__ import annotations

import numba
import numpy as np
import pytest

from neuroabm import NeuroModel
from neuroabm.model.kernel_call import KernelCall
from neuroabm.model.kernels import deliver_block, integrate_block


@numba.njit
def clamp_add(x, lo, hi, add):
    for i in range(x.shape[0]):
        x[i] = min(max(x[i] + add, lo), hi)


def test_names_place_each_value_in_its_slot_whatever_the_order_given():
    x = np.array([0.0, 5.0, 9.0])
    call = KernelCall(clamp_add, hi=8.0, x=x, lo=1.0)  # keyword order differs from the signature's
    call(add=0.5)
    assert x.tolist() == [1.0, 5.5, 8.0]
    fast = call.positional("add")
    fast(False, 10.0)
    assert x.tolist() == [8.0, 8.0, 8.0]


def test_unknown_missing_and_uncovered_names_are_refused():
    x = np.zeros(2)
    with pytest.raises(TypeError, match="no argument 'high'"):
        KernelCall(clamp_add, x=x, lo=0.0, high=1.0)
    call = KernelCall(clamp_add, x=x, lo=0.0, hi=1.0)
    with pytest.raises(TypeError, match="needs add"):
        call()
    with pytest.raises(TypeError, match="no argument 'ad'"):
        call(ad=1.0)
    with pytest.raises(TypeError, match="must include add"):
        call.positional("lo")


def test_the_model_binds_every_argument_of_its_kernels_by_name():
    """Only the step range (neurons) and the synapse store's arrays (delivery) are passed per block."""
    m = NeuroModel(n_exc=80, n_inh=20, k_exc=8, k_inh=2, duration_ms=5.0, seed=1)
    for kernel in (integrate_block, deliver_block):
        names = KernelCall(kernel).names
        assert len(names) == len(set(names)) > 10
    with pytest.raises(TypeError):
        m._integrate(False, 0)  # a positional caller takes exactly its two per-block values
    m.run()
    assert m.spike_totals.sum() > 0
