"""Experiment 3: success rate versus network size, with and without symmetry breaking.

Layered networks of identical VTEAM devices, trained with the default
controller (pulses tuned on the 2-4-2 net, i.e. *not* tailored to the size) on
the two bijective 2-pattern maps (input 0 -> output 0, 1 -> 1, and the swap).
Sizes grow in width (``2-h-2``) and in depth (``2-4-...-4-2``). Variants:

- ``symmetric``: every device starts at x = 0.5 (a uniform network): its
  hidden nodes are interchangeable, both outputs receive exactly the same
  current and the controller gets no answer (Barrows et al. 2024: symmetry
  must be broken);
- ``symmetric+pruned``: the same, with a seeded random ``prune_fraction``
  of the edges removed per copy before training (structural pruning);
- ``symmetric+spread``: the same, with device-to-device spread ``d2d``;
- ``random``: uniform random initial states (the default hardware).

Run::

    python experiments/lfm_size.py [--quick] [--out results]

Writes ``results/lfm_size/summary.csv`` (one row per size, variant) and
``success_vs_size.png``.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field

import _common
import numpy as np
import pandas as pd

from memsim import VTEAM, Network, Variability, layered
from memsim.analysis.capacity import wilson_interval
from memsim.learning import (
    Controller,
    Pulses,
    association,
    build_hardware,
    prune_edges,
    train,
)

NAME = "lfm_size"
VARIANTS = ("symmetric", "symmetric+pruned", "symmetric+spread", "random")


@dataclass(frozen=True)
class Config:
    """Experiment 3 settings."""

    sizes: tuple[tuple[int, ...], ...] = ((2, 2, 2), (2, 4, 2), (2, 8, 2), (2, 16, 2), (2, 4, 4, 2), (2, 4, 4, 4, 2))
    variants: tuple[str, ...] = VARIANTS
    maps: tuple[tuple[int, ...], ...] = ((0, 1), (1, 0))
    copies: int = 20  # per size, variant and map
    prune_fraction: float = 0.2  # 1, edges removed per copy
    d2d: float = 0.1  # 1, log-normal sigma of the device spread
    max_eras: int = 30
    seed: int = 11
    pulses: Pulses = field(default_factory=Pulses)


QUICK = Config(sizes=((2, 4, 2), (2, 8, 2)), copies=2, max_eras=10)


def _hardware(net: Network, variant: str, cfg: Config, seed: int):
    if variant == "random":
        return build_hardware(net, n_copies=cfg.copies, seed=seed)
    var = Variability(d2d=cfg.d2d) if variant == "symmetric+spread" else None
    hw = build_hardware(net, n_copies=cfg.copies, x0=0.5, variability=var, seed=seed)
    if variant == "symmetric+pruned":
        hw = prune_edges(hw, fraction=cfg.prune_fraction, seed=seed)
    return hw


def run(cfg: Config) -> dict[str, pd.DataFrame]:
    rows = []
    for layers in cfg.sizes:
        net = Network.from_graph(layered(list(layers), orientation="backward"), VTEAM())
        family = "width" if len(layers) == 3 else "depth"
        for variant in cfg.variants:
            learned, ptl = [], []
            t0 = time.perf_counter()
            for m, mapping in enumerate(cfg.maps):
                hw = _hardware(net, variant, cfg, cfg.seed + 100 * m)
                out = train(hw, association(mapping), Controller(pulses=cfg.pulses, max_eras=cfg.max_eras), seed=cfg.seed)
                learned.append(out.learned)
                ptl.append(out.presentations_to_learn[out.learned])
            ok = np.concatenate(learned)
            pt = np.concatenate(ptl)
            n, k = ok.size, int(ok.sum())
            low, high = wilson_interval(k, n)  # 95 % Wilson interval (exact coverage near 0 and 1)
            rows.append({"layers": "-".join(map(str, layers)), "family": family, "devices": net.n_edges,
                         "hidden_layers": len(layers) - 2, "variant": variant, "runs": n, "learned": k,
                         "success_rate": k / n, "success_low": float(low), "success_high": float(high),
                         "presentations_mean": pt.mean() if pt.size else np.nan})
            print(f"  {rows[-1]['layers']:>9} {variant:>17}: {k}/{n} learned "
                  f"({time.perf_counter() - t0:.0f} s)", flush=True)
    return {"summary": pd.DataFrame(rows)}


def figure(res: dict[str, pd.DataFrame], cfg: Config):
    """Success versus width (devices of 2-h-2 nets) and versus depth (hidden layers of width 4)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    s = res["summary"]
    hidden = s["layers"].str.split("-").map(lambda parts: parts[1:-1])
    panels = [
        ("width", s[s["hidden_layers"] == 1], "devices", "devices (2-h-2 nets)", True),
        ("depth", s[hidden.map(lambda h: all(x == "4" for x in h))], "hidden_layers",
         "hidden layers of 4 nodes (2-4-...-4-2 nets)", False),
    ]
    panels = [p for p in panels if p[1]["layers"].nunique() > 1]
    fig, axes = plt.subplots(1, max(len(panels), 1), figsize=(4.8 * max(len(panels), 1), 3.6),
                             constrained_layout=True, squeeze=False)
    for ax, (_, sub, xcol, xlabel, logx) in zip(axes[0], panels):
        for variant, g in sub.groupby("variant", sort=False):
            err = [g["success_rate"] - g["success_low"], g["success_high"] - g["success_rate"]]
            ax.errorbar(g[xcol], g["success_rate"], yerr=err, fmt="o-", capsize=2, label=variant)
        if logx:
            ax.set_xscale("log", base=2)
        else:
            ax.set_xticks(sorted(sub[xcol].unique()))
        ax.set_xlabel(xlabel, fontsize=8)
        ax.set_ylabel("success rate")
        ax.set_ylim(-0.05, 1.05)
        ax.legend(fontsize=7)
    fig.suptitle(f"layered VTEAM nets, default pulses, {cfg.copies} seeds x {len(cfg.maps)} maps")
    return fig


def report(res: dict[str, pd.DataFrame], cfg: Config) -> None:
    print(res["summary"][["layers", "variant", "learned", "runs", "success_rate"]].to_string(index=False))


def main(argv: list[str] | None = None) -> int:
    return _common.main(argv, doc=__doc__, name=NAME, full=Config(), quick=QUICK, run=run, figure=figure,
                        figure_file="success_vs_size.png", report=report, quick_help="two sizes, a few copies (for CI)")


if __name__ == "__main__":
    sys.exit(main())
