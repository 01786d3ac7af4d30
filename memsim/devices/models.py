"""Device models: frozen parameter dataclasses.

Every model is a frozen dataclass of scalar parameters in SI units (the unit is in
the comment beside each field). The state of a device is a single number
``x`` in ``[0, 1]`` with the same meaning for every memristor model:
``x = 1`` is the fully ON (low-resistance) state and ``x = 0`` the fully OFF
(high-resistance) state. State arrays never live in these objects.

A model's parameters are packed into a fixed-length float vector
(:data:`N_PARAMS` slots) so that networks mixing several models can be
integrated by one compiled kernel; slot 0 and 1 always hold ``r_on`` and
``r_off`` (a resistor stores its resistance in both). The layout of the other
slots is given in each class's ``pack`` docstring and is read by
:mod:`memsim.devices.functions` (NumPy) and :mod:`memsim.solve.kernels` (numba).

Polarity follows each model's paper and the edge's orientation ``u -> v``:
the edge voltage is ``v_u - v_v`` and the edge current flows from ``u`` to
``v``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import ClassVar, Literal

import numpy as np

__all__ = [
    "N_PARAMS",
    "Device",
    "Resistor",
    "LinearIonDrift",
    "VTEAM",
    "CaravelliTraversaDiVentra",
    "MetastableSwitch",
    "MODEL_RESISTOR",
    "MODEL_LINEAR_DRIFT",
    "MODEL_VTEAM",
    "MODEL_CTDV",
    "MODEL_GMS",
    "WINDOW_IDS",
    "Window",
    "MAX_WINDOW_EXPONENT",
    "MAX_RESISTANCE",
]

#: Number of float slots in a packed parameter vector.
N_PARAMS = 10

MODEL_RESISTOR = 0
MODEL_LINEAR_DRIFT = 1
MODEL_VTEAM = 2
MODEL_CTDV = 3
MODEL_GMS = 4

Window = Literal["none", "joglekar", "biolek", "prodromakis"]
#: Integer codes of the window functions of :class:`LinearIonDrift`.
WINDOW_IDS: dict[str, int] = {"none": 0, "joglekar": 1, "biolek": 2, "prodromakis": 3}

#: Largest window exponent ``p`` accepted (a window with p = 64 is already a
#: box; the exact-near-the-bounds evaluation sums ``p`` terms).
MAX_WINDOW_EXPONENT = 64.0
#: Largest resistance (ohm) a device parameter may take (1 Tohm: beyond any
#: memristor's OFF state; keeps conductances and energies far from underflow).
MAX_RESISTANCE = 1e12

#: Elementary charge over Boltzmann's constant, C/(J/K) = K/V (CODATA 2018, exact).
Q_OVER_KB = 1.602176634e-19 / 1.380649e-23


class Device:
    """Base class of all device parameter sets.

    Subclasses are frozen dataclasses; they validate their fields on
    construction and raise :class:`ValueError` naming the bad field.
    """

    model_id: ClassVar[int]
    #: Whether the device has a state that evolves (False for resistors).
    dynamic: ClassVar[bool] = True

    def pack(self) -> np.ndarray:  # pragma: no cover - abstract
        """Packed parameter vector of length :data:`N_PARAMS`."""
        raise NotImplementedError

    def _check_finite(self) -> None:
        for f in fields(self):  # type: ignore[arg-type]
            val = getattr(self, f.name)
            if isinstance(val, (int, float)) and not isinstance(val, bool):
                if not math.isfinite(val):
                    raise ValueError(
                        f"{type(self).__name__}.{f.name} must be finite, got {val!r}"
                    )

    def _check_positive(self, *names: str) -> None:
        for name in names:
            val = getattr(self, name)
            if not val > 0:
                raise ValueError(
                    f"{type(self).__name__}.{name} must be > 0, got {val!r}"
                )

    def _check_range(self, name: str, low: float, high: float, unit: str = "", *, open_low: bool = False) -> None:
        val = getattr(self, name)
        if not ((low < val if open_low else low <= val) and val <= high):
            lo = "(" if open_low else "["
            raise ValueError(
                f"{type(self).__name__}.{name} must be in {lo}{low:g}, {high:g}]{unit}, got {val!r}"
            )

    def _check_resistances(self, *names: str) -> None:
        for name in names:
            self._check_range(name, 0.0, MAX_RESISTANCE, " ohm", open_low=True)

    def _check_on_off(self) -> None:
        r_on = getattr(self, "r_on")
        r_off = getattr(self, "r_off")
        if not r_on < r_off:
            raise ValueError(
                f"{type(self).__name__}: r_on ({r_on!r} ohm) must be < r_off "
                f"({r_off!r} ohm)"
            )


def _packed(*values: float) -> np.ndarray:
    out = np.zeros(N_PARAMS)
    out[: len(values)] = values
    return out


@dataclass(frozen=True)
class Resistor(Device):
    """A linear resistor (no state).

    Examples
    --------
    >>> Resistor(1e3).pack()[:2]
    array([1000., 1000.])
    """

    resistance: float  # ohm

    model_id: ClassVar[int] = MODEL_RESISTOR
    dynamic: ClassVar[bool] = False

    def __post_init__(self) -> None:
        self._check_finite()
        self._check_resistances("resistance")

    def pack(self) -> np.ndarray:
        """Slots: ``[R, R]``."""
        return _packed(self.resistance, self.resistance)


@dataclass(frozen=True)
class LinearIonDrift(Device):
    """HP linear ion-drift memristor with an optional window function.

    ``R(x) = r_on * x + r_off * (1 - x)`` and ``dx/dt = k * i * F(x, i)`` with
    ``k = mu_v * r_on / d**2`` (Strukov, Snider, Stewart & Williams, Nature 453,
    80, 2008). Windows ``F``:

    - ``"none"``: ``F = 1`` (the state is clipped to ``[0, 1]``);
    - ``"joglekar"``: ``F = 1 - (2x - 1)**(2p)`` (Joglekar & Wolf, Eur. J. Phys.
      30, 661, 2009);
    - ``"biolek"``: ``F = 1 - (x - H(-i))**(2p)`` with ``H`` the step function
      (Biolek, Biolek & Biolkova, Radioengineering 18, 210, 2009);
    - ``"prodromakis"``: ``F = j * (1 - ((x - 1/2)**2 + 3/4)**p)`` (Prodromakis
      et al., IEEE Trans. Electron Devices 58, 3099, 2011).

    Positive current (``u -> v``) drives the device ON (``x`` grows).

    Examples
    --------
    >>> dev = LinearIonDrift(r_on=100.0, r_off=16e3, d=10e-9, mu_v=1e-14)
    >>> round(dev.k, 6)
    10000.0
    """

    r_on: float = 100.0  # ohm
    r_off: float = 16e3  # ohm
    d: float = 10e-9  # m, film thickness
    mu_v: float = 1e-14  # m^2/(V s), dopant mobility
    window: Window = "none"
    p: float = 1.0  # 1, window exponent (a positive integer for joglekar/biolek)
    j: float = 1.0  # 1, Prodromakis window scale

    model_id: ClassVar[int] = MODEL_LINEAR_DRIFT

    def __post_init__(self) -> None:
        self._check_finite()
        self._check_resistances("r_on", "r_off")
        self._check_positive("d", "mu_v", "j")
        self._check_range("p", 0.0, MAX_WINDOW_EXPONENT, open_low=True)
        self._check_on_off()
        if self.window not in WINDOW_IDS:
            raise ValueError(
                f"LinearIonDrift.window must be one of {sorted(WINDOW_IDS)}, "
                f"got {self.window!r}"
            )
        if self.window in ("joglekar", "biolek") and self.p != int(self.p):
            # (2x - 1)**(2p) of a negative base is defined only for integer p,
            # as in both papers
            raise ValueError(
                f"LinearIonDrift.p must be a positive integer for the {self.window} window, got {self.p!r}"
            )

    @property
    def k(self) -> float:
        """Rate constant ``mu_v * r_on / d**2`` in 1/(A s)."""
        return self.mu_v * self.r_on / self.d**2

    def pack(self) -> np.ndarray:
        """Slots: ``[r_on, r_off, k, window_id, p, j]``."""
        return _packed(
            self.r_on, self.r_off, self.k, WINDOW_IDS[self.window], self.p, self.j
        )


@dataclass(frozen=True)
class VTEAM(Device):
    """VTEAM voltage-threshold memristor (linear resistance in the state).

    Kvatinsky, Ramadan, Friedman & Kolodny, IEEE TCAS-II 62, 786 (2015). The
    paper's internal variable ``w`` in ``[0, d]`` (``w = 0`` ON) maps to
    ``x = 1 - w / d``. With ``v`` the device voltage::

        dw/dt = k_off * (v / v_off - 1)**alpha_off   if v > v_off > 0
              = 0                                     if v_on <= v <= v_off
              = k_on  * (v / v_on  - 1)**alpha_on    if v < v_on < 0

    and ``dx/dt = -(dw/dt) / d * f(x)`` with the optional Joglekar window
    ``f = 1 - (2x - 1)**(2p)`` (``p = 0`` means no window; the state is clipped
    to ``[0, 1]``). ``R(x) = r_on * x + r_off * (1 - x)``. With the paper's
    signs (``k_on < 0 < k_off``) a negative voltage below ``v_on`` turns the
    device ON and a positive voltage above ``v_off`` turns it OFF; between the
    thresholds the state does not move, so reads below threshold are
    non-destructive.

    Examples
    --------
    >>> VTEAM().v_on
    -0.2
    """

    r_on: float = 50.0  # ohm
    r_off: float = 1e3  # ohm
    k_on: float = -10.0  # m/s
    k_off: float = 5e-4  # m/s
    alpha_on: float = 3.0  # 1
    alpha_off: float = 1.0  # 1
    v_on: float = -0.2  # V, < 0
    v_off: float = 0.02  # V, > 0
    d: float = 3e-9  # m, w_off - w_on
    p: float = 0.0  # 1, Joglekar window exponent; 0 = no window

    model_id: ClassVar[int] = MODEL_VTEAM

    def __post_init__(self) -> None:
        self._check_finite()
        self._check_resistances("r_on", "r_off")
        self._check_positive("v_off", "d")
        self._check_range("alpha_on", 0.0, 20.0, open_low=True)
        self._check_range("alpha_off", 0.0, 20.0, open_low=True)
        self._check_range("p", 0.0, MAX_WINDOW_EXPONENT)
        self._check_on_off()
        if not self.v_on < 0:
            raise ValueError(f"VTEAM.v_on must be < 0 V, got {self.v_on!r}")
        if not self.k_on <= 0:
            raise ValueError(f"VTEAM.k_on must be <= 0 m/s, got {self.k_on!r}")
        if not self.k_off >= 0:
            raise ValueError(f"VTEAM.k_off must be >= 0 m/s, got {self.k_off!r}")
        if self.p < 0 or self.p != int(self.p):
            raise ValueError(f"VTEAM.p must be an integer >= 0 (Joglekar window exponent), got {self.p!r}")

    def pack(self) -> np.ndarray:
        """Slots: ``[r_on, r_off, k_on, k_off, alpha_on, alpha_off, v_on, v_off, d, p]``."""
        return _packed(
            self.r_on,
            self.r_off,
            self.k_on,
            self.k_off,
            self.alpha_on,
            self.alpha_off,
            self.v_on,
            self.v_off,
            self.d,
            self.p,
        )


@dataclass(frozen=True)
class CaravelliTraversaDiVentra(Device):
    """The Caravelli–Traversa–Di Ventra memristor.

    ``R(x) = r_off * (1 - x) + r_on * x`` and ``dx/dt = (r_off / beta) * i - alpha * x``
    (Caravelli, Traversa & Di Ventra, Phys. Rev. E 95, 022140, 2017). The state
    is clipped to ``[0, 1]``. For networks of these devices
    :mod:`memsim.governing` gives the closed-form dynamics.

    Examples
    --------
    >>> CaravelliTraversaDiVentra(alpha=1.0, beta=10.0).r_off
    100.0
    """

    r_on: float = 1.0  # ohm
    r_off: float = 100.0  # ohm
    alpha: float = 1.0  # 1/s, decay rate
    beta: float = 1.0  # V s, inverse learning rate

    model_id: ClassVar[int] = MODEL_CTDV

    def __post_init__(self) -> None:
        self._check_finite()
        self._check_resistances("r_on", "r_off")
        self._check_positive("beta")
        self._check_on_off()
        if self.alpha < 0:
            raise ValueError(f"CaravelliTraversaDiVentra.alpha must be >= 0, got {self.alpha!r}")

    def pack(self) -> np.ndarray:
        """Slots: ``[r_on, r_off, alpha, beta]``."""
        return _packed(self.r_on, self.r_off, self.alpha, self.beta)


@dataclass(frozen=True)
class MetastableSwitch(Device):
    """Generalized metastable-switch (GMS) memristor, memristive part.

    A device is ``n_switches`` metastable switches in parallel, a fraction
    ``x`` of them ON: ``g(x) = x / r_on + (1 - x) / r_off``. In a time step
    ``h`` each OFF switch turns ON with probability
    ``(h / tau) / (1 + exp(-b (v - v_on)))`` and each ON switch turns OFF with
    probability ``(h / tau) / (1 + exp(b (v + v_off)))``, ``b = q / (k_B T)``
    (Nugent & Molter, PLoS ONE 9, e85175, 2014; Molter & Nugent, CNNA 2016).
    With ``n_switches = 0`` the mean-field rate
    ``dx/dt = ((1 - x) P_on - x P_off) / tau`` is integrated deterministically;
    with ``n_switches > 0`` the switch counts jump by binomial draws once per
    time step (a stochastic "resource"; use fixed-step methods and ``seed``).
    The Schottky-diode parallel current of the full model (weight ``1 - phi``)
    is not included: it would make the network equations nonlinear.

    Examples
    --------
    >>> MetastableSwitch(n_switches=100).n_switches
    100
    """

    r_on: float = 500.0  # ohm
    r_off: float = 1500.0  # ohm
    v_on: float = 0.27  # V, >= 0, ON threshold
    v_off: float = 0.27  # V, >= 0, OFF threshold (magnitude; the OFF switching acts at v < -v_off)
    tau: float = 1e-4  # s, switch time constant
    temperature: float = 298.5  # K
    n_switches: int = 0  # 1, 0 = mean-field (deterministic)

    model_id: ClassVar[int] = MODEL_GMS

    def __post_init__(self) -> None:
        self._check_finite()
        self._check_resistances("r_on", "r_off")
        self._check_positive("tau")
        self._check_range("temperature", 0.0, 1e4, " K", open_low=True)
        self._check_range("v_on", 0.0, 1e3, " V")
        self._check_range("v_off", 0.0, 1e3, " V")
        self._check_on_off()
        if int(self.n_switches) != self.n_switches or self.n_switches < 0:
            raise ValueError(
                f"MetastableSwitch.n_switches must be an integer >= 0, got {self.n_switches!r}"
            )

    def pack(self) -> np.ndarray:
        """Slots: ``[r_on, r_off, v_on, v_off, tau, q/(k_B T), n_switches]``."""
        return _packed(
            self.r_on,
            self.r_off,
            self.v_on,
            self.v_off,
            self.tau,
            Q_OVER_KB / self.temperature,
            float(self.n_switches),
        )
