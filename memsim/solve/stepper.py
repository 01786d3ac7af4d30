"""Fixed-step integration in Python around a pluggable electrical solve.

:func:`integrate_python` is the plain-NumPy twin of
:func:`memsim.solve.kernels.integrate_dense` (same schemes, bounds and
recording rules) and the time loop of the sparse path, where each step's cost
is dominated by the sparse factorisation rather than by Python.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from memsim.devices import functions as fn
from memsim.solve.kernels import SLOT_DRIVEN

__all__ = ["integrate_python", "record_sample", "numpy_rates", "ElectricalSolve"]

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
