"""Cost of the controllability analyser: closed-form network Jacobian against central differences.

    python benchmarks/analysers.py [--quick]

For layered nets of VTEAM devices (``orientation="backward"``, random states,
seed 31) and every terminal configuration the learning-from-mistakes
controller may apply (:func:`memsim.analysis.controller_configurations`):

- ``linearise`` wall time with ``method="analytic"`` (one factorisation of
  the floating-node Laplacian per configuration) and ``method="difference"``
  (two nodal solves per device), their ratio in the same run, and the
  largest difference between the two Jacobians relative to each row's scale;
- the whole ``controllability`` call (analytic Jacobian, Gramian by Van Loan
  on a short step and interval doubling) and its rank.
"""

from __future__ import annotations

import argparse
import platform
import time

import numpy as np

from memsim import VTEAM, Network, layered
from memsim.analysis import controllability, controller_configurations, linearise
from memsim.learning import build_hardware


def case(sizes: list[int]) -> dict:
    net = Network.from_graph(layered(sizes, orientation="backward"), VTEAM())
    hw = build_hardware(net, x0="random", seed=31)
    cfgs = controller_configurations(hw)
    x = hw.x[0]
    t_an = t_fd = 0.0
    worst = 0.0
    for c in cfgs:
        t0 = time.perf_counter()
        a_an, _ = linearise(hw.circuit, c, x)
        t1 = time.perf_counter()
        a_fd, _ = linearise(hw.circuit, c, x, method="difference")
        t2 = time.perf_counter()
        t_an += t1 - t0
        t_fd += t2 - t1
        row = np.abs(a_fd).max(axis=1)
        nz = row > 0
        if nz.any():
            worst = max(worst, float((np.abs(a_an - a_fd).max(axis=1)[nz] / row[nz]).max()))
    t0 = time.perf_counter()
    ctrl = controllability(hw.circuit, cfgs, x=x)
    t_ctrl = time.perf_counter() - t0
    return {"net": "-".join(map(str, sizes)), "devices": net.n_edges, "configurations": len(cfgs),
            "analytic_s": t_an, "difference_s": t_fd, "ratio": t_fd / t_an, "max_rel_diff": worst,
            "controllability_s": t_ctrl, "rank": ctrl.rank}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small nets only")
    args = ap.parse_args()
    sizes = [[2, 4, 2], [4, 8, 4]] if args.quick else [[2, 4, 2], [4, 8, 4], [4, 16, 4], [8, 32, 8]]
    case([2, 2, 2])  # warm-up (imports, first calls)
    print(f"# {platform.processor() or platform.machine()}, numpy {np.__version__}")
    print("| net | devices | configurations | linearise analytic (s) | difference (s) | ratio | max rel diff "
          "| controllability (s) | rank |")
    print("|---|---|---|---|---|---|---|---|---|")
    for s in sizes:
        r = case(s)
        print(f"| {r['net']} | {r['devices']} | {r['configurations']} | {r['analytic_s']:.3f} | "
              f"{r['difference_s']:.2f} | {r['ratio']:.0f} | {r['max_rel_diff']:.1e} | "
              f"{r['controllability_s']:.2f} | {r['rank']} |", flush=True)


if __name__ == "__main__":
    main()
