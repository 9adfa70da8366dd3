"""First passage of a noisy integrate-and-fire membrane from the Fokker–Planck equation.

Below the threshold the membrane follows ``tau dV = (mu - V) dt + sigma sqrt(tau) dW`` (the
convention of :mod:`neuroabm.theory.siegert`; with ``leak=False`` the drift is ``mu`` instead of
``mu - V``, the perfect integrator). The density ``P(V, t)`` of neurons that started at the
reset ``V_r`` at ``t = 0`` and have not yet reached the threshold ``theta`` obeys::

    tau dP/dt = d/dV [(V - mu) P] + (sigma^2 / 2) d^2P/dV^2,     P(theta, t) = 0 (absorbing)

with the probability flux ``J = [(mu - V) P - (sigma^2 / 2) dP/dV] / tau`` [1/ms]. Its integral
over ``V`` is the survival ``S(t)``, the flux through ``theta`` is the first-passage density
``F(t) = -dS/dt = -(sigma^2 / (2 tau)) dP/dV |_theta`` and the mean first-passage time is
``integral S dt`` — plus ``t_ref`` it is Siegert's mean inter-spike interval (docs/REFERENCES.md §2).

Discretization (finite volumes on a vertex grid ``V_j = V_r + j h``, ``theta`` a node, ``V_r``
a node): the flux between neighbouring nodes is the Scharfetter–Gummel (exponentially fitted)
flux ``J = (D / h) [B(-z) P_j - B(z) P_{j+1}]``, ``B(z) = z / (e^z - 1)``, ``z = A h / D`` with the
drift ``A = (mu - V) / tau`` [mV/ms] at the interface and ``D = sigma^2 / (2 tau)`` [mV^2/ms]. It
keeps ``P >= 0`` at any cell Péclet number, is second order in ``h`` and conserves mass exactly:
the only loss is the flux into the absorbing node. The lowest node ``v_min_mv`` (far below, where
the density is negligible) is reflecting (zero flux). Time: Crank–Nicolson, started with a few
backward-Euler steps that damp the grid-scale modes of the initial delta at ``V_r`` (Rannacher
start). Both schemes integrate the semi-discrete survival exactly in the sense that the
trapezoidal (CN) and right-endpoint (Euler) sums of ``S`` equal ``w . (-L)^(-1) (p_0 - p_N)``,
so the mean first-passage time is independent of the time step; the remainder after the last
step, ``w . (-L)^(-1) p_N``, is added by one stationary sparse solve.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from scipy.special import exprel

from neuroabm.checks import finite, positive

__all__ = ["FokkerPlanckSolution", "fokker_planck_first_passage", "fokker_planck_mean_fpt_ms"]

#: backward-Euler steps before Crank–Nicolson (damps the grid-scale modes of the initial delta)
N_EULER_START = 4
#: default distance of the reflecting lower boundary below min(V_r, mu) for the LIF [sigma]
LIF_DEPTH_SIGMAS = 6.0
#: perfect integrator: the chance of ever falling ``d`` below reset is exp(-2 mu d / sigma^2);
#: the lower boundary sits where this is exp(-PIF_DEPTH_EXPONENT)
PIF_DEPTH_EXPONENT = 24.0
#: default horizon of the time march, in mean first-passage times
HORIZON_MEANS = 25.0
#: most time steps one solve may take (F and S are kept at every step)
MAX_STEPS = 5_000_000


@dataclass(frozen=True)
class _Grid:
    """The discretized problem: nodes, cell widths, generator and initial condition."""

    v_mv: np.ndarray  # all nodes including theta (last) [mV]
    width_mv: np.ndarray  # control-volume widths of the unknown nodes (theta excluded) [mV]
    generator: sp.csc_matrix  # dP/dt = L P on the unknown nodes [1/ms]
    p0: np.ndarray  # delta at V_r [1/mV]
    out_rate: float  # F = out_rate * P[-1] (flux into the absorbing node) [mV/ms]


@dataclass(frozen=True)
class FokkerPlanckSolution:
    """First passage from reset to threshold, solved on a grid.

    Attributes:
        t_ms: Time since reset of every step [ms], shape (n_t,).
        density_per_ms: First-passage density ``F(t)`` [1/ms], shape (n_t,).
        survival: Survival probability ``S(t)`` (not yet fired), shape (n_t,).
        v_mv: Membrane-potential nodes from ``v_min`` to ``theta`` [mV], shape (n_v,).
        p_t_ms: Times of the stored densities [ms], shape (n_p,).
        p_per_mv: Occupation density ``P(V, t)`` [1/mV] at ``p_t_ms`` and ``v_mv``, shape
            (n_p, n_v); ``P`` is 0 at ``theta`` and ``np.trapezoid(p, v_mv)`` equals ``S`` there.
        mean_fpt_ms: Mean first-passage time ``integral_0^inf S dt`` [ms].
        tail_ms: The part of ``mean_fpt_ms`` after the last step (from a stationary solve) [ms].

    """

    t_ms: np.ndarray
    density_per_ms: np.ndarray
    survival: np.ndarray
    v_mv: np.ndarray
    p_t_ms: np.ndarray
    p_per_mv: np.ndarray
    mean_fpt_ms: float
    tail_ms: float

    def cdf(self, t_ms: npt.ArrayLike) -> np.ndarray:
        """Probability ``1 - S(t)`` of having fired by ``t`` [ms] (suitable for a KS test).

        Linear interpolation between steps; after the last step the survival decays with the
        final hazard ``F / S`` (the slowest mode of the operator dominates there).
        """
        t = np.asarray(t_ms, dtype=float)
        shape = t.shape
        t = t.ravel()
        s = np.interp(t, self.t_ms, self.survival, left=1.0, right=np.nan)
        late = t > self.t_ms[-1]
        if np.any(late):
            s_end, f_end = self.survival[-1], self.density_per_ms[-1]
            hazard = f_end / s_end if s_end > 0.0 else math.inf
            with np.errstate(invalid="ignore"):
                s[late] = s_end * np.exp(-hazard * (t[late] - self.t_ms[-1]))
        return (1.0 - s).reshape(shape)


def _bernoulli(z: np.ndarray) -> np.ndarray:
    """``B(z) = z / (e^z - 1)`` without cancellation (``B(0) = 1``)."""
    return 1.0 / exprel(z)


def _build_grid(
    mu: float, sigma: float, tau: float, theta: float, v_r: float, leak: bool, dv: float, v_min: float
) -> _Grid:
    """Scharfetter–Gummel finite-volume generator on ``[v_min, theta]`` with ``V_r`` on a node."""
    n_above = math.ceil((theta - v_r) / dv - 1e-9)
    h = (theta - v_r) / n_above
    n_below = max(1, math.ceil((v_r - v_min) / h - 1e-9))
    nodes = v_r + h * np.arange(-n_below, n_above + 1)
    nodes[-1] = theta
    m = nodes.size - 1  # unknowns: every node but theta
    diff = sigma**2 / (2.0 * tau)  # [mV^2/ms]
    face = nodes[:-1] + 0.5 * h  # interface j + 1/2 between nodes j and j + 1
    drift = (mu - face) / tau if leak else np.full(m, mu / tau)  # [mV/ms]
    z = drift * h / diff
    down, up = (diff / h) * _bernoulli(-z), (diff / h) * _bernoulli(z)  # J_{j+1/2} = down P_j - up P_{j+1}
    width = np.full(m, h)
    width[0] = 0.5 * h  # the reflecting boundary node owns half a cell
    main = -down.copy()
    main[1:] -= up[:-1]
    generator = sp.diags(
        [down[:-1] / width[1:], main / width, up[:-1] / width[:-1]], [-1, 0, 1], format="csc"
    )  # fmt: skip
    p0 = np.zeros(m)
    p0[n_below] = 1.0 / width[n_below]
    return _Grid(nodes, width, generator, p0, float(down[-1]))


def _check(
    mu_mv: float, sigma_mv: float, tau_m_ms: float, v_th_mv: float, v_reset_mv: float, leak: bool, dv_mv: float,
    v_min_mv: float | None,
) -> _Grid:  # fmt: skip
    """Validate the physical and grid arguments and build the discretized problem."""
    mu = finite("mu_mv", mu_mv)
    sigma = positive("sigma_mv", sigma_mv, "mV")
    tau = positive("tau_m_ms", tau_m_ms, "ms")
    theta = finite("v_th_mv", v_th_mv)
    v_r = finite("v_reset_mv", v_reset_mv)
    if not v_r < theta:
        raise ValueError(f"v_reset_mv must be below v_th_mv (got v_reset_mv={v_reset_mv!r}, v_th_mv={v_th_mv!r})")
    dv = positive("dv_mv", dv_mv, "mV")
    if dv > (theta - v_r) / 4.0:
        raise ValueError(f"dv_mv must be <= (v_th_mv - v_reset_mv) / 4 = {(theta - v_r) / 4:g} mV (got {dv_mv!r})")
    if v_min_mv is None:
        if leak:
            v_min = min(v_r, mu) - LIF_DEPTH_SIGMAS * sigma
        elif mu > 0.0:
            v_min = v_r - max(PIF_DEPTH_EXPONENT * sigma**2 / (2.0 * mu), 20.0 * dv)
        else:
            raise ValueError(
                f"mu_mv must be > 0 mV for a perfect integrator (leak=False) unless v_min_mv is given (got {mu_mv!r}); "
                "without drift towards the threshold the mean first-passage time is infinite"
            )
    else:
        v_min = finite("v_min_mv", v_min_mv)
        if not v_min < v_r:
            raise ValueError(f"v_min_mv must be below v_reset_mv = {v_r:g} mV (got {v_min_mv!r})")
    return _build_grid(mu, sigma, tau, theta, v_r, bool(leak), dv, v_min)


def _remaining_time(grid: _Grid, p: np.ndarray) -> float:
    """Expected remaining time to absorption from the density ``p``: ``w . (-L)^(-1) p`` [ms]."""
    return float(grid.width_mv @ spla.spsolve(-grid.generator, p))


def fokker_planck_mean_fpt_ms(
    mu_mv: float,
    sigma_mv: float,
    tau_m_ms: float = 20.0,
    v_th_mv: float = 20.0,
    v_reset_mv: float = 10.0,
    *,
    leak: bool = True,
    dv_mv: float = 0.05,
    v_min_mv: float | None = None,
) -> float:
    """Mean first-passage time from reset to threshold of the discretized Fokker–Planck equation.

    One stationary sparse solve, ``integral_0^inf S dt = w . (-L)^(-1) p_0`` (no time stepping).
    For the LIF it converges to the Siegert value ``1/nu - t_ref`` at second order in ``dv_mv``.

    Args:
        mu_mv: Mean input ``mu`` [mV].
        sigma_mv: Noise amplitude ``sigma`` [mV]; > 0.
        tau_m_ms: Membrane time constant ``tau`` [ms]; > 0.
        v_th_mv: Threshold ``theta`` [mV] (absorbing).
        v_reset_mv: Reset ``V_r`` [mV], where the density starts; below ``v_th_mv``.
        leak: ``False`` for the perfect integrator (drift ``mu / tau``).
        dv_mv: Grid spacing [mV]; at most a quarter of ``theta - V_r``.
        v_min_mv: Reflecting lower boundary [mV]; default far below reset (see module constants).

    Returns:
        The mean first-passage time [ms].

    Raises:
        ValueError: If an argument is non-finite or out of range.

    """
    grid = _check(mu_mv, sigma_mv, tau_m_ms, v_th_mv, v_reset_mv, leak, dv_mv, v_min_mv)
    return _remaining_time(grid, grid.p0)


def fokker_planck_first_passage(
    mu_mv: float,
    sigma_mv: float,
    tau_m_ms: float = 20.0,
    v_th_mv: float = 20.0,
    v_reset_mv: float = 10.0,
    *,
    leak: bool = True,
    dv_mv: float = 0.05,
    dt_ms: float = 0.05,
    t_max_ms: float | None = None,
    survival_tol: float = 1e-6,
    p_every_ms: float = 1.0,
    v_min_mv: float | None = None,
) -> FokkerPlanckSolution:
    """Solve the Fokker–Planck equation with an absorbing threshold from a delta at reset.

    Returns ``F(t)``, ``S(t)`` and ``P(V, t)`` of a LIF (or, with ``leak=False``, perfect)
    integrator driven by white noise, ``tau dV = (mu - V) dt + sigma sqrt(tau) dW``. The time
    march stops when ``S < survival_tol`` or at ``t_max_ms``; the mean first-passage time is exact
    for the grid either way (the remainder comes from a stationary solve). With the defaults the
    mean first-passage time of the four docs/REFERENCES.md §2 cases matches Siegert to about 1e-4.

    Args:
        mu_mv: Mean input ``mu`` [mV].
        sigma_mv: Noise amplitude ``sigma`` [mV]; > 0.
        tau_m_ms: Membrane time constant ``tau`` [ms]; > 0.
        v_th_mv: Threshold ``theta`` [mV] (absorbing).
        v_reset_mv: Reset ``V_r`` [mV], where the density starts; below ``v_th_mv``.
        leak: ``False`` for the perfect integrator (drift ``mu / tau``).
        dv_mv: Grid spacing [mV]; at most a quarter of ``theta - V_r`` (the spacing is shrunk
            slightly so that ``V_r`` and ``theta`` are nodes).
        dt_ms: Time step [ms]; > 0.
        t_max_ms: Longest time to march [ms]; default ``25`` mean first-passage times.
        survival_tol: Stop once ``S(t)`` falls below this; in (0, 1).
        p_every_ms: Interval at which ``P(V, t)`` is stored [ms]; a whole multiple of ``dt_ms``.
        v_min_mv: Reflecting lower boundary [mV]; default ``min(V_r, mu) - 6 sigma`` (LIF) or
            where the perfect integrator's chance to get there is ``e^-24``.

    Returns:
        The :class:`FokkerPlanckSolution`.

    Raises:
        ValueError: If an argument is non-finite or out of range, or the march would take more
            than ``MAX_STEPS`` steps.

    """
    grid = _check(mu_mv, sigma_mv, tau_m_ms, v_th_mv, v_reset_mv, leak, dv_mv, v_min_mv)
    dt = positive("dt_ms", dt_ms, "ms")
    tol = finite("survival_tol", survival_tol)
    if not 0.0 < tol < 1.0:
        raise ValueError(f"survival_tol must be in (0, 1) (got {survival_tol!r})")
    every = positive("p_every_ms", p_every_ms, "ms")
    k_every = round(every / dt)
    if k_every < 1 or abs(k_every * dt - every) > 1e-9 * every:
        raise ValueError(f"p_every_ms must be a whole multiple of dt_ms = {dt:g} ms (got {p_every_ms!r})")
    mean_ms = _remaining_time(grid, grid.p0)
    horizon = HORIZON_MEANS * mean_ms if t_max_ms is None else positive("t_max_ms", t_max_ms, "ms")
    n_max = max(1, math.ceil(horizon / dt - 1e-9))
    if n_max > MAX_STEPS:
        raise ValueError(
            f"t_max_ms / dt_ms = {horizon:g} / {dt:g} exceeds {MAX_STEPS} steps (mean first-passage time "
            f"{mean_ms:g} ms): pass a shorter t_max_ms or a longer dt_ms"
        )
    t, f, s, p_t, p_v, integral, p = _march(grid, dt, n_max, tol, k_every)
    tail = _remaining_time(grid, p)
    # the absorbing node theta carries P = 0: append it so that trapezoid(P, v) = S
    p_full = np.concatenate([p_v, np.zeros((p_v.shape[0], 1))], axis=1)
    return FokkerPlanckSolution(t, f, s, grid.v_mv, p_t, p_full, integral + tail, tail)


def _march(
    grid: _Grid, dt: float, n_max: int, tol: float, k_every: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, float, np.ndarray]:
    """Step ``dP/dt = L P`` from the delta at reset; return t, F, S, stored P, integral of S, final P."""
    m = grid.p0.size
    eye = sp.identity(m, format="csc")
    lap = grid.generator
    euler = spla.splu((eye - dt * lap).tocsc())
    implicit = spla.splu((eye - 0.5 * dt * lap).tocsc())
    explicit = (eye + 0.5 * dt * lap).tocsr()
    w, out = grid.width_mv, grid.out_rate
    s = np.empty(n_max + 1)
    f = np.empty(n_max + 1)
    stored = np.empty((n_max // k_every + 1, m))
    p = grid.p0.copy()
    s[0], f[0] = w @ p, out * p[-1]
    stored[0] = p
    integral = 0.0
    n = 0
    while n < n_max and s[n] >= tol:
        if n < N_EULER_START:
            p = euler.solve(p)
        else:
            p = implicit.solve(explicit @ p)
        n += 1
        s[n], f[n] = w @ p, out * p[-1]
        # these sums reproduce the semi-discrete integral exactly (see the module docstring)
        integral += dt * s[n] if n <= N_EULER_START else 0.5 * dt * (s[n - 1] + s[n])
        if n % k_every == 0:
            stored[n // k_every] = p
    n_p = n // k_every + 1
    t = dt * np.arange(n + 1)
    return t, f[: n + 1], s[: n + 1], t[::k_every][:n_p], stored[:n_p], integral, p
