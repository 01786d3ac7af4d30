"""Learning-rule search on a mushroom body: does the best rule depend on the dataset and the device?

Claim tested (Madireddy, Yanguas-Gil & Balaprakash, ICONS 2019): when the learning rule and its
hyperparameters are searched together (DeepHyper's model-based search), the best rule depends on
the dataset, even between similar tasks. Here also: does it depend on the synapses' device?

Setting: :func:`memsim.sweep.plasticity_task.mushroom_body` (fixed sparse expansion to Kenyon
cells, k-WTA, online readout written through :func:`memsim.arrays.apply_update`), searched over
the rule (six, :data:`memsim.plasticity.RULES`) with its own hyperparameters (conditional), the
learning rate, the Kenyon-cell count, sparsity and fan-in; scored by validation accuracy after one
online pass. Readouts: the ideal float array and the ``"rpu"`` preset (soft bounds, 30 % spread
and cycle noise, stochastic rounding). For each dataset and readout: a CBO search and a random
search of ``budget`` evaluations each (same seeds); then the best configuration found for each
rule is re-trained over ``n_seeds`` seeds (projection and pulses), giving each rule's mean
validation accuracy with a 95 % t-interval; the winners' test accuracy is reported once.

Verdicts:
- dataset dependence: for two datasets A, B with winners a != b, a beats b on A and b beats a on
  B, each by a one-sided Welch t-test over the seeds at ``alpha``; supported if some pair does;
- device dependence: the same between the two readouts of one dataset;
- search vs random: the difference of the best validation accuracies found (one search each: an
  effect size, no test) and a one-sided Mann-Whitney test of CBO's second-half evaluations over
  random's (does the model concentrate on good regions?).

Run::

    python experiments/rule_search.py [--quick] [--out results]

Writes ``results/rule_search/evaluations.csv`` (every evaluation of every search),
``rules.csv`` (per dataset, device and rule: mean, interval, seeds), ``winners.csv`` (test
accuracy of each winner) and ``rule_search.png``.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass

import _common
import numpy as np
import pandas as pd
from scipy import stats

from memsim.plasticity import RULES
from memsim.sweep.plasticity_task import mushroom_body
from memsim.sweep.search import search, search_space

NAME = "rule_search"


@dataclass(frozen=True)
class Config:
    datasets: tuple[str, ...] = ("fashion-mnist", "digits", "mnist1d")
    devices: tuple[str, ...] = ("ideal", "rpu")
    budget: int = 40  # evaluations per search
    n_seeds: int = 5  # re-training seeds per rule
    n_train: int | None = 20000  # training samples per evaluation (None: all)
    n_kc: tuple[int, ...] = (500, 1000, 2000)
    n_initial_points: int = 10
    alpha: float = 0.05
    seed: int = 0


QUICK = Config(datasets=("digits", "mnist1d"), budget=6, n_seeds=2, n_train=500, n_kc=(200, 400),
               n_initial_points=3)


def space(cfg: Config):
    temp_rules = ["delta", "bcm", "anti_hebbian"]
    return search_space({
        "params": {
            "rule": {"choice": sorted(RULES)},
            "lr": {"loguniform": [1e-3, 1.0]},
            "decay": {"loguniform": [1e-5, 1e-2]},
            "tau": {"loguniform": [10.0, 1e4]},
            "temperature": {"loguniform": [0.1, 100.0]},
            "n_kc": {"choice": list(cfg.n_kc)},
            "sparsity": {"uniform": [0.01, 0.2]},
            "fan_in": {"uniform": [0.02, 0.3]},
        },
        "conditions": {
            "decay": {"parent": "rule", "values": ["hebbian_decay"]},
            "tau": {"parent": "rule", "values": ["bcm"]},
            "temperature": {"parent": "rule", "values": temp_rules},
        },
    })


def _params(row) -> dict:
    keys = ("rule", "lr", "decay", "tau", "temperature", "n_kc", "sparsity", "fan_in")
    return {k: (int(row[k]) if k == "n_kc" else row[k]) for k in keys if k in row and pd.notna(row[k])}


def run(cfg: Config) -> dict[str, pd.DataFrame]:
    sp = space(cfg)
    evals, rules_rows, winners = [], [], []
    for dataset in cfg.datasets:
        for device in cfg.devices:
            defaults = {"dataset": dataset, "device": device}
            if cfg.n_train is not None:
                defaults["n_train"] = cfg.n_train
            for method in ("cbo", "random"):
                df = search(mushroom_body, sp, max_evals=cfg.budget, objective="accuracy", method=method,
                            defaults=defaults, seed=cfg.seed, n_initial_points=cfg.n_initial_points)
                df["dataset"], df["device"] = dataset, device
                evals.append(df)
            both = pd.concat(evals[-2:], ignore_index=True)
            ok = both[both["status"] == "ok"]
            for rule in sorted(RULES):
                sub = ok[ok["rule"] == rule]
                if sub.empty:
                    continue
                best = sub.loc[sub["accuracy"].idxmax()]
                accs = [mushroom_body({**defaults, **_params(best), "seed": 1000 + s})["accuracy"]
                        for s in range(cfg.n_seeds)]
                m = float(np.mean(accs))
                half = (float(stats.t.ppf(0.975, len(accs) - 1) * np.std(accs, ddof=1) / np.sqrt(len(accs)))
                        if len(accs) > 1 else float("nan"))
                rules_rows.append({"dataset": dataset, "device": device, "rule": rule, "mean": m, "low": m - half,
                                   "high": m + half, "accs": " ".join(f"{a:.4f}" for a in accs),
                                   "config": json.dumps(_params(best))})
            table = pd.DataFrame([r for r in rules_rows if r["dataset"] == dataset and r["device"] == device])
            win = table.loc[table["mean"].idxmax()]
            best_cfg = json.loads(win["config"])
            test = mushroom_body({**defaults, **best_cfg, "seed": 1000, "split": "test"})["accuracy"]
            winners.append({"dataset": dataset, "device": device, "rule": win["rule"], "val_mean": win["mean"],
                            "test_accuracy": test, "config": win["config"]})
    return {"evaluations": pd.concat(evals, ignore_index=True), "rules": pd.DataFrame(rules_rows),
            "winners": pd.DataFrame(winners)}


def _accs(rules: pd.DataFrame, dataset: str, device: str, rule: str) -> np.ndarray:
    row = rules[(rules["dataset"] == dataset) & (rules["device"] == device) & (rules["rule"] == rule)]
    return np.array([float(a) for a in row["accs"].iloc[0].split()]) if len(row) else np.array([])


def _beats(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """One-sided Welch t-test of mean(a) > mean(b): (difference, p)."""
    if a.size < 2 or b.size < 2:
        return float(a.mean() - b.mean()) if a.size and b.size else float("nan"), float("nan")
    res = stats.ttest_ind(a, b, equal_var=False, alternative="greater")
    return float(a.mean() - b.mean()), float(res.pvalue) if np.isfinite(res.pvalue) else 1.0


def _depends(rules, winners, pairs, alpha) -> tuple[bool, str]:
    """For (label, (dataset, device), (dataset, device)) pairs: do the two settings prefer different
    rules, each significantly (one-sided Welch over seeds) on its own setting?"""
    found, lines = False, []
    for label, a, b in pairs:
        wa, wb = winners[a], winners[b]
        if wa == wb:
            lines.append(f"{label}: same winner {wa}")
            continue
        d1, p1 = _beats(_accs(rules, *a, wa), _accs(rules, *a, wb))
        d2, p2 = _beats(_accs(rules, *b, wb), _accs(rules, *b, wa))
        found |= p1 < alpha and p2 < alpha
        lines.append(f"{label}: {'/'.join(a)} prefers {wa} by {d1:+.4f} (Welch p={p1:.3g}), "
                     f"{'/'.join(b)} prefers {wb} by {d2:+.4f} (p={p2:.3g})")
    return found, "; ".join(lines)


def verdicts(res: dict[str, pd.DataFrame], cfg: Config) -> list[tuple[str, bool, str]]:
    rules = res["rules"]
    winners = {(r.dataset, r.device): r.rule for r in res["winners"].itertuples()}
    out = []
    for device in cfg.devices:
        pairs = [(f"{a} vs {b}", (a, device), (b, device))
                 for i, a in enumerate(cfg.datasets) for b in cfg.datasets[i + 1:]]
        out.append((f"the best rule depends on the dataset ({device} readout)",
                    *_depends(rules, winners, pairs, cfg.alpha)))
    if len(cfg.devices) >= 2:
        a_dev, b_dev = cfg.devices[:2]
        pairs = [(ds, (ds, a_dev), (ds, b_dev)) for ds in cfg.datasets]
        out.append((f"the best rule depends on the device ({a_dev} vs {b_dev})",
                    *_depends(rules, winners, pairs, cfg.alpha)))
    ev = res["evaluations"]
    lines, wins = [], 0
    groups = list(ev.groupby(["dataset", "device"]))
    for (ds, dev), g in groups:
        cbo, rnd = g[g["method"] == "cbo"], g[g["method"] == "random"]
        diff = cbo["accuracy"].max() - rnd["accuracy"].max()
        half = len(cbo) // 2
        _, p = _common.mann_whitney_greater(cbo["accuracy"].iloc[half:].dropna(), rnd["accuracy"].iloc[half:].dropna())
        wins += diff > 0
        lines.append(f"{ds}/{dev}: best {cbo['accuracy'].max():.4f} vs {rnd['accuracy'].max():.4f} "
                     f"({diff:+.4f}), second halves Mann-Whitney p={p:.3g}")
    out.append(("model-based search finds better configurations than random search on the same budget",
                wins > len(groups) / 2, f"{wins}/{len(groups)} searches; " + "; ".join(lines)))
    return out


def figure(res: dict[str, pd.DataFrame], cfg: Config):
    import matplotlib.pyplot as plt

    rules, ev = res["rules"], res["evaluations"]
    n = len(cfg.datasets)
    fig, axes = plt.subplots(2, n, figsize=(4.2 * n, 7), layout="constrained", squeeze=False)
    names = sorted(RULES)
    for k, ds in enumerate(cfg.datasets):
        ax = axes[0, k]
        for j, dev in enumerate(cfg.devices):
            sub = rules[(rules["dataset"] == ds) & (rules["device"] == dev)].set_index("rule").reindex(names)
            xs = np.arange(len(names)) + (j - 0.5 * (len(cfg.devices) - 1)) * 0.3
            ax.errorbar(xs, sub["mean"], yerr=[sub["mean"] - sub["low"], sub["high"] - sub["mean"]], fmt="o",
                        capsize=3, label=dev)
        ax.set_xticks(np.arange(len(names)), names, rotation=45, ha="right")
        ax.set(title=ds, ylabel="validation accuracy (95 % CI over seeds)")
        ax.legend()
        ax = axes[1, k]
        for (dev, method), g in ev[ev["dataset"] == ds].groupby(["device", "method"]):
            ax.plot(g["eval"], g["best"], label=f"{dev}, {method}")
        ax.set(xlabel="evaluation", ylabel="best validation accuracy so far")
        ax.legend()
    return fig


def report(res: dict[str, pd.DataFrame], cfg: Config) -> None:
    print(res["winners"][["dataset", "device", "rule", "val_mean", "test_accuracy"]].to_string(index=False))
    print("Modelling choices: mushroom body with k-WTA or as searched; one online pass; readouts: float weights "
          "and the 'rpu' soft-bounds preset (30 % spread, 30 % cycle noise, stochastic rounding, reference "
          f"column); budget {cfg.budget} evaluations per search, {cfg.n_seeds} seeds per rule; "
          f"{cfg.n_train or 'all'} training samples per evaluation.")
    for claim, ok, evidence in verdicts(res, cfg):
        print(_common.claim_line(claim, ok, evidence))


def main(argv: list[str] | None = None) -> int:
    return _common.main(argv, doc=__doc__, name=NAME, full=Config(), quick=QUICK, run=run, figure=figure,
                        figure_file="rule_search.png", report=report,
                        quick_help="two small datasets, 8 evaluations per search (for CI)")


if __name__ == "__main__":
    sys.exit(main())
