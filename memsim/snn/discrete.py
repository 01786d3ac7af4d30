"""Fixed-step (discrete-time) LIF network: the time-grid reference for the exact event-driven pass.

The usual discretisation of the model of :mod:`memsim.snn.lif` on a grid
``t_n = n dt``: a presynaptic spike at ``t`` is delivered at the first grid
point ``>= t``; then one forward-Euler step

    V <- V + dt (-V + I) / tau_mem,    I <- I - dt I / tau_syn;

a neuron whose new ``V`` reaches the threshold spikes at the time found by
linear interpolation of ``V`` within the step, is reset and held for the
refractory period (from the next grid point after it ends). Delivery on the
grid and the Euler step each make the spike times first-order accurate:
their error against the exact times shrinks like ``dt`` (measured in the
tests).
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from memsim.snn.eventprop import check_network
from memsim.snn.lif import REFRACTORY, RESET, TAU_MEM, TAU_SYN, THRESHOLD, layer_tables

__all__ = ["forward_discrete"]


def forward_discrete(input_times, weights, neurons, *, t_max: float, dt: float, max_spikes: int = 32) -> list[np.ndarray]:
    """Spike times ``(B, N_l, K_l)`` of every layer on a time grid of step ``dt`` (see the module docstring).

    ``"ttfs"`` layers record one spike per neuron, others up to ``max_spikes``
    (later spikes are dropped). Non-spiking layers (infinite threshold) give
    all-``inf`` arrays.

    Examples
    --------
    >>> from memsim.snn.lif import LIF
    >>> t = forward_discrete([[0.0, 1e-6]], [np.array([[2.5, 2.5]])], LIF(), t_max=30e-6, dt=1e-9)
    >>> round(float(t[0][0, 0, 0]) * 1e6, 2)  # the exact first spike is at 4.4262 us
    4.43
    """
    x, ws, t_max = check_network(input_times, weights, t_max=t_max)
    if not (isinstance(dt, numbers.Real) and math.isfinite(dt) and 0 < dt <= t_max):
        raise ValueError(f"dt must be a finite step in (0, t_max], got {dt!r}")
    tables = layer_tables(neurons, [w.shape[0] for w in ws])
    n_steps = int(math.ceil(t_max / dt - 1e-9))
    out, pre = [], x
    for w, tb in zip(ws, tables):
        n_b, n = pre.shape[0], w.shape[0]
        arrivals = np.zeros((n_b, n_steps + 1, pre.shape[1]))
        b_idx, j_idx, k_idx = np.nonzero(pre < t_max)
        step = np.ceil(pre[b_idx, j_idx, k_idx] / dt - 1e-9).astype(int)
        keep = step < n_steps
        np.add.at(arrivals, (b_idx[keep], step[keep], j_idx[keep]), 1.0)
        drive = arrivals @ w.T  # (B, steps, N): current jump delivered at each grid point
        tm, ts, th, vr, ref = (tb[:, c] for c in (TAU_MEM, TAU_SYN, THRESHOLD, RESET, REFRACTORY))
        k_max = 1 if (np.isinf(ref).all() or np.isinf(th).all()) else int(max_spikes)
        times = np.full((n_b, n, k_max), np.inf)
        count = np.zeros((n_b, n), int)
        v = np.zeros((n_b, n))
        i = np.zeros((n_b, n))
        release = np.full((n_b, n), -np.inf)
        for s in range(n_steps):
            t = s * dt
            i = i + drive[:, s]
            free = t >= release
            v_new = np.where(free, v + dt * (i - v) / tm, v)
            i = i - dt * i / ts
            cross = free & (v_new >= th)
            if cross.any():
                with np.errstate(divide="ignore", invalid="ignore"):  # only crossing entries are used
                    tc = t + dt * (th - v) / (v_new - v)
                bb, nn = np.nonzero(cross)
                room = count[bb, nn] < k_max
                times[bb[room], nn[room], count[bb[room], nn[room]]] = tc[bb[room], nn[room]]
                count[bb, nn] += 1
                v_new = np.where(cross, vr, v_new)
                release = np.where(cross, tc + ref, release)
            v = v_new
        out.append(times)
        pre = times
    return out
