"""Levina, Herrmann & Geisel (2007): avalanches with depressing vs static synapses (docs/REFERENCES.md §6).

The network: ``N = 300`` non-leaky integrate-and-fire neurons (``tau_m`` plays no role), all-to-all
without self-connections, threshold ``theta = 1`` and subtractive reset ``h -> h - theta``. Levina's
membrane potential is dimensionless; here it is read in mV with ``theta = 1 mV``, so every "mV" of
this configuration is one threshold unit. Every ``tau = 10 ms`` one random neuron receives
``I_ext = 0.025``; spikes arrive ``1 ms`` later (the time step is 1 ms too). A spike of neuron ``j``
adds ``u J_ij / N`` to every other neuron: with the resource ``x_j = u J / alpha`` this is
``(alpha / N) x_j``, so ``j_mv = alpha / N`` and :mod:`neuroabm.model.depression` carries ``x``
(``u = 0.2``, ``tau_J = 10 tau N``). Static synapses are the same network with ``x = 1``: the
coupling ``alpha`` then is the branching ratio, critical near ``alpha_cr = 1 - 1/sqrt(N)`` (Eurich,
Herrmann & Ernst 2002, PRE 66:066137).

Reset: the subtractive reset keeps the overshoot above threshold, so charge is conserved except
for the ``1 - alpha (N-1)/N`` lost per spike; this is the model of Eurich et al. (2002) on which
Levina et al. build, and the one their static critical coupling refers to (a reset to 0 would
discard the overshoot, an extra dissipation that shifts the critical coupling).

Avalanches: the drive is slow (one input per 10 ms, about one avalanche per 0.4 s) and a cascade
advances one generation per 1 ms delay, so the spikes of consecutive 1 ms steps form one avalanche
(bin = delay). Sizes are fitted with a discrete power law over ``1 <= S <= N / 10``, well below the
cut-off at ``N``.

Run ``python -m neuroabm.experiments.levina_sweep`` for a table of fitted exponents over ``alpha``
(``mesa.batch_run``, one process per core).
"""

from __future__ import annotations

import argparse
import math
from typing import Any

import mesa
import numpy as np
from mesa import DataCollector

from neuroabm.analysis.avalanches import find_avalanches
from neuroabm.analysis.power_laws import fit_power_law
from neuroabm.model.model import NeuroModel

#: network size of Levina et al. (2007)
N_LEVINA = 300
#: the fit range is 1 .. N / FIT_FRACTION (well below the finite-size cut-off at N)
FIT_FRACTION = 10
#: transient dropped before counting avalanches [ms]: two recovery times tau_J = 10 tau N = 30 s
T_SKIP_MS = 60_000.0


def levina_params(alpha: float, synapse_model: str = "depressing", n: int = N_LEVINA, **overrides: Any) -> dict:
    """Flat :class:`~neuroabm.config.Params` of the Levina network with coupling ``alpha``.

    Args:
        alpha: Levina's coupling ``alpha`` (depressing: ``u J_max``; static: the coupling itself).
        synapse_model: "depressing" or "static".
        n: number of neurons.
        **overrides: any other parameter (e.g. ``duration_ms``, ``seed``).

    """
    if not (math.isfinite(alpha) and 0.0 < alpha < n):
        raise ValueError(f"alpha must be a number in (0, {n}) (got {alpha!r})")
    tau_ms = 10.0
    return {
        "n_exc": n,
        "n_inh": 0,
        "k_exc": 0,
        "k_inh": 0,
        "connectivity": "all_to_all",
        "leak": False,
        "v_th_mv": 1.0,
        "v_reset_mv": 0.0,
        "reset": "subtract",
        "t_ref_ms": 0.0,
        "v_init": "uniform",
        "j_mv": alpha / n,
        "delay_ms": 1.0,
        "dt_ms": 1.0,
        "drive": "pulse",
        "pulse_mv": 0.025,
        "pulse_period_ms": tau_ms,
        "synapse_model": synapse_model,
        "u_depress": 0.2,
        "tau_rec_ms": 10.0 * tau_ms * n,
        "eta": 0.0,
        **overrides,
    }


def avalanche_sizes(model: NeuroModel, t_skip_ms: float = T_SKIP_MS) -> np.ndarray:
    """Sizes of the complete avalanches after ``t_skip_ms`` (1 ms bins = the delay)."""
    t, _ = model.spikes()
    t = t[t > t_skip_ms]
    if t.size < 2:
        return np.zeros(0, np.int64)
    return find_avalanches(t, bin_ms=model.params.delay_ms, t_start_ms=t_skip_ms, t_stop_ms=model.time).sizes


def truncated_fisher_se(alpha: float, n_values: int, xmax: int, xmin: int = 1) -> float:
    """Standard error of the ML exponent of a discrete power law on ``[xmin, xmax]`` (Fisher information).

    ``1 / sqrt(n Var(ln S))`` under the fitted law; larger than ``(alpha - 1) / sqrt(n)`` (the
    untruncated formula) when the range is short.
    """
    s = np.arange(xmin, xmax + 1, dtype=float)
    q = s**-alpha
    q /= q.sum()
    ln = np.log(s)
    var = float(np.dot(q, ln**2) - np.dot(q, ln) ** 2)
    return 1.0 / math.sqrt(max(n_values, 1) * var)


def pseudo_true_exponent(pmf: np.ndarray, xmin: int = 1) -> float:
    """Exponent a discrete power-law fit on ``[xmin, xmin + len(pmf) - 1]`` converges to for data from ``pmf``.

    The ML limit matches ``E[ln S]`` of the fitted law to that of the data (exponential family).
    """
    from scipy.optimize import brentq

    s = np.arange(xmin, xmin + len(pmf), dtype=float)
    p = np.asarray(pmf, float) / np.sum(pmf)
    target = float(np.dot(p, np.log(s)))

    def excess(a: float) -> float:
        q = s**-a
        return float(np.dot(q, np.log(s)) / q.sum()) - target

    return float(brentq(excess, -5.0, 10.0))


def size_statistics(sizes: np.ndarray, n: int = N_LEVINA) -> dict[str, float]:
    """Exponent of ``P(S)`` over ``1 .. n / FIT_FRACTION`` with its Fisher error, and the share of ``S >= n / 2``."""
    xmax = n // FIT_FRACTION
    nan = float("nan")
    out = {"n_avalanches": int(sizes.size), "tau": nan, "tau_err": nan, "frac_large": nan, "mean_size": nan}
    if sizes.size == 0:
        return out
    out["frac_large"] = float(np.mean(sizes >= n / 2))
    out["mean_size"] = float(sizes.mean())
    inside = sizes[sizes <= xmax]
    try:
        fit = fit_power_law(inside, discrete=True, xmin=1, xmax=xmax)
    except ValueError:
        return out
    out["tau"] = fit.alpha
    out["tau_err"] = truncated_fisher_se(fit.alpha, inside.size, xmax)
    return out


class LevinaModel(NeuroModel):
    """The Levina network as a Mesa model with avalanche statistics as its end-of-run reporters.

    Keyword arguments only, so ``mesa.batch_run`` can sweep ``alpha`` and ``synapse_model``.

    Args:
        alpha: coupling (see :func:`levina_params`).
        synapse_model: "depressing" or "static".
        duration_ms: biological time [ms].
        t_skip_ms: transient left out of the statistics [ms].
        seed: random seed.
        rng: Mesa's seed argument (an integer), used by ``batch_run``.

    """

    def __init__(
        self, alpha: float = 1.5, synapse_model: str = "depressing", duration_ms: float = 1_000_000.0,
        t_skip_ms: float = T_SKIP_MS, seed: int | None = None, rng: Any = None,
    ) -> None:  # fmt: skip
        params = levina_params(alpha, synapse_model, duration_ms=duration_ms, metrics_period_ms=int(duration_ms))
        super().__init__(seed=seed, rng=rng, **params)
        self.alpha = alpha
        self.t_skip_ms = t_skip_ms
        keys = ("n_avalanches", "tau", "tau_err", "frac_large", "mean_size")
        reporters = {k: (lambda m, k=k: m.avalanche_statistics()[k]) for k in keys}
        reporters["mean_efficacy"] = lambda m: m.mean_efficacy()
        self.datacollector = DataCollector(model_reporters={"t_ms": lambda m: float(m.time), **reporters})
        self._stats: tuple[float, dict] | None = None

    def avalanche_statistics(self) -> dict[str, float]:
        """:func:`size_statistics` of the avalanches so far (cached per time)."""
        if self._stats is None or self._stats[0] != self.time:
            self._stats = (self.time, size_statistics(avalanche_sizes(self, self.t_skip_ms), self.n_neurons))
        return self._stats[1]

    def mean_efficacy(self) -> float:
        """Mean resource ``x`` over neurons now (``u J / alpha``; 1 with static synapses)."""
        if self.depression is None:
            return 1.0
        return float(self.depression.efficacy(self.k - 1).mean())


def sweep(
    alphas_depressing: list[float], alphas_static: list[float], duration_ms: float, seed: int = 1,
    processes: int | None = None,
) -> list[dict]:  # fmt: skip
    """Run both sweeps with ``mesa.batch_run`` and return one row per run."""
    rows = []
    for model, alphas in (("depressing", alphas_depressing), ("static", alphas_static)):
        if not alphas:
            continue
        rows += mesa.batch_run(
            LevinaModel,
            {"alpha": alphas, "synapse_model": model, "duration_ms": duration_ms},
            rng=[seed],
            number_processes=processes,
            max_steps=int(duration_ms) + 1,
            data_collection_period=-1,
            display_progress=False,
        )
    return rows


def main(argv: list[str] | None = None) -> None:
    """Print the fitted size exponent over alpha for depressing and static synapses."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--duration-s", type=float, default=1000.0, help="biological time per run [s]")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--processes", type=int, default=None, help="worker processes (default: all cores)")
    ap.add_argument("--depressing", type=float, nargs="*", default=[1.0, 1.2, 1.4, 1.6, 1.8, 2.0])
    ap.add_argument("--static", type=float, nargs="*", default=[0.7, 0.8, 0.9, 0.94, 0.97, 0.99])
    a = ap.parse_args(argv)
    if a.duration_s * 1000.0 <= T_SKIP_MS:
        ap.error(f"--duration-s must exceed the {T_SKIP_MS / 1000:g} s transient")
    rows = sweep(a.depressing, a.static, a.duration_s * 1000.0, a.seed, a.processes)
    from neuroabm.theory.branching_process import borel_pmf

    xmax = N_LEVINA // FIT_FRACTION
    ref = pseudo_true_exponent(borel_pmf(np.arange(1, xmax + 1), 1.0))
    print(f"N = {N_LEVINA}, fit range 1..{xmax}; critical branching process (Borel, m = 1) gives tau = {ref:.3f}")
    print(f"static critical coupling 1 - 1/sqrt(N) = {1 - 1 / math.sqrt(N_LEVINA):.3f}")
    print(f"{'synapses':>10} {'alpha':>6} {'avalanches':>10} {'tau':>7} {'+-':>6} {'P(S>=N/2)':>9} {'<x>':>6}")
    for r in sorted(rows, key=lambda r: (r["synapse_model"] != "depressing", r["alpha"])):  # pool order is arbitrary
        print(
            f"{r['synapse_model']:>10} {r['alpha']:6.2f} {r['n_avalanches']:10d} {r['tau']:7.3f} "
            f"{r['tau_err']:6.3f} {r['frac_large']:9.3f} {r['mean_efficacy']:6.3f}"
        )


if __name__ == "__main__":
    main()
