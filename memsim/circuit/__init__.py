"""Networks, compilation and topology generators."""

from memsim.circuit.network import CompiledNetwork, Network, compile_network
from memsim.circuit.topologies import (
    crossbar,
    erdos_renyi,
    layered,
    orient_by_potential,
    random_geometric,
    set_roles,
    watts_strogatz,
)

__all__ = [
    "Network",
    "CompiledNetwork",
    "compile_network",
    "crossbar",
    "layered",
    "erdos_renyi",
    "watts_strogatz",
    "random_geometric",
    "set_roles",
    "orient_by_potential",
]
