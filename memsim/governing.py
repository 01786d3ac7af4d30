r"""Closed-form dynamics of a network of Caravelli–Traversa–Di Ventra memristors.

For a graph with ``N`` nodes, ``M`` edges and oriented incidence matrix ``B``
(``N x M``, ``B[u, e] = +1``, ``B[v, e] = -1`` for edge ``e = u -> v``), the
*cycle space* is the null space of ``B`` (edge flows obeying Kirchhoff's
current law at every node) and the *cut space* is its orthogonal complement,
the range of ``B^T`` (edge voltages that derive from node potentials). ``Omega``
is the orthogonal projector on the cycle space and ``I - Omega`` the one on the
cut space.

Each edge holds a device with ``R(x) = r_off (1 - x) + r_on x
= r_off (1 - chi x)``, ``chi = (r_off - r_on) / r_off``, and
``dx/dt = (r_off / beta) i - alpha x``, in series with an EMF ``s_e`` that
aids the ``u -> v`` direction (the convention of
:func:`memsim.solve.nodal.solve_nodal`'s ``edge_emf``): the edge current is
``i = (v_u - v_v + s) / R``, i.e. ``R i = B^T v + s``. The network has no other
sources (nodes float; grounding one node per connected component changes
nothing, no leak to ground), so ``B i = 0`` and ``Omega i = i``. Projecting
with ``Omega`` (``Omega B^T = 0``) removes the unknown node potentials::

    Omega R i = r_off (I - chi Omega X) i = Omega s,    X = diag(x),
    i = (1 / r_off) (I - chi Omega X)^(-1) Omega s,
    dx/dt = -alpha x + (1 / beta) (I - chi Omega X)^(-1) Omega s.

(The papers write the edge voltage as ``S - R i``; the sign of the ``B^T v``
term is immaterial since ``Omega`` removes it.) For ``x`` in ``[0, 1]``,
``||chi Omega X||_2 <= chi < 1``, so ``I - chi Omega X`` is invertible with
2-norm condition number at most ``(1 + chi) / (1 - chi)`` (199 for
``r_off / r_on = 100``). Only potential differences around cycles drive
current: an EMF that is a gradient, ``s = B^T phi``, gives ``i = 0``.

References
----------
F. Caravelli, F. L. Traversa and M. Di Ventra, "Complex dynamics of memristive
circuits: Analytical results and universal slow relaxation", Phys. Rev. E 95,
022140 (2017).
F. Caravelli and J. P. Carbajal, "Memristors for the curious outsiders",
Technologies 6, 118 (2018).

Examples
--------
>>> import numpy as np
>>> from memsim import Network, CaravelliTraversaDiVentra
>>> net = Network(default_device=CaravelliTraversaDiVentra(r_on=1.0, r_off=100.0))
>>> net.add_node("a", role="input")
>>> for u, v in [("a", "b"), ("b", "c"), ("c", "a")]:
...     _ = net.add_edge(u, v, x0=0.0)
>>> c = net.compile()
>>> i = currents(c, np.zeros(3), np.array([3.0, 0.0, 0.0]))  # 3 V around a 300-ohm loop
>>> np.round(i, 12)
array([0.01, 0.01, 0.01])
"""

from __future__ import annotations

from typing import TypeAlias

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp
from scipy.sparse import csgraph

from memsim.circuit.network import CompiledNetwork, Network
from memsim.devices.models import MODEL_CTDV

__all__ = ["currents", "cut_projector", "cycle_projector", "rate"]

NetworkLike: TypeAlias = (
    CompiledNetwork | Network | np.ndarray | sp.spmatrix | sp.sparray
)


def _incidence(obj: NetworkLike) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Dense incidence ``B`` and edge endpoints ``(B, u, v, n_nodes)``; validates a raw matrix."""
    if isinstance(obj, Network):  # no input node needed here, unlike compile_network
        index = {n: k for k, n in enumerate(obj.nodes)}
        u = np.array([index[e.u] for e in obj.edges], dtype=np.int64)
        v = np.array([index[e.v] for e in obj.edges], dtype=np.int64)
        n = obj.n_nodes
    elif isinstance(obj, CompiledNetwork):
        u, v, n = np.asarray(obj.edge_u), np.asarray(obj.edge_v), obj.n_nodes
    else:
        b = sp.csr_array(obj).toarray() if sp.issparse(obj) else np.asarray(obj, float)
        if b.ndim != 2:
            raise ValueError(f"incidence matrix must be 2-D (N x M), got {b.shape}")
        ok = (
            np.all((b == 0) | (b == 1) | (b == -1))
            and np.all((b == 1).sum(axis=0) == 1)
            and np.all((b == -1).sum(axis=0) == 1)
        )
        if not ok:
            raise ValueError(
                "not an oriented incidence matrix: each column must hold exactly one +1, "
                "one -1 and zeros elsewhere"
            )
        n = b.shape[0]
        u, v = np.argmax(b, axis=0), np.argmin(b, axis=0)
    m = u.size
    b = np.zeros((n, m))
    b[u, np.arange(m)] = 1.0
    b[v, np.arange(m)] = -1.0
    return b, u, v, n


def cycle_projector(network_or_incidence: NetworkLike) -> np.ndarray:
    """Orthogonal projector ``Omega`` (M x M) on the cycle space (null space of ``B``).

    Method: the rank of ``B`` is known exactly, ``r = N - c`` with ``c`` the
    number of connected components (isolated nodes included), found by graph
    search rather than by a singular-value threshold. A full SVD
    ``B = U S V^T`` then gives an orthonormal null-space basis ``Q`` (the last
    ``M - r`` rows of ``V^T``, as ``scipy.linalg.null_space`` does, but with no
    rank tolerance) and ``Omega = Q Q^T``. This handles disconnected graphs and
    needs no pseudo-inverse of the singular Laplacian ``B B^T``; the error is
    about ``eps * ||B|| / s_min`` (``s_min`` the smallest non-zero singular
    value), ~1e-14 on small graphs. ``Omega`` is dense: ``O(M^2)`` memory,
    ``O(M^3)`` time.

    Properties: ``Omega`` is symmetric and idempotent, ``B Omega = 0``, its rank
    (and trace) is ``M - N + c`` (the cyclomatic number), ``Omega`` of a tree or
    forest is exactly 0, and ``Omega + cut_projector(...) = I``.

    Parameters
    ----------
    network_or_incidence : CompiledNetwork, Network, or (N, M) array / sparse matrix
        A raw matrix must be an oriented incidence matrix (one ``+1`` and one
        ``-1`` per column), otherwise ``ValueError``.

    Returns
    -------
    (M, M) ndarray

    Examples
    --------
    >>> import numpy as np
    >>> b = np.array([[1, 0, -1], [-1, 1, 0], [0, -1, 1]])  # triangle 0->1->2->0
    >>> np.round(cycle_projector(b) * 3, 12)
    array([[1., 1., 1.],
           [1., 1., 1.],
           [1., 1., 1.]])
    >>> bool(cycle_projector(b[:, :2]).any())  # a path (tree): no cycles
    False
    """
    b, u, v, n = _incidence(network_or_incidence)
    m = u.size
    adj = sp.coo_matrix((np.ones(m), (u, v)), shape=(n, n))
    n_comp = csgraph.connected_components(adj, directed=False)[0] if n else 0
    rank = n - n_comp
    if m == rank:  # forest: empty cycle space
        return np.zeros((m, m))
    _, _, vt = sla.svd(b, full_matrices=True, lapack_driver="gesvd")
    q = vt[rank:]
    return q.T @ q


def cut_projector(network_or_incidence: NetworkLike) -> np.ndarray:
    """Orthogonal projector ``I - Omega`` (M x M) on the cut space (range of ``B^T``).

    Examples
    --------
    >>> import numpy as np
    >>> b = np.array([[1, 0], [-1, 1], [0, -1]])  # path 0->1->2
    >>> cut_projector(b)
    array([[1., 0.],
           [0., 1.]])
    """
    omega = cycle_projector(network_or_incidence)
    return np.eye(omega.shape[0]) - omega


def _ctdv_params(network: CompiledNetwork | Network, uniform: int) -> tuple[float, ...]:
    """``(r_on, r_off, alpha, beta)``; the first ``uniform`` must be shared by all edges."""
    if isinstance(network, Network):
        network = network.compile()
    if not isinstance(network, CompiledNetwork):
        raise TypeError(f"expected a (Compiled)Network, got {type(network).__name__}")
    bad = np.flatnonzero(np.asarray(network.model) != MODEL_CTDV)
    if bad.size:
        raise ValueError(
            f"the closed form needs a CaravelliTraversaDiVentra device on every edge; "
            f"edge(s) {bad[:10].tolist()} have another model"
        )
    if np.any(np.asarray(network.leak) != 0):
        raise ValueError("the closed form assumes no leak conductance to ground")
    params = np.asarray(network.params)
    values = []
    for k, name in enumerate(("r_on", "r_off", "alpha", "beta")[:uniform]):
        col = params[:, k]
        if np.any(col != col[0]):
            raise ValueError(
                f"the closed form needs the same {name} on every edge; got values from "
                f"{col.min()!r} to {col.max()!r}"
            )
        values.append(float(col[0]))
    return tuple(values)


def _states(network: CompiledNetwork | Network, x: np.ndarray, s: np.ndarray) -> tuple:
    m = network.n_edges
    x = np.asarray(x, dtype=float)
    s = np.asarray(s, dtype=float)
    for name, a in (("x", x), ("s", s)):
        if a.ndim not in (1, 2) or a.shape[-1] != m:
            raise ValueError(
                f"{name} must have shape ({m},) or (K, {m}), got {a.shape}"
            )
        if not np.all(np.isfinite(a)):
            raise ValueError(f"{name} must be finite")
    try:
        shape = np.broadcast_shapes(x.shape, s.shape)
    except ValueError:
        raise ValueError(
            f"x and s ensemble sizes differ: shapes {x.shape} and {s.shape}"
        ) from None
    return x, s, shape


def currents(
    network: CompiledNetwork | Network, x: np.ndarray, s: np.ndarray
) -> np.ndarray:
    """Edge currents ``i = (1/r_off) (I - chi Omega X)^(-1) Omega s`` (A), ``u -> v``.

    Every edge must hold a :class:`~memsim.devices.models.CaravelliTraversaDiVentra`
    device with the same ``r_on`` and ``r_off`` and the network must have no
    leak; the only sources are the series EMFs ``s`` (aiding ``u -> v``).

    Parameters
    ----------
    network : CompiledNetwork or Network
    x : (M,) or (K, M) device states (in ``[0, 1]`` for a guaranteed
        well-conditioned solve).
    s : (M,) or (K, M) series EMFs (V); broadcast against ``x``.

    Returns
    -------
    ndarray of the broadcast shape of ``x`` and ``s``.

    Raises
    ------
    ValueError
        Another device model, non-uniform ``r_on``/``r_off``, a leak, or bad shapes.

    Examples
    --------
    >>> import numpy as np
    >>> from memsim import Network, CaravelliTraversaDiVentra
    >>> net = Network(default_device=CaravelliTraversaDiVentra())  # r_on 1, r_off 100
    >>> net.add_node(0, role="input")
    >>> for u, v in [(0, 1), (1, 0)]:  # two devices in a loop
    ...     _ = net.add_edge(u, v)
    >>> x = np.array([[0.0, 0.0], [1.0, 1.0]])  # K = 2 ensemble members
    >>> np.round(currents(net, x, np.array([2.0, 0.0])), 12)
    array([[0.01, 0.01],
           [1.  , 1.  ]])
    """
    r_on, r_off = _ctdv_params(network, 2)
    x, s, shape = _states(network, x, s)
    m = shape[-1]
    chi = (r_off - r_on) / r_off
    omega = cycle_projector(network)
    xb = np.broadcast_to(x, shape).reshape(-1, m)
    rhs = np.broadcast_to(s, shape).reshape(-1, m) @ omega  # Omega symmetric
    a = np.eye(m) - chi * omega[None, :, :] * xb[:, None, :]  # I - chi Omega diag(x)
    i = np.linalg.solve(a, rhs[:, :, None])[:, :, 0] / r_off
    return i.reshape(shape)


def rate(
    network: CompiledNetwork | Network, x: np.ndarray, s: np.ndarray
) -> np.ndarray:
    """State derivative ``dx/dt = -alpha x + (1/beta) (I - chi Omega X)^(-1) Omega s`` (1/s).

    Equal to ``-alpha x + (r_off / beta) * currents(network, x, s)``; ``alpha``
    and ``beta`` (like ``r_on``, ``r_off``) must be the same on every edge.
    No clipping to ``[0, 1]`` is applied (see
    :func:`memsim.devices.functions.bound_rate`).

    Parameters
    ----------
    network : CompiledNetwork or Network
    x, s : (M,) or (K, M) states and series EMFs (V), as in :func:`currents`.

    Examples
    --------
    >>> import numpy as np
    >>> from memsim import Network, CaravelliTraversaDiVentra
    >>> net = Network(default_device=CaravelliTraversaDiVentra(alpha=0.5, beta=10.0))
    >>> net.add_node(0, role="input")
    >>> _ = net.add_edge(0, 1); _ = net.add_edge(1, 0)
    >>> np.round(rate(net, np.array([0.0, 1.0]), np.array([1.01, 0.0])), 12)
    array([ 0.1, -0.4])
    """
    _, r_off, alpha, beta = _ctdv_params(network, 4)
    x, s, shape = _states(network, x, s)
    return -alpha * np.broadcast_to(x, shape) + (r_off / beta) * currents(network, x, s)
