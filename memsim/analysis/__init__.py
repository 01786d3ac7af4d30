"""Analysers: functions that score a topology, data first."""

from memsim.analysis.capacity import (
    CapacityResult,
    StructuralCapacity,
    association_set,
    controller_configurations,
    empirical_capacity,
    response_jacobian,
    structural_capacity,
    wilson_interval,
)
from memsim.analysis.controllability import (
    Controllability,
    controllability,
    linearise,
    terminal_map,
)
from memsim.analysis.correlations import (
    DistanceDecay,
    distance_decay,
    edge_distances,
    measured_correlations,
    omega_correlations,
    response_correlations,
)
from memsim.analysis.survival import LogRank, logrank_test
from memsim.analysis.symmetry import (
    edge_classes,
    hidden_orbits,
    hidden_twins,
    is_uniform,
    node_orbits,
    prune_random,
    spread_states,
    weighted_asymmetry,
)

__all__ = [
    "Controllability",
    "controllability",
    "linearise",
    "terminal_map",
    "StructuralCapacity",
    "structural_capacity",
    "response_jacobian",
    "CapacityResult",
    "empirical_capacity",
    "wilson_interval",
    "association_set",
    "controller_configurations",
    "DistanceDecay",
    "distance_decay",
    "edge_distances",
    "measured_correlations",
    "omega_correlations",
    "response_correlations",
    "node_orbits",
    "hidden_orbits",
    "hidden_twins",
    "is_uniform",
    "edge_classes",
    "weighted_asymmetry",
    "prune_random",
    "spread_states",
    "LogRank",
    "logrank_test",
]
