"""Topology generators: networkx graphs ready for :meth:`Network.from_graph`.

Every generator returns a graph whose nodes all carry a ``role`` attribute
(``"input"``, ``"output"`` or ``"bulk"``). Memristor edges carry no device
attribute (``Network.from_graph`` gives them its default device); plain
resistors (wires) carry ``resistance`` (ohm).

Order matters: ``Network.from_graph`` numbers nodes in ``G.nodes`` order and
edges in ``G.edges()`` order. networkx iterates edges by source node (in node
order), then by target in insertion order, so edge order follows node order.

Random generators take ``seed`` (int, numpy ``Generator`` or ``None``),
normalise it once with :func:`numpy.random.default_rng` and derive every
further seed from that generator: the same seed gives the same graph, with the
same node and edge order.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Hashable, Iterable, Sequence
from typing import Literal

import networkx as nx
import numpy as np

__all__ = ["layered", "crossbar", "erdos_renyi", "watts_strogatz", "random_geometric", "set_roles",
           "orient_by_potential"]

Seed = int | np.random.Generator | None
_MAX_TRIES = 100  # draws tried before giving up on a connected graph


def _int(fn: str, name: str, value: object, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
        what = {0: "a non-negative integer", 1: "a positive integer"}.get(low, f"an integer >= {low}")
        raise ValueError(f"{fn}: {name} must be {what}, got {value!r}")
    return int(value)


def _real(fn: str, name: str, value: object, low: float, high: float, *, open_low: bool = False) -> float:
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)
    if not ok or value < low or value > high or (open_low and value == low):
        lo = "(" if open_low else "["
        raise ValueError(f"{fn}: {name} must be a number in {lo}{low}, {high}], got {value!r}")
    return float(value)


def _terminals(fn: str, n: int, n_inputs: object, n_outputs: object) -> tuple[int, int]:
    n_in = _int(fn, "n_inputs", n_inputs, 1)
    n_out = _int(fn, "n_outputs", n_outputs, 0)
    if n_in + n_out > n:
        raise ValueError(f"{fn}: n_inputs + n_outputs must be <= n = {n}, got {n_in} + {n_out}")
    return n_in, n_out


def _draw(fn: str, make: Callable[[], nx.Graph], connected: bool) -> nx.Graph:
    """Call ``make`` until it returns a connected graph (at most ``_MAX_TRIES`` times)."""
    for _ in range(_MAX_TRIES if connected else 1):
        g = make()
        if not connected or nx.is_connected(g):
            return g
    raise ValueError(
        f"{fn}: these parameters rarely give a connected graph (none in {_MAX_TRIES} draws); "
        "increase the density or pass connected=False"
    )


def set_roles(G: nx.Graph, inputs: Iterable[Hashable], outputs: Iterable[Hashable]) -> nx.Graph:
    """Set node roles in place: ``inputs``, ``outputs``, every other node ``"bulk"``.

    Parameters
    ----------
    G : networkx graph
    inputs, outputs : iterables of node names
        Must exist in ``G`` and be disjoint.

    Returns
    -------
    G (modified in place), for chaining.

    Examples
    --------
    >>> import networkx as nx
    >>> g = set_roles(nx.path_graph(3), inputs=[0], outputs=[2])
    >>> [g.nodes[n]["role"] for n in g]
    ['input', 'bulk', 'output']
    """
    ins, outs = list(inputs), list(outputs)
    for name, names in (("inputs", ins), ("outputs", outs)):
        missing = [n for n in names if n not in G]
        if missing:
            raise ValueError(f"set_roles: {name} contains node(s) not in the graph: {missing!r}")
    out_set = set(outs)
    both = [n for n in ins if n in out_set]
    if both:
        raise ValueError(f"set_roles: inputs and outputs must be disjoint, both contain {both!r}")
    nx.set_node_attributes(G, "bulk", "role")
    nx.set_node_attributes(G, {n: "input" for n in ins}, "role")
    nx.set_node_attributes(G, {n: "output" for n in outs}, "role")
    return G


def layered(sizes: Sequence[int], *, orientation: Literal["forward", "backward"] = "forward") -> nx.DiGraph:
    """Layered network, fully connected between consecutive layers.

    Parameters
    ----------
    sizes : sequence of int
        Number of nodes per layer (at least two layers, each >= 1).
    orientation : {"forward", "backward"}, optional
        ``"forward"`` (default) orients every memristor from layer ``l`` to
        ``l + 1`` (input side to output side). ``"backward"`` orients it from
        layer ``l + 1`` to ``l``, so that a positive drive on the inputs puts
        a *negative* voltage on every device; with a threshold device such as
        :class:`~memsim.devices.models.VTEAM` (ON below ``v_on < 0``) a forward
        pulse then potentiates and a reverse pulse depresses, the polarity the
        learning controller of :mod:`memsim.learning` uses. Backward edges
        carry an ``index`` attribute so that the edge numbering is the same as
        in the forward graph.

    Returns
    -------
    networkx.DiGraph
        Nodes, in layer order: inputs ``("in", i)``, hidden layer ``k``
        (``k = 1 .. len(sizes) - 2``) ``("h", k, j)`` with role ``"bulk"``,
        outputs ``("out", j)``. One memristor per pair of nodes in consecutive
        layers, oriented from layer ``l`` to ``l + 1`` (``"forward"``) or back
        (``"backward"``); edges are numbered layer pair by layer pair, then by
        the node in layer ``l``, then by the node in layer ``l + 1``.

    Examples
    --------
    >>> g = layered([2, 4, 2])
    >>> g.number_of_nodes(), g.number_of_edges()
    (8, 16)
    >>> list(g.edges)[0]
    (('in', 0), ('h', 1, 0))
    >>> list(layered([2, 4, 2], orientation="backward").edges)[0]
    (('h', 1, 0), ('in', 0))
    """
    if isinstance(sizes, (str, bytes)) or not isinstance(sizes, Iterable) or len(sizes := list(sizes)) < 2:
        raise ValueError(f"layered: sizes must be a sequence of at least 2 layer sizes, got {sizes!r}")
    sizes = [_int("layered", f"sizes[{k}]", s, 1) for k, s in enumerate(sizes)]
    if orientation not in ("forward", "backward"):
        raise ValueError(f"layered: orientation must be 'forward' or 'backward', got {orientation!r}")
    last = len(sizes) - 1
    name = lambda k, j: ("in", j) if k == 0 else ("out", j) if k == last else ("h", k, j)  # noqa: E731
    layers = [[name(k, j) for j in range(s)] for k, s in enumerate(sizes)]
    g = nx.DiGraph()
    for k, layer in enumerate(layers):
        role = "input" if k == 0 else "output" if k == last else "bulk"
        g.add_nodes_from(layer, role=role)
    pairs = [(u, v) for src, dst in zip(layers[:-1], layers[1:]) for u in src for v in dst]
    if orientation == "forward":
        g.add_edges_from(pairs)
    else:
        g.add_edges_from((v, u, {"index": e}) for e, (u, v) in enumerate(pairs))
    return g


def crossbar(rows: int, cols: int, r_wire: float = 0.0) -> nx.DiGraph:
    """Crossbar array of ``rows x cols`` memristors.

    Parameters
    ----------
    rows, cols : int
        Number of word lines (rows) and bit lines (columns), each >= 1.
    r_wire : float, optional
        Resistance (ohm) of each wire segment between two adjacent cells.
        ``0`` (default) gives the ideal crossbar without IR drop.

    Returns
    -------
    networkx.DiGraph
        ``r_wire == 0``: inputs ``("row", i)``, outputs ``("col", j)`` and a
        memristor ``("row", i) -> ("col", j)`` per cell; edge ``e`` is cell
        ``(e // cols, e % cols)`` (row-major).

        ``r_wire > 0``: word-line nodes ``("w", i, j)`` then bit-line nodes
        ``("b", i, j)`` (row-major). Cell ``(i, j)`` is the memristor
        ``("w", i, j) -> ("b", i, j)``; wires ``("w", i, j) -> ("w", i, j + 1)``
        and ``("b", i, j) -> ("b", i + 1, j)`` carry ``resistance=r_wire``.
        Word lines are driven at the left (``("w", i, 0)`` are inputs), bit
        lines are read at the bottom (``("b", rows - 1, j)`` are outputs).
        Every edge carries an ``index`` attribute, which
        :meth:`~memsim.circuit.network.Network.from_graph` numbers edges by:
        the ``rows * cols`` memristors first (edge ``e`` is cell
        ``(e // cols, e % cols)``), then the word-line wires (row-major), then
        the bit-line wires (row-major).

    Examples
    --------
    >>> crossbar(2, 3).number_of_edges()
    6
    >>> g = crossbar(2, 3, r_wire=1.0)
    >>> g.number_of_nodes(), g.number_of_edges()
    (12, 13)
    >>> g.edges[("w", 0, 0), ("w", 0, 1)]["resistance"]
    1.0
    """
    rows = _int("crossbar", "rows", rows, 1)
    cols = _int("crossbar", "cols", cols, 1)
    r_wire = _real("crossbar", "r_wire", r_wire, 0.0, math.inf)
    cells = [(i, j) for i in range(rows) for j in range(cols)]
    g = nx.DiGraph()
    if r_wire == 0.0:
        g.add_nodes_from((("row", i) for i in range(rows)), role="input")
        g.add_nodes_from((("col", j) for j in range(cols)), role="output")
        g.add_edges_from((("row", i), ("col", j)) for i, j in cells)
        return g
    g.add_nodes_from((("w", i, j), {"role": "input" if j == 0 else "bulk"}) for i, j in cells)
    g.add_nodes_from((("b", i, j), {"role": "output" if i == rows - 1 else "bulk"}) for i, j in cells)
    edges = [(("w", i, j), ("b", i, j), {}) for i, j in cells]
    wire = {"resistance": r_wire}
    edges += [(("w", i, j), ("w", i, j + 1), wire) for i, j in cells if j < cols - 1]
    edges += [(("b", i, j), ("b", i + 1, j), wire) for i, j in cells if i < rows - 1]
    g.add_edges_from((u, v, dict(d, index=e)) for e, (u, v, d) in enumerate(edges))
    return g


def _random_terminals(g: nx.Graph, rng: np.random.Generator, n_in: int, n_out: int) -> nx.Graph:
    chosen = rng.choice(g.number_of_nodes(), size=n_in + n_out, replace=False).tolist()
    return set_roles(g, chosen[:n_in], chosen[n_in:])


def erdos_renyi(
    n: int, p: float, n_inputs: int, n_outputs: int, *, seed: Seed = None, connected: bool = True
) -> nx.Graph:
    """Erdős–Rényi graph G(n, p) with random terminals.

    Parameters
    ----------
    n : int
        Number of nodes (named ``0 .. n-1``).
    p : float
        Probability of each edge, in [0, 1].
    n_inputs, n_outputs : int
        Number of input (>= 1) and output (>= 0) nodes, ``n_inputs + n_outputs <= n``.
    seed : int, numpy Generator or None
    connected : bool, optional
        If true (default), redraw (up to 100 times, seeds derived from ``seed``)
        until the graph is connected, else raise ``ValueError``.

    Returns
    -------
    networkx.Graph
        Terminals: ``n_inputs + n_outputs`` distinct nodes drawn uniformly
        (after the graph) with the same generator; the first ``n_inputs`` drawn
        are inputs, the rest outputs.

    Examples
    --------
    >>> g = erdos_renyi(20, 0.3, 2, 2, seed=0)
    >>> sorted(nx.get_node_attributes(g, "role").values()).count("input")
    2
    """
    n = _int("erdos_renyi", "n", n, 1)
    p = _real("erdos_renyi", "p", p, 0.0, 1.0)
    n_in, n_out = _terminals("erdos_renyi", n, n_inputs, n_outputs)
    rng = np.random.default_rng(seed)
    g = _draw("erdos_renyi", lambda: nx.gnp_random_graph(n, p, seed=int(rng.integers(2**32))), connected)
    return _random_terminals(g, rng, n_in, n_out)


def watts_strogatz(
    n: int, k: int, p: float, n_inputs: int, n_outputs: int, *, seed: Seed = None, connected: bool = True
) -> nx.Graph:
    """Watts–Strogatz small-world graph with random terminals.

    Parameters
    ----------
    n : int
        Number of nodes (named ``0 .. n-1``), ring order.
    k : int
        Each node is joined to its ``k`` nearest ring neighbours; even, ``2 <= k < n``.
    p : float
        Rewiring probability of each edge, in [0, 1].
    n_inputs, n_outputs : int
        As in :func:`erdos_renyi`.
    seed : int, numpy Generator or None
    connected : bool, optional
        As in :func:`erdos_renyi`.

    Returns
    -------
    networkx.Graph
        Terminals are drawn as in :func:`erdos_renyi`.

    Examples
    --------
    >>> g = watts_strogatz(12, 4, 0.1, 2, 2, seed=0)
    >>> g.number_of_edges()
    24
    """
    n = _int("watts_strogatz", "n", n, 3)
    k = _int("watts_strogatz", "k", k, 2)
    if k >= n or k % 2:
        raise ValueError(f"watts_strogatz: k must be even and < n = {n}, got {k}")
    p = _real("watts_strogatz", "p", p, 0.0, 1.0)
    n_in, n_out = _terminals("watts_strogatz", n, n_inputs, n_outputs)
    rng = np.random.default_rng(seed)
    make = lambda: nx.watts_strogatz_graph(n, k, p, seed=int(rng.integers(2**32)))  # noqa: E731
    g = _draw("watts_strogatz", make, connected)
    return _random_terminals(g, rng, n_in, n_out)


def random_geometric(
    n: int, radius: float, n_inputs: int, n_outputs: int, *, seed: Seed = None, dim: int = 2,
    connected: bool = True,
) -> nx.Graph:
    """Random geometric ("nanowire") network in the unit square (or cube).

    Nodes sit at uniform random positions in ``[0, 1)**dim`` (node attribute
    ``pos``, a tuple); two nodes are joined when their Euclidean distance is
    at most ``radius``.

    Parameters
    ----------
    n : int
        Number of nodes (named ``0 .. n-1``).
    radius : float
        Connection distance, > 0.
    n_inputs, n_outputs, seed, connected
        As in :func:`erdos_renyi` (``connected`` redraws the positions).
    dim : int, optional
        Dimension of the space (default 2).

    Returns
    -------
    networkx.Graph
        Terminals act as electrodes on two opposite sides of the film: the
        ``n_inputs`` nodes with the smallest first coordinate are inputs, the
        ``n_outputs`` nodes with the largest are outputs.

    Examples
    --------
    >>> g = random_geometric(30, 0.4, 3, 3, seed=1)
    >>> left = max(p[0] for u, p in g.nodes(data="pos") if g.nodes[u]["role"] == "input")
    >>> right = min(p[0] for u, p in g.nodes(data="pos") if g.nodes[u]["role"] == "output")
    >>> left < right
    True
    """
    n = _int("random_geometric", "n", n, 1)
    radius = _real("random_geometric", "radius", radius, 0.0, math.inf, open_low=True)
    dim = _int("random_geometric", "dim", dim, 1)
    n_in, n_out = _terminals("random_geometric", n, n_inputs, n_outputs)
    rng = np.random.default_rng(seed)

    def make() -> nx.Graph:
        pos = {i: tuple(float(c) for c in row) for i, row in enumerate(rng.random((n, dim)))}
        return nx.random_geometric_graph(n, radius, dim=dim, pos=pos)

    g = _draw("random_geometric", make, connected)
    order = sorted(g, key=lambda u: g.nodes[u]["pos"][0])
    return set_roles(g, order[:n_in], order[n - n_out :])


def orient_by_potential(graph: nx.Graph) -> nx.DiGraph:
    """Orient every edge from the lower to the higher node potential of a unit drive.

    Potentials: every edge 1 S, inputs at 1 V, outputs at 0 V, the other
    nodes by Kirchhoff's law (least squares where a floating part has no
    path to a terminal). Edge ``u -> v`` then has ``v(u) <= v(v)``: a
    positive pulse on the inputs puts a voltage ``<= 0`` on every device
    that carries current, the ON direction of VTEAM-like devices, as
    ``layered(..., orientation="backward")`` does for layered nets; this is
    the orientation the learning-from-mistakes controller of
    :mod:`memsim.learning` expects. Equipotential edges keep the graph's
    order. Every edge keeps its ``index`` attribute when all edges have one
    (the generators' numbering, which :class:`~memsim.circuit.network.Network`
    follows) and otherwise gets its position in ``graph.edges()``, so edge
    ``e`` of the result is edge ``e`` of the input either way.

    Parameters
    ----------
    graph : networkx.Graph or DiGraph
        Nodes carry ``role`` attributes (``input``, ``output``, ``bulk``);
        at least one input.

    Returns
    -------
    networkx.DiGraph

    Examples
    --------
    >>> g = orient_by_potential(crossbar(2, 2))
    >>> sorted(g.edges)[0]
    (('col', 0), ('row', 0))
    >>> set(orient_by_potential(layered([2, 3, 2])).edges) == set(layered([2, 3, 2], orientation="backward").edges)
    True
    """
    if not isinstance(graph, nx.Graph) or graph.is_multigraph():
        raise ValueError(f"orient_by_potential: graph must be a networkx Graph or DiGraph, got {type(graph).__name__}")
    nodes = list(graph.nodes)
    role = np.array([graph.nodes[n].get("role", "bulk") for n in nodes])
    if not np.any(role == "input"):
        raise ValueError("orient_by_potential: graph has no node with role 'input'")
    idx = {n: i for i, n in enumerate(nodes)}
    lap = nx.laplacian_matrix(graph.to_undirected(), nodelist=nodes).toarray().astype(float)
    fixed = (role == "input") | (role == "output")
    v = np.where(role == "input", 1.0, 0.0)
    free = ~fixed
    if free.any():
        a = lap[np.ix_(free, free)]
        b = -lap[np.ix_(free, fixed)] @ v[fixed]
        v[free] = np.linalg.lstsq(a, b, rcond=None)[0]
    out = nx.DiGraph()
    out.add_nodes_from(graph.nodes(data=True))
    edges = list(graph.edges(data=True))
    keep = bool(edges) and all("index" in d for _, _, d in edges)
    for k, (a_, b_, data) in enumerate(edges):
        u, w = (a_, b_) if v[idx[a_]] <= v[idx[b_]] else (b_, a_)
        out.add_edge(u, w, **{**data, "index": data["index"] if keep else k})
    return out
