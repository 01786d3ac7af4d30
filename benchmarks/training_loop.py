"""The compiled training loop against the Python loop of ``step`` calls, in one run (issue 12).

    python benchmarks/training_loop.py [--repeats 3] [--quick]

Both loops integrate with the same adaptive kernel function and make the same decisions
(``tests/learning/test_compiled.py``); the peer is the Python loop (``train(..., compiled=False)``:
one ``Hardware.run``, hence one ``simulate`` call, per read group, punishment group and
normalisation), the loop every training ran before the compiled one. Cases:

- the training of ``memsim demo`` (2-4-2, VTEAM, 20 copies, association 0->0 1->1, seed 0);
- ``empirical_capacity`` of a 4-8-4 layered VTEAM net (``orientation="backward"``, random tasks,
  12 sets x 2 copies, default controller, seed 0, 1 worker; ``--quick``: 4 sets): the peer is the
  same call with the capacity module's ``train`` replaced by the Python loop.

Wall and CPU (process user + system) seconds, best of ``--repeats`` after a warm-up (kernels
compiled or loaded). Prints a markdown table; writes nothing.
"""

from __future__ import annotations

import argparse
import functools
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a fresh clone

from memsim import VTEAM, Network, layered
from memsim.analysis import capacity as capmod
from memsim.learning import association, build_hardware, train


def timed(fn, repeats):
    best = (np.inf, np.inf)
    out = None
    for _ in range(repeats):
        c0, t0 = time.process_time(), time.perf_counter()
        out = fn()
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        best = min(best, (wall, cpu))
    return best, out


def demo_case(compiled: bool):
    net = Network.from_graph(layered([2, 4, 2], orientation="backward"), VTEAM())

    def run():
        return train(build_hardware(net, n_copies=20, seed=0), association((0, 1)), seed=0, compiled=compiled)

    return run


def capacity_case(compiled: bool, n_sets: int):
    net = Network.from_graph(layered([4, 8, 4], orientation="backward"), VTEAM())

    def run():
        original = capmod.train
        capmod.train = functools.partial(original, compiled=compiled)
        try:
            r = capmod.empirical_capacity(net, tasks="random", n_sets=n_sets, copies=2, seed=0, workers=1)
        finally:
            capmod.train = original
        return (r.p.tolist(), r.successes.tolist(), r.presentations.tolist())

    return run


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="4 capacity sets instead of 12")
    args = ap.parse_args()
    n_sets = 4 if args.quick else 12
    print(f"load average before: {os.getloadavg()[0]:.2f}\n")
    print("| case | loop | wall best (s) | CPU best (s) | ratio (wall, Python / compiled) |")
    print("|---|---|---|---|---|")
    for name, make in (("demo training, 20 copies", demo_case),
                       (f"empirical_capacity 4-8-4, {n_sets} sets x 2 copies", lambda c: capacity_case(c, n_sets))):
        res = {}
        for compiled in (True, False):
            fn = make(compiled)
            fn()  # warm-up
            res[compiled] = timed(fn, args.repeats)
        (w1, c1), o1 = res[True]
        (w0, c0), o0 = res[False]
        if name.startswith("demo"):
            same = np.array_equal(o1.state.last_mistake, o0.state.last_mistake)
        else:
            same = o1 == o0
        print(f"| {name} | compiled | {w1:.3g} | {c1:.3g} | {w0 / w1:.1f}x |")
        print(f"| {name} | Python (`compiled=False`) | {w0:.3g} | {c0:.3g} | |")
        if not same:
            print(f"\n**{name}: the two loops disagree** (a bug: they must make the same decisions)\n")
    print(f"\nload average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
