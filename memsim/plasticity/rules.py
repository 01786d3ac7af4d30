"""Local learning rules gated by a modulatory signal: pure functions + frozen hyperparameters.

Every rule maps a batch of presynaptic activities ``pre`` (B, n_in), the outputs ``y`` (B, n_out),
the labels ``target`` (B,) and the weights ``w`` (n_in, n_out) to a desired change ``dw``
(n_in, n_out), batch-averaged. Three modulatory signals (the "third factor", as dopamine gates
plasticity at the Kenyon-cell output synapses of the insect mushroom body) are derived from them:

- valence ``m = onehot(target) - onehot(winner)``: zero when the answer is right, +1 on the
  target and -1 on the wrong winner otherwise;
- error ``e = onehot(target) - softmax(y / T)``;
- reward ``r = +1`` for a right answer, ``-1`` for a wrong one, with the output activity
  ``psi = softmax(y / T)``;
- teacher ``u = (onehot(target) + psi) / 2``: the output activity half clamped to the label.

=================  ===================================================================  ==========
rule               desired change ``dw`` (batch mean over b)                            signal
=================  ===================================================================  ==========
``Hebbian``        ``lr pre m``                                                         valence
``HebbianDecay``   ``lr (pre m - decay w)``                                             valence
``Oja``            ``lr (pre m - m^2 w)`` (Oja, J. Math. Biol. 15, 267, 1982)          valence
``BCM``            ``lr pre u (u - theta)``, ``theta <- theta + (u^2 - theta) / tau``     teacher
                   (Bienenstock, Cooper & Munro, J. Neurosci. 2, 32, 1982): outputs
                   above their sliding threshold potentiate, below it depress
``Delta``          ``lr pre e`` (Widrow & Hoff 1960)                                     error
``AntiHebbian``    ``-lr pre psi (1 - onehot(target))``: depression of active synapses  target
                   onto active wrong outputs, as dopamine-induced depression in the
                   mushroom body (Hige et al., Neuron 88, 985, 2015)
=================  ===================================================================  ==========

Products ``pre m`` are outer products over the synapse's pre and post neuron. The BCM threshold
``theta`` (n_out,) is the only rule state; it is passed in and returned.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

import numpy as np

__all__ = ["Rule", "Hebbian", "HebbianDecay", "Oja", "BCM", "Delta", "AntiHebbian", "RULES", "signals",
           "delta_w", "initial_rule_state"]


class Rule:
    """Base of the rule hyperparameter dataclasses (validated on construction)."""

    def __post_init__(self) -> None:
        for f in fields(self):  # type: ignore[arg-type]
            v = getattr(self, f.name)
            if not (isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and v >= 0):
                raise ValueError(f"{type(self).__name__}.{f.name} must be a finite number >= 0, got {v!r}")
        for name in ("temperature", "tau"):
            if hasattr(self, name) and not getattr(self, name) > 0:
                raise ValueError(f"{type(self).__name__}.{name} must be > 0, got {getattr(self, name)!r}")


@dataclass(frozen=True)
class Hebbian(Rule):
    """Valence-gated Hebbian rule. ``Hebbian(lr=0.1).lr`` -> 0.1"""

    lr: float = 0.01  # weight units per unit activity


@dataclass(frozen=True)
class HebbianDecay(Rule):
    """Valence-gated Hebbian rule with weight decay."""

    lr: float = 0.01
    decay: float = 1e-3  # 1, fraction of the weight lost per update (times lr)


@dataclass(frozen=True)
class Oja(Rule):
    """Oja's normalising rule with the post activity clamped to the valence."""

    lr: float = 0.01


@dataclass(frozen=True)
class BCM(Rule):
    """BCM rule with a sliding threshold on the teacher-clamped output activity."""

    lr: float = 0.01
    tau: float = 100.0  # updates, time constant of the sliding threshold
    temperature: float = 1.0  # weight units, softmax temperature of the output activity


@dataclass(frozen=True)
class Delta(Rule):
    """Delta (Widrow-Hoff / softmax cross-entropy) rule."""

    lr: float = 0.01
    temperature: float = 1.0


@dataclass(frozen=True)
class AntiHebbian(Rule):
    """Depression of synapses from active inputs onto active wrong outputs."""

    lr: float = 0.01
    temperature: float = 1.0


#: Rules by name (as search spaces and specs name them).
RULES: dict[str, type[Rule]] = {"hebbian": Hebbian, "hebbian_decay": HebbianDecay, "oja": Oja, "bcm": BCM,
                                "delta": Delta, "anti_hebbian": AntiHebbian}


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def signals(y: np.ndarray, target: np.ndarray, temperature: float = 1.0) -> dict[str, np.ndarray]:
    """The modulatory signals of a batch: valence, error, reward, activity (module docstring).

    Examples
    --------
    >>> s = signals(np.array([[0.0, 2.0, 1.0]]), np.array([2]))
    >>> s["valence"].tolist(), s["reward"].tolist()
    ([[0.0, -1.0, 1.0]], [-1.0])
    """
    y = np.asarray(y, dtype=float)
    b, n_out = y.shape
    onehot = np.zeros((b, n_out))
    onehot[np.arange(b), target] = 1.0
    winner = np.zeros((b, n_out))
    win = y.argmax(axis=1)
    winner[np.arange(b), win] = 1.0
    psi = _softmax(y / temperature)
    return {"valence": onehot - winner, "error": onehot - psi, "reward": np.where(win == target, 1.0, -1.0),
            "activity": psi, "target": onehot}


def initial_rule_state(rule: Rule, n_out: int) -> np.ndarray | None:
    """The rule's state before learning: the BCM threshold (zeros), else None."""
    return np.zeros(n_out) if isinstance(rule, BCM) else None


def delta_w(rule: Rule, pre, y, target, w, state=None) -> tuple[np.ndarray, np.ndarray | None]:
    """Desired weight change of a rule for a batch, and the rule's new state.

    Parameters
    ----------
    rule : a rule hyperparameter dataclass.
    pre : (B, n_in) presynaptic activities; y : (B, n_out) outputs; target : (B,) labels.
    w : (n_in, n_out) current weights (as the chip reads them).
    state : rule state (BCM threshold) or None.

    Examples
    --------
    >>> pre = np.array([[1.0, 0.0]]); y = np.array([[1.0, 0.0]]); w = np.zeros((2, 2))
    >>> delta_w(Hebbian(lr=0.5), pre, y, np.array([1]), w)[0]
    array([[-0.5,  0.5],
           [ 0. ,  0. ]])
    """
    pre = np.asarray(pre, dtype=float)
    y = np.asarray(y, dtype=float)
    target = np.asarray(target)
    if pre.ndim != 2 or y.ndim != 2 or pre.shape[0] != y.shape[0] or target.shape != (pre.shape[0],):
        raise ValueError(f"pre (B, n_in), y (B, n_out) and target (B,) must agree in B; got {pre.shape}, {y.shape}, "
                         f"{target.shape}")
    if w.shape != (pre.shape[1], y.shape[1]):
        raise ValueError(f"w must have shape {(pre.shape[1], y.shape[1])}, got {w.shape}")
    b = pre.shape[0]
    sig = signals(y, target, getattr(rule, "temperature", 1.0))
    lr = rule.lr
    if isinstance(rule, Hebbian):
        return lr * pre.T @ sig["valence"] / b, state
    if isinstance(rule, HebbianDecay):
        return lr * (pre.T @ sig["valence"] / b - rule.decay * w), state
    if isinstance(rule, Oja):
        m = sig["valence"]
        return lr * (pre.T @ m - w * (m * m).sum(axis=0)) / b, state
    if isinstance(rule, BCM):
        theta = np.zeros(y.shape[1]) if state is None else np.asarray(state, dtype=float)
        u = 0.5 * (sig["target"] + sig["activity"])
        post = u * (u - theta)
        new_theta = theta + ((u * u).mean(axis=0) - theta) / rule.tau
        return lr * pre.T @ post / b, new_theta
    if isinstance(rule, Delta):
        return lr * pre.T @ sig["error"] / b, state
    if isinstance(rule, AntiHebbian):
        return -lr * pre.T @ (sig["activity"] * (1.0 - sig["target"])) / b, state
    raise ValueError(f"rule must be one of {sorted(c.__name__ for c in RULES.values())}, got {type(rule).__name__}")
