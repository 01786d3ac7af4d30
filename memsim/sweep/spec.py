"""Sweep specifications: a point function, a space and defaults; from Python or TOML.

A TOML sweep file looks like this (``[defaults]`` and ``name`` are optional;
``space`` is one table or an array of tables, run one after the other; more
in the ``examples/`` folder of the source tree, which the tests run)::

    name = "transient-small"                     # a slug: letters, digits, '.', '_', '-'
    function = "transient"                       # a registered task (see register_task)

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
    axes = { topology = "erdos_renyi", n = { integers = [8, 16] }, p = { uniform = [0.3, 0.6] }, n_inputs = 2, n_outputs = 2 }

    [[space]]
    kind = "list"
    points = [{ topology = "crossbar", rows = 2, cols = 3, r_wire = 1.0 }]

A spec file is data that may be downloaded or shared: its ``function`` can
only name a registered task (:func:`register_task`), never import a module.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from memsim.sweep.space import Space, plain, space_from_dict

__all__ = ["Sweep", "load_sweep", "resolve_function", "function_ref", "register_task", "registered_tasks",
           "resolve_task", "ENTRY_POINT_GROUP"]

_TOP_KEYS = ("name", "function", "defaults", "space")

#: Entry-point group through which installed packages register sweep tasks.
ENTRY_POINT_GROUP = "memsim.tasks"
#: memsim's own tasks: name -> reference (trusted constants, imported on first use).
_BUILTIN_TASKS = {"transient": "memsim.sweep.tasks:transient", "codesign": "memsim.sweep.tasks:codesign",
                  "mushroom_body": "memsim.sweep.plasticity_task:mushroom_body"}
#: Tasks registered in Python with :func:`register_task` (name -> callable).
_REGISTERED: dict[str, Callable] = {}
_TASK_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]{0,99}")
#: A sweep name: a slug that is safe as a folder name (no separators, not ``.`` or ``..``).
_SLUG = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")


def register_task(name: str, function: Callable | None = None, *, replace: bool = False) -> Any:
    """Allow sweep spec files to run ``function`` under ``name``.

    A spec file (TOML) is data that may be downloaded or shared, so it can
    only name *registered* tasks: memsim's own (``"transient"``,
    ``"codesign"``), the ones registered here, and the ones installed
    packages declare in the ``memsim.tasks`` entry-point group. Python code
    may still pass any callable (or ``"module:function"``) to :class:`Sweep`
    and :func:`~memsim.sweep.runner.run`.

    Parameters
    ----------
    name : str
        Task name used in spec files (letters, digits, ``_ . -``; no ``:``).
    function : callable, optional
        ``f(point: dict) -> dict``. Without it, ``register_task(name)`` is a
        decorator.
    replace : bool
        Allow replacing a task already registered under ``name``.

    Returns
    -------
    The function (or the decorator).

    Raises
    ------
    ValueError
        If the name is malformed or taken (by a built-in or, unless
        ``replace``, a registered task), or ``function`` is not callable.

    Examples
    --------
    >>> def double(point):
    ...     return {"y": 2 * point["x"]}
    >>> _ = register_task("double-example", double, replace=True)
    >>> resolve_task("double-example") is double
    True
    """
    if not isinstance(name, str) or not _TASK_NAME.fullmatch(name):
        raise ValueError(f"task name must be letters, digits, '_', '.', '-' (no ':'), got {name!r}")
    if name in _BUILTIN_TASKS:
        raise ValueError(f"task name {name!r} is a built-in memsim task")

    def add(fn: Callable) -> Callable:
        if not callable(fn):
            raise ValueError(f"register_task({name!r}): function must be callable, got {fn!r}")
        if name in _REGISTERED and _REGISTERED[name] is not fn and not replace:
            raise ValueError(f"task {name!r} is already registered (pass replace=True to replace it)")
        _REGISTERED[name] = fn
        return fn

    return add if function is None else add(function)


def _entry_points() -> dict[str, Any]:
    try:
        return {ep.name: ep for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)}
    except Exception:  # pragma: no cover - broken package metadata must not break memsim
        return {}


def registered_tasks() -> list[str]:
    """Names a spec file may use: built-in, registered in Python, and from entry points.

    Examples
    --------
    >>> {"transient", "codesign"} <= set(registered_tasks())
    True
    """
    return sorted(set(_BUILTIN_TASKS) | set(_REGISTERED) | set(_entry_points()))


def resolve_task(name: str) -> Callable:
    """The registered task called ``name`` (what a spec file's ``function`` may name).

    Built-in tasks are also accepted under their references
    (``"memsim.sweep.tasks:transient"``), as older spec files wrote them; no
    other ``module:function`` is imported.

    Raises
    ------
    ValueError
        One line naming the task and the registered ones.

    Examples
    --------
    >>> resolve_task("transient").__name__
    'transient'
    >>> resolve_task("subprocess:run")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: function 'subprocess:run' is not a registered task (registered: ...); a spec file can only run ...
    """
    if not isinstance(name, str):
        raise ValueError(f"function must be the name of a registered task (a string), got {name!r}")
    builtin = {**_BUILTIN_TASKS, **{ref: ref for ref in _BUILTIN_TASKS.values()}}
    if name in builtin:
        return resolve_function(builtin[name])
    if name in _REGISTERED:
        return _REGISTERED[name]
    eps = _entry_points()
    if name in eps:
        try:
            fn = eps[name].load()
        except Exception as exc:
            raise ValueError(f"task {name!r} (entry point {eps[name].value!r}) cannot be loaded: "
                             f"{type(exc).__name__}: {exc}") from None
        if not callable(fn):
            raise ValueError(f"task {name!r} (entry point {eps[name].value!r}) is not callable")
        return fn
    raise ValueError(
        f"function {name!r} is not a registered task (registered: {', '.join(registered_tasks())}); a spec file "
        "can only run registered tasks: register others in Python with memsim.sweep.register_task or through "
        f"the {ENTRY_POINT_GROUP!r} entry-point group"
    )


def resolve_any(ref: str) -> Callable:
    """From Python code: a registered task's name, or any ``"package.module:function"``.

    Spec files and the command line use :func:`resolve_task` only.
    """
    if isinstance(ref, str) and ":" in ref and ref not in _BUILTIN_TASKS.values():
        return resolve_function(ref)
    return resolve_task(ref)


def check_name(name: Any, where: str = "name") -> str:
    """``name`` if it is a safe slug (it names the default results folder), else ValueError naming ``where``.

    Examples
    --------
    >>> check_name("small-grid_2")
    'small-grid_2'
    >>> check_name("../../x")
    Traceback (most recent call last):
    ...
    ValueError: name must be a slug (letters, digits, '.', '_', '-'; starting with a letter or digit; at most 100 characters), got '../../x'
    """
    if not isinstance(name, str) or not _SLUG.fullmatch(name):
        raise ValueError(f"{where} must be a slug (letters, digits, '.', '_', '-'; starting with a letter or digit; "
                         f"at most 100 characters), got {name!r}")
    return name


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
        ``f(point: dict) -> dict`` of scalar outputs, the name of a
        registered task (:func:`register_task`), or (from Python only) a
        reference ``"package.module:function"``. The point it receives
        holds the defaults, the space's parameters and ``seed``.
    space : Space
    defaults : mapping, optional
        Parameters merged into every point (a point's own values win).
    name : str, optional
        A slug (letters, digits, ``. _ -``), shown on the progress bar and
        naming the default results folder of ``memsim sweep``.

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
        fn = resolve_any(self.function) if isinstance(self.function, str) else self.function
        if not callable(fn):
            raise ValueError(f"Sweep.function must be callable or 'package.module:function', got {fn!r}")
        object.__setattr__(self, "function", fn)
        if not isinstance(self.space, Space):
            raise ValueError(f"Sweep.space must be a Space (Grid, RandomSpace, ListSpace, Chain), got {self.space!r}")
        if not isinstance(self.defaults, Mapping):
            raise ValueError(f"Sweep.defaults must be a mapping, got {self.defaults!r}")
        object.__setattr__(self, "defaults", plain(dict(self.defaults), "Sweep.defaults"))
        check_name(self.name, "Sweep.name")

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
        try:
            fn = resolve_task(data["function"])  # never an arbitrary import: a spec file is data
        except ValueError as exc:
            raise ValueError(f"{where}: {exc}") from None
        space = space_from_dict(data["space"], f"{where}: space")
        defaults = data.get("defaults", {})
        if not isinstance(defaults, Mapping):
            raise ValueError(f"{where}: defaults must be a table, got {defaults!r}")
        name = data.get("name", "sweep")
        try:
            check_name(name)
        except ValueError as exc:
            raise ValueError(f"{where}: {exc}") from None
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
        Malformed TOML, a function that is not a registered task (a spec
        file never imports arbitrary code), or a bad field; one line naming
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
