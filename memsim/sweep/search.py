"""Model-based search over the same task functions and the same resumable store as sweeps.

:func:`search` maximises one output of a point function over a :class:`SearchSpace` (numeric and
categorical parameters, some active only for given values of a categorical parent, e.g. a rule's
own hyperparameters) with DeepHyper's centralised Bayesian optimisation (Balaprakash et al.,
"DeepHyper: asynchronous hyperparameter search for deep neural networks", HiPC 2018; extra
``memsim[search]``), or by random search with the same budget as the baseline. Every evaluation is
written to the store as it finishes (one Parquet part each), so a killed search resumes: the
stored results are told to the optimiser again, and the search continues until ``max_evals``.

DeepHyper settings, chosen for 2 cores: an extra-trees surrogate of 50 trees
(``surrogate_model="ET"``), ``acq_optimizer="sampling"`` over 1,000 candidate points (the default
genetic acquisition optimiser measured ~2 s of overhead per evaluation here), one point asked per free worker (``multi_point_strategy
="cl_max"``), ``n_initial_points = 10`` random points before the surrogate is fitted, and no CSV
checkpoints of its own (the store is the checkpoint).
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import math
import os
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from memsim.sweep import store
from memsim.sweep.pool import _InlineExecutor, check_workers, process_pool
from memsim.sweep.runner import evaluate
from memsim.sweep.space import Choice, Integers, LogUniform, Uniform, _distribution, plain

__all__ = ["SearchSpace", "SearchSpec", "search", "search_space", "load_search", "best_so_far"]

Method = Literal["cbo", "random"]
_HINT = 'method="cbo" needs DeepHyper: pip install "memsim[search]"'


@dataclass(frozen=True)
class SearchSpace:
    """Parameters to search, with optional conditions.

    Parameters
    ----------
    params : mapping name -> Uniform, LogUniform, Integers or Choice (from :mod:`memsim.sweep.space`).
    conditions : mapping child -> (parent, allowed values): the child is active only when the
        (categorical) parent takes one of the values.

    Examples
    --------
    >>> from memsim.sweep import Choice, LogUniform
    >>> s = SearchSpace({"rule": Choice(["delta", "hebbian_decay"]), "lr": LogUniform(1e-3, 1.0),
    ...                  "decay": LogUniform(1e-5, 1e-2)}, {"decay": ("rule", ("hebbian_decay",))})
    >>> sorted(s.sample(np.random.default_rng(1)))  # 'decay' is drawn only with rule "hebbian_decay"
    ['lr', 'rule']
    """

    params: Mapping[str, Any]
    conditions: Mapping[str, tuple[str, tuple]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.params:
            raise ValueError("SearchSpace.params must name at least one parameter")
        for name, dist in self.params.items():
            if not isinstance(name, str) or not name:
                raise ValueError(f"SearchSpace.params: parameter names must be non-empty strings, got {name!r}")
            if not isinstance(dist, (Uniform, LogUniform, Integers, Choice)):
                raise ValueError(f"SearchSpace.params[{name!r}] must be Uniform, LogUniform, Integers or Choice")
        for child, cond in self.conditions.items():
            if child not in self.params:
                raise ValueError(f"SearchSpace.conditions: {child!r} is not a parameter")
            if not (isinstance(cond, tuple) and len(cond) == 2 and cond[0] in self.params):
                raise ValueError(f"SearchSpace.conditions[{child!r}] must be (parent parameter, allowed values)")
            parent = self.params[cond[0]]
            if not isinstance(parent, Choice) or not set(cond[1]) <= set(parent.values):
                raise ValueError(f"SearchSpace.conditions[{child!r}]: the parent {cond[0]!r} must be a Choice "
                                 "holding every allowed value")

    def active(self, config: Mapping[str, Any]) -> dict[str, Any]:
        """The parameters of ``config`` that are active under the conditions."""
        out = {}
        for name in self.params:
            cond = self.conditions.get(name)
            if cond is None or config.get(cond[0]) in cond[1]:
                if name in config:
                    out[name] = config[name]
        return out

    def from_problem(self, config: Mapping[str, Any]) -> dict[str, Any]:
        """A configuration of :meth:`problem` in this space's units (log-uniform ones exponentiated)."""
        out = dict(config)
        for name, d in self.params.items():
            if name in out and isinstance(d, LogUniform):
                out[name] = min(max(math.exp(float(out[name])), float(d.low)), float(d.high))
        return out

    def to_problem(self, config: Mapping[str, Any]) -> dict[str, Any]:
        """The inverse of :meth:`from_problem`."""
        out = dict(config)
        for name, d in self.params.items():
            if name in out and isinstance(d, LogUniform):
                out[name] = math.log(float(out[name]))
        return out

    def sample(self, rng: np.random.Generator) -> dict[str, Any]:
        """One random configuration (inactive parameters left out)."""
        full = {name: plain(dist.draw(rng), name) for name, dist in self.params.items()}
        return self.active(full)

    def problem(self):
        """The DeepHyper ``HpProblem`` of this space (conditions as ConfigSpace conditions)."""
        try:
            from ConfigSpace import EqualsCondition, InCondition
            from deephyper.hpo import HpProblem
        except ImportError as err:
            raise ImportError(_HINT) from err
        prob = HpProblem()
        hps = {}
        for name, d in self.params.items():
            if isinstance(d, Choice):
                hps[name] = prob.add_hyperparameter(list(d.values), name)
            elif isinstance(d, Integers):
                hps[name] = prob.add_hyperparameter((int(d.low), int(d.high)), name)
            elif isinstance(d, LogUniform):
                # searched as a uniform log: DeepHyper's own log-uniform lands inactive conditional
                # parameters one ulp below their bound, which ConfigSpace then rejects
                hps[name] = prob.add_hyperparameter((math.log(d.low), math.log(d.high)), name)
            else:
                hps[name] = prob.add_hyperparameter((float(d.low), float(d.high)), name)
        for child, (parent, values) in self.conditions.items():
            values = list(values)
            cond = (EqualsCondition(hps[child], hps[parent], values[0]) if len(values) == 1
                    else InCondition(hps[child], hps[parent], values))
            prob.add_condition(cond)
        return prob


def search_space(data: Mapping[str, Any], where: str = "search") -> SearchSpace:
    """A :class:`SearchSpace` from plain data (a TOML table).

    ``data = {"params": {name: spec}, "conditions": {child: {"parent": p, "values": [...]}}}`` with
    specs as in :func:`memsim.sweep.space.space_from_dict` (``{"uniform": [a, b]}``,
    ``{"loguniform": [a, b]}``, ``{"integers": [a, b]}``, ``{"choice": [...]}``).

    Examples
    --------
    >>> s = search_space({"params": {"lr": {"loguniform": [0.001, 1.0]}, "rule": {"choice": ["delta", "oja"]}}})
    >>> sorted(s.params)
    ['lr', 'rule']
    """
    if not isinstance(data, Mapping):
        raise ValueError(f"{where} must be a table, got {type(data).__name__}")
    unknown = set(data) - {"params", "conditions"}
    if unknown:
        raise ValueError(f"{where}: unknown keys {sorted(unknown)} (expected 'params', 'conditions')")
    params_in = data.get("params")
    if not isinstance(params_in, Mapping) or not params_in:
        raise ValueError(f"{where}.params must be a non-empty table of parameter specs")
    params = {str(k): _distribution(v, f"{where}.params.{k}") for k, v in params_in.items()}
    fixed = [k for k, v in params.items() if not isinstance(v, (Uniform, LogUniform, Integers, Choice))]
    if fixed:
        raise ValueError(f"{where}.params: {fixed} are fixed values, not distributions; put them under the "
                         "search's defaults")
    conds = {}
    for child, c in (data.get("conditions") or {}).items():
        if not (isinstance(c, Mapping) and set(c) == {"parent", "values"} and isinstance(c["values"], list)):
            raise ValueError(f"{where}.conditions.{child} must be a table with 'parent' and a list 'values'")
        conds[str(child)] = (str(c["parent"]), tuple(plain(v, f"{where}.conditions.{child}") for v in c["values"]))
    return SearchSpace(params, conds)


def _objective(rec: Mapping[str, Any], objective: str) -> float | None:
    if rec["status"] != "ok":
        return None
    val = rec["outputs"].get(objective)
    if not isinstance(val, (int, float, np.integer, np.floating)) or not math.isfinite(float(val)):
        return None
    return float(val)


def best_so_far(df: pd.DataFrame, objective: str) -> np.ndarray:
    """Running maximum of ``objective`` over the evaluations in order (NaN where none succeeded yet)."""
    vals = pd.to_numeric(df[objective], errors="coerce").to_numpy(dtype=float) if objective in df else np.array([])
    out = np.fmax.accumulate(np.where(np.isnan(vals), -np.inf, vals)) if vals.size else vals
    return np.where(np.isneginf(out), np.nan, out)


def search(
    function: Callable,
    space: SearchSpace,
    directory: str | os.PathLike | None = None,
    *,
    max_evals: int,
    objective: str,
    method: Method = "cbo",
    defaults: Mapping[str, Any] | None = None,
    workers: int = 1,
    seed: int = 0,
    progress: bool = False,
    n_initial_points: int = 10,
    executor: cf.Executor | None = None,
) -> pd.DataFrame:
    """Maximise output ``objective`` of ``function`` over ``space`` in ``max_evals`` evaluations.

    Parameters
    ----------
    function : ``f(point: dict) -> dict`` (a registered task, or any callable from Python; for
        ``workers > 1`` it must be importable at module level).
    space : SearchSpace
    directory : where each evaluation is stored as it finishes; a rerun resumes (None: memory only).
    max_evals : total evaluations, the stored ones included.
    objective : the output to maximise (failed or non-finite evaluations count as failures).
    method : ``"cbo"`` (DeepHyper, extra ``memsim[search]``) or ``"random"`` (the baseline).
    defaults : parameters merged into every point (the configuration wins).
    workers : evaluations run at once (a local process pool above 1).
    executor : any :class:`concurrent.futures.Executor` to evaluate on instead of the local pool,
        with ``workers`` evaluations in flight: e.g. ``mpi4py.futures.MPIPoolExecutor()`` on an MPI
        cluster or ``dask.distributed.Client(...).get_executor()``; results are still stored by this
        process. It must be trusted (they exchange pickles) and is not shut down here.
    seed : seeds the optimiser (or the random sampler) and, through each point, the task.
    progress : a tqdm bar.

    Returns
    -------
    pandas.DataFrame
        One row per evaluation in order: ``eval``, ``method``, the configuration, ``status``,
        ``error``, ``wall_s``, the outputs, and ``best`` (running maximum of ``objective``).

    Examples
    --------
    >>> from memsim.sweep import Uniform
    >>> def f(p):
    ...     return {"score": -(p["x"] - 0.3) ** 2}
    >>> df = search(f, SearchSpace({"x": Uniform(0, 1)}), max_evals=12, objective="score", method="random")
    >>> len(df), bool(df["best"].iloc[-1] > -0.05)
    (12, True)
    """
    if not isinstance(space, SearchSpace):
        raise ValueError(f"space must be a SearchSpace, got {type(space).__name__}")
    if method not in ("cbo", "random"):
        raise ValueError(f"method must be 'cbo' or 'random', got {method!r}")
    if not (isinstance(max_evals, (int, np.integer)) and max_evals >= 1):
        raise ValueError(f"max_evals must be an integer >= 1, got {max_evals!r}")
    if not (isinstance(objective, str) and objective):
        raise ValueError(f"objective must be the name of an output, got {objective!r}")
    workers = check_workers(workers)
    base = plain(dict(defaults or {}), "defaults")
    rows: list[dict] = []
    if directory is not None:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        if any(directory.glob("*.parquet")):
            old = store.load(directory)
            if "method" in old and len(old):
                if (old["method"] != method).any():
                    raise ValueError(f"{directory} holds a search by method {old['method'].iloc[0]!r}, not {method!r}")
                rows = old.sort_values("eval").to_dict("records")
    opt = None
    if method == "cbo":
        try:
            from deephyper.hpo import CBO
        except ImportError as err:
            raise ImportError(_HINT) from err
        problem = space.problem()
        opt = CBO(problem, random_state=seed, log_dir=str(directory or "."), checkpoint_history_to_csv=False,
                  surrogate_model="ET", surrogate_model_kwargs={"n_estimators": 50},
                  acq_optimizer="sampling", acq_optimizer_kwargs={"n_points": 1000},
                  n_initial_points=n_initial_points)
        told = [(_config(space, r, problem), r[objective] if r.get("status") == "ok" and pd.notna(r.get(objective))
                 else "F") for r in rows]
        if told:
            with _quiet():
                opt.tell(told)
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=max_evals, initial=len(rows), desc=f"search ({method})", unit="eval")
    own_pool = executor is None and workers > 1
    pool = executor if executor is not None else (_InlineExecutor() if workers == 1 else process_pool(workers))
    try:
        while len(rows) < max_evals:
            k = min(workers, max_evals - len(rows))
            if opt is not None:
                with _quiet():
                    asked = opt.ask(k)
                configs = [space.active(space.from_problem(c)) for c in asked]
            else:
                configs = [space.sample(np.random.default_rng([seed, len(rows) + i])) for i in range(k)]
                asked = configs
            points = []
            for i, cfg in enumerate(configs):
                point = {**base, **plain(cfg, "configuration")}
                point.setdefault("seed", store.derive_seed({**point, "eval": len(rows) + i, "search_seed": seed}))
                points.append(point)
            futures = [pool.submit(evaluate, function, p) for p in points]
            results = []
            for cfg, point, fut in zip(asked, points, futures):
                rec = fut.result()
                row = {"eval": len(rows), "method": method, "point_id": store.point_id(point, "search"),
                       **store.flatten(point), "point": store.canonical(point),
                       "memsim_version": rec["memsim_version"], "status": rec["status"], "error": rec["error"],
                       "wall_s": rec["wall_s"], **rec["outputs"]}
                if directory is not None:
                    store.write_part(directory, [row])
                rows.append(row)
                val = _objective(rec, objective)
                results.append((cfg, "F" if val is None else val))
                if bar is not None:
                    bar.update(1)
            if opt is not None:
                with _quiet():
                    opt.tell(results)
    finally:
        if bar is not None:
            bar.close()
        if own_pool:
            pool.shutdown()
    df = pd.DataFrame(rows).reset_index(drop=True)
    df["best"] = best_so_far(df, objective)
    return df


@contextlib.contextmanager
def _quiet():
    """Silence DeepHyper's notice that a proposed point was evaluated before (resumed searches
    re-tell stored points; the optimiser then proposes elsewhere)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The objective has been evaluated at this point before")
        yield


def _config(space: SearchSpace, row: Mapping[str, Any], problem) -> dict[str, Any]:
    """A stored configuration as the optimiser names it: every parameter, inactive ones at the
    placeholder DeepHyper itself uses (the lower bound, or the first choice), numbers clipped to
    the problem's bounds (ConfigSpace rounds them)."""
    cfg = space.to_problem({name: row[name] for name in space.params if not _missing(row.get(name))})
    out = {}
    for name, d in space.params.items():
        if isinstance(d, Choice):
            out[name] = cfg.get(name, d.values[0])
            continue
        hp = problem.space[name]
        val = cfg.get(name, hp.lower)
        out[name] = type(hp.lower)(min(max(val, hp.lower), hp.upper))
    return out


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


_SPEC_KEYS = {"name", "task", "objective", "method", "max_evals", "seed", "workers", "n_initial_points", "defaults",
              "search"}


@dataclass(frozen=True)
class SearchSpec:
    """A search declared as data (a TOML file, :func:`load_search`); :meth:`run` runs it.

    A spec names a registered task (:func:`memsim.sweep.register_task`), never code::

        name = "rules-digits"             # a slug: names the default results folder
        task = "mushroom_body"            # a registered task
        objective = "accuracy"            # the output to maximise
        method = "cbo"                    # or "random"
        max_evals = 40
        seed = 0

        [defaults]                        # fixed parameters of every point
        dataset = "digits"

        [search.params]
        rule = { choice = ["delta", "oja", "hebbian_decay"] }
        lr = { loguniform = [0.001, 1.0] }
        decay = { loguniform = [1e-5, 0.01] }

        [search.conditions]
        decay = { parent = "rule", values = ["hebbian_decay"] }
    """

    name: str
    task: str
    space: SearchSpace
    objective: str
    method: Method = "cbo"
    max_evals: int = 40
    seed: int = 0
    workers: int = 1
    n_initial_points: int = 10
    defaults: Mapping[str, Any] = field(default_factory=dict)

    def run(self, directory=None, *, max_evals: int | None = None, workers: int | None = None,
            progress: bool = False) -> pd.DataFrame:
        """Run (or resume) the search into ``directory``."""
        from memsim.sweep.spec import resolve_task

        return search(resolve_task(self.task), self.space, directory,
                      max_evals=self.max_evals if max_evals is None else max_evals, objective=self.objective,
                      method=self.method, defaults=self.defaults, workers=self.workers if workers is None else workers,
                      seed=self.seed, progress=progress, n_initial_points=self.n_initial_points)


def search_spec(data: Mapping[str, Any], where: str = "spec") -> SearchSpec:
    """A :class:`SearchSpec` from plain data; one-line ValueErrors naming the bad field."""
    from memsim.sweep.spec import check_name, resolve_task

    if not isinstance(data, Mapping):
        raise ValueError(f"{where}: a search spec must be a table")
    unknown = set(data) - _SPEC_KEYS
    if unknown:
        raise ValueError(f"{where}: unknown keys {sorted(unknown)} (expected {sorted(_SPEC_KEYS)})")
    for key in ("task", "objective", "search"):
        if key not in data:
            raise ValueError(f"{where}: missing '{key}'")
    task = data["task"]
    if not isinstance(task, str):
        raise ValueError(f"{where}.task must be the name of a registered task, got {task!r}")
    resolve_task(task)  # a registered task or ValueError; nothing is imported from the spec
    name = check_name(data.get("name", task), f"{where}.name")
    for key in ("max_evals", "seed", "workers", "n_initial_points"):
        val = data.get(key)
        if val is not None and (isinstance(val, bool) or not isinstance(val, int) or val < (0 if key == "seed" else 1)):
            raise ValueError(f"{where}.{key} must be an integer >= {0 if key == 'seed' else 1}, got {val!r}")
    method = data.get("method", "cbo")
    if method not in ("cbo", "random"):
        raise ValueError(f"{where}.method must be 'cbo' or 'random', got {method!r}")
    objective = data["objective"]
    if not isinstance(objective, str) or not objective:
        raise ValueError(f"{where}.objective must be the name of an output, got {objective!r}")
    defaults = data.get("defaults", {})
    if not isinstance(defaults, Mapping):
        raise ValueError(f"{where}.defaults must be a table")
    kwargs = {k: data[k] for k in ("max_evals", "seed", "workers", "n_initial_points") if k in data}
    return SearchSpec(name=name, task=task, space=search_space(data["search"], f"{where}.search"),
                      objective=objective, method=method, defaults=plain(dict(defaults), f"{where}.defaults"),
                      **kwargs)


def load_search(path: str | os.PathLike) -> SearchSpec:
    """Read a search spec from a TOML file (format in :class:`SearchSpec`).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> lines = ['task = "mushroom_body"', 'objective = "accuracy"', '[search.params]',
    ...          'lr = { loguniform = [0.01, 1.0] }']
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     p = pathlib.Path(tmp) / "s.toml"
    ...     _ = p.write_text("\\n".join(lines))
    ...     load_search(p).name
    'mushroom_body'
    """
    from memsim.circuit.io import load_config

    return search_spec(load_config(path), str(path))
