"""The adaptive Bogacki–Shampine integrator (memsim.solve.adaptive) against its references.

References: the NumPy twin (same algorithm; identical arithmetic when it is given
the same dense solve), closed forms, scipy's ``solve_ivp`` at tight tolerances on
smooth problems, and fine fixed-step RK4 where a threshold or bound makes the
rates non-smooth (there ``solve_ivp`` has no event location and is the less
accurate of the two; see ``test_scipy_is_the_less_accurate_across_kinks``).
"""

from __future__ import annotations

import numpy as np
import pytest

from memsim import PWL, VTEAM, CaravelliTraversaDiVentra, LinearIonDrift, MetastableSwitch, Network, Segment, Sine, layered, simulate

HP = LinearIonDrift(r_on=100.0, r_off=16e3, d=10e-9, mu_v=1e-14)  # Strukov et al. 2008


def single(device, x0=0.1):
    net = Network(default_device=device)
    net.add_node("a", "input")
    net.add_node("b", "output")
    net.add_edge("a", "b", x0=x0)
    return net


def net_242(seed=1):
    return Network.from_graph(layered([2, 4, 2], orientation="backward"), VTEAM(), x0="random", seed=seed)


def protocol_242(net, wrap=lambda w: w):
    """Punish (100 ns), normalise (1 ns), then PWL and sine drives that cross both VTEAM thresholds."""
    a, b = net.inputs
    return [Segment(100e-9, drive={a: -0.5}, ground=[net.outputs[1]]),
            Segment(1e-9, drive={a: 0.6, b: 0.6}, ground=net.outputs),
            Segment(20e-9, drive={a: wrap(PWL((0.0, 1.06e-7, 1.21e-7), (0.0, -0.7, 0.3))),
                                   b: wrap(Sine(0.3, 1e8))}, ground=net.outputs)]


def test_kernel_matches_numpy_twin():
    # a callable that is not a Sine/PWL runs the twin (memsim.solve.stepper.adaptive_python) with the
    # same dense solve and compiled rates as the kernel: same arithmetic, same accept/reject/event
    # decisions, so agreement to rounding (1e-12 leaves room for summation order in the norm)
    net = net_242()
    x0 = np.random.default_rng(0).random((3, 16))
    kw = dict(dt=1e-10, method="adaptive", rtol=1e-6, atol=1e-8, x0=x0)
    a = simulate(net, protocol_242(net), **kw)
    # the PWL stays a PWL (its knots are step boundaries on both paths); the sine becomes a plain callable
    b = simulate(net, protocol_242(net, wrap=lambda w: w if isinstance(w, PWL) else (lambda t: w(t))), **kw)
    assert a.stats["steps"] == b.stats["steps"] and a.stats["events"] == b.stats["events"] > 0
    assert a.stats["rejected"] == b.stats["rejected"] > 0
    np.testing.assert_array_equal(a.t, b.t)
    for q in ("x", "i_node", "v_node", "i_edge", "power"):
        ref = getattr(b, q)  # rounding: 1e-12 of each quantity's scale (small values come from cancellation)
        np.testing.assert_allclose(getattr(a, q), ref, rtol=1e-12, atol=1e-12 * np.abs(ref).max(), err_msg=q)
    np.testing.assert_allclose(a.energy(), b.energy(), rtol=1e-12)


def test_threaded_copies_equal_one_by_one():
    # copies are independent and each steps on its own: 8+ copies are split over threads
    net = net_242()
    x0 = np.random.default_rng(2).random((9, 16))
    a = simulate(net, protocol_242(net)[:2], dt=1e-10, method="adaptive", rtol=1e-6, atol=1e-8, x0=x0)
    b = np.vstack([simulate(net, protocol_242(net)[:2], dt=1e-10, method="adaptive", rtol=1e-6, atol=1e-8,
                            x0=x0[i]).x_final for i in range(9)])
    np.testing.assert_array_equal(a.x_final, b)


def test_closed_form_hp_sine():
    # HP device, no window, sine drive: R(t)^2 = R0^2 - 2 dR k phi(t) (test_integrate.hp_exact)
    res = simulate(single(HP), Segment(1.0, drive={"a": Sine(1.0, 1.0)}, ground=["b"]), dt=1e-2,
                   method="adaptive", rtol=1e-10, atol=1e-12)
    flux = 1 / (2 * np.pi) * (1 - np.cos(2 * np.pi * res.t))
    d_r = HP.r_off - HP.r_on
    r0 = HP.r_off - d_r * 0.1
    k = HP.mu_v * HP.r_on / HP.d**2
    exact = (HP.r_off - np.sqrt(r0**2 - 2 * d_r * k * flux)) / d_r
    # local error per step <= 1e-10 relative; ~100 steps and interpolated samples (3rd order): 1e-8
    np.testing.assert_allclose(res.x[:, 0], exact, atol=1e-8)
    assert res.stats["steps"] > 10


SMOOTH = [
    ("joglekar", LinearIonDrift(r_on=100.0, r_off=16e3, d=10e-9, mu_v=1e-14, window="joglekar", p=2), 3.0, 1.0),
    ("biolek", LinearIonDrift(r_on=100.0, r_off=16e3, d=10e-9, mu_v=1e-14, window="biolek", p=2), 3.0, 1.0),
    ("ctdv", CaravelliTraversaDiVentra(r_on=1.0, r_off=10.0, alpha=0.5, beta=20.0), 0.7, 3.0),
    ("gms", MetastableSwitch(), 0.3, 5e-4),
    ("vteam-window", VTEAM(p=2.0), -0.5, 2e-9),
]


@pytest.mark.parametrize("name,dev,volts,span", SMOOTH, ids=[s[0] for s in SMOOTH])
def test_smooth_models_match_solve_ivp(name, dev, volts, span):
    # smooth right-hand sides (soft bounds, no threshold crossing): solve_ivp (RK45, rtol 1e-12) is a
    # reliable independent reference; with rtol 1e-8 the global error stays below ~1e-7 (local error
    # <= 1e-8 relative per step, accumulated over tens of steps)
    seg = Segment(span, drive={"a": volts}, ground=["b"])
    ref = simulate(single(dev, x0=0.3), seg, dt=span / 50, method="scipy", rtol=1e-12, atol=1e-14)
    res = simulate(single(dev, x0=0.3), seg, dt=span / 50, method="adaptive", rtol=1e-8, atol=1e-10)
    assert abs(ref.x_final[0] - 0.3) > 1e-3  # it moved
    np.testing.assert_allclose(res.x[:, 0], ref.x[:, 0], atol=1e-7)


@pytest.mark.parametrize("tol", [1e-5, 1e-7, 1e-9])
def test_punishing_pulse_against_fine_rk4(tol):
    # the punishing pulse (100 ns; devices cross v_off and reach the OFF bound). Reference: RK4 at
    # dt = 1.25 ps, whose own error (by halving dt) is ~1e-12 here. The global error must stay within
    # 10x the requested rtol (tens to hundreds of steps accumulate local errors)
    net = net_242()
    x0 = np.random.default_rng(0).random(16)
    seg = protocol_242(net)[0]
    ref = simulate(net, seg, dt=1.25e-12, method="rk4", x0=x0, record=("x",), record_every=80)
    res = simulate(net, seg, dt=1e-10, method="adaptive", rtol=tol, atol=tol * 1e-2, x0=x0, record=("x",))
    np.testing.assert_allclose(res.t, ref.t, rtol=1e-12)  # the same grid, up to rounding of t0 + s h
    assert res.stats["events"] > 0
    assert np.abs(res.x - ref.x).max() < 10 * tol + 1e-9


def test_events_converge_and_fixed_step_converges_to_them():
    # punish, normalise (1 ns of fast ON switching: many devices hit the ON bound and cross v_on) and
    # PWL/sine drives crossing both thresholds. There RK4 is only ~first order (kinks and clipping inside
    # its steps), so the check is twofold: (1) the adaptive samples at rtol = tol lie within 10 tol of
    # the adaptive run at 1e-12 (self-convergence at the requested accuracy); (2) an independent
    # integrator, RK4 with its step halved three times, converges monotonically to that same answer
    net = net_242()
    x0 = np.random.default_rng(0).random(16)
    segs = protocol_242(net)
    best = simulate(net, segs, dt=1e-10, method="adaptive", rtol=1e-12, atol=1e-14, x0=x0, record=("x",))
    for tol in (1e-5, 1e-7, 1e-9):
        res = simulate(net, segs, dt=1e-10, method="adaptive", rtol=tol, atol=tol * 1e-2, x0=x0, record=("x",))
        assert np.abs(res.x - best.x).max() < 10 * tol
    errs = [np.abs(simulate(net, segs, dt=dt, method="rk4", x0=x0, record=("x",),
                            record_every=round(1e-10 / dt)).x - best.x).max() for dt in (2.5e-12, 1.25e-12, 0.625e-12)]
    assert errs[0] > errs[1] > errs[2] and errs[2] < 1e-6, errs


def test_scipy_is_the_less_accurate_across_kinks():
    # why the event tests use RK4: at the same tolerance solve_ivp (no event location) is >= 10x less
    # accurate than the adaptive kernel on the threshold-crossing segment
    net = net_242()
    x0 = np.random.default_rng(0).random(16)
    seg = protocol_242(net)[2]
    ref = simulate(net, seg, dt=1.25e-12, method="rk4", x0=x0, record=("x",)).x_final
    ad = simulate(net, seg, dt=1e-10, method="adaptive", rtol=1e-8, atol=1e-10, x0=x0, record=()).x_final
    sp = simulate(net, seg, dt=1e-10, method="scipy", rtol=1e-8, atol=1e-10, x0=x0, record=()).x_final
    assert 10 * np.abs(ad - ref).max() < np.abs(sp - ref).max()


def test_fewer_solves_than_fixed_step_on_a_punishing_pulse():
    # the point of the method: the 100 ns punishing pulse of the learning controller needs 40,000 RK4
    # solves at the controller's 10 ps step; adaptive steps need under 1 % of that at rtol 1e-6
    net = net_242()
    seg = protocol_242(net)[0]
    rk = simulate(net, seg, dt=1e-11, method="rk4", record=())
    ad = simulate(net, seg, dt=1e-11, method="adaptive", rtol=1e-6, atol=1e-8, record=())
    assert ad.stats["solves"] < 0.01 * rk.stats["solves"]
    np.testing.assert_allclose(ad.x_final, rk.x_final, atol=1e-6)


def test_frozen_segment_and_energy_closed_form():
    # a read below both VTEAM thresholds: nothing moves, no step is taken, every sample is the same,
    # and the energy is V^2 G T exactly (G = 1 / (r_on x + r_off (1 - x)))
    dev = VTEAM()
    res = simulate(single(dev, x0=0.4), Segment(1e-9, drive={"a": 0.01}, ground=["b"]), dt=1e-11,
                   method="adaptive")
    g = 1.0 / (dev.r_on * 0.4 + dev.r_off * 0.6)
    assert res.stats["steps"] == 0 and np.all(res.x == 0.4) and res.t.size == 101
    np.testing.assert_allclose(res.power, 0.01**2 * g, rtol=1e-14)
    np.testing.assert_allclose(res.energy(), 0.01**2 * g * 1e-9, rtol=1e-14)


def test_energy_matches_trapezoid_of_fine_power():
    # the energy integrated along the steps (3rd-order quadrature of the stage powers) vs trapezoidal
    # integration of the power recorded every 1.25 ps by RK4 on the punishing pulse (the reference's
    # own error, from halving its step, is ~1e-11 relative; the adaptive one at rtol 1e-9 ~ 1e-8)
    net = net_242()
    x0 = np.random.default_rng(0).random(16)
    seg = protocol_242(net)[0]
    ref = simulate(net, seg, dt=1.25e-12, method="rk4", x0=x0, record=("power",)).energy()
    res = simulate(net, seg, dt=1e-10, method="adaptive", rtol=1e-9, atol=1e-11, x0=x0, record=()).energy()
    np.testing.assert_allclose(res, ref, rtol=1e-7)


def test_max_step_limits_steps():
    dev = CaravelliTraversaDiVentra(r_on=1.0, r_off=10.0, alpha=0.5, beta=20.0)
    seg = Segment(3.0, drive={"a": 0.7}, ground=["b"])  # relaxes smoothly, never frozen
    free = simulate(single(dev), seg, dt=0.1, method="adaptive", rtol=1e-6, atol=1e-8)
    capped = simulate(single(dev), seg, dt=0.1, method="adaptive", rtol=1e-6, atol=1e-8, max_step=1e-3)
    assert 5 * free.stats["steps"] < 3000 <= capped.stats["steps"]
    np.testing.assert_allclose(free.x_final, capped.x_final, atol=1e-6)


@pytest.mark.parametrize("kw,field", [({"rtol": 0.0}, "rtol"), ({"atol": -1.0}, "atol"),
                                      ({"max_step": float("nan")}, "max_step"), ({"rtol": True}, "rtol")])
def test_bad_tolerances(kw, field):
    with pytest.raises(ValueError, match=field):
        simulate(single(HP), Segment(1.0, drive={"a": 1.0}, ground=["b"]), dt=0.1, method="adaptive", **kw)


def test_stochastic_devices_refused():
    with pytest.raises(ValueError, match="adaptive"):
        simulate(single(MetastableSwitch(n_switches=10)), Segment(1e-4, drive={"a": 0.3}, ground=["b"]),
                 dt=1e-6, method="adaptive")
