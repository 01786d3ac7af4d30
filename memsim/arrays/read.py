"""Reading synapse arrays: inputs as word-line voltages, outputs from bit-line currents.

Ideal wires: the output currents are one matrix product ``I = v @ G``. With
wire resistance ``r_wire`` per segment the crossbar is the network of
:func:`memsim.circuit.crossbar` (word lines driven at the left, bit lines read
at the bottom into virtual ground): its Laplacian ``L`` splits into driven
inputs ``I``, outputs ``O`` and floating wire nodes ``F``, and because the
conductances do not change during a read, the currents are linear in the
inputs, ``I_out = v @ G_eff`` with the effective conductance matrix

    G_eff = -(L_OI - L_OF L_FF^-1 L_FI)^T,

computed with one factorisation of ``L_FF`` and ``min(rows, batch)``
right-hand sides (:class:`memsim.solve.factor.SparseSPDFactor` above
``DENSE_MAX`` floating nodes).
"""

from __future__ import annotations

import functools

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp

from memsim.arrays.array import IdealArray, SynapseArray, check_state, conductances
from memsim.solve.factor import SparseSPDFactor, csc_scatter_map

__all__ = ["read", "effective_conductance", "crossbar_laplacian", "DENSE_MAX"]

#: Floating-node count above which the IR-drop read factorises sparsely.
DENSE_MAX = 600


@functools.lru_cache(maxsize=8)
def _topology(rows: int, cols: int):
    """Edges of the crossbar with wires, numbered as :func:`memsim.circuit.crossbar` numbers them."""
    word = np.arange(rows * cols).reshape(rows, cols)
    bit = rows * cols + word
    u = [word.ravel()]
    v = [bit.ravel()]
    u.append(word[:, :-1].ravel())
    v.append(word[:, 1:].ravel())
    u.append(bit[:-1, :].ravel())
    v.append(bit[1:, :].ravel())
    eu, ev = np.concatenate(u), np.concatenate(v)
    n = 2 * rows * cols
    inputs = word[:, 0].copy()
    outputs = bit[-1, :].copy()
    driven = np.zeros(n, bool)
    driven[inputs] = driven[outputs] = True
    free = np.flatnonzero(~driven)
    pos = np.full(n, -1)
    pos[free] = np.arange(free.size)
    # COO pattern of L_FF: diagonal of every free node plus free-free edges
    ff = (pos[eu] >= 0) & (pos[ev] >= 0)
    r = np.concatenate([pos[free], pos[eu[ff]], pos[ev[ff]]])
    c = np.concatenate([pos[free], pos[ev[ff]], pos[eu[ff]]])
    pattern, scatter = csc_scatter_map(r, c, free.size)
    return eu, ev, inputs, outputs, free, pattern, scatter, ff


def crossbar_laplacian(g_cells: np.ndarray, r_wire: float) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray]:
    """Laplacian of the crossbar with wires, and its input and output node indices.

    ``g_cells`` (rows, cols) are the cell conductances (S); node and edge
    numbering follow :func:`memsim.circuit.crossbar`.
    """
    rows, cols = g_cells.shape
    eu, ev, inputs, outputs, *_ = _topology(rows, cols)
    g = _edge_conductances(g_cells, r_wire, eu.size)
    n = 2 * rows * cols
    lap = sp.coo_matrix((np.concatenate([-g, -g, g, g]),
                         (np.concatenate([eu, ev, eu, ev]), np.concatenate([ev, eu, eu, ev]))), shape=(n, n))
    return lap.tocsr(), inputs, outputs


def _edge_conductances(g_cells: np.ndarray, r_wire: float, m: int) -> np.ndarray:
    g = np.empty(m)
    g[: g_cells.size] = g_cells.ravel()
    g[g_cells.size:] = 1.0 / r_wire
    return g


def effective_conductance(g_cells: np.ndarray, r_wire: float) -> np.ndarray:
    """Effective conductance matrix ``G_eff`` (rows, cols) of a crossbar read through its wires.

    ``I_out[j] = sum_i v_in[i] G_eff[i, j]`` is the current each bit line
    delivers into its virtual ground for word-line voltages ``v_in``. For
    ``r_wire = 0`` it is ``g_cells`` itself.

    Examples
    --------
    >>> g = np.full((2, 2), 1e-3)
    >>> np.round(effective_conductance(g, 1.0) / g, 4)  # the far cell (row 0, column 1) loses most
    array([[0.999, 0.998],
           [1.   , 0.999]])
    """
    g_cells = np.asarray(g_cells, dtype=float)
    if r_wire == 0:
        return g_cells.copy()
    rows, cols = g_cells.shape
    lap, inputs, outputs = crossbar_laplacian(g_cells, r_wire)
    free = _topology(rows, cols)[4]
    l_fi = lap[free][:, inputs].toarray()
    z = _solve_ff(g_cells, r_wire, l_fi)
    l_oi = lap[outputs][:, inputs].toarray()
    l_of = lap[outputs][:, free]
    return -(l_oi - l_of @ z).T


def _solve_ff(g_cells: np.ndarray, r_wire: float, rhs: np.ndarray) -> np.ndarray:
    """Solve ``L_FF z = rhs`` with one factorisation (dense Cholesky or sparse)."""
    rows, cols = g_cells.shape
    eu, ev, _, _, free, pattern, scatter, ff = _topology(rows, cols)
    g = _edge_conductances(g_cells, r_wire, eu.size)
    n = 2 * rows * cols
    pos = np.full(n, -1)
    pos[free] = np.arange(free.size)
    diag = np.bincount(eu, g, n) + np.bincount(ev, g, n)
    vals = np.concatenate([diag[free], -g[ff], -g[ff]])
    if free.size <= DENSE_MAX:
        a = np.zeros((free.size, free.size))
        np.add.at(a, (np.concatenate([pos[free], pos[eu[ff]], pos[ev[ff]]]),
                      np.concatenate([pos[free], pos[ev[ff]], pos[eu[ff]]])), vals)
        return sla.cho_solve(sla.cho_factor(a, lower=True), rhs)
    fac = SparseSPDFactor(pattern)
    fac.factorize(np.bincount(scatter, vals, pattern.nnz))
    return fac.solve(rhs)


def _quantise(x: np.ndarray, bits: int, full_scale: float) -> np.ndarray:
    levels = 2 ** (bits - 1) - 1 if bits > 1 else 1
    q = full_scale / levels
    return np.clip(np.round(x / q), -levels, levels) * q


def read(array, state, inputs, *, seed=None) -> np.ndarray:
    """Outputs ``y = x @ W`` of an array for a batch of inputs, as the chip computes them.

    Inputs in ``[-1, 1]`` are quantised by the DAC (``dac_bits``, signed,
    ``2**(bits-1) - 1`` levels per sign), applied as word-line voltages
    ``x * v_read``; the bit-line currents (ideal product, or through the wires)
    are scaled back to weight units with the nominal conductance range, get
    Gaussian ``read_noise`` and are clipped and quantised by the ADC
    (``adc_bits`` over ``+-adc_range``). Reads do not disturb the devices
    (read pulses are taken to be below threshold and short).

    Parameters
    ----------
    array : SynapseArray or IdealArray
    state : array state, one copy or (K, ...).
    inputs : (rows,), (B, rows), or (K, B, rows) with a batched state.
    seed : int or Generator, optional (read noise).

    Returns
    -------
    Outputs with the inputs' leading shape and ``cols`` last; a leading ``K``
    when the state has copies.

    Examples
    --------
    >>> from memsim.arrays import SynapseArray, initial_state, write_weights
    >>> arr = SynapseArray(2, 2)
    >>> s = write_weights(arr, initial_state(arr), np.array([[0.5, 0.0], [0.0, -0.5]])).state
    >>> np.round(read(arr, s, np.array([1.0, 1.0])), 1)
    array([ 0.5, -0.5])
    """
    s, batched = check_state(array, state)
    k = s.shape[0]
    x = np.asarray(inputs, dtype=float)
    rows = array.rows
    if x.ndim == 0 or x.shape[-1] != rows or x.ndim > 3 or (x.ndim == 3 and (not batched or x.shape[0] != k)):
        want = f"(rows,), (B, rows){' or (K, B, rows)' if batched else ''} with rows = {rows}"
        raise ValueError(f"inputs must have shape {want}, got {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError("inputs must be finite")
    if isinstance(array, IdealArray):
        y = np.matmul(x, s)
        return y if batched else y[0]
    if np.any(np.abs(x) > 1):
        raise ValueError(f"inputs must lie in [-1, 1] (the DAC range); largest |input| is {float(np.abs(x).max()):g}")
    single = x.ndim == 1
    xb = x[None] if single else x
    if xb.ndim == 2:
        xb = np.broadcast_to(xb, (k,) + xb.shape)
    if array.dac_bits is not None:
        xb = _quantise(xb, array.dac_bits, 1.0)
    g = conductances(array, s)
    ys = []
    for c in range(k):
        if array.r_wire == 0:
            # linear in the conductances: combine the columns first, one product of the logical size
            ys.append(xb[c] @ _combine(array, g[c]))
            continue
        v = xb[c] * array.v_read
        if v.shape[0] < rows:
            cur = _batch_currents(g[c], array.r_wire, v)
        else:
            cur = v @ effective_conductance(g[c], array.r_wire)
        ys.append(_combine(array, cur) / array.v_read)
    y = np.stack(ys)
    if array.read_noise > 0:
        y = y + array.read_noise * np.random.default_rng(seed).standard_normal(y.shape)
    if array.adc_bits is not None or array.adc_range is not None:
        full = array.rows * array.w_max if array.adc_range is None else array.adc_range
        y = np.clip(y, -full, full)
        if array.adc_bits is not None:
            y = _quantise(y, array.adc_bits, full)
    if single:
        y = y[:, 0]
    return y if batched else y[0]


def _batch_currents(g_cells: np.ndarray, r_wire: float, v: np.ndarray) -> np.ndarray:
    """Output currents for a batch of word-line voltages (B, rows), one solve per input."""
    rows, cols = g_cells.shape
    lap, inputs, outputs = crossbar_laplacian(g_cells, r_wire)
    free = _topology(rows, cols)[4]
    l_fi = lap[free][:, inputs]
    z = _solve_ff(g_cells, r_wire, np.asarray(l_fi @ v.T))
    l_oi = lap[outputs][:, inputs]
    l_of = lap[outputs][:, free]
    return -np.asarray(l_oi @ v.T - l_of @ z).T


def _combine(array: SynapseArray, cur: np.ndarray) -> np.ndarray:
    """Physical columns (..., physical_cols) -> weight units (..., cols): pair or reference difference."""
    if array.mapping == "differential":
        d = cur[..., 0::2] - cur[..., 1::2]
    else:
        d = cur[..., :-1] - cur[..., -1:]
    return d * array.weight_per_g
