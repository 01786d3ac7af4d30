"""Synapse arrays: weight matrices held as memristor conductances in a crossbar.

The stage of DESIGN.md section 6: a frozen :class:`SynapseArray` (or the
software reference :class:`IdealArray`) plus a plain state array, and three
operations that alone touch the state: :func:`read`, :func:`program` and
:func:`apply_update` (with :func:`write_weights` for program-and-verify).

Examples
--------
>>> import numpy as np
>>> from memsim.arrays import SynapseArray, initial_state, read, write_weights
>>> arr = SynapseArray(3, 2)
>>> targets = np.array([[0.2, -0.4], [0.6, 0.0], [-0.1, 0.3]])
>>> state = write_weights(arr, initial_state(arr), targets).state
>>> y = read(arr, state, np.array([1.0, 0.5, -1.0]))
>>> bool(np.allclose(y, np.array([1.0, 0.5, -1.0]) @ targets, atol=0.05))
True
"""

from memsim.arrays.array import (
    DEFAULT_PULSE,
    IdealArray,
    Population,
    Pulse,
    SynapseArray,
    conductances,
    initial_state,
    normalised,
    population,
    weights,
)
from memsim.arrays.presets import PRESETS, preset_array
from memsim.arrays.program import UpdatePolicy, WriteResult, apply_update, program, write_weights
from memsim.arrays.read import effective_conductance, read
from memsim.arrays.response import PulseResponse, Step, pulse_response

__all__ = [
    "SynapseArray",
    "IdealArray",
    "Pulse",
    "DEFAULT_PULSE",
    "Population",
    "population",
    "initial_state",
    "conductances",
    "normalised",
    "weights",
    "read",
    "effective_conductance",
    "program",
    "apply_update",
    "write_weights",
    "UpdatePolicy",
    "WriteResult",
    "PulseResponse",
    "Step",
    "pulse_response",
    "PRESETS",
    "preset_array",
]
