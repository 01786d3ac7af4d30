"""Device variability: device-to-device spread, cycle-to-cycle noise, stuck devices.

- **Device-to-device** (``d2d``): each device's resistances, rate constants
  and thresholds are multiplied by an independent log-normal factor
  ``exp(sigma z - sigma**2 / 2)`` (mean 1), drawn once per device.
- **Cycle-to-cycle** (``c2c``): each device's switching rate is multiplied by
  a fresh log-normal factor (mean 1) at every protocol segment (every pulse),
  so repeated identical pulses move a device by different amounts; the
  noise does not depend on the time step.
- **Stuck devices**: with probabilities ``p_stuck_on`` / ``p_stuck_off`` a
  device is frozen at ``x = 1`` / ``x = 0``.

All draws go through a ``seed`` normalised by :func:`numpy.random.default_rng`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from memsim.devices.models import (
    MODEL_CTDV,
    MODEL_GMS,
    MODEL_LINEAR_DRIFT,
    MODEL_VTEAM,
)

__all__ = ["Variability", "DeviceSample", "sample_devices", "cycle_factors", "SPREAD_SLOTS"]

#: Packed slots that device-to-device spread multiplies, per model code.
SPREAD_SLOTS: dict[int, tuple[int, ...]] = {
    MODEL_LINEAR_DRIFT: (0, 1, 2),  # r_on, r_off, k
    MODEL_VTEAM: (0, 1, 2, 3, 6, 7),  # r_on, r_off, k_on, k_off, v_on, v_off
    MODEL_CTDV: (0, 1, 2, 3),  # r_on, r_off, alpha, beta
    MODEL_GMS: (0, 1, 2, 3, 4),  # r_on, r_off, v_on, v_off, tau
}


#: Largest log-normal sigma accepted for ``d2d`` and ``c2c``: a factor
#: ``exp(sigma z - sigma**2 / 2)`` with sigma 5 already spans ~13 decades at
#: +-3 standard deviations; larger values only overflow.
MAX_SIGMA = 5.0


@dataclass(frozen=True)
class Variability:
    """Variability of the devices of a network.

    Examples
    --------
    >>> Variability(d2d=0.1, c2c=0.05).c2c
    0.05
    """

    d2d: float = 0.0  # 1, log-normal sigma of device-to-device spread
    c2c: float = 0.0  # 1, log-normal sigma of per-segment rate noise
    p_stuck_on: float = 0.0  # 1, probability a device is stuck at x = 1
    p_stuck_off: float = 0.0  # 1, probability a device is stuck at x = 0

    def __post_init__(self) -> None:
        for name in ("d2d", "c2c", "p_stuck_on", "p_stuck_off"):
            val = getattr(self, name)
            if not (isinstance(val, (int, float)) and math.isfinite(val) and val >= 0):
                raise ValueError(f"Variability.{name} must be a finite number >= 0, got {val!r}")
        for name in ("d2d", "c2c"):
            if getattr(self, name) > MAX_SIGMA:
                raise ValueError(f"Variability.{name} (a log-normal sigma) must be <= {MAX_SIGMA:g}, "
                                 f"got {getattr(self, name)!r}")
        if self.p_stuck_on + self.p_stuck_off > 1:
            raise ValueError("Variability: p_stuck_on + p_stuck_off must be <= 1")


@dataclass(frozen=True)
class DeviceSample:
    """Per-copy device parameters drawn from a :class:`Variability`.

    ``params`` (K, M, P); ``stuck`` (K, M) bool; ``stuck_state`` (K, M) the
    state a stuck device is frozen at (1 or 0; meaningless where not stuck).
    """

    params: np.ndarray
    stuck: np.ndarray
    stuck_state: np.ndarray


def _lognormal(rng: np.random.Generator, sigma: float, shape) -> np.ndarray:
    return np.exp(sigma * rng.standard_normal(shape) - 0.5 * sigma**2)


def sample_devices(
    model: np.ndarray,
    params: np.ndarray,
    n_copies: int,
    variability: Variability,
    seed: int | np.random.Generator | None = None,
) -> DeviceSample:
    """Draw ``n_copies`` device populations.

    Parameters
    ----------
    model : (M,) model codes; params : (M, P) or (K, M, P) nominal parameters.

    Raises
    ------
    ValueError
        If the spread makes ``r_on >= r_off`` for some device (spread too large).

    Examples
    --------
    >>> from memsim.devices.models import VTEAM
    >>> p = np.array([VTEAM().pack()] * 3)
    >>> s = sample_devices(np.array([2, 2, 2]), p, 4, Variability(d2d=0.1), seed=0)
    >>> s.params.shape
    (4, 3, 10)
    """
    rng = np.random.default_rng(seed)
    m = model.shape[0]
    out = np.array(np.broadcast_to(params, (n_copies,) + params.shape[-2:]), dtype=float)
    if variability.d2d > 0:
        for code, slots in SPREAD_SLOTS.items():
            sel = model == code
            if not np.any(sel):
                continue
            for slot in slots:
                out[:, sel, slot] *= _lognormal(rng, variability.d2d, (n_copies, int(sel.sum())))
        bad = (out[..., 0] >= out[..., 1]) & (model != 0)
        if np.any(bad):
            raise ValueError(
                f"Variability.d2d={variability.d2d} is too large: it made r_on >= r_off "
                f"for {int(bad.sum())} device(s)"
            )
    u = rng.random((n_copies, m))
    dynamic = model != 0
    stuck_on = (u < variability.p_stuck_on) & dynamic
    stuck_off = (u >= variability.p_stuck_on) & (u < variability.p_stuck_on + variability.p_stuck_off) & dynamic
    return DeviceSample(out, stuck_on | stuck_off, stuck_on.astype(float))


def cycle_factors(
    model: np.ndarray, n_copies: int, sigma: float, seed: int | np.random.Generator | None = None
) -> np.ndarray:
    """Per-segment rate multipliers (K, M), mean 1; ones for ``sigma == 0``.

    Examples
    --------
    >>> cycle_factors(np.array([1, 1]), 1, 0.0)
    array([[1., 1.]])
    """
    if sigma == 0:
        return np.ones((n_copies, model.shape[0]))
    return _lognormal(np.random.default_rng(seed), sigma, (n_copies, model.shape[0]))
