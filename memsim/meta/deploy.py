"""Deployment: the learned initialisation on memristive arrays, inner-loop updates written as pulses.

Each weight layer lives in one array (:mod:`memsim.arrays`): its matrix
``w.reshape(-1, n_out)`` with the bias as one more row (an input held at 1),
scaled by a per-layer gain ``s`` (a digital factor of the periphery) so that
the largest initial ``|weight|`` sits at ``headroom * w_max``. The
initialisation is programmed once by program-and-verify
(:func:`~memsim.arrays.write_weights`); for every task the chip starts from
that programmed state, and each inner step

1. reads the weights back (:func:`~memsim.arrays.weights`, times ``s``),
2. computes the support-set gradient in software (JAX, surrogate gradient)
   at those weights,
3. writes ``-alpha_l * gradient / s`` to the layer's array with
   :func:`~memsim.arrays.apply_update` (quantised to the policy's bits, device
   nonlinearity, spread and cycle-to-cycle noise, saturation),

and the query set is classified with the weights read back after the last
step. An :class:`~memsim.arrays.IdealArray` (float weights, the policy's
quantisation only) is the software reference. The outer loop never runs on
the arrays.

Modelling choices: the programmed initialisation is reused for every task
(reprogramming is assumed to reproduce it); reads are ideal single-cell reads
(no IR drop, no ADC).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import numpy as np

from memsim.arrays import IdealArray, SynapseArray, UpdatePolicy, apply_update, initial_state, weights, write_weights
from memsim.datasets.fewshot import Episodes
from memsim.snn.surrogate import Net, accuracy, jax, jnp, loss

__all__ = ["Deployment", "layer_matrix", "matrix_params", "deploy"]


def layer_matrix(w, b) -> np.ndarray:
    """The crossbar matrix of a layer: ``w.reshape(-1, n_out)`` with the bias as the last row.

    Examples
    --------
    >>> layer_matrix(np.ones((2, 3)), np.zeros(3)).shape
    (3, 3)
    """
    w, b = np.asarray(w, dtype=float), np.asarray(b, dtype=float)
    return np.concatenate([w.reshape(-1, w.shape[-1]), b[None]], axis=0)


def matrix_params(mat, shape, dtype=np.float32):
    """Inverse of :func:`layer_matrix`: ``(w, b)`` with ``w`` of ``shape``."""
    mat = np.asarray(mat)
    return jnp.asarray(mat[:-1].reshape(shape), dtype=dtype), jnp.asarray(mat[-1], dtype=dtype)


@dataclass(frozen=True)
class Deployment:
    """Outcome of :func:`deploy`.

    Attributes
    ----------
    accuracy : ``(steps + 1, n_episodes)`` query accuracy after 0, 1, ... inner steps.
    write_error : per layer, RMS error of the programmed initial weights over
        the layer's largest ``|weight|``.
    update_error : per layer, RMS of (achieved - desired) weight change over
        the RMS desired change, over all tasks and steps.
    """

    accuracy: np.ndarray
    write_error: np.ndarray
    update_error: np.ndarray


def deploy(net: Net, params, inner_lr, eps: Episodes, array_for: Callable[[int, int], SynapseArray | IdealArray],
           *, steps: int = 1, policy: UpdatePolicy | None = None, headroom: float = 0.5,
           seed=None) -> Deployment:
    """Adapt to every episode with inner-loop updates written to memristive arrays.

    Parameters
    ----------
    net, params : the network and its (meta-learned) initialisation.
    inner_lr : number or one rate per layer.
    eps : the episodes.
    array_for : ``(rows, cols) -> array`` for each layer, e.g.
        ``lambda r, c: preset_array("gms", r, c)`` or ``IdealArray``.
    steps : inner steps per episode.
    policy : how updates become pulses (bits, rounding); None = the arrays' default.
    headroom : the largest initial ``|weight|`` of a layer maps to ``headroom * w_max`` (0 < headroom <= 1).
    seed : programming and update noise.

    Examples
    --------
    >>> from memsim.arrays import preset_array
    >>> from memsim.datasets.fewshot import double_tasks, episodes
    >>> from memsim.snn.surrogate import init_params
    >>> tasks = double_tasks(per_class=4, steps=4)
    >>> net = Net(tasks.sample_shape[1:], hidden=(8,))
    >>> ep = episodes(tasks, "test", n_query=3, n_episodes=2, seed=0)
    >>> dep = deploy(net, init_params(net), 0.5, ep, lambda r, c: preset_array("gms", r, c), seed=0)
    >>> dep.accuracy.shape, dep.write_error.shape
    ((2, 2), (2,))
    """
    if not (isinstance(steps, int) and steps >= 0):
        raise ValueError(f"steps must be an integer >= 0, got {steps!r}")
    if not (isinstance(headroom, (int, float)) and 0 < headroom <= 1):
        raise ValueError(f"headroom must be in (0, 1], got {headroom!r}")
    n_layers = len(params)
    lrs = np.broadcast_to(np.asarray(inner_lr, dtype=float), (n_layers,))
    rng = np.random.default_rng(seed)
    shapes = [tuple(w.shape) for w, _ in params]
    dtype = params[0][0].dtype
    mats = [layer_matrix(w, b) for w, b in params]
    arrays = [array_for(*m.shape) for m in mats]
    scales, states0, write_err = [], [], []
    for arr, m in zip(arrays, mats):
        if isinstance(arr, IdealArray):
            scales.append(1.0)
            states0.append(m.copy())
        elif isinstance(arr, SynapseArray):
            s = max(float(np.abs(m).max()), 1e-12) / (headroom * arr.w_max)
            scales.append(s)
            states0.append(write_weights(arr, initial_state(arr), m / s, seed=rng).state)
        else:
            raise ValueError(f"array_for must return a SynapseArray or IdealArray, got {type(arr).__name__}")
        got = weights(arr, states0[-1]) * scales[-1]
        write_err.append(float(np.sqrt(np.mean((got - m) ** 2)) / max(np.abs(m).max(), 1e-12)))

    loss_fn = partial(loss, net)
    grad_fn = jax.jit(jax.grad(loss_fn))
    acc_fn = jax.jit(partial(accuracy, net))

    def read_back(states):
        return tuple(matrix_params(weights(a, st) * s, sh, dtype) for a, st, s, sh in
                     zip(arrays, states, scales, shapes))

    p0 = read_back(states0)
    n_ep = eps.support_x.shape[0]
    acc = np.zeros((steps + 1, n_ep))
    err_num, err_den = np.zeros(n_layers), np.zeros(n_layers)
    for e in range(n_ep):
        states, p = list(states0), p0
        sx, sy, qx, qy = (jnp.asarray(a[e]) for a in (eps.support_x, eps.support_y, eps.query_x, eps.query_y))
        acc[0, e] = float(acc_fn(p, qx, qy))
        for k in range(steps):
            g = grad_fn(p, sx, sy)
            for li, (arr, (gw, gb)) in enumerate(zip(arrays, g)):
                desired = -lrs[li] * layer_matrix(gw, gb) / scales[li]
                res = apply_update(arr, states[li], desired, policy, seed=rng)
                states[li] = res.state
                err_num[li] += float(np.sum((res.achieved - desired) ** 2))
                err_den[li] += float(np.sum(desired**2))
            p = read_back(states)
            acc[k + 1, e] = float(acc_fn(p, qx, qy))
    upd_err = np.sqrt(err_num / np.where(err_den > 0, err_den, 1.0))
    return Deployment(acc, np.array(write_err), upd_err)
