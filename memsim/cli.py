"""The ``memsim`` command line (thin over the library).

Errors in the user's input end with a one-line message on stderr and exit
code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import os
import sys
import time
import warnings
from collections.abc import Sequence

# Only the standard library at module level: building the parser (``memsim --help``) must not load
# numpy, numba, scipy, pandas or matplotlib; each command imports what it needs when it runs.

__all__ = ["main"]

DEVICES = ("hp", "hp-joglekar", "vteam", "ctdv", "gms")


class UsageError(Exception):
    """A problem with the user's input, reported in one line."""


class _Parser(argparse.ArgumentParser):
    """argparse, but errors are one line (no usage dump) with exit code 2."""

    def error(self, message: str):  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


#: Largest number of devices a ``--layers`` network may have (a layered network of 1e6 devices
#: already takes minutes to build and GBs of memory; write a network file for larger ones).
MAX_LAYER_DEVICES = 1_000_000


def _layers(text: str) -> list[int]:
    try:
        sizes = [int(s) for s in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"--layers must be comma-separated integers, got {text!r}") from None
    if len(sizes) < 2 or min(sizes) < 1:
        raise argparse.ArgumentTypeError(f"--layers needs at least two positive sizes, got {text!r}")
    devices = sum(a * b for a, b in zip(sizes, sizes[1:]))
    if devices > MAX_LAYER_DEVICES:
        raise argparse.ArgumentTypeError(f"--layers {text} gives {devices:,} devices, more than the limit "
                                         f"{MAX_LAYER_DEVICES:,}")
    return sizes


def _real(name: str, *, allow_zero: bool):
    """argparse type: a finite number > 0 (>= 0 with ``allow_zero``); errors name the option."""
    def parse(text: str) -> float:
        try:
            val = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name} must be a number, got {text!r}") from None
        if not math.isfinite(val) or val < 0 or (val == 0 and not allow_zero):
            raise argparse.ArgumentTypeError(f"{name} must be a finite number {'>=' if allow_zero else '>'} 0, "
                                             f"got {text!r}")
        return val

    return parse


def _positive(name: str):
    return _real(name, allow_zero=False)


def _nonneg(name: str):
    return _real(name, allow_zero=True)


def _device(name: str):
    from memsim.devices import models

    if name == "hp":
        return models.LinearIonDrift()
    if name == "hp-joglekar":
        return models.LinearIonDrift(window="joglekar")
    if name == "vteam":
        return models.VTEAM()
    if name == "ctdv":
        return models.CaravelliTraversaDiVentra()
    return models.MetastableSwitch()


def _network(args: argparse.Namespace, orientation: str = "forward"):
    """The network named by ``--network FILE`` or built from ``--layers`` and ``--device``."""
    from memsim import Network, layered
    from memsim.circuit.io import read_network

    if getattr(args, "network", None):
        return read_network(args.network)
    return Network.from_graph(layered(args.layers, orientation=orientation), _device(args.device),
                              x0="random", seed=args.seed)


def _network_options(p: argparse.ArgumentParser, device: str) -> None:
    p.add_argument("--network", default=None, help="network file (.json node-link or .graphml); overrides --layers/--device")
    p.add_argument("--layers", type=_layers, default=[2, 4, 2], help="layer sizes of a layered network, comma-separated")
    p.add_argument("--device", choices=DEVICES, default=device, help="device model (published parameters)")
    p.add_argument("--seed", type=_count("--seed", 0), default=0, help="seed of the random initial states")


def _sine_protocol(net, args):
    from memsim import Segment, Sine

    inputs = net.inputs
    if not inputs:
        raise UsageError("the network has no node with role 'input' to drive")
    drive = {inputs[0]: Sine(args.amplitude, args.frequency)}
    return [Segment(args.duration, drive=drive, ground=inputs[1:] + net.outputs, label="sine")]


def _kernels(method: str, copies: int = 1) -> list[str]:
    """The compiled kernels (``"module:function"``) a dense run of ``method`` on ``copies`` copies calls."""
    if method == "adaptive":
        return ["memsim.solve.adaptive:integrate_adaptive"]
    if method not in ("euler", "heun", "rk4"):
        return []
    from memsim.solve.integrate import _PARALLEL_MIN_COPIES

    return ["memsim.solve.kernels:integrate_dense"] + (
        ["memsim.solve.kernels:integrate_dense_parallel"] if copies >= _PARALLEL_MIN_COPIES else [])


def _training_kernels(hw, controller, copies: int, task=None) -> list[str]:
    """The compiled kernels a training of ``hw`` calls: the compiled loop's where it applies, else simulate's.

    Without ``task`` the loop's scope is judged for the worst configuration (as for capacity's random sets).
    """
    from memsim.learning import compiled as compiled_loop

    packed = None if task is None else compiled_loop.configurations(hw, task, controller)
    if compiled_loop.unsupported(hw, controller, packed) is None:
        return ["memsim.learning.compiled:run_slots"]
    method = controller.pulses.method
    return sorted(set(_kernels(method)) | set(_kernels(method, copies)))


def _compile_notice(args: argparse.Namespace, kernels: list[str]) -> bool:
    """One line on stderr when ``kernels`` are not in numba's cache yet (see :mod:`memsim.jitcache`)."""
    from memsim.jitcache import compile_notice

    return compile_notice(kernels, prog=f"memsim {args.command}")


def _cmd_simulate(args: argparse.Namespace) -> int:
    import matplotlib
    import numpy as np

    matplotlib.use("Agg")
    from memsim import simulate
    from memsim.plotting import summary_figure

    net = _network(args)
    compiled = net.compile()
    inputs = net.inputs
    protocol = _sine_protocol(net, args)
    source = args.network or f"device {args.device}"
    print(f"memsim simulate: {net!r}, {source}, {args.method} with dt = {args.dt:g} s")
    print(f"  drive: {args.amplitude:g} V sine at {args.frequency:g} Hz on {inputs[0]!r}, "
          f"other inputs and all outputs grounded, for {args.duration:g} s")
    steps = args.duration / args.dt
    if steps > args.max_steps:
        raise UsageError(f"--duration {args.duration:g} / --dt {args.dt:g} is {steps:.3g} steps, more than "
                         f"--max-steps {args.max_steps:g}; raise --dt, shorten --duration or raise --max-steps")
    print("  integrating", flush=True)
    compiling = _compile_notice(args, _kernels(args.method))
    t0 = time.perf_counter()
    res = simulate(compiled, protocol, dt=args.dt, method=args.method,
                   record_every=max(1, int(round(args.duration / args.dt / 2000))), progress=args.progress)
    wall = time.perf_counter() - t0
    st = res.stats
    x = res.x_final[compiled.dynamic]
    energy = float(res.energy())
    print(f"  {st['steps']} steps, {st['solves']} solves ({st['engine']}) in {wall:.3f} s"
          + (" (numba compilation included)" if compiling else ""))
    if not np.isfinite(energy):
        raise UsageError(f"the run gave a non-finite energy ({energy}); lower --amplitude ({args.amplitude:g} V)")
    if x.size:
        print(f"  final states: mean {x.mean():.4f}, min {x.min():.4f}, max {x.max():.4f}; "
              f"energy dissipated {energy:.4g} J")
    else:
        print(f"  no memristors in the network (resistors only); energy dissipated {energy:.4g} J")
    for n in net.outputs:
        cur = res.terminal_current(n)
        print(f"  output {n!r}: current at end {cur[-1]:+.4g} A, peak |I| {np.abs(cur).max():.4g} A")
    fig = summary_figure(res, edge=0)
    fig.savefig(args.out, dpi=120)
    print(f"  figure written to {args.out}")
    return 0


def _count(name: str, low: int = 1):
    def parse(text: str) -> int:
        try:
            val = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name} must be an integer, got {text!r}") from None
        if val < low:
            raise argparse.ArgumentTypeError(f"{name} must be an integer >= {low}, got {text!r}")
        return val

    return parse


TASK_HELP = ("association:F0,F1,... (input i -> output Fi), boolean:and|or|xor|nand|nor|xnor (with a bias "
             "input), parity:N (N bits + bias), random:P (P random binary patterns), perceptron:P "
             "(P analogue patterns + bias)")


def _task(spec: str, n_inputs: int, n_outputs: int, seed: int):
    """Parse a task specification (see ``TASK_HELP``) and check it fits the network."""
    from memsim.learning import tasks

    kind, _, arg = spec.partition(":")
    try:
        if kind == "association":
            task = tasks.association([int(a) for a in arg.split(",")] if arg else list(range(n_inputs)), n_outputs)
        elif kind == "boolean":
            task = tasks.boolean(arg)  # type: ignore[arg-type]
        elif kind == "parity":
            task = tasks.parity(int(arg))
        elif kind == "random":
            task = tasks.random_patterns(n_inputs, n_outputs, int(arg), seed=seed)
        elif kind == "perceptron":
            task = tasks.perceptron(n_inputs - 1, int(arg), seed=seed)
        else:
            raise UsageError(f"--task: unknown kind {kind!r}; use {TASK_HELP}")
    except ValueError as exc:
        raise UsageError(f"--task {spec!r}: {exc}") from None
    if task.n_inputs != n_inputs or task.n_outputs != n_outputs:
        raise UsageError(f"--task {spec!r} needs {task.n_inputs} inputs and {task.n_outputs} outputs, "
                         f"but --layers gives {n_inputs} and {n_outputs}")
    return task


#: A pulse that moves no device state by more than this (of the [0, 1] range) cannot teach anything.
MIN_PULSE_EFFECT = 1e-3


def _check_pulses_move(net, pulses, device: str) -> None:
    """UsageError unless the punishing or the normalising pulse moves some device state noticeably.

    Both pulses are applied to the bare network (no source resistance, so the
    devices see at least the voltage they would in the hardware) from states
    0.5, each alone: a punishment of output 1 for all inputs driven, and a
    normalisation. The learning-from-mistakes defaults are timed for VTEAM
    devices. Where the compiled loop applies, it applies the pulses (so a
    first run compiles one kernel, not two); elsewhere ``simulate`` does.
    """
    import numpy as np

    from memsim.learning import Controller, Pattern, Task, build_hardware
    from memsim.learning import compiled as cl

    inputs, outputs = net.inputs, net.outputs
    hw = build_hardware(net, x0=0.5, source_resistance=0.0)
    probe = Task("probe", len(inputs), len(outputs), (Pattern((1.0,) * len(inputs), 0),))
    controller = Controller(pulses=pulses)
    packed = cl.configurations(hw, probe, controller)
    dyn = hw.memristors
    moved = 0.0
    if cl.unsupported(hw, controller, packed) is None:
        for durations in ((0.0, pulses.punish_duration, 0.0), (0.0, 0.0, pulses.normalise_duration)):
            if max(durations) > 0:
                out = cl.present(hw, packed, np.zeros((1, 1), dtype=np.int64), np.ones(1, dtype=bool), controller,
                                 durations=durations, forced=1)
                moved = max(moved, float(np.max(np.abs(out.x - hw.x)[:, dyn], initial=0.0)))
    else:
        from memsim import Segment, simulate

        for volts, duration, ground in ((-pulses.punish_voltage, pulses.punish_duration, outputs[1:2]),
                                        (pulses.normalise_voltage, pulses.normalise_duration, outputs)):
            if duration <= 0:
                continue
            seg = Segment(duration, drive={n: volts for n in inputs}, ground=ground)
            res = simulate(net, seg, dt=duration / 200, method=pulses.method, rtol=pulses.rtol, atol=pulses.atol,
                           record=(), x0=np.full(net.n_edges, 0.5))
            moved = max(moved, float(np.max(np.abs(res.x_final - 0.5), initial=0.0)))
    if moved < MIN_PULSE_EFFECT:
        raise UsageError(
            f"the pulses (punish -{pulses.punish_voltage:g} V for {pulses.punish_duration:g} s, normalise "
            f"+{pulses.normalise_voltage:g} V for {pulses.normalise_duration:g} s) move the {device} devices' states "
            f"by at most {moved:.2g}, so nothing can be learned (the defaults are timed for vteam); set "
            "--punish-voltage/--punish-duration/--normalise-voltage/--normalise-duration (and --dt) for this device")


def _train_and_report(args: argparse.Namespace, task, layers: list[int], label: str) -> int:
    import numpy as np

    from memsim import Network, Variability, layered
    from memsim.learning import Controller, Pulses, build_hardware, prune_edges, train

    pulses = Pulses(read_voltage=args.read_voltage, punish_voltage=args.punish_voltage,
                    punish_duration=args.punish_duration, normalise_voltage=args.normalise_voltage,
                    normalise_duration=args.normalise_duration, dt=args.dt, idle_inputs=args.idle_inputs)
    controller = Controller(pulses=pulses, order=args.order, stop_after=args.stop_after, max_eras=args.max_eras)
    net = Network.from_graph(layered(layers, orientation="backward"), _device(args.device))
    var = Variability(d2d=args.d2d, c2c=args.c2c) if (args.d2d or args.c2c) else None
    hw = build_hardware(net, n_copies=args.copies, variability=var, source_resistance=args.source_resistance,
                        prune_below=args.prune_below, seed=args.seed)
    _compile_notice(args, _training_kernels(hw, controller, args.copies, task))
    _check_pulses_move(net, pulses, args.device)
    if args.prune_fraction:
        hw = prune_edges(hw, fraction=args.prune_fraction, seed=args.seed)
    print(f"memsim {label}: {net!r}, {args.device} devices, {args.copies} copies (seed {args.seed})")
    print(f"  task: {task.name} ({len(task)} patterns, order {args.order}); stop after {args.stop_after} "
          f"error-free era(s), at most {args.max_eras}")
    print(f"  pulses: read {pulses.read_voltage:g} V for {pulses.read_duration:g} s; punish "
          f"-{pulses.punish_voltage:g} V for {pulses.punish_duration:g} s; normalise +{pulses.normalise_voltage:g} V "
          f"for {pulses.normalise_duration:g} s; dt {pulses.dt:g} s; source {args.source_resistance:g} ohm")
    t0 = time.perf_counter()
    out = train(hw, task, controller, seed=args.seed, progress=not args.no_progress)
    wall = time.perf_counter() - t0
    k = args.copies
    learned = out.learned
    print(f"  learned: {int(learned.sum())}/{k} copies ({100 * learned.mean():.0f} %) in {out.state.era} era(s), "
          f"{wall:.1f} s")
    if learned.any():
        ptl = out.presentations_to_learn[learned]
        print(f"  presentations to learn: mean {ptl.mean():.1f}, median {np.median(ptl):g}, max {ptl.max():g}; "
              f"mistakes per copy: mean {out.mistakes.mean():.1f}")
    p = out.columns()  # NumPy arrays: the summary needs no pandas
    if p["copy"].size:
        first = p["read_energy"][p["n"] <= len(task)].mean() / pulses.read_duration
        # each copy's last len(task) presentations
        per_copy = np.bincount(p["copy"], minlength=k)
        last = p["read_energy"][p["n"] > per_copy[p["copy"]] - len(task)].mean() / pulses.read_duration
        pun = p["punish_energy"][~p["correct"]]
        print(f"  read power: {first * 1e6:.3g} µW in the first era, {last * 1e6:.3g} µW in the last; "
              f"energy per mistake {pun.mean() if pun.size else 0.0:.3g} J")
    if args.csv:
        out.presentations.to_csv(args.csv, index=False)
        print(f"  presentations written to {args.csv}")
    if args.out:
        import matplotlib

        matplotlib.use("Agg")
        from memsim.plotting import training_figure

        fig = training_figure(out, pulses.read_duration, title=f"{task.name}, layers {layers}")
        fig.savefig(args.out, dpi=110)
        print(f"  figure written to {args.out}")
    return 0


def _cmd_train(args: argparse.Namespace) -> int:
    task = _task(args.task, args.layers[0], args.layers[-1], args.seed)
    return _train_and_report(args, task, args.layers, "train")


def _cmd_demo(args: argparse.Namespace) -> int:
    from memsim.learning import association

    return _train_and_report(args, association((0, 1)), [2, 4, 2], "demo")


def _controller_options(p: argparse.ArgumentParser, copies: int) -> None:
    from memsim.learning.config import Controller, Pulses  # standard library only: --help stays light

    d, c = Pulses(), Controller()
    p.add_argument("--copies", type=_count("--copies"), default=copies, help="networks trained together")
    p.add_argument("--seed", type=_count("--seed", 0), default=0, help="seed of initial states, device spread and orders")
    p.add_argument("--device", choices=DEVICES, default="vteam", help="device model (published parameters)")
    p.add_argument("--max-eras", type=_count("--max-eras"), default=c.max_eras, help="cap on training eras")
    p.add_argument("--stop-after", type=_count("--stop-after"), default=c.stop_after,
                   help="consecutive error-free eras that end training")
    p.add_argument("--order", choices=("alternating", "shuffled"), default=c.order, help="pattern order in an era")
    p.add_argument("--read-voltage", type=_positive("--read-voltage"), default=d.read_voltage, help="read voltage (V)")
    p.add_argument("--punish-voltage", type=_positive("--punish-voltage"), default=d.punish_voltage,
                   help="punishing pulse amplitude (V, applied reversed)")
    p.add_argument("--punish-duration", type=_positive("--punish-duration"), default=d.punish_duration,
                   help="punishing pulse duration (s)")
    p.add_argument("--normalise-voltage", type=_positive("--normalise-voltage"), default=d.normalise_voltage,
                   help="normalising pulse amplitude (V)")
    p.add_argument("--normalise-duration", type=_nonneg("--normalise-duration"), default=d.normalise_duration,
                   help="normalising pulse duration (s); 0 disables it")
    p.add_argument("--dt", type=_positive("--dt"), default=d.dt, help="time step (s)")
    p.add_argument("--idle-inputs", choices=("float", "ground"), default=d.idle_inputs,
                   help="inputs a pattern does not drive")
    p.add_argument("--source-resistance", type=_nonneg("--source-resistance"), default=50.0,
                   help="series resistance of each input terminal (ohm)")
    p.add_argument("--prune-below", type=_nonneg("--prune-below"), default=0.0,
                   help="devices whose conductance falls below this (S) open for good; 0 = off")
    p.add_argument("--prune-fraction", type=_nonneg("--prune-fraction"), default=0.0,
                   help="fraction of edges removed at random (per copy) before training")
    p.add_argument("--d2d", type=_nonneg("--d2d"), default=0.0, help="device-to-device spread (log-normal sigma)")
    p.add_argument("--c2c", type=_nonneg("--c2c"), default=0.0, help="cycle-to-cycle rate noise (log-normal sigma)")
    p.add_argument("--csv", default=None, help="write the per-presentation history to this CSV file")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


def _cmd_export_spice(args: argparse.Namespace) -> int:
    from memsim.spice import to_spice

    net = _network(args)
    text = to_spice(net, _sine_protocol(net, args), dt=args.dt)
    with open(args.out, "w") as fh:
        fh.write(text)
    print(f"memsim export-spice: {net!r} -> {args.out} ({len(text.splitlines())} lines); "
          f"run it with: ngspice -b {args.out}")
    return 0


def _controller_configurations(net, seed: int):
    """Hardware at random states and every configuration the controller may apply to it."""
    from memsim.analysis import controller_configurations
    from memsim.learning import build_hardware

    hw = build_hardware(net, n_copies=1, x0="random", seed=seed)
    return hw, controller_configurations(hw)


def _cmd_controllability(args: argparse.Namespace) -> int:
    from memsim.analysis import controllability

    net = _network(args, orientation="backward")
    if not net.outputs:
        raise UsageError("the network has no node with role 'output'")
    hw, cfgs = _controller_configurations(net, args.seed)
    c = controllability(hw.circuit, cfgs, x=hw.x[0])
    print(f"memsim controllability: {net!r}; {len(cfgs)} controller configurations "
          f"(read and punish per one-input pattern, normalise) at random states (seed {args.seed})")
    print(f"  rank {c.rank} of {c.n_dynamic} devices (normalised {c.normalised_rank:.3f}); "
          f"terminal-to-device-voltage map rank {c.voltage_map_rank}")
    print(f"  smallest non-zero singular values: {', '.join(f'{v:.3g}' for v in c.smallest_nonzero)}; "
          f"condition number {c.condition_number:.3g}")
    if args.out:
        import matplotlib

        matplotlib.use("Agg")
        from memsim.plotting import plot_controllability_spectrum

        plot_controllability_spectrum(c).figure.savefig(args.out, dpi=120)
        print(f"  figure written to {args.out}")
    return 0


def _cmd_capacity(args: argparse.Namespace) -> int:
    import numpy as np

    from memsim.analysis import empirical_capacity, structural_capacity
    from memsim.learning import Controller, build_hardware

    net = _network(args, orientation="backward")
    if not net.outputs:
        raise UsageError("the network has no node with role 'output'")
    print(f"memsim capacity: {net!r}")
    m = net.n_edges
    cases = (("uniform states (0.5)", np.full(m, 0.5)),
             (f"random states (seed {args.seed})", np.random.default_rng(args.seed).random(m)))
    for label, states in cases:
        sc = structural_capacity(net, x=states)
        print(f"  structural, {label}: input-output response rank {sc.io_rank} of {sc.io_entries}; "
              f"full terminal response rank {sc.jacobian_rank} of {sc.independent_entries}")
    if not args.empirical:
        return 0
    if len(net.outputs) < 2:
        raise UsageError("--empirical needs a network with at least 2 outputs")
    controller = Controller(max_eras=args.max_eras)
    # empirical_capacity trains hardware built as build_hardware builds it by default
    _compile_notice(args, _training_kernels(build_hardware(net), controller, args.copies))
    t0 = time.perf_counter()
    res = empirical_capacity(net, tasks=args.tasks, p_max=args.p_max, n_sets=args.n_sets, copies=args.copies,
                             controller=controller, threshold=args.threshold,
                             seed=args.seed, progress=not args.no_progress, workers=args.workers)
    print(f"  empirical ({args.tasks} pattern sets, {args.n_sets} sets x {args.copies} copies per p, random "
          f"initial states, seed {args.seed}, {time.perf_counter() - t0:.1f} s): capacity {res.capacity} "
          f"(largest p with P(learned) >= {args.threshold:g}), mean learnable patterns {res.mean_learnable:.2f}"
          + (f", stopped early at p = {int(res.p[-1])} of {res.p_limit}" if res.stopped_early else ""))
    for row in res.table().itertuples():
        print(f"    p = {row.p}: P(learned) = {row.probability:.2f} [{row.low:.2f}, {row.high:.2f}] "
              f"({row.successes}/{row.n_trials})")
    if args.csv:
        res.table().to_csv(args.csv, index=False)
        print(f"  table written to {args.csv}")
    return 0


#: Exit status of ``memsim sweep`` when every point ran but some failed (their rows hold the error).
EXIT_POINTS_FAILED = 1


def _cmd_sweep(args: argparse.Namespace) -> int:
    from memsim.sweep import load_sweep

    sweep = load_sweep(args.spec)  # a spec names registered tasks only: it never imports code
    out = args.out or os.path.join("results", sweep.name)  # the name is a checked slug
    if args.scheduler is not None:
        try:
            import distributed  # noqa: F401
        except ImportError:
            raise UsageError("--scheduler needs dask.distributed: pip install 'memsim[dask]'") from None
    if args.quick:
        from memsim.sweep import ListSpace

        sweep = type(sweep)(sweep.function, ListSpace(sweep.space.points()[:2]), sweep.defaults, sweep.name)
    t0 = time.perf_counter()
    table = sweep.run(out, workers=args.workers, scheduler=args.scheduler, progress=not args.no_progress,
                      max_points=args.max_points)
    wall = time.perf_counter() - t0
    ok = int((table["status"] == "ok").sum())
    print(f"memsim sweep: {sweep.name}: {len(table)} points ({ok} ok, {len(table) - ok} failed) "
          f"in {wall:.1f} s; results in {out}/ (read with memsim.sweep.load)")
    if ok < len(table):
        first = table.loc[table["status"] != "ok", "error"].iloc[0]
        print(f"memsim sweep: error: {len(table) - ok} point(s) failed (first: {first}); exit status "
              f"{EXIT_POINTS_FAILED}", file=sys.stderr)
        return EXIT_POINTS_FAILED
    return 0


def _cmd_search(args: argparse.Namespace) -> int:
    from memsim.sweep.search import load_search

    spec = load_search(args.spec)  # names a registered task only: it never imports code
    out = args.out or os.path.join("results", spec.name)  # the name is a checked slug
    max_evals = args.max_evals if args.max_evals is not None else spec.max_evals
    if args.method is not None:
        spec = dataclasses.replace(spec, method=args.method)
    if spec.method == "cbo":
        try:
            import deephyper  # noqa: F401
        except ImportError:
            raise UsageError('method "cbo" needs DeepHyper: pip install "memsim[search]" (or --method random)') from None
    t0 = time.perf_counter()
    table = spec.run(out, max_evals=max_evals, workers=args.workers, progress=not args.no_progress)
    ok = table[table["status"] == "ok"]
    print(f"memsim search: {spec.name} ({spec.method}): {len(table)} evaluations ({len(ok)} ok) in "
          f"{time.perf_counter() - t0:.1f} s; results in {out}/ (read with memsim.sweep.load)")
    if len(ok):
        best = ok.loc[pd_to_numeric(ok[spec.objective]).idxmax()]
        params = {k: (best[k].item() if hasattr(best[k], "item") else best[k])
                  for k in spec.space.params if k in best and best[k] == best[k]}
        print(f"memsim search: best {spec.objective} = {best[spec.objective]:.6g} at {params}")
    if len(ok) < len(table):
        first = table.loc[table["status"] != "ok", "error"].iloc[0]
        print(f"memsim search: error: {len(table) - len(ok)} evaluation(s) failed (first: {first}); exit status "
              f"{EXIT_POINTS_FAILED}", file=sys.stderr)
        return EXIT_POINTS_FAILED
    return 0


def pd_to_numeric(col):
    import pandas as pd

    return pd.to_numeric(col, errors="coerce")


def _cmd_plot(args: argparse.Namespace) -> int:
    import matplotlib

    matplotlib.use("Agg")
    import pandas as pd

    from memsim.plotting import plot_sweep_heatmap

    if os.path.isdir(args.results):
        from memsim.sweep import load

        table = load(args.results)
    elif os.path.isfile(args.results):
        table = pd.read_csv(args.results)
    else:
        raise UsageError(f"no such results file or directory: {args.results!r}")
    if "status" in table.columns:
        table = table[table["status"] == "ok"]
    for col in (args.x, args.value) + ((args.y,) if args.y else ()):
        if col not in table.columns:
            raise UsageError(f"column {col!r} is not in the results (columns: {', '.join(map(str, table.columns))})")
    if args.y is not None and args.y == args.x:
        raise UsageError(f"--x and --y name the same column {args.x!r}; a heat map needs two different parameters")
    if args.value in (args.x, args.y):
        raise UsageError(f"--value {args.value!r} is also an axis; choose an output column")
    values = pd.to_numeric(table[args.value], errors="coerce")
    if not len(table):
        raise UsageError(f"{args.results}: no rows with status 'ok' to plot")
    if values.isna().all():
        raise UsageError(f"--value: column {args.value!r} holds no numbers (e.g. {table[args.value].iloc[0]!r})")
    table = table.assign(**{args.value: values})
    if args.y:
        ax = plot_sweep_heatmap(table, args.x, args.y, args.value)
    else:
        import matplotlib.pyplot as plt

        grp = table.groupby(args.x)[args.value]
        _, ax = plt.subplots()
        ax.errorbar(grp.mean().index, grp.mean().to_numpy(), yerr=grp.std().fillna(0).to_numpy(), marker="o", capsize=3)
        ax.set_xlabel(args.x)
        ax.set_ylabel(args.value)
    ax.figure.savefig(args.out, dpi=120)
    print(f"memsim plot: {len(table)} rows of {args.results} -> {args.out}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="memsim", description="Simulate memristive circuits.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    sim = sub.add_parser(
        "simulate",
        help="simulate a built-in example network under a sine drive",
        description="Simulate a layered memristive network driven by a sine on its first input.",
        epilog="example: memsim simulate --layers 2,4,2 --device hp-joglekar --duration 2 --out sim.png",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    _network_options(sim, "hp-joglekar")
    sim.add_argument("--amplitude", type=_positive("--amplitude"), default=1.0, help="sine amplitude (V)")
    sim.add_argument("--frequency", type=_positive("--frequency"), default=1.0, help="sine frequency (Hz)")
    sim.add_argument("--duration", type=_positive("--duration"), default=2.0, help="simulated time (s)")
    sim.add_argument("--dt", type=_positive("--dt"), default=1e-3, help="time step (s)")
    sim.add_argument("--method", choices=("euler", "heun", "rk4", "adaptive"), default="rk4")
    sim.add_argument("--out", default="memsim-simulate.png", help="figure file to write")
    sim.add_argument("--progress", action="store_true", help="show a progress bar")
    sim.add_argument("--max-steps", type=_positive("--max-steps"), default=1e8,
                     help="refuse runs of more time steps (1e8 steps of the default network take about a minute)")
    sim.set_defaults(func=_cmd_simulate)

    demo = sub.add_parser(
        "demo",
        help="train the 2-4-2 network of Barrows et al. (2024) on its 2-pattern task",
        description="The main job: train 2-4-2 memristive networks (VTEAM devices) to map input 0 to output 0 "
                    "and input 1 to output 1 by learning from mistakes; prints a summary and writes a figure "
                    "(learning curve and read power per presentation).",
        epilog="example: memsim demo --copies 20 --seed 1 --out demo.png",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    _controller_options(demo, copies=20)
    demo.add_argument("--out", default="memsim-demo.png", help="figure file to write")
    demo.add_argument("--no-figure", dest="out", action="store_const", const=None,
                      help="write no figure (the summary alone: ~1 s less, matplotlib is not imported)")
    demo.set_defaults(func=_cmd_demo)

    tr = sub.add_parser(
        "train",
        help="train layered memristive networks on a task by learning from mistakes",
        description="Train K copies of a layered memristive network (orientation chosen so that the "
                    f"forward pulse potentiates) on a task. Tasks: {TASK_HELP}.",
        epilog="examples: memsim train --layers 2,4,2 --task association:1,0 --copies 10\n"
               "          memsim train --layers 2,6,2 --task random:2 --out random2.png\n"
               "(measured: 10/10 copies learn each, in about 20 s and 30 s)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    tr.add_argument("--layers", type=_layers, default=[2, 4, 2], help="layer sizes, comma-separated (default 2,4,2)")
    tr.add_argument("--task", default="association:0,1", help="task specification (default association:0,1)")
    _controller_options(tr, copies=10)
    tr.add_argument("--out", default=None, help="figure file to write (none by default)")
    tr.set_defaults(func=_cmd_train)

    fmt = argparse.ArgumentDefaultsHelpFormatter
    ex = sub.add_parser("export-spice", help="write an ngspice netlist of a network under a sine drive",
                        description="Export a network and the sine-drive protocol of 'memsim simulate' as an "
                                    "ngspice netlist (behavioural memristors, exact numbers).",
                        epilog="example: memsim export-spice --layers 2,4,2 --duration 0.1 --dt 1e-4 --out net.cir",
                        formatter_class=fmt)
    _network_options(ex, "hp-joglekar")
    ex.add_argument("--amplitude", type=_positive("--amplitude"), default=1.0, help="sine amplitude (V)")
    ex.add_argument("--frequency", type=_positive("--frequency"), default=1.0, help="sine frequency (Hz)")
    ex.add_argument("--duration", type=_positive("--duration"), default=2.0, help="simulated time (s)")
    ex.add_argument("--dt", type=_positive("--dt"), default=1e-3, help="output step and largest step (s)")
    ex.add_argument("--out", default="memsim.cir", help="netlist file to write")
    ex.set_defaults(func=_cmd_export_spice)

    co = sub.add_parser("controllability", help="controllability of the device states through the controller's pulses",
                        description="Rank and spectrum of the control Gramian accumulated over the read, punish and "
                                    "normalise configurations of the learning-from-mistakes controller.",
                        epilog="example: memsim controllability --layers 2,4,2 --seed 1 --out spectrum.png",
                        formatter_class=fmt)
    _network_options(co, "vteam")
    co.add_argument("--out", default=None, help="write the spectrum figure to this file")
    co.set_defaults(func=_cmd_controllability)

    ca = sub.add_parser("capacity", help="structural (and empirical) capacity of a network",
                        description="Rank of the terminal-response Jacobian (input-output block and full) at "
                                    "uniform and at random device states; with --empirical, train the "
                                    "learning-from-mistakes controller on random pattern sets of growing size p "
                                    "and report P(learned | p) with Wilson intervals.",
                        epilog="example: memsim capacity --layers 2,4,2 --empirical --n-sets 8 --csv cap.csv",
                        formatter_class=fmt)
    _network_options(ca, "vteam")
    ca.add_argument("--empirical", action="store_true", help="also measure the empirical capacity by training")
    ca.add_argument("--tasks", choices=("random", "association"), default="random",
                    help="pattern sets: random binary patterns, or one input per pattern")
    ca.add_argument("--p-max", type=_count("--p-max"), default=None, help="largest p (None: up to the number of distinct patterns)")
    ca.add_argument("--n-sets", type=_count("--n-sets"), default=16, help="random pattern sets per p")
    ca.add_argument("--copies", type=_count("--copies"), default=2, help="hardware copies (seeds) per set")
    ca.add_argument("--max-eras", type=_count("--max-eras"), default=20, help="era cap of the controller per set")
    ca.add_argument("--threshold", type=_positive("--threshold"), default=0.5, help="P(learned | p) a size needs")
    ca.add_argument("--workers", type=_count("--workers"), default=1,
                    help="processes training pattern sets in parallel (same numbers for any value)")
    ca.add_argument("--csv", default=None, help="write the P(learned | p) table to this CSV file")
    ca.add_argument("--no-progress", action="store_true", help="no progress bar")
    ca.set_defaults(func=_cmd_capacity)

    sw = sub.add_parser("sweep", help="run a sweep declared in a TOML file (resumable)",
                        description="Run a sweep (see memsim.sweep) declared in TOML; results are written "
                                    "incrementally and a rerun skips completed points. A spec file is data: "
                                    "its 'function' must be a registered task (transient, codesign, or one "
                                    "registered with memsim.sweep.register_task or the 'memsim.tasks' entry "
                                    "point). Exit status: 0 when every point is ok, "
                                    f"{EXIT_POINTS_FAILED} when some failed (all results are written), 2 for "
                                    "bad input. Example specs are in the examples/ folder of the source tree.",
                        epilog="example: memsim sweep examples/transient-grid.toml --workers 2 --out results/grid",
                        formatter_class=fmt)
    sw.add_argument("spec", help="TOML file declaring the sweep")
    sw.add_argument("--out", default=None, help="results directory (default results/<name>)")
    sw.add_argument("--workers", type=_count("--workers"), default=None, help="worker processes (default: cores)")
    sw.add_argument("--scheduler", default=None,
                    help="dask.distributed scheduler address (tcp://host:port); it must be trusted: "
                         "dask exchanges pickles, which run code")
    sw.add_argument("--max-points", type=_count("--max-points"), default=1_000_000,
                    help="refuse sweeps of more points than this")
    sw.add_argument("--quick", action="store_true", help="run only the first two points (a smoke test)")
    sw.add_argument("--no-progress", action="store_true", help="no progress bar")
    sw.set_defaults(func=_cmd_sweep)

    se = sub.add_parser("search", help="run a model-based (or random) search declared in a TOML file (resumable)",
                        description="Maximise one output of a registered task over a search space declared in TOML "
                                    "(format: memsim.sweep.search.SearchSpec) with DeepHyper's model-based search "
                                    "(method 'cbo', needs memsim[search]) or random search. Every evaluation is "
                                    "written as it finishes; a rerun resumes. Exit status: 0 when every evaluation "
                                    f"is ok, {EXIT_POINTS_FAILED} when some failed, 2 for bad input.",
                        epilog="example: memsim search examples/search/rules-digits.toml --max-evals 12 "
                               "--out results/rules-digits",
                        formatter_class=fmt)
    se.add_argument("spec", help="TOML file declaring the search")
    se.add_argument("--out", default=None, help="results directory (default results/<name>)")
    se.add_argument("--max-evals", type=_count("--max-evals"), default=None,
                    help="total evaluations, stored ones included (default: the spec's)")
    se.add_argument("--method", choices=("cbo", "random"), default=None, help="override the spec's method")
    se.add_argument("--workers", type=_count("--workers"), default=None,
                    help="evaluations run at once (default: the spec's)")
    se.add_argument("--no-progress", action="store_true", help="no progress bar")
    se.set_defaults(func=_cmd_search)

    pl = sub.add_parser("plot", help="plot sweep results (heat map or line)",
                        description="Plot one output of a sweep (results directory or CSV) against one or two parameters. "
                                    "The example plots the results of the example of 'memsim sweep --help'.",
                        epilog="example: memsim plot results/grid --x amplitude --y frequency --value energy --out map.png",
                        formatter_class=fmt)
    pl.add_argument("results", help="sweep results directory or CSV file")
    pl.add_argument("--x", required=True, help="parameter on the x axis")
    pl.add_argument("--y", default=None, help="second parameter (heat map)")
    pl.add_argument("--value", required=True, help="output to plot")
    pl.add_argument("--out", default="memsim-plot.png", help="figure file to write")
    pl.set_defaults(func=_cmd_plot)
    return parser


def _one_line(exc: BaseException) -> str:
    msg = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
    text = " ".join(str(msg).split())
    return text if len(text) <= 2000 else text[:2000] + " ..."


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``memsim`` command.

    Exit status: 0 on success, 2 for bad input (one line on stderr naming the
    option or field), 1 for a sweep with failed points and for an internal
    error (one line; set ``MEMSIM_DEBUG=1`` for the traceback), 130 on Ctrl-C.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    debug = os.environ.get("MEMSIM_DEBUG", "") not in ("", "0")

    def one_line_warning(message, category, filename, lineno, file=None, line=None):
        print(f"memsim {args.command}: warning: {_one_line(Warning(message))}", file=sys.stderr)

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("default")  # shown once, as one line, never raised
            warnings.showwarning = one_line_warning
            return args.func(args)
    except (UsageError, ValueError, KeyError, OSError, ImportError, RecursionError, OverflowError) as exc:
        if debug:
            raise
        print(f"memsim {args.command}: error: {_one_line(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"memsim {args.command}: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # never a traceback on the terminal
        if debug:
            raise
        print(f"memsim {args.command}: internal error: {type(exc).__name__}: {_one_line(exc)} "
              "(set MEMSIM_DEBUG=1 for the traceback; please report it)", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
