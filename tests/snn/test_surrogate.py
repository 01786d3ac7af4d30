"""Discrete LIF layers with the fast-sigmoid surrogate: closed forms and an independent NumPy convolution."""

from __future__ import annotations

import math

import numpy as np
import pytest

jax = pytest.importorskip("jax", reason='the surrogate-gradient SNN needs the extra: pip install "memsim[jax]"')
jnp = jax.numpy

from memsim.snn.surrogate import DiscreteLIF, Net, apply, init_params, layer_shapes, lif_layer, loss, spike  # noqa: E402


def test_spike_is_heaviside_with_fast_sigmoid_first_and_second_derivatives():
    v = jnp.array([-2.0, -0.3, 0.3, 2.0])
    assert spike(v).tolist() == [0.0, 0.0, 1.0, 1.0]
    d1 = jax.vmap(jax.grad(spike))(v)
    d2 = jax.vmap(jax.grad(jax.grad(spike)))(v)
    a = np.abs(np.asarray(v, float))
    # closed forms: d/dv H = 1 / (1 + |v|)^2, d2/dv2 = -2 sign(v) / (1 + |v|)^3; float32 -> rtol 1e-6
    np.testing.assert_allclose(d1, 1 / (1 + a) ** 2, rtol=1e-6)
    np.testing.assert_allclose(d2, -2 * np.sign(v) / (1 + a) ** 3, rtol=1e-6)


def test_subthreshold_membrane_follows_the_geometric_sum():
    neuron = DiscreteLIF(tau_mem=4e-3, dt=1e-3, threshold=100.0)
    i0 = 0.7
    v = np.asarray(lif_layer(jnp.full((6, 1), i0), neuron, spiking=False)).ravel()
    beta = math.exp(-0.25)
    t = np.arange(1, 7)
    # closed form v_t = I (1 - beta^t) / (1 - beta); float32 -> rtol 1e-6
    np.testing.assert_allclose(v, i0 * (1 - beta**t) / (1 - beta), rtol=1e-6)
    assert float(jnp.abs(lif_layer(jnp.full((6, 1), i0), neuron)).sum()) == 0.0  # never reaches 100


def test_subtractive_reset_spike_times():
    # beta = exp(-1/2); constant input 0.7 and threshold 1: v1 = 0.7, v2 = 0.7 beta + 0.7 = 1.1246 -> spike,
    # reset to 0.1246; v3 = 0.7756; v4 = 1.1705 -> spike (hand-computed from the update rule)
    neuron = DiscreteLIF(tau_mem=2e-3, dt=1e-3)
    s = np.asarray(lif_layer(jnp.full((4, 1), 0.7), neuron)).ravel()
    assert s.tolist() == [0.0, 1.0, 0.0, 1.0]


def test_surrogate_gradient_of_one_step_spike_is_the_chain_rule():
    neuron = DiscreteLIF(slope=4.0)
    x = jnp.array([0.5, -1.0, 2.0])

    def out(w):
        return lif_layer((x @ w)[None, None], neuron).sum()

    w = jnp.array([0.3, 0.1, 0.4])
    v = float(x @ w)  # 0.85: below threshold, no spike, but a surrogate gradient
    g = np.asarray(jax.grad(out)(w))
    # closed form: dS/dw = slope / (1 + slope |v - theta|)^2 * x; float32 -> rtol 1e-6
    np.testing.assert_allclose(g, 4.0 / (1 + 4.0 * abs(v - 1.0)) ** 2 * np.asarray(x), rtol=1e-6)


def _numpy_conv_s2_same(x, w, b):
    """Reference: stride-2, 3 x 3 'SAME' convolution by explicit loops (XLA pads (0, 1) for even sizes)."""
    n, c, h, wd = x.shape
    oh, ow = -(-h // 2), -(-wd // 2)
    pad_h, pad_w = max((oh - 1) * 2 + 3 - h, 0), max((ow - 1) * 2 + 3 - wd, 0)
    xp = np.pad(x, ((0, 0), (0, 0), (pad_h // 2, pad_h - pad_h // 2), (pad_w // 2, pad_w - pad_w // 2)))
    out = np.zeros((n, w.shape[-1], oh, ow))
    for i in range(oh):
        for j in range(ow):
            patch = xp[:, :, 2 * i:2 * i + 3, 2 * j:2 * j + 3]  # (n, c, 3, 3)
            out[:, :, i, j] = np.einsum("ncuv,uvco->no", patch, w) + b
    return out


def test_relu_conv_net_matches_numpy_loops():
    net = Net((2, 4, 6), conv=(3,), hidden=(5,), n_out=2, spiking=False)
    params = init_params(net, seed=3)
    params = tuple((w, b + 0.1 * (i + 1)) for i, (w, b) in enumerate(params))
    x = np.random.default_rng(0).integers(0, 3, size=(2, 4, 2, 4, 6)).astype(np.float32)
    (w0, b0), (w1, b1), (w2, b2) = (tuple(np.asarray(a, float) for a in p) for p in params)
    h = np.maximum(_numpy_conv_s2_same(x.mean(axis=1), w0, b0), 0).reshape(2, -1)
    ref = np.maximum(h @ w1 + b1, 0) @ w2 + b2
    # float32 forward against float64 loops over ~30-term sums: rtol 1e-5
    np.testing.assert_allclose(np.asarray(apply(net, params, x)), ref, rtol=1e-5, atol=1e-6)


def test_spiking_conv_net_runs_and_layer_shapes_match():
    net = Net((2, 8, 16), conv=(4,), hidden=(8,))
    params = init_params(net, seed=0)
    assert [w.shape for w, _ in params] == layer_shapes(net) == [(3, 3, 2, 4), (128, 8), (8, 5)]
    x = jnp.ones((3, 5, 2, 8, 16))
    assert apply(net, params, x).shape == (3, 5)
    g = jax.grad(lambda p: loss(net, p, x, jnp.arange(3)))(params)
    assert float(jnp.abs(g[0][0]).sum()) > 0  # the surrogate reaches the first layer


def test_count_readout_counts_output_spikes():
    net = Net((1, 1, 1), hidden=(1,), n_out=2, readout="count", neuron=DiscreteLIF(tau_mem=1e9))
    params = ((jnp.array([[2.0]]), jnp.array([0.0])), (jnp.array([[1.5, 0.5]]), jnp.array([0.0, 0.0])))
    # by hand (no leak, spike when v > 1, subtract 1): the hidden neuron gets 2 per step and fires every
    # step; output 0 gets 1.5 per step: v = 1.5, 2.0, 2.5, 3.0 before each reset -> 4 spikes; output 1
    # gets 0.5: v = 0.5, 1.0 (not > 1), 1.5 (spike, -> 0.5), 1.0 -> 1 spike
    out = apply(net, params, jnp.ones((1, 4, 1, 1, 1)))
    assert out.tolist() == [[4.0, 1.0]]


@pytest.mark.parametrize("kwargs, field", [
    (dict(tau_mem=0.0), "tau_mem"), (dict(dt=-1.0), "dt"), (dict(threshold=float("nan")), "threshold"),
    (dict(slope=True), "slope"),
])
def test_bad_neuron_fields(kwargs, field):
    with pytest.raises(ValueError, match=f"DiscreteLIF.{field}"):
        DiscreteLIF(**kwargs)


@pytest.mark.parametrize("kwargs, field", [
    (dict(input_shape=(2, 8)), "input_shape"), (dict(n_out=1), "n_out"), (dict(hidden=(0,)), "hidden"),
    (dict(readout="mean"), "readout"), (dict(gain=0.0), "gain"), (dict(conv=(2.5,)), "conv"),
])
def test_bad_net_fields(kwargs, field):
    args = dict(input_shape=(2, 8, 16)) | kwargs
    with pytest.raises(ValueError, match=f"Net.{field}") as info:
        Net(**args)
    assert "\n" not in str(info.value)
