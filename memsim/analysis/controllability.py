"""Controllability of the device states from the terminals.

The hardware can only act on its devices through terminal voltages. For a
terminal configuration ``c`` (which nodes are driven or grounded, and the
voltages of the pulse; a :class:`~memsim.solve.protocol.Segment`) the device
states obey ``dx/dt = f_c(x, u)`` with ``u`` the driven voltages. Linearised
around the operating point ``(x0, u_c)``::

    d(dx)/dt = A_c dx + B_c du,   A_c = df/dx,   B_c = df/du  (M x D_c).

Both are computed from the nodal solution: the device voltages are linear in
the driven voltages, ``v_edge = S_c(x) u`` (``S_c``, M x D_c, the *terminal to
device-voltage map*), and each device rate depends on its own voltage and
current, so ``B_c = diag(df_e/dv_e + g_e df_e/di_e) S_c``; ``A_c`` includes
the coupling through the network (changing one conductance redistributes
every voltage), assembled in closed form from one factorisation of the
floating-node Laplacian (see :func:`linearise`).

The controller may use several configurations (read, punish and normalise
pulses for each pattern). The control Gramian accumulated over them is::

    W = sum_c  integral_0^{T_c} exp(A_c s) B_c B_c^T exp(A_c^T s) ds,

with ``T_c`` the configuration's duration (Van Loan's block exponential on
a short step, then interval doubling, accurate for stiff dynamics too).
``rank W`` is the number of independent directions in which the
terminals can push the device states at first order; ``rank W / M`` the
*normalised controllability*. A network is **not controllable** when
``rank W < M``: some combinations of device states (e.g. the difference
between two devices that sit in symmetric positions) receive identical
drive in every configuration the controller uses, so no sequence of pulses
can set them independently: learning must then succeed without ever
separating them. Small non-zero singular values mean directions that can be
steered only slowly or with large voltages (the condition number).

The Gramian of linearised dynamics is the standard tool (e.g. Kailath,
*Linear Systems*, 1980, ch. 2); applied to memristive networks following
the governing-equation view of Caravelli, Traversa & Di Ventra (2017).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import scipy.linalg as sla
import scipy.sparse.linalg as spla

from memsim.circuit.network import CompiledNetwork, Network
from memsim.devices import functions as fn
from memsim.solve.nodal import DENSE_MAX, laplacian, partition_nodes, solve_nodal
from memsim.solve.protocol import Segment, compile_protocol

__all__ = ["Controllability", "controllability", "terminal_map", "linearise"]

#: Finite-difference step of the device partials, on the unit state scale.
REL_STEP = 1e-6


@dataclass(frozen=True)
class Controllability:
    """Controllability figures of a network (see the module docstring).

    Attributes
    ----------
    rank : numerical rank of the Gramian ``W``.
    normalised_rank : ``rank / n_dynamic`` (1 = every device direction steerable).
    singular_values : singular values of ``W``, descending.
    smallest_nonzero : the smallest singular values above the rank tolerance
        (up to 5, ascending).
    condition_number : largest / smallest non-zero singular value.
    voltage_map_rank : rank of the stacked terminal-to-device-voltage maps
        ``[S_c1, S_c2, ...]`` (M x sum D_c).
    n_dynamic : number of devices with a state (resistors excluded).
    gramian : the Gramian restricted to the dynamic devices.
    tolerance : the rank threshold used.
    """

    rank: int
    normalised_rank: float
    singular_values: np.ndarray
    smallest_nonzero: np.ndarray
    condition_number: float
    voltage_map_rank: int
    n_dynamic: int
    gramian: np.ndarray
    tolerance: float


def _compiled(network) -> CompiledNetwork:
    return network.compile() if isinstance(network, Network) else network


def _check_x(net: CompiledNetwork, x) -> np.ndarray:
    x = net.x0 if x is None else np.asarray(x, dtype=float)
    if x.shape != (net.n_edges,):
        raise ValueError(f"x must have shape ({net.n_edges},), got {x.shape}")
    if not np.all((x >= 0) & (x <= 1)):
        raise ValueError("x must be in [0, 1]")
    return x


def terminal_map(network: Network | CompiledNetwork, configuration: Segment, x=None) -> np.ndarray:
    """The map ``S_c`` from driven voltages to device voltages (M x D).

    Column ``j`` holds the edge voltages when driven node ``j`` is at 1 V and
    the other driven nodes at 0 V (floating nodes by Kirchhoff's law); by
    linearity ``v_edge = S_c u``. Floating islands contribute zero rows.

    Examples
    --------
    >>> from memsim import Network, Resistor
    >>> net = Network(); net.add_node("a", "input"); net.add_node("c", "output")
    >>> _ = net.add_resistor("a", "b", 1.0); _ = net.add_resistor("b", "c", 1.0)
    >>> terminal_map(net, Segment(1.0, drive={"a": 1.0}, ground=["c"]))
    array([[ 0.5, -0.5],
           [ 0.5, -0.5]])
    """
    net = _compiled(network)
    x = _check_x(net, x)
    (seg,) = compile_protocol(net, [configuration])
    g = fn.conductance(net.model, net.params, x)
    out = np.empty((net.n_edges, seg.driven.size))
    for j in range(seg.driven.size):
        u = np.zeros(seg.driven.size)
        u[j] = 1.0
        out[:, j] = solve_nodal(net, g, seg.driven, u).v_edge
    return np.nan_to_num(out)


def _rates(net: CompiledNetwork, x: np.ndarray, seg, u: np.ndarray) -> np.ndarray:
    g = fn.conductance(net.model, net.params, x)
    sol = solve_nodal(net, g, seg.driven, u)
    r = fn.rate(net.model, net.params, x, np.nan_to_num(sol.v_edge), sol.i_edge)
    return np.where(net.model == 0, 0.0, r)


def _transfer(net: CompiledNetwork, g: np.ndarray, driven: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """``R = B_F^T L_FF^{-1} B_F`` on ``edges`` (E x E): edge-voltage response to a current injected across each edge.

    ``F`` are the floating nodes joined to a driven node or a leak; edges
    touching an island get zero rows and columns (no current can flow there).
    Dense solve up to :data:`memsim.solve.nodal.DENSE_MAX` floating nodes,
    sparse LU above.
    """
    free, island, _ = partition_nodes(net, g, driven)
    r = np.zeros((edges.size, edges.size))
    if free.size and edges.size:
        b_f = net.incidence[free][:, edges]
        l_ff = laplacian(net, g)[free][:, free]
        if free.size <= DENSE_MAX:
            x = np.linalg.solve(l_ff.toarray(), b_f.toarray())
        else:
            x = spla.splu(l_ff.tocsc()).solve(b_f.toarray())
        r = np.asarray(b_f.T @ x)
        touches = island[net.edge_u[edges]] | island[net.edge_v[edges]]
        r[touches] = 0.0
        r[:, touches] = 0.0
    return r


def linearise(
    network: Network | CompiledNetwork,
    configuration: Segment,
    x=None,
    *,
    rel_step: float = REL_STEP,
    method: Literal["analytic", "difference"] = "analytic",
) -> tuple[np.ndarray, np.ndarray]:
    """``(A_c, B_c)`` of the dynamics linearised at ``x`` under one configuration.

    ``B_c`` uses the exact linear map :func:`terminal_map` and central
    differences of each device's rate ``f_e(x_e, v_e, i_e)`` in its own
    state, voltage and current (step ``rel_step``, on the unit state scale
    shrunk near the bounds). ``A_c`` couples the devices through the
    network. With ``method="analytic"`` (default) it is assembled from one
    factorisation: Kirchhoff's current law at the floating nodes,
    ``B_F diag(g) dv = 0``, perturbed in ``g`` gives
    ``d(dv) = -R (dg * dv)`` with ``R = B_F^T L_FF^{-1} B_F``, so::

        A = diag(f_x + f_i g' v) - diag(f_v + g f_i) R diag(g' v),

    ``g' = dg/dx``; ``method="difference"`` takes central differences of
    the whole network's rates in each state instead (one nodal solve per
    device and side: the reference the tests compare the analytic form
    with). Configuration voltages that are functions of time are evaluated
    at the segment start.

    Examples
    --------
    >>> from memsim import Network, LinearIonDrift
    >>> net = Network(LinearIonDrift()); net.add_node("a", "input"); _ = net.add_edge("a", "b", x0=0.5)
    >>> a, b = linearise(net, Segment(1.0, drive={"a": 1.0}, ground=["b"]))
    >>> b.shape
    (1, 2)
    """
    if method not in ("analytic", "difference"):
        raise ValueError(f"method must be 'analytic' or 'difference', got {method!r}")
    net = _compiled(network)
    x = _check_x(net, x)
    a_mat, b_mat, _ = _linearise(net, configuration, x, rel_step, method)
    return a_mat, b_mat


def _linearise(net: CompiledNetwork, configuration: Segment, x: np.ndarray, rel_step: float,
               method: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`linearise` on checked input; also returns the terminal map ``S_c``."""
    (seg,) = compile_protocol(net, [configuration])
    u = seg.voltages(np.array([0.0]), 1)[0, 0]
    s_map = terminal_map(net, configuration, x)
    m, p = net.model, net.params
    g = fn.conductance(m, p, x)
    v = s_map @ u
    i = g * v
    dv = rel_step * np.maximum(1.0, np.abs(v))
    di = dv * np.maximum(g, 1e-300)
    drdv = (fn.rate(m, p, x, v + dv, i) - fn.rate(m, p, x, v - dv, i)) / (2 * dv)
    drdi = (fn.rate(m, p, x, v, i + di) - fn.rate(m, p, x, v, i - di)) / (2 * di)
    b_mat = (drdv + g * drdi)[:, None] * s_map
    dyn = m != 0
    b_mat[~dyn] = 0.0
    # state steps: rel_step, shrunk (one-sided) at the bounds of [0, 1]
    lo = np.maximum(0.0, x - rel_step)
    hi = np.minimum(1.0, x + rel_step)
    if method == "difference":
        a_mat = np.zeros((net.n_edges, net.n_edges))
        for e in np.flatnonzero(dyn):
            xl, xh = x.copy(), x.copy()
            xl[e], xh[e] = lo[e], hi[e]
            a_mat[:, e] = (_rates(net, xh, seg, u) - _rates(net, xl, seg, u)) / (hi[e] - lo[e])
        return a_mat, b_mat, s_map
    dgdx = (fn.conductance(m, p, hi) - fn.conductance(m, p, lo)) / (hi - lo)
    drdx = (fn.rate(m, p, hi, v, i) - fn.rate(m, p, lo, v, i)) / (hi - lo)
    e = np.flatnonzero(dyn)
    r = _transfer(net, g, seg.driven, e)
    a_mat = np.zeros((net.n_edges, net.n_edges))
    a_mat[np.ix_(e, e)] = -((drdv + g * drdi)[e, None] * r) * (dgdx * v)[None, e]
    a_mat[e, e] += drdx[e] + (drdi * dgdx * v)[e]
    return a_mat, b_mat, s_map


def _van_loan(a: np.ndarray, q: np.ndarray, h: float) -> tuple[np.ndarray, np.ndarray]:
    """``(exp(A h), integral_0^h exp(A s) Q exp(A^T s) ds)`` from one block exponential (Van Loan 1978)."""
    n = a.shape[0]
    blk = np.zeros((2 * n, 2 * n))
    blk[:n, :n] = -a
    blk[:n, n:] = q
    blk[n:, n:] = a.T
    e = sla.expm(blk * h)
    phi = e[n:, n:].T
    w = phi @ e[:n, n:]
    return phi, 0.5 * (w + w.T)


def _gramian(a: np.ndarray, b: np.ndarray, t: float) -> np.ndarray:
    """``integral_0^t exp(A s) B B^T exp(A^T s) ds``: Van Loan on a short step, then doubling.

    Van Loan's block exponential over the whole horizon contains
    ``exp(-A t)``; for stiff dynamics (``t |lambda| >> 1``, e.g. a device
    that switches within a small part of the pulse) the Gramian is then the
    difference of numbers ``~exp(2 t |lambda|)`` times larger than itself
    and comes out as rounding noise. Instead the block exponential is taken
    over ``h = t / 2^k`` with ``h ||A||_1 <= 1`` and the interval doubled
    ``k`` times::

        W(2h) = W(h) + exp(A h) W(h) exp(A h)^T,   exp(2 A h) = exp(A h)^2,

    a sum of positive semi-definite terms with no cancellation.

    Devices whose rows of ``A`` and ``B`` are zero (e.g. below their
    switching threshold in this configuration) never move from the
    operating point, so their rows and columns of ``W`` are zero and the
    integral is taken on the others only (exact, and the block exponential
    shrinks accordingly).
    """
    n = a.shape[0]
    active = np.flatnonzero(np.any(a != 0, axis=1) | np.any(b != 0, axis=1))
    if active.size < n:
        w = np.zeros((n, n))
        if active.size:
            w[np.ix_(active, active)] = _gramian(a[np.ix_(active, active)], b[active], t)
        return w
    q = b @ b.T
    if not np.any(a):
        return t * q
    norm = float(np.abs(a).sum(axis=0).max()) * t
    k = max(0, math.ceil(math.log2(norm))) if norm > 1 else 0
    phi, w = _van_loan(a, q, t / 2**k)
    for _ in range(k):
        w = w + phi @ w @ phi.T
        phi = phi @ phi
    return 0.5 * (w + w.T)


def controllability(
    network: Network | CompiledNetwork,
    configurations: Sequence[Segment],
    x=None,
    *,
    rtol: float = 1e-9,
) -> Controllability:
    """Controllability of the device states through the given configurations.

    Parameters
    ----------
    network : Network or CompiledNetwork
    configurations : sequence of Segment
        Every terminal configuration the controller may use, with its pulse
        voltages (the operating point) and duration (the Gramian's horizon).
    x : (M,) array, optional
        Device states of the operating point (default: the network's ``x0``).
    rtol : float
        Rank tolerance relative to the largest singular value. The default
        1e-9 sits above the ~1e-10 relative error of the finite-difference
        linearisation, and a direction below it would need pulses ~3e4 times
        (``1 / sqrt(rtol)``) larger than the strongest one to steer.

    Returns
    -------
    Controllability

    Examples
    --------
    >>> from memsim import Network, LinearIonDrift
    >>> net = Network(LinearIonDrift()); net.add_node("a", "input")
    >>> _ = net.add_edge("a", "b", x0=0.3); _ = net.add_edge("a", "b", x0=0.6)
    >>> controllability(net, [Segment(1e-3, drive={"a": 1.0}, ground=["b"])]).rank
    2
    """
    net = _compiled(network)
    if len(configurations) == 0:
        raise ValueError("configurations must not be empty")
    dyn = np.flatnonzero(net.model != 0)
    if dyn.size == 0:
        raise ValueError("network has no dynamic devices (only resistors)")
    w = np.zeros((dyn.size, dyn.size))
    maps = []
    x = _check_x(net, x)
    for cfg in configurations:
        a, b, s_map = _linearise(net, cfg, x, REL_STEP, "analytic")
        w += _gramian(a[np.ix_(dyn, dyn)], b[dyn], cfg.duration)
        maps.append(s_map[dyn])
    sv = np.linalg.svd(w, compute_uv=False, hermitian=True)
    sv = np.sort(np.abs(sv))[::-1]
    tol = rtol * sv[0] if sv[0] > 0 else 0.0
    nz = sv[sv > tol]
    rank = int(nz.size)
    vmap = np.hstack(maps)
    vsv = np.linalg.svd(vmap, compute_uv=False)
    vrank = int(np.sum(vsv > rtol * vsv[0])) if vsv.size and vsv[0] > 0 else 0
    return Controllability(
        rank=rank,
        normalised_rank=rank / dyn.size,
        singular_values=sv,
        smallest_nonzero=np.sort(nz)[:5],
        condition_number=float(nz[0] / nz[-1]) if rank else float("inf"),
        voltage_map_rank=vrank,
        n_dynamic=int(dyn.size),
        gramian=w,
        tolerance=float(tol),
    )
