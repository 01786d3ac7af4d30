"""Experiment 4: learning time of the abstract Chialvo–Bak network versus problem size, pinned to the paper.

Bak & Chialvo (PRE 63, 031912, 2001) report that the learning time of the
parity problem "scales algebraically with the problem size N, with an exponent
k ~ 1.4". Only the paper's abstract was available to this project (its
model section and parity figure were not), so this study pins what the
abstract states:

- extremal dynamics: activity propagates only through the strongest
  connections (winner take all in every layer, ``n_active = 1``);
- negative feedback: after a wrong answer the active synapses are depressed,
  after a right one nothing changes;
- selective punishment: synapses that once took part in a success are punished
  "much less" than those never successful (read as ``tag_factor = 0.01``,
  swept);
- the task is parity; the exponent is that of learning time against N.

N is read as the number of parity patterns, 2**bits: a network must be shown
every pattern, so in presentations the learning time is at least of order
2**bits and cannot grow as a power of the bit count (the local log-log slopes
against bits are reported too). Everything else is treated as unstated and
swept one choice at a time around the "paper" configuration, which takes the
first reading of each: hidden layer of 2N neurons (other multiples of N, or
multiples of the bit count), one input per bit plus a bias input (two inputs
per bit, one per pattern), depression uniform in [0, delta) (exactly delta),
delta = 0.1 (0.02, 0.5), tag factor 0.01 (0.1, 0.001), patterns in shuffled
eras (independent draws), learned when every pattern is answered right (first
error-free era), time in presentations (mistakes, from the same runs; eras
are presentations / N, exponent k - 1).

The fit: least squares of log(median learning time) on log N over the sizes
where every network learned; 95 % CI by a percentile bootstrap over networks
(resampled within each size, medians and fit redone). Local slopes between
consecutive sizes show whether one power law describes the range; a second
fit uses N >= 32 only. Verdict: "consistent with k ~ 1.4" when the bootstrap
CI meets [1.3, 1.5] and is no wider than that band ("inconclusive" if wider,
"inconsistent" if it misses it) — the paper gives one decimal and no error
bar, so +-0.05 of rounding plus as much again for its unreported fit
uncertainty.

Run::

    python experiments/chialvo_bak_scaling.py [--quick] [--out results]

Writes ``results/chialvo_bak_scaling/summary.csv`` (per variant and size),
``runs.csv`` (per network), ``fits.csv`` (per variant) and ``learning_time.png``.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass

import _common
import numpy as np
import pandas as pd

from memsim.learning import ChialvoBak, Task, classification, parity, train_chialvo_bak

NAME = "chialvo_bak_scaling"
PUBLISHED_K = 1.4  # Bak & Chialvo (2001), abstract


@dataclass(frozen=True)
class Variant:
    """One reading of the set-up; ``choice`` names the unstated choice changed from the paper configuration."""

    name: str
    choice: str = "-"
    hidden: str = "2N"  # hidden neurons: "<c>N" (c per pattern) or "<c>n" (c per bit)
    encoding: str = "bias"  # "bias": one neuron per bit + an always-on bias; "pair": one per bit value; "onehot"
    delta: float = 0.1  # 1, largest depression per mistake (weights start uniform in [0, 1))
    depression: str = "uniform"
    tag_factor: float = 0.01  # 1, "much less" punishment of once-successful synapses
    order: str = "random"
    stop: str = "map"


PAPER = Variant("paper")
SWEEP = (
    Variant("hidden N", "hidden size", hidden="1N"),
    Variant("hidden 4N", "hidden size", hidden="4N"),
    Variant("hidden 8n", "hidden size", hidden="8n"),
    Variant("hidden 16n", "hidden size", hidden="16n"),
    Variant("hidden 32n", "hidden size", hidden="32n"),
    Variant("two inputs per bit", "input encoding", encoding="pair"),
    Variant("one input per pattern", "input encoding", encoding="onehot"),
    Variant("constant delta", "depression law", depression="constant"),
    Variant("delta 0.02", "delta", delta=0.02),
    Variant("delta 0.5", "delta", delta=0.5),
    Variant("tag 0.1", "tag factor", tag_factor=0.1),
    Variant("tag 0.001", "tag factor", tag_factor=0.001),
    Variant("random draws", "presentation order", order="sample"),
    Variant("error-free era", "learning criterion", stop="era"),
)


@dataclass(frozen=True)
class Config:
    """Experiment 4 settings."""

    bits: tuple[int, ...] = (2, 3, 4, 5, 6, 7, 8)
    copies: int = 40  # networks per size and sweep variant
    paper_copies: int = 80  # networks per size, paper configuration
    max_eras: int = 20_000
    variants: tuple[Variant, ...] = (PAPER, *SWEEP)
    bootstrap: int = 2000
    large_n: int = 32  # smallest N of the large-N fit
    tolerance: float = 0.1  # |k - 1.4| accepted (see the module docstring)
    seed: int = 3


QUICK = Config(bits=(2, 3, 4), copies=6, paper_copies=8, max_eras=5000, bootstrap=200, large_n=8)


def hidden_size(rule: str, bits: int, patterns: int) -> int:
    """``"2N"`` -> 2 * patterns, ``"16n"`` -> 16 * bits."""
    scale = float(rule[:-1] or 1)
    return max(2, int(round(scale * (patterns if rule.endswith("N") else bits))))


def encode(bits: int, encoding: str) -> Task:
    """Parity of ``bits`` bits with the inputs of ``encoding`` (2**bits patterns, 2 outputs)."""
    task = parity(bits)
    if encoding == "bias":
        return task
    on = (task.levels[:, :bits] > 0).astype(float)
    levels = np.hstack([on, 1.0 - on]) if encoding == "pair" else np.eye(len(task))
    return classification(levels, task.targets, 2, name=f"parity-{bits}-{encoding}")


def _slope(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Least-squares slope of y (..., S) on x (S,)."""
    xc = x - x.mean()
    return ((y - y.mean(axis=-1, keepdims=True)) * xc).sum(axis=-1) / (xc * xc).sum()


def fit(patterns: np.ndarray, times: list[np.ndarray], n_boot: int, seed: int) -> dict:
    """Exponent of the median of ``times`` (one array per size) against ``patterns``, its bootstrap.

    Returns the fitted slope, the bootstrap slopes (n_boot,), the local slopes
    and their bootstrap (n_boot, S-1), the medians and their bootstrap (n_boot, S).
    Medians below one presentation count as one (log of 0).
    """
    x = np.log(np.asarray(patterns, float))
    rng = np.random.default_rng(seed)
    med = np.array([np.median(t) for t in times])
    boot = np.stack([np.median(t[rng.integers(0, t.size, (n_boot, t.size))], axis=1) for t in times], axis=1)
    y, yb = np.log(np.maximum(med, 1.0)), np.log(np.maximum(boot, 1.0))
    return {"k": float(_slope(x, y)), "k_boot": _slope(x, yb), "local": np.diff(y) / np.diff(x),
            "local_boot": np.diff(yb, axis=1) / np.diff(x), "median": med, "median_boot": boot}


def _ci(samples: np.ndarray) -> tuple[float, float]:
    lo, hi = np.percentile(samples, [2.5, 97.5], axis=0)
    return float(lo), float(hi)


def run(cfg: Config) -> dict[str, pd.DataFrame]:
    rows, runs, fits = [], [], []
    for v in cfg.variants:
        copies = cfg.paper_copies if v.name == "paper" else cfg.copies
        t_v = time.perf_counter()
        for n in cfg.bits:
            task = encode(n, v.encoding)
            big_n = len(task)
            model = ChialvoBak(hidden=(hidden_size(v.hidden, n, big_n),), delta=v.delta, tag_factor=v.tag_factor,
                               order=v.order, max_eras=cfg.max_eras, depression=v.depression, stop=v.stop)
            t0 = time.perf_counter()
            res = train_chialvo_bak(task, model, n_copies=copies, seed=cfg.seed + n)
            lt = res.learning_time
            ok = res.learned
            rows.append({"variant": v.name, "choice": v.choice, "bits": n, "patterns": big_n,
                         "hidden": model.hidden[0], "copies": copies, "learned": int(ok.sum()),
                         "time_median": np.median(lt) if ok.all() else np.nan,
                         "time_q25": np.quantile(lt, 0.25) if ok.all() else np.nan,
                         "time_q75": np.quantile(lt, 0.75) if ok.all() else np.nan,
                         "time_mean": lt.mean() if ok.all() else np.nan,
                         "mistakes_median": np.median(res.mistakes[ok]) if ok.all() else np.nan,
                         "wall_s": time.perf_counter() - t0})
            runs.extend({"variant": v.name, "bits": n, "patterns": big_n, "copy": c, "learned": bool(ok[c]),
                         "learning_time": lt[c], "mistakes": int(res.mistakes[c]), "eras": int(res.eras[c])}
                        for c in range(copies))
            if not ok.all():
                break  # larger sizes learn less within the same cap: the ladder ends here
        fits.append(_fit_row(v, pd.DataFrame([r for r in runs if r["variant"] == v.name]), cfg))
        fits[-1]["wall_s"] = time.perf_counter() - t_v
        print(f"  {v.name:22s} k = {fits[-1]['k']:.2f} [{fits[-1]['k_lo']:.2f}, {fits[-1]['k_hi']:.2f}] over "
              f"N = {fits[-1]['sizes']} ({fits[-1]['wall_s']:.0f} s)", flush=True)
    return {"summary": pd.DataFrame(rows), "runs": pd.DataFrame(runs), "fits": pd.DataFrame(fits)}


def _fit_row(v: Variant, runs: pd.DataFrame, cfg: Config) -> dict:
    full = runs.groupby("patterns")["learned"].all()
    sizes = [int(s) for s in full.index if full[s]]
    row = {"variant": v.name, "choice": v.choice, "hidden_rule": v.hidden, "encoding": v.encoding,
           "delta": v.delta, "depression": v.depression, "tag_factor": v.tag_factor, "order": v.order,
           "stop": v.stop, "sizes": f"{sizes[0]}-{sizes[-1]}" if sizes else "-", "n_sizes": len(sizes),
           "first_unlearned_N": int(full.index[~full.values][0]) if (~full.values).any() else np.nan}
    nan = {k: np.nan for k in ("k", "k_lo", "k_hi", "k_mistakes", "k_mistakes_lo", "k_mistakes_hi", "k_mean",
                               "k_large", "k_large_lo", "k_large_hi", "k_bits")}
    row.update(nan, local="", local_ci="", local_bits="", verdict="too few sizes", verdict_large="too few sizes")
    if len(sizes) < 2:
        return row
    by = {s: runs[runs["patterns"] == s] for s in sizes}
    times = [by[s]["learning_time"].to_numpy(float) for s in sizes]
    f = fit(np.array(sizes), times, cfg.bootstrap, cfg.seed)
    fm = fit(np.array(sizes), [by[s]["mistakes"].to_numpy(float) for s in sizes], cfg.bootstrap, cfg.seed)
    row.update(k=f["k"], k_mistakes=fm["k"], k_mean=float(_slope(np.log(sizes), np.log([t.mean() for t in times]))))
    row["k_lo"], row["k_hi"] = _ci(f["k_boot"])
    row["k_mistakes_lo"], row["k_mistakes_hi"] = _ci(fm["k_boot"])
    log_bits, log_t = np.log(np.log2(sizes)), np.log(np.maximum(f["median"], 1.0))  # N = 2**bits in every encoding
    row["k_bits"] = float(_slope(log_bits, log_t))
    row["local_bits"] = " ".join(f"{s:.2f}" for s in np.diff(log_t) / np.diff(log_bits))
    row["local"] = " ".join(f"{s:.2f}" for s in f["local"])
    lo, hi = np.percentile(f["local_boot"], [2.5, 97.5], axis=0)
    row["local_ci"] = " ".join(f"[{a:.2f},{b:.2f}]" for a, b in zip(lo, hi))
    large = [i for i, s in enumerate(sizes) if s >= cfg.large_n]
    if len(large) >= 2:
        fl = fit(np.array(sizes)[large], [times[i] for i in large], cfg.bootstrap, cfg.seed)
        row["k_large"] = fl["k"]
        row["k_large_lo"], row["k_large_hi"] = _ci(fl["k_boot"])
        row["verdict_large"] = verdict(row["k_large_lo"], row["k_large_hi"], cfg.tolerance)
    row["verdict"] = verdict(row["k_lo"], row["k_hi"], cfg.tolerance)
    return row


def verdict(lo: float, hi: float, tolerance: float) -> str:
    """``"consistent"``: the CI meets [1.4 - tol, 1.4 + tol] and is no wider than that band;
    ``"inconsistent"``: it misses the band; ``"inconclusive"``: it meets it but is too wide to tell."""
    if lo > PUBLISHED_K + tolerance or hi < PUBLISHED_K - tolerance:
        return "inconsistent"
    return "consistent" if hi - lo <= 2 * tolerance else "inconclusive"


def figure(res: dict[str, pd.DataFrame], cfg: Config):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fits, runs = res["fits"], res["runs"]
    fig, axes = plt.subplots(1, 3, figsize=(14, 4.4), constrained_layout=True)
    band = (PUBLISHED_K - cfg.tolerance, PUBLISHED_K + cfg.tolerance)
    # (a) the paper configuration and two hidden-size readings: medians (bootstrap 95 % CI) and fits
    ax = axes[0]
    for name, colour in (("paper", "C0"), ("hidden 32n", "C3"), ("hidden 8n", "C2")):
        row = fits[fits["variant"] == name]
        if row.empty or not np.isfinite(row["k"].iloc[0]):
            continue
        r = row.iloc[0]
        sub = runs[runs["variant"] == name]
        full = sub.groupby("patterns")["learned"].all()
        sizes = np.array([s for s in full.index if full[s]], float)
        f = fit(sizes, [sub[sub["patterns"] == s]["learning_time"].to_numpy(float) for s in sizes],
                cfg.bootstrap, cfg.seed)
        lo, hi = np.percentile(f["median_boot"], [2.5, 97.5], axis=0)
        ax.errorbar(sizes, f["median"], yerr=[f["median"] - lo, hi - f["median"]], fmt="o", color=colour,
                    capsize=3, label=f"{name}: k = {r['k']:.2f} [{r['k_lo']:.2f}, {r['k_hi']:.2f}]")
        c = np.exp(np.mean(np.log(np.maximum(f["median"], 1.0)) - r["k"] * np.log(sizes)))
        ax.plot(sizes, c * sizes ** r["k"], "-", color=colour, lw=1)
        if name == "paper":
            c14 = np.exp(np.mean(np.log(np.maximum(f["median"], 1.0)) - PUBLISHED_K * np.log(sizes)))
            ax.plot(sizes, c14 * sizes**PUBLISHED_K, ":", color="k", label="N^1.4 (Bak & Chialvo 2001)")
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("parity patterns N = 2^bits")
    ax.set_ylabel("median presentations to learn (95 % CI)")
    ax.legend(fontsize=7)
    ax.set_title("(a) learning time, fits over sizes where all learned", fontsize=9)
    # (b) exponent per variant with its bootstrap CI, against the tolerance band
    ax = axes[1]
    ok = fits[np.isfinite(fits["k"])].reset_index(drop=True)
    ypos = np.arange(len(ok))[::-1]
    ax.axvspan(*band, color="0.9", label=f"1.4 +- {cfg.tolerance}")
    ax.errorbar(ok["k"], ypos, xerr=[ok["k"] - ok["k_lo"], ok["k_hi"] - ok["k"]], fmt="o", capsize=3,
                label="all sizes learned (95 % CI)")
    big = np.isfinite(ok["k_large"])
    ax.errorbar(ok["k_large"][big], ypos[big] - 0.25, xerr=[(ok["k_large"] - ok["k_large_lo"])[big],
                (ok["k_large_hi"] - ok["k_large"])[big]], fmt="s", ms=3, capsize=2, color="C1",
                label=f"N >= {cfg.large_n} only")
    ax.set_yticks(ypos, [f"{a} ({b})" if b != "-" else a for a, b in zip(ok["variant"], ok["choice"])], fontsize=7)
    ax.set_xlabel("exponent k of median presentations vs N")
    ax.legend(fontsize=7, loc="lower right")
    ax.set_title("(b) exponent per reading of the unstated choices", fontsize=9)
    # (c) local slopes between consecutive sizes
    ax = axes[2]
    for name in ("paper", "hidden 4N", "hidden 16n", "hidden 32n", "two inputs per bit"):
        row = fits[fits["variant"] == name]
        if row.empty or not row["local"].iloc[0]:
            continue
        sub = runs[runs["variant"] == name]
        full = sub.groupby("patterns")["learned"].all()
        sizes = np.array([s for s in full.index if full[s]], float)
        local = np.array(row["local"].iloc[0].split(), float)
        ax.plot(np.sqrt(sizes[1:] * sizes[:-1]), local, "o-", label=name)
    ax.axhspan(*band, color="0.9")
    ax.axhline(1.0, color="0.5", lw=0.8, ls="--")
    ax.set_xscale("log", base=2)
    ax.set_xlabel("N (geometric mid-point of consecutive sizes)")
    ax.set_ylabel("local slope d log T / d log N")
    ax.legend(fontsize=7)
    ax.set_title("(c) local slopes", fontsize=9)
    return fig


def report(res: dict[str, pd.DataFrame], cfg: Config) -> None:
    fits = res["fits"]
    tol = cfg.tolerance
    print(f"  fit: least squares of log(median presentations) on log N over the sizes where all networks "
          f"learned; 95 % CI: percentile bootstrap over networks ({cfg.bootstrap} resamples); consistent "
          f"with k ~ {PUBLISHED_K} when the CI meets [{PUBLISHED_K - tol:.1f}, {PUBLISHED_K + tol:.1f}]")
    cols = ["variant", "choice", "sizes", "k", "k_lo", "k_hi", "verdict", "k_large", "k_large_lo", "k_large_hi",
            "verdict_large", "k_mistakes", "k_mean", "local"]
    table = fits[cols].copy()
    print(table.to_string(index=False, float_format=lambda x: f"{x:.2f}"))
    for _, r in fits.iterrows():
        if np.isfinite(r["first_unlearned_N"]):
            print(f"  {r['variant']}: not every network learned at N = {int(r['first_unlearned_N'])} within "
                  f"{cfg.max_eras} eras; larger sizes not run")
    p = fits[fits["variant"] == "paper"]
    if p.empty or not np.isfinite(p["k"].iloc[0]):
        return
    r = p.iloc[0]
    evidence = (f"k = {r['k']:.2f} (95 % CI {r['k_lo']:.2f}-{r['k_hi']:.2f}) over N = {r['sizes']}; local slopes "
                f"{r['local']}; N >= {cfg.large_n} only: k = {r['k_large']:.2f} ({r['k_large_lo']:.2f}-"
                f"{r['k_large_hi']:.2f}); in mistakes k = {r['k_mistakes']:.2f}; against bits the log-log local "
                f"slopes are {r['local_bits']} (a power law in bits would hold them constant); "
                f"test: CI meets {PUBLISHED_K} +- {tol}")
    claim = f"parity learning time ~ N^{PUBLISHED_K} (Bak & Chialvo 2001), paper configuration"
    if r["verdict"] == "inconclusive":
        print(f"  claim {claim}: INCONCLUSIVE on memsim's numbers (CI wider than the tolerance band): {evidence}")
    else:
        print("  " + _common.claim_line(claim, r["verdict"] == "consistent", evidence))
    print(f"  paper configuration, N >= {cfg.large_n} only: {r['verdict_large']} with {PUBLISHED_K}")
    ok = fits[np.isfinite(fits["k"])]
    for col, what in (("verdict", "all sizes learned"), ("verdict_large", f"N >= {cfg.large_n}")):
        for word in ("consistent", "inconclusive", "inconsistent"):
            names = ok[ok[col] == word]["variant"]
            print(f"  sweep ({what}), {word} with {PUBLISHED_K}: {', '.join(names) if len(names) else 'none'}")
    print(f"  sweep: k ranges {ok['k'].min():.2f}-{ok['k'].max():.2f} over {len(ok)} readings "
          f"(N >= {cfg.large_n}: {ok['k_large'].min():.2f}-{ok['k_large'].max():.2f})")
    for choice, grp in ok[ok["choice"] != "-"].groupby("choice", sort=False):
        print(f"    {choice}: " + "; ".join(f"{a} {b:.2f} [{c:.2f}, {d:.2f}] (N >= {cfg.large_n}: {e:.2f})"
                                          for a, b, c, d, e in zip(grp["variant"], grp["k"], grp["k_lo"],
                                                                   grp["k_hi"], grp["k_large"])))


def main(argv: list[str] | None = None) -> int:
    return _common.main(argv, doc=__doc__, name=NAME, full=Config(), quick=QUICK, run=run, figure=figure,
                        figure_file="learning_time.png", report=report,
                        quick_help="three small sizes, few networks (for CI)")


if __name__ == "__main__":
    sys.exit(main())
