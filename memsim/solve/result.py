"""Immutable results of :func:`memsim.simulate`."""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np

from memsim.circuit.network import CompiledNetwork

__all__ = ["Result", "RECORDABLE"]

#: Quantities that :func:`memsim.simulate` can record.
RECORDABLE = ("x", "i_edge", "v_edge", "v_node", "i_node", "power")


@dataclass(frozen=True, eq=False)
class Result:
    """Trajectory of a simulation (all arrays read-only).

    Samples are taken at the start of every ``record_every``-th step and once
    at the end. Sample ``r`` holds the state ``x(t[r])`` and the electrical
    quantities computed from it under the configuration of the segment
    ``segment[r]`` that is active on ``[t[r], t[r] + h)`` (the last segment for
    the final sample). For an ensemble run every array has a copy axis after
    the time axis: ``x`` is ``(T, K, M)``; otherwise ``(T, M)``.

    Attributes
    ----------
    t : (T,) sample times (s).
    segment : (T,) index of the active protocol segment.
    x : device states (1).
    i_edge, v_edge : edge currents ``u -> v`` (A) and voltages ``v_u - v_v`` (V).
    v_node : node voltages (V), NaN on floating islands.
    i_node : current delivered by the source at each node (A), 0 at floating nodes.
    power : power dissipated in the network (W).
    dissipated : energy dissipated over the run (J), per copy, integrated along
        the steps by the adaptive method (None for the other methods).
    x_final : states at the end of the protocol.
    stats : counters (steps, solves, factorizations, ...), engine and wall time.
    status : ``"success"`` or a message saying why integration stopped.
    network : the compiled network (node and edge naming).
    labels : segment labels.
    """

    t: np.ndarray
    segment: np.ndarray
    x_final: np.ndarray
    network: CompiledNetwork = field(repr=False)
    labels: tuple[str, ...] = ()
    ensemble: bool = False
    stats: Mapping[str, object] = field(default_factory=dict)
    status: str = "success"
    x: np.ndarray | None = field(default=None, repr=False)
    i_edge: np.ndarray | None = field(default=None, repr=False)
    v_edge: np.ndarray | None = field(default=None, repr=False)
    v_node: np.ndarray | None = field(default=None, repr=False)
    i_node: np.ndarray | None = field(default=None, repr=False)
    power: np.ndarray | None = field(default=None, repr=False)
    dissipated: np.ndarray | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        for name in ("t", "segment", "x_final", "dissipated") + RECORDABLE:
            arr = getattr(self, name)
            if arr is not None:
                arr.setflags(write=False)
        object.__setattr__(self, "stats", MappingProxyType(dict(self.stats)))

    @property
    def success(self) -> bool:
        return self.status == "success"

    def _get(self, name: str) -> np.ndarray:
        arr = getattr(self, name)
        if arr is None:
            raise ValueError(f"{name!r} was not recorded; pass record=(..., {name!r}) to simulate")
        return arr

    def node_voltage(self, node: Hashable) -> np.ndarray:
        """Voltage trace of one node, by name."""
        return self._get("v_node")[..., self.network.index_of([node])[0]]

    def terminal_current(self, node: Hashable) -> np.ndarray:
        """Current delivered into the network by the source at ``node`` (A)."""
        return self._get("i_node")[..., self.network.index_of([node])[0]]

    def energy(self) -> np.ndarray:
        """Dissipated energy (J): integrated along the steps (``"adaptive"``), else by
        trapezoidal integration of the recorded power."""
        if self.dissipated is not None:
            return self.dissipated if self.ensemble else self.dissipated[0]
        p = self._get("power")
        # the trapezoidal rule, written out (scipy.integrate costs ~0.3 s to import)
        dt = np.diff(self.t).reshape((-1,) + (1,) * (p.ndim - 1))
        return np.sum(0.5 * dt * (p[1:] + p[:-1]), axis=0)

    def __repr__(self) -> str:
        shape = "x".join(str(s) for s in self.x_final.shape)
        return (
            f"Result({self.t.size} samples, t=[{self.t[0]:.3g}, {self.t[-1]:.3g}] s, "
            f"states {shape}, status={self.status!r}, engine={self.stats.get('engine')!r})"
        )
