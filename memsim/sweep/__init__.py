"""Parameter sweeps at scale: spaces of points -> tidy pandas tables, stored crash-safely.

A sweep evaluates a *point function* ``f(point: dict) -> dict`` at every point
of a *space* (:class:`Grid`, :class:`RandomSpace`, :class:`ListSpace`, or
several chained), on a local process pool (kept warm for the session:
:mod:`memsim.sweep.pool`, :func:`close_pools`), in this process, or on a
dask.distributed cluster. Results are written as they arrive, one Parquet
part per batch, so an interrupted sweep resumes where it stopped
(:mod:`memsim.sweep.store`); :func:`load` reads them back.

Declare a sweep in Python (:class:`Sweep`, :func:`run`) or in a TOML file
(:func:`load_sweep`, format in :mod:`memsim.sweep.spec`). Built-in point
functions live in :mod:`memsim.sweep.tasks`. A TOML file is data: it can only
name *registered* tasks (memsim's own, those added with
:func:`register_task`, and those of the ``memsim.tasks`` entry-point
group); arbitrary ``"module:function"`` references work from Python only.

Examples
--------
>>> import tempfile
>>> from memsim.sweep import Grid, Sweep, load
>>> sweep = Sweep("memsim.sweep.tasks:transient",
...               Grid({"sizes": [[2, 2], [2, 3, 2]], "seed": [0, 1]}),
...               defaults={"topology": "layered", "duration": 0.05})
>>> with tempfile.TemporaryDirectory() as tmp:
...     df = sweep.run(tmp, workers=1, progress=False)
...     same = load(tmp).shape[0]
>>> df[["sizes", "seed", "status", "n_edges"]].values.tolist()
[['[2,2]', 0, 'ok', 4], ['[2,2]', 1, 'ok', 4], ['[2,3,2]', 0, 'ok', 12], ['[2,3,2]', 1, 'ok', 12]]
>>> same
4
"""

from memsim.sweep.pool import close_pools
from memsim.sweep.runner import run
from memsim.sweep.space import Chain, Choice, Grid, Integers, ListSpace, LogUniform, RandomSpace, Space, Uniform
from memsim.sweep.spec import Sweep, load_sweep, register_task, registered_tasks, resolve_function, resolve_task
from memsim.sweep.store import compact, load

__all__ = [
    "Sweep",
    "run",
    "load",
    "load_sweep",
    "compact",
    "close_pools",
    "resolve_function",
    "register_task",
    "registered_tasks",
    "resolve_task",
    "Space",
    "Grid",
    "RandomSpace",
    "ListSpace",
    "Chain",
    "Uniform",
    "LogUniform",
    "Integers",
    "Choice",
]
