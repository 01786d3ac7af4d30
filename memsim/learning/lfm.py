"""Learning from mistakes: the controller, its state, one pure step, and training.

The controller (Chialvo & Bak 1999; Carbajal, Martin & Chialvo 2022;
Barrows, Lin, Caravelli & Chialvo 2024) only acts through terminals:

1. present a pattern = a read protocol (:func:`~memsim.learning.inhibition.read_segment`);
   the answer is the output receiving the largest current;
2. correct answer: nothing;
3. mistake: punish (reverse pulse with only the wrong winner grounded), then
   normalise (forward pulse on all inputs, all outputs grounded).

Pruning is a hardware rule (:class:`~memsim.learning.hardware.Hardware`),
structural pruning a step before training
(:func:`~memsim.learning.pruning.prune_edges`).

State and step. :class:`ControllerState` holds everything the controller
knows (era, position in the era, this era's pattern order, mistake counters,
which copies are done); :func:`step` is a pure function
``(state, hardware) -> (state', hardware', records)`` that presents one
pattern to every copy still training. Copies that need the same protocol
configuration share one :func:`memsim.simulate` call (reads grouped by
pattern, punishments by pattern and wrong winner, one normalisation for all
mistaken copies). :func:`train` loops over eras until every copy has had
``stop_after`` consecutive error-free eras, or ``max_eras``; where it applies
it runs each era in one compiled call (:mod:`memsim.learning.compiled`,
the same decisions as the loop of :func:`step` calls, which stays its twin).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import cached_property

import numpy as np

from memsim.learning import compiled as cl
from memsim.learning.config import Controller, Order
from memsim.learning.hardware import Hardware, _freeze
from memsim.learning.inhibition import (
    decide,
    normalise_segment,
    output_currents,
    punish_segment,
    read_segment,
)
from memsim.learning.tasks import Task

__all__ = ["Controller", "ControllerState", "StepRecords", "Training", "initial_state", "step", "train"]

@dataclass(frozen=True, eq=False)
class ControllerState:
    """What the controller knows about K copies (immutable; arrays read-only).

    Attributes
    ----------
    era : int, the current era (0-based).
    position : int, the next slot of the era.
    order : (K, P) pattern order of this era per copy.
    era_mistakes : (K,) mistakes so far in this era.
    streak : (K,) consecutive error-free eras completed.
    done : (K,) bool, copies that met the stop criterion.
    presentations : (K,) patterns presented so far.
    mistakes : (K,) mistakes so far.
    last_mistake : (K,) presentation count at the last mistake (0 if none).
    learned_era : (K,) first era of the final error-free streak, -1 if not learned.
    seed : int, base of the seeds of shuffled orders.
    """

    era: int
    position: int
    order: np.ndarray
    era_mistakes: np.ndarray
    streak: np.ndarray
    done: np.ndarray
    presentations: np.ndarray
    mistakes: np.ndarray
    last_mistake: np.ndarray
    learned_era: np.ndarray
    seed: int

    def __post_init__(self) -> None:
        _freeze(self, ("order", "era_mistakes", "streak", "done", "presentations", "mistakes", "last_mistake",
                       "learned_era"))

    @property
    def n_copies(self) -> int:
        return int(self.done.shape[0])


def _era_order(order: Order, n_copies: int, n_patterns: int, seed: int, era: int) -> np.ndarray:
    base = np.tile(np.arange(n_patterns), (n_copies, 1))
    if order == "alternating":
        return base
    rng = np.random.default_rng(np.random.SeedSequence([seed, era]))
    return rng.permuted(base, axis=1)


def initial_state(task: Task, n_copies: int, controller: Controller = Controller(), *, seed: int = 0) -> ControllerState:
    """The state before the first presentation.

    Examples
    --------
    >>> from memsim.learning.tasks import association
    >>> s = initial_state(association((0, 1)), 3)
    >>> s.era, s.position, s.order.tolist()
    (0, 0, [[0, 1], [0, 1], [0, 1]])
    """
    seed = int(np.random.default_rng(seed).integers(2**62))
    z = np.zeros(n_copies, dtype=np.int64)
    return ControllerState(
        era=0, position=0, order=_era_order(controller.order, n_copies, len(task), seed, 0),
        era_mistakes=z, streak=z, done=np.zeros(n_copies, dtype=bool), presentations=z, mistakes=z,
        last_mistake=z, learned_era=np.full(n_copies, -1, dtype=np.int64), seed=seed,
    )


@dataclass(frozen=True, eq=False)
class StepRecords:
    """What happened in one :func:`step` to the copies that were presented a pattern.

    Attributes
    ----------
    copy, pattern, target, answer, wrong : (n,) int arrays.
    correct : (n,) bool.
    currents : (n, n_outputs) received output currents (A).
    margin : (n,) target current minus the strongest other (A).
    read_energy, punish_energy : (n,) energy dissipated in the read and in
        the punishment plus normalisation (J).
    era, slot : int.
    """

    era: int
    slot: int
    copy: np.ndarray
    pattern: np.ndarray
    target: np.ndarray
    answer: np.ndarray
    correct: np.ndarray
    wrong: np.ndarray
    currents: np.ndarray
    margin: np.ndarray
    read_energy: np.ndarray
    punish_energy: np.ndarray
    era_end: bool = False


def step(
    state: ControllerState, hardware: Hardware, task: Task, controller: Controller = Controller()
) -> tuple[ControllerState, Hardware, StepRecords]:
    """Present the next pattern of the era to every copy still training (a pure update).

    Neither ``state`` nor ``hardware`` is modified; the new hardware comes
    from :meth:`Hardware.run` (hence from ``simulate``) only.

    Returns
    -------
    (ControllerState, Hardware, StepRecords)

    Examples
    --------
    >>> from memsim import Network, layered, VTEAM
    >>> from memsim.learning.hardware import build_hardware
    >>> from memsim.learning.tasks import association
    >>> task = association((0, 1))
    >>> hw = build_hardware(Network.from_graph(layered([2, 4, 2], orientation="backward"), VTEAM()),
    ...                     n_copies=2, seed=3)
    >>> s0 = initial_state(task, 2)
    >>> s1, hw1, rec = step(s0, hw, task)
    >>> s1.position, rec.copy.tolist(), s0.position
    (1, [0, 1], 0)
    """
    if hardware.n_copies != state.n_copies:
        raise ValueError(f"hardware has {hardware.n_copies} copies but the state {state.n_copies}")
    if len(hardware.inputs) != task.n_inputs or len(hardware.outputs) != task.n_outputs:
        raise ValueError(
            f"task needs {task.n_inputs} inputs and {task.n_outputs} outputs; the hardware has "
            f"{len(hardware.inputs)} and {len(hardware.outputs)}"
        )
    pulses = controller.pulses
    n_out = task.n_outputs
    active = np.flatnonzero(~state.done)
    pidx = state.order[active, state.position] if active.size else np.zeros(0, dtype=np.int64)
    targets = task.targets[pidx]
    currents = np.zeros((active.size, n_out))
    read_e = np.zeros(active.size)
    pun_e = np.zeros(active.size)
    hw = hardware
    integration = dict(method=pulses.method, rtol=pulses.rtol, atol=pulses.atol)
    # the adaptive method integrates the energy along its steps: no power samples needed, and no
    # samples at all but the first and the last (record_every past the pulse's dt grid)
    energy_only = () if pulses.method == "adaptive" else ("power",)
    if pulses.method == "adaptive":
        integration["record_every"] = 2**62
    # 1. read, one simulate call per pattern
    for p in np.unique(pidx):
        rows = np.flatnonzero(pidx == p)
        hw, res = hw.run(read_segment(hw, task.patterns[p], pulses), copies=active[rows], dt=pulses.dt,
                         **integration)
        currents[rows] = output_currents(res, hw)
        read_e[rows] = res.energy()
    dec = decide(currents, targets, pulses.resolution)
    # 2. punish, one call per (pattern, wrong winner); 3. normalise, one call
    bad = np.flatnonzero(~dec.correct)
    for p, w in sorted({(int(pidx[r]), int(dec.wrong[r])) for r in bad}):
        rows = bad[(pidx[bad] == p) & (dec.wrong[bad] == w)]
        hw, res = hw.run(punish_segment(hw, task.patterns[p], w, pulses), copies=active[rows], dt=pulses.dt,
                         record=energy_only, **integration)
        pun_e[rows] += res.energy()
    if bad.size and pulses.normalise_duration > 0:
        hw, res = hw.run(normalise_segment(hw, pulses), copies=active[bad], dt=pulses.dt, record=energy_only,
                         **integration)
        pun_e[bad] += res.energy()
    new, records = _advance(state, task, controller, active, pidx, dec.answer, dec.wrong, currents, dec.margin,
                            read_e, pun_e)
    return new, hw, records


def _advance(state: ControllerState, task: Task, controller: Controller, active: np.ndarray, pidx: np.ndarray,
             answer: np.ndarray, wrong: np.ndarray, currents: np.ndarray, margin: np.ndarray, read_e: np.ndarray,
             pun_e: np.ndarray) -> tuple[ControllerState, StepRecords]:
    """The controller's bookkeeping after one slot (shared by :func:`step` and the compiled loop)."""
    targets = task.targets[pidx]
    correct = answer == targets
    bad = np.flatnonzero(~correct)
    presentations = state.presentations.copy()
    presentations[active] += 1
    mistakes = state.mistakes.copy()
    mistakes[active[bad]] += 1
    last_mistake = state.last_mistake.copy()
    last_mistake[active[bad]] = presentations[active[bad]]
    era_mistakes = state.era_mistakes.copy()
    era_mistakes[active[bad]] += 1
    records = StepRecords(state.era, state.position, active, pidx, targets, answer, correct, wrong,
                          currents, margin, read_e, pun_e)
    new = replace(state, position=state.position + 1, presentations=presentations, mistakes=mistakes,
                  last_mistake=last_mistake, era_mistakes=era_mistakes)
    if new.position == len(task):
        new = _end_era(new, task, controller)
        records = replace(records, era_end=True)
    return new, records


def _end_era(state: ControllerState, task: Task, controller: Controller) -> ControllerState:
    running = ~state.done
    clean = running & (state.era_mistakes == 0)
    streak = np.where(clean, state.streak + 1, np.where(running, 0, state.streak))
    newly = running & (streak >= controller.stop_after)
    learned_era = np.where(newly, state.era - controller.stop_after + 1, state.learned_era)
    era = state.era + 1
    return replace(
        state, era=era, position=0, order=_era_order(controller.order, state.n_copies, len(task), state.seed, era),
        era_mistakes=np.zeros_like(state.era_mistakes), streak=streak, done=state.done | newly,
        learned_era=learned_era,
    )


@dataclass(frozen=True, eq=False)
class Training:
    """Outcome of :func:`train`.

    Attributes
    ----------
    presentations : pandas.DataFrame
        One row per presentation: ``copy, era, slot, n, pattern, target,
        answer, correct, margin, read_energy, punish_energy`` and the received
        current of every output ``i_out_0, i_out_1, ...`` (A; energies in J).
        Built on first access from :attr:`steps` (:meth:`columns` gives the
        same columns as NumPy arrays without importing pandas).
    eras : pandas.DataFrame
        One row per copy and era it trained in: ``copy, era, mistakes,
        pruned, open_edges`` (devices opened by the threshold rule during
        the era, and all open network edges at its end, structural included).
    snapshots : dict era -> (K, n_devices) conductances (S) at the end of
        that era (``-1``: before training); every ``snapshot_every`` eras.
        These are the experimenter's records (read from the hardware by the
        observer); the controller never sees them.
    state : ControllerState, the final controller state.
    hardware : Hardware, the final hardware.
    steps : tuple of StepRecords, what every :func:`step` returned.
    era_rows : tuple of tuple, the rows of :attr:`eras`.
    n_outputs : int
    """

    steps: tuple = field(repr=False)
    era_rows: tuple = field(repr=False)
    snapshots: dict = field(repr=False)
    state: ControllerState = field(repr=False)
    hardware: Hardware = field(repr=False)
    n_outputs: int = 2

    def columns(self) -> dict[str, np.ndarray]:
        """The columns of :attr:`presentations` as NumPy arrays (name -> (n,) array)."""
        return _presentation_columns(self.steps, self.n_outputs)

    @cached_property
    def presentations(self):
        import pandas as pd

        cols = self.columns()
        return pd.DataFrame(cols, columns=list(cols))

    @cached_property
    def eras(self):
        import pandas as pd

        return pd.DataFrame(list(self.era_rows), columns=list(ERA_COLUMNS))

    @property
    def learned(self) -> np.ndarray:
        """(K,) bool: the copy met the stop criterion."""
        return np.asarray(self.state.done)

    @property
    def success_rate(self) -> float:
        """Fraction of copies that learned."""
        return float(self.learned.mean())

    @property
    def presentations_to_learn(self) -> np.ndarray:
        """(K,) presentations up to and including the last mistake (NaN where not learned)."""
        return np.where(self.learned, self.state.last_mistake, np.nan)

    @property
    def mistakes(self) -> np.ndarray:
        """(K,) number of mistakes (punishments)."""
        return np.asarray(self.state.mistakes)

    def __repr__(self) -> str:
        k = self.state.n_copies
        ptl = self.presentations_to_learn
        mean = f"{np.nanmean(ptl):.1f}" if np.any(self.learned) else "n/a"
        n = sum(r.copy.size for r in self.steps)
        return (f"Training({k} copies: {int(self.learned.sum())} learned, mean presentations to learn {mean}, "
                f"{n} presentations recorded)")


def train(
    hardware: Hardware,
    task: Task,
    controller: Controller = Controller(),
    *,
    seed: int = 0,
    progress: bool = False,
    compiled: bool | None = None,
) -> Training:
    """Train every copy of the hardware on a task until it learns or the era cap.

    Parameters
    ----------
    hardware : Hardware
        K copies (:func:`~memsim.learning.hardware.build_hardware`).
    task : Task
    controller : Controller
    seed : int
        Seeds the shuffled pattern orders (the hardware carries its own seed).
    progress : bool
        Show a tqdm progress bar over eras.
    compiled : bool, optional
        Run each era in one compiled kernel call
        (:mod:`memsim.learning.compiled`: the same decisions as repeated
        :func:`step` calls, 1.7-2.3x less time on small networks). Default: where
        it applies (adaptive method, no cycle-to-cycle noise, dense-sized
        networks); ``True`` raises ValueError where it does not, ``False``
        keeps the Python loop of :func:`step` calls.

    Returns
    -------
    Training

    Examples
    --------
    >>> from memsim import Network, layered, VTEAM
    >>> from memsim.learning.hardware import build_hardware
    >>> from memsim.learning.tasks import association
    >>> hw = build_hardware(Network.from_graph(layered([2, 4, 2], orientation="backward"), VTEAM()),
    ...                     n_copies=4, seed=0)
    >>> out = train(hw, association((0, 1)), Controller(max_eras=30))
    >>> out.success_rate
    1.0
    """
    if not isinstance(hardware, Hardware):
        raise ValueError(f"hardware must be a Hardware (see build_hardware), got {type(hardware).__name__}")
    if not isinstance(task, Task):
        raise ValueError(f"task must be a memsim.learning Task, got {type(task).__name__}")
    if not isinstance(controller, Controller):
        raise ValueError(f"controller must be a Controller, got {type(controller).__name__}")
    if compiled not in (None, True, False):
        raise ValueError(f"compiled must be True, False or None, got {compiled!r}")
    state = initial_state(task, hardware.n_copies, controller, seed=seed)
    hw = hardware
    packed = None
    if compiled is not False:
        packed = cl.configurations(hardware, task, controller)
        why = cl.unsupported(hardware, controller, packed)
        if why is not None:
            if compiled:
                raise ValueError(f"compiled=True: the compiled loop does not apply: {why}")
            packed = None
    rows: list[StepRecords] = []
    era_rows: list[tuple] = []
    snapshots = {-1: hw.conductances()}
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=controller.max_eras, unit="era", desc="train")
    while state.era < controller.max_eras and not state.done.all():
        running = np.flatnonzero(~state.done)
        era = state.era
        open_before = hw.open_edges[:, : hw.n_devices].sum(axis=1)
        if packed is not None:
            state, hw, recs = _compiled_era(state, hw, task, controller, packed)
            rows.extend(recs)
        else:
            state, hw, rec = step(state, hw, task, controller)
            rows.append(rec)
            while not rec.era_end:
                state, hw, rec = step(state, hw, task, controller)
                rows.append(rec)
        era_m = _era_mistakes(rows, era, hardware.n_copies)
        n_open = hw.open_edges[:, : hw.n_devices].sum(axis=1)
        era_rows.extend((int(c), era, int(era_m[c]), int(n_open[c] - open_before[c]), int(n_open[c])) for c in running)
        if (era + 1) % controller.snapshot_every == 0:
            snapshots[era] = hw.conductances()
        if bar is not None:
            bar.update(1)
            bar.set_postfix(learned=f"{int(state.done.sum())}/{state.n_copies}")
    if bar is not None:
        bar.total = bar.n  # stopped early: the bar ends full
        bar.refresh()
        bar.close()
    snapshots[state.era - 1] = hw.conductances()
    return Training(tuple(rows), tuple(era_rows), snapshots, state, hw, task.n_outputs)


def _compiled_era(state: ControllerState, hw: Hardware, task: Task, controller: Controller,
                  packed: cl.Configurations) -> tuple[ControllerState, Hardware, list[StepRecords]]:
    """The rest of the current era in one :func:`memsim.learning.compiled.run_slots` call.

    The same state, hardware (``runs`` counted as :func:`step` would call
    :meth:`Hardware.run`) and records as :func:`step` repeated to the era's end.
    """
    pulses = controller.pulses
    n_p = len(task)
    lo = state.position
    out = cl.present(hw, packed, state.order, ~state.done, controller, slots=(lo, n_p))
    answer, wrong, currents, margin, read_e, pun_e = (out.answer, out.wrong, out.currents, out.margin, out.read_energy,
                                                      out.punish_energy)
    runs = hw.runs
    rows = []
    active = np.flatnonzero(~state.done)
    for s in range(lo, n_p):
        pidx = state.order[active, s]
        w = wrong[active, s]
        bad = w >= 0
        runs += np.unique(pidx).size + len(set(zip(pidx[bad].tolist(), w[bad].tolist())))
        runs += int(bool(bad.any()) and pulses.normalise_duration > 0)
        state, rec = _advance(state, task, controller, active, pidx, answer[active, s], w, currents[active, s],
                              margin[active, s], read_e[active, s], pun_e[active, s])
        rows.append(rec)
    return state, replace(hw, x=out.x, open_edges=out.open_edges, runs=runs), rows


def _era_mistakes(rows: list[StepRecords], era: int, k: int) -> np.ndarray:
    out = np.zeros(k, dtype=np.int64)
    for r in rows[::-1]:
        if r.era != era:
            break
        np.add.at(out, r.copy[~r.correct], 1)
    return out


#: Columns of :attr:`Training.eras`.
ERA_COLUMNS = ("copy", "era", "mistakes", "pruned", "open_edges")
_INT_COLUMNS = ("copy", "era", "slot", "n", "pattern", "target", "answer")


def _presentation_columns(rows, n_out: int) -> dict[str, np.ndarray]:
    names = ["copy", "era", "slot", "n", "pattern", "target", "answer", "correct", "margin", "read_energy",
             "punish_energy"] + [f"i_out_{j}" for j in range(n_out)]
    rows = [r for r in rows if r.copy.size]
    if not rows:
        return {n: np.zeros(0, dtype=np.int64 if n in _INT_COLUMNS else bool if n == "correct" else float)
                for n in names}

    def cat(name):
        return np.concatenate([getattr(r, name) for r in rows])

    copy = cat("copy")
    # n: the copy's running count of presentations (rows are in presentation order)
    order = np.argsort(copy, kind="stable")
    sc = copy[order]
    start = np.flatnonzero(np.r_[True, sc[1:] != sc[:-1]])
    first = np.repeat(start, np.diff(np.r_[start, sc.size]))
    n = np.empty(copy.size, dtype=np.int64)
    n[order] = np.arange(sc.size) - first + 1
    d = {"copy": copy, "era": np.concatenate([np.full(r.copy.size, r.era) for r in rows]),
         "slot": np.concatenate([np.full(r.copy.size, r.slot) for r in rows]), "n": n}
    d.update({name: cat(name) for name in ("pattern", "target", "answer", "correct", "margin", "read_energy",
                                           "punish_energy")})
    cur = np.concatenate([r.currents for r in rows])
    d.update({f"i_out_{j}": cur[:, j] for j in range(n_out)})
    return d
