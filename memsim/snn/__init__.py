"""Spiking networks: event-driven exact LIF layers and EventProp gradients (numpy + numba).

- :mod:`~memsim.snn.lif`: neuron parameters (:class:`LIF`), per-neuron tables
  with mismatch, closed-form dynamics between events;
- :mod:`~memsim.snn.kernels`: numba event loops (forward, adjoint), with
  plain-Python twins in :mod:`~memsim.snn.reference`;
- :mod:`~memsim.snn.eventprop`: :func:`forward`, :func:`backward`,
  :func:`reconstruct` and :func:`gradient_from_spike_times` (chip in the loop);
- :mod:`~memsim.snn.discrete`: the fixed-step reference model;
- :mod:`~memsim.snn.train`: losses, latency encoding, Adam and the training loop.

This stage imports nothing above ``numpy``/``scipy``/``numba``: a chip model
(memristive arrays) plugs in as a callable returning spike times.
"""

from memsim.snn.eventprop import Trace, backward, check_network, forward, gradient_from_spike_times, reconstruct
from memsim.snn.lif import LIF, layer_tables, neuron_table

__all__ = [
    "LIF",
    "Trace",
    "backward",
    "check_network",
    "forward",
    "gradient_from_spike_times",
    "layer_tables",
    "neuron_table",
    "reconstruct",
]
