"""Plumbing shared by the experiment scripts: command line, result files, verdict lines, statistics.

Each experiment is a script with a frozen ``Config`` (full and ``--quick``
settings), ``run(cfg) -> {name: DataFrame}``, ``figure(res, cfg)`` and a
``report(res, cfg)`` that prints its summary and verdicts; :func:`main`
ties them together so every script has the same command line::

    python experiments/<name>.py [--quick] [--out results] [--workers N]

and writes ``<out>/<name>/<table>.csv`` for every table (before drawing the
figure, so a plotting failure loses no result) and the figure.

Statistics shared by the co-design studies: era caps scaled with the
network (:func:`scaled_cap`) and outcomes under a smaller cap
(:func:`learned_by`); maximum-likelihood binomial models of P(learned)
(:func:`fit_binomial`, AIC) with a bootstrap over pattern sets
(:func:`set_bootstrap`); Wilson error bars and Kaplan-Meier curves of the
time to learn (scipy's estimator) for the figures.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.optimize import minimize
from scipy.special import xlogy
from scipy.stats import mannwhitneyu


def main(
    argv: list[str] | None,
    *,
    doc: str,
    name: str,
    full,
    quick,
    run: Callable[..., Mapping[str, pd.DataFrame]],
    figure: Callable,
    figure_file: str,
    report: Callable[[Mapping[str, pd.DataFrame], object], None],
    quick_help: str = "small settings (for CI)",
) -> int:
    """Parse ``[--quick] [--out DIR]``, run, write CSVs and the figure, print the report; return 0."""
    ap = argparse.ArgumentParser(description=doc.strip().splitlines()[0])
    ap.add_argument("--quick", action="store_true", help=quick_help)
    ap.add_argument("--out", default="results", help="results folder (default: results)")
    if hasattr(full, "workers"):
        ap.add_argument("--workers", type=int, default=1,
                        help="processes that train pattern sets in parallel (default 1; same numbers for any value)")
    args = ap.parse_args(argv)
    cfg = quick if args.quick else full
    if hasattr(full, "workers"):
        if args.workers < 1:
            ap.error(f"--workers must be >= 1, got {args.workers}")
        cfg = dataclasses.replace(cfg, workers=args.workers)
    t0 = time.perf_counter()
    res = run(cfg)
    folder = Path(args.out) / name
    folder.mkdir(parents=True, exist_ok=True)
    for key, df in res.items():
        df.to_csv(folder / f"{key}.csv", index=False)
    figure(res, cfg).savefig(folder / figure_file, dpi=110)
    print(f"{name}: {time.perf_counter() - t0:.1f} s -> {folder}")
    report(res, cfg)
    return 0


def claim_line(claim: str, supported: bool, evidence: str) -> str:
    """``claim <claim>: SUPPORTED|NOT SUPPORTED by memsim's numbers: <evidence>``."""
    return f"claim {claim}: {'SUPPORTED' if supported else 'NOT SUPPORTED'} by memsim's numbers: {evidence}"


def mann_whitney_greater(a, b) -> tuple[float, float]:
    """One-sided Mann-Whitney U test of ``a > b`` (``scipy.stats.mannwhitneyu``): ``(U, p)``.

    When every value of both samples is equal there is no evidence either
    way: ``(n_a n_b / 2, 1.0)`` (scipy would return p = 0.5 or warn).
    """
    a, b = np.asarray(a, float), np.asarray(b, float)
    if np.unique(np.concatenate([a, b])).size == 1:
        return float(a.size * b.size / 2), 1.0
    res = mannwhitneyu(a, b, alternative="greater")
    return float(res.statistic), float(res.pvalue)


# ------------------------------------------------------------------ era caps, censored learning times
def scaled_cap(devices: int, base: float, ref_devices: float, exponent: float, factor: float = 1.0) -> int:
    """Era cap ``ceil(factor * base * (devices / ref_devices) ** exponent)``, at least 1.

    An era presents every pattern once, so a cap in eras is a cap of
    ``p * eras`` presentations: it scales with the number of patterns by
    construction and with the number of devices through ``exponent``.
    """
    return max(1, math.ceil(factor * base * (devices / ref_devices) ** exponent - 1e-9))


def learned_by(trials: pd.DataFrame, caps) -> np.ndarray:
    """Per trial: learned within ``caps`` eras (a number or one per row) of a run with a larger cap.

    Training stops only at the stop criterion or the cap, so the outcome
    under a smaller cap is the larger run's censored at it
    (``CapacityResult.trials``).
    """
    eras = trials["eras"].to_numpy(float)
    return trials["learned"].to_numpy(bool) & (np.nan_to_num(eras, nan=np.inf) <= np.asarray(caps, float))


# ------------------------------------------------------------------ binomial models of P(learned)
@dataclass(frozen=True)
class BinomialFit:
    """Maximum-likelihood fit of a binomial model: parameters, negative log-likelihood, AIC."""

    theta: np.ndarray
    nll: float
    n_params: int

    @property
    def aic(self) -> float:
        """Akaike's information criterion ``2 k + 2 nll``."""
        return 2.0 * self.n_params + 2.0 * self.nll


def binomial_nll(prob: np.ndarray, k: np.ndarray, n: np.ndarray) -> float:
    """``-sum [k log P + (n - k) log(1 - P)]``, P clipped to ``[1e-12, 1 - 1e-12]``."""
    prob = np.clip(prob, 1e-12, 1 - 1e-12)
    return float(-np.sum(xlogy(k, prob) + xlogy(n - k, 1.0 - prob)))


def fit_binomial(model: Callable[[np.ndarray], np.ndarray], k, n, starts, bounds) -> BinomialFit:
    """Maximise the binomial likelihood of counts ``k`` of ``n`` under ``P = model(theta)``.

    SLSQP from each of ``starts`` within ``bounds`` (a sequence of
    ``(low, high)``) on the log-likelihood per trial (SLSQP stops early on
    the unscaled sum, whose gradient is ~n_total times larger); the best
    optimum is returned. Rows with ``n = 0`` contribute nothing. (Not
    L-BFGS-B: on these small problems scipy 1.17's L-BFGS-B spends ~4 ms per
    iteration in its driver, 10-30x SLSQP's time, for the same optimum.)
    """
    k, n = np.asarray(k, float), np.asarray(n, float)
    scale = max(float(n.sum()), 1.0)
    best = None
    for x0 in starts:
        x0 = np.clip(np.asarray(x0, float), [b[0] for b in bounds], [b[1] for b in bounds])
        res = minimize(lambda th: binomial_nll(model(th), k, n) / scale, x0, method="SLSQP", bounds=bounds,
                       options={"maxiter": 500, "ftol": 1e-13})
        if best is None or res.fun < best.fun:
            best = res
    return BinomialFit(theta=np.asarray(best.x), nll=float(best.fun) * scale, n_params=len(bounds))


def set_bootstrap(trials: pd.DataFrame, rows: list[str], learned: np.ndarray, n_boot: int, seed: int):
    """Counts resampled over pattern sets: ``(keys, k, n, k_boot, n_boot)``.

    ``keys`` is a DataFrame of the distinct values of the columns ``rows``
    (which must include ``p``); ``k``, ``n`` the learned and trained copies
    per key; ``k_boot``, ``n_boot`` (``n_boot``, R) the same counts with the
    pattern sets of each ``p`` drawn with replacement, the same draw for
    every other column (sizes, variants, depths): set ``j`` of size ``p`` is
    the same task for all of them, so the resampling keeps the pairing.
    """
    t = trials.assign(_learned=np.asarray(learned, bool).astype(float), _one=1.0)
    keys = t[rows].drop_duplicates().sort_values(rows).reset_index(drop=True)
    sets = np.sort(t["set"].unique())
    k = t.pivot_table(index=rows, columns="set", values="_learned", aggfunc="sum", fill_value=0.0)
    n = t.pivot_table(index=rows, columns="set", values="_one", aggfunc="sum", fill_value=0.0)
    idx = pd.MultiIndex.from_frame(keys) if len(rows) > 1 else pd.Index(keys[rows[0]])
    k = k.reindex(index=idx, columns=sets, fill_value=0.0).to_numpy()
    n = n.reindex(index=idx, columns=sets, fill_value=0.0).to_numpy()
    ps = np.sort(keys["p"].unique())
    rng = np.random.default_rng(seed)
    w = np.stack([rng.multinomial(sets.size, np.full(sets.size, 1.0 / sets.size), size=ps.size)
                  for _ in range(n_boot)]) if n_boot else np.zeros((0, ps.size, sets.size))
    row_p = np.searchsorted(ps, keys["p"].to_numpy())
    wr = w[:, row_p, :]  # (B, R, J): the weight of set j for the row's p
    return keys, k.sum(axis=1), n.sum(axis=1), np.einsum("brj,rj->br", wr, k), np.einsum("brj,rj->br", wr, n)


def percentile_interval(values, confidence: float = 0.95) -> tuple[float, float]:
    """Percentile bootstrap interval (NaN, NaN without finite values)."""
    v = np.asarray(values, float)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return float("nan"), float("nan")
    lo, hi = np.quantile(v, [(1 - confidence) / 2, (1 + confidence) / 2])
    return float(lo), float(hi)


# ------------------------------------------------------------------ plotting with intervals
def wilson_errorbar(ax, x, k, n, **kwargs):
    """Points ``k / n`` at ``x`` with 95 % Wilson error bars (:func:`memsim.analysis.wilson_interval`)."""
    from memsim.analysis import wilson_interval

    k, n = np.asarray(k, np.int64), np.asarray(n, np.int64)
    lo, hi = wilson_interval(k, n)
    prob = k / n
    return ax.errorbar(x, prob, yerr=[prob - lo, hi - prob], fmt="o", capsize=2, ms=4, **kwargs)


def kaplan_meier(times, events):
    """Kaplan-Meier survival ``P(not learned after t)`` (``scipy.stats.ecdf`` of right-censored data)."""
    from scipy.stats import CensoredData, ecdf

    t, e = np.asarray(times, float), np.asarray(events, bool)
    return ecdf(CensoredData.right_censored(t, ~e)).sf


def plot_km(ax, times, events, **kwargs):
    """Step plot of the Kaplan-Meier curve from t = 0 with its 95 % log-log band; returns the line."""
    t, e = np.asarray(times, float), np.asarray(events, bool)
    if not e.any():
        return ax.step([0, t.max()], [1, 1], where="post", **kwargs)[0]
    sf = kaplan_meier(t, e)
    ci = sf.confidence_interval(0.95, method="log-log")
    # from t = 0 (S = 1) to the last time observed (the curve stays flat after the last event)
    q = np.r_[0.0, sf.quantiles, t.max()]
    prob = np.r_[1.0, sf.probabilities, sf.probabilities[-1]]
    lo, hi = (np.r_[1.0, v, v[-1]] for v in (np.nan_to_num(ci.low.probabilities, nan=0.0),
                                               np.nan_to_num(ci.high.probabilities, nan=1.0)))
    line = ax.step(q, prob, where="post", **kwargs)[0]
    ax.fill_between(q, lo, hi, step="post", color=line.get_color(), alpha=0.15, lw=0)
    return line


def km_median(times, events) -> float:
    """Median time of the Kaplan-Meier curve (inf where it never falls to 1/2)."""
    e = np.asarray(events, bool)
    if not e.any():
        return float("inf")
    sf = kaplan_meier(times, e)
    below = np.flatnonzero(sf.probabilities <= 0.5)
    return float(sf.quantiles[below[0]]) if below.size else float("inf")


def censored_times(trials: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Eras to learn where learned (events), else the run's cap (column ``cap``; censored)."""
    ev = trials["learned"].to_numpy(bool)
    return np.where(ev, trials["eras"].to_numpy(float), trials["cap"].to_numpy(float)), ev


def survival_table(trials: pd.DataFrame, group: str, scores: Mapping) -> pd.DataFrame:
    """Kaplan-Meier median eras per ``group`` value and p; the log-rank tests over the groups.

    The tests (:func:`memsim.analysis.logrank_test`) are stratified by
    pattern set (``p``, ``set``), so groups are compared on the same tasks;
    the trend test uses ``scores`` (group value -> score). Their results are
    repeated on every row: ``trend_z, trend_p, logrank_chi2, logrank_df,
    logrank_p``.
    """
    from memsim.analysis import logrank_test

    rows = []
    for (gv, p), g in trials.groupby([group, "p"]):
        times, ev = censored_times(g)
        rows.append({group: gv, "p": p, "n": len(g), "events": int(ev.sum()), "cap": int(g["cap"].max()),
                     "median_eras": km_median(times, ev)})
    out = pd.DataFrame(rows)
    times, ev = censored_times(trials)
    if trials[group].nunique() > 1 and ev.any():
        r = logrank_test(times, ev, trials[group].to_numpy(), strata=(trials["p"] * 100_000 + trials["set"]).to_numpy(),
                         scores={gv: float(scores[gv]) for gv in trials[group].unique()})
        out["trend_z"], out["trend_p"], out["logrank_chi2"], out["logrank_df"], out["logrank_p"] = (
            r.trend_z, r.trend_pvalue, r.statistic, r.df, r.pvalue)
    return out


def km_panel(ax, trials: pd.DataFrame, group: str, survival: pd.DataFrame, label: Callable) -> int:
    """Kaplan-Meier curves per ``group`` value at one p (the largest tested everywhere, at most 3); returns it.

    Each curve's cap is a dotted line; the title carries the trend test of ``survival``.
    """
    key_p = int(min(trials.groupby(group)["p"].max().min(), 3))
    for gv, g in trials[trials["p"] == key_p].groupby(group):
        line = plot_km(ax, *censored_times(g), label=label(gv))
        ax.axvline(g["cap"].max(), color=line.get_color(), ls=":", lw=0.8)
    z = (f"; log-rank trend z = {survival['trend_z'].iloc[0]:+.2f}, p = {survival['trend_p'].iloc[0]:.2g}"
         if "trend_z" in survival else "")
    ax.set_title(f"time to learn, p = {key_p} (caps dotted){z}", fontsize=9)
    ax.set_xlabel("eras")
    ax.set_ylabel("P(not yet learned), Kaplan-Meier 95 %")
    ax.set_ylim(-0.02, 1.02)
    ax.legend(fontsize=7)
    return key_p
