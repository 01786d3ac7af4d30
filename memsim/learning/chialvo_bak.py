"""The abstract Chialvo–Bak network: learning from mistakes with extremal dynamics.

A layered network of binary neurons with real synaptic weights (Chialvo & Bak,
Neuroscience 90, 1137, 1999; Bak & Chialvo, Phys. Rev. E 63, 031912, 2001):

1. **Extremal propagation.** The input neurons of the pattern fire (those with
   a level > 0). In each hidden layer the ``n_active`` neurons with the largest
   summed input from the firing neurons of the layer below fire (winner take
   all; with ``n_active = 1`` activity follows the single strongest route);
   in the output layer the one neuron with the largest input fires: that is
   the network's answer.
2. **Negative feedback.** Correct answer: nothing changes. Wrong answer: every
   *active* synapse (from a firing neuron to a firing neuron of the next
   layer) is depressed by a random amount, uniform in ``[0, delta]``.
3. **Tagging (optional).** Synapses that were active in a correct answer are
   tagged; a mistake depresses a tagged synapse by ``tag_factor`` times the
   amount (``tag_factor < 1`` "remembers past successes", Bak & Chialvo 2001;
   ``tag_factor = 1`` disables tagging).

Training presents the patterns in eras (every pattern once, in a fresh seeded
random order per era, or in task order) and stops at the end of the first era
without a mistake. K independent networks advance together (vectorised numpy);
``seed`` is normalised once with :func:`numpy.random.default_rng`.

This is the reference the memristive controller of :mod:`memsim.learning.lfm`
is compared with: the same "no change if right, depress the active path if
wrong" rule, but on abstract weights and with exact winner-take-all routing.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from memsim.learning.tasks import Task

__all__ = ["ChialvoBak", "ChialvoBakResult", "init_weights", "propagate", "present", "train_chialvo_bak"]

Seed = int | np.random.Generator | None


@dataclass(frozen=True)
class ChialvoBak:
    """Parameters of the Chialvo–Bak network and its training.

    Attributes
    ----------
    hidden : tuple of int
        Sizes of the hidden layers (default one layer of 8; the original
        papers use hidden layers a few times wider than the input).
    n_active : int
        Neurons that fire in each hidden layer (extremal dynamics: 1 = only
        the strongest; must be <= every hidden size).
    delta : float
        Largest depression of an active synapse after a mistake (weights
        start uniform in ``[0, 1)``, so 0.1 moves a synapse by a tenth of the
        initial spread at most; small enough that one mistake rarely reroutes
        more than one path).
    tag_factor : float
        Depression of tagged (once successful) synapses relative to untagged
        ones, in ``[0, 1]``; 1 disables tagging (the 1999 rule); Bak & Chialvo
        (2001) punish tagged synapses "much less", e.g. 0.01.
    order : {"random", "task"}
        Pattern order within an era: a fresh seeded permutation per era and
        network, or the task's order.
    max_eras : int
        Cap on training eras.

    Examples
    --------
    >>> ChialvoBak(hidden=(4,), delta=0.05).n_active
    1
    """

    hidden: tuple[int, ...] = (8,)  # neurons per hidden layer
    n_active: int = 1  # firing neurons per hidden layer
    delta: float = 0.1  # 1, largest depression per mistake
    tag_factor: float = 1.0  # 1, relative depression of tagged synapses
    order: Literal["random", "task"] = "random"
    max_eras: int = 10_000

    def __post_init__(self) -> None:
        hid = tuple(self.hidden)
        if not all(isinstance(h, numbers.Integral) and not isinstance(h, bool) and h >= 1 for h in hid):
            raise ValueError(f"ChialvoBak.hidden must be positive integers, got {self.hidden!r}")
        object.__setattr__(self, "hidden", tuple(int(h) for h in hid))
        if not (isinstance(self.n_active, numbers.Integral) and self.n_active >= 1):
            raise ValueError(f"ChialvoBak.n_active must be an integer >= 1, got {self.n_active!r}")
        if hid and self.n_active > min(hid):
            raise ValueError(f"ChialvoBak.n_active = {self.n_active} exceeds the smallest hidden layer ({min(hid)})")
        if not (isinstance(self.delta, numbers.Real) and math.isfinite(self.delta) and self.delta > 0):
            raise ValueError(f"ChialvoBak.delta must be a finite number > 0, got {self.delta!r}")
        if not (isinstance(self.tag_factor, numbers.Real) and 0.0 <= self.tag_factor <= 1.0):
            raise ValueError(f"ChialvoBak.tag_factor must be in [0, 1], got {self.tag_factor!r}")
        if self.order not in ("random", "task"):
            raise ValueError(f"ChialvoBak.order must be 'random' or 'task', got {self.order!r}")
        if not (isinstance(self.max_eras, numbers.Integral) and self.max_eras >= 1):
            raise ValueError(f"ChialvoBak.max_eras must be an integer >= 1, got {self.max_eras!r}")


@dataclass(frozen=True, eq=False)
class ChialvoBakResult:
    """Outcome of :func:`train_chialvo_bak` for K networks.

    Attributes
    ----------
    learned : (K,) bool, a whole era without a mistake before ``max_eras``.
    presentations : (K,) presentations until the end of the first correct era
        (or until the cap).
    mistakes : (K,) mistakes made.
    eras : (K,) eras run (the last one correct when learned).
    n_patterns : patterns per era.
    weights : list of (K, n_l, n_{l+1}) final weights.
    """

    learned: np.ndarray
    presentations: np.ndarray
    mistakes: np.ndarray
    eras: np.ndarray
    n_patterns: int
    weights: list = field(repr=False)

    @property
    def learning_time(self) -> np.ndarray:
        """(K,) presentations before the first error-free era (NaN where not learned)."""
        return np.where(self.learned, self.presentations - self.n_patterns, np.nan)


def init_weights(sizes: list[int], n_copies: int, seed: Seed = None) -> list[np.ndarray]:
    """Uniform random weights in ``[0, 1)``: one (K, n_l, n_{l+1}) array per layer pair.

    Examples
    --------
    >>> [w.shape for w in init_weights([3, 5, 2], 4, seed=0)]
    [(4, 3, 5), (4, 5, 2)]
    """
    rng = np.random.default_rng(seed)
    return [rng.random((n_copies, a, b)) for a, b in zip(sizes[:-1], sizes[1:])]


def propagate(weights: list[np.ndarray], active_in: np.ndarray, n_active: int) -> tuple[np.ndarray, list[np.ndarray]]:
    """Extremal propagation through K networks.

    Parameters
    ----------
    weights : list of (K, n_l, n_{l+1}) arrays.
    active_in : (K, n_0) bool, firing input neurons.
    n_active : int, firing neurons per hidden layer.

    Returns
    -------
    answer : (K,) index of the firing output neuron.
    firing : list of (K, n_l) bool, the firing neurons of every layer.

    Examples
    --------
    >>> w = [np.array([[[0.1, 0.9], [0.5, 0.2]]]), np.array([[[0.3, 0.7], [0.8, 0.1]]])]
    >>> ans, firing = propagate(w, np.array([[True, False]]), 1)
    >>> int(ans[0]), firing[1].tolist()
    (0, [[False, True]])
    """
    k = active_in.shape[0]
    firing = [active_in]
    act = active_in.astype(float)
    rows = np.arange(k)[:, None]
    for layer, w in enumerate(weights):
        drive = np.einsum("ki,kij->kj", act, w)
        last = layer == len(weights) - 1
        n = 1 if last else n_active
        if n == 1:
            top = np.argmax(drive, axis=1)[:, None]
        else:
            top = np.argpartition(-drive, n - 1, axis=1)[:, :n]
        fire = np.zeros(drive.shape, dtype=bool)
        fire[rows, top] = True
        firing.append(fire)
        act = fire.astype(float)
    return np.argmax(firing[-1], axis=1), firing


def present(
    weights: list[np.ndarray],
    tags: list[np.ndarray],
    active_in: np.ndarray,
    targets: np.ndarray,
    config: ChialvoBak,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, list[np.ndarray], list[np.ndarray]]:
    """Present one pattern to K networks and apply the learning rule (inputs are not modified).

    Parameters
    ----------
    weights, tags : lists of (K, n_l, n_{l+1}) arrays (weights; bool tags).
    active_in : (K, n_0) bool firing inputs; targets : (K,) target outputs.
    config : ChialvoBak; rng : numpy Generator (draws the depressions).

    Returns
    -------
    (answer, correct, new_weights, new_tags)

    Examples
    --------
    >>> w = [np.array([[[0.9, 0.1]]]), np.array([[[0.8, 0.2], [0.3, 0.7]]])]
    >>> t = [np.zeros((1, 1, 2), bool), np.zeros((1, 2, 2), bool)]
    >>> ans, ok, w2, t2 = present(w, t, np.array([[True]]), np.array([1]), ChialvoBak(hidden=(2,)),
    ...                           np.random.default_rng(0))
    >>> int(ans[0]), bool(ok[0]), bool(w2[0][0, 0, 0] < 0.9), bool(w2[0][0, 0, 1] == 0.1)
    (0, False, True, True)
    """
    answer, firing = propagate(weights, active_in, config.n_active)
    correct = answer == targets
    wrong = ~correct
    new_w, new_t = [], []
    for layer, w in enumerate(weights):
        active = firing[layer][:, :, None] & firing[layer + 1][:, None, :]
        tag = tags[layer]
        if config.tag_factor < 1.0:
            tag = tag | (active & correct[:, None, None])
        amount = config.delta * rng.random(active.shape)
        amount = np.where(tags[layer], config.tag_factor * amount, amount)
        new_w.append(w - np.where(active & wrong[:, None, None], amount, 0.0))
        new_t.append(tag)
    return answer, correct, new_w, new_t


def train_chialvo_bak(
    task: Task, config: ChialvoBak = ChialvoBak(), *, n_copies: int = 1, seed: Seed = None
) -> ChialvoBakResult:
    """Train K Chialvo–Bak networks on a task until an era is free of mistakes.

    Parameters
    ----------
    task : Task
        Input neuron ``i`` fires when the pattern's level ``i`` is > 0; the
        task's ``n_outputs`` output neurons compete.
    config : ChialvoBak
    n_copies : int
        Independent networks (different initial weights and orders).
    seed : int or Generator

    Returns
    -------
    ChialvoBakResult

    Examples
    --------
    >>> from memsim.learning.tasks import association
    >>> res = train_chialvo_bak(association((1, 0, 1)), ChialvoBak(hidden=(6,)), n_copies=20, seed=0)
    >>> bool(res.learned.all())
    True
    """
    if not isinstance(task, Task):
        raise ValueError(f"task must be a memsim.learning Task, got {type(task).__name__}")
    if not (isinstance(n_copies, numbers.Integral) and n_copies >= 1):
        raise ValueError(f"n_copies must be an integer >= 1, got {n_copies!r}")
    rng = np.random.default_rng(seed)
    sizes = [task.n_inputs, *config.hidden, task.n_outputs]
    weights = init_weights(sizes, n_copies, rng)
    tags = [np.zeros(w.shape, dtype=bool) for w in weights]
    active_patterns = task.levels > 0
    targets = task.targets
    n_pat = len(task)
    learned = np.zeros(n_copies, dtype=bool)
    presentations = np.zeros(n_copies, dtype=np.int64)
    mistakes = np.zeros(n_copies, dtype=np.int64)
    eras = np.zeros(n_copies, dtype=np.int64)
    for _ in range(config.max_eras):
        run = np.flatnonzero(~learned)
        if run.size == 0:
            break
        if config.order == "random":
            order = rng.permuted(np.tile(np.arange(n_pat), (run.size, 1)), axis=1)
        else:
            order = np.tile(np.arange(n_pat), (run.size, 1))
        wrong_era = np.zeros(run.size, dtype=bool)
        for pos in range(n_pat):
            pidx = order[:, pos]
            _, correct, w_new, t_new = present(
                [w[run] for w in weights], [t[run] for t in tags], active_patterns[pidx], targets[pidx], config, rng
            )
            for layer in range(len(weights)):
                weights[layer][run] = w_new[layer]
                tags[layer][run] = t_new[layer]
            wrong_era |= ~correct
            mistakes[run] += ~correct
        presentations[run] += n_pat
        eras[run] += 1
        learned[run[~wrong_era]] = True
    return ChialvoBakResult(learned, presentations, mistakes, eras, n_pat, weights)
