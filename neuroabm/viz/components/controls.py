"""The model behind the browser app and its sliders.

:class:`VizModel` is a :class:`~neuroabm.model.model.NeuroModel` built from a base configuration
(the TOML named by ``$NEUROABM_VIZ_CONFIG``, else :data:`VIZ_DEFAULTS`) with a few parameters set
by the sliders. Mesa's ``SolaraViz`` rebuilds it on *Reset* as ``VizModel(**slider_values)``.

The network size is one slider, ``n_neurons``: the excitatory fraction and the in-degrees
``k_exc``, ``k_inh`` of the base are kept (capped at the population size minus one), so the
mean-field state of a Brunel network, which depends on the in-degree and not on N, stays the same.
"""

from __future__ import annotations

import os
from typing import Any

from neuroabm.config import ConfigError, load_config
from neuroabm.config.params import Params
from neuroabm.model.model import NeuroModel
from neuroabm.viz.components.spike_window import SpikeWindow
from neuroabm.viz.sessions import adopt

#: environment variable naming the TOML configuration the app starts from
CONFIG_ENV = "NEUROABM_VIZ_CONFIG"
#: allowed network sizes (the sliders go to 10,000; larger N is drawn subsampled)
N_RANGE = (10, 100_000)
#: the app runs until paused: the configured duration is replaced by this [ms]
VIZ_DURATION_MS = 1e9
#: spikes kept by the model's own recorder (the views read the last minute from a SpikeWindow)
KEEP_SPIKES = 5_000_000

#: the base without a config file: the dopamine-feedback preset (runs/dopamine_feedback.toml) at
#: N = 1,000 with in-degree 100 (J = 1 mV, so that J K = 80 mV as in the preset), with plasticity
VIZ_DEFAULTS: dict[str, Any] = {
    "n_exc": 800, "n_inh": 200, "k_exc": 80, "k_inh": 20, "side_mm": 1.0, "kernel": "gaussian", "sigma_mm": 0.15,
    "j_mv": 1.0, "g": 5.0, "delay_ms": 1.5, "drive": "poisson", "eta": 0.75, "seed": 1,
    "dopamine": True, "n_sites": 36, "site_layout": "lattice", "site_radius_mm": 0.1, "grid_n": 64,
    "kappa_mm2_per_ms": 1e-5, "tau_da_ms": 1000.0, "release_tonic": 0.0, "tau_site_ms": 500.0,
    "target_rate_hz": 12.0, "feedback_gain": 5e-4, "da_excitability_mv": 1.0,
    "plasticity": True, "eta_da": 1e-4, "w_max_mv": 4.0, "graph_period_ms": 1000,
}  # fmt: skip

#: name -> (input type, label, min, max, step) of the sliders; values come from the base config
SLIDERS: dict[str, tuple[str, str, float, float, float]] = {
    "n_neurons": ("SliderInt", "N (neurons)", 100, 10_000, 100),
    "g": ("SliderFloat", "g (inhibition / excitation)", 0.0, 8.0, 0.1),
    "eta": ("SliderFloat", "η (drive / threshold rate)", 0.0, 4.0, 0.05),
    "feedback_gain": ("SliderFloat", "feedback gain [µM mm²/ms/Hz]", -1e-3, 2e-3, 5e-5),
    "kappa_mm2_per_ms": ("SliderFloat", "diffusion κ [mm²/ms]", 0.0, 1e-4, 1e-6),
    "tau_da_ms": ("SliderFloat", "dopamine decay τ_D [ms]", 100.0, 20_000.0, 100.0),
    "eta_da": ("SliderFloat", "plasticity rate η_DA [mV/(µM ms)]", 0.0, 1e-3, 1e-5),
}
#: choices of the number of release sites (squares, for the lattice layout)
SITE_CHOICES = [1, 4, 9, 16, 25, 36, 49, 64, 81, 100]


def base_params(path: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """The flat parameters the app starts from.

    Args:
        path: a TOML config; default ``$NEUROABM_VIZ_CONFIG``, and without it :data:`VIZ_DEFAULTS`.

    Returns:
        The config's values (unvalidated), with ``duration_ms`` = :data:`VIZ_DURATION_MS` and field
        snapshots off (the app shows the field live and keeps no history of it).

    """
    path = path if path is not None else os.environ.get(CONFIG_ENV) or None
    values = load_config(path) if path is not None else dict(VIZ_DEFAULTS)
    values.update(duration_ms=VIZ_DURATION_MS, field_record_ms=0)
    return values


def _value(values: dict[str, Any], name: str) -> Any:
    return values[name] if name in values else Params.model_fields[name].default


def resize(values: dict[str, Any], n_neurons: int) -> dict[str, Any]:
    """``values`` with ``n_neurons`` neurons: same excitatory fraction and in-degrees (capped).

    Raises:
        ConfigError: if ``n_neurons`` is not an integer in :data:`N_RANGE`.

    """
    lo, hi = N_RANGE
    if isinstance(n_neurons, bool) or not isinstance(n_neurons, int) or not lo <= n_neurons <= hi:
        raise ConfigError(f"invalid n_neurons = {n_neurons!r}: allowed an integer >= {lo} and <= {hi}")
    n_exc0, n_inh0 = _value(values, "n_exc"), _value(values, "n_inh")
    n_exc = min(n_neurons, max(1, round(n_neurons * n_exc0 / (n_exc0 + n_inh0))))
    n_inh = n_neurons - n_exc
    k_exc = min(_value(values, "k_exc"), n_exc - 1)
    k_inh = min(_value(values, "k_inh"), max(n_inh - 1, 0))
    return {**values, "n_exc": n_exc, "n_inh": n_inh, "k_exc": k_exc, "k_inh": k_inh}


class VizModel(NeuroModel):
    """A :class:`NeuroModel` from the app's base configuration and the slider values.

    Args:
        n_neurons: network size (see :func:`resize`); None keeps the base's.
        seed: random seed; None takes the base's.
        rng: as for :class:`NeuroModel`.
        scenario: ignored (Mesa's *Reset* passes an empty ``Scenario`` to models taking ``**kwargs``).
        **params: any flat parameter, overriding the base. Without dopamine, plasticity (which
            needs it) is switched off rather than refused, so the dopamine box can be unticked alone.

    """

    def __init__(
        self,
        n_neurons: int | None = None,
        seed: int | None = None,
        rng: Any = None,
        scenario: Any = None,
        **params: Any,
    ) -> None:
        del scenario  # Mesa's Reset passes a default Scenario; all parameters here are flat
        values = {**base_params(), **params}
        if n_neurons is not None:
            values = resize(values, n_neurons)
        base_seed = values.pop("seed", None)
        if seed is None and rng is None:
            seed = base_seed
        if not _value(values, "dopamine"):
            values.update(plasticity=False, structural=False)
        super().__init__(seed=seed, rng=rng, **values)
        self.recorder.keep_in_memory = KEEP_SPIKES
        SpikeWindow.of(self)  # attached now, so the views see every spike from t = 0
        adopt(self, model=True)  # released when its browser session closes

    def release(self) -> None:
        """Drop the whole state (network, recorders, field): the browser session is over.

        Called by :mod:`neuroabm.viz.sessions` once Solara has closed the session's kernel; the
        model is not stepped afterwards (it says it is not running).
        """
        self.__dict__.clear()
        self.running = False


def model_params(base: dict[str, Any] | None = None) -> dict[str, Any]:
    """Mesa ``model_params`` for ``SolaraViz``: the sliders, set to the base configuration's values.

    A slider's range is widened to include the base value if it lies outside.
    """
    base = base_params() if base is None else base
    n = _value(base, "n_exc") + _value(base, "n_inh")
    current = {"n_neurons": n, **{k: _value(base, k) for k in SLIDERS if k != "n_neurons"}}
    out: dict[str, Any] = {}
    for name, (kind, label, lo, hi, step) in SLIDERS.items():
        value = current[name]
        lo, hi = min(lo, value), max(hi, value)
        out[name] = {"type": kind, "label": label, "value": value, "min": lo, "max": hi, "step": step}
    n_sites = _value(base, "n_sites")
    choices = sorted({*SITE_CHOICES, n_sites})  # squares (lattice layout), and the base's own number
    out["n_sites"] = {"type": "Select", "label": "release sites", "value": n_sites, "values": choices}
    for name, label in (("dopamine", "dopamine"), ("plasticity", "plasticity (needs dopamine)")):
        out[name] = {"type": "Checkbox", "label": label, "value": bool(_value(base, name))}
    return out
