"""numba device kernels of memsim.solve.kernels against their NumPy twins and hand values.

Twins (kernels.py module docstring): ``device_conductance`` <-> ``functions.conductance``,
``device_rate`` <-> ``functions.rate``, ``_stage_rates`` <-> ``stepper.numpy_rates`` (rate times
scale, then ``functions.bound_rate``, zero for still/stochastic devices).

Tolerance of the twin comparisons: both sides are double-precision evaluations of the same
formulas, so they differ only by operation order and by the last bit of ``pow``/``exp`` (libm,
< 1 ulp).  Each rounding perturbs a term by <= eps = 2.2e-16 of its magnitude, so the difference is
bounded by a few eps times the *sum of the absolute values of the terms* (not of the result, which
can cancel: e.g. ``(r_off / beta) i - alpha x`` or ``1 - (2x - 1)**2p`` near x = 0).  The tests
require ``|kernel - numpy| <= 1e-12 * scale`` with ``scale`` that sum of magnitudes, computed below
from the published formulas; 1e-12 is ~5000 eps, far above rounding yet far below any formula
error.

Hand values come from the papers' formulas evaluated in the test (see each test).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from memsim.devices import functions as fn
from memsim.devices.models import (
    VTEAM,
    CaravelliTraversaDiVentra,
    LinearIonDrift,
    MetastableSwitch,
    Resistor,
)
from memsim.solve import kernels as kn
from memsim.solve import stepper

RTOL_TWIN = 1e-12
# Hand values: a handful of exactly representable inputs through a few roundings (k = mu_v r_on /
# d**2 itself is not exact in binary), so results agree to a few eps; 1e-14 leaves a margin ~20.
RTOL_HAND = 1e-14

DEVICES = {
    "resistor": Resistor(470.0),
    "lid-none": LinearIonDrift(),
    "lid-joglekar-p1": LinearIonDrift(window="joglekar", p=1.0),
    "lid-joglekar-p3": LinearIonDrift(window="joglekar", p=3.0),
    "lid-biolek-p1": LinearIonDrift(window="biolek", p=1.0),
    "lid-biolek-p2": LinearIonDrift(window="biolek", p=2.0),
    "lid-prodromakis": LinearIonDrift(window="prodromakis", p=7.0, j=1.0),
    "lid-prodromakis-j": LinearIonDrift(window="prodromakis", p=2.0, j=0.8),
    "vteam": VTEAM(),
    "vteam-window": VTEAM(p=2.0),
    "vteam-alpha": VTEAM(alpha_on=1.5, alpha_off=2.5, v_on=-0.5, v_off=0.3),
    "ctdv": CaravelliTraversaDiVentra(alpha=2.0, beta=0.5),
    "gms": MetastableSwitch(),
    "gms-stochastic": MetastableSwitch(n_switches=100, temperature=350.0),
}


def samples(dev, n, seed):
    """States in [0, 1] (with the bounds and 1/2), device voltages of both signs in [-2, 2] V
    (below, between and above the VTEAM and metastable-switch thresholds; plus the VTEAM thresholds
    themselves) and currents of both signs (plus zero), independent of each other."""
    rng = np.random.default_rng(seed)
    x = np.concatenate([[0.0, 1.0, 0.5, 0.0, 1.0], rng.random(n - 5)])
    v = rng.uniform(-2.0, 2.0, n)
    i = rng.uniform(-1e-2, 1e-2, n)
    i[3] = 0.0
    if isinstance(dev, VTEAM):
        v[:6] = [dev.v_on, dev.v_off, 0.5 * dev.v_on, 0.5 * dev.v_off, 2 * dev.v_on, 2 * dev.v_off]
        v[6:40] = rng.uniform(dev.v_on, dev.v_off, 34)  # non-destructive read range
    return x, v, i


def packed(dev, m):
    return np.array([dev.model_id] * m, dtype=np.int64), np.tile(dev.pack(), (m, 1))


def rate_scale(dev, x, v, i):
    """Sum of the magnitudes of the terms of dx/dt (see the module docstring)."""
    if isinstance(dev, Resistor):
        return np.zeros_like(x)
    if isinstance(dev, LinearIonDrift):  # k i F, F = 1 - w or j (1 - w): scale k |i| (1 + |w|) j
        p, w = dev.p, 0.0
        if dev.window == "joglekar":
            w = np.abs(2 * x - 1) ** (2 * p)
        elif dev.window == "biolek":
            w = np.abs(x - (i < 0)) ** (2 * p)
        elif dev.window == "prodromakis":
            w = ((x - 0.5) ** 2 + 0.75) ** p
        j = dev.j if dev.window == "prodromakis" else 1.0
        return dev.k * np.abs(i) * (1 + w) * j
    if isinstance(dev, VTEAM):  # |dw/dt| / d * (1 + |window power|)
        dw = np.where(v > dev.v_off, abs(dev.k_off) * np.abs(v / dev.v_off - 1) ** dev.alpha_off,
                      np.where(v < dev.v_on, abs(dev.k_on) * np.abs(v / dev.v_on - 1) ** dev.alpha_on, 0))
        w = np.abs(2 * x - 1) ** (2 * dev.p) if dev.p > 0 else 0.0
        return dw / dev.d * (1 + w)
    if isinstance(dev, CaravelliTraversaDiVentra):
        return dev.r_off / dev.beta * np.abs(i) + dev.alpha * x
    if isinstance(dev, MetastableSwitch):
        b = dev.pack()[5]
        p_on = 1 / (1 + np.exp(-b * (v - dev.v_on))) / dev.tau
        p_off = 1 / (1 + np.exp(b * (v + dev.v_off))) / dev.tau
        return (1 - x) * p_on + x * p_off
    raise AssertionError(dev)


def assert_twins(kernel, numpy, scale, rtol=RTOL_TWIN):
    kernel, numpy = np.asarray(kernel), np.asarray(numpy)
    assert kernel.shape == numpy.shape
    assert np.all(np.isfinite(kernel)) and np.all(np.isfinite(numpy))
    bad = np.abs(kernel - numpy) > rtol * scale
    assert not bad.any(), (
        f"{bad.sum()} mismatches, first at {np.argmax(bad)}: {kernel[bad][:3]} vs {numpy[bad][:3]}"
    )


# ------------------------------------------------------------------ conductance and rate twins
@pytest.mark.parametrize("name", list(DEVICES))
def test_device_conductance_matches_numpy(name):
    # one division and a two-term sum of positive terms: scale = |g| (no cancellation)
    dev = DEVICES[name]
    x, _, _ = samples(dev, 256, seed=1)
    model, params = packed(dev, x.size)
    g_k = kn.device_conductance(model, params, x)
    g_n = fn.conductance(model, params, x)
    assert_twins(g_k, g_n, np.abs(g_n))
    assert np.all(g_k > 0)


@pytest.mark.parametrize("name", list(DEVICES))
def test_device_rate_matches_numpy(name):
    dev = DEVICES[name]
    x, v, i = samples(dev, 512, seed=2)
    model, params = packed(dev, x.size)
    r_k = kn.device_rate(model, params, x, v, i)
    r_n = fn.rate(model, params, x, v, i)
    assert_twins(r_k, r_n, rate_scale(dev, x, v, i))
    # the scale is not vacuous: it bounds the rate itself (up to rounding)
    assert np.all(np.abs(r_n) <= rate_scale(dev, x, v, i) * (1 + 1e-12))


def test_mixed_models_in_one_array():
    # One kernel call over a network mixing every model: dispatch per edge on model[e].
    rng = np.random.default_rng(3)
    names = list(DEVICES)
    pick = rng.integers(0, len(names), 600)
    devs = [DEVICES[names[k]] for k in pick]
    model = np.array([d.model_id for d in devs], dtype=np.int64)
    params = np.array([d.pack() for d in devs])
    x = rng.random(pick.size)
    v = rng.uniform(-2.0, 2.0, pick.size)
    i = rng.uniform(-1e-2, 1e-2, pick.size)
    scale = np.array([rate_scale(d, x[e:e + 1], v[e:e + 1], i[e:e + 1])[0] for e, d in enumerate(devs)])
    assert_twins(kn.device_rate(model, params, x, v, i), fn.rate(model, params, x, v, i), scale)
    g_n = fn.conductance(model, params, x)
    assert_twins(kn.device_conductance(model, params, x), g_n, np.abs(g_n))


# ------------------------------------------------------------------ hand-checked values
def test_conductance_hand_values():
    # series models R = r_on x + r_off (1 - x); metastable switch g = x / r_on + (1 - x) / r_off
    devs = [Resistor(250.0), LinearIonDrift(r_on=100.0, r_off=16e3), VTEAM(r_on=50.0, r_off=1e3),
            CaravelliTraversaDiVentra(r_on=1.0, r_off=100.0), MetastableSwitch(r_on=500.0, r_off=1500.0)]
    x = np.array([0.3, 0.25, 0.5, 0.75, 0.25])
    expected = [1 / 250.0, 1 / (100.0 * 0.25 + 16e3 * 0.75), 1 / (25.0 + 500.0),
                1 / (0.75 + 25.0), 0.25 / 500.0 + 0.75 / 1500.0]
    model = np.array([d.model_id for d in devs], dtype=np.int64)
    params = np.array([d.pack() for d in devs])
    np.testing.assert_allclose(kn.device_conductance(model, params, x), expected, rtol=RTOL_HAND)
    np.testing.assert_allclose(fn.conductance(model, params, x), expected, rtol=RTOL_HAND)


def both_rates(dev, x, v, i):
    model, params = packed(dev, len(x))
    x, v, i = (np.asarray(a, dtype=float) for a in (x, v, i))
    return kn.device_rate(model, params, x, v, i), fn.rate(model, params, x, v, i)


@pytest.mark.parametrize(
    "window, p, j, x, i, f_hand",
    [
        # Strukov et al. 2008: dx/dt = (mu_v r_on / D^2) i F(x, i); windows as in the docstring.
        ("none", 1.0, 1.0, 0.25, 1e-3, 1.0),
        ("joglekar", 1.0, 1.0, 0.25, 2e-3, 1 - (2 * 0.25 - 1) ** 2),  # = 0.75
        ("joglekar", 2.0, 1.0, 0.9, -1e-3, 1 - 0.8**4),  # = 0.5904
        ("biolek", 2.0, 1.0, 0.25, -2e-3, 1 - (0.25 - 1) ** 4),  # i < 0: H(-i) = 1 -> 0.68359375
        ("biolek", 2.0, 1.0, 0.25, 2e-3, 1 - 0.25**4),  # i > 0: H(-i) = 0 -> 0.99609375
        ("prodromakis", 2.0, 1.0, 0.25, 1e-3, 1 - (0.25**2 + 0.75) ** 2),  # = 0.33984375
        ("prodromakis", 1.0, 0.5, 0.5, -3e-3, 0.5 * (1 - 0.75)),  # = 0.125
    ],
)
def test_linear_ion_drift_rate_by_hand(window, p, j, x, i, f_hand):
    r_on, d, mu_v = 100.0, 10e-9, 1e-14
    dev = LinearIonDrift(r_on=r_on, r_off=16e3, d=d, mu_v=mu_v, window=window, p=p, j=j)
    k = mu_v * r_on / d**2  # 1e4 / (A s)
    np.testing.assert_allclose(k, 1e4, rtol=RTOL_HAND)
    expected = k * i * f_hand
    r_k, r_n = both_rates(dev, [x], [0.7], [i])  # the voltage does not enter this model
    np.testing.assert_allclose(r_k, [expected], rtol=RTOL_HAND)
    np.testing.assert_allclose(r_n, [expected], rtol=RTOL_HAND)


def test_linear_ion_drift_docstring_value():
    # k = 1e4 /(A s), i = 1 mA, no window: dx/dt = 10 /s (functions.rate docstring)
    r_k, r_n = both_rates(LinearIonDrift(), [0.5], [1.0], [1e-3])
    np.testing.assert_allclose([r_k[0], r_n[0]], [10.0, 10.0], rtol=RTOL_HAND)


@pytest.mark.parametrize("p", [0.0, 2.0])
def test_vteam_zero_between_thresholds(p):
    # Kvatinsky et al. 2015: dw/dt = 0 for v_on <= v <= v_off, at any state, with or without window.
    dev = VTEAM(p=p)
    v = np.concatenate([[dev.v_on, dev.v_off, 0.0, -0.0, np.nextafter(dev.v_off, 0.0),
                         np.nextafter(dev.v_on, 0.0)], np.linspace(dev.v_on, dev.v_off, 50)])
    x = np.linspace(0.0, 1.0, v.size)
    i = np.sign(v) * 1e-3  # the current does not enter this model
    r_k, r_n = both_rates(dev, x, v, i)
    assert np.array_equal(r_k, np.zeros(v.size))  # exactly zero (-0.0 == 0.0)
    assert np.array_equal(r_n, np.zeros(v.size))


def test_vteam_rate_by_hand_beyond_thresholds():
    # x = 1 - w / d, so dx/dt = -(dw/dt) / d with
    #   v > v_off: dw/dt = k_off (v / v_off - 1)**alpha_off  (> 0: the device turns OFF),
    #   v < v_on : dw/dt = k_on  (v / v_on  - 1)**alpha_on   (< 0 since k_on < 0: turns ON).
    dev = VTEAM()  # k_on -10, k_off 5e-4 m/s, alpha_on 3, alpha_off 1, v_on -0.2, v_off 0.02, d 3 nm
    v = np.array([0.04, 0.1, -0.4, -0.6])
    expected = np.array([
        -5e-4 * (0.04 / 0.02 - 1) ** 1 / 3e-9,  # -1.666...e5 /s
        -5e-4 * (0.1 / 0.02 - 1) ** 1 / 3e-9,  # -6.666...e5 /s
        10.0 * (-0.4 / -0.2 - 1) ** 3 / 3e-9,  # -(k_on = -10) ...: +3.333...e9 /s
        10.0 * (-0.6 / -0.2 - 1) ** 3 / 3e-9,  # +2.666...e10 /s
    ])
    r_k, r_n = both_rates(dev, np.full(4, 0.5), v, np.zeros(4))
    np.testing.assert_allclose(r_k, expected, rtol=RTOL_HAND)
    np.testing.assert_allclose(r_n, expected, rtol=RTOL_HAND)
    # with a Joglekar window (p = 1) at x = 0.25 the rate is multiplied by 1 - (2x - 1)^2 = 0.75
    r_k, r_n = both_rates(VTEAM(p=1.0), np.full(4, 0.25), v, np.zeros(4))
    np.testing.assert_allclose(r_k, 0.75 * expected, rtol=RTOL_HAND)
    np.testing.assert_allclose(r_n, 0.75 * expected, rtol=RTOL_HAND)


def test_ctdv_rate_by_hand():
    # Caravelli, Traversa & Di Ventra 2017: dx/dt = (r_off / beta) i - alpha x
    dev = CaravelliTraversaDiVentra(r_on=1.0, r_off=100.0, alpha=1.0, beta=10.0)
    r_k, r_n = both_rates(dev, [0.3, 0.0], [0.0, 0.0], [0.01, -0.02])
    expected = [100.0 / 10.0 * 0.01 - 1.0 * 0.3, 100.0 / 10.0 * -0.02]  # [-0.2, -0.2]
    np.testing.assert_allclose(r_k, expected, rtol=RTOL_HAND)
    np.testing.assert_allclose(r_n, expected, rtol=RTOL_HAND)


def test_metastable_switch_mean_field_by_hand():
    # Molter & Nugent 2016: P_on = 1 / (1 + exp(-b (v - v_on))), P_off = 1 / (1 + exp(b (v + v_off))),
    # b = q / (k_B T); mean field dx/dt = ((1 - x) P_on - x P_off) / tau.
    dev = MetastableSwitch(v_on=0.27, v_off=0.27, tau=1e-4, temperature=298.5)
    b = 1.602176634e-19 / (1.380649e-23 * 298.5)  # CODATA 2018 exact constants, 1/V
    x, v = 0.3, 0.35
    p_on = 1 / (1 + math.exp(-b * (v - 0.27)))
    p_off = 1 / (1 + math.exp(b * (v + 0.27)))
    expected = ((1 - x) * p_on - x * p_off) / 1e-4
    r_k, r_n = both_rates(dev, [x], [v], [0.0])
    # b is rounded differently here (one division less): relative 1e-14 on b times |b (v - v_on)|
    # ~ 3 in the exponent gives ~3e-14 on P_on; 1e-13 covers it.
    np.testing.assert_allclose(r_k, [expected], rtol=1e-13)
    np.testing.assert_allclose(r_n, [expected], rtol=1e-13)
    # symmetric thresholds at v = 0, x = 1/2: P_on = P_off exactly, so the rate is exactly zero
    r_k, r_n = both_rates(dev, [0.5], [0.0], [0.0])
    assert r_k[0] == 0.0 and r_n[0] == 0.0


def test_resistor_rate_is_zero():
    x, v, i = samples(Resistor(1.0), 64, seed=4)
    r_k, r_n = both_rates(Resistor(1.0), x, v, i)
    assert np.array_equal(r_k, np.zeros(64)) and np.array_equal(r_n, np.zeros(64))


# ------------------------------------------------------------------ bounds
def test_bound_rate_by_hand():
    # outward rates at x <= 0 (r < 0) and x >= 1 (r > 0) are zeroed; inward ones and interior
    # states are untouched (values copied exactly).
    x = np.array([0.0, 0.0, 1.0, 1.0, 0.5, 0.5, -0.1, 1.2, 0.0, 1.0])
    r = np.array([-2.0, 2.0, 3.0, -3.0, -4.0, 4.0, -1.0, 1.0, 0.0, 0.0])
    expected = np.array([0.0, 2.0, 0.0, -3.0, -4.0, 4.0, 0.0, 0.0, 0.0, 0.0])
    assert np.array_equal(fn.bound_rate(x, r), expected)


def test_stage_rates_kernel_matches_numpy_twin():
    # _stage_rates = bound_rate(rate * scale), zero for still and stochastic devices, exactly as
    # stepper.numpy_rates; same tolerance as the rate twins (the scale factor is one more rounding).
    rng = np.random.default_rng(5)
    names = list(DEVICES)
    pick = rng.integers(0, len(names), 400)
    devs = [DEVICES[names[k]] for k in pick]
    model = np.array([d.model_id for d in devs], dtype=np.int64)
    params = np.array([d.pack() for d in devs])
    x = rng.random(pick.size)
    x[::7] = 0.0  # states at the bounds, where outward rates must be cut
    x[3::7] = 1.0
    v = rng.uniform(-2.0, 2.0, pick.size)
    i = rng.uniform(-1e-2, 1e-2, pick.size)
    scale = rng.uniform(0.5, 1.5, pick.size)
    still = rng.random(pick.size) < 0.1
    stoch = (model == MetastableSwitch.model_id) & (params[:, 6] > 0)
    out = np.empty(pick.size)
    kn._stage_rates(x, params, model, scale, still, stoch, v, i, out)
    ref = stepper.numpy_rates(model, params, x, v, i, scale, still, stoch)
    mag = np.array([rate_scale(d, x[e:e + 1], v[e:e + 1], i[e:e + 1])[0] for e, d in enumerate(devs)])
    assert_twins(out, ref, mag * scale)
    # bounds hold exactly: no outward rate at x = 0 or 1; still and stochastic devices are frozen
    assert not np.any((x <= 0) & (out < 0)) and not np.any((x >= 1) & (out > 0))
    assert np.array_equal(out[still | stoch], np.zeros(int((still | stoch).sum())))
    # and some outward rates were actually cut (the check above is not vacuous)
    raw = kn.device_rate(model, params, x, v, i)
    assert np.any(((x <= 0) & (raw < 0)) | ((x >= 1) & (raw > 0)))
