"""Pure vectorised device functions (the NumPy reference implementation).

These functions read packed parameter arrays (see :mod:`memsim.devices.models`)
and are the plain-NumPy twins of the numba kernels in
:mod:`memsim.solve.kernels`; the tests compare the two. They broadcast over
leading ensemble axes: ``model`` has shape ``(M,)``, ``params`` ``(..., M, P)``
and states, voltages and currents ``(..., M)``.
"""

from __future__ import annotations

import numpy as np

from memsim.devices.models import (
    MODEL_CTDV,
    MODEL_GMS,
    MODEL_LINEAR_DRIFT,
    MODEL_RESISTOR,
    MODEL_VTEAM,
)

__all__ = ["conductance", "rate", "window", "bound_rate", "gms_probabilities"]


def _sigmoid(z: np.ndarray) -> np.ndarray:
    # numerically safe logistic function
    with np.errstate(over="ignore"):
        return 1.0 / (1.0 + np.exp(-z))


def conductance(model: np.ndarray, params: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Conductance ``g(x)`` of each device, in siemens.

    Series-resistance models (linear drift, VTEAM, Caravelli) have
    ``g = 1 / (r_on x + r_off (1 - x))``; the metastable switch has parallel
    switches, ``g = x / r_on + (1 - x) / r_off``; a resistor ``1 / R``.

    Examples
    --------
    >>> from memsim.devices.models import LinearIonDrift
    >>> p = LinearIonDrift().pack()[None, :]
    >>> float(conductance(np.array([1]), p, np.array([1.0]))[0])
    0.01
    """
    model = np.asarray(model)
    r_on = params[..., 0]
    r_off = params[..., 1]
    x = np.asarray(x, dtype=float)
    series = 1.0 / (r_on * x + r_off * (1.0 - x))
    parallel = x / r_on + (1.0 - x) / r_off
    g = np.where(model == MODEL_GMS, parallel, series)
    return np.where(model == MODEL_RESISTOR, 1.0 / r_on, g)


#: Windows are evaluated at least one ulp inside [0, 1]: the smallest doubles
#: above 0 and below 1.
INSIDE = (2.0**-1074, 1.0 - 2.0**-53)


def window(kind: np.ndarray, p: np.ndarray, j: np.ndarray, x: np.ndarray, i: np.ndarray) -> np.ndarray:
    """Window function ``F(x, i)`` of the linear-drift model (codes in ``WINDOW_IDS``).

    ``x`` is first moved at least one ulp inside ``[0, 1]``. A window vanishes
    at the bound it protects, so the exact dynamics only approach it; but a
    device driven hard saturates closer to the bound than double precision
    can tell from it (``1 - x ~ exp(-4 k phi / r_on)`` for Joglekar's window),
    and a state rounded onto the bound would otherwise stay there forever.
    From one ulp inside, it leaves when the drive reverses, as it would from
    ``1 - 2**-53``: a saturated device forgets how deep it went, which no
    double-precision state can remember.
    """
    kind = np.asarray(kind)
    x = np.clip(x, *INSIDE)
    jog = 1.0 - (2.0 * x - 1.0) ** (2.0 * p)
    step = (i < 0).astype(float)
    bio = 1.0 - (x - step) ** (2.0 * p)
    pro = j * (1.0 - ((x - 0.5) ** 2 + 0.75) ** p)
    out = np.ones(np.broadcast_shapes(np.shape(kind), np.shape(x), np.shape(i)))
    out = np.where(kind == 1, jog, out)
    out = np.where(kind == 2, bio, out)
    return np.where(kind == 3, pro, out)


def gms_probabilities(params: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-unit-time switching fractions ``(P_on, P_off) / tau`` of a metastable switch.

    Returns the rates (1/s) at which an OFF switch turns ON and an ON switch
    turns OFF at device voltage ``v``.
    """
    v_on = params[..., 2]
    v_off = params[..., 3]
    tau = params[..., 4]
    b = params[..., 5]
    p_on = _sigmoid(b * (v - v_on)) / tau
    p_off = _sigmoid(-b * (v + v_off)) / tau
    return p_on, p_off


def rate(
    model: np.ndarray,
    params: np.ndarray,
    x: np.ndarray,
    v: np.ndarray,
    i: np.ndarray,
) -> np.ndarray:
    """State derivative ``dx/dt`` (1/s) of each device, before bounds are applied.

    Parameters
    ----------
    model : (M,) int array of model codes.
    params : (..., M, P) packed parameters.
    x, v, i : (..., M) states, device voltages (V) and currents (A).

    Examples
    --------
    >>> from memsim.devices.models import LinearIonDrift
    >>> p = LinearIonDrift().pack()[None, :]
    >>> round(float(rate(np.array([1]), p, np.array([0.5]), np.array([1.0]), np.array([1e-3]))[0]), 9)
    10.0
    """
    model = np.asarray(model)
    x = np.asarray(x, dtype=float)
    v = np.asarray(v, dtype=float)
    i = np.asarray(i, dtype=float)
    out = np.zeros(np.broadcast_shapes(x.shape, v.shape, params.shape[:-1]))
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        # linear ion drift
        k = params[..., 2]
        f = window(params[..., 3], params[..., 4], params[..., 5], x, i)
        out = np.where(model == MODEL_LINEAR_DRIFT, k * i * f, out)
        # VTEAM
        k_on, k_off = params[..., 2], params[..., 3]
        a_on, a_off = params[..., 4], params[..., 5]
        v_on, v_off = params[..., 6], params[..., 7]
        d, wp = params[..., 8], params[..., 9]
        dw = np.where(
            v > v_off,
            k_off * np.abs(v / v_off - 1.0) ** a_off,
            np.where(v < v_on, k_on * np.abs(v / v_on - 1.0) ** a_on, 0.0),
        )
        xw = np.clip(x, *INSIDE)
        fw = np.where(wp > 0, 1.0 - (2.0 * xw - 1.0) ** (2.0 * wp), 1.0)
        out = np.where(model == MODEL_VTEAM, -dw / d * fw, out)
        # Caravelli-Traversa-Di Ventra
        alpha, beta = params[..., 2], params[..., 3]
        out = np.where(model == MODEL_CTDV, params[..., 1] / beta * i - alpha * x, out)
        # metastable switch, mean field
        p_on, p_off = gms_probabilities(params, v)
        out = np.where(model == MODEL_GMS, (1.0 - x) * p_on - x * p_off, out)
    return out


def bound_rate(x: np.ndarray, r: np.ndarray) -> np.ndarray:
    """Zero the rates that would push a state out of ``[0, 1]`` at a bound."""
    return np.where(((x <= 0.0) & (r < 0.0)) | ((x >= 1.0) & (r > 0.0)), 0.0, r)
