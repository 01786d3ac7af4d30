"""memsim: fast simulation of memristive circuits and the learning rules that run on them.

The stages are explicit: build a :class:`Network` (or generate one with
:func:`layered`, :func:`crossbar`, ...), :meth:`Network.compile` it, describe
terminal conditions over time as a list of :class:`Segment`, and integrate with
:func:`simulate`, which returns an immutable :class:`Result`.

:mod:`memsim.learning` runs the learning-from-mistakes controller on such
circuits: :func:`build_hardware`, a :class:`Task`, and :func:`train`.
"""

from importlib.metadata import PackageNotFoundError, version

from memsim._lazy import lazy_attributes

# The public names are imported on first use (PEP 562), so ``import memsim`` and ``memsim --help``
# do not pay for numba, scipy and pandas before something needs them.
_EXPORTS: dict[str, tuple[str, ...]] = {
    "memsim.circuit": ("CompiledNetwork", "Network", "compile_network", "crossbar", "erdos_renyi", "layered",
                       "orient_by_potential", "random_geometric", "set_roles", "watts_strogatz"),
    "memsim.devices": ("VTEAM", "CaravelliTraversaDiVentra", "Device", "LinearIonDrift", "MetastableSwitch",
                       "Resistor", "Variability"),
    "memsim.learning": ("ChialvoBak", "Controller", "ControllerState", "Hardware", "Pattern", "Pulses", "Task",
                        "Training", "all_associations", "association", "boolean", "build_hardware", "parity",
                        "perceptron", "prune_edges", "random_patterns", "train", "train_chialvo_bak"),
    "memsim.solve": ("PWL", "Prepared", "Result", "Segment", "Sine", "prepare", "simulate", "solve_nodal",
                     "terminal_response"),
    "memsim.circuit.io": ("load_config", "read_graphml", "read_json", "read_network", "write_graphml", "write_json",
                          "write_network"),
    "memsim.spice": ("run_ngspice", "to_spice"),
}
#: Stages reachable as attributes (``memsim.arrays`` ...), imported on first use too.
_SUBMODULES = ("analysis", "arrays", "circuit", "datasets", "devices", "governing", "learning", "meta", "plasticity",
               "snn", "solve", "spice", "sweep", "plotting")
__getattr__, __dir__ = lazy_attributes(__name__, _EXPORTS, _SUBMODULES, globals())


try:
    __version__ = version("memsim")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0+unknown"

__all__ = [
    "__version__",
    "Network",
    "CompiledNetwork",
    "compile_network",
    "layered",
    "crossbar",
    "erdos_renyi",
    "watts_strogatz",
    "random_geometric",
    "set_roles",
    "orient_by_potential",
    "Device",
    "Resistor",
    "LinearIonDrift",
    "VTEAM",
    "CaravelliTraversaDiVentra",
    "MetastableSwitch",
    "Variability",
    "Segment",
    "Sine",
    "PWL",
    "simulate",
    "solve_nodal",
    "terminal_response",
    "Result",
    "Pattern",
    "Task",
    "association",
    "all_associations",
    "random_patterns",
    "boolean",
    "parity",
    "perceptron",
    "Hardware",
    "build_hardware",
    "prune_edges",
    "Pulses",
    "Controller",
    "ControllerState",
    "Training",
    "train",
    "ChialvoBak",
    "train_chialvo_bak",
    "prepare",
    "Prepared",
    "read_network",
    "write_network",
    "read_json",
    "write_json",
    "read_graphml",
    "write_graphml",
    "load_config",
    "analysis",
    "sweep",
    "to_spice",
    "run_ngspice",
]
