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
    MAX_WINDOW_EXPONENT,
    MODEL_CTDV,
    MODEL_GMS,
    MODEL_LINEAR_DRIFT,
    MODEL_RESISTOR,
    MODEL_VTEAM,
)

__all__ = ["conductance", "rate", "window", "joglekar", "bound_rate", "gms_probabilities"]


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


def _whole(p: np.ndarray) -> np.ndarray:
    """Whether each exponent is a whole number >= 1 (the exact forms below need one)."""
    p = np.asarray(p, dtype=float)
    return (p >= 1) & (p == np.floor(p)) & (p <= MAX_WINDOW_EXPONENT)


def joglekar(p: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Joglekar's window ``1 - (2x - 1)**(2p)``, accurate near both bounds.

    For a whole ``p`` it is evaluated as ``4 x (1 - x) * sum_{j<p} (2x - 1)**(2j)``
    (the same polynomial), which keeps full relative precision as ``x -> 0``
    or ``x -> 1``: the literal form rounds ``2x - 1`` to ``-1`` for
    ``x < 2**-54`` and returns exactly 0, so a device started there would
    never move. Other exponents use the literal form.

    Examples
    --------
    >>> float(joglekar(np.array(1.0), np.array(1e-17)))  # the literal form gives 0.0
    4e-17
    """
    p = np.asarray(p, dtype=float)
    x = np.asarray(x, dtype=float)
    y2 = (2.0 * x - 1.0) ** 2
    n = np.where(_whole(p), p, 1.0)
    total = np.ones(np.broadcast_shapes(p.shape, x.shape))
    term = np.ones_like(total)
    for j in range(1, int(np.max(n, initial=1.0))):
        term = term * y2
        total = np.where(j < n, total + term, total)
    exact = 4.0 * x * (1.0 - x) * total
    with np.errstate(invalid="ignore"):
        return np.where(_whole(p), exact, 1.0 - (2.0 * x - 1.0) ** (2.0 * p))


def _biolek(p: np.ndarray, x: np.ndarray, i: np.ndarray) -> np.ndarray:
    """Biolek's window ``1 - (x - H(-i))**(2p)`` as ``u * sum_{j<2p} (1 - u)**j``.

    ``u = 1 - x`` for ``i >= 0`` and ``u = x`` for ``i < 0`` (the same
    polynomial for whole ``p``, accurate as ``u -> 0``).
    """
    p = np.asarray(p, dtype=float)
    u = np.where(i < 0, x, 1.0 - x)
    w = 1.0 - u
    n = np.where(_whole(p), 2.0 * p, 2.0)
    total = np.ones(np.broadcast_shapes(p.shape, u.shape))
    term = np.ones_like(total)
    for j in range(1, int(np.max(n, initial=2.0))):
        term = term * w
        total = np.where(j < n, total + term, total)
    step = (i < 0).astype(float)
    with np.errstate(invalid="ignore"):
        return np.where(_whole(p), u * total, 1.0 - (x - step) ** (2.0 * p))


def _prodromakis(p: np.ndarray, j: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Prodromakis' window ``j (1 - ((x - 1/2)**2 + 3/4)**p)`` as ``-j expm1(p log1p(-x (1 - x)))``.

    ``(x - 1/2)**2 + 3/4 = 1 - x (1 - x)``; the rewritten form keeps full
    relative precision near both bounds, for any ``p > 0``.
    """
    return -j * np.expm1(p * np.log1p(-x * (1.0 - x)))


def window(kind: np.ndarray, p: np.ndarray, j: np.ndarray, x: np.ndarray, i: np.ndarray) -> np.ndarray:
    """Window function ``F(x, i)`` of the linear-drift model (codes in ``WINDOW_IDS``).

    ``x`` is first moved at least one ulp inside ``[0, 1]``. A window vanishes
    at the bound it protects, so the exact dynamics only approach it; but a
    device driven hard saturates closer to the bound than double precision
    can tell from it (``1 - x ~ exp(-4 k phi / r_on)`` for Joglekar's window),
    and a state rounded onto the bound would otherwise stay there forever.
    From one ulp inside, it leaves when the drive reverses, as it would from
    ``1 - 2**-53``: a saturated device forgets how deep it went, which no
    double-precision state can remember. Every window is evaluated in a
    form with full relative precision near both bounds (:func:`joglekar`),
    so a state of ``1e-17`` moves as the exact solution does.
    """
    kind = np.asarray(kind)
    x = np.clip(x, *INSIDE)
    jog = joglekar(p, x)
    bio = _biolek(p, x, np.asarray(i))
    pro = _prodromakis(p, j, x)
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
        fw = np.where(wp > 0, joglekar(np.where(wp > 0, wp, 1.0), xw), 1.0)
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
