"""Terminal protocols of the learning-from-mistakes controller: read, punish, normalise.

Everything the controller does to the hardware is one of three protocols
(DESIGN.md §3; Barrows, Lin, Caravelli & Chialvo 2024):

- **read** (:func:`read_segment`): drive the pattern's inputs at
  ``level * read_voltage``, ground every output through an ammeter, let idle
  inputs float; the answer is the output that receives the largest current
  (:func:`decide`).
- **punish** (:func:`punish_segment`), the inhibition after a mistake: keep
  only the wrong winner grounded, float the other outputs, and drive the
  pattern's inputs at ``-level * punish_voltage`` (reverse polarity).
- **normalise** (:func:`normalise_segment`): drive every input at
  ``+normalise_voltage`` with every output grounded.

Sign of the output current. ``Result.i_node`` is the current a source
*delivers into* the network; at a grounded output that receives current
from the network it is negative. :func:`output_currents` returns the current
*received* by each output, ``-i_node``, positive in a normal read.

Polarity (default device: :class:`~memsim.devices.models.VTEAM` with the
published parameters of Kvatinsky et al. 2015, ON below ``v_on = -0.2 V``,
OFF above ``v_off = +0.02 V``). The network is built with
``layered(..., orientation="backward")``: every device is oriented from the
output side to the input side, so its voltage is ``v(output side) - v(input
side)``. A positive pulse on the inputs then puts negative voltages on the
devices (ON direction: the normalising pulse potentiates), and the reverse
punishing pulse puts positive voltages on the devices between the pattern's
inputs and the wrong winner (OFF direction: it depresses the devices that
carried the wrong current). Reads are non-destructive: with levels in
``[0, 1]`` every node voltage of a read lies between 0 and ``read_voltage``,
so no device sees more than ``read_voltage = 0.01 V`` of either sign, half the
smaller threshold ``v_off``.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, fields
from typing import Literal

import numpy as np

from memsim.learning.hardware import Hardware
from memsim.learning.tasks import Pattern
from memsim.solve.protocol import Segment
from memsim.solve.result import Result

__all__ = [
    "Pulses",
    "read_segment",
    "punish_segment",
    "normalise_segment",
    "output_currents",
    "decide",
    "Decision",
]

IdleInputs = Literal["float", "ground"]


@dataclass(frozen=True)
class Pulses:
    """Amplitudes, durations and thresholds of the controller's protocols (SI units).

    The defaults make the default hardware (a 2-4-2 ``layered`` network with
    ``orientation="backward"`` of published-parameter VTEAM devices, 50 ohm
    source resistance, uniform random initial states) learn the 2-pattern
    association tasks of Barrows et al. (2024): measured 100 % of 100 seeds
    for each of the four maps, 11-12 presentations on average for the two
    bijective ones (``experiments/lfm_success.py``).

    Attributes
    ----------
    read_voltage : float
        0.01 V: half of VTEAM's OFF threshold ``v_off = 0.02 V`` (and far
        from ``v_on = -0.2 V``), so no device can switch during a read
        whatever the pattern and the states (every node voltage lies between
        0 and the read voltage).
    read_duration : float
        1 ns: long enough to be a measurement (100 steps at the default
        ``dt``); reads change nothing, so it only sets the read energy.
    punish_voltage : float
        0.5 V magnitude, applied with reverse polarity. Along each route
        from the pattern's input to the wrong winner (two devices in series
        in a 2-4-2 net behind the source resistance) the devices see a few
        tenths of a volt, about 10x ``v_off``, so they depress at roughly
        ``k_off / d * (v / v_off - 1) ~ 1e6 /s``; the weaker device of a
        route (the larger resistance) takes the larger share and moves most,
        which cuts the route where it is already weakest.
    punish_duration : float
        100 ns: at ~1e6 /s this moves a device by a few tenths of its range,
        enough to turn the margin of the punished pattern around in a few
        mistakes but not to drive a whole route to the OFF bound at once.
    normalise_voltage : float
        0.6 V on every input, outputs grounded. The ON threshold is crossed
        only where a device takes more than 0.2 V. With the 50 ohm source
        resistance the share of the pulse that reaches the devices falls as
        the network's conductance rises, which gives a set point: a
        depressed network (devices near ``r_off``) is potentiated, a network
        at about 0.3-0.6 of its range is left nearly alone. Lower amplitudes
        (0.45-0.55 V) let repeated punishments drive the whole network OFF,
        where it can no longer learn; higher ones (>= 0.7 V) undo more of
        each punishment.
    normalise_duration : float
        1 ns: VTEAM's ON switching is fast (``k_on = -10 m/s`` over
        ``d = 3 nm``, up to ~1e9-1e10 /s a few tenths of a volt past ``v_on``),
        so 1 ns suffices to restore a depressed network.
    dt : float
        1e-11 s: resolves the ON switching (at most ~0.1 of the state range
        per step at the largest normalising voltages); halving it changes the
        learning outcome of the default task in no seed tested.
    method : {"euler", "heun", "rk4"}
        Fixed-step scheme of :func:`memsim.simulate` (default ``"rk4"``).
    idle_inputs : {"float", "ground"}
        What the inputs that a pattern does not drive do in reads and
        punishments: float (default; the paper biases only the pattern's
        inputs) or sit at 0 V.
    resolution : float
        1e-9 A: the ammeter's resolution. An output wins only if its current
        exceeds every other by more than this; otherwise there is no answer,
        which counts as a mistake (so exactly symmetric networks never pass
        by a tie-break).

    Examples
    --------
    >>> Pulses().read_voltage
    0.01
    >>> Pulses(punish_voltage=-1.0)
    Traceback (most recent call last):
    ...
    ValueError: Pulses.punish_voltage must be a finite number > 0, got -1.0
    """

    read_voltage: float = 0.01  # V
    read_duration: float = 1e-9  # s
    punish_voltage: float = 0.5  # V, magnitude (applied reversed)
    punish_duration: float = 100e-9  # s
    normalise_voltage: float = 0.6  # V
    normalise_duration: float = 1e-9  # s, 0 disables the normalising pulse
    dt: float = 1e-11  # s
    method: Literal["euler", "heun", "rk4"] = "rk4"
    idle_inputs: IdleInputs = "float"
    resolution: float = 1e-9  # A

    def __post_init__(self) -> None:
        for f in fields(self):
            val = getattr(self, f.name)
            if f.name in ("method", "idle_inputs"):
                continue
            ok = isinstance(val, numbers.Real) and not isinstance(val, bool) and math.isfinite(val)
            allow_zero = f.name in ("normalise_duration", "resolution")
            if not ok or val < 0 or (val == 0 and not allow_zero):
                what = ">= 0" if allow_zero else "> 0"
                raise ValueError(f"Pulses.{f.name} must be a finite number {what}, got {val!r}")
        if self.method not in ("euler", "heun", "rk4"):
            raise ValueError(f"Pulses.method must be 'euler', 'heun' or 'rk4', got {self.method!r}")
        if self.idle_inputs not in ("float", "ground"):
            raise ValueError(f"Pulses.idle_inputs must be 'float' or 'ground', got {self.idle_inputs!r}")


def _drive(hw: Hardware, pattern: Pattern, amplitude: float, idle: IdleInputs) -> tuple[dict, list]:
    if len(pattern.levels) != len(hw.inputs):
        raise ValueError(f"pattern has {len(pattern.levels)} levels but the hardware has {len(hw.inputs)} inputs")
    drive = {t: amplitude * lv for t, lv in zip(hw.inputs, pattern.levels) if lv > 0}
    idle_nodes = [t for t, lv in zip(hw.inputs, pattern.levels) if lv == 0] if idle == "ground" else []
    return drive, idle_nodes


def read_segment(hw: Hardware, pattern: Pattern, pulses: Pulses) -> Segment:
    """The read of a pattern: its inputs at ``level * read_voltage``, all outputs grounded.

    Examples
    --------
    >>> from memsim import Network, layered, VTEAM
    >>> from memsim.learning.hardware import build_hardware
    >>> hw = build_hardware(Network.from_graph(layered([2, 4, 2], orientation="backward"), VTEAM()), seed=0)
    >>> seg = read_segment(hw, Pattern((1.0, 0.0), 0), Pulses())
    >>> dict(seg.drive), seg.ground
    ({('source', ('in', 0)): 0.01}, (('out', 0), ('out', 1)))
    """
    drive, idle = _drive(hw, pattern, pulses.read_voltage, pulses.idle_inputs)
    return Segment(pulses.read_duration, drive=drive, ground=list(hw.outputs) + idle, label="read")


def punish_segment(hw: Hardware, pattern: Pattern, wrong: int, pulses: Pulses) -> Segment:
    """Inhibition: only output ``wrong`` grounded, the pattern's inputs at ``-level * punish_voltage``.

    Examples
    --------
    >>> from memsim import Network, layered, VTEAM
    >>> from memsim.learning.hardware import build_hardware
    >>> hw = build_hardware(Network.from_graph(layered([2, 4, 2], orientation="backward"), VTEAM()), seed=0)
    >>> seg = punish_segment(hw, Pattern((1.0, 0.0), 0), 1, Pulses())
    >>> dict(seg.drive), seg.ground
    ({('source', ('in', 0)): -0.5}, (('out', 1),))
    """
    if not 0 <= wrong < len(hw.outputs):
        raise ValueError(f"wrong must be an output index in [0, {len(hw.outputs)}), got {wrong!r}")
    drive, idle = _drive(hw, pattern, -pulses.punish_voltage, pulses.idle_inputs)
    return Segment(pulses.punish_duration, drive=drive, ground=[hw.outputs[wrong]] + idle, label="punish")


def normalise_segment(hw: Hardware, pulses: Pulses) -> Segment:
    """Normalisation: every input at ``+normalise_voltage``, every output grounded.

    Examples
    --------
    >>> from memsim import Network, layered, VTEAM
    >>> from memsim.learning.hardware import build_hardware
    >>> hw = build_hardware(Network.from_graph(layered([2, 4, 2], orientation="backward"), VTEAM()), seed=0)
    >>> sorted(normalise_segment(hw, Pulses()).drive.values())
    [0.6, 0.6]
    """
    if pulses.normalise_duration <= 0:
        raise ValueError("normalise_segment: Pulses.normalise_duration is 0 (normalisation disabled)")
    drive = {t: pulses.normalise_voltage for t in hw.inputs}
    return Segment(pulses.normalise_duration, drive=drive, ground=list(hw.outputs), label="normalise")


def output_currents(result: Result, hw: Hardware) -> np.ndarray:
    """(K, n_outputs) current *received* by each output at the end of a read (A).

    ``-Result.i_node`` at the output nodes, from the last sample: positive
    when current flows from the network into the grounded output.

    Examples
    --------
    >>> from memsim import Network, layered, VTEAM
    >>> from memsim.learning.hardware import build_hardware
    >>> hw = build_hardware(Network.from_graph(layered([1, 2], orientation="backward"), VTEAM()), x0=1.0,
    ...                     source_resistance=0.0)
    >>> _, res = hw.run(read_segment(hw, Pattern((1.0,), 0), Pulses()), dt=1e-11)
    >>> output_currents(res, hw).round(9).tolist()  # 0.01 V over 50 ohm into each output
    [[0.0002, 0.0002]]
    """
    idx = hw.circuit.index_of(list(hw.outputs))
    i_node = result.i_node if result.ensemble else result.i_node[:, None]
    return -np.asarray(i_node[-1][:, idx])


@dataclass(frozen=True, eq=False)
class Decision:
    """What the controller concludes from a read of K copies.

    Attributes
    ----------
    answer : (K,) winning output, -1 where the top two are within the resolution.
    correct : (K,) bool, ``answer == target``.
    wrong : (K,) the output to punish where incorrect: the strongest output
        other than the target (-1 where correct).
    margin : (K,) ``|I_target| - max_{k != target} |I_k|`` (A).
    """

    answer: np.ndarray
    correct: np.ndarray
    wrong: np.ndarray
    margin: np.ndarray


def decide(currents: np.ndarray, targets: np.ndarray | int, resolution: float = 0.0) -> Decision:
    """Winner-take-all on output current magnitudes.

    The answer is the output with the largest ``|I|`` if it beats every
    other output by more than ``resolution`` (A), else ``-1`` (no answer).

    Examples
    --------
    >>> d = decide(np.array([[2e-6, 1e-6], [1e-6, 3e-6]]), np.array([0, 0]))
    >>> d.answer.tolist(), d.correct.tolist(), d.wrong.tolist()
    ([0, 1], [True, False], [-1, 1])
    >>> decide(np.array([[1e-6, 1e-6]]), 0, resolution=1e-9).answer.tolist()
    [-1]
    """
    mag = np.abs(np.asarray(currents, dtype=float))
    if mag.ndim != 2 or mag.shape[1] < 2:
        raise ValueError(f"currents must have shape (K, n_outputs >= 2), got {mag.shape}")
    k = mag.shape[0]
    tg = np.broadcast_to(np.asarray(targets, dtype=np.int64), (k,))
    rows = np.arange(k)
    order = np.argsort(-mag, axis=1, kind="stable")
    best, second = mag[rows, order[:, 0]], mag[rows, order[:, 1]]
    answer = np.where(best - second > resolution, order[:, 0], -1)
    others = mag.copy()
    others[rows, tg] = -np.inf
    strongest_other = np.argmax(others, axis=1)
    margin = mag[rows, tg] - others[rows, strongest_other]
    correct = answer == tg
    return Decision(answer, correct, np.where(correct, -1, strongest_other), margin)
