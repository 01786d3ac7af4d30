"""Co-design 3: does breaking the symmetry of a net raise its controllability and capacity, on real-ish hardware?

Claim tested (Barrows, Lin, Caravelli & Chialvo 2024): breaking the symmetry
of a network raises its controllability and its average capacity.

**Why not against the symmetric net.** The paper's 2-4-2 layered net of
identical devices at uniform states (x = 0.5) is exactly symmetric: its four
hidden nodes are interchangeable, its normalised controllability rank is
(n_in + n_out - 1) / M = 3/16 by symmetry alone, and every input gives the
same normalised output currents, so it can learn only constant maps (mean
learnable patterns sum_p n_out^-(p-1) for random targets). Any breaker beats
it by construction. Real hardware is not symmetric to start with: devices
come with random states and device-to-device spread. So the breakers are
tested against that hardware, and the symmetric net is shown only as a
labelled degenerate reference.

Conditions (2-4-2 net of VTEAM devices, ``orientation="backward"``; every
condition of a unit is built from the same seeds):

- ``symmetric`` (degenerate reference): x = 0.5, identical devices;
- ``symmetric+pruned`` (degenerate reference; the earlier version of this
  study): the same with ``prune_k`` devices opened at random;
- ``narrow``: states ``0.5 + N(0, narrow^2)`` (clipped) and the
  device-to-device spread ``Variability(d2d)``;
- ``narrow+pruned``: the ``narrow`` copies with ``prune_k`` devices opened at
  random (the same devices as in the other pruned conditions);
- ``hardware`` (**baseline**): uniform random states in [0, 1) and the same
  device spread (:func:`memsim.learning.build_hardware` with random ``x0`` and
  ``variability``), the same spread draws as ``narrow``;
- ``hardware+pruned``: the ``hardware`` copies with ``prune_k`` devices opened
  at random (:func:`memsim.learning.prune_edges`; the same devices as in
  ``symmetric+pruned``).

Tests (each one-sided, paired, at level ``alpha``):

- **pruning** breaks the topology's symmetry: ``hardware+pruned`` against
  ``hardware``, and ``narrow+pruned`` against ``narrow`` (states near the
  symmetric point, where the degenerate reference says pruning helps most);
- **more spread** breaks the states' symmetry further: ``hardware`` against
  ``narrow``.

Figures scored for each:

- normalised controllability rank (rank of the Gramian through every
  configuration the controller uses, :func:`memsim.analysis.controller_configurations`,
  over the surviving devices; with each copy's own spread parameters) of
  ``n_draws`` hardware draws, paired by draw. Pruning removes devices, so
  the absolute rank is reported alongside: a normalised rank can rise while
  the number of controllable directions falls;
- mean learnable patterns ``sum_p P(learned | p)`` over random binary pattern
  sets on the 2 inputs (:func:`memsim.learning.random_patterns`, p = 1 ..
  ``p_max``), ``n_sets`` sets per p, ``copies`` hardware copies per set,
  paired by set (the difference of a set is the difference of its copies'
  success fractions).

Each test is a one-sided Wilcoxon signed-rank test of the paired differences;
the effect is the mean difference (for capacity: the difference of mean
learnable patterns, summed over p) with a 95 % bootstrap interval over the
units (``experiments/_baseline.py``). A breaker is supported when both figures
rise with p < ``alpha``. Success is learning within ``max_eras``; the capacity
verdict is re-scored at the smaller caps ``caps`` (from each copy's learning
era, exact: a run with a smaller cap is the prefix of this one).

Run::

    python experiments/codesign_symmetry.py [--quick] [--out results] [--workers N]

Writes ``results/codesign_symmetry/controllability.csv`` (one row per draw and
condition), ``trials.csv`` (one row per pattern set, copy and condition),
``tests.csv`` (one row per test, figure and cap) and ``symmetry.png``.
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
from memsim.analysis import controllability, controller_configurations, wilson_interval
from memsim.analysis.symmetry import spread_states
from memsim.learning import Controller, Hardware, build_hardware, prune_edges, random_patterns, train
from memsim.sweep.runner import process_pool

NAME = "codesign_symmetry"
#: name -> (initial states, device spread, pruned)
CONDITIONS = {
    "symmetric": ("uniform", False, False),
    "symmetric+pruned": ("uniform", False, True),
    "narrow": ("narrow", True, False),
    "narrow+pruned": ("narrow", True, True),
    "hardware": ("random", True, False),
    "hardware+pruned": ("random", True, True),
}
DEGENERATE = ("symmetric", "symmetric+pruned")
#: (breaker, condition, against)
TESTS = (("pruning", "hardware+pruned", "hardware"), ("pruning (narrow states)", "narrow+pruned", "narrow"),
         ("more spread", "hardware", "narrow"))
FIGURES = ("ctrl_norm", "mean_learnable")


@dataclass(frozen=True)
class Config:
    """Experiment settings."""

    layers: tuple[int, ...] = (2, 4, 2)
    n_draws: int = 32  # hardware draws scored for controllability
    n_sets: int = 24  # random pattern sets per p
    copies: int = 4  # hardware copies trained on each set
    p_max: int | None = None  # default: every p (3 distinct patterns on two inputs)
    prune_k: int = 3  # devices opened
    d2d: float = 0.1  # log-normal sigma of the device-to-device spread
    narrow: float = 0.05  # state sd of the narrow condition (uniform random states have sd 0.29)
    max_eras: int = 40
    caps: tuple[int, ...] = (10, 20)  # smaller era caps, re-scored
    alpha: float = 0.05
    seed: int = 41
    workers: int = 1  # processes training pattern sets in parallel (same numbers for any value)


QUICK = Config(layers=(2, 2, 2), n_draws=3, n_sets=2, copies=2, p_max=2, prune_k=2, max_eras=6, caps=(3,))


def condition_hardware(net: Network, cond: str, cfg: Config, n_copies: int, seed) -> Hardware:
    """The hardware of a condition: every condition of a unit draws from the same ``seed`` (SeedSequence)."""
    states, spread, pruned = CONDITIONS[cond]
    state_ss, device_ss, prune_ss = np.random.SeedSequence(seed).spawn(3)
    shape = (n_copies, net.n_edges)
    if states == "uniform":
        x0 = np.full(shape, 0.5)
    elif states == "narrow":
        x0 = spread_states(np.full(shape, 0.5), cfg.narrow, seed=np.random.default_rng(state_ss))
    else:
        x0 = np.random.default_rng(state_ss).random(shape)
    var = Variability(d2d=cfg.d2d) if spread else None
    hw = build_hardware(net, n_copies=n_copies, x0=x0, variability=var, seed=np.random.default_rng(device_ss))
    if pruned:
        hw = prune_edges(hw, n=cfg.prune_k, seed=np.random.default_rng(prune_ss))
    return hw


def controllability_row(net: Network, cond: str, cfg: Config, draw: int) -> dict:
    hw = condition_hardware(net, cond, cfg, 1, [cfg.seed, 0, draw])
    circ, x = _baseline.copy_circuit(hw, 0)
    ctrl = controllability(circ, controller_configurations(hw), x=x)
    return {"draw": draw, "condition": cond, "devices": ctrl.n_dynamic, "ctrl_rank": ctrl.rank,
            "ctrl_norm": ctrl.normalised_rank}


def train_set(net: Network, cfg: Config, p: int, j: int) -> list[dict]:
    """Train every condition's copies on pattern set ``j`` of size ``p``: one row per condition and copy."""
    task = random_patterns(len(net.inputs), len(net.outputs), p, seed=np.random.default_rng([cfg.seed, 1, p, j]))
    ctrl = Controller(max_eras=cfg.max_eras)
    rows = []
    for cond in CONDITIONS:
        out = train(condition_hardware(net, cond, cfg, cfg.copies, [cfg.seed, 2, p, j]), task, ctrl)
        rows.extend({"p": p, "set": j, "copy": c, "condition": cond, "learned_era": int(out.state.learned_era[c])}
                    for c in range(cfg.copies))
    return rows


def learned_within(trials: pd.DataFrame, cap: int) -> pd.Series:
    """Copies that learned within ``cap`` eras (exact for any cap up to the run's: its prefix)."""
    return (trials["learned_era"] >= 0) & (trials["learned_era"] < cap)


def set_success(trials: pd.DataFrame, cap: int) -> pd.DataFrame:
    """Success fraction per (condition, p, set) within ``cap`` eras: rows condition, columns (p, set)."""
    t = trials.assign(ok=learned_within(trials, cap))
    return t.groupby(["condition", "p", "set"])["ok"].mean().unstack(["p", "set"])


def capacity_test(trials: pd.DataFrame, a: str, b: str, cap: int, seed: int) -> _baseline.Paired:
    """Paired by pattern set: mean learnable of ``a`` vs ``b`` (sums over p of the mean set difference)."""
    s = set_success(trials, cap)
    n_p = s.columns.get_level_values("p").nunique()
    # one unit per set; scaling by n_p makes the mean over units the sum over p of the per-p means
    # (every p has the same number of sets), i.e. the difference of mean learnable patterns
    return _baseline.compare(s.loc[a].to_numpy() * n_p, s.loc[b].to_numpy() * n_p, seed=seed)


def run(cfg: Config) -> dict[str, pd.DataFrame]:
    net = Network.from_graph(layered(list(cfg.layers), orientation="backward"), VTEAM())
    p_max = 2 ** len(net.inputs) - 1 if cfg.p_max is None else min(cfg.p_max, 2 ** len(net.inputs) - 1)
    t0 = time.perf_counter()
    ctrl = pd.DataFrame([controllability_row(net, c, cfg, d) for d in range(cfg.n_draws) for c in CONDITIONS])
    print(f"  controllability of {cfg.n_draws} draws x {len(CONDITIONS)} conditions "
          f"({time.perf_counter() - t0:.0f} s)", flush=True)
    rows = []
    with process_pool(cfg.workers) as pool:
        for p in range(1, p_max + 1):
            t0 = time.perf_counter()
            for fut in [pool.submit(train_set, net, cfg, p, j) for j in range(cfg.n_sets)]:
                rows.extend(fut.result())
            done = pd.DataFrame(rows)
            done = done[done["p"] == p]
            rate = done.assign(ok=learned_within(done, cfg.max_eras)).groupby("condition", sort=False)["ok"].mean()
            print(f"  p = {p}: learned " + ", ".join(f"{c} {r:.2f}" for c, r in rate.items())
                  + f" ({time.perf_counter() - t0:.0f} s)", flush=True)
    trials = pd.DataFrame(rows)
    tests = []
    for breaker, a, b in TESTS:
        r = _baseline.compare(ctrl.loc[ctrl["condition"] == a, "ctrl_norm"].to_numpy(),
                            ctrl.loc[ctrl["condition"] == b, "ctrl_norm"].to_numpy(), seed=cfg.seed)
        ranks = ctrl.groupby("condition")["ctrl_rank"].mean()
        tests.append({"breaker": breaker, "condition": a, "against": b, "figure": "ctrl_norm",
                      "cap": cfg.max_eras, **r.__dict__, "rank_a": ranks[a], "rank_b": ranks[b]})
        for cap in (cfg.max_eras, *sorted(c for c in cfg.caps if c < cfg.max_eras)):
            r = capacity_test(trials, a, b, cap, cfg.seed)
            tests.append({"breaker": breaker, "condition": a, "against": b, "figure": "mean_learnable", "cap": cap,
                          **r.__dict__})
    return {"controllability": ctrl, "trials": trials, "tests": pd.DataFrame(tests)}


def capacity_table(trials: pd.DataFrame, cap: int) -> pd.DataFrame:
    """Per condition and p: trials, learned, Wilson 95 % interval."""
    t = trials.assign(ok=learned_within(trials, cap))
    g = t.groupby(["condition", "p"], sort=False)["ok"].agg(["sum", "size"]).reset_index()
    low, high = wilson_interval(g["sum"].to_numpy(), g["size"].to_numpy())
    return g.assign(probability=g["sum"] / g["size"], low=low, high=high).rename(
        columns={"sum": "learned", "size": "trials"})


def verdict(tests: pd.DataFrame, alpha: float, cap: int) -> list[tuple[str, bool, str]]:
    out = []
    for breaker, g in tests[tests["cap"] == cap].groupby("breaker", sort=False):
        ok = bool(((g["p_value"] < alpha) & (g["delta"] > 0)).all())
        parts = [f"{r.figure} {r.condition} vs {r.against}: "
                 + _baseline.Paired.from_row(r).text()
                 + (f" [absolute rank {r.rank_a:.2f} vs {r.rank_b:.2f}]" if r.figure == "ctrl_norm" else "")
                 for r in g.itertuples()]
        out.append((breaker, ok, "; ".join(parts)))
    return out


def figure(res: dict[str, pd.DataFrame], cfg: Config):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ctrl, tab = res["controllability"], capacity_table(res["trials"], cfg.max_eras)
    fig, axes = plt.subplots(1, 3, figsize=(14, 4), constrained_layout=True)
    names = list(CONDITIONS)
    grey = iter(("0.45", "0.7"))
    colors = {c: (next(grey) if c in DEGENERATE else f"C{i}") for i, c in enumerate(names)}
    labels = [c.replace("+", "+\n") + ("\n(degenerate)" if c in DEGENERATE else "\n(baseline)" if c == "hardware"
                                         else "") for c in names]
    rng = np.random.default_rng(0)
    data = [ctrl.loc[ctrl["condition"] == c, "ctrl_norm"].to_numpy() for c in names]
    axes[0].boxplot(data, positions=range(len(names)), widths=0.5)
    for i, (c, d) in enumerate(zip(names, data)):
        axes[0].plot(i + 0.08 * rng.standard_normal(d.size), d, "o", ms=3, alpha=0.6, color=colors[c])
    axes[0].set_xticks(range(len(names)), labels, fontsize=7)
    axes[0].set_ylabel("controllability rank / surviving devices")
    for i, c in enumerate(names):
        g = tab[tab["condition"] == c]
        x = g["p"].to_numpy() + 0.05 * (i - (len(names) - 1) / 2)
        axes[1].errorbar(x, g["probability"], yerr=[g["probability"] - g["low"], g["high"] - g["probability"]],
                         fmt="o-" if c not in DEGENERATE else "s:", color=colors[c], capsize=2,
                         label=c + (" (degenerate)" if c in DEGENERATE else ""))
    axes[1].set_xticks(sorted(tab["p"].unique()))
    axes[1].set_xlabel("random patterns p")
    axes[1].set_ylabel(f"P(learned within {cfg.max_eras} eras), Wilson 95 %")
    axes[1].set_ylim(-0.05, 1.05)
    axes[1].legend(fontsize=7)
    t = res["tests"]
    t = t[t["cap"] == cfg.max_eras].reset_index(drop=True)
    y = np.arange(len(t))[::-1]
    for fig_name, color, unit in (("ctrl_norm", "C0", "normalised rank"), ("mean_learnable", "C3", "mean learnable")):
        sel = (t["figure"] == fig_name).to_numpy()
        d = t[sel]
        axes[2].errorbar(d["delta"], y[sel], xerr=[d["delta"] - d["low"], d["high"] - d["delta"]], fmt="o",
                         capsize=3, color=color, label=unit)
    axes[2].axvline(0, color="k", lw=0.8)
    axes[2].set_yticks(y, [f"{r.condition} vs {r.against}\n(p = {r.p_value:.2g})" for r in t.itertuples()],
                       fontsize=7)
    axes[2].set_xlabel("paired difference (mean, 95 % bootstrap CI)")
    axes[2].legend(fontsize=7)
    fig.suptitle(f"{'-'.join(map(str, cfg.layers))} VTEAM net, d2d {cfg.d2d}, prune {cfg.prune_k} devices; "
                 f"{cfg.n_draws} draws, {cfg.n_sets} sets x {cfg.copies} copies per p; cap {cfg.max_eras} eras")
    return fig


def report(res: dict[str, pd.DataFrame], cfg: Config) -> None:
    ctrl, trials = res["controllability"], res["trials"]
    tab = capacity_table(trials, cfg.max_eras)
    summary = ctrl.groupby("condition", sort=False)[["devices", "ctrl_rank", "ctrl_norm"]].mean()
    summary["mean_learnable"] = tab.groupby("condition", sort=False)["probability"].sum()
    summary["role"] = ["degenerate reference" if c in DEGENERATE else "baseline" if c == "hardware" else ""
                       for c in summary.index]
    print(summary.to_string(float_format=lambda v: f"{v:.3f}"))
    print(tab.to_string(index=False, float_format=lambda v: f"{v:.2f}"))
    print(_baseline.modelling_choices(era_cap=f"{cfg.max_eras} (re-scored at {', '.join(map(str, cfg.caps))})",
                                    d2d_spread=f"sigma {cfg.d2d}", narrow_states=f"sd {cfg.narrow}",
                                    pruned_devices=cfg.prune_k))
    n_in = cfg.layers[0]
    sym = summary.loc["symmetric"]
    m = int(round(sym["devices"]))
    const = sum(float(cfg.layers[-1]) ** -(int(p) - 1) for p in tab["p"].unique())
    print(f"degenerate reference (not a test): symmetric rank {sym['ctrl_rank']:.0f}/{m}; symmetry forces "
          f"(n_in + n_out - 1)/M = {n_in + cfg.layers[-1] - 1}/{m} for one hidden layer; mean learnable "
          f"{sym['mean_learnable']:.2f} (constant maps only: sum_p n_out^-(p-1) = {const:.2f})")
    for breaker, ok, text in verdict(res["tests"], cfg.alpha, cfg.max_eras):
        print(_common.claim_line(f"(breaking the symmetry by {breaker} raises controllability and average capacity,"
                                 f" against the spread baseline)", ok, f"(alpha {cfg.alpha}) {text}"))
    t = res["tests"]
    for breaker, g in t[t["figure"] == "mean_learnable"].groupby("breaker", sort=False):
        print(f"  era-cap sensitivity, {breaker}, mean learnable difference: " + "; ".join(
            f"cap {r.cap}: {r.delta:+.3f} [{r.low:+.3f}, {r.high:+.3f}], p = {r.p_value:.2g}"
            for r in g.sort_values("cap").itertuples()))


def main(argv: list[str] | None = None) -> int:
    return _common.main(argv, doc=__doc__, name=NAME, full=Config(), quick=QUICK, run=run, figure=figure,
                        figure_file="symmetry.png", report=report, quick_help="a small net, few sets (for CI)")


if __name__ == "__main__":
    sys.exit(main())
