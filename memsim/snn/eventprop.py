"""EventProp on feed-forward networks of LIF layers: exact forward, adjoint backward, chip in the loop.

Wunderlich & Pehle, "Event-based backpropagation can compute exact gradients
for spiking neural networks", Sci. Rep. 11, 12829 (2021); Pehle et al.,
"Event-based backpropagation for analog neuromorphic hardware",
arXiv 2302.07141 (2023).

Data flow, each step a pure function:

- :func:`forward` runs the network event by event (no time grid): it returns
  a :class:`Trace` with the spike times of every layer and the synaptic
  currents at the spikes (what the adjoint needs);
- :func:`backward` integrates the adjoint backwards from a :class:`Trace`
  and a loss gradient (with respect to output spike times or to the output
  membrane maxima) and returns ``dL/dW`` for every weight matrix;
- hardware in the loop: a chip (any callable) runs the forward pass with the
  weights it really holds (noise, quantisation, mismatch) and returns spike
  times only; :func:`reconstruct` rebuilds the currents at those times from
  the *nominal* weights and neuron parameters, and
  :func:`gradient_from_spike_times` is :func:`backward` on that
  reconstruction, as on BrainScaleS-2 (Pehle et al. 2023).

Conventions: ``input_times`` is ``(B, N_in)`` (one spike per input) or
``(B, N_in, K)``, ``inf`` where there is no spike; ``weights[l]`` is
``(N_l, N_{l-1})`` (``W[i, j]`` from ``j`` to ``i``); ``neurons`` is an
:class:`~memsim.snn.lif.LIF` or one LIF / packed ``(N_l, 5)`` table per layer
(per-neuron parameters: mismatch). Spike trains are ``(B, N_l, K_l)`` arrays
sorted along the last axis and padded with ``inf``; events at or after
``t_max`` are ignored.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from memsim.snn import kernels, reference
from memsim.snn.lif import REFRACTORY, THRESHOLD, TAU_SYN, layer_tables

__all__ = [
    "Engine",
    "Trace",
    "forward",
    "backward",
    "reconstruct",
    "gradient_from_spike_times",
    "check_network",
]

Engine = Literal["numba", "python"]
_ENGINES = {"numba": kernels, "python": reference}


@dataclass(frozen=True)
class Trace:
    """What a forward pass leaves for the adjoint.

    ``times[l]``: ``(B, N_l, K_l)`` spike times (``inf`` padded);
    ``i_spike[l]``: synaptic current at each spike; ``i_release[l]``: current
    when each refractory period ends (``nan`` if after ``t_max`` or never).
    For a non-spiking last layer (infinite threshold) ``vmax``, ``t_vmax``,
    ``vdot_vmax`` (``dV/dt`` just before the maximum) and ``e_vmax`` (index,
    in time order, of the presynaptic event making the maximum a kink, or -1)
    are ``(B, N_out)`` arrays; otherwise ``None``.
    """

    times: tuple[np.ndarray, ...]
    i_spike: tuple[np.ndarray, ...]
    i_release: tuple[np.ndarray, ...]
    vmax: np.ndarray | None = None
    t_vmax: np.ndarray | None = None
    vdot_vmax: np.ndarray | None = None
    e_vmax: np.ndarray | None = None

    @property
    def first_spikes(self) -> np.ndarray:
        """``(B, N_out)`` first spike time of every output neuron (``inf`` if silent)."""
        return self.times[-1][..., 0]


def _check_t_max(t_max) -> float:
    if not (isinstance(t_max, numbers.Real) and math.isfinite(t_max) and t_max > 0):
        raise ValueError(f"t_max must be a finite time > 0 s, got {t_max!r}")
    return float(t_max)


def _spike_array(times, name: str) -> np.ndarray:
    a = np.asarray(times, dtype=float)
    if a.ndim == 2:
        a = a[..., None]
    if a.ndim != 3:
        raise ValueError(f"{name} must be (B, N) or (B, N, K) spike times, got shape {a.shape}")
    if a.size == 0:
        raise ValueError(f"{name} is empty (shape {a.shape}): give at least one sample and one neuron")
    if np.isnan(a).any() or (a < 0).any():
        raise ValueError(f"{name} must hold times >= 0 s or inf (no spike), found NaN or negative values")
    return np.sort(a, axis=-1)


def check_network(input_times, weights, *, t_max) -> tuple[np.ndarray, list[np.ndarray], float]:
    """Validate and normalise ``(input_times, weights, t_max)``; one-line ``ValueError`` otherwise.

    Examples
    --------
    >>> x, w, t = check_network([[0.0, 1e-6]], [np.ones((3, 2)), np.ones((1, 3))], t_max=1e-5)
    >>> x.shape, [a.shape for a in w]
    ((1, 2, 1), [(3, 2), (1, 3)])
    >>> check_network([[0.0, 1e-6]], [np.ones((3, 4))], t_max=1e-5)
    Traceback (most recent call last):
    ...
    ValueError: weights[0] must have 2 columns (one per presynaptic neuron), got shape (3, 4)
    """
    t_max = _check_t_max(t_max)
    x = _spike_array(input_times, "input_times")
    if not np.isfinite(x).any():
        raise ValueError("input_times holds no spike (every entry is inf): the network would stay silent")
    if isinstance(weights, np.ndarray) or not isinstance(weights, Sequence) or len(weights) == 0:
        raise ValueError("weights must be a non-empty sequence of 2-D arrays, one per layer")
    ws, n_pre = [], x.shape[1]
    for l, w in enumerate(weights):
        w = np.ascontiguousarray(w, dtype=float)
        if w.ndim != 2 or w.shape[1] != n_pre or w.shape[0] == 0:
            raise ValueError(f"weights[{l}] must have {n_pre} columns (one per presynaptic neuron), "
                             f"got shape {w.shape}")
        if not np.isfinite(w).all():
            raise ValueError(f"weights[{l}] must be finite")
        ws.append(w)
        n_pre = w.shape[0]
    return x, ws, t_max


def _events(times: np.ndarray, t_max: float):
    """Sorted presynaptic events of a ``(B, N, K)`` spike array: times, neuron, flat index, count."""
    b, n, k = times.shape
    flat = times.reshape(b, n * k)
    order = np.argsort(flat, axis=1, kind="stable")
    tp = np.ascontiguousarray(np.take_along_axis(flat, order, axis=1))
    n_valid = (tp < t_max).sum(axis=1).astype(np.int64)
    return tp, np.ascontiguousarray(order // k), order, n_valid


def _k_layer(table: np.ndarray, max_spikes: int) -> int:
    if np.all(np.isinf(table[:, REFRACTORY])) or np.all(np.isinf(table[:, THRESHOLD])):
        return 1
    return max_spikes


def forward(input_times, weights, neurons, *, t_max: float, max_spikes: int = 32,
            engine: Engine = "numba", parallel: bool = False) -> Trace:
    """Exact event-driven forward pass; returns the spike times of every layer and the currents at them.

    Parameters
    ----------
    input_times : (B, N_in) or (B, N_in, K) spike times, s (``inf``: none).
    weights : sequence of (N_l, N_{l-1}) arrays.
    neurons : :class:`~memsim.snn.lif.LIF` or one LIF / (N_l, 5) table per layer.
    t_max : float
        End of the simulated window, s.
    max_spikes : int
        Spikes recorded per neuron in ``"multi"`` layers (``"ttfs"`` layers record 1);
        a neuron wanting more raises ``ValueError``.
    engine : ``"numba"`` (default) or ``"python"`` (the slow twin, for tests).
    parallel : bool
        Spread the samples over numba's threads (same numbers).

    Examples
    --------
    >>> from memsim.snn.lif import LIF
    >>> tr = forward([[0.0, 1e-6]], [np.array([[2.5, 2.5]])], LIF(), t_max=30e-6)
    >>> round(float(tr.first_spikes[0, 0]) * 1e6, 6)  # us
    4.426181
    """
    x, ws, t_max = check_network(input_times, weights, t_max=t_max)
    if not (isinstance(max_spikes, numbers.Integral) and max_spikes >= 1):
        raise ValueError(f"max_spikes must be an integer >= 1, got {max_spikes!r}")
    if engine not in _ENGINES:
        raise ValueError(f"engine must be 'numba' or 'python', got {engine!r}")
    tables = layer_tables(neurons, [w.shape[0] for w in ws])
    for l, tb in enumerate(tables[:-1]):
        if np.isinf(tb[:, THRESHOLD]).any():
            raise ValueError(f"neurons[{l}] has an infinite threshold: only the last layer may be non-spiking")
    fwd = kernels.layer_forward_parallel if (parallel and engine == "numba") else _ENGINES[engine].layer_forward
    times, i_spk, i_rel, out = [], [], [], None
    pre = x
    for l, (w, tb) in enumerate(zip(ws, tables)):
        tp, src, _, nv = _events(pre, t_max)
        k = _k_layer(tb, int(max_spikes))
        out = fwd(tp, src, nv, w, tb, t_max, k)
        if out[4].any():
            raise ValueError(f"max_spikes={max_spikes} is too small: a neuron of layer {l} fires more often")
        times.append(out[0])
        i_spk.append(out[1])
        i_rel.append(out[2])
        pre = out[0]
    vm = out[5:] if np.isinf(tables[-1][:, THRESHOLD]).all() else (None,) * 4
    return Trace(tuple(times), tuple(i_spk), tuple(i_rel), *vm)


def reconstruct(input_times, times, weights, neurons, *, t_max: float) -> Trace:
    """A :class:`Trace` rebuilt from spike times alone and the *nominal* weights and parameters.

    The synaptic current of neuron ``i`` at time ``t`` is
    ``sum_{events e before t} W[i, j_e] exp(-(t - t_e)/tau_syn_i)``; it is
    evaluated at every recorded spike and at the end of every refractory
    period. A non-spiking last layer's membrane maximum is recomputed by the
    exact forward of that layer with the nominal weights. This is what the
    software side of a chip-in-the-loop run does (Pehle et al. 2023): the chip
    returns spike times only.

    ``times`` holds one ``(B, N_l)`` or ``(B, N_l, K_l)`` array per layer
    (``inf`` padded); for a non-spiking last layer its entry is ignored.

    Examples
    --------
    >>> from memsim.snn.lif import LIF
    >>> w = [np.array([[2.5, 2.5]])]
    >>> tr = forward([[0.0, 1e-6]], w, LIF(), t_max=30e-6)
    >>> rec = reconstruct([[0.0, 1e-6]], tr.times, w, LIF(), t_max=30e-6)
    >>> bool(np.allclose(rec.i_spike[0], tr.i_spike[0], rtol=1e-13))
    True
    """
    x, ws, t_max = check_network(input_times, weights, t_max=t_max)
    tables = layer_tables(neurons, [w.shape[0] for w in ws])
    if isinstance(times, np.ndarray) or not isinstance(times, Sequence) or len(times) != len(ws):
        raise ValueError(f"times must give one spike array per layer ({len(ws)})")
    out_t, out_is, out_ir = [], [], []
    pre, vm = x, (None,) * 4
    for l, (w, tb) in enumerate(zip(ws, tables)):
        tp, src, _, nv = _events(pre, t_max)
        if l == len(ws) - 1 and np.isinf(tb[:, THRESHOLD]).all():
            res = kernels.layer_forward(tp, src, nv, w, tb, t_max, 1)
            out_t.append(res[0])
            out_is.append(res[1])
            out_ir.append(res[2])
            vm = res[5:]
            break
        own = _spike_array(times[l], f"times[{l}]")
        if own.shape[:2] != (x.shape[0], w.shape[0]):
            raise ValueError(f"times[{l}] must have shape ({x.shape[0]}, {w.shape[0]}, K), got {own.shape}")
        own = np.where(own < t_max, own, np.inf)
        valid = np.arange(tp.shape[1])[None, :] < nv[:, None]  # (B, E)
        wsrc = np.where(valid[:, None, :], w[:, src].transpose(1, 0, 2), 0.0)  # (B, N, E)
        ts = tb[:, TAU_SYN][None, :, None, None]

        def current(at):
            dt = at[..., None] - tp[:, None, None, :]  # (B, N, K, E)
            before = dt > 0
            kern = np.exp(-np.where(before, dt, 0.0) / ts) * before
            return np.einsum("bnke,bne->bnk", kern, wsrc)

        i_spk = np.where(np.isfinite(own), current(np.where(np.isfinite(own), own, 0.0)), np.nan)
        rel = own + tb[:, REFRACTORY][None, :, None]
        has_rel = np.isfinite(own) & (rel < t_max)
        i_rel = np.where(has_rel, current(np.where(has_rel, rel, 0.0)), np.nan)
        out_t.append(own)
        out_is.append(i_spk)
        out_ir.append(i_rel)
        pre = own
    return Trace(tuple(out_t), tuple(out_is), tuple(out_ir), *vm)


def backward(input_times, trace: Trace, weights, neurons, *, t_max: float, dl_dt=None, dl_dvmax=None,
             per_sample: bool = False, engine: Engine = "numba", parallel: bool = False) -> list[np.ndarray]:
    """EventProp: ``dL/dW`` for every layer from a :class:`Trace` and the loss gradient at the output.

    Parameters
    ----------
    input_times, weights, neurons, t_max : as for :func:`forward`.
    trace : Trace
        From :func:`forward` or :func:`reconstruct`.
    dl_dt : (B, N_out) or (B, N_out, K_out), optional
        ``dL/dt`` of the output spikes (a 2-D array applies to the first spikes).
    dl_dvmax : (B, N_out), optional
        ``dL/dVmax`` of a non-spiking output layer.
    per_sample : bool
        Return ``(B, N_l, N_{l-1})`` gradients instead of their sum over the batch.
    engine, parallel : as for :func:`forward`.

    The adjoint (Wunderlich & Pehle 2021, eq. 3-4 and Table 2) is integrated
    layer by layer from the output down: each layer's pass yields ``dL/dW`` and
    ``dL/dt`` of its presynaptic spikes, which drive the layer below; see
    :func:`memsim.snn.kernels.layer_backward` for the jumps.

    Examples
    --------
    >>> from memsim.snn.lif import LIF
    >>> x, w = [[0.0, 1e-6]], [np.array([[2.5, 2.5]])]
    >>> tr = forward(x, w, LIF(), t_max=30e-6)
    >>> g = backward(x, tr, w, LIF(), t_max=30e-6, dl_dt=np.ones((1, 1)))  # dL/dW = dt/dW
    >>> bool(np.all(g[0] < 0))  # stronger input, earlier spike
    True
    """
    x, ws, t_max = check_network(input_times, weights, t_max=t_max)
    if engine not in _ENGINES:
        raise ValueError(f"engine must be 'numba' or 'python', got {engine!r}")
    tables = layer_tables(neurons, [w.shape[0] for w in ws])
    if len(trace.times) != len(ws):
        raise ValueError(f"trace must hold one spike array per layer ({len(ws)}), got {len(trace.times)}")
    n_b = x.shape[0]
    out = trace.times[-1]
    if dl_dt is None and dl_dvmax is None:
        raise ValueError("give dl_dt (output spike times) or dl_dvmax (output membrane maxima)")
    g_t = np.zeros(out.shape)
    if dl_dt is not None:
        d = np.asarray(dl_dt, dtype=float)
        if d.shape == out.shape[:2]:
            g_t[..., 0] = d
        elif d.shape == out.shape:
            g_t[...] = d
        else:
            raise ValueError(f"dl_dt must have shape {out.shape[:2]} or {out.shape}, got {d.shape}")
        g_t = np.where(np.isfinite(out), np.nan_to_num(g_t), 0.0)
    nonspiking = np.isinf(tables[-1][:, THRESHOLD]).all()
    g_v = np.zeros((n_b, ws[-1].shape[0]))
    if dl_dvmax is not None:
        if not nonspiking or trace.vmax is None:
            raise ValueError("dl_dvmax needs a non-spiking last layer (threshold inf) and its trace.vmax")
        g_v = np.asarray(dl_dvmax, dtype=float)
        if g_v.shape != (n_b, ws[-1].shape[0]):
            raise ValueError(f"dl_dvmax must have shape {(n_b, ws[-1].shape[0])}, got {g_v.shape}")
    bwd = kernels.layer_backward_parallel if (parallel and engine == "numba") else _ENGINES[engine].layer_backward
    grads: list[np.ndarray] = [np.empty(0)] * len(ws)
    for l in range(len(ws) - 1, -1, -1):
        pre = x if l == 0 else trace.times[l - 1]
        tp, src, order, nv = _events(pre, t_max)
        if l == len(ws) - 1 and nonspiking:
            vm = (trace.t_vmax, trace.vdot_vmax, np.ascontiguousarray(trace.e_vmax, dtype=np.int64), g_v)
        else:
            z = np.zeros((n_b, ws[l].shape[0]))
            vm = (z, z, np.full(z.shape, -1, np.int64), z)
        tl = trace.times[l]
        count = np.isfinite(tl).sum(axis=-1).astype(np.int64)
        dw, dtp = bwd(tp, src, nv, ws[l], tables[l], t_max, np.ascontiguousarray(tl), count,
                                      np.ascontiguousarray(trace.i_spike[l]), np.ascontiguousarray(trace.i_release[l]),
                                      np.ascontiguousarray(g_t), *vm)
        grads[l] = dw if per_sample else dw.sum(axis=0)
        if l > 0:
            flat = np.zeros(tp.shape)
            np.put_along_axis(flat, order, dtp, axis=1)
            g_t = flat.reshape(pre.shape)
    return grads


def gradient_from_spike_times(input_times, times, weights, neurons, *, t_max: float, dl_dt=None, dl_dvmax=None,
                              per_sample: bool = False) -> list[np.ndarray]:
    """EventProp gradient from spike times alone (chip in the loop): :func:`backward` on :func:`reconstruct`.

    ``times`` are the spike times a chip returned (one array per layer), run
    with whatever weights it really holds; ``weights`` and ``neurons`` are the
    *nominal* ones, from which the currents at the spikes are reconstructed.
    When the chip is exact (its weights equal the nominal ones) this is the
    gradient of :func:`backward` after :func:`forward`.

    Examples
    --------
    >>> from memsim.snn.lif import LIF
    >>> x, w = [[0.0, 1e-6]], [np.array([[2.5, 2.5]])]
    >>> chip = forward(x, [w[0] * 1.01], LIF(), t_max=30e-6).times  # a chip with 1 % gain error
    >>> g = gradient_from_spike_times(x, chip, w, LIF(), t_max=30e-6, dl_dt=np.ones((1, 1)))
    >>> g[0].shape
    (1, 2)
    """
    tr = reconstruct(input_times, times, weights, neurons, t_max=t_max)
    return backward(input_times, tr, weights, neurons, t_max=t_max, dl_dt=dl_dt, dl_dvmax=dl_dvmax,
                    per_sample=per_sample)
