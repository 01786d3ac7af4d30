"""First timings of the core: 10 ms transients of the two reference circuits.

    python benchmarks/core_timing.py [--quick]

Circuits (the sizes ngspice was measured on in the project's reference notes):

- ``layered([32, 64, 64, 8])``: 6,656 HP TiO2 devices with a Joglekar window
  (p = 1), inputs driven by 1 V sines of different phases at 25 Hz (a
  quarter period in 10 ms, so the states drift rather than return), outputs
  grounded; dense path (128 free nodes).
- ``crossbar(64, 64, r_wire=1.0)``: 4,096 devices, 8,064 wire resistors,
  8,192 nodes; word lines driven at the left by the same sines, bit lines
  grounded at the bottom; sparse path.

Each is run with a fixed step of 10 us (1,000 steps) with Euler and RK4; the
wall time excludes the one-off numba compilation (a warm-up run comes first)
and is the least of ``--repeat`` runs (default 3).
This script measures memsim alone; the comparison against ngspice on the same
circuits is ``benchmarks/vs_ngspice.py`` (issue 4).
"""

from __future__ import annotations

import argparse
import platform
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a fresh clone

from _timing import best  # noqa: E402

from memsim import LinearIonDrift, Network, Segment, Sine, crossbar, layered, simulate  # noqa: E402

DEVICE = LinearIonDrift(window="joglekar", p=1)


def protocol(inputs, outputs, duration):
    drive = {n: Sine(1.0, 25.0, phase=2 * np.pi * i / len(inputs)) for i, n in enumerate(inputs)}
    return [Segment(duration, drive=drive, ground=outputs)]


def run(name, graph, duration, dt, methods, repeat=1):
    net = Network.from_graph(graph, DEVICE, x0="random", seed=0)
    c = net.compile()
    proto = protocol(net.inputs, net.outputs, duration)
    rows = []
    for method in methods:
        simulate(c, protocol(net.inputs, net.outputs, 5 * dt), dt=dt, method=method, record=("x",))  # warm-up
        res = simulate(c, proto, dt=dt, method=method, record=("x",), record_every=100)
        wall = best(lambda: simulate(c, proto, dt=dt, method=method, record=("x",), record_every=100), repeat,
                    warmup=False)
        moved = float(np.abs(res.x_final - c.x0).max())
        rows.append((name, int(c.dynamic.sum()), c.n_edges, c.n_nodes, method, res.stats["steps"],
                     res.stats["engine"], res.stats["factorizations"], wall, moved))
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="1 ms instead of 10 ms")
    ap.add_argument("--repeat", type=int, default=3, help="timed runs per row, the least time counts (default 3)")
    args = ap.parse_args()
    rep = max(1, args.repeat)
    duration = 1e-3 if args.quick else 10e-3
    dt = 1e-5
    rows = run("layered 32-64-64-8", layered([32, 64, 64, 8]), duration, dt, ["euler", "rk4"], rep)
    rows += run("crossbar 64x64, 1 ohm wires", crossbar(64, 64, r_wire=1.0), duration, dt, ["euler", "rk4"], rep)
    print(f"machine: {platform.processor() or platform.machine()}, {platform.python_version()}")
    print(f"transient {duration * 1e3:g} ms, dt {dt:g} s")
    print("| circuit | devices | edges | nodes | method | steps | engine | factorisations | wall (s) | max dx |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print("| {} | {} | {} | {} | {} | {} | {} | {} | {:.2f} | {:.3g} |".format(*r))


if __name__ == "__main__":
    main()
