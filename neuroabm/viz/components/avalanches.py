"""Avalanche size distribution with its power-law fit, and the branching ratio, as the run goes.

Every :data:`REFIT_MS` of biology, the spikes of the app's window (the last minute) are cut into
avalanches (Beggs & Plenz 2003; docs/REFERENCES.md §6: pooled spikes binned at the mean inter-event
interval, an avalanche is a run of non-empty bins), the sizes are fitted with a discrete power law
(Clauset et al. 2009), and the conventional branching ratio is estimated from the binned counts.

The empirical distribution is drawn as a log-binned probability mass: the count in the integer
bin ``[a, b)`` over ``(number of avalanches) (b - a)``. The fit is the discrete power law
``P(S) = f S^-tau / zeta(tau, x_min)`` for ``S >= x_min``, where ``f`` is the fraction of
avalanches of size ``>= x_min``; the dashed line is the mean-field critical slope -3/2 for scale.

Names of the exponents as in ``analysis.json`` (``neuroabm analyze``): τ for the sizes,
``P(S) ∝ S^-τ``; α for the durations, ``P(T) ∝ T^-α``; γ for ``<S>(T) ∝ T^γ``. (Beggs & Plenz 2003
call the size exponent α; the app follows the JSON so that one quantity has one name.)
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass

import numpy as np
from scipy.special import zeta

from neuroabm.analysis.avalanches import binned_counts, find_avalanches
from neuroabm.analysis.branching import branching_ratio_conventional
from neuroabm.analysis.power_laws import fit_power_law
from neuroabm.model.model import NeuroModel
from neuroabm.viz.components.figure import LiveFigure, figure_component, level
from neuroabm.viz.components.spike_window import SpikeWindow

#: the analysis is redone at most this often [ms of biology]
REFIT_MS = 500.0
#: x_min is chosen among the this many smallest sizes (a fit per candidate: ~5 ms each here)
MAX_XMIN_CANDIDATES = 12
#: fewer avalanches are not fitted (Clauset et al. 2009: the exponent's estimate is unreliable below ~50)
MIN_AVALANCHES = 50
#: mean-field critical exponent of the size distribution (docs/REFERENCES.md §6)
CRITICAL_TAU = 1.5
#: the panel's note while there are too few avalanches to fit
WAITING = "waiting for data: not enough avalanches yet"


@dataclass(frozen=True)
class AvalancheStats:
    """What the panel shows; ``tau`` (size exponent) etc. are NaN when there are too few avalanches to fit."""

    sizes: np.ndarray
    bin_ms: float
    tau: float
    sigma: float
    xmin: float
    branching: float
    message: str


def avalanche_stats(t_ms: np.ndarray) -> AvalancheStats:
    """Avalanches, power-law fit and branching ratio of the spike times ``t_ms`` [ms] (sorted)."""
    nan = float("nan")
    if t_ms.size < 2:
        return AvalancheStats(np.zeros(0, np.int64), nan, nan, nan, nan, nan, WAITING)
    aval = find_avalanches(t_ms, bin_ms=None)
    sizes = np.asarray(aval.sizes)
    branching = branching_ratio_conventional(binned_counts(t_ms, aval.bin_ms))  # NaN without active bins
    too_few = AvalancheStats(sizes, aval.bin_ms, nan, nan, nan, branching, WAITING)
    if sizes.size < MIN_AVALANCHES:
        return too_few
    try:
        fit = fit_power_law(sizes, max_xmin_candidates=MAX_XMIN_CANDIDATES)
    except ValueError:  # e.g. too few distinct sizes
        return too_few
    return AvalancheStats(sizes, aval.bin_ms, float(fit.alpha), float(fit.sigma), float(fit.xmin), branching, "")


def log_binned_pmf(sizes: np.ndarray, n_bins: int = 24) -> tuple[np.ndarray, np.ndarray]:
    """Geometric-mean bin centres and probability mass per integer of positive integer ``sizes``."""
    if sizes.size == 0:
        return np.zeros(0), np.zeros(0)
    edges = np.unique(np.geomspace(1.0, sizes.max() + 1.0, n_bins + 1).round().astype(np.int64))
    edges[-1] = max(edges[-1], sizes.max() + 1)
    counts = np.histogram(sizes, bins=edges)[0]
    width = np.diff(edges)
    keep = counts > 0
    centres = np.sqrt(edges[:-1] * (edges[1:] - 1.0))  # the bin [a, b) holds the integers a .. b - 1
    return centres[keep], counts[keep] / (sizes.size * width[keep])


def title_text(st: AvalancheStats, span_s: float) -> str:
    """The panel's two title lines; a quantity that cannot be computed yet is "–", never NaN.

    Args:
        st: the statistics shown.
        span_s: the time they cover [s].

    """
    if st.sizes.size == 0:
        return (
            f"no avalanches yet (refitted every {REFIT_MS / 1000:g} s)\nτ: – (waiting for data); branching ratio m: –"
        )
    fit = f"τ = {st.tau:.2f} ± {st.sigma:.2f} (S ≥ {st.xmin:g})" if np.isfinite(st.tau) else "τ: – (too few to fit)"
    m = f"m = {st.branching:.3f}" if np.isfinite(st.branching) else "m: –"
    return f"{st.sizes.size} avalanches in the last {span_s:.1f} s, bin {st.bin_ms:.2g} ms\n{fit}; branching ratio {m}"


class AvalancheFigure(LiveFigure):
    """P(S) on log-log axes with the fitted power law; exponent and branching ratio in the legend."""

    size_in = (4.8, 4.2)

    def __init__(self) -> None:
        super().__init__()
        self.ax = ax = self.fig.add_axes((0.15, 0.12, 0.8, 0.72))
        (self.points,) = ax.plot([], [], "o", color="tab:blue", markersize=4, label="avalanches")
        (self.fit_line,) = ax.plot([], [], "-", color="tab:orange", lw=1.5, label="power-law fit")
        (self.ref_line,) = ax.plot([], [], "--", color="0.5", lw=1.0, label="slope -3/2")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlim(0.8, 100.0)  # until there are avalanches
        ax.set_ylim(1e-4, 1.0)
        ax.set_xlabel("avalanche size S [spikes]")
        ax.set_ylabel("P(S)")
        ax.legend(fontsize=7, loc="lower left", frameon=False)
        self.note = ax.text(0.5, 0.5, "", transform=ax.transAxes, ha="center", va="center", color="0.4")
        self.title = self.fig.text(0.55, 0.975, "", ha="center", va="top", fontsize=9)
        self.animate(self.points, self.fit_line, self.ref_line, self.note, self.title)
        self.stats: AvalancheStats | None = None

    def frame_key(self, model: NeuroModel) -> Hashable:
        """Refit every :data:`REFIT_MS`."""
        return int(model.time // REFIT_MS)

    def static_key(self, model: NeuroModel) -> Hashable:
        """The axis limits (whole decades)."""
        return self.ax.get_xlim(), self.ax.get_ylim()

    def update(self, model: NeuroModel) -> None:
        """Redo the analysis on the spike window and redraw."""
        window = SpikeWindow.of(model).update()
        st = self.stats = avalanche_stats(window.t_ms)
        x, pmf = log_binned_pmf(st.sizes)
        self.points.set_data(x, pmf)
        self.note.set_text(st.message)
        if np.isfinite(st.tau) and x.size:
            s = np.geomspace(st.xmin, max(st.sizes.max(), st.xmin + 1.0), 50)
            tail = np.count_nonzero(st.sizes >= st.xmin) / st.sizes.size
            self.fit_line.set_data(s, tail * s**-st.tau / zeta(st.tau, st.xmin))
            self.ref_line.set_data(x, pmf[0] * (x / x[0]) ** -CRITICAL_TAU)
        else:
            self.fit_line.set_data([], [])
            self.ref_line.set_data([], [])
        if x.size:  # decades: the axes (the background) change rarely
            self.ax.set_xlim(0.8, level(1.5 * x.max(), 10.0))
            self.ax.set_ylim(1.0 / level(2.0 / pmf.min(), 10.0), level(2.0 * pmf.max(), 10.0))
        self.title.set_text(title_text(st, min(float(model.time), window.keep_ms) / 1000.0))


AvalancheView = figure_component(
    AvalancheFigure,
    "neuroabm-avalanches",
    "Avalanche sizes of the last minute (log-log), discrete power-law fit P(S) ∝ S^-τ, and the branching ratio; "
    f"updated every {REFIT_MS:g} ms of biology. Exponents named as in analysis.json: τ sizes, α durations, "
    "γ for ⟨S⟩ ∝ T^γ (Beggs & Plenz 2003 write α for the sizes).",
)
