"""Windows near the bounds (issue 13): a state of 1e-17 must move as the exact solution does.

The literal Joglekar form ``1 - (2x - 1)**2`` rounds to exactly 0 for ``x < 2**-54``, so a device
started there never moved. Reference: the closed form of the linear-drift device with Joglekar
(``p = 1``, ``F = 4x(1-x)``) or Prodromakis (``p = 1``, ``j = 1``, ``F = x(1-x)``) window under a
constant voltage ``V``: with ``R(x) = r_off - (r_off - r_on) x`` and ``dx/dt = c k V x (1-x) / R(x)``,
separating variables gives ``r_off ln(x/x0) - r_on ln((1-x)/(1-x0)) = c k V t`` (c = 4 or 1).
"""

import math

import numpy as np
import pytest
from scipy.optimize import brentq

from memsim import LinearIonDrift, Network, Segment, VTEAM, simulate
from memsim.devices import functions as fn
from memsim.solve import kernels as kn


def _exact(dev: LinearIonDrift, c: float, volts: float, x0: float, t: float) -> tuple[float, float]:
    """Closed form above solved for (x, 1 - x), bracketing z = logit(x) (both ends of [0, 1] resolved)."""
    rhs = c * dev.k * volts * t

    def f(z):  # z = logit(x): x = 1/(1+e^-z), 1-x = 1/(1+e^z)
        lx = -math.log1p(math.exp(-z)) if z > -700 else z
        l1x = -math.log1p(math.exp(z)) if z < 700 else -z
        return dev.r_off * (lx - math.log(x0)) - dev.r_on * (l1x - math.log1p(-x0)) - rhs

    z = brentq(f, -745.0, 745.0, xtol=1e-14, rtol=1e-15)
    return 1.0 / (1.0 + math.exp(-z)), 1.0 / (1.0 + math.exp(z))


@pytest.mark.parametrize(("window", "c"), [("joglekar", 4.0), ("prodromakis", 1.0)])
def test_state_near_zero_follows_exact_solution(window, c):
    dev = LinearIonDrift(window=window, p=1.0)
    net = Network(dev)
    net.add_node("a", "input")
    net.add_edge("a", "b", x0=1e-17)
    # the closed form reaches x = 0.99 at t = (r_off ln(0.99e17) - r_on ln 0.01) / (c k V): 15.7 s (c = 4),
    # 62.6 s (c = 1); run a little past it
    t_end = 16.0 if window == "joglekar" else 64.0
    res = simulate(net, Segment(t_end, drive={"a": 1.0}, ground=["b"]), dt=1e-3, method="rk4",
                   record=("x",), record_every=1000)
    x_sim = res.x[:, 0]
    x_ref = np.array([_exact(dev, c, 1.0, 1e-17, t)[0] for t in res.t])
    assert x_ref[-1] > 0.9 and x_sim[-1] > 0.9  # the device switched (it stayed at 1e-17 before the fix)
    # RK4 at dt = 1e-3 s on a rate of at most c k V / r_on ~ 0.4 /s: global error ~ (rate dt)^4, far below
    # 1e-9; 1e-7 relative leaves room for the rounding of the 1e-17 start compounded over ~3e4 steps
    np.testing.assert_allclose(x_sim, x_ref, rtol=1e-7, atol=1e-22)


@pytest.mark.parametrize(("window", "c"), [("joglekar", 4.0), ("prodromakis", 1.0)])
def test_state_near_one_follows_exact_solution(window, c):
    """The upper end: 1 - x from 1e-12 (x itself cannot hold a smaller 1 - x to better than 2**-53)."""
    dev = LinearIonDrift(window=window, p=1.0)
    x0 = 1.0 - 1e-12
    net = Network(dev)
    net.add_node("a", "input")
    net.add_edge("a", "b", x0=x0)
    res = simulate(net, Segment(2.0 / c, drive={"a": -1.0}, ground=["b"]), dt=1e-4, method="rk4",
                   record=("x",), record_every=100)
    ref = np.array([_exact(dev, c, -1.0, x0, t)[1] for t in res.t])
    assert ref[-1] > 0.5 and 1.0 - res.x[-1, 0] > 0.5  # switched OFF
    # compare 1 - x, the quantity that moves; 1 - x0 is held to 1e-4 relative (ulp 1.1e-16 on 1e-12) and
    # that relative offset persists as a small time shift, so 1e-3 relative; RK4 error is far smaller
    np.testing.assert_allclose(1.0 - res.x[:, 0], ref, rtol=1e-3)


@pytest.mark.parametrize("x", [1e-17, 2.0**-60, 1e-300, 1.0 - 2.0**-53])
def test_windows_exact_near_bounds_numba_and_numpy(x):
    """Window values against the exact polynomial in the small quantity u = min(x, 1-x).

    Reference: Joglekar p=2: 1-(2x-1)^4 = 4x(1-x)(1+(2x-1)^2) = 8u - 24u^2 + ..., Biolek (i<0, p=1):
    1-(x-1)^2 = x(2-x); Prodromakis p=1: x(1-x); VTEAM's Joglekar window p=1: 4x(1-x). The reference
    values are computed from x and 1-x directly, so the relative tolerance is a few ulps.
    """
    u = min(x, 1.0 - x)
    om = 1.0 - x
    cases = [
        (LinearIonDrift(window="joglekar", p=2.0), 1e-3, 4 * x * om * (1 + (2 * x - 1) ** 2)),
        (LinearIonDrift(window="biolek", p=1.0), -1e-3 if x < 0.5 else 1e-3, u * (2 - u)),
        (LinearIonDrift(window="prodromakis", p=1.0), 1e-3, x * om),
    ]
    for dev, cur, want in cases:
        params = dev.pack()[None, :]
        rate_np = fn.rate(np.array([1]), params, np.array([x]), np.array([1.0]), np.array([cur]))[0]
        rate_nb = kn.device_rate(np.array([1]), params, np.array([x]), np.array([1.0]), np.array([cur]))[0]
        expected = dev.k * cur * want
        assert want > 0
        np.testing.assert_allclose([rate_np, rate_nb], expected, rtol=1e-14)
    vt = VTEAM(p=1.0)
    vparams = vt.pack()[None, :]
    v = -0.5  # below v_on: ON switching
    dw = vt.k_on * (v / vt.v_on - 1.0) ** vt.alpha_on
    want = -dw / vt.d * 4 * x * om
    got = [fn.rate(np.array([2]), vparams, np.array([x]), np.array([v]), np.array([0.0]))[0],
           kn.device_rate(np.array([2]), vparams, np.array([x]), np.array([v]), np.array([0.0]))[0]]
    np.testing.assert_allclose(got, want, rtol=1e-14)
