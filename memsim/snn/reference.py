"""Plain-Python twins of :mod:`memsim.snn.kernels` (slow; for tests).

They solve the same problems by other means: the state and the costates are
moved between events with the matrix exponential of the 2 x 2 linear system
(:func:`scipy.linalg.expm`, not the closed forms of the kernels); a threshold
crossing is bracketed on a grid of 64 points per inter-event interval and
refined by :func:`scipy.optimize.brentq`; a membrane maximum is the root of
``dV/dt = I - V`` found the same way. Events are merged with Python's sort.
Inputs and outputs are those of the kernels.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.linalg import expm
from scipy.optimize import brentq

__all__ = ["layer_forward", "layer_backward"]

_GRID = 64


def _generator(tm: float, ts: float, held: bool) -> np.ndarray:
    """``d(V, I)/dt = A (V, I)``; a held membrane has ``dV/dt = 0``."""
    if held:
        return np.array([[0.0, 0.0], [0.0, -1.0 / ts]])
    return np.array([[-1.0 / tm, 1.0 / tm], [0.0, -1.0 / ts]])


def _flow(a: np.ndarray, x: np.ndarray, s) -> np.ndarray:
    s = np.atleast_1d(np.asarray(s, dtype=float))
    return (expm(a[None] * s[:, None, None]) @ x).reshape(-1, 2)


def _neuron_forward(tp, src, w_row, par, t_max, k_max):
    tm, ts, th, vr, ref = par
    track = not math.isfinite(th)
    a = _generator(tm, ts, False)
    x = np.zeros(2)
    t, release = 0.0, -math.inf
    spikes, cur_spk, cur_rel = [], [], []
    overflow = False
    peaks = []  # (value, time, vdot_before, event)
    events = list(tp) + [t_max]
    for e, te in enumerate(events):
        while True:
            if t < release:
                stop = min(release, te)
                x = np.array([x[0], x[1] * math.exp(-(stop - t) / ts)])
                t = stop
                if stop == release:
                    x[0] = vr
                    cur_rel[-1] = x[1]
                    continue
                break
            span = te - t
            if span > 0 and not track:
                grid = np.linspace(0.0, span, _GRID + 1)[1:]
                v = _flow(a, x, grid)[:, 0]
                hit = np.nonzero(v >= th)[0]
                if hit.size:
                    g = hit[0]
                    lo = grid[g - 1] if g > 0 else 0.0
                    s = brentq(lambda u: _flow(a, x, u)[0, 0] - th, lo, grid[g], xtol=1e-22, rtol=1e-15)
                    x = _flow(a, x, s)[0]
                    t += s
                    if len(spikes) == k_max:
                        overflow, release = True, math.inf
                        x[0] = vr
                        continue
                    spikes.append(t)
                    cur_spk.append(x[1])
                    cur_rel.append(math.nan)
                    x[0] = vr
                    release = t + ref
                    if ref == 0:
                        cur_rel[-1] = x[1]
                    continue
            if span > 0 and track:
                grid = np.linspace(0.0, span, _GRID + 1)
                xs = _flow(a, x, grid)
                vdot = xs[:, 1] - xs[:, 0]
                down = np.nonzero((vdot[:-1] > 0) & (vdot[1:] <= 0))[0]
                if down.size:
                    g = down[0]
                    s = brentq(lambda u: float(np.subtract(*_flow(a, x, u)[0, ::-1])), grid[g], grid[g + 1],
                               xtol=1e-22, rtol=1e-15)
                    peaks.append((_flow(a, x, s)[0, 0], t + s, 0.0, -1))
            if span > 0:
                x = _flow(a, x, span)[0]
            t = te
            if track:
                peaks.append((x[0], te, (x[1] - x[0]) / tm, e if e < len(tp) else -1))
            break
        if e < len(tp):
            x[1] += w_row[src[e]]
    vmax = (math.nan,) * 4
    if track:
        best = max([(0.0, 0.0, 0.0, -1)] + peaks, key=lambda p: p[0])
        vmax = best
    return spikes, cur_spk, cur_rel, overflow, vmax


def layer_forward(tp, src, n_valid, w, table, t_max, k_max):
    """Twin of :func:`memsim.snn.kernels.layer_forward` (same arguments and returns)."""
    n_b, n = tp.shape[0], w.shape[0]
    times = np.full((n_b, n, k_max), np.inf)
    i_spike = np.full((n_b, n, k_max), np.nan)
    i_release = np.full((n_b, n, k_max), np.nan)
    count = np.zeros((n_b, n), np.int64)
    overflow = np.zeros((n_b, n), bool)
    vm = np.full((4, n_b, n), np.nan)
    e_vmax = np.full((n_b, n), -1, np.int64)
    for b in range(n_b):
        nv = int(n_valid[b])
        for i in range(n):
            sp, cs, cr, of, best = _neuron_forward(tp[b, :nv], src[b, :nv], w[i], table[i], t_max, k_max)
            c = len(sp)
            times[b, i, :c], i_spike[b, i, :c], i_release[b, i, :c] = sp, cs, cr
            count[b, i], overflow[b, i] = c, of
            vm[:3, b, i] = best[:3]
            e_vmax[b, i] = best[3] if math.isfinite(best[0]) else -1
    return times, i_spike, i_release, count, overflow, vm[0], vm[1], vm[2], e_vmax


def layer_backward(tp, src, n_valid, w, table, t_max, times, count, i_spike, i_release, dl_dt,
                   t_vmax, vdot_vmax, e_vmax, dl_dvmax):
    """Twin of :func:`memsim.snn.kernels.layer_backward` (same arguments and returns)."""
    n_b, n = tp.shape[0], w.shape[0]
    dw = np.zeros((n_b, n, w.shape[1]))
    dl_dtp = np.zeros(tp.shape)
    for b in range(n_b):
        nv = int(n_valid[b])
        for i in range(n):
            tm, ts, th, vr, ref = table[i]
            # events (time, order at equal times in reverse: larger first, kind, payload)
            ev = [(tp[b, e], 0, "in", e) for e in range(nv)]
            c = int(count[b, i])
            for k in range(c):
                ev.append((times[b, i, k], 1, "spike", k))
                if times[b, i, k] + ref < t_max:
                    ev.append((times[b, i, k] + ref, 2, "release", k))
            smooth_peak = not math.isfinite(th) and dl_dvmax[b, i] != 0 and e_vmax[b, i] < 0
            if smooth_peak:
                ev.append((t_vmax[b, i], 3, "peak", -1))
            ev.sort(key=lambda z: (z[0], z[1]), reverse=True)
            held = c > 0 and times[b, i, c - 1] + ref >= t_max
            lam = np.zeros(2)  # (dL/dV, dL/dI)
            t, r_k = t_max, 0.0
            for tc, _, kind, idx in ev:
                lam = expm(_generator(tm, ts, held).T * (t - tc)) @ lam
                t = tc
                if kind == "release":
                    r_k = lam[0] * (i_release[b, i, idx] - vr) / tm
                    lam[0], held = 0.0, True
                elif kind == "spike":
                    lam[0] = -(dl_dt[b, i, idx] - r_k) * tm / (i_spike[b, i, idx] - th)
                    held, r_k = False, 0.0
                elif kind == "peak":
                    lam[0] += dl_dvmax[b, i]
                else:
                    j = src[b, idx]
                    dw[b, i, j] += lam[1]
                    dl_dtp[b, idx] += w[i, j] * (lam[1] / ts - lam[0] / tm)
                    if not math.isfinite(th) and idx == e_vmax[b, i] and dl_dvmax[b, i] != 0:
                        lam[0] += dl_dvmax[b, i]
                        dl_dtp[b, idx] += dl_dvmax[b, i] * vdot_vmax[b, i]
    return dw, dl_dtp
