"""Co-design 4: local contrast of the conductances among the surviving devices, against a random-pruning null model.

Claim tested (Barrows, Lin, Caravelli & Chialvo 2024): pruning lets
stochastic device resources create local contrast in the weights.

**Metric.** Local contrast is the weighted asymmetry of the final
conductances *among the devices that survive*: inside each class of
interchangeable edges (:func:`memsim.analysis.symmetry.edge_classes`) the
coefficient of variation of the surviving devices' conductances, averaged
with the surviving counts as weights (:func:`surviving_asymmetry`). An
earlier version of this study counted opened (pruned) devices as g = 0 S,
which raises the contrast by construction whenever anything is opened; that
figure (``asym_all``) is still computed, to show the artefact, but decides
nothing.

**Hardware** (the baseline, not degenerate by construction): the 2-4-2
layered net of VTEAM devices (``orientation="backward"``) with uniform random
initial states and device-to-device spread plus cycle-to-cycle rate noise,
``Variability(d2d, c2c)`` (:func:`memsim.learning.build_hardware`). The
initial states are a modelling choice, so every condition is also run from
uniform states x = 0.5 (``start = "uniform"``; with the spread the net is
still not symmetric). ``copies`` copies per map are trained on the two
bijective 2-pattern association maps (input 0 -> output 0, 1 -> 1 and the
swap). Conditions, per start (every condition of a copy has the same initial
hardware: same seeds):

- ``trained``: the variable hardware trained, no pruning;
- ``trained+pruning``: the same with the hardware pruning rule (a device
  whose conductance falls below that of x = ``prune_x`` breaks open for good);
- ``null`` (the null model): the same initial hardware, **not trained**, with
  as many devices opened at random as its ``trained+pruning`` twin lost;
- ``noiseless+pruning``: identical, noiseless devices with the pruning rule
  (no device randomness; from uniform states it is exactly symmetric: a
  labelled degenerate reference).

**Verdict** (per start; the claim line is the baseline start's): supported
when ``trained+pruning`` has a larger surviving-device contrast than both
``null`` and ``trained`` (paired by copy, one-sided Wilcoxon signed-rank test,
p < ``alpha``; effect = mean paired difference with a 95 % bootstrap
interval, ``experiments/_baseline.py``).

Run::

    python experiments/codesign_contrast.py [--quick] [--out results]

Writes ``results/codesign_contrast/runs.csv`` (one row per copy),
``conductances.csv`` (every final conductance, open devices flagged),
``summary.csv``, ``tests.csv`` and ``contrast.png``.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass

import _common
import _baseline
import numpy as np
import pandas as pd

from memsim import VTEAM, Network, Variability, layered
from memsim.analysis import wilson_interval
from memsim.analysis.symmetry import edge_classes, weighted_asymmetry
from memsim.devices import functions as fn
from memsim.learning import Controller, association, build_hardware, prune_edges, train

NAME = "codesign_contrast"
STARTS = ("random", "uniform")  # initial states; "random" is the baseline
CONDITIONS = ("trained", "trained+pruning", "null", "noiseless+pruning")
#: (condition, against): both must hold for the claim
TESTS = (("trained+pruning", "null"), ("trained+pruning", "trained"))


@dataclass(frozen=True)
class Config:
    """Experiment settings."""

    layers: tuple[int, ...] = (2, 4, 2)
    maps: tuple[tuple[int, ...], ...] = ((0, 1), (1, 0))
    copies: int = 64  # per map, start and condition
    d2d: float = 0.1  # log-normal sigma of the device spread
    c2c: float = 0.1  # log-normal sigma of the cycle-to-cycle rate noise
    prune_x: float = 0.15  # prune below the conductance of this state
    max_eras: int = 40
    alpha: float = 0.05
    seed: int = 51


QUICK = Config(layers=(2, 2, 2), maps=((0, 1),), copies=4, max_eras=4)


def prune_threshold(device: VTEAM, x: float) -> float:
    """Conductance (S) of ``device`` at state ``x`` (:func:`memsim.devices.functions.conductance`)."""
    return float(fn.conductance(np.array([device.model_id]), device.pack()[None, :], np.array([x]))[0])


def coefficient_of_variation(g: np.ndarray) -> float:
    return float(g.std() / g.mean()) if g.size and g.mean() > 0 else float("nan")


def surviving_asymmetry(classes: np.ndarray, g: np.ndarray, open_: np.ndarray) -> float:
    """Weighted asymmetry of ``g`` among the devices not in ``open_``.

    ``sum_c n_c CV_c / sum_c n_c`` over the edge classes ``c`` (``classes``,
    :func:`memsim.analysis.symmetry.edge_classes`), with ``n_c`` and ``CV_c``
    the number and the coefficient of variation of the class's surviving
    devices; a class with one survivor has no contrast (CV 0). With nothing
    open it is :func:`memsim.analysis.symmetry.weighted_asymmetry`.
    """
    keep = ~np.asarray(open_, dtype=bool)
    acc, total = 0.0, 0
    for c in np.unique(classes[keep]):
        w = np.abs(g[keep & (classes == c)])
        if w.size > 1 and w.mean() > 0:
            acc += w.size * w.std() / w.mean()
        total += w.size
    return acc / total if total else float("nan")


def _rows(net: Network, classes, cond: str, start: str, label: str, g, open_, learned) -> tuple[list, list]:
    rows, cond_rows = [], []
    for c in range(g.shape[0]):
        rows.append({"start": start, "condition": cond, "map": label, "copy": c, "learned": bool(learned[c]),
                     "open_devices": int(open_[c].sum()),
                     "asym_surv": surviving_asymmetry(classes, g[c], open_[c]),
                     "asym_all": weighted_asymmetry(net, g[c]),
                     "cv_surv": coefficient_of_variation(g[c][~open_[c]]), "cv_all": coefficient_of_variation(g[c])})
        cond_rows.extend({"start": start, "condition": cond, "map": label, "copy": c, "edge": e,
                          "conductance": float(g[c, e]), "open": bool(open_[c, e])} for e in range(g.shape[1]))
    return rows, cond_rows


def run(cfg: Config) -> dict[str, pd.DataFrame]:
    dev = VTEAM()
    net = Network.from_graph(layered(list(cfg.layers), orientation="backward"), dev)
    classes = edge_classes(net)
    threshold = prune_threshold(dev, cfg.prune_x)
    ctrl = Controller(max_eras=cfg.max_eras)
    var = Variability(d2d=cfg.d2d, c2c=cfg.c2c)
    rows, cond_rows = [], []
    for start in STARTS:
        x0 = "random" if start == "random" else 0.5
        for mi, mapping in enumerate(cfg.maps):
            t0 = time.perf_counter()
            label = " ".join(f"{i}->{t}" for i, t in enumerate(mapping))
            seed = cfg.seed + 100 * mi  # the same initial hardware under every condition of a start
            task = association(mapping)
            pruned_counts = None
            for cond in ("trained+pruning", "trained", "noiseless+pruning"):
                hw = build_hardware(net, n_copies=cfg.copies, x0=x0, seed=seed,
                                    variability=None if cond.startswith("noiseless") else var,
                                    prune_below=threshold if cond.endswith("pruning") else 0.0)
                out = train(hw, task, ctrl, seed=seed)
                open_ = np.asarray(out.hardware.open_edges[:, : net.n_edges])
                if cond == "trained+pruning":
                    initial, pruned_counts = hw, open_.sum(axis=1)
                r, cr = _rows(net, classes, cond, start, label, out.hardware.conductances(), open_, out.learned)
                rows.extend(r)
                cond_rows.extend(cr)
            # null model: the initial hardware of trained+pruning, the same number of random devices opened per copy
            rng = np.random.default_rng([cfg.seed, 7, mi, STARTS.index(start)])
            mask = np.zeros((cfg.copies, net.n_edges), dtype=bool)
            for c, k in enumerate(pruned_counts):
                mask[c, rng.choice(net.n_edges, size=int(k), replace=False)] = True
            null = prune_edges(initial, mask)
            r, cr = _rows(net, classes, "null", start, label, null.conductances(),
                          np.asarray(null.open_edges[:, : net.n_edges]), np.zeros(cfg.copies, dtype=bool))
            rows.extend(r)
            cond_rows.extend(cr)
            cur = pd.DataFrame(rows)
            cur = cur[(cur["start"] == start) & (cur["map"] == label)].groupby("condition", sort=False)
            print(f"  start {start}, map {label}: " + "; ".join(
                f"{c} contrast {g['asym_surv'].mean():.3f} (open = 0 S: {g['asym_all'].mean():.3f}), "
                f"open {g['open_devices'].mean():.1f}" for c, g in cur) + f" ({time.perf_counter() - t0:.0f} s)",
                flush=True)
    runs = pd.DataFrame(rows)
    summary = runs.groupby(["start", "condition"], sort=False).agg(
        copies=("learned", "size"), learned=("learned", "sum"), open_devices=("open_devices", "mean"),
        asym_surv=("asym_surv", "mean"), asym_surv_sd=("asym_surv", "std"), asym_all=("asym_all", "mean"),
        cv_surv=("cv_surv", "mean"), cv_all=("cv_all", "mean")).reset_index()
    low, high = wilson_interval(summary["learned"].to_numpy(), summary["copies"].to_numpy())
    summary = summary.assign(learned_low=low, learned_high=high)
    tests = []
    for start in STARTS:
        s = runs[runs["start"] == start]
        for a, b in TESTS:
            for metric in ("asym_surv", "asym_all"):
                res = _baseline.compare(s.loc[s["condition"] == a, metric].to_numpy(),
                                      s.loc[s["condition"] == b, metric].to_numpy(), seed=cfg.seed)
                tests.append({"start": start, "condition": a, "against": b, "metric": metric, **res.__dict__})
    return {"runs": runs, "conductances": pd.DataFrame(cond_rows), "summary": summary, "tests": pd.DataFrame(tests)}


def verdict(tests: pd.DataFrame, alpha: float, start: str) -> tuple[bool, str]:
    t = tests[(tests["start"] == start) & (tests["metric"] == "asym_surv")]
    ok = bool(((t["p_value"] < alpha) & (t["delta"] > 0)).all())
    return ok, "; ".join(f"{r.condition} vs {r.against}: " + _baseline.Paired.from_row(r).text()
                         for r in t.itertuples())


def figure(res: dict[str, pd.DataFrame], cfg: Config):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    runs, g = res["runs"], res["conductances"]
    fig, axes = plt.subplots(1, 4, figsize=(17, 4), constrained_layout=True)
    base = g[(g["start"] == STARTS[0]) & ~g["open"]]
    pos = base.loc[base["conductance"] > 0, "conductance"] * 1e3
    bins = np.geomspace(float(pos.min()) if len(pos) else 1e-3, max(float(pos.max()) if len(pos) else 1.0, 1e-3) * 1.01,
                        40)
    for cond in CONDITIONS:
        axes[0].hist(base.loc[base["condition"] == cond, "conductance"] * 1e3, bins=bins, histtype="step", lw=1.4,
                     label=cond)
    axes[0].set_xscale("log")
    axes[0].set_xlabel("final conductance of surviving devices (mS)")
    axes[0].set_ylabel("devices")
    axes[0].set_title(f"start {STARTS[0]} (baseline)", fontsize=9)
    axes[0].legend(fontsize=7)
    width = 0.8 / len(STARTS)
    for si, start in enumerate(STARTS):
        s = runs[runs["start"] == start]
        counts = [s.loc[s["condition"] == c, "open_devices"].mean() for c in CONDITIONS]
        axes[1].bar(np.arange(len(CONDITIONS)) + (si - 0.5) * width, counts, width, label=f"start {start}")
    axes[1].set_xticks(range(len(CONDITIONS)), [c.replace("+", "+\n") for c in CONDITIONS], fontsize=7)
    axes[1].set_ylabel("opened devices per copy (mean)")
    axes[1].set_title("null: as many random opens as trained+pruning", fontsize=9)
    axes[1].legend(fontsize=7)
    for ax, metric, title in ((axes[2], "asym_surv", "among surviving devices (the metric)"),
                              (axes[3], "asym_all", "opened devices counted as 0 S (artefact)")):
        pos, data, labels = [], [], []
        for si, start in enumerate(STARTS):
            for ci, cond in enumerate(CONDITIONS):
                pos.append(ci * (len(STARTS) + 1) + si)
                data.append(runs.loc[(runs["start"] == start) & (runs["condition"] == cond), metric].to_numpy())
                degenerate = start == "uniform" and cond == "noiseless+pruning"
                labels.append(f"{cond}\n{start}" + (" (degenerate)" if degenerate else ""))
        ax.boxplot(data, positions=pos, widths=0.7)
        ax.set_xticks(pos, labels, fontsize=6, rotation=90)
        ax.set_ylabel("weighted asymmetry of g")
        ax.set_title(title, fontsize=9)
    fig.suptitle(f"{'-'.join(map(str, cfg.layers))} VTEAM net after {cfg.max_eras} eras at most "
                 f"(d2d {cfg.d2d}, c2c {cfg.c2c}, prune below x = {cfg.prune_x}); null: untrained, random opens")
    return fig


def report(res: dict[str, pd.DataFrame], cfg: Config) -> None:
    print(res["summary"].to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print(_baseline.modelling_choices(era_cap=cfg.max_eras, d2d_spread=f"sigma {cfg.d2d}", c2c_noise=f"sigma {cfg.c2c}",
                                    pruning_rule=f"opens below g(x = {cfg.prune_x})",
                                    initial_states="uniform random (baseline) or 0.5"))
    tests = res["tests"]
    old = tests[tests["metric"] == "asym_all"]
    for r in old.itertuples():
        print(f"  artefact check, start {r.start}: with opened devices counted as 0 S, {r.condition} vs {r.against} "
              f"{r.mean_a:.3f} vs {r.mean_b:.3f} (difference {r.delta:+.3f} [{r.low:+.3f}, {r.high:+.3f}], "
              f"p = {r.p_value:.2g})")
    for start in STARTS[1:]:
        ok, text = verdict(tests, cfg.alpha, start)
        print(f"  sensitivity, start {start}: {'supported' if ok else 'not supported'}: {text}")
    ok, text = verdict(tests, cfg.alpha, STARTS[0])
    print(_common.claim_line("(pruning lets stochastic device resources create local contrast among the surviving "
                             "devices, beyond a random-pruning null model and training without pruning)", ok,
                             f"(alpha {cfg.alpha}, start {STARTS[0]}) {text}"))


def main(argv: list[str] | None = None) -> int:
    return _common.main(argv, doc=__doc__, name=NAME, full=Config(), quick=QUICK, run=run, figure=figure,
                        figure_file="contrast.png", report=report, quick_help="a small net, a few copies (for CI)")


if __name__ == "__main__":
    sys.exit(main())
