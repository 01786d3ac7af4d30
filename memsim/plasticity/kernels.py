"""Compiled online loops of the mushroom body: float weights, and a pulse-response synapse array.

:func:`train_ideal` is the twin of the reference loop for an :class:`~memsim.arrays.IdealArray`;
:func:`train_response` the twin of :func:`memsim.plasticity.train`'s reference loop (``read`` -> rule ->
``apply_update`` per batch) for the common case: one copy, ``write="response"``, ideal wires,
no DAC/ADC/read noise, no refresh. The arithmetic is the reference loop's; the random numbers
(stochastic rounding, pulse trains, cycle noise) come from the counter-based generator of
:mod:`memsim.arrays.kernels`, so only deterministic runs match the reference number for number
(the tests compare those, and the statistics of the stochastic ones).
"""

from __future__ import annotations

import numba as nb
import numpy as np

from memsim.arrays.kernels import _mix, _pulses

__all__ = ["train_ideal", "train_response"]


@nb.njit(cache=True, inline="always")
def _uniform(seed, cell, k):
    h = _mix(np.uint64(seed) ^ _mix(np.uint64(cell) ^ _mix(np.uint64(k) + np.uint64(0x5851F42D4C957F2D))))
    return np.float64(h >> np.uint64(11)) * 2.0**-53


@nb.njit(cache=True, inline="always")
def _g(x, r_on, r_off, parallel):
    if parallel:
        return x / r_on + (1.0 - x) / r_off
    return 1.0 / (r_on * x + r_off * (1.0 - x))


@nb.njit(cache=True)
def _weight(x, i, j, r_on, r_off, per_cell, parallel, differential, wpg):
    if differential:
        a, b = 2 * j, 2 * j + 1
    else:
        a, b = j, x.shape[1] - 1
    ra, rb = (r_on[i, a], r_on[i, b]) if per_cell else (r_on[0, 0], r_on[0, 0])
    fa, fb = (r_off[i, a], r_off[i, b]) if per_cell else (r_off[0, 0], r_off[0, 0])
    return (_g(x[i, a], ra, fa, parallel) - _g(x[i, b], rb, fb, parallel)) * wpg


@nb.njit(cache=True)
def _count(ratio, rounding, train_length, max_pulses, seed, cell, k):
    if rounding == 0:
        n = np.rint(ratio)
    elif rounding == 1:
        base = np.floor(ratio)
        n = base + (1.0 if _uniform(seed, cell, k) < ratio - base else 0.0)
    else:
        p = min(ratio / train_length, 1.0)
        n = 0.0
        for s in range(train_length):
            if _uniform(seed, cell, k * train_length + s) < p:
                n += 1.0
    return min(int(n), max_pulses)


@nb.njit(cache=True)
def _modulate(y, t, rule, temp, theta, mod, msq, psi2):
    """The post-synaptic factor of one sample into ``mod`` (as :func:`memsim.plasticity.delta_w`);
    accumulates the valence squares (Oja) and the BCM activity squares; returns the winner."""
    n_out = y.size
    win = 0
    for j in range(1, n_out):
        if y[j] > y[win]:
            win = j
    if rule <= 2:  # valence: Hebbian, Hebbian with decay, Oja
        mod[:] = 0.0
        mod[t] += 1.0
        mod[win] -= 1.0
        for j in range(n_out):
            msq[j] += mod[j] * mod[j]
        return win
    zmax = y.max() / temp
    tot = 0.0
    for j in range(n_out):
        mod[j] = np.exp(y[j] / temp - zmax)
        tot += mod[j]
    for j in range(n_out):
        mod[j] /= tot
    if rule == 3:  # BCM: u (u - theta), u = (onehot + psi) / 2
        mod[t] += 1.0
        for j in range(n_out):
            u = 0.5 * mod[j]
            psi2[j] += u * u
            mod[j] = u * (u - theta[j])
    elif rule == 4:  # delta: onehot - psi
        for j in range(n_out):
            mod[j] = -mod[j]
        mod[t] += 1.0
    else:  # anti-Hebbian: -psi (1 - onehot)
        for j in range(n_out):
            mod[j] = -mod[j]
        mod[t] = 0.0
    return win


@nb.njit(cache=True)
def train_ideal(code, labels, w, rule, prm, batch, theta):
    """Compiled twin of the reference loop for float weights ``w`` (updated in place, as is the BCM
    ``theta``); ``rule`` is the code of the rule's class, ``prm`` = (lr, decay, tau, temperature).
    Returns the online correct count."""
    n, width = code.shape
    n_kc, n_out = w.shape
    lr, decay, tau, temp = prm[0], prm[1], prm[2], prm[3]
    dw = np.zeros((n_kc, n_out))
    mod = np.zeros(n_out)
    msq = np.zeros(n_out)
    psi2 = np.zeros(n_out)
    y = np.zeros(n_out)
    correct = 0
    for start in range(0, n, batch):
        stop = min(start + batch, n)
        b = stop - start
        msq[:] = 0.0
        psi2[:] = 0.0
        for s in range(start, stop):
            y[:] = 0.0
            for a in range(width):
                i = code[s, a]
                if i >= 0:
                    for j in range(n_out):
                        y[j] += w[i, j]
            t = labels[s]
            if _modulate(y, t, rule, temp, theta, mod, msq, psi2) == t:
                correct += 1
            for a in range(width):
                i = code[s, a]
                if i >= 0:
                    for j in range(n_out):
                        dw[i, j] += mod[j]
        scale = lr / b
        for i in range(n_kc):
            for j in range(n_out):
                extra = 0.0
                if rule == 1:
                    extra = -lr * decay * w[i, j]
                elif rule == 2:
                    extra = -scale * msq[j] * w[i, j]
                w[i, j] += scale * dw[i, j] + extra
                dw[i, j] = 0.0
        if rule == 3:
            for j in range(n_out):
                theta[j] += (psi2[j] / b - theta[j]) / tau
    return correct


@nb.njit(cache=True)
def train_response(code, labels, x, r_on, r_off, step, stuck, parallel, differential, wpg, fam, theta, n_theta,
                   steps_w, policy, sigma, seed, rule, prm, batch, rule_state):
    """One online pass; updates ``x`` and ``rule_state`` in place and returns the online correct count.

    ``policy`` = (rounding code 0/1/2, bits or -1, clip or -1, max_pulses, train_length);
    ``steps_w`` = nominal weight steps of one set and one reset pulse; ``rule``/``prm`` as in
    :func:`train_ideal`.
    """
    n, width = code.shape
    n_kc, pc = x.shape
    n_out = (pc // 2) if differential else pc - 1
    per_cell = r_on.shape[0] > 1
    per_step = step.shape[0] > 1
    rounding, bits, clip, max_pulses, train_length = (int(policy[0]), int(policy[1]), policy[2], int(policy[3]),
                                                      int(policy[4]))
    lr, decay, tau, temp = prm[0], prm[1], prm[2], prm[3]
    full_matrix = rule == 1 or rule == 2
    dw = np.zeros((n_kc, n_out))
    touched = np.zeros(n_kc, dtype=np.bool_)
    mod = np.zeros(n_out)
    msq = np.zeros(n_out)
    psi2 = np.zeros(n_out)
    y = np.zeros(n_out)
    correct = 0
    update = 0
    for start in range(0, n, batch):
        stop = min(start + batch, n)
        b = stop - start
        msq[:] = 0.0
        psi2[:] = 0.0
        for s in range(start, stop):
            y[:] = 0.0
            for a in range(width):
                i = code[s, a]
                if i >= 0:
                    for j in range(n_out):
                        y[j] += _weight(x, i, j, r_on, r_off, per_cell, parallel, differential, wpg)
            t = labels[s]
            if _modulate(y, t, rule, temp, rule_state, mod, msq, psi2) == t:
                correct += 1
            for a in range(width):
                i = code[s, a]
                if i >= 0:
                    touched[i] = True
                    for j in range(n_out):
                        dw[i, j] += mod[j]
        # desired change of the batch (as delta_w), clipped and quantised (as apply_update)
        scale = lr / b
        big = 0.0
        for i in range(n_kc):
            if not (touched[i] or full_matrix):
                continue
            for j in range(n_out):
                d = scale * dw[i, j]
                if rule == 1:
                    d -= lr * decay * _weight(x, i, j, r_on, r_off, per_cell, parallel, differential, wpg)
                elif rule == 2:
                    d -= scale * msq[j] * _weight(x, i, j, r_on, r_off, per_cell, parallel, differential, wpg)
                if clip > 0:
                    d = min(max(d, -clip), clip)
                dw[i, j] = d
                big = max(big, abs(d))
        rng_q = clip if clip > 0 else big
        levels = 2.0**bits - 1.0 if bits > 0 else 0.0
        useed = _mix(np.uint64(seed) ^ np.uint64(update))
        for i in range(n_kc):
            if not (touched[i] or full_matrix):
                continue
            for j in range(n_out):
                d = dw[i, j]
                dw[i, j] = 0.0
                if bits > 0 and rng_q > 0:
                    q = rng_q / levels
                    d = np.sign(d) * min(np.rint(abs(d) / q), levels) * q
                if d == 0.0:
                    continue
                cell = i * n_out + j
                if differential:
                    cnt = _count(abs(d) / steps_w[0], rounding, train_length, max_pulses, useed, cell, 0)
                    col = 2 * j if d > 0 else 2 * j + 1
                    direction = 0
                else:
                    col = j
                    if d > 0:
                        cnt = _count(d / steps_w[0], rounding, train_length, max_pulses, useed, cell, 0)
                        direction = 0
                    else:
                        cnt = _count(-d / steps_w[1], rounding, train_length, max_pulses, useed, cell, 1)
                        direction = 1
                if cnt == 0 or stuck[i, col]:
                    continue
                sc = step[i, col] if per_step else step[0, 0]
                xv = x[i, col]
                if direction == 0:
                    xv, _p = _pulses(xv, cnt, 0, fam, theta, n_theta, sc, sigma, useed, i * pc + col, 0)
                else:
                    sv, _p = _pulses(1.0 - xv, cnt, 1, fam, theta, n_theta, sc, sigma, useed, i * pc + col, 0)
                    xv = 1.0 - sv
                x[i, col] = xv
            touched[i] = False
        if rule == 3:
            for j in range(n_out):
                rule_state[j] += (psi2[j] / b - rule_state[j]) / tau
        update += 1
    return correct
