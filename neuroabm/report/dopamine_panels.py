"""Report panels of the dopamine system: the field with its sites, and release over time."""

from __future__ import annotations

from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import numpy as np

if TYPE_CHECKING:
    from neuroabm.model.model import NeuroModel


def plot_field(ax: plt.Axes, model: NeuroModel) -> None:
    """Heatmap of the current field [uM] with the release sites and their catchments."""
    p = model.params
    system = model.dopamine
    h = p.side_mm / p.grid_n
    # node (i, j) sits at (i h, j h): show cells centred on the nodes, x along the horizontal axis
    im = ax.imshow(system.field.values.T, origin="lower", cmap="magma", extent=(-h / 2, p.side_mm - h / 2,
                   -h / 2, p.side_mm - h / 2), interpolation="nearest")  # fmt: skip
    plt.colorbar(im, ax=ax, label="dopamine [uM]", shrink=0.85)
    xy = system.sites.xy_mm
    ax.scatter(xy[:, 0], xy[:, 1], marker="x", c="cyan", s=30, label="release sites")
    for x, y in xy:
        ax.add_patch(plt.Circle((x, y), p.site_radius_mm, fill=False, ec="cyan", lw=0.4, alpha=0.6))
    ax.set(xlim=(0, p.side_mm), ylim=(0, p.side_mm), aspect="equal", xlabel="x [mm]", ylabel="y [mm]",
           title=f"Dopamine field at {model.time:g} ms")  # fmt: skip
    ax.legend(loc="upper right", fontsize=8, framealpha=0.8)


def plot_release(ax: plt.Axes, model: NeuroModel) -> None:
    """Release rate of every site over time, their mean, and reward times."""
    rec = model.da_recorder
    if not rec.t_ms:
        ax.text(0.5, 0.5, "no snapshots (field_record_ms = 0)", ha="center", transform=ax.transAxes)
        return
    t = np.asarray(rec.t_ms)
    release = np.stack(rec.release)
    ax.plot(t, release, lw=0.5, alpha=0.35, color="tab:purple")
    ax.plot(t, release.mean(axis=1), lw=2, color="k", label="mean over sites")
    for i, tr in enumerate(model.dopamine.rewards.delivered_ms):
        ax.axvline(tr, color="tab:green", lw=0.8, ls=":", label="reward" if i == 0 else None)
    ax.set(xlabel="time [ms]", ylabel="release [uM mm^2/ms]", title="Release per site")
    ax.legend(frameon=False, fontsize=8)
    rate_ax = ax.twinx()
    rate_ax.plot(t, np.stack(rec.rate_hz).mean(axis=1), color="tab:orange", lw=1.2)
    rate_ax.axhline(model.params.target_rate_hz, color="tab:orange", ls="--", lw=0.8)
    rate_ax.set_ylabel("catchment rate estimate [Hz] (dashed: set point)", color="tab:orange")
