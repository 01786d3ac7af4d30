"""Cost of synapse-array reads and writes against bare NumPy on the same machine.

    python benchmarks/arrays.py [--quick]

- ideal read of a 784 x 2,000 array (differential pairs, VTEAM), batch of 1,000
  inputs, against the bare NumPy product ``x @ W`` of the same logical size;
- read through 1-ohm wires of a 256 x 256 crossbar (128 weights x 2 columns),
  batch of 1,000: one factorisation and min(rows, batch) solves, against
  solving each input separately with :func:`memsim.solve_nodal` (timed on a few
  inputs, per input);
- one pulse-response update of every cell of a 784 x 2,000 array against one
  NumPy elementwise pass ``W + dW`` of the same logical size;
- exact (device ODE) writes: cost per cell-pulse on a 64 x 64 array.
Each row reports the best of ``--repeat`` runs after a warm-up (numba compiled).
"""

from __future__ import annotations

import argparse
import platform
import time

import numpy as np
from _timing import best

from memsim import Network, crossbar, solve_nodal
from memsim.arrays import SynapseArray, conductances, initial_state, preset_array, program, read
from memsim.devices import Variability


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smaller arrays")
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    rows, cols, batch = (196, 500, 250) if args.quick else (784, 2000, 1000)
    xr = 64 if args.quick else 256
    print(f"machine: {platform.machine()}, {platform.python_version()}, numpy {np.__version__}\n")
    print("| operation | size | memsim (s) | peer | peer (s) | ratio |")
    print("|---|---|---|---|---|---|")

    arr = SynapseArray(rows, cols)
    state = rng.random(arr.cell_shape)
    x = rng.uniform(-1, 1, (batch, rows))
    w = rng.uniform(-1, 1, (rows, cols))
    t_m = best(lambda: read(arr, state, x), args.repeat)
    t_p = best(lambda: x @ w, args.repeat)
    print(f"| ideal read, batch {batch} | {rows} x {cols} | {t_m:.4f} | numpy x @ W | {t_p:.4f} | {t_m / t_p:.2f} |")

    arr = SynapseArray(xr, xr // 2, r_wire=1.0)
    state = rng.random(arr.cell_shape)
    x = rng.uniform(-1, 1, (1000, xr))
    t_m = best(lambda: read(arr, state, x), max(1, args.repeat // 2))
    net = Network.from_graph(crossbar(xr, xr, 1.0), arr.device).compile()
    g = np.concatenate([conductances(arr, state).ravel(), np.ones(net.n_edges - xr * xr)])
    driven = np.concatenate([net.inputs, net.outputs])
    n_each = 3
    t0 = time.perf_counter()
    for i in range(n_each):
        solve_nodal(net, g, driven, np.concatenate([x[i] * arr.v_read, np.zeros(xr)]))
    t_each = (time.perf_counter() - t0) / n_each
    print(f"| read through 1-ohm wires, batch 1000 (per input) | {xr} x {xr} crossbar | {t_m / 1000:.5f} "
          f"| solve_nodal per input | {t_each:.5f} | {t_m / 1000 / t_each:.3f} |")

    arr = SynapseArray(rows, cols)
    state = initial_state(arr)
    ones = np.ones(arr.cell_shape, dtype=np.int64)
    dw = rng.normal(0, 0.01, (rows, cols))
    t_m = best(lambda: program(arr, state, ones, seed=1), args.repeat)
    t_p = best(lambda: w + dw, args.repeat)
    print(f"| pulse-response update, 1 pulse per cell | {rows} x {cols} | {t_m:.4f} | numpy W + dW | {t_p:.4f} "
          f"| {t_m / t_p:.2f} |")
    arr = SynapseArray(rows, cols, variability=Variability(d2d=0.1, c2c=0.1))
    t_m = best(lambda: program(arr, state, ones, seed=1), args.repeat)
    print(f"| same, with 10 % spread and cycle noise | {rows} x {cols} | {t_m:.4f} | numpy W + dW | {t_p:.4f} "
          f"| {t_m / t_p:.2f} |")

    for name in ("vteam", "gms"):
        arr = preset_array(name, 64, 32, write="exact")
        state = initial_state(arr)
        ones = np.ones(arr.cell_shape, dtype=np.int64)
        t_m = best(lambda: program(arr, state, ones), max(1, args.repeat // 2))
        cells = arr.rows * arr.physical_cols
        print(f"| exact write ({name}, RK4, 20 steps per pulse), per cell-pulse | 64 x 64 cells "
              f"| {t_m / cells:.2e} | - | - | - |")


if __name__ == "__main__":
    main()
