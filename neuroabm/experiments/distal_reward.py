"""Izhikevich (2007) distal reward: dopamine 1-3 s after a spike pair singles out one synapse.

The experiment (docs/REFERENCES.md §4): 1000 neurons (800 E, 200 I), 100 synapses each, excitatory
weights start at 1 mV and are bounded in [0, 4] mV; a synapse A->B is chosen, and whenever B fires
within 20 ms after A a dopamine pulse arrives 1-3 s later. The pair's eligibility trace
(tau_c = 1 s) is the only one that is reliably positive when the pulses arrive, so over time the
A->B synapse grows while the others only diffuse around their start. Here the pulses go through
the project's own reward schedule (:mod:`neuroabm.model.dopamine.rewards`) and diffusing field;
``runs/distal_reward.toml`` makes the field effectively global, as in the paper (diffusion length
``sqrt(kappa tau_D) = 3 mm`` on a 1 mm torus), with a tonic 0.01 uM and 0.5 uM per reward.

The control is the same network with ``reward_amount = 0``: the pair events still happen (and are
counted) but release no dopamine.

Run ``python -m neuroabm.experiments.distal_reward [CONFIG] [--duration-ms T]`` for both runs, a
printed comparison and ``runs/out/distal_reward/distal_reward.png`` (``--out`` to change it), beside
the other runs' outputs rather than in the working directory.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from neuroabm.config import ConfigError, Params, load_config, validate_params
from neuroabm.model.model import NeuroModel

DEFAULT_CONFIG = Path(__file__).resolve().parents[2] / "runs" / "distal_reward.toml"
#: where the figure goes unless --out says otherwise (beside the other runs' outputs)
DEFAULT_FIGURE = DEFAULT_CONFIG.parent / "out" / "distal_reward" / "distal_reward.png"


@dataclass(frozen=True)
class DistalRewardResult:
    """Outcome of one run.

    Attributes:
        pair: the rewarded pair ``(A, B)``.
        w_pair_mv: final weight of the A->B synapse [mV].
        w_others_mv: final weights of all other excitatory synapses [mV].
        percentile: share of the other synapses below A->B [%].
        z_score: ``(w_pair - mean(others)) / std(others)``.
        robust_z: ``(w_pair - median(others)) / (1.4826 MAD(others))``: distance from the bulk in
            units of its spread, blind to a minority tail (the 1.4826 makes it a standard deviation
            for a Gaussian bulk).
        n_pair_events: times B fired within the window after A.
        n_rewards: rewards delivered.
        rate_hz: mean firing rate [Hz].
        t_ms: sample times of the pair's weight [ms].
        w_pair_t_mv: the pair's weight at ``t_ms`` [mV].

    """

    pair: tuple[int, int]
    w_pair_mv: float
    w_others_mv: np.ndarray
    percentile: float
    z_score: float
    robust_z: float
    n_pair_events: int
    n_rewards: int
    rate_hz: float
    t_ms: np.ndarray
    w_pair_t_mv: np.ndarray


def pair_slot(model: NeuroModel, a: int, b: int) -> int:
    """Storage slot of the synapse ``a -> b`` (the first one if there are several).

    Raises:
        ConfigError: if there is no such synapse or it is not plastic.

    """
    syn = model.synapses
    lo = int(syn.indptr[a])
    hits = np.flatnonzero(syn.targets[lo : lo + int(syn.split[a, -1])] == b)
    if hits.size == 0 or a >= model.n_exc:
        raise ConfigError(
            f"reward_pair = [{a}, {b}]: no plastic synapse from {a} to {b} in this network (seed "
            f"{model.params.seed}); choose an excitatory A with a synapse onto B, see first_pair()"
        )
    return lo + int(hits[0])


def first_pair(model: NeuroModel) -> tuple[int, int]:
    """The first excitatory-to-excitatory synapse of the store (a reproducible choice of pair)."""
    syn = model.synapses
    src = syn.sources()
    ee = np.flatnonzero((src < model.n_exc) & (syn.targets < model.n_exc) & (src != syn.targets) & syn.live())
    return int(src[ee[0]]), int(syn.targets[ee[0]])


def robust_z(x: float, sample: np.ndarray) -> float:
    """``(x - median) / (1.4826 MAD)`` of ``sample`` (0 when the sample has no spread)."""
    med = float(np.median(sample))
    mad = 1.4826 * float(np.median(np.abs(sample - med)))
    return (x - med) / mad if mad > 0 else 0.0


def run_distal_reward(params: Params, sample_ms: float = 10_000.0, progress: bool = False) -> DistalRewardResult:
    """Simulate ``params`` (with ``reward_pair`` set) and measure where the pair's synapse ends up."""
    if len(params.reward_pair) != 2 or not params.plasticity:
        raise ConfigError("the distal-reward experiment needs plasticity = true and reward_pair = [A, B]")
    model = NeuroModel(**params.model_dump())
    a, b = params.reward_pair
    slot = pair_slot(model, a, b)
    t_samples, w_samples = [0.0], [float(model.synapse_weights()[slot])]
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=params.duration_ms / 1000.0, unit="bio-s", desc="distal reward", leave=False)
    next_sample = sample_ms
    while model.running:
        model.step()
        if model.time >= next_sample or not model.running:
            t_samples.append(float(model.time))
            w_samples.append(float(model.synapse_weights()[slot]))
            next_sample += sample_ms
            if bar is not None:
                bar.n = model.time / 1000.0
                bar.refresh()
    if bar is not None:
        bar.close()
    n_plastic = model.plasticity.n_plastic
    w = model.synapse_weights()[:n_plastic]
    live = model.synapses.live()[:n_plastic]
    others = np.delete(w, slot)[np.delete(live, slot)]
    w_pair = float(w[slot])
    rewards = model.dopamine.rewards
    return DistalRewardResult(
        pair=(a, b),
        w_pair_mv=w_pair,
        w_others_mv=others,
        percentile=float(100.0 * np.mean(others < w_pair)),
        z_score=float((w_pair - others.mean()) / others.std()) if others.std() > 0 else 0.0,
        robust_z=robust_z(w_pair, others),
        n_pair_events=len(rewards.pair_events_ms),
        n_rewards=len(rewards.delivered_ms),
        rate_hz=float(model.rates_hz().mean()),
        t_ms=np.array(t_samples),
        w_pair_t_mv=np.array(w_samples),
    )


def result_from_run(run_dir: str | Path) -> DistalRewardResult:
    """The same measures from a finished ``neuroabm run`` folder of the experiment (its graph snapshots).

    For hour-long runs that need checkpoints: ``neuroabm run CONFIG --out DIR`` survives
    interruption (``--resume DIR``), and this reads the result from ``DIR`` afterwards. The pair's
    weight over time is read from every snapshot (the start and the end, plus every
    ``snapshot_period_ms``).
    """
    from neuroabm.exports.run_folder import require_complete
    from neuroabm.exports.snapshots import list_snapshots, read_snapshot

    run_dir = require_complete(run_dir)
    params = validate_params(load_config(run_dir / "config.toml"))
    if len(params.reward_pair) != 2 or not params.plasticity:
        raise ConfigError(f"{run_dir} is not a distal-reward run (plasticity and reward_pair = [A, B])")
    a, b = params.reward_pair
    stems = list_snapshots(run_dir)
    t_samples, w_samples = [], []
    for t_ms, stem in sorted(stems.items()):
        _, edges = read_snapshot(stem)
        src, tgt, w = (edges[c].to_numpy() for c in ("source", "target", "weight"))
        hit = np.flatnonzero((src == a) & (tgt == b))
        if hit.size == 0:  # pruned (structural plasticity): weight 0 from here on
            t_samples.append(t_ms)
            w_samples.append(0.0)
            continue
        t_samples.append(t_ms)
        w_samples.append(float(w[hit[0]]))
    exc = np.flatnonzero(src < params.n_exc)
    others = w[exc[exc != hit[0]]] if hit.size else w[exc]
    w_pair = w_samples[-1]
    summary = json.loads((run_dir / "summary.json").read_text())
    return DistalRewardResult(
        pair=(a, b),
        w_pair_mv=w_pair,
        w_others_mv=others.astype(float),
        percentile=float(100.0 * np.mean(others < w_pair)),
        z_score=float((w_pair - others.mean()) / others.std()) if others.std() > 0 else 0.0,
        robust_z=robust_z(w_pair, others),
        n_pair_events=len(summary["pair_events_ms"]),
        n_rewards=int(summary["n_rewards"]),
        rate_hz=float(summary["rate_hz"]),
        t_ms=np.array(t_samples),
        w_pair_t_mv=np.array(w_samples),
    )


def run_with_control(params: Params, progress: bool = False) -> tuple[DistalRewardResult, DistalRewardResult]:
    """The rewarded run and its no-reward control (``reward_amount = 0``, same network and seed)."""
    rewarded = run_distal_reward(params, progress=progress)
    control = run_distal_reward(params.model_copy(update={"reward_amount": 0.0}), progress=progress)
    return rewarded, control


def plot(rewarded: DistalRewardResult, control: DistalRewardResult, path: str | Path) -> None:
    """Weight distributions with the rewarded synapse marked, and its weight over time."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from neuroabm.exports.atomic import atomic_path

    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
    titles = (f"rewarded: {rewarded.n_rewards} rewards",
              f"no-reward control: {control.n_pair_events} pair events, no dopamine")  # fmt: skip
    for ax, res, title in zip(axes[:2], (rewarded, control), titles, strict=True):
        ax.hist(res.w_others_mv, bins=80, color="0.6", log=True)
        ax.axvline(res.w_pair_mv, color="r", lw=2, label=f"A->B: {res.w_pair_mv:.2f} mV ({res.percentile:.2f} %)")
        ax.set(xlabel="excitatory weight [mV]", ylabel="synapses", title=title)
        ax.legend(fontsize=8)
    for res, label, color in ((rewarded, "rewarded", "r"), (control, "control", "0.4")):
        axes[2].plot(res.t_ms / 1000.0, res.w_pair_t_mv, color=color, label=label)
    axes[2].set(xlabel="time [s]", ylabel="A->B weight [mV]", title="the rewarded synapse")
    axes[2].legend(fontsize=8)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=100, format="png")
    plt.close(fig)


def _row(name: str, r: DistalRewardResult) -> dict[str, Any]:
    return {
        "run": name,
        "w_AB_mV": round(r.w_pair_mv, 3),
        "percentile": round(r.percentile, 3),
        "z": round(r.z_score, 2),
        "robust_z": round(r.robust_z, 2),
        "median_others_mV": round(float(np.median(r.w_others_mv)), 3),
        "p99_others_mV": round(float(np.percentile(r.w_others_mv, 99)), 3),
        "pair_events": r.n_pair_events,
        "rewards": r.n_rewards,
        "rate_Hz": round(r.rate_hz, 2),
    }


def main(argv: list[str] | None = None) -> None:
    """Run the experiment and its control; print a comparison and write the figure."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("config", nargs="?", default=str(DEFAULT_CONFIG), help="TOML config (runs/distal_reward.toml)")
    parser.add_argument("--duration-ms", type=float, default=None, help="override duration_ms [ms]")
    parser.add_argument("--out", default=str(DEFAULT_FIGURE), help=f"figure path (default {DEFAULT_FIGURE})")
    parser.add_argument("--seed", type=int, default=None, help="another seed; the pair is its first E->E synapse")
    parser.add_argument(
        "--only", choices=("rewarded", "control"), default=None, help="run one of the two (no figure)"
    )  # fmt: skip
    parser.add_argument("--json", default=None, help="also write the result rows (and A->B over time) here")
    parser.add_argument(
        "--from-run", nargs="+", default=None, metavar="DIR",
        help="read the result of finished 'neuroabm run' folders of the experiment instead of running it",
    )  # fmt: skip
    args = parser.parse_args(argv)
    if args.from_run:
        for folder in args.from_run:
            r = result_from_run(folder)
            p = validate_params(load_config(Path(folder) / "config.toml"))
            row = _row("control" if p.reward_amount == 0 else "rewarded", r) | {"seed": p.seed, "folder": folder}
            print("  ".join(f"{k}={v}" for k, v in row.items()))
        return
    values = load_config(args.config)
    if args.duration_ms is not None:
        values["duration_ms"] = args.duration_ms
    if args.seed is not None:
        values["seed"] = args.seed
        probe = {**values, "duration_ms": 1.0, "reward_pair": []}
        values["reward_pair"] = list(first_pair(NeuroModel(**validate_params(probe).model_dump())))
    params = validate_params(values)
    runs = {}
    if args.only != "control":
        runs["rewarded"] = run_distal_reward(params, progress=True)
    if args.only != "rewarded":
        runs["control"] = run_distal_reward(params.model_copy(update={"reward_amount": 0.0}), progress=True)
    rows = [_row(name, r) | {"seed": params.seed, "pair": list(r.pair)} for name, r in runs.items()]
    for row in rows:
        print("  ".join(f"{k}={v}" for k, v in row.items()))
    if args.json is not None:
        curves = {name: {"t_ms": r.t_ms.tolist(), "w_mv": r.w_pair_t_mv.tolist()} for name, r in runs.items()}
        Path(args.json).write_text(json.dumps({"rows": rows, "curves": curves}, indent=1))
    if len(runs) == 2:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        plot(runs["rewarded"], runs["control"], args.out)
        print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
