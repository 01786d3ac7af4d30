"""Memristor models, variability and published parameter sets."""

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
