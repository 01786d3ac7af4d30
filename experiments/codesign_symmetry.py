"""Co-design 3: the same topology before and after symmetry breaking (pruning, conductance spread).

Claim tested (Barrows, Lin, Caravelli & Chialvo 2024): breaking the symmetry
of a network raises its controllability and its average capacity.

Base: the paper's 2-4-2 layered net of VTEAM devices (``orientation="backward"``)
at uniform states x = 0.5, whose four hidden nodes are interchangeable.
For each of ``n_seeds`` seeds, three conditions:

- ``uniform``: the base net;
- ``pruned``: the base net with ``prune_k`` devices removed at random
  (:func:`memsim.analysis.symmetry.prune_random`, seeded), states still uniform;
- ``spread``: the base topology with states ``0.5 + N(0, spread^2)``
  (:func:`memsim.analysis.symmetry.spread_states`, seeded).

Each is scored by its normalised controllability rank (through every
configuration the controller uses, :func:`memsim.analysis.controller_configurations`)
and its mean number of learnable patterns
(:func:`memsim.analysis.empirical_capacity`: random binary pattern sets on
the 2 inputs, p <= 3, ``n_sets`` sets per p, one copy: the hardware of a
seed is deterministic). A seed draws the same pattern sets in all three
conditions.

Significance: one-sided Mann-Whitney U test (``scipy.stats.mannwhitneyu``,
``alternative="greater"``) of each broken condition against ``uniform``,
over the seeds, for each figure; it ignores the pairing by seed (the paired
sets), which only makes it conservative. The claim is supported for a
breaker when both figures are larger with p < ``alpha``.

Run::

    python experiments/codesign_symmetry.py [--quick] [--out results]

Writes ``results/codesign_symmetry/runs.csv`` (one row per seed and
condition), ``tests.csv`` (one row per breaker and figure) and ``symmetry.png``.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass

import _common
import numpy as np
import pandas as pd

from memsim import VTEAM, Network, layered
from memsim.analysis import (
    controllability,
    controller_configurations,
    empirical_capacity,
)
from memsim.analysis.symmetry import node_orbits, prune_random, spread_states
from memsim.learning import Controller, build_hardware

NAME = "codesign_symmetry"
CONDITIONS = ("uniform", "pruned", "spread")
FIGURES = ("ctrl_norm", "mean_learnable")


@dataclass(frozen=True)
class Config:
    """Experiment settings."""

    layers: tuple[int, ...] = (2, 4, 2)
    n_seeds: int = 20
    prune_k: int = 3  # devices removed
    spread: float = 0.1  # state units
    n_sets: int = 5  # pattern sets per p and seed
    p_max: int | None = None  # default: every p (3 for two inputs)
    max_eras: int = 10
    alpha: float = 0.05
    seed: int = 41
    workers: int = 1  # processes training pattern sets in parallel (same numbers for any value)


QUICK = Config(layers=(2, 2, 2), n_seeds=2, prune_k=2, n_sets=1, p_max=2, max_eras=3)


def pruned_graph(layers, mask: np.ndarray):
    """``layered(layers, orientation="backward")`` without the edges whose index is in ``mask``."""
    g = layered(list(layers), orientation="backward")
    g.remove_edges_from([(u, v) for u, v, i in g.edges(data="index") if mask[i]])
    return g


def run(cfg: Config) -> dict[str, pd.DataFrame]:
    base = Network.from_graph(layered(list(cfg.layers), orientation="backward"), VTEAM())
    m = base.n_edges
    rows = []
    for s in range(cfg.n_seeds):
        seed = cfg.seed + s
        t0 = time.perf_counter()
        for cond in CONDITIONS:
            graph = layered(list(cfg.layers), orientation="backward")
            x0 = np.full(m, 0.5)
            if cond == "pruned":
                mask = prune_random(base, cfg.prune_k, seed=seed)
                graph = pruned_graph(cfg.layers, mask)
                x0 = np.full(m - cfg.prune_k, 0.5)
            elif cond == "spread":
                x0 = spread_states(x0, cfg.spread, seed=seed)
            net = Network.from_graph(graph, VTEAM())
            hw = build_hardware(net, x0=x0, seed=seed)
            cfgs = controller_configurations(hw)
            ctrl = controllability(hw.circuit, cfgs, x=hw.x[0])
            cap = empirical_capacity(net, tasks="random", x0=x0, p_max=cfg.p_max, n_sets=cfg.n_sets, copies=1,
                                     controller=Controller(max_eras=cfg.max_eras), seed=seed, workers=cfg.workers)
            rows.append({"seed": seed, "condition": cond, "devices": net.n_edges, "orbits": len(node_orbits(graph)),
                         "ctrl_rank": ctrl.rank, "ctrl_norm": ctrl.normalised_rank,
                         "capacity": cap.capacity,
                         "mean_learnable": cap.mean_learnable,
                         **{f"P_{int(p)}": pr for p, pr in zip(cap.p, cap.probability)}})
        r = rows[-3:]
        print(f"  seed {seed}: " + "; ".join(f"{x['condition']} rank {x['ctrl_rank']}/{x['devices']} mean "
                                             f"{x['mean_learnable']:.2f}" for x in r)
              + f" ({time.perf_counter() - t0:.0f} s)", flush=True)
    runs = pd.DataFrame(rows)
    tests = []
    uni = runs[runs["condition"] == "uniform"]
    for cond in CONDITIONS[1:]:
        brk = runs[runs["condition"] == cond]
        for fig in FIGURES:
            a, b = brk, uni
            u_stat, p = _common.mann_whitney_greater(a[fig], b[fig])
            tests.append({"breaker": cond, "figure": fig, "broken_mean": a[fig].mean(),
                          "uniform_mean": b[fig].mean(), "U": u_stat, "p_value": p,
                          "significant": p < cfg.alpha, "n_broken": len(a), "n_uniform": len(b)})
    return {"runs": runs, "tests": pd.DataFrame(tests)}


def verdict(tests: pd.DataFrame, alpha: float) -> list[tuple[str, bool, str]]:
    out = []
    for cond, g in tests.groupby("breaker", sort=False):
        ok = bool(np.all((g["p_value"] < alpha) & (g["broken_mean"] > g["uniform_mean"])))
        text = "; ".join(f"{r.figure}: {r.broken_mean:.3f} vs uniform {r.uniform_mean:.3f}, "
                         f"Mann-Whitney U = {r.U:.1f}, one-sided p = {r.p_value:.2g}" for r in g.itertuples())
        out.append((cond, ok, text))
    return out


def figure(res: dict[str, pd.DataFrame], cfg: Config):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    runs = res["runs"]
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.6), constrained_layout=True)
    rng = np.random.default_rng(0)
    for ax, fig_name, label in zip(axes, FIGURES, ("controllability rank / devices", "mean learnable patterns")):
        data = [runs.loc[runs["condition"] == c, fig_name].to_numpy() for c in CONDITIONS]
        ax.boxplot(data, positions=range(len(CONDITIONS)), widths=0.5)
        for i, d in enumerate(data):
            ax.plot(i + 0.08 * rng.standard_normal(d.size), d, "o", ms=3, alpha=0.6)
        ax.set_xticks(range(len(CONDITIONS)), CONDITIONS)
        ax.set_ylabel(label)
    fig.suptitle(f"{'-'.join(map(str, cfg.layers))} net, {cfg.n_seeds} seeds: prune {cfg.prune_k} devices "
                 f"or spread states by {cfg.spread}")
    return fig


def report(res: dict[str, pd.DataFrame], cfg: Config) -> None:
    print(res["runs"].groupby("condition", sort=False)[["ctrl_rank", "ctrl_norm", "capacity", "mean_learnable"]]
          .mean().to_string())
    for cond, ok, text in verdict(res["tests"], cfg.alpha):
        print(_common.claim_line(f"(breaking the symmetry by {cond} raises controllability and average capacity)",
                                 ok, f"(alpha {cfg.alpha}) {text}"))


def main(argv: list[str] | None = None) -> int:
    return _common.main(argv, doc=__doc__, name=NAME, full=Config(), quick=QUICK, run=run, figure=figure,
                        figure_file="symmetry.png", report=report, quick_help="a small net, two seeds (for CI)")


if __name__ == "__main__":
    sys.exit(main())
