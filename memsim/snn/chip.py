"""Hardware in the loop: EventProp with the forward pass on a chip model of memristive synapse arrays.

As on BrainScaleS-2 (Pehle et al., arXiv 2302.07141): the chip runs the
forward pass with the weights and neurons it *really* has and returns spike
times only; the host reconstructs the synaptic currents at those times from
the *nominal* weights and neuron parameters
(:func:`memsim.snn.eventprop.gradient_from_spike_times`), takes an Adam step
on its nominal weights and writes the same step to the chip as pulses
(:func:`memsim.arrays.apply_update`).

What is nominal and what is real:

- **nominal** (host, software): the weight matrices the optimiser holds and
  the chip's :class:`~memsim.snn.lif.LIF` parameters; the gradient is
  computed with these only;
- **real** (chip): the device states of each layer's array (a plain tuple of
  arrays, the *chip state*); the weights they hold as the periphery reads
  them (:func:`memsim.arrays.weights`: device-to-device spread, write error,
  saturation), optionally through the crossbar's wires (IR drop, when the
  array has ``r_wire > 0``); Gaussian weight noise per presentation; the
  neurons' fixed-pattern mismatch (:func:`memsim.snn.lif.neuron_table`); and
  the chip's timestamp resolution.

Layout: layer ``l`` (weights ``W_l`` of shape ``(N_l, N_{l-1})``, ``W[i, j]``
from ``j`` to ``i``) lives in an array with ``rows = N_{l-1}`` (presynaptic
neurons drive the word lines) and ``cols = N_l`` (each postsynaptic neuron
integrates one logical column), so the array holds ``W_l.T``.

Weight range: a :class:`~memsim.arrays.SynapseArray` holds weights in
``[-w_max, w_max]``; its ``w_max`` is chosen per layer by the caller to cover
the weights training will need (the experiment takes a margin over the
initial weights' range). The host clips its nominal weights to that range
(:func:`clip_nominal`) when programming and after every step, so host and
chip never disagree about saturation. An :class:`~memsim.arrays.IdealArray`
has no range and is not clipped: with it, no mismatch, no noise and exact
timestamps, the loop reproduces software EventProp (to rounding).

Noise per presentation: each sample sees the held weights plus independent
Gaussian noise of standard deviation ``array.read_noise`` (weight units) per
synapse, frozen over the sample's presentation (a temporal fluctuation of
the synaptic efficacy; the arrays' DAC/ADC settings play no part, since
spikes and membrane integration are analog).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from memsim.arrays import (
    IdealArray,
    SynapseArray,
    UpdatePolicy,
    apply_update,
    initial_state,
    read,
    weights,
    write_weights,
)
from memsim.snn.eventprop import backward, check_network, forward, reconstruct
from memsim.snn.lif import LIF, neuron_table
from memsim.snn.train import Adam, FirstSpikeMSE, adam_step

__all__ = [
    "Chip",
    "ChipState",
    "EpochStats",
    "chip_neurons",
    "chip_state",
    "chip_weights",
    "chip_forward",
    "chip_update",
    "clip_nominal",
    "hil_epoch",
]

#: One device-state array per layer (an IdealArray's state is ``W_l.T`` itself).
ChipState = tuple[np.ndarray, ...]


@dataclass(frozen=True)
class Chip:
    """A chip model: one synapse array per layer, LIF neurons with mismatch, a timestamp resolution.

    Parameters
    ----------
    arrays : tuple of SynapseArray or IdealArray
        Layer ``l``'s array has ``rows = N_{l-1}``, ``cols = N_l``.
    neurons : LIF or tuple of LIF (one per layer)
        Nominal neuron parameters (what the host believes).
    mismatch : float
        Log-normal sigma of each neuron's ``tau_mem``, ``tau_syn`` and
        threshold around the nominal values (fixed pattern of this chip).
    time_resolution : float
        Spike timestamps are rounded to multiples of this (s); 0 = exact.
    seed : int
        Seed of the neuron mismatch pattern (layer ``l`` draws from
        ``SeedSequence([seed, l])``); the arrays carry their own seeds.

    Examples
    --------
    >>> from memsim.arrays import IdealArray
    >>> chip = Chip((IdealArray(4, 3), IdealArray(3, 2)), mismatch=0.02)
    >>> chip.sizes
    (4, 3, 2)
    >>> Chip((IdealArray(4, 3), IdealArray(2, 2)))
    Traceback (most recent call last):
    ...
    ValueError: Chip.arrays[1] must have rows = 3 (the outputs of layer 0), got 2
    """

    arrays: tuple
    neurons: LIF | tuple = LIF()
    mismatch: float = 0.0  # 1, log-normal sigma per neuron
    time_resolution: float = 0.0  # s, timestamp quantum; 0 = exact
    seed: int = 0

    def __post_init__(self) -> None:
        if not isinstance(self.arrays, tuple) or len(self.arrays) == 0:
            raise ValueError("Chip.arrays must be a non-empty tuple of SynapseArray/IdealArray, one per layer")
        for l, a in enumerate(self.arrays):
            if not isinstance(a, (SynapseArray, IdealArray)):
                raise ValueError(f"Chip.arrays[{l}] must be a SynapseArray or IdealArray, got {type(a).__name__}")
            if l > 0 and a.rows != self.arrays[l - 1].cols:
                raise ValueError(f"Chip.arrays[{l}] must have rows = {self.arrays[l - 1].cols} "
                                 f"(the outputs of layer {l - 1}), got {a.rows}")
        if isinstance(self.neurons, tuple):
            if len(self.neurons) != len(self.arrays) or not all(isinstance(n, LIF) for n in self.neurons):
                raise ValueError(f"Chip.neurons must be an LIF or a tuple of {len(self.arrays)} LIF, one per layer")
        elif not isinstance(self.neurons, LIF):
            raise ValueError(f"Chip.neurons must be an LIF or a tuple of LIF, got {type(self.neurons).__name__}")
        if not (isinstance(self.mismatch, numbers.Real) and math.isfinite(self.mismatch) and self.mismatch >= 0):
            raise ValueError(f"Chip.mismatch must be a finite number >= 0, got {self.mismatch!r}")
        tr = self.time_resolution
        if not (isinstance(tr, numbers.Real) and math.isfinite(tr) and tr >= 0):
            raise ValueError(f"Chip.time_resolution must be a finite time >= 0 s, got {tr!r}")
        if not (isinstance(self.seed, numbers.Integral) and self.seed >= 0):
            raise ValueError(f"Chip.seed must be an integer >= 0, got {self.seed!r}")

    @property
    def sizes(self) -> tuple[int, ...]:
        """``(N_in, N_1, ..., N_out)``."""
        return (self.arrays[0].rows,) + tuple(a.cols for a in self.arrays)

    @property
    def nominal_neurons(self) -> list[LIF]:
        """The nominal LIF of every layer."""
        n = self.neurons
        return list(n) if isinstance(n, tuple) else [n] * len(self.arrays)


def chip_neurons(chip: Chip) -> list[np.ndarray]:
    """The chip's real neuron tables (one ``(N_l, 5)`` table per layer, with its mismatch).

    Examples
    --------
    >>> from memsim.arrays import IdealArray
    >>> t = chip_neurons(Chip((IdealArray(2, 50),), mismatch=0.1, seed=3))
    >>> bool(np.array_equal(t[0], chip_neurons(Chip((IdealArray(2, 50),), mismatch=0.1, seed=3))[0]))
    True
    """
    return [neuron_table(lif, a.cols, mismatch=chip.mismatch, seed=np.random.SeedSequence([chip.seed, l]))
            for l, (lif, a) in enumerate(zip(chip.nominal_neurons, chip.arrays))]


def _check_weights(chip: Chip, weights_, name: str) -> list[np.ndarray]:
    if isinstance(weights_, np.ndarray) or not isinstance(weights_, Sequence) or len(weights_) != len(chip.arrays):
        raise ValueError(f"{name} must be a sequence of {len(chip.arrays)} arrays, one per layer")
    out = []
    for l, (w, a) in enumerate(zip(weights_, chip.arrays)):
        w = np.asarray(w, dtype=float)
        if w.shape != (a.cols, a.rows):
            raise ValueError(f"{name}[{l}] must have shape {(a.cols, a.rows)}, got {w.shape}")
        if not np.all(np.isfinite(w)):
            raise ValueError(f"{name}[{l}] must be finite")
        out.append(w)
    return out


def _check_state(chip: Chip, state) -> ChipState:
    if isinstance(state, np.ndarray) or not isinstance(state, Sequence) or len(state) != len(chip.arrays):
        raise ValueError(f"state must be a sequence of {len(chip.arrays)} arrays, one per layer (from chip_state)")
    out = []
    for l, (s, a) in enumerate(zip(state, chip.arrays)):
        s = np.asarray(s, dtype=float)
        if s.shape != a.cell_shape:
            raise ValueError(f"state[{l}] must have shape {a.cell_shape}, got {s.shape}")
        out.append(s)
    return tuple(out)


def clip_nominal(chip: Chip, weights_) -> list[np.ndarray]:
    """Nominal weights clipped to each SynapseArray layer's ``[-w_max, w_max]`` (IdealArray layers unchanged).

    Examples
    --------
    >>> from memsim.arrays import IdealArray, SynapseArray
    >>> chip = Chip((SynapseArray(1, 2, w_max=0.5), IdealArray(2, 1)))
    >>> [w.tolist() for w in clip_nominal(chip, [np.array([[0.7], [-0.2]]), np.array([[3.0, -3.0]])])]
    [[[0.5], [-0.2]], [[3.0, -3.0]]]
    """
    ws = _check_weights(chip, weights_, "weights")
    return [np.clip(w, -a.w_max, a.w_max) if isinstance(a, SynapseArray) else w.copy()
            for w, a in zip(ws, chip.arrays)]


def chip_state(chip: Chip, nominal_weights, *, seed=None) -> ChipState:
    """Program the chip's arrays with the nominal weights (clipped to range) by program-and-verify.

    Each SynapseArray starts from :func:`~memsim.arrays.initial_state` and is
    written by :func:`~memsim.arrays.write_weights` (default tolerance: one
    nominal set-pulse step); an IdealArray's state is ``W_l.T``.

    Examples
    --------
    >>> from memsim.arrays import IdealArray
    >>> s = chip_state(Chip((IdealArray(2, 1),)), [np.array([[0.3, -0.1]])])
    >>> s[0].tolist()
    [[0.3], [-0.1]]
    """
    ws = clip_nominal(chip, nominal_weights)
    rng = np.random.default_rng(seed)
    out = []
    for w, a in zip(ws, chip.arrays):
        if isinstance(a, IdealArray):
            out.append(np.array(w.T))
        else:
            out.append(write_weights(a, initial_state(a), w.T, seed=rng).state)
    return tuple(out)


def chip_weights(chip: Chip, state) -> list[np.ndarray]:
    """The weights the chip really holds, ``(N_l, N_{l-1})`` per layer (no per-presentation noise).

    :func:`~memsim.arrays.weights` of each array (nominal periphery scaling,
    so device spread shows up as weight error); through the crossbar's wires
    (:func:`~memsim.arrays.read` of the identity with DAC, ADC and read noise
    off, i.e. the effective conductances) when the array has ``r_wire > 0``.

    Examples
    --------
    >>> from memsim.arrays import IdealArray
    >>> chip = Chip((IdealArray(2, 1),))
    >>> chip_weights(chip, chip_state(chip, [np.array([[0.3, -0.1]])]))[0].tolist()
    [[0.3, -0.1]]
    """
    st = _check_state(chip, state)
    out = []
    for s, a in zip(st, chip.arrays):
        if isinstance(a, IdealArray) or a.r_wire == 0:
            held = weights(a, s)
        else:
            quiet = replace(a, dac_bits=None, adc_bits=None, adc_range=None, read_noise=0.0)
            held = read(quiet, s, np.eye(a.rows))
        out.append(np.ascontiguousarray(held.T))
    return out


def _quantise_times(times: np.ndarray, res: float) -> np.ndarray:
    if res == 0:
        return times
    with np.errstate(invalid="ignore"):
        return np.where(np.isfinite(times), np.round(times / res) * res, times)


def chip_forward(chip: Chip, state, input_times, *, t_max: float, seed=None) -> tuple[np.ndarray, ...]:
    """Run the forward pass on the chip; return the spike times of every layer only.

    The chip uses :func:`chip_weights` plus, for arrays with ``read_noise > 0``,
    independent Gaussian weight noise per sample and synapse (then the samples
    run one by one), its mismatched neurons (:func:`chip_neurons`), and rounds
    the timestamps to ``chip.time_resolution``. Returns one ``(B, N_l, K_l)``
    array per layer (``inf`` padded), as :attr:`memsim.snn.eventprop.Trace.times`.

    Parameters
    ----------
    chip : Chip
    state : ChipState from :func:`chip_state` / :func:`chip_update`.
    input_times : (B, N_in) or (B, N_in, K) input spike times (s).
    t_max : float, end of the window (s).
    seed : int or Generator, optional (per-presentation weight noise).

    Examples
    --------
    >>> from memsim.arrays import IdealArray
    >>> chip = Chip((IdealArray(2, 1),))
    >>> w = [np.array([[2.5, 2.5]])]
    >>> t = chip_forward(chip, chip_state(chip, w), [[0.0, 1e-6]], t_max=30e-6)
    >>> round(float(t[0][0, 0, 0]) * 1e6, 6)  # the software spike time of forward's example, us
    4.426181
    """
    held = chip_weights(chip, state)
    x, held, t_max = check_network(input_times, held, t_max=t_max)
    tables = chip_neurons(chip)
    sigma = [a.read_noise if isinstance(a, SynapseArray) else 0.0 for a in chip.arrays]
    if any(s > 0 for s in sigma):
        rng = np.random.default_rng(seed)
        per = []
        for b in range(x.shape[0]):
            noisy = [w + s * rng.standard_normal(w.shape) if s > 0 else w for w, s in zip(held, sigma)]
            per.append(forward(x[b:b + 1], noisy, tables, t_max=t_max).times)
        times = []
        for l in range(len(held)):
            k = max(p[l].shape[2] for p in per)
            times.append(np.concatenate([np.pad(p[l], ((0, 0), (0, 0), (0, k - p[l].shape[2])),
                                                constant_values=np.inf) for p in per]))
    else:
        times = list(forward(x, held, tables, t_max=t_max).times)
    return tuple(_quantise_times(t, chip.time_resolution) for t in times)


def chip_update(chip: Chip, state, delta_w, policy: UpdatePolicy | None = None, *,
                seed=None) -> tuple[ChipState, list[np.ndarray]]:
    """Write a weight change to the chip as pulses; return the new state and the change achieved.

    Each layer's ``delta_w[l]`` (``(N_l, N_{l-1})``, weight units) goes
    through :func:`~memsim.arrays.apply_update` with ``policy`` (default
    ``UpdatePolicy()``: stochastic rounding); an IdealArray adds it exactly
    (when ``policy`` is None). The achieved change is what the arrays report
    (``weights(after) - weights(before)``), transposed back to ``(N_l, N_{l-1})``.

    Examples
    --------
    >>> from memsim.arrays import IdealArray
    >>> chip = Chip((IdealArray(2, 1),))
    >>> s, got = chip_update(chip, chip_state(chip, [np.zeros((1, 2))]), [np.array([[0.1, -0.2]])])
    >>> got[0].tolist(), s[0].ravel().tolist()
    ([[0.1, -0.2]], [0.1, -0.2])
    """
    st = _check_state(chip, state)
    ds = _check_weights(chip, delta_w, "delta_w")
    if policy is not None and not isinstance(policy, UpdatePolicy):
        raise ValueError(f"policy must be an UpdatePolicy or None, got {type(policy).__name__}")
    rng = np.random.default_rng(seed)
    new, achieved = [], []
    for s, d, a in zip(st, ds, chip.arrays):
        pol = policy if (policy is not None or isinstance(a, IdealArray)) else UpdatePolicy()
        res = apply_update(a, s, d.T, pol, seed=rng)
        new.append(res.state)
        achieved.append(np.ascontiguousarray(res.achieved.T))
    return tuple(new), achieved


@dataclass(frozen=True)
class EpochStats:
    """Diagnostics of one hardware-in-the-loop epoch.

    ``loss``: mean loss of the chip's output spike times; ``inconsistent``:
    fraction of chip spikes at which the current reconstructed from the
    nominal weights is at or below the nominal threshold (the nominal model
    could not spike there: its gradient jump has the wrong sign);
    ``write_error``: RMS over weights and steps of (achieved - desired) change;
    ``step``: RMS of the desired change.
    """

    loss: float
    inconsistent: float
    write_error: float
    step: float


def hil_epoch(chip: Chip, state, weights_, opt_state, inputs, labels, *, t_max: float, loss: FirstSpikeMSE,
              opt: Adam, epoch: int, batch_size: int = 32, policy: UpdatePolicy | None = None,
              readback: bool = False, seed=None):
    """One hardware-in-the-loop epoch; returns ``(nominal weights, Adam state, chip state, EpochStats)``.

    Per mini-batch (same shuffling as :func:`memsim.snn.train.train_epoch`
    for the same ``seed``): the chip's spike times (:func:`chip_forward`), the
    loss of its output first spikes, the EventProp gradient from those times
    and the *nominal* weights and neuron parameters
    (:func:`~memsim.snn.eventprop.reconstruct` then
    :func:`~memsim.snn.eventprop.backward`), an Adam step on the nominal
    weights (clipped by :func:`clip_nominal`), and the same step written to
    the chip (:func:`chip_update`). The step size is ``opt.lr * opt.decay**epoch``.

    ``readback=False`` (the BrainScaleS-2 scheme): the nominal weights are
    never read back, so they drift from the chip's by the accumulated write
    error. ``readback=True`` (the simpler alternative): after every write the
    host replaces its nominal weights by the weights the chip holds
    (:func:`chip_weights`, a noiseless verify read), so the gradient uses the
    real weights (but still the nominal neurons).

    Examples
    --------
    >>> from memsim.arrays import IdealArray
    >>> from memsim.snn.train import adam_init
    >>> chip = Chip((IdealArray(2, 1),))
    >>> w = [np.array([[2.5, 2.5]])]
    >>> loss = FirstSpikeMSE(t_correct=3e-6, t_wrong=9e-6, t_clip=24e-6, tau=12e-6)
    >>> w2, _, s, st = hil_epoch(chip, chip_state(chip, w), w, adam_init(w), np.array([[0.0, 1e-6]]),
    ...                          np.array([0]), t_max=24e-6, loss=loss, opt=Adam(), epoch=0, seed=0)
    >>> bool(np.all(w2[0] > w[0])), bool(np.allclose(s[0].T, w2[0], atol=1e-15))  # spike earlier
    (True, True)
    """
    ws = clip_nominal(chip, weights_)
    st = _check_state(chip, state)
    x_all = np.asarray(inputs, dtype=float)
    y_all = np.asarray(labels)
    if x_all.shape[0] != y_all.shape[0]:
        raise ValueError(f"labels must have one entry per input sample ({x_all.shape[0]}), got {y_all.shape[0]}")
    if not (isinstance(batch_size, numbers.Integral) and batch_size >= 1):
        raise ValueError(f"batch_size must be an integer >= 1, got {batch_size!r}")
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(x_all))  # the same draw as train_epoch's
    noise_rng, write_rng = rng.spawn(2)
    lr = opt.lr * opt.decay**epoch
    nominal = chip.nominal_neurons
    thresholds = [lif.threshold for lif in nominal]
    total, bad, spikes, err2, step2, count = 0.0, 0, 0, 0.0, 0.0, 0
    n_out = chip.arrays[-1].cols
    for start in range(0, len(order), batch_size):
        idx = order[start:start + batch_size]
        x, y = x_all[idx], y_all[idx]
        times = chip_forward(chip, st, x, t_max=t_max, seed=noise_rng)
        value, dl = loss(times[-1].reshape(len(x), n_out, -1)[..., 0], y)
        tr = reconstruct(x, times, ws, nominal, t_max=t_max)
        for l, th in enumerate(thresholds):
            fired = np.isfinite(tr.times[l]) & np.isfinite(tr.i_spike[l])
            spikes += int(fired.sum())
            bad += int((fired & (tr.i_spike[l] <= th)).sum())
        grads = backward(x, tr, ws, nominal, t_max=t_max, dl_dt=dl)
        total += value * len(idx)
        new, opt_state = adam_step(ws, grads, opt_state, opt, lr)
        new = clip_nominal(chip, new)
        delta = [a - b for a, b in zip(new, ws)]
        st, achieved = chip_update(chip, st, delta, policy, seed=write_rng)
        err2 += sum(float(((g - d) ** 2).sum()) for g, d in zip(achieved, delta))
        step2 += sum(float((d**2).sum()) for d in delta)
        count += sum(d.size for d in delta)
        ws = clip_nominal(chip, chip_weights(chip, st)) if readback else new
    stats = EpochStats(loss=total / len(order), inconsistent=bad / spikes if spikes else 0.0,
                       write_error=math.sqrt(err2 / count), step=math.sqrt(step2 / count))
    return ws, opt_state, st, stats

