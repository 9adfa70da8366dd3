"""The flat parameter namespace of a neuroabm run, with units, ranges and validation.

Every parameter has one unique name, so the same dictionary works as ``NeuroModel(**params)``,
as a ``mesa.batch_run`` sweep (``{"g": [4, 5, 6]}``) and on the command line (``--set g=6``).
TOML files group the names into sections for humans (see :data:`SECTIONS`); the section is
documentation only and never part of the name.

Defaults are Brunel (2000) model A at a small size (docs/REFERENCES.md §1).
"""

from __future__ import annotations

import difflib
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

#: Biological time advanced by one ``model.step()``; ``model.time`` counts these, so it is in ms.
STEP_MS = 1.0
#: lags (bins) of the multistep-regression branching ratio fitted in each criticality window
CRITICALITY_MR_LAGS = 100
#: pieces the multistep regression cuts a window into (``branching_ratio_mr``'s ``n_trials``)
CRITICALITY_MR_TRIALS = 10


class ConfigError(ValueError):
    """A configuration value is unknown, of the wrong type or out of its allowed range."""


#: the upper bound of a number given none of its own: finite, far above any sensible value, and
#: inside int64 (numba's integers), so no value can overflow a kernel
DEFAULT_MAX = 10**9


def _p(default: Any, section: str, doc: str, **constraints: Any) -> Any:
    numeric = isinstance(default, (int, float)) and not isinstance(default, bool)
    if numeric and not {"le", "lt"} & constraints.keys():
        constraints["le"] = float(DEFAULT_MAX) if isinstance(default, float) else DEFAULT_MAX
    return Field(default, description=doc, json_schema_extra={"section": section}, **constraints)


class Params(BaseModel):
    """All parameters of a run. Units are in the names (ms, mV, mm, Hz)."""

    # no NaN or infinity anywhere (list elements included) unless a field says what inf means
    model_config = ConfigDict(extra="forbid", strict=True, validate_default=True, allow_inf_nan=False)

    # [network]
    n_exc: int = _p(800, "network", "number of excitatory neurons", ge=1, le=10_000_000)
    n_inh: int = _p(200, "network", "number of inhibitory neurons", ge=0, le=10_000_000)
    k_exc: int = _p(80, "network", "excitatory inputs per neuron (fixed in-degree C_E)", ge=0, le=100_000)
    k_inh: int = _p(20, "network", "inhibitory inputs per neuron (fixed in-degree C_I)", ge=0, le=100_000)
    side_mm: float = _p(1.0, "network", "side of the square torus [mm]", ge=0.001, le=1000.0)
    kernel: Literal["uniform", "gaussian"] = _p(
        "uniform", "network", "how sources are drawn: uniformly, or with a periodic Gaussian distance kernel"
    )
    sigma_mm: float = _p(0.1, "network", "width of the Gaussian connection kernel [mm]", ge=1e-4, le=1000.0)
    connectivity: Literal["fixed_indegree", "all_to_all"] = _p(
        "fixed_indegree",
        "network",
        "k_exc + k_inh sources per neuron, or every neuron to every other (no self-connections; ignores k_*)",
    )
    # [neuron]
    tau_m_ms: float = _p(20.0, "neuron", "membrane time constant [ms]", gt=0.0, le=10_000.0)
    v_th_mv: float = _p(20.0, "neuron", "firing threshold theta [mV] (rest is 0 mV)", ge=-1000.0, le=1000.0)
    v_reset_mv: float = _p(10.0, "neuron", "reset potential V_r [mV]", ge=-1000.0, le=1000.0)
    t_ref_ms: float = _p(2.0, "neuron", "absolute refractory period [ms]", ge=0.0, le=1000.0)
    leak: bool = _p(True, "neuron", "leaky integrate-and-fire; false = perfect integrator")
    reset: Literal["set", "subtract"] = _p(
        "set", "neuron", "after a spike V = v_reset_mv, or V -= v_th_mv - v_reset_mv (keeps the overshoot; Levina 2007)"
    )
    v_init: Literal["uniform", "reset", "rest"] = _p(
        "uniform", "neuron", "initial V: uniform in [v_reset_mv, v_th_mv), all at v_reset_mv, or all at 0 mV"
    )
    neuron_model: Literal["lif", "izhikevich"] = _p(
        "lif",
        "neuron",
        "membrane model: leaky integrate-and-fire (Brunel 2000), or Izhikevich (2003) with the izh_* parameters "
        "(v in mV, 30 mV peak, starts at v = c, u = b c; docs/ARCHITECTURE.md)",
    )
    izh_substep_ms: float = _p(
        0.025,
        "neuron",
        "Izhikevich: longest integration sub-step [ms]; each dt_ms step is cut into the fewest equal sub-steps "
        "no longer (any length is stable; spike-time error ~ sub-step^2, docs/ARCHITECTURE.md)",
        gt=0.0,
        le=1000.0,
    )
    izh_a_exc: float = _p(
        0.02, "neuron", "Izhikevich a of excitatory neurons [1/ms] (regular spiking)", gt=0.0, le=10.0
    )
    izh_b_exc: float = _p(0.2, "neuron", "Izhikevich b of excitatory neurons [1]", ge=-10.0, le=10.0)
    izh_c_exc: float = _p(-65.0, "neuron", "Izhikevich reset c of excitatory neurons [mV]", ge=-200.0, lt=30.0)
    izh_d_exc: float = _p(8.0, "neuron", "Izhikevich jump d of u of excitatory neurons [mV]", ge=-1000.0, le=1000.0)
    izh_a_inh: float = _p(0.1, "neuron", "Izhikevich a of inhibitory neurons [1/ms] (fast spiking)", gt=0.0, le=10.0)
    izh_b_inh: float = _p(0.2, "neuron", "Izhikevich b of inhibitory neurons [1]", ge=-10.0, le=10.0)
    izh_c_inh: float = _p(-65.0, "neuron", "Izhikevich reset c of inhibitory neurons [mV]", ge=-200.0, lt=30.0)
    izh_d_inh: float = _p(2.0, "neuron", "Izhikevich jump d of u of inhibitory neurons [mV]", ge=-1000.0, le=1000.0)
    # [synapse]
    j_mv: float = _p(0.1, "synapse", "excitatory PSP amplitude J [mV] (delta synapses)", ge=0.0, le=100.0)
    g: float = _p(5.0, "synapse", "relative inhibitory strength: inhibitory PSP = -g J", ge=0.0, le=100.0)
    delay_ms: float = _p(1.5, "synapse", "synaptic delay D [ms], a multiple of dt_ms", gt=0.0, le=1000.0)
    synapse_model: Literal["static", "depressing"] = _p(
        "static", "synapse", "static weights, or depressing: PSP = weight x resource of the presynaptic neuron"
    )
    u_depress: float = _p(0.2, "synapse", "fraction of the resource used by a spike (Levina's u)", gt=0.0, le=1.0)
    tau_rec_ms: float = _p(
        30_000.0, "synapse", "recovery time constant of the resource [ms] (Levina's tau_J = 10 tau N)", gt=0.0, le=1e9
    )
    quantal: Literal["off", "cleft"] = _p(
        "off",
        "synapse",
        "random factor q (mean 1) on every recurrent excitatory PSP: off, or per spike and synapse from the "
        "cleft's peak open-receptor counts (E[q^2] = 1.79; docs/cleft.md)",
    )
    # [drive]
    drive: Literal["poisson", "white_noise", "pulse", "current"] = _p(
        "poisson",
        "drive",
        "external drive: k_exc Poisson inputs of size J at eta*nu_thr, white noise, pulses to one random neuron, "
        "or a constant current i_ext_mv_per_ms (izhikevich only)",
    )
    eta: float = _p(2.0, "drive", "Poisson drive rate relative to threshold rate, nu_ext / nu_thr", ge=0.0, le=100.0)
    mu_mv: float = _p(15.0, "drive", "white-noise mean input mu [mV]", ge=-1000.0, le=1000.0)
    sigma_mv: float = _p(5.0, "drive", "white-noise amplitude sigma [mV]", ge=0.0, le=1000.0)
    pulse_mv: float = _p(
        0.025, "drive", "pulse drive: input to the chosen neuron [mV] (Levina's I_ext)", ge=0.0, le=1000.0
    )
    pulse_period_ms: float = _p(
        10.0,
        "drive",
        "pulse drive: one pulse every this many ms [ms], a multiple of dt_ms (Levina's tau)",
        gt=0.0,
        le=1e9,
    )
    i_ext_mv_per_ms: float = _p(
        10.0,
        "drive",
        "current drive: constant input current I of every neuron [mV/ms] (Izhikevich's I)",
        ge=-1e4,
        le=1e4,
    )
    # [run]
    dt_ms: float = _p(0.1, "run", "integration time step [ms]; must divide the 1 ms model step", gt=0.0, le=1.0)
    duration_ms: float = _p(1000.0, "run", "biological time to simulate [ms], whole ms", gt=0.0, le=1e9)
    seed: int | None = _p(None, "run", "random seed; none draws one and records it", ge=0, le=2**63 - 1)
    metrics_period_ms: int = _p(
        10, "run", "interval of model-level metrics (population rate, mean V) [ms]", ge=1, le=10**9
    )
    checkpoint_period_ms: int = _p(
        60_000, "run", "biological time between checkpoints of 'neuroabm run' [ms]; 0 = only on SIGINT/SIGTERM "
        "(resume with 'neuroabm run --resume OUT'; docs/checkpoints.md)", ge=0, le=10**9,
    )  # fmt: skip
    threads: Annotated[int, Field(ge=1, le=1024)] | Literal["auto"] = Field(
        "auto",
        description="threads of the kernels: auto measures while running and keeps the faster of 1 and all "
        "(see neuroabm/model/threads.py); results do not depend on it",
        json_schema_extra={"section": "run", "allowed": "'auto' or an integer 1 .. 1024"},
    )
    record_v: int | list[int] = Field(
        0,
        description="membrane potentials to record: a number of evenly spaced neurons (0 = none) or a list of indices",
        json_schema_extra={"section": "run", "allowed": "a count 0 .. n_exc + n_inh or a list of neuron indices"},
    )
    record_v_dt_ms: float = _p(
        1.0, "run", "sampling interval of record_v [ms], a whole multiple of dt_ms", gt=0.0, le=1e9
    )
    # [dopamine] (docs/REFERENCES.md §3): release sites, a diffusing field, feedback and rewards
    dopamine: bool = _p(False, "dopamine", "simulate dopamine release sites and the diffusing field")
    n_sites: int = _p(16, "dopamine", "number of release sites", ge=0, le=100_000)
    site_layout: Literal["lattice", "random"] = _p(
        "lattice", "dopamine", "sites on a square lattice (n_sites a square) or uniformly at random"
    )
    site_radius_mm: float = _p(0.15, "dopamine", "catchment radius of a site [mm]", gt=0.0, le=1000.0)
    grid_n: int = _p(64, "dopamine", "field grid points per side", ge=4, le=2048)
    field_dt_ms: int = _p(1, "dopamine", "field step, a whole number of ms [ms]", ge=1, le=10**6)
    field_operator: Literal["lattice", "spectral"] = _p(
        "lattice", "dopamine", "diffusion operator: exact lattice Laplacian (positive) or continuum spectral"
    )
    kappa_mm2_per_ms: float = _p(
        1e-6, "dopamine", "diffusion coefficient kappa [mm^2/ms] (1e-6: docs/REFERENCES.md §3 scale)", ge=0.0, le=1e3
    )
    tau_da_ms: float = _p(
        10_000.0,
        "dopamine",
        "dopamine decay time constant tau_D [ms] (inf: none; 1e4: docs/REFERENCES.md §3)",
        gt=0.0,
        le=float("inf"),
        allow_inf_nan=True,
    )
    release_tonic: float = _p(
        5e-7, "dopamine", "tonic release per site [uM mm^2/ms] (16 sites, 1 mm^2, tau_D 10 s: 0.08 uM)", ge=0.0, le=1e6
    )
    tau_site_ms: float = _p(2000.0, "dopamine", "time constant of a site's catchment-rate estimate [ms]", gt=0.0)
    target_rate_hz: float = _p(10.0, "dopamine", "set point of the activity feedback [Hz]", ge=0.0, le=1000.0)
    feedback_gain: float = _p(
        0.0,
        "dopamine",
        "release change per Hz below the set point [uM mm^2/ms/Hz]; > 0 homeostatic, < 0 runaway",
        ge=-1e6,
        le=1e6,
    )
    da_excitability_mv: float = _p(
        0.0, "dopamine", "depolarization per uM of local dopamine [mV/uM]; 0 = off", ge=-1000.0, le=1000.0
    )
    reward_times_ms: list[float] = _p([], "dopamine", "times of phasic reward pulses [ms]")
    reward_period_ms: float = _p(0.0, "dopamine", "period of repeating reward pulses [ms]; 0 = off", ge=0.0)
    reward_amount: float = _p(
        0.05,
        "dopamine",
        "dopamine released per site by one reward [uM mm^2] (0.05: ~1 uM over 0.05 mm^2)",
        ge=0.0,
        le=1e9,
    )
    reward_pair: list[int] = _p(
        [], "dopamine", "[A, B]: reward when neuron B fires within reward_window_ms after neuron A"
    )
    reward_window_ms: float = _p(20.0, "dopamine", "pre-post window of the rewarded pair [ms]", gt=0.0, le=1e6)
    reward_delay_min_ms: float = _p(1000.0, "dopamine", "shortest delay of a contingent reward [ms]", ge=0.0)
    reward_delay_max_ms: float = _p(3000.0, "dopamine", "longest delay of a contingent reward [ms]", ge=0.0)
    field_record_ms: int = _p(100, "dopamine", "interval of field snapshots [ms]; 0 = none", ge=0, le=10**9)
    dopamine_mixing: Literal["diffusive", "global"] = _p(
        "diffusive", "dopamine", "release diffuses from the sites, or the same total is spread uniformly (control)"
    )
    site_shuffle: bool = _p(False, "dopamine", "each site releases at another site's position (seeded; control)")
    # [plasticity] (docs/REFERENCES.md §4): dopamine-gated STDP on excitatory synapses (Izhikevich 2007)
    plasticity: bool = _p(False, "plasticity", "three-factor STDP on all synapses from excitatory neurons")
    a_plus: float = _p(1.0, "plasticity", "eligibility jump of a pre-before-post pair at dt = 0 (A+)", ge=0.0, le=1e6)
    a_minus: float = _p(1.5, "plasticity", "eligibility drop of a post-before-pre pair at dt = 0 (A-)", ge=0.0, le=1e6)
    tau_plus_ms: float = _p(20.0, "plasticity", "time constant of the potentiation window [ms]", gt=0.0, le=1e6)
    tau_minus_ms: float = _p(20.0, "plasticity", "time constant of the depression window [ms]", gt=0.0, le=1e6)
    tau_c_ms: float = _p(1000.0, "plasticity", "time constant of the eligibility trace c [ms]", gt=0.0, le=1e9)
    eta_da: float = _p(
        1e-4, "plasticity", "learning rate: dw/dt = eta_da c (D - da_baseline_um) [mV / (uM ms)]", ge=0.0, le=1e6
    )
    da_baseline_um: float = _p(0.0, "plasticity", "dopamine level with no weight change [uM]", ge=0.0, le=1e9)
    w_max_mv: float = _p(4.0, "plasticity", "upper bound of plastic weights [mV] (lower bound 0)", gt=0.0, le=1e4)
    plasticity_period_ms: int = _p(
        1000, "plasticity", "period of the sweep that brings every weight up to date [ms]", ge=1, le=10**9
    )
    scaling_tau_ms: float = _p(
        0.0,
        "plasticity",
        "synaptic scaling: in-strength relaxes to its start value with this tau [ms]; 0 = off",
        ge=0.0,
    )
    # [structure] (docs/REFERENCES.md §5): synapses pruned and grown on a slow period
    structural: bool = _p(False, "structure", "prune weak excitatory synapses and grow new ones (needs plasticity)")
    struct_period_ms: int = _p(1000, "structure", "period of pruning and growth [ms]", ge=1, le=10**9)
    w_prune_mv: float = _p(0.01, "structure", "excitatory synapses below this weight are removed [mV]", ge=0.0)
    growth_hz: float = _p(
        0.5,
        "structure",
        "new incoming excitatory synapses per neuron and second at D = da_baseline_um [Hz]",
        ge=0.0,
        le=1000.0,
    )
    growth_da_gain: float = _p(
        0.0,
        "structure",
        "growth rate x max(0, 1 + gain (D - da_baseline_um)) at the new synapse's target [1/uM]",
        ge=-1e6,
        le=1e6,
    )
    row_slack: float = _p(
        0.1, "structure", "spare room per excitatory row for growth, fraction of its initial length", ge=0.0, le=10.0
    )
    # [graph]: the synaptic graph tracked over time and exported
    graph_period_ms: int = _p(
        1000, "graph", "interval of graph metrics (graph_metrics.parquet) [ms]; 0 = start and end only", ge=0
    )
    graph_heavy_every: int = _p(
        20,
        "graph",
        "clustering and modularity on the first graph record and every n-th after it (NaN in between; "
        "static runs: never, neuroabm analyze computes them from the snapshot)",
        ge=1,
        le=10**9,
    )
    graph_clustering_sample: int = _p(
        1000, "graph", "neurons sampled (seeded, fixed) for the average clustering; 0 = all (exact)", ge=0
    )
    graph_warm_start: bool = _p(
        True, "graph", "Louvain starts from the previous record's partition (false: from singletons each time)"
    )
    snapshot_period_ms: int = _p(
        0, "graph", "interval of graph snapshots (snapshots/*.parquet) [ms]; 0 = the final one only", ge=0
    )
    # [criticality] (docs/REFERENCES.md §6): avalanches and branching ratio of each window (criticality.parquet)
    criticality_period_ms: int = _p(
        0, "criticality", "window and interval of the avalanche/branching analysis [ms]; 0 = off", ge=0, le=10**9
    )
    criticality_bin_ms: float = _p(
        0.0,
        "criticality",
        "avalanche bin [ms], a multiple of dt_ms; 0 = the window's mean inter-event interval on the dt grid",
        ge=0.0,
        le=1e6,
    )
    criticality_mr_bin_ms: float = _p(
        2.0, "criticality", "bin of the branching-ratio estimates [ms], a multiple of dt_ms", gt=0.0, le=1e6
    )
    criticality_neurons: int = _p(
        0, "criticality", "analyse a fixed random set of this many neurons (like electrodes); 0 = all", ge=0
    )


#: section name -> parameter names, in declaration order.
SECTIONS: dict[str, list[str]] = {}
for _name, _field in Params.model_fields.items():
    SECTIONS.setdefault(_field.json_schema_extra["section"], []).append(_name)  # type: ignore[index]

PARAM_NAMES: frozenset[str] = frozenset(Params.model_fields)


def section_of(name: str) -> str:
    """Return the TOML section a parameter belongs to."""
    return Params.model_fields[name].json_schema_extra["section"]  # type: ignore[index]


def _allowed(name: str) -> str:
    """Describe the allowed values of a parameter from its declared constraints."""
    field = Params.model_fields[name]
    if "allowed" in (field.json_schema_extra or {}):  # a hand-written description (union types)
        return field.json_schema_extra["allowed"]  # type: ignore[index]
    ann = field.annotation
    choices = getattr(ann, "__args__", None)
    if getattr(ann, "__origin__", None) is Literal or (choices and all(isinstance(c, str) for c in choices)):
        return "one of " + ", ".join(repr(c) for c in choices)
    if getattr(ann, "__origin__", None) is list:
        return "a list of " + ("integers" if choices == (int,) else "finite numbers")
    if ann is bool:
        return "true or false"
    lo = hi = None
    lo_op = hi_op = ""
    for m in field.metadata:
        for attr, op in (("ge", ">="), ("gt", ">")):
            if getattr(m, attr, None) is not None:
                lo, lo_op = getattr(m, attr), op
        for attr, op in (("le", "<="), ("lt", "<")):
            if getattr(m, attr, None) is not None:
                hi, hi_op = getattr(m, attr), op
    kind = "an integer" if ann in (int, int | None) else "a number"
    parts = [f"{lo_op} {lo:g}" if lo is not None else "", f"{hi_op} {hi:g}" if hi is not None else ""]
    rng = " and ".join(p for p in parts if p)
    return f"{kind} {rng}".strip() + (" (or none)" if field.default is None else "")


def unknown_key_message(key: str, where: str = "") -> str:
    """One line naming an unknown key, and the closest known one."""
    close = difflib.get_close_matches(key, sorted(PARAM_NAMES), n=1)
    hint = f"; did you mean '{close[0]}'?" if close else ""
    return f"unknown parameter '{key}'{where}{hint}"


def _short(value: Any, limit: int = 60) -> str:
    """``repr(value)``, cut to ``limit`` characters so a refusal stays one line.

    >>> _short(list(range(100)), 20)
    '[0, 1, 2, 3, 4, 5, …'
    """
    text = repr(value).replace("\n", " ")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def validate_params(values: dict[str, Any] | None = None, **overrides: Any) -> Params:
    """Validate a flat parameter dictionary (plus keyword overrides) into :class:`Params`.

    Raises:
        ConfigError: with one line naming the key, the value and the allowed range.

    """
    merged = {**(values or {}), **overrides}
    given = dict(merged)
    for key in merged:
        if key not in PARAM_NAMES:
            raise ConfigError(unknown_key_message(key))
    # TOML and the CLI give ints where floats are meant (``duration_ms = 1000``); accept them.
    for key, value in merged.items():
        ann = Params.model_fields[key].annotation
        if ann is float and isinstance(value, int) and not isinstance(value, bool):
            merged[key] = float(value)
        elif ann == list[float] and isinstance(value, list | tuple):
            merged[key] = [float(v) if isinstance(v, int) and not isinstance(v, bool) else v for v in value]
    try:
        params = Params(**merged)
    except ValidationError as exc:
        err = exc.errors()[0]
        key = str(err["loc"][0]) if err["loc"] else "?"
        value = given.get(key, err.get("input"))
        raise ConfigError(f"invalid {key} = {_short(value)}: allowed {_allowed(key)}") from None
    from neuroabm.config.cross_checks import cross_checks  # relations between fields (its own module)

    cross_checks(params)
    return params


def defaults() -> dict[str, Any]:
    """The default value of every parameter, as a flat dictionary."""
    return {name: f.default for name, f in Params.model_fields.items()}
