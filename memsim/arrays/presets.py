"""Synapse presets: published device and pulse-response sets for arrays, each with its citation.

A preset is the keyword set of a :class:`~memsim.arrays.SynapseArray` (device,
pulse, response, variability); :func:`preset_array` builds an array from one.

==================  ============================================================
name                source
==================  ============================================================
``"rpu"``           Soft-bounds resistive processing unit: the device
                    specification of Gokmen & Vlasov, Front. Neurosci. 10, 333
                    (2016) (weight step 0.001 at zero weight, weight bounds
                    +-0.6, 30 % device-to-device and cycle-to-cycle variation),
                    in the soft-bounds form of Gokmen & Haensch, Front.
                    Neurosci. 14, 103 (2020). Published response (no ODE).
``"vteam"``         VTEAM device of Kvatinsky et al., IEEE TCAS-II 62, 786
                    (2015) (:data:`memsim.devices.presets.VTEAM_KVATINSKY2015`),
                    set/reset response fitted from its ODE under the pulses
                    below.
``"gms"``           Knowm generalized metastable switch, Nugent & Molter, PLoS
                    ONE 9, e85175 (2014); Molter & Nugent, CNNA (2016)
                    (:data:`memsim.devices.presets.KNOWM_GMS`), response fitted
                    from its mean-field ODE (exactly soft bounds).
==================  ============================================================

Examples
--------
>>> arr = preset_array("rpu", 4, 3)
>>> arr.write, arr.response.up.family
('response', 'soft-bounds')
"""

from __future__ import annotations

from dataclasses import replace

from memsim.arrays.array import Pulse, SynapseArray
from memsim.arrays.response import PulseResponse, Step
from memsim.devices.models import MetastableSwitch
from memsim.devices.presets import KNOWM_GMS, VTEAM_KVATINSKY2015
from memsim.devices.variability import Variability

__all__ = ["PRESETS", "preset_array", "RPU_RESPONSE"]

#: Soft bounds ``dgn = a (1 - gn)`` up and ``a gn`` down. One device against a
#: reference at mid-range spans the weight range [-0.6, 0.6] of Gokmen & Vlasov
#: (2016) over gn in [0, 1] (``mapping="reference"``, ``w_max = 0.6``), so the
#: specified step of 0.001 at zero weight (gn = 1/2) is a = 2 * 0.001 / 1.2.
#: Up and down are taken symmetric (a choice).
RPU_RESPONSE = PulseResponse(
    up=Step("soft-bounds", (2 * 0.001 / 1.2,)),
    down=Step("soft-bounds", (2 * 0.001 / 1.2,)),
    source="Gokmen & Vlasov, Front. Neurosci. 10, 333 (2016); soft bounds of Gokmen & Haensch (2020)",
)

#: Keyword sets of :class:`SynapseArray` by preset name.
PRESETS: dict[str, dict] = {
    # The RPU specification is in weight units; its conductance range (1 uS to
    # 100 uS, a metastable-switch cell whose conductance is linear in its
    # state) is a choice here. 30 % spread (d2d) and 30 % cycle noise (c2c).
    "rpu": dict(
        device=MetastableSwitch(r_on=1e4, r_off=1e6),
        pulse=Pulse(v_set=0.3, v_reset=-0.3, width=1e-6),
        response=RPU_RESPONSE,
        variability=Variability(d2d=0.3, c2c=0.3),
        write="response",
        mapping="reference",
        w_max=0.6,
    ),
    # -0.215 V sets (0.015 V past v_on), +0.05 V resets, 1 ns: a choice that
    # walks the device through its range in a few hundred set pulses.
    "vteam": dict(device=VTEAM_KVATINSKY2015, pulse=Pulse(v_set=-0.215, v_reset=0.05, width=1e-9)),
    # +-0.3 V for 1 us: each pulse closes about 1 % of the distance to the bound.
    "gms": dict(device=KNOWM_GMS, pulse=Pulse(v_set=0.3, v_reset=-0.3, width=1e-6)),
}


def preset_array(name: str, rows: int, cols: int, **overrides) -> SynapseArray:
    """A :class:`SynapseArray` from a preset, with any field overridden.

    Examples
    --------
    >>> preset_array("vteam", 2, 2, r_wire=1.0).r_wire
    1.0
    """
    if name not in PRESETS:
        raise ValueError(f"unknown synapse preset {name!r}; choose from {sorted(PRESETS)}")
    return replace(SynapseArray(rows, cols, **PRESETS[name]), **overrides)
