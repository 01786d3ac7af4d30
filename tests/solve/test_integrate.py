"""Tests of ``simulate``: closed forms, convergence order, engines against each other."""

from __future__ import annotations

import numpy as np
import pytest

import memsim.solve.integrate as integrate_mod
from memsim import (
    PWL,
    VTEAM,
    CaravelliTraversaDiVentra,
    LinearIonDrift,
    MetastableSwitch,
    Network,
    Segment,
    Sine,
    Variability,
    crossbar,
    layered,
    simulate,
)
from memsim.devices import functions as fn

HP = LinearIonDrift(r_on=100.0, r_off=16e3, d=10e-9, mu_v=1e-14)  # Strukov et al. 2008


def single(device, x0=0.1):
    net = Network(default_device=device)
    net.add_node("a", "input")
    net.add_node("b", "output")
    net.add_edge("a", "b", x0=x0)
    return net


def hp_exact(t, flux, x0=0.1, dev=HP):
    """Closed form of the HP device without window: R(t)^2 = R0^2 - 2 dR k phi(t).

    From R = r_off - dR x and dx/dt = k v / R: R dR/dt = -dR k v, integrated.
    """
    d_r = dev.r_off - dev.r_on
    r0 = dev.r_off - d_r * x0
    return (dev.r_off - np.sqrt(r0**2 - 2 * d_r * dev.k * flux(t))) / d_r


# --------------------------------------------------------------- closed forms
def test_hp_constant_drive_matches_charge_flux_solution():
    v0 = 0.5
    res = simulate(single(HP), Segment(1.0, drive={"a": v0}, ground=["b"]), dt=1e-3)
    exact = hp_exact(res.t, lambda t: v0 * t)
    # RK4 at h = 1 ms on a solution varying on a ~1 s scale: local error ~h^5,
    # global ~1e-12; 1e-10 leaves margin for rounding over 1000 steps.
    np.testing.assert_allclose(res.x[:, 0], exact, atol=1e-10)
    # the current is v / R(x) at every sample
    r = HP.r_on * res.x[:, 0] + HP.r_off * (1 - res.x[:, 0])
    np.testing.assert_allclose(res.i_edge[:, 0], v0 / r, rtol=1e-12)
    assert exact[-1] > 0.5  # the test exercises a large excursion


def test_hp_sine_drive_matches_charge_flux_solution():
    amp, freq = 1.0, 1.0
    res = simulate(single(HP), Segment(1.5, drive={"a": Sine(amp, freq)}, ground=["b"]), dt=1e-3)
    flux = lambda t: amp / (2 * np.pi * freq) * (1 - np.cos(2 * np.pi * freq * t))  # noqa: E731
    np.testing.assert_allclose(res.x[:, 0], hp_exact(res.t, flux), atol=1e-10)  # as above
    # pinched hysteresis: the state after one full period returns to x0 (flux back to 0)
    i_period = np.searchsorted(res.t, 1.0)
    assert abs(res.x[i_period, 0] - 0.1) < 1e-10


@pytest.mark.parametrize(("method", "order"), [("euler", 1), ("heun", 2), ("rk4", 4)])
def test_convergence_order(method, order):
    amp, freq, t_end = 1.0, 1.0, 0.25
    flux = lambda t: amp / (2 * np.pi * freq) * (1 - np.cos(2 * np.pi * freq * t))  # noqa: E731
    dts = t_end / np.array([8, 16, 32, 64, 128])
    errs = []
    for dt in dts:
        r = simulate(single(HP), Segment(t_end, drive={"a": Sine(amp, freq)}, ground=["b"]),
                     dt=dt, method=method, record=("x",))
        errs.append(abs(r.x_final[0] - hp_exact(t_end, flux)))
    slope = np.polyfit(np.log(dts), np.log(errs), 1)[0]
    # the fitted slope of a p-th order scheme in its asymptotic range; 0.15 allows
    # the pre-asymptotic curvature seen at the coarsest step
    assert abs(slope - order) < 0.15, (slope, errs)


def test_scipy_reference_matches_closed_form():
    res = simulate(single(HP), Segment(1.0, drive={"a": Sine(1.0, 1.0)}, ground=["b"]),
                   dt=1e-2, method="scipy", rtol=1e-10, atol=1e-12)
    flux = lambda t: 1 / (2 * np.pi) * (1 - np.cos(2 * np.pi * t))  # noqa: E731
    # solve_ivp's RK45 with rtol 1e-10 controls the local error; the global error
    # stays within ~1e-8 over ~100 accepted steps
    np.testing.assert_allclose(res.x[:, 0], hp_exact(res.t, flux), atol=1e-8)
    assert res.stats["rhs_evaluations"] > 0


def test_ctdv_single_device_linear_ode():
    # one CTDV device driven at constant v: dx/dt = r_off v / (beta R(x)) - alpha x;
    # compare with scipy's solve_ivp on the scalar ODE (an independent integrator)
    from scipy.integrate import solve_ivp

    dev = CaravelliTraversaDiVentra(r_on=1.0, r_off=10.0, alpha=0.5, beta=20.0)
    res = simulate(single(dev, x0=0.2), Segment(3.0, drive={"a": 0.7}, ground=["b"]), dt=1e-3)

    def f(t, x):
        r = dev.r_off * (1 - x) + dev.r_on * x
        return dev.r_off / dev.beta * 0.7 / r - dev.alpha * x

    ref = solve_ivp(f, (0, 3.0), [0.2], t_eval=res.t, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(res.x[:, 0], ref.y[0], atol=1e-10)  # both errors ~1e-12


# ------------------------------------------------------- engines and twins
def protocol_242():
    # read below threshold, then set (negative) and reset (positive) pulses
    return [
        Segment(2e-9, drive={("in", 0): 0.01, ("in", 1): 0.0}, ground=[("out", 0), ("out", 1)], label="read"),
        Segment(3e-9, drive={("in", 0): -0.6}, ground=[("out", 0), ("out", 1)], label="set"),
        Segment(4e-9, drive={("in", 1): Sine(0.3, 2e8)}, ground=[("out", 1)], label="mixed"),
    ]


@pytest.fixture(scope="module")
def net242():
    return Network.from_graph(layered([2, 4, 2]), VTEAM(), x0="random", seed=3).compile()


@pytest.mark.parametrize("method", ["euler", "heun", "rk4"])
def test_dense_kernel_matches_numpy_twin_and_sparse(net242, method):
    runs = {s: simulate(net242, protocol_242(), dt=1e-10, method=method, solver=s)
            for s in ("dense", "numpy", "sparse")}
    ref = runs["numpy"]
    moved = np.abs(ref.x_final - net242.x0).max()
    assert moved > 1e-3  # the protocol really switches devices
    for s in ("dense", "sparse"):
        for q in ("x", "i_edge", "v_edge", "v_node", "i_node", "power"):
            # the same arithmetic in a different order: agreement to ~1e-13 of the
            # quantity's scale (NaN at floating islands on both sides)
            a, b = getattr(runs[s], q), getattr(ref, q)
            scale = np.nanmax(np.abs(b)) + 1e-300
            np.testing.assert_allclose(a, b, rtol=0, atol=1e-11 * scale, equal_nan=True, err_msg=f"{s}/{q}")
    np.testing.assert_array_equal(runs["dense"].t, ref.t)
    np.testing.assert_array_equal(runs["dense"].segment, ref.segment)


def test_segments_are_not_straddled_and_record_every(net242):
    segs = [Segment(1.05e-9, drive={("in", 0): 0.01}, ground=[("out", 0)]),
            Segment(0.3e-9, drive={("in", 0): 0.01}, ground=[("out", 0)])]
    res = simulate(net242, segs, dt=0.1e-9, record_every=1)
    # segment 0 has ceil(10.5) = 11 steps of 1.05/11 ns; segment 1 has 3 steps
    h0, h1 = 1.05e-9 / 11, 0.1e-9
    expected = np.concatenate([np.arange(11) * h0, 1.05e-9 + np.arange(3) * h1, [1.35e-9]])
    np.testing.assert_allclose(res.t, expected, rtol=0, atol=1e-24)
    assert res.stats["steps"] == 14
    np.testing.assert_array_equal(res.segment, [0] * 11 + [1] * 4)
    dec = simulate(net242, segs, dt=0.1e-9, record_every=4, record=("x", "power"))
    # steps 0, 4, 8, 12 and the final state
    np.testing.assert_allclose(dec.t, np.append(expected[[0, 4, 8, 12]], 1.35e-9), atol=1e-24)
    np.testing.assert_array_equal(dec.x, res.x[[0, 4, 8, 12, 14]])
    assert dec.i_edge is None and dec.v_node is None
    with pytest.raises(ValueError, match="i_node"):
        dec.terminal_current(("out", 0))


def test_long_run_memory_is_bounded_by_record_every(net242):
    seg = Segment(1e-7, drive={("in", 0): 0.01}, ground=[("out", 0)])
    res = simulate(net242, seg, dt=1e-13, method="euler", record_every=100_000, record=("x",))
    assert res.stats["steps"] == 1_000_000
    assert res.x.shape == (11, 16)


def test_time_dependent_drive_in_blocks_gives_identical_results(net242, monkeypatch):
    seg = Segment(4e-9, drive={("in", 0): PWL((0, 2e-9, 4e-9), (0, -0.8, 0.1))}, ground=[("out", 0), ("out", 1)])
    whole = simulate(net242, seg, dt=1e-11)
    monkeypatch.setattr(integrate_mod, "_DRIVE_BLOCK", 7)  # forces many small blocks
    blocks = simulate(net242, seg, dt=1e-11)
    np.testing.assert_array_equal(blocks.x, whole.x)
    np.testing.assert_array_equal(blocks.t, whole.t)


def test_ensemble_equals_separate_runs(net242):
    rng = np.random.default_rng(0)
    x0 = rng.random((3, net242.n_edges))
    v = np.array([-0.5, -0.7, 0.4])  # per-copy drive voltages
    seg = [Segment(3e-9, drive={("in", 0): v}, ground=[("out", 0)])]
    ens = simulate(net242, seg, dt=1e-10, x0=x0)
    assert ens.x.shape == (31, 3, 16) and ens.ensemble
    for k in range(3):
        one = simulate(net242, [Segment(3e-9, drive={("in", 0): v[k]}, ground=[("out", 0)])], dt=1e-10, x0=x0[k])
        np.testing.assert_array_equal(ens.x[:, k], one.x)  # same kernel, same arithmetic
        np.testing.assert_array_equal(ens.i_node[:, k], one.i_node)


def test_threshold_device_read_does_not_move_state(net242):
    # VTEAM between thresholds (|v| < 0.02 V on every device): dx/dt = 0 exactly
    res = simulate(net242, Segment(1e-6, drive={("in", 0): 0.015, ("in", 1): 0.01},
                                   ground=[("out", 0), ("out", 1)]), dt=1e-8)
    np.testing.assert_array_equal(res.x_final, net242.x0)


def test_floating_island_reports_nan_not_error():
    net = Network(default_device=HP)
    net.add_node("a", "input")
    net.add_node("b", "output")
    net.add_edge("a", "b", x0=0.3)
    net.add_edge("c", "d", x0=0.3)  # an island: no path to a driven node
    res = simulate(net, Segment(1e-3, drive={"a": 1.0}, ground=["b"]), dt=1e-4)
    assert np.all(np.isnan(res.v_node[:, 2:]))
    assert np.all(res.i_edge[:, 1] == 0) and np.all(res.v_edge[:, 1] == 0)
    assert np.all(res.x[:, 1] == 0.3)
    assert np.all(np.isfinite(res.x))


def test_open_edges_carry_no_current_and_freeze(net242):
    open_ = np.zeros(16, bool)
    open_[[0, 5]] = True
    res = simulate(net242, protocol_242(), dt=1e-10, open_edges=open_)
    assert np.all(res.i_edge[:, [0, 5]] == 0)
    np.testing.assert_array_equal(res.x[:, [0, 5]], np.broadcast_to(net242.x0[[0, 5]], (res.t.size, 2)))


def test_sparse_crossbar_with_wires_matches_dense_and_reuses_factor():
    net = Network.from_graph(crossbar(4, 5, r_wire=2.0), VTEAM(), x0="random", seed=1).compile()
    ins = [("w", i, 0) for i in range(4)]
    outs = [("b", 3, j) for j in range(5)]
    read = Segment(2e-9, drive={n: 0.01 for n in ins}, ground=outs)  # below threshold
    write = Segment(2e-9, drive={ins[0]: -0.9}, ground=outs)
    dense = simulate(net, [read, write], dt=1e-10, solver="dense")
    sparse = simulate(net, [read, write], dt=1e-10, solver="sparse", low_rank_max=8)
    np.testing.assert_allclose(sparse.x, dense.x, atol=1e-12)  # same scheme, different linear algebra
    np.testing.assert_allclose(sparse.i_node, dense.i_node, atol=1e-12 * np.abs(dense.i_node).max())
    # during the read no conductance changes: one factorisation serves all 20 steps
    assert sparse.stats["factorizations"] < dense.stats["factorizations"] / 2
    assert sparse.stats["low_rank_updates"] > 0 or sparse.stats["factorizations"] < 10


def test_variability_is_seeded_and_stuck_devices_do_not_move(net242):
    var = Variability(d2d=0.1, c2c=0.2, p_stuck_on=0.2, p_stuck_off=0.2)
    a = simulate(net242, protocol_242(), dt=1e-10, variability=var, seed=7, ensemble=4)
    b = simulate(net242, protocol_242(), dt=1e-10, variability=var, seed=7, ensemble=4)
    c = simulate(net242, protocol_242(), dt=1e-10, variability=var, seed=8, ensemble=4)
    np.testing.assert_array_equal(a.x, b.x)
    assert not np.array_equal(a.x, c.x)
    stuck = np.all(a.x == a.x[:1], axis=0) & ((a.x[0] == 0) | (a.x[0] == 1))
    assert stuck.sum() > 0  # with 40 % stuck, some are, and they never moved


def test_stochastic_switches_average_to_mean_field():
    det = MetastableSwitch(n_switches=0)
    sto = MetastableSwitch(n_switches=200)
    seg = Segment(5e-4, drive={"a": 0.35}, ground=["b"])
    mean_field = simulate(single(det, x0=0.0), seg, dt=2e-6, method="euler").x[:, 0]
    runs = simulate(single(sto, x0=0.0), seg, dt=2e-6, method="euler", ensemble=400, seed=1).x[:, :, 0]
    again = simulate(single(sto, x0=0.0), seg, dt=2e-6, method="euler", ensemble=400, seed=1).x[:, :, 0]
    np.testing.assert_array_equal(runs, again)  # same seed, same draws
    # states are counts of switches over 200 (up to the rounding of the division)
    np.testing.assert_allclose(runs * 200, np.rint(runs * 200), rtol=0, atol=1e-9)
    # law of large numbers: the ensemble mean of the binomial chain follows the
    # Euler mean field; its standard error is at most 0.5/sqrt(200*400) = 1.8e-3,
    # and the linear-in-x rates make the mean obey the same recursion exactly
    err = np.abs(runs.mean(axis=1) - mean_field).max()
    assert err < 5 * 0.5 / np.sqrt(200 * 400), err
    assert runs.std(axis=1)[-1] > 0  # and it is stochastic


def test_stochastic_twin_statistics_match():
    sto = MetastableSwitch(n_switches=100)
    seg = Segment(3e-4, drive={"a": 0.3}, ground=["b"])
    a = simulate(single(sto, x0=0.2), seg, dt=2e-6, method="euler", ensemble=300, seed=2, solver="dense")
    b = simulate(single(sto, x0=0.2), seg, dt=2e-6, method="euler", ensemble=300, seed=2, solver="sparse")
    # different random streams (numba vs numpy Generator); means agree within
    # 5 standard errors of a difference of two means: 5 * sqrt(2) * 0.5 / sqrt(100*300)
    assert abs(a.x_final.mean() - b.x_final.mean()) < 5 * np.sqrt(2) * 0.5 / np.sqrt(3e4)


def test_power_equals_sum_of_terminal_power(net242):
    res = simulate(net242, protocol_242(), dt=1e-10)
    # Tellegen: power dissipated = sum over driven nodes of v * I delivered
    supplied = np.nansum(np.where(res.i_node != 0, res.v_node * res.i_node, 0.0), axis=1)
    np.testing.assert_allclose(res.power, supplied, rtol=1e-9, atol=1e-18)
    assert np.all(res.power >= -1e-18)
    assert res.energy() > 0


# ---------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (dict(dt=0.0), "dt"),
        (dict(dt=float("nan")), "dt"),
        (dict(dt=1e-3, method="rk45"), "method"),
        (dict(dt=1e-3, solver="gpu"), "solver"),
        (dict(dt=1e-3, record_every=0), "record_every"),
        (dict(dt=1e-3, record=("x", "charge")), "record"),
        (dict(dt=1e-3, x0=np.array([1.5])), "x0"),
        (dict(dt=1e-3, x0=np.array([np.nan])), "x0"),
        (dict(dt=1e-3, x0=np.zeros(3)), "x0"),
        (dict(dt=1e-3, ensemble=0), "ensemble"),
        (dict(dt=1e-3, params=np.full((1, 10), np.nan)), "params"),
    ],
)
def test_bad_arguments_raise_naming_the_field(kwargs, match):
    with pytest.raises(ValueError, match=match):
        simulate(single(HP), Segment(1e-3, drive={"a": 1.0}, ground=["b"]), **kwargs)


def test_bad_protocols_raise():
    net = single(HP)
    with pytest.raises(ValueError, match="duration"):
        Segment(-1.0, drive={"a": 1.0})
    with pytest.raises(ValueError, match="both driven and grounded"):
        Segment(1.0, drive={"a": 1.0}, ground=["a"])
    with pytest.raises(KeyError, match="nowhere"):
        simulate(net, Segment(1.0, drive={"nowhere": 1.0}), dt=0.1)
    with pytest.raises(ValueError, match="drive"):
        Segment(1.0, drive={"a": float("inf")})
    with pytest.raises(ValueError, match="no segments"):
        simulate(net, [], dt=0.1)
    with pytest.raises(ValueError, match="copies"):
        simulate(net, Segment(1.0, drive={"a": np.ones(3)}), dt=0.1, ensemble=2)


def test_network_without_input_raises():
    net = Network(default_device=HP)
    net.add_edge("a", "b")
    with pytest.raises(ValueError, match="input"):
        net.compile()


def test_adaptive_rejects_stochastic_devices():
    with pytest.raises(ValueError, match="adaptive"):
        simulate(single(MetastableSwitch(n_switches=10)), Segment(1e-4, drive={"a": 0.3}, ground=["b"]),
                 dt=1e-6, method="adaptive")


def test_rates_at_bounds_never_leave_unit_interval():
    res = simulate(single(HP, x0=0.99), Segment(5.0, drive={"a": 2.0}, ground=["b"]), dt=1e-2, method="euler")
    assert res.x.max() == 1.0 and res.x.min() >= 0.0
    # at the bound the rate is zeroed, so the state stays pinned
    assert np.all(res.x[-10:, 0] == 1.0)
    assert fn.bound_rate(np.array([1.0]), np.array([5.0]))[0] == 0.0


def test_flux_controlled_network_returns_after_zero_flux_drive():
    # Conservation law: for the linear-drift device dx/dt = k g(x) F(x) v, so each
    # state is a function of its device flux phi_e = Phi_u - Phi_v (node fluxes);
    # KCL on the charges q_e(phi_e) fixes the floating nodes' fluxes as functions
    # of the driven ones. A periodic drive whose flux returns to zero therefore
    # returns every device to its initial state, while moving it on the way.
    net = Network.from_graph(layered([3, 4, 2]), LinearIonDrift(window="joglekar"), x0="random", seed=0)
    ins = net.inputs
    drive = {ins[0]: Sine(1.0, 100.0), ins[1]: Sine(1.0, 100.0, phase=np.pi / 2), ins[2]: Sine(0.5, 200.0)}
    res = simulate(net, Segment(0.01, drive=drive, ground=net.outputs), dt=1e-5, record=("x",))
    x0 = net.compile().x0
    assert np.abs(res.x - x0).max() > 1e-3  # it moved during the period
    # RK4 with 1000 steps per period: global error ~1e-14 here; 1e-11 is margin
    np.testing.assert_allclose(res.x_final, x0, atol=1e-11)


def test_prepared_run_equals_simulate_for_any_initial_state(net242):
    from memsim.solve import prepare

    prep = prepare(net242, protocol_242(), dt=1e-10, method="heun")
    rng = np.random.default_rng(5)
    for _ in range(3):
        x0 = rng.random(net242.n_edges)
        a = prep.run(x0)
        b = simulate(net242, protocol_242(), dt=1e-10, method="heun", x0=x0)
        for q in ("x", "i_edge", "v_node", "i_node", "power"):
            np.testing.assert_array_equal(getattr(a, q), getattr(b, q))  # same code path
    with pytest.raises(ValueError, match="x0"):
        prep.run(np.zeros(3))


def test_fast_forward_of_frozen_steps_is_exact(net242):
    # A read below every threshold leaves all states in place: after the first step
    # the kernel writes the remaining samples without stepping. The NumPy twin steps
    # through all of them; both must agree exactly and the kernel must do 1 solve
    # per copy plus the final sample instead of one per step.
    seg = Segment(1e-8, drive={("in", 0): 0.012, ("in", 1): 0.005}, ground=[("out", 0), ("out", 1)])
    fast = simulate(net242, seg, dt=1e-10, method="rk4", solver="dense")
    slow = simulate(net242, seg, dt=1e-10, method="rk4", solver="numpy")
    for q in ("x", "i_edge", "v_edge", "v_node", "i_node", "power"):
        np.testing.assert_allclose(getattr(fast, q), getattr(slow, q), rtol=1e-12, atol=1e-20, err_msg=q)
    assert fast.t.size == 101
    assert fast.stats["solves"] == 2 and slow.stats["solves"] == 4 * 100 + 1


def test_sparse_refinement_on_old_factor_matches_refactorising_every_step():
    # every device drifts every step, so the sparse path solves by CG preconditioned
    # with its last factorisation; it stops when the estimated node-voltage error is
    # < 1e-12 of the largest voltage (1 V here), so states agree with exact
    # refactorisation (refine_max=0) to ~1e-12 after 40 steps, and terminal currents,
    # which collect that voltage error through 2 S wires, to ~1e-11 A
    net = Network.from_graph(crossbar(6, 6, r_wire=0.5), LinearIonDrift(window="joglekar"), x0="random", seed=2)
    c = net.compile()
    seg = Segment(4e-2, drive={n: Sine(1.0, 10.0, phase=i) for i, n in enumerate(net.inputs)}, ground=net.outputs)
    exact = simulate(c, seg, dt=1e-3, method="heun", solver="sparse", refine_max=0)
    refined = simulate(c, seg, dt=1e-3, method="heun", solver="sparse", refine_max=10)
    assert refined.stats["refinements"] > 0
    assert refined.stats["factorizations"] < exact.stats["factorizations"] / 4
    np.testing.assert_allclose(refined.x, exact.x, rtol=0, atol=1e-11)
    np.testing.assert_allclose(refined.i_node, exact.i_node, rtol=0, atol=1e-11)
    assert np.abs(exact.i_node).max() > 1e-4  # so 1e-11 A is a tight bound
    with pytest.raises(ValueError, match="refine_max"):
        simulate(c, seg, dt=1e-3, refine_max=-1)


def test_ensemble_results_do_not_depend_on_the_number_of_threads(net242):
    import numba

    # stochastic switches and device spread: every random draw is seeded per copy,
    # and copies run independently, so 1 or 2 threads give identical numbers
    net = Network.from_graph(layered([2, 4, 2]), MetastableSwitch(n_switches=50), x0="random", seed=1)
    seg = Segment(2e-4, drive={("in", 0): 0.4}, ground=[("out", 0), ("out", 1)])
    runs = []
    for threads in (1, 2):
        numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
        try:
            runs.append(simulate(net, seg, dt=2e-6, method="euler", ensemble=16, seed=3,
                                 variability=Variability(d2d=0.05)))
        finally:
            numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
    np.testing.assert_array_equal(runs[0].x, runs[1].x)
    assert runs[0].x_final.std(axis=0).max() > 0  # the copies really differ


def test_window_does_not_trap_a_saturated_state_on_the_bound():
    # A Joglekar device driven hard saturates within exp(-4 k phi / r_on) ~ 1e-174
    # of x = 1, below double precision, so its state rounds onto 1.0 where the
    # window vanishes; the exact dynamics leave the bound when the drive reverses
    # (x is a function of the flux), so the state must come back down. Checked at
    # two steps, and the compiled kernel against its NumPy twin (same rules).
    net = single(LinearIonDrift(window="joglekar"), x0=0.5)
    seg = Segment(1.0, drive={"a": Sine(3.0, 1.0)}, ground=["b"])
    ends = []
    for dt in (1e-3, 1e-4):
        res = simulate(net, seg, dt=dt, record=("x",), record_every=int(round(1e-3 / dt)))
        assert res.x[250, 0] == 1.0  # saturated at the peak of the positive half
        assert res.x[750, 0] < 0.45  # and released by the negative half
        ends.append(res.x[750, 0])
    assert abs(ends[0] - ends[1]) < 0.02  # the release converges with the step
    twin = simulate(net, seg, dt=1e-3, record=("x",), solver="numpy")
    dense = simulate(net, seg, dt=1e-3, record=("x",), solver="dense")
    np.testing.assert_allclose(dense.x, twin.x, rtol=0, atol=1e-12)
