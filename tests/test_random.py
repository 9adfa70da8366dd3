"""Counter-based random streams and the Poisson sampler used by the kernels."""

from __future__ import annotations

import numba as nb
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from neuroabm.model.random_streams import (
    bits_to_uniform,
    draw_bits,
    mix64,
    poisson_draw,
    poisson_table,
    slot_counter,
    standard_normal,
    stream_state,
    stream_stride,
    uniform,
)

KEY = np.uint64(0x1234_5678_9ABC_DEF0)


@nb.njit
def _poisson_sample(n, upper, guide, key):
    out = np.empty(n, np.int64)
    for i in range(n):
        out[i] = poisson_draw(mix64(stream_state(key, np.uint64(i))), upper, guide)
    return out


@nb.njit
def _normals(n, key):
    out = np.empty(n)
    for i in range(n):
        out[i] = standard_normal(stream_state(key, np.uint64(4 * i)))
    return out


@nb.njit
def _walk_equals_random_access(key, n_streams, stream, steps):
    state = stream_state(key, slot_counter(0, n_streams, stream))
    stride = stream_stride(n_streams)
    for k in range(steps):
        for j in range(4):
            direct = uniform(key, slot_counter(k, n_streams, stream) + np.uint64(j))
            if bits_to_uniform(draw_bits(state, j)) != direct:
                return False
        state += stride
    return True


@settings(max_examples=60, deadline=None)
@given(st.floats(min_value=0.0, max_value=300.0))
def test_poisson_table_reproduces_the_poisson_cdf(lam):
    upper, guide = poisson_table(lam)
    implied_cdf = (upper.astype(float) + 1.0) / 2.0**64
    k = np.arange(upper.size)
    exact = stats.poisson.cdf(k, lam)
    assert np.allclose(implied_cdf[:-1], exact[:-1], rtol=0, atol=1e-15)
    assert stats.poisson.sf(k[-1], lam) < 1e-16  # folded tail is negligible
    assert np.all(np.diff(guide) >= 0)


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=2**64 - 1), st.sampled_from([0.05, 2.0, 37.5]))
def test_guided_search_equals_plain_inversion(z, lam):
    upper, guide = poisson_table(lam)
    expected = int(np.searchsorted(upper, np.uint64(z), side="left"))  # smallest k with z <= upper[k]
    assert poisson_draw(np.uint64(z), upper, guide) == expected


@pytest.mark.parametrize("lam", [0.3, 2.0, 50.0])
def test_poisson_draws_pass_a_chi_square_test(lam):
    upper, guide = poisson_table(lam)
    x = _poisson_sample(400_000, upper, guide, KEY)
    kmax = int(stats.poisson.ppf(1 - 1e-4, lam))
    observed = np.bincount(np.minimum(x, kmax), minlength=kmax + 1)
    p = stats.poisson.pmf(np.arange(kmax + 1), lam)
    p[-1] = stats.poisson.sf(kmax - 1, lam)
    chi2 = stats.chisquare(observed, p * x.size)
    assert chi2.pvalue > 1e-4


def test_normals_are_standard_normal():
    z = _normals(200_000, KEY)
    assert stats.kstest(z, "norm").pvalue > 1e-4


def test_walking_a_stream_equals_random_access():
    assert _walk_equals_random_access(KEY, 1000, 17, 50)


def test_uniforms_are_uniform_and_distinct_streams_uncorrelated():
    @nb.njit
    def draws(n, key, offset):
        out = np.empty(n)
        for i in range(n):
            out[i] = uniform(key, np.uint64(4 * i + offset))
        return out

    a, b = draws(200_000, KEY, 0), draws(200_000, KEY, 1)
    assert stats.kstest(a, "uniform").pvalue > 1e-4
    assert abs(np.corrcoef(a, b)[0, 1]) < 5 / np.sqrt(a.size)
