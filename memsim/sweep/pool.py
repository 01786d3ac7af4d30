"""Process pools for sweeps and co-design work: started once, kept warm, reused.

Starting a worker is expensive compared with a co-design task: importing the
numerical stack (numpy, scipy, numba, pandas, memsim's solvers, learning and
analysers) costs ~1-3 s of CPU per process, and loading the compiled kernels
from numba's cache ~0.3 s more on the first task. Two things keep that cost off
the critical path:

- **a fork server that preloads the stack** (:data:`PRELOAD`). Workers fork
  from it with everything imported, instead of each importing it again. (The
  ``"__main__"`` entry asks the server to import the main script as well;
  CPython 3.11 ignores it: its fork server looks for a ``main_path`` key that
  the preparation data names ``init_main_from_path``. A worker then runs the
  main script itself, which is cheap once the modules it imports are loaded.)
  Kernels are *not* run in the server: the integrators ask numba for its
  thread count, which starts numba's OpenMP threads, and forking a process
  that has started them is unsafe.
- **shared pools** (``process_pool(workers, reuse=True)``, the default): one
  pool per ``(workers, start method)`` lives for the whole session, so
  repeated calls (one :func:`memsim.analysis.empirical_capacity` per co-design
  point, one sweep after another) pay the start-up once. Each use gets a
  *lease* on the pool: ``shutdown`` of a lease cancels and waits for that
  lease's calls only, and the processes stay up. :func:`close_pools` ends
  them (it runs at interpreter exit too; a worker also exits by itself
  when the process that started it dies, even by SIGKILL); a pool whose
  worker died is replaced at its next use.

Workers hold no state that changes numbers: a task's result depends on its
arguments only, so reuse changes timings, never results. A worker starts with
this process's ``sys.path`` and working directory; a shared pool started
under others is replaced. It keeps the code it imported when it started:
after editing memsim in a live session, call :func:`close_pools`.
"""

from __future__ import annotations

import atexit
import concurrent.futures as cf
import multiprocessing
import os
import select
import sys
import threading
import time
from concurrent.futures.process import BrokenProcessPool

__all__ = ["process_pool", "close_pools", "check_workers", "PRELOAD"]

#: Modules the fork server imports once for all workers: the main script, the
#: sweep machinery and the co-design stack (solvers, learning, analysers).
PRELOAD = ("__main__", "memsim.sweep.runner", "memsim.sweep.tasks", "memsim.analysis.capacity")

_LOCK = threading.Lock()
#: (workers, start method) -> (what its workers started with: pid, sys.path, working directory; pool)
_SHARED: dict[tuple[int, str], tuple[tuple, cf.ProcessPoolExecutor]] = {}


def _origin() -> tuple:
    """What a worker inherits when it starts: a pool started under another is not reused."""
    return os.getpid(), tuple(sys.path), os.getcwd()


class _InlineExecutor(cf.Executor):
    """Runs each submitted call at once, in this process (``workers=1``)."""

    def submit(self, fn, /, *args, **kwargs):  # type: ignore[override]
        fut: cf.Future = cf.Future()
        try:
            fut.set_result(fn(*args, **kwargs))
        except Exception as exc:  # pragma: no cover - evaluate() does not raise
            fut.set_exception(exc)
        return fut


def _start_method() -> str:
    # forkserver where available: fork from a multi-threaded process (numba, tqdm) is unsafe
    methods = multiprocessing.get_all_start_methods()
    return "forkserver" if "forkserver" in methods else "spawn"


def check_workers(workers: object) -> int:
    """``workers`` as an int, or ValueError naming it unless it is an integer >= 1."""
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers must be an integer >= 1, got {workers!r}")
    return workers


def _exit_with(parent: int) -> None:
    """Worker initializer: end this worker when ``parent`` (the process that started the pool) ends.

    A pool that outlives a call would otherwise outlive a parent killed
    between calls (SIGKILL skips every exit handler): its idle workers would
    wait for work forever.
    """

    def watch() -> None:
        try:
            fd = os.pidfd_open(parent)  # readable once the process has exited (Linux >= 5.3)
        except ProcessLookupError:
            os._exit(0)
        except (AttributeError, OSError):
            fd = None
        if fd is not None:
            select.select([fd], [], [])
        else:
            while True:
                time.sleep(1.0)
                try:
                    os.kill(parent, 0)
                except ProcessLookupError:
                    break
                except PermissionError:  # pragma: no cover - the pid is alive, owned by another user
                    pass
        os._exit(0)

    threading.Thread(target=watch, name="memsim-parent-watch", daemon=True).start()


def _new_pool(workers: int, method: str) -> cf.ProcessPoolExecutor:
    ctx = multiprocessing.get_context(method)
    if method == "forkserver":
        # takes effect when this process starts its (single) fork server, i.e. for its first pool
        ctx.set_forkserver_preload(list(PRELOAD))
    return cf.ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_exit_with,
                                  initargs=(os.getpid(),))


def _shared(key: tuple[int, str], broken: cf.ProcessPoolExecutor | None = None) -> cf.ProcessPoolExecutor:
    """The live shared pool of ``key`` (started if needed; replacing ``broken`` if it is the current one)."""
    origin = _origin()
    with _LOCK:
        entry = _SHARED.get(key)
        if entry is not None and (entry[0] != origin or entry[1] is broken):
            if entry[0][0] == origin[0]:  # not a pool inherited through os.fork: end it (its tasks finish)
                entry[1].shutdown(wait=False, cancel_futures=entry[1] is broken)
            entry = None
        if entry is None:
            entry = _SHARED[key] = (origin, _new_pool(*key))
        return entry[1]


class _Lease(cf.Executor):
    """One use of a shared pool: ``shutdown`` concerns the calls submitted through this lease only."""

    def __init__(self, key: tuple[int, str]) -> None:
        self._key = key
        self._pool: cf.ProcessPoolExecutor | None = None  # chosen at the first submit, kept for the lease
        self._lock = threading.Lock()
        self._futures: set[cf.Future] = set()

    def _forget(self, fut: cf.Future) -> None:
        with self._lock:
            self._futures.discard(fut)

    def submit(self, fn, /, *args, **kwargs):  # type: ignore[override]
        if self._pool is None:
            self._pool = _shared(self._key)
        try:
            fut = self._pool.submit(fn, *args, **kwargs)
        except (BrokenProcessPool, RuntimeError):  # a worker died earlier, or the pool was closed: start anew
            self._pool = _shared(self._key, broken=self._pool)
            fut = self._pool.submit(fn, *args, **kwargs)
        with self._lock:
            self._futures.add(fut)
        fut.add_done_callback(self._forget)
        return fut

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        with self._lock:
            mine = list(self._futures)
        if cancel_futures:
            for fut in mine:
                fut.cancel()
        if wait:
            cf.wait(mine)


def process_pool(workers: int, start_method: str | None = None, *, reuse: bool = True) -> cf.Executor:
    """An executor of ``workers`` processes (``workers=1``: calls run at once, in this process).

    Processes start by ``forkserver`` where available (``spawn`` elsewhere;
    forking a process that runs numba or tqdm threads is unsafe); the server
    imports the modules of :data:`PRELOAD` once for all workers. With
    ``reuse`` (the default) the processes are those of a pool shared by every
    call with the same ``workers`` and start method, kept alive until
    :func:`close_pools` or the end of the session (see the module docstring);
    ``shutdown`` (leaving a ``with`` block) then waits for, or with
    ``cancel_futures`` cancels, this executor's calls only. ``reuse=False``
    gives a pool of its own, ended by ``shutdown``. Use it as a context
    manager.

    Examples
    --------
    >>> with process_pool(1) as pool:
    ...     pool.submit(pow, 2, 10).result()
    1024
    """
    if check_workers(workers) == 1:
        return _InlineExecutor()
    method = start_method or _start_method()
    if method not in multiprocessing.get_all_start_methods():
        raise ValueError(f"start_method must be one of {multiprocessing.get_all_start_methods()}, got {method!r}")
    if not isinstance(reuse, bool):
        raise ValueError(f"reuse must be True or False, got {reuse!r}")
    return _Lease((workers, method)) if reuse else _new_pool(workers, method)


def close_pools(wait: bool = True) -> int:
    """End the shared pools of this process (their workers exit); return how many were running.

    Tasks already running finish first (with ``wait``); queued ones are
    cancelled. The next ``process_pool(..., reuse=True)`` starts a new pool.

    Examples
    --------
    >>> close_pools() >= 0
    True
    """
    with _LOCK:
        mine = [pool for origin, pool in _SHARED.values() if origin[0] == os.getpid()]
        _SHARED.clear()
    for pool in mine:
        pool.shutdown(wait=wait, cancel_futures=True)
    return len(mine)


atexit.register(close_pools)
