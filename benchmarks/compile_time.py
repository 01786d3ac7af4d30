"""Cold start (issue 12): start-up of the command line, numba compile time per kernel, first ``memsim demo``.

    python benchmarks/compile_time.py [--repeats 3] [--compile-repeats 1] [--quick] [--baseline DIR]
                                      [--only startup kernels commands]

Every measurement runs in fresh Python processes. A *cold* run has
``NUMBA_CACHE_DIR`` pointing at a new empty directory (a fresh install: every
kernel it calls is compiled); the *warm* run is a second process on the same
directory (kernels loaded from numba's cache).

- Start-up: wall time of ``memsim --help`` (and the slowest subcommand
  ``--help``) and of ``python -c "import memsim"``; the peer is
  ``python -c "pass"`` in the same run.
- Kernels: one small workload per kernel (the public call that reaches it).
  The compile time is the process CPU time spent inside numba's
  ``numba:compile`` events of the top-level kernels, callees included (CPU
  time: the machine is shared, and compilation is single-threaded); "first
  call" is the wall time of the workload, cold and warm. The demo's kernels
  come first; arrays, plasticity and snn kernels (no command of the CLI uses
  them) are listed separately. "Extra signatures" names the kernels compiled
  for more than one argument-type signature (each is a full compile). With
  ``--compile-repeats N`` each workload runs cold N times per tree (trees
  interleaved) and the run with the least compile CPU time is shown.
- Commands: ``memsim demo --copies 2 --max-eras 2``, the default ``memsim
  demo``, ``memsim demo --no-figure`` and ``memsim simulate --duration 0.5``,
  cold (one process) and warm (best of three processes), as wall and CPU
  (user + system) seconds of the whole process.

``--baseline DIR`` also runs everything with ``PYTHONPATH=DIR`` (a directory
holding another ``memsim`` package, e.g. ``git archive <rev> memsim | tar -x
-C DIR``), so before and after come from the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

#: name -> (module:kernel reached, where it is used, code of the workload; imports are done before timing)
WORKLOADS = {
    "integrate_adaptive": ("memsim.solve.adaptive", "simulate --method adaptive; training outside the compiled loop", """
net = Network.from_graph(layered([2, 4, 2], orientation="backward"), VTEAM(), x0="random", seed=0)
seg = [Segment(1e-7, drive={net.inputs[0]: -0.5}, ground=net.outputs[1:])]
RUN = lambda: simulate(net, seg, dt=1e-11, method="adaptive")
"""),
    "run_slots": ("memsim.learning.compiled", "demo, train, capacity (the compiled training loop)", """
from memsim.learning import association, build_hardware, train
hw = build_hardware(Network.from_graph(layered([2, 4, 2], orientation="backward"), VTEAM()), n_copies=2, seed=0)
RUN = lambda: train(hw, association((0, 1)), compiled=True)
"""),
    "integrate_dense": ("memsim.solve.kernels", "simulate (euler/heun/rk4)", """
net = Network.from_graph(layered([2, 4, 2], orientation="backward"), VTEAM(), x0="random", seed=0)
seg = [Segment(1e-9, drive={net.inputs[0]: -0.5}, ground=net.outputs[1:])]
RUN = lambda: simulate(net, seg, dt=1e-11, method="rk4")
"""),
    "integrate_dense_parallel": ("memsim.solve.kernels", "fixed-step ensembles of >= 8 copies", """
net = Network.from_graph(layered([2, 4, 2], orientation="backward"), VTEAM(), x0="random", seed=0)
seg = [Segment(1e-9, drive={net.inputs[0]: -0.5}, ground=net.outputs[1:])]
RUN = lambda: simulate(net, seg, dt=1e-11, method="rk4", ensemble=8, seed=1)
"""),
    "electrical_dense": ("memsim.solve.kernels", "method 'scipy' on dense networks", """
net = Network.from_graph(layered([2, 4, 2], orientation="backward"), VTEAM(), x0="random", seed=0)
seg = [Segment(1e-9, drive={net.inputs[0]: -0.5}, ground=net.outputs[1:])]
RUN = lambda: simulate(net, seg, dt=1e-10, method="scipy", solver="dense")
"""),
    "device_conductance": ("memsim.solve.kernels", "sparse engine (large networks)", """
from memsim.solve import kernels as kn
c = Network.from_graph(layered([2, 4, 2]), VTEAM(), x0="random", seed=0).compile()
RUN = lambda: kn.device_conductance(c.model, c.params, c.x0)
"""),
    "arrays.apply_response": ("memsim.arrays.kernels", "memsim.arrays.program (no CLI command)", """
from memsim.arrays import SynapseArray, initial_state, program
arr = SynapseArray(2, 2)
RUN = lambda: program(arr, initial_state(arr), np.array([[50, 0, 0, 0], [0, 0, 0, 50]]))
"""),
    "plasticity.train_ideal": ("memsim.plasticity.kernels", "memsim.plasticity.train (no CLI command)", """
from memsim.arrays import IdealArray
from memsim.plasticity import Delta, MushroomBody, train
rng = np.random.default_rng(0)
x, y = rng.random((20, 8)), rng.integers(0, 2, 20)
mb = MushroomBody(n_inputs=8, n_kc=50, n_outputs=2)
RUN = lambda: train(mb, x, y, Delta(lr=0.5), IdealArray(50, 2))
"""),
    "snn.layer_forward+backward": ("memsim.snn.kernels", "memsim.snn.eventprop (no CLI command)", """
from memsim.snn.eventprop import backward, forward
from memsim.snn.lif import LIF
x, w = [[0.0, 1e-6]], [np.array([[2.5, 2.5]])]
def RUN():
    tr = forward(x, w, LIF(), t_max=30e-6)
    return backward(x, tr, w, LIF(), t_max=30e-6, dl_dt=np.ones((1, 1)))
"""),
}
QUICK = ("run_slots", "integrate_adaptive", "integrate_dense")

WORKER = """
import json, sys, time
import numpy as np
from numba.core import event as ev
from memsim import VTEAM, Network, Segment, layered, simulate

class Compiles(ev.Listener):
    def __init__(self):
        self.depth, self.cpu, self.top = 0, 0.0, {}
    def on_start(self, event):
        if self.depth == 0:
            self.cpu = time.process_time()
        self.depth += 1
    def on_end(self, event):
        self.depth -= 1
        if self.depth == 0:
            name = event.data["dispatcher"].py_func.__name__
            self.top[name] = self.top.get(name, 0.0) + time.process_time() - self.cpu

exec(sys.argv[1])
listener = Compiles()
with ev.install_listener("numba:compile", listener):
    t0 = time.perf_counter()
    RUN()
    wall = time.perf_counter() - t0
sigs = {}
for mod in [m for name, m in list(sys.modules.items()) if name.startswith("memsim.") and name.endswith("kernels")
            or name in ("memsim.solve.adaptive", "memsim.learning.compiled")]:
    for attr, obj in vars(mod).items():
        if hasattr(obj, "signatures") and obj.signatures:
            sigs[attr] = len(obj.signatures)
print(json.dumps({"wall": wall, "compile_cpu": sum(listener.top.values()), "top": listener.top, "signatures": sigs}))
"""


def _env(pythonpath: str, cache: str | None = None) -> dict:
    env = dict(os.environ, PYTHONPATH=pythonpath, MPLBACKEND="Agg")
    if cache is not None:
        env["NUMBA_CACHE_DIR"] = cache
    return env


def _timed(argv: list[str], env: dict) -> tuple[float, float, str]:
    """(wall s, CPU s of the child, stdout) of one process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    # not run from a source tree: `python -c` and `-m` put the working directory first on sys.path
    out = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=tempfile.gettempdir())
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if out.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed: {out.stderr[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, out.stdout


def startup(trees: dict[str, str], repeats: int) -> dict[str, dict[str, float]]:
    """Best-of wall times (s) of interpreter start, ``import memsim`` and every ``--help``, per tree.

    The trees take turns within each repeat, so a change of load hits them alike.
    """
    sys.path.insert(0, ROOT)
    from memsim.cli import build_parser  # only to list the subcommands

    py = sys.executable
    argvs = {"python -c pass": [py, "-c", "pass"], "python -c 'import memsim'": [py, "-c", "import memsim"],
             "memsim --help": [py, "-m", "memsim.cli", "--help"]}
    argvs |= {f"memsim {c} --help": [py, "-m", "memsim.cli", c, "--help"]
              for c in build_parser()._subparsers._group_actions[0].choices}
    best = {label: {} for label in trees}
    for _ in range(repeats):
        for label, path in trees.items():
            for key, argv in argvs.items():
                try:
                    wall = _timed(argv, _env(path))[0]
                except RuntimeError:  # a subcommand the tree lacks
                    continue
                best[label][key] = min(wall, best[label].get(key, float("inf")))
    return best


def kernel(name: str, pythonpath: str) -> dict | None:
    """Cold and warm first call of one workload, in fresh processes (None if the tree lacks it)."""
    code = WORKLOADS[name][2]
    with tempfile.TemporaryDirectory() as cache:
        try:
            runs = [json.loads(_timed([sys.executable, "-c", WORKER, code], _env(pythonpath, cache))[2].strip()
                               .splitlines()[-1]) for _ in range(2)]
        except RuntimeError:
            return None
    return {"cold": runs[0], "warm": runs[1]}


COMMANDS = {
    "memsim demo --copies 2 --max-eras 2": ["demo", "--copies", "2", "--max-eras", "2", "--no-progress"],
    "memsim demo (default: 20 copies)": ["demo", "--no-progress"],
    "memsim demo --no-figure": ["demo", "--no-progress", "--no-figure"],
    "memsim simulate --duration 0.5": ["simulate", "--duration", "0.5"],
}


def command(args: list[str], pythonpath: str) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        argv = [sys.executable, "-m", "memsim.cli", *args]
        if "--no-figure" not in args:
            argv += ["--out", os.path.join(tmp, "out.png")]
        env = _env(pythonpath, os.path.join(tmp, "cache"))
        cold = _timed(argv, env)
        warm = min(_timed(argv, env)[:2] for _ in range(3))  # best of 3 warm processes
    return {"cold": cold[:2], "warm": warm}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3, help="best of this many runs for start-up times")
    ap.add_argument("--compile-repeats", type=int, default=1,
                    help="cold runs per kernel and tree (the one with the least compile CPU time is shown)")
    ap.add_argument("--quick", action="store_true", help="only the demo's kernel and the small demo")
    ap.add_argument("--baseline", default=None, help="directory holding another memsim package to compare")
    ap.add_argument("--only", nargs="+", choices=("startup", "kernels", "commands"),
                    default=("startup", "kernels", "commands"), help="the tables to measure")
    args = ap.parse_args()
    trees = {"this tree": ROOT} | ({"baseline": os.path.abspath(args.baseline)} if args.baseline else {})
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
          f"load average {os.getloadavg()[0]:.1f} at start")
    cols = " | ".join(trees)
    if "startup" in args.only:
        rows = startup(trees, args.repeats)
        subs = [k for k in rows["this tree"] if k.endswith(" --help") and k != "memsim --help"]
        slowest = max(subs, key=rows["this tree"].get)
        print(f"\n| start-up (best of {args.repeats}, wall s) | {cols} |\n|---|" + "---|" * len(trees))
        for key in ("python -c pass", "python -c 'import memsim'", "memsim --help", slowest):
            print(f"| `{key}`{' (slowest subcommand)' if key == slowest else ''} | "
                  + " | ".join(f"{rows[t].get(key, float('nan')):.2f}" for t in trees) + " |")
    if "kernels" in args.only:
        names = QUICK if args.quick else tuple(WORKLOADS)
        print("\n| kernel | used by | tree | compile CPU s (cold) | kernels compiled (CPU s) | first call cold / warm "
              "(wall s) | extra signatures |")
        print("|---|---|---|---|---|---|---|")
        for name in names:
            if name == "arrays.apply_response":
                print("| *not used by the CLI:* | | | | | | |")
            best: dict[str, dict | None] = {}
            for _ in range(args.compile_repeats):  # trees interleaved, so a change of load hits both
                for label, path in trees.items():
                    r = kernel(name, path)
                    if r is not None and (best.get(label) is None
                                          or r["cold"]["compile_cpu"] < best[label]["cold"]["compile_cpu"]):
                        best[label] = r
                    best.setdefault(label, None)
            for label, r in best.items():
                if r is None:
                    print(f"| {name} | {WORKLOADS[name][1]} | {label} | n/a | | n/a | |")
                    continue
                sig = ", ".join(f"{k} {v}" for k, v in sorted(r["cold"]["signatures"].items()) if v > 1) or "none"
                top = ", ".join(f"{k} {v:.1f}" for k, v in sorted(r["cold"]["top"].items(), key=lambda kv: -kv[1])
                                if v >= 0.5)
                print(f"| {name} | {WORKLOADS[name][1]} | {label} | {r['cold']['compile_cpu']:.1f} | {top} | "
                      f"{r['cold']['wall']:.1f} / {r['warm']['wall']:.2f} | {sig} |", flush=True)
    if "commands" in args.only:
        print("\n| command (whole process) | tree | cold wall / CPU s | warm wall / CPU s |\n|---|---|---|---|")
        for label_cmd, argv in COMMANDS.items():
            if args.quick and "default" in label_cmd:
                continue
            for label, path in trees.items():
                try:
                    r = command(argv, path)
                except RuntimeError:  # e.g. an option the baseline does not have
                    print(f"| `{label_cmd}` | {label} | n/a | n/a |", flush=True)
                    continue
                print(f"| `{label_cmd}` | {label} | {r['cold'][0]:.1f} / {r['cold'][1]:.1f} | "
                      f"{r['warm'][0]:.2f} / {r['warm'][1]:.2f} |", flush=True)


if __name__ == "__main__":
    main()
