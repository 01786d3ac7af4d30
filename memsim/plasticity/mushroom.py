"""The insect mushroom body: a fixed sparse expansion and a plastic readout held in a synapse array.

Projection neurons (the input features, in [0, 1]) drive ``n_kc`` Kenyon cells through a fixed
random projection: each Kenyon cell sums ``fan_in`` inputs drawn without replacement. Sparsity
comes from inhibition: k-winners-take-all (the ``round(sparsity * n_kc)`` most driven cells fire)
or a global inhibitory threshold (cells whose drive exceeds the mean by ``z`` standard deviations
of the sample's drives fire, ``z`` the normal quantile of ``1 - sparsity``). Active Kenyon cells
have activity 1. The output neurons (one per class) read the Kenyon cells through plastic weights
held in a :mod:`memsim.arrays` array, and the class is the most driven output (Huerta & Nowotny,
Neural Comput. 21, 2123, 2009; Madireddy, Yanguas-Gil & Balaprakash, ICONS 2019).

Learning is online: one pass over the training data, ``batch`` samples per update; every update
is a rule of :mod:`memsim.plasticity.rules` and reaches the weights only through
:func:`memsim.arrays.apply_update` (so the device's quantisation, nonlinearity and noise act on
every rule). With an :class:`~memsim.arrays.IdealArray`, or a pulse-response array read without
wire resistance, converters or noise and updated without refresh, a compiled loop runs the same
arithmetic (:func:`train` chooses it; ``engine="python"`` forces the reference loop). The compiled
device loop draws its random numbers from a counter-based generator, so it matches the reference
number for number only when nothing is random (deterministic rounding, no cycle noise).
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import NormalDist
from typing import Literal

import numpy as np

from memsim.arrays import (
    IdealArray,
    SynapseArray,
    UpdatePolicy,
    apply_update,
    initial_state,
    population,
    read,
    weights,
)
from memsim.arrays.program import _weight_steps, response_of
from memsim.devices.models import MODEL_GMS
from memsim.plasticity.kernels import train_ideal, train_response
from memsim.plasticity.rules import (
    BCM,
    AntiHebbian,
    Delta,
    Hebbian,
    HebbianDecay,
    Oja,
    Rule,
    delta_w,
    initial_rule_state,
)

__all__ = ["MushroomBody", "projection", "projection_matrix", "kenyon_code", "dense_code", "train", "evaluate", "Trained"]

Inhibition = Literal["kwta", "global"]


@dataclass(frozen=True)
class MushroomBody:
    """Mushroom-body architecture (the readout weights live in an array, not here).

    Examples
    --------
    >>> mb = MushroomBody(n_inputs=64, n_kc=200, n_outputs=10)
    >>> mb.active, mb.fan
    (10, 6)
    """

    n_inputs: int
    n_kc: int = 2000
    n_outputs: int = 10
    fan_in: int | None = None  # inputs per Kenyon cell; None = 10 % of the inputs
    sparsity: float = 0.05  # fraction of Kenyon cells active
    inhibition: Inhibition = "kwta"
    seed: int = 0  # the random projection

    def __post_init__(self) -> None:
        for name, lo in (("n_inputs", 1), ("n_kc", 1), ("n_outputs", 2), ("seed", 0)):
            v = getattr(self, name)
            if not (isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v >= lo):
                raise ValueError(f"MushroomBody.{name} must be an integer >= {lo}, got {v!r}")
        if self.fan_in is not None and not (isinstance(self.fan_in, (int, np.integer))
                                            and 1 <= self.fan_in <= self.n_inputs):
            raise ValueError(f"MushroomBody.fan_in must be an integer in [1, n_inputs={self.n_inputs}], "
                             f"got {self.fan_in!r}")
        if not (isinstance(self.sparsity, (int, float)) and 0 < self.sparsity <= 0.5):
            raise ValueError(f"MushroomBody.sparsity must be in (0, 0.5], got {self.sparsity!r}")
        if self.inhibition not in ("kwta", "global"):
            raise ValueError(f"MushroomBody.inhibition must be 'kwta' or 'global', got {self.inhibition!r}")

    @property
    def fan(self) -> int:
        """Inputs per Kenyon cell (``fan_in``, or 10 % of the inputs)."""
        return self.fan_in if self.fan_in is not None else max(1, round(0.1 * self.n_inputs))

    @property
    def active(self) -> int:
        """Kenyon cells active per sample under k-winners-take-all."""
        return max(1, round(self.sparsity * self.n_kc))



def projection(mb: MushroomBody) -> np.ndarray:
    """Input indices of each Kenyon cell, (n_kc, fan_in), seeded by ``mb.seed``.

    Examples
    --------
    >>> projection(MushroomBody(n_inputs=20, n_kc=3, fan_in=4)).shape
    (3, 4)
    """
    rng = np.random.default_rng(mb.seed)
    return np.argsort(rng.random((mb.n_kc, mb.n_inputs)), axis=1)[:, : mb.fan].astype(np.int64)


def projection_matrix(mb: MushroomBody) -> np.ndarray:
    """The projection as a dense 0/1 matrix (n_inputs, n_kc), float32."""
    p = np.zeros((mb.n_inputs, mb.n_kc), dtype=np.float32)
    p[projection(mb), np.arange(mb.n_kc)[:, None]] = 1.0
    return p


def _top_k(drive: np.ndarray, k: int) -> np.ndarray:
    """Indices (sorted) of the k largest entries of each row; ties at the threshold to the lower index."""
    n = drive.shape[1]
    kth = np.partition(drive, n - k, axis=1)[:, n - k: n - k + 1]
    above = drive > kth
    need = k - above.sum(axis=1, keepdims=True)
    tie = drive == kth
    chosen = above | (tie & (np.cumsum(tie, axis=1) <= need))
    return np.nonzero(chosen)[1].reshape(drive.shape[0], k)


def kenyon_code(mb: MushroomBody, x, *, chunk: int = 4096) -> np.ndarray:
    """Active Kenyon cells of each sample, (N, width) int32 indices padded with -1.

    k-winners-take-all gives exactly ``mb.active`` cells per sample (ties at the threshold to the
    lower index); global inhibition gives a varying number, at most ``3 * mb.active``.

    Examples
    --------
    >>> mb = MushroomBody(n_inputs=4, n_kc=3, fan_in=2, sparsity=0.34)
    >>> kenyon_code(mb, np.array([[1.0, 0.0, 0.0, 0.0]])).shape
    (1, 1)
    """
    x = np.asarray(x, dtype=np.float32)
    if x.ndim != 2 or x.shape[1] != mb.n_inputs:
        raise ValueError(f"x must have shape (N, {mb.n_inputs}), got {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError("x must be finite")
    proj = projection_matrix(mb)
    k = mb.active
    width = k if mb.inhibition == "kwta" else min(3 * k, mb.n_kc)
    out = np.full((x.shape[0], width), -1, dtype=np.int32)
    z = NormalDist().inv_cdf(1.0 - mb.sparsity)
    for lo in range(0, x.shape[0], chunk):
        drive = x[lo:lo + chunk] @ proj  # (n, n_kc): sums of fan_in inputs, exact in float32 for pixels
        if mb.inhibition == "kwta":
            out[lo:lo + chunk] = _top_k(drive, k)
        else:
            thr = drive.mean(axis=1, keepdims=True) + z * drive.std(axis=1, keepdims=True)
            for r, row in enumerate(drive > thr):
                idx = np.flatnonzero(row)[:width]
                out[lo + r, : idx.size] = idx
    return out


def dense_code(code: np.ndarray, n_kc: int) -> np.ndarray:
    """Binary Kenyon-cell activities (N, n_kc) from padded indices."""
    n = code.shape[0]
    out = np.zeros((n, n_kc))
    rows = np.repeat(np.arange(n), code.shape[1])
    cols = code.reshape(-1)
    keep = cols >= 0
    out[rows[keep], cols[keep]] = 1.0
    return out


@dataclass(frozen=True)
class Trained:
    """Result of :func:`train`: the array state, the rule state and the online training accuracy."""

    state: np.ndarray
    rule_state: np.ndarray | None
    online_accuracy: float
    engine: str


_RULE_CODES = {Hebbian: 0, HebbianDecay: 1, Oja: 2, BCM: 3, Delta: 4, AntiHebbian: 5}


def _rule_params(rule: Rule) -> np.ndarray:
    return np.array([rule.lr, getattr(rule, "decay", 0.0), getattr(rule, "tau", 1.0),
                     getattr(rule, "temperature", 1.0)])


def train(
    mb: MushroomBody,
    x,
    y,
    rule: Rule,
    array: SynapseArray | IdealArray,
    state=None,
    *,
    batch: int = 1,
    policy: UpdatePolicy | None = None,
    code: np.ndarray | None = None,
    engine: Literal["auto", "python"] = "auto",
    seed=None,
    progress: bool = False,
) -> Trained:
    """One online pass over ``(x, y)``: read, rule, ``apply_update`` per batch.

    Parameters
    ----------
    mb : MushroomBody
    x : (N, n_inputs) features in [0, 1]; y : (N,) labels in ``[0, n_outputs)``.
    rule : a rule of :mod:`memsim.plasticity.rules`.
    array : SynapseArray or IdealArray of shape ``(n_kc, n_outputs)``.
    state : the array's state (default: :func:`memsim.arrays.initial_state`).
    batch : samples per update.
    policy : how updates become pulses (SynapseArray; default ``UpdatePolicy()``).
    code : precomputed :func:`kenyon_code` of ``x`` (recomputed if None).
    engine : ``"auto"`` compiles the loop where it twins the reference loop (an IdealArray without
        bit quantisation or clipping; see the module docstring); ``"python"`` always runs the
        reference loop.
    seed : pulse rounding and write noise.
    progress : a tqdm bar over batches.

    Examples
    --------
    >>> from memsim.arrays import IdealArray
    >>> from memsim.datasets import digits
    >>> d = digits(seed=0)
    >>> mb = MushroomBody(n_inputs=64, n_kc=500, n_outputs=10)
    >>> out = train(mb, d.x_train, d.y_train, Delta(lr=0.5), IdealArray(500, 10))
    >>> bool(evaluate(mb, IdealArray(500, 10), out.state, d.x_test, d.y_test) > 0.8)
    True
    """
    if array.shape != (mb.n_kc, mb.n_outputs):
        raise ValueError(f"array must have shape (n_kc, n_outputs) = {(mb.n_kc, mb.n_outputs)}, got {array.shape}")
    if not (isinstance(batch, (int, np.integer)) and batch >= 1):
        raise ValueError(f"batch must be an integer >= 1, got {batch!r}")
    if engine not in ("auto", "python"):
        raise ValueError(f"engine must be 'auto' or 'python', got {engine!r}")
    labels = np.asarray(y)
    if labels.ndim != 1 or not np.issubdtype(labels.dtype, np.integer) or labels.size == 0:
        raise ValueError("y must be a non-empty 1-D array of integer labels")
    if labels.min() < 0 or labels.max() >= mb.n_outputs:
        raise ValueError(f"y must hold labels in [0, {mb.n_outputs}), found {labels.min()}..{labels.max()}")
    code = kenyon_code(mb, x) if code is None else code
    if code.shape[0] != labels.size:
        raise ValueError(f"x (or code) has {code.shape[0]} samples but y has {labels.size}")
    state = initial_state(array) if state is None else np.array(state, dtype=float)
    rstate = initial_rule_state(rule, mb.n_outputs)
    plain_policy = policy is None or (policy.bits is None and policy.clip is None)
    if isinstance(array, IdealArray) and engine == "auto" and plain_policy:
        w = np.ascontiguousarray(state, dtype=float).copy()
        theta = np.zeros(mb.n_outputs) if rstate is None else rstate.copy()
        correct = train_ideal(code.astype(np.int64), labels.astype(np.int64), w, _RULE_CODES[type(rule)],
                               _rule_params(rule), int(batch), theta)
        return Trained(w, theta if isinstance(rule, BCM) else None, correct / labels.size, "compiled")
    if engine == "auto" and _compiles(array, state, policy):
        return _train_compiled(array, state, code, labels, rule, rstate, batch, policy, seed)
    rng = np.random.default_rng(seed)
    correct = 0
    starts = range(0, labels.size, batch)
    if progress:
        from tqdm.auto import tqdm

        starts = tqdm(starts, desc="mushroom body", unit="batch")
    for start in starts:
        pre = dense_code(code[start:start + batch], mb.n_kc)
        t = labels[start:start + batch]
        out = read(array, state, pre, seed=rng)
        correct += int((out.argmax(axis=1) == t).sum())
        dw, rstate = delta_w(rule, pre, out, t, weights(array, state), rstate)
        state = apply_update(array, state, dw, policy, seed=rng).state
    return Trained(state, rstate, correct / labels.size, "python")


def _compiles(array, state, policy) -> bool:
    """Whether the compiled device loop reproduces the reference loop for this array and policy."""
    if not isinstance(array, SynapseArray) or array.write != "response" or np.ndim(state) != 2:
        return False
    plain_read = (array.r_wire == 0 and array.dac_bits is None and array.adc_bits is None
                  and array.adc_range is None and array.read_noise == 0)
    policy = UpdatePolicy() if policy is None else policy
    return plain_read and not (policy.refresh and array.mapping == "differential")


def _train_compiled(array, state, code, labels, rule, rstate, batch, policy, seed) -> Trained:
    policy = UpdatePolicy() if policy is None else policy
    pop = population(array)
    resp = response_of(array)
    packed = [st.packed() for st in (resp.up, resp.down, resp.up, resp.down)]
    one = np.ones((1, 1))
    r_on = one * array.device.r_on if pop.uniform else np.ascontiguousarray(pop.r_on[0])
    r_off = one * array.device.r_off if pop.uniform else np.ascontiguousarray(pop.r_off[0])
    step = one if pop.uniform else np.ascontiguousarray(pop.step[0])
    stuck = np.zeros(array.cell_shape, dtype=np.bool_) if pop.uniform else np.ascontiguousarray(pop.stuck[0])
    x = np.array(state, dtype=float)
    theta = np.zeros(array.cols) if rstate is None else np.array(rstate, dtype=float)
    pol = np.array([("deterministic", "stochastic", "pulse_train").index(policy.rounding),
                    -1 if policy.bits is None else policy.bits, -1.0 if policy.clip is None else policy.clip,
                    policy.max_pulses, policy.train_length], dtype=float)
    correct = train_response(
        code.astype(np.int64), labels.astype(np.int64), x, r_on, r_off, step, stuck,
        array.device.model_id == MODEL_GMS, array.mapping == "differential", array.weight_per_g,
        np.array([p[0] for p in packed]), np.stack([p[1] for p in packed]), np.array([p[2] for p in packed]),
        np.array(_weight_steps(array)), pol, array.variability.c2c,
        np.uint64(np.random.default_rng(seed).integers(0, 2**63)), _RULE_CODES[type(rule)], _rule_params(rule),
        int(batch), theta)
    x = np.where(stuck, np.asarray(state), x) if not pop.uniform else x
    return Trained(x, theta if isinstance(rule, BCM) else None, correct / labels.size, "compiled")


def evaluate(mb: MushroomBody, array, state, x, y, *, code: np.ndarray | None = None, seed=None,
             chunk: int = 1000) -> float:
    """Test accuracy: the class is the output the chip's read drives most."""
    labels = np.asarray(y)
    code = kenyon_code(mb, x) if code is None else code
    rng = np.random.default_rng(seed)
    correct = 0
    for lo in range(0, labels.size, chunk):
        out = read(array, state, dense_code(code[lo:lo + chunk], mb.n_kc), seed=rng)
        correct += int((out.argmax(axis=1) == labels[lo:lo + chunk]).sum())
    return correct / max(labels.size, 1)
