"""ngspice interoperability: netlist export and a batch-mode runner.

:func:`to_spice` writes an ngspice netlist for any memsim network and protocol;
:func:`run_ngspice` runs the ``ngspice`` executable on it and reads the
trajectory back into the :class:`~memsim.solve.result.Result` that
:func:`memsim.simulate` returns, so the two simulators can be compared sample
by sample (``tests/spice``) and timed on the same circuit
(``benchmarks/vs_ngspice.py``).

How the circuit is written (ngspice has no memristor element):

- memristor ``e`` (``u -> v``): a behavioural current source
  ``B<e> n<u> n<v> I = V(n<u>,n<v>) * g(x)`` and a 1 F capacitor ``C<e> x<e> 0 1
  IC=x0`` whose voltage is the state, charged by ``BX<e> 0 x<e> I = dx/dt``,
  with the formulas of :mod:`memsim.devices.functions`. Windowed models keep
  ``[0, 1]`` invariant by themselves; for the others memsim's bound rule (an
  outward rate is zeroed at a bound, the state clipped) is written as a gate
  that ramps an outward rate to zero within ``bound_width`` (1e-9) of the
  bound plus a stiff restoring term (see :func:`_device` for why not a hard
  switch). Supported: :class:`~memsim.devices.models.LinearIonDrift` (every
  window), :class:`~memsim.devices.models.VTEAM`,
  :class:`~memsim.devices.models.CaravelliTraversaDiVentra` and the
  mean-field :class:`~memsim.devices.models.MetastableSwitch`; stochastic
  switches raise ``ValueError``.
- resistors as ``R``; a node's leak conductance as a linear ``G`` element.
- a node driven (or grounded) in every segment: a behavioural voltage source
  ``BD<i> d<i> 0 V = f(time)`` behind a 0 V ammeter ``VA<i> d<i> n<i> 0`` (its
  current is the current the terminal delivers into the network, memsim's
  ``i_node``). ``f`` picks the segment with ``time <= T_k`` tests and writes
  constants, :class:`~memsim.solve.protocol.Sine` (``sin`` of ``time``) and
  :class:`~memsim.solve.protocol.PWL` (``pwl()`` of the clamped ``time``)
  exactly. A node grounded throughout is just ``VA<i> 0 n<i> 0``.
- a node driven in some segments and floating in others: the ammeter feeds a
  behavioural switch ``BS<i> s<i> n<i> I = V(s<i>,n<i>) * G(time)`` with
  ``G = G_on`` while driven and exactly ``0`` while floating. This is the one
  approximation of the export: while driven, the node sits ``I / G_on`` below
  its source, and the stiff switch costs rounding in the ammeter current.
  ``G_on`` is chosen per node to balance the two at ``sqrt(eps g_hi / g_lo)``
  relative, with ``g_lo``, ``g_hi`` the extreme conductances of the node's
  edges: 2e-7 for HP devices (:func:`_switch_conductances`); an open switch
  is exact. The tests bound the effect against memsim (measured: 1e-7 of the
  current and 1e-9 in the states over 100 switching segments). A run per segment would be exact but
  would hand the states from run to run through text output.
- a dummy PWL source ``VBRK`` puts ngspice breakpoints on every segment
  boundary (and every PWL corner), so no step straddles a switching time; the
  sample at a boundary is computed with the segment that ends there, and
  ngspice restarts with a backward-Euler step, using the new configuration
  only after the boundary, as memsim does.

Every number is ``repr`` of the float memsim uses, so it reads back to the
identical double. ngspice-39 reads the values of R, C, IC, independent
sources and ``.tran`` in full, but numbers *inside B-source expressions* only
to 11 significant digits (measured: ``0.41848084366072713`` is read as
``0.41848084366``), so device parameters and waveforms inside ngspice differ
from memsim's by up to 5e-12 (relative): trajectories move by ~1e-11, far
below the cross-validation tolerances (1e-8 and up). Segment switching times,
which need more, are written as thresholds placed safely past each boundary
(see :func:`_piecewise`). The
transient is ``.tran dt T 0 max_step uic`` with ``reltol``, ``abstol``,
``vntol``, ``chgtol`` and ``trtol`` options, and a ``.control`` block writes
time, every state ``V(x<e>)``, every ammeter current and (on request) every
node voltage with ``wrdata`` at 17 significant digits. With ``uic`` ngspice
does not store the ``t = 0`` point: :func:`run_ngspice` prepends it with the
exact initial states and NaN electrical quantities.
"""

from __future__ import annotations

import inspect
import math
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from memsim.circuit.network import CompiledNetwork, Network
from memsim.devices import functions as fn
from memsim.devices.models import (
    MODEL_CTDV,
    MODEL_GMS,
    MODEL_LINEAR_DRIFT,
    MODEL_RESISTOR,
    MODEL_VTEAM,
    N_PARAMS,
)
from memsim.solve.nodal import find_islands
from memsim.solve.protocol import PWL, Segment, Sine, compile_protocol
from memsim.solve.result import RECORDABLE, Result

__all__ = ["to_spice", "run_ngspice", "ngspice_version", "NgspiceNotFoundError", "NgspiceError"]

INSTALL_HINT = "install it with `apt-get install ngspice` (Debian/Ubuntu) or from https://ngspice.sourceforge.io"
#: Vectors per ``wrdata`` command (ngspice's control lines stay short).
_WR_CHUNK = 1000

SpiceMethod = Literal["trap", "gear"]


class NgspiceNotFoundError(FileNotFoundError):
    """The ``ngspice`` executable is not on ``PATH`` (the message says how to install it)."""


class NgspiceError(RuntimeError):
    """ngspice ran but did not produce the expected output (the message ends with its log)."""


def _num(v: float) -> str:
    """Shortest round-trip decimal of a float, parenthesised when negative."""
    v = float(v)
    if not math.isfinite(v):
        raise ValueError(f"cannot write the non-finite number {v!r} into a netlist")
    s = repr(v)
    return f"({s})" if v < 0 or s.startswith("-") else s


def _as_compiled(network) -> CompiledNetwork:
    if isinstance(network, (CompiledNetwork, Network)):
        return network if isinstance(network, CompiledNetwork) else network.compile()
    raise TypeError(f"network must be a Network or CompiledNetwork, got {type(network).__name__}")


# ------------------------------------------------------------------ devices
def _power(base: str, p: float) -> str:
    """``base ** p`` for ``base >= 0`` (a plain product when ``p == 1``)."""
    return base if p == 1 else f"pow({base}, {_num(p)})"


def _device(e: int, model: int, p: np.ndarray, nu: str, nv: str, width: float, stiff: float) -> tuple[str, str]:
    """(current, rate) expressions of memristor ``e`` between nodes ``nu`` and ``nv``.

    Windowed models (every linear-drift window, VTEAM with ``p > 0``) and the
    metastable switch keep ``[0, 1]`` invariant (the rate vanishes or points
    inwards at the bounds), so their expressions are memsim's formulas of
    ``V(x)``. The others (linear drift without window, VTEAM with ``p = 0``,
    Caravelli) get the bound rule: the rate is multiplied by a gate that falls
    linearly from 1 to 0 over the last ``width`` before a bound when it
    points outwards (memsim zeroes it at the bound; a hard switch leaves
    Newton's equation without a root and ngspice stops with "timestep too
    small"), and a restoring current ``stiff * distance`` pulls an overshoot
    back to the bound (memsim clips). The two differ by at most ``width``.
    """
    v, x = f"V({nu},{nv})", f"V(x{e})"
    if model == MODEL_GMS:
        g = f"({x}/{_num(p[0])} + (1-{x})/{_num(p[1])})"
    else:
        g = f"(1/({_num(p[0])}*{x} + {_num(p[1])}*(1-{x})))"
    cur = f"{v}*{g}"
    if model == MODEL_LINEAR_DRIFT:
        w = int(p[3])
        f = {
            0: "",
            1: f"*(1 - {_power(f'(2*{x}-1)*(2*{x}-1)', p[4])})",
            2: f"*(1 - {_power(f'({x}-u(-{v}))*({x}-u(-{v}))', p[4])})",
            3: f"*({_num(p[5])}*(1 - {_power(f'({x}-0.5)*({x}-0.5) + 0.75', p[4])}))",
        }[w]
        rate = f"{_num(p[2])}*{cur}{f}"
        # the rate has the sign of the voltage (k > 0, g > 0, every window >= 0 on [0, 1])
        up, down, invariant = f"{v} > 0", f"{v} < 0", w != 0
    elif model == MODEL_VTEAM:
        k_on, k_off, a_on, a_off, v_on, v_off, d = (_num(q) for q in p[2:9])
        dw = (f"({v} > {v_off} ? {k_off}*pow(abs({v}/{v_off} - 1), {a_off}) : "
              f"({v} < {v_on} ? {k_on}*pow(abs({v}/{v_on} - 1), {a_on}) : 0))")
        fw = f"*(1 - {_power(f'(2*{x}-1)*(2*{x}-1)', p[9])})" if p[9] > 0 else ""
        rate = f"(-{dw}/{d}{fw})"
        # k_on <= 0 <= k_off: the state grows below v_on and shrinks above v_off
        up, down, invariant = f"{v} < {v_on}", f"{v} > {v_off}", p[9] > 0
    elif model == MODEL_CTDV:
        rate = f"({_num(p[1])}/{_num(p[3])}*{cur} - {_num(p[2])}*{x})"
        up, down, invariant = f"{rate} > 0", f"{rate} < 0", False
    elif model == MODEL_GMS:
        b, tau = _num(p[5]), _num(p[4])
        p_on = f"1/(1+exp(-({b}*({v} - {_num(p[2])}))))/{tau}"
        p_off = f"1/(1+exp(-(-{b}*({v} + {_num(p[3])}))))/{tau}"
        # at x = 1 the rate is -P_off < 0 and at x = 0 it is P_on > 0
        rate, up, down, invariant = f"((1-{x})*{p_on} - {x}*{p_off})", "", "", True
    else:  # pragma: no cover - guarded by the caller
        raise ValueError(f"edge {e}: unknown model code {model}")
    if invariant:
        return cur, rate
    inv = _num(1.0 / width)
    gate = f"({down} ? min(max({x}*{inv},0),1) : ({up} ? min(max((1-{x})*{inv},0),1) : 1))"
    clamp = f"{_num(stiff)}*(max(-{x},0) - max({x}-1,0))"
    return cur, f"{rate}*{gate} + {clamp}"


# ------------------------------------------------------------------ protocol
def _waveform(val, where: str) -> tuple[str, list[float]]:
    """ngspice expression of a drive value and its corner times (breakpoints)."""
    if isinstance(val, Sine):
        w = 2.0 * math.pi * float(val.frequency)  # memsim evaluates (2 pi f) t, in this order
        return (f"({_num(val.offset)} + {_num(val.amplitude)}*sin({_num(w)}*time + {_num(val.phase)}))", [])
    if isinstance(val, PWL):
        ts, vs = [float(t) for t in val.times], [float(v) for v in val.values]
        if len(ts) == 1:
            return _num(vs[0]), []
        pts = ", ".join(f"{_num(t)}, {_num(v)}" for t, v in zip(ts, vs))
        # np.interp is constant outside the table; ngspice's pwl() extrapolates, so clamp time
        return f"pwl(min(max(time, {_num(ts[0])}), {_num(ts[-1])}), {pts})", ts
    if callable(val):
        raise ValueError(f"{where}: only numbers, Sine and PWL drives can be exported to SPICE, got {val!r}")
    arr = np.asarray(val, dtype=float).reshape(-1)
    if arr.size != 1:
        raise ValueError(f"{where}: per-copy voltage arrays (ensembles) cannot be exported to SPICE")
    return _num(arr[0]), []


def _piecewise(exprs: Sequence[str], bounds: Sequence[float]) -> str:
    """``exprs[k]`` on ``(T_k, T_{k+1}]`` as nested ``time <= T`` tests (a little slack past T)."""
    pieces: list[tuple[float, str]] = []
    for k, ex in enumerate(exprs):
        if pieces and pieces[-1][1] == ex:
            pieces[-1] = (bounds[k + 1], ex)
        else:
            pieces.append((bounds[k + 1], ex))
    out = pieces[-1][1]
    for end, ex in reversed(pieces[:-1]):
        # ngspice lands on the breakpoint ``end`` up to an ulp or two, then steps >= ~1e-7 of it
        # further; it reads B-source numbers to 11 significant digits only, so the threshold is an
        # 11-digit number 2.5e-10 .. 3.5e-10 (relative) past the boundary
        out = f"(time <= {end * (1 + 3e-10):.10e} ? {ex} : {out})"
    return out


def _switch_conductances(net: CompiledNetwork, prm: np.ndarray) -> np.ndarray:
    """``G_on`` of each node's driven/floating switch: ``sqrt(g_lo g_hi / eps)``.

    While driven, the node sits ``I / G_on`` below its source (a relative
    error ~ ``g / G_on`` with ``g`` the conductance the node sees), and the
    ammeter current ``G_on (V_s - V_n)`` carries a rounding error
    ~ ``eps G_on V`` (relative ~ ``eps G_on / g``). With ``g`` anywhere
    between the smallest and largest conductance ``g_lo``, ``g_hi`` of the
    node's edges (both device bounds) the geometric mean balances the two
    at ``sqrt(eps g_hi / g_lo)``: 2e-7 for HP devices (R_off / R_on = 160).
    """
    g = np.stack([fn.conductance(net.model, prm, np.zeros(net.n_edges)),
                  fn.conductance(net.model, prm, np.ones(net.n_edges))])
    lo, hi = np.full(net.n_nodes, np.inf), net.leak.copy()
    for ends in (net.edge_u, net.edge_v):
        np.minimum.at(lo, ends, g.min(axis=0))
        np.maximum.at(hi, ends, g.max(axis=0))
    lo = np.where(net.leak > 0, np.minimum(lo, net.leak), lo)
    lo = np.where(np.isfinite(lo), lo, hi)
    return np.sqrt(lo * hi / np.finfo(float).eps)


@dataclass(frozen=True)
class _Netlist:
    text: str
    outputs: tuple[str, ...]  # wrdata files
    columns: tuple[str, ...]  # vectors, in file order
    state_edges: np.ndarray  # edges whose V(x<e>) is written
    current_nodes: np.ndarray  # nodes with an ammeter
    bounds: np.ndarray  # segment boundaries (s)
    driven: tuple  # per segment: bool (N,) driven mask
    x0: np.ndarray
    params: np.ndarray


#: A file name ngspice's ``wrdata`` may write: no whitespace, quotes, ``;`` or control characters.
_SAFE_OUTPUT = re.compile(r"[A-Za-z0-9_.+/-]{1,200}")


def _check_strings(title, output) -> None:
    """Reject user strings that could break out of their netlist line (netlist injection).

    The title goes into a comment line and ``output`` into a ``.control``
    line: a newline there would start a line of its own (``.control``,
    ``shell ...``), which ngspice would execute.
    """
    if title is not None:
        if not isinstance(title, str):
            raise ValueError(f"title must be a string, got {type(title).__name__}")
        if not title.isprintable() or len(title) > 200:
            raise ValueError(f"title must be one line of at most 200 printable characters (no newlines or control "
                             f"characters), got {title[:60]!r}")
    if not isinstance(output, str) or not _SAFE_OUTPUT.fullmatch(output) or output.startswith("-"):
        raise ValueError("output must be a file name of letters, digits and '_ . + / -' (no spaces, quotes, ';' or "
                         f"control characters), got {output!r}")


def _build(network, protocol, *, dt, x0, params, max_step, reltol, abstol, vntol, chgtol, trtol,
           method, interp, node_voltages, switch_conductance, bound_width, output, title) -> _Netlist:
    _check_strings(title, output)
    net = _as_compiled(network)
    m, n = net.n_edges, net.n_nodes
    max_step = dt if max_step is None else max_step
    g_fixed = 1.0 if switch_conductance is None else switch_conductance
    checks = [("dt", dt), ("max_step", max_step), ("reltol", reltol), ("abstol", abstol), ("vntol", vntol),
              ("chgtol", chgtol), ("trtol", trtol), ("switch_conductance", g_fixed)]
    for name, val in checks:
        if not (isinstance(val, (int, float)) and math.isfinite(val) and val > 0):
            raise ValueError(f"{name} must be a finite number > 0, got {val!r}")
    if not (isinstance(bound_width, (int, float)) and 0 < bound_width < 0.5):
        raise ValueError(f"bound_width must be a number in (0, 0.5), got {bound_width!r}")
    stiffness = 1e3 / max_step  # 1/s: an overshoot relaxes within ~max_step / 1000
    if method not in ("trap", "gear"):
        raise ValueError(f"method must be 'trap' or 'gear', got {method!r}")
    x = np.asarray(net.x0 if x0 is None else x0, dtype=float)
    if x.shape != (m,):
        raise ValueError(f"x0 must have shape ({m},) (ensembles cannot be exported), got {x.shape}")
    if not np.all((x >= 0) & (x <= 1)):
        raise ValueError("x0 must be finite and in [0, 1]")
    prm = np.asarray(net.params if params is None else params, dtype=float)
    if prm.shape != (m, N_PARAMS):
        raise ValueError(f"params must have shape ({m}, {N_PARAMS}) (ensembles cannot be exported), got {prm.shape}")
    if not np.all(np.isfinite(prm)):
        raise ValueError("params must be finite")
    stoch = np.flatnonzero((net.model == MODEL_GMS) & (prm[:, 6] > 0))
    if stoch.size:
        raise ValueError(f"params: edge {int(stoch[0])} is a stochastic MetastableSwitch (n_switches > 0), "
                         "which has no SPICE equivalent; use n_switches=0 (mean field)")
    segs = compile_protocol(net, protocol, 1)
    protocol = [protocol] if isinstance(protocol, Segment) else list(protocol)
    bounds = [0.0]
    for s in segs:
        bounds.append(bounds[-1] + s.duration)  # the same float sums as simulate
    exprs = [[None] * len(segs) for _ in range(n)]
    corners: set[float] = set(bounds[1:-1])
    driven_masks = []
    for k, (seg, cseg) in enumerate(zip(protocol, segs)):
        mask = np.zeros(n, bool)
        mask[cseg.driven] = True
        driven_masks.append(mask)
        island = find_islands(n, net.edge_u, net.edge_v, np.ones(m, bool), cseg.driven, net.leak)
        if island.any():
            raise ValueError(f"protocol[{k}]: node {net.node_names[int(np.argmax(island))]!r} has no conducting path "
                             "to a driven node or leak; ngspice cannot solve floating islands")
        for node, val in seg.drive.items():
            ex, ts = _waveform(val, f"protocol[{k}].drive[{node!r}]")
            exprs[net.node_index[node]][k] = ex
            corners.update(t for t in ts if bounds[k] < t < bounds[k + 1])
        for node in seg.ground:
            exprs[net.node_index[node]][k] = "0"

    g_on = _switch_conductances(net, prm) if switch_conductance is None else np.full(n, float(switch_conductance))

    lines = [f"* {title or 'memsim network'}: {n} nodes, {m} edges, {len(segs)} segments",
             "* written by memsim.spice.to_spice; numbers are Python repr() of the simulated doubles"]
    lines.append("* --- devices")
    for e in range(m):
        nu, nv, mod = f"n{net.edge_u[e]}", f"n{net.edge_v[e]}", int(net.model[e])
        if mod == MODEL_RESISTOR:
            lines.append(f"R{e} {nu} {nv} {_num(prm[e, 0])}")
            continue
        cur, rate = _device(e, mod, prm[e], nu, nv, bound_width, stiffness)
        lines += [f"B{e} {nu} {nv} I = {cur}", f"BX{e} 0 x{e} I = {rate}", f"C{e} x{e} 0 1 IC={_num(x[e])}"]
    for i in np.flatnonzero(net.leak):
        lines.append(f"GL{i} n{i} 0 n{i} 0 {_num(net.leak[i])}")
    lines.append("* --- terminals (VA<i>: ammeter, current delivered into node n<i>)")
    current_nodes = []
    for i in range(n):
        ex = exprs[i]
        if all(v is None for v in ex):
            continue
        current_nodes.append(i)
        if all(v == "0" for v in ex):
            lines.append(f"VA{i} 0 n{i} 0")
            continue
        src = _piecewise([v if v is not None else "0" for v in ex], bounds)
        if all(v is not None for v in ex):
            lines += [f"BD{i} d{i} 0 V = {src}", f"VA{i} d{i} n{i} 0"]
        else:
            sw = _piecewise([_num(g_on[i]) if v is not None else "0" for v in ex], bounds)
            lines += [f"BD{i} d{i} 0 V = {src}", f"VA{i} d{i} s{i} 0", f"BS{i} s{i} n{i} I = V(s{i},n{i})*{sw}"]
    corner_list = sorted(corners)
    if corner_list:
        pts = " ".join(f"{_num(t)} {k % 2}" for k, t in enumerate([0.0] + corner_list))
        lines += ["* --- breakpoints at segment boundaries and PWL corners", f"VBRK brk 0 PWL({pts})"]
    state_edges = np.flatnonzero(net.model != MODEL_RESISTOR)
    cols = [f"v(x{e})" for e in state_edges] + [f"i(va{i})" for i in current_nodes]
    if node_voltages:
        cols += [f"v(n{i})" for i in range(n)]
    opts = (f".options reltol={_num(reltol)} abstol={_num(abstol)} vntol={_num(vntol)} chgtol={_num(chgtol)} "
            f"trtol={_num(trtol)} method={method}")
    lines += ["* --- analysis", opts + (" interp" if interp else ""),
              f".tran {_num(dt)} {_num(bounds[-1])} 0 {_num(max_step)} uic"]
    for k in range(0, len(cols), 16):
        lines.append((".save " if k == 0 else "+ ") + " ".join(cols[k:k + 16]))
    chunks = [cols[k:k + _WR_CHUNK] for k in range(0, len(cols), _WR_CHUNK)]
    outputs = tuple(output if len(chunks) == 1 else f"{output}.{j}" for j in range(len(chunks)))
    lines += [".control", "set wr_singlescale", "set wr_vecnames", "option numdgt=17", "run", "rusage everything"]
    lines += [f"wrdata {o} {' '.join(c)}" for o, c in zip(outputs, chunks)]
    lines += ["quit", ".endc", ".end"]
    return _Netlist("\n".join(lines) + "\n", outputs, tuple(cols), state_edges, np.array(current_nodes, dtype=np.int64),
                    np.array(bounds), tuple(driven_masks), x, prm)


def to_spice(
    network: Network | CompiledNetwork,
    protocol: Segment | Sequence[Segment],
    *,
    dt: float,
    x0: np.ndarray | None = None,
    params: np.ndarray | None = None,
    max_step: float | None = None,
    reltol: float = 1e-9,
    abstol: float = 1e-15,
    vntol: float = 1e-12,
    chgtol: float = 1e-16,
    trtol: float = 1.0,
    method: SpiceMethod = "trap",
    interp: bool = False,
    node_voltages: bool = False,
    switch_conductance: float | None = None,
    bound_width: float = 1e-9,
    output: str = "memsim.out",
    title: str | None = None,
) -> str:
    """ngspice netlist of a network under a protocol (see the module docstring for the mapping).

    Parameters
    ----------
    network : Network or CompiledNetwork
    protocol : Segment or sequence of Segment
        Drives must be numbers, :class:`~memsim.solve.protocol.Sine` or
        :class:`~memsim.solve.protocol.PWL` (other callables cannot be written).
    dt : float
        Output step of ``.tran`` (s) and, unless ``max_step`` is given, the
        largest internal step.
    x0 : (M,) array, optional
        Initial states (default: the network's).
    params : (M, P) array, optional
        Packed device parameters overriding the network's.
    max_step : float, optional
        Largest internal step of ngspice (s); default ``dt``.
    reltol, abstol, vntol, chgtol, trtol : float
        ngspice tolerances (relative; A; V; C; truncation-error factor). The
        defaults are far tighter than ngspice's (1e-3, 1e-12, 1e-6, 1e-14, 7)
        so that ngspice serves as a reference.
    method : {"trap", "gear"}
        ngspice integration method.
    interp : bool
        Write only the points of the ``dt`` grid (``.options interp``: ngspice
        interpolates linearly between its own points), which keeps long runs
        of large networks small.
    node_voltages : bool
        Also write every node voltage.
    switch_conductance : float, optional
        ``G_on`` (S) of the switch of nodes that are driven in some segments
        and floating in others (default: per node, balancing the voltage drop
        and the rounding error, see the module docstring).
    bound_width : float
        Models that can leave ``[0, 1]`` (linear drift without window, VTEAM
        without window, Caravelli): distance from a bound over which an
        outward rate is ramped to zero (memsim zeroes it at the bound); the
        trajectories differ by at most this much near a bound.
    output : str
        Name of the ``wrdata`` file (``output.0``, ``output.1``, ... when more
        than 1000 vectors are written): letters, digits and ``_ . + / -``.
    title : str, optional
        First (title) line of the netlist: one line of printable text.

    Node names, device labels and segment labels never reach the netlist
    (nodes are written as ``n<index>``); the two strings that do, ``title``
    and ``output``, are checked so that no input can add a line to it.

    Returns
    -------
    str
        The netlist, ending with a ``.control`` block that runs the transient
        and writes the vectors; run it with ``ngspice -b``.

    Raises
    ------
    ValueError
        For stochastic metastable switches, drives that are not numbers,
        ``Sine`` or ``PWL``, per-copy (ensemble) inputs, floating islands, a
        bad option, or a ``title``/``output`` that could inject netlist lines
        (the message names it).

    Examples
    --------
    >>> from memsim import Network, LinearIonDrift, Segment, Sine
    >>> net = Network(default_device=LinearIonDrift(window="joglekar"))
    >>> net.add_node("a", "input"); net.add_node("b", "output")
    >>> _ = net.add_edge("a", "b", x0=0.1)
    >>> text = to_spice(net, [Segment(1.0, drive={"a": Sine(1.0, 1.0)}, ground=["b"])], dt=1e-3)
    >>> print(text.splitlines()[3])
    B0 n0 n1 I = V(n0,n1)*(1/(100.0*V(x0) + 16000.0*(1-V(x0))))
    >>> [ln for ln in text.splitlines() if ln.startswith((".tran", "C0", "VA"))]
    ['C0 x0 0 1 IC=0.1', 'VA0 d0 n0 0', 'VA1 0 n1 0', '.tran 0.001 1.0 0 0.001 uic']
    """
    return _build(network, protocol, dt=dt, x0=x0, params=params, max_step=max_step, reltol=reltol,
                  abstol=abstol, vntol=vntol, chgtol=chgtol, trtol=trtol, method=method, interp=interp,
                  node_voltages=node_voltages, switch_conductance=switch_conductance,
                  bound_width=bound_width, output=output, title=title).text




# ------------------------------------------------------------------ running
def _executable(executable: str) -> str:
    path = shutil.which(executable)
    if path is None:
        raise NgspiceNotFoundError(f"ngspice executable {executable!r} not found on PATH; {INSTALL_HINT}")
    return path


def ngspice_version(executable: str = "ngspice") -> str:
    """Version line of the ngspice executable, e.g. ``"ngspice-39"``.

    Raises :class:`NgspiceNotFoundError` if it is not installed.

    Examples
    --------
    >>> ngspice_version()  # doctest: +SKIP
    'ngspice-39'
    >>> ngspice_version("no-such-ngspice")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    memsim.spice.NgspiceNotFoundError: ngspice executable 'no-such-ngspice' not found on PATH; install it with `apt-get install ngspice`...
    """
    out = subprocess.run([_executable(executable), "-v"], capture_output=True, text=True, timeout=60,
                         check=False).stdout
    found = re.search(r"ngspice-\S+", out)
    return found.group(0) if found else out.strip().splitlines()[0]


def _read_wrdata(path: str, n_cols: int) -> np.ndarray:
    import pandas as pd

    data = pd.read_csv(path, sep=r"\s+", header=0, dtype=float, engine="c").to_numpy()
    if data.ndim != 2 or data.shape[1] != n_cols + 1:
        raise NgspiceError(f"{path}: expected {n_cols + 1} columns, read shape {data.shape}")
    return data


def _rusage(log: str) -> dict:
    keys = {"Total analysis time (seconds)": "analysis_time", "Accepted timepoints": "accepted_points",
            "Rejected timepoints": "rejected_points", "Transient iterations": "newton_iterations"}
    out = {}
    for label, key in keys.items():
        found = re.search(re.escape(label) + r"\s*=\s*([-+0-9.eE]+)", log)
        if found:
            out[key] = float(found.group(1))
    return out


def _resample(t_src: np.ndarray, seg_src: np.ndarray, y: np.ndarray, t_new: np.ndarray, seg_new: np.ndarray,
              continuous: bool) -> np.ndarray:
    """Interpolate rows of ``y`` onto ``t_new`` segment by segment (cubic, linear with few points)."""
    from scipy.interpolate import PchipInterpolator

    out = np.full((t_new.size,) + y.shape[1:], np.nan)
    for k in np.unique(seg_new):
        sel = seg_src == k
        if continuous:  # states are continuous: the last point of the previous segment belongs here too
            sel |= np.r_[seg_src[1:] == k, False]
        sel &= np.all(np.isfinite(y.reshape(y.shape[0], -1)), axis=1)
        ts, ys = t_src[sel], y[sel]
        want = seg_new == k
        if ts.size >= 4:
            with np.errstate(divide="ignore", over="ignore", invalid="ignore"):  # flat stretches
                out[want] = PchipInterpolator(ts, ys, axis=0, extrapolate=True)(t_new[want])
        elif ts.size >= 1:
            cols = ys.reshape(ts.size, -1)
            out[want] = np.stack([np.interp(t_new[want], ts, c) for c in cols.T], axis=1).reshape(
                (int(want.sum()),) + y.shape[1:])
    return out


def run_ngspice(
    network: Network | CompiledNetwork,
    protocol: Segment | Sequence[Segment],
    *,
    dt: float,
    x0: np.ndarray | None = None,
    params: np.ndarray | None = None,
    record: Sequence[str] = RECORDABLE,
    t_eval: np.ndarray | None = None,
    workdir: str | os.PathLike | None = None,
    timeout: float = 3600.0,
    executable: str = "ngspice",
    **options,
) -> Result:
    """Simulate a network with ngspice (batch mode) and return a :class:`~memsim.solve.result.Result`.

    The netlist of :func:`to_spice` is run with ``ngspice -b -n`` in
    ``workdir`` (a temporary directory, removed afterwards, by default) and
    its ``wrdata`` output is read back.

    Parameters
    ----------
    network, protocol, dt, x0, params
        As in :func:`to_spice`.
    record : sequence of str
        Quantities to return, a subset of ``("x", "i_edge", "v_edge",
        "v_node", "i_node", "power")``. States are ngspice's ``V(x<e>)``
        clipped to ``[0, 1]`` (as memsim clips); ``v_node``, ``v_edge``,
        ``i_edge`` and ``power`` need the node voltages, which ngspice then
        writes too, and the last three are computed from them and the states
        with memsim's conductance formula (the expressions of the netlist).
    t_eval : array, optional
        Sample times (s) to interpolate onto (per segment, monotone cubic
        (PCHIP) interpolation through ngspice's points; electrical
        quantities of the segment that starts at a boundary are extrapolated
        to it from the right, as memsim samples a boundary with the new
        segment). Default: ngspice's own
        time points, preceded by ``t = 0`` (exact initial states, NaN
        electrical quantities: ngspice does not store ``t = 0`` with ``uic``),
        each sample labelled with the segment that *ends* at or after it.
    workdir : path, optional
        Directory for the netlist (``memsim.cir``), log and output files, kept
        afterwards.
    timeout : float
        Seconds before ngspice is killed (``subprocess.TimeoutExpired``).
    executable : str
        Name or path of the ngspice executable.
    **options
        Further keyword arguments of :func:`to_spice` (``max_step``,
        ``reltol``, ``method``, ``interp``, ...).

    Returns
    -------
    Result
        ``stats`` holds ``wall_time`` (whole call), ``ngspice_time`` (the
        ngspice process), ngspice's ``analysis_time``, ``accepted_points``,
        ``rejected_points`` and ``newton_iterations``, ``engine="ngspice"``.

    Raises
    ------
    NgspiceNotFoundError
        If ngspice is not installed (the message says how to install it).
    NgspiceError
        If ngspice fails (e.g. "timestep too small"); the message ends with its log.

    Examples
    --------
    >>> from memsim import Network, LinearIonDrift, Segment, Sine
    >>> net = Network(default_device=LinearIonDrift(window="joglekar"))
    >>> net.add_node("a", "input"); net.add_node("b", "output")
    >>> _ = net.add_edge("a", "b", x0=0.1)
    >>> proto = [Segment(1.0, drive={"a": Sine(1.0, 1.0)}, ground=["b"])]
    >>> res = run_ngspice(net, proto, dt=1e-3, reltol=1e-7)  # doctest: +SKIP
    >>> res.stats["engine"], res.x.shape[1]  # doctest: +SKIP
    ('ngspice', 1)
    """
    wall = time.perf_counter()
    record = tuple(record)
    unknown = [r for r in record if r not in RECORDABLE]
    if unknown:
        raise ValueError(f"record: unknown quantities {unknown}; choose from {RECORDABLE}")
    if not (isinstance(timeout, (int, float)) and timeout > 0):
        raise ValueError(f"timeout must be a number > 0 s, got {timeout!r}")
    net = _as_compiled(network)
    need_v = any(q in record for q in ("v_node", "v_edge", "i_edge", "power"))
    defaults = {k: p.default for k, p in inspect.signature(to_spice).parameters.items()
                if p.kind is p.KEYWORD_ONLY and k not in ("dt", "x0", "params", "node_voltages")}
    bad = sorted(set(options) - set(defaults))
    if bad:
        raise TypeError(f"run_ngspice: unexpected keyword argument(s) {bad}; to_spice options are {sorted(defaults)}")
    nl = _build(net, protocol, dt=dt, x0=x0, params=params, node_voltages=need_v, **{**defaults, **options})
    exe = _executable(executable)
    tmp = tempfile.TemporaryDirectory(prefix="memsim-ngspice-") if workdir is None else None
    wd = tmp.name if tmp is not None else os.fspath(workdir)
    try:
        os.makedirs(wd, exist_ok=True)
        with open(os.path.join(wd, "memsim.cir"), "w") as fh:
            fh.write(nl.text)
        t_run = time.perf_counter()
        proc = subprocess.run([exe, "-b", "-n", "memsim.cir"], cwd=wd, capture_output=True, text=True,
                              timeout=timeout, check=False)
        t_run = time.perf_counter() - t_run
        log = proc.stdout + proc.stderr
        if "timestep too small" in log:
            proc = subprocess.CompletedProcess(proc.args, 1)
        with open(os.path.join(wd, "memsim.log"), "w") as fh:
            fh.write(log)
        missing = [o for o in nl.outputs if not os.path.exists(os.path.join(wd, o))]
        if proc.returncode != 0 or missing:
            tail = "\n".join(log.strip().splitlines()[-25:])
            raise NgspiceError(f"ngspice failed (exit code {proc.returncode}, missing output {missing}); log:\n{tail}")
        blocks, cols = [], list(nl.columns)
        for k, o in enumerate(nl.outputs):
            n_cols = len(cols[k * _WR_CHUNK:(k + 1) * _WR_CHUNK])
            blocks.append(_read_wrdata(os.path.join(wd, o), n_cols))
    finally:
        if tmp is not None:
            tmp.cleanup()
    t = blocks[0][:, 0]
    if t.size == 0 or t[-1] < nl.bounds[-1] * (1 - 1e-9):
        tail = "\n".join(log.strip().splitlines()[-25:])
        raise NgspiceError(f"ngspice stopped at t = {float(t[-1]) if t.size else 0.0!r} s of "
                           f"{float(nl.bounds[-1])!r} s; log:\n{tail}")
    data = np.concatenate([b[:, 1:] for b in blocks], axis=1)
    keep = np.r_[t[1:] > t[:-1], True] & (t > 0)  # drop repeated time points (keep the last)
    t, data = np.r_[0.0, t[keep]], np.vstack([np.full((1, data.shape[1]), np.nan), data[keep]])
    m, n = net.n_edges, net.n_nodes
    n_x, n_i = nl.state_edges.size, nl.current_nodes.size
    x = np.broadcast_to(nl.x0, (t.size, m)).copy()
    x[:, nl.state_edges] = np.clip(data[:, :n_x], 0.0, 1.0)
    x[0] = nl.x0
    # a point computed at (or an ulp past) a boundary belongs to the segment that ends there
    seg = np.searchsorted(nl.bounds[1:-1] * (1 + 3e-10), t, side="left")
    drv = np.array(nl.driven)[seg]  # (T, N) driven mask of each sample's segment
    i_node = np.zeros((t.size, n))
    i_node[:, nl.current_nodes] = data[:, n_x:n_x + n_i]
    i_node = np.where(drv, i_node, 0.0)
    v_node = data[:, n_x + n_i:] if need_v else None
    if t_eval is not None:
        t_new = np.asarray(t_eval, dtype=float)
        if t_new.ndim != 1 or np.any(np.diff(t_new) < 0) or t_new[0] < 0 or t_new[-1] > nl.bounds[-1] * (1 + 1e-12):
            raise ValueError(f"t_eval must be increasing times within [0, {nl.bounds[-1]!r}] s")
        seg_new = np.clip(np.searchsorted(nl.bounds, t_new, side="right") - 1, 0, len(nl.driven) - 1)
        x = np.clip(_resample(t, seg, x, t_new, seg_new, True), 0.0, 1.0)
        i_node = np.where(np.array(nl.driven)[seg_new], _resample(t, seg, i_node, t_new, seg_new, False), 0.0)
        if need_v:
            v_node = _resample(t, seg, v_node, t_new, seg_new, False)
        t, seg = t_new, seg_new
    out = {"x": x, "i_node": i_node}
    if need_v:
        dv = v_node[:, net.edge_u] - v_node[:, net.edge_v]
        cur = fn.conductance(net.model, nl.params, x) * dv
        out.update(v_node=v_node, v_edge=dv, i_edge=cur, power=np.sum(cur * dv, axis=1))
    stats = {"engine": "ngspice", "method": options.get("method", "trap"), "points": int(t.size),
             "ngspice_time": t_run, **_rusage(log), "wall_time": time.perf_counter() - wall}
    return Result(t=t, segment=seg, x_final=x[-1].copy(), network=net,
                  labels=tuple(s.label for s in ([protocol] if isinstance(protocol, Segment) else protocol)),
                  stats=stats, **{q: np.ascontiguousarray(out[q]) for q in record})
