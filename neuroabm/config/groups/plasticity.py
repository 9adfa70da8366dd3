"""Parameter groups of plasticity (model/plasticity): STDP and structure."""

from __future__ import annotations

from typing import TYPE_CHECKING

from neuroabm.config.groups.base import Fail, ParamGroup, _p

if TYPE_CHECKING:
    from neuroabm.config.params import Params


class PlasticityParams(ParamGroup):
    """[plasticity] Dopamine-gated STDP on excitatory synapses (Izhikevich 2007; docs/REFERENCES.md §4)."""

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

    @classmethod
    def check(cls, p: Params, fail: Fail) -> None:
        """STDP needs dopamine and room above the initial weight; scaling needs STDP."""
        if p.plasticity and not p.dopamine:
            fail("plasticity", p.plasticity, "false unless dopamine = true (weights follow the local dopamine)")
        if p.plasticity and p.j_mv > p.w_max_mv:
            fail("w_max_mv", p.w_max_mv, f">= j_mv = {p.j_mv:g} (the initial excitatory weight)")
        if p.scaling_tau_ms > 0 and not p.plasticity:
            fail("scaling_tau_ms", p.scaling_tau_ms, "0 unless plasticity = true (scaling acts on the plastic weights)")


class StructureParams(ParamGroup):
    """[structure] Structural plasticity: synapses pruned and grown on a slow period (docs/REFERENCES.md §5)."""

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

    @classmethod
    def check(cls, p: Params, fail: Fail) -> None:
        """Pruning reads plastic weights, below their maximum."""
        if p.structural and not p.plasticity:
            fail("structural", p.structural, "false unless plasticity = true (pruning reads the plastic weights)")
        if p.structural and p.w_prune_mv >= p.w_max_mv:
            fail("w_prune_mv", p.w_prune_mv, f"< w_max_mv = {p.w_max_mv:g} mV (else every synapse is pruned)")
