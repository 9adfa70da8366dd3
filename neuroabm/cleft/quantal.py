"""Quantal variability for the network: the distribution of peak open receptor counts, mean 1.

The network (item 3 of issue 18) scales every delivered excitatory PSP by a factor drawn from
this distribution. Mean-field theory (Siegert/Brunel) needs the second moment: with amplitudes
``J q`` and ``E[q] = 1``, the input variance per spike is ``J^2 E[q^2]``; :class:`QuantalDistribution`
carries ``E[q^2] / E[q]^2`` for that. The network's table (``quantal = "cleft"``,
:mod:`neuroabm.model.quantal`) is this distribution for 4,096 releases of the default synapse.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

__all__ = ["QuantalDistribution", "quantal_distribution", "quantal_from_params"]


@dataclass(frozen=True)
class QuantalDistribution:
    """Samples of the normalized quantal amplitude and its moments.

    Attributes:
        samples: peak open counts divided by their mean (mean exactly 1), float64.
        second_moment_ratio: ``E[J^2] / E[J]^2 = mean(samples^2) = 1 + CV^2`` (CV with ``ddof = 0``).

    """

    samples: np.ndarray
    second_moment_ratio: float

    @property
    def cv(self) -> float:
        """Coefficient of variation (population, ``ddof = 0``)."""
        return float(np.sqrt(self.second_moment_ratio - 1.0))


def quantal_distribution(peak_open: npt.ArrayLike) -> QuantalDistribution:
    """Normalize peak open counts to mean 1 and return them with ``E[J^2] / E[J]^2``.

    >>> q = quantal_distribution([10, 20, 30])
    >>> q.samples.tolist(), round(q.second_moment_ratio, 6)
    ([0.5, 1.0, 1.5], 1.166667)

    Raises:
        ValueError: if there are no samples or their mean is not > 0.

    """
    x = np.asarray(peak_open, dtype=np.float64).ravel()
    if x.size == 0 or not np.all(np.isfinite(x)) or not x.mean() > 0:
        raise ValueError("peak_open must be a non-empty array of finite counts with a mean > 0")
    samples = x / x.mean()
    return QuantalDistribution(samples=samples, second_moment_ratio=float(np.mean(samples**2)))


def quantal_from_params(
    config_path: str | Path | None = None, trials: int = 200, seed: int = 1, **overrides: object
) -> QuantalDistribution:
    """Simulate ``trials`` releases of the synapse in ``config_path`` (or the defaults) and normalize.

    Keyword ``overrides`` set cleft parameters (e.g. ``n_transmitter_cv=0.3``).
    """
    from neuroabm.cleft.params import load_cleft_config
    from neuroabm.cleft.simulate import simulate

    p = load_cleft_config(config_path, **overrides)
    return quantal_distribution(simulate(p, trials=trials, seed=seed).peak_open)
