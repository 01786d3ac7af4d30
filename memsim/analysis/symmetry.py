"""Symmetry of a network: node orbits, a weighted symmetry measure, symmetry breaking.

Two nodes are in the same *orbit* when an automorphism of the circuit (a
relabelling of nodes that preserves edges and node roles) maps one to the
other: the hardware cannot tell them apart from its terminals. Orbits are
computed exactly without enumerating the automorphism group (which has
``64!`` elements for a fully connected hidden layer of 64 nodes): colour
refinement (the 1-dimensional Weisfeiler-Leman procedure) gives a partition
that never splits an orbit, and each candidate pair inside a cell is then
verified: twins (same role, same neighbours) are swapped by an automorphism
outright, other pairs by a VF2 search for an automorphism mapping one to the
other (networkx's ``GraphMatcher``).
"""

from __future__ import annotations

from collections.abc import Hashable

import networkx as nx
import numpy as np
from networkx.algorithms.isomorphism import GraphMatcher

from memsim.circuit.network import CompiledNetwork, Network
from memsim.devices import functions as fn

__all__ = ["node_orbits", "hidden_orbits", "edge_classes", "weighted_asymmetry", "prune_random", "spread_states",
           "hidden_twins", "is_uniform"]


def _graph(network) -> nx.Graph:
    if isinstance(network, nx.Graph):
        g = nx.Graph()
        g.add_nodes_from((n, {"role": d.get("role", "bulk")}) for n, d in network.nodes(data=True))
        g.add_edges_from(network.edges())
        return g
    net = network.compile() if isinstance(network, Network) else network
    g = nx.Graph()
    roles = {0: "bulk", 1: "input", 2: "output"}
    for i, n in enumerate(net.node_names):
        g.add_node(n, role=roles[int(net.roles[i])])
    g.add_edges_from((net.node_names[u], net.node_names[v]) for u, v in zip(net.edge_u, net.edge_v))
    return g


def _refine(g: nx.Graph) -> dict[Hashable, int]:
    colour = {n: d["role"] for n, d in g.nodes(data=True)}
    n_cells = len(set(colour.values()))
    while True:
        sig = {n: (colour[n], tuple(sorted(map(str, (colour[m] for m in g[n]))))) for n in g}
        keys = {s: i for i, s in enumerate(sorted(set(sig.values()), key=str))}
        new = {n: keys[sig[n]] for n in g}
        if len(keys) == n_cells:
            return new
        colour, n_cells = new, len(keys)


def node_orbits(network: Network | CompiledNetwork | nx.Graph) -> list[list[Hashable]]:
    """Orbits of the nodes under the role-preserving automorphisms of the circuit.

    Edge orientation and devices are ignored (the topology's symmetry);
    parallel edges count once.

    Examples
    --------
    >>> from memsim import layered
    >>> sorted(len(o) for o in node_orbits(layered([2, 3, 2])))
    [2, 2, 3]
    """
    g = _graph(network)
    colour = _refine(g)
    cells: dict[int, list] = {}
    for n in g:
        cells.setdefault(colour[n], []).append(n)
    orbits: list[list[Hashable]] = []
    for cell in cells.values():
        reps: list[list[Hashable]] = []
        for n in cell:
            for orbit in reps:
                if _maps(g, orbit[0], n):
                    orbit.append(n)
                    break
            else:
                reps.append([n])
        orbits.extend(reps)
    return sorted(orbits, key=lambda o: (-len(o), str(o[0])))


def _maps(g: nx.Graph, a: Hashable, b: Hashable) -> bool:
    """Is there an automorphism of ``g`` mapping node ``a`` to node ``b``?"""
    if a == b:
        return True
    if g.nodes[a]["role"] == g.nodes[b]["role"] and set(g[a]) - {b} == set(g[b]) - {a}:
        return True  # twins: swapping them is an automorphism
    h = g.copy()
    nx.set_node_attributes(g, {n: (d["role"], n == a) for n, d in g.nodes(data=True)}, "pin")
    nx.set_node_attributes(h, {n: (d["role"], n == b) for n, d in h.nodes(data=True)}, "pin")
    matcher = GraphMatcher(g, h, node_match=lambda x, y: x["pin"] == y["pin"])
    return matcher.is_isomorphic()


def hidden_orbits(network: Network | CompiledNetwork | nx.Graph) -> list[list[Hashable]]:
    """Orbits of the bulk nodes under the automorphisms that fix every terminal.

    Each terminal is given a role of its own before :func:`node_orbits`, so
    no automorphism may move it: what remains is the symmetry the controller
    cannot see from its terminals (interchangeable hidden nodes receive
    identical drive in every configuration). ``len(orbits) / bulk nodes`` is
    1 when no two hidden nodes are interchangeable.

    Examples
    --------
    >>> from memsim import crossbar, layered
    >>> [len(o) for o in hidden_orbits(layered([2, 3, 2]))]
    [3]
    >>> hidden_orbits(crossbar(2, 3))
    []
    """
    g = _graph(network)
    pinned = nx.Graph()
    for n, d in g.nodes(data=True):
        role = d.get("role", "bulk")
        pinned.add_node(n, role=role if role == "bulk" else f"{role}:{n!r}")
    pinned.add_edges_from(g.edges())
    return [o for o in node_orbits(pinned) if g.nodes[o[0]].get("role", "bulk") == "bulk"]


def edge_classes(network: Network | CompiledNetwork) -> np.ndarray:
    """Class label of each edge: edges whose endpoints lie in the same pair of orbits.

    Edges in one class are interchangeable in the bare topology (an upper
    bound on edge orbits that is exact for the layered and crossbar networks).
    """
    net = network.compile() if isinstance(network, Network) else network
    orbit_of = {}
    for k, orbit in enumerate(node_orbits(net)):
        for n in orbit:
            orbit_of[n] = k
    keys = [tuple(sorted((orbit_of[net.node_names[u]], orbit_of[net.node_names[v]])))
            for u, v in zip(net.edge_u, net.edge_v)]
    uniq = {k: i for i, k in enumerate(sorted(set(keys)))}
    return np.array([uniq[k] for k in keys], dtype=np.int64)


def weighted_asymmetry(network: Network | CompiledNetwork, weights: np.ndarray) -> float:
    """How far edge weights (e.g. conductances) break the topology's symmetry.

    ``sum_c n_c CV_c / sum_c n_c`` over the edge classes ``c`` of
    :func:`edge_classes`, with ``CV_c`` the coefficient of variation (standard
    deviation over mean of the absolute weights) inside the class: 0 for
    weights that respect every symmetry, growing with the contrast between
    interchangeable edges.

    Examples
    --------
    >>> from memsim import layered, Network
    >>> net = Network.from_graph(layered([2, 2, 1]))
    >>> weighted_asymmetry(net, np.ones(6))
    0.0
    """
    net = network.compile() if isinstance(network, Network) else network
    w = np.abs(np.asarray(weights, dtype=float))
    if w.shape != (net.n_edges,):
        raise ValueError(f"weights must have shape ({net.n_edges},), got {w.shape}")
    cls = edge_classes(net)
    total, acc = 0, 0.0
    for c in np.unique(cls):
        wc = w[cls == c]
        if wc.size > 1 and wc.mean() > 0:
            acc += wc.size * wc.std() / wc.mean()
        total += wc.size
    return float(acc / total)


def prune_random(
    network: Network | CompiledNetwork, k: int, *, seed: int | np.random.Generator | None = None,
    dynamic_only: bool = True,
) -> np.ndarray:
    """Open-edge mask with ``k`` edges chosen at random (a symmetry-breaking prune).

    Pass the mask as ``open_edges`` to :func:`memsim.simulate`.

    Examples
    --------
    >>> from memsim import layered, Network
    >>> int(prune_random(Network.from_graph(layered([2, 4, 2])), 3, seed=0).sum())
    3
    """
    net = network.compile() if isinstance(network, Network) else network
    pool = np.flatnonzero(net.model != 0) if dynamic_only else np.arange(net.n_edges)
    if not (isinstance(k, (int, np.integer)) and 0 <= k <= pool.size):
        raise ValueError(f"k must be an integer in [0, {pool.size}], got {k!r}")
    mask = np.zeros(net.n_edges, dtype=bool)
    mask[np.random.default_rng(seed).choice(pool, size=k, replace=False)] = True
    return mask


def spread_states(
    x: np.ndarray, sigma: float, *, seed: int | np.random.Generator | None = None
) -> np.ndarray:
    """States with independent Gaussian spread ``sigma``, clipped to ``[0, 1]``.

    A symmetry-breaking conductance spread (with device-to-device parameter
    spread, see :class:`memsim.Variability`).

    Examples
    --------
    >>> spread_states(np.full(3, 0.5), 0.0, seed=1)
    array([0.5, 0.5, 0.5])
    """
    if not (np.isfinite(sigma) and sigma >= 0):
        raise ValueError(f"sigma must be a finite number >= 0, got {sigma!r}")
    x = np.asarray(x, dtype=float)
    return np.clip(x + sigma * np.random.default_rng(seed).standard_normal(x.shape), 0.0, 1.0)


def hidden_twins(
    network: Network | CompiledNetwork,
    x: np.ndarray | None = None,
    *,
    params: np.ndarray | None = None,
    open_edges: np.ndarray | None = None,
    rtol: float = 1e-9,
) -> list[list[Hashable]]:
    """Groups of hidden nodes that the device states leave interchangeable.

    Two bulk nodes are *twins* at states ``x`` when they are not joined by a
    conducting edge, have the same neighbours, and their devices to each
    neighbour match: same orientation, model and parameters, and equal
    conductance (to ``rtol``). Swapping them is then an automorphism of the
    circuit *with its devices*: in every terminal configuration they sit at
    the same voltage, their devices receive identical drive, and no pulse
    can separate them. A net whose hidden nodes all have twins is a
    degenerate baseline (e.g. a ``layered`` net with every device in one
    state: its normalised output currents are the same for every input
    pattern). Only twin symmetry is detected (the symmetry of the hidden
    layers of ``layered`` nets); other automorphisms (a ring's rotations)
    are not, so an empty answer does not prove the states asymmetric.

    Parameters
    ----------
    network : Network or CompiledNetwork
    x : (M,) array, optional
        Device states (default the network's ``x0``).
    params : (M, P) array, optional
        Packed parameters (default the network's; pass a copy's from
        :class:`memsim.learning.Hardware` to include device spread).
    open_edges : (M,) bool array, optional
        Open (pruned) edges, which conduct nothing.
    rtol : float
        Relative tolerance of "equal" conductances and parameters.

    Returns
    -------
    list of lists of node names, each of at least two nodes, in node order.

    Examples
    --------
    >>> from memsim import layered, Network
    >>> net = Network.from_graph(layered([2, 3, 2]), x0=0.5)
    >>> hidden_twins(net)
    [[('h', 1, 0), ('h', 1, 1), ('h', 1, 2)]]
    >>> x = np.full(12, 0.5); x[0] = 0.3          # the device in 0 -> h0 differs
    >>> hidden_twins(net, x)
    [[('h', 1, 1), ('h', 1, 2)]]
    """
    net = network.compile() if isinstance(network, Network) else network
    m = net.n_edges
    x = net.x0 if x is None else np.asarray(x, dtype=float)
    prm = net.params if params is None else np.asarray(params, dtype=float)
    open_ = np.zeros(m, bool) if open_edges is None else np.asarray(open_edges, dtype=bool)
    for name, arr, shape in (("x", x, (m,)), ("params", prm, net.params.shape), ("open_edges", open_, (m,))):
        if arr.shape != shape:
            raise ValueError(f"{name} must have shape {shape}, got {arr.shape}")
    if not (np.isfinite(rtol) and rtol >= 0):
        raise ValueError(f"rtol must be a finite number >= 0, got {rtol!r}")
    g = fn.conductance(net.model, prm, x)
    # per bulk node: neighbour -> [(direction, edge)] of its conducting edges
    incident: dict[int, dict[int, list[tuple[int, int]]]] = {}
    for e in np.flatnonzero(~open_ & (g > 0)):
        u, v = int(net.edge_u[e]), int(net.edge_v[e])
        incident.setdefault(u, {}).setdefault(v, []).append((1, int(e)))
        incident.setdefault(v, {}).setdefault(u, []).append((-1, int(e)))
    bulk = [int(n) for n in np.flatnonzero(net.roles == 0) if int(n) in incident]

    def close(a: np.ndarray, b: np.ndarray) -> bool:
        return bool(np.all(np.abs(a - b) <= rtol * np.maximum(np.abs(a), np.abs(b))))

    def twins(a: int, b: int) -> bool:
        na, nb = incident[a], incident[b]
        if b in na or set(na) != set(nb):
            return False
        for nbr, ea in na.items():
            eb = nb[nbr]
            if len(ea) != len(eb):
                return False
            key = lambda de: (de[0], int(net.model[de[1]]), float(g[de[1]]))  # noqa: E731
            for (da, a_e), (db, b_e) in zip(sorted(ea, key=key), sorted(eb, key=key)):
                if da != db or net.model[a_e] != net.model[b_e] or not close(g[a_e], g[b_e]) \
                        or not close(prm[a_e], prm[b_e]):
                    return False
        return bool(net.leak[a] == net.leak[b])

    groups: list[list[int]] = []
    for n in bulk:
        for grp in groups:
            if twins(grp[0], n):
                grp.append(n)
                break
        else:
            groups.append([n])
    return [[net.node_names[n] for n in grp] for grp in groups if len(grp) > 1]


def is_uniform(network: Network | CompiledNetwork, x: np.ndarray | None = None, **kwargs) -> bool:
    """Whether the states leave some hidden nodes interchangeable (:func:`hidden_twins` is not empty).

    A study can refuse such a degenerate baseline: in a uniform net the
    controller cannot separate the twins' devices, whatever it does.
    ``kwargs`` are those of :func:`hidden_twins`.

    Examples
    --------
    >>> from memsim import layered, Network
    >>> net = Network.from_graph(layered([2, 4, 2]), x0=0.5)
    >>> is_uniform(net), is_uniform(net, np.random.default_rng(0).random(16))
    (True, False)
    """
    return bool(hidden_twins(network, x, **kwargs))
