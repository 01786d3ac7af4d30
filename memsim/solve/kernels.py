"""numba kernels of the time loop.

Every kernel here has a plain-NumPy twin that the tests compare against it:

============================  ==============================================
kernel                        NumPy twin
============================  ==============================================
:func:`device_conductance`    :func:`memsim.devices.functions.conductance`
:func:`device_rate`           :func:`memsim.devices.functions.rate`
:func:`electrical_dense`      :func:`memsim.solve.nodal.solve_nodal`
:func:`integrate_dense`       :func:`memsim.solve.stepper.integrate_python`
============================  ==============================================

Conventions shared with the NumPy code: packed parameters (see
:mod:`memsim.devices.models`), node slots (``>= 0``: row of the node in the
reduced system; ``SLOT_DRIVEN``; ``SLOT_ISLAND``) and method codes
(:data:`METHODS`).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

__all__ = [
    "METHODS",
    "N_STAGES",
    "SLOT_DRIVEN",
    "SLOT_ISLAND",
    "device_conductance",
    "device_rate",
    "electrical_dense",
    "integrate_dense",
    "integrate_dense_parallel",
]

#: Method codes of the fixed-step schemes.
METHODS = {"euler": 0, "heun": 1, "rk4": 2}
#: Distinct stage times per step: Euler t; Heun t, t+h; RK4 t, t+h/2, t+h.
N_STAGES = {"euler": 1, "heun": 2, "rk4": 3}
SLOT_DRIVEN = -1
SLOT_ISLAND = -2

_NAN = np.nan
#: Window functions are evaluated at least one ulp inside [0, 1] (see
#: ``memsim.devices.functions.window``): the smallest doubles above 0 and below 1.
_INSIDE_LO = 2.0**-1074
_INSIDE_HI = 1.0 - 2.0**-53
#: Distance from a bound within which a lost increment still moves one ulp.
_NEAR_BOUND = 1e-6

# Inlining (benchmarks/README.md, "Cold start"): ``inline="always"`` inlines numba IR at every call
# site, recompiling the body there, so it is kept only where it pays at run time (_g_one, _pow,
# _drift_rate, _rate_one, _bounded: 10-25 % slower RK4 ensembles without). The window functions,
# _sigmoid and _soft_bound are plain calls (LLVM still inlines the small ones): ~1-1.5 s less
# compilation per integrator, same speed, same numbers.


@njit(cache=True, inline="always", error_model="numpy")
def _g_one(m, p, e, x):
    """Conductance of device ``e`` (row ``e`` of the packed parameters ``p``)."""
    if m == 0:
        return 1.0 / p[e, 0]
    if m == 4:
        return x / p[e, 0] + (1.0 - x) / p[e, 1]
    return 1.0 / (p[e, 0] * x + p[e, 1] * (1.0 - x))


@njit(cache=True, inline="always", error_model="numpy")
def _pow(b, ex):
    """``b ** ex``, by repeated multiplication when ``ex`` is a small whole number."""
    if ex == 1.0:
        return b
    n = int(ex)
    if n == ex and 0 <= n <= 16:
        out = 1.0
        for _ in range(n):
            out *= b
        return out
    return b**ex


#: Largest window exponent evaluated in the exact form (``memsim.devices.models.MAX_WINDOW_EXPONENT``).
_MAX_WINDOW_EXPONENT = 64.0


@njit(cache=True, error_model="numpy")
def _whole(p):
    return p >= 1.0 and p == math.floor(p) and p <= _MAX_WINDOW_EXPONENT


@njit(cache=True, error_model="numpy")
def _joglekar(p, x):
    """``1 - (2x - 1)**(2p)`` as ``4 x (1 - x) sum_{j<p} (2x - 1)**(2j)`` (exact near 0 and 1; twin:
    ``memsim.devices.functions.joglekar``)."""
    if not _whole(p):
        return 1.0 - (2.0 * x - 1.0) ** (2.0 * p)
    y2 = (2.0 * x - 1.0) ** 2
    total = 1.0
    term = 1.0
    for _ in range(1, int(p)):
        term = term * y2
        total = total + term
    return 4.0 * x * (1.0 - x) * total


@njit(cache=True, error_model="numpy")
def _biolek(p, x, i):
    """``1 - (x - H(-i))**(2p)`` as ``u sum_{j<2p} (1 - u)**j``, ``u = x`` (i < 0) or ``1 - x``."""
    if not _whole(p):
        s = 1.0 if i < 0 else 0.0
        return 1.0 - (x - s) ** (2.0 * p)
    u = x if i < 0 else 1.0 - x
    w = 1.0 - u
    total = 1.0
    term = 1.0
    for _ in range(1, int(2.0 * p)):
        term = term * w
        total = total + term
    return u * total


@njit(cache=True, error_model="numpy")
def _sigmoid(z):
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    ez = math.exp(z)
    return ez / (1.0 + ez)


@njit(cache=True, inline="always", error_model="numpy")
def _drift_rate(p, e, x, i):
    """Unbounded dx/dt of linear-ion-drift device ``e`` carrying current ``i``."""
    w = p[e, 3]
    f = 1.0
    xw = min(max(x, _INSIDE_LO), _INSIDE_HI)  # windows: never exactly on a bound
    # every window in a form exact near both bounds (twins in memsim.devices.functions)
    if w == 1.0:
        f = _joglekar(p[e, 4], xw)
    elif w == 2.0:
        f = _biolek(p[e, 4], xw, i)
    elif w == 3.0:
        f = -p[e, 5] * math.expm1(p[e, 4] * math.log1p(-xw * (1.0 - xw)))
    return p[e, 2] * i * f


@njit(cache=True, inline="always", error_model="numpy")
def _rate_one(m, p, e, x, v, i):
    """Unbounded dx/dt of device ``e`` (row ``e`` of the packed parameters ``p``)."""
    if m == 1:  # linear ion drift
        return _drift_rate(p, e, x, i)
    if m == 2:  # VTEAM
        if p[e, 6] <= v <= p[e, 7]:
            return 0.0
        if v > p[e, 7]:
            dw = p[e, 3] * _pow(abs(v / p[e, 7] - 1.0), p[e, 5])
        else:
            dw = p[e, 2] * _pow(abs(v / p[e, 6] - 1.0), p[e, 4])
        fw = 1.0
        if p[e, 9] > 0:
            xw = min(max(x, _INSIDE_LO), _INSIDE_HI)
            fw = _joglekar(p[e, 9], xw)
        return -dw / p[e, 8] * fw
    if m == 3:  # Caravelli-Traversa-Di Ventra
        return p[e, 1] / p[e, 3] * i - p[e, 2] * x
    if m == 4:  # metastable switch, mean field
        p_on = _sigmoid(p[e, 5] * (v - p[e, 2])) / p[e, 4]
        p_off = _sigmoid(-p[e, 5] * (v + p[e, 3])) / p[e, 4]
        return (1.0 - x) * p_on - x * p_off
    return 0.0


@njit(cache=True, error_model="numpy")
def device_conductance(model, params, x):
    """Conductance of each device; ``params`` (M, P), ``x`` (M,) -> (M,)."""
    out = np.empty(x.shape[0])
    for e in range(x.shape[0]):
        out[e] = _g_one(model[e], params, e, x[e])
    return out


@njit(cache=True, error_model="numpy")
def device_rate(model, params, x, v, i):
    """Unbounded ``dx/dt`` of each device; arrays of shape (M,) -> (M,)."""
    out = np.empty(x.shape[0])
    for e in range(x.shape[0]):
        out[e] = _rate_one(model[e], params, e, x[e], v[e], i[e])
    return out


@njit(cache=True, error_model="numpy")
def _cholesky_solve(a, b, n):
    """Solve ``a[:n,:n] y = b[:n]`` in place by ``L D L^T`` (a SPD, both triangles); False if not SPD.

    Right-looking on the upper triangle (``U = L^T`` row by row): eliminating
    column ``k`` subtracts a multiple of row ``k`` from each later row ``i``
    with ``a[k, i] != 0``, a contiguous loop the compiler vectorises (its
    index is unsigned: numba's test for negative indices would prevent it).
    Rows whose entry is zero are skipped, which is exact (they would subtract
    zero) and skips most of the work on layered networks, where the nodes of
    one layer are not connected to each other. On return the strict upper
    triangle of ``a`` holds ``L^T`` and the diagonal ``D``.
    """
    un = np.uint64(n)
    for k in range(n):
        d = a[k, k]
        if not d > 0.0:
            return False
        inv = 1.0 / d
        ak = a[k]
        for i in range(k + 1, n):
            u = ak[i]
            if u != 0.0:
                f = u * inv
                ai = a[i]
                for j in range(np.uint64(i), un):
                    ai[j] -= f * ak[j]
        for i in range(np.uint64(k + 1), un):
            ak[i] *= inv
    for k in range(n):  # forward: L y = b (unit diagonal), by rows of L^T
        yk = b[k]
        if yk != 0.0:
            ak = a[k]
            for i in range(np.uint64(k + 1), un):
                b[i] -= ak[i] * yk
    for k in range(n - 1, -1, -1):  # diagonal and backward: L^T x = D^-1 y
        ak = a[k]
        t = b[k] / ak[k]
        for i in range(np.uint64(k + 1), un):
            t -= ak[i] * b[i]
        b[k] = t
    return True


@njit(cache=True, error_model="numpy")
def electrical_dense(
    x, params, model, open_, edge_u, edge_v, leak, slot, n_free, driven, vd, a, rhs, v, g, dv, cur
):
    """Nodal solve of one network copy with a dense Cholesky factorisation.

    Fills ``g, v, dv, cur`` (conductances, node voltages, edge voltages and
    currents); ``a`` and ``rhs`` are workspaces of size at least ``n_free``.
    Returns False if the reduced system was not positive definite.
    """
    n_nodes = v.shape[0]
    m = x.shape[0]
    for e in range(m):
        g[e] = 0.0 if open_[e] else _g_one(model[e], params, e, x[e])
    for r in range(n_free):
        rhs[r] = 0.0
        for c in range(n_free):
            a[r, c] = 0.0
    for nd in range(n_nodes):
        v[nd] = _NAN
        s = slot[nd]
        if s >= 0:
            a[s, s] += leak[nd]
    for d in range(driven.shape[0]):
        v[driven[d]] = vd[d]
    for e in range(m):
        ge = g[e]
        if ge == 0.0:
            continue
        su = slot[edge_u[e]]
        sv = slot[edge_v[e]]
        if su >= 0:
            a[su, su] += ge
            if sv >= 0:
                a[sv, sv] += ge
                a[su, sv] -= ge
                a[sv, su] -= ge
            elif sv == SLOT_DRIVEN:
                rhs[su] += ge * v[edge_v[e]]
        elif sv >= 0:
            a[sv, sv] += ge
            if su == SLOT_DRIVEN:
                rhs[sv] += ge * v[edge_u[e]]
    ok = _cholesky_solve(a, rhs, n_free)
    for nd in range(n_nodes):
        s = slot[nd]
        if s >= 0:
            v[nd] = rhs[s]
    for e in range(m):
        if slot[edge_u[e]] == SLOT_ISLAND and slot[edge_v[e]] == SLOT_ISLAND:
            dv[e] = 0.0
        else:
            dv[e] = v[edge_u[e]] - v[edge_v[e]]
        cur[e] = 0.0 if g[e] == 0.0 else g[e] * dv[e]
    return ok


@njit(cache=True, error_model="numpy")
def _stage_rates(x, params, model, scale, still, stoch, dv, cur, out):
    for e in range(x.shape[0]):
        if still[e] or stoch[e]:
            out[e] = 0.0
            continue
        xe = x[e]
        m = model[e]
        # linear drift peeled off the general dispatch: the compiler then keeps the most common
        # model's path free of the others' branches (2.2x faster on 6,656 such devices)
        if m == 1:
            r = _drift_rate(params, e, xe, cur[e])
        else:
            r = _rate_one(m, params, e, xe, dv[e], cur[e])
        r *= scale[e]
        if (xe <= 0.0 and r < 0.0) or (xe >= 1.0 and r > 0.0):
            r = 0.0
        out[e] = r


@njit(cache=True, error_model="numpy")
def _soft_bound(m, p, e):
    """Does the rate of device ``e`` vanish at the bounds (window or mean-field switch)?

    Then ``x = 0`` and ``x = 1`` are equilibria the exact dynamics never reach
    in finite time, and a step that would cross one only goes halfway to it.
    """
    return (m == 1 and p[e, 3] != 0.0) or (m == 2 and p[e, 9] > 0.0) or m == 4


@njit(cache=True, inline="always", error_model="numpy")
def _bounded(m, p, e, x, d):
    """The state after a step of ``d`` from ``x``, kept in ``[0, 1]``.

    Hard bounds (no window, windowless VTEAM, Caravelli) clip. Soft ones
    (:func:`_soft_bound`) stop halfway to the bound, and within ``1e-6`` of a
    bound an increment too small to change ``x`` in double precision moves it
    one ulp instead, so a state rounded onto a bound where its window vanishes
    is not trapped there when the drive reverses.
    """
    y = x + d
    if y > 1.0:
        return x + 0.5 * (1.0 - x) if _soft_bound(m, p, e) else 1.0
    if y < 0.0:
        return 0.5 * x if _soft_bound(m, p, e) else 0.0
    if y == x and d != 0.0 and min(x, 1.0 - x) < _NEAR_BOUND and _soft_bound(m, p, e):
        y = np.nextafter(x, 2.0) if d > 0.0 else np.nextafter(x, -1.0)
        return min(1.0, max(0.0, y))
    return y


@njit(cache=True, error_model="numpy")
def _record(r, k, x, g, v, dv, cur, leak, edge_u, edge_v, slot, rec_x, rec_i, rec_ve, rec_vn, rec_in, rec_p):
    m = x.shape[0]
    # element loops, not slice assignments: those compile numpy's broadcasting machinery (~2 s)
    if rec_x.shape[0] > 0:
        for e in range(m):
            rec_x[r, k, e] = x[e]
    if rec_i.shape[0] > 0:
        for e in range(m):
            rec_i[r, k, e] = cur[e]
    if rec_ve.shape[0] > 0:
        for e in range(m):
            rec_ve[r, k, e] = dv[e]
    if rec_vn.shape[0] > 0:
        for nd in range(v.shape[0]):
            rec_vn[r, k, nd] = v[nd]
    if rec_in.shape[0] > 0:
        for nd in range(v.shape[0]):
            rec_in[r, k, nd] = leak[nd] * v[nd] if slot[nd] == SLOT_DRIVEN else 0.0
        for e in range(m):
            if slot[edge_u[e]] == SLOT_DRIVEN:
                rec_in[r, k, edge_u[e]] += cur[e]
            if slot[edge_v[e]] == SLOT_DRIVEN:
                rec_in[r, k, edge_v[e]] -= cur[e]
    if rec_p.shape[0] > 0:
        p = 0.0
        for e in range(m):
            if cur[e] != 0.0:
                p += cur[e] * dv[e]
        rec_p[r, k] = p


@njit(cache=True, error_model="numpy")
def _any(flags):
    """Is any of the (M,) booleans set? (Typed ``bool``, never a literal: a literal ``False`` passed on
    to :func:`_advance_copy` would compile it once more, ~10 s.)"""
    for e in range(flags.shape[0]):
        if flags[e]:
            return True
    return False


@njit(cache=True, error_model="numpy")
def integrate_dense(
    x, params, model, scale, still, stoch, open_, edge_u, edge_v, leak, slot, n_free,
    driven, vdrive, vstep, t0, h, n_steps, method, step0, record_every, rec0, final,
    rec_t, rec_x, rec_i, rec_ve, rec_vn, rec_in, rec_p, seeds,
):
    """Advance every copy of a dense network through one segment.

    Parameters (K copies, M edges, N nodes, D driven nodes, S stage times)
    ----------------------------------------------------------------------
    x : (K, M) states, advanced in place.
    params : (K, M, P) packed parameters.  model : (M,) model codes.
    scale : (K, M) rate multipliers (cycle-to-cycle noise; 1 = none).
    still : (K, M) bool, devices whose state must not move (resistors,
        stuck and open devices).  stoch : (M,) bool, stochastic switches.
    open_ : (K, M) bool, open (pruned) edges.  leak : (N,) conductances.
    slot : (K, N) node slots; n_free : (K,) sizes of the reduced systems.
    driven : (D,) driven node indices; vdrive : (rows, S, K, D) voltages at
        the stage times of each step; step ``s`` reads row ``s * vstep``
        (``vstep = 0``: one row of constant voltages; ``vstep = 1``:
        ``n_steps + 1`` rows, the last one at the segment end).
    t0, h, n_steps : segment start (s), step (s) and step count.
    method : :data:`METHODS` code.  step0 : global index of the first step.
    record_every : record when ``(step0 + s) % record_every == 0``;
        ``rec0`` is the first free record row; ``final`` also records the
        state after the last step.
    rec_* : record buffers (rows, K, ...); a buffer with 0 rows is skipped.
    seeds : (K,) int64 seeds of the binomial draws of stochastic switches.

    With a constant drive (``vstep == 0``) and no stochastic devices, a step
    in which no state moves ends the integration of that copy for the
    segment: the remaining steps would repeat it exactly, so only their
    samples are written.

    Returns ``(rows written, electrical solves done)``.
    """
    n_copies, m = x.shape
    any_stoch = _any(stoch)
    written = 0
    solves = 0
    for k in range(n_copies):
        rows, ns = _advance_copy(
            k, x, params, model, scale, still, stoch, any_stoch, open_, edge_u, edge_v, leak, slot,
            n_free, driven, vdrive, vstep, t0, h, n_steps, method, step0, record_every, rec0, final,
            rec_t, rec_x, rec_i, rec_ve, rec_vn, rec_in, rec_p, seeds)
        written = rows
        solves += ns
    return written, solves


@njit(cache=True, error_model="numpy", parallel=True)
def integrate_dense_parallel(
    x, params, model, scale, still, stoch, open_, edge_u, edge_v, leak, slot, n_free,
    driven, vdrive, vstep, t0, h, n_steps, method, step0, record_every, rec0, final,
    rec_t, rec_x, rec_i, rec_ve, rec_vn, rec_in, rec_p, seeds,
):
    """:func:`integrate_dense` with the copies spread over threads (``prange``).

    Copies are independent and each seeds its own random stream, so the
    result does not depend on the number of threads.
    """
    n_copies, m = x.shape
    any_stoch = _any(stoch)
    rows = np.zeros(n_copies, dtype=np.int64)
    solves = np.zeros(n_copies, dtype=np.int64)
    for k in prange(n_copies):
        rk, sk = _advance_copy(
            np.int64(k), x, params, model, scale, still, stoch, any_stoch, open_, edge_u, edge_v, leak, slot,
            n_free, driven, vdrive, vstep, t0, h, n_steps, method, step0, record_every, rec0, final,
            rec_t, rec_x, rec_i, rec_ve, rec_vn, rec_in, rec_p, seeds)
        rows[k] = rk
        solves[k] = sk
    return rows[0], solves.sum()


@njit(cache=True, error_model="numpy")
def _advance_copy(
    k, x, params, model, scale, still, stoch, any_stoch, open_, edge_u, edge_v, leak, slot, n_free,
    driven, vdrive, vstep, t0, h, n_steps, method, step0, record_every, rec0, final,
    rec_t, rec_x, rec_i, rec_ve, rec_vn, rec_in, rec_p, seeds,
):
    """Advance copy ``k`` through one segment; returns ``(rows written, solves)``."""
    m = x.shape[1]
    nf_max = max(1, n_free[k])
    a = np.empty((nf_max, nf_max))
    rhs = np.empty(nf_max)
    v = np.empty(leak.shape[0])
    g = np.empty(m)
    dv = np.empty(m)
    cur = np.empty(m)
    dv0 = np.empty(m)
    xs = np.empty(m)
    k1 = np.empty(m)
    k2 = np.empty(m)
    k3 = np.empty(m)
    k4 = np.empty(m)
    solves = 0
    if any_stoch:
        np.random.seed(seeds[k])
    r = rec0
    xk = x[k]
    pk = params[k]
    ok_ = open_[k]
    sk = slot[k]
    nf = n_free[k]
    sck = scale[k]
    stk = still[k]
    for s in range(n_steps):
        t = t0 + s * h
        electrical_dense(xk, pk, model, ok_, edge_u, edge_v, leak, sk, nf,
                         driven, vdrive[s * vstep, 0, k], a, rhs, v, g, dv, cur)
        if (step0 + s) % record_every == 0:
            if k == 0:  # the sample times are shared by all copies
                rec_t[r] = t
            _record(r, k, xk, g, v, dv, cur, leak, edge_u, edge_v, sk,
                    rec_x, rec_i, rec_ve, rec_vn, rec_in, rec_p)
            r += 1
        solves += 1
        if any_stoch:
            for e in range(m):
                dv0[e] = dv[e]
        _stage_rates(xk, pk, model, sck, stk, stoch, dv, cur, k1)
        if vstep == 0 and not any_stoch:
            frozen = True
            for e in range(m):
                if k1[e] != 0.0:
                    frozen = False
                    break
            if frozen:
                # constant drive and no state moves: every remaining step of the
                # segment is this one again; only the samples are left to write
                for s2 in range(s + 1, n_steps):
                    if (step0 + s2) % record_every == 0:
                        if k == 0:
                            rec_t[r] = t0 + s2 * h
                        _record(r, k, xk, g, v, dv, cur, leak, edge_u, edge_v, sk,
                                rec_x, rec_i, rec_ve, rec_vn, rec_in, rec_p)
                        r += 1
                break
        if method == 0:
            for e in range(m):
                xk[e] = _bounded(model[e], pk, e, xk[e], h * k1[e])
        elif method == 1:
            for e in range(m):
                xs[e] = _bounded(model[e], pk, e, xk[e], h * k1[e])
            electrical_dense(xs, pk, model, ok_, edge_u, edge_v, leak, sk, nf,
                             driven, vdrive[s * vstep, 1, k], a, rhs, v, g, dv, cur)
            _stage_rates(xs, pk, model, sck, stk, stoch, dv, cur, k2)
            solves += 1
            for e in range(m):
                xk[e] = _bounded(model[e], pk, e, xk[e], 0.5 * h * (k1[e] + k2[e]))
        else:
            for e in range(m):
                xs[e] = _bounded(model[e], pk, e, xk[e], 0.5 * h * k1[e])
            electrical_dense(xs, pk, model, ok_, edge_u, edge_v, leak, sk, nf,
                             driven, vdrive[s * vstep, 1, k], a, rhs, v, g, dv, cur)
            _stage_rates(xs, pk, model, sck, stk, stoch, dv, cur, k2)
            for e in range(m):
                xs[e] = _bounded(model[e], pk, e, xk[e], 0.5 * h * k2[e])
            electrical_dense(xs, pk, model, ok_, edge_u, edge_v, leak, sk, nf,
                             driven, vdrive[s * vstep, 1, k], a, rhs, v, g, dv, cur)
            _stage_rates(xs, pk, model, sck, stk, stoch, dv, cur, k3)
            for e in range(m):
                xs[e] = _bounded(model[e], pk, e, xk[e], h * k3[e])
            electrical_dense(xs, pk, model, ok_, edge_u, edge_v, leak, sk, nf,
                             driven, vdrive[s * vstep, 2, k], a, rhs, v, g, dv, cur)
            _stage_rates(xs, pk, model, sck, stk, stoch, dv, cur, k4)
            solves += 3
            for e in range(m):
                xk[e] = _bounded(model[e], pk, e, xk[e], h / 6.0 * (k1[e] + 2.0 * k2[e] + 2.0 * k3[e] + k4[e]))
        if any_stoch:
            for e in range(m):
                if stoch[e] and not stk[e]:
                    _switch_jump(xk, pk, e, dv0[e], h)
    if final:
        electrical_dense(xk, pk, model, ok_, edge_u, edge_v, leak, sk, nf,
                         driven, vdrive[n_steps * vstep, 0, k], a, rhs, v, g, dv, cur)
        solves += 1
        if k == 0:
            rec_t[r] = t0 + n_steps * h
        _record(r, k, xk, g, v, dv, cur, leak, edge_u, edge_v, sk,
                rec_x, rec_i, rec_ve, rec_vn, rec_in, rec_p)
        r += 1
    return r - rec0, solves


@njit(cache=True, error_model="numpy")
def _switch_jump(xk, pk, e, v, h):
    """Binomial switching of a metastable-switch device over one step ``h``."""
    p = pk[e]
    n = int(p[6])
    n_on = int(round(xk[e] * n))
    p_on = min(1.0, h * _sigmoid(p[5] * (v - p[2])) / p[4])
    p_off = min(1.0, h * _sigmoid(-p[5] * (v + p[3])) / p[4])
    up = np.random.binomial(n - n_on, p_on) if n - n_on > 0 else 0
    down = np.random.binomial(n_on, p_off) if n_on > 0 else 0
    xk[e] = (n_on + up - down) / n
