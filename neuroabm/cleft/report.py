"""``report.png`` of a cleft run: molecules in the cleft, F and P against theory, open receptors, quanta."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from neuroabm.cleft.simulate import CleftResult
from neuroabm.cleft.theory import disc_exit_density, radial_gaussian_density
from neuroabm.exports.atomic import atomic_path

__all__ = ["plot_cleft_report", "write_cleft_report"]


def _positions(ax_row: list[plt.Axes], res: CleftResult) -> None:
    p = res.params
    for ax, k in zip(ax_row, range(len(res.t_snap_us)), strict=False):
        pos = res.snapshots[k]
        ok = np.isfinite(pos[:, 0])
        ax.add_patch(plt.Circle((0, 0), p.cleft_radius_nm, fill=False, color="0.5"))
        ax.add_patch(plt.Circle((0, 0), p.psd_radius_nm, fill=False, color="0.8", ls="--"))
        ax.scatter(pos[ok, 0], pos[ok, 1], s=1, c=pos[ok, 2], cmap="viridis", vmin=0, vmax=p.cleft_height_nm)
        ax.scatter(res.receptor_xy[0, :, 0], res.receptor_xy[0, :, 1], s=6, marker="x", c="#c0392b")
        ax.set_title(f"t = {res.t_snap_us[k]:.3g} us: {int(ok.sum())} free", fontsize=9)
        ax.set_aspect("equal")
        ax.set_xlim(-p.cleft_radius_nm, p.cleft_radius_nm)
        ax.set_ylim(-p.cleft_radius_nm, p.cleft_radius_nm)
        ax.set_xlabel("x [nm]")
    ax_row[0].set_ylabel("y [nm] (colour: z)")


def plot_cleft_report(res: CleftResult) -> plt.Figure:
    """Build the figure (3 rows): positions; F(r, t) and P(r, t) with theory; receptors and quanta."""
    p = res.params
    d = p.diffusion_um2_per_ms * 1e3
    fig = plt.figure(figsize=(14, 11), constrained_layout=True)
    gs = fig.add_gridspec(3, 4)
    _positions([fig.add_subplot(gs[0, i]) for i in range(4)], res)

    ax_f = fig.add_subplot(gs[1, :2])
    total = max(int(res.n_released.sum()), 1)
    t_mid = res.t_fp_us + 0.5 * p.fp_bin_us
    for k in sorted({len(res.radii_nm) // 4, len(res.radii_nm) // 2, len(res.radii_nm) - 1}):
        r = res.radii_nm[k]
        f = res.fp_counts[:, k].sum(axis=0) / (total * p.fp_bin_us)
        (line,) = ax_f.plot(t_mid, f, drawstyle="steps-mid", label=f"r = {r:.0f} nm")
        ax_f.plot(t_mid, disc_exit_density(t_mid, r, d), color=line.get_color(), ls="--", lw=1)
    ax_f.set_xscale("log")
    ax_f.set_xlabel("t [us]")
    ax_f.set_ylabel("F(r, t) [1/us]")
    ax_f.set_title("first passage to r (dashed: 2D Bessel series, no receptors)", fontsize=9)
    ax_f.legend(fontsize=8)

    ax_p = fig.add_subplot(gs[1, 2:])
    edges = np.concatenate([[0.0], res.radii_nm])
    mids = 0.5 * (edges[1:] + edges[:-1])
    occ = res.occ_counts.sum(axis=0) / (total * np.diff(edges)[None, :])
    for j in sorted({0, len(res.t_occ_us) // 20, len(res.t_occ_us) // 5}):
        t = res.t_occ_us[j]
        (line,) = ax_p.plot(mids, occ[j], drawstyle="steps-mid", label=f"t = {t:.3g} us")
        ax_p.plot(mids, radial_gaussian_density(mids, t, d), color=line.get_color(), ls="--", lw=1)
    ax_p.set_xlabel("r [nm] from the release point")
    ax_p.set_ylabel("P(r, t) [1/nm]")
    ax_p.set_title("free transmitter (dashed: free 2D diffusion, no rim)", fontsize=9)
    ax_p.legend(fontsize=8)

    ax_o = fig.add_subplot(gs[2, :3])
    t_ms = res.t_states_us / 1000.0
    o = res.open_counts
    for tr in range(min(len(o), 30)):
        ax_o.plot(t_ms, o[tr], color="0.75", lw=0.6)
    if len(o):
        ax_o.plot(t_ms, o.mean(axis=0), color="#c0392b", lw=2, label="mean over trials")
        ax_o.fill_between(t_ms, o.mean(0) - o.std(0), o.mean(0) + o.std(0), color="#c0392b", alpha=0.2, label="± sd")
    ax_o.set_xlabel("t [ms]")
    ax_o.set_ylabel("open receptors")
    ax_o.set_title(f"{p.n_receptors} receptors, {len(o)} trials (grey: first 30)", fontsize=9)
    ax_o.legend(fontsize=8)

    ax_q = fig.add_subplot(gs[2, 3])
    peaks = res.peak_open.astype(float)
    if len(peaks) and peaks.mean() > 0:
        q = peaks / peaks.mean()
        ax_q.hist(q, bins=np.arange(0, q.max() + 1.0 / peaks.mean() + 1e-9, 1.0 / peaks.mean()) - 0.5 / peaks.mean())
        ax_q.set_title(f"quantal amplitude: CV {peaks.std() / peaks.mean():.2f}", fontsize=9)
    ax_q.set_xlabel("peak open / mean")
    ax_q.set_ylabel("trials")
    return fig


def write_cleft_report(res: CleftResult, path: str | Path) -> None:
    """Write ``report.png`` atomically."""
    fig = plot_cleft_report(res)
    try:
        with atomic_path(path) as tmp:
            fig.savefig(tmp, dpi=90, format="png")
    finally:
        plt.close(fig)
