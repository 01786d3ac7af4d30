"""Timing shared by the benchmark scripts (run as ``python benchmarks/<name>.py``, so this imports as ``_timing``)."""

from __future__ import annotations

import time
from collections.abc import Callable


def best(fn: Callable[[], object], repeat: int, *, warmup: bool = True) -> float:
    """Fastest of ``repeat`` wall-clock runs of ``fn`` (s), after one untimed run if ``warmup``."""
    if warmup:
        fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)
