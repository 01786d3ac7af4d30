"""Point functions for the sweep tests (importable by worker processes).

``noisy`` sleeps ``SWEEP_POINTS_SLEEP`` seconds (environment, default 0) so a
test can make a sweep slow enough to be killed mid-way, without changing the
points (and so their ids) or the numbers.
"""

from __future__ import annotations

import os
import time

import numpy as np

from memsim.sweep import Grid


def noisy(point):
    """Random numbers seeded by the point; fails for ``a == 3``."""
    time.sleep(float(os.environ.get("SWEEP_POINTS_SLEEP", "0")))
    if point["a"] == 3:
        raise ValueError("a must not be 3")
    rng = np.random.default_rng(point["seed"])
    return {"y": point["a"] * float(rng.random()), "n": int(point["a"]) * 2, "stats": {"mean": float(rng.random())}}


def space(n_a: int = 4, n_b: int = 2) -> Grid:
    """``a`` in 1..n_a (a = 3 fails), ``b`` in n_b values."""
    return Grid({"a": list(range(1, n_a + 1)), "b": [0.5 * k for k in range(1, n_b + 1)]})


def vector(point):
    """Returns an array: not a scalar output."""
    return {"v": np.arange(3)}


def collides(point):
    """Returns an output named like a parameter."""
    return {"a": 1.0}


def mixed(point):
    """An output whose type depends on the point."""
    return {"r": "text" if point["a"] % 2 else 1.5}
