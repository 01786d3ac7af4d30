"""MAML (second- and first-order) and Reptile on jax.grad / jax.vmap over tasks.

Model-agnostic meta-learning (Finn, Abbeel & Levine, ICML 2017) learns an
initialisation ``theta`` from which a few gradient steps on a task's support
set give a low loss on its query set::

    phi_0 = theta,   phi_{k+1} = phi_k - alpha_l * grad L_support(phi_k)   (per layer l),
    meta-objective  = mean over tasks of L_query(phi_K),

and its gradient with respect to ``theta`` (and optionally the log learning
rates ``log alpha_l``, one per layer, in the spirit of Meta-SGD, Li et al.
2017) differentiates through the inner steps (``order="second"``, the
Hessian-vector products included), or treats the inner gradients as
constants (``"first"``, first-order MAML). Reptile (Nichol, Achiam &
Schulman, arXiv 1803.02999, 2018) moves ``theta`` towards the adapted weights:
its meta-direction is ``theta - phi_K`` (inner steps on support and query
together). The outer loop is Adam (Kingma & Ba 2015), written out here.

Quantisation-aware meta-training (the journal version of Stewart & Neftci
2022): with ``inner_bits`` every inner update of a layer is quantised as a
memristive array would write it (:func:`quantise_update`, the same rule as
:class:`memsim.arrays.UpdatePolicy` with ``bits``), with a straight-through
gradient.

Needs the optional extra: ``pip install "memsim[jax]"``.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from functools import partial
from typing import Literal

import numpy as np
import pandas as pd

from memsim.datasets.fewshot import DoubleTasks, Episodes, episodes
from memsim.snn.surrogate import Net, accuracy, init_params, jax, jnp, loss

__all__ = ["Order", "MAMLConfig", "MetaResult", "quantise_update", "adapt", "task_objective", "meta_gradient",
           "meta_train", "evaluate", "init_meta"]

Order = Literal["second", "first", "reptile"]


@dataclass(frozen=True)
class MAMLConfig:
    """Meta-training settings.

    Examples
    --------
    >>> MAMLConfig(order="first", inner_steps=2).inner_steps
    2
    """

    order: Order = "second"
    inner_steps: int = 1
    inner_lr: float = 0.3  # weight units per unit gradient, initial value when learned
    learn_inner_lr: bool = False  # one learned inner learning rate per layer
    inner_bits: int | None = None  # quantisation-aware meta-training: bits of each inner update
    meta_lr: float = 2e-3  # Adam step size
    meta_batch: int = 8  # tasks per meta-iteration
    iterations: int = 1000
    n_way: int = 5
    k_shot: int = 1
    n_query: int = 5  # query examples per class during meta-training

    def __post_init__(self) -> None:
        if self.order not in ("second", "first", "reptile"):
            raise ValueError(f"MAMLConfig.order must be 'second', 'first' or 'reptile', got {self.order!r}")
        for name, lo in (("inner_steps", 1), ("meta_batch", 1), ("iterations", 0), ("n_way", 2), ("k_shot", 1),
                         ("n_query", 1)):
            v = getattr(self, name)
            if not (isinstance(v, int) and not isinstance(v, bool) and v >= lo):
                raise ValueError(f"MAMLConfig.{name} must be an integer >= {lo}, got {v!r}")
        if self.inner_bits is not None and not (isinstance(self.inner_bits, int) and self.inner_bits >= 1):
            raise ValueError(f"MAMLConfig.inner_bits must be an integer >= 1 or None, got {self.inner_bits!r}")
        for name in ("inner_lr", "meta_lr"):
            v = getattr(self, name)
            if not (isinstance(v, (int, float)) and math.isfinite(v) and v > 0):
                raise ValueError(f"MAMLConfig.{name} must be a finite number > 0, got {v!r}")


@dataclass(frozen=True)
class MetaResult:
    """A meta-trained initialisation.

    ``params``: the ``(w, b)`` pairs; ``inner_lr``: per-layer inner learning
    rates; ``history``: one row per logged iteration (``iteration``,
    ``loss``: the meta-batch's query loss after adaptation); ``wall_time``:
    seconds of meta-training (compilation included).
    """

    params: tuple
    inner_lr: np.ndarray
    history: pd.DataFrame
    wall_time: float


def init_meta(params, inner_lr: float) -> dict:
    """Meta-parameters: ``{"params": params, "log_lr": log(inner_lr) per layer}``."""
    return {"params": params, "log_lr": jnp.full(len(params), math.log(inner_lr), dtype=params[0][0].dtype)}


def quantise_update(dw, db, bits: int | None):
    """Quantise one layer's update ``(dw, db)`` to ``bits`` magnitude bits, as an array write would.

    The layer's weights and biases share one crossbar (the bias as a row), so
    the range is the largest ``|update|`` of the layer; magnitudes round to
    ``0, q, ..., (2**bits - 1) q`` with ``q = range / (2**bits - 1)``, signs
    kept (:class:`memsim.arrays.UpdatePolicy` with ``bits``). The gradient
    passes straight through.

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> dw, db = quantise_update(jnp.array([0.1, -0.35, 0.9]), jnp.array([0.5]), 2)
    >>> [round(float(v), 4) for v in dw], [round(float(v), 4) for v in db]
    ([0.0, -0.3, 0.9], [0.6])
    """
    if bits is None:
        return dw, db
    levels = 2**bits - 1
    r = jnp.maximum(jnp.abs(dw).max(), jnp.abs(db).max())
    q = jnp.where(r > 0, r / levels, 1.0)

    def one(x):
        xq = jnp.sign(x) * jnp.minimum(jnp.round(jnp.abs(x) / q), levels) * q
        return x + jax.lax.stop_gradient(xq - x)

    return one(dw), one(db)


def adapt(loss_fn, params, lrs, x, y, *, steps: int, first_order: bool = False, bits: int | None = None):
    """``steps`` inner gradient steps of ``loss_fn(params, x, y)`` from ``params`` with per-layer rates ``lrs``.

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> f = lambda p, x, y: ((p[0][0] * x - y) ** 2).sum() + 0 * p[0][1].sum()
    >>> p = ((jnp.array(0.0), jnp.array(0.0)),)
    >>> float(adapt(f, p, jnp.array([0.25]), jnp.array(1.0), jnp.array(2.0), steps=1)[0][0])  # 0 + 0.25 * 4
    1.0
    """
    for _ in range(steps):
        g = jax.grad(loss_fn)(params, x, y)
        if first_order:
            g = jax.lax.stop_gradient(g)
        new = []
        for (w, b), (gw, gb), lr in zip(params, g, lrs):
            dw, db = quantise_update(-lr * gw, -lr * gb, bits)
            new.append((w + dw, b + db))
        params = tuple(new)
    return params


def task_objective(loss_fn, meta, sx, sy, qx, qy, *, steps: int, first_order: bool = False,
                   bits: int | None = None, learn_lr: bool = True):
    """Query loss after adapting ``meta["params"]`` on the support set (one task)."""
    log_lr = meta["log_lr"] if learn_lr else jax.lax.stop_gradient(meta["log_lr"])
    phi = adapt(loss_fn, meta["params"], jnp.exp(log_lr), sx, sy, steps=steps, first_order=first_order, bits=bits)
    return loss_fn(phi, qx, qy)


def meta_gradient(loss_fn, meta, batch, cfg: MAMLConfig):
    """Mean query loss over a batch of tasks and the meta-gradient (a pytree like ``meta``).

    ``batch = (sx, sy, qx, qy)``, each with a leading task axis (vmapped).
    ``order="reptile"`` returns the Reptile direction ``mean(theta - phi)``
    in place of a gradient (zero for the learning rates).

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> f = lambda p, x, y: ((p[0][0] * x - y) ** 2).mean() + 0 * p[0][1]
    >>> meta = init_meta(((jnp.array(0.0), jnp.array(0.0)),), 0.25)
    >>> batch = (jnp.ones((1, 1)), jnp.full((1, 1), 2.0), jnp.ones((1, 1)), jnp.full((1, 1), 2.0))
    >>> val, g = meta_gradient(f, meta, batch, MAMLConfig())
    >>> float(val), float(g["params"][0][0])  # phi = 1: loss 1, d/dtheta = -2 (1 - 2 alpha) = -1
    (1.0, -1.0)
    """
    steps, bits = cfg.inner_steps, cfg.inner_bits
    if cfg.order == "reptile":
        def one(sx, sy, qx, qy):
            x, y = jnp.concatenate([sx, qx]), jnp.concatenate([sy, qy])
            phi = adapt(loss_fn, meta["params"], jnp.exp(meta["log_lr"]), x, y, steps=steps, bits=bits)
            return loss_fn(phi, qx, qy), phi

        losses, phis = jax.vmap(one)(*batch)
        direction = jax.tree_util.tree_map(lambda t, p: t - p.mean(axis=0), meta["params"], phis)
        return losses.mean(), {"params": direction, "log_lr": jnp.zeros_like(meta["log_lr"])}

    def objective(m):
        f = partial(task_objective, loss_fn, m, steps=steps, first_order=cfg.order == "first", bits=bits,
                    learn_lr=cfg.learn_inner_lr)
        return jax.vmap(f)(*batch).mean()

    return jax.value_and_grad(objective)(meta)


def _adam(grads, state, lr: float, b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8):
    m, v, t = state
    t = t + 1
    m = jax.tree_util.tree_map(lambda a, g: b1 * a + (1 - b1) * g, m, grads)
    v = jax.tree_util.tree_map(lambda a, g: b2 * a + (1 - b2) * g * g, v, grads)
    scale = lr * jnp.sqrt(1 - b2**t) / (1 - b1**t)
    upd = jax.tree_util.tree_map(lambda a, b: -scale * a / (jnp.sqrt(b) + eps), m, v)
    return upd, (m, v, t)


def _batch(ep: Episodes):
    return tuple(jnp.asarray(a) for a in (ep.support_x, ep.support_y, ep.query_x, ep.query_y))


def meta_train(net: Net, tasks: DoubleTasks, cfg: MAMLConfig, *, seed: int = 0, params=None,
               log_every: int = 50) -> MetaResult:
    """Meta-train an initialisation of ``net`` on the ``"train"`` classes of ``tasks``.

    Every iteration samples ``cfg.meta_batch`` episodes (``n_way``-way
    ``k_shot``-shot, ``n_query`` query examples per class) and takes one Adam
    step on the meta-gradient. ``seed`` draws the initial weights (unless
    ``params`` is given) and the episodes.

    Examples
    --------
    >>> from memsim.datasets.fewshot import double_tasks
    >>> tasks = double_tasks(per_class=6, steps=4)
    >>> net = Net(tasks.sample_shape[1:], hidden=(8,))
    >>> res = meta_train(net, tasks, MAMLConfig(iterations=2, meta_batch=2), seed=0)
    >>> len(res.history), res.inner_lr.shape
    (2, (2,))
    """
    if not isinstance(cfg, MAMLConfig):
        raise ValueError(f"cfg must be a MAMLConfig, got {type(cfg).__name__}")
    t0 = time.perf_counter()
    rng = np.random.default_rng(seed)
    meta = init_meta(init_params(net, seed) if params is None else params, cfg.inner_lr)
    opt = (jax.tree_util.tree_map(jnp.zeros_like, meta), jax.tree_util.tree_map(jnp.zeros_like, meta), 0)
    loss_fn = partial(loss, net)

    @jax.jit
    def step(meta, opt, batch):
        val, g = meta_gradient(loss_fn, meta, batch, cfg)
        upd, opt = _adam(g, opt, cfg.meta_lr)
        return jax.tree_util.tree_map(jnp.add, meta, upd), opt, val

    rows = []
    for it in range(cfg.iterations):
        ep = episodes(tasks, "train", n_way=cfg.n_way, k_shot=cfg.k_shot, n_query=cfg.n_query,
                      n_episodes=cfg.meta_batch, seed=rng)
        meta, opt, val = step(meta, opt, _batch(ep))
        if it % log_every == 0 or it == cfg.iterations - 1:
            rows.append({"iteration": it, "loss": float(val)})
    jax.block_until_ready(meta)
    return MetaResult(meta["params"], np.exp(np.asarray(meta["log_lr"])), pd.DataFrame(rows),
                      time.perf_counter() - t0)


def evaluate(net: Net, params, inner_lr, eps: Episodes, *, steps=(0, 1), bits: int | None = None,
             chunk: int = 50) -> np.ndarray:
    """Query accuracy of every episode after each number of inner steps in ``steps`` (software, float).

    Returns an array ``(len(steps), n_episodes)``. ``inner_lr`` is a number
    or one rate per layer; ``bits`` quantises every inner update as in
    :func:`quantise_update`.

    Examples
    --------
    >>> from memsim.datasets.fewshot import double_tasks, episodes
    >>> tasks = double_tasks(per_class=6, steps=4)
    >>> net = Net(tasks.sample_shape[1:], hidden=(8,))
    >>> ep = episodes(tasks, "test", k_shot=1, n_query=5, n_episodes=3, seed=0)
    >>> evaluate(net, init_params(net), 0.5, ep, steps=(0, 2)).shape
    (2, 3)
    """
    steps = tuple(int(s) for s in steps)
    if not steps or min(steps) < 0:
        raise ValueError(f"steps must be non-negative integers, got {steps!r}")
    lrs = jnp.broadcast_to(jnp.asarray(inner_lr, dtype=params[0][0].dtype), (len(params),))
    loss_fn = partial(loss, net)
    last = max(steps)

    @jax.jit
    def run(sx, sy, qx, qy):
        def one(sx, sy, qx, qy):
            p, out = params, []
            for k in range(last + 1):
                if k in steps:
                    out.append(accuracy(net, p, qx, qy))
                if k < last:
                    p = adapt(loss_fn, p, lrs, sx, sy, steps=1, bits=bits)
            return jnp.stack(out)

        return jax.vmap(one)(sx, sy, qx, qy)

    b = _batch(eps)
    n = b[0].shape[0]
    res = [np.asarray(run(*(a[i:i + chunk] for a in b))) for i in range(0, n, chunk)]
    return np.concatenate(res).T
