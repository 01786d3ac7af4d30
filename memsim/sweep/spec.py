"""Sweep specifications: a point function, a space and defaults; from Python or TOML.

A TOML sweep file looks like this (``[defaults]`` and ``name`` are optional;
``space`` is one table or an array of tables, run one after the other)::

    name = "transient on small networks"
    function = "memsim.sweep.tasks:transient"   # "package.module:function"

    [defaults]                                   # merged into every point
    device = "HP_TIO2_JOGLEKAR"
    duration = 0.5

    [[space]]
    kind = "grid"                                # a list is an axis, anything else fixed
    axes = { topology = "layered", sizes = [[2, 4, 2], [2, 8, 2]], seed = [0, 1] }

    [[space]]
    kind = "random"                              # n points drawn with seed
    n = 4
    seed = 1
    axes = { topology = "erdos_renyi", n = { integers = [8, 16] }, p = { uniform = [0.3, 0.6] },
             n_inputs = 2, n_outputs = 2 }

    [[space]]
    kind = "list"
    points = [{ topology = "crossbar", rows = 2, cols = 3, r_wire = 1.0 }]
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from memsim.sweep.space import Space, plain, space_from_dict

__all__ = ["Sweep", "load_sweep", "resolve_function", "function_ref"]

_TOP_KEYS = ("name", "function", "defaults", "space")


def resolve_function(ref: str) -> Callable:
    """The callable named by ``"package.module:function"`` (``"module:Class.method"`` works too).

    Raises
    ------
    ValueError
        One line naming the reference and what is wrong with it.

    Examples
    --------
    >>> resolve_function("memsim.sweep.tasks:transient").__name__
    'transient'
    >>> resolve_function("memsim.sweep.tasks:nope")
    Traceback (most recent call last):
    ...
    ValueError: function 'memsim.sweep.tasks:nope': module 'memsim.sweep.tasks' has no attribute 'nope'
    """
    if not isinstance(ref, str) or ref.count(":") != 1 or not all(ref.split(":")):
        raise ValueError(f"function {ref!r} must look like 'package.module:function'")
    module_name, attr = ref.split(":")
    try:
        obj: Any = importlib.import_module(module_name)
    except ImportError as exc:
        raise ValueError(f"function {ref!r}: cannot import module {module_name!r} ({exc})") from None
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise ValueError(f"function {ref!r}: module {module_name!r} has no attribute {attr!r}")
        obj = getattr(obj, part)
    if not callable(obj):
        raise ValueError(f"function {ref!r} is not callable (it is a {type(obj).__name__})")
    return obj


def function_ref(function: Callable | str) -> str:
    """``"module:qualname"`` of a callable (the string itself for a reference).

    Examples
    --------
    >>> from memsim.sweep.tasks import transient
    >>> function_ref(transient)
    'memsim.sweep.tasks:transient'
    """
    if isinstance(function, str):
        return function
    module = getattr(function, "__module__", None)
    qualname = getattr(function, "__qualname__", None)
    if module is None or qualname is None:
        return repr(function)
    return f"{module}:{qualname}"


@dataclass(frozen=True)
class Sweep:
    """A point function evaluated over a space.

    Parameters
    ----------
    function : callable or str
        ``f(point: dict) -> dict`` of scalar outputs, or its reference
        ``"package.module:function"``. The point it receives holds the
        defaults, the space's parameters and ``seed``.
    space : Space
    defaults : mapping, optional
        Parameters merged into every point (a point's own values win).
    name : str, optional
        Shown on the progress bar.

    Examples
    --------
    >>> from memsim.sweep import Grid, Sweep
    >>> sw = Sweep("memsim.sweep.tasks:transient", Grid({"sizes": [[2, 2]], "seed": [0, 1]}),
    ...            defaults={"topology": "layered", "duration": 0.05})
    >>> [sorted(p) for p in sw.points()][0]
    ['duration', 'seed', 'sizes', 'topology']
    """

    function: Callable | str
    space: Space
    defaults: Mapping[str, Any] = field(default_factory=dict)
    name: str = "sweep"

    def __post_init__(self) -> None:
        fn = resolve_function(self.function) if isinstance(self.function, str) else self.function
        if not callable(fn):
            raise ValueError(f"Sweep.function must be callable or 'package.module:function', got {fn!r}")
        object.__setattr__(self, "function", fn)
        if not isinstance(self.space, Space):
            raise ValueError(f"Sweep.space must be a Space (Grid, RandomSpace, ListSpace, Chain), got {self.space!r}")
        if not isinstance(self.defaults, Mapping):
            raise ValueError(f"Sweep.defaults must be a mapping, got {self.defaults!r}")
        object.__setattr__(self, "defaults", plain(dict(self.defaults), "Sweep.defaults"))
        if not isinstance(self.name, str):
            raise ValueError(f"Sweep.name must be a string, got {self.name!r}")

    @property
    def function_ref(self) -> str:
        """``"module:qualname"`` of the point function (part of every point id)."""
        return function_ref(self.function)

    def points(self) -> list[dict]:
        """The points of the space, defaults merged in (without derived seeds)."""
        return [{**self.defaults, **pt} for pt in self.space.points()]

    def __len__(self) -> int:
        return len(self.space)

    def run(self, directory: str | os.PathLike | None = None, **options: Any) -> pd.DataFrame:
        """Run the sweep: see :func:`memsim.sweep.runner.run` for ``directory`` and ``options``."""
        from memsim.sweep.runner import run

        options.setdefault("name", self.name)
        return run(self.function, self.space, directory, defaults=self.defaults, **options)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], where: str = "sweep") -> Sweep:
        """A sweep from the tables of a TOML file (see the module docstring).

        Raises
        ------
        ValueError
            One line naming the bad field.
        """
        if not isinstance(data, Mapping):
            raise ValueError(f"{where}: expected a table, got {data!r}")
        extra = sorted(set(data) - set(_TOP_KEYS))
        if extra:
            raise ValueError(f"{where}: unknown key(s) {extra} (allowed: {', '.join(_TOP_KEYS)})")
        for key in ("function", "space"):
            if key not in data:
                raise ValueError(f"{where}: '{key}' is missing")
        if not isinstance(data["function"], str):
            raise ValueError(f"{where}: function must be a string 'package.module:function', got {data['function']!r}")
        try:
            fn = resolve_function(data["function"])
        except ValueError as exc:
            raise ValueError(f"{where}: {exc}") from None
        space = space_from_dict(data["space"], f"{where}: space")
        defaults = data.get("defaults", {})
        if not isinstance(defaults, Mapping):
            raise ValueError(f"{where}: defaults must be a table, got {defaults!r}")
        name = data.get("name", "sweep")
        if not isinstance(name, str):
            raise ValueError(f"{where}: name must be a string, got {name!r}")
        try:
            return cls(fn, space, defaults, name)
        except ValueError as exc:
            raise ValueError(f"{where}: {exc}") from None


def load_sweep(path: str | os.PathLike) -> Sweep:
    """Read a sweep from a TOML file.

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ValueError
        Malformed TOML, an unknown function, or a bad field; one line naming
        the file and the problem.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> spec = '''
    ... function = "memsim.sweep.tasks:transient"
    ... [space]
    ... kind = "grid"
    ... axes = { topology = "layered", sizes = [[2, 2]], seed = [0, 1, 2] }
    ... '''
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = pathlib.Path(tmp) / "sweep.toml"
    ...     _ = path.write_text(spec)
    ...     len(load_sweep(path))
    3
    """
    from memsim.circuit.io import load_config

    return Sweep.from_dict(load_config(path), str(path))
