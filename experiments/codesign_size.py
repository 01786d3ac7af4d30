"""Co-design 2: capacity and learning time versus network size, on hardware with device spread.

Claims tested (Barrows, Lin, Caravelli & Chialvo 2024):

(a) without tailoring (the default pulses, tuned on the 2-4-2 net, at every
    size) performance falls with size: "exponentially" in the arXiv
    version, "declines significantly" in the journal version;
(b) breaking the symmetry raises controllability and average capacity.

Why not uniform nets. A layered net at uniform states (x = 0.5, no spread)
is exactly symmetric: its hidden nodes are interchangeable, its normalised
controllability rank is forced by symmetry, and after any controller pulse
every input gives the same normalised output currents, so it learns only
constant maps (P(learned | p) = n_out^-(p-1) for random targets). A size
trend of such nets measures the symmetry, not the network. They are kept
here only as a labelled **degenerate reference**. The networks compared are
what hardware has:

- ``random``: uniform random initial states and device-to-device spread
  (``Variability(d2d=...)``: log-normal factors on VTEAM's resistances,
  rate constants and thresholds), a fresh chip; the networks of claim (a);
- ``spread``: hardware meant to be uniform, states ``0.5 + N(0, state_spread^2)``
  and the same d2d spread; the baseline against which (b) is tested;
- ``uniform``: x = 0.5, no spread; reference only.

Networks: ``layered([n_in, h, n_out], orientation="backward")`` of VTEAM
devices (published parameters), 50 ohm source resistance (memsim's default),
default :class:`memsim.learning.Pulses` (adaptive integration). The numbers
of inputs and outputs stay fixed along the size axis (3 and 2), so the
chance level of a p-pattern set (2^-p with 2 outputs) is the same at every
size; the hidden width ``h`` sets the size (``M = (n_in + n_out) h``
devices). Every size and variant sees the same pattern sets (random binary
patterns, density 1/2, random targets), ``p = 1`` up to the natural limit
``2^n_in - 1``, with :func:`memsim.analysis.empirical_capacity`'s early stop
(sizes after the first ``p`` whose 95 % Wilson upper bound is below 1/2 are
not tested).

Era cap. An era presents every pattern once, so a cap of ``E`` eras is
``p E`` presentations; ``E(M) = ceil(f base (M / ref)^gamma)`` also grows
with the device count. The ``random`` nets are trained once at the largest
factor ``f``; the outcomes at the smaller factors are the same runs
censored at their caps (exact: training stops only at the stop criterion
or the cap; ``tests/analysis/test_capacity_empirical.py``).

Statistics. ``P(learned | p, M) = expit((C(M) - p) / w)``: a logistic in
``p`` whose midpoint ``C`` (the capacity, where half the sets are learned)
depends on size as

- ``constant``: ``C = C0`` (no size effect);
- ``exponential``: ``C = C0 exp(-a (M - M0))``;
- ``power law``: ``C = C0 (M / M0)^-b``;
- ``free``: one ``C`` per size (the points drawn in the figure),

fitted by maximum binomial likelihood to the learned/trained counts of
every (size, p) and compared by AIC (the exponential and the power law
have the same number of parameters, so their ``dAIC = AIC_power -
AIC_exponential`` is twice the log-likelihood ratio; > 0 favours the
exponential). Since M is proportional to h, both laws read the same against
hidden nodes. Intervals: percentile bootstrap over pattern sets (the sets
of each p drawn with replacement, the same draw for every size and
variant), ``n_boot`` resamples; it carries the correlation of the copies
that share a set, which the binomial likelihood ignores.

Verdicts (each at the x1 cap, then at every cap factor for the sensitivity):

- (a) *capacity falls exponentially with size*: supported when the
  exponential rate ``a`` is positive with its bootstrap interval above 0
  and the exponential beats the power law (``dAIC > 2`` with its bootstrap
  interval above 0);
- (b1) *breaking the symmetry raises controllability*: the ``random`` nets
  have a larger controllability rank than the ``spread`` baseline at every
  size (:func:`memsim.analysis.controllability` through the controller's
  configurations, with each copy's own device parameters);
- (b2) *breaking the symmetry raises capacity*: in the ``free`` model with
  a common factor ``exp(delta)`` on the capacity of the ``random`` nets,
  ``delta > 0`` by a likelihood-ratio test (one-sided, p < ``alpha``) with
  its bootstrap interval above 0;
- (t) *learning takes longer in larger nets*: Kaplan-Meier time to learn
  (eras, censored at the cap) per size, compared by the stratified
  log-rank trend test (:func:`memsim.analysis.logrank_test`; strata: the
  pattern sets, so sizes are compared on the same task; scores log2 M),
  ``z < 0`` with p < ``alpha``.

Cost: ~10 minutes for the full settings (578 s measured on a shared, loaded 2-core
machine, one worker),
dominated by the sets the largest nets fail (they train to the cap).

Run::

    python experiments/codesign_size.py [--quick] [--out results] [--workers N]

Writes ``results/codesign_size/summary.csv`` (one row per size and
variant), ``trials.csv`` (one row per trained copy), ``capacity.csv`` (one row
per variant, size, cap and p), ``fits.csv`` (one row per cap and model),
``survival.csv`` (one row per size and p) and ``size.png``.
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
from scipy.stats import chi2

from memsim import VTEAM, Network, Variability, layered
from memsim.analysis import (
    controllability,
    controller_configurations,
    empirical_capacity,
    spread_states,
    wilson_interval,
)
from memsim.learning import Controller, Pulses, build_hardware

NAME = "codesign_size"
VARIANTS = ("random", "spread", "uniform")
SIZE_MODELS = ("constant", "exponential", "power law")


@dataclass(frozen=True)
class Config:
    """Experiment settings."""

    n_inputs: int = 3
    n_outputs: int = 2
    hidden: tuple[int, ...] = (2, 3, 4, 8, 16, 32)  # hidden widths (sizes)
    d2d: float = 0.1  # 1, log-normal sigma of device-to-device spread (random and spread variants)
    state_spread: float = 0.05  # 1, state spread of the spread baseline around x = 0.5
    source_resistance: float = 50.0  # ohm, memsim's default
    n_sets: int = 12  # pattern sets per p (random and spread variants)
    copies: int = 3  # hardware copies per set
    n_sets_uniform: int = 6  # sets per p of the uniform reference (deterministic: one copy)
    base_eras: float = 10.0  # era cap at ref_devices, factor 1
    ref_devices: float = 10.0
    cap_exponent: float = 1 / 3  # E ~ M^gamma
    cap_factors: tuple[float, ...] = (1 / 3, 1.0, 3.0)  # sensitivity; 1 is the reference cap
    ctrl_draws: int = 2  # hardware draws per variant for the controllability
    n_boot: int = 200  # bootstrap resamples over pattern sets
    alpha: float = 0.05
    seed: int = 31
    workers: int = 1  # processes training pattern sets in parallel (same numbers for any value)


QUICK = Config(n_inputs=2, hidden=(2, 3, 4), n_sets=2, copies=2, n_sets_uniform=2, base_eras=2.0, ctrl_draws=1,
               n_boot=4)


def _cap(cfg: Config, devices: int, factor: float = 1.0) -> int:
    return _common.scaled_cap(devices, cfg.base_eras, cfg.ref_devices, cfg.cap_exponent, factor)


def _hardware_options(variant: str, cfg: Config) -> dict:
    if variant == "random":
        return {"x0": "random", "variability": Variability(d2d=cfg.d2d)}
    if variant == "spread":
        return {"x0": 0.5, "state_spread": cfg.state_spread, "variability": Variability(d2d=cfg.d2d)}
    return {"x0": 0.5}


def _controllability(net: Network, variant: str, cfg: Config, seed: int):
    """Controllability of one hardware draw, with that copy's own device parameters."""
    rng = np.random.default_rng(seed)
    opts = _hardware_options(variant, cfg)
    if opts.pop("state_spread", 0.0):
        opts["x0"] = spread_states(np.full(net.n_edges, 0.5), cfg.state_spread, seed=rng)
    hw = build_hardware(net, source_resistance=cfg.source_resistance, seed=rng, **opts)
    circuit = dataclasses.replace(hw.circuit, params=hw.params[0])
    return controllability(circuit, controller_configurations(hw), x=hw.x[0])


def run(cfg: Config) -> dict[str, pd.DataFrame]:
    rows, trials = [], []
    for h in cfg.hidden:
        net = Network.from_graph(layered([cfg.n_inputs, h, cfg.n_outputs], orientation="backward"), VTEAM())
        m = net.n_edges
        for variant in VARIANTS:
            t0 = time.perf_counter()
            draws = 1 if variant == "uniform" else cfg.ctrl_draws
            ctrl = [_controllability(net, variant, cfg, cfg.seed + d) for d in range(draws)]
            factor = max(cfg.cap_factors) if variant == "random" else 1.0
            cap = _cap(cfg, m, factor)
            uniform = variant == "uniform"
            res = empirical_capacity(net, tasks="random", n_sets=cfg.n_sets_uniform if uniform else cfg.n_sets,
                                     copies=1 if uniform else cfg.copies, controller=Controller(max_eras=cap),
                                     source_resistance=cfg.source_resistance, seed=cfg.seed, workers=cfg.workers,
                                     **_hardware_options(variant, cfg))
            trials.append(res.trials.assign(variant=variant, hidden=h, devices=m, cap=cap))
            rows.append({"hidden": h, "devices": m, "variant": variant,
                         "ctrl_rank": float(np.mean([c.rank for c in ctrl])),
                         "ctrl_norm": float(np.mean([c.normalised_rank for c in ctrl])),
                         "log10_condition": float(np.mean([np.log10(c.condition_number) for c in ctrl])),
                         "cap_run": cap, "p_tested": int(res.p[-1])})
            print(f"  {cfg.n_inputs}-{h}-{cfg.n_outputs} ({m} devices) {variant:>7}: controllability "
                  f"{rows[-1]['ctrl_rank']:.1f}/{m}; learned {res.successes.tolist()} of {res.n_trials.tolist()} "
                  f"(p = 1..{int(res.p[-1])}, cap {cap} eras) ({time.perf_counter() - t0:.0f} s)", flush=True)
    tr = pd.concat(trials, ignore_index=True)
    out = analyse(tr, cfg)
    summary = pd.DataFrame(rows)
    c1 = out["capacity"][out["capacity"]["cap_factor"] == 1.0].groupby(["variant", "hidden"])
    x1 = pd.DataFrame({"learned_x1": c1["successes"].sum(), "trials_x1": c1["n_trials"].sum(),
                       "mean_learnable_x1": c1["probability"].sum()}).reset_index()
    summary = summary.merge(x1, on=["variant", "hidden"], how="left")
    free = out["fits"][(out["fits"]["model"] == "free") & (out["fits"]["cap_factor"] == 1.0)].set_index("variant")
    summary["C_x1"] = [free.loc[v, f"C_h{h}"] for v, h in zip(summary["variant"], summary["hidden"])]
    return {"summary": summary, "trials": tr, **out}


# ------------------------------------------------------------------ models of P(learned | p, size)
def _logistic(log_c, log_w, p):
    return expit((np.exp(np.clip(log_c, -6.0, 6.0)) - p) / np.exp(log_w))


def size_models(devices: np.ndarray, p: np.ndarray, m0: float) -> dict:
    """``{name: (model(theta) -> P, bounds)}`` of the size laws of the module docstring."""
    lc, lw = (np.log(0.1), np.log(200.0)), (np.log(0.05), np.log(20.0))
    dm, lm = devices - m0, np.log(devices / m0)
    return {
        "constant": (lambda th: _logistic(th[0], th[1], p), [lc, lw]),
        "exponential": (lambda th: _logistic(th[0] - th[1] * dm, th[2], p), [lc, (-0.5, 0.5), lw]),
        "power law": (lambda th: _logistic(th[0] - th[1] * lm, th[2], p), [lc, (-5.0, 5.0), lw]),
    }


def free_model(size_index: np.ndarray, p: np.ndarray, n_sizes: int, offset: np.ndarray | None = None):
    """One capacity per size (and a common log factor ``delta`` on the rows where ``offset``)."""
    lc, lw = (np.log(0.1), np.log(200.0)), (np.log(0.05), np.log(20.0))
    if offset is None:
        return (lambda th: _logistic(th[size_index], th[n_sizes], p)), [lc] * n_sizes + [lw]
    return ((lambda th: _logistic(th[size_index] + th[n_sizes + 1] * offset, th[n_sizes], p)),
            [lc] * n_sizes + [lw, (-3.0, 3.0)])


def fit_sizes(devices, p, k, n, m0, starts=None) -> dict[str, _common.BinomialFit]:
    """Fit the constant, exponential and power-law size laws to counts (``starts``: per model, optional)."""
    out = {}
    for name, (model, bounds) in size_models(devices, p, m0).items():
        if starts is not None:
            st = [starts[name]]
        elif name == "constant":
            st = [[np.log(c), np.log(w)] for c in (1.5, 3.0, 6.0) for w in (0.3, 1.0)]
        else:
            c0 = out["constant"].theta
            st = [[c0[0], 0.0, c0[1]], [c0[0] + 0.5, bounds[1][1] / 50, c0[1]], [c0[0] - 0.5, bounds[1][0] / 50, c0[1]]]
        out[name] = _common.fit_binomial(model, k, n, st, bounds)
    return out


def _free_fit(size_index, p, k, n, n_sizes, start=None, offset=None) -> _common.BinomialFit:
    model, bounds = free_model(size_index, p, n_sizes, offset)
    if start is None:
        start = [np.log(3.0)] * n_sizes + [0.0] + ([0.0] if offset is not None else [])
    return _common.fit_binomial(model, k, n, [start], bounds)


def analyse(tr: pd.DataFrame, cfg: Config) -> dict[str, pd.DataFrame]:
    """Counts, model fits with bootstrap intervals, and learning-time survival (see the module docstring)."""
    hidden = np.array(sorted(tr["hidden"].unique()))
    dev_of = dict(zip(tr["hidden"], tr["devices"]))
    m0 = float(min(dev_of.values()))
    counts, fits = [], []
    for variant in VARIANTS:
        t = tr[tr["variant"] == variant]
        factors = cfg.cap_factors if variant == "random" else (1.0,)
        for f in factors:
            caps = np.array([_cap(cfg, d, f) for d in t["devices"]])
            keys, k, n, kb, nb = _common.set_bootstrap(t, ["hidden", "p"], _common.learned_by(t, caps),
                                                       cfg.n_boot if variant != "uniform" else 0, cfg.seed)
            lo, hi = wilson_interval(k.astype(np.int64), n.astype(np.int64))
            counts.append(keys.assign(variant=variant, cap_factor=f, devices=keys["hidden"].map(dev_of),
                                      cap=[_cap(cfg, dev_of[h], f) for h in keys["hidden"]],
                                      successes=k.astype(int), n_trials=n.astype(int), probability=k / n,
                                      low=lo, high=hi))
            d = keys["hidden"].map(dev_of).to_numpy(float)
            p = keys["p"].to_numpy(float)
            si = np.searchsorted(hidden, keys["hidden"].to_numpy())
            full = fit_sizes(d, p, k, n, m0) if variant == "random" else {}
            full["free"] = _free_fit(si, p, k, n, hidden.size)
            boot = {name: [] for name in full}
            for b in range(kb.shape[0]):
                bf = fit_sizes(d, p, kb[b], nb[b], m0, starts={nm: fit.theta for nm, fit in full.items()}) \
                    if variant == "random" else {}
                bf["free"] = _free_fit(si, p, kb[b], nb[b], hidden.size, start=full["free"].theta)
                for name, fit in bf.items():
                    boot[name].append((fit.theta, fit.aic))
            for name, fit in full.items():
                th_b = np.array([th for th, _ in boot[name]]) if boot[name] else np.zeros((0, fit.theta.size))
                row = {"variant": variant, "cap_factor": f, "model": name, "n_params": fit.n_params, "nll": fit.nll,
                       "aic": fit.aic}
                if name == "exponential":  # the comparison of the two laws goes on the exponential's row
                    daic = np.array([a for _, a in boot["power law"]]) - np.array([a for _, a in boot[name]])
                    row["dAIC"] = full["power law"].aic - fit.aic
                    row["dAIC_low"], row["dAIC_high"] = _common.percentile_interval(daic)
                if name == "free":
                    for i, h in enumerate(hidden):
                        row[f"C_h{h}"] = float(np.exp(fit.theta[i]))
                        row[f"C_h{h}_low"], row[f"C_h{h}_high"] = np.exp(_common.percentile_interval(th_b[:, i]))
                else:
                    row["C0"] = float(np.exp(fit.theta[0]))
                    row["width"] = float(np.exp(fit.theta[-1]))
                    if name != "constant":
                        row["rate"] = float(fit.theta[1])
                        row["rate_low"], row["rate_high"] = _common.percentile_interval(th_b[:, 1])
                fits.append(row)
    fits_df = pd.DataFrame(fits)
    counts_df = pd.concat(counts, ignore_index=True)
    sym = symmetry_test(tr, cfg, hidden, dev_of)
    return {"capacity": counts_df, "fits": pd.concat([fits_df, sym], ignore_index=True),
            "survival": survival(tr)}


def symmetry_test(tr: pd.DataFrame, cfg: Config, hidden: np.ndarray, dev_of: dict) -> pd.DataFrame:
    """(b2): the free model with a common capacity factor exp(delta) on the random nets, against spread."""
    t = tr[tr["variant"].isin(["random", "spread"])]
    caps = np.array([_cap(cfg, d, 1.0) for d in t["devices"]])
    keys, k, n, kb, nb = _common.set_bootstrap(t, ["variant", "hidden", "p"], _common.learned_by(t, caps),
                                               cfg.n_boot, cfg.seed + 1)
    si = np.searchsorted(hidden, keys["hidden"].to_numpy())
    p = keys["p"].to_numpy(float)
    is_random = (keys["variant"] == "random").to_numpy(float)
    null = _free_fit(si, p, k, n, hidden.size)
    alt = _free_fit(si, p, k, n, hidden.size, start=np.r_[null.theta, 0.0], offset=is_random)
    delta = float(alt.theta[-1])
    lr = max(0.0, 2 * (null.nll - alt.nll))
    p_two = float(chi2.sf(lr, 1))
    p_one = p_two / 2 if delta > 0 else 1 - p_two / 2
    db = [_free_fit(si, p, kb[b], nb[b], hidden.size, start=alt.theta, offset=is_random).theta[-1]
          for b in range(kb.shape[0])]
    lo, hi = _common.percentile_interval(db)
    # pooled over the (size, p) cells tested in both variants (the early stop may differ)
    both = keys.groupby(["hidden", "p"])["variant"].transform("nunique").to_numpy() == 2
    pooled = {v: (int(k[both & (keys["variant"] == v)].sum()), int(n[both & (keys["variant"] == v)].sum()))
              for v in ("random", "spread")}
    return pd.DataFrame([{"variant": "random vs spread", "cap_factor": 1.0, "model": "free + delta", "n_params":
                          alt.n_params, "nll": alt.nll, "aic": alt.aic, "delta": delta, "delta_low": lo,
                          "delta_high": hi, "lr_p_one_sided": p_one, "learned_random": pooled["random"][0],
                          "trials_random": pooled["random"][1], "learned_spread": pooled["spread"][0],
                          "trials_spread": pooled["spread"][1]}])


def survival(tr: pd.DataFrame) -> pd.DataFrame:
    """Kaplan-Meier medians per size and p of the random nets (largest cap), log-rank trend over log2 M."""
    t = tr[tr["variant"] == "random"]
    dev_of = dict(zip(t["hidden"], t["devices"]))
    out = _common.survival_table(t, "hidden", {h: np.log2(m) for h, m in dev_of.items()})
    out.insert(1, "devices", out["hidden"].map(dev_of))
    return out


# ------------------------------------------------------------------ verdicts
def _fmt_ci(x, lo, hi, fmt="{:.3g}") -> str:
    return f"{fmt.format(x)} [{fmt.format(lo)}, {fmt.format(hi)}]"


def _free_caps(fits: pd.DataFrame, variant: str, factor: float, hidden) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    row = fits[(fits["variant"] == variant) & (fits["cap_factor"] == factor) & (fits["model"] == "free")].iloc[0]
    return tuple(np.array([row[f"C_h{h}{s}"] for h in hidden], float) for s in ("", "_low", "_high"))


def verdict_size(res: dict[str, pd.DataFrame], cfg: Config, factor: float) -> tuple[bool, str]:
    """(a) at one cap factor."""
    f = res["fits"]
    f = f[(f["variant"] == "random") & (f["cap_factor"] == factor)].set_index("model")
    hidden = sorted(res["trials"]["hidden"].unique())
    e, pw, c = f.loc["exponential"], f.loc["power law"], f.loc["constant"]
    caps, _, _ = _free_caps(res["fits"], "random", factor, hidden)
    falls = e["rate"] > 0 and e["rate_low"] > 0
    exp_wins = e["dAIC"] > 2 and e["dAIC_low"] > 0
    best = min(SIZE_MODELS, key=lambda m: f.loc[m, "aic"])
    dev = [int(res["summary"].query("hidden == @h")["devices"].iloc[0]) for h in hidden]
    text = (f"capacity C (p at P = 1/2, free fit) {np.round(caps, 2).tolist()} over {dev[0]} -> {dev[-1]} devices; "
            f"exponential rate a = {_fmt_ci(e['rate'], e['rate_low'], e['rate_high'])} /device, power-law exponent "
            f"b = {_fmt_ci(pw['rate'], pw['rate_low'], pw['rate_high'])}; AIC constant {c['aic']:.1f}, exponential "
            f"{e['aic']:.1f}, power law {pw['aic']:.1f} (best: {best}); dAIC(power - exponential) = "
            f"{_fmt_ci(e['dAIC'], e['dAIC_low'], e['dAIC_high'], '{:.1f}')} (bootstrap 95 %, {cfg.n_boot} resamples "
            f"over sets); caps {[_cap(cfg, d, factor) for d in dev]} eras")
    return bool(falls and exp_wins), text


def verdicts(res: dict[str, pd.DataFrame], cfg: Config) -> list[tuple[str, bool, str]]:
    out = []
    ok, text = verdict_size(res, cfg, 1.0)
    out.append(("(a) without tailoring, capacity falls exponentially with size (random states + d2d spread, x1 cap)",
                ok, text))
    for f in cfg.cap_factors:
        if f != 1.0:
            ok_f, text_f = verdict_size(res, cfg, f)
            out.append((f"(a) at cap x{f:.3g} (sensitivity)", ok_f, text_f))
    s = res["summary"]
    r, sp, u = (s[s["variant"] == v].sort_values("devices") for v in VARIANTS)
    higher = r["ctrl_rank"].to_numpy() > sp["ctrl_rank"].to_numpy()
    text = (f"rank random > spread baseline at {int(higher.sum())}/{len(r)} sizes (normalised: random "
            f"{r['ctrl_norm'].round(3).tolist()}, spread {sp['ctrl_norm'].round(3).tolist()}; log10 condition "
            f"number random {r['log10_condition'].round(1).tolist()}, spread "
            f"{sp['log10_condition'].round(1).tolist()}); "
            f"degenerate uniform reference {u['ctrl_norm'].round(3).tolist()}")
    out.append(("(b1) breaking the symmetry raises controllability (vs the spread baseline)", bool(higher.all()), text))
    f = res["fits"]
    b = f[f["model"] == "free + delta"].iloc[0]
    hidden = sorted(res["trials"]["hidden"].unique())
    cu = _free_caps(f, "uniform", 1.0, hidden)[0]
    cs = _free_caps(f, "spread", 1.0, hidden)[0]
    cr = _free_caps(f, "random", 1.0, hidden)[0]
    ok = b["delta"] > 0 and b["lr_p_one_sided"] < cfg.alpha and b["delta_low"] > 0
    text = (f"capacity factor random/spread exp(delta) = "
            f"{_fmt_ci(np.exp(b['delta']), np.exp(b['delta_low']), np.exp(b['delta_high']), '{:.2f}')} (likelihood "
            f"ratio, one-sided p = {b['lr_p_one_sided']:.3g}); C per size random {np.round(cr, 2).tolist()}, spread "
            f"{np.round(cs, 2).tolist()}; learned {int(b['learned_random'])}/{int(b['trials_random'])} vs "
            f"{int(b['learned_spread'])}/{int(b['trials_spread'])} (same sets, sizes and p, x1 cap); degenerate "
            f"uniform reference C {np.round(cu, 2).tolist()}, alpha {cfg.alpha}")
    out.append(("(b2) breaking the symmetry raises capacity (vs the spread baseline)", bool(ok), text))
    sv = res["survival"]
    if "trend_z" in sv:
        z, pz = float(sv["trend_z"].iloc[0]), float(sv["trend_p"].iloc[0])
        med = sv.groupby("hidden")["median_eras"].apply(lambda m: m.tolist())
        text = (f"log-rank trend over log2(devices), stratified by pattern set: z = {z:+.2f} (z < 0: larger nets "
                f"learn later), p = {pz:.2g}; k-sample chi2 {sv['logrank_chi2'].iloc[0]:.1f} on "
                f"{int(sv['logrank_df'].iloc[0])} df, p = {sv['logrank_p'].iloc[0]:.2g}; Kaplan-Meier median eras "
                f"per size (p = 1, 2, ...) {dict(med)}; largest caps "
                f"{sorted(sv.groupby('hidden')['cap'].first().tolist())}")
        out.append(("(t) learning takes longer in larger nets", bool(z < 0 and pz < cfg.alpha), text))
    return out


# ------------------------------------------------------------------ figure and report
def figure(res: dict[str, pd.DataFrame], cfg: Config):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fits, counts, s = res["fits"], res["capacity"], res["summary"]
    hidden = np.array(sorted(res["trials"]["hidden"].unique()))
    dev = np.array([int(s.loc[s["hidden"] == h, "devices"].iloc[0]) for h in hidden])
    m0 = float(dev.min())
    fig, axes = plt.subplots(2, 3, figsize=(15, 8.5), constrained_layout=True)
    fr = fits[(fits["variant"] == "random")].set_index(["cap_factor", "model"])
    mm = np.geomspace(dev.min(), dev.max(), 100)

    def law(name, factor, m):
        row = fr.loc[(factor, name)]
        lc = np.log(row["C0"]) - (row["rate"] * (m - m0) if name == "exponential" else row["rate"] * np.log(m / m0))
        return np.exp(lc)

    for ax, x, xx, xlabel in ((axes[0, 0], dev, mm, "devices M"),
                              (axes[0, 1], hidden, mm * hidden.min() / dev.min(), "hidden nodes h")):
        for variant, style in (("random", "o"), ("spread", "s"), ("uniform", "x")):
            c, lo, hi = _free_caps(fits, variant, 1.0, hidden)
            lab = {"random": "random states + d2d", "spread": "spread baseline (x = 0.5 + spread, d2d)",
                   "uniform": "uniform (degenerate reference)"}[variant]
            ax.errorbar(x, c, yerr=[c - np.minimum(lo, c), np.maximum(hi, c) - c] if variant != "uniform" else None,
                        fmt=style, capsize=2, color="0.6" if variant == "uniform" else None, label=lab)
        for name, ls in (("exponential", "-"), ("power law", "--")):
            ax.plot(xx, law(name, 1.0, mm), ls, color="k", lw=1,
                    label=f"{name} fit (AIC {fr.loc[(1.0, name), 'aic']:.1f})")
        ax.set_xscale("log", base=2)
        ax.set_xlabel(xlabel)
        ax.set_ylabel("capacity C (P(learned) = 1/2), 95 % bootstrap")
        ax.legend(fontsize=7)
    dA = fr.loc[(1.0, "exponential")]
    axes[0, 0].set_title(f"x1 cap: dAIC(power - exp) = {dA['dAIC']:.1f} [{dA['dAIC_low']:.1f}, {dA['dAIC_high']:.1f}]",
                         fontsize=9)
    axes[0, 1].set_title(f"same against hidden nodes ({cfg.n_inputs}-h-{cfg.n_outputs})", fontsize=9)
    # P(learned | p) with Wilson bars and the preferred law's curves
    ax = axes[0, 2]
    best = min(("exponential", "power law"), key=lambda n: fr.loc[(1.0, n), "aic"])
    c1 = counts[(counts["variant"] == "random") & (counts["cap_factor"] == 1.0)]
    pp = np.linspace(0.5, c1["p"].max() + 0.5, 100)
    for i, (h, g) in enumerate(c1.groupby("hidden")):
        line = _common.wilson_errorbar(ax, g["p"] + (i - hidden.size / 2) * 0.04, g["successes"], g["n_trials"],
                                       label=f"h = {h} ({dev[i]} devices)")
        ax.plot(pp, expit((law(best, 1.0, np.array([dev[i]]))[0] - pp) / fr.loc[(1.0, best), "width"]),
                color=line[0].get_color(), lw=1)
    ax.set_xlabel("patterns p")
    ax.set_ylabel("P(learned), 95 % Wilson")
    ax.set_title(f"random nets, x1 cap; curves: {best} fit", fontsize=9)
    ax.legend(fontsize=7)
    # Kaplan-Meier time to learn at the key p
    ax = axes[1, 0]
    _common.km_panel(ax, res["trials"][res["trials"]["variant"] == "random"], "hidden", res["survival"],
                     lambda h: f"h = {h}")
    # cap sensitivity
    ax = axes[1, 1]
    for f in cfg.cap_factors:
        c, lo, hi = _free_caps(fits, "random", f, hidden)
        line = ax.errorbar(dev, c, yerr=[c - np.minimum(lo, c), np.maximum(hi, c) - c], fmt="o", capsize=2,
                           label=f"cap x{f:.3g}: dAIC {fr.loc[(f, 'exponential'), 'dAIC']:.1f}")
        b = min(("exponential", "power law"), key=lambda n: fr.loc[(f, n), "aic"])
        ax.plot(mm, law(b, f, mm), color=line[0].get_color(), lw=1, ls="-" if b == "exponential" else "--")
    ax.set_xscale("log", base=2)
    ax.set_xlabel("devices M")
    ax.set_ylabel("capacity C (random nets)")
    ax.set_title("era cap sensitivity (curve: the better law, solid exp, dashed power)", fontsize=9)
    ax.legend(fontsize=7)
    # controllability
    ax = axes[1, 2]
    for variant, g in s.groupby("variant", sort=False):
        g = g.sort_values("devices")
        ax.plot(g["devices"], g["ctrl_norm"], "o-", label=variant, color="0.6" if variant == "uniform" else None)
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("devices M")
    ax.set_ylabel("controllability rank / devices")
    ax.legend(fontsize=7)
    fig.suptitle(f"layered VTEAM nets {cfg.n_inputs}-h-{cfg.n_outputs}, default pulses, "
                 f"{cfg.source_resistance:g} ohm sources, d2d {cfg.d2d}", fontsize=10)
    return fig


def report(res: dict[str, pd.DataFrame], cfg: Config) -> None:
    p = Pulses()
    print(f"modelling choices: VTEAM (published parameters), {cfg.n_inputs}-h-{cfg.n_outputs} layered backward nets, "
          f"default pulses (read {p.read_voltage} V, punish {p.punish_voltage} V x {p.punish_duration * 1e9:g} ns, "
          f"normalise {p.normalise_voltage} V x {p.normalise_duration * 1e9:g} ns, {p.method}), source resistance "
          f"{cfg.source_resistance:g} ohm, d2d spread sigma {cfg.d2d}, spread baseline state sigma "
          f"{cfg.state_spread}, random binary sets (density 1/2), {cfg.n_sets} sets x {cfg.copies} copies per p, "
          f"era cap ceil(f {cfg.base_eras:g} (M/{cfg.ref_devices:g})^{cfg.cap_exponent:.3g}), f in "
          f"{[round(f, 3) for f in cfg.cap_factors]}")
    print(res["summary"].to_string(index=False))
    f = res["fits"]
    cols = [c for c in ("variant", "cap_factor", "model", "nll", "aic", "dAIC", "rate", "rate_low", "rate_high", "C0",
                        "width") if c in f]
    print(f[f["model"] != "free"][cols].round(4).to_string(index=False))
    u = res["capacity"][res["capacity"]["variant"] == "uniform"]
    forced = float(np.sum(0.5 ** (np.arange(1, u["p"].max() + 1) - 1))) if len(u) else float("nan")
    print(f"uniform reference: mean learnable {u.groupby('hidden')['probability'].sum().round(2).tolist()} per size "
          f"(constant maps only would give {forced:.2f} over the tested p)")
    for claim, ok, text in verdicts(res, cfg):
        print(_common.claim_line(claim, ok, text))


def main(argv: list[str] | None = None) -> int:
    return _common.main(argv, doc=__doc__, name=NAME, full=Config(), quick=QUICK, run=run, figure=figure,
                        figure_file="size.png", report=report, quick_help="three small sizes, few sets (for CI)")


if __name__ == "__main__":
    sys.exit(main())
