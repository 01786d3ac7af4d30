"""Configuration of the learning-from-mistakes controller: :class:`Pulses` and :class:`Controller`.

Frozen dataclasses of parameters only, importing nothing but the standard
library, so that the command line can show their defaults without loading
the numerical stack. :mod:`memsim.learning.inhibition` and
:mod:`memsim.learning.lfm` re-export them (their historical home).
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, fields
from typing import Literal

__all__ = ["Pulses", "Controller"]

IdleInputs = Literal["float", "ground"]
Order = Literal["alternating", "shuffled"]


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
        depressed network (devices near ``r_off``) is potentiated up to it,
        a network above it is left alone (for a uniform 2-4-2 net at 0.6 V
        and 50 ohm the set point is 5 mS, device state ~0.84; measured and in
        closed form in ``experiments/codesign_hardware.py``). Lower amplitudes
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
    method : {"adaptive", "euler", "heun", "rk4"}
        Integration scheme of :func:`memsim.simulate`. ``"adaptive"``
        (default) takes its own steps (Bogacki–Shampine 3(2), threshold and
        bound crossings located; :mod:`memsim.solve.adaptive`) to the
        tolerances ``rtol``/``atol``; ``dt`` is then only the sampling
        interval of the reads. The fixed-step schemes take steps of ``dt``.
    rtol, atol : float
        Tolerances of ``"adaptive"`` on the device states (local error per
        step): 1e-6 and 1e-8. The punishing pulse then takes ~20 steps
        instead of 10,000 RK4 steps and its states agree with RK4 at 10 ps
        to ~1e-7 (``tests/solve/test_adaptive.py``); the normalising pulse
        is more accurate than RK4 at 10 ps (which errs by ~5e-5 there: the
        fast ON switching into the bound).
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
    method: Literal["adaptive", "euler", "heun", "rk4"] = "adaptive"
    idle_inputs: IdleInputs = "float"
    resolution: float = 1e-9  # A
    rtol: float = 1e-6  # 1
    atol: float = 1e-8  # 1 (device states are in [0, 1])

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
        if self.method not in ("adaptive", "euler", "heun", "rk4"):
            raise ValueError(f"Pulses.method must be 'adaptive', 'euler', 'heun' or 'rk4', got {self.method!r}")
        if self.idle_inputs not in ("float", "ground"):
            raise ValueError(f"Pulses.idle_inputs must be 'float' or 'ground', got {self.idle_inputs!r}")


@dataclass(frozen=True)
class Controller:
    """Configuration of the learning-from-mistakes controller.

    Attributes
    ----------
    pulses : Pulses
        Amplitudes, durations and thresholds of the protocols.
    order : {"alternating", "shuffled"}
        Pattern order within an era: the task's order every era (with two
        patterns they alternate, as in Barrows et al. 2024) or a fresh seeded
        permutation per era and copy.
    stop_after : int
        Consecutive error-free eras after which a copy stops (1: reads do not
        change a threshold device, so an error-free era repeats forever).
    max_eras : int
        Cap on eras.
    snapshot_every : int
        Record the conductances every this many eras (and at the start and
        the end), bounding the memory of long runs.

    Examples
    --------
    >>> Controller(max_eras=10).stop_after
    1
    """

    pulses: Pulses = Pulses()
    order: Order = "alternating"
    stop_after: int = 1  # eras
    max_eras: int = 50  # eras
    snapshot_every: int = 1  # eras

    def __post_init__(self) -> None:
        if not isinstance(self.pulses, Pulses):
            raise ValueError(f"Controller.pulses must be a Pulses, got {type(self.pulses).__name__}")
        if self.order not in ("alternating", "shuffled"):
            raise ValueError(f"Controller.order must be 'alternating' or 'shuffled', got {self.order!r}")
        for name in ("stop_after", "max_eras", "snapshot_every"):
            val = getattr(self, name)
            if isinstance(val, bool) or not isinstance(val, numbers.Integral) or val < 1:
                raise ValueError(f"Controller.{name} must be an integer >= 1, got {val!r}")
