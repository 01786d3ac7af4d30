"""Capacity: how many patterns a topology can learn.

Structural figures, from the circuit alone
------------------------------------------
With every terminal (input and output) driven and the bulk floating, the
currents delivered by the terminals are ``I_T = Y v_T``, with ``Y`` the
Schur complement of the Laplacian on the terminals. ``Y`` is symmetric with
zero row sums, so it has ``T (T - 1) / 2`` independent entries. Its
derivative with respect to one device conductance is the rank-one matrix

    dY / dg_e = s_e s_e^T,

``s_e`` the voltage across device ``e`` per unit terminal voltage (row ``e``
of :func:`memsim.analysis.controllability.terminal_map`). The rank of the
Jacobian ``J = [vec(s_e s_e^T)]_e`` is the number of independent directions in
which changing the devices can reshape the terminal response; restricted to
the input-output block ``Y_OI`` (what a read measures: output currents for
input voltages) it bounds the number of independent input-output relations,
hence of patterns whose answers can be set independently by any learning
rule. Symmetric devices give equal columns and lower it.

The empirical capacity (train on random pattern sets of growing size) is
built on the learning-from-mistakes controller, in :mod:`memsim.learning`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from memsim.circuit.network import CompiledNetwork, Network
from memsim.devices import functions as fn
from memsim.solve.nodal import solve_nodal

__all__ = ["StructuralCapacity", "structural_capacity", "response_jacobian"]


@dataclass(frozen=True)
class StructuralCapacity:
    """Structural capacity figures (see the module docstring).

    Attributes
    ----------
    n_terminals : number of terminals ``T`` (inputs + outputs).
    independent_entries : ``T (T - 1) / 2``.
    jacobian_rank : rank of the full terminal-response Jacobian.
    io_entries : ``n_inputs * n_outputs``.
    io_rank : rank of the Jacobian of the input-output block.
    n_dynamic : number of devices with a state.
    """

    n_terminals: int
    independent_entries: int
    jacobian_rank: int
    io_entries: int
    io_rank: int
    n_dynamic: int


def _compiled(network) -> CompiledNetwork:
    return network.compile() if isinstance(network, Network) else network


def response_jacobian(network: Network | CompiledNetwork, x: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Jacobians of the terminal response with respect to the device conductances.

    Returns ``(J_full, J_io)``: rows are the upper off-diagonal entries of
    ``Y`` (terminals in index order: inputs then outputs), respectively the
    ``(output, input)`` entries; columns the dynamic devices.

    Examples
    --------
    >>> from memsim import Network, LinearIonDrift
    >>> net = Network(LinearIonDrift()); net.add_node("a", "input"); net.add_node("b", "output")
    >>> _ = net.add_edge("a", "b")
    >>> response_jacobian(net)[1]
    array([[-1.]])
    """
    net = _compiled(network)
    x = net.x0 if x is None else np.asarray(x, dtype=float)
    if x.shape != (net.n_edges,):
        raise ValueError(f"x must have shape ({net.n_edges},), got {x.shape}")
    ins, outs = net.inputs, net.outputs
    if outs.size == 0:
        raise ValueError("network has no node with role 'output'")
    terminals = np.concatenate([ins, outs])
    g = fn.conductance(net.model, net.params, x)
    s = np.empty((net.n_edges, terminals.size))
    for j in range(terminals.size):
        v = np.zeros(terminals.size)
        v[j] = 1.0
        s[:, j] = np.nan_to_num(solve_nodal(net, g, terminals, v).v_edge)
    dyn = net.model != 0
    s = s[dyn]
    iu = np.triu_indices(terminals.size, k=1)
    j_full = (s[:, iu[0]] * s[:, iu[1]]).T
    n_in = ins.size
    oi = [(n_in + o, i) for o in range(outs.size) for i in range(n_in)]
    j_io = np.array([s[:, a] * s[:, b] for a, b in oi])
    return j_full, j_io


def _rank(a: np.ndarray, rtol: float) -> int:
    if a.size == 0:
        return 0
    sv = np.linalg.svd(a, compute_uv=False)
    return int(np.sum(sv > rtol * sv[0])) if sv[0] > 0 else 0


def structural_capacity(
    network: Network | CompiledNetwork, x: np.ndarray | None = None, *, rtol: float = 1e-10
) -> StructuralCapacity:
    """Structural capacity figures of a network at device states ``x``.

    ``rtol`` is the rank threshold relative to the largest singular value
    (the Jacobian is exact up to rounding, ~1e-14 relative).

    Examples
    --------
    >>> from memsim import layered, Network, LinearIonDrift
    >>> sc = structural_capacity(Network.from_graph(layered([2, 4, 2]), LinearIonDrift(), x0=0.5))
    >>> sc.io_entries, sc.io_rank
    (4, 3)
    """
    net = _compiled(network)
    j_full, j_io = response_jacobian(net, x)
    t = net.inputs.size + net.outputs.size
    return StructuralCapacity(
        n_terminals=int(t),
        independent_entries=t * (t - 1) // 2,
        jacobian_rank=_rank(j_full, rtol),
        io_entries=int(net.inputs.size * net.outputs.size),
        io_rank=_rank(j_io, rtol),
        n_dynamic=int(np.sum(net.model != 0)),
    )
