"""The cleft in Smoldyn (the peer): same geometry, numbers and rates; writes a JSON of time courses.

Runs under the Smoldyn venv (Smoldyn 2.76 ships a wheel for Python 3.10 only)::

    /work/peers/smoldyn/bin/python benchmarks/peer_smoldyn_cleft.py spec.json out.json

``spec.json`` (written by ``benchmarks/bench_cleft_peer.py``) holds the geometry, rates, receptor
positions, time step, duration and trials. Units: nm and us throughout (D in nm^2/us,
bimolecular rates in nm^3/us, first-order rates in 1/us).

Model: the cleft is the slab 0 <= z <= h closed by two reflecting disc panels, with an absorbing
cylinder panel at radius R (the rim); glutamate ``glu`` diffuses with D; receptors are immobile
molecules 1 nm above the postsynaptic face (Smoldyn's binding sphere, < 1 nm here, then lies inside
the cleft), one species per state of the scheme, with the binding and first-order reactions of
the scheme. Smoldyn chooses binding and unbinding radii from the rates itself. Outputs every
``record_us``: receptor state counts and free glutamate (``molcount``). With ``receptors: false``
it runs glutamate only, with the absorbing cylinder at each radius in ``fp_radii_nm`` in turn, so
that the free count is the survival ``S(r, t)`` of the first passage to r.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import smoldyn

STATES = ["C0", "C1", "C2", "D1", "D2", "O"]


def _config(spec: dict, seed: int, radius: float, with_receptors: bool, out_file: str) -> str:
    h, d, dt = spec["height_nm"], spec["diffusion_nm2_per_us"], spec["dt_us"]
    k = spec["rates"]
    big = radius + 10.0
    lines = [
        "dim 3",
        f"rand_seed {seed}",
        f"boundaries x {-big} {big}",
        f"boundaries y {-big} {big}",
        f"boundaries z -1 {h + 1}",
        "species glu " + (" ".join(STATES) if with_receptors else ""),
        f"difc glu {d}",
        "time_start 0",
        f"time_stop {spec['duration_us']}",
        f"time_step {dt}",
        "start_surface faces",
        "action both all reflect",
        f"panel disk 0 0 0 {big} 0 0 1 64 bottom",
        f"panel disk 0 0 {h} {big} 0 0 -1 64 top",
        "end_surface",
        "start_surface rim",
        "action both glu absorb",
        f"panel cyl 0 0 -1 0 0 {h + 1} {radius} 64 4 side",
        "end_surface",
        f"mol {spec['n_transmitter']} glu {spec['release_xy'][0]} {spec['release_xy'][1]} {h - 1e-3}",
    ]
    if with_receptors:
        for x, y in spec["receptor_xy"]:
            lines.append(f"mol 1 C0 {x} {y} 1.0")
        lines += [
            f"reaction b1 C0 + glu -> C1 {k['kon']}",
            f"reaction u1 C1 -> C0 + glu {k['ru1']}",
            f"reaction b2 C1 + glu -> C2 {k['kon']}",
            f"reaction u2 C2 -> C1 + glu {k['ru2']}",
            f"reaction d1 C1 -> D1 {k['rd']}",
            f"reaction r1 D1 -> C1 {k['rr']}",
            f"reaction d2 C2 -> D2 {k['rd']}",
            f"reaction r2 D2 -> C2 {k['rr']}",
            f"reaction op C2 -> O {k['ro']}",
            f"reaction cl O -> C2 {k['rc']}",
        ]
    every = max(1, round(spec["record_us"] / dt))
    lines += [f"output_files {out_file}", f"cmd N {every} molcount {out_file}", "end_file"]
    return "\n".join(lines) + "\n"


def _run(spec: dict, seed: int, radius: float, with_receptors: bool, tmp: Path) -> np.ndarray:
    out_file = "counts.txt"
    cfg = tmp / f"cleft_{seed}.txt"
    cfg.write_text(_config(spec, seed, radius, with_receptors, out_file))
    cwd = os.getcwd()
    os.chdir(tmp)
    try:
        sim = smoldyn.Simulation.fromFile(str(cfg))
        sim.run(spec["duration_us"], spec["dt_us"], display=False, overwrite=True, log_level=5, quit_at_end=True)
        del sim
    finally:
        os.chdir(cwd)
    return np.loadtxt(tmp / out_file, ndmin=2)


def main() -> None:
    spec = json.loads(Path(sys.argv[1]).read_text())
    os.environ["SMOLDYN_NO_PROMPT"] = "1"
    result: dict = {"smoldyn_version": smoldyn.__version__}
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        t0 = time.perf_counter()
        runs = [_run(spec, spec["seed"] + k, spec["radius_nm"], True, tmp) for k in range(spec["trials"])]
        result["wall_s"] = time.perf_counter() - t0
        counts = np.stack([r[:, 1:] for r in runs])  # (trials, T, glu + states)
        result["t_us"] = runs[0][:, 0].tolist()
        result["free_glu"] = counts[:, :, 0].tolist()
        result["states"] = counts[:, :, 1:].tolist()
        fp = {}
        t1 = time.perf_counter()
        for r in spec.get("fp_radii_nm", []):
            surv = [_run(spec, 10_000 + spec["seed"] + k, r, False, tmp)[:, 1] for k in range(spec["fp_trials"])]
            fp[str(r)] = (np.mean(surv, axis=0) / spec["n_transmitter"]).tolist()
        result["fp_survival"] = fp
        result["fp_wall_s"] = time.perf_counter() - t1
    Path(sys.argv[2]).write_text(json.dumps(result))


if __name__ == "__main__":
    main()
