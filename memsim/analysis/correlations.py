"""How strongly the changes of distant devices co-vary.

Three views, each an ``M x M`` correlation matrix of the edges:

- :func:`omega_correlations`, from the governing equation: with independent
  random series sources ``s`` (covariance ``I``) and small ``chi``, the
  currents are ``i ~ Omega s / R_off``, so ``Cov(i) ~ Omega Omega^T = Omega``
  and devices correlate as ``Omega_ef / sqrt(Omega_ee Omega_ff)``
  (Caravelli, Traversa & Di Ventra 2017).
- :func:`response_correlations`, for node-driven circuits: with independent
  random node current injections, the edge voltages are ``B^T L^+ j`` and
  ``Cov(dv) = B^T (L^+)^2 B``; the diagonal of ``B^T L^+ B`` holds the
  effective resistances of the edges, and its off-diagonal entries the
  transfer resistances between edges.
- :func:`measured_correlations`, from a recorded trajectory (e.g. a training
  history): the correlation of the state increments of the devices.

:func:`distance_decay` summarises any of them by the mean absolute
correlation against the distance between edges (shortest path in the line
graph).
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx
import numpy as np

from memsim.circuit.network import CompiledNetwork, Network
from memsim.devices import functions as fn
from memsim.governing import cycle_projector
from memsim.solve.nodal import laplacian

__all__ = [
    "omega_correlations",
    "response_correlations",
    "measured_correlations",
    "edge_distances",
    "distance_decay",
    "DistanceDecay",
]


def _compiled(network) -> CompiledNetwork:
    return network.compile() if isinstance(network, Network) else network


def _normalise(cov: np.ndarray) -> np.ndarray:
    d = np.sqrt(np.clip(np.diag(cov), 0.0, None))
    with np.errstate(invalid="ignore", divide="ignore"):
        c = cov / np.outer(d, d)
    c[~np.isfinite(c)] = 0.0
    return c


def omega_correlations(network: Network | CompiledNetwork) -> np.ndarray:
    """``Omega_ef / sqrt(Omega_ee Omega_ff)``; zero rows for edges on no cycle.

    Examples
    --------
    >>> import networkx as nx
    >>> from memsim import Network, LinearIonDrift
    >>> g = nx.cycle_graph(3); g.nodes[0]["role"] = "input"
    >>> np.round(omega_correlations(Network.from_graph(g, LinearIonDrift())), 6)
    array([[ 1., -1.,  1.],
           [-1.,  1., -1.],
           [ 1., -1.,  1.]])
    """
    return _normalise(cycle_projector(_compiled(network)))


def response_correlations(network: Network | CompiledNetwork, x: np.ndarray | None = None) -> np.ndarray:
    """Correlations of edge voltages under independent random node injections.

    ``Cov(dv) = B^T (L^+)^2 B`` with ``L`` the weighted Laplacian at states
    ``x`` (default: the network's ``x0``).
    """
    net = _compiled(network)
    x = net.x0 if x is None else np.asarray(x, dtype=float)
    g = fn.conductance(net.model, net.params, x)
    lp = np.linalg.pinv(laplacian(net, g).toarray(), hermitian=True)
    bt = net.incidence.T.toarray()
    t = bt @ lp
    return _normalise(t @ t.T)


def measured_correlations(states: np.ndarray) -> np.ndarray:
    """Correlation matrix of the increments of a recorded state trajectory ``(T, M)``.

    Devices that never move get zero correlation with every other device.

    Examples
    --------
    >>> x = np.array([[0.0, 0.0, 0.5], [1.0, 2.0, 0.5], [0.0, 0.0, 0.5]])
    >>> measured_correlations(x)
    array([[1., 1., 0.],
           [1., 1., 0.],
           [0., 0., 0.]])
    """
    states = np.asarray(states, dtype=float)
    if states.ndim != 2 or states.shape[0] < 3:
        raise ValueError(f"states must be a (T, M) trajectory with T >= 3, got shape {states.shape}")
    d = np.diff(states, axis=0)
    d = d - d.mean(axis=0)
    return _normalise(d.T @ d)


def edge_distances(network: Network | CompiledNetwork) -> np.ndarray:
    """Shortest-path distance between edges in the line graph (adjacent edges: 1).

    Unreachable pairs get ``-1``.
    """
    net = _compiled(network)
    m = net.n_edges
    lg = nx.Graph()
    lg.add_nodes_from(range(m))
    by_node: dict[int, list[int]] = {}
    for e, (u, v) in enumerate(zip(net.edge_u, net.edge_v)):
        by_node.setdefault(int(u), []).append(e)
        by_node.setdefault(int(v), []).append(e)
    for edges in by_node.values():
        lg.add_edges_from((a, b) for i, a in enumerate(edges) for b in edges[i + 1:])
    out = np.full((m, m), -1, dtype=np.int64)
    for src, lengths in nx.all_pairs_shortest_path_length(lg):
        for dst, d in lengths.items():
            out[src, dst] = d
    return out


@dataclass(frozen=True)
class DistanceDecay:
    """Mean absolute correlation against edge distance.

    ``distance`` (K,), ``mean_abs`` (K,), ``pairs`` (K,) counts, and
    ``length``, the distance at which ``mean_abs`` first falls below
    ``1/e`` of its value at distance 1 (NaN if it never does).
    """

    distance: np.ndarray
    mean_abs: np.ndarray
    pairs: np.ndarray
    length: float


def distance_decay(corr: np.ndarray, network: Network | CompiledNetwork) -> DistanceDecay:
    """Summarise a correlation matrix by its decay with edge distance.

    Examples
    --------
    >>> from memsim import layered, Network
    >>> net = Network.from_graph(layered([2, 2, 2]))
    >>> distance_decay(np.eye(8), net).mean_abs.tolist()
    [0.0, 0.0]
    """
    dist = edge_distances(network)
    corr = np.asarray(corr, dtype=float)
    if corr.shape != dist.shape:
        raise ValueError(f"corr must have shape {dist.shape}, got {corr.shape}")
    iu = np.triu_indices_from(dist, k=1)
    d, c = dist[iu], np.abs(corr[iu])
    keep = d > 0
    ds = np.unique(d[keep])
    mean = np.array([c[keep & (d == k)].mean() for k in ds])
    pairs = np.array([int(np.sum(keep & (d == k))) for k in ds])
    length = float("nan")
    if mean.size and mean[0] > 0:
        below = np.flatnonzero(mean < mean[0] / np.e)
        if below.size:
            length = float(ds[below[0]])
    return DistanceDecay(ds, mean, pairs, length)
