"""The abstract Chialvo–Bak network: learning from mistakes with extremal dynamics.

A layered network of binary neurons with real synaptic weights (Chialvo & Bak,
Neuroscience 90, 1137, 1999; Bak & Chialvo, Phys. Rev. E 63, 031912, 2001):

1. **Extremal propagation.** The input neurons of the pattern fire (those with
   a level > 0). In each hidden layer the ``n_active`` neurons with the largest
   summed input from the firing neurons of the layer below fire (winner take
   all; with ``n_active = 1`` activity follows the single strongest route);
   in the output layer the one neuron with the largest input fires: that is
   the network's answer. Ties go to the lowest index (``numpy.argmax``).
2. **Negative feedback.** Correct answer: nothing changes. Wrong answer: every
   *active* synapse (from a firing neuron to a firing neuron of the next
   layer) is depressed, by a random amount uniform in ``[0, delta)``
   (``depression="uniform"``) or by exactly ``delta`` (``"constant"``).
3. **Tagging (optional).** Synapses that were active in a correct answer are
   tagged; a mistake depresses a tagged synapse by ``tag_factor`` times the
   amount (``tag_factor < 1`` "remembers past successes", Bak & Chialvo 2001;
   ``tag_factor = 1`` disables tagging).

Training presents the patterns in eras of ``len(task)`` presentations: every
pattern once in a fresh random order per era (``order="random"``), in task
order (``"task"``), or ``len(task)`` patterns drawn independently with
replacement (``"sample"``: each presentation is a random pattern). It stops at
the end of the first era without a mistake (``stop="era"``), or as soon as the
network answers every pattern correctly (``stop="map"``; checked after every
mistake, the only event that changes the weights).

Randomness: ``seed`` is normalised once with :func:`numpy.random.default_rng`;
the initial weights come from it (:func:`init_weights`), then every network
gets its own child generator (``Generator.spawn``) that it draws from in a
fixed order: at the start of an era the shuffle (``"random"``: Fisher–Yates,
one uniform per swap) or at every presentation the pattern (``"sample"``), and
after a mistake one uniform per active synapse, layer by layer, in row-major
order (none with ``"constant"``). The compiled kernel (one hidden layer,
``n_active = 1``: the extremal network of the papers) and its plain-NumPy twin
(any layout, built on :func:`propagate`) follow this protocol, so they give
the same numbers for the same seed.

This is the reference the memristive controller of :mod:`memsim.learning.lfm`
is compared with: the same "no change if right, depress the active path if
wrong" rule, but on abstract weights and with exact winner-take-all routing.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field
from typing import Literal

import numba as nb
import numpy as np

from memsim.learning.tasks import Task

__all__ = ["ChialvoBak", "ChialvoBakResult", "init_weights", "propagate", "present", "train_chialvo_bak"]

Seed = int | np.random.Generator | None
Engine = Literal["auto", "numba", "python"]

_ORDERS = ("task", "random", "sample")  # codes 0, 1, 2 in the kernel


@dataclass(frozen=True)
class ChialvoBak:
    """Parameters of the Chialvo–Bak network and its training.

    Attributes
    ----------
    hidden : tuple of int
        Sizes of the hidden layers (default one layer of 8).
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
    order : {"random", "task", "sample"}
        Presentations within an era: a fresh random permutation of the
        patterns, the task's order, or independent uniform draws with
        replacement.
    max_eras : int
        Cap on training eras (``max_eras * len(task)`` presentations).
    depression : {"uniform", "constant"}
        Depression of an active synapse after a mistake: uniform in
        ``[0, delta)`` or exactly ``delta`` (times ``tag_factor`` if tagged).
    stop : {"era", "map"}
        Learned at the end of the first era without a mistake, or as soon as
        every pattern is answered correctly.

    Examples
    --------
    >>> ChialvoBak(hidden=(4,), delta=0.05).n_active
    1
    """

    hidden: tuple[int, ...] = (8,)  # neurons per hidden layer
    n_active: int = 1  # firing neurons per hidden layer
    delta: float = 0.1  # 1, largest depression per mistake
    tag_factor: float = 1.0  # 1, relative depression of tagged synapses
    order: Literal["random", "task", "sample"] = "random"
    max_eras: int = 10_000
    depression: Literal["uniform", "constant"] = "uniform"
    stop: Literal["era", "map"] = "era"

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
        if self.order not in _ORDERS:
            raise ValueError(f"ChialvoBak.order must be 'random', 'task' or 'sample', got {self.order!r}")
        if not (isinstance(self.max_eras, numbers.Integral) and self.max_eras >= 1):
            raise ValueError(f"ChialvoBak.max_eras must be an integer >= 1, got {self.max_eras!r}")
        if self.depression not in ("uniform", "constant"):
            raise ValueError(f"ChialvoBak.depression must be 'uniform' or 'constant', got {self.depression!r}")
        if self.stop not in ("era", "map"):
            raise ValueError(f"ChialvoBak.stop must be 'era' or 'map', got {self.stop!r}")


@dataclass(frozen=True, eq=False)
class ChialvoBakResult:
    """Outcome of :func:`train_chialvo_bak` for K networks.

    Attributes
    ----------
    learned : (K,) bool, learned (by the ``stop`` criterion) before ``max_eras``.
    presentations : (K,) presentations made (until learned, or until the cap).
    mistakes : (K,) mistakes made (until learned, or until the cap).
    eras : (K,) eras begun (with ``stop="era"`` the last one is the correct one).
    n_patterns : patterns per era.
    weights : list of (K, n_l, n_{l+1}) final weights.
    stop : the learning criterion, ``"era"`` or ``"map"``.
    """

    learned: np.ndarray
    presentations: np.ndarray
    mistakes: np.ndarray
    eras: np.ndarray
    n_patterns: int
    weights: list = field(repr=False)
    stop: str = "era"

    @property
    def learning_time(self) -> np.ndarray:
        """(K,) presentations before the network had learned (NaN where not learned).

        ``stop="era"``: before the first error-free era (that era not counted);
        ``stop="map"``: until every pattern was first answered correctly.
        """
        before = self.presentations - (self.n_patterns if self.stop == "era" else 0)
        return np.where(self.learned, before, np.nan)


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
    config : ChialvoBak; rng : numpy Generator (draws the depressions, one
        uniform per synapse of every layer, used or not, unless
        ``depression="constant"``).

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
        if config.depression == "constant":
            amount = np.full(active.shape, float(config.delta))
        else:
            amount = config.delta * rng.random(active.shape)
        amount = np.where(tags[layer], config.tag_factor * amount, amount)
        new_w.append(w - np.where(active & wrong[:, None, None], amount, 0.0))
        new_t.append(tag)
    return answer, correct, new_w, new_t


# --------------------------------------------------------------------------- one network, plain NumPy (the twin)


def _shuffle(order: np.ndarray, gen: np.random.Generator) -> None:
    """Fisher–Yates on ``order`` (in place) from one uniform per swap, as the kernel."""
    for i in range(order.size - 1, 0, -1):
        j = min(int(gen.random() * (i + 1)), i)  # the product can round up to i + 1
        order[i], order[j] = order[j], order[i]


def _train_python(weights, tags, active, targets, config: ChialvoBak, gen) -> tuple[bool, int, int, int]:
    """Train one network (weights, tags: lists of (n_l, n_{l+1}) arrays, changed in place) by
    :func:`propagate` and a full check of the map; any layout. Returns (learned, presentations,
    mistakes, eras)."""
    n_pat = targets.size
    n_active = config.n_active
    stacked = [np.broadcast_to(w, (n_pat, *w.shape)) for w in weights]  # views: follow the in-place updates

    def map_learned() -> bool:
        return bool(np.all(propagate(stacked, active, n_active)[0] == targets))

    if config.stop == "map" and map_learned():
        return True, 0, 0, 0
    order = np.arange(n_pat)
    presentations = mistakes = 0
    for era in range(config.max_eras):
        if config.order == "random":
            order[:] = np.arange(n_pat)
            _shuffle(order, gen)
        wrong_era = False
        for pos in range(n_pat):
            p = min(int(gen.random() * n_pat), n_pat - 1) if config.order == "sample" else int(order[pos])
            presentations += 1
            answer, firing = propagate([w[None] for w in weights], active[p][None], n_active)
            if answer[0] == targets[p]:
                if config.tag_factor < 1.0:
                    for layer, t in enumerate(tags):
                        t |= firing[layer][0][:, None] & firing[layer + 1][0][None, :]
                continue
            wrong_era = True
            mistakes += 1
            for layer, (w, t) in enumerate(zip(weights, tags)):
                for a in np.flatnonzero(firing[layer][0]):
                    for b in np.flatnonzero(firing[layer + 1][0]):
                        amount = config.delta if config.depression == "constant" else config.delta * gen.random()
                        if t[a, b]:
                            amount *= config.tag_factor
                        w[a, b] -= amount
            if config.stop == "map" and map_learned():
                return True, presentations, mistakes, era + 1
        if config.stop == "era" and not wrong_era:
            return True, presentations, mistakes, era + 1
    return False, presentations, mistakes, config.max_eras


# --------------------------------------------------------------------------- one network, compiled


@nb.njit(cache=True)
def _argmax(v):
    """``np.argmax`` of a 1-D array (first maximum)."""
    best = 0
    for i in range(1, v.size):
        if v[i] > v[best]:
            best = i
    return best


@nb.njit(cache=True)
def _column(d, w0, act_idx, act_ptr, j):
    """Summed input of hidden neuron ``j`` for every pattern, inputs added in ascending order."""
    for p in range(d.shape[0]):
        s = 0.0
        for q in range(act_ptr[p], act_ptr[p + 1]):
            s += w0[act_idx[q], j]
        d[p, j] = s


@nb.njit(cache=True)
def _train_kernel(w0, w1, t0, t1, act_idx, act_ptr, targets, order_code, stop_map, constant, delta, tag_factor,
                  max_eras, gen):
    """One hidden layer, one firing hidden neuron: train one network (w0 (n_in, H), w1 (H, n_out) and the
    tags changed in place; ``act_idx[act_ptr[p]:act_ptr[p + 1]]`` the active inputs of pattern p, ascending).
    The summed hidden inputs of every pattern are kept up to date column by column, and with ``stop_map``
    the answers too: a mistake through hidden neuron j lowers column j of the inputs and row j of w1, so
    only the patterns routed through j can change their answer."""
    n_pat = targets.size
    n_hidden = w0.shape[1]
    tagging = tag_factor < 1.0
    d = np.zeros((n_pat, n_hidden))
    for j in range(n_hidden):
        _column(d, w0, act_idx, act_ptr, j)
    win = np.zeros(n_pat, np.int64)
    ans = np.zeros(n_pat, np.int64)
    n_wrong = 0
    if stop_map:
        for p in range(n_pat):
            win[p] = _argmax(d[p])
            ans[p] = _argmax(w1[win[p]])
            if ans[p] != targets[p]:
                n_wrong += 1
        if n_wrong == 0:
            return True, 0, 0, 0
    order = np.arange(n_pat)
    presentations = 0
    mistakes = 0
    for era in range(max_eras):
        if order_code == 1:
            for i in range(n_pat):
                order[i] = i
            for i in range(n_pat - 1, 0, -1):
                j = min(int(gen.random() * (i + 1)), i)
                tmp = order[i]
                order[i] = order[j]
                order[j] = tmp
        wrong_era = False
        for pos in range(n_pat):
            if order_code == 2:
                p = min(int(gen.random() * n_pat), n_pat - 1)
            else:
                p = order[pos]
            presentations += 1
            j = _argmax(d[p])
            k = _argmax(w1[j])
            if k == targets[p]:
                if tagging:
                    for q in range(act_ptr[p], act_ptr[p + 1]):
                        t0[act_idx[q], j] = True
                    t1[j, k] = True
                continue
            wrong_era = True
            mistakes += 1
            for q in range(act_ptr[p], act_ptr[p + 1]):
                i = act_idx[q]
                amount = delta if constant else delta * gen.random()
                if t0[i, j]:
                    amount *= tag_factor
                w0[i, j] -= amount
            amount = delta if constant else delta * gen.random()
            if t1[j, k]:
                amount *= tag_factor
            w1[j, k] -= amount
            _column(d, w0, act_idx, act_ptr, j)
            if stop_map:
                for r in range(n_pat):
                    if win[r] == j:  # only these can change: column j and row j went down
                        was_right = ans[r] == targets[r]
                        win[r] = _argmax(d[r])
                        ans[r] = _argmax(w1[win[r]])
                        n_wrong += int(was_right) - int(ans[r] == targets[r])
                if n_wrong == 0:
                    return True, presentations, mistakes, era + 1
        if not stop_map and not wrong_era:
            return True, presentations, mistakes, era + 1
    return False, presentations, mistakes, max_eras


def train_chialvo_bak(
    task: Task, config: ChialvoBak = ChialvoBak(), *, n_copies: int = 1, seed: Seed = None,
    initial_weights: list[np.ndarray] | None = None, engine: Engine = "auto",
) -> ChialvoBakResult:
    """Train K Chialvo–Bak networks on a task until they have learned it.

    Parameters
    ----------
    task : Task
        Input neuron ``i`` fires when the pattern's level ``i`` is > 0; the
        task's ``n_outputs`` output neurons compete.
    config : ChialvoBak
    n_copies : int
        Independent networks (different initial weights and random draws).
    seed : int or Generator
    initial_weights : list of (K, n_l, n_{l+1}) arrays, optional
        Starting weights (copied) instead of :func:`init_weights`.
    engine : {"auto", "numba", "python"}
        The compiled kernel (one hidden layer and ``n_active = 1`` only), the
        plain-NumPy twin (any layout; slow), or the kernel where it applies.
        Same numbers.

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
    kernel_ok = len(config.hidden) == 1 and config.n_active == 1
    if engine not in ("auto", "numba", "python"):
        raise ValueError(f"engine must be 'auto', 'numba' or 'python', got {engine!r}")
    if engine == "numba" and not kernel_ok:
        raise ValueError("engine='numba' needs one hidden layer and n_active = 1; use engine='python'")
    rng = np.random.default_rng(seed)
    sizes = [task.n_inputs, *config.hidden, task.n_outputs]
    if initial_weights is None:
        weights = init_weights(sizes, n_copies, rng)
    else:
        weights = [np.array(w, dtype=float, order="C", copy=True) for w in initial_weights]
        shapes = [(n_copies, a, b) for a, b in zip(sizes[:-1], sizes[1:])]
        if [w.shape for w in weights] != shapes or not all(np.isfinite(w).all() for w in weights):
            raise ValueError(f"initial_weights must be finite arrays of shapes {shapes}, "
                             f"got {[w.shape for w in weights]}")
    tags = [np.zeros(w.shape, dtype=bool) for w in weights]
    gens = rng.spawn(n_copies)
    active = task.levels > 0
    targets = np.asarray(task.targets, dtype=np.int64)
    act_ptr = np.concatenate([[0], np.cumsum(active.sum(axis=1))]).astype(np.int64)
    act_idx = np.nonzero(active)[1].astype(np.int64)  # row-major: ascending inputs per pattern
    out = np.zeros((n_copies, 4), dtype=np.int64)
    for c in range(n_copies):
        if engine == "python" or not kernel_ok:
            out[c] = _train_python([w[c] for w in weights], [t[c] for t in tags], active, targets, config, gens[c])
        else:
            out[c] = _train_kernel(weights[0][c], weights[1][c], tags[0][c], tags[1][c], act_idx, act_ptr, targets,
                                   _ORDERS.index(config.order), config.stop == "map",
                                   config.depression == "constant", float(config.delta), float(config.tag_factor),
                                   int(config.max_eras), gens[c])
    return ChialvoBakResult(out[:, 0].astype(bool), out[:, 1], out[:, 2], out[:, 3], len(task), weights,
                            stop=config.stop)
