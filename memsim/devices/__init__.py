"""Memristor models, variability and published parameter sets.

Fitting a model to measurements lives in :mod:`memsim.devices.fit`, imported on its own (it runs the
solver, which imports this package: re-exporting it here would make a cycle and a heavy import).
"""

from memsim.devices.models import (
    N_PARAMS,
    VTEAM,
    CaravelliTraversaDiVentra,
    Device,
    LinearIonDrift,
    MetastableSwitch,
    Resistor,
)
from memsim.devices.variability import Variability

__all__ = [
    "N_PARAMS",
    "Device",
    "Resistor",
    "LinearIonDrift",
    "VTEAM",
    "CaravelliTraversaDiVentra",
    "MetastableSwitch",
    "Variability",
]
