"""Protocols: terminal conditions over time.

A protocol is a sequence of :class:`Segment` objects. During a segment, the
nodes in ``drive`` are held at given voltages (constants, per-ensemble-copy
arrays, or functions of the absolute time ``t``), the nodes in ``ground`` are
held at 0 V (through an ammeter: the current they deliver is recorded), and
every other node floats (Kirchhoff's current law). Integration never
straddles a segment boundary.

Waveforms (:class:`Sine`, :class:`PWL`) are vectorised callables that also
describe themselves exactly, so they can be exported to SPICE.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Union

import numpy as np

from memsim.circuit.network import CompiledNetwork

__all__ = ["Segment", "Sine", "PWL", "CompiledSegment", "compile_protocol", "Voltage"]

Voltage = Union[float, np.ndarray, Callable[[np.ndarray], np.ndarray]]


#: Largest |frequency| (Hz) of a :class:`Sine` drive.
MAX_FREQUENCY = 1e18


@dataclass(frozen=True)
class Sine:
    """``offset + amplitude * sin(2 pi frequency t + phase)`` (volts, ``t`` absolute).

    Examples
    --------
    >>> Sine(1.0, 50.0)(np.array([0.005]))
    array([1.])
    """

    amplitude: float  # V
    frequency: float  # Hz
    phase: float = 0.0  # rad
    offset: float = 0.0  # V

    def __post_init__(self) -> None:
        for name in ("amplitude", "frequency", "phase", "offset"):
            if not math.isfinite(getattr(self, name)):
                raise ValueError(f"Sine.{name} must be finite, got {getattr(self, name)!r}")
        if abs(self.frequency) > MAX_FREQUENCY:
            # 2 pi f t must stay finite and resolvable; far beyond any circuit drive
            raise ValueError(f"Sine.frequency must be within +-{MAX_FREQUENCY:g} Hz, got {self.frequency!r}")

    def __call__(self, t: np.ndarray) -> np.ndarray:
        t = np.asarray(t, dtype=float)
        return self.offset + self.amplitude * np.sin(2.0 * np.pi * self.frequency * t + self.phase)


@dataclass(frozen=True)
class PWL:
    """Piecewise-linear waveform through ``(times[k], values[k])`` (s, V), constant outside.

    Examples
    --------
    >>> PWL((0.0, 1.0), (0.0, 2.0))(np.array([0.5, 3.0]))
    array([1., 2.])
    """

    times: tuple[float, ...]  # s, strictly increasing
    values: tuple[float, ...]  # V

    def __post_init__(self) -> None:
        t = np.asarray(self.times, dtype=float)
        v = np.asarray(self.values, dtype=float)
        if t.ndim != 1 or t.shape != v.shape or t.size < 1:
            raise ValueError("PWL.times and PWL.values must be 1-D of equal non-zero length")
        if not (np.all(np.isfinite(t)) and np.all(np.isfinite(v))):
            raise ValueError("PWL.times and PWL.values must be finite")
        if np.any(np.diff(t) <= 0):
            raise ValueError("PWL.times must be strictly increasing")

    def __call__(self, t: np.ndarray) -> np.ndarray:
        return np.interp(np.asarray(t, dtype=float), self.times, self.values)


@dataclass(frozen=True)
class Segment:
    """One interval of constant terminal configuration.

    Parameters
    ----------
    duration : float
        Length of the segment in seconds (> 0).
    drive : mapping node -> voltage
        Driven nodes and their voltage: a number (V), an array of one value
        per ensemble copy, or a callable of the absolute time array ``t``
        (s) returning volts (shape ``t.shape``, or ``t.shape + (K,)`` for
        per-copy waveforms).
    ground : sequence of nodes
        Nodes held at 0 V; their current is measured as for any driven node.
    label : str
        Free text carried into results (e.g. ``"read"``, ``"punish"``).

    Examples
    --------
    >>> seg = Segment(1e-3, drive={"in": 0.5}, ground=["out"], label="read")
    >>> seg.duration
    0.001
    """

    duration: float  # s
    drive: Mapping[Hashable, Voltage] = field(default_factory=dict)
    ground: Sequence[Hashable] = ()
    label: str = ""

    def __post_init__(self) -> None:
        d = self.duration
        if not isinstance(d, (int, float)) or not math.isfinite(d) or d <= 0:
            raise ValueError(f"Segment.duration must be a finite number > 0 s, got {d!r}")
        object.__setattr__(self, "drive", MappingProxyType(dict(self.drive)))
        object.__setattr__(self, "ground", tuple(self.ground))
        both = set(self.drive) & set(self.ground)
        if both:
            raise ValueError(f"Segment: node(s) {sorted(map(repr, both))} are both driven and grounded")
        if len(set(self.ground)) != len(self.ground):
            raise ValueError("Segment.ground lists a node twice")
        for node, val in self.drive.items():
            if callable(val):
                continue
            arr = np.asarray(val, dtype=float)
            if arr.ndim > 1 or not np.all(np.isfinite(arr)):
                raise ValueError(
                    f"Segment.drive[{node!r}] must be a finite number, a 1-D array "
                    f"(one per ensemble copy) or a callable, got {val!r}"
                )


@dataclass(frozen=True, eq=False)
class CompiledSegment:
    """A segment resolved against a compiled network (indices, not names).

    ``driven`` holds the indices of all driven nodes (driven then grounded);
    ``constant`` the (K, D) voltages of the non-callable ones and
    ``functions`` the callables by column.
    """

    duration: float
    driven: np.ndarray  # (D,) int64
    constant: np.ndarray  # (K or 1, D) float, zeros where a function is given
    functions: tuple  # ((column, callable), ...)
    label: str

    @property
    def time_dependent(self) -> bool:
        return bool(self.functions)

    def voltages(self, t: np.ndarray, n_copies: int) -> np.ndarray:
        """Driven voltages at times ``t`` (shape (T,)): array (T, K, D)."""
        t = np.asarray(t, dtype=float)
        out = np.empty((t.size, n_copies, self.driven.size))
        out[:] = self.constant[None, :, :]
        for col, fn in self.functions:
            val = np.asarray(fn(t), dtype=float)
            if val.shape == () or val.shape == (1,):
                val = np.broadcast_to(val, t.shape)
            if val.shape == t.shape:
                out[:, :, col] = val[:, None]
            elif val.shape == (t.size, n_copies):
                out[:, :, col] = val
            else:
                raise ValueError(
                    f"drive waveform for node index {int(self.driven[col])} returned shape "
                    f"{val.shape}; expected {t.shape} or {(t.size, n_copies)}"
                )
            if not np.all(np.isfinite(out[:, :, col])):
                raise ValueError(f"drive waveform for node index {int(self.driven[col])} returned non-finite values")
        return out


def compile_protocol(
    network: CompiledNetwork, segments: Sequence[Segment], n_copies: int = 1
) -> tuple[CompiledSegment, ...]:
    """Resolve node names of a protocol against a compiled network.

    Raises ``KeyError`` naming unknown nodes and ``ValueError`` for per-copy
    voltage arrays whose length is not ``n_copies``.
    """
    if isinstance(segments, Segment):
        segments = [segments]
    if len(segments) == 0:
        raise ValueError("protocol has no segments")
    out = []
    for s_idx, seg in enumerate(segments):
        if not isinstance(seg, Segment):
            raise TypeError(f"protocol[{s_idx}] must be a Segment, got {type(seg).__name__}")
        names = list(seg.drive) + list(seg.ground)
        try:
            driven = network.index_of(names)
        except KeyError as exc:
            raise KeyError(f"protocol[{s_idx}]: {exc.args[0]}") from None
        const = np.zeros((n_copies, len(names)))
        funcs = []
        for col, (node, val) in enumerate(seg.drive.items()):
            if callable(val):
                funcs.append((col, val))
                continue
            arr = np.asarray(val, dtype=float)
            if arr.ndim == 1 and arr.size not in (1, n_copies):
                raise ValueError(
                    f"protocol[{s_idx}].drive[{node!r}] has {arr.size} values for {n_copies} ensemble copies"
                )
            const[:, col] = arr.reshape(-1) if arr.ndim == 1 else arr
        const.setflags(write=False)
        out.append(
            CompiledSegment(float(seg.duration), driven, const, tuple(funcs), seg.label)
        )
    return tuple(out)
