"""Nodal analysis: node voltages and branch currents for given terminal conditions.

With ``D`` driven and ``F`` floating nodes, conductances ``g`` and incidence
``B``, the Laplacian is ``L = B diag(g) B^T + diag(leak)`` and

    L_FF v_F = -L_FD v_D - B_F diag(g) s,
    dv = B^T v,   i = g * (dv + s),
    I_D = L_DD v_D + L_DF v_F + B_D diag(g) s,

where ``s`` is an optional EMF in series with each edge (aiding the
``u -> v`` direction; zero in ordinary circuits). ``I_D`` is the current each
driven terminal delivers into the network.

A floating node with no conducting path to a driven node (or to a leak) is
part of an *island*: no current flows there, so every edge inside it has zero
voltage, and its node voltages are undetermined and reported as NaN.

This module is the plain NumPy/SciPy reference implementation; the time loop
uses the compiled kernels of :mod:`memsim.solve.kernels`, which the tests
compare against it.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from memsim.circuit.network import CompiledNetwork

if TYPE_CHECKING:  # SciPy is imported where it is used
    import scipy.sparse as sp

__all__ = ["NodalSolution", "find_islands", "partition_nodes", "solve_nodal", "terminal_response", "laplacian"]

#: Floating-node count above which :func:`solve_nodal` uses a sparse solve.
DENSE_MAX = 400


@dataclass(frozen=True)
class NodalSolution:
    """Electrical state of one network for one configuration.

    Attributes
    ----------
    v_node : (N,) node voltages (V); NaN on floating islands.
    v_edge : (M,) edge voltages ``v_u - v_v`` (V).
    i_edge : (M,) edge currents ``u -> v`` (A).
    i_node : (N,) current delivered by the source at each node into the
        network (A); zero at floating nodes.
    power : total power dissipated in the edges (W).
    """

    v_node: np.ndarray
    v_edge: np.ndarray
    i_edge: np.ndarray
    i_node: np.ndarray
    power: float


def laplacian(network: CompiledNetwork, g: np.ndarray, leak: np.ndarray | None = None) -> sp.csr_matrix:
    """Weighted Laplacian ``B diag(g) B^T + diag(leak)`` (CSR)."""
    import scipy.sparse as sp

    b = network.incidence
    lap = (b @ sp.diags(np.asarray(g, dtype=float)) @ b.T).tocsr()
    leak = network.leak if leak is None else leak
    if np.any(leak):
        lap = (lap + sp.diags(leak)).tocsr()
    return lap


def find_islands(
    n_nodes: int,
    edge_u: np.ndarray,
    edge_v: np.ndarray,
    conducting: np.ndarray,
    driven: np.ndarray,
    leak: np.ndarray,
) -> np.ndarray:
    """Boolean mask of floating nodes with no conducting path to a driven node or leak.

    Parameters
    ----------
    conducting : (M,) bool, edges with non-zero conductance.
    driven : (D,) indices of driven nodes.
    leak : (N,) leak conductances (a node with leak > 0 is anchored to ground).

    Examples
    --------
    >>> find_islands(3, np.array([0, 1]), np.array([1, 2]), np.array([True, False]),
    ...              np.array([0]), np.zeros(3))
    array([False, False,  True])
    """
    import scipy.sparse as sp
    from scipy.sparse import csgraph

    u = edge_u[conducting]
    v = edge_v[conducting]
    adj = sp.coo_matrix((np.ones(u.size), (u, v)), shape=(n_nodes, n_nodes))
    _, label = csgraph.connected_components(adj, directed=False)
    anchored = np.zeros(label.max() + 1, dtype=bool)
    anchored[label[driven]] = True
    anchored[label[leak > 0]] = True
    return ~anchored[label]


def partition_nodes(
    network: CompiledNetwork, g: np.ndarray, driven: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(free, island, is_driven)``: indices of the floating nodes that are solved for,
    and boolean masks of the island nodes (:func:`find_islands`) and of the driven ones.

    Examples
    --------
    >>> from memsim import Network
    >>> net = Network(); net.add_node("a", "input")
    >>> _ = net.add_resistor("a", "b", 1.0); _ = net.add_resistor("c", "d", 1.0)
    >>> free, island, _ = partition_nodes(net.compile(), np.ones(2), np.array([0]))
    >>> free.tolist(), island.tolist()
    ([1], [False, False, True, True])
    """
    n = network.n_nodes
    island = find_islands(n, network.edge_u, network.edge_v, g != 0, driven, network.leak)
    is_driven = np.zeros(n, dtype=bool)
    is_driven[driven] = True
    return np.flatnonzero(~is_driven & ~island), island, is_driven


def solve_nodal(
    network: CompiledNetwork,
    g: np.ndarray,
    driven: Sequence[Hashable] | np.ndarray,
    v_driven: np.ndarray,
    *,
    edge_emf: np.ndarray | None = None,
    by_name: bool = False,
) -> NodalSolution:
    """Solve the network for conductances ``g`` and driven node voltages.

    Parameters
    ----------
    network : CompiledNetwork
    g : (M,) edge conductances (S); zero for open (pruned) edges.
    driven : node indices (or names with ``by_name=True``) held at ``v_driven``.
    v_driven : (D,) voltages (V).
    edge_emf : (M,) optional series EMF per edge (V), aiding ``u -> v``.

    Returns
    -------
    NodalSolution

    Examples
    --------
    >>> from memsim import Network
    >>> net = Network(); net.add_node("a", "input"); net.add_node("c", "output")
    >>> _ = net.add_resistor("a", "b", 1e3); _ = net.add_resistor("b", "c", 1e3)
    >>> c = net.compile()
    >>> sol = solve_nodal(c, np.array([1e-3, 1e-3]), ["a", "c"], np.array([1.0, 0.0]), by_name=True)
    >>> float(sol.v_node[c.node_index["b"]])
    0.5
    """
    import scipy.sparse.linalg as spla

    if by_name:
        driven = network.index_of(list(driven))
    driven = np.asarray(driven, dtype=np.int64)
    v_driven = np.asarray(v_driven, dtype=float).reshape(driven.shape)
    g = np.asarray(g, dtype=float)
    n, m = network.n_nodes, network.n_edges
    if g.shape != (m,):
        raise ValueError(f"g must have shape ({m},), got {g.shape}")
    s = np.zeros(m) if edge_emf is None else np.asarray(edge_emf, dtype=float)
    free, island, is_driven = partition_nodes(network, g, driven)
    lap = laplacian(network, g).tocsr()
    b = network.incidence
    v = np.full(n, np.nan)
    v[driven] = v_driven
    v[~is_driven & island] = np.nan
    if free.size:
        rhs = -lap[free][:, driven] @ v_driven - (b[free] @ (g * s))
        a_ff = lap[free][:, free]
        if free.size <= DENSE_MAX:
            v[free] = np.linalg.solve(a_ff.toarray(), rhs)
        else:
            v[free] = spla.spsolve(a_ff.tocsc(), rhs)
    dv = v[network.edge_u] - v[network.edge_v]
    in_island = island[network.edge_u] & island[network.edge_v]
    dv = np.where(in_island, 0.0, dv)
    with np.errstate(invalid="ignore"):
        i_edge = np.where(g == 0, 0.0, g * (dv + s))
    i_node = np.asarray(b @ i_edge).ravel()
    i_node[~is_driven] = 0.0
    i_node += np.where(is_driven, network.leak * np.nan_to_num(v), 0.0)
    power = float(np.nansum(i_edge * (dv + s)))
    return NodalSolution(v, dv, i_edge, i_node, power)


def terminal_response(
    network: CompiledNetwork, g: np.ndarray, terminals: Sequence[int] | np.ndarray
) -> np.ndarray:
    """Terminal conductance matrix ``Y`` (Schur complement of ``L`` on the terminals).

    With the terminals driven at ``v_T`` and every other node floating, the
    currents delivered by the terminals are ``I_T = Y v_T``. ``Y`` is symmetric
    (reciprocity) and positive semi-definite (passivity).

    Examples
    --------
    >>> from memsim import Network
    >>> net = Network(); net.add_node("a", "input")
    >>> _ = net.add_resistor("a", "b", 2.0)
    >>> terminal_response(net.compile(), np.array([0.5]), [0, 1])
    array([[ 0.5, -0.5],
           [-0.5,  0.5]])
    """
    terminals = np.asarray(terminals, dtype=np.int64)
    t = terminals.size
    y = np.empty((t, t))
    for j in range(t):
        v = np.zeros(t)
        v[j] = 1.0
        y[:, j] = solve_nodal(network, g, terminals, v).i_node[terminals]
    return y
