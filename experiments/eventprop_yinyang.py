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

Hardware in the loop (:mod:`memsim.snn.chip`): the forward pass runs on a
chip model and returns spike times only; the gradient comes from those times
and the *nominal* weights and neurons; Adam's step is written to the chip's
arrays as pulses. Variants, each trained from the same initial weights, data
and shuffling per seed (``hil_seeds`` x ``hil_epochs``): software EventProp
(baseline), an ideal array (float weights, no mismatch: must equal software),
and the ``preset`` array (default ``"rpu"``: soft-bounds devices, weight step
0.001 x w_max / 0.6 per pulse, reference mapping) at non-ideality levels
``f`` in ``levels``: device-to-device spread ``f d2d``, cycle-to-cycle write
noise ``f c2c`` (the preset's 0.3 at f = 1), Gaussian weight noise per
presentation ``f read_noise`` and neuron mismatch ``f mismatch`` (log-normal
sigma of tau_mem, tau_syn, threshold); timestamps at ``time_resolution``. At
``readback_level`` also the simpler alternative in which the host reads the
chip's weights back after every write, and at ``exact_level`` a control
with exact writes (ideal arrays) and neuron mismatch only, as on
BrainScaleS-2 (digital weights). Baseline that is not degenerate: the
software-trained weights of the same seed programmed onto the same chip
(program-and-verify) without training in the loop ("deployed"). Modelling
choices these results depend on: ``w_max`` per layer = ``w_margin`` x the
largest initial |weight| of the layer (nominal weights clipped to it); each
seed is a different chip (device population and mismatch drawn from the
seed); stochastic rounding of updates (``UpdatePolicy()``); the levels'
noise amplitudes above (read noise and mismatch are choices, not measured
chip values).

Verdicts: the ideal array against software (largest weight difference after
the first epoch, which must be rounding; later the two paths' rounding
differences are amplified by training, so the final accuracies are compared
by a paired t-test); per level the accuracy loss against software and the
gain over deployment, each by a paired t-test over seeds (same data and
initial weights per seed) with the mean difference, its 95 % t-interval and
Cohen's d_z; the trend of accuracy with the level by Spearman's rank
correlation over all (seed, level) runs; the exact-write control's gain over
deployment by the same paired test.

Run::

    python experiments/eventprop_yinyang.py [--quick] [--out results]

Writes ``results/eventprop_yinyang/runs.csv`` (one row per seed),
``curves.csv`` (seed, epoch), ``information.csv``, ``hil_runs.csv`` (seed,
variant), ``hil_curves.csv`` (seed, variant, epoch) and ``yinyang.png``.
``Config.parts`` selects the software study and/or the hardware-in-the-loop
study (the full software study is 10 seeds x 100 epochs, ~1 h on 2 cores).
"""

from __future__ import annotations

import math
import sys
import time
from dataclasses import dataclass

import _common
import numba
import numpy as np
import pandas as pd
from scipy import stats

from memsim.arrays import IdealArray, preset_array
from memsim.datasets import yinyang_splits
from memsim.devices import Variability
from memsim.snn import LIF, forward
from memsim.snn.chip import Chip, chip_forward, chip_state, clip_nominal, hil_epoch
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
    parts: tuple[str, ...] = ("software", "hil")  # which studies to run
    # hardware in the loop
    hil_seeds: tuple[int, ...] = (0, 1, 2, 3, 4)
    hil_epochs: int = 10
    hil_n_train: int = 5000
    preset: str = "rpu"
    w_margin: float = 1.5  # w_max of a layer = w_margin x its largest initial |weight|
    levels: tuple[float, ...] = (0.0, 0.5, 1.0, 2.0)  # scale of the non-idealities below
    d2d: float = 0.3  # 1, device-to-device spread at level 1 (the rpu preset's)
    c2c: float = 0.3  # 1, cycle-to-cycle write noise at level 1 (the rpu preset's)
    read_noise: float = 0.02  # weight units, per-presentation weight noise at level 1 (a choice)
    mismatch: float = 0.05  # 1, neuron parameter spread at level 1 (a choice)
    readback_level: float | None = 1.0  # level of the read-back variant (None: not run)
    exact_level: float | None = 2.0  # level of the exact-write control: ideal arrays + neuron mismatch only
    max_loss: float = 0.02  # claim: accuracy loss against software at level 1 at most this


QUICK = Config(seeds=(0, 1), epochs=2, n_train=300, n_val=150, n_test=300, hil_seeds=(0, 1), hil_epochs=2,
               hil_n_train=300, levels=(0.0, 1.0))


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


def make_chip(cfg: Config, level: float, seed: int, w0) -> Chip:
    """The ``preset`` chip at non-ideality ``level`` for one seed; ``w_max`` per layer from the initial weights."""
    lif, _, _ = _setting(cfg)
    var = Variability(d2d=level * cfg.d2d, c2c=level * cfg.c2c)
    arrays = tuple(preset_array(cfg.preset, w.shape[1], w.shape[0], w_max=float(cfg.w_margin * np.abs(w).max()),
                                variability=var, read_noise=level * cfg.read_noise, seed=seed) for w in w0)
    return Chip(arrays, lif, mismatch=level * cfg.mismatch, time_resolution=cfg.time_resolution, seed=seed)


def _chip_eval(chip, state, x, y, lif, t_max, loss, weights):
    if chip is None:
        return evaluate(weights, x, y, neurons=lif, t_max=t_max, loss=loss)[0]
    run_ = lambda _w, xx: chip_forward(chip, state, xx, t_max=t_max, seed=0)  # noqa: E731
    return evaluate(weights, x, y, neurons=lif, t_max=t_max, loss=loss, chip=run_)[0]


def hil_seed(cfg: Config, seed: int):
    """All hardware-in-the-loop variants of one seed; returns (run rows, curve rows)."""
    lif, loss, t_max = _setting(cfg)
    data = yinyang_splits(cfg.hil_n_train, cfg.n_val, cfg.n_test, seed=seed)
    enc = {k: (latency_encode(X, t_late=2 * cfg.tau_syn, duplicate=cfg.duplicate), y) for k, (X, y) in data.items()}
    rng = np.random.default_rng(seed)
    n_in = enc["train"][0].shape[1]
    w0 = [rng.normal(*cfg.w_hidden, (cfg.hidden, n_in)), rng.normal(*cfg.w_out, (3, cfg.hidden))]
    opt = Adam(lr=cfg.lr, decay=cfg.decay)
    variants = [("software", None, None, False), ("ideal", None, Chip((IdealArray(n_in, cfg.hidden),
                                                                       IdealArray(cfg.hidden, 3)), lif), False)]
    variants += [(f"{cfg.preset} x{lv:g}", lv, make_chip(cfg, lv, seed, w0), False) for lv in cfg.levels]
    if cfg.readback_level is not None:
        lv = cfg.readback_level
        variants.append((f"{cfg.preset} x{lv:g} read-back", lv, make_chip(cfg, lv, seed, w0), True))
    if cfg.exact_level is not None:
        lv = cfg.exact_level
        exact = Chip((IdealArray(n_in, cfg.hidden), IdealArray(cfg.hidden, 3)), lif, mismatch=lv * cfg.mismatch,
                     time_resolution=cfg.time_resolution, seed=seed)
        variants.append((f"exact writes, mismatch x{lv:g}", lv, exact, False))
    rows, curves, final, sw_hist = [], [], {}, []
    for name, level, chip, readback in variants:
        t0 = time.perf_counter()
        w = w0 if chip is None else clip_nominal(chip, w0)
        state = None if chip is None else chip_state(chip, w, seed=[seed, 1])
        opt_state = adam_init(w)
        for epoch in range(cfg.hil_epochs):
            ep_seed = [seed, epoch]
            if chip is None:
                w, opt_state, train_loss = train_epoch(w, opt_state, *enc["train"], neurons=lif, t_max=t_max,
                                                       loss=loss, opt=opt, epoch=epoch, batch_size=cfg.batch_size,
                                                       seed=ep_seed)
                st = None
            else:
                w, opt_state, state, st = hil_epoch(chip, state, w, opt_state, *enc["train"], t_max=t_max, loss=loss,
                                                    opt=opt, epoch=epoch, batch_size=cfg.batch_size,
                                                    readback=readback, seed=ep_seed)
                train_loss = st.loss
            acc = _chip_eval(chip, state, *enc["test"], lif, t_max, loss, w)
            if chip is None:
                sw_hist.append(w)
            diff = max(float(np.abs(a - b).max()) for a, b in zip(w, sw_hist[epoch]))
            curves.append({"seed": seed, "variant": name, "epoch": epoch + 1, "train_loss": train_loss,
                           "weight_diff_vs_software": diff,
                           "test_acc": acc, "inconsistent": math.nan if st is None else st.inconsistent,
                           "write_error": math.nan if st is None else st.write_error,
                           "step": math.nan if st is None else st.step})
        final[name] = w
        row = {"seed": seed, "variant": name, "level": math.nan if level is None else level,
               "readback": readback, "exact_writes": name.startswith("exact"), "test_acc": curves[-1]["test_acc"],
               "deployed_acc": math.nan,
               "seconds_per_epoch": (time.perf_counter() - t0) / cfg.hil_epochs}
        if chip is None:
            tr = forward(enc["test"][0], w, lif, t_max=t_max)
            row["spikes_per_sample"] = sum(int(np.isfinite(t).sum()) for t in tr.times) / cfg.n_test
        else:
            row["max_weight_diff_vs_software"] = max(float(np.abs(a - b).max()) for a, b in zip(w, final["software"]))
            if level is not None and not readback:  # software-trained weights programmed onto the same chip
                dep = chip_state(chip, final["software"], seed=[seed, 2])
                row["deployed_acc"] = _chip_eval(chip, dep, *enc["test"], lif, t_max, loss, final["software"])
        rows.append(row)
        dep_text = "" if math.isnan(row["deployed_acc"]) else f" (deployed {row['deployed_acc']:.3f})"
        print(f"  seed {seed} {name}: test accuracy {row['test_acc']:.3f}{dep_text}"
              f" ({row['seconds_per_epoch']:.2f} s/epoch)", flush=True)
    return rows, curves


def run(cfg: Config) -> dict[str, pd.DataFrame]:
    # the arrays' parallel update kernel costs ~47 ms per launch on 2 loaded cores (0.8 ms on one
    # thread): run numba on one thread here (the numbers do not depend on it)
    threads = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        return _run(cfg)
    finally:
        numba.set_num_threads(threads)


def _run(cfg: Config) -> dict[str, pd.DataFrame]:
    out: dict[str, pd.DataFrame] = {}
    spikes = []
    if "software" in cfg.parts:
        rows, curves = [], []
        for seed in cfg.seeds:
            row, curve = run_seed(cfg, seed)
            rows.append(row)
            curves.extend(curve)
            print(f"  seed {seed}: test accuracy {row['test_acc']:.3f} ({row['seconds_per_epoch']:.2f} s/epoch)",
                  flush=True)
        out["runs"], out["curves"] = pd.DataFrame(rows), pd.DataFrame(curves)
        spikes.append(out["runs"]["spikes_per_sample"])
    if "hil" in cfg.parts:
        rows, curves = [], []
        for seed in cfg.hil_seeds:
            r, c = hil_seed(cfg, seed)
            rows.extend(r)
            curves.extend(c)
        out["hil_runs"], out["hil_curves"] = pd.DataFrame(rows), pd.DataFrame(curves)
        spikes.append(out["hil_runs"]["spikes_per_sample"].dropna())
    out["information"] = information(cfg, float(pd.concat(spikes).mean()))
    return out


def summary(acc: np.ndarray) -> tuple[float, float, float, float]:
    """Mean, standard deviation and 95 % t-interval of the mean of per-seed accuracies."""
    acc = np.asarray(acc, dtype=float)
    mean = float(acc.mean())
    if acc.size < 2:
        return mean, math.nan, math.nan, math.nan
    sd = float(acc.std(ddof=1))
    half = float(stats.t.ppf(0.975, acc.size - 1) * sd / math.sqrt(acc.size))
    return mean, sd, mean - half, mean + half


def paired(a, b) -> dict[str, float]:
    """Paired comparison of per-seed values ``a - b``: mean, 95 % t-interval, t, two-sided p, Cohen's d_z.

    Examples
    --------
    >>> r = paired([0.9, 0.8, 0.85], [0.8, 0.75, 0.7])
    >>> round(r["mean"], 4), bool(r["lo"] < r["mean"] < r["hi"])
    (0.1, True)
    """
    d = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    mean = float(d.mean()) if d.size else math.nan
    out = {"mean": mean, "lo": math.nan, "hi": math.nan, "t": math.nan, "p": math.nan, "dz": math.nan, "n": d.size}
    if d.size < 2:
        return out
    sd = float(d.std(ddof=1))
    if sd == 0:
        p = 1.0 if mean == 0 else 0.0
        return {**out, "lo": mean, "hi": mean, "p": p, "t": 0.0 if mean == 0 else math.copysign(math.inf, mean),
                "dz": 0.0 if mean == 0 else math.copysign(math.inf, mean)}
    half = float(stats.t.ppf(0.975, d.size - 1) * sd / math.sqrt(d.size))
    res = stats.ttest_rel(np.asarray(a, dtype=float), np.asarray(b, dtype=float))
    return {**out, "lo": mean - half, "hi": mean + half, "t": float(res.statistic), "p": float(res.pvalue),
            "dz": mean / sd}


def _fmt(r: dict[str, float]) -> str:
    return (f"mean {100 * r['mean']:+.2f} pp, 95 % interval [{100 * r['lo']:+.2f}, {100 * r['hi']:+.2f}] pp, "
            f"paired t = {r['t']:.2f}, p = {r['p']:.3g}, d_z = {r['dz']:.2f}, n = {r['n']} seeds")


def figure(res: dict[str, pd.DataFrame], cfg: Config):
    """Software curves, bits per gradient, and (when run) hardware-in-the-loop curves and accuracy per level."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    hil, sw = "hil_runs" in res, "curves" in res
    n = 1 + sw + 2 * hil
    fig, axes = plt.subplots(1, n, figsize=(4.6 * n, 3.6), constrained_layout=True, squeeze=False)
    axes = list(axes[0])
    if sw:
        ax = axes.pop(0)
        for seed, g in res["curves"].groupby("seed"):
            ax.plot(g["epoch"], g["val_acc"], lw=1, alpha=0.7)
        ax.set_title(f"Yin-Yang, software EventProp, {len(cfg.seeds)} seeds", fontsize=9)
        ax.set_ylabel("validation accuracy")
        ax.axhline(cfg.target, color="k", ls=":", lw=1)
        ax.set_xlabel("epoch")
    bx = axes.pop(0)
    info = res["information"]
    bx.bar(info["readout"], info["bits_per_sample"], color=["C0", "C3"])
    bx.set_yscale("log")
    bx.set_ylabel("bits read out per sample (gradient)")
    if hil:
        cx, dx = axes
        for i, (name, g) in enumerate(res["hil_curves"].groupby("variant", sort=False)):
            m = g.groupby("epoch")["test_acc"].mean()
            cx.plot(m.index, m.to_numpy(), lw=1.5, ls="--" if name == "ideal" else "-", label=name, color=f"C{i}")
        cx.set_xlabel("epoch")
        cx.set_ylabel("test accuracy (on the chip)")
        cx.set_title(f"hardware in the loop, mean of {len(cfg.hil_seeds)} seeds", fontsize=9)
        cx.legend(fontsize=7)
        runs = res["hil_runs"]
        lv = runs[runs["level"].notna() & ~runs["readback"].astype(bool) & ~runs["exact_writes"].astype(bool)]
        sw = runs.loc[runs["variant"] == "software", "test_acc"].mean()
        for col, lab, c in (("test_acc", "trained in the loop", "C0"), ("deployed_acc", "software weights deployed",
                                                                          "C3")):
            g = lv.groupby("level")[col]
            dx.errorbar(g.mean().index, g.mean().to_numpy(), yerr=g.std().fillna(0).to_numpy(), marker="o",
                        capsize=3, label=lab, color=c)
        dx.axhline(sw, color="k", ls=":", lw=1, label="software")
        dx.set_xlabel(f"non-ideality level (x d2d {cfg.d2d}, c2c {cfg.c2c}, noise {cfg.read_noise}, "
                      f"mismatch {cfg.mismatch})", fontsize=8)
        dx.set_ylabel("test accuracy")
        dx.legend(fontsize=7)
    return fig


def report_hil(res: dict[str, pd.DataFrame], cfg: Config) -> None:
    runs = res["hil_runs"]
    print(runs[["seed", "variant", "test_acc", "deployed_acc", "seconds_per_epoch"]].to_string(index=False))
    curves = res["hil_curves"].dropna(subset=["inconsistent"])
    if len(curves):
        diag = curves.groupby("variant", sort=False)[["inconsistent", "write_error", "step"]].mean()
        print("per-variant diagnostics (means over seeds and epochs; write_error and step are RMS per weight):")
        print(diag.to_string(float_format=lambda v: f"{v:.3g}"))
    by = {name: g.set_index("seed") for name, g in runs.groupby("variant", sort=False)}
    sw = by["software"]
    seeds = sw.index
    ideal = float(by["ideal"]["max_weight_diff_vs_software"].max())
    hc = res["hil_curves"]
    if "weight_diff_vs_software" in hc:
        first = float(hc[(hc["variant"] == "ideal") & (hc["epoch"] == 1)]["weight_diff_vs_software"].max())
        print(_common.claim_line(
            "(hardware in the loop on an ideal array computes the software EventProp steps)", first <= 1e-9,
            f"largest |weight difference| after the first epoch ({math.ceil(cfg.hil_n_train / cfg.batch_size)} "
            f"steps) {first:.2g} against a rounding bound of 1e-9 (an exact check, no statistics)"))
    acc_ideal = paired(by["ideal"].loc[seeds, "test_acc"], sw["test_acc"])
    print(f"ideal array against software after {cfg.hil_epochs} epochs: largest |weight difference| {ideal:.2g} "
          f"(rounding differences of the two gradient paths, amplified by training); test accuracy {_fmt(acc_ideal)}")
    levels = [lv for lv in cfg.levels]
    for lv in levels:
        name = f"{cfg.preset} x{lv:g}"
        g = by[name].loc[seeds]
        loss_ = paired(sw["test_acc"], g["test_acc"])
        gain = paired(g["test_acc"], g["deployed_acc"])
        print(f"level {lv:g} ({name}): test accuracy {100 * g['test_acc'].mean():.2f} % (software "
              f"{100 * sw['test_acc'].mean():.2f} %, deployed {100 * g['deployed_acc'].mean():.2f} %)")
        print(f"  loss against software: {_fmt(loss_)}")
        print(f"  gain over deploying the software weights: {_fmt(gain)}")
        if lv == 1.0:
            ok = loss_["hi"] <= cfg.max_loss
            print(_common.claim_line(
                f"(hardware in the loop on the {cfg.preset} preset at level 1 loses at most "
                f"{100 * cfg.max_loss:.0f} pp of test accuracy against software)", bool(ok),
                f"upper end of the 95 % interval of the loss {100 * loss_['hi']:.2f} pp; {_fmt(loss_)}"))
            ok = gain["p"] < 0.05 and gain["mean"] > 0
            print(_common.claim_line(
                f"(training in the loop beats deploying software-trained weights on the same {cfg.preset} chip "
                "at level 1)", bool(ok), f"two-sided paired t-test at 0.05; {_fmt(gain)}"))
    lv_runs = runs[runs["level"].notna() & ~runs["readback"].astype(bool) & ~runs["exact_writes"].astype(bool)]
    if lv_runs["level"].nunique() > 1 and lv_runs["test_acc"].nunique() > 1:
        rho = stats.spearmanr(lv_runs["level"], lv_runs["test_acc"])
        r, p = float(rho.statistic), float(rho.pvalue)
        print(_common.claim_line("(test accuracy after training in the loop falls as device spread/noise grows)",
                                 r < 0 and p < 0.05, f"Spearman rho {r:.2f}, p = {p:.3g} over {len(lv_runs)} "
                                 f"(seed, level) runs, levels {list(levels)}"))
    if cfg.readback_level is not None:
        lv = cfg.readback_level
        rb, op = by[f"{cfg.preset} x{lv:g} read-back"].loc[seeds], by[f"{cfg.preset} x{lv:g}"].loc[seeds]
        r = paired(rb["test_acc"], op["test_acc"])
        print(f"read-back (host reads the chip's weights after every write) minus the BrainScaleS-2 scheme "
              f"(nominal weights never read back) at level {lv:g}: {_fmt(r)}")
    if cfg.exact_level is not None:
        g = by[f"exact writes, mismatch x{cfg.exact_level:g}"].loc[seeds]
        gain = paired(g["test_acc"], g["deployed_acc"])
        print(f"exact writes (ideal arrays), neuron mismatch {cfg.exact_level * cfg.mismatch:g}: test accuracy "
              f"{100 * g['test_acc'].mean():.2f} %, deployed {100 * g['deployed_acc'].mean():.2f} %")
        print(_common.claim_line(
            "(with exact weight writes, as on BrainScaleS-2, training in the loop beats deploying software-trained "
            "weights on a chip with neuron mismatch)", bool(gain["p"] < 0.05 and gain["mean"] > 0),
            f"two-sided paired t-test at 0.05; {_fmt(gain)}"))


def report(res: dict[str, pd.DataFrame], cfg: Config) -> None:
    if "runs" in res:
        runs = res["runs"]
        print(runs[["seed", "test_acc", "test_acc_at_best_val", "best_val_epoch", "spikes_per_sample",
                    "seconds_per_epoch"]].to_string(index=False))
        mean, sd, lo, hi = summary(runs["test_acc"].to_numpy())
        lo, hi = max(lo, 0.0), min(hi, 1.0)
        text = (f"test accuracy {100 * mean:.2f} % (sd {100 * sd:.2f}, 95 % interval {100 * lo:.2f}-{100 * hi:.2f})"
                f" over {len(runs)} seeds, {cfg.epochs} epochs of {cfg.n_train} samples")
        print(_common.claim_line(f"(software EventProp reaches >= {100 * cfg.target:.0f} % on Yin-Yang)",
                                 mean >= cfg.target, text))
    if "hil_runs" in res:
        report_hil(res, cfg)
    info = res["information"].set_index("readout")["bits_per_sample"]
    ratio = info["membrane sampling"] / info["spike times"]
    print(f"bits per gradient: spike times {info['spike times']:.0f}, membrane sampling "
          f"{info['membrane sampling']:.0f} (x{ratio:.0f})")


def main(argv: list[str] | None = None) -> int:
    return _common.main(argv, doc=__doc__, name=NAME, full=Config(), quick=QUICK, run=run, figure=figure,
                        figure_file="yinyang.png", report=report,
                        quick_help="2 seeds, 2 epochs, 300 samples, levels 0 and 1 (for CI)")


if __name__ == "__main__":
    sys.exit(main())
