"""Pulse-response models: the change per programming pulse as a function of the state.

A set pulse moves a cell's device state ``x`` up by ``f_up(x)``, a reset pulse
down by ``f_down(1 - x)`` (the down step is written in the distance from the
upper bound, so one family formula serves both directions); the conductance
step per pulse is then ``g(x + f) - g(x)`` with the device's own ``g(x)``, a
function of the conductance since ``g`` is monotonic. Writing the model on the
state keeps it exact where the physics is simple: a threshold device without
a window moves by a constant ``dx`` per pulse (``"linear-step"`` with
``b = 0``), a metastable switch by soft bounds, while its conductance step is
strongly nonlinear. For a device whose conductance is linear in ``x`` (the
metastable switch) the two views coincide. The families are those aihwkit
names (Rasch et al., "A flexible and fast PyTorch toolkit for simulating
training and inference on analog crossbar arrays", AICAS 2021):

- ``"soft-bounds"``: ``f(s) = a (1 - s)`` (steps shrink towards the bound; Gokmen
  & Haensch, Front. Neurosci. 14, 103, 2020);
- ``"linear-step"``: ``f(s) = a + b s``;
- ``"exp-step"``: ``f(s) = a exp(b s)``;
- ``"table"`` (ours): piecewise-linear on uniform knots in ``[0, 1]``.

Negative steps are clipped to 0 and ``x`` to ``[0, 1]``. Each step is
multiplied by the cell's device-to-device factor and a fresh log-normal
cycle-to-cycle factor ``exp(sigma z - sigma^2 / 2)`` (mean 1, as in
:mod:`memsim.devices.variability`).

:func:`pulse_response` fits these models to the device ODE: it integrates
identical pulses with memsim's integrator (:func:`memsim.solve.prepare`) and
fits each family to the measured steps.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Literal

import networkx as nx
import numpy as np
import scipy.optimize as so

from memsim.arrays.kernels import FAMILY_CODES, N_THETA
from memsim.circuit.network import Network
from memsim.devices.models import MODEL_GMS, Device
from memsim.devices.variability import Variability
from memsim.solve import Segment, prepare

__all__ = ["Family", "Step", "PulseResponse", "pulse_response", "exact_pulses", "trajectory"]

Family = Literal["soft-bounds", "linear-step", "exp-step", "table"]

#: Cells integrated together by one prepared pulse network in exact writes.
EXACT_CHUNK = 4096
#: Knots of a fitted ``"table"`` step.
TABLE_KNOTS = 33
#: Fitted trajectories start this far inside the bounds: a window function that
#: vanishes at a bound (Joglekar's) makes the bound itself a fixed point.
FIT_START = 1e-3


@dataclass(frozen=True)
class Step:
    """A step family and its parameters (see the module docstring).

    Examples
    --------
    >>> Step("soft-bounds", (0.1,))(np.array([0.0, 0.5, 1.0]))
    array([0.1 , 0.05, 0.  ])
    """

    family: Family
    params: tuple[float, ...]

    def __post_init__(self) -> None:
        if self.family not in FAMILY_CODES:
            raise ValueError(f"Step.family must be one of {sorted(FAMILY_CODES)}, got {self.family!r}")
        need = {"soft-bounds": 1, "linear-step": 2, "exp-step": 2}.get(self.family)
        n = len(self.params)
        if (need is not None and n != need) or (need is None and not 2 <= n <= N_THETA):
            want = need if need is not None else f"2..{N_THETA}"
            raise ValueError(f"Step.params of family {self.family!r} must have {want} values, got {n}")
        if not all(isinstance(p, (int, float)) and math.isfinite(p) for p in self.params):
            raise ValueError(f"Step.params must be finite numbers, got {self.params!r}")

    def __call__(self, s: np.ndarray) -> np.ndarray:
        """Step size at distance variable ``s`` in [0, 1] (>= 0)."""
        s = np.asarray(s, dtype=float)
        p = self.params
        if self.family == "soft-bounds":
            f = p[0] * (1.0 - s)
        elif self.family == "linear-step":
            f = p[0] + p[1] * s
        elif self.family == "exp-step":
            f = p[0] * np.exp(p[1] * s)
        else:
            f = np.interp(s, np.linspace(0.0, 1.0, len(p)), p)
        return np.maximum(f, 0.0)

    def packed(self) -> tuple[int, np.ndarray, int]:
        """``(family code, parameters padded to N_THETA, number of parameters)``."""
        theta = np.zeros(N_THETA)
        theta[: len(self.params)] = self.params
        return FAMILY_CODES[self.family], theta, len(self.params)


ZERO_STEP = Step("soft-bounds", (0.0,))


@dataclass(frozen=True)
class PulseResponse:
    """Up (set) and down (reset) step models of one pulse amplitude.

    ``source`` is ``"fitted"`` for models fitted to a device ODE by
    :func:`pulse_response`, else the citation of a published model.
    ``fit_error`` holds the RMS deviation (in normalised conductance) of the
    model's trajectory from the fitted one, up and down.

    Examples
    --------
    >>> r = PulseResponse(Step("soft-bounds", (0.01,)), Step("soft-bounds", (0.01,)), source="example")
    >>> float(r.up(np.array(0.0)))
    0.01
    """

    up: Step
    down: Step
    source: str = "fitted"
    fit_error: tuple[float, float] = (0.0, 0.0)

    def __post_init__(self) -> None:
        if not isinstance(self.up, Step) or not isinstance(self.down, Step):
            raise ValueError("PulseResponse.up and .down must be Step objects")
        if not isinstance(self.source, str) or not self.source:
            raise ValueError("PulseResponse.source must be a non-empty string")

    def nominal_steps(self) -> tuple[float, float]:
        """Step of one set and of one reset pulse at mid-range (``gn = 0.5``)."""
        return float(self.up(np.array(0.5))), float(self.down(np.array(0.5)))


def trajectory(step: Step, start: float, n_pulses: int) -> np.ndarray:
    """Deterministic trajectory of ``s`` (the distance variable) under ``n_pulses`` steps.

    Examples
    --------
    >>> trajectory(Step("soft-bounds", (0.5,)), 0.0, 2)
    array([0.  , 0.5 , 0.75])
    """
    out = np.empty(n_pulses + 1)
    s = out[0] = start
    for k in range(n_pulses):
        s = min(max(s + float(step(np.array(s))), 0.0), 1.0)
        out[k + 1] = s
    return out


# --------------------------------------------------------------------------- exact pulses


@functools.lru_cache(maxsize=16)
def _pulse_network(device: Device, amplitude: float, width: float, dt: float, n: int):
    g = nx.DiGraph()
    g.add_node("gnd", role="output")
    for e in range(n):
        g.add_node(("c", e), role="input")
        g.add_edge(("c", e), "gnd", index=e)
    net = Network.from_graph(g, device).compile()
    seg = Segment(width, drive={("c", e): amplitude for e in range(n)}, ground=["gnd"])
    return prepare(net, seg, dt=dt, method="rk4", record=(), record_every=1 << 62)


def exact_pulses(
    device: Device,
    x: np.ndarray,
    amplitude: float,
    width: float,
    dt: float,
    *,
    params: np.ndarray | None = None,
    c2c: float = 0.0,
    seed: int | np.random.Generator | None = None,
) -> np.ndarray:
    """States after one voltage pulse across each of independent cells (device ODE).

    Every cell is its own edge between a driven node and ground in a pulse
    network integrated by :func:`memsim.solve.prepare` (RK4, steps of at most
    ``dt``), so each cell sees exactly ``amplitude`` for ``width`` seconds.
    ``params`` (C, P) are per-cell packed parameters (default: the device's);
    ``c2c`` multiplies each cell's rate by a log-normal factor for this pulse.

    Examples
    --------
    >>> from memsim.devices import VTEAM
    >>> x = exact_pulses(VTEAM(), np.zeros(3), -0.22, 1e-9, 1e-10)
    >>> bool(np.all(x > 0))
    True
    """
    x = np.asarray(x, dtype=float)
    c = x.size
    n = min(EXACT_CHUNK, max(c, 1))
    prep = _pulse_network(device, float(amplitude), float(width), float(dt), n)
    nominal = device.pack()
    rng = np.random.default_rng(seed) if c2c > 0 else None
    var = Variability(c2c=c2c) if c2c > 0 else None
    out = np.empty(c)
    for lo in range(0, c, n):
        hi = min(lo + n, c)
        xs = np.zeros(n)
        xs[: hi - lo] = x[lo:hi]
        prm = np.broadcast_to(nominal, (n, nominal.size)).copy()
        if params is not None:
            prm[: hi - lo] = params[lo:hi]
        res = prep.run(xs, params=prm, variability=var, seed=rng)
        out[lo:hi] = res.x_final[: hi - lo]
    return out


def _normalised_single(device: Device, x: np.ndarray) -> np.ndarray:
    if device.model_id == MODEL_GMS:
        return x
    g = 1.0 / (device.r_on * x + device.r_off * (1.0 - x))
    return (g - 1.0 / device.r_off) / (1.0 / device.r_on - 1.0 / device.r_off)


# --------------------------------------------------------------------------- fitting


def _fit_family(family: str, s: np.ndarray, d: np.ndarray) -> Step:
    if family == "soft-bounds":
        w = 1.0 - s
        den = float(w @ w)
        return Step(family, (float(w @ d) / den if den > 0 else 0.0,))
    if family == "linear-step":
        coef, *_ = np.linalg.lstsq(np.column_stack([np.ones_like(s), s]), d, rcond=None)
        return Step(family, (float(coef[0]), float(coef[1])))
    if family == "exp-step":
        pos = d > 0
        if pos.sum() < 2:
            return Step(family, (float(d.mean()), 0.0))
        b0, la0 = np.polyfit(s[pos], np.log(d[pos]), 1)
        sol = so.least_squares(lambda p: p[0] * np.exp(p[1] * s) - d, x0=[math.exp(la0), b0], method="lm")
        return Step(family, (float(sol.x[0]), float(sol.x[1])))
    knots = np.linspace(0.0, 1.0, TABLE_KNOTS)
    pos = s * (TABLE_KNOTS - 1)
    k = np.minimum(np.floor(pos).astype(int), TABLE_KNOTS - 2)
    frac = pos - k
    basis = np.zeros((s.size, TABLE_KNOTS))
    basis[np.arange(s.size), k] = 1.0 - frac
    basis[np.arange(s.size), k + 1] += frac
    used = basis.sum(axis=0) > 1e-9
    vals = np.zeros(TABLE_KNOTS)
    coef, *_ = np.linalg.lstsq(basis[:, used], d, rcond=None)
    vals[used] = coef
    vals = np.interp(knots, knots[used], vals[used])  # knots the data never reached
    return Step(family, tuple(float(v) for v in vals))


def _fit_direction(s_traj: np.ndarray, family: str) -> tuple[Step, float]:
    s_all = s_traj[:-1]
    d_all = np.diff(s_traj)
    # steps that ended on the bound were cut short by it (the model clips there itself)
    keep = s_traj[1:] < 1.0 - 1e-12
    s, d = s_all[keep], d_all[keep]
    if not np.any(d > 0):
        return ZERO_STEP, 0.0
    fams = ["soft-bounds", "linear-step", "exp-step", "table"] if family == "auto" else [family]
    fits = []
    for fam in fams:
        step = _fit_family(fam, s, d)
        fits.append((step, float(np.sqrt(np.mean((trajectory(step, s_traj[0], s_all.size) - s_traj) ** 2)))))
    least = min(err for _, err in fits)
    # the simplest family (in the order above) that fits as well as the best, to rounding
    return next(f for f in fits if f[1] <= least * (1 + 1e-6) + 1e-9)


@functools.lru_cache(maxsize=32)
def pulse_response(
    device: Device, pulse, *, scale: float = 1.0, n_pulses: int = 1000, family: str = "auto"
) -> PulseResponse:
    """Fit a pulse-response model to the device ODE.

    Integrates ``n_pulses`` identical set pulses from ``x = FIT_START`` and as
    many reset pulses from ``x = 1 - FIT_START`` (amplitudes ``scale * pulse.v_set`` /
    ``scale * pulse.v_reset``; ``scale = 0.5`` gives the half-select
    disturbance), records the normalised conductance after each, and fits
    each family of the module docstring by least squares to the steps. With
    ``family="auto"`` the family whose deterministic trajectory is closest (RMS)
    to the integrated one is kept.

    Raises
    ------
    ValueError
        If the set pulse lowers (or the reset pulse raises) the conductance.

    Examples
    --------
    >>> from memsim.arrays.array import DEFAULT_PULSE
    >>> from memsim.devices import VTEAM
    >>> r = pulse_response(VTEAM(), DEFAULT_PULSE, n_pulses=200)
    >>> r.source, r.up.family
    ('fitted', 'linear-step')
    >>> dx = 10.0 * (0.215 / 0.2 - 1) ** 3 / 3e-9 * 1e-9   # VTEAM closed form: constant dx per pulse
    >>> bool(abs(r.up.params[0] - dx) < 1e-12)
    True
    """
    if family != "auto" and family not in FAMILY_CODES:
        raise ValueError(f"family must be 'auto' or one of {sorted(FAMILY_CODES)}, got {family!r}")
    if not (isinstance(n_pulses, int) and n_pulses >= 2):
        raise ValueError(f"n_pulses must be an integer >= 2, got {n_pulses!r}")
    if not (math.isfinite(scale) and scale > 0):
        raise ValueError(f"scale must be a finite number > 0, got {scale!r}")
    trajs = []
    for v, x0, sign, name in ((pulse.v_set, FIT_START, 1.0, "v_set"), (pulse.v_reset, 1.0 - FIT_START, -1.0, "v_reset")):
        x = np.array([x0])
        xs = np.empty(n_pulses + 1)
        xs[0] = x0
        for k in range(n_pulses):
            x = exact_pulses(device, x, scale * v, pulse.width, pulse.step)
            xs[k + 1] = x[0]
        g = _normalised_single(device, xs)
        if (g[-1] - g[0]) * sign < -1e-12:
            raise ValueError(
                f"pulse.{name} = {v!r} V moves {type(device).__name__} the wrong way "
                f"({'lowers' if sign > 0 else 'raises'} its conductance): flip its sign"
            )
        trajs.append(xs if sign > 0 else 1.0 - xs)
    up, e_up = _fit_direction(trajs[0], family)
    down, e_down = _fit_direction(trajs[1], family)
    return PulseResponse(up, down, source="fitted", fit_error=(e_up, e_down))
