"""Experiment 1: the setting of Barrows, Lin, Caravelli & Chialvo (2024).

A 2-4-2 network of VTEAM devices learns two alternating patterns (input 0 ->
output 0, input 1 -> output 1) over three training eras; we record the power
drawn in every presentation. The paper reports that the power per
presentation of a pattern falls during training, even when the network
settles into a wrong state.

Every copy is presented all three eras (``stop_after = eras``), so the
curves are not biased by copies that stop early; a copy "ends correct" when
its third era has no mistake.

Run::

    python experiments/lfm_paper_242.py [--quick] [--out results]

Writes ``results/lfm_paper_242/presentations.csv`` (one row per copy and
presentation), ``summary.csv`` (mean read power and mistake energy per
presentation index, pattern and outcome) and ``power.png``.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field

import _common
import pandas as pd

from memsim import VTEAM, Network, layered
from memsim.learning import Controller, Pulses, association, build_hardware, train

NAME = "lfm_paper_242"


@dataclass(frozen=True)
class Config:
    """Experiment 1 settings."""

    copies: int = 100  # networks (seeds of the random initial states)
    eras: int = 3  # training eras, as in the paper
    mapping: tuple[int, ...] = (0, 1)  # input i -> output mapping[i]
    seed: int = 2024
    pulses: Pulses = field(default_factory=Pulses)


QUICK = Config(copies=8)


def run(cfg: Config) -> dict[str, pd.DataFrame]:
    """Train and tabulate; returns ``{"presentations": ..., "summary": ...}``."""
    net = Network.from_graph(layered([2, 4, 2], orientation="backward"), VTEAM())
    hw = build_hardware(net, n_copies=cfg.copies, seed=cfg.seed)
    ctrl = Controller(pulses=cfg.pulses, max_eras=cfg.eras, stop_after=cfg.eras)
    out = train(hw, association(cfg.mapping), ctrl, seed=cfg.seed)
    p = out.presentations.copy()
    p["read_power"] = p["read_energy"] / cfg.pulses.read_duration
    last = p[p["era"] == cfg.eras - 1].groupby("copy")["correct"].all()
    p["ends_correct"] = p["copy"].map(last)
    summary = (
        p.groupby(["n", "pattern", "ends_correct"])
        .agg(read_power_mean=("read_power", "mean"), read_power_std=("read_power", "std"),
             mistake_rate=("correct", lambda c: 1.0 - c.mean()), punish_energy_mean=("punish_energy", "mean"),
             copies=("copy", "nunique"))
        .reset_index()
    )
    return {"presentations": p, "summary": summary}


def figure(res: dict[str, pd.DataFrame], cfg: Config):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    s = res["summary"]
    fig, axes = plt.subplots(1, 2, figsize=(9.5, 3.6), constrained_layout=True)
    for (pat, ok), g in s.groupby(["pattern", "ends_correct"]):
        style = "-" if ok else "--"
        label = f"pattern {pat}, {'ends correct' if ok else 'ends wrong'} ({g['copies'].iloc[0]})"
        axes[0].errorbar(g["n"], g["read_power_mean"] * 1e6, yerr=g["read_power_std"] * 1e6, fmt="o" + style,
                         capsize=2, label=label)
        axes[1].plot(g["n"], g["mistake_rate"], "o" + style, label=label)
    axes[0].set_xlabel("presentation (2 per era)")
    axes[0].set_ylabel("read power (µW)")
    axes[0].legend(fontsize=7)
    axes[1].set_xlabel("presentation (2 per era)")
    axes[1].set_ylabel("mistake rate")
    fig.suptitle(f"2-4-2 VTEAM network, {cfg.copies} seeds, {cfg.eras} eras")
    return fig


def report(res: dict[str, pd.DataFrame], cfg: Config) -> None:
    p = res["presentations"]
    first = p[p["n"] <= 2]["read_power"].mean()
    lastp = p[p["n"] > 2 * (cfg.eras - 1)]
    print(f"  {cfg.copies} copies, {cfg.eras} eras; mean read power: first era {first * 1e6:.3f} µW, "
          f"last era {lastp['read_power'].mean() * 1e6:.3f} µW")
    for ok, g in p.groupby("ends_correct"):
        f = g[g["n"] <= 2]["read_power"].mean()
        la = g[g["n"] > 2 * (cfg.eras - 1)]["read_power"].mean()
        print(f"  {'ends correct' if ok else 'ends wrong  '} ({g['copy'].nunique()} copies): "
              f"{f * 1e6:.3f} -> {la * 1e6:.3f} µW")


def main(argv: list[str] | None = None) -> int:
    return _common.main(argv, doc=__doc__, name=NAME, full=Config(), quick=QUICK, run=run, figure=figure,
                        figure_file="power.png", report=report, quick_help="a few copies (for CI)")


if __name__ == "__main__":
    sys.exit(main())
