"""The reaction model: Doi binding at a receptor, with its rate derived from the bimolecular constant.

A receptor is a binding site on the postsynaptic membrane (the plane ``z = 0``, reflecting). A free
transmitter molecule within the *reaction radius* ``sigma`` of a bindable site binds at the
microscopic rate ``lambda`` (the Doi model; Doi 1976, Erban & Chapman 2009). The site sits on the
wall, so its reaction volume is a hemisphere; by the method of images a hemisphere on a reflecting
plane receives exactly half the flux of a full sphere in free space, and the Doi rate constant of
the full sphere (Erban & Chapman 2009) gives::

    k(lambda) = 2 pi D sigma (1 - tanh(kappa sigma) / (kappa sigma)),   kappa = sqrt(lambda / D)

``lambda`` is chosen so that ``k`` equals the measured bimolecular constant (``Rb`` of the kinetic
scheme, converted to nm^3/us by :func:`kon_nm3_per_us`); :func:`doi_lambda` inverts the formula.
For ``lambda -> inf`` it becomes the Smoluchowski rate of an absorbing hemisphere, ``2 pi D sigma``
(half of ``4 pi D a`` for a sphere); for small ``lambda`` it is the well-mixed ``lambda V_sigma``
with ``V_sigma = 2/3 pi sigma^3``. AMPA binding (13 /mM/ms = 21.6 nm^3/us) is ~0.2 % of the
diffusion limit at ``sigma = 5 nm``, so binding is reaction-limited and the discrete-time rule
"bind with probability ``1 - exp(-lambda dt)`` when inside at the end of a step" reproduces ``k``
for any step that leaves the concentration around a site flat (checked against the mass-action ODE
in ``tests/test_cleft_theory.py``).

Units: nm, us; rate constants per molecule in nm^3/us (1 /mM/ms = 1.66 nm^3/us).
"""

from __future__ import annotations

import math

from scipy.optimize import brentq

from neuroabm.checks import non_negative, positive

__all__ = [
    "AVOGADRO",
    "doi_lambda",
    "doi_rate_hemisphere",
    "kon_nm3_per_us",
    "molecules_per_nm3",
    "smoluchowski_rate",
]

AVOGADRO = 6.02214076e23
#: molecules per nm^3 in a 1 mM solution (1 L = 1e24 nm^3)
_PER_NM3_PER_MM = AVOGADRO * 1e-3 / 1e24


def molecules_per_nm3(conc_mm: float) -> float:
    """Number density [1/nm^3] of a solution of ``conc_mm`` millimolar.

    >>> round(molecules_per_nm3(1.0), 7)
    0.0006022
    """
    return non_negative("conc_mm", conc_mm, "mM") * _PER_NM3_PER_MM


def kon_nm3_per_us(k_per_mm_ms: float) -> float:
    """A bimolecular rate constant in /mM/ms as a per-molecule constant in nm^3/us.

    >>> round(kon_nm3_per_us(13.0), 2)   # AMPA binding, Destexhe et al. 1998
    21.59
    """
    return non_negative("k_per_mm_ms", k_per_mm_ms, "/mM/ms") / _PER_NM3_PER_MM / 1000.0


def smoluchowski_rate(diffusion_nm2_per_us: float, radius_nm: float) -> float:
    """Steady capture rate constant ``4 pi D a`` [nm^3/us] of a perfectly absorbing sphere.

    >>> round(smoluchowski_rate(330.0, 5.0), 1)
    20734.5
    """
    return 4.0 * math.pi * positive("D", diffusion_nm2_per_us, "nm^2/us") * positive("a", radius_nm, "nm")


def doi_rate_hemisphere(lam_per_us: float, diffusion_nm2_per_us: float, sigma_nm: float) -> float:
    """Rate constant [nm^3/us] of a Doi hemisphere (radius ``sigma``, rate ``lambda``) on a reflecting wall.

    >>> k = doi_rate_hemisphere(1e9, 330.0, 5.0)        # lambda -> inf: Smoluchowski / 2
    >>> round(k / (2 * 3.141592653589793 * 330 * 5), 4)
    0.9999
    >>> round(doi_rate_hemisphere(0.01, 330.0, 5.0) / (0.01 * 2 / 3 * 3.141592653589793 * 125), 4)
    0.9997
    """
    lam = non_negative("lambda", lam_per_us, "1/us")
    d = positive("D", diffusion_nm2_per_us, "nm^2/us")
    s = positive("sigma", sigma_nm, "nm")
    if lam == 0.0:
        return 0.0
    ks = math.sqrt(lam / d) * s
    if ks < 1e-3:  # series: 1 - tanh(x)/x = x^2/3 - 2 x^4/15 + ...
        frac = ks * ks / 3.0 - 2.0 * ks**4 / 15.0
    else:
        frac = 1.0 - math.tanh(ks) / ks
    return 2.0 * math.pi * d * s * frac


def doi_lambda(k_nm3_per_us: float, diffusion_nm2_per_us: float, sigma_nm: float) -> float:
    """Microscopic Doi rate ``lambda`` [1/us] giving the rate constant ``k`` at a wall site.

    >>> lam = doi_lambda(21.59, 330.0, 5.0)
    >>> round(doi_rate_hemisphere(lam, 330.0, 5.0), 2)
    21.59

    Raises:
        ValueError: if ``k`` reaches the diffusion limit ``2 pi D sigma`` (no finite ``lambda``).

    """
    k = non_negative("k", k_nm3_per_us, "nm^3/us")
    d = positive("D", diffusion_nm2_per_us, "nm^2/us")
    s = positive("sigma", sigma_nm, "nm")
    if k == 0.0:
        return 0.0
    k_max = 2.0 * math.pi * d * s
    if k >= k_max * (1.0 - 1e-9):
        raise ValueError(f"k = {k:g} nm^3/us must stay below the diffusion limit 2 pi D sigma = {k_max:g} nm^3/us")
    lo = k / (2.0 / 3.0 * math.pi * s**3)  # well-mixed guess: a lower bound of the answer
    hi = lo
    while doi_rate_hemisphere(hi, d, s) < k:
        hi *= 4.0
    return brentq(lambda lam: doi_rate_hemisphere(lam, d, s) - k, lo * 0.999, hi, xtol=1e-14 * hi, rtol=1e-13)
