"""Fit a device model's parameters to measurements of one device.

Two kinds of measurement are read, as arrays or from CSV files:

- an **I-V sweep** (:class:`IVSweep`): a voltage waveform ``v(t)`` applied
  across one device and the current ``i(t)`` through it (a sine or triangle
  sweep, a pinched hysteresis loop);
- a **pulse train** (:class:`PulseTrain`): the conductance, resistance or
  state read after each of ``N`` voltage pulses of given amplitude and width
  (potentiation and depression curves).

:func:`fit` chooses the free parameters by name and keeps the others from a
starting device (a frozen dataclass of :mod:`memsim.devices.models`). The
model is simulated with memsim's own integrator: one device between a driven
node and ground, driven by the measured waveform (a :class:`~memsim.solve.PWL`
through the samples) or by the pulses (one :class:`~memsim.solve.Segment`
each), through :func:`memsim.solve.prepare`. The protocol is prepared once,
and every batch of candidate parameter vectors runs as one ensemble
(``Prepared.run(params=...)``, one copy per candidate): the central-difference
Jacobian of ``p`` free parameters costs one run of ``2 p + 1`` copies.

The parameters are fitted by :func:`scipy.optimize.least_squares` (trust
region with bounds) in a transformed space: positive scale parameters as
``log(value)``, negative ones (VTEAM's ``k_on`` and ``v_on``) as
``log(-value)``, the others (the initial state ``x0``, the metastable
switch's thresholds, the Caravelli decay rate) as they are. Uncertainties
come from the Jacobian ``J`` of the residuals at the optimum::

    cov(theta) = s^2 (J^T J)^-1,   s^2 = sum r^2 / (n - p),

propagated to natural units by the delta method (``stderr(value) =
|d value / d theta| stderr(theta)``, i.e. ``|value| stderr(log value)``). A
direction in which the residuals do not change (e.g. the linear-drift
``mu_v`` and ``d`` enter only through ``k = mu_v r_on / d^2``; VTEAM's
``k_on``, ``k_off`` and ``d`` only through ``k_on / d`` and ``k_off / d``)
makes ``J^T J`` singular: the parameters involved get an infinite standard
error, ``success`` is False and the message names them.

From measurements to capacity
-----------------------------
A fitted device is a device like any other: build a topology with it and ask
how controllable it is and how many patterns it learns
(:mod:`memsim.analysis`). Here a simulated sweep stands in for a
measurement (the README's section "From measurements to capacity" reads one
from a CSV file and adds the empirical capacity):

>>> from memsim import VTEAM, Network, layered
>>> from memsim.analysis import controllability, controller_configurations, structural_capacity
>>> from memsim.learning import build_hardware
>>> t = np.linspace(0.0, 2e-6, 401)
>>> v = 0.3 * np.sin(2 * np.pi * t / 2e-6)
>>> measured = simulate_sweep(VTEAM(k_off=4e-4), t, v, x0=0.2, dt=1e-9)
>>> res = fit(VTEAM(), measured, ["k_off"], x0=0.2, dt=1e-9)
>>> bool(abs(res.params["k_off"] / 4e-4 - 1) < 1e-6)
True
>>> net = Network.from_graph(layered([2, 4, 2], orientation="backward"), res.device, x0=0.5)
>>> structural_capacity(net).io_rank
3
>>> hw = build_hardware(net, x0=0.5, seed=0)
>>> controllability(hw.circuit, controller_configurations(hw), x=hw.x[0]).rank
3
"""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Literal

import numpy as np
import pandas as pd
import scipy.optimize as so

from memsim.circuit.network import Network
from memsim.devices import functions as fn
from memsim.devices.models import (
    MAX_RESISTANCE,
    MAX_WINDOW_EXPONENT,
    VTEAM,
    CaravelliTraversaDiVentra,
    Device,
    LinearIonDrift,
    MetastableSwitch,
)
from memsim.solve.integrate import prepare
from memsim.solve.protocol import PWL, Segment

__all__ = ["IVSweep", "PulseTrain", "FitResult", "fit", "fittable", "simulate_sweep", "simulate_pulses"]

Quantity = Literal["conductance", "resistance", "state"]
Method = Literal["euler", "heun", "rk4"]

# --------------------------------------------------------------------------- units and CSV

#: SI prefixes accepted in CSV column units (``"u"`` and ``"µ"`` both mean micro).
PREFIXES = {"f": 1e-15, "p": 1e-12, "n": 1e-9, "u": 1e-6, "\u00b5": 1e-6, "m": 1e-3, "": 1.0, "k": 1e3,
            "M": 1e6, "G": 1e9}
#: Unit symbols (after the prefix) of each dimension.
_SYMBOLS = {"s": ("s",), "V": ("V",), "A": ("A",), "S": ("S",), "ohm": ("ohm", "Ohm", "\u03a9")}
_HEADER = re.compile(r"^\s*([A-Za-z_]+)\s*(?:[\[(]\s*([^\])]*?)\s*[\])])?\s*$")
#: CSV column names (lower case) of each field, and the field's dimension.
_SWEEP_COLUMNS = {"t": (("t", "time"), "s"), "v": (("v", "voltage"), "V"), "i": (("i", "current"), "A")}
_PULSE_COLUMNS = {"amplitude": (("amplitude", "v", "voltage"), "V"), "width": (("width", "duration"), "s")}
_RESPONSE_COLUMNS = {"conductance": (("conductance", "g"), "S"), "resistance": (("resistance", "r"), "ohm"),
                     "state": (("state", "x"), "1")}


def _unit_scale(column: str, unit: str | None, dim: str) -> float:
    """Factor from a column's unit to SI (``dim``); one-line ValueError naming the column otherwise."""
    if not unit:
        return 1.0
    if dim == "1":
        if unit == "1":
            return 1.0
        raise ValueError(f"CSV column {column!r}: a state is dimensionless (no unit or [1]), got [{unit}]")
    for sym in _SYMBOLS[dim]:
        if unit.endswith(sym) and unit[: -len(sym)] in PREFIXES:
            return PREFIXES[unit[: -len(sym)]]
    raise ValueError(f"CSV column {column!r}: unit [{unit}] is not a unit of {dim} (e.g. [{dim}], [m{dim}], [u{dim}])")


def _read_csv(path: str | Path, wanted: Mapping[str, tuple[tuple[str, ...], str]],
              optional: Mapping[str, tuple[tuple[str, ...], str]] | None = None) -> dict[str, np.ndarray]:
    """Numeric SI columns of a CSV file by field name (data only: parsed by pandas, never evaluated).

    Headers are ``name`` or ``name [unit]`` (``name (unit)``), names case-insensitive; lines starting with
    ``#`` are comments; other columns are ignored. Exactly one of the ``optional`` fields must be present
    when ``optional`` is given.
    """
    try:
        table = pd.read_csv(path, comment="#", skipinitialspace=True, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: not a CSV table ({str(exc).splitlines()[0]})") from None
    found: dict[str, tuple[str, str | None]] = {}
    for col in table.columns:
        m = _HEADER.match(str(col))
        if m is None:
            continue
        found.setdefault(m.group(1).lower(), (str(col), m.group(2)))
    spec = dict(wanted)
    if optional:
        present = [f for f, (names, _) in optional.items() if any(n in found for n in names)]
        if len(present) != 1:
            names = ", ".join(repr(n[0][0]) for n in optional.values())
            raise ValueError(f"{path}: need exactly one response column of {names}, found {len(present)}")
        spec[present[0]] = optional[present[0]]
    out = {}
    for fld, (names, dim) in spec.items():
        hits = [n for n in names if n in found]
        if not hits:
            raise ValueError(f"{path}: missing column {names[0]!r} (or {', '.join(map(repr, names[1:]))}); "
                             f"columns are {list(map(str, table.columns))}")
        if len(hits) > 1:
            raise ValueError(f"{path}: columns {[found[h][0] for h in hits]} both give {fld!r}; keep one")
        col, unit = found[hits[0]]
        scale = _unit_scale(col, unit, dim)
        text = table[col].astype(str).str.strip()
        vals = pd.to_numeric(text, errors="coerce").to_numpy(dtype=float)
        bad = np.flatnonzero(~np.isfinite(vals))
        if bad.size:
            k = int(bad[0])
            raise ValueError(f"{path}: column {col!r} row {k + 1}: {text.iloc[k]!r} is not a finite number")
        out[fld] = vals * scale
    return out


# --------------------------------------------------------------------------- data


def _vector(owner: str, name: str, value, n: int | None = None) -> np.ndarray:
    try:
        arr = np.array(value, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"{owner}.{name} must be an array of numbers, got {type(value).__name__}") from None
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{owner}.{name} must be a non-empty 1-D array, got shape {arr.shape}")
    if n is not None and arr.size != n:
        raise ValueError(f"{owner}.{name} has {arr.size} values, expected {n}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{owner}.{name} must be finite; {name}[{int(np.flatnonzero(~np.isfinite(arr))[0])}] is not")
    arr.setflags(write=False)
    return arr


@dataclass(frozen=True, eq=False)
class IVSweep:
    """A voltage sweep across one device and the current through it (arrays read-only).

    Attributes
    ----------
    t : (n,) sample times, s, strictly increasing.
    v : (n,) voltage across the device, V (the edge voltage ``v_u - v_v``).
    i : (n,) current through the device, A (``u -> v``: positive for a positive ``v``).

    Examples
    --------
    >>> IVSweep([0.0, 1e-6, 2e-6], [0.0, 0.1, 0.0], [0.0, 1e-4, 0.0]).n_points
    3
    """

    t: np.ndarray
    v: np.ndarray
    i: np.ndarray

    def __post_init__(self) -> None:
        t = _vector("IVSweep", "t", self.t)
        if t.size < 2:
            raise ValueError(f"IVSweep.t must have at least 2 samples, got {t.size}")
        object.__setattr__(self, "t", t)
        object.__setattr__(self, "v", _vector("IVSweep", "v", self.v, t.size))
        object.__setattr__(self, "i", _vector("IVSweep", "i", self.i, t.size))
        step = np.diff(t)
        if np.any(step <= 0):
            k = int(np.flatnonzero(step <= 0)[0])
            raise ValueError(f"IVSweep.t must be strictly increasing; t[{k + 1}] = {t[k + 1]!r} <= t[{k}] = {t[k]!r}")

    @property
    def n_points(self) -> int:
        """Number of samples."""
        return int(self.t.size)

    @classmethod
    def from_csv(cls, path: str | Path) -> IVSweep:
        """Read a sweep from a CSV file with columns ``t``, ``v``, ``i``.

        Column names may be spelled out (``time``, ``voltage``, ``current``)
        and carry a unit in brackets with an SI prefix, converted to SI
        (``t [us]``, ``v [mV]``, ``i [uA]``; no unit means SI). Lines
        starting with ``#`` are comments; other columns are ignored.

        Examples
        --------
        >>> import io
        >>> IVSweep.from_csv(io.StringIO("t [us],v [V],i [mA]\\n0,0,0\\n1,0.1,2\\n")).i.tolist()
        [0.0, 0.002]
        """
        cols = _read_csv(path, _SWEEP_COLUMNS)
        return cls(cols["t"], cols["v"], cols["i"])


@dataclass(frozen=True, eq=False)
class PulseTrain:
    """What one device reads after each of ``N`` voltage pulses (arrays read-only).

    Attributes
    ----------
    amplitude : (N,) pulse voltages across the device, V.
    width : (N,) pulse durations, s (a number is broadcast).
    response : (N,) the reading after each pulse, in the unit of ``quantity``.
    quantity : {"conductance", "resistance", "state"}
        What ``response`` holds: S, ohm or the state ``x`` in [0, 1].
    gap : float
        Time at 0 V after each pulse, s (the reads are taken to change
        nothing; a device with decay, e.g. Caravelli's, relaxes meanwhile).

    Examples
    --------
    >>> PulseTrain([0.3, 0.3, -0.3], 1e-6, [1e-3, 1.1e-3, 1e-3]).width.tolist()
    [1e-06, 1e-06, 1e-06]
    """

    amplitude: np.ndarray
    width: np.ndarray
    response: np.ndarray
    quantity: Quantity = "conductance"
    gap: float = 0.0  # s

    def __post_init__(self) -> None:
        amp = _vector("PulseTrain", "amplitude", self.amplitude)
        object.__setattr__(self, "amplitude", amp)
        width = self.width
        if np.ndim(width) == 0 and isinstance(width, numbers.Real):
            width = np.full(amp.shape, float(width))
        width = _vector("PulseTrain", "width", width, amp.size)
        if np.any(width <= 0):
            raise ValueError(f"PulseTrain.width must be > 0 s; width[{int(np.flatnonzero(width <= 0)[0])}] is not")
        object.__setattr__(self, "width", width)
        object.__setattr__(self, "response", _vector("PulseTrain", "response", self.response, amp.size))
        if self.quantity not in _RESPONSE_COLUMNS:
            raise ValueError(f"PulseTrain.quantity must be one of {sorted(_RESPONSE_COLUMNS)}, got {self.quantity!r}")
        gap = self.gap
        if isinstance(gap, bool) or not isinstance(gap, numbers.Real) or not math.isfinite(gap) or gap < 0:
            raise ValueError(f"PulseTrain.gap must be a finite number >= 0 s, got {gap!r}")

    @property
    def n_points(self) -> int:
        """Number of pulses (one reading each)."""
        return int(self.amplitude.size)

    @classmethod
    def from_csv(cls, path: str | Path, *, gap: float = 0.0) -> PulseTrain:
        """Read a pulse train from a CSV file: one row per pulse.

        Columns ``amplitude`` (or ``v``, ``voltage``), ``width`` (or
        ``duration``) and exactly one response column: ``conductance``
        (``g``), ``resistance`` (``r``) or ``state`` (``x``), each with an
        optional unit in brackets (``width [ns]``, ``g [mS]``, ``r [kohm]``).

        Examples
        --------
        >>> import io
        >>> p = PulseTrain.from_csv(io.StringIO("amplitude [V],width [ns],r [kohm]\\n0.3,10,1.2\\n"))
        >>> p.quantity, p.width.tolist(), p.response.tolist()
        ('resistance', [1e-08], [1200.0])
        """
        cols = _read_csv(path, _PULSE_COLUMNS, _RESPONSE_COLUMNS)
        quantity = next(q for q in _RESPONSE_COLUMNS if q in cols)
        return cls(cols["amplitude"], cols["width"], cols[quantity], quantity, gap)


# --------------------------------------------------------------------------- parameters

_INF = math.inf
#: Fittable parameters of each model: transform ("log": log(value), "neglog": log(-value), "lin": value),
#: the model's own limits of the value, and the unit.
_PARAMS: dict[type, dict[str, tuple[str, float, float, str]]] = {
    LinearIonDrift: {"r_on": ("log", 0.0, MAX_RESISTANCE, "ohm"), "r_off": ("log", 0.0, MAX_RESISTANCE, "ohm"),
                     "d": ("log", 0.0, _INF, "m"), "mu_v": ("log", 0.0, _INF, "m^2/(V s)"),
                     "p": ("log", 0.0, MAX_WINDOW_EXPONENT, ""), "j": ("log", 0.0, _INF, "")},
    VTEAM: {"r_on": ("log", 0.0, MAX_RESISTANCE, "ohm"), "r_off": ("log", 0.0, MAX_RESISTANCE, "ohm"),
            "k_on": ("neglog", -_INF, 0.0, "m/s"), "k_off": ("log", 0.0, _INF, "m/s"),
            "alpha_on": ("log", 0.0, 20.0, ""), "alpha_off": ("log", 0.0, 20.0, ""),
            "v_on": ("neglog", -_INF, 0.0, "V"), "v_off": ("log", 0.0, _INF, "V"), "d": ("log", 0.0, _INF, "m")},
    CaravelliTraversaDiVentra: {"r_on": ("log", 0.0, MAX_RESISTANCE, "ohm"),
                                "r_off": ("log", 0.0, MAX_RESISTANCE, "ohm"),
                                "alpha": ("lin", 0.0, _INF, "1/s"), "beta": ("log", 0.0, _INF, "V s")},
    MetastableSwitch: {"r_on": ("log", 0.0, MAX_RESISTANCE, "ohm"), "r_off": ("log", 0.0, MAX_RESISTANCE, "ohm"),
                       "v_on": ("lin", 0.0, 1e3, "V"), "v_off": ("lin", 0.0, 1e3, "V"), "tau": ("log", 0.0, _INF, "s"),
                       "temperature": ("log", 0.0, 1e4, "K")},
}
_X0 = ("lin", 0.0, 1.0, "")
#: Default search range of a log-parameterised parameter: its start divided and multiplied by this.
LOG_RANGE = 1e6
#: Step of the central differences (~ eps^(1/3)): relative for a log-parameterised value, else times max(1, |value|).
FD_STEP = 6e-6
#: A direction of the fitted parameters whose singular value of ``J`` is below this fraction of the largest
#: is not identifiable (its variance would exceed the best-determined one's by more than 1e12). An exact
#: degeneracy measures 1e-11 (VTEAM's k_on, k_off, d) to 1e-8 (linear drift's mu_v, d on a sweep that clips the
#: state at a bound, where the residuals have kinks and the central differences lose accuracy): below it.
IDENTIFIABLE = 1e-6
#: Scaled residual of a candidate that is not a valid device (e.g. ``r_on >= r_off``): the step is rejected.
_INVALID = 1e6
#: Default integration steps per sample interval of a sweep.
SWEEP_SUBSTEPS = 4


def fittable(device: Device) -> tuple[str, ...]:
    """Names :func:`fit` can free for this device (``"x0"``, the initial state, for every model).

    Examples
    --------
    >>> fittable(MetastableSwitch())
    ('r_on', 'r_off', 'v_on', 'v_off', 'tau', 'temperature', 'x0')
    """
    table = _PARAMS.get(type(device))
    if table is None:
        kinds = ", ".join(c.__name__ for c in _PARAMS)
        raise ValueError(f"device must be one of {kinds} (a dynamic memristor model), got {type(device).__name__}")
    names = tuple(table)
    if isinstance(device, LinearIonDrift) and device.window in ("joglekar", "biolek"):
        names = tuple(n for n in names if n != "p")  # an integer exponent for these windows
    return names + ("x0",)


def _spec(device: Device, name: str) -> tuple[str, float, float, str]:
    return _X0 if name == "x0" else _PARAMS[type(device)][name]


def _to_theta(kind: str, value: float) -> float:
    return math.log(value) if kind == "log" else math.log(-value) if kind == "neglog" else value


def _from_theta(kind: str, theta: np.ndarray) -> np.ndarray:
    return np.exp(theta) if kind == "log" else -np.exp(theta) if kind == "neglog" else theta


def _theta_bounds(device: Device, name: str, start: float, given) -> tuple[float, float]:
    kind, lo, hi, _ = _spec(device, name)
    where = f"{type(device).__name__}.{name}" if name != "x0" else "x0"
    if given is not None:
        try:
            glo, ghi = (float(b) for b in given)
        except (TypeError, ValueError):
            raise ValueError(f"bounds[{name!r}] must be a pair (low, high), got {given!r}") from None
        if not (glo < ghi) or math.isnan(glo) or math.isnan(ghi):
            raise ValueError(f"bounds[{name!r}] must have low < high, got {given!r}")
        if not glo <= start <= ghi:
            raise ValueError(f"bounds[{name!r}] = {given!r} does not contain the start {where} = {start!r}")
        lo, hi = max(lo, glo), min(hi, ghi)
    if kind == "lin":
        return lo, hi
    lo_m, hi_m = (lo, hi) if kind == "log" else (-hi, -lo)  # range of |value|
    if given is None:
        lo_m, hi_m = max(lo_m, abs(start) / LOG_RANGE), min(hi_m, abs(start) * LOG_RANGE)
    return (math.log(lo_m) if lo_m > 0 else -_INF), (math.log(hi_m) if hi_m < _INF else _INF)


# --------------------------------------------------------------------------- forward model


class _Model:
    """The measurement a device gives, for a batch of parameter vectors (one ensemble run per batch)."""

    def __init__(self, device: Device, data: IVSweep | PulseTrain, dt: float | None, method: str) -> None:
        net = Network(default_device=device)
        net.add_node("a", "input")
        net.add_node("b", "output")
        net.add_edge("a", "b")
        self.net = net.compile()
        self.data = data
        self.method = method
        if isinstance(data, IVSweep):
            duration = float(data.t[-1] - data.t[0])
            step = np.diff(data.t)
            mean = duration / (data.n_points - 1)
            # uniform samples: exactly SWEEP_SUBSTEPS steps per interval, so every sample is on the grid
            uniform = np.ptp(step) <= 1e-9 * mean
            self.dt = (mean if uniform else float(step.min())) / SWEEP_SUBSTEPS if dt is None else dt
            self.protocol = [Segment(duration, drive={"a": PWL(tuple(data.t), tuple(data.v))}, ground=["b"])]
            self.t0 = float(data.t[0])
        else:
            self.dt = float(np.min(data.width)) / 10 if dt is None else dt
            self.protocol = []
            for amp, width in zip(data.amplitude, data.width):
                self.protocol.append(Segment(float(width), drive={"a": float(amp)}, ground=["b"], label="pulse"))
                if data.gap > 0:
                    self.protocol.append(Segment(float(data.gap), drive={"a": 0.0}, ground=["b"], label="gap"))
            self.t0 = 0.0
        self._prepared: dict[int, object] = {}
        self._where: tuple | None = None

    def _prep(self, k: int):
        if k not in self._prepared:
            self._prepared[k] = prepare(self.net, self.protocol, dt=self.dt, method=self.method, ensemble=k,
                                        record=("x",), record_every=1, t0=self.t0)
        return self._prepared[k]

    def states(self, devices: Sequence[Device | None], x0: np.ndarray) -> np.ndarray:
        """(K, n) state at each sample (sweep) or after each pulse; NaN rows where the device is None."""
        ok = [j for j, d in enumerate(devices) if d is not None]
        out = np.full((len(devices), self.data.n_points), np.nan)
        if not ok:
            return out
        prep = self._prep(len(ok))
        params = np.stack([devices[j].pack() for j in ok])[:, None, :]
        res = prep.run(np.asarray(x0, dtype=float)[ok, None], params=params)
        x = res.x[:, :, 0]  # (T, K)
        if self._where is None:
            if isinstance(self.data, IVSweep):  # linear interpolation on the step grid (exact on grid points)
                pos = np.clip(np.searchsorted(res.t, self.data.t, side="right") - 1, 0, res.t.size - 2)
                w = (self.data.t - res.t[pos]) / (res.t[pos + 1] - res.t[pos])
                self._where = (pos, np.clip(w, 0.0, 1.0))
            else:  # the sample after the last step of each pulse segment
                ends = np.cumsum(prep.steps)
                self._where = (ends[:: 2 if self.data.gap > 0 else 1], None)
        pos, w = self._where
        out[ok] = (x[pos] if w is None else x[pos] * (1 - w[:, None]) + x[pos + 1] * w[:, None]).T
        return out

    def predict(self, devices: Sequence[Device | None], x0: np.ndarray) -> np.ndarray:
        """(K, n) predicted measurement (current, A; or the pulse train's quantity); NaN rows for None."""
        x = self.states(devices, x0)
        ok = np.array([d is not None for d in devices])
        out = np.full_like(x, np.nan)
        if ok.any():
            params = np.stack([d.pack() for d in devices if d is not None])[:, None, :]
            g = fn.conductance(self.net.model, params, x[ok])
            if isinstance(self.data, IVSweep):
                out[ok] = g * self.data.v[None, :]
            else:
                out[ok] = {"conductance": g, "resistance": 1.0 / g, "state": x[ok]}[self.data.quantity]
        return out


def _check_method(method, dt) -> None:
    if method not in ("euler", "heun", "rk4"):
        raise ValueError(f"method must be 'euler', 'heun' or 'rk4' (fixed steps give smooth residuals), got {method!r}")
    if dt is not None and (isinstance(dt, bool) or not isinstance(dt, numbers.Real) or not math.isfinite(dt)
                           or dt <= 0):
        raise ValueError(f"dt must be a finite number > 0 s, got {dt!r}")


def _check_x0(x0) -> float:
    if isinstance(x0, bool) or not isinstance(x0, numbers.Real) or not 0.0 <= x0 <= 1.0:
        raise ValueError(f"x0 must be a number in [0, 1], got {x0!r}")
    return float(x0)


def simulate_sweep(device: Device, t, v, *, x0: float = 0.5, dt: float | None = None,
                   method: Method = "rk4") -> IVSweep:
    """The sweep a device would measure: current through it for the voltage samples ``v`` at times ``t``.

    The forward model of :func:`fit`: the device starts at state ``x0`` at
    ``t[0]``, is driven by the piecewise-linear waveform through ``(t, v)``
    with steps of at most ``dt``, and ``i = g(x(t)) v(t)`` at every sample
    (``x`` interpolated linearly between steps; uniform samples lie on the
    step grid with the default ``dt``, :data:`SWEEP_SUBSTEPS` steps per
    sample interval, else a quarter of the smallest interval).

    Examples
    --------
    >>> sw = simulate_sweep(LinearIonDrift(), [0.0, 1e-3], [0.1, 0.1], x0=1.0)
    >>> sw.i.tolist()  # fully ON: 0.1 V over r_on = 100 ohm
    [0.001, 0.001]
    """
    _check_method(method, dt)
    t = _vector("simulate_sweep", "t", t)
    shape = IVSweep(t, v, np.zeros(t.size))
    model = _Model(_dynamic(device), shape, dt, method)
    return IVSweep(t, v, model.predict([device], np.array([_check_x0(x0)]))[0])


def simulate_pulses(device: Device, amplitude, width, *, quantity: Quantity = "conductance", x0: float = 0.5,
                    gap: float = 0.0, dt: float | None = None, method: Method = "rk4") -> PulseTrain:
    """The pulse train a device would measure: its ``quantity`` after each pulse.

    The forward model of :func:`fit` (steps of at most ``dt``, default a
    tenth of the shortest pulse).

    Examples
    --------
    >>> p = simulate_pulses(VTEAM(), [-0.3] * 3, 1e-9, quantity="state", x0=0.0)
    >>> bool(np.all(np.diff(p.response) > 0))   # below v_on: each pulse turns it further ON
    True
    """
    _check_method(method, dt)
    shape = PulseTrain(amplitude, width, np.zeros(np.size(amplitude)), quantity, gap)
    model = _Model(_dynamic(device), shape, dt, method)
    return PulseTrain(shape.amplitude, shape.width, model.predict([device], np.array([_check_x0(x0)]))[0],
                      quantity, gap)


def _dynamic(device: Device) -> Device:
    fittable(device)  # a supported model, or a one-line error
    if isinstance(device, MetastableSwitch) and device.n_switches > 0:
        raise ValueError("MetastableSwitch.n_switches must be 0 (mean field) to fit or simulate a measurement: "
                         "a stochastic device gives no smooth residuals")
    return device


# --------------------------------------------------------------------------- fit


@dataclass(frozen=True, eq=False)
class FitResult:
    """Outcome of :func:`fit` (read-only).

    Attributes
    ----------
    device : the starting device with the fitted values.
    params : name -> fitted value (natural units, SI), in the order freed.
    stderr : name -> standard error (same units); ``inf`` where not identifiable.
    cost : ``sum r^2 / 2`` of the residuals ``r = model - data`` (data units squared), or of
        ``(model - data) / sigma`` when ``sigma`` was given.
    rms : root-mean-square of ``model - data`` (data units: A, S, ohm or 1).
    n_points : number of data points.
    success : the optimiser converged and every parameter is identifiable.
    message : the optimiser's message, plus any parameter that is not identifiable or sits at a bound.
    x0 : the initial state used (fitted when ``"x0"`` was free).
    covariance : (p, p) covariance of ``params`` (natural units, their order), NaN where not identifiable.
    residuals : (n,) ``model - data`` at the optimum (data units).
    nfev : evaluations of the residuals.
    """

    device: Device
    params: Mapping[str, float]
    stderr: Mapping[str, float]
    cost: float
    rms: float
    n_points: int
    success: bool
    message: str
    x0: float
    covariance: np.ndarray = field(repr=False)
    residuals: np.ndarray = field(repr=False)
    nfev: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "params", MappingProxyType(dict(self.params)))
        object.__setattr__(self, "stderr", MappingProxyType(dict(self.stderr)))
        for name in ("covariance", "residuals"):
            arr = np.array(getattr(self, name), dtype=float)
            arr.setflags(write=False)
            object.__setattr__(self, name, arr)

    def __repr__(self) -> str:
        units = {n: _spec(self.device, n)[3] for n in self.params}
        parts = [f"{n} = {v:.6g} \u00b1 {self.stderr[n]:.2g}" + (f" {units[n]}" if units[n] else "")
                 for n, v in self.params.items()]
        return (f"FitResult({type(self.device).__name__}: {', '.join(parts)}; rms {self.rms:.3g} over "
                f"{self.n_points} points, {'success' if self.success else 'FAILED: ' + self.message})")


def _free_names(device: Device, free) -> tuple[str, ...]:
    if isinstance(free, str) or not isinstance(free, Sequence) or len(free) == 0:
        raise ValueError(f"free must be a non-empty sequence of parameter names, got {free!r}")
    allowed = fittable(device)
    for name in free:
        if name not in allowed:
            raise ValueError(f"free: {name!r} is not a fittable parameter of {type(device).__name__}; "
                             f"choose from {list(allowed)}")
    if len(set(free)) != len(free):
        raise ValueError(f"free lists a parameter twice: {list(free)}")
    return tuple(free)


def _sigma(sigma, n: int, data: np.ndarray) -> np.ndarray:
    if sigma is None:
        rms = float(np.sqrt(np.mean(data**2)))
        return np.full(n, rms if rms > 0 else 1.0)  # a constant scale: conditioning only
    s = np.broadcast_to(np.asarray(sigma, dtype=float), (n,)) if np.ndim(sigma) == 0 else np.asarray(sigma, float)
    if s.shape != (n,) or not np.all(np.isfinite(s)) or np.any(s <= 0):
        raise ValueError(f"sigma must be a number > 0 or {n} finite values > 0 (one per data point)")
    return s


def fit(
    device: Device,
    data: IVSweep | PulseTrain,
    free: Sequence[str],
    *,
    x0: float = 0.5,
    bounds: Mapping[str, tuple[float, float]] | None = None,
    sigma: float | np.ndarray | None = None,
    dt: float | None = None,
    method: Method = "rk4",
    tol: float = 1e-10,
    max_nfev: int = 200,
) -> FitResult:
    """Fit parameters of a device model to a measured sweep or pulse train.

    Parameters
    ----------
    device : Device
        The starting device: a :class:`~memsim.devices.models.VTEAM`,
        :class:`~memsim.devices.models.LinearIonDrift`,
        :class:`~memsim.devices.models.CaravelliTraversaDiVentra` or
        mean-field :class:`~memsim.devices.models.MetastableSwitch`. Its values
        start the free parameters and fix the others.
    data : IVSweep or PulseTrain
    free : sequence of str
        Parameters to fit (see :func:`fittable`); ``"x0"`` frees the initial state.
    x0 : float
        Initial state of the device at the first sample (or before the first
        pulse): the start of the fit when ``"x0"`` is free, else fixed.
    bounds : mapping name -> (low, high), optional
        Search ranges in natural units. By default a log-parameterised
        parameter stays within a factor :data:`LOG_RANGE` of its start and
        inside the model's limits, a linear one inside the model's limits.
    sigma : float or (n,) array, optional
        Standard deviation of each data point (data units). The residuals
        are divided by it (weighted least squares); the covariance is
        scaled by the residual variance either way (``s^2 (J^T J)^-1``).
    dt : float, optional
        Largest integration step (s); default :data:`SWEEP_SUBSTEPS` steps per
        sample interval of a sweep (see :func:`simulate_sweep`), a tenth of the
        shortest pulse.
    method : {"euler", "heun", "rk4"}
        Fixed-step scheme of :func:`memsim.solve.prepare`.
    tol : float
        ``ftol``, ``xtol`` and ``gtol`` of :func:`scipy.optimize.least_squares`.
    max_nfev : int
        Most evaluations of the residuals.

    Returns
    -------
    FitResult

    Notes
    -----
    The fit is local. Where the state is clipped at a bound (a device
    without window driven to fully ON or OFF) the residuals are not smooth
    and local minima exist: a +-0.3 V triangle sweep of a VTEAM device from
    ``x = 0.4``, started at 1.3 times the true ``r_on, r_off, k_off,
    alpha_off``, stops with ``r_off`` 15 % off and a residual RMS of 1.7 %
    of the current. Compare ``rms`` with the noise of the measurement, and
    restart from other devices when it is larger.

    Examples
    --------
    >>> t = np.linspace(0.0, 1.0, 201)
    >>> data = simulate_sweep(LinearIonDrift(mu_v=2e-14), t, np.sin(2 * np.pi * t), x0=0.1, dt=1e-3)
    >>> res = fit(LinearIonDrift(), data, ["mu_v"], x0=0.1, dt=1e-3)
    >>> round(res.params["mu_v"] / 1e-14, 6), res.success
    (2.0, True)
    """
    device = _dynamic(device)
    if not isinstance(data, (IVSweep, PulseTrain)):
        raise ValueError(f"data must be an IVSweep or a PulseTrain, got {type(data).__name__}")
    names = _free_names(device, free)
    x0 = _check_x0(x0)
    _check_method(method, dt)
    if bounds is not None:
        if not isinstance(bounds, Mapping):
            raise ValueError(f"bounds must be a mapping name -> (low, high), got {type(bounds).__name__}")
        extra = sorted(set(bounds) - set(names))
        if extra:
            raise ValueError(f"bounds: {extra} are not free parameters {list(names)}")
    if not (isinstance(tol, numbers.Real) and 0 < tol < 1):
        raise ValueError(f"tol must be a number in (0, 1), got {tol!r}")
    if isinstance(max_nfev, bool) or not isinstance(max_nfev, numbers.Integral) or max_nfev < 1:
        raise ValueError(f"max_nfev must be an integer >= 1, got {max_nfev!r}")
    measured = data.i if isinstance(data, IVSweep) else data.response
    n, p = measured.size, len(names)
    if n <= p:
        raise ValueError(f"data has {n} points for {p} free parameters: need more points than parameters")
    scale = _sigma(sigma, n, measured)
    model = _Model(device, data, dt, method)
    kinds = [_spec(device, nm)[0] for nm in names]
    start = [x0 if nm == "x0" else float(getattr(device, nm)) for nm in names]
    for nm, kind, val in zip(names, kinds, start):
        if (kind == "log" and not val > 0) or (kind == "neglog" and not val < 0):
            sign = "> 0" if kind == "log" else "< 0"
            raise ValueError(f"{type(device).__name__}.{nm} = {val!r} cannot start a fit: it is fitted as a "
                             f"logarithm and needs a starting value {sign}")
    theta0 = np.array([_to_theta(k, v) for k, v in zip(kinds, start)])
    lims = [_theta_bounds(device, nm, v, (bounds or {}).get(nm)) for nm, v in zip(names, start)]
    lb, ub = np.array([b[0] for b in lims]), np.array([b[1] for b in lims])
    linear = np.array([k == "lin" for k in kinds])

    def candidate(theta: np.ndarray) -> tuple[Device | None, float]:
        values = {nm: float(_from_theta(k, th)) for nm, k, th in zip(names, kinds, theta)}
        x_start = values.pop("x0", x0)
        try:
            return replace(device, **values), x_start
        except ValueError:  # e.g. r_on >= r_off: not a device
            return None, x_start

    def residuals(thetas: np.ndarray) -> np.ndarray:
        cands = [candidate(th) for th in thetas]
        pred = model.predict([c[0] for c in cands], np.array([c[1] for c in cands]))
        return (pred - measured[None, :]) / scale[None, :]

    def fun(theta: np.ndarray) -> np.ndarray:
        r = residuals(theta[None, :])[0]
        return np.where(np.isfinite(r), r, _INVALID)

    def jac(theta: np.ndarray) -> np.ndarray:
        h = np.where(linear, FD_STEP * np.maximum(1.0, np.abs(theta)), FD_STEP)  # a log step is a relative one
        up, down = theta + h <= ub, theta - h >= lb
        batch = [theta]
        for j in range(p):
            for side in (1.0, -1.0):
                th = theta.copy()
                th[j] += side * h[j]
                batch.append(th)
        r = residuals(np.array(batch))
        r0, out = r[0], np.zeros((n, p))
        for j in range(p):
            rp, rm = r[1 + 2 * j], r[2 + 2 * j]
            okp, okm = up[j] and np.all(np.isfinite(rp)), down[j] and np.all(np.isfinite(rm))
            if okp and okm:
                out[:, j] = (rp - rm) / (2 * h[j])
            elif okp:
                out[:, j] = (rp - r0) / h[j]
            elif okm:
                out[:, j] = (r0 - rm) / h[j]
        return out

    sol = so.least_squares(fun, np.clip(theta0, lb, ub), jac=jac, bounds=(lb, ub), method="trf",
                           ftol=tol, xtol=tol, gtol=tol, max_nfev=max_nfev, x_scale="jac")
    theta = sol.x
    r = fun(theta)
    jm = jac(theta)
    s2 = float(r @ r) / (n - p)
    _, sv, vt = np.linalg.svd(jm, full_matrices=False)
    good = sv > IDENTIFIABLE * sv[0] if sv[0] > 0 else np.zeros(p, bool)
    cov_t = s2 * (vt[good].T / sv[good] ** 2) @ vt[good]
    lost = np.any(np.abs(vt[~good]) > 1e-3, axis=0) if (~good).any() else np.zeros(p, bool)
    values = np.array([float(_from_theta(k, th)) for k, th in zip(kinds, theta)])
    deriv = np.array([v if k != "lin" else 1.0 for k, v in zip(kinds, values)])  # d value / d theta
    cov = deriv[:, None] * cov_t * deriv[None, :]
    cov[lost, :] = np.nan
    cov[:, lost] = np.nan
    se = np.where(lost, np.inf, np.sqrt(np.abs(np.diag(cov_t))) * np.abs(deriv))
    fitted, x_fit = candidate(theta)
    if fitted is None:  # pragma: no cover - least_squares never accepts an invalid step from a valid start
        raise RuntimeError("fit ended on an invalid device")
    message = sol.message.rstrip(".")
    if lost.any():
        k = int((~good).sum())
        message += (f"; not identifiable from these data: {', '.join(nm for nm, l in zip(names, lost) if l)} "
                    f"(the residuals do not change along {k} combination{'s' if k > 1 else ''} of them: "
                    f"fix {k} of them)")
    near = np.where(linear, 1e-6 * np.maximum(1.0, np.abs(theta)), 1e-6)  # least_squares stays strictly inside
    at_bound = [nm for nm, th, lo_, hi_, d in zip(names, theta, lb, ub, near) if th - lo_ <= d or hi_ - th <= d]
    if at_bound:
        message += f"; at a bound of the search: {', '.join(at_bound)}"
    resid = r * scale
    return FitResult(
        device=fitted, params=dict(zip(names, values.tolist())), stderr=dict(zip(names, se.tolist())),
        cost=0.5 * float((r @ r) if sigma is not None else (resid @ resid)),
        rms=float(np.sqrt(np.mean(resid**2))), n_points=n, success=bool(sol.success and not lost.any()),
        message=message, x0=float(x_fit), covariance=cov, residuals=resid, nfev=int(sol.nfev),
    )
