"""One online pass of the mushroom body over Fashion-MNIST: compiled loops against the reference loop.

    python benchmarks/plasticity.py [--quick]

784 -> 2,000 Kenyon cells (10 % fan-in, 5 % active, k-WTA) -> 10 outputs, delta rule (lr 0.01),
batch 1, one pass over the 55,000 training images (``--quick``: 5,000). Times exclude the Kenyon-cell
code (computed once per configuration, reported separately) and numba compilation (warm-up run).
The reference loop (``read`` -> rule -> ``apply_update`` in Python) is timed on 1,000 samples and
reported per sample and extrapolated to the pass.
"""

from __future__ import annotations

import argparse
import time


from memsim.arrays import IdealArray, UpdatePolicy, preset_array
from memsim.datasets import fashion_mnist
from memsim.plasticity import Delta, MushroomBody, evaluate, kenyon_code, train


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    d = fashion_mnist()
    n = 5000 if args.quick else d.y_train.size
    x, y = d.x_train[:n], d.y_train[:n]
    mb = MushroomBody(n_inputs=784, n_kc=2000, n_outputs=10)
    t0 = time.perf_counter()
    code = kenyon_code(mb, x)
    t_code = time.perf_counter() - t0
    ctest = kenyon_code(mb, d.x_test)
    print(f"Kenyon-cell code of {n} images: {t_code:.2f} s\n")
    print("| readout | engine | samples | wall (s) | per sample (us) | test accuracy |")
    print("|---|---|---|---|---|---|")
    rule = Delta(lr=0.01)
    cases = [("ideal (float)", IdealArray(2000, 10), None),
             ("rpu preset", preset_array("rpu", 2000, 10), UpdatePolicy()),
             ("gms preset", preset_array("gms", 2000, 10), UpdatePolicy(refresh=False)),
             ("vteam preset", preset_array("vteam", 2000, 10), UpdatePolicy(refresh=False))]
    for label, arr, pol in cases:
        train(mb, x[:50], y[:50], rule, arr, code=code[:50], policy=pol, seed=0)  # compile
        t0 = time.perf_counter()
        out = train(mb, x, y, rule, arr, code=code, policy=pol, seed=0)
        wall = time.perf_counter() - t0
        acc = evaluate(mb, arr, out.state, d.x_test, d.y_test, code=ctest, seed=0)
        print(f"| {label} | {out.engine} | {n} | {wall:.2f} | {1e6 * wall / n:.1f} | {acc:.4f} |")
    arr = preset_array("rpu", 2000, 10)
    t0 = time.perf_counter()
    train(mb, x[:1000], y[:1000], rule, arr, code=code[:1000], engine="python", seed=0)
    per = (time.perf_counter() - t0) / 1000
    print(f"| rpu preset | python (reference) | 1000 | {per * 1000:.2f} | {1e6 * per:.1f} | - |")
    print(f"\nreference loop extrapolated to {n} samples: {per * n:.0f} s")


if __name__ == "__main__":
    main()
