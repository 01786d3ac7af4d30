"""Synapse arrays: the frozen description and the weight <-> conductance mapping.

A :class:`SynapseArray` describes a crossbar that holds a ``rows x cols`` weight
matrix as device conductances: ``rows`` word lines carry the inputs as voltages,
the columns' currents are the outputs. Each weight uses two physical columns
(``mapping="differential"``: ``w = w_max (g+ - g-) / (g_on - g_off)``, columns
``2j`` (G+) and ``2j + 1`` (G-)), or one column against a shared reference
column held at mid-range (``mapping="reference"``: ``w = 2 w_max (g - g_ref) /
(g_on - g_off)``, the reference is the last physical column). Weights are
scaled with the *nominal* device's conductance range, as the peripheral
circuit of a real chip is: device-to-device spread therefore shows up as weight
error.

The state of an array is a plain float array of device states ``x`` in
``[0, 1]``, shape ``(rows, physical_cols)`` or ``(K, rows, physical_cols)`` for
``K`` copies (chips); it never lives in the dataclass. The device population of
copy ``k`` (device-to-device spread and stuck cells drawn from
``variability``) is a pure function of ``(array, k)``: the same whatever the
number of copies.

:class:`IdealArray` is the software reference: its state is the float weight
matrix itself.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from memsim.devices.models import MODEL_GMS, Device, VTEAM
from memsim.devices.variability import Variability, sample_devices

__all__ = [
    "Mapping",
    "WriteMode",
    "Pulse",
    "SynapseArray",
    "IdealArray",
    "Population",
    "population",
    "initial_state",
    "conductances",
    "weights",
    "normalised",
    "states_from_normalised",
    "states_from_conductances",
    "check_state",
]

Mapping = Literal["differential", "reference"]
WriteMode = Literal["exact", "response"]


def _finite(owner: str, name: str, val, lo: float = -math.inf, *, strict: bool = False) -> None:
    ok = isinstance(val, (int, float, np.integer, np.floating)) and not isinstance(val, bool) and math.isfinite(val)
    if not ok or (val <= lo if strict else val < lo):
        rel = ">" if strict else ">="
        bound = "" if lo == -math.inf else f" {rel} {lo:g}"
        raise ValueError(f"{owner}.{name} must be a finite number{bound}, got {val!r}")


def _count(owner: str, name: str, val, lo: int, *, optional: bool = False) -> None:
    if optional and val is None:
        return
    if not (isinstance(val, (int, np.integer)) and not isinstance(val, bool) and val >= lo):
        raise ValueError(f"{owner}.{name} must be an integer >= {lo}{' or None' if optional else ''}, got {val!r}")


@dataclass(frozen=True)
class Pulse:
    """A programming pulse: the voltage across the cell and its width.

    ``v_set`` raises the conductance, ``v_reset`` lowers it; their signs depend
    on the device model's polarity (VTEAM turns ON below ``v_on < 0``, so its
    set pulse is negative). ``dt`` is the largest integration step of exact
    writes (default ``width / 20``).

    Examples
    --------
    >>> Pulse(v_set=-0.215, v_reset=0.05, width=1e-9).width
    1e-09
    """

    v_set: float  # V, across the cell; raises the conductance
    v_reset: float  # V, across the cell; lowers the conductance
    width: float  # s
    dt: float | None = None  # s, largest RK4 step of exact writes; None = width / 20

    def __post_init__(self) -> None:
        _finite("Pulse", "v_set", self.v_set)
        _finite("Pulse", "v_reset", self.v_reset)
        _finite("Pulse", "width", self.width, 0.0, strict=True)
        if self.dt is not None:
            _finite("Pulse", "dt", self.dt, 0.0, strict=True)
        if self.v_set == 0 or self.v_reset == 0 or math.copysign(1, self.v_set) == math.copysign(1, self.v_reset):
            raise ValueError(
                f"Pulse: v_set ({self.v_set!r} V) and v_reset ({self.v_reset!r} V) must be non-zero and of opposite sign"
            )

    @property
    def step(self) -> float:
        """Largest integration step (s) of exact writes."""
        return self.width / 20 if self.dt is None else min(self.dt, self.width)


#: VTEAM pulses of the default array: ``-0.215 V`` (0.015 V past ``v_on``) sets and
#: ``+0.05 V`` resets; 1 ns and 10 ns wide, a choice that moves the VTEAM preset of
#: Kvatinsky et al. (2015) through its range in a few hundred set pulses.
DEFAULT_PULSE = Pulse(v_set=-0.215, v_reset=0.05, width=1e-9)


@dataclass(frozen=True)
class SynapseArray:
    """A crossbar holding a ``rows x cols`` weight matrix as device conductances.

    Parameters
    ----------
    rows, cols : int
        Inputs (word lines) and logical outputs (weights per input).
    device : Device
        The memristor of every cell (any :mod:`memsim.devices` model).
    pulse : Pulse
        Programming pulse amplitudes and width.
    mapping : {"differential", "reference"}
        Weight mapping (see the module docstring).
    w_max : float
        Weight represented by the full conductance range (1 = largest |w|).
    r_wire : float
        Resistance of each wire segment between neighbouring cells (ohm);
        0 is the ideal crossbar (no IR drop).
    v_read : float
        Read voltage at input 1 (V), applied to the word lines.
    dac_bits, adc_bits : int or None
        Input (DAC) and output (ADC) bit widths; None = no quantisation.
    adc_range : float or None
        ADC full scale in weight units (outputs clip to ``+-adc_range``);
        None = ``rows * w_max``, the largest possible output.
    read_noise : float
        Standard deviation of Gaussian noise added to each output, in weight
        units (one full-scale weight at unit input).
    variability : Variability
        Device-to-device spread, cycle-to-cycle write noise and stuck cells.
    write : {"exact", "response"}
        How :func:`~memsim.arrays.program` applies pulses: each pulse
        integrated through the device ODE, or the fitted/published
        pulse-response model.
    response : PulseResponse or None
        The pulse-response model; None = fitted from ``device`` and ``pulse``
        by :func:`~memsim.arrays.pulse_response` on first use.
    seed : int
        Seed of this chip's device population (spread and stuck cells).

    Examples
    --------
    >>> arr = SynapseArray(3, 2)
    >>> arr.physical_cols, arr.shape
    (4, (3, 2))
    """

    rows: int
    cols: int
    device: Device = field(default_factory=VTEAM)
    pulse: Pulse = DEFAULT_PULSE
    mapping: Mapping = "differential"
    w_max: float = 1.0  # weight units
    r_wire: float = 0.0  # ohm per segment
    v_read: float = 0.01  # V
    dac_bits: int | None = None
    adc_bits: int | None = None
    adc_range: float | None = None  # weight units
    read_noise: float = 0.0  # weight units
    variability: Variability = field(default_factory=Variability)
    write: WriteMode = "response"
    response: object = None  # PulseResponse or None (typed loosely: defined in a later module)
    seed: int = 0

    def __post_init__(self) -> None:
        _count("SynapseArray", "rows", self.rows, 1)
        _count("SynapseArray", "cols", self.cols, 1)
        if not isinstance(self.device, Device) or not self.device.dynamic:
            raise ValueError(f"SynapseArray.device must be a memristor model from memsim.devices, got {self.device!r}")
        if not isinstance(self.pulse, Pulse):
            raise ValueError(f"SynapseArray.pulse must be a Pulse, got {self.pulse!r}")
        if self.mapping not in ("differential", "reference"):
            raise ValueError(f"SynapseArray.mapping must be 'differential' or 'reference', got {self.mapping!r}")
        _finite("SynapseArray", "w_max", self.w_max, 0.0, strict=True)
        _finite("SynapseArray", "r_wire", self.r_wire, 0.0)
        _finite("SynapseArray", "v_read", self.v_read, 0.0, strict=True)
        _count("SynapseArray", "dac_bits", self.dac_bits, 1, optional=True)
        _count("SynapseArray", "adc_bits", self.adc_bits, 1, optional=True)
        if self.adc_range is not None:
            _finite("SynapseArray", "adc_range", self.adc_range, 0.0, strict=True)
        _finite("SynapseArray", "read_noise", self.read_noise, 0.0)
        if not isinstance(self.variability, Variability):
            raise ValueError(f"SynapseArray.variability must be a Variability, got {self.variability!r}")
        if self.write not in ("exact", "response"):
            raise ValueError(f"SynapseArray.write must be 'exact' or 'response', got {self.write!r}")
        if self.response is not None:
            from memsim.arrays.response import PulseResponse

            if not isinstance(self.response, PulseResponse):
                raise ValueError(f"SynapseArray.response must be a PulseResponse or None, got {self.response!r}")
            if self.write == "exact" and self.response.source != "fitted":
                raise ValueError(
                    "SynapseArray.write='exact' integrates the device ODE, but response is a published "
                    f"phenomenological model ({self.response.source}); use write='response'"
                )
        _count("SynapseArray", "seed", self.seed, 0)

    @property
    def shape(self) -> tuple[int, int]:
        """Logical weight-matrix shape ``(rows, cols)``."""
        return (self.rows, self.cols)

    @property
    def physical_cols(self) -> int:
        """Physical columns: ``2 cols`` (differential) or ``cols + 1`` (reference)."""
        return 2 * self.cols if self.mapping == "differential" else self.cols + 1

    @property
    def cell_shape(self) -> tuple[int, int]:
        """Shape ``(rows, physical_cols)`` of one copy's state."""
        return (self.rows, self.physical_cols)

    @property
    def g_range(self) -> tuple[float, float]:
        """Nominal ``(g_off, g_on)`` (S): conductances at ``x = 0`` and ``x = 1``."""
        return (1.0 / self.device.r_off, 1.0 / self.device.r_on)

    @property
    def weight_per_g(self) -> float:
        """Weight per siemens of conductance difference (nominal scaling)."""
        g_off, g_on = self.g_range
        scale = self.w_max / (g_on - g_off)
        return scale if self.mapping == "differential" else 2.0 * scale


@dataclass(frozen=True)
class IdealArray:
    """Float weights: the software reference every array is compared with.

    Its state is the ``(rows, cols)`` (or ``(K, rows, cols)``) weight matrix;
    :func:`~memsim.arrays.read` is an exact matrix product and
    :func:`~memsim.arrays.apply_update` adds the update (after the policy's
    clipping and bit quantisation, if a policy is given).

    Examples
    --------
    >>> IdealArray(2, 3).shape
    (2, 3)
    """

    rows: int
    cols: int

    def __post_init__(self) -> None:
        _count("IdealArray", "rows", self.rows, 1)
        _count("IdealArray", "cols", self.cols, 1)

    @property
    def shape(self) -> tuple[int, int]:
        return (self.rows, self.cols)

    @property
    def cell_shape(self) -> tuple[int, int]:
        return (self.rows, self.cols)


@dataclass(frozen=True)
class Population:
    """Per-cell device parameters of ``K`` copies, read-only arrays of shape ``(K, rows, physical_cols)``.

    ``r_on``/``r_off`` (ohm) set each cell's conductance range; ``step`` is the
    device-to-device multiplier of the pulse response (mean 1); ``stuck``
    cells never move from ``stuck_state``. Without spread or stuck cells these
    are broadcast views of one value (no memory per cell).
    """

    r_on: np.ndarray
    r_off: np.ndarray
    step: np.ndarray
    stuck: np.ndarray
    stuck_state: np.ndarray

    @property
    def uniform(self) -> bool:
        """Whether every cell has the nominal parameters and none is stuck."""
        return self.r_on.strides == (0, 0, 0)


def _spread(var: Variability) -> bool:
    return var.d2d > 0 or var.p_stuck_on > 0 or var.p_stuck_off > 0


@functools.lru_cache(maxsize=64)
def _copy_population(array: SynapseArray, copy: int) -> tuple[np.ndarray, ...]:
    """Packed parameters (cells, P), step factors, stuck mask and stuck states of one copy."""
    n = array.rows * array.physical_cols
    nominal = array.device.pack()
    model = np.full(n, array.device.model_id)
    rng = np.random.default_rng(np.random.SeedSequence([array.seed, copy]))
    var = array.variability
    sample = sample_devices(model, np.broadcast_to(nominal, (n, nominal.size)), 1, var, rng)
    if var.d2d > 0:
        step = np.exp(var.d2d * rng.standard_normal(n) - 0.5 * var.d2d**2)
    else:
        step = np.ones(n)
    out = (sample.params[0], step, sample.stuck[0], sample.stuck_state[0])
    for a in out:
        a.flags.writeable = False
    return out


@functools.lru_cache(maxsize=16)
def _population(array: SynapseArray, k: int) -> Population:
    shape = (k,) + array.cell_shape
    if not _spread(array.variability):
        def const(v, dtype=float):
            return np.broadcast_to(np.array(v, dtype=dtype), shape)

        dev = array.device
        return Population(const(dev.r_on), const(dev.r_off), const(1.0), const(False, bool), const(0.0))
    parts = [_copy_population(array, c) for c in range(k)]
    params = np.stack([p[0] for p in parts])
    arrays = (params[:, :, 0].reshape(shape), params[:, :, 1].reshape(shape),
              np.stack([p[1] for p in parts]).reshape(shape), np.stack([p[2] for p in parts]).reshape(shape),
              np.stack([p[3] for p in parts]).reshape(shape))
    for a in arrays:
        a.flags.writeable = False
    return Population(*arrays)


def population(array: SynapseArray, n_copies: int | None = None) -> Population:
    """The device population of copies ``0 .. n_copies - 1`` (one copy if None).

    Copy ``k`` is drawn from ``SeedSequence([array.seed, k])``, so it is the same
    for any ``n_copies``.

    Examples
    --------
    >>> from memsim.devices import Variability
    >>> arr = SynapseArray(2, 2, variability=Variability(d2d=0.1))
    >>> p4 = population(arr, 4); p1 = population(arr)
    >>> bool(np.array_equal(p4.r_on[0], p1.r_on[0])), p4.r_on.shape
    (True, (4, 2, 4))
    """
    return _population(array, 1 if n_copies is None else int(n_copies))


def cell_params(array: SynapseArray, n_copies: int) -> np.ndarray:
    """Packed device parameters ``(n_copies * rows * physical_cols, P)`` of every cell (for exact writes)."""
    if not _spread(array.variability):
        nominal = array.device.pack()
        return np.broadcast_to(nominal, (n_copies * array.rows * array.physical_cols, nominal.size))
    return np.concatenate([_copy_population(array, c)[0] for c in range(n_copies)])


def check_state(array: SynapseArray | IdealArray, state, name: str = "state", *,
                values: bool = True) -> tuple[np.ndarray, bool]:
    """Validate a state; return it as ``(K, rows, physical_cols)`` and whether it had a copy axis.

    ``values=False`` checks the shape only (for callers whose kernels check the values).
    """
    s = np.asarray(state, dtype=float)
    cell = array.cell_shape
    if s.shape == cell:
        s, batched = s[None], False
    elif s.ndim == 3 and s.shape[1:] == cell:
        batched = True
    else:
        raise ValueError(f"{name} must have shape {cell} or (K,) + {cell}, got {s.shape}")
    if not values or s.size == 0:
        return s, batched
    lo, hi = float(s.min()), float(s.max())  # NaN propagates into both
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise ValueError(f"{name} must be finite")
    if isinstance(array, SynapseArray) and not (lo >= 0 and hi <= 1):
        raise ValueError(f"{name} holds device states, which must lie in [0, 1]")
    return s, batched


def _model_is_parallel(array: SynapseArray) -> bool:
    return array.device.model_id == MODEL_GMS


def conductances(array: SynapseArray, state) -> np.ndarray:
    """Cell conductances (S) of a state, same shape as ``state``.

    Examples
    --------
    >>> arr = SynapseArray(1, 1)
    >>> conductances(arr, np.array([[0.0, 1.0]])) * arr.device.r_on
    array([[0.05, 1.  ]])
    """
    s, batched = check_state(array, state)
    pop = population(array, s.shape[0])
    x = s
    if _model_is_parallel(array):
        g = x / pop.r_on + (1.0 - x) / pop.r_off
    else:
        g = 1.0 / (pop.r_on * x + pop.r_off * (1.0 - x))
    return g if batched else g[0]


def normalised(array: SynapseArray, state) -> np.ndarray:
    """Each cell's conductance in its own range: ``(g - g(0)) / (g(1) - g(0))`` in [0, 1]."""
    s, batched = check_state(array, state)
    pop = population(array, s.shape[0])
    if _model_is_parallel(array):
        out = s.copy()
    else:
        g = 1.0 / (pop.r_on * s + pop.r_off * (1.0 - s))
        out = (g - 1.0 / pop.r_off) / (1.0 / pop.r_on - 1.0 / pop.r_off)
    return out if batched else out[0]


def states_from_conductances(array: SynapseArray, g, n_copies: int | None = None) -> np.ndarray:
    """Device states with conductances ``g`` (S), each cell through its own parameters.

    Conductances outside a cell's range give its bound state.
    """
    k = 1 if n_copies is None else n_copies
    pop = population(array, k)
    g = np.broadcast_to(np.asarray(g, dtype=float), pop.r_on.shape)
    g = np.clip(g, 1.0 / pop.r_off, 1.0 / pop.r_on)
    if _model_is_parallel(array):
        x = (g - 1.0 / pop.r_off) / (1.0 / pop.r_on - 1.0 / pop.r_off)
    else:
        x = (pop.r_off - 1.0 / g) / (pop.r_off - pop.r_on)
    x = np.clip(x, 0.0, 1.0)
    return x if n_copies is not None else x[0]


def states_from_normalised(array: SynapseArray, gn, n_copies: int | None = None) -> np.ndarray:
    """Device states with normalised conductances ``gn`` (inverse of :func:`normalised`)."""
    gn = np.clip(np.asarray(gn, dtype=float), 0.0, 1.0)
    pop = population(array, 1 if n_copies is None else n_copies)
    g = 1.0 / pop.r_off + gn * (1.0 / pop.r_on - 1.0 / pop.r_off)
    x = states_from_conductances(array, g, pop.r_on.shape[0])
    return x if n_copies is not None else x[0]


def initial_state(array: SynapseArray | IdealArray, n_copies: int | None = None) -> np.ndarray:
    """The state of zero weights (before any programming).

    Differential pairs start with both devices OFF (``x = 0``); the reference
    mapping starts every cell, the reference column included, at the nominal
    mid-range conductance (a cell whose spread range excludes it sits at its
    nearest bound). Stuck cells sit at their stuck state. An :class:`IdealArray`
    starts at zeros.

    Examples
    --------
    >>> arr = SynapseArray(2, 3)
    >>> initial_state(arr).shape, initial_state(arr, n_copies=4).shape
    ((2, 6), (4, 2, 6))
    >>> float(np.abs(weights(arr, initial_state(arr))).max())
    0.0
    """
    k = 1 if n_copies is None else int(n_copies)
    if isinstance(array, IdealArray):
        z = np.zeros((k,) + array.cell_shape)
        return z if n_copies is not None else z[0]
    if array.mapping == "differential":
        x = np.zeros((k,) + array.cell_shape)
    else:
        x = states_from_conductances(array, 0.5 * sum(array.g_range), k)
    pop = population(array, k)
    x = np.where(pop.stuck, pop.stuck_state, x)
    return x if n_copies is not None else x[0]


def weights(array: SynapseArray | IdealArray, state) -> np.ndarray:
    """The weights a state holds, as the periphery reads them (nominal scaling).

    Shape ``(rows, cols)`` or ``(K, rows, cols)``.

    Examples
    --------
    >>> arr = SynapseArray(1, 1, mapping="differential")
    >>> float(weights(arr, np.array([[1.0, 0.0]]))[0, 0])
    1.0
    """
    if isinstance(array, IdealArray):
        s, batched = check_state(array, state)
        return s if batched else s[0]
    g = conductances(array, state)
    if array.mapping == "differential":
        d = g[..., 0::2] - g[..., 1::2]
    else:
        d = g[..., :-1] - g[..., -1:]
    return d * array.weight_per_g
