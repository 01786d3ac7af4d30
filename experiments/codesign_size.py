"""Co-design 2: capacity and controllability versus network size, uniform versus symmetry-broken.

Claims tested (Barrows, Lin, Caravelli & Chialvo 2024):

(a) without tailoring (the default pulses, tuned on the 2-4-2 net, used at
    every size) performance falls exponentially with size;
(b) breaking the symmetry raises controllability and average capacity.

Networks: ``layered(sizes, orientation="backward")`` of VTEAM devices from
2-2-2 up to 8-32-8, each at uniform states (x = 0.5: interchangeable hidden
nodes) and at uniform random states (symmetry broken). For each:
controllability through the controller's configurations
(:func:`memsim.analysis.controller_configurations`), structural capacity,
and, for nets of at most ``capacity_max_devices`` devices, the empirical
capacity on random binary pattern sets (``p <= p_max``), ``n_sets`` sets per
p and one copy per set in both variants: whether a net learns a set depends
far more on the set than on the seed (in the first runs, copies sharing a
set nearly always agreed), so independent sets buy more than copies, and
uniform hardware is deterministic anyway. Both variants see the same sets.

Cost: one training presentation of 8-32-8 with a punishment costs ~0.5-1 s
on one core, so nets above ``large_devices`` (4-16-4 and 8-32-8) get only
``n_sets_large`` sets per p, and ``max_eras`` is small; the full run takes
~22 minutes on one core, ~10 minutes with ``--workers 2`` (same numbers),
~3 minutes with ``capacity_max_devices`` 64 (without the two large nets'
empirical capacity).

"Performance" for (a) is the normalised controllability rank (every size)
and the mean number of learnable patterns (sizes with a capacity
measurement), of the uniform nets. "Exponential" is judged by comparing two
least-squares fits of the normalised rank against the device count ``M``:
exponential (``log y`` linear in ``M``) and power law (``log y`` linear in
``log M``), R^2 of each printed. Verdicts: (a) holds when both figures fall
with size (Spearman rho < 0) and the exponential fit has R^2 >= 0.8 and beats
the power law; (b) is split: (b1) the symmetry-broken net has a larger
controllability rank at every size; (b2) its mean capacity is at least as
large at every measured size and, pooled over sizes and p, it learns
significantly more of the (same) pattern sets (one-sided Fisher exact test,
``scipy.stats.fisher_exact``, p < ``alpha``).

Run::

    python experiments/codesign_size.py [--quick] [--out results]

Writes ``results/codesign_size/summary.csv`` (one row per size and
variant), ``capacity.csv`` and ``size.png``.
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

NAME = "codesign_size"
VARIANTS = ("uniform", "broken")


@dataclass(frozen=True)
class Config:
    """Experiment settings."""

    sizes: tuple[tuple[int, ...], ...] = ((2, 2, 2), (2, 4, 2), (2, 8, 2), (4, 8, 4), (4, 16, 4), (8, 32, 8))
    capacity_max_devices: int = 512  # empirical capacity only up to this many devices
    p_max: int = 4
    n_sets: int = 12  # pattern sets per p, one copy each
    large_devices: int = 64  # nets with more devices than this get n_sets_large sets per p
    n_sets_large: int = 6
    alpha: float = 0.05
    max_eras: int = 10
    seed: int = 31
    workers: int = 1  # processes training pattern sets in parallel (same numbers for any value)


QUICK = Config(sizes=((2, 2, 2), (2, 4, 2)), capacity_max_devices=8, p_max=2, n_sets=2, max_eras=4)


def run(cfg: Config) -> dict[str, pd.DataFrame]:
    rows, curves = [], []
    for sizes in cfg.sizes:
        net = Network.from_graph(layered(list(sizes), orientation="backward"), VTEAM())
        label = "-".join(map(str, sizes))
        for variant in VARIANTS:
            t0 = time.perf_counter()
            x0 = 0.5 if variant == "uniform" else "random"
            hw = build_hardware(net, x0=x0, seed=cfg.seed)
            ctrl = controllability(hw.circuit, controller_configurations(hw), x=hw.x[0])
            sc = structural_capacity(hw.circuit, x=hw.x[0])
            row = {"layers": label, "devices": net.n_edges, "variant": variant, "ctrl_rank": ctrl.rank,
                   "ctrl_norm": ctrl.normalised_rank, "condition_number": ctrl.condition_number,
                   "io_rank": sc.io_rank, "io_entries": sc.io_entries, "capacity": np.nan,
                   "mean_learnable": np.nan}
            if net.n_edges <= cfg.capacity_max_devices:
                n_sets = cfg.n_sets if net.n_edges <= cfg.large_devices else cfg.n_sets_large
                cap = empirical_capacity(net, tasks="random", x0=x0, p_max=cfg.p_max, n_sets=n_sets, copies=1,
                                         controller=Controller(max_eras=cfg.max_eras), seed=cfg.seed, workers=cfg.workers)
                row.update(capacity=cap.capacity, mean_learnable=cap.mean_learnable)
                row.update({f"P_{int(p)}": pr for p, pr in zip(cap.p, cap.probability)})
                tab = cap.table()
                tab.insert(0, "variant", variant)
                tab.insert(0, "layers", label)
                curves.append(tab)
            rows.append(row)
            cap_txt = (f"capacity {row['capacity']}, mean learnable {row['mean_learnable']:.2f}"
                       if np.isfinite(row["mean_learnable"]) else "capacity not measured (size)")
            print(f"  {label:>7} {variant:>7}: controllability {ctrl.rank}/{ctrl.n_dynamic} "
                  f"({ctrl.normalised_rank:.3f}), io rank {sc.io_rank}/{sc.io_entries}; {cap_txt} "
                  f"({time.perf_counter() - t0:.0f} s)", flush=True)
    cols = ["layers", "variant", "p", "n_trials", "successes", "probability", "low", "high", "presentations"]
    cap_df = pd.concat(curves, ignore_index=True) if curves else pd.DataFrame(columns=cols)
    return {"summary": pd.DataFrame(rows), "capacity": cap_df}


def _loglinear(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Slope and R^2 of a least-squares fit of log(y) on x (y > 0); pass log(x) for a power law."""
    keep = y > 0
    x, ly = np.asarray(x, float)[keep], np.log(np.asarray(y, float)[keep])
    if x.size < 3:
        return float("nan"), float("nan")
    slope, icept = np.polyfit(x, ly, 1)
    resid = ly - (slope * x + icept)
    tot = np.sum((ly - ly.mean()) ** 2)
    return float(slope), float(1 - np.sum(resid**2) / tot) if tot > 0 else float("nan")


def _rho(x, y) -> float:
    return float(spearmanr(x, y).statistic) if len(set(y)) > 1 and len(set(x)) > 1 else 0.0


def verdict(res: dict[str, pd.DataFrame], alpha: float = 0.05) -> list[tuple[str, bool, str]]:
    """Verdicts on claims (a) and (b) (see the module docstring)."""
    summary, curves = res["summary"], res["capacity"]
    out = []
    u = summary[summary["variant"] == "uniform"].sort_values("devices")
    b = summary[summary["variant"] == "broken"].sort_values("devices")
    um = u[np.isfinite(u["mean_learnable"])]
    m, y = u["devices"].to_numpy(float), u["ctrl_norm"].to_numpy(float)
    slope, r2 = _loglinear(m, y)
    exponent, r2_pow = _loglinear(np.log(m), y)
    mm, ym = um["devices"].to_numpy(float), um["mean_learnable"].to_numpy(float)
    _, r2_m = _loglinear(mm, ym)
    _, r2_m_pow = _loglinear(np.log(mm), ym)
    rho_c, rho_m = _rho(u["devices"], u["ctrl_norm"]), _rho(um["devices"], um["mean_learnable"])
    ok_a = rho_c < 0 and rho_m < 0 and np.isfinite(r2) and r2 >= 0.8 and r2 > r2_pow
    text = (f"uniform nets: normalised controllability {y[0]:.3f} -> {y[-1]:.3f} over {int(m[0])} -> {int(m[-1])} "
            f"devices (rho {rho_c:+.2f}); exponential fit {slope:.4f}/device R^2 {r2:.2f}, power law "
            f"M^{exponent:.2f} R^2 {r2_pow:.2f}; mean learnable patterns {um['mean_learnable'].round(2).tolist()} "
            f"over {um['layers'].tolist()} (rho {rho_m:+.2f}; exponential R^2 {r2_m:.2f}, power law R^2 "
            f"{r2_m_pow:.2f})")
    out.append(("(a) without tailoring, performance falls exponentially with size", bool(ok_a), text))
    both = u.merge(b, on="layers", suffixes=("_u", "_b"))
    higher_c = both["ctrl_rank_b"] > both["ctrl_rank_u"]
    text = (f"rank broken > uniform at {int(higher_c.sum())}/{len(both)} sizes "
            f"(broken {both['ctrl_norm_b'].round(3).tolist()} vs uniform {both['ctrl_norm_u'].round(3).tolist()})")
    out.append(("(b1) breaking the symmetry raises controllability", bool(higher_c.all()), text))
    meas = both[np.isfinite(both["mean_learnable_u"]) & np.isfinite(both["mean_learnable_b"])]
    higher_m = meas["mean_learnable_b"] >= meas["mean_learnable_u"]
    pooled = curves.groupby("variant")[["successes", "n_trials"]].sum() if len(curves) else None
    p_val = 1.0
    if pooled is not None and {"uniform", "broken"} <= set(pooled.index):
        k_b, n_b = pooled.loc["broken"]
        k_u, n_u = pooled.loc["uniform"]
        p_val = float(fisher_exact([[k_b, n_b - k_b], [k_u, n_u - k_u]], alternative="greater").pvalue)
        pooled_text = f"; sets learned, pooled over sizes and p: {k_b}/{n_b} vs {k_u}/{n_u}, Fisher p = {p_val:.2g}"
    else:
        pooled_text = ""
    text = (f"mean learnable patterns broken >= uniform at {int(higher_m.sum())}/{len(meas)} measured sizes "
            f"(broken {meas['mean_learnable_b'].round(2).tolist()} vs uniform "
            f"{meas['mean_learnable_u'].round(2).tolist()}, same pattern sets){pooled_text}, alpha {alpha}")
    out.append(("(b2) breaking the symmetry raises average capacity",
                bool(len(meas) and higher_m.all() and p_val < alpha), text))
    return out


def figure(res: dict[str, pd.DataFrame], cfg: Config):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    s = res["summary"]
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8), constrained_layout=True)
    for variant, g in s.groupby("variant", sort=False):
        g = g.sort_values("devices")
        axes[0].semilogy(g["devices"], g["ctrl_norm"], "o-", label=f"{variant} states")
        gm = g[np.isfinite(g["mean_learnable"])]
        axes[1].plot(gm["devices"], gm["mean_learnable"], "o-", label=f"{variant} states")
    axes[0].set_xscale("log", base=2)
    axes[0].set_xlabel("devices (" + ", ".join(s["layers"].unique()) + ")", fontsize=8)
    axes[0].set_ylabel("controllability rank / devices")
    axes[0].legend(fontsize=8)
    axes[1].set_xscale("log", base=2)
    axes[1].set_xlabel("devices")
    axes[1].set_ylabel(f"mean learnable patterns (p <= {cfg.p_max})")
    axes[1].set_ylim(0, None)
    axes[1].legend(fontsize=8)
    fig.suptitle("layered VTEAM nets, default pulses at every size")
    return fig


def report(res: dict[str, pd.DataFrame], cfg: Config) -> None:
    cols = ["layers", "devices", "variant", "ctrl_rank", "ctrl_norm", "io_rank", "capacity", "mean_learnable"]
    print(res["summary"][cols].to_string(index=False))
    for claim, ok, text in verdict(res, cfg.alpha):
        print(_common.claim_line(claim, ok, text))


def main(argv: list[str] | None = None) -> int:
    return _common.main(argv, doc=__doc__, name=NAME, full=Config(), quick=QUICK, run=run, figure=figure,
                        figure_file="size.png", report=report, quick_help="two small sizes, few sets (for CI)")


if __name__ == "__main__":
    sys.exit(main())
