"""Spiking networks: event-driven exact LIF layers and EventProp gradients (numpy + numba).

- :mod:`~memsim.snn.lif`: neuron parameters (:class:`LIF`), per-neuron tables
  with mismatch, closed-form dynamics between events;
- :mod:`~memsim.snn.kernels`: numba event loops (forward, adjoint), with
  plain-Python twins in :mod:`~memsim.snn.reference`;
- :mod:`~memsim.snn.eventprop`: :func:`forward`, :func:`backward`,
  :func:`reconstruct` and :func:`gradient_from_spike_times` (chip in the loop);
- :mod:`~memsim.snn.discrete`: the fixed-step reference model;
- :mod:`~memsim.snn.train`: losses, latency encoding, Adam and the training loop;
- :mod:`~memsim.snn.chip`: hardware in the loop: a :class:`Chip` of synapse
  arrays (:mod:`memsim.arrays`, the stage below) with neuron mismatch and
  noise returns spike times only; :func:`hil_epoch` trains nominal weights
  from them and writes each step to the arrays as pulses.

The event kernels import nothing above ``numpy``/``scipy``/``numba``;
:mod:`~memsim.snn.train` also takes any chip as a callable returning spike times.
"""

from memsim.snn.chip import Chip, chip_forward, chip_state, chip_update, chip_weights, hil_epoch
from memsim.snn.eventprop import Trace, backward, check_network, forward, gradient_from_spike_times, reconstruct
from memsim.snn.lif import LIF, layer_tables, neuron_table

__all__ = [
    "Chip",
    "LIF",
    "Trace",
    "backward",
    "check_network",
    "chip_forward",
    "chip_state",
    "chip_update",
    "chip_weights",
    "forward",
    "gradient_from_spike_times",
    "hil_epoch",
    "layer_tables",
    "neuron_table",
    "reconstruct",
]
