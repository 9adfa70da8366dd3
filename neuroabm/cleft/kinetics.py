"""Receptor kinetic schemes as arrays for the kernels, and their well-mixed mass-action ODE.

The AMPA scheme is the six-state model of Destexhe, Mainen & Sejnowski (1998; rates fitted to
hippocampal AMPA currents, docs/REFERENCES.md): two binding steps, opening from the doubly bound
state, and desensitization from the singly and doubly bound closed states::

                 Rb [T]          Rb [T]          Ro
            C0  <------>  C1  <------>  C2  <------>  O
                  Ru1      |      Ru2    |      Rc
                        Rd | Rr       Rd | Rr
                           D1            D2

Rb = 13 /mM/ms, Ru1 = 0.0059 /ms, Ru2 = 86 /ms, Rd = 0.9 /ms, Rr = 0.064 /ms, Ro = 2.7 /ms,
Rc = 0.2 /ms. A state holds as many transmitter molecules as it has bound (C1, D1: 1; C2, D2, O:
2); an unbinding step returns one molecule to the cleft. The ``sink`` scheme is one state that
captures every molecule it binds and never lets go (for the Smoluchowski test).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.integrate import solve_ivp

from neuroabm.cleft.params import CleftParams
from neuroabm.cleft.reactions import kon_nm3_per_us

__all__ = ["KineticScheme", "ampa_scheme", "mass_action", "scheme_from_params", "sink_scheme", "stationary_states"]


@dataclass(frozen=True)
class KineticScheme:
    """States, binding steps and first-order transitions of a receptor; rates per us.

    Attributes:
        names: state names.
        bound: transmitter molecules held in each state.
        bind_next: the state reached by binding one molecule (-1: cannot bind).
        k_on_nm3_per_us: bimolecular binding constant of each bindable state (0 elsewhere).
        transitions: ``(source, target, rate_per_us)`` first-order steps.
        open_states, desensitized_states: index groups for the outputs.

    """

    names: tuple[str, ...]
    bound: tuple[int, ...]
    bind_next: tuple[int, ...]
    k_on_nm3_per_us: tuple[float, ...]
    transitions: tuple[tuple[int, int, float], ...]
    open_states: tuple[int, ...]
    desensitized_states: tuple[int, ...]

    @property
    def n_states(self) -> int:
        """Number of states."""
        return len(self.names)

    def arrays(self) -> dict[str, np.ndarray]:
        """The scheme as CSR arrays for the kernels (transitions grouped by source state)."""
        order = sorted(range(len(self.transitions)), key=lambda j: self.transitions[j][0])
        src = np.array([self.transitions[j][0] for j in order], np.int64)
        ptr = np.searchsorted(src, np.arange(self.n_states + 1)).astype(np.int64)
        dst = np.array([self.transitions[j][1] for j in order], np.int32)
        rate = np.array([self.transitions[j][2] for j in order], np.float64)
        out_rate = np.array([rate[ptr[s] : ptr[s + 1]].sum() for s in range(self.n_states)])
        is_open = np.zeros(self.n_states, np.bool_)
        is_open[list(self.open_states)] = True
        return {
            "bound": np.array(self.bound, np.int32),
            "bind_next": np.array(self.bind_next, np.int32),
            "trans_ptr": ptr,
            "trans_dst": dst,
            "trans_rate": rate,
            "out_rate": out_rate,
            "is_open": is_open,
        }

    def rate_matrix(self, free_nm3: float) -> np.ndarray:
        """Generator ``Q[i, j]`` (rate i -> j, 1/us) at a free-transmitter density ``free_nm3`` [1/nm^3]."""
        q = np.zeros((self.n_states, self.n_states))
        for s, nxt in enumerate(self.bind_next):
            if nxt >= 0 and nxt != s:
                q[s, nxt] += self.k_on_nm3_per_us[s] * free_nm3
        for a, b, r in self.transitions:
            q[a, b] += r
        q[np.diag_indices_from(q)] = -q.sum(axis=1)
        return q


def ampa_scheme(
    rb_per_mm_ms: float = 13.0,
    ru1_per_ms: float = 0.0059,
    ru2_per_ms: float = 86.0,
    rd_per_ms: float = 0.9,
    rr_per_ms: float = 0.064,
    ro_per_ms: float = 2.7,
    rc_per_ms: float = 0.2,
) -> KineticScheme:
    """The six-state AMPA scheme of Destexhe et al. 1998 (rates in /ms and /mM/ms, stored per us).

    >>> s = ampa_scheme()
    >>> s.names, s.bind_next
    (('C0', 'C1', 'C2', 'D1', 'D2', 'O'), (1, 2, -1, -1, -1, -1))
    """
    k = kon_nm3_per_us(rb_per_mm_ms)
    u = 1e-3  # /ms -> /us
    c0, c1, c2, d1, d2, o = range(6)
    return KineticScheme(
        names=("C0", "C1", "C2", "D1", "D2", "O"),
        bound=(0, 1, 2, 1, 2, 2),
        bind_next=(c1, c2, -1, -1, -1, -1),
        k_on_nm3_per_us=(k, k, 0.0, 0.0, 0.0, 0.0),
        transitions=(
            (c1, c0, ru1_per_ms * u),
            (c2, c1, ru2_per_ms * u),
            (c1, d1, rd_per_ms * u),
            (d1, c1, rr_per_ms * u),
            (c2, d2, rd_per_ms * u),
            (d2, c2, rr_per_ms * u),
            (c2, o, ro_per_ms * u),
            (o, c2, rc_per_ms * u),
        ),
        open_states=(o,),
        desensitized_states=(d1, d2),
    )


def sink_scheme(k_on_nm3_per_us: float) -> KineticScheme:
    """One state that removes every molecule it binds (a perfect or partial sink)."""
    return KineticScheme(("S",), (0,), (0,), (k_on_nm3_per_us,), (), (), ())


def scheme_from_params(p: CleftParams) -> KineticScheme:
    """The scheme a parameter set asks for (``sink`` binds at ``rb_per_mm_ms`` too)."""
    if p.scheme == "sink":
        return sink_scheme(kon_nm3_per_us(p.rb_per_mm_ms))
    return ampa_scheme(p.rb_per_mm_ms, p.ru1_per_ms, p.ru2_per_ms, p.rd_per_ms, p.rr_per_ms, p.ro_per_ms, p.rc_per_ms)


def stationary_states(scheme: KineticScheme, free_nm3: float) -> np.ndarray:
    """Stationary state probabilities at a constant free-transmitter density [1/nm^3].

    >>> stationary_states(ampa_scheme(), 0.0).round(6).tolist()
    [1.0, 0.0, 0.0, 0.0, 0.0, 0.0]
    """
    q = scheme.rate_matrix(free_nm3)
    a = np.vstack([q.T, np.ones(scheme.n_states)])
    b = np.zeros(scheme.n_states + 1)
    b[-1] = 1.0
    pi = np.linalg.lstsq(a, b, rcond=None)[0]
    pi = np.clip(pi, 0.0, None)
    return pi / pi.sum()


def mass_action(
    scheme: KineticScheme,
    volume_nm3: float,
    free0: float,
    states0: npt.ArrayLike,
    t_us: npt.ArrayLike,
) -> tuple[np.ndarray, np.ndarray]:
    """Well-mixed mass-action solution: free molecule count and receptor state counts over time.

    ``dG/dt = -sum_s k_s n_s G / V + sum (unbinding fluxes)`` and the receptor master equation
    with binding rate ``k_s G / V``, integrated by scipy's ``solve_ivp`` (LSODA, rtol 1e-8).

    Args:
        scheme: the kinetic scheme.
        volume_nm3: volume the transmitter is mixed in [nm^3].
        free0: free molecules at ``t = 0``.
        states0: receptor counts per state at ``t = 0``.
        t_us: output times [us], increasing from 0.

    Returns:
        ``(free, states)``: arrays of shape ``(T,)`` and ``(T, n_states)``.

    """
    t = np.asarray(t_us, float)
    k = np.array(scheme.k_on_nm3_per_us) / volume_nm3
    nxt = np.array(scheme.bind_next)
    bound = np.array(scheme.bound)

    def rhs(_t: float, y: np.ndarray) -> np.ndarray:
        g, n = y[0], y[1:]
        dn = np.zeros_like(n)
        dg = 0.0
        for s in range(scheme.n_states):
            if nxt[s] >= 0:
                flux = k[s] * g * n[s]
                dg -= flux
                if nxt[s] != s:
                    dn[s] -= flux
                    dn[nxt[s]] += flux
        for a, b, r in scheme.transitions:
            flux = r * n[a]
            dn[a] -= flux
            dn[b] += flux
            dg += flux * (bound[a] - bound[b])
        return np.concatenate([[dg], dn])

    y0 = np.concatenate([[float(free0)], np.asarray(states0, float)])
    sol = solve_ivp(rhs, (0.0, float(t[-1])), y0, method="LSODA", t_eval=t, rtol=1e-8, atol=1e-10)
    if not sol.success:
        raise RuntimeError(f"mass-action integration failed: {sol.message}")
    return sol.y[0], sol.y[1:].T
