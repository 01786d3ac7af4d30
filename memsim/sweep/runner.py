"""Running sweeps: a local process pool, in-process, or a dask.distributed cluster.

Every backend goes through one loop: submit points to a
:class:`concurrent.futures.Executor` (a :class:`~concurrent.futures.ProcessPoolExecutor`,
an in-process executor for ``workers=1``, or the executor of a dask
``Client``), wait for the first to finish, write every finished point as a
Parquet part, submit more. At most ``2 x workers`` points are submitted ahead.
Local processes come from a shared pool kept warm across sweeps
(:func:`memsim.sweep.pool.process_pool`; :func:`~memsim.sweep.pool.close_pools` ends it).

Reproducibility: a point's seed is its ``seed`` parameter, or else derived
from its other parameters (:func:`~memsim.sweep.store.derive_seed`), never
from the worker or the order of completion, so a sweep gives identical
numbers with 1 worker or many. Results come back in the order of the space.
"""

from __future__ import annotations

import concurrent.futures as cf
import os
import pickle
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from memsim.sweep import store
from memsim.sweep.pool import check_workers, process_pool
from memsim.sweep.space import Space, plain
from memsim.sweep.spec import function_ref, resolve_any

__all__ = ["run", "evaluate", "default_workers", "MAX_POINTS"]

#: Default cap on the points of one sweep (``run(max_points=...)`` raises it):
#: planning holds every point in memory (~1 kB each), so a typo such as a
#: grid of 1e10 points is refused at once instead of exhausting memory.
MAX_POINTS = 1_000_000


def default_workers() -> int:
    """Number of CPU cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        return os.cpu_count() or 1


def _scalar(value: Any, name: str) -> Any:
    if isinstance(value, np.generic) or (isinstance(value, np.ndarray) and value.ndim == 0):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        raise ValueError(f"output {name!r} is not finite ({value!r}); return None for a missing value")
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    shape = f" of shape {value.shape}" if isinstance(value, np.ndarray) else ""
    raise TypeError(
        f"output {name!r} must be a scalar (number, bool, str or None), got {type(value).__name__}{shape}; "
        "return one key per value"
    )


def _outputs(result: Any, taken: set[str], prefix: str = "") -> dict[str, Any]:
    if result is None:
        return {}
    if not isinstance(result, Mapping):
        raise TypeError(f"a point function must return a dict of outputs, got {type(result).__name__}")
    out: dict[str, Any] = {}
    for key, val in result.items():
        name = f"{prefix}{key}"
        if isinstance(val, Mapping):
            out.update(_outputs(val, taken, name + "."))
            continue
        if name in taken:
            raise ValueError(f"output {name!r} has the name of a parameter or of a reserved column")
        out[name] = _scalar(val, name)
    return out


def evaluate(function: Callable, point: Mapping[str, Any], parameters: frozenset[str] = frozenset()) -> dict[str, Any]:
    """Run one point (in a worker); never raises for an error of the point function.

    An output named like one of the point's parameters, one of
    ``parameters`` (the other points' parameter columns) or a reserved
    column is an error of the point: it would share a column with them. So
    is a non-finite number (NaN or infinity): a row with ``status="ok"``
    holds only finite numbers (``None`` marks a missing value).

    Returns
    -------
    dict
        ``status`` (``"ok"``/``"error"``), ``error`` (``"Type: message"`` or
        ``None``), ``wall_s``, ``memsim_version`` and ``outputs`` (flat dict of
        scalars).

    Examples
    --------
    >>> evaluate(lambda p: {"y": 2 * p["x"]}, {"x": 1, "seed": 0})["outputs"]
    {'y': 2}
    >>> evaluate(lambda p: 1 / 0, {"seed": 0})["error"]
    'ZeroDivisionError: division by zero'
    """
    from memsim import __version__

    taken = set(store.flatten(point)) | set(store.RESERVED) | set(parameters)
    t0 = time.perf_counter()
    try:
        outputs, status, error = _outputs(function(dict(point)), taken), "ok", None
    except Exception as exc:  # a failing point is recorded, the sweep goes on
        outputs, status, error = {}, "error", f"{type(exc).__name__}: {exc}"
    return {"status": status, "error": error, "wall_s": time.perf_counter() - t0,
            "memsim_version": __version__, "outputs": outputs}


def _executor(function: Callable, workers: int | None, scheduler: Any, start_method: str | None):
    """(executor, number submitted ahead, dask client to close or None)."""
    if scheduler is not None:
        if workers is not None:
            raise ValueError("give either workers (local process pool) or scheduler (dask), not both")
        try:
            import distributed
        except ImportError:
            raise ImportError(
                "running a sweep on a dask cluster needs dask.distributed: pip install 'memsim[dask]'"
            ) from None
        own = None
        if isinstance(scheduler, distributed.Client):
            client = scheduler
        elif isinstance(scheduler, str) or hasattr(scheduler, "scheduler_address"):
            client = own = distributed.Client(scheduler)
        else:
            raise ValueError(f"scheduler must be an address, a dask Client or a cluster, got {scheduler!r}")
        threads = sum(client.nthreads().values()) or 1
        return client.get_executor(pure=False), 2 * threads, own
    n = check_workers(default_workers() if workers is None else workers)
    if n > 1:
        try:
            pickle.dumps(function)
        except Exception as exc:
            raise ValueError(
                f"function {function_ref(function)} cannot be sent to worker processes ({type(exc).__name__}: {exc}); "
                "define it at module level or use workers=1"
            ) from None
    return process_pool(n, start_method), (2 * n if n > 1 else 1), None


def _plan(function_id: str, space: Space, defaults: Mapping[str, Any]) -> list[tuple[str, dict]]:
    """(point id, point with seed) for every distinct point, in space order."""
    if not isinstance(space, Space):
        raise ValueError(f"space must be a Space (Grid, RandomSpace, ListSpace, Chain), got {space!r}")
    base = plain(dict(defaults), "defaults")
    planned, seen = [], set()
    for k, pt in enumerate(space.points()):
        point = {**base, **pt}
        for col in store.flatten(point):
            if col in store.RESERVED and col != "seed":
                raise ValueError(f"point {k}: parameter {col!r} has the name of a reserved column")
        pid = store.point_id(point, function_id)
        if pid in seen:
            continue
        seen.add(pid)
        if "seed" not in point:
            point["seed"] = store.derive_seed(point)
        planned.append((pid, point))
    return planned


def _row(pid: str, point: dict, rec: Mapping[str, Any]) -> dict[str, Any]:
    return {"point_id": pid, **store.flatten(point), "point": store.canonical(point),
            "memsim_version": rec["memsim_version"], "status": rec["status"], "error": rec["error"],
            "wall_s": rec["wall_s"], **rec["outputs"]}


def _ordered(df: pd.DataFrame, planned: list[tuple[str, dict]]) -> pd.DataFrame:
    """Rows of this sweep in space order; columns: id, parameters, bookkeeping, outputs."""
    order = {pid: k for k, (pid, _) in enumerate(planned)}
    df = df[df["point_id"].isin(order)]
    df = df.iloc[np.argsort(df["point_id"].map(order).to_numpy(), kind="stable")].reset_index(drop=True)
    params: dict[str, None] = {}
    for _, pt in planned:
        params.update(dict.fromkeys(store.flatten(pt)))
    head = ["point_id"] + [c for c in params if c in df.columns]
    book = [c for c in store.RESERVED if c in df.columns and c not in head]
    rest = [c for c in df.columns if c not in head and c not in book]
    if rest and len(df):
        first = df[rest].notna().to_numpy()
        first_row = np.where(first.any(axis=0), first.argmax(axis=0), len(df))
        rest = [rest[i] for i in np.lexsort((np.arange(len(rest)), first_row))]
    return df[head + book + rest]


def run(
    function: Callable | str,
    space: Space,
    directory: str | os.PathLike | None = None,
    *,
    defaults: Mapping[str, Any] | None = None,
    workers: int | None = None,
    scheduler: Any = None,
    progress: bool = True,
    retry_errors: bool = False,
    start_method: str | None = None,
    name: str = "sweep",
    max_points: int = MAX_POINTS,
) -> pd.DataFrame:
    """Evaluate ``function`` at every point of ``space``; return a tidy table (one row per point).

    Parameters
    ----------
    function : callable or str
        ``f(point: dict) -> dict`` of scalar outputs (nested dicts become
        ``a.b`` columns), or ``"package.module:function"``. Exceptions it
        raises are recorded in the point's row (``status="error"``) and the
        sweep goes on. For a process pool it must be importable (defined at
        module level). A string is the name of a registered task
        (:func:`~memsim.sweep.spec.register_task`) or, from Python code, any
        ``"package.module:function"``.
    space : Space
    directory : path, optional
        Where results are stored, one Parquet part per batch of finished
        points. Points already stored there are skipped (resume). ``None``
        keeps results in memory only.
    defaults : mapping, optional
        Parameters merged into every point (a point's own values win).
    workers : int, optional
        Size of the local process pool (default: the usable CPU cores);
        ``1`` runs the points in this process. The pool is shared with later
        sweeps and analyses in this session (:mod:`memsim.sweep.pool`).
    scheduler : str, dask Client or cluster, optional
        Run on a dask.distributed cluster instead: a scheduler address
        (``"tcp://host:8786"``), a ``Client`` (left open) or a cluster such as
        ``LocalCluster`` (a client is opened and closed). Needs ``memsim[dask]``;
        the cluster's workers need memsim and the function's module
        installed. The scheduler and workers must be trusted: dask
        exchanges pickles, and unpickling runs code. Results are written by this process only, so the workers
        need no access to ``directory``.
    progress : bool
        Show a tqdm bar with points done, failed and ETA.
    retry_errors : bool
        Run again the points stored with ``status="error"`` (default: skip them).
    start_method : str, optional
        multiprocessing start method of the pool (default ``"forkserver"``
        where available, else ``"spawn"``).
    name : str
        Label of the progress bar.
    max_points : int
        Refuse spaces of more points than this (default :data:`MAX_POINTS`,
        one million), before anything is allocated.

    Returns
    -------
    pandas.DataFrame
        One row per distinct point of ``space`` (stored ones included), in
        space order: ``point_id``, the parameters, ``seed``, ``point``,
        ``memsim_version``, ``status``, ``error``, ``wall_s``, the outputs.

    Raises
    ------
    ValueError
        A bad argument, or a space larger than ``max_points`` (naming both).
    RuntimeError
        If the machinery fails (a worker process dies, a dask worker is
        lost); the finished points are saved and a rerun resumes.

    Examples
    --------
    >>> import tempfile
    >>> from memsim.sweep import Grid, run, load
    >>> def square(point):
    ...     return {"y": point["x"] ** 2}
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     df = run(square, Grid({"x": [1, 2, 3]}), tmp, workers=1, progress=False)
    ...     again = run(square, Grid({"x": [1, 2, 3, 4]}), tmp, workers=1, progress=False)  # runs x=4 only
    ...     stored = len(load(tmp))
    >>> df[["x", "y", "status"]].values.tolist()
    [[1, 1, 'ok'], [2, 4, 'ok'], [3, 9, 'ok']]
    >>> again["y"].tolist(), stored
    ([1, 4, 9, 16], 4)
    """
    fn = resolve_any(function) if isinstance(function, str) else function
    if not callable(fn):
        raise ValueError(f"function must be callable or 'package.module:function', got {function!r}")
    if isinstance(max_points, bool) or not isinstance(max_points, int) or max_points < 1:
        raise ValueError(f"max_points must be an integer >= 1, got {max_points!r}")
    if isinstance(space, Space) and len(space) > max_points:
        raise ValueError(f"the space has {len(space):,} points, more than max_points = {max_points:,}; "
                         "split the sweep or raise max_points (memsim sweep --max-points)")
    planned = _plan(function_ref(fn), space, defaults or {})
    done: set[str] = set()
    n_failed = 0
    path = None
    if directory is not None:
        path = Path(directory)
        path.mkdir(parents=True, exist_ok=True)
        store.clean_temporary(path)
        previous = store.load(path)
        if len(previous):
            ids = {pid for pid, _ in planned}
            previous = previous[previous["point_id"].isin(ids)]
            keep = previous if not retry_errors else previous[previous["status"] == "ok"]
            done = set(keep["point_id"])
            n_failed = int((keep["status"] != "ok").sum())
    todo = [(pid, pt) for pid, pt in planned if pid not in done]
    columns = frozenset(col for _, pt in planned for col in store.flatten(pt))  # every parameter column
    tables: list = []

    from tqdm.auto import tqdm

    bar = tqdm(total=len(planned), initial=len(planned) - len(todo), desc=name, unit="pt",
               disable=not progress, dynamic_ncols=True)
    bar.set_postfix_str(f"failed={n_failed}", refresh=False)
    executor: cf.Executor | None = None
    client = None
    if todo:
        executor, ahead, client = _executor(fn, workers, scheduler, start_method)
    pending: dict[cf.Future, tuple[str, dict]] = {}
    finished = 0
    try:
        queue = iter(todo)
        while True:
            while executor is not None and len(pending) < ahead and (item := next(queue, None)) is not None:
                pending[executor.submit(evaluate, fn, item[1], columns)] = item
            if not pending:
                break
            ready, _ = cf.wait(pending, return_when=cf.FIRST_COMPLETED)
            rows = []
            for fut in ready:
                pid, point = pending.pop(fut)
                try:
                    rec = fut.result()
                except Exception as exc:
                    where = f"; {finished} finished points are saved in {path}, rerun to resume" if path else ""
                    raise RuntimeError(
                        f"sweep stopped: point {pid} could not be run ({type(exc).__name__}: {exc}){where}"
                    ) from exc
                rows.append(_row(pid, point, rec))
            if path is not None:
                store.write_part(path, rows)
            else:
                tables.extend(store.to_tables(rows))
            finished += len(rows)
            n_failed += sum(r["status"] != "ok" for r in rows)
            bar.set_postfix_str(f"failed={n_failed}", refresh=False)
            bar.update(len(rows))
    except BaseException:
        if executor is not None:
            executor.shutdown(wait=False, cancel_futures=True)
            executor = None
        raise
    finally:
        if executor is not None:
            executor.shutdown(wait=True)
        if client is not None:
            client.close()
        bar.close()
    df = store.load(path) if path is not None else store.deduplicate(store.frame(tables))
    return _ordered(df, planned)
