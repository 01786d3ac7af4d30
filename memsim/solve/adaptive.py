r"""Adaptive time stepping in compiled kernels: Bogacki–Shampine 3(2) with PI control and events.

Each copy of a dense network is advanced through a segment by the embedded
Runge–Kutta pair of Bogacki & Shampine (1989)::

    k1 = f(t, x)                      (= k4 of the previous step: FSAL)
    k2 = f(t + h/2,  x + h/2 k1)
    k3 = f(t + 3h/4, x + 3h/4 k2)
    x' = x + h (2/9 k1 + 1/3 k2 + 4/9 k3)                 (order 3)
    k4 = f(t + h, x')
    e  = h (-5/72 k1 + 1/12 k2 + 1/9 k3 - 1/8 k4)          (x' - order-2 solution)

where every ``f`` is a nodal solve followed by the bounded device rates
(:func:`memsim.solve.kernels._stage_rates`). A step is accepted when the
weighted RMS norm ``||e / (atol + rtol max(|x|, |x'|))||`` is at most 1; the
next step is ``h * 0.9 err^(-0.7/3) err_prev^(0.4/3)`` (a PI controller,
Gustafsson 1991; Hairer & Wanner, *Solving ODEs II*, IV.2), between 0.2 and
5 times the last one and at most ``h_max``.

**Events.** A device whose rate changes form inside a step (a VTEAM device
crossing a threshold ``v_on``/``v_off``, a hard-bounded state reaching 0 or
1) makes the rate non-smooth there; an RK step over the kink is inaccurate
and its error estimate meaningless. At the end of every trial step the
regime of each device (below, inside or above its threshold window) is
compared with the one at its start, and every hard-bounded state is checked
for reaching a bound (linear estimates from its initial rate and from the
step). If one of these happens, the crossing fraction ``theta`` is located
by linear interpolation of the switching function (``v - v_threshold``, or
the distance to the bound) and the step is retried to just past it
(``theta + 0.01`` of the trial). A step whose crossing lies in its last 2 %
is accepted, so the next step starts in the new regime (at most four retries
a step); a state that reaches its bound in an accepted step is placed on it,
and its error is estimated against the midpoint rule (``h k2``, second order)
since ``k4`` lies past the bound. Segment ends and the knots of
piecewise-linear drives are step boundaries.

**Samples.** Samples lie on the ``dt`` grid (as for the fixed-step methods):
the state at a sample time inside a step is the cubic Hermite interpolant of
``x, x', k1, k4`` (third order, like the method; for a state that reached
its bound in the step, the quadratic with slope ``k1`` through ``x`` and the
unclipped ``x'``, then clipped),
and the electrical
quantities are solved from it. The dissipated energy of every copy is
integrated along the steps with the method's own weights (``h (2/9 P1 + 1/3
P2 + 4/9 P3)`` over the stage powers), so it needs no recorded power.

Drives: constants (per copy), :class:`~memsim.solve.protocol.Sine` and
:class:`~memsim.solve.protocol.PWL` waveforms are evaluated inside the kernel
(:func:`encode_drives`); other callables run the NumPy twin
(:func:`memsim.solve.stepper.adaptive_python`), which is also the loop of the
sparse engine. The twin implements the same algorithm with NumPy operations
and is what the tests compare the kernel against.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from memsim.solve.kernels import _bounded, _record, _soft_bound, _stage_rates, electrical_dense

__all__ = ["integrate_adaptive", "encode_drives", "A21", "A32", "B", "E",
           "SAFETY", "FAC_MIN", "FAC_MAX", "K_I", "K_P", "EVENT_ACCEPT", "EVENT_AIM", "EVENT_RETRIES",
           "WAVE_CONST", "WAVE_SINE", "WAVE_PWL"]

#: Bogacki–Shampine tableau: stage coefficients, 3rd-order weights, error weights (b - b*).
A21 = 0.5
A32 = 0.75
B = (2.0 / 9.0, 1.0 / 3.0, 4.0 / 9.0)
E = (2.0 / 9.0 - 7.0 / 24.0, 1.0 / 3.0 - 0.25, 4.0 / 9.0 - 1.0 / 3.0, -0.125)
#: PI step-size controller (exponents over the error order k = 3).
SAFETY = 0.9
FAC_MIN = 0.2
FAC_MAX = 5.0
K_I = 0.7 / 3.0
K_P = 0.4 / 3.0
#: Events: a crossing past this fraction of the step is accepted; retries aim this far past it.
EVENT_ACCEPT = 0.98
EVENT_AIM = 0.01
EVENT_RETRIES = 4
#: Waveform codes of :func:`encode_drives`.
WAVE_CONST = 0
WAVE_SINE = 1
WAVE_PWL = 2

_B1, _B2, _B3 = B
_E1, _E2, _E3, _E4 = E


def encode_drives(seg, n_copies: int):
    """Arrays describing a segment's drives for the kernel, or None if a drive is another callable.

    Returns ``(vconst (K, D), kind (D,), sine (D, 4), pwl_start (D + 1,), pwl_t, pwl_v)``:
    ``kind`` is :data:`WAVE_CONST`, :data:`WAVE_SINE` (``sine[d] = amplitude, frequency,
    phase, offset``) or :data:`WAVE_PWL` (knots ``pwl_t[pwl_start[d]:pwl_start[d + 1]]``).

    Examples
    --------
    >>> from memsim import Network, LinearIonDrift, Segment, Sine
    >>> from memsim.solve.protocol import compile_protocol
    >>> net = Network(LinearIonDrift()); net.add_node("a", "input"); _ = net.add_edge("a", "b")
    >>> seg = compile_protocol(net.compile(), [Segment(1.0, drive={"a": Sine(1.0, 2.0)}, ground=["b"])])[0]
    >>> encode_drives(seg, 1)[1].tolist()
    [1, 0]
    """
    from memsim.solve.protocol import PWL, Sine

    d = seg.driven.size
    kind = np.zeros(d, dtype=np.int64)
    sine = np.zeros((d, 4))
    knots_t: list[np.ndarray] = [np.zeros(0)] * d
    knots_v: list[np.ndarray] = [np.zeros(0)] * d
    for col, wave in seg.functions:
        if type(wave) is Sine:
            kind[col] = WAVE_SINE
            sine[col] = (wave.amplitude, wave.frequency, wave.phase, wave.offset)
        elif type(wave) is PWL:
            kind[col] = WAVE_PWL
            knots_t[col] = np.asarray(wave.times, dtype=float)
            knots_v[col] = np.asarray(wave.values, dtype=float)
        else:
            return None
    start = np.zeros(d + 1, dtype=np.int64)
    start[1:] = np.cumsum([t.size for t in knots_t])
    pwl_t = np.concatenate(knots_t) if d else np.zeros(0)
    pwl_v = np.concatenate(knots_v) if d else np.zeros(0)
    vconst = np.ascontiguousarray(np.broadcast_to(seg.constant, (n_copies, d)))
    return vconst, kind, sine, start, pwl_t, pwl_v


@njit(cache=True, error_model="numpy", nogil=True)
def _drive_at(t, k, vconst, kind, sine, pwl_start, pwl_t, pwl_v, out):
    """Driven voltages of copy ``k`` at time ``t`` (twin: ``CompiledSegment.voltages``)."""
    for d in range(kind.shape[0]):
        c = kind[d]
        if c == WAVE_CONST:
            out[d] = vconst[k, d]
        elif c == WAVE_SINE:
            out[d] = sine[d, 3] + sine[d, 0] * math.sin(2.0 * math.pi * sine[d, 1] * t + sine[d, 2])
        else:
            a, b = pwl_start[d], pwl_start[d + 1]
            if t <= pwl_t[a]:
                out[d] = pwl_v[a]
            elif t >= pwl_t[b - 1]:
                out[d] = pwl_v[b - 1]
            else:
                j = a
                while pwl_t[j + 1] < t:
                    j += 1
                w = (t - pwl_t[j]) / (pwl_t[j + 1] - pwl_t[j])
                out[d] = pwl_v[j] + w * (pwl_v[j + 1] - pwl_v[j])


@njit(cache=True, error_model="numpy", nogil=True)
def _regime(m, p, e, v):
    """-1 below the ON threshold, +1 above the OFF threshold, 0 otherwise (VTEAM; 0 for others)."""
    if m == 2:
        if v < p[e, 6]:
            return -1
        if v > p[e, 7]:
            return 1
    return 0


@njit(cache=True, error_model="numpy", nogil=True)
def _crossing(m, p, e, v0, v1, r0, r1):
    """Fraction of a step at which device ``e``'s voltage leaves regime ``r0`` (linear in v)."""
    if r0 == 0:
        thr = p[e, 7] if r1 > 0 else p[e, 6]
    elif r0 > 0:
        thr = p[e, 7]
    else:
        thr = p[e, 6]
    if v0 == v1:
        return 1.0
    return min(1.0, max(0.0, (v0 - thr) / (v0 - v1)))


@njit(cache=True, error_model="numpy", nogil=True)
def _bound_fraction(x, d1, d):
    """Fraction of a step at which a hard-bounded state ``x`` reaches 0 or 1.

    The earlier of two linear estimates: from the initial increment ``d1 = h k1``
    and from the step's increment ``d``; 1 if neither reaches a bound.
    """
    th = 1.0
    for inc in (d1, d):
        if inc > 0.0 and x + inc > 1.0:
            th = min(th, (1.0 - x) / inc)
        elif inc < 0.0 and x + inc < 0.0:
            th = min(th, -x / inc)
    return th


@njit(cache=True, error_model="numpy", nogil=True)
def _stage(xs, t, k, pk, model, ok_, edge_u, edge_v, leak, sk, nf, driven, vconst, kind, sine, pwl_start,
           pwl_t, pwl_v, vd, a, rhs, v, g, dv, cur, sck, stk, stoch, out):
    """One right-hand side: drives at ``t``, nodal solve, bounded rates into ``out``; returns the power."""
    _drive_at(t, k, vconst, kind, sine, pwl_start, pwl_t, pwl_v, vd)
    electrical_dense(xs, pk, model, ok_, edge_u, edge_v, leak, sk, nf, driven, vd, a, rhs, v, g, dv, cur)
    _stage_rates(xs, pk, model, sck, stk, stoch, dv, cur, out)
    p = 0.0
    for e in range(xs.shape[0]):
        if cur[e] != 0.0:
            p += cur[e] * dv[e]
    return p


@njit(cache=True, error_model="numpy", nogil=True)
def _adaptive_copy(
    k, x, params, model, scale, still, stoch, open_, edge_u, edge_v, leak, slot, n_free, driven,
    vconst, kind, sine, pwl_start, pwl_t, pwl_v, breaks, t0, t_end, h_sample, n_samples, step0, record_every,
    rec0, final, rtol, atol, h_max, rec_t, rec_x, rec_i, rec_ve, rec_vn, rec_in, rec_p, energy, counts,
):
    """Advance copy ``k`` through one segment; returns the record rows written."""
    m = x.shape[1]
    nf_max = max(1, n_free[k])
    a = np.empty((nf_max, nf_max))
    rhs = np.empty(nf_max)
    vd = np.empty(driven.shape[0])
    v = np.empty(leak.shape[0])
    g = np.empty(m)
    dv = np.empty(m)
    cur = np.empty(m)
    dv0 = np.empty(m)
    xs = np.empty(m)
    xn = np.empty(m)
    k1 = np.empty(m)
    k2 = np.empty(m)
    k3 = np.empty(m)
    k4 = np.empty(m)
    land = np.zeros(m, dtype=np.bool_)
    xu = np.empty(m)
    xk = x[k]
    pk = params[k]
    ok_ = open_[k]
    sk = slot[k]
    nf = n_free[k]
    sck = scale[k]
    stk = still[k]
    const = True
    for d in range(kind.shape[0]):
        if kind[d] != WAVE_CONST:
            const = False
    need_solve = rec_i.shape[0] > 0 or rec_ve.shape[0] > 0 or rec_vn.shape[0] > 0 or rec_in.shape[0] > 0 \
        or rec_p.shape[0] > 0
    need_x = need_solve or rec_x.shape[0] > 0
    solves = 0
    accepted = 0
    rejected = 0
    events = 0
    r = rec0
    # next sample index on the dt grid
    s_next = 0
    while s_next < n_samples and (step0 + s_next) % record_every != 0:
        s_next += 1
    t = t0
    p1 = _stage(xk, t, k, pk, model, ok_, edge_u, edge_v, leak, sk, nf, driven, vconst, kind, sine,
                pwl_start, pwl_t, pwl_v, vd, a, rhs, v, g, dv, cur, sck, stk, stoch, k1)
    solves += 1
    for e in range(m):
        dv0[e] = dv[e]
    # initial step (Hairer, Norsett & Wanner, II.4): 1 % of the state over its rate
    d0 = 0.0
    d1 = 0.0
    for e in range(m):
        sc = atol + rtol * abs(xk[e])
        d0 += (xk[e] / sc) ** 2
        d1 += (k1[e] / sc) ** 2
    d0 = math.sqrt(d0 / m)
    d1 = math.sqrt(d1 / m)
    h = 1e-6 * (t_end - t0) if (d0 < 1e-5 or d1 < 1e-5) else 0.01 * d0 / d1
    h = min(h, h_max, t_end - t0)
    err_prev = 1e-4
    ib = 0
    while ib < breaks.shape[0] and breaks[ib] <= t0:
        ib += 1
    while t < t_end:
        moving = False
        for e in range(m):
            if k1[e] != 0.0:
                moving = True
                break
        if const and not moving:
            # constant drive and nothing moves: the rest of the segment is this state
            if need_solve:
                _stage(xk, t, k, pk, model, ok_, edge_u, edge_v, leak, sk, nf, driven, vconst, kind, sine,
                       pwl_start, pwl_t, pwl_v, vd, a, rhs, v, g, dv, cur, sck, stk, stoch, k4)
                solves += 1
            while s_next < n_samples:
                if k == 0:
                    rec_t[r] = t0 + s_next * h_sample
                _record(r, k, xk, g, v, dv, cur, leak, edge_u, edge_v, sk, rec_x, rec_i, rec_ve, rec_vn,
                        rec_in, rec_p)
                r += 1
                s_next += record_every
            energy[k] += p1 * (t_end - t)
            t = t_end
            break
        stop = t_end
        if ib < breaks.shape[0] and breaks[ib] < t_end:
            stop = breaks[ib]
        h_prop = h
        retries = 0
        while True:
            ht = min(h, stop - t)
            if t + ht >= stop or (stop - t - ht) <= 1e-12 * (stop - t0):
                ht = stop - t
                t_new = stop
            else:
                t_new = t + ht
            for e in range(m):
                xs[e] = _bounded(model[e], pk, e, xk[e], A21 * ht * k1[e])
            p2 = _stage(xs, t + A21 * ht, k, pk, model, ok_, edge_u, edge_v, leak, sk, nf, driven, vconst, kind,
                        sine, pwl_start, pwl_t, pwl_v, vd, a, rhs, v, g, dv, cur, sck, stk, stoch, k2)
            for e in range(m):
                xs[e] = _bounded(model[e], pk, e, xk[e], A32 * ht * k2[e])
            p3 = _stage(xs, t + A32 * ht, k, pk, model, ok_, edge_u, edge_v, leak, sk, nf, driven, vconst, kind,
                        sine, pwl_start, pwl_t, pwl_v, vd, a, rhs, v, g, dv, cur, sck, stk, stoch, k3)
            theta = 1.0
            for e in range(m):
                step = ht * (_B1 * k1[e] + _B2 * k2[e] + _B3 * k3[e])
                xn[e] = _bounded(model[e], pk, e, xk[e], step)
                land[e] = False
                if not stk[e] and not _soft_bound(model[e], pk, e) and 0.0 < xk[e] < 1.0:
                    theta = min(theta, _bound_fraction(xk[e], ht * k1[e], step))
                    xu[e] = xk[e] + step
                    land[e] = xu[e] > 1.0 or xu[e] < 0.0
            p4 = _stage(xn, t_new, k, pk, model, ok_, edge_u, edge_v, leak, sk, nf, driven, vconst, kind, sine,
                        pwl_start, pwl_t, pwl_v, vd, a, rhs, v, g, dv, cur, sck, stk, stoch, k4)
            solves += 3
            err = 0.0
            for e in range(m):
                if land[e]:  # k4 is past the bound: compare with the midpoint rule (k2) instead
                    ee = ht * (_B1 * k1[e] + (_B2 - 1.0) * k2[e] + _B3 * k3[e])
                else:
                    ee = ht * (_E1 * k1[e] + _E2 * k2[e] + _E3 * k3[e] + _E4 * k4[e])
                sc = atol + rtol * max(abs(xk[e]), abs(xn[e]))
                err += (ee / sc) ** 2
                if not stk[e] and (k1[e] != 0.0 or k4[e] != 0.0):
                    r0 = _regime(model[e], pk, e, dv0[e])
                    r1 = _regime(model[e], pk, e, dv[e])
                    if r0 != r1:
                        theta = min(theta, _crossing(model[e], pk, e, dv0[e], dv[e], r0, r1))
            err = math.sqrt(err / m)
            if theta < EVENT_ACCEPT and retries < EVENT_RETRIES and theta * ht > 0.0:
                # a regime changes inside the step: retry to just past the crossing
                retries += 1
                events += 1
                h = ht * (theta + EVENT_AIM)
                continue
            if not err <= 1.0:  # also NaN
                rejected += 1
                fac = max(FAC_MIN, SAFETY * err ** (-1.0 / 3.0)) if err == err else FAC_MIN
                h = ht * min(1.0, fac)
                if h <= 4.0 * 2.2e-16 * max(abs(t), abs(t_end)):
                    counts[k, 4] = 1  # step size underflow: the caller reports it
                    t = t_end
                    break
                continue
            break
        if counts[k, 4] != 0:
            break
        # accepted: samples inside [t, t_new), by cubic Hermite interpolation
        if not need_x:  # only the sample times are wanted: no interpolation
            while s_next < n_samples and t0 + s_next * h_sample < t_new:
                if k == 0:
                    rec_t[r] = t0 + s_next * h_sample
                r += 1
                s_next += record_every
        while s_next < n_samples and t0 + s_next * h_sample < t_new:
            ts = t0 + s_next * h_sample
            th = (ts - t) / ht
            h00 = (1.0 + 2.0 * th) * (1.0 - th) ** 2
            h10 = th * (1.0 - th) ** 2
            h01 = th * th * (3.0 - 2.0 * th)
            h11 = th * th * (th - 1.0)
            for e in range(m):
                if land[e]:  # k4 is the rate after the bound: quadratic to the unclipped x' with slope k1
                    xi = xk[e] + th * ht * k1[e] + th * th * (xu[e] - xk[e] - ht * k1[e])
                else:
                    xi = h00 * xk[e] + h10 * ht * k1[e] + h01 * xn[e] + h11 * ht * k4[e]
                xs[e] = xk[e] if stk[e] else min(1.0, max(0.0, xi))
            if need_solve:
                _drive_at(ts, k, vconst, kind, sine, pwl_start, pwl_t, pwl_v, vd)
                electrical_dense(xs, pk, model, ok_, edge_u, edge_v, leak, sk, nf, driven, vd, a, rhs, v, g,
                                 dv0, cur)
                solves += 1
            if k == 0:
                rec_t[r] = ts
            _record(r, k, xs, g, v, dv0, cur, leak, edge_u, edge_v, sk, rec_x, rec_i, rec_ve, rec_vn, rec_in, rec_p)
            r += 1
            s_next += record_every
        energy[k] += ht * (_B1 * p1 + _B2 * p2 + _B3 * p3)
        accepted += 1
        for e in range(m):
            xk[e] = xn[e]
            k1[e] = k4[e]
            dv0[e] = dv[e]
        p1 = p4
        t = t_new
        if ib < breaks.shape[0] and t >= breaks[ib]:
            ib += 1
            err_prev = 1e-4
        # PI controller from the accepted error, restarted from the pre-event proposal
        errc = max(err, 1e-10)
        fac = SAFETY * errc ** (-K_I) * err_prev ** K_P
        fac = min(FAC_MAX, max(FAC_MIN, fac))
        base = h_prop if retries > 0 else ht
        h = min(h_max, base * fac)
        err_prev = errc
    if final:
        _stage(xk, t_end, k, pk, model, ok_, edge_u, edge_v, leak, sk, nf, driven, vconst, kind, sine,
               pwl_start, pwl_t, pwl_v, vd, a, rhs, v, g, dv, cur, sck, stk, stoch, k4)
        solves += 1
        if k == 0:
            rec_t[r] = t_end
        _record(r, k, xk, g, v, dv, cur, leak, edge_u, edge_v, sk, rec_x, rec_i, rec_ve, rec_vn, rec_in, rec_p)
        r += 1
    counts[k, 0] += solves
    counts[k, 1] += accepted
    counts[k, 2] += rejected
    counts[k, 3] += events
    return r - rec0


@njit(cache=True, error_model="numpy", nogil=True)
def integrate_adaptive(
    k_lo, k_hi, x, params, model, scale, still, stoch, open_, edge_u, edge_v, leak, slot, n_free, driven,
    vconst, kind, sine, pwl_start, pwl_t, pwl_v, breaks, t0, t_end, h_sample, n_samples, step0, record_every,
    rec0, final, rtol, atol, h_max, rec_t, rec_x, rec_i, rec_ve, rec_vn, rec_in, rec_p, energy, counts,
):
    """Advance copies ``k_lo <= k < k_hi`` of a dense network through one segment with adaptive steps.

    Arguments as in :func:`memsim.solve.kernels.integrate_dense`, except the
    drives (:func:`encode_drives`: ``vconst, kind, sine, pwl_start, pwl_t,
    pwl_v``), ``breaks`` (sorted times the steps must land on), the segment
    ``[t0, t_end]``, the sample grid (``h_sample``, ``n_samples`` grid points
    ``t0 + s h_sample``, recorded when ``(step0 + s) % record_every == 0``),
    the tolerances ``rtol, atol``, the largest step ``h_max``, ``energy`` (K,)
    to which each copy's dissipated energy is added, and ``counts`` (K, 5)
    int64 to which (solves, accepted, rejected, event retries, failed) are
    added. Returns the number of record rows written (the same for every copy).

    Copies are independent and the kernel releases the GIL (``nogil``), so
    disjoint copy ranges can run on threads at once with the same result
    (the caller does so for large ensembles).
    """
    rows = 0
    for k in range(k_lo, k_hi):
        rows = _adaptive_copy(
            k, x, params, model, scale, still, stoch, open_, edge_u, edge_v, leak, slot, n_free, driven,
            vconst, kind, sine, pwl_start, pwl_t, pwl_v, breaks, t0, t_end, h_sample, n_samples, step0,
            record_every, rec0, final, rtol, atol, h_max, rec_t, rec_x, rec_i, rec_ve, rec_vn, rec_in, rec_p,
            energy, counts)
    return rows
