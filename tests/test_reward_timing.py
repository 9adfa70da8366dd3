"""When a scheduled reward reaches the field (docs: neuroabm/model/dopamine/rewards.py, "Timing convention")."""

from __future__ import annotations

import numpy as np
import pytest

from neuroabm import NeuroModel

KAPPA = 1.25e-4  # [mm^2/ms]
FIELD_DT = 5  # [ms]
T0 = 50.0  # [ms], a field step time
AMOUNT = 1e-3  # [uM mm^2] per site


def field_moments(model: NeuroModel) -> tuple[float, float]:
    """Mass [uM mm^2] and spatial variance <r^2> [mm^2] of the field around its centre of mass."""
    f = model.dopamine.field
    h = f.h_mm
    x = np.arange(f.grid_n) * h
    mass = f.values.sum() * h * h
    if mass == 0:
        return 0.0, 0.0
    w = f.values / f.values.sum()
    mx, my = (w.sum(axis=1) * x).sum(), (w.sum(axis=0) * x).sum()
    r2 = (w * ((x[:, None] - mx) ** 2 + (x[None, :] - my) ** 2)).sum()
    return float(mass), float(r2)


def test_a_reward_at_t0_appears_at_t0_spread_by_one_field_step():
    """One site, no decay, no other release: the field is empty until t0 and holds the whole reward at t0.

    At t0 the deposit has been diffused over exactly one field step (it acts as a release at
    t0 - field_dt_ms): <r^2> = 4 kappa field_dt = 2.5e-3 mm^2. The bilinear deposit on the
    h = 1/128 mm grid adds about h^2/3 = 2e-5 mm^2 (<1 %); 5 % covers it. A deposit not yet
    diffused would give <r^2> ~ 1e-5, one diffused twice 5e-3.
    """
    model = NeuroModel(
        n_exc=16, n_inh=4, k_exc=4, k_inh=1, eta=0.0, j_mv=0.1, duration_ms=60.0, seed=1,
        dopamine=True, n_sites=1, grid_n=128, field_dt_ms=FIELD_DT, kappa_mm2_per_ms=KAPPA,
        tau_da_ms=float("inf"), release_tonic=0.0, feedback_gain=0.0, reward_times_ms=[T0],
        reward_amount=AMOUNT, field_record_ms=0,
    )  # fmt: skip
    while model.time < T0 - 1:
        model.step()
    assert field_moments(model)[0] == 0.0
    model.step()  # reaches t0
    mass, r2 = field_moments(model)
    assert mass == pytest.approx(AMOUNT, rel=1e-9)
    assert r2 == pytest.approx(4 * KAPPA * FIELD_DT, rel=0.05)
