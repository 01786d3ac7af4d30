"""Experiment 4: learning time of the abstract Chialvo–Bak network versus problem size.

Parity of ``n`` bits (``N = 2**n`` patterns, one input neuron per bit plus a
bias neuron) learned by the Chialvo–Bak network (extremal propagation,
depression of the active path after mistakes, tagged synapses punished
``tag_factor`` times less; Bak & Chialvo, PRE 63, 031912, 2001, who report a
learning time growing as a power of the problem size with exponent ~1.4).
The hidden layer has ``hidden_per_pattern * N`` neurons. The learning time
of a network is the number of presentations before its first error-free era;
the exponent is a least-squares fit of log(median learning time) against
log(N) over the sizes where every network learned.

Run::

    python experiments/chialvo_bak_scaling.py [--quick] [--out results]

Writes ``results/chialvo_bak_scaling/summary.csv``, ``runs.csv`` and
``learning_time.png``.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass

import _common
import numpy as np
import pandas as pd

from memsim.learning import ChialvoBak, parity, train_chialvo_bak

NAME = "chialvo_bak_scaling"


@dataclass(frozen=True)
class Config:
    """Experiment 4 settings."""

    bits: tuple[int, ...] = (2, 3, 4, 5, 6, 7)
    copies: int = 50
    hidden_per_pattern: int = 2  # hidden neurons per pattern
    delta: float = 0.1  # 1, largest depression per mistake
    tag_factor: float = 0.01  # 1, tagged synapses are punished 100x less
    max_eras: int = 20_000
    seed: int = 3


QUICK = Config(bits=(2, 3, 4), copies=10)


def run(cfg: Config) -> dict[str, pd.DataFrame]:
    rows, runs = [], []
    for n in cfg.bits:
        task = parity(n)
        big_n = len(task)
        model = ChialvoBak(hidden=(cfg.hidden_per_pattern * big_n,), delta=cfg.delta, tag_factor=cfg.tag_factor,
                           max_eras=cfg.max_eras)
        t0 = time.perf_counter()
        res = train_chialvo_bak(task, model, n_copies=cfg.copies, seed=cfg.seed + n)
        lt = res.learning_time
        rows.append({"bits": n, "patterns": big_n, "hidden": model.hidden[0], "copies": cfg.copies,
                     "learned": int(res.learned.sum()), "time_median": np.nanmedian(lt) if res.learned.any() else np.nan,
                     "time_mean": np.nanmean(lt) if res.learned.any() else np.nan,
                     "time_q25": np.nanquantile(lt, 0.25) if res.learned.any() else np.nan,
                     "time_q75": np.nanquantile(lt, 0.75) if res.learned.any() else np.nan,
                     "mistakes_mean": res.mistakes.mean(), "wall_s": time.perf_counter() - t0})
        runs.extend({"bits": n, "copy": c, "learned": bool(res.learned[c]), "learning_time": lt[c],
                     "mistakes": int(res.mistakes[c])} for c in range(cfg.copies))
        print(f"  parity-{n} (N = {big_n}): {rows[-1]['learned']}/{cfg.copies} learned, median learning time "
              f"{rows[-1]['time_median']:.0f} presentations ({rows[-1]['wall_s']:.1f} s)", flush=True)
    summary = pd.DataFrame(rows)
    ok = summary[summary["learned"] == summary["copies"]]
    slope = np.polyfit(np.log(ok["patterns"]), np.log(ok["time_median"]), 1)[0] if len(ok) >= 2 else np.nan
    summary["exponent"] = slope
    return {"summary": summary, "runs": pd.DataFrame(runs)}


def figure(res: dict[str, pd.DataFrame], cfg: Config):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    s = res["summary"]
    k = float(s["exponent"].iloc[0])
    fig, ax = plt.subplots(figsize=(5, 3.8), constrained_layout=True)
    ax.errorbar(s["patterns"], s["time_median"], yerr=[s["time_median"] - s["time_q25"], s["time_q75"] - s["time_median"]],
                fmt="o", capsize=3, label="median (quartiles)")
    x = s["patterns"].to_numpy(dtype=float)
    if np.isfinite(k):
        c = np.exp(np.mean(np.log(s["time_median"]) - k * np.log(x)))
        ax.plot(x, c * x**k, "-", label=f"fit: N^{k:.2f}")
        ax.plot(x, c * x[0] ** (k - 1.4) * x**1.4, ":", label="N^1.4 (Bak & Chialvo 2001)")
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("parity patterns N = 2^bits")
    ax.set_ylabel("presentations to learn")
    ax.legend(fontsize=8)
    ax.set_title(f"Chialvo-Bak, {cfg.copies} networks per size", fontsize=9)
    return fig


def report(res: dict[str, pd.DataFrame], cfg: Config) -> None:
    print(f"  fitted exponent {res['summary']['exponent'].iloc[0]:.2f} (Bak & Chialvo 2001: ~1.4)")


def main(argv: list[str] | None = None) -> int:
    return _common.main(argv, doc=__doc__, name=NAME, full=Config(), quick=QUICK, run=run, figure=figure,
                        figure_file="learning_time.png", report=report, quick_help="small sizes, few copies (for CI)")


if __name__ == "__main__":
    sys.exit(main())
