"""Co-design 1: capacity, learning time and controllability versus depth at a fixed device budget.

Claim tested (Barrows, Lin, Caravelli & Chialvo 2024, the depth trade-off):
at a fixed number of devices, spending them on more hidden layers lowers the
controllability of the device states from the terminals and the capacity of
the (untailored) learning-from-mistakes controller.

Networks: ``layered([2, h, ..., h, 2], orientation="backward")`` of VTEAM
devices (published parameters) with 1 to 4 hidden layers, the width ``h``
chosen per depth so that the device count ``4 h + (L - 1) h^2`` is closest
to ``budget``; 50 ohm source resistance (memsim's default), default
:class:`memsim.learning.Pulses`. The hardware is what a fresh chip has:
uniform random initial states and device-to-device spread
(``Variability(d2d=...)``, log-normal factors on VTEAM's resistances, rate
constants and thresholds). For each depth:

- controllability (:func:`memsim.analysis.controllability`) through every
  configuration the controller may use
  (:func:`memsim.analysis.controller_configurations`) at ``ctrl_draws``
  hardware draws, each with its own states and device parameters; at
  uniform states (x = 0.5, no spread) as a labelled **degenerate
  reference** only (an exactly symmetric net, whose rank is forced by
  symmetry);
- structural capacity (:func:`memsim.analysis.structural_capacity`, io rank);
- empirical capacity (:func:`memsim.analysis.empirical_capacity`): random
  binary pattern sets on the 2 inputs, p = 1 up to the natural limit 3,
  ``n_sets`` sets x ``copies`` copies per p; every depth sees the same sets.

Era cap. An era presents every pattern once, so a cap of ``E`` eras is
``p E`` presentations; ``E(M) = ceil(f base (M / ref)^gamma)`` also grows
with the device count ``M`` (nearly the same at every depth here). The nets
are trained once at the largest factor ``f``; the outcomes under the smaller
caps are those runs censored at them (exact: training stops only at the
stop criterion or the cap).

Statistics. Capacity: the logistic model ``logit P(learned | p, L) =
beta_p + beta_L (L - 1)`` (one intercept per p, a common depth slope),
fitted by maximum binomial likelihood to the learned/trained counts; the
depth effect is tested by the likelihood ratio against ``beta_L = 0``
(one-sided) and its interval is a percentile bootstrap over pattern sets
(the sets of each p drawn with replacement, the same draw at every depth),
which carries the correlation of copies sharing a set. Learning time:
Kaplan-Meier curves of the eras to learn (censored at the cap) per depth,
compared by the log-rank trend test over depth stratified by pattern set
(:func:`memsim.analysis.logrank_test`).

Verdicts:

- the claim is supported when the normalised controllability (random states
  + d2d) falls with depth (Spearman rho < 0, deepest below shallowest,
  one-sided Mann-Whitney U over the draws p < ``alpha``) and the capacity
  falls with depth at the x1 cap (``beta_L < 0``, likelihood-ratio p <
  ``alpha``, bootstrap interval below 0);
- cap sensitivity: the capacity part at every cap factor;
- (t) learning takes longer in deeper nets: log-rank trend ``z < 0``, p < ``alpha``.

Cost: ~4 minutes for the full settings (251 s measured on a shared, loaded 2-core
machine, one worker).

Run::

    python experiments/codesign_depth.py [--quick] [--out results] [--workers N]

Writes ``results/codesign_depth/summary.csv`` (one row per depth),
``capacity.csv`` (one row per depth, cap and p), ``controllability.csv`` (one row per
depth and hardware draw), ``trials.csv`` (one row per trained copy),
``fits.csv`` (one row per cap), ``survival.csv`` (one row per depth and p)
and ``depth.png``.
"""

from __future__ import annotations

import dataclasses
import sys
import time
from dataclasses import dataclass

import _common
import numpy as np
import pandas as pd
from scipy.special import expit
from scipy.stats import chi2, spearmanr

from memsim import VTEAM, Network, Variability, layered
from memsim.analysis import (
    controllability,
    controller_configurations,
    empirical_capacity,
    structural_capacity,
    wilson_interval,
)
from memsim.learning import Controller, Pulses, build_hardware

NAME = "codesign_depth"


@dataclass(frozen=True)
class Config:
    """Experiment settings."""

    budget: int = 48  # devices
    depths: tuple[int, ...] = (1, 2, 3, 4)  # hidden layers
    d2d: float = 0.1  # 1, log-normal sigma of device-to-device spread
    source_resistance: float = 50.0  # ohm, memsim's default
    n_sets: int = 24  # pattern sets per p
    copies: int = 3  # hardware copies per set
    base_eras: float = 10.0  # era cap at ref_devices, factor 1
    ref_devices: float = 10.0
    cap_exponent: float = 1 / 3  # E ~ M^gamma
    cap_factors: tuple[float, ...] = (1 / 3, 1.0, 3.0)  # sensitivity; 1 is the reference cap
    ctrl_draws: int = 6  # hardware draws for the controllability
    n_boot: int = 200  # bootstrap resamples over pattern sets
    alpha: float = 0.05
    seed: int = 21
    workers: int = 1  # processes training pattern sets in parallel (same numbers for any value)


QUICK = Config(budget=12, depths=(1, 2), n_sets=2, copies=2, base_eras=2.0, ctrl_draws=1, n_boot=4)


def layers_for(depth: int, budget: int, n_in: int = 2, n_out: int = 2) -> list[int]:
    """Layer sizes with ``depth`` hidden layers of equal width, device count closest to ``budget``."""
    def devices(h: int) -> int:
        return (n_in + n_out) * h + (depth - 1) * h * h

    h = min(range(1, budget + 1), key=lambda w: (abs(devices(w) - budget), w))
    return [n_in] + [h] * depth + [n_out]


def _cap(cfg: Config, devices: int, factor: float = 1.0) -> int:
    return _common.scaled_cap(devices, cfg.base_eras, cfg.ref_devices, cfg.cap_exponent, factor)


def _ctrl(net: Network, x0, seed: int, cfg: Config, variability: Variability | None):
    """Controllability of one hardware draw, with that copy's own device parameters."""
    hw = build_hardware(net, x0=x0, variability=variability, source_resistance=cfg.source_resistance, seed=seed)
    circuit = dataclasses.replace(hw.circuit, params=hw.params[0])
    return controllability(circuit, controller_configurations(hw), x=hw.x[0]), hw


def run(cfg: Config) -> dict[str, pd.DataFrame]:
    rows, trials, draws = [], [], []
    var = Variability(d2d=cfg.d2d)
    for depth in cfg.depths:
        t0 = time.perf_counter()
        sizes = layers_for(depth, cfg.budget)
        net = Network.from_graph(layered(sizes, orientation="backward"), VTEAM())
        m = net.n_edges
        uni, hw_u = _ctrl(net, 0.5, cfg.seed, cfg, None)
        rnd = [_ctrl(net, "random", cfg.seed + d, cfg, var)[0] for d in range(cfg.ctrl_draws)]
        draws += [{"depth": depth, "draw": d, "ctrl_rank": c.rank, "ctrl_norm": c.normalised_rank}
                  for d, c in enumerate(rnd)]
        sc = structural_capacity(hw_u.circuit, x=hw_u.x[0])
        cap = _cap(cfg, m, max(cfg.cap_factors))
        res = empirical_capacity(net, tasks="random", n_sets=cfg.n_sets, copies=cfg.copies, x0="random",
                                 variability=var, source_resistance=cfg.source_resistance,
                                 controller=Controller(max_eras=cap), seed=cfg.seed, workers=cfg.workers)
        trials.append(res.trials.assign(depth=depth, devices=m, cap=cap))
        rows.append({
            "depth": depth, "layers": "-".join(map(str, sizes)), "devices": m,
            "ctrl_rank_uniform": uni.rank, "ctrl_norm_uniform": uni.normalised_rank,
            "ctrl_rank_random": float(np.mean([c.rank for c in rnd])),
            "ctrl_norm_random": float(np.mean([c.normalised_rank for c in rnd])),
            "io_rank_uniform": sc.io_rank, "cap_run": cap,
        })
        r = rows[-1]
        print(f"  depth {depth} ({r['layers']}, {m} devices): controllability uniform (reference) "
              f"{uni.rank}/{uni.n_dynamic}, random + d2d {r['ctrl_rank_random']:.1f}/{uni.n_dynamic}; learned "
              f"{res.successes.tolist()} of {res.n_trials.tolist()} (cap {cap} eras) "
              f"({time.perf_counter() - t0:.0f} s)", flush=True)
    tr = pd.concat(trials, ignore_index=True)
    capacity, fits = analyse(tr, cfg)
    summary = pd.DataFrame(rows)
    c1 = capacity[capacity["cap_factor"] == 1.0]
    ml = c1.groupby("depth")["probability"].sum()
    summary["mean_learnable"] = summary["depth"].map(ml)
    summary["learned"] = summary["depth"].map(c1.groupby("depth")["successes"].sum())
    summary["trials"] = summary["depth"].map(c1.groupby("depth")["n_trials"].sum())
    return {"summary": summary, "capacity": capacity, "controllability": pd.DataFrame(draws), "trials": tr,
            "fits": fits, "survival": _common.survival_table(tr, "depth", {d: d for d in cfg.depths})}


# ------------------------------------------------------------------ capacity model and learning time
def depth_model(p_index: np.ndarray, n_p: int, depth: np.ndarray):
    """``logit P = beta_p + beta_L (depth - 1)``: ``(model(theta) -> P, bounds)``; ``theta = (beta_1.., beta_L)``."""
    return (lambda th: expit(th[p_index] + th[n_p] * (depth - 1))), [(-12.0, 12.0)] * n_p + [(-5.0, 5.0)]


def fit_depth(p_index, n_p, depth, k, n, start=None, slope: bool = True) -> _common.BinomialFit:
    """Fit the depth model (``slope=False``: ``beta_L = 0``, the null)."""
    model, bounds = depth_model(p_index, n_p, depth)
    if not slope:
        bounds = bounds[:-1] + [(0.0, 0.0)]
    fit = _common.fit_binomial(model, k, n, [np.zeros(n_p + 1) if start is None else start], bounds)
    return fit if slope else dataclasses.replace(fit, n_params=n_p)


def analyse(tr: pd.DataFrame, cfg: Config) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Counts per depth, cap and p; the depth model with its test and bootstrap at every cap factor."""
    counts, fits = [], []
    for f in cfg.cap_factors:
        caps = np.array([_cap(cfg, d, f) for d in tr["devices"]])
        keys, k, n, kb, nb = _common.set_bootstrap(tr, ["depth", "p"], _common.learned_by(tr, caps), cfg.n_boot,
                                                   cfg.seed)
        lo, hi = wilson_interval(k.astype(np.int64), n.astype(np.int64))
        dev_of = dict(zip(tr["depth"], tr["devices"]))
        counts.append(keys.assign(cap_factor=f, cap=[_cap(cfg, dev_of[d], f) for d in keys["depth"]],
                                  successes=k.astype(int), n_trials=n.astype(int), probability=k / n, low=lo, high=hi))
        ps = np.sort(keys["p"].unique())
        pi = np.searchsorted(ps, keys["p"].to_numpy())
        depth = keys["depth"].to_numpy(float)
        alt = fit_depth(pi, ps.size, depth, k, n)
        null = fit_depth(pi, ps.size, depth, k, n, slope=False)
        beta = float(alt.theta[-1])
        p_two = float(chi2.sf(max(0.0, 2 * (null.nll - alt.nll)), 1))
        boot = np.array([fit_depth(pi, ps.size, depth, kb[b], nb[b], start=alt.theta).theta[-1]
                         for b in range(kb.shape[0])])
        blo, bhi = _common.percentile_interval(boot)
        # mean learnable patterns (sum over p of P) per depth, bootstrap over the same resamples
        row = {"cap_factor": f, "beta_depth": beta, "beta_low": blo, "beta_high": bhi,
               "lr_p_one_sided": p_two / 2 if beta < 0 else 1 - p_two / 2, "nll": alt.nll, "aic": alt.aic,
               "aic_null": null.aic}
        for d in sorted(keys["depth"].unique()):
            sel = (keys["depth"] == d).to_numpy()
            row[f"mean_learnable_d{d}"] = float(np.sum(k[sel] / n[sel]))
            mb = np.sum(kb[:, sel] / np.maximum(nb[:, sel], 1), axis=1)
            row[f"mean_learnable_d{d}_low"], row[f"mean_learnable_d{d}_high"] = _common.percentile_interval(mb)
        fits.append(row)
    return pd.concat(counts, ignore_index=True), pd.DataFrame(fits)




# ------------------------------------------------------------------ verdicts
def _capacity_text(fit: pd.Series, depths, alpha: float) -> tuple[bool, str]:
    """Capacity part of the verdict at one cap: beta_L < 0, likelihood ratio p < alpha, interval below 0."""
    ml = [fit[f"mean_learnable_d{d}"] for d in depths]
    ok = fit["beta_depth"] < 0 and fit["lr_p_one_sided"] < alpha and fit["beta_high"] < 0
    return ok, (f"depth slope of logit P(learned) beta_L = {fit['beta_depth']:+.3f} [{fit['beta_low']:+.3f}, "
                f"{fit['beta_high']:+.3f}] (bootstrap 95 % over sets; likelihood ratio one-sided p = "
                f"{fit['lr_p_one_sided']:.2g}); mean learnable patterns {np.round(ml, 2).tolist()} over depths "
                f"{list(depths)}")


def verdict(res: dict[str, pd.DataFrame], alpha: float) -> tuple[bool, str]:
    """Does the table support the claim at the x1 cap? (see the module docstring)"""
    s = res["summary"].sort_values("depth")
    if len(s) < 2:
        return False, "fewer than two depths: no trend"
    rho_c = spearmanr(s["depth"], s["ctrl_norm_random"]).statistic if s["ctrl_norm_random"].nunique() > 1 else 0.0
    first, last = s.iloc[0], s.iloc[-1]
    d = res["controllability"]
    _, p_c = _common.mann_whitney_greater(d.loc[d["depth"] == first["depth"], "ctrl_norm"],
                                          d.loc[d["depth"] == last["depth"], "ctrl_norm"])
    fit = res["fits"].set_index("cap_factor").loc[1.0]
    ok_m, text_m = _capacity_text(fit, s["depth"].tolist(), alpha)
    caps = res["capacity"].query("cap_factor == 1.0").groupby("depth")["cap"].first().tolist()
    ok = rho_c < 0 and last["ctrl_norm_random"] < first["ctrl_norm_random"] and p_c < alpha and ok_m
    text = (f"normalised controllability (random states + d2d) {first['ctrl_norm_random']:.3f} -> "
            f"{last['ctrl_norm_random']:.3f} (Spearman rho {rho_c:+.2f}; Mann-Whitney p = {p_c:.2g}; degenerate "
            f"uniform reference {first['ctrl_norm_uniform']:.3f} -> {last['ctrl_norm_uniform']:.3f}); {text_m}; "
            f"learned {int(first['learned'])}/{int(first['trials'])} vs {int(last['learned'])}/{int(last['trials'])}, "
            f"depth {int(first['depth'])} -> {int(last['depth'])} ({first['layers']} -> {last['layers']}), x1 caps "
            f"{caps} eras, alpha {alpha}")
    return bool(ok), text


def figure(res: dict[str, pd.DataFrame], cfg: Config):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    s, c, fits = res["summary"], res["capacity"], res["fits"].set_index("cap_factor")
    fig, axes = plt.subplots(2, 2, figsize=(11, 8), constrained_layout=True)
    ax = axes[0, 0]
    c1 = c[c["cap_factor"] == 1.0]
    ps = np.sort(c1["p"].unique())
    f1 = res["fits"][res["fits"]["cap_factor"] == 1.0].iloc[0]
    refit = fit_depth(np.searchsorted(ps, c1["p"].to_numpy()), ps.size, c1["depth"].to_numpy(float),
                      c1["successes"].to_numpy(float), c1["n_trials"].to_numpy(float))
    for i, (depth, g) in enumerate(c1.groupby("depth")):
        lay = s.loc[s["depth"] == depth, "layers"].iloc[0]
        line = _common.wilson_errorbar(ax, g["p"] + (i - 1.5) * 0.05, g["successes"], g["n_trials"], label=lay)
        ax.plot(ps, expit(refit.theta[: ps.size] + refit.theta[-1] * (depth - 1)), "--", lw=1,
                color=line[0].get_color())
    ax.set_xticks(ps)
    ax.set_xlabel("patterns p")
    ax.set_ylabel("P(learned), 95 % Wilson")
    ax.set_title(f"x1 cap; dashed: logistic fit, beta_L = {f1['beta_depth']:+.2f} "
                 f"[{f1['beta_low']:+.2f}, {f1['beta_high']:+.2f}]", fontsize=9)
    ax.legend(fontsize=7)
    ax = axes[0, 1]
    d = res["controllability"].groupby("depth")["ctrl_norm"]
    mean, lo, hi = d.mean(), d.min(), d.max()
    ax.errorbar(mean.index, mean, yerr=[mean - lo, hi - mean], fmt="o-", capsize=3,
                label=f"random states + d2d (mean, range of {cfg.ctrl_draws} draws)")
    ax.plot(s["depth"], s["ctrl_norm_uniform"], "x--", color="0.6", label="uniform states (degenerate reference)")
    ax.set_xticks(list(s["depth"]))
    ax.set_xlabel("hidden layers")
    ax.set_ylabel("controllability rank / devices")
    ax.set_ylim(0, 1.05)
    ax.legend(fontsize=7)
    ax.set_title(f"fixed budget ~{cfg.budget} devices", fontsize=9)
    ax = axes[1, 0]
    _common.km_panel(ax, res["trials"], "depth", res["survival"], lambda d: f"{d} hidden")
    ax = axes[1, 1]
    depths = sorted(s["depth"])
    for j, f in enumerate(cfg.cap_factors):
        row = fits.loc[f]
        ml = np.array([row[f"mean_learnable_d{d}"] for d in depths])
        lo = np.array([row[f"mean_learnable_d{d}_low"] for d in depths])
        hi = np.array([row[f"mean_learnable_d{d}_high"] for d in depths])
        ax.errorbar(np.array(depths) + (j - 1) * 0.05, ml, yerr=[ml - np.minimum(lo, ml), np.maximum(hi, ml) - ml],
                    fmt="o-", capsize=3, label=f"cap x{f:.3g}: beta_L {row['beta_depth']:+.2f} "
                    f"[{row['beta_low']:+.2f}, {row['beta_high']:+.2f}]")
    ax.set_xticks(depths)
    ax.set_xlabel("hidden layers")
    ax.set_ylabel("mean learnable patterns (95 % bootstrap)")
    ax.set_title("era cap sensitivity", fontsize=9)
    ax.legend(fontsize=7)
    fig.suptitle(f"layered VTEAM nets, ~{cfg.budget} devices, default pulses, {cfg.source_resistance:g} ohm sources, "
                 f"d2d {cfg.d2d}", fontsize=10)
    return fig


def report(res: dict[str, pd.DataFrame], cfg: Config) -> None:
    p = Pulses()
    print(f"modelling choices: VTEAM (published parameters), layered backward nets 2-h..h-2 at ~{cfg.budget} "
          f"devices, default pulses (read {p.read_voltage} V, punish {p.punish_voltage} V x "
          f"{p.punish_duration * 1e9:g} ns, normalise {p.normalise_voltage} V x {p.normalise_duration * 1e9:g} ns, "
          f"{p.method}), source resistance {cfg.source_resistance:g} ohm, random states + d2d spread sigma "
          f"{cfg.d2d}, random binary sets (density 1/2), {cfg.n_sets} sets x {cfg.copies} copies per p, era cap "
          f"ceil(f {cfg.base_eras:g} (M/{cfg.ref_devices:g})^{cfg.cap_exponent:.3g}), f in "
          f"{[round(f, 3) for f in cfg.cap_factors]}")
    print(res["summary"].to_string(index=False))
    ok, text = verdict(res, cfg.alpha)
    print(_common.claim_line("(depth lowers controllability and capacity at a fixed budget)", ok, text))
    depths = res["summary"]["depth"].sort_values().tolist()
    for f, row in res["fits"].set_index("cap_factor").iterrows():
        if f != 1.0:
            ok_f, text_f = _capacity_text(row, depths, cfg.alpha)
            print(_common.claim_line(f"(depth lowers capacity, cap x{f:.3g}: sensitivity)", ok_f, text_f))
    sv = res["survival"]
    if "trend_z" in sv:
        z, pz = float(sv["trend_z"].iloc[0]), float(sv["trend_p"].iloc[0])
        med = sv.groupby("depth")["median_eras"].apply(lambda m: m.tolist())
        print(_common.claim_line(
            "(t) learning takes longer in deeper nets", bool(z < 0 and pz < cfg.alpha),
            f"log-rank trend over depth, stratified by pattern set: z = {z:+.2f} (z < 0: deeper nets learn later), "
            f"p = {pz:.2g}; k-sample chi2 {sv['logrank_chi2'].iloc[0]:.1f} on {int(sv['logrank_df'].iloc[0])} df, "
            f"p = {sv['logrank_p'].iloc[0]:.2g}; Kaplan-Meier median eras per depth (p = 1, 2, ...) {dict(med)}; "
            f"cap {int(sv['cap'].max())} eras"))


def main(argv: list[str] | None = None) -> int:
    return _common.main(argv, doc=__doc__, name=NAME, full=Config(), quick=QUICK, run=run, figure=figure,
                        figure_file="depth.png", report=report, quick_help="two small depths, few sets (for CI)")


if __name__ == "__main__":
    sys.exit(main())
