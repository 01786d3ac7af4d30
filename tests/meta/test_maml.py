"""MAML meta-gradients against finite differences (float64), first-order and Reptile against closed forms."""

from __future__ import annotations

import contextlib
from functools import partial

import numpy as np
import pytest

jax = pytest.importorskip("jax", reason='meta-learning needs the extra: pip install "memsim[jax]"')
jnp = jax.numpy

from memsim.arrays import IdealArray, UpdatePolicy, apply_update  # noqa: E402
from memsim.meta import MAMLConfig, adapt, init_meta, meta_gradient, quantise_update, task_objective  # noqa: E402
from memsim.snn.surrogate import DiscreteLIF, Net, init_params, lif_layer, loss  # noqa: E402


@contextlib.contextmanager
def x64():
    """float64 inside the block only; the previous setting is restored (no leak into other tests)."""
    old = bool(jax.config.jax_enable_x64)
    jax.config.update("jax_enable_x64", True)
    try:
        yield
    finally:
        jax.config.update("jax_enable_x64", old)


def _flat(tree):
    leaves = jax.tree_util.tree_leaves(tree)
    return np.concatenate([np.asarray(a, float).ravel() for a in leaves])


def _unflat(tree, vec):
    leaves, tdef = jax.tree_util.tree_flatten(tree)
    out, i = [], 0
    for a in leaves:
        out.append(jnp.asarray(vec[i:i + a.size].reshape(a.shape), dtype=jnp.float64))
        i += a.size
    return jax.tree_util.tree_unflatten(tdef, out)


def _task(rng, shape, n, n_out):
    x = jnp.asarray(rng.integers(0, 3, size=(n,) + shape).astype(float))
    return x, jnp.asarray(np.arange(n) % n_out)


def test_second_order_meta_gradient_of_relu_net_matches_finite_differences():
    with x64():
        net = Net((2, 2, 3), hidden=(4,), n_out=3, spiking=False, readout_gain=1.0)
        params = tuple((w, b + 0.05) for w, b in init_params(net, seed=1, dtype=jnp.float64))
        meta = init_meta(params, 0.2)
        rng = np.random.default_rng(0)
        (sx, sy), (qx, qy) = _task(rng, (3, 2, 2, 3), 6, 3), _task(rng, (3, 2, 2, 3), 6, 3)
        cfg = MAMLConfig(order="second", inner_steps=2, learn_inner_lr=True)
        batch = tuple(a[None] for a in (sx, sy, qx, qy))
        _, g = meta_gradient(partial(loss, net), meta, batch, cfg)

        obj = jax.jit(lambda m: task_objective(partial(loss, net), m, sx, sy, qx, qy, steps=2))

        def objective(vec):
            return float(obj(_unflat(meta, vec)))

        theta = _flat(meta)
        eps = 1e-6
        fd = np.array([(objective(theta + eps * e) - objective(theta - eps * e)) / (2 * eps)
                       for e in np.eye(theta.size)])
    # Reference: central differences of the meta-objective L_q(phi_2(theta, log alpha)) (a ReLU net, smooth
    # away from kinks; none is within eps here). float64, eps = 1e-6: truncation ~ eps^2 |f'''| ~ 1e-12,
    # round-off ~ 1e-16 / eps = 1e-10 relative to O(1) losses -> atol 1e-7.
    np.testing.assert_allclose(_flat(g), fd, rtol=1e-6, atol=1e-7)
    assert np.abs(fd).max() > 1e-3  # a gradient worth checking


def _hidden_raster(net, params, x):
    h = jnp.swapaxes(x, 0, 1).reshape(x.shape[1], x.shape[0], -1)
    w, b = params[0]
    return lif_layer(h @ w + b, net.neuron)


def test_second_order_meta_gradient_of_snn_matches_finite_differences_of_the_adapted_weights():
    # With Heaviside spikes the meta-objective is piecewise constant in the hidden weights, so the check is
    # on the chain rule MAML computes: d L_q(U(theta)) / d theta = J_U(theta)^T g_q(U(theta)), with
    # U(theta) = theta - alpha g_s(theta) (g = surrogate gradients). U is smooth while no spike of the
    # support forward pass flips (asserted), so its Jacobian J_U is taken by central differences; g_q is
    # the surrogate gradient at the adapted weights. This checks the second-order terms (the derivative of
    # the surrogate gradient, through spike()'s custom JVP) the meta-gradient contains.
    with x64():
        net = Net((2, 2, 2), hidden=(3,), n_out=2, neuron=DiscreteLIF(slope=2.0), readout_gain=1.0)
        # non-zero biases: with zero ones a silent readout's membrane is 0 at every step and the time of
        # its maximum (hence the gradient) jumps when the bias changes sign
        params = tuple((w, b + 0.05) for w, b in init_params(net, seed=4, dtype=jnp.float64))
        rng = np.random.default_rng(2)
        (sx, sy), (qx, qy) = _task(rng, (5, 2, 2, 2), 4, 2), _task(rng, (5, 2, 2, 2), 4, 2)
        alpha = 0.3
        f = partial(loss, net)
        lrs = jnp.full(2, alpha)
        meta = init_meta(params, alpha)
        cfg = MAMLConfig(order="second", inner_steps=1)
        _, g = meta_gradient(f, meta, tuple(a[None] for a in (sx, sy, qx, qy)), cfg)

        adapt1 = jax.jit(lambda p: adapt(f, p, lrs, sx, sy, steps=1))
        raster_of = jax.jit(lambda p: _hidden_raster(net, p, sx))

        def u(vec):
            return _flat(adapt1(_unflat(params, vec)))

        theta = _flat(params)
        raster = np.asarray(raster_of(params))
        eps = 1e-6
        cols = []
        for e in np.eye(theta.size):
            for sgn in (1, -1):
                assert np.array_equal(np.asarray(raster_of(_unflat(params, theta + sgn * eps * e))), raster)
            cols.append((u(theta + eps * e) - u(theta - eps * e)) / (2 * eps))
        jac = np.stack(cols, axis=1)  # J_U[i, j] = d U_i / d theta_j
        phi = adapt(f, params, lrs, sx, sy, steps=1)
        g_q = _flat(jax.grad(f)(phi, qx, qy))
        first = _flat(meta_gradient(f, meta, tuple(a[None] for a in (sx, sy, qx, qy)),
                                    MAMLConfig(order="first"))[1]["params"])
    # float64 central differences of a smooth map, eps = 1e-6: error ~1e-10 relative -> atol 1e-7
    np.testing.assert_allclose(_flat(g["params"]), jac.T @ g_q, rtol=1e-6, atol=1e-7)
    # first-order MAML is the closed form g_q(U(theta)) (J_U replaced by I): float64 round-off only
    np.testing.assert_allclose(first, g_q, rtol=1e-12, atol=1e-14)
    # the Hessian term is present: second and first order differ by more than the tolerance above
    assert np.abs(_flat(g["params"]) - first).max() > 1e-3


def _quadratic(p, x, y):
    return jnp.mean((x @ p[0][0] + p[0][1] - y) ** 2)


def test_reptile_direction_is_theta_minus_the_adapted_weights():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 6, 3))
    y = rng.standard_normal((2, 6))
    w0, b0 = rng.standard_normal(3), 0.3
    alpha, steps = 0.1, 3
    cfg = MAMLConfig(order="reptile", inner_steps=steps, inner_lr=alpha)
    meta = init_meta(((jnp.asarray(w0, jnp.float32), jnp.asarray(b0, jnp.float32)),), alpha)
    # support = first 2 examples, query = the other 4; Reptile adapts on both together
    batch = (x[:, :2], y[:, :2], x[:, 2:], y[:, 2:])
    _, d = meta_gradient(_quadratic, meta, tuple(jnp.asarray(a, jnp.float32) for a in batch), cfg)
    # Reference: plain gradient descent on the mean squared error written out in NumPy,
    # grad_w = 2/n X^T (Xw + b - y), grad_b = 2 mean(Xw + b - y), averaged over the two tasks
    dirs = []
    for t in range(2):
        w, b = w0.copy(), b0
        for _ in range(steps):
            r = x[t] @ w + b - y[t]
            w, b = w - alpha * 2 * x[t].T @ r / 6, b - alpha * 2 * r.mean()
        dirs.append(np.concatenate([w0 - w, [b0 - b]]))
    got = np.concatenate([np.asarray(d["params"][0][0]), [float(d["params"][0][1])]])
    np.testing.assert_allclose(got, np.mean(dirs, axis=0), rtol=1e-4, atol=1e-6)  # float32 over 3 steps


def test_quantised_update_matches_the_ideal_array_write():
    rng = np.random.default_rng(5)
    dw, db = rng.standard_normal((7, 4)), rng.standard_normal(4)
    for bits in (8, 4, 3, 2, 1):
        qw, qb = quantise_update(jnp.asarray(dw), jnp.asarray(db), bits)
        # Reference: memsim.arrays' own quantiser (IdealArray + UpdatePolicy(bits)) on the layer matrix
        mat = np.concatenate([dw, db[None]])
        ref = apply_update(IdealArray(8, 4), np.zeros((8, 4)), mat, UpdatePolicy(bits=bits)).achieved
        # float32 (JAX) against float64: rtol 1e-6 (no value lies within float32 round-off of a rounding edge)
        np.testing.assert_allclose(np.concatenate([np.asarray(qw), np.asarray(qb)[None]]), ref, rtol=1e-6,
                                   atol=1e-7)
    # straight-through: the gradient of sum(quantised) with respect to the update is one everywhere
    gw = jax.grad(lambda a: quantise_update(a, jnp.asarray(db), 2)[0].sum())(jnp.asarray(dw))
    assert np.all(np.asarray(gw) == 1.0)


@pytest.mark.parametrize("kwargs, field", [
    (dict(order="third"), "order"), (dict(inner_steps=0), "inner_steps"), (dict(inner_lr=-1.0), "inner_lr"),
    (dict(inner_bits=0), "inner_bits"), (dict(k_shot=0), "k_shot"), (dict(meta_lr=float("inf")), "meta_lr"),
])
def test_bad_config_fields(kwargs, field):
    with pytest.raises(ValueError, match=f"MAMLConfig.{field}") as info:
        MAMLConfig(**kwargs)
    assert "\n" not in str(info.value)
