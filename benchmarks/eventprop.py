"""Time per epoch of software EventProp on Yin-Yang (5 x 5 inputs -> 120 -> 3, 5,000 samples).

    python benchmarks/eventprop.py [--quick] [--parallel]

One epoch = 157 mini-batches of 32 (the last one 8): exact event-driven
forward pass, EventProp backward pass and an Adam step per batch
(:func:`memsim.snn.train.train_epoch`), in the jaxsnn Yin-Yang setting
(tau_syn 6 us, tau_mem 12 us, one spike per neuron). Also the forward and
backward passes alone over all 5,000 samples as one batch. Wall times
exclude numba's compilation (a warm-up run comes first); the best of
``--repeat`` runs is reported. The comparison with jaxsnn on the same epoch
is not part of this script.
"""

from __future__ import annotations

import argparse
import platform
import time

import numpy as np

from memsim.datasets import yinyang
from memsim.snn import LIF, backward, forward
from memsim.snn.train import Adam, FirstSpikeMSE, adam_init, latency_encode, train_epoch


def best_of(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="500 samples instead of 5,000")
    ap.add_argument("--parallel", action="store_true", help="spread samples over numba's threads")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    n = 500 if args.quick else 5000
    lif = LIF()
    t_max = 4 * lif.tau_syn
    X, y = yinyang(n, seed=0)
    x = latency_encode(X, t_late=2 * lif.tau_syn)
    rng = np.random.default_rng(0)
    w = [rng.normal(0.6, 0.32, (120, 25)), rng.normal(0.5, 0.8, (3, 120))]
    loss = FirstSpikeMSE(t_correct=0.9 * lif.tau_syn, t_wrong=1.5 * lif.tau_syn, t_clip=2 * lif.tau_mem,
                         tau=lif.tau_mem)
    kw = {"neurons": lif, "t_max": t_max}

    def epoch():
        train_epoch(w, adam_init(w), x, y, loss=loss, opt=Adam(), epoch=0, seed=0, **kw)

    tr = forward(x[:4], w, lif, t_max=t_max, parallel=args.parallel)  # warm-up (compilation)
    backward(x[:4], tr, w, lif, t_max=t_max, dl_dt=np.ones((4, 3)), parallel=args.parallel)
    epoch()
    t_epoch = best_of(epoch, args.repeat)
    t_fwd = best_of(lambda: forward(x, w, lif, t_max=t_max, parallel=args.parallel), args.repeat)
    tr = forward(x, w, lif, t_max=t_max, parallel=args.parallel)
    dl = loss(tr.first_spikes, y)[1]
    t_bwd = best_of(lambda: backward(x, tr, w, lif, t_max=t_max, dl_dt=dl, parallel=args.parallel), args.repeat)
    spikes = sum(int(np.isfinite(t).sum()) for t in tr.times) / n
    print(f"machine: {platform.processor() or platform.machine()}, python {platform.python_version()}")
    print(f"samples {n}, spikes per sample {spikes:.1f}, parallel={args.parallel}")
    print(f"epoch (batch 32, forward + backward + Adam): {t_epoch:.3f} s")
    print(f"forward, one batch of {n}: {t_fwd:.3f} s; backward: {t_bwd:.3f} s")


if __name__ == "__main__":
    main()
