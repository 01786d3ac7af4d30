"""Co-design 4: local contrast of the conductances after training, with and without pruning and device variability.

Claim tested (Barrows, Lin, Caravelli & Chialvo 2024): pruning lets
stochastic device resources create local contrast in the weights.

The 2-4-2 layered net of VTEAM devices (``orientation="backward"``) starts
at uniform states (x = 0.5), so any contrast between interchangeable devices
after training comes from the devices' randomness and the training. ``copies``
copies per map are trained on the two bijective 2-pattern association maps
(input 0 -> output 0, 1 -> 1 and the swap), which a symmetric net cannot
learn, under four conditions:

- ``plain``: identical, noiseless devices, no pruning;
- ``pruning``: the hardware pruning rule (a device whose conductance falls
  below that of x = ``prune_x`` breaks open for good);
- ``variability``: stochastic devices, ``Variability(d2d, c2c)``
  (device-to-device spread of the parameters, cycle-to-cycle rate noise);
- ``pruning+variability``: both.

Local contrast of the final conductances ``g`` (open devices: 0 S) of each
copy: :func:`memsim.analysis.symmetry.weighted_asymmetry` (size-weighted mean
coefficient of variation inside classes of interchangeable edges) and the
coefficient of variation of all its conductances (and of the devices that
survive pruning only, ``cv_surviving``, to separate the contrast that the
open devices contribute from the contrast among the working ones).

Verdict: supported when ``pruning+variability`` has a larger weighted
asymmetry than both ``variability`` and ``pruning`` alone (one-sided
Mann-Whitney U over the copies, ``scipy.stats.mannwhitneyu``, p < ``alpha``).

Run::

    python experiments/codesign_contrast.py [--quick] [--out results]

Writes ``results/codesign_contrast/runs.csv`` (one row per copy),
``conductances.csv`` (every final conductance), ``summary.csv`` and ``contrast.png``.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass

import _common
import numpy as np
import pandas as pd

from memsim import VTEAM, Network, Variability, layered
from memsim.analysis.symmetry import weighted_asymmetry
from memsim.devices import functions as fn
from memsim.learning import Controller, association, build_hardware, train

NAME = "codesign_contrast"
CONDITIONS = ("plain", "pruning", "variability", "pruning+variability")


@dataclass(frozen=True)
class Config:
    """Experiment settings."""

    layers: tuple[int, ...] = (2, 4, 2)
    maps: tuple[tuple[int, ...], ...] = ((0, 1), (1, 0))
    copies: int = 24  # per map and condition
    d2d: float = 0.1  # log-normal sigma of the device spread
    c2c: float = 0.1  # log-normal sigma of the cycle-to-cycle rate noise
    prune_x: float = 0.15  # prune below the conductance of this state
    max_eras: int = 20
    alpha: float = 0.05
    seed: int = 51


QUICK = Config(layers=(2, 2, 2), maps=((0, 1),), copies=3, max_eras=4)


def prune_threshold(device: VTEAM, x: float) -> float:
    """Conductance (S) of ``device`` at state ``x`` (:func:`memsim.devices.functions.conductance`)."""
    return float(fn.conductance(np.array([device.model_id]), device.pack()[None, :], np.array([x]))[0])


def coefficient_of_variation(g: np.ndarray) -> float:
    return float(g.std() / g.mean()) if g.mean() > 0 else float("nan")


def run(cfg: Config) -> dict[str, pd.DataFrame]:
    dev = VTEAM()
    net = Network.from_graph(layered(list(cfg.layers), orientation="backward"), dev)
    threshold = prune_threshold(dev, cfg.prune_x)
    rows, cond_rows = [], []
    for ci, cond in enumerate(CONDITIONS):
        t0 = time.perf_counter()
        var = Variability(d2d=cfg.d2d, c2c=cfg.c2c) if "variability" in cond else None
        prune = threshold if "pruning" in cond else 0.0
        for mi, mapping in enumerate(cfg.maps):
            seed = cfg.seed + 100 * mi  # the same seeds under every condition
            hw = build_hardware(net, n_copies=cfg.copies, x0=0.5, variability=var, prune_below=prune, seed=seed)
            out = train(hw, association(mapping), Controller(max_eras=cfg.max_eras), seed=seed)
            g = out.hardware.conductances()
            open_ = out.hardware.open_edges[:, : net.n_edges]
            for c in range(cfg.copies):
                rows.append({"condition": cond, "map": " ".join(f"{i}->{t}" for i, t in enumerate(mapping)), "copy": c,
                             "learned": bool(out.learned[c]), "open_devices": int(open_[c].sum()),
                             "weighted_asymmetry": weighted_asymmetry(net, g[c]),
                             "cv": coefficient_of_variation(g[c]),
                             "cv_surviving": coefficient_of_variation(g[c][~open_[c]])})
                cond_rows.extend({"condition": cond, "map": rows[-1]["map"], "copy": c, "edge": e,
                                  "conductance": float(g[c, e])} for e in range(net.n_edges))
        r = pd.DataFrame(rows)
        r = r[r["condition"] == cond]
        print(f"  {cond:>19}: weighted asymmetry {r['weighted_asymmetry'].mean():.3f}, CV {r['cv'].mean():.3f}, "
              f"open devices {r['open_devices'].mean():.2f}, learned {int(r['learned'].sum())}/{len(r)} "
              f"({time.perf_counter() - t0:.0f} s)", flush=True)
    runs = pd.DataFrame(rows)
    summary = runs.groupby("condition", sort=False).agg(
        copies=("learned", "size"), learned=("learned", "mean"), open_devices=("open_devices", "mean"),
        weighted_asymmetry=("weighted_asymmetry", "mean"), weighted_asymmetry_sd=("weighted_asymmetry", "std"),
        cv=("cv", "mean"), cv_sd=("cv", "std"), cv_surviving=("cv_surviving", "mean")).reset_index()
    return {"runs": runs, "conductances": pd.DataFrame(cond_rows), "summary": summary}


def verdict(runs: pd.DataFrame, alpha: float) -> tuple[bool, str]:
    both = runs.loc[runs["condition"] == "pruning+variability", "weighted_asymmetry"]
    parts, ok = [], True
    for other in ("variability", "pruning", "plain"):
        o = runs.loc[runs["condition"] == other, "weighted_asymmetry"]
        u, p = _common.mann_whitney_greater(both, o)
        if other != "plain":
            ok &= p < alpha
        parts.append(f"vs {other}: {both.mean():.3f} vs {o.mean():.3f} (U = {u:.0f}, one-sided p = {p:.2g})")
    sel = {c: runs[runs["condition"] == c] for c in ("pruning+variability", "variability")}
    parts.append("among the devices that survive pruning, CV {:.3f} vs {:.3f} without pruning; learned {:.0%} vs "
                 "{:.0%}".format(sel["pruning+variability"]["cv_surviving"].mean(),
                                 sel["variability"]["cv_surviving"].mean(),
                                 sel["pruning+variability"]["learned"].mean(), sel["variability"]["learned"].mean()))
    return bool(ok), "weighted asymmetry with pruning+variability " + "; ".join(parts)


def figure(res: dict[str, pd.DataFrame], cfg: Config):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    runs, g = res["runs"], res["conductances"]
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8), constrained_layout=True)
    bins = np.linspace(0.0, max(float(g["conductance"].max()), 1e-6), 40)
    for cond in CONDITIONS:
        axes[0].hist(g.loc[g["condition"] == cond, "conductance"] * 1e3, bins=bins * 1e3, histtype="step",
                     lw=1.4, label=cond)
    axes[0].set_xlabel("final conductance (mS); open devices at 0")
    axes[0].set_ylabel("devices")
    axes[0].set_yscale("log")
    axes[0].legend(fontsize=7)
    data = [runs.loc[runs["condition"] == c, "weighted_asymmetry"].to_numpy() for c in CONDITIONS]
    axes[1].boxplot(data, positions=range(len(CONDITIONS)), widths=0.5)
    axes[1].set_xticks(range(len(CONDITIONS)), [c.replace("+", "+\n") for c in CONDITIONS], fontsize=8)
    axes[1].set_ylabel("weighted asymmetry of g")
    fig.suptitle(f"{'-'.join(map(str, cfg.layers))} net from uniform states, after training "
                 f"(d2d {cfg.d2d}, c2c {cfg.c2c}, prune below x = {cfg.prune_x})")
    return fig


def report(res: dict[str, pd.DataFrame], cfg: Config) -> None:
    print(res["summary"].to_string(index=False))
    ok, text = verdict(res["runs"], cfg.alpha)
    print(_common.claim_line("(pruning lets stochastic device resources create local contrast in the weights)",
                             ok, f"(alpha {cfg.alpha}) {text}"))


def main(argv: list[str] | None = None) -> int:
    return _common.main(argv, doc=__doc__, name=NAME, full=Config(), quick=QUICK, run=run, figure=figure,
                        figure_file="contrast.png", report=report, quick_help="a small net, a few copies (for CI)")


if __name__ == "__main__":
    sys.exit(main())
