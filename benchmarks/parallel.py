"""Co-design work on two cores: 2 worker processes against 1, in the same run.

    python benchmarks/parallel.py [--quick] [--repeat N]

Cases (``--quick``: fewer sets and points):

- ``capacity``: :func:`memsim.analysis.empirical_capacity` of a 4-8-4 layered
  VTEAM net (``orientation="backward"``), ``tasks="random"``, 12 sets x 2
  copies, the default controller, seed 0;
- ``capacity, fresh workers``: the same with :func:`memsim.sweep.pool.close_pools`
  before each 2-worker call, so its workers fork anew (from the warm fork
  server) and load the kernels again: what pool reuse saves;
- ``sweep``: :func:`memsim.sweep.run` of the ``codesign`` task over layered
  2-4-2, 3-6-3 and 4-8-4 nets x seeds (``n_sets=4``, ``p_max=4``), in memory.

Every call is checked to give the same numbers as the first 1-worker call.
The order is: one untimed 1-worker call (loads the kernels here), one 2-worker
call reported as *cold* (it starts the fork server and the shared pool), then
1- and 2-worker calls alternately, ``--repeat`` times.

Columns: the best wall time and every wall time; the CPU time (user + sys,
mean over the repeats) of this process and of the worker processes (read from
``/proc``: user + sys of every live descendant and of the children it reaped;
the workers are children of the fork server, so ``getrusage(RUSAGE_CHILDREN)``
of this process does not count them, it is printed too); *idle*, the share of
the call the workers were neither running nor waiting for a core
(``/proc/<pid>/schedstat`` of the main thread, which runs the tasks: wall -
CPU - run-queue wait; mean over the
repeats), the part of the schedule that other jobs on the machine do not
inflate; the 1-minute load average before/after each case; the wall ratio;
``est``, the speed-up the same schedule would give on two idle cores,
``CPU(1 worker) / (CPU(2 workers) / 2 / (1 - idle))``.

On a shared machine the wall ratio says little: other jobs slow every process
down, and with CFS autogroup (``/proc/sys/kernel/sched_autogroup_enabled``)
the kernel shares the CPU between *sessions*, so a second worker started from
the same session gets no more CPU time for the session while other sessions
are busy.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import time

import numpy as np

from memsim import VTEAM, Network, layered
from memsim.analysis import empirical_capacity
from memsim.sweep import Grid, run
from memsim.sweep.pool import close_pools
from memsim.sweep.tasks import codesign

TICK = os.sysconf("SC_CLK_TCK")


def _tree() -> dict[int, tuple[float, float, float, float]]:
    """{pid: (CPU s, CPU s of its reaped children, run-queue wait s, CPU s by schedstat)} of the live descendants."""
    parent, cpu = {}, {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    st = f.read()
            except OSError:
                continue
            rest = st[st.rindex(")") + 2:].split()
            parent[int(d)] = int(rest[1])
            cpu[int(d)] = (int(rest[11]) + int(rest[12])) / TICK, (int(rest[13]) + int(rest[14])) / TICK
    me, out = os.getpid(), {}
    for pid in cpu:
        q = parent[pid]
        while q and q != me and q in parent:
            q = parent[q]
        if q != me or pid == me:
            continue
        try:  # the main thread, which runs the tasks (numba's OpenMP threads may spin but run no task)
            with open(f"/proc/{pid}/schedstat") as f:
                run, wait = (int(v) / 1e9 for v in f.read().split()[:2])
        except OSError:
            continue
        out[pid] = (*cpu[pid], wait, run)
    return out


def _self_sched() -> tuple[float, float]:
    """(running s, run-queue wait s) of this process's main thread."""
    with open("/proc/self/schedstat") as f:
        run, wait = (int(v) / 1e9 for v in f.read().split()[:2])
    return run, wait


def measure(fn, workers: int) -> dict:
    """Call ``fn(workers)``; wall, CPU of this process and of the workers, idle fraction of the workers."""
    t0, c0, s0, k0 = _tree(), time.process_time(), _self_sched(), resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    out = fn(workers)
    wall = time.perf_counter() - start
    t1, c1, s1, k1 = _tree(), time.process_time(), _self_sched(), resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_self = c1 - c0
    workers_cpu, idle = 0.0, []
    for pid, (cpu, reaped, wait, run) in t1.items():
        cpu0, reaped0, wait0, run0 = t0.get(pid, (0.0, 0.0, 0.0, 0.0))
        workers_cpu += cpu - cpu0 + reaped - reaped0  # workers that exited count in the fork server's children
        if cpu - cpu0 > 0.05 * wall:  # a live worker (the fork server and idle helpers do next to nothing)
            idle.append(max(0.0, wall - (run - run0) - (wait - wait0)) / wall)
    if workers == 1:
        idle = [max(0.0, wall - (s1[0] - s0[0]) - (s1[1] - s0[1])) / wall]
    children = (k1.ru_utime + k1.ru_stime) - (k0.ru_utime + k0.ru_stime)
    return {"out": out, "wall": wall, "cpu_self": cpu_self, "cpu_workers": workers_cpu,
            "idle": float(np.mean(idle)) if idle else float("nan"), "rusage_children": children}


def capacity_case(n_sets: int):
    net = Network.from_graph(layered([4, 8, 4], orientation="backward"), VTEAM())

    def call(workers: int):
        r = empirical_capacity(net, tasks="random", n_sets=n_sets, copies=2, seed=0, workers=workers)
        return (r.p.tolist(), r.successes.tolist(), r.presentations.tolist())

    return call


def sweep_case(seeds: int):
    space = Grid({"sizes": [[2, 4, 2], [3, 6, 3], [4, 8, 4]], "seed": list(range(seeds))})
    defaults = {"topology": "layered", "n_sets": 4, "p_max": 4}

    def call(workers: int):
        df = run(codesign, space, defaults=defaults, workers=workers, progress=False)
        keep = [c for c in df.columns if not c.endswith("wall_s")]
        return df[keep].to_dict("list")

    return call


def _pct(x: float) -> str:
    return "n/a" if np.isnan(x) else f"{x:.0%}"


def load() -> str:
    with open("/proc/loadavg") as f:
        return f.read().split()[0]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer sets and points")
    ap.add_argument("--repeat", type=int, default=3, help="timed calls per worker count (best is reported)")
    ap.add_argument("--cases", default="capacity,fresh,sweep", help="comma-separated subset of capacity,fresh,sweep")
    args = ap.parse_args()
    cases = [("capacity 4-8-4, 12 sets x 2 copies" if not args.quick else "capacity 4-8-4, 6 sets x 2 copies",
              capacity_case(6 if args.quick else 12), False),
             ("capacity, fresh workers each call", capacity_case(6 if args.quick else 12), True),
             (f"sweep codesign, {6 if args.quick else 12} points", sweep_case(2 if args.quick else 4), False)]
    print(f"machine: {os.cpu_count()} cores, {platform.processor() or platform.machine()}, "
          f"Python {platform.python_version()}")
    print("| case | workers | wall best (s) | walls (s) | CPU this process (s) | CPU workers (s) | "
          "RUSAGE_CHILDREN (s) | idle | load before/after | ratio (wall) | est. idle machine |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for key, (label, call, fresh) in zip(("capacity", "fresh", "sweep"), cases):
        if key not in args.cases.split(","):
            continue
        before = load()
        reference = measure(call, 1)["out"]  # untimed: loads the kernels in this process
        if fresh:
            close_pools()
        cold = measure(call, 2)
        same = cold["out"] == reference
        runs: dict[int, list[dict]] = {1: [], 2: []}
        for _ in range(args.repeat):
            for w in (1, 2):
                if fresh and w == 2:
                    close_pools()
                m = measure(call, w)
                same &= m["out"] == reference
                runs[w].append(m)
        after = load()
        # CPU and idle: means over the repeats (the CPU time of the same work varies by ~20 % on a loaded VM)
        mean = {w: {key: float(np.mean([r[key] for r in runs[w]])) for key in runs[w][0] if key != "out"}
                for w in (1, 2)}
        for w in (1, 2):
            mean[w]["wall"] = min(r["wall"] for r in runs[w])
        ratio = mean[1]["wall"] / mean[2]["wall"]
        est = mean[1]["cpu_self"] / (mean[2]["cpu_workers"] / 2 / (1 - mean[2]["idle"]))  # NaN: workers exited
        rows = [(1, mean[1]), (2, mean[2])] + ([] if fresh else [("2 (cold)", cold)])
        for w, m in rows:
            walls = ", ".join(f"{r['wall']:.1f}" for r in runs[w]) if w in runs else f"{m['wall']:.1f}"
            tail = f"{ratio:.2f} | {est:.2f}".replace("nan", "n/a") if w == 2 else " | "
            print(f"| {label} | {w} | {m['wall']:.1f} | {walls} | {m['cpu_self']:.1f} | {m['cpu_workers']:.1f} | "
                  f"{m['rusage_children']:.1f} | {_pct(m['idle'])} | {before}/{after} | {tail} |")
        if not same:
            print(f"| {label} | RESULTS DIFFER between worker counts |")
    close_pools()


if __name__ == "__main__":
    main()
