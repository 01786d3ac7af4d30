"""Built-in point functions for sweeps.

Each takes one point (a dict of plain values, ``seed`` included) and returns
a dict of scalar outputs. Refer to them in TOML as
``"memsim.sweep.tasks:<name>"``.

Topology parameters (shared by the point functions)
---------------------------------------------------
``topology`` names a generator of :mod:`memsim.circuit.topologies` and the
point carries that generator's arguments under their own names:

======================  ===============================================================
``topology``            parameters
======================  ===============================================================
``"layered"``           ``sizes`` (list of int), ``orientation``
``"crossbar"``          ``rows``, ``cols``, ``r_wire`` (ohm)
``"erdos_renyi"``       ``n``, ``p``, ``n_inputs``, ``n_outputs``, ``connected``
``"watts_strogatz"``    ``n``, ``k``, ``p``, ``n_inputs``, ``n_outputs``, ``connected``
``"random_geometric"``  ``n``, ``radius``, ``n_inputs``, ``n_outputs``, ``dim``, ``connected``
======================  ===============================================================

Random generators are seeded with the point's ``seed``.
"""

from __future__ import annotations

import dataclasses
import inspect
import math
import time
from collections.abc import Mapping
from typing import Any

import numpy as np

__all__ = ["GENERATORS", "build_network", "transient", "codesign"]

#: Topology generator names accepted in points.
GENERATORS = ("layered", "crossbar", "erdos_renyi", "watts_strogatz", "random_geometric")

_TRANSIENT = {"device": "HP_TIO2_JOGLEKAR", "device_params": {}, "x0": "random", "amplitude": 1.0,
              "frequency": 1.0, "duration": 1.0, "dt": 1e-3, "method": "rk4", "d2d": 0.0, "c2c": 0.0}


_CODESIGN = {"device": "VTEAM_KVATINSKY2015", "device_params": {}, "x0": "random", "measure_capacity": True,
             "tasks": "random", "p_max": 4, "n_sets": 8, "copies": 1, "max_eras": 10,
             # the controller's pulses (memsim.learning.Pulses defaults), pruning and source resistance
             "punish_voltage": 0.5, "punish_duration": 100e-9, "normalise_voltage": 0.6,
             "normalise_duration": 1e-9, "prune_fraction": 0.0, "source_resistance": 50.0}


def _generator_args(topology: Any) -> tuple[Any, set[str]]:
    from memsim.circuit import topologies

    if topology not in GENERATORS:
        raise ValueError(f"topology must be one of {', '.join(GENERATORS)}, got {topology!r}")
    gen = getattr(topologies, topology)
    return gen, set(inspect.signature(gen).parameters) - {"seed"}


def _with_defaults(task: str, point: Mapping[str, Any], defaults: Mapping[str, Any]) -> dict[str, Any]:
    """The point over the task's defaults; ValueError naming any parameter the task does not know."""
    _, topo_names = _generator_args(point.get("topology"))
    unknown = sorted(set(point) - set(defaults) - topo_names - {"topology", "seed"})
    if unknown:
        raise ValueError(f"{task}: unknown parameter {unknown[0]!r} for topology {point['topology']!r}")
    return {**defaults, **point}


def build_network(point: Mapping[str, Any], device: Any = None) -> Any:
    """The :class:`~memsim.circuit.network.Network` described by a point's topology parameters.

    Parameters
    ----------
    point : mapping
        ``topology``, the generator's arguments, ``seed``; optionally
        ``x0`` (a number, or ``"random"`` for uniform states). One generator
        ``numpy.random.default_rng(seed)`` draws the graph, then the states.
    device : Device, optional
        Device of the memristor edges (default :class:`~memsim.devices.models.VTEAM`).

    Examples
    --------
    >>> build_network({"topology": "crossbar", "rows": 2, "cols": 3, "seed": 0})
    Network(5 nodes: 2 input, 3 output, 0 bulk; 6 edges)
    """
    from memsim.circuit.network import Network

    graph, rng = _graph(point)
    return Network.from_graph(graph, device, x0=point.get("x0", 0.5), seed=rng)


def _graph(point: Mapping[str, Any]) -> tuple[Any, np.random.Generator]:
    """The point's generated graph and the generator that drew it (to draw on from)."""
    gen, names = _generator_args(point.get("topology"))
    rng = np.random.default_rng(point.get("seed"))
    kwargs = {k: point[k] for k in names if k in point}
    if "seed" in inspect.signature(gen).parameters:
        kwargs["seed"] = rng
    missing = [p.name for p in inspect.signature(gen).parameters.values()
               if p.default is inspect.Parameter.empty and p.name not in kwargs]
    if missing:
        raise ValueError(f"topology {point['topology']!r} needs parameter {missing[0]!r}")
    return gen(**kwargs), rng


def _device(point: Mapping[str, Any]) -> Any:
    from memsim.devices.presets import get_preset

    dev: Any = get_preset(point["device"])
    overrides = point["device_params"]
    if not isinstance(overrides, Mapping):
        raise ValueError(f"device_params must be a table of parameter values, got {overrides!r}")
    names = {f.name for f in dataclasses.fields(dev)}
    unknown = sorted(set(overrides) - names)
    if unknown:
        raise ValueError(f"device_params: {type(dev).__name__} has no parameter {unknown[0]!r}")
    return dataclasses.replace(dev, **overrides)


def _number(task: str, p: Mapping[str, Any], name: str, low: float, high: float, unit: str,
            *, open_low: bool = True) -> float:
    """``p[name]`` as a float in ``(low, high]`` (``[low, high]`` unless ``open_low``); ValueError naming it."""
    val = p[name]
    ok = isinstance(val, (int, float)) and not isinstance(val, bool) and math.isfinite(val)
    if ok:
        ok = (low < val if open_low else low <= val) and val <= high
    if not ok:
        bracket = "(" if open_low else "["
        raise ValueError(f"{task}: {name} must be a number in {bracket}{low:g}, {high:g}]{unit}, got {val!r}")
    return float(val)


#: Largest drive amplitude a transient point accepts (V): far beyond any memristor, and far from overflow.
MAX_AMPLITUDE = 1e6


def transient(point: Mapping[str, Any]) -> dict[str, Any]:
    """Sine response of a generated network: final states, energy and output currents.

    A sine of ``amplitude`` (V) and ``frequency`` (Hz) drives the first input
    node for ``duration`` (s); the other inputs and all outputs are grounded.
    The states are integrated with :func:`memsim.simulate` (``method``, step
    ``dt``), with device-to-device spread ``d2d`` and cycle-to-cycle noise
    ``c2c`` (log-normal sigmas, :class:`~memsim.devices.variability.Variability`)
    drawn with ``seed``.

    Parameters
    ----------
    point : mapping
        Topology parameters (see the module docstring) and optionally
        ``device`` (a preset name of :mod:`memsim.devices.presets`, default
        ``"HP_TIO2_JOGLEKAR"``), ``device_params`` (a dict overriding preset
        fields), ``x0`` (default ``"random"``), ``amplitude`` (1.0 V),
        ``frequency`` (1.0 Hz), ``duration`` (1.0 s), ``dt`` (1e-3 s),
        ``method`` (``"rk4"``), ``d2d`` and ``c2c`` (0.0), ``seed``.

    Returns
    -------
    dict
        ``x_mean``, ``x_min``, ``x_max`` (final memristor states), ``energy``
        (J dissipated), ``i_out_<k>`` (A, final current delivered at output
        ``k``, in the network's output order), ``i_out_peak`` (A, largest
        ``|I|`` at any output), ``n_nodes``, ``n_edges``, ``steps`` and
        ``sim_wall_s`` (s, wall time of the integration).

    Raises
    ------
    ValueError
        On an unknown parameter or topology, naming it.

    Examples
    --------
    >>> out = transient({"topology": "layered", "sizes": [2, 2], "duration": 0.1, "seed": 0})
    >>> out["n_edges"], 0.0 <= out["x_mean"] <= 1.0
    (4, True)
    """
    from memsim.devices.variability import Variability
    from memsim.solve import Segment, Sine, simulate

    p = _with_defaults("transient", point, _TRANSIENT)
    amplitude = _number("transient", p, "amplitude", -MAX_AMPLITUDE, MAX_AMPLITUDE, " V", open_low=False)
    frequency = _number("transient", p, "frequency", 0.0, 1e15, " Hz", open_low=False)
    duration = _number("transient", p, "duration", 0.0, 1e9, " s")
    dt = _number("transient", p, "dt", 0.0, 1e9, " s")
    if p["method"] not in ("euler", "heun", "rk4", "adaptive"):
        raise ValueError(f"transient: method must be 'euler', 'heun', 'rk4' or 'adaptive', got {p['method']!r}")
    for name in ("d2d", "c2c"):
        _number("transient", p, name, 0.0, 5.0, "", open_low=False)
    net = build_network(p, _device(p))
    inputs, outputs = net.inputs, net.outputs
    if not inputs:
        raise ValueError(f"transient: the {p['topology']!r} network has no input node to drive")
    drive = {inputs[0]: Sine(amplitude, frequency)}
    segment = Segment(duration, drive=drive, ground=inputs[1:] + outputs, label="sine")
    variability = Variability(d2d=p["d2d"], c2c=p["c2c"]) if (p["d2d"] or p["c2c"]) else None
    t0 = time.perf_counter()
    try:
        res = simulate(net, segment, dt=dt, method=p["method"], variability=variability,
                       seed=p.get("seed"), record=("x", "i_node", "power"))
    except ValueError as exc:
        raise ValueError(f"transient: {exc}") from None
    wall = time.perf_counter() - t0
    compiled = res.network
    x = res.x_final[compiled.dynamic]
    out: dict[str, Any] = {  # None (not NaN) when the network has no memristor
        "x_mean": float(x.mean()) if x.size else None,
        "x_min": float(x.min()) if x.size else None,
        "x_max": float(x.max()) if x.size else None,
        "energy": float(res.energy()),
    }
    peak = 0.0
    for k, node in enumerate(outputs):
        cur = res.terminal_current(node)
        out[f"i_out_{k}"] = float(cur[-1])
        peak = max(peak, float(np.max(np.abs(cur))))
    steps: Any = res.stats["steps"]
    out.update(i_out_peak=peak, n_nodes=net.n_nodes, n_edges=net.n_edges, steps=int(steps), sim_wall_s=wall)
    bad = [k for k, v in out.items() if isinstance(v, float) and not math.isfinite(v)]
    if bad:
        raise ValueError(f"transient: the run gave non-finite {', '.join(bad)} (amplitude {amplitude:g} V); "
                         "lower the amplitude or check the device parameters")
    return out


def codesign(point: Mapping[str, Any]) -> dict[str, Any]:
    """Score a generated topology with the analysers: symmetry, controllability, capacity.

    The graph is oriented for the controller (:func:`memsim.circuit.topologies.orient_by_potential`) and
    built with ``device`` at states ``x0``; the hardware adds the controller's
    50 ohm sources (:func:`memsim.learning.build_hardware`).

    Parameters
    ----------
    point : mapping
        Topology parameters (see the module docstring) and optionally
        ``device`` (preset name, default ``"VTEAM_KVATINSKY2015"``),
        ``device_params``, ``x0`` (a number, or ``"random"``: uniform random
        states, the default), ``measure_capacity`` (the empirical capacity,
        default true), ``tasks`` (``"random"`` or ``"association"``),
        ``p_max`` (4), ``n_sets`` (8), ``copies`` (1) and ``max_eras`` (10)
        of :func:`memsim.analysis.empirical_capacity`, the controller's
        ``punish_voltage``/``punish_duration``/``normalise_voltage``/
        ``normalise_duration`` (:class:`memsim.learning.Pulses` defaults),
        ``prune_fraction`` (0) and ``source_resistance`` (50 ohm), ``seed``.

    Returns
    -------
    dict
        ``n_nodes``, ``n_edges``, ``orbits`` (node orbits),
        ``hidden_asymmetry`` (bulk orbits with the terminals pinned per bulk
        node; 1 without hidden symmetry), ``ctrl_rank``, ``ctrl_norm``,
        ``ctrl_condition``, ``voltage_map_rank``, ``io_rank``, ``io_entries``
        and, with ``measure_capacity``, ``capacity``, ``mean_learnable``,
        ``learnable_per_device`` (``mean_learnable / n_edges``) and
        ``p_tested``; ``score_wall_s`` (s).

    Examples
    --------
    >>> out = codesign({"topology": "layered", "sizes": [2, 2, 2], "x0": 0.5, "measure_capacity": False, "seed": 0})
    >>> out["ctrl_rank"], out["n_edges"], out["hidden_asymmetry"]
    (3, 8, 0.5)
    """
    from memsim.analysis import (
        controllability,
        controller_configurations,
        empirical_capacity,
        hidden_orbits,
        node_orbits,
        structural_capacity,
    )
    from memsim.circuit.network import Network
    from memsim.circuit.topologies import orient_by_potential
    from memsim.learning import Controller, Pulses, build_hardware

    p = _with_defaults("codesign", point, _CODESIGN)
    t0 = time.perf_counter()
    graph, rng = _graph(p)
    graph = orient_by_potential(graph)
    net = Network.from_graph(graph, _device(p))
    x0 = p["x0"]
    if not (x0 == "random" or (isinstance(x0, (int, float)) and not isinstance(x0, bool) and 0 <= x0 <= 1)):
        raise ValueError(f"codesign: x0 must be a number in [0, 1] or 'random', got {x0!r}")
    hw = build_hardware(net, x0=x0, seed=rng)
    ctrl = controllability(hw.circuit, controller_configurations(hw), x=hw.x[0])
    sc = structural_capacity(hw.circuit, x=hw.x[0])
    hidden = hidden_orbits(graph)
    n_bulk = sum(len(o) for o in hidden)
    out: dict[str, Any] = {
        "n_nodes": net.n_nodes, "n_edges": net.n_edges, "orbits": len(node_orbits(graph)),
        "hidden_asymmetry": len(hidden) / n_bulk if n_bulk else 1.0,
        "ctrl_rank": ctrl.rank, "ctrl_norm": ctrl.normalised_rank, "ctrl_condition": ctrl.condition_number,
        "voltage_map_rank": ctrl.voltage_map_rank, "io_rank": sc.io_rank, "io_entries": sc.io_entries,
    }
    if p["measure_capacity"]:
        pulses = Pulses(punish_voltage=p["punish_voltage"], punish_duration=p["punish_duration"],
                        normalise_voltage=p["normalise_voltage"], normalise_duration=p["normalise_duration"])
        cap = empirical_capacity(net, tasks=p["tasks"], p_max=p["p_max"], n_sets=p["n_sets"], copies=p["copies"],
                                 controller=Controller(pulses=pulses, max_eras=p["max_eras"]), x0=x0,
                                 prune_fraction=p["prune_fraction"], source_resistance=p["source_resistance"],
                                 seed=rng)
        out.update(capacity=cap.capacity, mean_learnable=cap.mean_learnable, p_tested=int(cap.p[-1]),
                   learnable_per_device=cap.mean_learnable / net.n_edges)
    out["score_wall_s"] = time.perf_counter() - t0
    return out
