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

from dataclasses import dataclass

import numpy as np

from memsim.learning.config import IdleInputs, Pulses
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
