"""The mean and noise of a neuron's input, estimated from its recorded membrane potential.

The first-passage theory of ``neuroabm analyze`` describes a neuron's input as white noise with a
mean ``mu`` and an amplitude ``sigma`` (``tau dV = (mu - V) dt + sigma sqrt(tau) dW``). In a
recurrent network these come from Brunel's (2000) diffusion approximation, which treats the inputs
as Poisson; a regular-firing network (CV well below 1) gives an input that fluctuates less on the
membrane's time scale than that, so the theory's density is too wide. This module measures the
``mu`` and ``sigma`` the membrane actually saw.

Estimator. Without threshold the leaky membrane driven by white noise is an Ornstein–Uhlenbeck
process, exactly: ``V(t + L) = mu + (V(t) - mu) b + sigma sqrt((1 - b^2) / 2) xi`` with
``b = exp(-L / tau)`` and ``xi`` standard normal. With ``r = V(t + L) - b V(t)``:
``mu = mean(r) / (1 - b)`` and ``sigma^2 = 2 var(r) / (1 - b^2)``. A reset is a jump of
``V_th - V_r`` down, which decays like any other input, so adding ``(V_th - V_r) exp(-(t + L - s) / tau)``
back for every spike at ``s`` in a window gives the free membrane's increment. The membrane is then
held at ``V_r`` for ``t_ref``; a free one would have moved to ``mu + (V_r - mu) e^(-t_ref / tau)``
with noise, so the clamp's missing drift, ``(mu - V_r)(1 - e^(-t_ref/tau))`` decayed to the window's
end, is added back too (linear in ``mu``: the mean is solved in closed form), and the noise it
dropped, ``sigma^2 / 2 (1 - e^(-2 t_ref/tau))`` decayed likewise, is taken out of the variance's
expectation. Windows are non-overlapping (independent for a Markov process); those starting within
a refractory period are dropped. Dropping the windows with a spike instead would drop the upward
excursions that reach threshold and bias ``mu`` and ``sigma`` low (both by 16-17 % in
``runs/brunel_ai.toml``). What remains: the overshoot above threshold of the input that fired
(half a synaptic weight on average; zero for white noise).

The lag matters when the input is not white: a regular-firing network's input fluctuates less on
long time scales than Poisson input of the same rate, so ``sigma`` falls with ``L``. The default
``L`` is half the membrane time constant, the scale on which the membrane integrates its input on
the way to threshold; ``analysis.json`` reports ``L``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

#: fewest windows worth an estimate
MIN_PAIRS = 50


@dataclass(frozen=True)
class MembraneInput:
    """Input statistics estimated from recorded membranes.

    Attributes:
        mu_mv: Mean input ``mu`` [mV].
        sigma_mv: Noise amplitude ``sigma`` [mV].
        lag_ms: Window ``L`` of the estimator [ms].
        n_pairs: Windows used.

    """

    mu_mv: float
    sigma_mv: float
    lag_ms: float
    n_pairs: int


def membrane_input(
    v_mv: np.ndarray, t_ms: np.ndarray, neuron_ids: np.ndarray, spike_t_ms: np.ndarray, spike_neuron: np.ndarray,
    tau_m_ms: float, v_th_mv: float, v_reset_mv: float, t_ref_ms: float = 0.0, lag_ms: float | None = None,
) -> MembraneInput | None:  # fmt: skip
    """Estimate ``mu`` and ``sigma`` of the white-noise input from recorded membrane potentials.

    Args:
        v_mv: Membrane potentials, shape (n_t, n_recorded) [mV].
        t_ms: Sample times, equally spaced [ms].
        neuron_ids: Index of each recorded neuron (column of ``v_mv``).
        spike_t_ms: Spike times of the run [ms].
        spike_neuron: Neuron of each spike.
        tau_m_ms: Membrane time constant [ms].
        v_th_mv: Threshold [mV].
        v_reset_mv: Reset potential [mV] (the membrane is held there while refractory).
        t_ref_ms: Refractory period [ms]: windows starting within it after a spike are dropped.
        lag_ms: Window ``L`` [ms]; default ``tau_m / 2`` rounded to the sampling grid.

    Returns:
        The estimate, or None with fewer than :data:`MIN_PAIRS` windows.

    Example: an Ornstein–Uhlenbeck membrane with mu = 5 mV, sigma = 2 mV that never fires.

    >>> rng = np.random.default_rng(0)
    >>> b = math.exp(-0.5 / 20.0)
    >>> v = np.zeros((20_000, 4))
    >>> for i in range(1, v.shape[0]):
    ...     v[i] = 5.0 + (v[i - 1] - 5.0) * b + 2.0 * math.sqrt((1 - b * b) / 2) * rng.standard_normal(4)
    >>> no_spikes = np.empty(0), np.empty(0, int)
    >>> est = membrane_input(v, np.arange(v.shape[0]) * 0.5, np.arange(4), *no_spikes, 20.0, 20.0, 10.0)
    >>> round(est.mu_mv, 1), round(est.sigma_mv, 1), est.lag_ms
    (5.0, 2.0, 10.0)

    """
    if t_ms.size < 2 or v_mv.size == 0:
        return None
    dt = float(t_ms[1] - t_ms[0])
    k = max(1, round((0.5 * tau_m_ms if lag_ms is None else lag_ms) / dt))
    lag = k * dt
    starts = np.arange(0, t_ms.size - k, k)
    t0, t1 = t_ms[starts], t_ms[starts + k]
    b = math.exp(-lag / tau_m_ms)
    r0, c1, c2 = [], [], []
    order = np.argsort(spike_neuron, kind="stable")
    by_neuron, t_sorted = spike_neuron[order], spike_t_ms[order]
    for col, nid in enumerate(np.asarray(neuron_ids)):
        lo, hi = np.searchsorted(by_neuron, nid), np.searchsorted(by_neuron, nid, side="right")
        own = np.sort(t_sorted[lo:hi])
        refractory = np.searchsorted(own, t0, side="right") - np.searchsorted(own, t0 - t_ref_ms, side="right") > 0
        w = np.searchsorted(t1, own, side="left")  # the window each spike falls in: t0 < s <= t1
        inside = w < starts.size
        inside[inside] &= own[inside] > t0[w[inside]]
        w, s = w[inside], own[inside]
        clamp = np.minimum(t_ref_ms, t1[w] - s)  # the refractory part of the window after s
        after = np.exp(-(t1[w] - s - clamp) / tau_m_ms)  # decay from the end of the clamp to t1
        jump, mean_part, var_part = (np.zeros(starts.size) for _ in range(3))
        np.add.at(jump, w, (v_th_mv - v_reset_mv) * np.exp(-(t1[w] - s) / tau_m_ms))
        np.add.at(mean_part, w, (1.0 - np.exp(-clamp / tau_m_ms)) * after)
        np.add.at(var_part, w, (1.0 - np.exp(-2.0 * clamp / tau_m_ms)) * after**2)
        keep = ~refractory
        r0.append(v_mv[starts[keep] + k, col] + jump[keep] - b * v_mv[starts[keep], col])
        c1.append(mean_part[keep])
        c2.append(var_part[keep])
    r0_all = np.concatenate(r0) if r0 else np.empty(0)
    if r0_all.size < MIN_PAIRS:
        return None
    c1_all, c2_all = np.concatenate(c1), np.concatenate(c2)
    # r = r0 + (mu - V_r) c1 is the free increment, mean mu (1 - b); solved for mu in closed form
    mu = float((r0_all.mean() - v_reset_mv * c1_all.mean()) / ((1.0 - b) - c1_all.mean()))
    r = r0_all + (mu - v_reset_mv) * c1_all
    # the noise the clamp dropped is missing from var(r): sigma^2 / 2 (1 - b^2 - mean(c2))
    sigma = float(math.sqrt(2.0 * r.var(ddof=1) / ((1.0 - b * b) - c2_all.mean())))
    return MembraneInput(mu, sigma, float(lag), int(r0_all.size))
