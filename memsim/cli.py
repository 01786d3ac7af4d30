"""The ``memsim`` command line (thin over the library).

Errors in the user's input end with a one-line message on stderr and exit
code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence

import numpy as np

__all__ = ["main"]

DEVICES = ("hp", "hp-joglekar", "vteam", "ctdv", "gms")


class UsageError(Exception):
    """A problem with the user's input, reported in one line."""


class _Parser(argparse.ArgumentParser):
    """argparse, but errors are one line (no usage dump) with exit code 2."""

    def error(self, message: str):  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def _layers(text: str) -> list[int]:
    try:
        sizes = [int(s) for s in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"--layers must be comma-separated integers, got {text!r}") from None
    if len(sizes) < 2 or min(sizes) < 1:
        raise argparse.ArgumentTypeError(f"--layers needs at least two positive sizes, got {text!r}")
    return sizes


def _positive(name: str):
    def parse(text: str) -> float:
        try:
            val = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name} must be a number, got {text!r}") from None
        if not np.isfinite(val) or val <= 0:
            raise argparse.ArgumentTypeError(f"{name} must be a finite number > 0, got {text!r}")
        return val

    return parse


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


def _cmd_simulate(args: argparse.Namespace) -> int:
    import matplotlib

    matplotlib.use("Agg")
    from memsim import Network, Segment, Sine, layered, simulate
    from memsim.plotting import summary_figure

    graph = layered(args.layers)
    net = Network.from_graph(graph, _device(args.device), x0="random", seed=args.seed)
    compiled = net.compile()
    inputs = net.inputs
    drive = {inputs[0]: Sine(args.amplitude, args.frequency)}
    protocol = [Segment(args.duration, drive=drive, ground=inputs[1:] + net.outputs, label="sine")]
    print(f"memsim simulate: {net!r}, device {args.device}, {args.method} with dt = {args.dt:g} s")
    print(f"  drive: {args.amplitude:g} V sine at {args.frequency:g} Hz on {inputs[0]!r}, "
          f"other inputs and all outputs grounded, for {args.duration:g} s")
    t0 = time.perf_counter()
    res = simulate(compiled, protocol, dt=args.dt, method=args.method,
                   record_every=max(1, int(round(args.duration / args.dt / 2000))), progress=args.progress)
    wall = time.perf_counter() - t0
    st = res.stats
    x = res.x_final[compiled.dynamic]
    print(f"  {st['steps']} steps, {st['solves']} solves ({st['engine']}) in {wall:.3f} s "
          f"(numba compilation included on the first run)")
    print(f"  final states: mean {x.mean():.4f}, min {x.min():.4f}, max {x.max():.4f}; "
          f"energy dissipated {float(res.energy()):.4g} J")
    for n in net.outputs:
        cur = res.terminal_current(n)
        print(f"  output {n!r}: current at end {cur[-1]:+.4g} A, peak |I| {np.abs(cur).max():.4g} A")
    fig = summary_figure(res, edge=0)
    fig.savefig(args.out, dpi=120)
    print(f"  figure written to {args.out}")
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
    sim.add_argument("--layers", type=_layers, default=[2, 4, 2], help="layer sizes, comma-separated")
    sim.add_argument("--device", choices=DEVICES, default="hp-joglekar", help="device model (published parameters)")
    sim.add_argument("--amplitude", type=_positive("--amplitude"), default=1.0, help="sine amplitude (V)")
    sim.add_argument("--frequency", type=_positive("--frequency"), default=1.0, help="sine frequency (Hz)")
    sim.add_argument("--duration", type=_positive("--duration"), default=2.0, help="simulated time (s)")
    sim.add_argument("--dt", type=_positive("--dt"), default=1e-3, help="time step (s)")
    sim.add_argument("--method", choices=("euler", "heun", "rk4", "adaptive"), default="rk4")
    sim.add_argument("--seed", type=int, default=0, help="seed of the random initial states")
    sim.add_argument("--out", default="memsim-simulate.png", help="figure file to write")
    sim.add_argument("--progress", action="store_true", help="show a progress bar")
    sim.set_defaults(func=_cmd_simulate)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``memsim`` command."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except (UsageError, ValueError, KeyError, OSError) as exc:
        msg = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        print(f"memsim {args.command}: error: {msg}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
