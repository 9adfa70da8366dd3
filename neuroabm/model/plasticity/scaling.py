"""Multiplicative synaptic scaling of the excitatory in-strength (docs/REFERENCES.md, "Structure and plasticity").

Additive STDP with hard bounds drives weights to the bounds (Song, Miller & Abbott 2000), and with
pruning the network loses most of its synapses (issue 13: 1.6 M to 0.38 M synapses in 20 s). The
stabilizer here is the multiplicative constraint of Miller & MacKay (1994), in the form observed
by Turrigiano et al. (1998): all excitatory inputs of a neuron are scaled by one common factor,
which keeps their ratios (what STDP learned) and pulls their sum back to a set point. Every
``plasticity_period_ms`` ``T``, right after the flush (the weight slots then hold the weights),
each neuron's excitatory in-strength ``S_j`` relaxes toward its value at the start ``S0_j``::

    S_j  ->  S0_j + (S_j - S0_j) exp(-T / scaling_tau_ms)

by multiplying each of its plastic inputs by ``factor_j = new S_j / S_j`` (then clipped to
``[0, w_max_mv]``). Without STDP this is the exact solution of ``dS/dt = (S0 - S) / tau``. Neurons
with no excitatory input are left alone. New synapses (structural plasticity) join at ``j_mv`` and
are scaled from the next period on.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from neuroabm.model.model import NeuroModel


def scaling_factors(strength_mv: np.ndarray, target_mv: np.ndarray, period_ms: float, tau_ms: float) -> np.ndarray:
    """Per-neuron factors that move ``strength_mv`` a fraction ``1 - exp(-T/tau)`` of the way to ``target_mv``.

    >>> scaling_factors(np.array([2.0, 4.0, 0.0]), np.array([4.0, 4.0, 4.0]), 1.0, 1e-9).tolist()
    [2.0, 1.0, 1.0]
    """
    keep = math.exp(-period_ms / tau_ms)
    new = target_mv + (strength_mv - target_mv) * keep
    out = np.ones_like(strength_mv, dtype=float)
    ok = strength_mv > 0.0
    out[ok] = new[ok] / strength_mv[ok]
    return out


class SynapticScaling:
    """Scales each neuron's plastic inputs toward its initial excitatory in-strength."""

    def __init__(self, model: NeuroModel) -> None:
        self.model = model
        self.target_mv = self.in_strength()
        #: per call: t_ms, mean |log factor| (how hard scaling pulled)
        self.history: list[dict[str, float]] = []

    def in_strength(self) -> np.ndarray:
        """Sum of the plastic weight slots onto every neuron [mV] (free slots hold 0)."""
        m = self.model
        n_plastic = int(m.synapses.indptr[m.n_exc])
        tgt = m.synapses.targets[:n_plastic]
        return np.bincount(tgt, weights=m.synapses.weights[:n_plastic], minlength=m.n_neurons)

    def apply(self) -> None:
        """One scaling step; the weight slots must hold the weights (call right after a flush)."""
        m, p = self.model, self.model.params
        factor = scaling_factors(self.in_strength(), self.target_mv, float(p.plasticity_period_ms), p.scaling_tau_ms)
        n_plastic = int(m.synapses.indptr[m.n_exc])
        w = m.synapses.weights[:n_plastic]
        w *= factor[m.synapses.targets[:n_plastic]].astype(np.float32)
        np.clip(w, 0.0, p.w_max_mv, out=w)
        self.history.append({"t_ms": float(m.time), "log_factor_mean": float(np.abs(np.log(factor)).mean())})
