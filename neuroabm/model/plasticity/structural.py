"""Structural plasticity: weak excitatory synapses are pruned and new ones grown (docs/REFERENCES.md §5).

Every ``struct_period_ms`` (a Mesa event, priority LOW), after the plastic weights are brought up
to date:

1. every excitatory synapse whose weight is below ``w_prune_mv`` is removed;
2. each neuron ``j`` grows ``Poisson(growth_hz T max(0, 1 + growth_da_gain (D_j - D0)))`` new
   incoming excitatory synapses (``T`` the period, ``D_j`` its local dopamine), each from a source
   drawn with the network's distance kernel (uniform or periodic Gaussian), with weight ``j_mv``;
3. each excitatory row is rewritten in place: kept synapses, then the new ones merged in target
   order, within the row's capacity (built with ``row_slack`` spare room; growth that does not
   fit is dropped and counted). Only rows change: no global rebuild of the store. The delivery
   partitions of the rows are then refreshed.

The per-synapse STDP state moves with its synapse; new synapses start with zero eligibility.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numba as nb
import numpy as np

from neuroabm.model.connectivity import draw_sources_at
from neuroabm.model.synapses import update_splits

if TYPE_CHECKING:
    from neuroabm.model.model import NeuroModel


@nb.njit(cache=True, parallel=True)
def rewrite_rows(indptr, split, targets, weights, elig, n_rows, w_prune, new_ptr, new_tgt, w_new, out):
    """Prune and merge in place, row by row (rows independent: parallel).

    ``new_tgt[new_ptr[s]:new_ptr[s + 1]]`` are the sorted targets of row ``s``'s new synapses.
    ``out[s]`` receives ``(pruned, grown, dropped)``; ``split[s, -1]`` the new live length.
    """
    for s in nb.prange(n_rows):
        a = indptr[s]
        cap = indptr[s + 1] - a
        live = split[s, split.shape[1] - 1]
        # 1. compact the kept synapses to the front
        kept = 0
        for q in range(a, a + live):
            if weights[q] >= w_prune:
                if q != a + kept:
                    targets[a + kept] = targets[q]
                    weights[a + kept] = weights[q]
                    elig[a + kept] = elig[q]
                kept += 1
        n0, n1 = new_ptr[s], new_ptr[s + 1]
        grown = min(n1 - n0, cap - kept)
        # 2. merge from the back: kept (sorted) and new (sorted) into a + 0 .. a + kept + grown - 1
        i = kept - 1
        j = n0 + grown - 1
        for w in range(a + kept + grown - 1, a - 1, -1):
            if j >= n0 and (i < 0 or new_tgt[j] >= targets[a + i]):
                targets[w] = new_tgt[j]
                weights[w] = w_new
                elig[w] = 0.0
                j -= 1
            else:
                targets[w] = targets[a + i]
                weights[w] = weights[a + i]
                elig[w] = elig[a + i]
                i -= 1
        for q in range(a + kept + grown, a + cap):  # free slots
            targets[q] = 0
            weights[q] = 0.0
            elig[q] = 0.0
        split[s, split.shape[1] - 1] = kept + grown
        out[s, 0] = live - kept
        out[s, 1] = grown
        out[s, 2] = (n1 - n0) - grown


def grow_synapses(model: NeuroModel) -> tuple[np.ndarray, np.ndarray]:
    """Draw this period's new excitatory synapses: ``(sources, targets)`` sorted by (source, target)."""
    p = model.params
    d = model.da_local - p.da_baseline_um
    lam = p.growth_hz * p.struct_period_ms / 1000.0 * np.maximum(0.0, 1.0 + p.growth_da_gain * d)
    counts = model.rng.poisson(lam)
    tgt = np.repeat(np.arange(model.n_neurons), counts)
    src = draw_sources_at(model.rng, model.positions, tgt, 0, model.n_exc, p.side_mm, p.kernel, p.sigma_mm)
    order = np.lexsort((tgt, src))
    return src[order].astype(np.int64), tgt[order]


class StructuralPlasticity:
    """Prunes and grows the excitatory synapses of a model on ``struct_period_ms``."""

    def __init__(self, model: NeuroModel) -> None:
        self.model = model
        self.history: list[dict[str, float]] = []  # per step: t_ms, pruned, grown, dropped

    def step(self) -> None:
        """One pruning-and-growth step (see the module docstring)."""
        model, p = self.model, self.model.params
        plast = model.plasticity
        plast.sweep()  # weight slots hold the weights, eligibility re-referenced
        syn = model.synapses
        src, tgt = grow_synapses(model)
        new_ptr = np.searchsorted(src, np.arange(model.n_exc + 1)).astype(np.int64)
        out = np.zeros((model.n_exc, 3), np.int64)
        rewrite_rows(
            syn.indptr, syn.split, syn.targets, syn.weights, plast.elig, model.n_exc, p.w_prune_mv,
            new_ptr, tgt.astype(syn.targets.dtype), np.float32(p.j_mv), out,
        )  # fmt: skip
        row_len = syn.split[:, -1].astype(np.int64)
        update_splits(syn.indptr, row_len, syn.targets, syn.bounds, syn.split, 0, model.n_exc)
        model.in_degree = syn.in_degree()
        pruned, grown, dropped = (int(x) for x in out.sum(axis=0))
        self.history.append({"t_ms": float(model.time), "pruned": pruned, "grown": grown, "dropped": dropped})
