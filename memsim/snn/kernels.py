"""numba kernels of the event-driven LIF layer: exact forward and EventProp adjoint.

Every kernel has a twin in :mod:`memsim.snn.reference` (plain Python with
SciPy: matrix exponentials of the 2 x 2 linear system and ``brentq`` on a
grid-found bracket) that the tests compare against it:

==========================  ===============================================
kernel                      twin
==========================  ===============================================
:func:`layer_forward`       :func:`memsim.snn.reference.layer_forward`
:func:`layer_backward`      :func:`memsim.snn.reference.layer_backward`
==========================  ===============================================

A layer is fed by one sorted list of presynaptic events per sample:
``tp[b, e]`` (times, ascending; only the first ``n_valid[b]`` are used) and
``src[b, e]`` (presynaptic neuron of each event). Every neuron of the layer
is independent given that list, so a feed-forward network is run layer by
layer (:mod:`memsim.snn.eventprop`). Samples are independent too: the
``*_parallel`` variants spread them over numba's threads (``prange``); the
plain ones run serially (faster on a machine whose cores are busy).

Threshold crossings: between events ``V(s) = a exp(-s/tau_mem) + b
exp(-s/tau_syn)`` has at most one critical point ``s*`` (closed form in
:func:`_peak`). With a threshold above the resting value 0, ``V`` can reach
it only while rising, i.e. on ``[0, min(S, s*)]`` when ``V'(0) > 0``; there
``V`` is increasing, so if ``V`` ends above the threshold the bracket holds
exactly one root, found by Newton steps safeguarded by bisection.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

__all__ = ["layer_forward", "layer_backward", "layer_forward_parallel", "layer_backward_parallel"]

_MAX_ITER = 100


@njit(cache=True, inline="always", error_model="numpy")
def _phi(s, tm, ts):
    d = 1.0 / ts - 1.0 / tm
    if d == 0.0:
        return s * math.exp(-s / tm)
    return math.exp(-s / tm) * (-math.expm1(-s * d)) / d


@njit(cache=True, inline="always", error_model="numpy")
def _prop(v, i, s, tm, ts):
    return v * math.exp(-s / tm) + i / tm * _phi(s, tm, ts), i * math.exp(-s / ts)


@njit(cache=True, error_model="numpy")
def _peak(v0, i0, tm, ts):
    """Time ``s* > 0`` of the critical point of ``V`` (where ``V = I``), or ``inf``."""
    if i0 == 0.0:
        return math.inf
    x = (tm - ts) * (v0 - i0) / (i0 * tm)
    if 1.0 + x <= 0.0:
        return math.inf
    q = math.log1p(x) / x if abs(x) > 1e-8 else 1.0 - 0.5 * x + x * x / 3.0
    s = q * ts * (i0 - v0) / i0
    return s if s > 0.0 else math.inf


@njit(cache=True, error_model="numpy")
def _crossing(v0, i0, span, tm, ts, th):
    """First ``s`` in ``(0, span]`` with ``V(s) = th`` (``v0 < th``, ``th > 0``), or ``-1``."""
    if span <= 0.0 or i0 <= v0 or i0 < th:  # V never exceeds max(v0, i0) (V rises only while below I)
        return -1.0
    end = min(span, _peak(v0, i0, tm, ts))
    ve, _ = _prop(v0, i0, end, tm, ts)
    if ve < th:
        return -1.0
    lo, hi = 0.0, end
    s = 0.5 * end
    for _ in range(_MAX_ITER):
        v, i = _prop(v0, i0, s, tm, ts)
        f = v - th
        if f == 0.0:
            return s
        if f < 0.0:
            lo = s
        else:
            hi = s
        df = (i - v) / tm
        sn = s - f / df if df > 0.0 else -1.0
        if not (lo < sn < hi):
            sn = 0.5 * (lo + hi)
        if abs(sn - s) <= 2e-16 * sn or hi - lo <= 4e-16 * hi:
            return sn
        s = sn
    return s


def _layer_forward(tp, src, n_valid, w, table, t_max, k_max):
    """Exact event-driven forward pass of one layer for a batch of samples.

    Parameters
    ----------
    tp : (B, E) float, presynaptic event times, ascending per row.
    src : (B, E) int, presynaptic neuron of each event.
    n_valid : (B,) int, events used per sample (those before ``t_max``).
    w : (N, N_pre) float, weights (``w[i, j]``: from ``j`` to ``i``).
    table : (N, 5) float, packed neuron parameters (:mod:`memsim.snn.lif`).
    t_max : float, end of the simulated window, s.
    k_max : int, spikes recorded per neuron.

    Returns
    -------
    times : (B, N, k_max) spike times, ``inf`` padded.
    i_spike : (B, N, k_max) synaptic current at each spike.
    i_release : (B, N, k_max) current at the end of each refractory period
        (``nan`` when it ends after ``t_max`` or never).
    count : (B, N) spikes recorded; overflow : (B, N) bool, a neuron wanted
        more than ``k_max`` spikes.
    vmax, t_vmax, vdot_vmax : (B, N) membrane maximum over ``[0, t_max]``,
        its time and ``dV/dt`` just before it, for neurons with an infinite
        threshold (``nan`` otherwise); e_vmax : (B, N) int, the event whose
        arrival makes that maximum a kink (``-1`` if it is a smooth maximum
        or at ``t_max``).
    """
    n_b = tp.shape[0]
    n = w.shape[0]
    times = np.full((n_b, n, k_max), np.inf)
    i_spike = np.full((n_b, n, k_max), np.nan)
    i_release = np.full((n_b, n, k_max), np.nan)
    count = np.zeros((n_b, n), np.int64)
    overflow = np.zeros((n_b, n), np.bool_)
    vmax = np.full((n_b, n), np.nan)
    t_vmax = np.full((n_b, n), np.nan)
    vdot_vmax = np.full((n_b, n), np.nan)
    e_vmax = np.full((n_b, n), -1, np.int64)
    for b in prange(n_b):
        nv = n_valid[b]
        for i in range(n):
            tm = table[i, 0]
            ts = table[i, 1]
            th = table[i, 2]
            vr = table[i, 3]
            ref = table[i, 4]
            track = not math.isfinite(th)
            v = 0.0
            cur = 0.0
            t = 0.0
            release = -math.inf
            cnt = 0
            best = 0.0
            t_best = 0.0
            vd_best = 0.0
            e_best = -1
            for e in range(nv + 1):
                te = tp[b, e] if e < nv else t_max
                while True:
                    if t < release:  # held after a spike
                        if release == math.inf:
                            break  # one-spike mode: nothing more to record
                        if release > te:
                            cur *= math.exp(-(te - t) / ts)
                            t = te
                            break
                        cur *= math.exp(-(release - t) / ts)
                        t = release
                        v = vr
                        i_release[b, i, cnt - 1] = cur
                        continue
                    span = te - t
                    if not track:
                        s = _crossing(v, cur, span, tm, ts, th)
                        if s >= 0.0:
                            _, cur = _prop(v, cur, s, tm, ts)
                            t = t + s
                            v = vr
                            if cnt == k_max:
                                overflow[b, i] = True
                                release = math.inf
                                continue
                            times[b, i, cnt] = t
                            i_spike[b, i, cnt] = cur
                            cnt += 1
                            release = t + ref
                            if ref == 0.0:
                                i_release[b, i, cnt - 1] = cur
                            continue
                    elif cur > v and span > 0.0:
                        sp = _peak(v, cur, tm, ts)
                        if sp < span:
                            vp, _ = _prop(v, cur, sp, tm, ts)
                            if vp > best:
                                best, t_best, vd_best, e_best = vp, t + sp, 0.0, -1
                    if span > 0.0:
                        v, cur = _prop(v, cur, span, tm, ts)
                    t = te
                    if track and v > best:
                        best, t_best, vd_best = v, te, (cur - v) / tm
                        e_best = e if e < nv else -1
                    break
                if release == math.inf and not track:
                    break
                if e < nv:
                    cur += w[i, src[b, e]]
            count[b, i] = cnt
            if track:
                vmax[b, i] = best
                t_vmax[b, i] = t_best
                vdot_vmax[b, i] = vd_best
                e_vmax[b, i] = e_best
    return times, i_spike, i_release, count, overflow, vmax, t_vmax, vdot_vmax, e_vmax


def _layer_backward(tp, src, n_valid, w, table, t_max, times, count, i_spike, i_release, dl_dt,
                   t_vmax, vdot_vmax, e_vmax, dl_dvmax):
    """EventProp adjoint of one layer (Wunderlich & Pehle 2021), backwards from ``t_max``.

    The costates are ``lv = dL/dV`` and ``li = dL/dI`` (W&P's ``lambda_V``,
    ``lambda_I`` times ``-tau_mem``, ``-tau_syn``). Between events, going
    back by ``s``: ``lv <- lv exp(-s/tau_mem)``, ``li <- li exp(-s/tau_syn) +
    lv phi(s)/tau_mem`` (``lv = 0`` while the membrane is held). Events, in
    reverse order:

    - arrival of presynaptic spike ``e`` (neuron ``j``): ``dL/dW_ij += li``;
      ``dL/dt_e += W_ij (li/tau_syn - lv/tau_mem)`` (how the arrival time
      moves this neuron's state);
    - end of a refractory period ``t_k + t_ref``: ``R_k = lv (I - reset)/tau_mem``,
      then ``lv = 0`` (the held membrane forgets perturbations);
    - own spike ``k``: ``lv = -(dL/dt_k - R_k) / V'(t_k-)``, ``V'(t_k-) =
      (I(t_k) - threshold)/tau_mem`` (W&P Table 2 jump, with the reset's
      ``lambda_V+`` term carried by ``R_k``);
    - membrane maximum of a non-spiking neuron: ``lv += dL/dVmax``; at a kink
      (event ``e_vmax``) also ``dL/dt_e += dL/dVmax V'(t_e-)``.

    Returns
    -------
    dw : (B, N, N_pre) per-sample weight gradients.
    dl_dtp : (B, E) gradient with respect to each presynaptic event time.
    """
    n_b = tp.shape[0]
    n, n_pre = w.shape
    dw = np.zeros((n_b, n, n_pre))
    dl_dtp = np.zeros(tp.shape)
    for b in prange(n_b):
        nv = n_valid[b]
        for i in range(n):
            tm = table[i, 0]
            ts = table[i, 1]
            th = table[i, 2]
            vr = table[i, 3]
            ref = table[i, 4]
            k = count[b, i] - 1
            rel_pending = False
            clamped = False
            r_k = 0.0
            if k >= 0:
                clamped = times[b, i, k] + ref >= t_max
                rel_pending = not clamped
            vm_pending = (not math.isfinite(th)) and dl_dvmax[b, i] != 0.0
            vm_smooth = vm_pending and e_vmax[b, i] < 0
            lv = 0.0
            li = 0.0
            t = t_max
            e = nv - 1
            while True:
                c_e = tp[b, e] if e >= 0 else -math.inf
                c_s = times[b, i, k] if k >= 0 else -math.inf
                c_r = times[b, i, k] + ref if rel_pending else -math.inf
                c_v = t_vmax[b, i] if vm_smooth else -math.inf
                tc = max(max(c_e, c_s), max(c_r, c_v))
                if tc == -math.inf:
                    break
                s = t - tc
                if s > 0.0 and (li != 0.0 or lv != 0.0):  # a zero costate stays zero
                    if clamped:
                        li *= math.exp(-s / ts)
                    else:
                        li = li * math.exp(-s / ts) + lv * _phi(s, tm, ts) / tm
                        lv *= math.exp(-s / tm)
                t = tc
                if c_r == tc:
                    r_k = lv * (i_release[b, i, k] - vr) / tm
                    lv = 0.0
                    clamped = True
                    rel_pending = False
                elif c_s == tc:
                    lv = -(dl_dt[b, i, k] - r_k) / ((i_spike[b, i, k] - th) / tm)
                    clamped = False
                    r_k = 0.0
                    k -= 1
                    rel_pending = k >= 0
                elif c_v == tc:
                    lv += dl_dvmax[b, i]
                    vm_smooth = False
                    vm_pending = False
                else:
                    j = src[b, e]
                    dw[b, i, j] += li
                    dl_dtp[b, e] += w[i, j] * (li / ts - lv / tm)
                    if vm_pending and e == e_vmax[b, i]:
                        lv += dl_dvmax[b, i]
                        dl_dtp[b, e] += dl_dvmax[b, i] * vdot_vmax[b, i]
                        vm_pending = False
                    e -= 1
    return dw, dl_dtp


#: Serial kernels (the default: on a machine shared with other work, threads cost more than they gain).
layer_forward = njit(cache=True, error_model="numpy")(_layer_forward)
layer_backward = njit(cache=True, error_model="numpy")(_layer_backward)
#: The same loops with samples spread over numba's threads (``prange``).
layer_forward_parallel = njit(parallel=True, error_model="numpy")(_layer_forward)
layer_backward_parallel = njit(parallel=True, error_model="numpy")(_layer_backward)
