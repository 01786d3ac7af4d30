"""EventProp on Yin-Yang in software: test accuracy over seeds, training curves, bits per gradient.

Claim tested (Pehle et al., arXiv 2302.07141; software EventProp results on
Yin-Yang are about 95-98 %): a 25-120-3 network of one-spike LIF neurons
trained with exact EventProp gradients reaches >= 95 % mean test accuracy.

Setting (the BrainScaleS-2 Yin-Yang setting of Pehle et al. / jaxsnn, see
/work/shared/REFERENCES.md): tau_syn 6 us, tau_mem 12 us, threshold 1,
one spike per neuron; inputs ``(x, y, 1-x, 1-y)`` and a bias spike at 0,
latency-encoded as ``t = feature * 2 tau_syn`` and each duplicated over 5
neurons; window ``t_max = 4 tau_syn``; loss the MSE of the output first-spike
times against 0.9 tau_syn (correct class) and 1.5 tau_syn (others), clipped at
2 tau_mem; Adam 5e-3 decaying 0.99 per epoch, batch 32; initial weights
N(0.6, 0.32) into the hidden layer and N(0.5, 0.8) into the output (jaxsnn's
duplicated-input setting). 5,000 training, 1,000 validation and 1,000 test
samples from disjoint streams per seed (:func:`memsim.datasets.yinyang_splits`).
The accuracy reported is the test accuracy after the last epoch (also: at the
epoch of best validation accuracy). Spread: standard deviation over seeds and a
95 % t-interval of the mean.

Information per gradient (the readout a chip must deliver for one sample):
spike-time readout = number of spikes x (timestamp bits + address bits), with
timestamps at ``time_resolution`` over ``t_max`` and addresses over the 123
neurons; dense membrane sampling = 123 membranes x ``t_max / time_resolution``
samples x ``adc_bits``. Both the resolution and the ADC width are modelling
choices (config fields), not measured chip values.

Not here (later, with ``memsim/arrays``): the chip-in-the-loop runs on
memristive arrays; the training loop already takes a chip callable
(:func:`memsim.snn.train.train_epoch`).

Run::

    python experiments/eventprop_yinyang.py [--quick] [--out results]

Writes ``results/eventprop_yinyang/runs.csv`` (one row per seed),
``curves.csv`` (seed, epoch), ``information.csv`` and ``yinyang.png``.
"""

from __future__ import annotations

import math
import sys
import time
from dataclasses import dataclass

import _common
import numpy as np
import pandas as pd
from scipy import stats

from memsim.datasets import yinyang_splits
from memsim.snn import LIF, forward
from memsim.snn.train import Adam, FirstSpikeMSE, adam_init, evaluate, latency_encode, train_epoch

NAME = "eventprop_yinyang"


@dataclass(frozen=True)
class Config:
    """Software EventProp on Yin-Yang."""

    seeds: tuple[int, ...] = tuple(range(10))
    epochs: int = 100
    n_train: int = 5000
    n_val: int = 1000
    n_test: int = 1000
    hidden: int = 120
    duplicate: int = 5
    batch_size: int = 32
    lr: float = 5e-3
    decay: float = 0.99
    tau_syn: float = 6e-6  # s
    tau_mem: float = 12e-6  # s
    w_hidden: tuple[float, float] = (0.6, 0.32)  # mean, std of the initial input -> hidden weights
    w_out: tuple[float, float] = (0.5, 0.8)  # mean, std of the initial hidden -> output weights
    time_resolution: float = 1e-8  # s, timestamp and membrane-sampling resolution of the chip model
    adc_bits: int = 10  # bits per membrane sample
    target: float = 0.95  # claimed mean test accuracy


QUICK = Config(seeds=(0, 1), epochs=2, n_train=300, n_val=150, n_test=300)


def _setting(cfg: Config):
    lif = LIF(tau_mem=cfg.tau_mem, tau_syn=cfg.tau_syn)
    loss = FirstSpikeMSE(t_correct=0.9 * cfg.tau_syn, t_wrong=1.5 * cfg.tau_syn, t_clip=2 * cfg.tau_mem,
                         tau=cfg.tau_mem)
    return lif, loss, 4 * cfg.tau_syn


def run_seed(cfg: Config, seed: int):
    """Train one network; returns its summary row, its curve rows and the spike counts on the test set."""
    lif, loss, t_max = _setting(cfg)
    data = yinyang_splits(cfg.n_train, cfg.n_val, cfg.n_test, seed=seed)
    enc = {k: (latency_encode(X, t_late=2 * cfg.tau_syn, duplicate=cfg.duplicate), y) for k, (X, y) in data.items()}
    rng = np.random.default_rng(seed)
    n_in = enc["train"][0].shape[1]
    weights = [rng.normal(*cfg.w_hidden, (cfg.hidden, n_in)), rng.normal(*cfg.w_out, (3, cfg.hidden))]
    state, opt = adam_init(weights), Adam(lr=cfg.lr, decay=cfg.decay)
    curve, best = [], (-1.0, 0, 0.0)
    t0 = time.perf_counter()
    for epoch in range(cfg.epochs):
        weights, state, train_loss = train_epoch(weights, state, *enc["train"], neurons=lif, t_max=t_max, loss=loss,
                                                 opt=opt, epoch=epoch, batch_size=cfg.batch_size,
                                                 seed=[seed, epoch])
        val_acc, val_loss = evaluate(weights, *enc["val"], neurons=lif, t_max=t_max, loss=loss)
        test_acc, _ = evaluate(weights, *enc["test"], neurons=lif, t_max=t_max, loss=loss)
        curve.append({"seed": seed, "epoch": epoch + 1, "train_loss": train_loss, "val_loss": val_loss,
                      "val_acc": val_acc, "test_acc": test_acc})
        if val_acc > best[0]:
            best = (val_acc, epoch + 1, test_acc)
    wall = time.perf_counter() - t0
    tr = forward(enc["test"][0], weights, lif, t_max=t_max)
    spikes = sum(int(np.isfinite(t).sum()) for t in tr.times) / cfg.n_test
    row = {"seed": seed, "epochs": cfg.epochs, "test_acc": curve[-1]["test_acc"], "val_acc": curve[-1]["val_acc"],
           "best_val_epoch": best[1], "test_acc_at_best_val": best[2], "train_loss": curve[-1]["train_loss"],
           "spikes_per_sample": spikes, "seconds_per_epoch": wall / cfg.epochs}
    return row, curve


def information(cfg: Config, spikes_per_sample: float) -> pd.DataFrame:
    """Bits read out per sample (one gradient): spike times versus dense membrane sampling."""
    _, _, t_max = _setting(cfg)
    n_neurons = cfg.hidden + 3
    samples = t_max / cfg.time_resolution
    ts_bits = math.ceil(math.log2(samples))
    addr_bits = math.ceil(math.log2(n_neurons))
    spike_bits = spikes_per_sample * (ts_bits + addr_bits)
    dense_bits = n_neurons * samples * cfg.adc_bits
    return pd.DataFrame([
        {"readout": "spike times", "bits_per_sample": spike_bits,
         "detail": f"{spikes_per_sample:.1f} spikes x ({ts_bits} + {addr_bits}) bits"},
        {"readout": "membrane sampling", "bits_per_sample": dense_bits,
         "detail": f"{n_neurons} membranes x {samples:.0f} samples x {cfg.adc_bits} bits"},
    ])


def run(cfg: Config) -> dict[str, pd.DataFrame]:
    rows, curves = [], []
    for seed in cfg.seeds:
        row, curve = run_seed(cfg, seed)
        rows.append(row)
        curves.extend(curve)
        print(f"  seed {seed}: test accuracy {row['test_acc']:.3f} ({row['seconds_per_epoch']:.2f} s/epoch)",
              flush=True)
    runs = pd.DataFrame(rows)
    return {"runs": runs, "curves": pd.DataFrame(curves),
            "information": information(cfg, float(runs["spikes_per_sample"].mean()))}


def summary(acc: np.ndarray) -> tuple[float, float, float, float]:
    """Mean, standard deviation and 95 % t-interval of the mean of per-seed accuracies."""
    acc = np.asarray(acc, dtype=float)
    mean = float(acc.mean())
    if acc.size < 2:
        return mean, math.nan, math.nan, math.nan
    sd = float(acc.std(ddof=1))
    half = float(stats.t.ppf(0.975, acc.size - 1) * sd / math.sqrt(acc.size))
    return mean, sd, mean - half, mean + half


def figure(res: dict[str, pd.DataFrame], cfg: Config):
    """Validation accuracy per epoch (one line per seed) and the bits per gradient of the two readouts."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax, bx) = plt.subplots(1, 2, figsize=(9.5, 3.6), constrained_layout=True)
    for seed, g in res["curves"].groupby("seed"):
        ax.plot(g["epoch"], g["val_acc"], lw=1, alpha=0.7)
    ax.axhline(cfg.target, color="k", ls=":", lw=1)
    ax.set_xlabel("epoch")
    ax.set_ylabel("validation accuracy")
    ax.set_title(f"Yin-Yang, EventProp, {len(cfg.seeds)} seeds", fontsize=9)
    info = res["information"]
    bx.bar(info["readout"], info["bits_per_sample"], color=["C0", "C3"])
    bx.set_yscale("log")
    bx.set_ylabel("bits read out per sample (gradient)")
    return fig


def report(res: dict[str, pd.DataFrame], cfg: Config) -> None:
    runs = res["runs"]
    print(runs[["seed", "test_acc", "test_acc_at_best_val", "best_val_epoch", "spikes_per_sample",
                "seconds_per_epoch"]].to_string(index=False))
    mean, sd, lo, hi = summary(runs["test_acc"].to_numpy())
    lo, hi = max(lo, 0.0), min(hi, 1.0)
    text = (f"test accuracy {100 * mean:.2f} % (sd {100 * sd:.2f}, 95 % interval {100 * lo:.2f}-{100 * hi:.2f}) "
            f"over {len(runs)} seeds, {cfg.epochs} epochs of {cfg.n_train} samples")
    print(_common.claim_line(f"(software EventProp reaches >= {100 * cfg.target:.0f} % on Yin-Yang)",
                             mean >= cfg.target, text))
    info = res["information"].set_index("readout")["bits_per_sample"]
    ratio = info["membrane sampling"] / info["spike times"]
    print(f"bits per gradient: spike times {info['spike times']:.0f}, membrane sampling "
          f"{info['membrane sampling']:.0f} (x{ratio:.0f})")


def main(argv: list[str] | None = None) -> int:
    return _common.main(argv, doc=__doc__, name=NAME, full=Config(), quick=QUICK, run=run, figure=figure,
                        figure_file="yinyang.png", report=report, quick_help="2 seeds, 2 epochs, 300 samples (for CI)")


if __name__ == "__main__":
    sys.exit(main())
