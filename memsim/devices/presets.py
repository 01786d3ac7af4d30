"""Published device parameter sets, each with its citation.

Every preset is a module-level constant holding a frozen device instance from
:mod:`memsim.devices.models`; :data:`CITATIONS` gives the source of each one,
:func:`presets` lists them by name and :func:`get_preset` looks one up.

Only values stated in the cited papers are used. Where a paper leaves a value
open (a window exponent, the scale of a dimensionless model) the value below
is a *choice*, and the comment beside it says so.

========================  ==================================================
name                      source
========================  ==================================================
``HP_TIO2``               Strukov, Snider, Stewart & Williams, Nature 453,
                          80 (2008)
``HP_TIO2_JOGLEKAR``      Strukov et al. (2008) with the window of Joglekar
                          & Wolf, Eur. J. Phys. 30, 661 (2009), p = 1
``HP_TIO2_BIOLEK``        Strukov et al. (2008) with the window of Biolek,
                          Biolek & Biolkova, Radioengineering 18, 210 (2009)
``HP_TIO2_PRODROMAKIS``   Strukov et al. (2008) with the window of
                          Prodromakis et al., IEEE Trans. Electron Devices
                          58, 3099 (2011)
``VTEAM_KVATINSKY2015``   Kvatinsky, Ramadan, Friedman & Kolodny, IEEE
                          TCAS-II 62, 786 (2015)
``KNOWM_GMS``             Nugent & Molter, PLoS ONE 9, e85175 (2014);
                          Molter & Nugent, CNNA (2016)
``CTDV_CARAVELLI2017``    Caravelli, Traversa & Di Ventra, Phys. Rev. E 95,
                          022140 (2017) (dimensionless; scale chosen here)
========================  ==================================================

Examples
--------
>>> from memsim.devices.presets import HP_TIO2, get_preset
>>> HP_TIO2.r_off
16000.0
>>> get_preset("VTEAM_KVATINSKY2015").v_on
-0.2
"""

from __future__ import annotations

from memsim.devices.models import (
    VTEAM,
    CaravelliTraversaDiVentra,
    Device,
    LinearIonDrift,
    MetastableSwitch,
)

__all__ = [
    "CITATIONS",
    "CTDV_CARAVELLI2017",
    "HP_TIO2",
    "HP_TIO2_BIOLEK",
    "HP_TIO2_JOGLEKAR",
    "HP_TIO2_PRODROMAKIS",
    "KNOWM_GMS",
    "VTEAM_KVATINSKY2015",
    "get_preset",
    "presets",
]

#: HP TiO2 linear ion-drift device, no window (the state is clipped to [0, 1]).
#: R_on 100 ohm, R_off 16 kohm, D 10 nm, mu_v 1e-14 m^2/(V s), hence
#: k = mu_v R_on / D^2 = 1e4 1/(A s). Strukov, Snider, Stewart & Williams,
#: "The missing memristor found", Nature 453, 80 (2008).
HP_TIO2 = LinearIonDrift(r_on=100.0, r_off=16e3, d=10e-9, mu_v=1e-14, window="none")

#: HP device (Strukov et al., 2008) with the Joglekar window
#: F = 1 - (2x - 1)^(2p), p = 1 (the value used by Joglekar & Wolf, "The
#: elusive memristor: properties of basic electrical circuits", Eur. J. Phys.
#: 30, 661 (2009)).
HP_TIO2_JOGLEKAR = LinearIonDrift(
    r_on=100.0, r_off=16e3, d=10e-9, mu_v=1e-14, window="joglekar", p=1.0
)

#: HP device (Strukov et al., 2008) with the Biolek window
#: F = 1 - (x - H(-i))^(2p) (Biolek, Biolek & Biolkova, "SPICE model of
#: memristor with nonlinear dopant drift", Radioengineering 18, 210 (2009)).
#: p = 1 is a choice (the exponent of the Joglekar preset), not a value
#: fitted in that paper.
HP_TIO2_BIOLEK = LinearIonDrift(
    r_on=100.0, r_off=16e3, d=10e-9, mu_v=1e-14, window="biolek", p=1.0
)

#: HP device (Strukov et al., 2008) with the Prodromakis window
#: F = j (1 - ((x - 1/2)^2 + 3/4)^p) (Prodromakis, Peh, Papavassiliou &
#: Toumazou, "A versatile memristor model with nonlinear dopant kinetics",
#: IEEE Trans. Electron Devices 58, 3099 (2011)). p (shape) and j (scale) are
#: window parameters, not device constants, and our references state no
#: value for them: p = 1 and j = 1 are a choice (p = 1 as for the Joglekar
#: preset). Note that with p = 1 the window is F = x (1 - x), exactly one
#: quarter of the Joglekar p = 1 window, so this device drifts four times
#: more slowly than HP_TIO2_JOGLEKAR.
HP_TIO2_PRODROMAKIS = LinearIonDrift(
    r_on=100.0, r_off=16e3, d=10e-9, mu_v=1e-14, window="prodromakis", p=1.0, j=1.0
)

#: VTEAM threshold device: r_on 50 ohm, r_off 1 kohm, D 3 nm, k_on -10 m/s,
#: k_off 5e-4 m/s, alpha_on 3, alpha_off 1, v_on -0.2 V, v_off 0.02 V.
#: Kvatinsky, Ramadan, Friedman & Kolodny, "VTEAM: a general model for
#: voltage-controlled memristors", IEEE TCAS-II 62, 786 (2015). No window
#: (p = 0, state clipped to [0, 1]) is a choice of this preset.
VTEAM_KVATINSKY2015 = VTEAM(
    r_on=50.0,
    r_off=1e3,
    k_on=-10.0,
    k_off=5e-4,
    alpha_on=3.0,
    alpha_off=1.0,
    v_on=-0.2,
    v_off=0.02,
    d=3e-9,
    p=0.0,
)

#: Knowm generalized metastable switch: R_on 500 ohm, R_off 1.5 kohm,
#: V_on = V_off = 0.27 V, tau 1e-4 s, T 298.5 K. Nugent & Molter, "AHaH
#: computing - from metastable switches to attractors to machine learning",
#: PLoS ONE 9, e85175 (2014); Molter & Nugent, "The generalized metastable
#: switch memristor model", CNNA (2016). The paper's phi = 0.8 (weight of the
#: memristive part against a parallel Schottky diode) is not represented:
#: :class:`~memsim.devices.models.MetastableSwitch` models the memristive part
#: only. Mean-field (n_switches = 0) is a choice; use
#: ``dataclasses.replace(KNOWM_GMS, n_switches=N)`` for a stochastic device.
KNOWM_GMS = MetastableSwitch(
    r_on=500.0, r_off=1500.0, v_on=0.27, v_off=0.27, tau=1e-4, temperature=298.5
)

#: Caravelli-Traversa-Di Ventra device, R = R_off (1 - x) + R_on x,
#: dx/dt = (R_off / beta) i - alpha x (Caravelli, Traversa & Di Ventra, "The
#: complex dynamics of memristive circuits: analytical results and universal
#: slow relaxation", Phys. Rev. E 95, 022140 (2017)). The paper works in
#: dimensionless units, so every number here is a choice: r_on = 1 ohm and
#: r_off = 100 ohm (ratio 100, i.e. chi = (R_off - R_on) / R_off = 0.99),
#: alpha = 1 1/s and beta = 1 V s (time measured in units of 1 / alpha).
CTDV_CARAVELLI2017 = CaravelliTraversaDiVentra(
    r_on=1.0, r_off=100.0, alpha=1.0, beta=1.0
)

#: Source of each preset (name -> citation).
CITATIONS: dict[str, str] = {
    "HP_TIO2": "Strukov, Snider, Stewart & Williams, Nature 453, 80 (2008)",
    "HP_TIO2_JOGLEKAR": (
        "Strukov et al., Nature 453, 80 (2008); "
        "Joglekar & Wolf, Eur. J. Phys. 30, 661 (2009)"
    ),
    "HP_TIO2_BIOLEK": (
        "Strukov et al., Nature 453, 80 (2008); "
        "Biolek, Biolek & Biolkova, Radioengineering 18, 210 (2009)"
    ),
    "HP_TIO2_PRODROMAKIS": (
        "Strukov et al., Nature 453, 80 (2008); "
        "Prodromakis et al., IEEE Trans. Electron Devices 58, 3099 (2011)"
    ),
    "VTEAM_KVATINSKY2015": (
        "Kvatinsky, Ramadan, Friedman & Kolodny, IEEE TCAS-II 62, 786 (2015)"
    ),
    "KNOWM_GMS": (
        "Nugent & Molter, PLoS ONE 9, e85175 (2014); Molter & Nugent, CNNA (2016)"
    ),
    "CTDV_CARAVELLI2017": (
        "Caravelli, Traversa & Di Ventra, Phys. Rev. E 95, 022140 (2017)"
    ),
}

_PRESETS: dict[str, Device] = {
    "HP_TIO2": HP_TIO2,
    "HP_TIO2_JOGLEKAR": HP_TIO2_JOGLEKAR,
    "HP_TIO2_BIOLEK": HP_TIO2_BIOLEK,
    "HP_TIO2_PRODROMAKIS": HP_TIO2_PRODROMAKIS,
    "VTEAM_KVATINSKY2015": VTEAM_KVATINSKY2015,
    "KNOWM_GMS": KNOWM_GMS,
    "CTDV_CARAVELLI2017": CTDV_CARAVELLI2017,
}


def presets() -> dict[str, Device]:
    """All published parameter sets, by name.

    Returns
    -------
    dict of str to Device
        A new dict (safe to modify) mapping each preset's name to its frozen
        device instance; :data:`CITATIONS` has the same keys.

    Examples
    --------
    >>> from memsim.devices.presets import presets
    >>> sorted(presets())[:2]
    ['CTDV_CARAVELLI2017', 'HP_TIO2']
    """
    return dict(_PRESETS)


def get_preset(name: str) -> Device:
    """The published parameter set called ``name``.

    Parameters
    ----------
    name : str
        One of the keys of :func:`presets`, e.g. ``"HP_TIO2"``.

    Returns
    -------
    Device
        The frozen device instance.

    Raises
    ------
    ValueError
        If ``name`` is not a preset; the message lists the valid names.

    Examples
    --------
    >>> from memsim.devices.presets import get_preset
    >>> round(get_preset("HP_TIO2").k)
    10000
    """
    try:
        return _PRESETS[name]
    except (KeyError, TypeError):
        raise ValueError(
            f"unknown device preset {name!r}; valid names: {', '.join(sorted(_PRESETS))}"
        ) from None
