"""Set up and run the trials of one synapse: per-trial layouts and keys, the kernel, the raw result.

Everything random that is drawn in Python (receptor layout, release site, vesicle content, initial
receptor states) comes from ``numpy.random.default_rng([seed, trial])``; the kernel's own draws
come from counter-based keys derived from ``(seed, trial)``. Trial ``k`` is therefore the same
whatever the number of trials or threads.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from neuroabm.cleft.geometry import place_receptors, release_site, site_grid
from neuroabm.cleft.kernels import run_trials
from neuroabm.cleft.kinetics import KineticScheme, scheme_from_params, stationary_states
from neuroabm.cleft.params import CleftParams
from neuroabm.cleft.reactions import doi_lambda, molecules_per_nm3
from neuroabm.model.random_streams import mix64

__all__ = ["CleftResult", "simulate", "trial_key"]


def trial_key(seed: int, trial: int) -> np.uint64:
    """The kernel key of a trial: SplitMix64 of the seed and trial numbers (no collisions in practice)."""
    return mix64(mix64(np.uint64(seed) + np.uint64(0x9E3779B97F4A7C15)) ^ np.uint64(trial))


@dataclass
class CleftResult:
    """Raw output of :func:`simulate` (times in us, lengths in nm; arrays per trial first).

    Attributes:
        params: the parameters run.
        scheme: the receptor kinetic scheme.
        n_released: molecules released per trial.
        release_xy: release points ``(trials, 2)``.
        receptor_xy: receptor positions ``(trials, n_receptors, 2)``.
        t_states_us: sampling times of ``states``.
        states: receptor counts per state ``(trials, T, n_states)``.
        radii_nm: the radii ``r_k`` of first passage (also the outer edges of the P bins).
        t_fp_us: left edges of the F time bins (``j * fp_bin``, j >= 0).
        t_occ_us: sampling times of P (``j * fp_bin``, j >= 1).
        fp_counts: first passages to ``r_k`` per time bin ``(trials, n_r, n_bins)``.
        fp_sum_us, fp_n: sum and number of all first-passage times to ``r_k`` ``(trials, n_r)``.
        occ_counts: free molecules per radial bin at the P times ``(trials, n_bins, n_r)``.
        r2_sum_nm2, n_free: sum of squared distance from the release point and count of free
            molecules at the P times ``(trials, n_bins)``.
        escape_sum_us, escape_n: sum and number of rim-escape times per trial.
        peak_open, t_peak_us: exact peak open count and its time per trial.
        captures: binding events per trial.
        snapshots: free-molecule positions of trial 0 at ``t_snap_us`` ``(n_snap, N, 3)``, NaN if not free.
        wall_s: wall-clock seconds of the kernel.

    """

    params: CleftParams
    scheme: KineticScheme
    n_released: np.ndarray
    release_xy: np.ndarray
    receptor_xy: np.ndarray
    t_states_us: np.ndarray
    states: np.ndarray
    radii_nm: np.ndarray
    t_fp_us: np.ndarray
    t_occ_us: np.ndarray
    fp_counts: np.ndarray
    fp_sum_us: np.ndarray
    fp_n: np.ndarray
    occ_counts: np.ndarray
    r2_sum_nm2: np.ndarray
    n_free: np.ndarray
    escape_sum_us: np.ndarray
    escape_n: np.ndarray
    peak_open: np.ndarray
    t_peak_us: np.ndarray
    captures: np.ndarray
    snapshots: np.ndarray
    t_snap_us: np.ndarray
    wall_s: float = 0.0
    extra: dict = field(default_factory=dict)

    @property
    def open_counts(self) -> np.ndarray:
        """Open receptors ``(trials, T)``."""
        return self.states[:, :, list(self.scheme.open_states)].sum(axis=2)


def _trial_setup(p: CleftParams, scheme: KineticScheme, seed: int, trial: int, fixed_xy: np.ndarray | None) -> tuple:
    rng = np.random.default_rng([seed, trial])
    xy = fixed_xy if fixed_xy is not None else place_receptors(
        rng, p.n_receptors, p.receptor_layout, p.psd_radius_nm, p.cleft_radius_nm
    )  # fmt: skip
    site = release_site(rng, p.release_offset_nm, p.release_jitter_nm)
    n = p.n_transmitter
    if p.n_transmitter_cv > 0.0 and n > 0:  # gamma-distributed content with the given mean and CV
        shape = 1.0 / p.n_transmitter_cv**2
        n = round(rng.gamma(shape, n / shape))
    if p.receptor_init == "random":
        probs = stationary_states(scheme, molecules_per_nm3(p.background_glutamate_um * 1e-3))
        states = rng.choice(scheme.n_states, size=p.n_receptors, p=probs).astype(np.int32)
    else:
        states = np.zeros(p.n_receptors, np.int32)
    return xy, site, n, states


def simulate(p: CleftParams, trials: int | None = None, seed: int | None = None, n_snapshots: int = 4) -> CleftResult:
    """Run ``trials`` releases of the synapse described by ``p``.

    >>> from neuroabm.cleft.params import validate_cleft_params
    >>> p = validate_cleft_params(n_transmitter=200, n_receptors=10, duration_ms=0.05, fp_window_us=20.0)
    >>> res = simulate(p, trials=2, seed=3)
    >>> res.states.shape, int(res.states[0, -1].sum())
    ((2, 5, 6), 10)
    """
    import time

    trials = p.trials if trials is None else trials
    seed = p.seed if seed is None else seed
    scheme = scheme_from_params(p)
    arr = scheme.arrays()
    d_nm2_us = p.diffusion_um2_per_ms * 1e3  # 1 um^2/ms = 1e6 nm^2 / 1e3 us
    lam = np.array([doi_lambda(k, d_nm2_us, p.binding_radius_nm) for k in scheme.k_on_nm3_per_us])
    fixed = None
    if not p.layout_per_trial:
        fixed = place_receptors(
            np.random.default_rng([seed, 2**32]), p.n_receptors, p.receptor_layout, p.psd_radius_nm, p.cleft_radius_nm
        )
    setups = [_trial_setup(p, scheme, seed, k, fixed) for k in range(trials)]
    rec_xy = np.stack([s[0] for s in setups]).reshape(trials, p.n_receptors, 2)
    release_xy = np.stack([s[1] for s in setups])
    n_mol = np.array([s[2] for s in setups], np.int64)
    rec_state = np.stack([s[3] for s in setups]).reshape(trials, p.n_receptors)
    grids = [site_grid(rec_xy[k], p.cleft_radius_nm, 2.0 * p.binding_radius_nm) for k in range(trials)]
    side, cell = grids[0][2], grids[0][3]
    cell_start = np.stack([g[0] for g in grids])
    cell_items = np.stack([g[1] for g in grids]).reshape(trials, p.n_receptors)

    dt = p.dt_us
    n_steps = round(p.duration_ms * 1000.0 / dt)
    rec_every = round(p.record_us / dt)
    occ_every = round(p.fp_bin_us / dt)
    n_out = n_steps // rec_every
    n_occ = max(1, round(p.fp_window_us / p.fp_bin_us))
    radii = p.cleft_radius_nm * np.arange(1, p.n_radii + 1) / p.n_radii
    n_max = int(n_mol[0]) if trials else 0
    snap_steps = np.unique(np.geomspace(1, max(1, min(n_steps, n_occ * occ_every)), n_snapshots).astype(np.int64))
    snaps = np.full((len(snap_steps), n_max + 2 * p.n_receptors, 3), np.nan)

    out = {
        "states": np.zeros((trials, n_out, scheme.n_states), np.int64),
        "fp": np.zeros((trials, p.n_radii, n_occ), np.int64),
        "fp_sum": np.zeros((trials, p.n_radii)),
        "fp_n": np.zeros((trials, p.n_radii), np.int64),
        "occ": np.zeros((trials, n_occ, p.n_radii), np.int64),
        "r2": np.zeros((trials, n_occ)),
        "free": np.zeros((trials, n_occ), np.int64),
        "escape": np.zeros((trials, 2)),
        "peak": np.zeros((trials, 2)),
        "capt": np.zeros(trials, np.int64),
    }
    keys = np.array([trial_key(seed, k) for k in range(trials)], np.uint64)
    t0 = time.perf_counter()
    run_trials(
        keys, n_mol, release_xy, rec_xy, rec_state, cell_start, cell_items, side, cell, p.cleft_radius_nm,
        p.cleft_height_nm, d_nm2_us, dt, p.binding_radius_nm, p.rim == "absorbing", p.release == "uniform",
        p.release_tau_us, n_steps, rec_every, occ_every, radii, lam, arr["bound"], arr["bind_next"], arr["trans_ptr"],
        arr["trans_dst"], arr["trans_rate"], arr["out_rate"], arr["is_open"], snap_steps, snaps, out["states"],
        out["fp"], out["fp_sum"], out["fp_n"], out["occ"], out["r2"], out["free"], out["escape"], out["peak"],
        out["capt"],
    )  # fmt: skip
    wall = time.perf_counter() - t0
    return CleftResult(
        params=p,
        scheme=scheme,
        n_released=n_mol,
        release_xy=release_xy,
        receptor_xy=rec_xy,
        t_states_us=rec_every * dt * np.arange(1, n_out + 1),
        states=out["states"],
        radii_nm=radii,
        t_fp_us=p.fp_bin_us * np.arange(n_occ),
        t_occ_us=p.fp_bin_us * np.arange(1, n_occ + 1),
        fp_counts=out["fp"],
        fp_sum_us=out["fp_sum"],
        fp_n=out["fp_n"],
        occ_counts=out["occ"],
        r2_sum_nm2=out["r2"],
        n_free=out["free"],
        escape_sum_us=out["escape"][:, 0],
        escape_n=out["escape"][:, 1].astype(np.int64),
        peak_open=out["peak"][:, 0].astype(np.int64),
        t_peak_us=out["peak"][:, 1],
        captures=out["capt"],
        snapshots=snaps,
        t_snap_us=snap_steps * dt,
        wall_s=wall,
    )
