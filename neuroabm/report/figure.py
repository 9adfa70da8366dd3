"""``report.png``: raster, population rate, rate histogram, neuron positions.

With dopamine, a third row shows the field with its sites and the release over time; with
plasticity, four more rows show the structure (:mod:`neuroabm.report.structure_panels`): Louvain
communities and the excitatory in-strength on the torus with the sites, degree and weight
distributions at start and end, structure and graph metrics over time, and a sample of edges at
the start beside the strongest ones at the end. Each field or map appears once.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from neuroabm.analysis.spike_stats import population_rate
from neuroabm.exports.atomic import atomic_path
from neuroabm.report.dopamine_panels import plot_field, plot_release
from neuroabm.report.plasticity_panels import plot_graph_metrics, plot_weights
from neuroabm.report.structure_panels import (
    plot_communities,
    plot_degrees,
    plot_in_strength,
    plot_strong_edges,
    plot_structure_over_time,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from neuroabm.model.model import NeuroModel

#: rows drawn by a subsystem: ``name -> (rows, draw(axes_rows, model))``; an attached part with no
#: entry draws nothing. The report asks the model which parts it has, never which flags are set.
Rows = tuple[int, "Callable[[np.ndarray, NeuroModel], None]"]


def _dopamine_rows(axes: np.ndarray, model: NeuroModel) -> None:
    plot_field(axes[0, 0], model)
    plot_release(axes[0, 1], model)


def _structure_rows(axes: np.ndarray, model: NeuroModel) -> None:
    """Every field or map once: the dopamine field is in the dopamine row above."""
    plot_communities(axes[0, 0], model)
    plot_in_strength(axes[0, 1], model)
    plot_degrees(axes[1, 0], model)
    plot_weights(axes[1, 1], model)
    plot_structure_over_time(axes[2, 0], model)
    plot_graph_metrics(axes[2, 1], model)
    plot_strong_edges(axes[3, 0], axes[3, 1], model)


def subsystem_rows(model: NeuroModel) -> list[Rows]:
    """The report rows of the model's attached parts, in attach order.

    The dopamine system draws its field and release; the graph recorder draws the structure when
    the structure can change (with plasticity; a static network's structure is in ``analyze``).
    """
    rows: list[Rows] = []
    for part in model.subsystems:
        if part.name == "dopamine":
            rows.append((1, _dopamine_rows))
        elif part.name == "graph" and model.plasticity is not None:
            rows.append((4, _structure_rows))
    return rows


EXC_COLOR, INH_COLOR = "#c0392b", "#2e6db4"
#: neurons shown in the raster, and the time window it covers [ms]
RASTER_NEURONS, RASTER_MS = 300, 500.0


def smoothing_window_ms(t_end_ms: float) -> float:
    """Boxcar width of the smoothed population rate [ms]: 1/200 of the run, at least 10 ms.

    >>> smoothing_window_ms(1000.0), smoothing_window_ms(60_000.0)
    (10.0, 300.0)
    """
    return max(10.0, float(round(t_end_ms / 200.0)))


def plot_population_rate(ax: plt.Axes, model: NeuroModel, t: np.ndarray, t_end: float) -> None:
    """The rate in 1 ms bins (grey), smoothed (black), and the references it should be read against.

    References: the mean-field rate of the network without dopamine (``theory_rate_hz``, when the
    theory applies) and, with dopamine feedback, the set point the release regulates towards.
    """
    from neuroabm.analysis.summary import theory_rate_hz

    bins, rate = population_rate(t, model.n_neurons, t_end, bin_ms=1.0)
    width = smoothing_window_ms(t_end)
    k = int(min(width, max(1, rate.size)))
    smooth = np.convolve(rate, np.ones(k) / k, mode="same") if rate.size else rate
    ax.plot(bins, rate, lw=0.4, color="0.75", label="1 ms bins")
    ax.plot(bins, smooth, lw=1.4, color="k", label=f"{width:g} ms mean")
    theory = theory_rate_hz(model)
    theory = theory if theory is not None and np.isfinite(theory) else None
    if theory is not None:
        label = "mean field" + (" without dopamine" if model.dopamine is not None else "")
        ax.axhline(theory, color="tab:blue", ls="--", lw=1, label=f"{label}: {theory:.3g} Hz")
    p = model.params
    if model.dopamine is not None and p.feedback_gain > 0:
        ax.axhline(p.target_rate_hz, color="tab:orange", ls=":", lw=1.2, label=f"set point {p.target_rate_hz:g} Hz")
    top = max(float(np.percentile(smooth, 99.5)) * 1.6 if smooth.size else 1.0, 1.0)
    ax.set(xlabel="time [ms]", ylabel="population rate [Hz]", title="Population rate", xlim=(0, t_end),
           ylim=(0, max(top, 1.2 * (theory or 0.0))))  # fmt: skip
    ax.legend(frameon=False, fontsize=8, loc="upper right")


def plot_report(model: NeuroModel) -> plt.Figure:
    """Build the run report figure."""
    p = model.params
    t, nr = model.spikes()
    extra = subsystem_rows(model)
    rows = 2 + sum(n for n, _ in extra)
    fig, axes = plt.subplots(rows, 2, figsize=(12, 4 * rows), constrained_layout=True)
    ax_r, ax_p, ax_h, ax_s = axes[0, 0], axes[1, 0], axes[0, 1], axes[1, 1]

    # raster of a subsample: excitatory and inhibitory neurons in proportion, last RASTER_MS
    t_end = float(model.time)
    rng = np.random.default_rng(0)
    n_show = min(RASTER_NEURONS, model.n_neurons)
    shown = np.sort(rng.choice(model.n_neurons, n_show, replace=False))
    row = np.full(model.n_neurons, -1)
    row[shown] = np.arange(n_show)
    sel = (row[nr] >= 0) & (t > t_end - RASTER_MS)
    colors = np.where(model.is_exc[nr[sel]], EXC_COLOR, INH_COLOR)
    ax_r.scatter(t[sel], row[nr[sel]], s=1.5, c=colors, marker="|", linewidths=0.6)
    ax_r.set(xlabel="time [ms]", ylabel=f"neuron ({n_show} sampled)", title="Spike raster",
             xlim=(max(0.0, t_end - RASTER_MS), t_end))  # fmt: skip

    plot_population_rate(ax_p, model, t, t_end)

    rates = model.rates_hz()
    hi = max(1.0, np.percentile(rates, 99.5) * 1.1)
    edges = np.linspace(0, hi, 50)
    ax_h.hist(rates[model.is_exc], bins=edges, color=EXC_COLOR, alpha=0.7, label="E")
    if (~model.is_exc).any():
        ax_h.hist(rates[~model.is_exc], bins=edges, color=INH_COLOR, alpha=0.7, label="I")
    ax_h.axvline(rates.mean(), color="k", ls="--", lw=1, label=f"mean {rates.mean():.2f} Hz")
    ax_h.set(xlabel="firing rate [Hz]", ylabel="neurons", title="Rate distribution")
    ax_h.legend(frameon=False)

    pos = model.positions
    ax_s.scatter(*pos[model.is_exc].T, s=2, c=EXC_COLOR, label="E")
    ax_s.scatter(*pos[~model.is_exc].T, s=4, c=INH_COLOR, label="I")
    ax_s.set(xlim=(0, p.side_mm), ylim=(0, p.side_mm), aspect="equal", xlabel="x [mm]", ylabel="y [mm]",
             title=f"Neurons on the {p.side_mm:g} mm torus")  # fmt: skip
    ax_s.legend(loc="upper right", markerscale=3, framealpha=0.9)
    r = 2
    for n, draw in extra:
        draw(axes[r : r + n], model)
        r += n
    fig.suptitle(
        f"N = {model.n_neurons}, g = {p.g:g}, eta = {p.eta:g}, J = {p.j_mv:g} mV, D = {p.delay_ms:g} ms, "
        f"seed = {p.seed}",
        fontsize=11,
    )
    return fig


def write_report(model: NeuroModel, path: str | Path) -> None:
    """Render the report to a PNG atomically."""
    fig = plot_report(model)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, format="png")
    plt.close(fig)
