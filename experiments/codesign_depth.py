"""Co-design 1: capacity and controllability versus depth at a fixed device budget.

Claim tested (Barrows, Lin, Caravelli & Chialvo 2024, the depth trade-off):
at a fixed number of devices, spending them on more hidden layers lowers the
controllability of the device states from the terminals and the capacity of
the (untailored) learning-from-mistakes controller.

Networks: ``layered([2, h, ..., h, 2], orientation="backward")`` of VTEAM
devices with 1 to 4 hidden layers, the width ``h`` chosen per depth so that
the device count ``4 h + (L - 1) h^2`` is closest to ``budget``. For each:

- controllability (:func:`memsim.analysis.controllability`) of the hardware
  through every configuration the controller may use
  (:func:`memsim.analysis.controller_configurations`), at uniform states
  (x = 0.5) and at ``ctrl_draws`` uniform random states (mean);
- structural capacity (:func:`memsim.analysis.structural_capacity`, io rank);
- empirical capacity (:func:`memsim.analysis.empirical_capacity`): random
  binary pattern sets on the 2 inputs (p <= 3), random initial states, the
  default pulses, ``n_sets`` sets x ``copies`` seeds per p (more sets than
  seeds: whether a net learns a set depends mostly on the set). Every depth
  sees the same pattern sets.

Verdict: the claim is supported when both the normalised controllability
(random states) and the mean number of learnable patterns fall with depth
(Spearman rank correlation with depth < 0) and the deepest net is below the
shallowest on both, each significantly (one-sided, p < ``alpha``): the
controllability draws by Mann-Whitney U, the capacity by Fisher's exact
test on the copies that learned, pooled over p (``scipy.stats.fisher_exact``).

Run::

    python experiments/codesign_depth.py [--quick] [--out results]

Writes ``results/codesign_depth/summary.csv`` (one row per depth),
``capacity.csv`` (one row per depth and p), ``controllability.csv`` (one row per
depth and random-state draw) and ``depth.png``.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass

import _common
import numpy as np
import pandas as pd
from scipy.stats import fisher_exact, spearmanr

from memsim import VTEAM, Network, layered
from memsim.analysis import (
    controllability,
    controller_configurations,
    empirical_capacity,
    structural_capacity,
)
from memsim.learning import Controller, build_hardware

NAME = "codesign_depth"


@dataclass(frozen=True)
class Config:
    """Experiment settings."""

    budget: int = 48  # devices
    depths: tuple[int, ...] = (1, 2, 3, 4)  # hidden layers
    n_sets: int = 24  # pattern sets per p
    copies: int = 2  # seeds per set
    max_eras: int = 12
    ctrl_draws: int = 6  # random-state draws for the controllability mean
    alpha: float = 0.05
    seed: int = 21
    workers: int = 1  # processes training pattern sets in parallel (same numbers for any value)


QUICK = Config(budget=12, depths=(1, 2), n_sets=1, copies=2, max_eras=4, ctrl_draws=1)


def layers_for(depth: int, budget: int, n_in: int = 2, n_out: int = 2) -> list[int]:
    """Layer sizes with ``depth`` hidden layers of equal width, device count closest to ``budget``."""
    def devices(h: int) -> int:
        return (n_in + n_out) * h + (depth - 1) * h * h

    h = min(range(1, budget + 1), key=lambda w: (abs(devices(w) - budget), w))
    return [n_in] + [h] * depth + [n_out]


def _ctrl(net: Network, x0, seed: int):
    hw = build_hardware(net, x0=x0, seed=seed)
    return controllability(hw.circuit, controller_configurations(hw), x=hw.x[0]), hw


def run(cfg: Config) -> dict[str, pd.DataFrame]:
    rows, curves, draws = [], [], []
    for depth in cfg.depths:
        t0 = time.perf_counter()
        sizes = layers_for(depth, cfg.budget)
        net = Network.from_graph(layered(sizes, orientation="backward"), VTEAM())
        uni, hw_u = _ctrl(net, 0.5, cfg.seed)
        rnd = [_ctrl(net, "random", cfg.seed + d)[0] for d in range(cfg.ctrl_draws)]
        draws += [{"depth": depth, "draw": d, "ctrl_rank": c.rank, "ctrl_norm": c.normalised_rank}
                  for d, c in enumerate(rnd)]
        sc = structural_capacity(hw_u.circuit, x=hw_u.x[0])
        cap = empirical_capacity(net, tasks="random", n_sets=cfg.n_sets, copies=cfg.copies,
                                 controller=Controller(max_eras=cfg.max_eras), seed=cfg.seed, workers=cfg.workers)
        tab = cap.table()
        tab.insert(0, "depth", depth)
        curves.append(tab)
        rows.append({
            "depth": depth, "layers": "-".join(map(str, sizes)), "devices": net.n_edges,
            "ctrl_rank_uniform": uni.rank, "ctrl_norm_uniform": uni.normalised_rank,
            "ctrl_rank_random": float(np.mean([c.rank for c in rnd])),
            "ctrl_norm_random": float(np.mean([c.normalised_rank for c in rnd])),
            "io_rank_uniform": sc.io_rank, "capacity": cap.capacity, "mean_learnable": cap.mean_learnable,
            "learned": int(cap.successes.sum()), "trials": int(cap.n_trials.sum()),
            **{f"P_{int(p)}": pr for p, pr in zip(cap.p, cap.probability)},
        })
        r = rows[-1]
        print(f"  depth {depth} ({r['layers']}, {r['devices']} devices): controllability uniform "
              f"{uni.rank}/{uni.n_dynamic}, random {r['ctrl_rank_random']:.1f}/{uni.n_dynamic}; capacity "
              f"{cap.capacity}, mean learnable {cap.mean_learnable:.2f}, P = {np.round(cap.probability, 2).tolist()} "
              f"({time.perf_counter() - t0:.0f} s)", flush=True)
    return {"summary": pd.DataFrame(rows), "capacity": pd.concat(curves, ignore_index=True),
            "controllability": pd.DataFrame(draws)}


def verdict(res: dict[str, pd.DataFrame], alpha: float) -> tuple[bool, str]:
    """Does the table support the claim? (see the module docstring)"""
    s = res["summary"].sort_values("depth")
    if len(s) < 2:
        return False, "fewer than two depths: no trend"
    rho_c = spearmanr(s["depth"], s["ctrl_norm_random"]).statistic if s["ctrl_norm_random"].nunique() > 1 else 0.0
    rho_m = spearmanr(s["depth"], s["mean_learnable"]).statistic if s["mean_learnable"].nunique() > 1 else 0.0
    first, last = s.iloc[0], s.iloc[-1]
    d = res["controllability"]
    _, p_c = _common.mann_whitney_greater(d.loc[d["depth"] == first["depth"], "ctrl_norm"],
                                          d.loc[d["depth"] == last["depth"], "ctrl_norm"])
    table = [[first["learned"], first["trials"] - first["learned"]], [last["learned"], last["trials"] - last["learned"]]]
    p_m = float(fisher_exact(table, alternative="greater").pvalue)
    ok = (rho_c < 0 and rho_m < 0 and last["ctrl_norm_random"] < first["ctrl_norm_random"]
          and last["mean_learnable"] < first["mean_learnable"] and p_c < alpha and p_m < alpha)
    text = (f"normalised controllability (random states) {first['ctrl_norm_random']:.3f} -> "
            f"{last['ctrl_norm_random']:.3f} (Spearman rho {rho_c:+.2f}; Mann-Whitney p = {p_c:.2g}); mean learnable "
            f"patterns {first['mean_learnable']:.2f} -> {last['mean_learnable']:.2f} (rho {rho_m:+.2f}; learned "
            f"{int(first['learned'])}/{int(first['trials'])} vs {int(last['learned'])}/{int(last['trials'])}, "
            f"Fisher p = {p_m:.2g}), depth {int(first['depth'])} -> {int(last['depth'])}, alpha {alpha}")
    return bool(ok), text


def figure(res: dict[str, pd.DataFrame], cfg: Config):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from memsim.plotting import plot_capacity_curve

    s, c = res["summary"], res["capacity"]
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8), constrained_layout=True)
    for depth, g in c.groupby("depth"):
        lay = s.loc[s["depth"] == depth, "layers"].iloc[0]
        plot_capacity_curve(g["p"], g["probability"], g["low"], g["high"], ax=axes[0], label=f"{lay}")
    axes[0].set_title("P(learned | p), random pattern sets (95 % Wilson)")
    ax = axes[1]
    ax.plot(s["depth"], s["ctrl_norm_uniform"], "s--", label="controllability, uniform states")
    ax.plot(s["depth"], s["ctrl_norm_random"], "o-", label="controllability, random states")
    ax.set_xlabel("hidden layers")
    ax.set_ylabel("rank W / devices")
    ax.set_ylim(0, 1.05)
    ax2 = ax.twinx()
    ax2.plot(s["depth"], s["mean_learnable"], "^-", color="tab:red", label="mean learnable patterns")
    ax2.set_ylabel("mean learnable patterns", color="tab:red")
    ax2.set_ylim(0, max(3.2, float(s["mean_learnable"].max()) + 0.2))
    ax.set_xticks(list(s["depth"]))
    h1, l1 = ax.get_legend_handles_labels()
    h2, l2 = ax2.get_legend_handles_labels()
    ax.legend(h1 + h2, l1 + l2, fontsize=7, loc="lower left")
    ax.set_title(f"fixed budget ~{cfg.budget} devices")
    return fig


def report(res: dict[str, pd.DataFrame], cfg: Config) -> None:
    print(res["summary"].to_string(index=False))
    ok, text = verdict(res, cfg.alpha)
    print(_common.claim_line("(depth lowers controllability and capacity at a fixed budget)", ok, text))


def main(argv: list[str] | None = None) -> int:
    return _common.main(argv, doc=__doc__, name=NAME, full=Config(), quick=QUICK, run=run, figure=figure,
                        figure_file="depth.png", report=report, quick_help="two small depths, few sets (for CI)")


if __name__ == "__main__":
    sys.exit(main())
