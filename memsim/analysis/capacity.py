"""Capacity: how many patterns a topology can learn.

Structural figures, from the circuit alone
------------------------------------------
With every terminal (input and output) driven and the bulk floating, the
currents delivered by the terminals are ``I_T = Y v_T``, with ``Y`` the
Schur complement of the Laplacian on the terminals. ``Y`` is symmetric with
zero row sums, so it has ``T (T - 1) / 2`` independent entries. Its
derivative with respect to one device conductance is the rank-one matrix

    dY / dg_e = s_e s_e^T,

``s_e`` the voltage across device ``e`` per unit terminal voltage (row ``e``
of :func:`memsim.analysis.controllability.terminal_map`). The rank of the
Jacobian ``J = [vec(s_e s_e^T)]_e`` is the number of independent directions in
which changing the devices can reshape the terminal response; restricted to
the input-output block ``Y_OI`` (what a read measures: output currents for
input voltages) it bounds the number of independent input-output relations,
hence of patterns whose answers can be set independently by any learning
rule. Symmetric devices give equal columns and lower it.

Empirical capacity, from training
---------------------------------
:func:`empirical_capacity` trains the learning-from-mistakes controller of
:mod:`memsim.learning` on random pattern sets of growing size ``p`` and
estimates ``P(learned | p)``, the probability that a fresh copy of the
hardware learns a fresh random ``p``-pattern set (over pattern sets, seeds of
the initial states and device spread), with Wilson confidence intervals
(:func:`wilson_interval`). The capacity is the largest ``p`` with
``P(learned | p) >= 1/2`` and the mean number of learnable patterns is
``sum_p P(learned | p)``. :func:`controller_configurations` lists the
terminal configurations the controller may apply, for
:func:`memsim.analysis.controllability.controllability` of the same hardware.
"""

from __future__ import annotations

import concurrent.futures as cf
import math
import numbers
import pickle
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import networkx as nx
import numpy as np
import pandas as pd
from scipy.stats import norm

from memsim.analysis.symmetry import spread_states
from memsim.circuit.network import CompiledNetwork, Network
from memsim.devices import functions as fn
from memsim.devices.models import VTEAM, Device
from memsim.devices.variability import Variability
from memsim.learning.hardware import Hardware, _freeze, build_hardware
from memsim.learning.inhibition import (
    Pulses,
    normalise_segment,
    punish_segment,
    read_segment,
)
from memsim.learning.lfm import Controller, train
from memsim.learning.pruning import prune_edges
from memsim.learning.tasks import Pattern, Task, _count, classification, random_patterns
from memsim.solve.nodal import solve_nodal
from memsim.solve.protocol import Segment
from memsim.sweep.pool import check_workers, process_pool

__all__ = [
    "StructuralCapacity",
    "structural_capacity",
    "response_jacobian",
    "CapacityResult",
    "empirical_capacity",
    "wilson_interval",
    "association_set",
    "controller_configurations",
]


@dataclass(frozen=True)
class StructuralCapacity:
    """Structural capacity figures (see the module docstring).

    Attributes
    ----------
    n_terminals : number of terminals ``T`` (inputs + outputs).
    independent_entries : ``T (T - 1) / 2``.
    jacobian_rank : rank of the full terminal-response Jacobian.
    io_entries : ``n_inputs * n_outputs``.
    io_rank : rank of the Jacobian of the input-output block.
    n_dynamic : number of devices with a state.
    """

    n_terminals: int
    independent_entries: int
    jacobian_rank: int
    io_entries: int
    io_rank: int
    n_dynamic: int


def _compiled(network) -> CompiledNetwork:
    return network.compile() if isinstance(network, Network) else network


def response_jacobian(network: Network | CompiledNetwork, x: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Jacobians of the terminal response with respect to the device conductances.

    Returns ``(J_full, J_io)``: rows are the upper off-diagonal entries of
    ``Y`` (terminals in index order: inputs then outputs), respectively the
    ``(output, input)`` entries; columns the dynamic devices.

    Examples
    --------
    >>> from memsim import Network, LinearIonDrift
    >>> net = Network(LinearIonDrift()); net.add_node("a", "input"); net.add_node("b", "output")
    >>> _ = net.add_edge("a", "b")
    >>> response_jacobian(net)[1]
    array([[-1.]])
    """
    net = _compiled(network)
    x = net.x0 if x is None else np.asarray(x, dtype=float)
    if x.shape != (net.n_edges,):
        raise ValueError(f"x must have shape ({net.n_edges},), got {x.shape}")
    ins, outs = net.inputs, net.outputs
    if outs.size == 0:
        raise ValueError("network has no node with role 'output'")
    terminals = np.concatenate([ins, outs])
    g = fn.conductance(net.model, net.params, x)
    s = np.empty((net.n_edges, terminals.size))
    for j in range(terminals.size):
        v = np.zeros(terminals.size)
        v[j] = 1.0
        s[:, j] = np.nan_to_num(solve_nodal(net, g, terminals, v).v_edge)
    dyn = net.model != 0
    s = s[dyn]
    iu = np.triu_indices(terminals.size, k=1)
    j_full = (s[:, iu[0]] * s[:, iu[1]]).T
    n_in = ins.size
    oi = [(n_in + o, i) for o in range(outs.size) for i in range(n_in)]
    j_io = np.array([s[:, a] * s[:, b] for a, b in oi])
    return j_full, j_io


def _rank(a: np.ndarray, rtol: float) -> int:
    if a.size == 0:
        return 0
    sv = np.linalg.svd(a, compute_uv=False)
    return int(np.sum(sv > rtol * sv[0])) if sv[0] > 0 else 0


def structural_capacity(
    network: Network | CompiledNetwork, x: np.ndarray | None = None, *, rtol: float = 1e-10
) -> StructuralCapacity:
    """Structural capacity figures of a network at device states ``x``.

    ``rtol`` is the rank threshold relative to the largest singular value
    (the Jacobian is exact up to rounding, ~1e-14 relative).

    Examples
    --------
    >>> from memsim import layered, Network, LinearIonDrift
    >>> sc = structural_capacity(Network.from_graph(layered([2, 4, 2]), LinearIonDrift(), x0=0.5))
    >>> sc.io_entries, sc.io_rank
    (4, 3)
    """
    net = _compiled(network)
    j_full, j_io = response_jacobian(net, x)
    t = net.inputs.size + net.outputs.size
    return StructuralCapacity(
        n_terminals=int(t),
        independent_entries=t * (t - 1) // 2,
        jacobian_rank=_rank(j_full, rtol),
        io_entries=int(net.inputs.size * net.outputs.size),
        io_rank=_rank(j_io, rtol),
        n_dynamic=int(np.sum(net.model != 0)),
    )


# ------------------------------------------------------------------ empirical capacity

TaskKind = Literal["random", "association"]
#: A pattern-set generator: ``(p, rng) -> Task`` with ``p`` patterns.
TaskSampler = Callable[[int, np.random.Generator], Task]
Seed = int | np.random.Generator | None


def _fraction(name: str, value: object, *, low_open: bool = True, high_open: bool = True) -> float:
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)
    if ok:
        ok = (0.0 < value if low_open else 0.0 <= value) and (value < 1.0 if high_open else value <= 1.0)
    if not ok:
        lo, hi = ("(" if low_open else "["), (")" if high_open else "]")
        raise ValueError(f"{name} must be a number in {lo}0, 1{hi}, got {value!r}")
    return float(value)


def wilson_interval(successes, trials, confidence: float = 0.95):
    """Wilson score interval of a binomial proportion.

    With ``k`` successes in ``n`` trials and ``z`` the standard normal
    quantile at ``(1 + confidence) / 2``::

        centre = (k + z^2 / 2) / (n + z^2)
        half   = z / (n + z^2) * sqrt(k (n - k) / n + z^2 / 4)
        (low, high) = (centre - half, centre + half)

    (E. B. Wilson, J. Am. Stat. Assoc. 22, 209, 1927). Unlike the normal
    approximation ``k/n +- z sqrt(k(n-k)/n^3)`` it stays inside ``[0, 1]``
    and does not collapse to a point at ``k = 0`` or ``k = n``; it is the
    interval ``scipy.stats.binomtest(k, n).proportion_ci(method="wilson")``
    returns.

    Parameters
    ----------
    successes, trials : int or array of int
        ``0 <= successes <= trials``, ``trials >= 1`` (broadcast together).
    confidence : float
        Confidence level in ``(0, 1)``.

    Returns
    -------
    (low, high) : floats, or arrays for array input.

    Examples
    --------
    >>> low, high = wilson_interval(8, 10)
    >>> round(low, 4), round(high, 4)
    (0.4902, 0.9433)
    >>> wilson_interval(0, 5)[0]
    0.0
    """
    confidence = _fraction("confidence", confidence)
    k = np.asarray(successes)
    n = np.asarray(trials)
    for name, arr in (("successes", k), ("trials", n)):
        if arr.dtype == bool or not np.issubdtype(arr.dtype, np.integer):
            raise ValueError(f"{name} must be integers, got {arr.dtype}")
    if np.any(n < 1):
        raise ValueError(f"trials must be >= 1, got {n.tolist()}")
    if np.any((k < 0) | (k > n)):
        raise ValueError(f"successes must be in [0, trials], got {k.tolist()} of {n.tolist()}")
    z = float(norm.ppf(0.5 + confidence / 2))
    kf, nf = k.astype(float), n.astype(float)
    den = nf + z * z
    centre = (kf + z * z / 2) / den
    half = z / den * np.sqrt(kf * (nf - kf) / nf + z * z / 4)
    low = np.where(k == 0, 0.0, np.clip(centre - half, 0.0, 1.0))
    high = np.where(k == n, 1.0, np.clip(centre + half, 0.0, 1.0))
    if low.ndim == 0:
        return float(low), float(high)
    return low, high


def association_set(n_inputs: int, n_outputs: int, p: int, *, seed: Seed = None) -> Task:
    """A random partial association map: ``p`` distinct inputs, each alone, to random outputs.

    The ``p`` inputs are drawn without replacement (listed in increasing
    order); each pattern drives one of them at level 1 and its target is
    uniform over the ``n_outputs`` outputs (several inputs may share one).
    The association tasks of :func:`memsim.learning.tasks.association`,
    drawn at random, for :func:`empirical_capacity` with ``tasks="association"``.

    Examples
    --------
    >>> t = association_set(4, 2, 3, seed=0)
    >>> len(t), t.n_inputs, t.levels.sum(axis=1).tolist()
    (3, 4, [1.0, 1.0, 1.0])
    """
    n_in = _count("association_set", "n_inputs", n_inputs, 1)
    n_out = _count("association_set", "n_outputs", n_outputs, 2)
    p = _count("association_set", "p", p, 1)
    if p > n_in:
        raise ValueError(f"p = {p} exceeds the {n_in} one-input patterns of {n_in} inputs")
    rng = np.random.default_rng(seed)
    inputs = np.sort(rng.choice(n_in, size=p, replace=False))
    levels = np.zeros((p, n_in))
    levels[np.arange(p), inputs] = 1.0
    targets = rng.integers(0, n_out, size=p)
    return classification(levels, targets, n_out, name=f"association-{p}")


@dataclass(frozen=True, eq=False)
class CapacityResult:
    """Outcome of :func:`empirical_capacity` (arrays read-only, one entry per tested ``p``).

    Attributes
    ----------
    p : (P,) pattern-set sizes tested, ``1, 2, ...``.
    n_trials : (P,) copies trained per size (``n_sets * copies``).
    successes : (P,) copies that learned their set.
    probability : (P,) ``successes / n_trials``, the estimate of ``P(learned | p)``.
    low, high : (P,) Wilson confidence interval of ``P(learned | p)``.
    capacity : int
        Largest tested ``p`` with ``probability >= threshold`` (0 if none).
    mean_learnable : float
        ``sum_p probability``, the mean number of learnable patterns (see
        :func:`empirical_capacity`).
    threshold, confidence : float
        The settings used.
    p_limit : int
        The largest ``p`` that could be tested (``p_max`` or the number of
        distinct patterns).
    stopped_early : bool
        The scan stopped before ``p_limit`` because ``high < threshold``.
    presentations : (P,) mean presentations to learn of the copies that
        learned (NaN where none did).
    trials : pandas.DataFrame
        One row per trained copy: ``p, set, copy, learned, eras`` (eras run
        until the stop criterion was met, the confirming error-free eras
        included, in ``[stop_after, max_eras]``; NaN where not learned, a
        time censored at ``max_eras``) and ``presentations`` (up to the last
        mistake; NaN where not learned). Set ``j`` of size ``p`` is the same
        pattern set whatever the network (it depends only on the seed), so
        rows of two runs with one seed pair up by ``(p, set)``. Training
        stops only at the stop criterion or the cap, so a copy that learned
        by era ``e`` learns by era ``e`` under any cap ``>= e``: the outcome
        under a smaller cap ``c`` is ``learned & (eras <= c)``.
    """

    p: np.ndarray
    n_trials: np.ndarray
    successes: np.ndarray
    probability: np.ndarray
    low: np.ndarray
    high: np.ndarray
    capacity: int
    mean_learnable: float
    threshold: float
    confidence: float
    p_limit: int
    stopped_early: bool
    presentations: np.ndarray = field(repr=False)
    trials: pd.DataFrame = field(repr=False, default_factory=lambda: pd.DataFrame(columns=TRIAL_COLUMNS))

    def __post_init__(self) -> None:
        _freeze(self, ("p", "n_trials", "successes", "probability", "low", "high", "presentations"))

    def table(self) -> pd.DataFrame:
        """One row per tested ``p``: ``p, n_trials, successes, probability, low, high, presentations``."""
        return pd.DataFrame({"p": self.p, "n_trials": self.n_trials, "successes": self.successes,
                             "probability": self.probability, "low": self.low, "high": self.high,
                             "presentations": self.presentations})

    def __repr__(self) -> str:
        return (f"CapacityResult(capacity={self.capacity}, mean_learnable={self.mean_learnable:.2f}, "
                f"p tested 1..{int(self.p[-1]) if self.p.size else 0} of {self.p_limit}, "
                f"stopped_early={self.stopped_early})")


TRIAL_COLUMNS = ("p", "set", "copy", "learned", "eras", "presentations")


def _natural_limit(tasks, n_in: int) -> int | None:
    """Number of distinct patterns of a built-in task kind (None for a callable)."""
    if callable(tasks):
        return None
    if tasks == "random":
        return 2**n_in - 1
    if tasks == "association":
        return n_in
    raise ValueError(f"tasks must be 'random', 'association' or a callable (p, rng) -> Task, got {tasks!r}")


def _draw_task(tasks, density: float, n_in: int, n_out: int, p: int, rng: np.random.Generator) -> Task:
    if tasks == "random":
        task = random_patterns(n_in, n_out, p, density=density, seed=rng)
    elif tasks == "association":
        task = association_set(n_in, n_out, p, seed=rng)
    else:
        task = tasks(p, rng)
    if not isinstance(task, Task) or len(task) != p:
        raise ValueError(f"tasks must produce a Task of {p} patterns, got {task!r}")
    return task


def _train_set(net: Network, p: int, j: int, base: int, opts: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Train ``copies`` fresh copies on pattern set ``j`` of size ``p``: per copy (learned, eras, presentations)."""
    task_ss, hw_ss, train_ss = np.random.SeedSequence([base, p, j]).spawn(3)
    task = _draw_task(opts["tasks"], opts["density"], len(net.inputs), len(net.outputs), p,
                      np.random.default_rng(task_ss))
    hw_rng = np.random.default_rng(hw_ss)
    copies, xs = opts["copies"], opts["x0"]
    if opts["state_spread"] > 0:
        xs = spread_states(np.broadcast_to(np.asarray(xs, dtype=float), (copies, net.n_edges)),
                           opts["state_spread"], seed=hw_rng)
    hw = build_hardware(net, n_copies=copies, x0=xs, variability=opts["variability"],
                        source_resistance=opts["source_resistance"], prune_below=opts["prune_below"], seed=hw_rng)
    if opts["prune_fraction"] > 0:
        hw = prune_edges(hw, fraction=opts["prune_fraction"], seed=hw_rng)
    out = train(hw, task, opts["controller"], seed=int(np.random.default_rng(train_ss).integers(2**62)))
    eras = np.where(out.learned, out.state.learned_era + opts["controller"].stop_after, np.nan)
    return out.learned.copy(), eras, out.presentations_to_learn


def _scan(net: Network, base: int, opts: dict, p_limit: int, n_sets: int, threshold: float, confidence: float,
          early_stop: bool, workers: int, progress: bool) -> tuple[list[int], list[int], list[float], list]:
    """Train the sets of sizes ``1, 2, ...`` until the early stop.

    Returns (sizes, successes, mean presentations to learn, per-copy trial rows
    ``(p, set, copy, learned, eras, presentations)``).

    Results are read in ``(p, j)`` order and the stop after size ``p`` is
    decided from the sets of size ``p`` alone, so the numbers do not depend on
    ``workers`` or on the order in which sets finish. With several workers
    the pool stays busy across sizes: the sets of size ``p + 1`` are
    submitted while those of size ``p`` finish, as soon as the results of
    size ``p`` in hand already rule the early stop out (the Wilson upper
    bound is nondecreasing in the successes, so if ``high(k_so_far) >=
    threshold`` the final ``high`` is too). No set is trained in vain.
    """
    from tqdm.auto import tqdm

    copies = opts["copies"]
    trials = n_sets * copies
    total = p_limit * n_sets  # sets, in (p, j) order: set i is (i // n_sets + 1, i % n_sets)
    flight: dict[int, cf.Future] = {}  # set index -> future, in submission order
    nxt = done = 0  # next set to submit; sets read so far
    k = 0  # successes so far at the size being read
    ps, succ, pres, ptl, rows = [], [], [], [], []
    bar = tqdm(total=total, unit="set", desc="capacity", disable=not progress)
    pool = process_pool(workers)
    try:
        while done < total:
            p = done // n_sets + 1  # the size being read
            ruled_out = not early_stop or wilson_interval(k, trials, confidence)[1] >= threshold
            ahead = p + 1 if workers > 1 and ruled_out else p  # the largest size that may be submitted
            # at most `workers` sets running or queued (workers=1: the set runs at submit, read it at once)
            while nxt < total and nxt // n_sets + 1 <= ahead and (
                    len(flight) if workers == 1 else sum(not f.done() for f in flight.values())) < workers:
                q, j = divmod(nxt, n_sets)
                flight[nxt] = pool.submit(_train_set, net, q + 1, j, base, opts)
                nxt += 1
            head = flight[done]
            if not head.done():  # wait for the set to read next, or for a free worker to refill
                cf.wait([f for f in flight.values() if not f.done()], return_when=cf.FIRST_COMPLETED)
                continue
            learned, eras, presentations = flight.pop(done).result()
            j = done % n_sets
            done += 1
            k += int(learned.sum())
            ptl.extend(presentations[learned].tolist())
            rows.extend(zip([p] * copies, [j] * copies, range(copies), learned.tolist(), eras.tolist(),
                            presentations.tolist()))
            bar.update(1)
            bar.set_postfix(p=p, learned=f"{k}/{(done - (p - 1) * n_sets) * copies}")
            if done % n_sets:
                continue
            ps.append(p)
            succ.append(k)
            pres.append(float(np.mean(ptl)) if ptl else float("nan"))
            if early_stop and wilson_interval(k, trials, confidence)[1] < threshold:
                break
            k, ptl = 0, []
        bar.total = bar.n  # an early stop ends the bar at what was done
    finally:
        pool.shutdown(wait=False, cancel_futures=True)  # after an error: drop the sets not started
        bar.close()
    return ps, succ, pres, rows


def empirical_capacity(
    network: Network | nx.Graph,
    *,
    tasks: TaskKind | TaskSampler = "random",
    density: float = 0.5,
    p_max: int | None = None,
    n_sets: int = 16,
    copies: int = 2,
    controller: Controller = Controller(),
    threshold: float = 0.5,
    confidence: float = 0.95,
    early_stop: bool = True,
    x0: float | np.ndarray | Literal["random"] = "random",
    state_spread: float = 0.0,
    variability: Variability | None = None,
    prune_fraction: float = 0.0,
    prune_below: float = 0.0,
    source_resistance: float = 50.0,
    device: Device | None = None,
    seed: Seed = None,
    progress: bool = False,
    workers: int = 1,
) -> CapacityResult:
    """Empirical capacity: how many random patterns the controller teaches the hardware.

    For ``p = 1, 2, ...`` draw ``n_sets`` random ``p``-pattern sets; for each,
    build ``copies`` copies of the hardware (each with its own seeded initial
    states, device spread and pruning) and train them together on that set
    (the controller's ensemble path, :func:`memsim.learning.train`). A copy
    *learned* when it met the controller's stop criterion (``stop_after``
    error-free eras) within ``max_eras``. With ``k_p`` of ``n_p = n_sets *
    copies`` copies learning,

    - ``P(learned | p) ~ k_p / n_p``, with the Wilson interval of
      :func:`wilson_interval` at ``confidence``;
    - **capacity** ``C = max { p : k_p / n_p >= threshold }`` (0 if no tested
      ``p`` qualifies; DESIGN.md §4: threshold 1/2);
    - **mean number of learnable patterns** ``sum_p P(learned | p)``. If the
      capacity of one random draw (set, seed) is the largest ``p`` it learns
      and learning ``p`` patterns implies learning fewer, then
      ``P(C_draw >= p) = P(learned | p)`` and the sum is ``E[C_draw]``
      (``E[X] = sum_{p>=1} P(X >= p)``), a figure that, unlike ``C``, moves
      smoothly with every change of ``P``. Sizes not tested (after an early
      stop, or above ``p_limit``) count as 0, so it is a lower estimate
      whenever the truncated tail is not negligible.

    **Early stopping**: the scan stops after the first ``p`` whose upper
    confidence bound ``high`` falls below ``threshold`` (such a ``p`` is
    confidently unlearnable and larger sets, supersets in difficulty, would
    be too), so large ``p`` costs nothing.

    The intervals treat the ``n_sets * copies`` trials of a size as
    independent; copies that share a set are not independent draws of the
    set, and copies are identical (and the interval too narrow) unless the
    hardware has a seeded source of randomness (``x0="random"``,
    ``state_spread``, ``variability`` or ``prune_fraction``). For a
    deterministic (e.g. uniform) hardware use ``copies=1`` and more sets.

    **Compared with** :func:`structural_capacity`: the structural figures are
    upper bounds from the circuit alone (``io_rank``: how many independent
    input-output relations the devices can reshape at first order; a
    uniform 2-4-2 net has ``io_rank`` 3 of 4 entries, a random one 4), blind
    to the controller, its pulse amplitudes, the device thresholds and the
    era cap. The empirical capacity is what this controller actually
    achieves, and includes the limits of the winner-take-all read (only the
    order of the output currents matters, not their values). The two agree
    in direction (breaking the symmetry raises both) but not in value.

    Parameters
    ----------
    network : Network or networkx.Graph
        The memristive network (a graph is converted with ``device``); its
        devices must be oriented for the controller, as in
        ``layered(..., orientation="backward")``.
    tasks : {"random", "association"} or callable
        Pattern sets: ``"random"``, :func:`memsim.learning.random_patterns`
        (binary patterns, each input active with probability ``density``,
        random targets; ``p <= 2**n_inputs - 1``); ``"association"``,
        :func:`association_set` (one input per pattern, ``p <= n_inputs``);
        or a callable ``(p, rng) -> Task`` with ``p`` patterns (then
        ``p_max`` is required).
    density : float
        Active-input probability of ``"random"`` sets.
    p_max : int, optional
        Largest ``p`` to try (default: every possible ``p``); clipped to the
        number of distinct patterns (``p_limit`` in the result).
    n_sets : int
        Random pattern sets per ``p``.
    copies : int
        Hardware copies trained together on each set (seeds per set). Whether
        a net learns a set tends to depend far more on the set than on the
        seed (copies sharing a set mostly agree in ``experiments/codesign_*``),
        so the defaults spend the trials on sets (16 sets x 2 copies).
    controller : Controller
        Pulses and stopping rule (``max_eras`` bounds the cost of each set).
    threshold : float
        ``P(learned | p)`` needed for ``p`` to count (default 1/2).
    confidence : float
        Level of the Wilson intervals (default 0.95).
    early_stop : bool
        Stop once ``high < threshold`` (default True).
    x0, variability, prune_below, source_resistance
        Passed to :func:`memsim.learning.build_hardware` (``x0="random"``:
        uniform random initial states per copy).
    state_spread : float
        Gaussian spread (state units) added per copy to a numeric ``x0``
        (:func:`memsim.analysis.symmetry.spread_states`), a symmetry breaker.
    prune_fraction : float
        Fraction of the network's edges opened at random per copy before
        training (:func:`memsim.learning.prune_edges`).
    device : Device, optional
        Device of a graph's edges (default :class:`memsim.VTEAM`).
    seed : int or Generator
        Everything random (sets, states, spread, pruning, orders) derives
        from it; the draws for size ``p`` and set ``j`` depend only on
        ``(seed, p, j)``, so the estimate at one ``p`` does not depend on
        which other sizes were tested.
    progress : bool
        Show a tqdm progress bar over pattern sets.
    workers : int
        Processes that train the sets in parallel (the shared pool of
        :func:`memsim.sweep.pool.process_pool`, kept warm across calls); the
        result does not depend on it. The pool stays busy across sizes: the
        sets of size ``p + 1`` start while those of size ``p`` finish, once the
        results in hand rule the early stop at ``p`` out. A callable ``tasks``
        must then be picklable (defined at module level).

    Returns
    -------
    CapacityResult

    Examples
    --------
    A 2-2 layer (each input wired to each output by one device) learns every
    association of its two inputs:

    >>> from memsim import Network, VTEAM, layered
    >>> from memsim.learning import Controller
    >>> net = Network.from_graph(layered([2, 2], orientation="backward"), VTEAM())
    >>> res = empirical_capacity(net, tasks="association", n_sets=2, copies=2,
    ...                          controller=Controller(max_eras=10), seed=0)
    >>> res.p.tolist(), res.probability.tolist(), res.capacity, res.mean_learnable
    ([1, 2], [1.0, 1.0], 2, 2.0)
    """
    if isinstance(network, nx.Graph):
        net = Network.from_graph(network, device if device is not None else VTEAM())
    elif isinstance(network, Network):
        net = network
    else:
        raise ValueError(f"network must be a memsim Network or a networkx graph, got {type(network).__name__}")
    n_in, n_out = len(net.inputs), len(net.outputs)
    if n_in < 1 or n_out < 2:
        raise ValueError(f"network must have >= 1 input and >= 2 outputs, got {n_in} and {n_out}")
    if not isinstance(controller, Controller):
        raise ValueError(f"controller must be a Controller, got {type(controller).__name__}")
    density = _fraction("density", density, high_open=False)
    threshold = _fraction("threshold", threshold, high_open=False)
    confidence = _fraction("confidence", confidence)
    n_sets = _count("empirical_capacity", "n_sets", n_sets, 1)
    copies = _count("empirical_capacity", "copies", copies, 1)
    prune_fraction = _fraction("prune_fraction", prune_fraction, low_open=False)
    if not (isinstance(state_spread, numbers.Real) and math.isfinite(state_spread) and state_spread >= 0):
        raise ValueError(f"state_spread must be a finite number >= 0, got {state_spread!r}")
    if state_spread > 0 and isinstance(x0, str):
        raise ValueError("state_spread needs a numeric x0 (a number or an array), got x0='random'")
    natural = _natural_limit(tasks, n_in)
    if p_max is None:
        if natural is None:
            raise ValueError("p_max is required when tasks is a callable")
        p_limit = natural
    else:
        p_limit = _count("empirical_capacity", "p_max", p_max, 1)
        if natural is not None:
            p_limit = min(p_limit, natural)
    workers = check_workers(workers)
    if workers > 1 and callable(tasks):
        try:
            pickle.dumps(tasks)
        except Exception as exc:
            raise ValueError(f"tasks must be picklable (defined at module level) when workers > 1: {exc}") from None
    opts = {"tasks": tasks, "density": density, "copies": copies, "x0": x0, "state_spread": state_spread,
            "variability": variability, "source_resistance": source_resistance, "prune_below": prune_below,
            "prune_fraction": prune_fraction, "controller": controller}
    base = int(np.random.default_rng(seed).integers(2**62))
    ps, succ, pres, rows = _scan(net, base, opts, p_limit, n_sets, threshold, confidence, early_stop, workers,
                                 progress)
    stopped = len(ps) < p_limit
    n = np.full(len(ps), n_sets * copies, dtype=np.int64)
    k_arr = np.array(succ, dtype=np.int64)
    low, high = wilson_interval(k_arr, n, confidence)
    prob = k_arr / n
    ok = np.flatnonzero(prob >= threshold)
    return CapacityResult(
        p=np.array(ps, dtype=np.int64), n_trials=n, successes=k_arr, probability=prob, low=low, high=high,
        capacity=int(ps[ok[-1]]) if ok.size else 0, mean_learnable=float(prob.sum()), threshold=threshold,
        confidence=confidence, p_limit=int(p_limit), stopped_early=stopped, presentations=np.array(pres),
        trials=pd.DataFrame(rows, columns=list(TRIAL_COLUMNS)),
    )


def controller_configurations(
    hardware: Hardware, task: Task | None = None, pulses: Pulses | None = None
) -> list[Segment]:
    """Every terminal configuration the learning-from-mistakes controller may apply to the hardware.

    For each pattern of ``task`` (default: each input alone at level 1): its
    read and its punishment with each output as the wrong winner (each
    output but the target when a task is given), then the normalising pulse;
    each :class:`~memsim.solve.protocol.Segment` carries the pulse voltages
    and duration of ``pulses`` (default :class:`memsim.learning.Pulses`).
    Pass them to :func:`memsim.analysis.controllability.controllability`
    with the hardware's circuit and the states of one copy::

        controllability(hw.circuit, controller_configurations(hw), x=hw.x[0])

    Examples
    --------
    >>> from memsim import Network, VTEAM, layered
    >>> from memsim.learning import build_hardware
    >>> hw = build_hardware(Network.from_graph(layered([2, 4, 2], orientation="backward"), VTEAM()), seed=0)
    >>> [c.label for c in controller_configurations(hw)]
    ['read', 'punish', 'punish', 'read', 'punish', 'punish', 'normalise']
    """
    if not isinstance(hardware, Hardware):
        raise ValueError(f"hardware must be a Hardware (see build_hardware), got {type(hardware).__name__}")
    pulses = Pulses() if pulses is None else pulses
    if not isinstance(pulses, Pulses):
        raise ValueError(f"pulses must be a Pulses, got {type(pulses).__name__}")
    n_in, n_out = len(hardware.inputs), len(hardware.outputs)
    if task is None:
        pats = [(Pattern(tuple(float(i == j) for j in range(n_in)), 0), None) for i in range(n_in)]
    else:
        if not isinstance(task, Task) or task.n_inputs != n_in or task.n_outputs != n_out:
            raise ValueError(f"task must be a Task with {n_in} inputs and {n_out} outputs, got {task!r}")
        pats = [(pt, pt.target) for pt in task.patterns]
    out: list[Segment] = []
    for pt, target in pats:
        out.append(read_segment(hardware, pt, pulses))
        out.extend(punish_segment(hardware, pt, w, pulses) for w in range(n_out) if w != target)
    if pulses.normalise_duration > 0:
        out.append(normalise_segment(hardware, pulses))
    return out
