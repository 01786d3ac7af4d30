"""Fixed-step integration in Python around a pluggable electrical solve.

:func:`integrate_python` is the plain-NumPy twin of
:func:`memsim.solve.kernels.integrate_dense` (same schemes, bounds and
recording rules) and, around :class:`memsim.solve.sparse.SparseElectrical`,
of the compiled sparse loop :func:`memsim.solve.sparse_step.integrate_sparse`;
it is also the sparse path itself for stochastic switches and for an explicit
``factor_backend`` (CHOLMOD or SuperLU).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from memsim.devices import functions as fn
from memsim.solve.kernels import SLOT_DRIVEN

__all__ = ["integrate_python", "adaptive_python", "record_sample", "numpy_rates", "ElectricalSolve"]

#: ``solve(k, x_k, v_driven) -> (g, v_node, v_edge, i_edge)`` for copy ``k``.
ElectricalSolve = Callable[[int, np.ndarray, np.ndarray], tuple]


def soft_bounds(model: np.ndarray, params_k: np.ndarray) -> np.ndarray:
    """(M,) bool: devices whose rate vanishes at the bounds (twin of ``kernels._soft_bound``)."""
    return ((model == 1) & (params_k[:, 3] != 0)) | ((model == 2) & (params_k[:, 9] > 0)) | (model == 4)


def bounded(x: np.ndarray, d: np.ndarray, soft: np.ndarray) -> np.ndarray:
    """Keep a step of ``d`` from ``x`` in [0, 1] (twin of ``kernels._bounded``)."""
    y = x + d
    lost = (y == x) & (d != 0.0) & (np.minimum(x, 1.0 - x) < 1e-6) & soft
    ulp = np.clip(np.where(d > 0, np.nextafter(x, 2.0), np.nextafter(x, -1.0)), 0.0, 1.0)
    y = np.where(lost, ulp, y)
    y = np.where(x + d > 1.0, np.where(soft, x + 0.5 * (1.0 - x), 1.0), y)
    return np.where(x + d < 0.0, np.where(soft, 0.5 * x, 0.0), y)


def numpy_rates(model, params_k, x, dv, cur, scale_k, still_k, stoch):
    """Bounded stage rates of one copy, in plain NumPy (twin of ``kernels._stage_rates``)."""
    r = fn.rate(model, params_k, x, dv, cur) * scale_k
    r = fn.bound_rate(x, r)
    return np.where(still_k | stoch, 0.0, r)


def record_sample(buffers, r, k, x, g, v, dv, cur, leak, edge_u, edge_v, slot_k):
    rec_x, rec_i, rec_ve, rec_vn, rec_in, rec_p = buffers
    if rec_x.shape[0]:
        rec_x[r, k] = x
    if rec_i.shape[0]:
        rec_i[r, k] = cur
    if rec_ve.shape[0]:
        rec_ve[r, k] = dv
    if rec_vn.shape[0]:
        rec_vn[r, k] = v
    if rec_in.shape[0]:
        drv = slot_k == SLOT_DRIVEN
        inj = np.where(drv, leak * np.where(drv, v, 0.0), 0.0)
        np.add.at(inj, edge_u, np.where(drv[edge_u], cur, 0.0))
        np.add.at(inj, edge_v, np.where(drv[edge_v], -cur, 0.0))
        rec_in[r, k] = inj
    if rec_p.shape[0]:
        rec_p[r, k] = np.sum(np.where(cur != 0.0, cur * dv, 0.0))


def integrate_python(
    solve: ElectricalSolve,
    x: np.ndarray,
    params: np.ndarray,
    model: np.ndarray,
    scale: np.ndarray,
    still: np.ndarray,
    stoch: np.ndarray,
    leak: np.ndarray,
    edge_u: np.ndarray,
    edge_v: np.ndarray,
    slot: np.ndarray,
    vdrive: np.ndarray,
    vstep: int,
    t0: float,
    h: float,
    n_steps: int,
    method: int,
    step0: int,
    record_every: int,
    rec0: int,
    final: bool,
    buffers: tuple,
    rec_t: np.ndarray,
    rng: np.random.Generator | None,
    rates: Callable = numpy_rates,
) -> int:
    """Advance every copy through one segment; arguments as in ``integrate_dense``.

    ``solve`` replaces the dense nodal solve; ``rng`` draws the binomial
    switching of stochastic devices; ``rates`` evaluates the bounded stage
    rates (default: the NumPy reference, :func:`numpy_rates`). Returns the
    number of record rows written.
    """
    n_copies = x.shape[0]
    r = rec0
    for k in range(n_copies):
        r = rec0
        xk = x[k]
        pk = params[k]
        args = (model, pk)
        tail = (scale[k], still[k], stoch)
        soft = soft_bounds(model, pk)
        for s in range(n_steps):
            t = t0 + s * h
            g, v, dv, cur = solve(k, xk, vdrive[s * vstep, 0, k])
            if (step0 + s) % record_every == 0:
                rec_t[r] = t
                record_sample(buffers, r, k, xk, g, v, dv, cur, leak, edge_u, edge_v, slot[k])
                r += 1
            dv0 = dv
            k1 = rates(*args, xk, dv, cur, *tail)
            if method == 0:
                new = h * k1
            elif method == 1:
                xs = bounded(xk, h * k1, soft)
                _, _, dv, cur = solve(k, xs, vdrive[s * vstep, 1, k])
                k2 = rates(*args, xs, dv, cur, *tail)
                new = 0.5 * h * (k1 + k2)
            else:
                xs = bounded(xk, 0.5 * h * k1, soft)
                _, _, dv, cur = solve(k, xs, vdrive[s * vstep, 1, k])
                k2 = rates(*args, xs, dv, cur, *tail)
                xs = bounded(xk, 0.5 * h * k2, soft)
                _, _, dv, cur = solve(k, xs, vdrive[s * vstep, 1, k])
                k3 = rates(*args, xs, dv, cur, *tail)
                xs = bounded(xk, h * k3, soft)
                _, _, dv, cur = solve(k, xs, vdrive[s * vstep, 2, k])
                k4 = rates(*args, xs, dv, cur, *tail)
                new = h / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
            xk[:] = bounded(xk, new, soft)
            jump = stoch & ~still[k]
            if np.any(jump):
                xk[jump] = _switch_jump(pk[jump], xk[jump], dv0[jump], h, rng)
        if final:
            g, v, dv, cur = solve(k, xk, vdrive[n_steps * vstep, 0, k])
            rec_t[r] = t0 + n_steps * h
            record_sample(buffers, r, k, xk, g, v, dv, cur, leak, edge_u, edge_v, slot[k])
            r += 1
    return r - rec0


def _switch_jump(p, x, v, h, rng):
    """Binomial switching of metastable-switch devices (twin of the kernel's)."""
    n = p[:, 6].astype(np.int64)
    n_on = np.rint(x * n).astype(np.int64)
    rate_on, rate_off = fn.gms_probabilities(p, v)
    up = rng.binomial(n - n_on, np.minimum(1.0, h * rate_on))
    down = rng.binomial(n_on, np.minimum(1.0, h * rate_off))
    return (n_on + up - down) / n


def _regimes(model: np.ndarray, p: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Twin of ``adaptive._regime``: -1 / 0 / +1 for VTEAM devices below / inside / above their window."""
    vteam = model == 2
    return np.where(vteam & (v < p[:, 6]), -1, np.where(vteam & (v > p[:, 7]), 1, 0))


def _crossings(p: np.ndarray, v0: np.ndarray, v1: np.ndarray, r0: np.ndarray, r1: np.ndarray) -> np.ndarray:
    """Twin of ``adaptive._crossing`` (vectorised)."""
    thr = np.where(r0 == 0, np.where(r1 > 0, p[:, 7], p[:, 6]), np.where(r0 > 0, p[:, 7], p[:, 6]))
    with np.errstate(divide="ignore", invalid="ignore"):
        th = np.clip((v0 - thr) / (v0 - v1), 0.0, 1.0)
    return np.where(v0 == v1, 1.0, th)


def _bound_fractions(x: np.ndarray, inc: np.ndarray) -> np.ndarray:
    """Twin of ``adaptive._bound_fraction`` for one increment: fraction at which ``x + inc`` leaves [0, 1]."""
    with np.errstate(divide="ignore", invalid="ignore"):
        up = np.where((inc > 0.0) & (x + inc > 1.0), (1.0 - x) / inc, 1.0)
        down = np.where((inc < 0.0) & (x + inc < 0.0), -x / inc, 1.0)
    return np.minimum(up, down)


def adaptive_python(
    solve: ElectricalSolve,
    voltages: Callable[[float], np.ndarray],
    x: np.ndarray,
    params: np.ndarray,
    model: np.ndarray,
    scale: np.ndarray,
    still: np.ndarray,
    stoch: np.ndarray,
    leak: np.ndarray,
    edge_u: np.ndarray,
    edge_v: np.ndarray,
    slot: np.ndarray,
    breaks: np.ndarray,
    t0: float,
    t_end: float,
    h_sample: float,
    n_samples: int,
    step0: int,
    record_every: int,
    rec0: int,
    final: bool,
    rtol: float,
    atol: float,
    h_max: float,
    constant: bool,
    buffers: tuple,
    rec_t: np.ndarray,
    energy: np.ndarray,
    counts: np.ndarray,
    rates: Callable = numpy_rates,
) -> int:
    """Adaptive Bogacki–Shampine steps around a pluggable solve: the twin of
    :func:`memsim.solve.adaptive.integrate_adaptive` (same algorithm, step by step).

    ``voltages(t)`` gives the (K, D) driven voltages at time ``t``;
    ``constant`` says they do not depend on ``t``. Other arguments as in the
    kernel. Returns the number of record rows written.
    """
    from memsim.solve import adaptive as ad

    b1, b2, b3 = ad.B
    e1, e2, e3, e4 = ad.E
    rec_x, rec_i, rec_ve, rec_vn, rec_in, rec_p = buffers
    need_solve = any(b.shape[0] > 0 for b in (rec_i, rec_ve, rec_vn, rec_in, rec_p))
    r = rec0
    for k in range(x.shape[0]):
        xk, pk, stk = x[k], params[k], still[k]
        soft = soft_bounds(model, pk)
        tail = (scale[k], stk, stoch)
        r = rec0
        n_solve = accepted = rejected = events = 0

        def f(xs, t):
            _, _, dv, cur = solve(k, xs, voltages(t)[k])
            return rates(model, pk, xs, dv, cur, *tail), dv, float(np.sum(np.where(cur != 0.0, cur * dv, 0.0)))

        s_next = 0
        while s_next < n_samples and (step0 + s_next) % record_every != 0:
            s_next += 1
        t = t0
        k1, dv0, p1 = f(xk, t)
        n_solve += 1
        sc = atol + rtol * np.abs(xk)
        d0 = np.sqrt(np.mean((xk / sc) ** 2))
        d1 = np.sqrt(np.mean((k1 / sc) ** 2))
        h = 1e-6 * (t_end - t0) if (d0 < 1e-5 or d1 < 1e-5) else 0.01 * d0 / d1
        h = min(h, h_max, t_end - t0)
        err_prev = 1e-4
        ib = int(np.searchsorted(breaks, t0, side="right"))
        while t < t_end:
            if constant and not np.any(k1 != 0.0):
                g, v, dv, cur = solve(k, xk, voltages(t)[k])
                n_solve += int(need_solve)
                while s_next < n_samples:
                    rec_t[r] = t0 + s_next * h_sample
                    record_sample(buffers, r, k, xk, g, v, dv, cur, leak, edge_u, edge_v, slot[k])
                    r += 1
                    s_next += record_every
                energy[k] += p1 * (t_end - t)
                t = t_end
                break
            stop = breaks[ib] if ib < breaks.size and breaks[ib] < t_end else t_end
            h_prop, retries = h, 0
            while True:
                ht = min(h, stop - t)
                if t + ht >= stop or (stop - t - ht) <= 1e-12 * (stop - t0):
                    ht, t_new = stop - t, stop
                else:
                    t_new = t + ht
                k2, _, p2 = f(bounded(xk, ad.A21 * ht * k1, soft), t + ad.A21 * ht)
                k3, _, p3 = f(bounded(xk, ad.A32 * ht * k2, soft), t + ad.A32 * ht)
                step = ht * (b1 * k1 + b2 * k2 + b3 * k3)
                xn = bounded(xk, step, soft)
                y = xk + step
                hard = ~stk & ~soft & (xk > 0.0) & (xk < 1.0)
                th_b = np.minimum(_bound_fractions(xk, ht * k1), _bound_fractions(xk, step))[hard]
                land = hard & ((y > 1.0) | (y < 0.0))
                k4, dv, p4 = f(xn, t_new)
                n_solve += 3
                sc = atol + rtol * np.maximum(np.abs(xk), np.abs(xn))
                ee = np.where(land, ht * (b1 * k1 + (b2 - 1.0) * k2 + b3 * k3),
                              ht * (e1 * k1 + e2 * k2 + e3 * k3 + e4 * k4)) / sc
                err = float(np.sqrt(np.mean(ee ** 2)))
                r0, r1 = _regimes(model, pk, dv0), _regimes(model, pk, dv)
                ev = ~stk & ((k1 != 0.0) | (k4 != 0.0)) & (r0 != r1)
                theta = min(1.0, float(np.min(th_b, initial=1.0)),
                            float(_crossings(pk, dv0, dv, r0, r1)[ev].min(initial=1.0)))
                if theta < ad.EVENT_ACCEPT and retries < ad.EVENT_RETRIES and theta * ht > 0.0:
                    retries += 1
                    events += 1
                    h = ht * (theta + ad.EVENT_AIM)
                    continue
                if not err <= 1.0:
                    rejected += 1
                    fac = max(ad.FAC_MIN, ad.SAFETY * err ** (-1.0 / 3.0)) if err == err else ad.FAC_MIN
                    h = ht * min(1.0, fac)
                    if h <= 4.0 * 2.2e-16 * max(abs(t), abs(t_end)):
                        counts[k, 4] = 1
                        t = t_end
                        break
                    continue
                break
            if counts[k, 4]:
                break
            while s_next < n_samples and t0 + s_next * h_sample < t_new:
                ts = t0 + s_next * h_sample
                if not (need_solve or rec_x.shape[0]):  # only the sample times are wanted
                    rec_t[r] = ts
                    r += 1
                    s_next += record_every
                    continue
                th = (ts - t) / ht
                h00, h10 = (1.0 + 2.0 * th) * (1.0 - th) ** 2, th * (1.0 - th) ** 2
                h01, h11 = th * th * (3.0 - 2.0 * th), th * th * (th - 1.0)
                quad = xk + th * ht * k1 + th * th * (y - xk - ht * k1)
                xs = np.clip(np.where(land, quad, h00 * xk + h10 * ht * k1 + h01 * xn + h11 * ht * k4), 0.0, 1.0)
                xs = np.where(stk, xk, xs)
                if need_solve:
                    g, v, dvs, cur = solve(k, xs, voltages(ts)[k])
                    n_solve += 1
                else:
                    g = v = dvs = cur = None
                rec_t[r] = ts
                record_sample(buffers, r, k, xs, g, v, dvs, cur, leak, edge_u, edge_v, slot[k])
                r += 1
                s_next += record_every
            energy[k] += ht * (b1 * p1 + b2 * p2 + b3 * p3)
            accepted += 1
            xk[:] = xn
            k1, dv0, p1, t = k4, dv, p4, t_new
            if ib < breaks.size and t >= breaks[ib]:
                ib += 1
                err_prev = 1e-4
            errc = max(err, 1e-10)
            fac = min(ad.FAC_MAX, max(ad.FAC_MIN, ad.SAFETY * errc ** (-ad.K_I) * err_prev ** ad.K_P))
            h = min(h_max, (h_prop if retries > 0 else ht) * fac)
            err_prev = errc
        if final:
            g, v, dv, cur = solve(k, xk, voltages(t_end)[k])
            n_solve += 1
            rec_t[r] = t_end
            record_sample(buffers, r, k, xk, g, v, dv, cur, leak, edge_u, edge_v, slot[k])
            r += 1
        counts[k, 1:4] += (accepted, rejected, events)  # solves: counted by ``solve``
    return r - rec0
