"""neuroabm's cleft against Smoldyn on the same synapse: time courses, F(r, t), wall clock.

    NUMBA_NUM_THREADS=1 python benchmarks/bench_cleft_peer.py [--trials 100] [--duration-ms 2]
        [--smoldyn /work/peers/smoldyn/bin/python] [--json out.json]

Builds the default synapse (runs/cleft/synapse.toml: 3,000 glutamate, 80 AMPA receptors of Destexhe et
al. 1998, D = 0.33 um^2/ms, R = 200 nm, h = 20 nm, absorbing rim), writes its receptor positions
and rates into a spec, runs ``benchmarks/peer_smoldyn_cleft.py`` under the Smoldyn interpreter,
runs the same trials here, and compares:

* every receptor state's mean count over trials at every 10 us, and the free glutamate: the
  largest |difference| in units of the two-sample standard error ``sqrt(se_a^2 + se_b^2)``;
* the survival of the first passage to r = 100 and 200 nm (glutamate only): largest difference
  in units of the binomial SE of the two estimates;
* wall clock and CPU time, both on one thread (CPU time is the fair measure on a loaded machine;
  Smoldyn's share of its child CPU time is split from its first-passage runs by their wall times).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import tempfile
import time
from pathlib import Path

import numba
import numpy as np

from neuroabm.cleft import load_cleft_config, simulate
from neuroabm.cleft.reactions import kon_nm3_per_us
from neuroabm.cleft.theory import DISCRETE_MONITORING_BETA, disc_exit_mean

ROOT = Path(__file__).resolve().parents[1]


def _z(a: np.ndarray, b: np.ndarray) -> float:
    """Largest |mean difference| / two-sample SE over the columns of (trials, T) arrays (SE floor 1/trials)."""
    se = np.sqrt(a.var(axis=0, ddof=1) / len(a) + b.var(axis=0, ddof=1) / len(b))
    se = np.maximum(se, 1.0 / min(len(a), len(b)))
    return float(np.max(np.abs(a.mean(axis=0) - b.mean(axis=0)) / se))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--trials", type=int, default=100)
    ap.add_argument("--fp-trials", type=int, default=10)
    ap.add_argument("--duration-ms", type=float, default=2.0)
    ap.add_argument("--dt-us", type=float, default=0.1)
    ap.add_argument("--smoldyn", default="/work/peers/smoldyn/bin/python")
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    numba.set_num_threads(1)
    cfg = ROOT / "runs" / "cleft" / "synapse.toml"
    p = load_cleft_config(cfg, duration_ms=args.duration_ms, trials=args.trials, dt_us=args.dt_us)
    simulate(load_cleft_config(None, n_transmitter=50, duration_ms=0.01, fp_window_us=10.0), trials=1)  # compile
    t0, c0 = time.perf_counter(), time.process_time()
    ours = simulate(p, trials=args.trials, seed=p.seed)
    wall_ours, cpu_ours = time.perf_counter() - t0, time.process_time() - c0
    spec = {
        "height_nm": p.cleft_height_nm,
        "radius_nm": p.cleft_radius_nm,
        "diffusion_nm2_per_us": p.diffusion_um2_per_ms * 1e3,
        "dt_us": p.dt_us,
        "duration_us": p.duration_ms * 1e3,
        "record_us": p.fp_bin_us,
        "n_transmitter": p.n_transmitter,
        "release_xy": ours.release_xy[0].tolist(),
        "receptor_xy": ours.receptor_xy[0].tolist(),
        "seed": 1000,
        "trials": args.trials,
        "fp_radii_nm": [100.0, 200.0],
        "fp_trials": args.fp_trials,
        "rates": {
            "kon": kon_nm3_per_us(p.rb_per_mm_ms),
            "ru1": p.ru1_per_ms * 1e-3,
            "ru2": p.ru2_per_ms * 1e-3,
            "rd": p.rd_per_ms * 1e-3,
            "rr": p.rr_per_ms * 1e-3,
            "ro": p.ro_per_ms * 1e-3,
            "rc": p.rc_per_ms * 1e-3,
        },
    }
    with tempfile.TemporaryDirectory() as tmp:
        spec_path, out_path = Path(tmp) / "spec.json", Path(tmp) / "peer.json"
        spec_path.write_text(json.dumps(spec))
        child0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        run = subprocess.run(
            ["nice", "-n", "19", args.smoldyn, str(ROOT / "benchmarks" / "peer_smoldyn_cleft.py"), str(spec_path),
             str(out_path)], capture_output=True, text=True,
        )  # fmt: skip
        if run.returncode != 0:
            raise SystemExit(run.stdout[-3000:] + run.stderr[-3000:])
        peer = json.loads(out_path.read_text())
        child1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_peer = child1.ru_utime + child1.ru_stime - child0.ru_utime - child0.ru_stime  # includes its fp runs
    fp_share = peer["fp_wall_s"] / (peer["fp_wall_s"] + peer["wall_s"])
    every = round(p.record_us / p.fp_bin_us)
    s_states = np.array(peer["states"])[:, every::every][:, : ours.states.shape[1]]  # t = 10, 20, ... us
    s_free = np.array(peer["free_glu"])
    n_t = s_states.shape[1]
    o_states = ours.states[:, :n_t]
    z_states = {name: _z(o_states[:, :, i], s_states[:, :, i]) for i, name in enumerate(ours.scheme.names)}
    o_open, s_open = o_states[:, :, -1], s_states[:, :, -1]
    # free glutamate at the P sampling times (every fp_bin from fp_bin on)
    n_f = min(ours.n_free.shape[1], s_free.shape[1] - 1)
    z_free = _z(ours.n_free[:, :n_f].astype(float), s_free[:, 1 : n_f + 1])
    # first passage (glutamate only): ours from the same cleft without receptors
    fp = load_cleft_config(None, n_receptors=0, duration_ms=0.4, n_radii=2, trials=args.fp_trials, dt_us=args.dt_us)
    d = fp.diffusion_um2_per_ms * 1e3
    shift = DISCRETE_MONITORING_BETA * np.sqrt(2 * d * fp.dt_us)  # a rim tested at step ends acts this much farther
    ours_fp = simulate(fp, seed=7)
    n_mol = args.fp_trials * fp.n_transmitter
    fp_cmp = {}
    for k, r in enumerate(ours_fp.radii_nm):
        s_ours = 1.0 - np.cumsum(ours_fp.fp_counts[:, k].sum(axis=0)) / n_mol  # S at t = (j + 1) fp_bin
        s_peer = np.array(peer["fp_survival"][str(float(r))])[1 : len(s_ours) + 1]
        m = min(len(s_ours), len(s_peer))
        se = np.sqrt((s_ours[:m] * (1 - s_ours[:m]) + s_peer[:m] * (1 - s_peer[:m])) / n_mol) + 1.0 / n_mol
        i_max = int(np.argmax(np.abs(s_ours[:m] - s_peer[:m]) / se))
        fp_cmp[f"{r:.0f}"] = {
            "max_abs_diff": float(np.max(np.abs(s_ours[:m] - s_peer[:m]))),
            "max_z": float(np.abs(s_ours[i_max] - s_peer[i_max]) / se[i_max]),
            "mean_fpt_ours_us": float(ours_fp.fp_sum_us[:, k].sum() / ours_fp.fp_n[:, k].sum()),
            # integral of S from 0 (S = 1) by the trapezoid rule
            "mean_fpt_peer_us": float((0.5 + np.sum(s_peer[:m]) - 0.5 * s_peer[m - 1]) * fp.fp_bin_us),
            "mean_fpt_theory_us": disc_exit_mean(r, d),
            "mean_fpt_theory_shifted_us": disc_exit_mean(r + shift, d),
        }
    out = {
        "trials": args.trials,
        "duration_ms": args.duration_ms,
        "dt_us": args.dt_us,
        "smoldyn_version": peer["smoldyn_version"],
        "wall_ours_s": wall_ours,
        "wall_smoldyn_s": peer["wall_s"],
        "speedup": peer["wall_s"] / wall_ours,
        "cpu_ours_s": cpu_ours,
        "cpu_smoldyn_s": cpu_peer * (1.0 - fp_share),
        "speedup_cpu": cpu_peer * (1.0 - fp_share) / cpu_ours,
        "peak_open_mean_ours": float(o_open.max(axis=1).mean()),
        "peak_open_mean_smoldyn": float(s_open.max(axis=1).mean()),
        "peak_open_cv_ours": float(o_open.max(axis=1).std(ddof=1) / o_open.max(axis=1).mean()),
        "peak_open_cv_smoldyn": float(s_open.max(axis=1).std(ddof=1) / s_open.max(axis=1).mean()),
        "open_mean_ours_at_100us": float(o_open[:, 9].mean()),
        "open_mean_smoldyn_at_100us": float(s_open[:, 9].mean()),
        "bound_mean_ours_end": float(o_states[:, -1, 1:].sum(axis=1).mean()),
        "bound_mean_smoldyn_end": float(s_states[:, -1, 1:].sum(axis=1).mean()),
        "max_z_states": z_states,
        "max_z_free_glutamate": z_free,
        "first_passage": fp_cmp,
    }
    print(json.dumps(out, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
