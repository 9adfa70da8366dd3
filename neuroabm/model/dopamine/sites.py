"""Dopamine release sites: Mesa agents on the torus, their catchments and their release law.

Each site releases at a rate made of a tonic part and an activity feedback::

    R_s = max(0, release_tonic + feedback_gain * (target_rate_hz - r_s))     [uM mm^2 / ms]

where ``r_s`` is a running estimate of the firing rate of the neurons in the site's catchment (all
neurons within ``site_radius_mm``, periodic), relaxing with time constant ``tau_site_ms``. With
dopamine depolarizing neurons (``da_excitability_mv > 0``), a positive gain is homeostatic
(release rises when the catchment is too quiet) and a negative gain is runaway feedback. Phasic
rewards add to this (see :mod:`neuroabm.model.dopamine.rewards`).

Site state lives in :class:`SiteArrays`; a :class:`ReleaseSite` agent is a view onto one row and
decides its own release in :meth:`ReleaseSite.step`, so Mesa's ``model.sites.select(...)``,
``do("step")`` and ``shuffle_do("step")`` act on real behaviour. Once per field step, after the
window's spikes are counted into the catchments, the dopamine system runs :meth:`SiteArrays.update`,
the vectorized twin of every site's ``step`` (tested equal bit for bit); when a site's class
overrides ``step`` (or ``model.dopamine.per_agent`` is set), it steps the agents one by one instead
(0.6 us per site: 41 us per field step for 64 sites, 6 % of a 10,000-neuron run with a 1 ms field
step; benchmarks/bench_dopamine.py). Neurons stay views without a step: 10^4 of them every 0.1 ms is
what the numba kernels are for.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numba as nb
import numpy as np
import scipy.sparse as sp
from mesa.experimental.continuous_space import ContinuousSpaceAgent

from neuroabm.model.space import place_uniform, torus_tree

if TYPE_CHECKING:
    from neuroabm.model.model import NeuroModel


def site_positions(rng: np.random.Generator, n_sites: int, side_mm: float, layout: str) -> np.ndarray:
    """Site positions [mm], shape (n_sites, 2): cell centres of a square lattice, or uniform."""
    if layout == "lattice":
        m = math.isqrt(n_sites)
        if m * m != n_sites:
            raise ValueError(f"n_sites = {n_sites} must be a perfect square for a lattice layout")
        c = (np.arange(m) + 0.5) * side_mm / m
        gx, gy = np.meshgrid(c, c, indexing="ij")
        return np.column_stack([gx.ravel(), gy.ravel()])
    if layout == "random":
        return place_uniform(rng, n_sites, side_mm)
    raise ValueError(f"site_layout = {layout!r}: allowed 'lattice' or 'random'")


def catchment_matrix(site_xy: np.ndarray, neuron_xy: np.ndarray, radius_mm: float, side_mm: float) -> sp.csr_matrix:
    """Sparse (n_sites x n_neurons) 0/1 matrix: neuron j lies within ``radius_mm`` of site s on the torus."""
    tree = torus_tree(neuron_xy, side_mm)
    lists = tree.query_ball_point(np.mod(site_xy, side_mm), radius_mm)
    indptr = np.zeros(len(lists) + 1, np.int64)
    indptr[1:] = np.cumsum([len(x) for x in lists])
    indices = np.fromiter((j for x in lists for j in sorted(x)), np.int64, count=indptr[-1])
    data = np.ones(indices.size)
    return sp.csr_matrix((data, indices, indptr), shape=(len(lists), neuron_xy.shape[0]))


@nb.njit(cache=True, boundscheck=False)
def _count_spikes(neurons: np.ndarray, site_ptr: np.ndarray, site_idx: np.ndarray, counts: np.ndarray) -> None:
    """Add each spike to the counters of every site whose catchment holds the neuron."""
    for e in range(neurons.shape[0]):
        j = neurons[e]
        for q in range(site_ptr[j], site_ptr[j + 1]):
            counts[site_idx[q]] += 1.0


@nb.njit(cache=True)
def _update_sites(
    neurons: np.ndarray, site_ptr: np.ndarray, site_idx: np.ndarray,
    counts: np.ndarray, window_s: np.ndarray, rate_hz: np.ndarray, release: np.ndarray, alpha: float,
    tonic: float, gain: float, target_hz: float, dt_ms: float, amounts: np.ndarray,
) -> float:  # fmt: skip
    """Count the window's last spikes, relax the estimates toward the window's rates, set the release.

    Sets ``amounts = release * dt``, clears the counters and returns the total amount [uM mm^2].
    The vectorized twin of :meth:`ReleaseSite.step` (the model's path), kept as its reference.
    """
    _count_spikes(neurons, site_ptr, site_idx, counts)
    total = 0.0
    for s in range(counts.shape[0]):
        inst = counts[s] / window_s[s] if window_s[s] > 0.0 else 0.0
        rate_hz[s] += (inst - rate_hz[s]) * alpha
        release[s] = max(0.0, tonic + gain * (target_hz - rate_hz[s]))
        amounts[s] = release[s] * dt_ms
        total += amounts[s]
        counts[s] = 0.0
    return total


@nb.njit(cache=True)
def _in_order_sum(values: np.ndarray) -> float:
    """Sum left to right (as :func:`_update_sites` does; numpy's pairwise sum rounds differently)."""
    total = 0.0
    for v in values:
        total += v
    return total


class SiteArrays:
    """State of all release sites, updated together once per field step.

    Spikes are added to per-site counters (a numba loop over the spikes and the sites of each
    spiking neuron: :meth:`count_spikes`, or the ``spikes`` of :meth:`update`); :meth:`update`
    turns the counts of the last window into rates, relaxes the estimates and sets the release.

    Args:
        xy_mm: site positions [mm], shape (n_sites, 2).
        catchment: sparse (n_sites x n_neurons) membership matrix.
        release_tonic: tonic release [uM mm^2/ms].
        feedback_gain: release per Hz of deficit [uM mm^2/ms/Hz].
        target_rate_hz: set point [Hz].
        tau_site_ms: time constant of the rate estimate [ms].

    """

    #: built from the positions, never changed: not in a checkpoint (:mod:`neuroabm.checkpoint`)
    checkpoint_exclude = ("catchment",)

    def __init__(
        self,
        xy_mm: np.ndarray,
        catchment: sp.csr_matrix,
        release_tonic: float,
        feedback_gain: float,
        target_rate_hz: float,
        tau_site_ms: float,
    ) -> None:
        self.xy_mm = xy_mm
        self.catchment = catchment
        self.n_catchment = np.asarray(catchment.sum(axis=1)).ravel()
        by_neuron = catchment.T.tocsr()  # neuron -> the sites whose catchment holds it
        self._site_ptr = by_neuron.indptr.astype(np.int64)
        self._site_idx = by_neuron.indices.astype(np.int64)
        self.release_tonic = release_tonic
        self.feedback_gain = feedback_gain
        self.target_rate_hz = target_rate_hz
        self.tau_site_ms = tau_site_ms
        n = xy_mm.shape[0]
        self.counts = np.zeros(n)  # spikes in each catchment since the last update
        self.rate_hz = np.full(n, float(target_rate_hz))  # estimates start at the set point
        self.release = np.empty(n)
        self.amounts = np.zeros(n)  # released in the last window [uM mm^2]
        self._window_s: np.ndarray | None = None
        self._lists: tuple[list[float], ...] | None = None  # the open window's state (see open_window)
        self._window_ms = math.nan
        self._alpha = 0.0
        self._no_spikes = np.zeros(0, np.int32)
        _update_sites(
            self._no_spikes, self._site_ptr, self._site_idx, self.counts, np.zeros(n), self.rate_hz, self.release,
            0.0, release_tonic, feedback_gain, target_rate_hz, 0.0, self.amounts,
        )  # fmt: skip

    @property
    def n_sites(self) -> int:
        """Number of sites."""
        return self.xy_mm.shape[0]

    def count_spikes(self, neurons: np.ndarray) -> None:
        """Add spikes (neuron indices) to the counters of the catchments that hold them."""
        if neurons.size:
            _count_spikes(neurons, self._site_ptr, self._site_idx, self.counts)

    def open_window(self, dt_ms: float, spikes: np.ndarray | None = None) -> None:
        """Count ``spikes`` and open the window of ``dt_ms`` that the sites' ``step`` closes.

        Until :meth:`close_window`, the sites decide on plain Python lists (a numpy element access
        costs ~0.1 us, a list's ~0.02 us: per-agent steps stay cheap).
        """
        if spikes is not None:
            self.count_spikes(spikes)
        self._set_window(dt_ms)
        self._lists = (self.counts.tolist(), self._window_s.tolist(), self.rate_hz.tolist(), self.release.tolist(),
                       self.amounts.tolist())  # fmt: skip

    def close_window(self) -> float:
        """Write the sites' decisions back into the arrays; return the total amount [uM mm^2] (in site order)."""
        _, _, rate, release, amounts = self._lists
        self.rate_hz[:] = rate
        self.release[:] = release
        self.amounts[:] = amounts
        self.counts[:] = 0.0
        self._lists = None
        return _in_order_sum(self.amounts)

    def _set_window(self, dt_ms: float) -> None:
        if dt_ms != self._window_ms:  # set up once per window length
            self._window_ms = dt_ms
            self._window_s = self.n_catchment * (dt_ms / 1000.0)
            self._alpha = -math.expm1(-dt_ms / self.tau_site_ms)

    def decide(self, s: int) -> None:
        """Site ``s`` closes its window: update its rate estimate, set its release and amount.

        Between :meth:`open_window` and :meth:`close_window` (the same arithmetic as :func:`_update_sites`).
        """
        counts, window_s, rate_hz, release, amounts = self._lists
        inst = counts[s] / window_s[s] if window_s[s] > 0.0 else 0.0
        rate = rate_hz[s]
        rate += (inst - rate) * self._alpha
        rate_hz[s] = rate
        release[s] = r = max(0.0, self.release_tonic + self.feedback_gain * (self.target_rate_hz - rate))
        amounts[s] = r * self._window_ms

    def update(self, dt_ms: float, spikes: np.ndarray | None = None) -> float:
        """Close a counting window of ``dt_ms``: update the rate estimates, then the release.

        ``spikes`` (int32 neuron indices) are counted first, in the same call.

        The estimate relaxes exactly over the window: ``r += (r_window - r) (1 - exp(-dt / tau_site))``.
        ``amounts`` receives ``release * dt_ms`` [uM mm^2]; returns their sum.
        """
        self._set_window(dt_ms)
        return _update_sites(
            self._no_spikes if spikes is None else spikes, self._site_ptr, self._site_idx, self.counts,
            self._window_s, self.rate_hz, self.release, self._alpha, self.release_tonic, self.feedback_gain,
            self.target_rate_hz, dt_ms, self.amounts,
        )  # fmt: skip


class ReleaseSite(ContinuousSpaceAgent):
    """A dopamine release site on the torus: a view onto row ``index`` of the model's site arrays."""

    model: NeuroModel

    def __init__(self, model: NeuroModel, index: int) -> None:
        """Create the view; the model places it and owns its state."""
        super().__init__(model.space, model)
        self.index = index

    def __repr__(self) -> str:
        return f"ReleaseSite({self.index}, release={self.release_rate:.4g} uM mm^2/ms)"

    @property
    def _sites(self) -> SiteArrays:
        return self.model.dopamine.sites

    @property
    def release_rate(self) -> float:
        """Current release rate [uM mm^2/ms]."""
        return float(self._sites.release[self.index])

    @property
    def rate_estimate_hz(self) -> float:
        """Running estimate of the catchment's firing rate [Hz]."""
        return float(self._sites.rate_hz[self.index])

    @property
    def catchment(self) -> np.ndarray:
        """Indices of the neurons in the catchment."""
        c = self._sites.catchment
        return c.indices[c.indptr[self.index] : c.indptr[self.index + 1]].copy()

    @property
    def dopamine(self) -> float:
        """Dopamine concentration at the site [uM]."""
        return float(self.model.dopamine.at_sites()[self.index])

    def step(self) -> None:
        """Decide the release for the field step that just ended (the dopamine system calls it).

        Reads the spikes counted in this site's catchment over the window, relaxes the rate
        estimate toward the window's rate and sets ``R = max(0, tonic + gain (target - r))``: the
        law of the module docstring, one site at a time (tens of sites once per field step:
        cheap, measured in benchmarks/bench_dopamine.py).
        """
        self._sites.decide(self.index)
