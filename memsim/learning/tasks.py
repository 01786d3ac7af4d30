"""Pattern sets for the learning-from-mistakes controller.

A :class:`Task` is a tuple of :class:`Pattern` objects. A pattern gives one
drive *level* per input terminal, in ``[0, 1]`` (the fraction of a pulse
amplitude applied to that input; ``0`` means the input is idle), and the index
of the output that must receive the largest current. The tasks follow the
studies the controller reproduces:

- association maps, input ``i`` alone -> output ``f(i)`` (Chialvo & Bak,
  Neuroscience 90, 1137, 1999; Barrows, Lin, Caravelli & Chialvo 2024, whose
  2-4-2 network learns the 2-pattern maps); :func:`all_associations`
  enumerates all ``n_out ** n_in`` maps;
- random pattern sets of size ``p`` (for capacity);
- binary classifiers and perceptron tasks: voltage patterns on several inputs
  at once -> class, including the Boolean functions AND/OR/XOR with a bias
  input that is always driven (so that the all-zero pattern drives something);
- parity of ``n`` bits (Bak & Chialvo, Phys. Rev. E 63, 031912, 2001).

Every random generator takes ``seed`` and normalises it once with
:func:`numpy.random.default_rng`.
"""

from __future__ import annotations

import itertools
import math
import numbers
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

__all__ = [
    "Pattern",
    "Task",
    "association",
    "all_associations",
    "random_patterns",
    "classification",
    "boolean",
    "parity",
    "perceptron",
    "BOOLEAN_FUNCTIONS",
]

Seed = int | np.random.Generator | None

#: Two-input Boolean functions available to :func:`boolean`.
BOOLEAN_FUNCTIONS: dict[str, Callable[[int, int], int]] = {
    "and": lambda a, b: a & b,
    "or": lambda a, b: a | b,
    "xor": lambda a, b: a ^ b,
    "nand": lambda a, b: 1 - (a & b),
    "nor": lambda a, b: 1 - (a | b),
    "xnor": lambda a, b: 1 - (a ^ b),
}


def _count(fn: str, name: str, value: object, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
        raise ValueError(f"{fn}: {name} must be an integer >= {low}, got {value!r}")
    return int(value)


@dataclass(frozen=True)
class Pattern:
    """One input pattern and the output that must win.

    Parameters
    ----------
    levels : tuple of float
        Drive level of each input terminal, in ``[0, 1]`` (1, fraction of the
        pulse amplitude); ``0`` marks an idle input. At least one level is > 0.
    target : int
        Index of the output that must receive the largest current.
    label : str
        Free text (e.g. ``"01"``).

    Examples
    --------
    >>> Pattern((1.0, 0.0), target=1).active
    (0,)
    """

    levels: tuple[float, ...]  # 1, per input, in [0, 1]
    target: int  # output index
    label: str = ""

    def __post_init__(self) -> None:
        levels = tuple(float(v) for v in self.levels)
        if not levels:
            raise ValueError("Pattern.levels must have one level per input, got none")
        if not all(math.isfinite(v) and 0.0 <= v <= 1.0 for v in levels):
            raise ValueError(f"Pattern.levels must be numbers in [0, 1], got {self.levels!r}")
        if not any(v > 0 for v in levels):
            raise ValueError(f"Pattern.levels must drive at least one input (a level > 0), got {self.levels!r}")
        if isinstance(self.target, bool) or not isinstance(self.target, numbers.Integral) or self.target < 0:
            raise ValueError(f"Pattern.target must be an output index >= 0, got {self.target!r}")
        object.__setattr__(self, "levels", levels)
        object.__setattr__(self, "target", int(self.target))

    @property
    def active(self) -> tuple[int, ...]:
        """Indices of the driven (non-idle) inputs."""
        return tuple(i for i, v in enumerate(self.levels) if v > 0)


@dataclass(frozen=True)
class Task:
    """A set of patterns to learn.

    Parameters
    ----------
    name : str
    n_inputs, n_outputs : int
        Terminals the task needs (``n_outputs >= 2``: a one-output network
        cannot be wrong).
    patterns : tuple of Pattern
        Distinct patterns (their levels differ), each with ``n_inputs``
        levels and a target ``< n_outputs``.

    Examples
    --------
    >>> t = association((1, 0))
    >>> len(t), t.targets.tolist()
    (2, [1, 0])
    >>> t.levels
    array([[1., 0.],
           [0., 1.]])
    """

    name: str
    n_inputs: int
    n_outputs: int
    patterns: tuple[Pattern, ...]

    def __post_init__(self) -> None:
        _count("Task", "n_inputs", self.n_inputs, 1)
        _count("Task", "n_outputs", self.n_outputs, 2)
        pats = tuple(self.patterns)
        if not pats:
            raise ValueError("Task.patterns must contain at least one pattern")
        for k, p in enumerate(pats):
            if not isinstance(p, Pattern):
                raise ValueError(f"Task.patterns[{k}] must be a Pattern, got {type(p).__name__}")
            if len(p.levels) != self.n_inputs:
                raise ValueError(f"Task.patterns[{k}] has {len(p.levels)} levels for {self.n_inputs} inputs")
            if p.target >= self.n_outputs:
                raise ValueError(f"Task.patterns[{k}].target = {p.target} but the task has {self.n_outputs} outputs")
        if len({p.levels for p in pats}) != len(pats):
            raise ValueError("Task.patterns must be distinct (two patterns have the same levels)")
        object.__setattr__(self, "patterns", pats)

    def __len__(self) -> int:
        return len(self.patterns)

    @property
    def levels(self) -> np.ndarray:
        """(P, n_inputs) drive levels."""
        return np.array([p.levels for p in self.patterns], dtype=float)

    @property
    def targets(self) -> np.ndarray:
        """(P,) target output indices."""
        return np.array([p.target for p in self.patterns], dtype=np.int64)


def association(mapping: Sequence[int], n_outputs: int | None = None) -> Task:
    """Association map: input ``i`` alone is driven and output ``mapping[i]`` must win.

    Parameters
    ----------
    mapping : sequence of int
        ``mapping[i]`` is the target of the pattern that drives input ``i``.
    n_outputs : int, optional
        Number of outputs (default ``max(2, max(mapping) + 1)``).

    Examples
    --------
    >>> association((0, 1)).name
    'association 0->0 1->1'
    """
    mapping = [int(_count("association", f"mapping[{i}]", m, 0)) for i, m in enumerate(mapping)]
    if not mapping:
        raise ValueError("association: mapping must give a target for at least one input")
    n_out = max(2, max(mapping) + 1) if n_outputs is None else _count("association", "n_outputs", n_outputs, 2)
    if max(mapping) >= n_out:
        raise ValueError(f"association: mapping targets output {max(mapping)} but n_outputs = {n_out}")
    n_in = len(mapping)
    pats = tuple(
        Pattern(tuple(1.0 if j == i else 0.0 for j in range(n_in)), m, label=f"{i}->{m}")
        for i, m in enumerate(mapping)
    )
    name = "association " + " ".join(f"{i}->{m}" for i, m in enumerate(mapping))
    return Task(name, n_in, n_out, pats)


def all_associations(n_inputs: int, n_outputs: int) -> list[Task]:
    """All ``n_outputs ** n_inputs`` association maps, in lexicographic order.

    Examples
    --------
    >>> [t.targets.tolist() for t in all_associations(2, 2)]
    [[0, 0], [0, 1], [1, 0], [1, 1]]
    """
    n_in = _count("all_associations", "n_inputs", n_inputs, 1)
    n_out = _count("all_associations", "n_outputs", n_outputs, 2)
    if n_out**n_in > 1_000_000:
        raise ValueError(f"all_associations: {n_out}**{n_in} maps is too many to enumerate (> 1e6)")
    return [association(m, n_out) for m in itertools.product(range(n_out), repeat=n_in)]


def classification(
    levels: np.ndarray | Sequence[Sequence[float]],
    targets: Sequence[int],
    n_outputs: int | None = None,
    name: str = "classification",
) -> Task:
    """A task from arrays: pattern ``k`` drives the inputs at ``levels[k]`` and belongs to class ``targets[k]``.

    Examples
    --------
    >>> classification([[1, 0, 1], [0, 1, 1]], [0, 1]).n_inputs
    3
    """
    lv = np.asarray(levels, dtype=float)
    tg = np.asarray(targets)
    if lv.ndim != 2 or tg.ndim != 1 or lv.shape[0] != tg.shape[0]:
        raise ValueError(
            f"classification: levels must be (P, n_inputs) and targets (P,), got {lv.shape} and {tg.shape}"
        )
    n_out = max(2, int(tg.max()) + 1) if n_outputs is None else n_outputs
    pats = tuple(
        Pattern(tuple(row), int(t), label="".join(f"{v:g}" for v in row)) for row, t in zip(lv, tg)
    )
    return Task(name, lv.shape[1], n_out, pats)


def _bits(n: int) -> np.ndarray:
    """(2**n, n) all bit patterns, most significant bit first."""
    return np.array(list(itertools.product((0, 1), repeat=n)), dtype=float)


def _with_bias(bits: np.ndarray, bias: bool) -> np.ndarray:
    return np.hstack([bits, np.ones((bits.shape[0], 1))]) if bias else bits


def boolean(function: Literal["and", "or", "xor", "nand", "nor", "xnor"], *, bias: bool = True) -> Task:
    """A two-input Boolean function as a binary classifier (output ``f(a, b)`` must win).

    Inputs 0 and 1 carry the bits ``a`` and ``b`` (level 1 or idle); with
    ``bias=True`` a third input is driven in every pattern, as the bias unit
    of a perceptron, so that the pattern ``(0, 0)`` drives something.

    Examples
    --------
    >>> t = boolean("xor")
    >>> t.levels.tolist(), t.targets.tolist()
    ([[0.0, 0.0, 1.0], [0.0, 1.0, 1.0], [1.0, 0.0, 1.0], [1.0, 1.0, 1.0]], [0, 1, 1, 0])
    """
    if function not in BOOLEAN_FUNCTIONS:
        raise ValueError(f"boolean: function must be one of {sorted(BOOLEAN_FUNCTIONS)}, got {function!r}")
    if not bias:
        raise ValueError("boolean: bias must be True: without a bias input the pattern (0, 0) drives no input")
    bits = _bits(2)
    f = BOOLEAN_FUNCTIONS[function]
    targets = [f(int(a), int(b)) for a, b in bits]
    return classification(_with_bias(bits, bias), targets, 2, name=function.upper())


def parity(n_bits: int, *, bias: bool = True) -> Task:
    """Parity of ``n_bits`` bits: output ``sum(bits) % 2`` must win (``2**n_bits`` patterns).

    Bit ``j`` drives input ``j`` (level 1) or leaves it idle; with ``bias``
    (required for the all-zero pattern) input ``n_bits`` is always driven.

    Examples
    --------
    >>> t = parity(3)
    >>> len(t), t.n_inputs, t.targets.tolist()
    (8, 4, [0, 1, 1, 0, 1, 0, 0, 1])
    """
    n = _count("parity", "n_bits", n_bits, 1)
    if n > 16:
        raise ValueError(f"parity: n_bits must be <= 16 (2**n_bits patterns), got {n}")
    if not bias:
        raise ValueError("parity: bias must be True: without a bias input the all-zero pattern drives no input")
    bits = _bits(n)
    return classification(_with_bias(bits, bias), bits.sum(axis=1).astype(int) % 2, 2, name=f"parity-{n}")


def random_patterns(
    n_inputs: int, n_outputs: int, p: int, *, density: float = 0.5, seed: Seed = None
) -> Task:
    """``p`` distinct random binary patterns with uniformly random targets.

    Each input is active with probability ``density`` (patterns with no
    active input, and repeats, are redrawn).

    Examples
    --------
    >>> t = random_patterns(4, 2, 5, seed=0)
    >>> len(t), t.n_inputs
    (5, 4)
    """
    n_in = _count("random_patterns", "n_inputs", n_inputs, 1)
    n_out = _count("random_patterns", "n_outputs", n_outputs, 2)
    p = _count("random_patterns", "p", p, 1)
    if not (isinstance(density, numbers.Real) and 0.0 < density <= 1.0):
        raise ValueError(f"random_patterns: density must be in (0, 1], got {density!r}")
    if p > 2**n_in - 1:
        raise ValueError(f"random_patterns: p = {p} exceeds the {2**n_in - 1} distinct non-empty patterns of {n_in} inputs")
    rng = np.random.default_rng(seed)
    seen: dict[tuple, None] = {}
    while len(seen) < p:
        row = tuple((rng.random(n_in) < density).astype(float))
        if any(row):
            seen.setdefault(row, None)
    targets = rng.integers(0, n_out, size=p)
    return classification(np.array(list(seen)), targets, n_out, name=f"random-{p}")


def perceptron(n_inputs: int, p: int, *, bias: bool = True, seed: Seed = None) -> Task:
    """A perceptron task: ``p`` analogue voltage patterns classified by a random teacher hyperplane.

    Levels are uniform in ``[0, 1)`` on ``n_inputs`` inputs (plus a bias input
    at level 1); the class is ``1`` where ``w . (levels - 1/2) > 0`` for a
    teacher ``w`` with standard-normal components, ``0`` elsewhere. Both
    classes are present whenever ``p >= 2`` (the teacher is redrawn otherwise).

    Examples
    --------
    >>> t = perceptron(3, 6, seed=1)
    >>> t.n_inputs, len(t), sorted(set(t.targets.tolist()))
    (4, 6, [0, 1])
    """
    n_in = _count("perceptron", "n_inputs", n_inputs, 1)
    p = _count("perceptron", "p", p, 1)
    rng = np.random.default_rng(seed)
    levels = rng.random((p, n_in))
    levels[levels == 0.0] = 0.5  # a level of exactly 0 would mean "idle"; measure-zero event
    for _ in range(100):
        w = rng.standard_normal(n_in)
        cls = ((levels - 0.5) @ w > 0).astype(int)
        if p < 2 or 0 < cls.sum() < p:
            break
    else:  # pragma: no cover - needs 100 one-sided teachers in a row
        raise ValueError("perceptron: could not draw a teacher that splits the patterns; use more patterns")
    if not bias and not np.all(levels.max(axis=1) > 0):  # pragma: no cover - levels are > 0
        raise ValueError("perceptron: a pattern drives no input")
    return classification(_with_bias(levels, bias), cls, 2, name=f"perceptron-{n_in}x{p}")
