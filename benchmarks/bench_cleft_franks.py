"""Franks et al. 2002/2003 (MCell) side by side: open AMPARs per quantum, release-location dependence.

    NUMBA_NUM_THREADS=1 python benchmarks/bench_cleft_franks.py [--trials 100] [--json out.json]

Franks, Bartol & Sejnowski 2002 (Biophys J 83:2333): 80 AMPARs + 20 NMDARs, 3,000 glutamate per
quantum open ~20 AMPARs. Franks, Stevens & Sejnowski 2003 (J Neurosci 23:3186): potency falls with
the distance of the release site from the PSD centre with a length constant of ~100 nm, no
receptor opens for release > 300 nm away; of the quantal variance, channel noise is 8 %, vesicle
content (dq) 58 %, release location (RLD) 36 %.

Here: the default synapse (runs/cleft/synapse.toml) with the cleft widened to R = 400 nm so that release
sites up to 300 nm lie inside it; mean peak open count against release offset, with an exponential
fit for the length constant; and the variance of the peak open count with channel noise alone,
+ dq (content CV 0.3), + RLD (site uniform in the 125 nm PSD disc), and both, split in CV^2.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numba
import numpy as np
from scipy.optimize import curve_fit

from neuroabm.cleft import load_cleft_config, simulate

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--trials", type=int, default=100)
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
    cfg = ROOT / "runs" / "cleft" / "synapse.toml"
    out: dict = {"trials": args.trials}
    offsets = [0.0, 60.0, 120.0, 180.0, 240.0, 300.0]
    means, ses = [], []
    for off in offsets:
        p = load_cleft_config(cfg, cleft_radius_nm=400.0, release_offset_nm=off, duration_ms=1.0)
        peaks = simulate(p, trials=args.trials, seed=11).peak_open
        means.append(float(peaks.mean()))
        ses.append(float(peaks.std(ddof=1) / np.sqrt(len(peaks))))
    (_a, lam), _ = curve_fit(lambda x, a, lam: a * np.exp(-x / lam), offsets, means, p0=(means[0], 100.0),
                            sigma=np.maximum(ses, 1e-3))  # fmt: skip
    out["rld"] = {"offset_nm": offsets, "peak_open_mean": means, "peak_open_se": ses, "length_constant_nm": lam}
    var = {}
    for name, kw in {
        "channel": {},
        "dq": {"n_transmitter_cv": 0.3},
        "rld": {"release_jitter_nm": 125.0},
        "dq+rld": {"n_transmitter_cv": 0.3, "release_jitter_nm": 125.0},
    }.items():
        peaks = simulate(load_cleft_config(cfg, duration_ms=1.0, **kw), trials=4 * args.trials, seed=12).peak_open
        var[name] = {"mean": float(peaks.mean()), "var": float(peaks.var()), "cv": float(peaks.std() / peaks.mean())}
    # the sources add in CV^2 (variance over mean^2): RLD and dq also change the mean
    total = var["dq+rld"]["cv"] ** 2
    var["cv2_fractions_of_total"] = {
        "channel": var["channel"]["cv"] ** 2 / total,
        "dq": (var["dq"]["cv"] ** 2 - var["channel"]["cv"] ** 2) / total,
        "rld": (var["rld"]["cv"] ** 2 - var["channel"]["cv"] ** 2) / total,
    }
    out["variance"] = var
    print(json.dumps(out, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
