"""Depressing synapses (Levina, Herrmann & Geisel 2007, docs/REFERENCES.md §6).

Levina's synapse ``j -> i`` has an efficacy ``J_ij`` that relaxes towards ``alpha / u`` with time
constant ``tau_J`` and loses the fraction ``u`` at every spike of the *presynaptic* neuron::

    dJ_ij/dt = (alpha/u - J_ij) / tau_J - u J_ij delta(t - t_j)

and the spike delivers ``u J_ij(t_j^-) / N`` to neuron ``i``. Written with the resource fraction
``x = u J / alpha`` in [0, 1], the delivered PSP is ``w x_j(t_j^-)`` with the static weight
``w = alpha / N`` (``j_mv``), and::

    dx_j/dt = (1 - x_j) / tau_rec - u x_j delta(t - t_j)

**One variable per presynaptic neuron.** Neither term depends on the postsynaptic neuron, so all
synapses leaving neuron ``j`` obey the same equation. With identical initial values they stay
identical for ever, so one ``x_j`` per neuron is *exact* (not an approximation); with different
initial values their differences shrink by ``(1 - u)`` per spike and ``exp(-t / tau_rec)`` in
between, so the per-neuron model is also the long-time limit of any initial condition. Memory is
one float per neuron and the update one multiply per spike (:func:`depress_block`).

**Exact time integration.** Between spikes ``x`` relaxes in closed form,
``x(t) = 1 - (1 - x(t0)) exp(-(t - t0) / tau_rec)``, evaluated lazily at the next spike of the
same neuron; the spike is delivered with ``x(t_j^-)`` and then ``x <- (1 - u) x``. Spike times
are exact on the step grid (a spike in step ``k`` happens at ``(k + 1) dt``), so there is no
discretization error at all.

Theory: under a periodic presynaptic train of period ``T`` the value just before each spike tends
to ``x* = (1 - E) / (1 - (1 - u) E)``, ``E = exp(-T / tau_rec)`` (:func:`periodic_steady_state`);
under a Poisson train of rate ``nu`` the mean is ``1 / (1 + u nu tau_rec)`` (spikes see time
averages, PASTA), which is Levina's mean-field efficacy.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from neuroabm.checks import non_negative, positive


@nb.njit(parallel=True, cache=True)
def depress_block(
    spk_neuron: np.ndarray,
    spk_step: np.ndarray,
    chunk_lo: np.ndarray,
    chunk_n: np.ndarray,
    cap: int,
    x: np.ndarray,
    last_step: np.ndarray,
    u: float,
    steps_per_tau: float,
    out_scale: np.ndarray,
) -> None:
    """Efficacy of every spike of a block, then the depression it causes.

    The block's spikes sit in per-chunk buffers (``spk_neuron[chunk_lo[c] * cap + e]``, ``e <
    chunk_n[c]``), each neuron in one chunk with its spikes in time order, so chunks run in
    parallel without conflicts. For spike ``e`` of neuron ``i`` in step ``k``: recover ``x[i]``
    from step ``last_step[i]`` to ``k`` in closed form, write it to ``out_scale[e]`` (the factor
    delivery multiplies the weights by), then ``x[i] *= 1 - u`` and ``last_step[i] = k``.

    Args:
        spk_neuron: spiking neuron of each buffer entry.
        spk_step: integration step of each buffer entry.
        chunk_lo: first neuron of each chunk, shape (n_chunks + 1,).
        chunk_n: spikes found in each chunk.
        cap: buffer entries reserved per neuron.
        x: resource fraction of every neuron's outgoing synapses, in [0, 1] (updated in place).
        last_step: step at which ``x`` was last updated (updated in place).
        u: fraction of the resource used by a spike, in (0, 1].
        steps_per_tau: ``tau_rec / dt``, the recovery time constant in steps (``inf``: none).
        out_scale: per buffer entry, the efficacy factor of that spike (written).

    """
    for c in nb.prange(chunk_lo.shape[0] - 1):
        base = chunk_lo[c] * cap
        for e in range(chunk_n[c]):
            q = base + e
            i = spk_neuron[q]
            k = spk_step[q]
            # 1 - (1 - x) e^(-d) = x + (1 - x)(1 - e^(-d)), with expm1 for short intervals
            xi = x[i] - (1.0 - x[i]) * math.expm1(-(k - last_step[i]) / steps_per_tau)
            out_scale[q] = xi
            x[i] = (1.0 - u) * xi
            last_step[i] = k


def periodic_steady_state(u: float, period_ms: float, tau_rec_ms: float) -> float:
    """Efficacy just before each spike of a long periodic presynaptic train (the fixed point).

    From ``x_{n+1} = 1 - (1 - (1 - u) x_n) E`` with ``E = exp(-T / tau_rec)``:
    ``x* = (1 - E) / (1 - (1 - u) E)``.

    Args:
        u: fraction of the resource used per spike, in (0, 1].
        period_ms: inter-spike interval T [ms], > 0.
        tau_rec_ms: recovery time constant [ms], > 0.

    Returns:
        The resource fraction x* in (0, 1].

    """
    _check_u(u)
    e = math.exp(-positive("period_ms", period_ms, "ms") / positive("tau_rec_ms", tau_rec_ms, "ms"))
    return (1.0 - e) / (1.0 - (1.0 - u) * e)


def poisson_mean_efficacy(u: float, rate_hz: float, tau_rec_ms: float) -> float:
    """Mean efficacy ``1 / (1 + u nu tau_rec)`` under a Poisson presynaptic train of rate ``nu`` [Hz]."""
    _check_u(u)
    return 1.0 / (1.0 + u * non_negative("rate_hz", rate_hz, "Hz") * positive("tau_rec_ms", tau_rec_ms, "ms") / 1000.0)


def _check_u(u: float) -> None:
    if not (0.0 < float(u) <= 1.0):
        raise ValueError(f"u must be a number in (0, 1] (got {u!r})")


class Depression:
    """Per-neuron synaptic resources of a network with depressing synapses.

    Args:
        n: number of neurons.
        u: fraction of the resource used per spike, in (0, 1].
        tau_rec_ms: recovery time constant [ms] (Levina's ``tau_J``).
        dt_ms: integration step [ms].

    Attributes:
        x: resource fraction of each neuron's outgoing synapses at ``last_step`` (starts at 1,
            fully recovered).
        last_step: step of the last update of ``x`` (-1: time 0).

    """

    def __init__(self, n: int, u: float, tau_rec_ms: float, dt_ms: float) -> None:
        _check_u(u)
        self.u = float(u)
        self.tau_rec_ms = positive("tau_rec_ms", tau_rec_ms, "ms")
        self.dt_ms = positive("dt_ms", dt_ms, "ms")
        self.steps_per_tau = self.tau_rec_ms / self.dt_ms
        self.x = np.ones(n)
        self.last_step = np.full(n, -1, np.int64)

    def apply(
        self, spk_neuron: np.ndarray, spk_step: np.ndarray, chunk_lo: np.ndarray, chunk_n: np.ndarray, cap: int,
        out_scale: np.ndarray,
    ) -> None:  # fmt: skip
        """Write the efficacy of each of the block's spikes to ``out_scale`` and depress (see :func:`depress_block`)."""
        depress_block(
            spk_neuron, spk_step, chunk_lo, chunk_n, cap, self.x, self.last_step, self.u, self.steps_per_tau,
            out_scale,
        )  # fmt: skip

    def efficacy(self, step: int) -> np.ndarray:
        """Resource fraction of every neuron recovered to the end of step ``step`` (time ``(step + 1) dt``)."""
        return 1.0 - (1.0 - self.x) * np.exp(-(step - self.last_step) / self.steps_per_tau)
