"""Sparse nodal solves for large networks, reusing structure across steps.

Within a segment the sparsity pattern of the reduced Laplacian ``L_FF`` never
changes, so :class:`SparseElectrical` builds the pattern and a scatter map
once, assembles each step by scattering conductances into it, and keeps one
:class:`~memsim.solve.factor.SparseSPDFactor` (symbolic analysis done once).
When only a few devices changed conductance since the last numeric
factorisation (threshold devices below threshold do not move), the solve
uses the Woodbury identity on the old factor instead of refactorising,
and when many changed a little (slow drift) it solves by conjugate
gradients preconditioned by the old factor, refactorising only when that
stops converging fast::

    A = A0 + U C U^T,  C = diag(dg),  U[:, j] = e_{u_j} - e_{v_j}
    A^-1 b = y - Z (I + C U^T Z)^-1 C U^T y,   y = A0^-1 b,  Z = A0^-1 U.

:class:`SparseElectrical` runs in NumPy around CHOLMOD or SuperLU; the
fixed-step methods use the same rules compiled (:mod:`memsim.solve.sparse_step`,
on the index arrays of :func:`nodal_system`), with this class as their twin.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from memsim.solve.kernels import SLOT_DRIVEN, SLOT_ISLAND, device_conductance

if TYPE_CHECKING:  # SciPy (and the factor module) are imported where they are used
    import scipy.sparse as sp

__all__ = ["SparseElectrical", "SolveStats", "REFINE_TOL", "NodalSystem", "nodal_system"]

#: The preconditioned iteration stops when the estimated error (the
#: preconditioned residual) is below this fraction of the solution's largest
#: entry (about 4500 ulp of double precision).
REFINE_TOL = 1e-12


class NodalSystem(NamedTuple):
    """Index arrays assembling the reduced system ``L_FF v_F = b`` of one configuration.

    Built once per segment by :func:`nodal_system`; each step scatters
    conductances through them (NumPy in :class:`SparseElectrical`, numba in
    :mod:`memsim.solve.sparse_step`).
    """

    island_edge: np.ndarray  #: (M,) bool, edges between two floating-island nodes (no voltage)
    free_nodes: np.ndarray  #: (F,) node index of each free slot (slot j is free_nodes[j])
    ent_edge: np.ndarray  #: (E,) edge of each off-diagonal/diagonal conductance entry
    ent_sign: np.ndarray  #: (E,) +1 (diagonal) or -1 (off-diagonal)
    leak_vals: np.ndarray  #: (F,) leak conductance (S) on each free node's diagonal
    pos: np.ndarray  #: (E + F,) position in the CSC data of each entry, then of each leak
    indptr: np.ndarray  #: (F + 1,) CSC column pointers of the pattern (int64)
    indices: np.ndarray  #: (nnz,) CSC row indices, sorted within columns (int64)
    nnz: int  #: stored entries of the pattern
    rhs_edge: np.ndarray  #: edges from a free node to a driven one
    rhs_row: np.ndarray  #: the free slot of each
    rhs_node: np.ndarray  #: the driven node of each
    sys_edge: np.ndarray  #: live edges touching a free node (those a Woodbury update may concern)


def nodal_system(open_, edge_u, edge_v, leak, slot, n_free) -> NodalSystem:
    """Build the :class:`NodalSystem` of node slots ``slot`` and open edges ``open_``.

    Examples
    --------
    >>> import numpy as np
    >>> slot = np.array([SLOT_DRIVEN, 0, SLOT_DRIVEN])  # a - b - c, b free
    >>> s = nodal_system(np.zeros(2, bool), np.array([0, 1]), np.array([1, 2]), np.zeros(3), slot, 1)
    >>> s.nnz, s.rhs_edge.tolist(), s.rhs_node.tolist()
    (1, [1, 0], [2, 0])
    """
    from memsim.solve.factor import csc_scatter_map

    su = slot[edge_u]
    sv = slot[edge_v]
    live = ~open_
    island_edge = (su == SLOT_ISLAND) & (sv == SLOT_ISLAND)
    both = live & (su >= 0) & (sv >= 0)
    only_u = live & (su >= 0) & (sv < 0)
    only_v = live & (sv >= 0) & (su < 0)
    eb, eu, ev = np.flatnonzero(both), np.flatnonzero(only_u), np.flatnonzero(only_v)
    free_nodes = np.flatnonzero(slot >= 0)
    rows = np.concatenate([su[eb], sv[eb], su[eb], sv[eb], su[eu], sv[ev], slot[free_nodes]])
    cols = np.concatenate([su[eb], sv[eb], sv[eb], su[eb], su[eu], sv[ev], slot[free_nodes]])
    ent_edge = np.concatenate([eb, eb, eb, eb, eu, ev])
    ent_sign = np.concatenate([np.ones(2 * eb.size), -np.ones(2 * eb.size), np.ones(eu.size + ev.size)])
    n_free = int(n_free)
    if n_free:
        pattern, pos = csc_scatter_map(rows, cols, n_free)
        indptr, indices, nnz = pattern.indptr.astype(np.int64), pattern.indices.astype(np.int64), pattern.nnz
    else:
        pos, indptr, indices, nnz = np.zeros(0, np.intp), np.zeros(1, np.int64), np.zeros(0, np.int64), 0
    # right-hand side: driven neighbours of free nodes
    du = live & (su >= 0) & (sv == SLOT_DRIVEN)
    dv_ = live & (sv >= 0) & (su == SLOT_DRIVEN)
    return NodalSystem(
        island_edge=island_edge, free_nodes=free_nodes, ent_edge=ent_edge, ent_sign=ent_sign,
        leak_vals=np.asarray(leak[free_nodes], dtype=float), pos=pos, indptr=indptr, indices=indices, nnz=int(nnz),
        rhs_edge=np.concatenate([np.flatnonzero(du), np.flatnonzero(dv_)]),
        rhs_row=np.concatenate([su[du], sv[dv_]]),
        rhs_node=np.concatenate([edge_v[du], edge_u[dv_]]),
        # Woodbury columns: every edge that touches a free node
        sys_edge=np.flatnonzero(live & ((su >= 0) | (sv >= 0))),
    )


class SolveStats:
    """Counters of the linear-algebra work of a run (mutable, owned by one run)."""

    def __init__(self) -> None:
        self.solves = 0
        self.factorizations = 0
        self.low_rank_updates = 0
        self.refinements = 0
        self.rhs_evaluations = 0

    def as_dict(self) -> dict[str, int]:
        return dict(vars(self))


class SparseElectrical:
    """Electrical solve of one copy of a network for one segment configuration.

    Parameters
    ----------
    model, params : (M,), (M, P) device codes and packed parameters.
    open_ : (M,) bool open (pruned) edges.
    edge_u, edge_v, leak : network arrays.
    slot : (N,) node slots (see :mod:`memsim.solve.kernels`).
    n_free : number of free (solved-for) nodes.
    driven : (D,) driven node indices.
    low_rank_max : largest number of changed devices handled by a Woodbury
        update before refactorising (0 disables updates).
    refine_max : when more devices changed, at most this many passes of
        iterative refinement on the last factorisation before refactorising
        (0: always refactorise).
    backend : factorisation backend, see :class:`SparseSPDFactor`.
    stats : shared :class:`SolveStats`.
    """

    def __init__(self, model, params, open_, edge_u, edge_v, leak, slot, n_free, driven,
                 *, low_rank_max: int = 16, refine_max: int = 10, backend: str = "auto",
                 stats: SolveStats | None = None):
        import scipy.sparse as sp

        from memsim.solve.factor import SparseSPDFactor

        self.model = model
        self.params = params
        self.open_ = open_
        self.edge_u = edge_u
        self.edge_v = edge_v
        self.slot = slot
        self.n_free = int(n_free)
        self.driven = driven
        self.low_rank_max = int(low_rank_max)
        self.stats = stats if stats is not None else SolveStats()
        sys_ = nodal_system(open_, edge_u, edge_v, leak, slot, self.n_free)
        self.island_edge = sys_.island_edge
        self.free_nodes = sys_.free_nodes
        self._ent_edge, self._ent_sign, self._leak_vals = sys_.ent_edge, sys_.ent_sign, sys_.leak_vals
        self.factor = None
        if self.n_free:
            self._pos = sys_.pos
            self._nnz = sys_.nnz
            pattern = sp.csc_matrix((np.ones(sys_.nnz), sys_.indices, sys_.indptr), shape=(self.n_free,) * 2)
            self.factor = SparseSPDFactor(pattern, backend=backend)
        self._rhs_edge, self._rhs_row, self._rhs_node = sys_.rhs_edge, sys_.rhs_row, sys_.rhs_node
        self._sys_edge = sys_.sys_edge
        self._g_fact = None
        self._stale = False
        self._x_last: np.ndarray | None = None
        self.refine_max = int(refine_max)
        self._z_cache: dict[int, np.ndarray] = {}

    def _data(self, g: np.ndarray) -> np.ndarray:
        vals = np.concatenate([g[self._ent_edge] * self._ent_sign, self._leak_vals])
        return np.bincount(self._pos, weights=vals, minlength=self._nnz)

    def _factorize(self, g: np.ndarray) -> None:
        self.factor.factorize(self._data(g))
        self.stats.factorizations += 1
        self._g_fact = g.copy()
        self._z_cache.clear()
        self._stale = False

    def _refine(self, g: np.ndarray, rhs: np.ndarray) -> np.ndarray | None:
        """Solve with the current matrix by conjugate gradients preconditioned by the old factor.

        The preconditioned residual ``z = A0^-1 r`` estimates the error when
        ``A0`` is close to ``A``; the iteration stops when both the step and
        ``z`` are below ``REFINE_TOL`` of the solution's largest entry.
        Returns None when that takes more than ``refine_max`` iterations, so
        the caller refactorises.
        """
        import scipy.sparse as sp

        p = self.factor.pattern
        a = sp.csc_matrix((self._data(g), p.indices, p.indptr), shape=p.shape)
        # start from the last solution (consecutive solves differ little) or A0^-1 b
        if self._x_last is not None:
            x = self._x_last.copy()
        else:
            x = self.factor.solve(rhs)
            self.stats.solves += 1
        r = rhs - a @ x
        z = self.factor.solve(r)
        self.stats.solves += 1
        d = z.copy()
        rz = r @ z
        for it in range(self.refine_max):
            scale = REFINE_TOL * np.abs(x).max()
            if np.abs(z).max() <= scale:
                self.stats.refinements += it + 1
                if it + 2 >= self.refine_max:
                    self._stale = True  # nearly failed: refactorise next time
                return x
            ad = a @ d
            alpha = rz / (d @ ad)
            x += alpha * d
            r -= alpha * ad
            z = self.factor.solve(r)
            self.stats.solves += 1
            rz_new = r @ z
            d = z + (rz_new / rz) * d
            rz = rz_new
        return None

    def _column(self, e: int) -> np.ndarray:
        col = np.zeros(self.n_free)
        su, sv = self.slot[self.edge_u[e]], self.slot[self.edge_v[e]]
        if su >= 0:
            col[su] = 1.0
        if sv >= 0:
            col[sv] = -1.0
        return col

    def _solve_free(self, g: np.ndarray, rhs: np.ndarray) -> np.ndarray:
        changed = np.empty(0, dtype=np.int64)
        if self._g_fact is not None:
            sys = self._sys_edge
            changed = sys[g[sys] != self._g_fact[sys]]
        if self._g_fact is not None and changed.size > self.low_rank_max and self.refine_max and not self._stale:
            x = self._refine(g, rhs)
            if x is not None:
                return x
        if self._g_fact is None or changed.size > self.low_rank_max:
            self._factorize(g)
            changed = changed[:0]
        y = self.factor.solve(rhs)
        self.stats.solves += 1
        if changed.size == 0:
            return y
        self.stats.low_rank_updates += 1
        missing = [e for e in changed if e not in self._z_cache]
        if missing:
            u_new = np.column_stack([self._column(e) for e in missing])
            z_new = self.factor.solve(u_new).reshape(self.n_free, len(missing))
            self.stats.solves += 1
            for j, e in enumerate(missing):
                self._z_cache[int(e)] = z_new[:, j]
        z = np.column_stack([self._z_cache[int(e)] for e in changed])
        u = np.column_stack([self._column(e) for e in changed])
        c = g[changed] - self._g_fact[changed]
        small = np.eye(changed.size) + c[:, None] * (u.T @ z)
        return y - z @ np.linalg.solve(small, c * (u.T @ y))

    def __call__(self, k: int, x: np.ndarray, vd: np.ndarray):
        """Solve for states ``x`` and driven voltages ``vd``: ``(g, v, dv, i)``."""
        g = device_conductance(self.model, self.params, x)
        g[self.open_] = 0.0
        v = np.full(self.slot.shape[0], np.nan)
        v[self.driven] = vd
        if self.n_free:
            rhs = np.bincount(self._rhs_row, weights=g[self._rhs_edge] * v[self._rhs_node],
                              minlength=self.n_free)
            sol = self._solve_free(g, rhs)
            self._x_last = sol
            v[self.free_nodes] = sol[self.slot[self.free_nodes]]
        dv = v[self.edge_u] - v[self.edge_v]
        dv[self.island_edge] = 0.0
        cur = np.where(g == 0.0, 0.0, g * dv)
        return g, v, dv, cur


def reduced_laplacian(g, edge_u, edge_v, leak, slot, n_free) -> sp.csc_matrix:
    """``L_FF`` assembled directly (used by tests as an independent check)."""
    import scipy.sparse as sp

    su, sv = slot[edge_u], slot[edge_v]
    rows, cols, vals = [], [], []
    for e in range(g.size):
        if g[e] == 0:
            continue
        for a, b, s in ((su[e], su[e], 1), (sv[e], sv[e], 1), (su[e], sv[e], -1), (sv[e], su[e], -1)):
            if a >= 0 and b >= 0:
                rows.append(a), cols.append(b), vals.append(s * g[e])
    for nd in np.flatnonzero(slot >= 0):
        rows.append(slot[nd]), cols.append(slot[nd]), vals.append(leak[nd])
    return sp.csc_matrix((vals, (rows, cols)), shape=(n_free, n_free))
