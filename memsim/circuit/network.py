"""Network builder (mutable, on networkx) and its compiled, array-only form.

A :class:`Network` is a graph whose edges are devices (memristors or
resistors) and whose nodes carry a ``role``: ``"input"``, ``"output"`` or
``"bulk"``. :func:`compile_network` turns it into a frozen
:class:`CompiledNetwork` (incidence matrix, packed parameter arrays, roles)
that the solvers use; the time loop never touches networkx.

Ordering conventions (every result array follows them):

- node ``n`` is the ``n``-th node in insertion order (``Network.nodes``);
- edge ``e`` is the ``e``-th edge in insertion order (``Network.edges``) and is
  oriented ``u -> v`` as given: its voltage is ``v_u - v_v`` and its current
  flows from ``u`` to ``v``. When built from an undirected networkx graph the
  order and orientation are those of ``G.edges()``; use a ``DiGraph`` to fix
  orientations explicitly.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Literal, Union

import networkx as nx
import numpy as np

from memsim.devices.models import N_PARAMS, Device, Resistor, VTEAM

if TYPE_CHECKING:  # SciPy is imported where it is used (~0.13 s of every start-up otherwise)
    import scipy.sparse as sp

__all__ = ["Network", "CompiledNetwork", "compile_network", "Role", "ROLES"]

Role = Literal["input", "output", "bulk"]
#: Integer codes of node roles in :attr:`CompiledNetwork.roles`.
ROLES: dict[str, int] = {"bulk": 0, "input": 1, "output": 2}

StateSpec = Union[float, Sequence[float], np.ndarray, Literal["random"]]


@dataclass(frozen=True)
class Edge:
    """One device of a network, oriented ``u -> v``."""

    u: Hashable
    v: Hashable
    device: Device
    x0: float  # 1, initial state in [0, 1]


#: Edge attributes :meth:`Network.from_graph` reads.
EDGE_ATTRIBUTES = ("device", "resistance", "x0", "index")


class Network:
    """A memristive circuit under construction.

    Parameters
    ----------
    default_device : Device, optional
        Device used by :meth:`add_edge` when none is given (default
        :class:`~memsim.devices.models.VTEAM` with its published parameters).

    Examples
    --------
    >>> from memsim import Network, LinearIonDrift
    >>> net = Network(default_device=LinearIonDrift())
    >>> net.add_node("a", role="input"); net.add_node("b", role="output")
    >>> net.add_edge("a", "b", x0=0.5)
    0
    >>> net.n_nodes, net.n_edges
    (2, 1)
    """

    def __init__(self, default_device: Device | None = None) -> None:
        self.default_device: Device = default_device if default_device is not None else VTEAM()
        self._roles: dict[Hashable, str] = {}
        self._edges: list[Edge] = []

    # ------------------------------------------------------------------ building
    def add_node(self, name: Hashable, role: Role = "bulk") -> None:
        """Add a node (or change the role of an existing one)."""
        if role not in ROLES:
            raise ValueError(f"node {name!r}: role must be one of {sorted(ROLES)}, got {role!r}")
        self._roles[name] = role

    def add_edge(
        self,
        u: Hashable,
        v: Hashable,
        device: Device | None = None,
        x0: float = 0.5,
    ) -> int:
        """Add a device between ``u`` and ``v`` (oriented ``u -> v``); return its index.

        Unknown endpoints are added as ``bulk`` nodes.
        """
        if u == v:
            raise ValueError(f"edge ({u!r}, {v!r}): self-loops are not allowed")
        device = self.default_device if device is None else device
        if not isinstance(device, Device):
            raise TypeError(f"edge ({u!r}, {v!r}): device must be a memsim Device, got {device!r}")
        x0 = float(x0)
        if not (0.0 <= x0 <= 1.0) or not math.isfinite(x0):
            raise ValueError(f"edge ({u!r}, {v!r}): x0 must be in [0, 1], got {x0!r}")
        for n in (u, v):
            if n not in self._roles:
                self._roles[n] = "bulk"
        self._edges.append(Edge(u, v, device, x0))
        return len(self._edges) - 1

    def add_resistor(self, u: Hashable, v: Hashable, resistance: float) -> int:
        """Add a plain resistor (ohm) between ``u`` and ``v``; return its index."""
        return self.add_edge(u, v, Resistor(resistance), x0=0.0)

    @classmethod
    def from_graph(
        cls,
        graph: nx.Graph,
        device: Device | None = None,
        x0: StateSpec = 0.5,
        *,
        seed: int | np.random.Generator | None = None,
        unknown_attributes: Literal["error", "ignore"] = "error",
    ) -> "Network":
        """Build a network from any networkx graph.

        Node attribute ``role`` (default ``"bulk"``) gives the role. Edge
        attributes override the defaults per edge: ``device`` (a
        :class:`~memsim.devices.models.Device`), ``resistance`` (ohm, makes a
        :class:`~memsim.devices.models.Resistor`) and ``x0``. If every edge
        has an integer attribute ``index``, edges are numbered in that order
        (networkx itself lists edges grouped by source node, not in insertion
        order); otherwise in ``G.edges()`` order. Any other edge attribute is
        an error (a graph using ``r=`` for ``resistance`` would otherwise
        silently become all memristors) unless ``unknown_attributes="ignore"``.

        Parameters
        ----------
        graph : networkx.Graph, DiGraph, MultiGraph or MultiDiGraph
        device : Device, optional
            Device of edges without a ``device``/``resistance`` attribute.
        x0 : float, array of length M, or ``"random"``
            Initial states of the memristors; ``"random"`` draws them uniformly
            in ``[0, 1)`` with ``seed``.
        seed : int or numpy Generator, optional
            Used only when ``x0 == "random"``.
        unknown_attributes : {"error", "ignore"}
            What to do with edge attributes other than ``device``,
            ``resistance``, ``x0`` and ``index`` (e.g. a ``weight`` used by
            another tool): raise ``ValueError`` listing them, or ignore them.

        Examples
        --------
        >>> import networkx as nx
        >>> g = nx.path_graph(3); g.nodes[0]["role"] = "input"; g.nodes[2]["role"] = "output"
        >>> Network.from_graph(g, x0="random", seed=1).n_edges
        2
        """
        net = cls(default_device=device)
        for n, data in graph.nodes(data=True):
            net.add_node(n, data.get("role", "bulk"))
        if graph.is_multigraph():
            edge_iter = [(u, v, d) for u, v, _, d in graph.edges(keys=True, data=True)]
        else:
            edge_iter = list(graph.edges(data=True))
        if unknown_attributes not in ("error", "ignore"):
            raise ValueError(f"unknown_attributes must be 'error' or 'ignore', got {unknown_attributes!r}")
        if unknown_attributes == "error":
            extra = sorted({str(k) for _, _, d in edge_iter for k in d} - set(EDGE_ATTRIBUTES))
            if extra:
                raise ValueError(f"edge attribute(s) {', '.join(map(repr, extra))} are not memsim's (known: "
                                 f"{', '.join(EDGE_ATTRIBUTES)}; a wire or resistor is 'resistance' in ohm); rename "
                                 "them or pass unknown_attributes='ignore'")
        if edge_iter and all("index" in d for _, _, d in edge_iter):
            edge_iter.sort(key=lambda e: e[2]["index"])
        m = len(edge_iter)
        if isinstance(x0, str):
            if x0 != "random":
                raise ValueError(f"x0 must be a number, an array or 'random', got {x0!r}")
            states = np.random.default_rng(seed).random(m)
        else:
            states = np.broadcast_to(np.asarray(x0, dtype=float), (m,)) if np.ndim(x0) == 0 else np.asarray(x0, dtype=float)
            if states.shape != (m,):
                raise ValueError(f"x0 must be a scalar or have length {m} (one per edge), got shape {states.shape}")
        for e, (u, v, data) in enumerate(edge_iter):
            dev = data.get("device")
            if dev is None and "resistance" in data:
                dev = Resistor(float(data["resistance"]))
            xe = data.get("x0", states[e])
            if dev is not None and not dev.dynamic:
                xe = 0.0
            net.add_edge(u, v, dev, x0=xe)
        return net

    # ------------------------------------------------------------------ queries
    @property
    def nodes(self) -> list[Hashable]:
        """Node names in index order."""
        return list(self._roles)

    @property
    def edges(self) -> list[Edge]:
        """Edges in index order."""
        return list(self._edges)

    @property
    def n_nodes(self) -> int:
        return len(self._roles)

    @property
    def n_edges(self) -> int:
        return len(self._edges)

    def nodes_with_role(self, role: Role) -> list[Hashable]:
        """Names of the nodes with the given role, in index order."""
        return [n for n, r in self._roles.items() if r == role]

    @property
    def inputs(self) -> list[Hashable]:
        return self.nodes_with_role("input")

    @property
    def outputs(self) -> list[Hashable]:
        return self.nodes_with_role("output")

    def to_networkx(self) -> nx.MultiDiGraph:
        """A networkx MultiDiGraph copy (keys are edge indices)."""
        g = nx.MultiDiGraph()
        for n, r in self._roles.items():
            g.add_node(n, role=r)
        for e, edge in enumerate(self._edges):
            g.add_edge(edge.u, edge.v, key=e, index=e, device=edge.device, x0=edge.x0)
        return g

    def compile(self, *, leak: float | Mapping[Hashable, float] = 0.0) -> "CompiledNetwork":
        """Shorthand for :func:`compile_network`."""
        return compile_network(self, leak=leak)

    def __repr__(self) -> str:
        counts = {r: len(self.nodes_with_role(r)) for r in ("input", "output", "bulk")}
        return (
            f"Network({self.n_nodes} nodes: {counts['input']} input, {counts['output']} output, "
            f"{counts['bulk']} bulk; {self.n_edges} edges)"
        )


def _readonly(a: np.ndarray) -> np.ndarray:
    a = np.ascontiguousarray(a)
    a.setflags(write=False)
    return a


@dataclass(frozen=True, eq=False)
class CompiledNetwork:
    """Frozen, array-only form of a :class:`Network` (all arrays read-only).

    Attributes
    ----------
    node_names : tuple of node names, index order.
    node_index : read-only mapping name -> index.
    roles : (N,) int8 role codes (:data:`ROLES`).
    edge_u, edge_v : (M,) int64 endpoint indices; edge ``e`` is ``u -> v``.
    model : (M,) int64 device model codes.
    params : (M, P) packed device parameters.
    x0 : (M,) initial states.
    leak : (N,) leak conductance of each node to ground (S).
    devices : tuple of the M device objects (for export and display).
    """

    node_names: tuple
    node_index: Mapping[Hashable, int]
    roles: np.ndarray
    edge_u: np.ndarray
    edge_v: np.ndarray
    model: np.ndarray
    params: np.ndarray
    x0: np.ndarray
    leak: np.ndarray
    devices: tuple = field(repr=False)

    @property
    def n_nodes(self) -> int:
        return len(self.node_names)

    @property
    def n_edges(self) -> int:
        return int(self.edge_u.shape[0])

    @property
    def inputs(self) -> np.ndarray:
        """Indices of input nodes."""
        return np.flatnonzero(self.roles == ROLES["input"])

    @property
    def outputs(self) -> np.ndarray:
        """Indices of output nodes."""
        return np.flatnonzero(self.roles == ROLES["output"])

    @property
    def dynamic(self) -> np.ndarray:
        """(M,) bool: edges whose state evolves (memristors)."""
        return self.model != 0

    @property
    def incidence(self) -> sp.csr_matrix:
        """Oriented incidence matrix ``B`` (N x M): ``B[u, e] = +1``, ``B[v, e] = -1``."""
        import scipy.sparse as sp

        m = self.n_edges
        cols = np.concatenate([np.arange(m), np.arange(m)])
        rows = np.concatenate([self.edge_u, self.edge_v])
        vals = np.concatenate([np.ones(m), -np.ones(m)])
        return sp.csr_matrix((vals, (rows, cols)), shape=(self.n_nodes, m))

    def index_of(self, names: Sequence[Hashable], what: str = "node") -> np.ndarray:
        """Indices of the given node names; unknown names raise ``KeyError`` naming them."""
        missing = [n for n in names if n not in self.node_index]
        if missing:
            raise KeyError(f"unknown {what} name(s): {missing!r}")
        return np.array([self.node_index[n] for n in names], dtype=np.int64)


def compile_network(
    network: Network, *, leak: float | Mapping[Hashable, float] = 0.0
) -> CompiledNetwork:
    """Compile a :class:`Network` into a frozen :class:`CompiledNetwork`.

    Parameters
    ----------
    network : Network
    leak : float or mapping node -> float, optional
        Leak conductance (S) from each node to ground, modelling parasitics.

    Raises
    ------
    ValueError
        If the network has no edges, no input node, or a negative/non-finite leak.

    Examples
    --------
    >>> from memsim import layered, Network
    >>> c = Network.from_graph(layered([2, 4, 2])).compile()
    >>> c.incidence.shape
    (8, 16)
    """
    if network.n_edges == 0:
        raise ValueError("network has no edges")
    if not network.inputs:
        raise ValueError("network has no node with role 'input'")
    names = tuple(network.nodes)
    index = {n: i for i, n in enumerate(names)}
    roles = np.array([ROLES[network._roles[n]] for n in names], dtype=np.int8)
    edges = network.edges
    edge_u = np.array([index[e.u] for e in edges], dtype=np.int64)
    edge_v = np.array([index[e.v] for e in edges], dtype=np.int64)
    model = np.array([e.device.model_id for e in edges], dtype=np.int64)
    params = np.array([e.device.pack() for e in edges], dtype=float).reshape(len(edges), N_PARAMS)
    x0 = np.array([e.x0 for e in edges], dtype=float)
    leak_arr = np.zeros(len(names))
    if isinstance(leak, Mapping):
        for n, g in leak.items():
            if n not in index:
                raise KeyError(f"leak: unknown node {n!r}")
            leak_arr[index[n]] = g
    else:
        leak_arr[:] = leak
    if not np.all(np.isfinite(leak_arr)) or np.any(leak_arr < 0):
        raise ValueError("leak conductances must be finite and >= 0")
    return CompiledNetwork(
        node_names=names,
        node_index=MappingProxyType(index),
        roles=_readonly(roles),
        edge_u=_readonly(edge_u),
        edge_v=_readonly(edge_v),
        model=_readonly(model),
        params=_readonly(params),
        x0=_readonly(x0),
        leak=_readonly(leak_arr),
        devices=tuple(e.device for e in edges),
    )
