"""Statistics of spike trains given as ``(t_ms, neuron)`` arrays (any source, not only neuroabm)."""

from __future__ import annotations

import numpy as np


def cv_isi(t_ms: np.ndarray, neuron: np.ndarray, min_isis: int = 2) -> np.ndarray:
    """Coefficient of variation of the inter-spike intervals, per neuron present in the data.

    Args:
        t_ms: spike times [ms].
        neuron: neuron index of each spike.
        min_isis: neurons with fewer intervals get NaN.

    Returns:
        Array indexed by neuron id (length ``neuron.max() + 1``).

    """
    if t_ms.size == 0:
        return np.empty(0)
    order = np.lexsort((t_ms, neuron))
    t, nr = np.asarray(t_ms)[order], np.asarray(neuron)[order]
    same = nr[1:] == nr[:-1]
    isi = np.diff(t)[same]
    owner = nr[1:][same]
    n = int(nr.max()) + 1
    cnt = np.bincount(owner, minlength=n).astype(float)
    s1 = np.bincount(owner, isi, minlength=n)
    s2 = np.bincount(owner, isi * isi, minlength=n)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = s1 / cnt
        cv = np.sqrt(np.maximum(s2 / cnt - mean**2, 0.0)) / mean
    cv[cnt < min_isis] = np.nan
    return cv


def population_rate(
    t_ms: np.ndarray, n_neurons: int, duration_ms: float, bin_ms: float = 1.0
) -> tuple[np.ndarray, np.ndarray]:
    """Population rate [Hz] in bins: returns ``(bin_start_ms, rate_hz)``."""
    edges = np.arange(0.0, duration_ms + bin_ms, bin_ms)
    counts, _ = np.histogram(t_ms, bins=edges)
    return edges[:-1], counts / (n_neurons * bin_ms / 1000.0)
