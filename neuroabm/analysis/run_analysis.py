"""Analysis of a finished run folder: avalanches, branching ratio and first passage beside theory.

``neuroabm analyze RUN_DIR`` calls :func:`analyze_run`, which reads ``config.toml``,
``spikes.parquet`` and (when the run recorded membrane potentials) ``voltages.npz``, and writes

- ``analysis.json``: avalanche size and duration exponents with errors, ``x_min``, likelihood
  ratios against lognormal and exponential, ``<S>(T)`` exponent and the crackling-noise
  difference, branching ratios (conventional and multistep regression), the mean
  first-passage time against theory, and (when the run has graph snapshots) the structure of
  the last one (:mod:`neuroabm.analysis.snapshot_structure`: clustering, modularity, NMI with
  the catchments; a static run records these only here);
- ``analysis.png``: the figure of :mod:`neuroabm.report.analysis_figure`.

First-passage theory. With white-noise drive and no recurrent synapses the membrane is exactly
the process of the theory: Siegert (leaky) or the inverse Gaussian (perfect integrator), and the
Fokker–Planck solver gives ``F(t)`` and ``P(V, t)``. In a recurrent network the input is
approximated as white noise with the mean and variance of Brunel's (2000) diffusion
approximation at the measured rate and the *initial* synaptic efficacies (plastic or depressing
synapses make it rougher); ``analysis.json`` says which one was used (``theory``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from neuroabm.analysis.avalanches import analyze_avalanches, find_avalanches
from neuroabm.analysis.branching import subsample_neurons
from neuroabm.analysis.first_passage import first_passage_times, occupation_density
from neuroabm.analysis.membrane_noise import membrane_input
from neuroabm.analysis.snapshot_structure import snapshot_structure
from neuroabm.config import Params, load_config, validate_params
from neuroabm.theory.brunel import brunel_input, nu_threshold_hz
from neuroabm.theory.first_passage import inverse_gaussian_mean
from neuroabm.theory.fokker_planck import FokkerPlanckSolution, fokker_planck_first_passage
from neuroabm.theory.siegert import siegert_mean_isi_ms

__all__ = ["FirstPassageTheory", "analyze_run", "first_passage_theory", "load_run"]

#: fewest first-passage samples worth a comparison
MIN_TRIALS = 20


@dataclass(frozen=True)
class FirstPassageTheory:
    """White-noise input that stands for a neuron's drive, and what theory predicts for it.

    Attributes:
        kind: ``"exact"`` (isolated neurons with white-noise drive) or ``"diffusion approximation"``.
        mu_mv: Mean input ``mu`` [mV].
        sigma_mv: Noise amplitude ``sigma`` [mV].
        mean_fpt_ms: Closed-form mean first-passage time from reset [ms] (Siegert minus the
            refractory period, or ``a / drift`` for the perfect integrator).
        solution: The Fokker–Planck solution (``F(t)``, ``S(t)``, ``P(V, t)``).

    """

    kind: str
    mu_mv: float
    sigma_mv: float
    mean_fpt_ms: float
    solution: FokkerPlanckSolution


def load_run(run_dir: str | Path) -> tuple[Params, np.ndarray, np.ndarray]:
    """Read a run folder's resolved parameters and spikes ``(t_ms, neuron)``."""
    run_dir = Path(run_dir)
    for name in ("config.toml", "spikes.parquet"):
        if not (run_dir / name).is_file():
            raise FileNotFoundError(f"{run_dir / name} not found: is {run_dir} a folder written by 'neuroabm run'?")
    params = validate_params(load_config(run_dir / "config.toml"))
    spikes = pd.read_parquet(run_dir / "spikes.parquet")
    return params, spikes["t_ms"].to_numpy(np.float64), spikes["neuron"].to_numpy(np.int64)


def first_passage_theory(p: Params, rate_hz: float) -> FirstPassageTheory | None:
    """The white-noise description of the drive of ``p`` at population rate ``rate_hz``.

    Returns None where no diffusion description applies (a drive other than Poisson or white
    noise, or a mean input so low that the neuron practically never fires).
    """
    recurrent = p.k_exc > 0 and rate_hz > 0.0
    if p.drive == "white_noise":
        mu, var = p.mu_mv, p.sigma_mv**2
        if recurrent:
            mu_r, sigma_r = brunel_input(rate_hz, 0.0, p.k_exc, p.k_inh, p.j_mv, p.g, p.tau_m_ms)
            mu, var = mu + mu_r, var + sigma_r**2
    elif p.drive == "poisson" and p.k_exc > 0 and p.j_mv > 0:
        nu_ext = p.eta * nu_threshold_hz(p.v_th_mv, p.j_mv, p.k_exc, p.tau_m_ms)
        mu, sigma = brunel_input(rate_hz if recurrent else 0.0, nu_ext, p.k_exc, p.k_inh, p.j_mv, p.g, p.tau_m_ms)
        var = sigma**2
    else:
        return None
    kind = "exact" if not recurrent and p.drive == "white_noise" else "diffusion approximation"
    return theory_for_input(p, mu, math.sqrt(var), kind)


def theory_for_input(p: Params, mu: float, sigma: float, kind: str) -> FirstPassageTheory | None:
    """First-passage theory (closed-form mean and Fokker–Planck solution) for white noise ``mu``, ``sigma`` [mV]."""
    if sigma <= 0.0 or (not p.leak and mu <= 0.0):
        return None
    if p.leak:
        mean = siegert_mean_isi_ms(mu, sigma, p.tau_m_ms, p.v_th_mv, p.v_reset_mv, 0.0)
    else:  # tau dV = mu dt + sigma sqrt(tau) dW: drift mu / tau, noise sigma / sqrt(tau)
        mean = inverse_gaussian_mean(p.v_th_mv - p.v_reset_mv, mu / p.tau_m_ms)
    if not math.isfinite(mean) or mean > 1e6:
        return None
    dv = min(0.05, (p.v_th_mv - p.v_reset_mv) / 8.0)
    dt = min(0.05, mean / 200.0)
    solution = fokker_planck_first_passage(
        mu, sigma, p.tau_m_ms, p.v_th_mv, p.v_reset_mv, leak=p.leak, dv_mv=dv, dt_ms=dt,
        p_every_ms=dt * max(1, round(0.5 / dt)),
    )  # fmt: skip
    return FirstPassageTheory(kind, float(mu), float(sigma), float(mean), solution)


def _first_passage(
    p: Params, t_ms: np.ndarray, neuron: np.ndarray, theory: FirstPassageTheory | None
) -> tuple[dict[str, Any], np.ndarray]:
    """Empirical first-passage times and their comparison with theory."""
    duration = float(p.duration_ms)
    naive = first_passage_times(t_ms, neuron, p.t_ref_ms)
    out: dict[str, Any] = {"theory": theory.kind if theory else "none"}
    if naive.size < MIN_TRIALS:
        return out | {"n_trials": int(naive.size), "mean_fpt_ms": math.nan}, naive
    # keep trials that started early enough to end within the run (unbiased; see first_passage_times)
    horizon = min(0.5 * duration, 10.0 * (theory.mean_fpt_ms if theory else float(np.median(naive))))
    fpt = first_passage_times(t_ms, neuron, p.t_ref_ms, max_start_ms=duration - horizon)
    out |= {
        "n_trials": int(fpt.size),
        "mean_fpt_ms": float(fpt.mean()) if fpt.size else math.nan,
        "mean_fpt_sem_ms": float(fpt.std(ddof=1) / math.sqrt(fpt.size)) if fpt.size > 1 else math.nan,
    }
    if theory is not None:
        out |= {
            "mu_mv": theory.mu_mv,
            "sigma_mv": theory.sigma_mv,
            "theory_mean_fpt_ms": theory.mean_fpt_ms,
            "fokker_planck_mean_fpt_ms": theory.solution.mean_fpt_ms,
            "relative_difference": out["mean_fpt_ms"] / theory.mean_fpt_ms - 1.0,
        }
    return out, fpt


def _occupation(run_dir: Path, p: Params, t_ms: np.ndarray, neuron: np.ndarray, theory: FirstPassageTheory | None):
    """Occupation histogram of the recorded membrane potentials, or None if none were recorded."""
    path = run_dir / "voltages.npz"
    if not path.is_file():
        return None
    with np.load(path) as data:
        times, ids, v = data["t_ms"], data["neuron"], data["v_mv"]
    if times.size < 2 or ids.size == 0:
        return None
    t_max = 3.0 * (theory.mean_fpt_ms if theory else 20.0)
    step = max(float(np.diff(times).min()), 0.5)
    t_bins = np.arange(0.0, t_max + step, step)
    v_lo = float(np.nanmin(v)) if theory is None else float(theory.solution.v_mv[0])
    v_bins = np.linspace(min(v_lo, p.v_reset_mv), p.v_th_mv, 61)
    return occupation_density(v, times, ids, t_ms, neuron, v_bins, t_bins, t_ref_ms=p.t_ref_ms)


def _membrane_theory(
    run_dir: Path, p: Params, t_ms: np.ndarray, neuron: np.ndarray, fp: dict[str, Any]
) -> FirstPassageTheory | None:  # fmt: skip
    """Theory with ``mu`` and ``sigma`` measured on the recorded membranes (leaky neurons); fills ``fp``."""
    if not p.leak:
        return None
    with np.load(run_dir / "voltages.npz") as data:
        est = membrane_input(data["v_mv"], data["t_ms"], data["neuron"], t_ms, neuron, p.tau_m_ms,
                             p.v_th_mv, p.v_reset_mv, p.t_ref_ms)  # fmt: skip
    if est is None:
        return None
    fp |= {"mu_membrane_mv": est.mu_mv, "sigma_membrane_mv": est.sigma_mv, "membrane_lag_ms": est.lag_ms,
           "membrane_windows": est.n_pairs}  # fmt: skip
    measured = theory_for_input(p, est.mu_mv, est.sigma_mv, "membrane estimate")
    if measured is not None:
        fp["membrane_theory_mean_fpt_ms"] = measured.mean_fpt_ms
    return measured


def _occupation_error(hist, theory: FirstPassageTheory) -> float:
    """Mean absolute difference between the empirical and Fokker–Planck ``P(V, t)`` [1/mV]."""
    sol = theory.solution
    t_mid = 0.5 * (hist.t_edges_ms[1:] + hist.t_edges_ms[:-1])
    v_mid = 0.5 * (hist.v_edges_mv[1:] + hist.v_edges_mv[:-1])
    ok = (t_mid >= sol.p_t_ms[1]) & (t_mid <= sol.p_t_ms[-1])
    if not np.any(ok):
        return math.nan
    rows = [np.interp(v_mid, sol.v_mv, sol.p_per_mv[np.argmin(np.abs(sol.p_t_ms - t))]) for t in t_mid[ok]]
    diff = np.abs(hist.density_per_mv[ok] - np.array(rows))
    return float(np.nanmean(diff))


def analyze_run(
    run_dir: str | Path, subsample: int | None = None, seed: int = 0, figure: bool = True
) -> dict[str, Any]:
    """Analyse a run folder and write ``analysis.json`` (and ``analysis.png``) into it.

    Args:
        run_dir: A folder written by ``neuroabm run``.
        subsample: Analyse avalanches and branching ratios on this many randomly chosen neurons.
        seed: Seed of the subsample.
        figure: Also draw ``analysis.png``.

    Returns:
        The analysis as a JSON-ready dictionary.

    """
    from neuroabm.exports.tables import write_json

    run_dir = Path(run_dir)
    p, t_ms, neuron = load_run(run_dir)
    n = p.n_exc + p.n_inh
    rate = t_ms.size / n / (p.duration_ms / 1000.0)
    # avalanches (of the subsample, if asked) binned at their mean inter-event interval on the grid of
    # the time step (never finer); branching ratios on the causal time step, one synaptic delay.
    # What cannot be estimated is NaN with a reason, and a suggestion (e.g. --subsample)
    kept = neuron
    if subsample is not None:
        t_av, kept = subsample_neurons(t_ms, neuron, subsample, np.random.default_rng(seed))
    else:
        t_av = t_ms
    aval = analyze_avalanches(t_av, kept, mr_bin_ms=max(p.delay_ms, p.dt_ms), dt_ms=p.dt_ms)
    if subsample is not None:
        aval["n_neurons_kept"] = subsample
    theory = first_passage_theory(p, rate)
    fp, fpt = _first_passage(p, t_ms, neuron, theory)
    hist = _occupation(run_dir, p, t_ms, neuron, theory)
    measured = None
    if hist is not None:
        fp["n_recorded"] = int(hist.trials.max()) if hist.trials.size else 0
        fp["occupation_mean_abs_error_per_mv"] = _occupation_error(hist, theory) if theory else math.nan
        measured = _membrane_theory(run_dir, p, t_ms, neuron, fp)
    if theory is not None and theory.kind != "exact":
        fp["sigma_basis"] = "Poisson inputs at the measured rate (Brunel 2000 diffusion approximation)" + (
            "" if measured is not None else "; record_v gives an estimate from the membrane"
        )
    result = {"n_neurons": n, "n_spikes": int(t_ms.size), "rate_hz": rate, "avalanches": aval, "first_passage": fp}
    structure = snapshot_structure(run_dir, p)
    if structure is not None:
        result["structure"] = structure
    write_json(result, run_dir / "analysis.json")
    if figure:
        from neuroabm.report.analysis_figure import write_analysis_figure

        av = find_avalanches(t_av, bin_ms=aval["bin_ms"]) if math.isfinite(aval["bin_ms"]) else None
        write_analysis_figure(run_dir / "analysis.png", av, aval, fpt, theory, hist, measured)
    return result
