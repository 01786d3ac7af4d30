"""Learning from mistakes on memristive hardware, and its abstract reference.

- :mod:`~memsim.learning.tasks`: pattern sets (association maps, random sets,
  Boolean functions, perceptron tasks, parity);
- :mod:`~memsim.learning.hardware`: the instrumented circuit and its device
  states, changed only through :func:`memsim.simulate`;
- :mod:`~memsim.learning.inhibition`: the read, punish and normalise protocols;
- :mod:`~memsim.learning.pruning`: threshold pruning (a hardware rule) and
  structural pruning before training;
- :mod:`~memsim.learning.lfm`: the controller (state, pure step, training loop);
- :mod:`~memsim.learning.chialvo_bak`: the abstract Chialvo–Bak network.
"""

from memsim.learning.chialvo_bak import ChialvoBak, ChialvoBakResult, train_chialvo_bak
from memsim.learning.hardware import Hardware, build_hardware
from memsim.learning.inhibition import (
    Decision,
    Pulses,
    decide,
    normalise_segment,
    output_currents,
    punish_segment,
    read_segment,
)
from memsim.learning.lfm import Controller, ControllerState, StepRecords, Training, initial_state, step, train
from memsim.learning.pruning import prune_edges, threshold_pruned
from memsim.learning.tasks import (
    Pattern,
    Task,
    all_associations,
    association,
    boolean,
    classification,
    parity,
    perceptron,
    random_patterns,
)

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
