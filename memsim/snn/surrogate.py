"""Discrete-time LIF networks with a twice-differentiable surrogate spike derivative (JAX).

The forward pass is an exact Heaviside spike; the backward pass replaces its
derivative by the fast-sigmoid surrogate of Zenke & Ganguli (Neural Comput.
30, 1514, 2018)::

    dS/dv ~ slope / (1 + slope |v - threshold|)^2,

written with :func:`jax.custom_jvp` in terms of :func:`spike` itself, so the
surrogate is differentiable again (its derivative is the derivative of the
expression above): second-order MAML differentiates through it (Stewart &
Neftci, Neuromorph. Comput. Eng. 2, 044002, 2022).

Neurons (one time step ``dt``, ``beta = exp(-dt / tau_mem)``)::

    v_t = beta v_{t-1} + I_t,   s_t = H(v_t - threshold),   v_t <- v_t - threshold * s_t

(subtractive reset, the reset's own gradient detached as in Zenke & Vogels,
Neural Comput. 33, 899, 2021). A network (:class:`Net`) is optional
stride-2 convolutional LIF layers, dense LIF layers and a readout layer: the
maximum over time of a non-spiking leaky integrator's membrane
(``readout="max"``) or the output neurons' spike counts (``"count"``).
``spiking=False`` is the non-spiking baseline with the same weights: ReLU
units on the event counts averaged over time (events per bin), linear output.

Parameters are a tuple of ``(w, b)`` pairs, dense ``w`` of shape ``(n_in,
n_out)`` and convolutional ``w`` of shape ``(k, k, c_in, c_out)``, so that
``w.reshape(-1, n_out)`` is the matrix a crossbar holds.

Needs the optional extra: ``pip install "memsim[jax]"``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

try:
    import jax
    import jax.numpy as jnp
except ImportError as _err:  # pragma: no cover - depends on the installation
    raise ImportError('memsim.snn.surrogate needs JAX: pip install "memsim[jax]"') from _err

__all__ = ["DiscreteLIF", "Net", "Readout", "spike", "lif_layer", "init_params", "apply", "loss", "accuracy",
           "layer_shapes"]

Readout = Literal["max", "count"]


def _positive(owner: str, name: str, value) -> None:
    ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
    if not ok or not math.isfinite(value) or value <= 0:
        raise ValueError(f"{owner}.{name} must be a finite number > 0, got {value!r}")


@dataclass(frozen=True)
class DiscreteLIF:
    """Discrete-time leaky integrate-and-fire neuron with a fast-sigmoid surrogate.

    Examples
    --------
    >>> round(DiscreteLIF(tau_mem=5e-3, dt=1e-3).beta, 4)
    0.8187
    """

    tau_mem: float = 5e-3  # s, membrane time constant
    dt: float = 1e-3  # s, time step (one event bin)
    threshold: float = 1.0  # membrane units (input current x one step)
    slope: float = 5.0  # 1 / membrane units, steepness of the surrogate

    def __post_init__(self) -> None:
        for name in ("tau_mem", "dt", "threshold", "slope"):
            _positive("DiscreteLIF", name, getattr(self, name))

    @property
    def beta(self) -> float:
        """Membrane decay per step, ``exp(-dt / tau_mem)``."""
        return math.exp(-self.dt / self.tau_mem)


@dataclass(frozen=True)
class Net:
    """Architecture of a small spiking (or ReLU) classifier of event streams.

    Parameters
    ----------
    input_shape : (channels, H, W) of one time bin.
    n_out : output classes.
    conv : channels of the stride-2, 3 x 3, "SAME" convolutional layers.
    hidden : sizes of the dense hidden layers.
    neuron : DiscreteLIF of every spiking layer (the readout integrator too).
    readout : {"max", "count"}
    spiking : False = ReLU baseline on time-averaged inputs.
    gain : initial hidden weights are normal with standard deviation ``gain / sqrt(fan_in)``.
    readout_gain : the same for the readout layer.

    Examples
    --------
    >>> Net((2, 8, 16), hidden=(32,)).n_layers
    2
    """

    input_shape: tuple[int, int, int]
    n_out: int = 5
    conv: tuple[int, ...] = ()
    hidden: tuple[int, ...] = (64,)
    neuron: DiscreteLIF = field(default_factory=DiscreteLIF)
    readout: Readout = "max"
    spiking: bool = True
    gain: float = 2.0
    readout_gain: float = 0.1

    def __post_init__(self) -> None:
        if len(self.input_shape) != 3 or not all(isinstance(s, int) and s >= 1 for s in self.input_shape):
            raise ValueError(f"Net.input_shape must be three integers >= 1 (channels, H, W), got {self.input_shape!r}")
        for name in ("conv", "hidden"):
            v = getattr(self, name)
            if not all(isinstance(s, int) and s >= 1 for s in v):
                raise ValueError(f"Net.{name} must be a tuple of integers >= 1, got {v!r}")
        if not (isinstance(self.n_out, int) and self.n_out >= 2):
            raise ValueError(f"Net.n_out must be an integer >= 2, got {self.n_out!r}")
        if self.readout not in ("max", "count"):
            raise ValueError(f"Net.readout must be 'max' or 'count', got {self.readout!r}")
        if not isinstance(self.neuron, DiscreteLIF):
            raise ValueError(f"Net.neuron must be a DiscreteLIF, got {self.neuron!r}")
        _positive("Net", "gain", self.gain)
        _positive("Net", "readout_gain", self.readout_gain)

    @property
    def n_layers(self) -> int:
        """Weight layers (convolutional, dense hidden and readout)."""
        return len(self.conv) + len(self.hidden) + 1


def layer_shapes(net: Net) -> list[tuple[int, ...]]:
    """Weight shapes of every layer, input to output.

    Examples
    --------
    >>> layer_shapes(Net((2, 8, 16), conv=(4,), hidden=(16,)))
    [(3, 3, 2, 4), (128, 16), (16, 5)]
    """
    c, h, w = net.input_shape
    shapes: list[tuple[int, ...]] = []
    for ch in net.conv:
        shapes.append((3, 3, c, ch))
        c, h, w = ch, -(-h // 2), -(-w // 2)
    n = c * h * w
    for size in net.hidden + (net.n_out,):
        shapes.append((n, size))
        n = size
    return shapes


@jax.custom_jvp
def spike(v):
    """Heaviside step ``H(v)`` (1 where ``v > 0``) whose derivative is the fast-sigmoid surrogate.

    The surrogate derivative is ``1 / (1 + slope |v|)^2`` with the slope
    folded into ``v`` by the caller (:func:`lif_layer` passes ``slope * (v -
    threshold)`` and rescales), so this function is ``H`` with derivative
    ``1 / (1 + |v|)^2``, itself differentiable.

    Examples
    --------
    >>> import jax, jax.numpy as jnp
    >>> spike(jnp.array([-0.5, 0.5])).tolist(), round(float(jax.grad(spike)(0.5)), 6)  # 1 / 1.5^2
    ([0.0, 1.0], 0.444444)
    """
    return jnp.where(v > 0, 1.0, 0.0).astype(jnp.result_type(v, float))


@spike.defjvp
def _spike_jvp(primals, tangents):
    (v,), (dv,) = primals, tangents
    return spike(v), dv / (1.0 + jnp.abs(v)) ** 2


def _surrogate_spike(v, neuron: DiscreteLIF):
    # H(v - theta) with derivative 1 / (1 + slope |v - theta|)^2
    return spike(neuron.slope * (v - neuron.threshold))


def lif_layer(currents, neuron: DiscreteLIF, *, spiking: bool = True):
    """Run LIF neurons over time: input currents ``(T, ...)`` -> spikes (or membranes) ``(T, ...)``.

    ``spiking=False`` returns the membrane of a non-spiking leaky integrator
    (the ``"max"`` readout).

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> lif_layer(jnp.full((4, 1), 0.6), DiscreteLIF(tau_mem=1e9)).ravel().tolist()
    [0.0, 1.0, 0.0, 1.0]
    """
    beta = neuron.beta
    theta = neuron.threshold

    def step(v, i_t):
        v = beta * v + i_t
        if not spiking:
            return v, v
        s = _surrogate_spike(v, neuron)
        return v - theta * jax.lax.stop_gradient(s), s

    _, out = jax.lax.scan(step, jnp.zeros_like(currents[0]), currents)
    return out


def init_params(net: Net, seed: int = 0, dtype=jnp.float32):
    """Initial weights ``N(0, (gain / sqrt(fan_in))^2)`` (``readout_gain`` last) and zero biases, from ``seed``.

    Examples
    --------
    >>> p = init_params(Net((2, 8, 16), hidden=(8,)), seed=0)
    >>> [w.shape for w, b in p], [b.shape for w, b in p]
    ([(256, 8), (8, 5)], [(8,), (5,)])
    """
    keys = jax.random.split(jax.random.PRNGKey(seed), net.n_layers)
    out = []
    for i, (key, shape) in enumerate(zip(keys, layer_shapes(net))):
        fan_in = int(np.prod(shape[:-1]))
        gain = net.readout_gain if i == net.n_layers - 1 else net.gain
        w = gain / math.sqrt(fan_in) * jax.random.normal(key, shape, dtype=dtype)
        out.append((w, jnp.zeros(shape[-1], dtype=dtype)))
    return tuple(out)


def _conv(x, w, b):
    y = jax.lax.conv_general_dilated(x, w, (2, 2), "SAME", dimension_numbers=("NCHW", "HWIO", "NCHW"))
    return y + b[None, :, None, None]


def apply(net: Net, params, x):
    """Logits ``(B, n_out)`` of inputs ``x`` of shape ``(B, T, channels, H, W)``.

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> net = Net((2, 4, 4), hidden=(8,), n_out=3)
    >>> apply(net, init_params(net), jnp.ones((2, 5, 2, 4, 4))).shape
    (2, 3)
    """
    x = jnp.asarray(x)
    dtype = params[0][0].dtype
    x = x.astype(dtype)
    n_conv = len(net.conv)
    if not net.spiking:
        h = x.mean(axis=1)
        for w, b in params[:n_conv]:
            h = jax.nn.relu(_conv(h, w, b))
        h = h.reshape(h.shape[0], -1)
        for w, b in params[n_conv:-1]:
            h = jax.nn.relu(h @ w + b)
        w, b = params[-1]
        return h @ w + b
    t, bsz = x.shape[1], x.shape[0]
    h = jnp.swapaxes(x, 0, 1)  # (T, B, C, H, W)
    for w, b in params[:n_conv]:
        cur = _conv(h.reshape((t * bsz,) + h.shape[2:]), w, b)
        h = lif_layer(cur.reshape((t, bsz) + cur.shape[1:]), net.neuron)
    h = h.reshape(t, bsz, -1)
    for w, b in params[n_conv:-1]:
        h = lif_layer(h @ w + b, net.neuron)
    w, b = params[-1]
    if net.readout == "max":
        return lif_layer(h @ w + b, net.neuron, spiking=False).max(axis=0)
    return lif_layer(h @ w + b, net.neuron).sum(axis=0)


def loss(net: Net, params, x, y):
    """Mean cross-entropy of the logits of ``x`` against integer labels ``y``.

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> net = Net((2, 4, 4), hidden=(8,), n_out=3)
    >>> float(loss(net, init_params(net), jnp.zeros((3, 5, 2, 4, 4)), jnp.arange(3))) == float(jnp.log(3.0))
    True
    """
    logits = apply(net, params, x)
    logp = jax.nn.log_softmax(logits, axis=-1)
    return -jnp.take_along_axis(logp, jnp.asarray(y)[:, None], axis=-1).mean()


def accuracy(net: Net, params, x, y):
    """Fraction of ``x`` whose largest logit is the label (ties: the first)."""
    return (apply(net, params, x).argmax(axis=-1) == jnp.asarray(y)).mean()
