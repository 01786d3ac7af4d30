"""The learning-from-mistakes protocol, memsim against ngspice, in one run.

    python benchmarks/learning_vs_ngspice.py [--quick]

Prints markdown tables (nothing is written into the repository):

1. **One punishing pulse** on the hardware of ``memsim demo`` (2-4-2 ``layered`` net,
   ``orientation="backward"``, published VTEAM devices, 50 ohm source resistance, uniform random
   states, seed 0): pattern 0 driven at -0.5 V for 100 ns with only output 1 grounded.

   - *reference*: ngspice at reltol 1e-9, largest step T/10,000 (its own error is checked by
     comparing it with memsim's adaptive run at rtol 1e-12, an independent integrator);
   - *ngspice with its own step control* at its default tolerances (reltol 1e-3 ...), tightened
     (1e-4 .. 1e-7) until its max |dx| against the reference is within the accuracy that memsim
     reaches, so both are timed at the same accuracy;
   - *memsim*: a ``prepare``\\d run (warm: compilation and protocol set-up excluded, as a
     controller does) with the adaptive method at the controller's tolerances (rtol 1e-6,
     atol 1e-8), and RK4 at the controller's former fixed step of 10 ps for comparison.

   Ratio = ngspice analysis time / memsim wall time ("analysis" excludes ngspice's process
   start and netlist parsing, which favours ngspice).
2. **The whole demo** (20 copies, association 0->0 1->1, default controller; ``--quick``: 4
   copies): memsim's training is timed (warm), with the compiled training loop (the default) and
   with the Python loop of ``step`` calls (``compiled=False``); every protocol it ran (each read, punishment and
   normalisation of each copy) is then replayed through ngspice, one netlist per pulse per copy,
   from the states memsim had before it, at the ngspice tolerance of part 1. The ngspice time is
   the sum of those runs (analysis and process wall); the largest state difference of any pulse
   shows the replay agrees.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a fresh clone

from memsim import VTEAM, Network, layered, prepare, simulate
from memsim.learning import Controller, Pattern, Pulses, association, build_hardware, train
from memsim.learning import hardware as hwmod
from memsim.learning.inhibition import punish_segment
from memsim.spice import ngspice_version, run_ngspice

HAVE_NGSPICE = shutil.which("ngspice") is not None
DEFAULTS = dict(reltol=1e-3, abstol=1e-12, vntol=1e-6, chgtol=1e-14, trtol=7.0)
RELTOLS = (1e-3, 1e-4, 1e-5, 1e-6, 1e-7)


def demo_hardware(copies: int):
    net = Network.from_graph(layered([2, 4, 2], orientation="backward"), VTEAM())
    return build_hardware(net, n_copies=copies, seed=0)


def best_of(fn, repeats=5):
    best = np.inf
    out = None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def punishing_pulse():
    hw = demo_hardware(1)
    pulses = Pulses()
    seg = punish_segment(hw, Pattern((1.0, 0.0), 0), 1, pulses)
    c, x0, prm = hw.circuit, hw.x[0], hw.params[0]
    tight = simulate(c, seg, dt=1e-11, method="adaptive", rtol=1e-12, atol=1e-14, x0=x0, params=prm, record=())
    rows = []
    prep = prepare(c, seg, dt=1e-11, method="adaptive", rtol=pulses.rtol, atol=pulses.atol, record=())
    wall, res = best_of(lambda: prep.run(x0, params=prm))
    err_ad = float(np.abs(res.x_final - tight.x_final).max())
    rows.append(("memsim adaptive (rtol 1e-6)", wall, None, err_ad, res.stats["solves"]))
    prep4 = prepare(c, seg, dt=1e-11, method="rk4", record=())
    wall4, res4 = best_of(lambda: prep4.run(x0, params=prm), repeats=3)
    rows.append(("memsim RK4, 10 ps", wall4, None, float(np.abs(res4.x_final - tight.x_final).max()),
                 res4.stats["solves"]))
    chosen = None
    if HAVE_NGSPICE:
        ref = run_ngspice(c, seg, dt=1e-11, x0=x0, params=prm, record=("x",), reltol=1e-9, max_step=1e-11)
        ref_err = float(np.abs(ref.x_final - tight.x_final).max())
        rows.append(("ngspice reference (reltol 1e-9, step <= 10 ps)", ref.stats["wall_time"],
                     ref.stats.get("analysis_time"), ref_err, None))
        for rt in RELTOLS:
            opts = dict(DEFAULTS, reltol=rt)
            sp = run_ngspice(c, seg, dt=1e-9, x0=x0, params=prm, record=("x",), **opts)
            err = float(np.abs(sp.x_final - tight.x_final).max())
            rows.append((f"ngspice own step control, reltol {rt:g}", sp.stats["wall_time"],
                         sp.stats.get("analysis_time"), err, None))
            if err <= max(err_ad, 1e-6) and chosen is None:
                chosen = (rt, sp.stats.get("analysis_time"), sp.stats["wall_time"], err)
        if chosen is None:
            chosen = (RELTOLS[-1], rows[-1][2], rows[-1][1], rows[-1][3])
    return rows, wall, chosen


class Recorder:
    """Wraps ``Hardware.run`` to log every protocol with the states it started from."""

    def __init__(self):
        self.calls = []
        self._orig = hwmod.Hardware.run

    def __enter__(self):
        rec, orig = self, self._orig

        def run(hw, protocol, *, dt, copies=None, **kw):
            sel = np.arange(hw.n_copies) if copies is None else np.asarray(copies)
            new, res = orig(hw, protocol, dt=dt, copies=copies, **kw)
            rec.calls.append((protocol, dt, hw.x[sel].copy(), hw.params[sel].copy(), new.x[sel].copy()))
            return new, res

        hwmod.Hardware.run = run
        return self

    def __exit__(self, *exc):
        hwmod.Hardware.run = self._orig


def whole_demo(copies: int, reltol: float | None):
    task = association((0, 1))
    ctrl = Controller()
    for compiled in (True, False):  # warm-up: kernels loaded
        train(demo_hardware(copies), task, ctrl, seed=0, compiled=compiled)
    wall, out = best_of(lambda: train(demo_hardware(copies), task, ctrl, seed=0), repeats=3)
    wall_py, out_py = best_of(lambda: train(demo_hardware(copies), task, ctrl, seed=0, compiled=False), repeats=3)
    assert np.array_equal(out.state.last_mistake, out_py.state.last_mistake)  # the same training
    row = dict(copies=copies, learned=int(out.learned.sum()), memsim_s=wall, memsim_step_loop_s=wall_py,
               mistakes=int(out.mistakes.sum()))
    if not HAVE_NGSPICE:
        return row
    with Recorder() as rec:  # the Python loop calls Hardware.run once per protocol group
        train(demo_hardware(copies), task, ctrl, seed=0, compiled=False)
    c = demo_hardware(1).circuit
    opts = dict(DEFAULTS, reltol=reltol)
    analysis = wall_sp = 0.0
    runs = 0
    worst = 0.0
    for seg, dt, xs, ps, xe in rec.calls:
        for j in range(xs.shape[0]):
            sp = run_ngspice(c, seg, dt=max(dt, seg.duration / 100), x0=xs[j], params=ps[j], record=("x",), **opts)
            analysis += sp.stats.get("analysis_time", np.nan)
            wall_sp += sp.stats["wall_time"]
            worst = max(worst, float(np.abs(sp.x_final - xe[j]).max()))
            runs += 1
    row.update(ngspice_runs=runs, ngspice_analysis_s=analysis, ngspice_wall_s=wall_sp, max_dx=worst)
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="4 copies in the whole-demo replay")
    args = ap.parse_args()
    print(f"ngspice: {ngspice_version() if HAVE_NGSPICE else 'not installed'}\n")
    rows, memsim_wall, chosen = punishing_pulse()
    print("### One punishing pulse (2-4-2, VTEAM, 100 ns)\n")
    print("| run | wall s | ngspice analysis s | max abs dx vs tight | solves |")
    print("|---|---|---|---|---|")
    for name, wall, an, err, solves in rows:
        print(f"| {name} | {wall:.3g} | {'' if an is None else f'{an:.3g}'} | {err:.2g} | "
              f"{'' if solves is None else solves} |")
    if chosen is not None:
        rt, an, wl, err = chosen
        print(f"\nngspice at the same accuracy: reltol {rt:g}, {an:.3g} s analysis ({wl:.3g} s process), "
              f"max |dx| {err:.2g}; memsim adaptive {memsim_wall * 1e6:.0f} us -> "
              f"**{an / memsim_wall:.0f}x** (analysis) / {wl / memsim_wall:.0f}x (process wall)\n")
    row = whole_demo(4 if args.quick else 20, chosen[0] if chosen else None)
    print("### The whole demo (association 0->0 1->1, default controller)\n")
    print(", ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}" for k, v in row.items()))
    if "ngspice_analysis_s" in row:
        print(f"\nwhole demo: memsim {row['memsim_s']:.3g} s, ngspice {row['ngspice_analysis_s']:.3g} s analysis "
              f"({row['ngspice_wall_s']:.3g} s process) -> **{row['ngspice_analysis_s'] / row['memsim_s']:.0f}x** "
              f"(analysis) / {row['ngspice_wall_s'] / row['memsim_s']:.0f}x (process wall)")


if __name__ == "__main__":
    main()
