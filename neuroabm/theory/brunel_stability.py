"""Linear stability of the asynchronous state of Brunel's (2000) model A: the Hopf lines of Fig. 2.

Brunel N, Hakim V (1999) Neural Comput 11:1621; Brunel N (2000) J Comput Neurosci 8:183, section 4.
In the diffusion approximation each neuron obeys ``tau dV = (mu(t) - V) dt + sigma(t) sqrt(tau) dW``
with (:func:`neuroabm.theory.brunel_input`, the rate delayed by the transmission delay ``D``)::

    mu(t)      = C_E J   tau [nu_ext + nu(t - D) (1 - gamma g)]
    sigma^2(t) = C_E J^2 tau [nu_ext + nu(t - D) (1 + gamma g^2)]

A perturbation ``nu(t) = nu_0 + n e^{lambda t}`` of the asynchronous state feeds back through both
the mean and the variance, so the network's modes solve ``1 = F(lambda)`` with the open-loop gain ::

    F(lambda) = e^{-lambda D} [C_E J tau (1 - gamma g) R_mu(lambda) + C_E J^2 tau (1 + gamma g^2) R_var(lambda)]

where ``R_mu``, ``R_var`` are the LIF's linear rate responses to modulations of ``mu`` and
``sigma^2`` at the complex frequency ``lambda``. A Hopf line is where a root reaches the imaginary
axis, ``F(i omega) = 1``.

**Method** (option (b) of the issue, not the closed form with parabolic cylinder functions):
``R_mu``, ``R_var`` are computed by threshold integration of the linearised Fokker-Planck equation
(Richardson MJE (2007) Phys Rev E 76:021919). Probability density ``p`` and flux ``j`` are
integrated downwards from ``theta`` (``p = 0``, ``j = rate``) to ``min(V_r, mu) - n_sd sigma``,
with the flux reinjected at ``V_r`` after ``t_ref`` (factor ``e^{-lambda t_ref}``); the three
linear solutions (unit rate modulation, unit ``mu`` and unit ``sigma^2`` forcing) are combined so
that no flux escapes at the lower bound: ``n = -(Q_mu mu_1 + Q_var var_1) / Q_nu`` with
``Q = integral of p dV`` (plus ``(1 - e^{-lambda t_ref}) / lambda`` for the rate solution, the
refractory mass), which also holds at ``lambda = 0``. Each step is an exponential (integrating
factor) step for ``p`` with midpoint drift and a trapezoidal step for ``j``: second order in the
voltage step (checked by halving it). Validation (``tests/test_brunel_stability.py``): at
``lambda = 0`` the stationary rate equals the Siegert rate and the responses equal the Siegert
derivatives; ``R_mu`` equals the closed form with parabolic cylinder functions of complex order
(Brunel & Hakim 1999; Lindner B, Schimansky-Geier L 2001, Phys Rev Lett 86:2934; evaluated with
``mpmath.pcfd`` in the tests) to the discretisation error; at high frequency
``R_mu -> (nu_0 / sigma) sqrt(2 / (i omega tau))`` (the 1/sqrt(omega) decay with a 45 degree lag,
Brunel et al. 2001, Phys Rev Lett 86:2186) and ``R_var -> nu_0 / sigma^2`` (Lindner and
Schimansky-Geier 2001), both from the boundary layer at ``theta``. The closed form for ``R_mu`` is
the option (a) of the issue; the numerical route is used because it gives ``R_var`` as well and
is vectorised over frequencies and parameters.

**Lines**: the gain is scanned on a (g, eta) grid over ``f <= f_max_hz``; each crossing of the
positive real axis by ``F(i omega)`` (unwrapped phase ``2 pi n``) whose abscissa passes 1 between
adjacent ``eta`` gives a start for Newton's method on ``(eta, ln nu_0, f)`` with the residuals
``(ln Phi(mu, sigma) - ln nu_0, Re F - 1, Im F)``, ``Phi`` the threshold-integration rate (equal
to the Siegert rate). Branches: ``"SI slow"`` (crossings with ``n = 0`` below ``split_hz``),
``"SI fast"`` (``n = 0`` above it; the frequency is set by ``D``), ``"SR k"`` (``n = -k``, near
``k / D`` Hz: the instability of the excitation-dominated side). The asynchronous state is unstable
where a crossing lies beyond 1. Only the lowest self-consistent rate (:func:`brunel_rate`) is
analysed; where it is below ``1e-4`` Hz the network is quiescent and no line is sought.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from neuroabm.checks import non_negative, positive
from neuroabm.theory.brunel import brunel_input, brunel_rate, nu_threshold_hz

__all__ = ["ModelA", "hopf_lines", "nyquist_crossings", "open_loop_gain", "rate_transfer", "stationary_state"]

#: scanned rates of the vectorised self-consistency [Hz]; below the lowest the network is quiescent
_NU_MIN_HZ = 1e-4
#: below V_r the voltage step grows in proportion to sigma above this value [mV]
_SIGMA_REF_MV = 2.0


@dataclass(frozen=True)
class ModelA:
    """Parameters of Brunel's (2000) model A; defaults are ``runs/sweeps/brunel_phase.toml``'s.

    ``k_exc`` = C_E, ``k_inh`` = C_I (gamma = C_I / C_E), ``j_mv`` = J [mV], ``tau_m_ms`` = tau,
    ``v_th_mv`` = theta, ``v_reset_mv`` = V_r [mV], ``t_ref_ms`` = tau_rp, ``delay_ms`` = D [ms].
    """

    k_exc: float = 800.0
    k_inh: float = 200.0
    j_mv: float = 0.1
    tau_m_ms: float = 20.0
    v_th_mv: float = 20.0
    v_reset_mv: float = 10.0
    t_ref_ms: float = 2.0
    delay_ms: float = 1.5

    def __post_init__(self) -> None:
        for name in ("k_exc", "j_mv", "tau_m_ms", "v_th_mv", "t_ref_ms"):
            positive(name, getattr(self, name))
        non_negative("k_inh", self.k_inh)
        non_negative("delay_ms", self.delay_ms, "ms")
        if not self.v_reset_mv < self.v_th_mv:
            raise ValueError(f"v_reset_mv must be below v_th_mv (got {self.v_reset_mv!r}, {self.v_th_mv!r})")

    @property
    def nu_thr_hz(self) -> float:
        """``theta / (J C_E tau)`` [Hz]."""
        return nu_threshold_hz(self.v_th_mv, self.j_mv, self.k_exc, self.tau_m_ms)

    def coupling(self, g: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Slopes ``d mu / d nu = C_E J tau (1 - gamma g)`` [mV ms], ``d sigma^2 / d nu`` [mV^2 ms].

        ``d sigma^2 / d nu = C_E J^2 tau (1 + gamma g^2)``; ``g`` may be an array.
        """
        gamma = self.k_inh / self.k_exc
        a = self.k_exc * self.j_mv * self.tau_m_ms
        return a * (1.0 - gamma * g), a * self.j_mv * (1.0 + gamma * g * g)

    def inputs(self, eta: np.ndarray, g: np.ndarray, nu_hz: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Mean ``mu`` [mV] and variance ``sigma^2`` [mV^2] of the input (vectorised :func:`brunel_input`)."""
        nu_ext = np.asarray(eta) * self.nu_thr_hz * 1e-3  # [1/ms]
        nu = np.asarray(nu_hz) * 1e-3
        dmu, dvar = self.coupling(np.asarray(g, dtype=float))
        a = self.k_exc * self.j_mv * self.tau_m_ms
        return a * nu_ext + dmu * nu, a * self.j_mv * nu_ext + dvar * nu


def stationary_state(eta: float, g: float, model: ModelA = ModelA()) -> tuple[float, float, float]:
    """Asynchronous state ``(nu_0 [Hz], mu [mV], sigma [mV])`` from :func:`brunel_rate` (lowest root).

    >>> nu0, mu, sigma = stationary_state(2.0, 5.0)   # Brunel (2000) Fig. 8C, C_E = 800
    >>> round(nu0, 1), round(mu, 2), round(sigma, 2)
    (43.2, 22.71, 7.36)
    """
    m = model
    nu0 = brunel_rate(eta, g, m.k_exc, m.k_inh, m.j_mv, m.tau_m_ms, m.v_th_mv, m.v_reset_mv, m.t_ref_ms)
    mu, sigma = brunel_input(nu0, eta * m.nu_thr_hz, m.k_exc, m.k_inh, m.j_mv, g, m.tau_m_ms)
    return nu0, mu, sigma


def _integrate(
    mu: np.ndarray, var: np.ndarray, lam: np.ndarray | None, m: ModelA, n_grid: int, n_sd: float = 5.0
) -> tuple[np.ndarray, np.ndarray]:
    """Threshold integration: ``nu_0`` [1/ms] (B,) and ``(R_mu, R_var)`` (2, B, F) [1/(ms mV)], [1/(ms mV^2)].

    ``mu``, ``var`` have shape (B,), ``lam`` (B, F) [1/ms] or None (rate only). ``n_grid`` steps
    span ``[V_r, theta]``; below ``V_r`` equally many steps per row reach the lower bound, no longer
    than the step above (times ``sigma / _SIGMA_REF_MV`` for a wider input).
    """
    theta, v_r, tau, t_ref = m.v_th_mv, m.v_reset_mv, m.tau_m_ms, m.t_ref_ms
    lb = np.minimum(v_r, mu) - n_sd * np.sqrt(var)
    d_above = (theta - v_r) / n_grid
    n_below = max(1, int(np.ceil(np.max((v_r - lb) / (d_above * np.maximum(1.0, np.sqrt(var) / _SIGMA_REF_MV))))))
    d_below = (v_r - lb) / n_below
    b = 2.0 * tau / var
    p0, j0, i0 = np.zeros_like(mu), np.ones_like(mu), np.zeros_like(mu)
    v = np.full_like(mu, theta)
    dyn = lam is not None
    if dyn:
        p = np.zeros((3, *lam.shape), complex)  # solutions: unit rate, unit mu, unit sigma^2 forcing
        j = np.zeros_like(p)
        j[0] = 1.0
        q = np.zeros_like(p)

    def forcing(p0: np.ndarray, j0: np.ndarray, v: np.ndarray) -> np.ndarray:
        dp0 = -2.0 * (v - mu) / var * p0 - b * j0  # d p_0 / dV
        return np.stack([np.zeros_like(mu), 2.0 / var * p0, -dp0 / var])[..., None]

    force = forcing(p0, j0, v) if dyn else None
    for k in range(n_grid + n_below):
        if k == n_grid:  # reset: the flux below V_r lacks the reinjected rate
            j0 = j0 - 1.0
            if dyn:
                j[0] -= np.exp(-lam * t_ref)
                force = forcing(p0, j0, v)
        d = d_above if k < n_grid else d_below
        x = 2.0 * (v - 0.5 * d - mu) / var * d
        e = np.exp(x)
        phi = d * np.where(np.abs(x) > 1e-9, np.expm1(x) / np.where(x == 0.0, 1.0, x), 1.0 + 0.5 * x)
        p0_new = p0 * e + b * j0 * phi
        v = v - d
        i0 += 0.5 * d * (p0 + p0_new)
        if dyn:
            force_new = forcing(p0_new, j0, v)
            hd = (0.5 * d)[:, None] if np.ndim(d) else 0.5 * d
            hl = hd * lam
            p_new = p * e[:, None] + phi[:, None] * (b[:, None] * (j + hl * p) - 0.5 * (force + force_new))
            s = p + p_new
            j += hl * s
            q += hd * s
            p, force = p_new, force_new
        p0 = p0_new
    nu0 = 1.0 / (i0 + t_ref)
    if not dyn:
        return nu0, np.empty((2, mu.size, 0))
    safe = np.where(lam == 0.0, 1.0, lam)
    q_nu = q[0] + np.where(lam == 0.0, t_ref, -np.expm1(-lam * t_ref) / safe)
    return nu0, -nu0[:, None] * q[1:] / q_nu


def rate_transfer(
    mu_mv: float, sigma_mv: float, freq_hz: np.ndarray, model: ModelA = ModelA(), n_grid: int = 400
) -> tuple[np.ndarray, np.ndarray]:
    """Linear rate response of the LIF to modulations of ``mu`` and ``sigma^2`` at ``lambda = 2 pi i f``.

    ``freq_hz`` may be complex (``Re lambda = -2 pi Im f``). Returns ``(R_mu [Hz/mV], R_var [Hz/mV^2])``:
    ``nu_1 = R_mu mu_1 + R_var var_1`` for ``mu(t) = mu + mu_1 e^{lambda t}``, ``sigma^2(t) =
    sigma^2 + var_1 e^{lambda t}``. At ``f = 0`` they are d nu / d mu and d nu / d sigma^2 of the
    Siegert rate. ``n_grid`` voltage steps over ``[V_r, theta]`` (error ~ ``n_grid^-2``).

    >>> r_mu, r_var = rate_transfer(15.0, 5.0, [0.0, 1e4])
    >>> [round(float(x), 3) for x in r_mu.real], round(float(r_var.real[1] * 25 / 9.461), 2)
    ([2.907, 0.054], 1.03)
    """
    f = np.atleast_1d(np.asarray(freq_hz, dtype=complex))
    lam = (2j * np.pi * 1e-3 * f)[None, :]
    _, r = _integrate(np.array([float(mu_mv)]), np.array([float(sigma_mv) ** 2]), lam, model, n_grid)
    return r[0, 0] * 1e3, r[1, 0] * 1e3


def _gain(
    eta: np.ndarray, g: np.ndarray, nu_hz: np.ndarray, f: np.ndarray, m: ModelA, n_grid: int
) -> tuple[np.ndarray, np.ndarray]:
    """``(Phi [Hz], F)``: threshold-integration rate at ``(eta, g, nu)`` (B,) and the gain (B, F)."""
    mu, var = m.inputs(eta, g, nu_hz)
    lam = 2j * np.pi * 1e-3 * np.asarray(f, dtype=complex)
    nu0, r = _integrate(mu, var, lam, m, n_grid)
    dmu, dvar = m.coupling(g)
    return nu0 * 1e3, np.exp(-lam * m.delay_ms) * (dmu[:, None] * r[0] + dvar[:, None] * r[1])


def open_loop_gain(
    eta: float, g: float, freq_hz: np.ndarray, model: ModelA = ModelA(), n_grid: int = 400
) -> np.ndarray:
    """Open-loop gain ``F(2 pi i f)`` of the asynchronous state at ``(g, eta)`` (dimensionless).

    The asynchronous state has a mode ``e^{2 pi i f t}`` where ``F = 1``; ``F(0)`` is the slope of
    the self-consistency ``nu -> Siegert(mu(nu), sigma(nu))`` at the fixed point.

    >>> f = open_loop_gain(4.0, 6.0, [0.0, 188.0])   # Fig. 8B (g, eta) = (6, 4): F crosses 1 near 188 Hz
    >>> round(float(f[0].real), 2), round(float(abs(f[1])), 2)
    (-2.49, 1.08)
    """
    nu0, _, sigma = stationary_state(eta, g, model)
    if sigma <= 0.0:
        raise ValueError("the input has no noise (eta = 0 and a silent network): no diffusion approximation")
    f = np.atleast_1d(np.asarray(freq_hz, dtype=complex))
    return _gain(np.array([eta]), np.array([float(g)]), np.array([nu0]), f[None, :], model, n_grid)[1][0]


def nyquist_crossings(
    eta: float, g: float, model: ModelA = ModelA(), f_max_hz: float = 1000.0, n_freq: int = 400, n_grid: int = 400
) -> list[tuple[int, float, float]]:
    """Where ``F(2 pi i f)`` crosses the positive real axis: ``(n, f [Hz], abscissa)``, phase ``2 pi n``.

    The asynchronous state at ``(g, eta)`` is unstable when an abscissa exceeds 1 (a Hopf line is
    where one equals 1); ``n = 0``: the slow / fast mode, ``n = -k``: the mode near ``k / D``.
    Abscissae are linearly interpolated between ``n_freq`` log-spaced frequencies in ``[1, f_max_hz]``.

    >>> [(n, round(f), round(x, 2)) for n, f, x in nyquist_crossings(4.0, 6.0)]   # Fig. 8B
    [(0, 190, 1.07), (-1, 772, 0.65)]
    """
    f = np.geomspace(1.0, f_max_hz, n_freq)
    return _crossings(f, open_loop_gain(eta, g, f, model, n_grid))


def _rates(eta: np.ndarray, g: np.ndarray, m: ModelA, n_grid: int, n_scan: int = 64) -> np.ndarray:
    """Lowest self-consistent rate [Hz] per (eta, g) (vectorised; NaN where below ``_NU_MIN_HZ``)."""
    nus = np.geomspace(_NU_MIN_HZ, 0.999e3 / m.t_ref_ms, n_scan)
    e, gg, nn = (np.repeat(a[:, None], n_scan, 1).ravel() for a in (eta, g, np.ones_like(eta)))
    nu_rows = (nn.reshape(-1, n_scan) * nus).ravel()
    with np.errstate(over="ignore", invalid="ignore"):  # a deeply subthreshold input has rate 0
        phi = _integrate(*m.inputs(e, gg, nu_rows), None, m, n_grid)[0].reshape(-1, n_scan) * 1e3
    neg = phi < nus
    first = np.argmax(neg, axis=1)
    ok = neg.any(axis=1) & (first > 0)
    lo, hi = np.log(nus[np.maximum(first - 1, 0)]), np.log(nus[first])
    for _ in range(32):  # bisection in log nu
        mid = 0.5 * (lo + hi)
        with np.errstate(over="ignore", invalid="ignore"):
            below = _integrate(*m.inputs(eta, g, np.exp(mid)), None, m, n_grid)[0] * 1e3 < np.exp(mid)
        hi, lo = np.where(below, mid, hi), np.where(below, lo, mid)
    return np.where(ok, np.exp(0.5 * (lo + hi)), np.nan)


def _crossings(f: np.ndarray, gain: np.ndarray) -> list[tuple[int, float, float]]:
    """Crossings of the positive real axis by ``gain(f)``: ``(n, f [Hz], abscissa)``, phase ``2 pi n``."""
    phase = np.unwrap(np.angle(gain))
    if phase[0] < -0.5 * np.pi:  # a negative F(0) starts at +pi
        phase = phase + 2.0 * np.pi
    turns = np.floor(phase / (2.0 * np.pi))
    out = []
    for i in np.nonzero(turns[1:] != turns[:-1])[0]:
        n = int(max(turns[i], turns[i + 1]))
        w = (2.0 * np.pi * n - phase[i]) / (phase[i + 1] - phase[i])
        x = (1 - w) * gain[i].real + w * gain[i + 1].real
        if x > 0 and n <= 0:
            out.append((n, float(np.exp((1 - w) * np.log(f[i]) + w * np.log(f[i + 1]))), float(x)))
    return out


def _newton(
    g: np.ndarray, eta: np.ndarray, nu: np.ndarray, f: np.ndarray, m: ModelA, n_grid: int, iters: int = 12
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Refine ``F(2 pi i f) = 1`` with self-consistent ``nu``: unknowns ``(eta, ln nu, f)`` (M,) each."""
    u = np.stack([eta, np.log(nu), f], axis=1)
    h = np.array([1e-5, 1e-5, 1e-5])
    bad = np.zeros(len(u), dtype=bool)
    for _ in range(iters):
        steps = np.stack([np.zeros_like(u[:, 0]), h[0] * np.maximum(u[:, 0], 1.0), np.full(len(u), h[1])], 1)
        e3 = np.concatenate([u[:, 0], u[:, 0] + steps[:, 1], u[:, 0]])
        y3 = np.concatenate([u[:, 1], u[:, 1], u[:, 1] + steps[:, 2]])
        fcols = np.stack([u[:, 2], u[:, 2] * (1 + h[2])], 1)
        phi, gain = _gain(e3, np.tile(g, 3), np.exp(y3), np.tile(fcols, (3, 1)), m, n_grid)
        r = np.stack([np.log(phi) - y3, gain[:, 0].real - 1.0, gain[:, 0].imag], 1).reshape(3, len(u), 3)
        r_f = np.stack([r[0][:, 0], gain[: len(u), 1].real - 1.0, gain[: len(u), 1].imag], 1)
        jac = np.stack([(r[1] - r[0]) / steps[:, 1:2], (r[2] - r[0]) / h[1], (r_f - r[0]) / (h[2] * u[:, 2:3])], 2)
        bad = bad | ~np.isfinite(jac).all(axis=(1, 2)) | ~np.isfinite(r[0]).all(axis=1)
        bad |= np.abs(np.linalg.det(np.where(bad[:, None, None], np.eye(3), jac))) < 1e-300
        jac[bad], r[0][bad] = np.eye(3), 0.0
        du = np.linalg.solve(jac, -r[0][..., None])[..., 0]
        du[:, 0] = np.clip(du[:, 0], -0.2, 0.2)
        du[:, 1] = np.clip(du[:, 1], -0.5, 0.5)
        du[:, 2] = np.clip(du[:, 2], -0.3 * u[:, 2], 0.3 * u[:, 2])
        u = u + du
        u[:, 0] = np.maximum(u[:, 0], 1e-3)
        u[:, 1] = np.minimum(u[:, 1], np.log(0.999e3 / m.t_ref_ms))
        u[:, 2] = np.maximum(u[:, 2], 1e-3)
        if np.all(np.abs(du[:, 0]) < 1e-8):
            break
    ok = ~bad & np.all(np.abs(r[0]) < 1e-5, axis=1) & (np.abs(du[:, 0]) < 1e-5)
    return u[:, 0], np.exp(u[:, 1]), u[:, 2], ok


def hopf_lines(
    g_values: np.ndarray | None = None,
    eta_values: np.ndarray | None = None,
    model: ModelA = ModelA(),
    f_max_hz: float = 1000.0,
    n_freq: int = 160,
    split_hz: float = 75.0,
    n_grid: int = 400,
) -> dict[str, np.ndarray]:
    """Hopf lines of the asynchronous state in the (g, eta) plane (Brunel 2000, Fig. 2).

    Args:
        g_values: Relative inhibition ``g`` at which the lines are located; default ``0, 0.25, ..., 8``.
        eta_values: Scan grid of ``eta = nu_ext / nu_thr`` that brackets the lines; default ``0.8 ... 4``
            (finer near threshold). A line is found between adjacent values.
        model: The parameters (:class:`ModelA`; default the sweep's C_E = 800, D = 1.5 ms).
        f_max_hz: Highest scanned frequency [Hz]; 1000 Hz covers ``k / D`` for ``k = 1`` at D = 1.5 ms.
        n_freq: Log-spaced scan frequencies in ``[1, f_max_hz]``.
        split_hz: Crossings with ``n = 0`` below this frequency are "SI slow", above it "SI fast" [Hz].
        n_grid: Voltage steps over ``[V_r, theta]`` of the final (Newton) evaluations; the scan uses 1/4.

    Returns:
        ``{branch: array (n, 3)}`` with columns ``(g, eta, f_hz)`` on the line ``F(2 pi i f) = 1``,
        ordered along the line (a nearest-neighbour chain from the smallest g). Branches:
        ``"SI fast"``, ``"SI slow"``, ``"SR 1"``, ``"SR 2"``, ... (``"SR k"``: crossings near ``k / D``).
        Missing branches have no points in the plane scanned.

    >>> lines = hopf_lines(g_values=[6.0], eta_values=[3.0, 3.5, 4.0])
    >>> g, eta, f = lines["SI fast"][0]
    >>> round(float(eta), 2), round(float(f))
    (3.55, 183)

    """
    gs = np.arange(0.0, 8.0001, 0.25) if g_values is None else np.unique(np.asarray(g_values, dtype=float))
    if eta_values is None:
        eta_values = np.concatenate([np.arange(0.8, 1.0, 0.02), np.arange(1.0, 1.5, 0.1), np.arange(1.5, 4.01, 0.25)])
    etas = np.unique(np.asarray(eta_values, dtype=float))
    e2, g2 = (a.ravel() for a in np.meshgrid(etas, gs))  # rows: g major
    nu = _rates(e2, g2, model, max(n_grid // 4, 50))
    f = np.geomspace(1.0, f_max_hz, n_freq)
    live = np.nonzero(np.isfinite(nu))[0]
    gain = np.full((len(e2), n_freq), np.nan, complex)
    for chunk in np.array_split(live, max(1, len(live) // 300)):
        f_rows = np.tile(f, (len(chunk), 1))
        gain[chunk] = _gain(e2[chunk], g2[chunk], nu[chunk], f_rows, model, max(n_grid // 4, 50))[1]
    starts = []  # (g, eta, nu, f, n)
    shape = (len(gs), len(etas))
    for ig in range(len(gs)):
        rows = [np.ravel_multi_index((ig, ie), shape) for ie in range(len(etas))]
        cross = [_crossings(f, gain[r]) if np.isfinite(nu[r]) else [] for r in rows]
        for ie in range(len(etas) - 1):
            ra, rb = rows[ie], rows[ie + 1]
            for pair in _pairs(cross[ie], cross[ie + 1], gain[ra, 0].real, gain[rb, 0].real, f[0]):
                (n, fa, xa), (fb, xb) = pair
                if (xa - 1.0) * (xb - 1.0) > 0:
                    continue
                w = (1.0 - xa) / (xb - xa)
                nu_w = nu[ra] ** (1 - w) * nu[rb] ** w
                starts.append((gs[ig], etas[ie] + w * (etas[ie + 1] - etas[ie]), nu_w, fa ** (1 - w) * fb**w, n))
    lines: dict[str, list[tuple[float, float, float]]] = {}
    if starts:
        s = np.array(starts)
        eta_c, nu_c, f_c, ok = _newton(s[:, 0], s[:, 1], s[:, 2], s[:, 3], model, n_grid)
        ok &= (eta_c >= etas.min()) & (eta_c <= etas.max())
        lowest = np.full(len(starts), np.nan)
        lowest[ok] = _rates(eta_c[ok], s[ok, 0], model, n_grid)
        ok &= np.abs(nu_c / lowest - 1.0) < 1e-3  # a root of the lowest fixed point, not of an upper one
        for (g, _, _, _, n), e, fc, good in zip(starts, eta_c, f_c, ok, strict=True):
            if not good:
                continue
            name = f"SR {-int(n)}" if n < 0 else ("SI slow" if fc < split_hz else "SI fast")
            pts = lines.setdefault(name, [])
            if not any(abs(p[0] - g) < 1e-9 and abs(p[1] - e) < 1e-6 for p in pts):
                pts.append((float(g), float(e), float(fc)))
    g_step = float(np.min(np.diff(np.unique(gs)))) if len(np.unique(gs)) > 1 else 1.0
    return {name: _order(np.array(pts), g_step) for name, pts in sorted(lines.items())}


def _pairs(
    cross_a: list[tuple[int, float, float]],
    cross_b: list[tuple[int, float, float]],
    f0_a: float,
    f0_b: float,
    f_min: float,
) -> list[tuple[tuple[int, float, float], tuple[float, float]]]:
    """Match crossings at adjacent eta: same ``n``, nearest frequency (within a factor 1.6).

    A crossing without a partner that emerges from (or sinks into) zero frequency, where the
    abscissa is ``F(0)``, is paired with ``(f_min, F(0))`` of the other side when ``F(0) > 0``.
    """
    out, used = [], set()
    for n, fa, xa in cross_a:
        cands = [(abs(np.log(fb / fa)), k) for k, (nb, fb, _) in enumerate(cross_b) if nb == n and k not in used]
        if cands and min(cands)[0] < np.log(1.6):
            k = min(cands)[1]
            used.add(k)
            out.append(((n, fa, xa), cross_b[k][1:]))
        elif f0_b > 0 and fa < 100.0 * f_min:
            out.append(((n, fa, xa), (f_min, f0_b)))
    for k, (n, fb, xb) in enumerate(cross_b):
        if k not in used and f0_a > 0 and fb < 100.0 * f_min:
            out.append(((n, f_min, f0_a), (fb, xb)))
    return out


def _order(pts: np.ndarray, g_step: float = 0.25, eta_step: float = 0.1) -> np.ndarray:
    """Points of one branch along the line: a nearest-neighbour chain from the smallest g (lowest eta)."""
    pts = pts[np.lexsort((pts[:, 1], pts[:, 0]))]
    scaled = pts[:, :2] / [g_step, eta_step]
    chain, rest = [0], list(range(1, len(pts)))
    while rest:
        d = np.hypot(*(scaled[rest] - scaled[chain[-1]]).T)
        chain.append(rest.pop(int(np.argmin(d))))
    return pts[chain]
