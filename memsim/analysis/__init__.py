"""Analysers: functions that score a topology, data first."""

from memsim.analysis.capacity import StructuralCapacity, response_jacobian, structural_capacity
from memsim.analysis.controllability import Controllability, controllability, linearise, terminal_map
from memsim.analysis.correlations import (
    DistanceDecay,
    distance_decay,
    edge_distances,
    measured_correlations,
    omega_correlations,
    response_correlations,
)
from memsim.analysis.symmetry import edge_classes, node_orbits, prune_random, spread_states, weighted_asymmetry

__all__ = [
    "Controllability",
    "controllability",
    "linearise",
    "terminal_map",
    "StructuralCapacity",
    "structural_capacity",
    "response_jacobian",
    "DistanceDecay",
    "distance_decay",
    "edge_distances",
    "measured_correlations",
    "omega_correlations",
    "response_correlations",
    "node_orbits",
    "edge_classes",
    "weighted_asymmetry",
    "prune_random",
    "spread_states",
]
