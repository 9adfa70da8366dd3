"""Issue 13's experiment: whether slow diffusive dopamine feedback reorganizes the network, and into what.

Runs ``runs/structure_feedback.toml`` (condition ``feedback``) and its controls, each for several
seeds, and reduces every run to the outcome measures that ``docs/structure_feedback.md`` states
its criteria on (evaluated by :mod:`neuroabm.experiments.structure_feedback_eval`):

========== ==========================================================================
feedback   the main job: diffusive release with homeostatic feedback
tonic      no feedback: every site releases a constant amount (the feedback runs' mean)
global     the same feedback, its total release spread uniformly over the torus
no_struct  no pruning or growth (STDP and scaling only)
no_stdp    no weight change by STDP (``eta_da = 0``): growth, pruning and scaling only
shuffled   each site releases at another site's position (the loop is no longer local)
========== ==========================================================================

After each run the release is switched off (gain and tonic release 0) for ``OFF_MS``; the rate in
its last ``OFF_WINDOW_MS`` (dopamine has decayed to e^-4 of its level by then) tells whether the
reorganized network holds its activity without the feedback. ``baseline`` runs do the same for the
initial network (release off from the start, no plasticity).

Usage: ``python -m neuroabm.experiments.structure_feedback --out DIR [--seeds 1 2 3] [--processes 2]
[--duration-ms 120000] [--evaluate-only]``; saves each run in ``DIR/runs/``, then writes
``DIR/runs.csv`` and ``DIR/rows.parquet`` (every graph row), the evaluation (``DIR/criteria.json``)
and the figure (``DIR/structure_feedback.png``).
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "runs" / "structure_feedback.toml"
#: tonic release of the no-feedback control [uM mm^2/ms]: the mean site release at the end of a pilot run of the
#: feedback condition (seed 1, 120 s: 5.4e-4), so both conditions release about the same dopamine
TONIC_RELEASE = 5.4e-4
CONDITIONS: dict[str, dict[str, Any]] = {
    "feedback": {},
    "tonic": {"feedback_gain": 0.0, "release_tonic": TONIC_RELEASE},
    "global": {"dopamine_mixing": "global"},
    "no_struct": {"structural": False},
    "no_stdp": {"eta_da": 0.0},
    "shuffled": {"site_shuffle": True},
}
#: release switched off after the run for this long [ms]; the rate is measured in its last OFF_WINDOW_MS
OFF_MS, OFF_WINDOW_MS = 6000, 2000
#: the "start" of the homeostatic error: the graph row closing this window (the first 10 s are transient)
EARLY_ROW_MS = 20000.0


def base_params(duration_ms: float | None = None) -> dict[str, Any]:
    """The main job's parameters (optionally with another duration)."""
    from neuroabm.config.toml_io import load_config

    params = dict(load_config(CONFIG))
    if duration_ms is not None:
        params["duration_ms"] = float(duration_ms)
        params["criticality_period_ms"] = int(min(params["criticality_period_ms"], max(duration_ms // 3, 2001)))
        params["graph_period_ms"] = int(min(params["graph_period_ms"], duration_ms // 4))
    return params


def release_off_rate(model: Any) -> float:
    """Switch the release off, step ``OFF_MS`` more, return the mean rate of the last ``OFF_WINDOW_MS`` [Hz]."""
    sites = model.dopamine.sites
    sites.feedback_gain = sites.release_tonic = 0.0
    for _ in range(OFF_MS - OFF_WINDOW_MS):
        model.step()
    before = model.spike_count.sum()
    for _ in range(OFF_WINDOW_MS):
        model.step()
    return float((model.spike_count.sum() - before) / model.n_neurons / (OFF_WINDOW_MS / 1000.0))


def _crit(model: Any, which: int) -> dict[str, float]:
    rec = model.criticality_recorder
    df = rec.frame() if rec is not None else pd.DataFrame()
    if df.empty:
        return {"m_regression": np.nan, "tau": np.nan}
    row = df.iloc[which]
    return {"m_regression": float(row.get("m_regression", np.nan)), "tau": float(row.get("tau", np.nan))}


def run_one(task: tuple[str, int, float | None]) -> tuple[dict[str, Any], pd.DataFrame]:
    """Run one condition and seed; return its outcome measures and its graph rows."""
    from neuroabm.model.model import NeuroModel

    name, seed, duration_ms = task
    params = {**base_params(duration_ms), "seed": seed}
    t0 = time.perf_counter()
    if name == "baseline":  # the initial network without release or plasticity
        params.update(plasticity=False, structural=False, scaling_tau_ms=0.0, feedback_gain=0.0,
                      release_tonic=0.0, duration_ms=float(OFF_MS), criticality_period_ms=0)  # fmt: skip
        model = NeuroModel(**params)
        before = 0
        for _ in range(OFF_MS):
            model.step()
            if model.time == OFF_MS - OFF_WINDOW_MS:
                before = int(model.spike_count.sum())
        rate = (model.spike_count.sum() - before) / model.n_neurons / (OFF_WINDOW_MS / 1000.0)
        out = {"condition": name, "seed": seed, "rate_off_hz": float(rate), "wall_s": time.perf_counter() - t0}
        return out, pd.DataFrame()
    params.update(CONDITIONS[name])
    model = NeuroModel(**params).run()
    wall = time.perf_counter() - t0
    rows = model.graph_recorder.frame()
    first, last = rows.iloc[0], rows.iloc[-1]
    early = rows.loc[rows["t_ms"] == min(EARLY_ROW_MS, float(rows["t_ms"].iloc[-1]))].iloc[0]
    late_ref = rows.loc[rows["t_ms"] >= 2.0 / 3.0 * float(last["t_ms"])].iloc[0]
    out: dict[str, Any] = {"condition": name, "seed": seed, "wall_s": wall, "graph_wall_s": model.graph_recorder.wall_s}
    for key in ("nmi_catchments", "in_strength_corr_length_mm", "n_edges", "in_degree_mean", "in_degree_std"):
        out[f"{key}_start"], out[f"{key}_end"] = float(first[key]), float(last[key])
    out["n_edges_two_thirds"] = float(late_ref["n_edges"])
    out["reciprocity_ratio_start"] = float(first["strong_reciprocity"] / first["strong_reciprocity_chance"])
    out["reciprocity_ratio_end"] = float(last["strong_reciprocity"] / last["strong_reciprocity_chance"])
    for key in ("site_dist_in_strength_corr", "site_dist_out_strength_corr", "da_in_strength_corr", "rate_mean_hz"):
        out[f"{key}_end"] = float(last[key])
    out["rate_spread_early_hz"], out["rate_spread_end_hz"] = (
        float(early["rate_spread_hz"]),
        float(last["rate_spread_hz"]),
    )
    out["da_mean_um_end"] = float(model.da_local.mean())
    out["release_mean"] = float(model.dopamine.total_released / params["n_sites"] / model.time)
    for label, which in (("start", 0), ("end", -1)):
        out.update({f"{k}_{label}": v for k, v in _crit(model, which).items()})
    out["rate_off_hz"] = release_off_rate(model)
    rows.insert(0, "seed", seed)
    rows.insert(0, "condition", name)
    return out, rows


def run_experiment(
    out_dir: Path, seeds: list[int], processes: int = 2, duration_ms: float | None = None,
    conditions: list[str] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:  # fmt: skip
    """Run every condition (and the baseline) for every seed, ``processes`` at a time; write the tables.

    Tasks go seed by seed (every condition of seed 1 first), and each finished run is saved at once
    (``DIR/runs/<condition>_<seed>.{json,parquet}``; runs already saved are not repeated), so an
    interrupted experiment keeps whole seeds and resumes where it stopped.
    """
    names = [*(conditions or CONDITIONS), "baseline"]
    done_dir = out_dir / "runs"
    done_dir.mkdir(parents=True, exist_ok=True)
    tasks = [(name, seed, duration_ms) for seed in seeds for name in names
             if not (done_dir / f"{name}_{seed}.json").exists()]  # fmt: skip
    if processes > 1 and len(tasks) > 1:
        with mp.get_context("spawn").Pool(processes) as pool:
            for result, rows in pool.imap_unordered(run_one, tasks, chunksize=1):
                _save(done_dir, result, rows)
    else:
        for task in tasks:
            _save(done_dir, *run_one(task))
    return collect(out_dir)


def _save(done_dir: Path, result: dict[str, Any], rows: pd.DataFrame) -> None:
    stem = done_dir / f"{result['condition']}_{result['seed']}"
    if not rows.empty:
        rows.to_parquet(stem.with_suffix(".parquet"))
    pd.Series(result).to_json(stem.with_suffix(".json"))


def collect(out_dir: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The saved runs of an experiment folder as ``(runs, rows)``; also written as runs.csv, rows.parquet."""
    done_dir = out_dir / "runs"
    runs = pd.DataFrame([pd.read_json(p, typ="series") for p in sorted(done_dir.glob("*.json"))])
    parts = [pd.read_parquet(p) for p in sorted(done_dir.glob("*.parquet"))]
    rows = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    runs.to_csv(out_dir / "runs.csv", index=False)
    rows.to_parquet(out_dir / "rows.parquet")
    return runs, rows


def main(argv: list[str] | None = None) -> None:
    """Command-line entry (see the module docstring)."""
    from neuroabm.experiments.structure_feedback_eval import evaluate, plot_experiment

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    ap.add_argument("--processes", type=int, default=2)
    ap.add_argument("--duration-ms", type=float, default=None)
    ap.add_argument("--evaluate-only", action="store_true", help="evaluate the runs saved in DIR/runs so far")
    args = ap.parse_args(argv)
    if args.evaluate_only:
        runs, rows = collect(args.out)
    else:
        runs, rows = run_experiment(args.out, args.seeds, args.processes, args.duration_ms)
    table = evaluate(runs)
    table.to_json(args.out / "criteria.json", orient="records", indent=1)
    print(table.to_string(index=False))
    plot_experiment(runs, rows, args.out / "structure_feedback.png")


if __name__ == "__main__":
    main()
