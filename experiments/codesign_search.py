"""Co-design search: which learning-from-mistakes hardware learns the most patterns per device?

Claim tested: searching the hardware (topology family and size, the controller's pulse amplitudes
and durations, structural pruning) with the model-based search of ``memsim.sweep.search`` finds
designs that learn more patterns per device than the hand-tuned default (the 2-4-2 layered net of
Barrows et al. 2024 with memsim's default pulses), and does so better than random search on the
same budget.

Setting: :func:`memsim.sweep.tasks.codesign` scores a design by its empirical capacity
(:func:`memsim.analysis.empirical_capacity`: random pattern sets on 2 inputs / 2 outputs, ``p <=
p_max``, ``n_sets`` sets per ``p``, one copy, ``max_eras`` eras) divided by its device count
(``learnable_per_device``). Devices: the VTEAM preset (the controller's pulse defaults are timed for
it); sources of 50 ohm; uniform random initial states. Searched: family ``layered`` (2-h-2, h in
2..8) or ``erdos_renyi`` (n in 6..12 nodes, edge probability 0.3-0.8), punishing pulse 0.2-1.0 V
for 20-300 ns, normalising pulse 0.2-1.0 V, pruned fraction 0-0.3. The best design of each method
and the default are re-scored over ``n_seeds`` seeds (new hardware draws and pattern sets).

Verdicts (one-sided Mann-Whitney over the seeds, effect = difference of means):
- the best searched design learns more patterns per device than the default;
- the model-based search's best design beats random search's best design.
Modelling choices: VTEAM devices, 50 ohm sources, the era cap ``max_eras`` (a capped success
measures learning time as much as learnability), random pattern sets.

Run::

    python experiments/codesign_search.py [--quick] [--out results]

Writes ``results/codesign_search/evaluations.csv`` (every evaluation), ``rescored.csv`` (per
design and seed) and ``codesign_search.png``.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass

import _common
import pandas as pd

from memsim.sweep.search import search, search_space
from memsim.sweep.tasks import codesign

NAME = "codesign_search"


@dataclass(frozen=True)
class Config:
    budget: int = 30
    n_seeds: int = 5
    p_max: int = 4
    n_sets: int = 8
    max_eras: int = 10
    n_initial_points: int = 8
    alpha: float = 0.05
    seed: int = 0


QUICK = Config(budget=4, n_seeds=2, p_max=2, n_sets=2, max_eras=4, n_initial_points=2)

DEFAULT_DESIGN = {"family": "layered", "hidden": 4, "punish_voltage": 0.5, "punish_duration": 100e-9,
                  "normalise_voltage": 0.6, "prune_fraction": 0.0}


def design(point: dict) -> dict:
    """A searched design -> the ``codesign`` task's point (2 inputs, 2 outputs)."""
    p = dict(point)
    family = p.pop("family")
    topo = {"layered": lambda: {"topology": "layered", "sizes": [2, int(p.pop("hidden")), 2]},
            "erdos_renyi": lambda: {"topology": "erdos_renyi", "n": int(p.pop("n")), "p": float(p.pop("p_edge")),
                                    "n_inputs": 2, "n_outputs": 2}}[family]()
    for k in ("hidden", "n", "p_edge"):
        p.pop(k, None)
    out = codesign({**topo, **p})
    return {k: out[k] for k in ("learnable_per_device", "mean_learnable", "n_edges", "ctrl_norm")}


def space():
    return search_space({
        "params": {
            "family": {"choice": ["layered", "erdos_renyi"]},
            "hidden": {"integers": [2, 8]},
            "n": {"integers": [6, 12]},
            "p_edge": {"uniform": [0.3, 0.8]},
            "punish_voltage": {"uniform": [0.2, 1.0]},
            "punish_duration": {"loguniform": [20e-9, 300e-9]},
            "normalise_voltage": {"uniform": [0.2, 1.0]},
            "prune_fraction": {"uniform": [0.0, 0.3]},
        },
        "conditions": {
            "hidden": {"parent": "family", "values": ["layered"]},
            "n": {"parent": "family", "values": ["erdos_renyi"]},
            "p_edge": {"parent": "family", "values": ["erdos_renyi"]},
        },
    })


def _keys(row) -> dict:
    """The design parameters of a stored evaluation, as plain Python numbers."""
    keys = ("family", "hidden", "n", "p_edge", "punish_voltage", "punish_duration", "normalise_voltage",
            "prune_fraction")
    out = {}
    for k in keys:
        if k in row and pd.notna(row[k]):
            v = row[k].item() if hasattr(row[k], "item") else row[k]
            out[k] = int(v) if k in ("hidden", "n") else v
    return out


def run(cfg: Config) -> dict[str, pd.DataFrame]:
    fixed = {"p_max": cfg.p_max, "n_sets": cfg.n_sets, "max_eras": cfg.max_eras}
    evals = []
    for method in ("cbo", "random"):
        df = search(design, space(), max_evals=cfg.budget, objective="learnable_per_device", method=method,
                    defaults=fixed, seed=cfg.seed, n_initial_points=cfg.n_initial_points)
        evals.append(df)
    ev = pd.concat(evals, ignore_index=True)
    designs = {"default": DEFAULT_DESIGN}
    for method in ("cbo", "random"):
        ok = ev[(ev["method"] == method) & (ev["status"] == "ok")]
        if len(ok):
            designs[f"best {method}"] = _keys(ok.loc[ok["learnable_per_device"].idxmax()])
    rows = []
    for label, d in designs.items():
        for s in range(cfg.n_seeds):
            out = design({**d, **fixed, "seed": 10_000 + s})
            rows.append({"design": label, "seed": s, **out, "spec": json.dumps(d)})
    return {"evaluations": ev, "rescored": pd.DataFrame(rows)}


def verdicts(res: dict[str, pd.DataFrame], cfg: Config) -> list[tuple[str, bool, str]]:
    r = res["rescored"]

    def vals(label):
        return r.loc[r["design"] == label, "learnable_per_device"].to_numpy()

    out = []
    base = vals("default")
    for label, claim in (("best cbo", "the best searched design learns more patterns per device than the default"),
                         ("best random", None)):
        if claim is None or not len(vals(label)):
            continue
        a = vals(label)
        _, p = _common.mann_whitney_greater(a, base)
        out.append((claim, p < cfg.alpha, f"{a.mean():.4f} vs default {base.mean():.4f} per device "
                                          f"({a.mean() - base.mean():+.4f}), Mann-Whitney p={p:.3g}, "
                                          f"{len(a)} seeds"))
    if len(vals("best cbo")) and len(vals("best random")):
        a, b = vals("best cbo"), vals("best random")
        _, p = _common.mann_whitney_greater(a, b)
        out.append(("model-based search's best design beats random search's", p < cfg.alpha,
                    f"{a.mean():.4f} vs {b.mean():.4f} per device ({a.mean() - b.mean():+.4f}), Mann-Whitney "
                    f"p={p:.3g}"))
    return out


def figure(res: dict[str, pd.DataFrame], cfg: Config):
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8), layout="constrained")
    for method, g in res["evaluations"].groupby("method"):
        axes[0].plot(g["eval"], g["best"], label=method)
    axes[0].set(xlabel="evaluation", ylabel="best learnable patterns per device so far")
    axes[0].legend()
    r = res["rescored"]
    labels = list(dict.fromkeys(r["design"]))
    axes[1].boxplot([r.loc[r["design"] == lab, "learnable_per_device"] for lab in labels], tick_labels=labels)
    axes[1].set(ylabel=f"learnable patterns per device ({cfg.n_seeds} seeds)")
    return fig


def report(res: dict[str, pd.DataFrame], cfg: Config) -> None:
    r = res["rescored"]
    print(r.groupby("design")[["learnable_per_device", "mean_learnable", "n_edges"]].mean().to_string())
    for label in dict.fromkeys(r["design"]):
        print(f"{label}: {r.loc[r['design'] == label, 'spec'].iloc[0]}")
    print(f"Modelling choices: VTEAM devices, 50 ohm sources, random initial states, random pattern sets on 2 "
          f"inputs, p <= {cfg.p_max}, {cfg.n_sets} sets per p, era cap {cfg.max_eras}; budget {cfg.budget} per search.")
    for claim, ok, evidence in verdicts(res, cfg):
        print(_common.claim_line(claim, ok, evidence))


def main(argv: list[str] | None = None) -> int:
    return _common.main(argv, doc=__doc__, name=NAME, full=Config(), quick=QUICK, run=run, figure=figure,
                        figure_file="codesign_search.png", report=report,
                        quick_help="4 evaluations per search, tiny capacity estimates (for CI)")


if __name__ == "__main__":
    sys.exit(main())
