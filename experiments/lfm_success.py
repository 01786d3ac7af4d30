"""Experiment 2: success rate and presentations to learn, every map of a 2-input, 2-output net.

For each of the 2**2 = 4 association maps (input i -> output f(i)) and each
network (the paper's 2-4-2 and, for comparison, the single-layer 2-2 net),
train ``copies`` seeded copies (random initial states) with the default
controller until an error-free era (at most ``max_eras``). Reports the
success rate with a 95 % Wilson interval and the distribution of
presentations to learn (presentations up to and including the last mistake).

Run::

    python experiments/lfm_success.py [--quick] [--out results]

Writes ``results/lfm_success/summary.csv`` (one row per network and map),
``runs.csv`` (one row per copy) and ``success.png``.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field

import _common
import numpy as np
import pandas as pd

from memsim import VTEAM, Network, layered
from memsim.analysis import wilson_interval
from memsim.learning import Controller, Pulses, all_associations, build_hardware, train

NAME = "lfm_success"


@dataclass(frozen=True)
class Config:
    """Experiment 2 settings."""

    copies: int = 100  # seeds per map
    networks: tuple[tuple[int, ...], ...] = ((2, 4, 2), (2, 2))
    max_eras: int = 50
    seed: int = 7
    pulses: Pulses = field(default_factory=Pulses)


QUICK = Config(copies=6, networks=((2, 4, 2),), max_eras=30)


def run(cfg: Config) -> dict[str, pd.DataFrame]:
    rows, runs = [], []
    for layers in cfg.networks:
        net = Network.from_graph(layered(list(layers), orientation="backward"), VTEAM())
        for m, task in enumerate(all_associations(2, 2)):
            hw = build_hardware(net, n_copies=cfg.copies, seed=cfg.seed + 1000 * m)
            out = train(hw, task, Controller(pulses=cfg.pulses, max_eras=cfg.max_eras), seed=cfg.seed)
            ptl = out.presentations_to_learn
            ok = out.learned
            lo, hi = wilson_interval(int(ok.sum()), cfg.copies)
            learned = ptl[ok]
            rows.append({
                "layers": "-".join(map(str, layers)), "map": "".join(map(str, task.targets)),
                "copies": cfg.copies, "learned": int(ok.sum()), "success_rate": ok.mean(),
                "success_lo": lo, "success_hi": hi,
                "presentations_mean": learned.mean() if ok.any() else np.nan,
                "presentations_median": np.median(learned) if ok.any() else np.nan,
                "presentations_p90": np.quantile(learned, 0.9) if ok.any() else np.nan,
                "presentations_max": learned.max() if ok.any() else np.nan,
                "mistakes_mean": out.mistakes.mean(),
                "eras_to_learn_mean": out.state.learned_era[ok].mean() if ok.any() else np.nan,
            })
            runs.extend({"layers": rows[-1]["layers"], "map": rows[-1]["map"], "copy": c, "learned": bool(ok[c]),
                         "presentations_to_learn": ptl[c], "mistakes": int(out.mistakes[c])}
                        for c in range(cfg.copies))
            print(f"  {rows[-1]['layers']} map {rows[-1]['map']}: {rows[-1]['learned']}/{cfg.copies} learned, "
                  f"presentations to learn mean {rows[-1]['presentations_mean']:.1f}", flush=True)
    return {"summary": pd.DataFrame(rows), "runs": pd.DataFrame(runs)}


def figure(res: dict[str, pd.DataFrame], cfg: Config):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    s, r = res["summary"], res["runs"]
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6), constrained_layout=True)
    labels = [f"{a}\nmap {b}" for a, b in zip(s["layers"], s["map"])]
    x = np.arange(len(s))
    axes[0].bar(x, s["success_rate"], color="tab:blue")
    err = np.clip([s["success_rate"] - s["success_lo"], s["success_hi"] - s["success_rate"]], 0, None)
    axes[0].errorbar(x, s["success_rate"], yerr=err, fmt="none", ecolor="k", capsize=3)
    axes[0].set_xticks(x, labels, fontsize=7)
    axes[0].set_ylim(0, 1.05)
    axes[0].set_ylabel("success rate (95 % CI)")
    data = [r[(r["layers"] == a) & (r["map"] == b) & r["learned"]]["presentations_to_learn"].to_numpy()
            for a, b in zip(s["layers"], s["map"])]
    axes[1].boxplot([d if d.size else [np.nan] for d in data], positions=x)
    axes[1].set_xticks(x, labels, fontsize=7)
    axes[1].set_ylabel("presentations to learn")
    fig.suptitle(f"all maps of a 2-input, 2-output net, {cfg.copies} seeds each")
    return fig


def report(res: dict[str, pd.DataFrame], cfg: Config) -> None:
    print(res["summary"][["layers", "map", "learned", "copies", "presentations_mean", "presentations_median"]]
          .to_string(index=False))


def main(argv: list[str] | None = None) -> int:
    return _common.main(argv, doc=__doc__, name=NAME, full=Config(), quick=QUICK, run=run, figure=figure,
                        figure_file="success.png", report=report, quick_help="a few copies, 2-4-2 only (for CI)")


if __name__ == "__main__":
    sys.exit(main())
