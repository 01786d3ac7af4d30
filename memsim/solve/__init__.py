"""Nodal solver, protocols and time integration."""

from memsim.solve.integrate import Prepared, prepare, simulate
from memsim.solve.nodal import NodalSolution, solve_nodal, terminal_response
from memsim.solve.protocol import PWL, Segment, Sine
from memsim.solve.result import Result

__all__ = ["simulate", "prepare", "Prepared", "solve_nodal", "terminal_response", "NodalSolution", "Segment", "Sine", "PWL", "Result"]
