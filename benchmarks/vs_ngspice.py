"""memsim against ngspice on the same circuits, in one run.

    python benchmarks/vs_ngspice.py [--quick] [--repeat 3] [--ref-cache DIR] [--no-256] [--transients-only]

Prints markdown tables (nothing is written into the repository):

1. **Transients.** Layered networks 2-4-2, 8-16-8, 16-32-32-4, 32-64-64-8 and crossbars with 1 ohm
   wires 16x16, 32x32, 64x64 (``--quick``: 2-4-2, 8-16-8, 16x16). HP TiO2 devices with a Joglekar
   window (p = 1), random initial states (seed 0), inputs driven by 1 V, 25 Hz sines of spread
   phases, outputs grounded, 10 ms -- the circuits of ``benchmarks/core_timing.py``. Both
   simulators write the same 101 samples (every 0.1 ms). Per circuit:

   - a *tight ngspice reference*: reltol 1e-7, largest step T/1000, written on the sample grid
     with ``.options interp`` (its own error ~1e-8);
   - *ngspice at its default tolerances* (reltol 1e-3, abstol 1e-12, vntol 1e-6, chgtol 1e-14,
     trtol 7; largest step = output step T/100, ngspice's default), the run that is timed; if its
     max |dx| against the reference exceeded 1e-4, reltol would be tightened (1e-4, 1e-5, 1e-6)
     until it does not, so both simulators are timed at the same accuracy target;
   - *memsim*: RK4 at T/100 and T/200 and forward Euler at T/100 .. T/800 are run (after a
     warm-up call each: numba compilation excluded) and the fastest whose max |dx| against the
     tight reference is <= 1e-4 is reported.

   "ngspice s" is ngspice's own analysis time ("Total analysis time" of ``rusage``: netlist
   parsing, process start and output writing excluded, which favours ngspice); the process wall
   time is shown beside it. The speed ratio is ngspice analysis time / memsim wall time. Both
   timed runs are repeated (``--repeat``, default 3) and the least time of each counts (on a
   shared machine the least is the least disturbed). The tight references are not timed; with
   ``--ref-cache DIR`` they are kept in DIR for a later run (e.g. of another memsim version).
2. **256x256 crossbar with wires** (65,536 devices; memsim only, skipped with ``--quick``): 1,000
   forward-Euler steps of 10 us, run in a child process whose peak resident memory is reported.
3. **Per-step cost on sparse graphs**: crossbars with wires, N x N for N = 16 .. 128 (.. 64 with
   ``--quick``; plus the 256x256 run), forward Euler; the fitted exponent b of
   ``time per step ~ n^b`` (n = nodes).
4. **Learning-style loop on 2-4-2**: 100 presentations (20 with ``--quick``) of 1 ms (100 steps of
   10 us), alternating two input patterns, outputs grounded, each starting from the states the
   previous one left: one ``simulate`` call per presentation against one ngspice run per
   presentation (default tolerances, output every 10 us); max |dx| of the final states.
5. **Ensemble throughput**: 1,000 copies of 2-4-2 with different initial states through one
   presentation with memsim's ensemble path, against ngspice's aggregate rate: one netlist
   holding 100 (20 with ``--quick``) disjoint copies, and one process per presentation.

ngspice missing: the ngspice columns read "n/a" and memsim uses RK4 at T/100.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a fresh clone

from memsim import LinearIonDrift, Network, Segment, Sine, crossbar, layered, prepare, simulate
from memsim.spice import ngspice_version, run_ngspice

DEVICE = LinearIonDrift(window="joglekar", p=1)
T = 10e-3  # s, transient length
SAMPLES = 100  # output intervals
TARGET = 1e-4  # max |dx| memsim must reach against the tight ngspice reference
TIGHT = dict(reltol=1e-7, max_step=T / 1000, interp=True)
DEFAULTS = dict(reltol=1e-3, abstol=1e-12, vntol=1e-6, chgtol=1e-14, trtol=7.0)
#: reltol tried for the timed ngspice run, loosest (ngspice's default) first
RELTOLS = (1e-3, 1e-4, 1e-5, 1e-6)
#: memsim settings tried: (method, j) with step T/100 / 2^j; the fastest meeting TARGET is timed
CANDIDATES = (("rk4", 0), ("euler", 0), ("euler", 1), ("euler", 2), ("euler", 3), ("rk4", 1))
HAVE_NGSPICE = shutil.which("ngspice") is not None


def protocol(inputs, outputs, duration):
    drive = {n: Sine(1.0, 25.0, phase=2 * np.pi * i / len(inputs)) for i, n in enumerate(inputs)}
    return [Segment(duration, drive=drive, ground=outputs)]


def timed(fn, *args, **kwargs):
    t0 = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - t0


def fmt(v, spec=".3g"):
    return "n/a" if v is None else format(v, spec)


# ------------------------------------------------------------------ 1. transients
def best_of(repeat, fn, *args, **kwargs):
    """Run ``fn`` ``repeat`` times: (last result, least wall time)."""
    walls = []
    for _ in range(repeat):
        out, wall = timed(fn, *args, **kwargs)
        walls.append(wall)
    return out, min(walls)


def tight_reference(c, proto, name, cache):
    """The tight ngspice reference (``TIGHT``), read from / written to ``cache`` (a folder) if given."""
    path = None if cache is None else Path(cache) / (name.replace(" ", "_").replace(",", "") + ".npz")
    if path is not None and path.exists():
        z = np.load(path)
        return SimpleNamespace(t=z["t"], x=z["x"]), float(z["wall"])
    ref, wall = timed(run_ngspice, c, proto, dt=T / SAMPLES, record=("x",), **TIGHT)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez(path, t=ref.t, x=ref.x, wall=wall)
    return ref, wall


def transient(name, graph, repeat=1, cache=None):
    net = Network.from_graph(graph, DEVICE, x0="random", seed=0)
    c = net.compile()
    proto = protocol(net.inputs, net.outputs, T)
    row = dict(case=name, devices=int(c.dynamic.sum()), nodes=c.n_nodes)
    out_dt = T / SAMPLES
    ref = None
    if HAVE_NGSPICE:
        ref, row["tight_s"] = tight_reference(c, proto, name, cache)
        for reltol in RELTOLS:
            # ngspice's own points, put on the output grid by PCHIP (its `interp` option, linear
            # between steps as long as the output step, is off by up to 2e-4 here)
            runs = [timed(run_ngspice, c, proto, dt=out_dt, record=("x",), t_eval=ref.t,
                          **{**DEFAULTS, "reltol": reltol}) for _ in range(repeat)]
            spice = runs[-1][0]
            row["spice_wall"] = min(w for _, w in runs)
            row["spice_s"] = min(r.stats.get("analysis_time", w) for r, w in runs)
            row["spice_dx"] = float(np.abs(spice.x - ref.x).max())
            if row["spice_dx"] <= TARGET:
                break
        row["spice_reltol"] = reltol
    best = None
    for method, j in CANDIDATES:
        dt = out_dt / 2**j
        simulate(c, protocol(net.inputs, net.outputs, 3 * dt), dt=dt, method=method, record=("x",))  # warm-up
        res, wall = best_of(repeat, simulate, c, proto, dt=dt, method=method, record=("x",), record_every=2**j)
        dx = None if ref is None else float(np.abs(res.x - ref.x).max())
        if (dx is None or dx <= TARGET) and (best is None or wall < best[4]):
            best = (method, dt, res.stats["steps"], dx, wall)
        if dx is None:
            break
    if best is None:
        raise RuntimeError(f"{name}: no memsim setting reached max |dx| <= {TARGET}")
    method, dt, steps, dx, wall = best
    row.update(method=method, dt=dt, steps=steps, memsim_s=wall, memsim_dx=dx)
    row["ratio"] = row["spice_s"] / wall if "spice_s" in row else None
    return row


# ------------------------------------------------------------------ 2./3. large crossbars, scaling
def crossbar_steps(n, steps, dt=1e-5, repeat=1):
    """Forward-Euler steps of an n x n crossbar with 1 ohm wires: (seconds per step, nodes, devices)."""
    net = Network.from_graph(crossbar(n, n, r_wire=1.0), DEVICE, x0="random", seed=0)
    c = net.compile()
    simulate(c, protocol(net.inputs, net.outputs, 2 * dt), dt=dt, method="euler", record=("x",))  # warm-up
    res, wall = best_of(repeat, simulate, c, protocol(net.inputs, net.outputs, steps * dt), dt=dt, method="euler",
                        record=("x",), record_every=max(1, steps // 10))
    return wall / steps, c.n_nodes, int(c.dynamic.sum()), res.stats.get("engine")


def child_crossbar256():
    per_step, nodes, devices, engine = crossbar_steps(256, 1000)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB -> MiB (Linux)
    print(json.dumps(dict(per_step=per_step, nodes=nodes, devices=devices, engine=engine, peak_mib=peak)))


def run_crossbar256():
    out = subprocess.run([sys.executable, __file__, "--child-crossbar256"], capture_output=True, text=True,
                         check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


# ------------------------------------------------------------------ 4./5. presentations
PATTERNS = ({("in", 0): 1.0, ("in", 1): 0.2}, {("in", 0): 0.2, ("in", 1): 1.0})
PRESENTATION = 1e-3  # s
PRES_DT = 1e-5  # s: 100 steps


def presentation(k, outputs, copy=None):
    name = (lambda n: n) if copy is None else (lambda n: (copy, n))
    return [Segment(PRESENTATION, drive={name(n): v for n, v in PATTERNS[k % 2].items()},
                    ground=[name(o) for o in outputs])]


def learning_loop(n_pres):
    net = Network.from_graph(layered([2, 4, 2]), DEVICE, x0="random", seed=0)
    c = net.compile()
    outputs = net.outputs
    rows = {}
    for method in ("euler", "rk4"):
        simulate(c, presentation(0, outputs), dt=PRES_DT, method=method, record=("x", "i_node"))  # warm-up
        x, winners = c.x0.copy(), []
        t0 = time.perf_counter()
        for k in range(n_pres):
            res = simulate(c, presentation(k, outputs), dt=PRES_DT, method=method, x0=x, record=("x", "i_node"))
            x = res.x_final
            winners.append(int(np.argmax(res.i_node[-1, c.outputs])))  # what a controller reads
        rows[f"simulate, {method}"] = ((time.perf_counter() - t0) / n_pres, x)
    # the loop a controller runs: each presentation prepared once, then run from the
    # current states, reading only the final terminal currents
    for method in ("euler", "rk4"):
        preps = [prepare(c, presentation(k, outputs), dt=PRES_DT, method=method, record=("i_node",),
                         record_every=1000) for k in range(2)]
        preps[0].run(c.x0)  # warm-up
        x, winners = c.x0.copy(), []
        t0 = time.perf_counter()
        for k in range(n_pres):
            res = preps[k % 2].run(x)
            x = res.x_final
            winners.append(int(np.argmax(res.i_node[-1, c.outputs])))
        rows[f"prepared run, {method}"] = ((time.perf_counter() - t0) / n_pres, x)
    spice = None
    if HAVE_NGSPICE:
        x, walls, analysis = c.x0.copy(), [], []
        for k in range(n_pres):
            res = run_ngspice(c, presentation(k, outputs), dt=PRES_DT, x0=x, record=("x", "i_node"), **DEFAULTS)
            x = res.x_final
            walls.append(res.stats["wall_time"])
            analysis.append(res.stats.get("analysis_time", np.nan))
        spice = (float(np.mean(walls)), float(np.mean(analysis)), x)
    return rows, spice


def replicate(copies, x0):
    graph = layered([2, 4, 2])
    base = Network.from_graph(graph, DEVICE)
    net = Network(default_device=DEVICE)
    for k in range(copies):
        for n, role in graph.nodes(data="role"):
            net.add_node((k, n), role)
        for e, edge in enumerate(base.edges):
            net.add_edge((k, edge.u), (k, edge.v), x0=float(x0[k, e]))
    return net, base.outputs


def ensemble(k_copies, spice_copies):
    net = Network.from_graph(layered([2, 4, 2]), DEVICE)
    c = net.compile()
    x0 = np.random.default_rng(1).random((k_copies, c.n_edges))
    proto = presentation(0, net.outputs)
    simulate(c, proto, dt=PRES_DT, method="rk4", x0=x0, record=("x",), record_every=100)  # warm-up (same kernel)
    res, wall = timed(simulate, c, proto, dt=PRES_DT, method="rk4", x0=x0, record=("x",), record_every=100)
    row = dict(memsim_rate=k_copies / wall, memsim_s=wall)
    if HAVE_NGSPICE:
        big, outputs = replicate(spice_copies, x0)
        bproto = [Segment(PRESENTATION, drive={(k, n): v for k in range(spice_copies) for n, v in PATTERNS[0].items()},
                          ground=[(k, o) for k in range(spice_copies) for o in outputs])]
        sp = run_ngspice(big, bproto, dt=PRES_DT, record=("x",), **DEFAULTS)
        row["batch_rate"] = spice_copies / sp.stats["wall_time"]
        row["batch_analysis_rate"] = spice_copies / sp.stats.get("analysis_time", np.nan)
        one = run_ngspice(c, proto, dt=PRES_DT, x0=x0[0], record=("x",), **DEFAULTS)
        row["single_rate"] = 1.0 / one.stats["wall_time"]
        row["dx"] = float(np.abs(sp.x_final.reshape(spice_copies, -1) - res.x_final[:spice_copies]).max())
    return row


# ------------------------------------------------------------------ main
def machine():
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as fh:
            cpu = next(ln.split(":", 1)[1].strip() for ln in fh if ln.startswith("model name"))
    except (OSError, StopIteration):
        pass
    import numba
    import scipy

    try:
        import sksparse  # noqa: F401

        chol = "CHOLMOD (scikit-sparse)"
    except ImportError:
        chol = "no CHOLMOD (SciPy splu)"
    spice = ngspice_version() if HAVE_NGSPICE else "ngspice not installed"
    return (f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, numpy {np.__version__}, "
            f"scipy {scipy.__version__}, numba {numba.__version__}, {chol}, {spice}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small circuits only (about a minute)")
    ap.add_argument("--repeat", type=int, default=3,
                    help="timed runs of each transient (memsim and ngspice), the least time counts (default 3)")
    ap.add_argument("--ref-cache", metavar="DIR",
                    help="keep the tight ngspice references in DIR (reused by a later run: they are not timed)")
    ap.add_argument("--no-256", action="store_true", help="skip the 256x256 crossbar (about three minutes)")
    ap.add_argument("--transients-only", action="store_true",
                    help="only the transient and per-step tables (no learning loop, no ensemble)")
    ap.add_argument("--child-crossbar256", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child_crossbar256:
        child_crossbar256()
        return
    print(f"machine: {machine()}")
    if not HAVE_NGSPICE:
        print("ngspice not installed (apt-get install ngspice): ngspice columns are n/a")
    cases = [("layered 2-4-2", layered([2, 4, 2])), ("layered 8-16-8", layered([8, 16, 8]))]
    if not args.quick:
        cases += [("layered 16-32-32-4", layered([16, 32, 32, 4])), ("layered 32-64-64-8", layered([32, 64, 64, 8]))]
    sizes = [16] if args.quick else [16, 32, 64]
    cases += [(f"crossbar {n}x{n}, 1 ohm wires", crossbar(n, n, r_wire=1.0)) for n in sizes]

    print(f"\n## Transients: {T * 1e3:g} ms, {SAMPLES + 1} samples, HP/Joglekar devices, 1 V 25 Hz sines\n")
    print("| case | devices | nodes | ngspice reltol | ngspice s (analysis) | ngspice s (wall) | ngspice max abs dx | "
          "memsim method | memsim dt (s) | memsim steps | memsim s | speed ratio | memsim max abs dx | tight ngspice ref s |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for name, graph in cases:
        r = transient(name, graph, repeat=max(1, args.repeat), cache=args.ref_cache)
        print(f"| {r['case']} | {r['devices']} | {r['nodes']} | {fmt(r.get('spice_reltol'), 'g')} "
              f"| {fmt(r.get('spice_s'))} | {fmt(r.get('spice_wall'))} "
              f"| {fmt(r.get('spice_dx'), '.1e')} | {r['method']} | {r['dt']:.3g} | {r['steps']} | {r['memsim_s']:.3g} "
              f"| {fmt(r['ratio'], '.0f')} | {fmt(r['memsim_dx'], '.1e')} | {fmt(r.get('tight_s'))} |", flush=True)

    print("\n## Per-step cost on sparse graphs: crossbars with 1 ohm wires, forward Euler\n")
    print("| crossbar | devices | nodes | engine | ms per step |")
    print("|---|---|---|---|---|")
    scale_n = [16, 32, 64] if args.quick else [16, 32, 64, 128]
    points = []
    for n in scale_n:
        per_step, nodes, devices, engine = crossbar_steps(n, 200 if n <= 64 else 50, repeat=max(1, args.repeat))
        points.append((nodes, per_step))
        print(f"| {n}x{n} | {devices} | {nodes} | {engine} | {per_step * 1e3:.3g} |", flush=True)
    big = None
    if not (args.quick or args.no_256):
        big = run_crossbar256()
        points.append((big["nodes"], big["per_step"]))
        print(f"| 256x256 | {big['devices']} | {big['nodes']} | {big['engine']} | {big['per_step'] * 1e3:.3g} |")
    nodes, cost = np.log([p[0] for p in points]), np.log([p[1] for p in points])
    slope = np.polyfit(nodes, cost, 1)[0]
    slope_big = np.polyfit(nodes[-3:], cost[-3:], 1)[0]
    print(f"\nfitted exponent b (time per step ~ n^b): {slope:.2f} over all sizes, {slope_big:.2f} over the "
          f"three largest")
    if big is not None:
        print(f"\n256x256 crossbar with wires: 1,000 Euler steps in {big['per_step'] * 1000:.1f} s, "
              f"peak resident memory {big['peak_mib']:.0f} MiB (child process)")

    if args.transients_only:
        return
    n_pres = 20 if args.quick else 100
    print(f"\n## Learning-style loop on 2-4-2: {n_pres} presentations of {PRESENTATION * 1e3:g} ms "
          f"({round(PRESENTATION / PRES_DT)} steps)\n")
    rows, spice = learning_loop(n_pres)
    print("| simulator | per presentation | ngspice / memsim | max abs dx of final states vs ngspice |")
    print("|---|---|---|---|")
    if spice is not None:
        print(f"| ngspice, one process per presentation (wall) | {spice[0] * 1e3:.3g} ms | | |")
        print(f"| ngspice, analysis time only | {spice[1] * 1e3:.3g} ms | | |")
    for method, (per, x) in rows.items():
        ratio = fmt(None if spice is None else spice[0] / per, ".0f")
        dx = fmt(None if spice is None else float(np.abs(x - spice[2]).max()), ".1e")
        print(f"| memsim {method} | {per * 1e6:.0f} us | {ratio} | {dx} |", flush=True)

    spice_copies = 20 if args.quick else 100
    e = ensemble(1000, spice_copies)
    print("\n## Ensemble throughput: one 100-step presentation of 2-4-2\n")
    print("| simulator | presentations per second |")
    print("|---|---|")
    print(f"| memsim ensemble of 1,000 (RK4), {e['memsim_s']:.3g} s | {e['memsim_rate']:.3g} |")
    if HAVE_NGSPICE:
        print(f"| ngspice, {spice_copies} copies in one netlist (wall) | {e['batch_rate']:.3g} |")
        print(f"| ngspice, {spice_copies} copies in one netlist (analysis only) | {e['batch_analysis_rate']:.3g} |")
        print(f"| ngspice, one process per presentation (wall) | {e['single_rate']:.3g} |")
        best = max(e["batch_rate"], e["single_rate"])
        print(f"\nmemsim ensemble / best ngspice aggregate (wall): {e['memsim_rate'] / best:.0f}x; "
              f"max abs dx over the {spice_copies} copies run in both: {e['dx']:.1e}")


if __name__ == "__main__":
    main()
