"""Time per epoch of EventProp on Yin-Yang (5 x 5 inputs -> 120 -> 3, 5,000 samples): memsim, chip, jaxsnn.

    python benchmarks/eventprop.py [--quick] [--parallel] [--no-jaxsnn]

One epoch = 157 mini-batches of 32 (the last one 8): exact event-driven
forward pass, EventProp backward pass and an Adam step per batch
(:func:`memsim.snn.train.train_epoch`), in the jaxsnn Yin-Yang setting
(tau_syn 6 us, tau_mem 12 us, one spike per neuron). Also the forward and
backward passes alone over all 5,000 samples as one batch. Wall times
exclude numba's compilation (a warm-up run comes first); the best of
``--repeat`` runs is reported.

Hardware in the loop (:mod:`memsim.snn.chip`), the same epoch with the
forward pass on a chip model: an ideal array, and the ``"rpu"`` preset with
its 30 % device spread and cycle noise, 2 % weight noise per presentation and
5 % neuron mismatch (numba on one thread for these rows: the arrays' parallel
update kernel pays a thread launch per write).

jaxsnn (if installed: ``pip install jaxsnn``): its own event-based EventProp
Yin-Yang example (``jaxsnn.examples.event.yinyang_layered_event_prop``) with
this network (120 hidden, 145 / 103 spike slots, batch 32, 4,992 training
samples = 156 batches, 64 test samples), run for ``1 + repeat`` epochs; an
epoch's time is the interval between the example's consecutive epoch log
records (training plus its tiny test pass, so JAX's asynchronous dispatch
cannot hide work); the first epoch (compilation) is reported separately.
Ratios are from this one run.
"""

from __future__ import annotations

import argparse
import logging
import platform
import time

import numba
import numpy as np
from _timing import best

from memsim.arrays import IdealArray, preset_array
from memsim.datasets import yinyang
from memsim.devices import Variability
from memsim.snn import LIF, backward, forward
from memsim.snn.chip import Chip, chip_state, clip_nominal, hil_epoch
from memsim.snn.train import Adam, FirstSpikeMSE, adam_init, latency_encode, train_epoch


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="500 samples instead of 5,000")
    ap.add_argument("--parallel", action="store_true", help="spread samples over numba's threads")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-jaxsnn", action="store_true", help="skip the jaxsnn comparison")
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
    t_epoch = best(epoch, args.repeat, warmup=False)
    t_fwd = best(lambda: forward(x, w, lif, t_max=t_max, parallel=args.parallel), args.repeat, warmup=False)
    tr = forward(x, w, lif, t_max=t_max, parallel=args.parallel)
    dl = loss(tr.first_spikes, y)[1]
    t_bwd = best(lambda: backward(x, tr, w, lif, t_max=t_max, dl_dt=dl, parallel=args.parallel), args.repeat,
                 warmup=False)
    spikes = sum(int(np.isfinite(t).sum()) for t in tr.times) / n
    t_hil = hil_times(w, x, y, lif, t_max, loss, args.repeat)
    n_jax = 4992 if n >= 4992 else max(n // 32, 1) * 32  # whole batches of 32, as the example needs
    jax_first, jax_epoch = (None, None) if args.no_jaxsnn else jaxsnn_epoch(n_jax, args.repeat)
    print(f"machine: {platform.processor() or platform.machine()}, python {platform.python_version()}")
    print(f"samples {n}, spikes per sample {spikes:.1f}, parallel={args.parallel}")
    print()
    print("| what (one epoch of Yin-Yang unless stated) | wall (s) | ratio to memsim software epoch |")
    print("|---|---|---|")
    print(f"| memsim software EventProp, batch 32 (forward + backward + Adam) | {t_epoch:.3f} | 1 |")
    print(f"| memsim forward, one batch of {n} | {t_fwd:.3f} | {t_fwd / t_epoch:.2f} |")
    print(f"| memsim backward, one batch of {n} | {t_bwd:.3f} | {t_bwd / t_epoch:.2f} |")
    for name, t in t_hil.items():
        print(f"| memsim hardware in the loop, {name} | {t:.3f} | {t / t_epoch:.2f} |")
    if jax_epoch is not None:
        scale = n / n_jax
        print(f"| jaxsnn event-based EventProp example, {n_jax} samples (x{scale:.3f} to {n}) | "
              f"{jax_epoch:.3f} (scaled {jax_epoch * scale:.3f}) | {jax_epoch * scale / t_epoch:.2f} |")
        print(f"| jaxsnn first epoch (tracing + compilation + epoch) | {jax_first:.1f} | - |")
    elif not args.no_jaxsnn:
        print("| jaxsnn | not installed (pip install jaxsnn) | - |")


def hil_times(w, x, y, lif, t_max, loss, repeat: int) -> dict[str, float]:
    """Best-of-``repeat`` epoch of hardware in the loop on an ideal array and on the rpu preset."""
    rpu = Variability(d2d=0.3, c2c=0.3)
    chips = {
        "ideal array": Chip((IdealArray(25, 120), IdealArray(120, 3)), lif),
        "rpu preset, 30 % spread, noise, mismatch": Chip(
            tuple(preset_array("rpu", a.shape[1], a.shape[0], w_max=float(1.5 * np.abs(a).max()), variability=rpu,
                               read_noise=0.02, seed=0) for a in w), lif, mismatch=0.05, time_resolution=1e-8),
    }
    threads = numba.get_num_threads()
    numba.set_num_threads(1)
    out = {}
    try:
        for name, chip in chips.items():
            w0 = clip_nominal(chip, w)
            st = chip_state(chip, w0, seed=0)
            hil_epoch(chip, st, w0, adam_init(w0), x[:64], y[:64], t_max=t_max, loss=loss, opt=Adam(), epoch=0,
                      seed=0)  # warm-up

            def one(chip=chip, st=st, w0=w0):
                hil_epoch(chip, st, w0, adam_init(w0), x, y, t_max=t_max, loss=loss, opt=Adam(), epoch=0, seed=0)

            out[name] = best(one, repeat, warmup=False)
    finally:
        numba.set_num_threads(threads)
    return out


def jaxsnn_epoch(n: int, repeat: int) -> tuple[float | None, float | None]:
    """(first epoch, best later epoch) of jaxsnn's Yin-Yang EventProp example on ``n`` training samples (a
    multiple of 32) with this network; ``(None, None)`` if jaxsnn is not installed."""
    try:
        from jaxsnn.examples.event import yinyang_layered_event_prop as ex
    except ImportError:
        return None, None
    stamps: list[float] = []

    class Stamp(logging.Handler):
        def emit(self, record):
            if str(record.msg).startswith("Epoch"):
                stamps.append(record.created)

    handler = Stamp()
    logger = logging.getLogger("jaxsnn")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        args = ex.get_parser().parse_args([
            "--trainset-size", str(n), "--testset-size", "64",
            "--hidden-size", "120", "--n-spikes-hidden", "145", "--batch-size", "32", "--epochs", str(1 + repeat)])
        t0 = time.time()
        ex.main(args)
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    if len(stamps) < 2:
        return None, None
    gaps = np.diff(stamps)
    return stamps[0] - t0, float(gaps.min())


if __name__ == "__main__":
    main()
