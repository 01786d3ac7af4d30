"""Compiled pulse-response kernel of synapse arrays and its plain-NumPy twin.

Both apply signed pulse counts to cells through a pulse-response model (the
state step per pulse as a function of the cell's state, :mod:`memsim.arrays.response`) with log-normal cycle-to-cycle noise. The noise
comes from a counter-based generator: the draw of pulse ``p`` of cell ``c`` is a
hash of ``(seed, c, p)`` (SplitMix64 finaliser, Steele, Lea & Flood, OOPSLA
2014; Box-Muller), so the numbers do not depend on the order cells are visited
in, the number of threads, or which implementation runs. The tests compare the
two implementations.
"""

from __future__ import annotations

import numba as nb
import numpy as np

__all__ = ["FAMILY_CODES", "N_THETA", "apply_response", "apply_response_numpy", "normal_draws"]

#: Integer codes of the step families.
FAMILY_CODES = {"soft-bounds": 0, "linear-step": 1, "exp-step": 2, "table": 3}
#: Slots of a packed step-parameter row (the longest table has this many knots).
N_THETA = 33

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31, _S11 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(11)
_TWO_PI = 2.0 * np.pi
_2M53 = 2.0**-53


# --------------------------------------------------------------------------- NumPy twin


def _mix_np(z: np.ndarray) -> np.ndarray:
    z = z + _GOLDEN
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


def normal_draws(seed: int, cell: np.ndarray, pulse: np.ndarray) -> np.ndarray:
    """Standard normal draw of pulse ``pulse`` of cell ``cell`` (arrays broadcast).

    Examples
    --------
    >>> z = normal_draws(1, np.arange(20000), np.zeros(20000, dtype=np.int64))
    >>> abs(float(z.mean())) < 0.03 and abs(float(z.std()) - 1) < 0.03
    True
    """
    c = np.asarray(cell).astype(np.uint64)
    p = np.asarray(pulse).astype(np.uint64)
    h = _mix_np(np.uint64(seed) ^ _mix_np(c ^ _mix_np(p)))
    h2 = _mix_np(h)
    u1 = ((h >> _S11).astype(np.float64) + 0.5) * _2M53
    u2 = (h2 >> _S11).astype(np.float64) * _2M53
    return np.sqrt(-2.0 * np.log(u1)) * np.cos(_TWO_PI * u2)


def _step_np(fam: int, theta: np.ndarray, n_theta: int, s: np.ndarray) -> np.ndarray:
    if fam == 0:
        f = theta[0] * (1.0 - s)
    elif fam == 1:
        f = theta[0] + theta[1] * s
    elif fam == 2:
        f = theta[0] * np.exp(theta[1] * s)
    else:
        pos = s * (n_theta - 1)
        k = np.minimum(np.floor(pos).astype(np.int64), n_theta - 2)
        frac = pos - k
        f = theta[k] * (1.0 - frac) + theta[k + 1] * frac
    return np.maximum(f, 0.0)


def apply_response_numpy(x, counts, scale, fam, theta, n_theta, sigma, seed, cell0=0):
    """NumPy twin of :func:`apply_response` (same arguments, same numbers)."""
    gn = np.array(x, dtype=float)
    counts = np.stack([np.zeros(gn.size, np.int64) if c is None else np.asarray(c, np.int64) for c in counts])
    cells = cell0 + np.arange(gn.size)
    pulse_no = np.zeros(gn.size, dtype=np.int64)
    # phases: full set or reset (sign of counts[0]), half set, half reset
    phases = ((counts[0] > 0, counts[0], 0), (counts[0] < 0, -counts[0], 1),
              (counts[1] > 0, counts[1], 2), (counts[2] > 0, counts[2], 3))
    for active0, n, d in phases:
        up = d in (0, 2)
        for r in range(int(n.max(initial=0))):
            act = active0 & (n > r)
            if not np.any(act):
                break
            s = gn[act] if up else 1.0 - gn[act]
            f = _step_np(int(fam[d]), theta[d], int(n_theta[d]), s) * scale[act]
            if sigma > 0:
                z = normal_draws(seed, cells[act], pulse_no[act])
                f = f * np.exp(sigma * z - 0.5 * sigma * sigma)
            gn[act] = np.clip(gn[act] + (f if up else -f), 0.0, 1.0)
            pulse_no[act] += 1
    return gn


# --------------------------------------------------------------------------- numba kernel


@nb.njit(cache=True, inline="always")
def _mix(z):
    z = z + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


@nb.njit(cache=True)
def _normal(seed, cell, pulse):
    h = _mix(np.uint64(seed) ^ _mix(np.uint64(cell) ^ _mix(np.uint64(pulse))))
    h2 = _mix(h)
    u1 = (np.float64(h >> np.uint64(11)) + 0.5) * 2.0**-53
    u2 = np.float64(h2 >> np.uint64(11)) * 2.0**-53
    return np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2)


@nb.njit(cache=True, inline="always")
def _step(fam, theta, d, n_theta, s):
    if fam == 0:
        f = theta[d, 0] * (1.0 - s)
    elif fam == 1:
        f = theta[d, 0] + theta[d, 1] * s
    elif fam == 2:
        f = theta[d, 0] * np.exp(theta[d, 1] * s)
    else:
        pos = s * (n_theta - 1)
        k = min(int(np.floor(pos)), n_theta - 2)
        frac = pos - k
        f = theta[d, k] * (1.0 - frac) + theta[d, k + 1] * frac
    return max(f, 0.0)


@nb.njit(cache=True, inline="always")
def _pulses(s, n, d, fam, theta, n_theta, scale, sigma, seed, cell, p):
    """``n`` pulses of step ``d`` moving the distance variable ``s`` up; returns (s, pulses so far)."""
    fd, nd = fam[d], n_theta[d]
    for _ in range(n):
        f = _step(fd, theta, d, nd, s) * scale
        if sigma > 0:
            f *= np.exp(sigma * _normal(seed, cell, p) - 0.5 * sigma * sigma)
        s = min(s + f, 1.0)
        p += 1
    return s, p


@nb.njit(cache=True)
def _apply_range(lo, hi, x, full, h_up, h_down, half, scale, fam, theta, n_theta, sigma, seed, cell0, out):
    per_cell = scale.size > 1
    bad = 0
    for c in range(lo, hi):
        g = x[c]
        if not (g >= 0.0 and g <= 1.0):
            bad += 1
            out[c] = g
            continue
        sc = scale[c] if per_cell else scale[0]
        p = 0
        for phase in range(3 if half else 1):
            if phase == 0:
                n = full[c]
                d = 0 if n >= 0 else 1
                n = abs(n)
            elif phase == 1:
                n, d = h_up[c], 2
            else:
                n, d = h_down[c], 3
            if n == 0:
                continue
            # a down step moves the distance from the upper bound, 1 - g, up
            up = d == 0 or d == 2
            s, p = _pulses(g if up else 1.0 - g, n, d, fam, theta, n_theta, sc, sigma, seed, cell0 + c, p)
            g = s if up else 1.0 - s
        out[c] = g
    return bad


@nb.njit(cache=True)
def _apply_serial(x, full, h_up, h_down, half, scale, fam, theta, n_theta, sigma, seed, cell0, out):
    if half:
        return _apply_range(0, x.size, x, full, h_up, h_down, half, scale, fam, theta, n_theta, sigma, seed, cell0,
                            out)
    return _apply_range_full(0, x.size, x, full, scale, fam, theta, n_theta, sigma, seed, cell0, out)


@nb.njit(cache=True)
def _apply_range_full(lo, hi, x, full, scale, fam, theta, n_theta, sigma, seed, cell0, out):
    """:func:`_apply_range` without half-select pulses (one inlined pulse loop: the common case, faster)."""
    per_cell = scale.size > 1
    bad = 0
    for c in range(lo, hi):
        g = x[c]
        if not (g >= 0.0 and g <= 1.0):
            bad += 1
            out[c] = g
            continue
        n = full[c]
        if n == 0:
            out[c] = g
            continue
        up = n > 0
        sc = scale[c] if per_cell else scale[0]
        s, _p = _pulses(g if up else 1.0 - g, n if up else -n, 0 if up else 1, fam, theta, n_theta, sc, sigma,
                        seed, cell0 + c, 0)
        out[c] = s if up else 1.0 - s
    return bad


#: Cells per parallel chunk (the chunks, not the cells, are spread over threads).
_CHUNK = 1 << 16


@nb.njit(cache=True, parallel=True)
def _apply_response(x, full, h_up, h_down, half, scale, fam, theta, n_theta, sigma, seed, cell0, out):
    """Returns the number of states outside [0, 1] (they are left unchanged)."""
    n_chunks = (x.size + _CHUNK - 1) // _CHUNK
    bad = np.zeros(n_chunks, dtype=np.int64)
    for t in nb.prange(n_chunks):
        lo = t * _CHUNK
        hi = min(lo + _CHUNK, x.size)
        if half:
            bad[t] = _apply_range(lo, hi, x, full, h_up, h_down, half, scale, fam, theta, n_theta, sigma, seed,
                                  cell0, out)
        else:
            bad[t] = _apply_range_full(lo, hi, x, full, scale, fam, theta, n_theta, sigma, seed, cell0, out)
    return bad.sum()


def apply_response(x, counts, scale, fam, theta, n_theta, sigma, seed, cell0=0):
    """Apply pulse counts to device states through a step model.

    Parameters
    ----------
    x : (C,) device states in [0, 1].
    counts : (3, C) int, or a sequence ``(full, half_up, half_down)`` whose
        last two may be None (no half-select disturbance): signed full pulses
        (+ set, - reset), half-amplitude set pulses, half-amplitude reset
        pulses; a cell takes them in that order.
    scale : (C,) per-cell step multipliers (device-to-device spread), or (1,) for all.
    fam : (4,) family codes of the up, down, half-up and half-down steps.
    theta : (4, N_THETA) packed step parameters; n_theta : (4,) their lengths.
    sigma : log-normal cycle-to-cycle sigma of each step.
    seed : int in [0, 2**64); cell0 : global index of cell 0 (for the draws).

    Returns
    -------
    (C,) new states.

    Raises
    ------
    ValueError
        If a state is not a number in [0, 1].
    """
    full, h_up, h_down = counts
    half = h_up is not None
    full = np.ascontiguousarray(full, dtype=np.int64).reshape(-1)
    h_up = full if not half else np.ascontiguousarray(h_up, dtype=np.int64).reshape(-1)
    h_down = full if not half else np.ascontiguousarray(h_down, dtype=np.int64).reshape(-1)
    scale = np.ascontiguousarray(scale, dtype=np.float64).reshape(-1)
    if scale.size not in (1, full.size):
        raise ValueError(f"scale must have 1 or {full.size} values, got {scale.size}")
    x = np.ascontiguousarray(x, dtype=np.float64).reshape(-1)
    out = np.empty(x.size)
    # one chunk: the serial loop (a parallel region costs more than it saves on small arrays, and
    # far more when the cores are busy)
    kernel = _apply_response if x.size > _CHUNK else _apply_serial
    bad = kernel(x, full, h_up, h_down, half, scale,
                          np.ascontiguousarray(fam, dtype=np.int64), np.ascontiguousarray(theta, dtype=np.float64),
                          np.ascontiguousarray(n_theta, dtype=np.int64), float(sigma), np.uint64(seed),
                          np.int64(cell0), out)
    if bad:
        raise ValueError(f"state holds device states, which must lie in [0, 1]; {bad} do not")
    return out
