"""Parameter spaces: grids, random draws and explicit lists of points.

A *point* is a dict of plain values (strings, numbers, booleans, ``None``,
lists and nested dicts of these) that a point function receives. A space is
an ordered, finite sequence of points:

- :class:`Grid`: the cartesian product of axes. A list (or tuple) value is an
  axis; any other value is fixed. A parameter whose value is itself a list
  (such as layer ``sizes``) is given as a list of lists:
  ``{"sizes": [[2, 4, 2], [2, 8, 2]]}``. The last axis varies fastest.
- :class:`RandomSpace`: ``n`` points drawn from distributions
  (:class:`Uniform`, :class:`LogUniform`, :class:`Integers`,
  :class:`Choice`) with a seed. Point ``i`` is drawn with its own generator
  ``numpy.random.default_rng([seed, i])``, so enlarging ``n`` keeps the
  first points unchanged (a larger sweep reuses the stored results of a
  smaller one).
- :class:`ListSpace`: explicit points.
- :class:`Chain`: spaces one after the other (also ``space_a + space_b``).

:func:`space_from_dict` builds any of them from the tables of a TOML sweep
file.
"""

from __future__ import annotations

import itertools
import math
import numbers
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = [
    "Space",
    "Grid",
    "RandomSpace",
    "ListSpace",
    "Chain",
    "Uniform",
    "LogUniform",
    "Integers",
    "Choice",
    "plain",
    "space_from_dict",
]


def plain(value: Any, where: str = "value") -> Any:
    """``value`` as plain JSON-like data (tuples -> lists, NumPy scalars -> Python).

    Raises
    ------
    ValueError
        If the value holds anything else (an object, a non-finite float, a
        non-string dict key), naming ``where``.

    Examples
    --------
    >>> plain({"sizes": (2, np.int64(4), 2), "p": np.float64(0.5)})
    {'sizes': [2, 4, 2], 'p': 0.5}
    """
    if value is None or isinstance(value, (str, bool)):
        return value
    if isinstance(value, np.generic) or (isinstance(value, np.ndarray) and value.ndim == 0):
        return plain(value.item(), where)
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        if not math.isfinite(value):
            raise ValueError(f"{where} must be finite, got {value!r}")
        return float(value)
    if isinstance(value, (list, tuple, np.ndarray)):
        return [plain(v, f"{where}[{k}]") for k, v in enumerate(list(value))]
    if isinstance(value, Mapping):
        out = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise ValueError(f"{where}: keys must be strings, got {k!r}")
            out[k] = plain(v, f"{where}.{k}")
        return out
    raise ValueError(
        f"{where} must be a plain value (str, number, bool, None, list or dict), got {type(value).__name__}"
    )


def _name(key: Any, where: str) -> str:
    if not isinstance(key, str) or not key:
        raise ValueError(f"{where}: parameter names must be non-empty strings, got {key!r}")
    return key


class Space:
    """Base class: an ordered, finite sequence of points (dicts)."""

    def points(self) -> list[dict]:  # pragma: no cover - abstract
        """All points, in order (new dicts on each call)."""
        raise NotImplementedError

    def __iter__(self) -> Iterator[dict]:
        return iter(self.points())

    def __len__(self) -> int:
        return len(self.points())

    def __add__(self, other: Space) -> Chain:
        if not isinstance(other, Space):
            return NotImplemented
        return Chain((self, other))


@dataclass(frozen=True)
class Grid(Space):
    """Cartesian product of axes (a list or tuple value is an axis, anything else fixed).

    Examples
    --------
    >>> g = Grid({"topology": "layered", "sizes": [[2, 4, 2], [2, 8, 2]], "seed": [0, 1]})
    >>> len(g)
    4
    >>> g.points()[1]
    {'topology': 'layered', 'sizes': [2, 4, 2], 'seed': 1}
    """

    axes: Mapping[str, Any]

    def __post_init__(self) -> None:
        if not isinstance(self.axes, Mapping):
            raise ValueError(f"Grid.axes must be a mapping of parameter -> values, got {self.axes!r}")
        axes = {}
        for key, values in self.axes.items():
            where = f"Grid.axes.{_name(key, 'Grid.axes')}"
            if isinstance(values, (list, tuple)):
                if not values:
                    raise ValueError(f"{where} is an empty list: an axis needs at least one value")
                axes[key] = [plain(v, f"{where}[{k}]") for k, v in enumerate(values)]
            else:
                axes[key] = [plain(values, where)]
        object.__setattr__(self, "axes", axes)

    def points(self) -> list[dict]:
        keys = list(self.axes)
        return [dict(zip(keys, combo)) for combo in itertools.product(*self.axes.values())]

    def __len__(self) -> int:
        return math.prod(len(v) for v in self.axes.values())


# --------------------------------------------------------------------------- distributions
def _number(owner: str, name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise ValueError(f"{owner}.{name} must be a finite number, got {value!r}")
    return float(value)


@dataclass(frozen=True)
class Uniform:
    """Uniform on ``[low, high)``.

    Examples
    --------
    >>> Uniform(0.0, 2.0).draw(np.random.default_rng(0)) < 2.0
    True
    """

    low: float
    high: float

    def __post_init__(self) -> None:
        lo, hi = _number("Uniform", "low", self.low), _number("Uniform", "high", self.high)
        if not lo < hi:
            raise ValueError(f"Uniform: low ({lo!r}) must be < high ({hi!r})")

    def draw(self, rng: np.random.Generator) -> float:
        return float(rng.uniform(self.low, self.high))


@dataclass(frozen=True)
class LogUniform:
    """Log-uniform on ``[low, high)``, ``0 < low < high``.

    Examples
    --------
    >>> 1e-3 <= LogUniform(1e-3, 1.0).draw(np.random.default_rng(0)) < 1.0
    True
    """

    low: float
    high: float

    def __post_init__(self) -> None:
        lo, hi = _number("LogUniform", "low", self.low), _number("LogUniform", "high", self.high)
        if not 0 < lo < hi:
            raise ValueError(f"LogUniform: needs 0 < low < high, got low={lo!r}, high={hi!r}")

    def draw(self, rng: np.random.Generator) -> float:
        return float(math.exp(rng.uniform(math.log(self.low), math.log(self.high))))


@dataclass(frozen=True)
class Integers:
    """Uniform integers in ``[low, high]`` (both ends included).

    Examples
    --------
    >>> Integers(3, 3).draw(np.random.default_rng(0))
    3
    """

    low: int
    high: int

    def __post_init__(self) -> None:
        for name in ("low", "high"):
            val = getattr(self, name)
            if isinstance(val, bool) or not isinstance(val, numbers.Integral):
                raise ValueError(f"Integers.{name} must be an integer, got {val!r}")
        if not self.low <= self.high:
            raise ValueError(f"Integers: low ({self.low!r}) must be <= high ({self.high!r})")

    def draw(self, rng: np.random.Generator) -> int:
        return int(rng.integers(self.low, self.high, endpoint=True))


@dataclass(frozen=True)
class Choice:
    """One of ``values``, each with equal probability.

    Examples
    --------
    >>> Choice(["HP_TIO2", "KNOWM_GMS"]).draw(np.random.default_rng(0)) in ("HP_TIO2", "KNOWM_GMS")
    True
    """

    values: Sequence[Any]

    def __post_init__(self) -> None:
        if isinstance(self.values, (str, bytes)) or not isinstance(self.values, Sequence) or not self.values:
            raise ValueError(f"Choice.values must be a non-empty list, got {self.values!r}")
        object.__setattr__(self, "values", tuple(plain(v, f"Choice.values[{k}]") for k, v in enumerate(self.values)))

    def draw(self, rng: np.random.Generator) -> Any:
        return self.values[int(rng.integers(len(self.values)))]


Distribution = Uniform | LogUniform | Integers | Choice
_DISTRIBUTIONS: dict[str, type] = {"uniform": Uniform, "loguniform": LogUniform, "integers": Integers,
                                   "choice": Choice}


def _distribution(spec: Any, where: str) -> Any:
    """A distribution from ``{"uniform": [lo, hi]}``-style tables; other values are fixed."""
    if isinstance(spec, (Uniform, LogUniform, Integers, Choice)):
        return spec
    if isinstance(spec, (list, tuple)):
        raise ValueError(
            f"{where}: a list is ambiguous in a random space; write {{choice = [...]}} to draw one of "
            "the values, or {choice = [[...]]} to fix a list-valued parameter"
        )
    if isinstance(spec, Mapping) and len(spec) == 1 and next(iter(spec)) in _DISTRIBUTIONS:
        kind, args = next(iter(spec.items()))
        if kind == "choice":
            try:
                return Choice(args)
            except ValueError as exc:
                raise ValueError(f"{where}: {exc}") from None
        if not isinstance(args, (list, tuple)) or len(args) != 2:
            raise ValueError(f"{where}: {kind} needs [low, high], got {args!r}")
        try:
            return _DISTRIBUTIONS[kind](*args)
        except ValueError as exc:
            raise ValueError(f"{where}: {exc}") from None
    return plain(spec, where)


@dataclass(frozen=True)
class RandomSpace(Space):
    """``n`` points drawn with ``seed`` (point ``i`` from ``default_rng([seed, i])``).

    Parameters
    ----------
    n : int
        Number of points (>= 1).
    axes : mapping
        Parameter -> distribution (:class:`Uniform`, :class:`LogUniform`,
        :class:`Integers`, :class:`Choice`, or the same as a one-key dict
        ``{"uniform": [low, high]}``, ``{"loguniform": [low, high]}``,
        ``{"integers": [low, high]}``, ``{"choice": [v1, v2, ...]}``); any
        other value (not a list) is fixed.
    seed : int
        Seed of the draws (an integer >= 0; required, so the space is reproducible).

    Examples
    --------
    >>> s = RandomSpace(3, {"p": Uniform(0.1, 0.5), "n": {"integers": [8, 16]}, "topology": "erdos_renyi"}, seed=1)
    >>> [sorted(pt) for pt in s][0]
    ['n', 'p', 'topology']
    >>> RandomSpace(5, {"p": Uniform(0, 1)}, seed=1).points()[:3] == RandomSpace(3, {"p": Uniform(0, 1)}, seed=1).points()
    True
    """

    n: int
    axes: Mapping[str, Any]
    seed: int

    def __post_init__(self) -> None:
        if isinstance(self.n, bool) or not isinstance(self.n, numbers.Integral) or self.n < 1:
            raise ValueError(f"RandomSpace.n must be an integer >= 1, got {self.n!r}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, numbers.Integral) or self.seed < 0:
            raise ValueError(f"RandomSpace.seed must be an integer >= 0, got {self.seed!r}")
        if not isinstance(self.axes, Mapping):
            raise ValueError(f"RandomSpace.axes must be a mapping of parameter -> distribution, got {self.axes!r}")
        axes = {_name(k, "RandomSpace.axes"): _distribution(v, f"RandomSpace.axes.{k}") for k, v in self.axes.items()}
        object.__setattr__(self, "axes", axes)
        object.__setattr__(self, "n", int(self.n))

    def points(self) -> list[dict]:
        out = []
        for i in range(self.n):
            rng = np.random.default_rng([int(self.seed), i])
            out.append({k: (plain(d.draw(rng)) if hasattr(d, "draw") else d) for k, d in self.axes.items()})
        return out

    def __len__(self) -> int:
        return self.n


@dataclass(frozen=True)
class ListSpace(Space):
    """Explicit points, in the order given.

    Examples
    --------
    >>> ListSpace([{"topology": "crossbar", "rows": 2, "cols": 2}]).points()
    [{'topology': 'crossbar', 'rows': 2, 'cols': 2}]
    """

    items: Sequence[Mapping[str, Any]]

    def __post_init__(self) -> None:
        if isinstance(self.items, (str, bytes, Mapping)) or not isinstance(self.items, Sequence):
            raise ValueError(f"ListSpace.items must be a list of points (dicts), got {self.items!r}")
        pts = []
        for k, pt in enumerate(self.items):
            if not isinstance(pt, Mapping):
                raise ValueError(f"ListSpace.items[{k}] must be a dict of parameters, got {pt!r}")
            for key in pt:
                _name(key, f"ListSpace.items[{k}]")
            pts.append(plain(pt, f"ListSpace.items[{k}]"))
        object.__setattr__(self, "items", tuple(pts))

    def points(self) -> list[dict]:
        return [dict(pt) for pt in self.items]

    def __len__(self) -> int:
        return len(self.items)


@dataclass(frozen=True)
class Chain(Space):
    """Several spaces one after the other.

    Examples
    --------
    >>> len(Grid({"a": [1, 2]}) + ListSpace([{"a": 3}]))
    3
    """

    spaces: Sequence[Space] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        for k, s in enumerate(self.spaces):
            if not isinstance(s, Space):
                raise ValueError(f"Chain.spaces[{k}] must be a Space, got {s!r}")
        object.__setattr__(self, "spaces", tuple(self.spaces))

    def points(self) -> list[dict]:
        return [pt for s in self.spaces for pt in s.points()]

    def __len__(self) -> int:
        return sum(len(s) for s in self.spaces)


# --------------------------------------------------------------------------- from TOML tables
_KEYS = {"grid": {"kind", "axes"}, "random": {"kind", "n", "seed", "axes"}, "list": {"kind", "points"}}


def space_from_dict(data: Mapping | Sequence[Mapping], where: str = "space") -> Space:
    """A space from a TOML table (or an array of tables, chained).

    Tables: ``{kind = "grid", axes = {...}}``, ``{kind = "random", n = N,
    seed = S, axes = {...}}`` or ``{kind = "list", points = [{...}, ...]}``.

    Raises
    ------
    ValueError
        One line naming the bad field, e.g. ``space[1].kind``.

    Examples
    --------
    >>> s = space_from_dict([{"kind": "grid", "axes": {"a": [1, 2]}},
    ...                      {"kind": "random", "n": 2, "seed": 0, "axes": {"a": {"uniform": [0, 1]}}}])
    >>> len(s)
    4
    >>> space_from_dict({"kind": "cube"})
    Traceback (most recent call last):
    ...
    ValueError: space.kind must be one of 'grid', 'random', 'list', got 'cube'
    """
    if isinstance(data, Sequence) and not isinstance(data, (str, bytes)):
        if not data:
            raise ValueError(f"{where} is empty: give at least one space table")
        return Chain(tuple(space_from_dict(d, f"{where}[{k}]") for k, d in enumerate(data)))
    if not isinstance(data, Mapping):
        raise ValueError(f"{where} must be a table, got {data!r}")
    kind = data.get("kind")
    if not isinstance(kind, str) or kind not in _KEYS:
        raise ValueError(f"{where}.kind must be one of 'grid', 'random', 'list', got {kind!r}")
    extra = sorted(set(data) - _KEYS[kind])
    if extra:
        raise ValueError(f"{where}: unknown key(s) {extra} for a {kind} space (allowed: {sorted(_KEYS[kind])})")
    missing = sorted(_KEYS[kind] - set(data))
    if missing:
        raise ValueError(f"{where}.{missing[0]} is missing (a {kind} space needs {sorted(_KEYS[kind] - {'kind'})})")
    try:
        if kind == "grid":
            return Grid(data["axes"])
        if kind == "random":
            return RandomSpace(data["n"], data["axes"], data["seed"])
        return ListSpace(data["points"])
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}") from None
