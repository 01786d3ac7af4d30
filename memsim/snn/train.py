"""Training spiking networks with EventProp: encoding, losses, Adam, the epoch loop (software or chip).

Settings follow the Yin-Yang experiments of Pehle et al. (arXiv 2302.07141)
and their jaxsnn code: features encoded as input spike latencies
``t = feature * t_late`` (each input duplicated over several neurons) plus a
bias spike; the loss is the mean squared error of the output first-spike
times against target times (early for the correct class, late for the
others), clipped at ``t_clip`` so a silent neuron contributes no gradient;
the prediction is the output neuron that spikes first.

A *chip* is any callable ``chip(weights, input_times) -> spike times per
layer``; with one, the forward pass is the chip's and the gradient comes from
its spike times and the nominal weights
(:func:`memsim.snn.eventprop.gradient_from_spike_times`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from memsim.snn.eventprop import backward, forward, gradient_from_spike_times

__all__ = [
    "Adam",
    "FirstSpikeMSE",
    "adam_init",
    "adam_step",
    "evaluate",
    "latency_encode",
    "predict_first_spike",
    "train_epoch",
    "vmax_cross_entropy",
]

Chip = Callable[[list[np.ndarray], np.ndarray], Sequence[np.ndarray]]


def latency_encode(features, *, t_late: float, duplicate: int = 5, bias_time: float | None = 0.0) -> np.ndarray:
    """``(n, (F + 1) * duplicate)`` input spike times: ``feature * t_late`` and a bias spike, each repeated.

    Features must lie in ``[0, 1]``; ``bias_time=None`` omits the bias input.

    Examples
    --------
    >>> latency_encode([[0.0, 1.0]], t_late=2.0, duplicate=2).tolist()
    [[0.0, 0.0, 2.0, 2.0, 0.0, 0.0]]
    """
    f = np.asarray(features, dtype=float)
    if f.ndim != 2 or f.size == 0:
        raise ValueError(f"features must be a non-empty (n, F) array, got shape {f.shape}")
    if not (np.all(f >= 0) and np.all(f <= 1)):
        raise ValueError("features must lie in [0, 1]")
    if not (isinstance(duplicate, int) and duplicate >= 1):
        raise ValueError(f"duplicate must be an integer >= 1, got {duplicate!r}")
    t = f * t_late
    if bias_time is not None:
        t = np.column_stack([t, np.full(len(t), float(bias_time))])
    return np.repeat(t, duplicate, axis=1)


@dataclass(frozen=True)
class FirstSpikeMSE:
    """``L = mean_b sum_n ((min(t_bn, t_clip) - target_bn) / tau)^2`` on output first-spike times.

    ``target = t_correct`` for the labelled neuron, ``t_wrong`` for the others
    (jaxsnn Yin-Yang: 0.9 and 1.5 tau_syn, clip at 2 tau_mem, tau = tau_mem).

    Examples
    --------
    >>> loss = FirstSpikeMSE(t_correct=1.0, t_wrong=2.0, t_clip=3.0, tau=1.0)
    >>> value, grad = loss(np.array([[1.5, np.inf]]), np.array([0]))
    >>> value, grad.tolist()
    (1.25, [[1.0, 0.0]])
    """

    t_correct: float  # s, target first-spike time of the correct output
    t_wrong: float  # s, target of the other outputs
    t_clip: float  # s, later (or absent) spikes count as this time
    tau: float  # s, time unit of the squared error

    def __call__(self, t_first: np.ndarray, labels: np.ndarray) -> tuple[float, np.ndarray]:
        t = np.asarray(t_first, dtype=float)
        target = np.full(t.shape, self.t_wrong)
        target[np.arange(len(t)), np.asarray(labels)] = self.t_correct
        tc = np.minimum(t, self.t_clip)
        err = (tc - target) / self.tau
        value = float((err**2).sum(axis=1).mean())
        grad = np.where(t < self.t_clip, 2.0 * err / self.tau / len(t), 0.0)
        return value, grad


def vmax_cross_entropy(vmax: np.ndarray, labels: np.ndarray) -> tuple[float, np.ndarray]:
    """Softmax cross-entropy of the output membrane maxima (mean over the batch) and its gradient.

    Examples
    --------
    >>> value, grad = vmax_cross_entropy(np.array([[0.0, 0.0]]), np.array([1]))
    >>> round(value, 6), grad.tolist()
    (0.693147, [[0.5, -0.5]])
    """
    v = np.asarray(vmax, dtype=float)
    z = v - v.max(axis=1, keepdims=True)
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    rows = np.arange(len(v))
    value = float(-np.log(p[rows, labels]).mean())
    grad = p.copy()
    grad[rows, labels] -= 1.0
    return value, grad / len(v)


def predict_first_spike(t_first: np.ndarray) -> np.ndarray:
    """Index of the output that spikes first; ``-1`` when none spikes.

    Examples
    --------
    >>> predict_first_spike(np.array([[2.0, 1.0], [np.inf, np.inf]])).tolist()
    [1, -1]
    """
    t = np.asarray(t_first, dtype=float)
    return np.where(np.isfinite(t).any(axis=1), np.argmin(t, axis=1), -1)


@dataclass(frozen=True)
class Adam:
    """Adam (Kingma & Ba 2015) with a learning rate decaying by ``decay`` per epoch."""

    lr: float = 5e-3  # 1, initial step size (jaxsnn Yin-Yang)
    decay: float = 0.99  # 1, learning-rate factor per epoch
    beta1: float = 0.9  # 1
    beta2: float = 0.999  # 1
    eps: float = 1e-8  # 1


def adam_init(weights: Sequence[np.ndarray]) -> tuple[list[np.ndarray], list[np.ndarray], int]:
    """Zero moments ``(m, v, step)`` for ``weights``."""
    return [np.zeros_like(w) for w in weights], [np.zeros_like(w) for w in weights], 0


def adam_step(weights, grads, state, opt: Adam, lr: float):
    """One Adam update; returns ``(new_weights, new_state)`` (inputs unchanged).

    Examples
    --------
    >>> w, s = adam_step([np.zeros(2)], [np.array([1.0, -2.0])], adam_init([np.zeros(2)]), Adam(), 0.1)
    >>> np.round(w[0], 6).tolist()  # the first step moves every weight by about lr against its gradient
    [-0.1, 0.1]
    """
    m, v, step = state
    step += 1
    m = [opt.beta1 * a + (1 - opt.beta1) * g for a, g in zip(m, grads)]
    v = [opt.beta2 * a + (1 - opt.beta2) * g * g for a, g in zip(v, grads)]
    c1, c2 = 1 - opt.beta1**step, 1 - opt.beta2**step
    new = [w - lr * (a / c1) / (np.sqrt(b / c2) + opt.eps) for w, a, b in zip(weights, m, v)]
    return new, (m, v, step)


def train_epoch(weights, state, inputs, labels, *, neurons, t_max: float, loss: FirstSpikeMSE, opt: Adam,
                epoch: int, batch_size: int = 32, seed=None, chip: Chip | None = None):
    """One pass over ``(inputs, labels)`` in shuffled mini-batches; returns ``(weights, state, mean loss)``.

    Without ``chip`` each batch runs :func:`~memsim.snn.eventprop.forward`
    then :func:`~memsim.snn.eventprop.backward`; with one, the chip's spike
    times and the nominal ``weights`` give the gradient. The step size is
    ``opt.lr * opt.decay**epoch``.
    """
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(inputs))
    lr = opt.lr * opt.decay**epoch
    total = 0.0
    for start in range(0, len(order), batch_size):
        idx = order[start:start + batch_size]
        x, y = inputs[idx], labels[idx]
        if chip is None:
            tr = forward(x, weights, neurons, t_max=t_max)
            value, dl = loss(tr.first_spikes, y)
            grads = backward(x, tr, weights, neurons, t_max=t_max, dl_dt=dl)
        else:
            times = chip(weights, x)
            value, dl = loss(np.asarray(times[-1], dtype=float).reshape(len(x), weights[-1].shape[0], -1)[..., 0], y)
            grads = gradient_from_spike_times(x, times, weights, neurons, t_max=t_max, dl_dt=dl)
        total += value * len(idx)
        weights, state = adam_step(weights, grads, state, opt, lr)
    return weights, state, total / len(order)


def evaluate(weights, inputs, labels, *, neurons, t_max: float, loss: FirstSpikeMSE, chip: Chip | None = None,
             batch_size: int = 1000) -> tuple[float, float]:
    """``(accuracy, mean loss)`` of first-spike classification, in software or on ``chip``."""
    correct, total = 0, 0.0
    for start in range(0, len(inputs), batch_size):
        x, y = inputs[start:start + batch_size], labels[start:start + batch_size]
        if chip is None:
            t = forward(x, weights, neurons, t_max=t_max).first_spikes
        else:
            t = np.asarray(chip(weights, x)[-1], dtype=float).reshape(len(x), weights[-1].shape[0], -1)[..., 0]
        correct += int((predict_first_spike(t) == y).sum())
        total += loss(t, y)[0] * len(x)
    n = len(inputs)
    return correct / n, total / n if n else math.nan
