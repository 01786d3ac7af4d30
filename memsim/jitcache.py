"""Is a numba kernel already in numba's on-disk cache? (So the command line can say when it compiles.)

Every kernel of memsim is ``@njit(cache=True)``: the first call after an
install (or after its source file changed) compiles it, ~10 s for the
integrators, and stores the machine code in numba's cache; later processes
load it in a fraction of a second. :func:`uncached` tells the two cases
apart without compiling anything, from the cache index numba itself reads
(``numba.core.caching``): a kernel is cached when its index file exists, was
written by this numba version for the current source file (numba's "source
stamp": modification time and size), and holds an entry for this machine's
code generator and this function's bytecode (numba's index key, less the
argument types, which are only known when the kernel is called). The index
lives where numba's cache locator puts it: next to the source in
``__pycache__``, or under ``NUMBA_CACHE_DIR``.

This reads numba internals (``Dispatcher._cache``); anything unexpected
counts as cached, so at worst the notice is not shown.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence

__all__ = ["COMPILE_SECONDS", "compile_notice", "uncached"]

#: Approximate compile time (s) of each kernel a command calls first, measured by
#: ``benchmarks/compile_time.py`` on a 2-core x86-64 machine (used only for the notice's estimate).
COMPILE_SECONDS = {
    "memsim.solve.adaptive:integrate_adaptive": 9,
    "memsim.solve.kernels:integrate_dense": 8,
    "memsim.solve.kernels:integrate_dense_parallel": 15,
    "memsim.learning.compiled:run_slots": 12,
}


def _is_cached(dispatcher) -> bool:
    try:
        cache = dispatcher._cache
        index = cache._cache_file._load_index()  # {} when missing, stale or from another numba
        if not index:
            return False
        wanted = cache._index_key(None, dispatcher.targetctx.codegen())[1:]  # (machine, bytecode hashes)
        return any(key[1:] == wanted for key in index)
    except Exception:  # numba internals changed, JIT disabled, unreadable index: say nothing
        return True


def uncached(kernels: Sequence[str]) -> list[str]:
    """The kernels (``"module:function"``) that numba's cache does not hold yet.

    Imports the kernels' modules (which compiles nothing) and reads their
    cache indexes.

    Examples
    --------
    >>> isinstance(uncached(["memsim.solve.kernels:integrate_dense"]), list)
    True
    """
    out = []
    for spec in kernels:
        module, _, name = spec.partition(":")
        if not _is_cached(getattr(importlib.import_module(module), name)):
            out.append(spec)
    return out


def compile_notice(kernels: Sequence[str], prog: str = "memsim", file=None) -> bool:
    """Print one line to stderr if some of ``kernels`` will be compiled; return whether it did.

    Examples
    --------
    >>> compile_notice([]) is False
    True
    """
    missing = uncached(kernels)
    if not missing:
        return False
    seconds = sum(COMPILE_SECONDS.get(k, 5) for k in missing)
    print(f"{prog}: compiling numerical kernels (first run only, ~{seconds} s)...",
          file=sys.stderr if file is None else file, flush=True)
    return True
