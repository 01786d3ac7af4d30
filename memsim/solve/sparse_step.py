"""Compiled fixed-step time loop of large (sparse) networks.

:func:`integrate_sparse` advances one copy of a network through a segment in a
single numba kernel: each electrical solve assembles the reduced Laplacian
``L_FF`` by scattering conductances into a fixed pattern
(:class:`~memsim.solve.sparse.NodalSystem`) and solves it with the reuse rules
of :class:`~memsim.solve.sparse.SparseElectrical`, its plain-NumPy twin (the
tests compare the two):

- no conductance changed since the last factorisation: one solve with it;
- at most ``low_rank_max`` changed: a Woodbury update of the old factor;
- more changed: conjugate gradients preconditioned by the old factor, to an
  estimated error below :data:`~memsim.solve.sparse.REFINE_TOL` of the
  largest voltage, refactorising when that takes more than ``refine_max``
  passes (or nearly did last time);
- otherwise a numeric refactorisation (:func:`memsim.solve.ldl.ldl_numeric`,
  with the ordering and symbolic analysis done once per segment).

Two departures from the twin, neither changing what is solved: conjugate
gradients start from the node voltages extrapolated in time (a cubic through
the last four points of the trajectory, Runge-Kutta stages left out; the last
point's voltages when the first error estimate says the drive jumped), which on smooth drives starts several orders of
magnitude closer than the last solution and saves passes (each pass is one
triangular solve pair); and besides refactorising when a solve nearly failed,
the kernel refactorises when a solve's cost exceeds the mean cost per solve
since the last factorisation, the factorisation included (its cost in solves is
estimated from the symbolic analysis). Everything else -- the device rates, the
bounded updates of Euler, Heun and RK4, recording -- is the dense kernel's
(:mod:`memsim.solve.kernels`), so the only difference from the compiled dense
path is the linear algebra. Stochastic switches are not handled here (the
Python stepper draws them).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import scipy.sparse as sp
from numba import njit

from memsim.solve import kernels as kn
from memsim.solve.ldl import factor_flops, fill_reducing_order, ldl_groups, ldl_numeric, ldl_solve
from memsim.solve.sparse import REFINE_TOL, SolveStats, nodal_system

__all__ = ["SparseStepper", "integrate_sparse", "sparse_steppers"]

#: Counters kept in the int64 state array of a :class:`SparseStepper`.
_SOLVES, _FACTS, _UPDATES, _REFINES, _HAS_FACT, _STALE, _N_HIST, _N_CACHE, _SINCE, _SINCE_SOLVES = range(10)
_N_COUNTERS = 10
#: Solutions kept for the starting guess of conjugate gradients (a cubic through the last four).
_HIST = 4
#: Solves whose mean cost the refactorisation rule compares (the stages of one RK4 step).
_RECENT = 4


class LDLFactor(NamedTuple):
    """Symbolic analysis, numeric factors and workspaces of one ``L D L^T`` factorisation."""

    perm: np.ndarray  #: (F,) new -> old ordering
    pinv: np.ndarray  #: (F,) its inverse
    parent: np.ndarray  #: (F,) elimination tree
    lp: np.ndarray  #: (F + 1,) column pointers of L
    li: np.ndarray  #: row indices of L (uint32: unsigned indices skip numba's wraparound test)
    lx: np.ndarray  #: values of L
    d: np.ndarray  #: (F,) pivots
    groups: np.ndarray  #: run sizes of the solves (:func:`~memsim.solve.ldl.ldl_groups`)
    y: np.ndarray  #: (F,) workspaces of the numeric factorisation
    pattern: np.ndarray
    flag: np.ndarray
    lnz: np.ndarray
    work: np.ndarray  #: (F,) workspace of the solves


class StepWork(NamedTuple):
    """Mutable state of the solves of one copy (kept across drive blocks of a segment)."""

    ctr: np.ndarray  #: (8,) int64 counters and flags (see ``_SOLVES`` ...)
    g_fact: np.ndarray  #: (M,) conductances of the last factorisation
    data: np.ndarray  #: (nnz,) values of the current ``L_FF``
    rhs: np.ndarray  #: (F,) right-hand side
    sol: np.ndarray  #: (F,) solution
    res: np.ndarray  #: (F,) conjugate-gradient residual, preconditioned residual, direction, A d
    z: np.ndarray
    dirn: np.ndarray
    ad: np.ndarray
    hist: np.ndarray  #: (_HIST, F) last solutions at distinct times, oldest first
    hist_t: np.ndarray  #: (_HIST,) their times
    changed: np.ndarray  #: (low_rank_max + 1,) changed edges of a Woodbury update
    zc: np.ndarray  #: (cap, F) cached A0^-1 u_e columns
    zc_edge: np.ndarray  #: (cap,) their edges
    recent: np.ndarray  #: (_RECENT,) int64 costs (solves) of the last conjugate-gradient solves


@njit(cache=True, error_model="numpy")
def _assemble(g, sy, data):
    data[:] = 0.0
    ne = sy.ent_edge.shape[0]
    for j in range(ne):
        data[sy.pos[j]] += g[sy.ent_edge[j]] * sy.ent_sign[j]
    for j in range(sy.leak_vals.shape[0]):
        data[sy.pos[ne + j]] += sy.leak_vals[j]


@njit(cache=True, error_model="numpy")
def _matvec(sy, data, x, out):
    out[:] = 0.0
    for j in range(x.shape[0]):
        xj = x[j]
        for p in range(sy.indptr[j], sy.indptr[j + 1]):
            out[sy.indices[p]] += data[p] * xj


@njit(cache=True, error_model="numpy")
def _psolve(fac, b, x, ctr):
    ldl_solve(fac.lp, fac.li, fac.lx, fac.d, fac.perm, fac.groups, b, x, fac.work)
    ctr[_SOLVES] += 1


@njit(cache=True, error_model="numpy")
def _factorize(sy, fac, wk, g):
    k = ldl_numeric(sy.indptr, sy.indices, wk.data, fac.perm, fac.pinv, fac.parent, fac.lp, fac.li, fac.lx,
                    fac.d, fac.y, fac.pattern, fac.flag, fac.lnz)
    if k < fac.d.shape[0]:
        raise np.linalg.LinAlgError("matrix is not positive definite (LDL^T pivot <= 0)")
    wk.g_fact[:] = g
    wk.ctr[_FACTS] += 1
    wk.ctr[_HAS_FACT] = 1
    wk.ctr[_STALE] = 0
    wk.ctr[_N_CACHE] = 0
    wk.ctr[_SINCE] = 0
    wk.ctr[_SINCE_SOLVES] = 0


@njit(cache=True, error_model="numpy")
def _dot(a, b):
    """``a @ b`` in a plain loop: numba sends ``@`` to BLAS, whose threads wait for a core on a
    busy machine (milliseconds per call)."""
    out = 0.0
    for i in range(a.shape[0]):
        out += a[i] * b[i]
    return out


@njit(cache=True, error_model="numpy")
def _max_abs(a):
    out = 0.0
    for i in range(a.shape[0]):
        v = abs(a[i])
        if v > out:
            out = v
    return out


@njit(cache=True, error_model="numpy")
def _residual(sy, wk, x, r):
    """``r = rhs - A x``; returns max |r|."""
    _matvec(sy, wk.data, x, r)
    for i in range(r.shape[0]):
        r[i] = wk.rhs[i] - r[i]
    return _max_abs(r)


@njit(cache=True, error_model="numpy")
def _start(wk, t):
    """Starting guess of conjugate gradients into ``wk.sol``.

    Returns 0 when there is none, 1 for the last solution (same time, or
    only one stored), 2 for the polynomial through the stored solutions
    (up to ``_HIST``, distinct times) evaluated at ``t``.
    """
    nh = wk.ctr[_N_HIST]
    if nh == 0:
        return 0
    x = wk.sol
    if nh == 1 or wk.hist_t[nh - 1] == t:
        x[:] = wk.hist[nh - 1]
        return 1
    w = np.ones(nh)  # Lagrange weights
    for i in range(nh):
        for j in range(nh):
            if j != i:
                w[i] *= (t - wk.hist_t[j]) / (wk.hist_t[i] - wk.hist_t[j])
    x[:] = 0.0
    for i in range(nh):
        wi = w[i]
        hi = wk.hist[i]
        for q in range(x.shape[0]):
            x[q] += wi * hi[q]
    return 2


@njit(cache=True, error_model="numpy")
def _push(wk, t):
    """Store the solution of time ``t`` (replacing one of the same time)."""
    nh = wk.ctr[_N_HIST]
    if nh > 0 and wk.hist_t[nh - 1] == t:
        wk.hist[nh - 1] = wk.sol
        return
    if nh == _HIST:
        for i in range(_HIST - 1):
            wk.hist[i] = wk.hist[i + 1]
            wk.hist_t[i] = wk.hist_t[i + 1]
        nh -= 1
    wk.hist[nh] = wk.sol
    wk.hist_t[nh] = t
    wk.ctr[_N_HIST] = nh + 1


@njit(cache=True, error_model="numpy")
def _refine(sy, fac, wk, refine_max, refactor_cost, t):
    """Conjugate gradients preconditioned by the old factor (twin: ``SparseElectrical._refine``).

    Returns False when the estimated error is not below ``REFINE_TOL`` of
    the solution within ``refine_max`` passes (the caller refactorises).
    """
    ctr = wk.ctr
    x, r, z, d, ad = wk.sol, wk.res, wk.z, wk.dirn, wk.ad
    solves0 = ctr[_SOLVES]
    how = _start(wk, t)
    if how == 0:
        _psolve(fac, wk.rhs, x, ctr)
    _residual(sy, wk, x, r)
    _psolve(fac, r, z, ctr)
    if how == 2:
        # z estimates the error of the extrapolated start; when it is not small against the
        # extrapolation's own correction the voltages are not smooth here (a step in the drive):
        # start from the last solution instead
        last = wk.hist[ctr[_N_HIST] - 1]
        moved = 0.0
        for q in range(x.shape[0]):
            moved = max(moved, abs(x[q] - last[q]))
        if _max_abs(z) > 0.25 * moved:
            x[:] = last
            _residual(sy, wk, x, r)
            _psolve(fac, r, z, ctr)
    d[:] = z
    rz = _dot(r, z)
    for it in range(refine_max):
        scale = REFINE_TOL * _max_abs(x)
        if _max_abs(z) <= scale:
            ctr[_REFINES] += it + 1
            # refactorise before the next solve when this one nearly failed, or when the recent
            # cost per solve (in solves, over the last _RECENT: one Runge-Kutta step's stages
            # differ) exceeds the mean cost per solve since the factorisation, the factorisation
            # included: the restart rule of least mean cost
            cost = ctr[_SOLVES] - solves0
            wk.recent[ctr[_SINCE] % _RECENT] = cost
            ctr[_SINCE] += 1
            ctr[_SINCE_SOLVES] += cost
            n_recent = min(ctr[_SINCE], _RECENT)
            recent = wk.recent[:n_recent].sum() / n_recent
            if it + 2 >= refine_max or recent * ctr[_SINCE] > refactor_cost + ctr[_SINCE_SOLVES]:
                ctr[_STALE] = 1
            return True
        _matvec(sy, wk.data, d, ad)
        alpha = rz / _dot(d, ad)
        for i in range(x.shape[0]):
            x[i] += alpha * d[i]
            r[i] -= alpha * ad[i]
        _psolve(fac, r, z, ctr)
        rz_new = _dot(r, z)
        beta = rz_new / rz
        for i in range(x.shape[0]):
            d[i] = z[i] + beta * d[i]
        rz = rz_new
    return False


@njit(cache=True, error_model="numpy")
def _woodbury(sy, fac, wk, g, slot, edge_u, edge_v, n_changed):
    """``wk.sol = A^-1 rhs`` by the Woodbury identity on the old factor (``wk.sol`` holds ``A0^-1 rhs``)."""
    ctr = wk.ctr
    n = wk.sol.shape[0]
    cap = wk.zc_edge.shape[0]
    col = np.empty(n_changed, dtype=np.int64)
    for rebuild in range(2):
        missing = False
        col[:] = -1
        for j in range(n_changed):
            e = wk.changed[j]
            for c in range(ctr[_N_CACHE]):
                if wk.zc_edge[c] == e:
                    col[j] = c
                    break
            if col[j] < 0:
                if ctr[_N_CACHE] == cap:
                    break
                c = ctr[_N_CACHE]
                u = wk.res
                u[:] = 0.0
                su, sv = slot[edge_u[e]], slot[edge_v[e]]
                if su >= 0:
                    u[su] = 1.0
                if sv >= 0:
                    u[sv] = -1.0
                ldl_solve(fac.lp, fac.li, fac.lx, fac.d, fac.perm, fac.groups, u, wk.zc[c], fac.work)
                wk.zc_edge[c] = e
                ctr[_N_CACHE] = c + 1
                col[j] = c
                missing = True
        if missing:
            ctr[_SOLVES] += 1  # one multi-column solve in the twin
        if np.all(col >= 0):
            break
        ctr[_N_CACHE] = 0  # cache full of edges no longer changed: rebuild it for these
    ctr[_UPDATES] += 1
    small = np.empty((n_changed, n_changed))
    rhs = np.empty(n_changed)
    for i in range(n_changed):
        e = wk.changed[i]
        su, sv = slot[edge_u[e]], slot[edge_v[e]]
        c_i = g[e] - wk.g_fact[e]
        uy = (wk.sol[su] if su >= 0 else 0.0) - (wk.sol[sv] if sv >= 0 else 0.0)
        rhs[i] = c_i * uy
        for j in range(n_changed):
            zj = wk.zc[col[j]]
            uz = (zj[su] if su >= 0 else 0.0) - (zj[sv] if sv >= 0 else 0.0)
            small[i, j] = (1.0 if i == j else 0.0) + c_i * uz
    w = np.linalg.solve(small, rhs)
    for j in range(n_changed):
        zj = wk.zc[col[j]]
        for q in range(n):
            wk.sol[q] -= zj[q] * w[j]


@njit(cache=True, error_model="numpy")
def _solve_free(sy, fac, wk, g, slot, edge_u, edge_v, low_rank_max, refine_max, refactor_cost, t):
    """``wk.sol = L_FF^-1 rhs`` with the reuse rules of ``SparseElectrical._solve_free``."""
    ctr = wk.ctr
    n_changed = 0
    if ctr[_HAS_FACT]:
        for e in sy.sys_edge:
            if g[e] != wk.g_fact[e]:
                if n_changed <= low_rank_max:
                    wk.changed[n_changed] = e
                n_changed += 1
                if n_changed > low_rank_max:
                    break  # refine or refactorise: the count no longer matters
    if ctr[_HAS_FACT] and n_changed > low_rank_max and refine_max > 0 and ctr[_STALE] == 0:
        if _refine(sy, fac, wk, refine_max, refactor_cost, t):
            return
    if ctr[_HAS_FACT] == 0 or n_changed > low_rank_max:
        _factorize(sy, fac, wk, g)
        n_changed = 0
    _psolve(fac, wk.rhs, wk.sol, ctr)
    if n_changed:
        _woodbury(sy, fac, wk, g, slot, edge_u, edge_v, n_changed)


@njit(cache=True, error_model="numpy")
def _electrical(xk, pk, model, ok, edge_u, edge_v, slot, driven, vd, t, sy, fac, wk,
                low_rank_max, refine_max, refactor_cost, g, v, dv, cur, keep=True):
    """Fill ``g, v, dv, cur`` of states ``xk`` and driven voltages ``vd`` at time ``t``.

    ``keep``: the states are a point of the trajectory (not an intermediate
    Runge-Kutta stage), whose voltages later starting guesses extrapolate.
    """
    for e in range(xk.shape[0]):
        g[e] = 0.0 if ok[e] else kn._g_one(model[e], pk, e, xk[e])
    v[:] = np.nan
    for j in range(driven.shape[0]):
        v[driven[j]] = vd[j]
    if wk.sol.shape[0]:
        wk.rhs[:] = 0.0
        for j in range(sy.rhs_edge.shape[0]):
            wk.rhs[sy.rhs_row[j]] += g[sy.rhs_edge[j]] * v[sy.rhs_node[j]]
        _assemble(g, sy, wk.data)
        _solve_free(sy, fac, wk, g, slot, edge_u, edge_v, low_rank_max, refine_max, refactor_cost, t)
        if keep:
            _push(wk, t)
        for j in range(sy.free_nodes.shape[0]):
            v[sy.free_nodes[j]] = wk.sol[j]
    for e in range(xk.shape[0]):
        dv[e] = 0.0 if sy.island_edge[e] else v[edge_u[e]] - v[edge_v[e]]
        cur[e] = 0.0 if g[e] == 0.0 else g[e] * dv[e]


@njit(cache=True, error_model="numpy")
def _trial(xk, k_prev, a, xs, pk, model, ok, edge_u, edge_v, slot, driven, vd, t, sy, fac, wk, low_rank_max,
           refine_max, refactor_cost, g, v, dv, cur, scale, still, stoch, k_out):
    """One Runge-Kutta stage: ``xs = xk + a k_prev`` (bounded), solved at time ``t``, rates into ``k_out``."""
    for e in range(xk.shape[0]):
        xs[e] = kn._bounded(model[e], pk, e, xk[e], a * k_prev[e])
    _electrical(xs, pk, model, ok, edge_u, edge_v, slot, driven, vd, t, sy, fac, wk, low_rank_max, refine_max,
                refactor_cost, g, v, dv, cur, False)
    kn._stage_rates(xs, pk, model, scale, still, stoch, dv, cur, k_out)


@njit(cache=True, error_model="numpy")
def integrate_sparse(
    k, x, params, model, scale, still, open_, edge_u, edge_v, leak, slot, driven, vdrive, vstep, t0, h,
    n_steps, method, step0, record_every, rec0, final, rec_t, rec_x, rec_i, rec_ve, rec_vn, rec_in, rec_p,
    sy, fac, wk, low_rank_max, refine_max, refactor_cost,
):
    """Advance copy ``k`` through one segment (arguments as in ``kernels.integrate_dense``).

    ``sy`` (:class:`~memsim.solve.sparse.NodalSystem`), ``fac``
    (:class:`LDLFactor`) and ``wk`` (:class:`StepWork`) hold the copy's
    reduced system, factor and solver state; ``low_rank_max`` and
    ``refine_max`` are ``simulate``'s; ``refactor_cost`` is the cost of a
    numeric factorisation in solves (see :func:`_refine`). No device may be stochastic. Returns
    the number of record rows written.
    """
    m = x.shape[1]
    xk, pk, ok, sk, sck, stk = x[k], params[k], open_[k], slot[k], scale[k], still[k]
    stoch = np.zeros(m, dtype=np.bool_)
    v = np.empty(leak.shape[0])
    g, dv, cur, xs = np.empty(m), np.empty(m), np.empty(m), np.empty(m)
    k1, k2, k3, k4 = np.empty(m), np.empty(m), np.empty(m), np.empty(m)
    r = rec0
    for s in range(n_steps):
        t = t0 + s * h
        row = s * vstep
        _electrical(xk, pk, model, ok, edge_u, edge_v, sk, driven, vdrive[row, 0, k], t, sy, fac, wk,
                    low_rank_max, refine_max, refactor_cost, g, v, dv, cur)
        if (step0 + s) % record_every == 0:
            rec_t[r] = t
            kn._record(r, k, xk, g, v, dv, cur, leak, edge_u, edge_v, sk, rec_x, rec_i, rec_ve, rec_vn, rec_in, rec_p)
            r += 1
        kn._stage_rates(xk, pk, model, sck, stk, stoch, dv, cur, k1)
        if method == 0:
            for e in range(m):
                xk[e] = kn._bounded(model[e], pk, e, xk[e], h * k1[e])
        elif method == 1:
            _trial(xk, k1, h, xs, pk, model, ok, edge_u, edge_v, sk, driven, vdrive[row, 1, k], t + h, sy, fac, wk,
                   low_rank_max, refine_max, refactor_cost, g, v, dv, cur, sck, stk, stoch, k2)
            for e in range(m):
                xk[e] = kn._bounded(model[e], pk, e, xk[e], 0.5 * h * (k1[e] + k2[e]))
        else:
            half = vdrive[row, 1, k]
            _trial(xk, k1, 0.5 * h, xs, pk, model, ok, edge_u, edge_v, sk, driven, half, t + 0.5 * h, sy, fac, wk,
                   low_rank_max, refine_max, refactor_cost, g, v, dv, cur, sck, stk, stoch, k2)
            _trial(xk, k2, 0.5 * h, xs, pk, model, ok, edge_u, edge_v, sk, driven, half, t + 0.5 * h, sy, fac, wk,
                   low_rank_max, refine_max, refactor_cost, g, v, dv, cur, sck, stk, stoch, k3)
            _trial(xk, k3, h, xs, pk, model, ok, edge_u, edge_v, sk, driven, vdrive[row, 2, k], t + h, sy, fac, wk,
                   low_rank_max, refine_max, refactor_cost, g, v, dv, cur, sck, stk, stoch, k4)
            for e in range(m):
                xk[e] = kn._bounded(model[e], pk, e, xk[e],
                                    h / 6.0 * (k1[e] + 2.0 * k2[e] + 2.0 * k3[e] + k4[e]))
    if final:
        t = t0 + n_steps * h
        _electrical(xk, pk, model, ok, edge_u, edge_v, sk, driven, vdrive[n_steps * vstep, 0, k], t, sy, fac, wk,
                    low_rank_max, refine_max, refactor_cost, g, v, dv, cur)
        rec_t[r] = t
        kn._record(r, k, xk, g, v, dv, cur, leak, edge_u, edge_v, sk, rec_x, rec_i, rec_ve, rec_vn, rec_in, rec_p)
        r += 1
    return r - rec0


class SparseStepper:
    """The compiled sparse solves of one copy through one segment configuration.

    Builds the :class:`~memsim.solve.sparse.NodalSystem`, a fill-reducing
    ordering and the symbolic factorisation once; :meth:`advance` runs
    :func:`integrate_sparse` on a block of steps, keeping the factor, the
    Woodbury cache and the solution history between blocks.

    Parameters
    ----------
    open_, edge_u, edge_v, leak, slot, n_free : the copy's open edges, the
        network arrays, node slots and number of free nodes.
    low_rank_max, refine_max : as in :func:`memsim.simulate`.
    like : SparseStepper, optional
        A stepper of the same configuration (open edges and slots) whose
        reduced system and symbolic analysis are shared instead of recomputed.
    """

    def __init__(self, open_, edge_u, edge_v, leak, slot, n_free, *, low_rank_max: int = 16,
                 refine_max: int = 10, like: SparseStepper | None = None):
        n = int(n_free)
        m = edge_u.shape[0]
        self.low_rank_max = max(0, int(low_rank_max))
        self.refine_max = int(refine_max)
        if like is not None:
            self.system, self.refactor_cost = like.system, like.refactor_cost
            f = like.factor
            perm, pinv, parent, lp, groups = f.perm, f.pinv, f.parent, f.lp, f.groups
        else:
            self.system = nodal_system(open_, edge_u, edge_v, leak, slot, n)
            if n:
                sy = self.system
                pattern = sp.csc_matrix((np.ones(sy.nnz), sy.indices, sy.indptr), shape=(n, n))
                perm, pinv, parent, lp = fill_reducing_order(pattern)
            else:
                perm = pinv = parent = np.zeros(0, np.int64)
                lp = np.zeros(1, np.int64)
            groups = ldl_groups(parent, lp)
            #: a numeric factorisation costs about this many solves (ratio of multiply-adds)
            self.refactor_cost = factor_flops(lp) / max(1, 2 * int(lp[-1]) + 2 * n)
        sy = self.system
        nnz_l = int(lp[-1])
        i64 = np.int64
        self.factor = LDLFactor(perm=perm, pinv=pinv, parent=parent, lp=lp, li=np.zeros(nnz_l, np.uint32),
                                lx=np.zeros(nnz_l), d=np.ones(n), groups=groups, y=np.zeros(n),
                                pattern=np.zeros(n, i64), flag=np.zeros(n, i64), lnz=np.zeros(n, i64),
                                work=np.zeros(n))
        cap = max(1, self.low_rank_max)
        self.work = StepWork(
            ctr=np.zeros(_N_COUNTERS, i64), g_fact=np.zeros(m), data=np.zeros(sy.nnz), rhs=np.zeros(n),
            sol=np.zeros(n), res=np.zeros(n), z=np.zeros(n), dirn=np.zeros(n), ad=np.zeros(n),
            hist=np.zeros((_HIST, n)), hist_t=np.zeros(_HIST), changed=np.zeros(self.low_rank_max + 1, i64),
            zc=np.zeros((cap, n)), zc_edge=np.zeros(cap, i64), recent=np.zeros(_RECENT, i64))

    @property
    def nnz_factor(self) -> int:
        """Stored entries of the strict lower triangle of ``L``."""
        return int(self.factor.lp[-1])

    def advance(self, k, x, params, model, scale, still, open_, edge_u, edge_v, leak, slot, driven, vdrive,
                vstep, t0, h, n_steps, method, step0, record_every, rec0, final, rec_t, buffers,
                stats: SolveStats | None = None) -> int:
        """Run :func:`integrate_sparse` for copy ``k``; add the work done to ``stats``."""
        before = self.work.ctr[:4].copy()
        rows = integrate_sparse(k, x, params, model, scale, still, open_, edge_u, edge_v, leak, slot, driven,
                                vdrive, vstep, t0, h, n_steps, method, step0, record_every, rec0, final, rec_t,
                                *buffers, self.system, self.factor, self.work, self.low_rank_max,
                                self.refine_max, self.refactor_cost)
        if stats is not None:
            done = self.work.ctr[:4] - before
            stats.solves += int(done[_SOLVES])
            stats.factorizations += int(done[_FACTS])
            stats.low_rank_updates += int(done[_UPDATES])
            stats.refinements += int(done[_REFINES])
        return int(rows)


def sparse_steppers(open_, edge_u, edge_v, leak, slot, n_free, *, low_rank_max: int = 16,
                    refine_max: int = 10) -> list[SparseStepper]:
    """One :class:`SparseStepper` per copy; copies of one configuration share their analysis.

    ``open_`` (K, M), ``slot`` (K, N) and ``n_free`` (K,) are per copy.

    Examples
    --------
    A 2 x 2 crossbar with wires: word lines driven at the left, bit lines
    grounded at the bottom, the four other nodes free; one cell joins two of
    them, so ``L`` has one entry below its diagonal.

    >>> import numpy as np
    >>> from memsim import LinearIonDrift, Network, crossbar
    >>> from memsim.solve.kernels import SLOT_DRIVEN
    >>> c = Network.from_graph(crossbar(2, 2, r_wire=1.0), LinearIonDrift()).compile()
    >>> slot = np.full(c.n_nodes, SLOT_DRIVEN)
    >>> free = np.setdiff1d(np.arange(c.n_nodes), np.concatenate([c.inputs, c.outputs]))
    >>> slot[free] = np.arange(free.size)
    >>> st = sparse_steppers(np.zeros((2, c.n_edges), bool), c.edge_u, c.edge_v, c.leak,
    ...                      np.stack([slot, slot]), np.array([4, 4]))
    >>> st[0].nnz_factor, st[1].factor.perm is st[0].factor.perm
    (1, True)
    """
    made: dict[bytes, SparseStepper] = {}
    out = []
    for c in range(open_.shape[0]):
        key = open_[c].tobytes() + slot[c].tobytes()
        st = SparseStepper(open_[c], edge_u, edge_v, leak, slot[c], n_free[c], low_rank_max=low_rank_max,
                           refine_max=refine_max, like=made.get(key))
        made.setdefault(key, st)
        out.append(st)
    return out
