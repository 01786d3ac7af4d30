"""Learning from mistakes on memristive hardware, and its abstract reference.

- :mod:`~memsim.learning.tasks`: pattern sets (association maps, random sets,
  Boolean functions, perceptron tasks, parity);
- :mod:`~memsim.learning.hardware`: the instrumented circuit and its device
  states, changed only through :func:`memsim.simulate`;
- :mod:`~memsim.learning.config`: the controller's parameters (:class:`Pulses`,
  :class:`Controller`);
- :mod:`~memsim.learning.inhibition`: the read, punish and normalise protocols;
- :mod:`~memsim.learning.pruning`: threshold pruning (a hardware rule) and
  structural pruning before training;
- :mod:`~memsim.learning.lfm`: the controller (state, pure step, training loop);
- :mod:`~memsim.learning.chialvo_bak`: the abstract Chialvo–Bak network.
"""

from memsim._lazy import lazy_attributes

# The public names are imported on first use (PEP 562), as in :mod:`memsim`: ``Pulses`` and ``Controller``
# (memsim.learning.config, standard library only) do not pull numba, scipy and pandas in.
_EXPORTS: dict[str, tuple[str, ...]] = {
    "memsim.learning.chialvo_bak": ("ChialvoBak", "ChialvoBakResult", "train_chialvo_bak"),
    "memsim.learning.config": ("Controller", "Pulses"),
    "memsim.learning.hardware": ("Hardware", "build_hardware"),
    "memsim.learning.inhibition": ("Decision", "decide", "normalise_segment", "output_currents", "punish_segment",
                                   "read_segment"),
    "memsim.learning.lfm": ("ControllerState", "StepRecords", "Training", "initial_state", "step", "train"),
    "memsim.learning.pruning": ("prune_edges", "threshold_pruned"),
    "memsim.learning.tasks": ("Pattern", "Task", "all_associations", "association", "boolean", "classification",
                              "parity", "perceptron", "random_patterns"),
}
#: Submodules reachable as attributes (``memsim.learning.lfm`` ...), imported on first use too.
_SUBMODULES = tuple(module.rpartition(".")[2] for module in _EXPORTS)
__getattr__, __dir__ = lazy_attributes(__name__, _EXPORTS, _SUBMODULES, globals())

__all__ = [
    "Pattern",
    "Task",
    "association",
    "all_associations",
    "random_patterns",
    "classification",
    "boolean",
    "parity",
    "perceptron",
    "Hardware",
    "build_hardware",
    "Pulses",
    "Decision",
    "read_segment",
    "punish_segment",
    "normalise_segment",
    "output_currents",
    "decide",
    "prune_edges",
    "threshold_pruned",
    "Controller",
    "ControllerState",
    "StepRecords",
    "Training",
    "initial_state",
    "step",
    "train",
    "ChialvoBak",
    "ChialvoBakResult",
    "train_chialvo_bak",
]
