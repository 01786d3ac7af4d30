"""Co-design 6: how learning in a 2-4-2 net depends on the source resistance and on the device model.

Claims tested (the hardware behind the learning-from-mistakes results of
Barrows, Lin, Caravelli & Chialvo 2024 as memsim models it): (i) the 50 ohm
source resistance of the default instruments is what makes the default
controller learn (0 ohm: 2-4-2 fails); (ii) its role is a homeostatic set
point of the normalising pulse; (iii) with pulses re-tuned for ideal sources
(0 ohm) the 2-4-2 net can still learn >= 90 % of the time.

Task: the two bijective association maps of a 2-input, 2-output net
(0->0, 1->1 and 0->1, 1->0), 2-4-2 ``layered`` network, uniform random
initial states, alternating order, at most ``max_eras`` eras; a copy has
learned after one error-free era. Success is reported with a 95 % Wilson
interval, learning time (presentations up to and including the last mistake)
by the Kaplan-Meier median with the copies that did not learn censored at
the presentations they had (``scipy.stats.ecdf``), and the number of copies
that were right from the start (no mistake at all: chance, not learning).

Devices (one ``DeviceSpec`` each; the orientation makes a positive input
drive put ON-direction voltages on every device):

- ``VTEAM``: the published parameters (``VTEAM_KVATINSKY2015``; rates
  ``(v/v_th - 1)**alpha`` with alpha_on = 3, alpha_off = 1), ``backward``;
- ``linear threshold``: the same device with alpha_on = alpha_off = 1, the
  simplest threshold switch (rate linear in the overdrive past a hard
  threshold, zero below). It keeps every other published value, so the
  comparison with VTEAM isolates the shape of the switching rate;
- ``metastable switch``: the Knowm GMS (``KNOWM_GMS``, mean-field,
  ``forward``): a *soft* threshold (a Boltzmann sigmoid 26 mV wide), a
  switching rate that saturates at ``1/tau`` above it, tau = 100 us and
  R_off/R_on = 3 (VTEAM: 20).

Stages:

1. pulse search per device at 0 ohm and at 50 ohm: a full grid (stated per
   device in ``DeviceSpec``) over punishing and normalising voltage and
   duration, ``search_copies`` seeds per map; the best setting by success,
   ties by the mean presentations to learn of the copies that learned, then
   by grid order;
2. sweep: success and learning time versus the source resistance for every
   device with its 0-ohm- and 50-ohm-tuned pulses (and the package default
   pulses for the two VTEAM devices, whose time scale they fit), fresh seeds
   (independent of the search, so the winners' values are not inflated by the
   selection);
3. confirmation: the 0-ohm-tuned pulses at 0 ohm on ``confirm_copies`` fresh
   seeds per map;
4. mechanism, measured: repeated normalising pulses alone on depressed
   (x ~ U(0, 0.2)) and potentiated (x ~ U(0.8, 1)) nets at several R, and
   punish + normalise cycles from random states; the mean device
   conductance after each pulse. For a uniform single-hidden-layer net with
   a hard-threshold device the set point has a closed form
   (:func:`uniform_set_point`), drawn for comparison.

Verdicts: per device, Fisher's exact test of success at 0 ohm against 50 ohm
with the 50-ohm-tuned pulses (difference with its Newcombe hybrid-score 95 %
interval); a chi-square test of homogeneity of success across all R (effect
size Cramer's V); the confirmation success with its Wilson interval against
90 %; the measured set points against the closed form; the robustness of each
resistance (fraction of the searched grid that learns >= 90 %).

Run::

    python experiments/codesign_hardware.py [--quick] [--out results]

Writes ``results/codesign_hardware/search.csv`` (every searched setting),
``pulses.csv`` (chosen settings), ``runs.csv`` (one row per copy of the sweep
and the confirmation), ``summary.csv`` (one row per device, pulse set and R),
``mechanism.csv`` (normalising pulses alone), ``cycles.csv`` (punish +
normalise) and ``hardware.png``.
"""

from __future__ import annotations

import itertools
import math
import sys
import time
from dataclasses import dataclass, replace

import _common
import numpy as np
import pandas as pd
from scipy.stats import CensoredData, chi2_contingency, ecdf, fisher_exact

from memsim import Network, layered
from memsim.analysis import wilson_interval
from memsim.devices.models import VTEAM, Device
from memsim.devices.presets import KNOWM_GMS, VTEAM_KVATINSKY2015
from memsim.learning import Controller, Pulses, association, build_hardware, train
from memsim.learning.inhibition import normalise_segment, punish_segment

NAME = "codesign_hardware"


@dataclass(frozen=True)
class DeviceSpec:
    """A device model, the orientation the controller needs, and its pulse-search grid (SI units)."""

    name: str
    device: Device
    orientation: str  # "backward": ON at v < 0 (VTEAM); "forward": ON at v > 0 (GMS)
    punish_voltages: tuple[float, ...]  # V
    punish_durations: tuple[float, ...]  # s
    normalise_voltages: tuple[float, ...]  # V
    normalise_durations: tuple[float, ...]  # s
    package_defaults: bool = False  # run the package's default Pulses too (same time scale)

    def grid(self) -> list[Pulses]:
        """Every setting of the search grid, in a fixed order."""
        return [Pulses(punish_voltage=pv, punish_duration=pd_, normalise_voltage=nv, normalise_duration=nd)
                for pv, pd_, nv, nd in itertools.product(self.punish_voltages, self.punish_durations,
                                                         self.normalise_voltages, self.normalise_durations)]


# The grids. Their ranges were set after development runs at 0 ohm on other seeds (VTEAM: 135 settings, punish
# 0.3-1 V x 30-300 ns, normalise 0.3-0.8 V x 0.1-10 ns; linear threshold: 36 settings down to 0.01 ns; metastable
# switch: 80 settings): at 0 ohm learning needs weaker normalisation than at 50 ohm (shorter or lower pulses), and
# the linear device, which switches faster just past its threshold than VTEAM's cubic rate, needs the shortest.
#: VTEAM time scale: ON switching ~1e9-1e10 /s, OFF ~1e6-1e7 /s a few tenths of a volt past threshold.
_VTEAM_GRID = dict(punish_voltages=(0.5,), punish_durations=(30e-9, 100e-9), normalise_voltages=(0.5, 0.6, 0.7),
                   normalise_durations=(0.03e-9, 0.1e-9, 0.3e-9, 1e-9))
LINEAR_THRESHOLD = VTEAM(alpha_on=1.0, alpha_off=1.0)  # VTEAM_KVATINSKY2015 with linear rates

DEVICES = (
    DeviceSpec("VTEAM", VTEAM_KVATINSKY2015, "backward", package_defaults=True, **_VTEAM_GRID),
    DeviceSpec("linear threshold", LINEAR_THRESHOLD, "backward", package_defaults=True, **_VTEAM_GRID),
    # GMS: rate <= 1/tau = 1e4 /s, so microsecond pulses; its soft threshold (0.27 V per device) and saturating
    # rate make the punishing voltage decide how selective a punishment is (above ~0.7 V every device on the
    # route decays at the same rate), so the grid spans it.
    DeviceSpec("metastable switch", KNOWM_GMS, "forward", punish_voltages=(0.5, 0.6), punish_durations=(10e-6, 30e-6),
               normalise_voltages=(0.4, 0.5, 0.6), normalise_durations=(0.3e-6, 1e-6, 10e-6)),
)


@dataclass(frozen=True)
class Config:
    """Experiment settings."""

    devices: tuple[DeviceSpec, ...] = DEVICES
    layers: tuple[int, ...] = (2, 4, 2)
    maps: tuple[tuple[int, ...], ...] = ((0, 1), (1, 0))
    resistances: tuple[float, ...] = (0.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1000.0)  # ohm
    search_resistances: tuple[float, ...] = (0.0, 50.0)  # ohm
    search_copies: int = 10  # seeds per map and grid point
    copies: int = 20  # seeds per map and sweep point (x 2 maps = 40 per point)
    confirm_copies: int = 50  # seeds per map, 0-ohm-tuned pulses at 0 ohm
    max_eras: int = 50
    mech_resistances: tuple[float, ...] = (0.0, 10.0, 50.0, 200.0, 1000.0)  # ohm
    mech_pulses: int = 100  # normalising pulses in a row
    mech_cycles: int = 20  # punish + normalise cycles
    mech_copies: int = 8
    alpha: float = 0.05
    seed: int = 14


def _quick_devices() -> tuple[DeviceSpec, ...]:
    out = []
    for d in DEVICES:
        out.append(replace(d, punish_voltages=d.punish_voltages[:1], punish_durations=d.punish_durations[:1],
                           normalise_voltages=d.normalise_voltages[1:2],
                           normalise_durations=d.normalise_durations[-1:]))
    return tuple(out)


QUICK = Config(devices=_quick_devices(), resistances=(0.0, 50.0), search_copies=2, copies=3, confirm_copies=3,
               max_eras=3, mech_resistances=(0.0, 50.0), mech_pulses=3, mech_cycles=2, mech_copies=2)


# ------------------------------------------------------------ helpers (tested in tests/test_experiments_hardware.py)


def uniform_set_point(layers, normalise_voltage: float, threshold: float, source_resistance: float) -> float:
    """Device conductance (S) at which a normalising pulse stops potentiating a uniform n-b-n net.

    All devices of a single-hidden-layer ``layered([n, b, n])`` net at one
    conductance g, every input driven at ``V_n`` through ``R``, outputs
    grounded: by symmetry every hidden node sits at ``V_in / 2``, so every
    device takes ``V_in / 2``, and the source current
    ``(V_n - V_in) / R = b g V_in / 2`` gives ``V_in = V_n / (1 + R b g / 2)``.
    The net stays uniform, and a hard-threshold device stops switching ON
    when ``V_in / 2`` falls to the threshold, at::

        g* = (V_n / (2 threshold) - 1) * 2 / (R b).

    ``inf`` when ``R = 0`` and ``V_n / 2`` exceeds the threshold (no set
    point: the net runs to the ON bound); ``0`` when ``V_n / 2`` does not
    exceed it (the pulse moves nothing). (With ``n_in != n_out`` the two
    sides take different voltages, only one side switches and the net does
    not stay uniform, so there is no such closed form.)

    Examples
    --------
    >>> round(uniform_set_point((2, 4, 2), 0.6, 0.2, 50.0), 6)  # (0.6/0.4 - 1) * 2 / (50 * 4)
    0.005
    """
    if len(layers) != 3 or layers[0] != layers[2]:
        raise ValueError(f"layers must be (n, b, n), one hidden layer and as many outputs as inputs, got {layers!r}")
    b = int(layers[1])
    if normalise_voltage <= 2 * threshold:
        return 0.0
    if source_resistance == 0:
        return math.inf
    return (normalise_voltage / (2 * threshold) - 1.0) * 2 / (source_resistance * b)


def km_median(times, learned) -> float:
    """Kaplan-Meier median time to learn; copies that did not learn are right-censored at their time.

    ``inf`` when the survival never falls to 0.5 (more than half censored
    before it); computed with ``scipy.stats.ecdf`` on ``CensoredData``.

    Examples
    --------
    >>> km_median([1, 2, 3, 4], [True, True, True, True])
    2.0
    >>> km_median([5, 5], [False, False])
    inf
    """
    t = np.asarray(times, float)
    ev = np.asarray(learned, bool)
    if not ev.any():
        return math.inf
    sf = ecdf(CensoredData(uncensored=t[ev], right=t[~ev])).sf
    below = np.flatnonzero(sf.probabilities <= 0.5)
    return float(sf.quantiles[below[0]]) if below.size else math.inf


def newcombe_difference(k1: int, n1: int, k2: int, n2: int, confidence: float = 0.95) -> tuple[float, float, float]:
    """``p1 - p2`` with the Newcombe hybrid-score interval (Newcombe, Stat. Med. 17, 873, 1998, method 10).

    Built from the two Wilson intervals ``(l_i, u_i)``::

        low  = d - sqrt((p1 - l1)^2 + (u2 - p2)^2)
        high = d + sqrt((u1 - p1)^2 + (p2 - l2)^2)

    Examples
    --------
    >>> [round(v, 4) for v in newcombe_difference(56, 70, 48, 80)]  # Newcombe's example (a)
    [0.2, 0.0524, 0.3339]
    """
    p1, p2 = k1 / n1, k2 / n2
    l1, u1 = wilson_interval(k1, n1, confidence)
    l2, u2 = wilson_interval(k2, n2, confidence)
    d = p1 - p2
    return d, d - math.hypot(p1 - l1, u2 - p2), d + math.hypot(u1 - p1, p2 - l2)


def homogeneity(learned: np.ndarray, trials: np.ndarray) -> tuple[float, float]:
    """Chi-square test that success is the same at every level: ``(p, Cramer's V)``; ``(1, 0)`` if all alike."""
    learned, trials = np.asarray(learned), np.asarray(trials)
    table = np.array([learned, trials - learned])
    if (table.sum(axis=1) == 0).any():
        return 1.0, 0.0
    chi2, p, _, _ = chi2_contingency(table, correction=False)
    return float(p), float(math.sqrt(chi2 / table.sum()))


def _pulse_label(p: Pulses) -> str:
    return (f"punish {p.punish_voltage:g} V x {p.punish_duration * 1e9:g} ns, "
            f"normalise {p.normalise_voltage:g} V x {p.normalise_duration * 1e9:g} ns")


def _seed(cfg: Config, *keys: int) -> int:
    return int(np.random.SeedSequence([cfg.seed, *keys]).generate_state(1)[0])


def _network(spec: DeviceSpec, layers) -> Network:
    return Network.from_graph(layered(list(layers), orientation=spec.orientation), spec.device)


# ---------------------------------------------------------------------------------------------------- stages


def evaluate(cfg: Config, spec: DeviceSpec, pulses: Pulses, resistance: float, copies: int, seed: int) -> pd.DataFrame:
    """Train ``copies`` copies on each map; one row per copy: learned, time (censored), mistakes."""
    net = _network(spec, cfg.layers)
    parts = []
    for m, mapping in enumerate(cfg.maps):
        task = association(mapping)
        hw = build_hardware(net, n_copies=copies, seed=seed + m, source_resistance=resistance)
        out = train(hw, task, Controller(pulses=pulses, max_eras=cfg.max_eras))
        learned = out.learned
        parts.append(pd.DataFrame({
            "map": "".join(map(str, mapping)), "copy": np.arange(copies), "learned": learned,
            "time": np.where(learned, out.state.last_mistake, out.state.presentations),
            "mistakes": out.mistakes,
        }))
    return pd.concat(parts, ignore_index=True)


def _summarise(df: pd.DataFrame) -> dict:
    n, k = len(df), int(df["learned"].sum())
    lo, hi = wilson_interval(k, n)
    ok = df["learned"].to_numpy()
    return {"trials": n, "learned": k, "success": k / n, "success_lo": lo, "success_hi": hi,
            "from_start": int((ok & (df["mistakes"] == 0)).sum()),
            "km_median": km_median(df["time"], ok), "censored": int((~ok).sum()),
            "time_learned_mean": float(df.loc[ok, "time"].mean()) if k else math.nan}


def search(cfg: Config) -> tuple[pd.DataFrame, pd.DataFrame]:
    rows, chosen = [], []
    for d, spec in enumerate(cfg.devices):
        for r in cfg.search_resistances:
            t0 = time.perf_counter()
            best = None
            for g, pulses in enumerate(spec.grid()):
                # the same seeds for every grid point (common random numbers: settings differ by the pulses alone)
                s = _summarise(evaluate(cfg, spec, pulses, r, cfg.search_copies, _seed(cfg, 1, d, int(r))))
                rows.append({"device": spec.name, "resistance": r, "grid": g, **_pulse_fields(pulses), **s})
                key = (-s["success"], s["time_learned_mean"] if s["learned"] else math.inf, g)
                if best is None or key < best[0]:
                    best = (key, g, pulses, s)
            _, g, pulses, s = best
            chosen.append({"device": spec.name, "tuned_at": r, "grid": g, **_pulse_fields(pulses),
                           "search_success": s["success"], "search_trials": s["trials"]})
            print(f"  search {spec.name} at {r:g} ohm: best {_pulse_label(pulses)}: {s['learned']}/{s['trials']} "
                  f"({len(spec.grid())} settings, {time.perf_counter() - t0:.0f} s)", flush=True)
    return pd.DataFrame(rows), pd.DataFrame(chosen)


def _pulse_fields(p: Pulses) -> dict:
    return {"punish_voltage": p.punish_voltage, "punish_duration": p.punish_duration,
            "normalise_voltage": p.normalise_voltage, "normalise_duration": p.normalise_duration}


def _pulses_from(row) -> Pulses:
    return Pulses(punish_voltage=float(row["punish_voltage"]), punish_duration=float(row["punish_duration"]),
                  normalise_voltage=float(row["normalise_voltage"]),
                  normalise_duration=float(row["normalise_duration"]))


def pulse_sets(cfg: Config, spec: DeviceSpec, chosen: pd.DataFrame) -> dict[str, Pulses]:
    """Label -> pulses run in the sweep for a device (identical settings merged under one label)."""
    sets: dict[str, Pulses] = {}
    rows = chosen[chosen["device"] == spec.name]
    for _, row in rows.sort_values("tuned_at", ascending=False).iterrows():
        sets[f"tuned at {row['tuned_at']:g} ohm"] = _pulses_from(row)
    if spec.package_defaults:
        sets["package default"] = Pulses()
    groups: list[tuple[list[str], Pulses]] = []
    for label, p in sets.items():
        same = next((labels for labels, q in groups if q == p), None)
        if same is None:
            groups.append(([label], p))
        else:
            same.append(label)
    return {" = ".join(labels): p for labels, p in groups}


def sweep(cfg: Config, chosen: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    runs, summary = [], []
    for d, spec in enumerate(cfg.devices):
        sets = pulse_sets(cfg, spec, chosen)
        for (j, (label, pulses)), r in itertools.product(enumerate(sets.items()), cfg.resistances):
            df = evaluate(cfg, spec, pulses, r, cfg.copies, _seed(cfg, 2, d, int(r), j))
            df.insert(0, "stage", "sweep")
            df.insert(1, "device", spec.name)
            df.insert(2, "pulses", label)
            df.insert(3, "resistance", r)
            runs.append(df)
            summary.append({"stage": "sweep", "device": spec.name, "pulses": label, "resistance": r,
                            **_summarise(df), **_pulse_fields(pulses), "g_star": _g_star(cfg, spec, pulses, r)})
        s = pd.DataFrame([x for x in summary if x["device"] == spec.name])
        for label, g in s.groupby("pulses", sort=False):
            print(f"  sweep {spec.name}, {label}: learned " + ", ".join(
                f"{int(row.learned)}/{int(row.trials)} at {row.resistance:g}" for row in g.itertuples()), flush=True)
    # confirmation of the 0-ohm tuning on fresh seeds
    for d, spec in enumerate(cfg.devices):
        row = chosen[(chosen["device"] == spec.name) & (chosen["tuned_at"] == 0)]
        if row.empty:
            continue
        pulses = _pulses_from(row.iloc[0])
        df = evaluate(cfg, spec, pulses, 0.0, cfg.confirm_copies, _seed(cfg, 3, d))
        df.insert(0, "stage", "confirm")
        df.insert(1, "device", spec.name)
        df.insert(2, "pulses", "tuned at 0 ohm")
        df.insert(3, "resistance", 0.0)
        runs.append(df)
        summary.append({"stage": "confirm", "device": spec.name, "pulses": "tuned at 0 ohm", "resistance": 0.0,
                        **_summarise(df), **_pulse_fields(pulses), "g_star": _g_star(cfg, spec, pulses, 0.0)})
        print(f"  confirm {spec.name} at 0 ohm: {summary[-1]['learned']}/{summary[-1]['trials']}", flush=True)
    return pd.concat(runs, ignore_index=True), pd.DataFrame(summary)


def _g_star(cfg: Config, spec: DeviceSpec, pulses: Pulses, resistance: float) -> float:
    """Closed-form uniform set point of the pulses' normalisation (S), capped at g_on; NaN for a soft threshold."""
    thr = _threshold(spec)
    if thr is None:
        return math.nan
    return min(uniform_set_point(cfg.layers, pulses.normalise_voltage, thr, resistance), _bounds(spec)[1])


def _conductance_stats(hw) -> tuple[float, float]:
    g = hw.conductances()
    return float(g.mean()), float((g.std(axis=1) / g.mean(axis=1)).mean())


def _run(hw, segment, pulses: Pulses):
    hw, _ = hw.run(segment, dt=pulses.dt, method=pulses.method, record=(), record_every=2**62, rtol=pulses.rtol,
                   atol=pulses.atol)
    return hw


def mechanism(cfg: Config, chosen: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Normalising pulses alone from depressed / potentiated states, and punish + normalise cycles."""
    starts = {"depressed": (0.0, 0.2), "potentiated": (0.8, 1.0)}
    rows, cycles = [], []
    task = association(cfg.maps[0])
    for d, spec in enumerate(cfg.devices):
        net = _network(spec, cfg.layers)
        sets = pulse_sets(cfg, spec, chosen)
        p50 = sets[_label(sets, "tuned at 50 ohm")]
        for r, (k, (start, (lo, hi))) in itertools.product(cfg.mech_resistances, enumerate(starts.items())):
            # the same initial states at every R (common random numbers: the curves differ by R alone)
            x0 = np.random.default_rng(_seed(cfg, 4, d, k)).uniform(lo, hi, (cfg.mech_copies, net.n_edges))
            hw = build_hardware(net, n_copies=cfg.mech_copies, x0=x0, source_resistance=r, seed=0)
            seg = normalise_segment(hw, p50)
            for n in range(cfg.mech_pulses + 1):
                if n:
                    hw = _run(hw, seg, p50)
                g, cv = _conductance_stats(hw)
                rows.append({"device": spec.name, "resistance": r, "start": start, "pulse": n, "g_mean": g, "g_cv": cv})
        for (label, pulses), r in itertools.product(sets.items(), sorted({0.0, 50.0})):
            rng = np.random.default_rng(_seed(cfg, 5, d))
            hw = build_hardware(net, n_copies=cfg.mech_copies, x0=rng.random((cfg.mech_copies, net.n_edges)),
                                source_resistance=r, seed=0)
            pun, nor = punish_segment(hw, task.patterns[0], 1, pulses), normalise_segment(hw, pulses)
            g, cv = _conductance_stats(hw)
            cycles.append({"device": spec.name, "pulses": label, "resistance": r, "step": 0.0, "after": "start",
                           "g_mean": g, "g_cv": cv})
            for c in range(cfg.mech_cycles):
                for half, seg in ((0.5, pun), (1.0, nor)):
                    hw = _run(hw, seg, pulses)
                    g, cv = _conductance_stats(hw)
                    cycles.append({"device": spec.name, "pulses": label, "resistance": r, "step": c + half,
                                   "after": "punish" if half < 1 else "normalise", "g_mean": g, "g_cv": cv})
    return pd.DataFrame(rows), pd.DataFrame(cycles)


def run(cfg: Config) -> dict[str, pd.DataFrame]:
    t0 = time.perf_counter()
    searched, chosen = search(cfg)
    print(f"  search done ({time.perf_counter() - t0:.0f} s)", flush=True)
    runs, summary = sweep(cfg, chosen)
    print(f"  sweep done ({time.perf_counter() - t0:.0f} s)", flush=True)
    mech, cycles = mechanism(cfg, chosen)
    print(f"  mechanism done ({time.perf_counter() - t0:.0f} s)", flush=True)
    return {"search": searched, "pulses": chosen, "runs": runs, "summary": summary, "mechanism": mech,
            "cycles": cycles}


# ---------------------------------------------------------------------------------------------------- verdicts


def _bounds(spec: DeviceSpec) -> tuple[float, float]:
    """(g_off, g_on) of a device (S)."""
    return 1.0 / spec.device.r_off, 1.0 / spec.device.r_on


def _threshold(spec: DeviceSpec) -> float | None:
    """Magnitude of the ON threshold of a hard-threshold device (V); None for a soft one."""
    return -spec.device.v_on if isinstance(spec.device, VTEAM) else None


def _label(labels, name: str) -> str | None:
    """The (possibly merged, ``"a = b"``) label among ``labels`` that stands for pulse set ``name``."""
    return next((lab for lab in labels if name in lab.split(" = ")), None)


def _sweep_rows(summary: pd.DataFrame, device: str, name: str) -> pd.DataFrame:
    s = summary[(summary["stage"] == "sweep") & (summary["device"] == device)]
    lab = _label(s["pulses"].unique(), name)
    return s[s["pulses"] == lab].sort_values("resistance") if lab else s.iloc[:0]


def source_verdicts(res: dict[str, pd.DataFrame], cfg: Config) -> list[tuple[str, bool, str]]:
    """Per device: 50 ohm against 0 ohm (Fisher, Newcombe interval) and homogeneity over R (chi-square)."""
    out = []
    summary = res["summary"]
    for spec in cfg.devices:
        s = _sweep_rows(summary, spec.name, "tuned at 50 ohm")
        r0, r50 = s[s["resistance"] == 0], s[s["resistance"] == 50]
        if r0.empty or r50.empty:
            continue
        k0, n0, k5, n5 = (int(r0["learned"].iloc[0]), int(r0["trials"].iloc[0]), int(r50["learned"].iloc[0]),
                          int(r50["trials"].iloc[0]))
        f0, f5 = int(r0["from_start"].iloc[0]), int(r50["from_start"].iloc[0])
        odds, p = fisher_exact([[k5, n5 - k5], [k0, n0 - k0]])
        d, lo, hi = newcombe_difference(k5, n5, k0, n0)
        p_h, v = homogeneity(s["learned"].to_numpy(), s["trials"].to_numpy())
        good = s.loc[s["success"] >= 0.9, "resistance"].tolist()
        out.append((
            f"(i) [{spec.name}] with its 50-ohm-tuned pulses, 2-4-2 learns more often at 50 ohm than at 0 ohm",
            bool(p < cfg.alpha and d > 0),
            f"{k5}/{n5} at 50 ohm vs {k0}/{n0} at 0 ohm ({f5} and {f0} of them right from the start): difference {d:+.2f} (95 % CI {lo:+.2f} to {hi:+.2f}), "
            f"Fisher exact p = {p:.2g}, odds ratio {odds:.3g}; success differs across R = "
            f"{', '.join(f'{x:g}' for x in s['resistance'])} ohm: chi-square p = {p_h:.2g}, Cramer's V = {v:.2f}; "
            f">= 90 % at R = {', '.join(f'{x:g}' for x in good) or 'none'} ohm"))
    return out


def ideal_source_verdicts(res: dict[str, pd.DataFrame], cfg: Config) -> list[tuple[str, bool, str]]:
    """Per device: does the 0-ohm-tuned setting learn >= 90 % on fresh seeds at 0 ohm?"""
    out = []
    summary, chosen = res["summary"], res["pulses"]
    for spec in cfg.devices:
        c = summary[(summary["stage"] == "confirm") & (summary["device"] == spec.name)]
        ch = chosen[(chosen["device"] == spec.name) & (chosen["tuned_at"] == 0)]
        if c.empty or ch.empty:
            continue
        row = c.iloc[0]
        med = row["km_median"]
        out.append((
            f"(iii) [{spec.name}] some pulse setting makes 2-4-2 learn >= 90 % with ideal sources (0 ohm)",
            bool(row["success"] >= 0.9),
            f"{_pulse_label(_pulses_from(ch.iloc[0]))}: {int(row['learned'])}/{int(row['trials'])} fresh seeds "
            f"= {row['success']:.2f} (Wilson 95 % {row['success_lo']:.2f}-{row['success_hi']:.2f}; "
            f"{int(row['from_start'])} right from the start), Kaplan-Meier median "
            f"{'> cap' if not np.isfinite(med) else f'{med:g}'} presentations, {int(row['censored'])} censored at "
            f"{2 * cfg.max_eras}"))
    return out


def set_points(res: dict[str, pd.DataFrame], cfg: Config) -> pd.DataFrame:
    """Per device and R: the mean conductance after the last normalising pulse from each start, and g*."""
    mech = res["mechanism"]
    rows = []
    chosen = res["pulses"]
    for spec in cfg.devices:
        m = mech[mech["device"] == spec.name]
        if m.empty:
            continue
        last = m[m["pulse"] == m["pulse"].max()]
        first = m[m["pulse"] == 0]
        p50 = chosen[(chosen["device"] == spec.name) & (chosen["tuned_at"] == 50)]
        vn = float(p50["normalise_voltage"].iloc[0]) if not p50.empty else Pulses().normalise_voltage
        g_off, g_on = _bounds(spec)
        for r in sorted(m["resistance"].unique()):
            rec = {"device": spec.name, "resistance": r, "g_off": g_off, "g_on": g_on,
                   "g_star": _g_star(cfg, spec, Pulses(normalise_voltage=vn), r)}
            for start in ("depressed", "potentiated"):
                sel = lambda t: float(t[(t["resistance"] == r) & (t["start"] == start)]["g_mean"].iloc[0])  # noqa: E731
                rec[f"{start}_before"], rec[f"{start}_after"] = sel(first), sel(last)
            rows.append(rec)
    return pd.DataFrame(rows)


def mechanism_verdicts(res: dict[str, pd.DataFrame], cfg: Config) -> list[tuple[str, bool, str]]:
    """The normalising pulse restores a net up to a conductance that falls with R; at 0 ohm, up to the ON bound."""
    out = []
    sp = set_points(res, cfg)
    for spec in cfg.devices:
        s = sp[sp["device"] == spec.name].sort_values("resistance")
        if s.empty or 0.0 not in s["resistance"].values:
            continue
        g_off, g_on = _bounds(spec)
        frac = (s["depressed_after"] - g_off) / (g_on - g_off)  # fraction of the range reached from below
        at0 = float(frac[s["resistance"] == 0].iloc[0])
        # non-increasing in R (R sorted; the same initial states at every R), up to rounding
        falling = bool(np.all(np.diff(s["depressed_after"]) <= 1e-9 * g_on))
        interior = bool(((frac > 0.05) & (frac < 0.95) & (s["resistance"] > 0)).any())
        parts = [f"R = {r:g}: {f:.2f}" for r, f in zip(s["resistance"], frac)]
        text = (f"after {cfg.mech_pulses} normalising pulses from depressed states the mean conductance reaches "
                f"this fraction of [g_off, g_on]: {'; '.join(parts)}")
        if _threshold(spec) is not None:
            fin = s[np.isfinite(s["g_star"]) & (s["g_star"] > g_off) & (s["g_star"] < g_on)]
            if not fin.empty:
                ratio = fin["depressed_after"] / fin["g_star"]
                text += ("; measured / closed-form uniform set point g* = " +
                         ", ".join(f"{q:.2f} at {r:g} ohm" for r, q in zip(fin["resistance"], ratio)))
        moved = (s["potentiated_after"] - s["potentiated_before"]) / (g_on - g_off)
        text += "; from potentiated states it moves by " + ", ".join(
            f"{q:+.2f} at {r:g} ohm" for r, q in zip(s["resistance"], moved))
        out.append((f"(ii) [{spec.name}] repeated normalising pulses raise a depressed net to a conductance that "
                    f"falls with R and stops inside the range for some R > 0 (a set point), but at 0 ohm reach the "
                    f"ON bound (>= 90 % of the range)", bool(falling and interior and at0 >= 0.9), text))
    return out


def robustness(res: dict[str, pd.DataFrame], cfg: Config) -> list[str]:
    """Lines: per device and searched R, how many grid settings learn >= 90 % of the search seeds."""
    s = res["search"]
    lines = []
    for spec in cfg.devices:
        parts = []
        for r in cfg.search_resistances:
            g = s[(s["device"] == spec.name) & (s["resistance"] == r)]
            parts.append(f"{int((g['success'] >= 0.9).sum())}/{len(g)} settings >= 90 % at {r:g} ohm "
                         f"(best {g['success'].max():.2f})")
        lines.append(f"robustness [{spec.name}]: " + "; ".join(parts))
    return lines


# ---------------------------------------------------------------------------------------------------- figure, report


def _symlog(ax, cfg: Config) -> None:
    ax.set_xscale("symlog", linthresh=10.0)
    ax.set_xlim(-1, max(cfg.resistances) * 1.3)
    ax.set_xlabel("source resistance (ohm)")


def figure(res: dict[str, pd.DataFrame], cfg: Config):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = len(cfg.devices)
    fig, axes = plt.subplots(5, n, figsize=(4.4 * n, 17), constrained_layout=True, squeeze=False)
    summary, mech, cycles = res["summary"], res["mechanism"], res["cycles"]
    sp = set_points(res, cfg)
    cap = 2 * cfg.max_eras
    for j, spec in enumerate(cfg.devices):
        ax_s, ax_t, ax_m, ax_c, ax_v = axes[:, j]
        s = summary[(summary["stage"] == "sweep") & (summary["device"] == spec.name)]
        for label, g in s.groupby("pulses", sort=False):
            g = g.sort_values("resistance")
            err = np.clip([g["success"] - g["success_lo"], g["success_hi"] - g["success"]], 0, None)
            line = ax_s.errorbar(g["resistance"], g["success"], yerr=err, fmt="o-", capsize=3, ms=4, label=label)
            color = line[0].get_color()
            med = g["km_median"].to_numpy(float)
            fin = np.isfinite(med)
            ax_t.plot(g["resistance"][fin], med[fin], "o-", color=color, ms=4, label=label)
            ax_t.plot(g["resistance"][~fin], np.full((~fin).sum(), cap), "v", color=color, mfc="none", ms=7)
        c = summary[(summary["stage"] == "confirm") & (summary["device"] == spec.name)]
        if not c.empty:
            r = c.iloc[0]
            yerr = [[r["success"] - r["success_lo"]], [r["success_hi"] - r["success"]]]
            ax_s.errorbar([0], [r["success"]], yerr=yerr,
                          fmt="*", color="k", ms=10, capsize=3, label=f"0-ohm tuning, {int(r['trials'])} fresh seeds")
        ax_s.axhline(0.9, color="grey", lw=0.8, ls=":")
        ax_s.set_ylim(-0.03, 1.05)
        ax_s.set_ylabel("success (Wilson 95 %)")
        ax_s.set_title(f"{spec.name}: success, {cfg.copies * len(cfg.maps)} seeds per point", fontsize=9)
        ax_s.legend(fontsize=6)
        _symlog(ax_s, cfg)
        ax_t.axhline(cap, color="grey", lw=0.8, ls=":")
        ax_t.set_ylabel("Kaplan-Meier median presentations to learn")
        ax_t.set_title(f"learning time (open triangle: censored at the cap, {cap})", fontsize=9)
        _symlog(ax_t, cfg)
        # mechanism: normalising pulses alone
        m = mech[mech["device"] == spec.name]
        colors = plt.cm.viridis(np.linspace(0, 0.9, max(1, m["resistance"].nunique())))
        for col, (r, g) in zip(colors, m.groupby("resistance")):
            for start, ls in (("depressed", "-"), ("potentiated", "--")):
                h = g[g["start"] == start]
                ax_m.plot(h["pulse"], h["g_mean"] * 1e3, ls, color=col,
                          label=f"{r:g} ohm" if start == "depressed" else None)
            star = sp[(sp["device"] == spec.name) & (sp["resistance"] == r)]["g_star"]
            g_off, g_on = _bounds(spec)
            if not star.empty and np.isfinite(star.iloc[0]) and g_off < star.iloc[0] < g_on:
                ax_m.axhline(star.iloc[0] * 1e3, color=col, lw=0.8, ls=":")
        g_off, g_on = _bounds(spec)
        ax_m.axhline(g_on * 1e3, color="k", lw=0.8)
        ax_m.axhline(g_off * 1e3, color="k", lw=0.8)
        ax_m.set_xscale("symlog", linthresh=1.0)
        ax_m.set_xlim(0, max(1, cfg.mech_pulses))
        ax_m.set_xlabel("normalising pulses (50-ohm-tuned)")
        ax_m.set_ylabel("mean device conductance (mS)")
        ax_m.set_title("set point: solid from depressed, dashed from potentiated;\n"
                       "dotted: closed-form uniform set point g*", fontsize=9)
        ax_m.legend(fontsize=6, ncol=2)
        # punish + normalise cycles
        cy = cycles[cycles["device"] == spec.name]
        for (label, r), g in cy.groupby(["pulses", "resistance"], sort=False):
            line = ax_c.plot(g["step"], g["g_mean"] * 1e3, "-", lw=1, label=f"{label}, {r:g} ohm")[0]
            h = g[g["after"] != "punish"]
            ax_v.plot(h["step"], h["g_cv"], "o-", ms=3, lw=1, color=line.get_color(), label=f"{label}, {r:g} ohm")
        ax_c.axhline(g_on * 1e3, color="k", lw=0.8)
        ax_c.axhline(g_off * 1e3, color="k", lw=0.8)
        ax_c.set_xlabel("punish (half steps) + normalise (whole steps) cycles")
        ax_c.set_ylabel("mean device conductance (mS)")
        ax_c.set_title("punish (pattern 0, wrong winner 1), normalise, repeat", fontsize=9)
        ax_c.legend(fontsize=6)
        ax_v.set_xlabel("punish + normalise cycles")
        ax_v.set_ylabel("device spread: std / mean of conductance")
        ax_v.set_title("what the normalisation leaves of the devices' differences", fontsize=9)
        ax_v.set_ylim(bottom=0)
        ax_v.legend(fontsize=6)
    fig.suptitle(f"2-4-2, maps 01 and 10, random initial states, cap {cfg.max_eras} eras")
    return fig


def _fraction(rows: pd.DataFrame, r: float) -> str:
    x = rows[rows["resistance"] == r]
    return f"{int(x['learned'].iloc[0])}/{int(x['trials'].iloc[0])}" if not x.empty else "n/a"


def readme_paragraph(res: dict[str, pd.DataFrame], cfg: Config) -> str:
    """The README's paragraph on the source resistance, every number from this run."""
    summary, search_tab = res["summary"], res["search"]
    vt = cfg.devices[0].name
    s = _sweep_rows(summary, vt, "package default")
    good = ", ".join(f"{x:g}" for x in s.loc[s["success"] >= 0.9, "resistance"]) or "none"
    conf = summary[summary["stage"] == "confirm"]
    conf_txt = "; ".join(f"{r.device} {int(r.learned)}/{int(r.trials)}" for r in conf.itertuples())
    best = summary[summary["stage"] == "sweep"].groupby("device", sort=False)["success"].max()
    best_txt = ", ".join(f"{d} {v:.2f}" for d, v in best.items())
    wide = []
    for spec in cfg.devices:
        g = search_tab[search_tab["device"] == spec.name]
        wide.append(f"{spec.name} " + " vs ".join(
            f"{int((g[g['resistance'] == r]['success'] >= 0.9).sum())}/{int((g['resistance'] == r).sum())}"
            for r in cfg.search_resistances))
    rs = " vs ".join(f"{r:g}" for r in cfg.search_resistances)
    works = conf.loc[conf["success"] >= 0.9, "device"].tolist()
    ideal = (f"With ideal sources, re-tuned pulses (a balance of punishing and normalising doses instead of a set "
             f"point) reach >= 90 % for {', '.join(works)}" if works else
             "No searched pulse setting reached 90 % with ideal sources")
    return (
        "**Source resistance.** `build_hardware` drives every input through a 50 ohm source resistance by "
        "default (a pulse generator's output impedance), and the default `Pulses` are tuned for it. It matters: "
        f"with the default pulses the {vt} 2-4-2 net learns the two bijective maps in {_fraction(s, 50.0)} seeds "
        f"at 50 ohm but {_fraction(s, 0.0)} at 0 ohm (>= 90 % at R = {good} ohm of "
        f"{', '.join(f'{x:g}' for x in cfg.resistances)}). The mechanism is measured "
        "(`experiments/codesign_hardware.py`): with ideal sources the node voltages of the normalising pulse do "
        "not depend on the overall conductance of the net, so the pulse potentiates it up to the ON bound and "
        "erases what the punishments wrote; a source resistance takes a share of the pulse that grows with the "
        "net's conductance, so the potentiation stops at a set point that falls with R (for a uniform n-b-n net "
        "of hard-threshold devices g* = (V_n / (2 v_th) - 1) 2 / (R b), confirmed by simulation); where g* falls "
        f"below the OFF conductance the pulse can no longer restore a punished net. {ideal} "
        f"(fresh-seed success at 0 ohm with the 0-ohm-tuned pulses: {conf_txt}; grid settings that learn >= 90 % "
        f"at {rs} ohm: {'; '.join(wide)}). Best success over R with any pulse set: {best_txt}. So every learning "
        "result in these studies depends on the instrument model and on the device model; the default stays "
        "50 ohm because laboratory pulse generators present it and it makes the default pulses robust."
    )


def report(res: dict[str, pd.DataFrame], cfg: Config) -> None:
    print("chosen pulses (grid search, best success, ties by presentations):")
    ch = res["pulses"]
    for row in ch.itertuples():
        print(f"  {row.device} tuned at {row.tuned_at:g} ohm: {_pulse_label(_pulses_from(row._asdict()))} "
              f"({row.search_success:.2f} of {row.search_trials} search seeds)")
    cols = ["device", "pulses", "resistance", "learned", "trials", "success_lo", "success_hi", "from_start",
            "km_median", "censored", "g_star"]
    tab = res["summary"][res["summary"]["stage"] == "sweep"][cols].assign(g_star=lambda t: t["g_star"] * 1e3)
    print(tab.rename(columns={"g_star": "g_star_mS"}).to_string(index=False, float_format="%.2f"))
    print(set_points(res, cfg).to_string(index=False, float_format="%.4g"))
    for line in robustness(res, cfg):
        print(line)
    for claim, ok, text in (source_verdicts(res, cfg) + mechanism_verdicts(res, cfg) + ideal_source_verdicts(res, cfg)):
        print(_common.claim_line(claim, ok, text))
    print("modelling choices: devices " + "; ".join(f"{d.name} = {d.device!r} ({d.orientation})" for d in cfg.devices)
          + f"; sources: ideal voltage sources behind a series resistor; reads 10 mV x 1 ns, resolution 1 nA; cap "
          f"{cfg.max_eras} eras, learned = one error-free era; {cfg.copies} seeds per map per sweep point")
    print("README paragraph:\n" + readme_paragraph(res, cfg))


def main(argv: list[str] | None = None) -> int:
    return _common.main(argv, doc=__doc__, name=NAME, full=Config(), quick=QUICK, run=run, figure=figure,
                        figure_file="hardware.png", report=report,
                        quick_help="one grid point per device, two resistances, a few copies (for CI)")


if __name__ == "__main__":
    sys.exit(main())
