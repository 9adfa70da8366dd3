"""Parameter group of the dopamine system (model/dopamine)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Literal

from neuroabm.config.groups.base import STEP_MS, Fail, ParamGroup, _p

if TYPE_CHECKING:
    from neuroabm.config.params import Params


class DopamineParams(ParamGroup):
    """[dopamine] Release sites, the diffusing field, feedback and rewards (docs/REFERENCES.md §3)."""

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

    @classmethod
    def check(cls, p: Params, fail: Fail) -> None:
        """Rewards that can be delivered, field records on the field's grid, a square lattice of sites."""
        n = p.n_exc + p.n_inh
        if p.reward_pair and (len(p.reward_pair) != 2 or not all(0 <= i < n for i in p.reward_pair)):
            fail("reward_pair", p.reward_pair, f"[] or two neuron indices in 0 .. {n - 1}")
        if len(p.reward_pair) == 2 and p.reward_pair[0] == p.reward_pair[1]:
            fail("reward_pair", p.reward_pair, "two different neurons [A, B]")
        if p.reward_delay_max_ms < p.reward_delay_min_ms:
            fail("reward_delay_max_ms", p.reward_delay_max_ms, f">= reward_delay_min_ms = {p.reward_delay_min_ms:g}")
        if any(t < 0 for t in p.reward_times_ms):
            fail("reward_times_ms", p.reward_times_ms, "times >= 0 ms")
        if 0 < p.reward_period_ms < STEP_MS:
            fail("reward_period_ms", p.reward_period_ms, f"0 (off) or >= {STEP_MS:g} ms (one model step)")
        if p.field_record_ms % p.field_dt_ms:
            fail("field_record_ms", p.field_record_ms, f"a multiple of field_dt_ms = {p.field_dt_ms}")
        if p.dopamine and p.site_layout == "lattice" and math.isqrt(p.n_sites) ** 2 != p.n_sites:
            fail("n_sites", p.n_sites, "a perfect square (4, 9, 16, 25, ...) with site_layout = 'lattice'")
