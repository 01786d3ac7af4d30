"""Writes of synapse arrays: pulse responses against the device ODE, kernels against their twin, updates."""

import math

import numpy as np
import pytest

from memsim.arrays import (
    IdealArray,
    Pulse,
    SynapseArray,
    UpdatePolicy,
    apply_update,
    initial_state,
    normalised,
    population,
    preset_array,
    program,
    pulse_response,
    weights,
    write_weights,
)
from memsim.arrays.kernels import FAMILY_CODES, N_THETA, apply_response, apply_response_numpy
from memsim.arrays.program import _half_select_counts, response_of
from memsim.arrays.response import Step
from memsim.devices import VTEAM, Variability
from memsim.devices.functions import gms_probabilities
from memsim.devices.presets import KNOWM_GMS


def test_kernel_matches_its_numpy_twin():
    # Same arithmetic and the same counter-based draws: agreement to rounding (1e-12 absolute on
    # states in [0, 1]; exp/log may differ by an ulp between numba and numpy).
    rng = np.random.default_rng(0)
    c = 400
    x = rng.random(c)
    counts = np.stack([rng.integers(-6, 7, c), rng.integers(0, 3, c), rng.integers(0, 3, c)])
    scale = rng.uniform(0.7, 1.3, c)
    steps = [Step("soft-bounds", (0.05,)), Step("linear-step", (0.02, -0.01)),
             Step("exp-step", (0.01, 1.5)), Step("table", tuple(rng.uniform(0, 0.03, 9)))]
    packed = [s.packed() for s in steps]
    fam = np.array([p[0] for p in packed])
    theta = np.stack([p[1] for p in packed])
    n_theta = np.array([p[2] for p in packed])
    for sigma in (0.0, 0.3):
        a = apply_response(x, counts, scale, fam, theta, n_theta, sigma, 12345, 7)
        b = apply_response_numpy(x, counts, scale, fam, theta, n_theta, sigma, 12345, 7)
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)
    assert set(FAMILY_CODES.values()) == set(fam.tolist()) and theta.shape[1] == N_THETA


def test_gms_pulse_response_is_soft_bounds_in_closed_form():
    # Mean-field metastable switch at constant voltage: dx/dt = (1 - x) P_on - x P_off, so one pulse
    # of width w gives dx = (x* - x)(1 - exp(-lambda w)), lambda = P_on + P_off, x* = P_on / lambda:
    # soft bounds with a = x* (1 - exp(-lambda w)) up to the (1 - x*) ~ 1e-10 offset. RK4 with 20
    # steps per pulse at lambda h ~ 4e-4 is exact to ~1e-16 per step, so 1e-9 relative holds.
    pulse = Pulse(v_set=0.3, v_reset=-0.3, width=1e-6)
    r = pulse_response(KNOWM_GMS, pulse, n_pulses=300, family="soft-bounds")
    p_on, p_off = gms_probabilities(KNOWM_GMS.pack(), np.array(0.3))
    lam = float(p_on + p_off)
    a = float(p_on) / lam * (1 - math.exp(-lam * pulse.width))
    assert r.up.family == "soft-bounds"
    assert abs(r.up.params[0] - a) < 1e-9 * a
    # symmetric device and pulses: the same step down
    assert abs(r.down.params[0] - a) < 1e-9 * a
    assert pulse_response(KNOWM_GMS, pulse, n_pulses=300).up.family == "soft-bounds"  # auto picks it


def test_vteam_pulse_response_is_a_constant_state_step():
    # Closed form: below no window, VTEAM moves at a constant rate for a constant voltage past v_on,
    # dx = k_on (v / v_on - 1)^alpha_on / d * width per pulse (1e-12: RK4 integrates a constant).
    dev = VTEAM()
    pulse = Pulse(v_set=-0.215, v_reset=0.05, width=1e-9)
    r = pulse_response(dev, pulse, n_pulses=300)
    dx_up = -dev.k_on * (pulse.v_set / dev.v_on - 1) ** dev.alpha_on / dev.d * pulse.width
    dx_down = dev.k_off * (pulse.v_reset / dev.v_off - 1) ** dev.alpha_off / dev.d * pulse.width
    assert r.up.family == "linear-step" and r.down.family == "linear-step"
    assert abs(r.up.params[0] - dx_up) < 1e-12 and abs(r.up.params[1]) < 1e-12
    assert abs(r.down.params[0] - dx_down) < 1e-12
    # half amplitude: -0.1075 V is inside the threshold window (no response), +0.025 V is past
    # v_off = 0.02 V (the closed form again)
    half = pulse_response(dev, pulse, scale=0.5, n_pulses=10)
    dx_half = dev.k_off * (0.5 * pulse.v_reset / dev.v_off - 1) ** dev.alpha_off / dev.d * pulse.width
    assert half.nominal_steps()[0] == 0.0 and abs(half.nominal_steps()[1] - dx_half) < 1e-12


@pytest.mark.parametrize("preset", ["vteam", "gms"])
def test_response_model_reproduces_the_device_ode_over_1000_pulses(preset):
    # The check: the pulse-response model (b) against exact integration (a), mean trajectory
    # of 64 cells with 10 % cycle-to-cycle noise over 1,000 pulses (600 set, then 400 reset).
    # Tolerance 0.01 in normalised conductance: the models are exact for these two devices
    # (tests above), so only the noise differs; its effect on a 64-cell mean is ~0.1 sigma * step *
    # sqrt(n) / 8 < 0.005 (VTEAM near its upper bound, where dg/dx is largest, sets the scale).
    resp = preset_array(preset, 8, 4, variability=Variability(c2c=0.1))
    exact = preset_array(preset, 8, 4, variability=Variability(c2c=0.1), write="exact")
    s_r = s_e = np.full(resp.cell_shape, 0.001)
    worst = 0.0
    for k in range(1000):
        p = np.full(resp.cell_shape, 1 if k < 600 else -1)
        s_r = program(resp, s_r, p, seed=k)
        s_e = program(exact, s_e, p, seed=10_000 + k)
        worst = max(worst, abs(normalised(resp, s_r).mean() - normalised(exact, s_e).mean()))
    assert worst < 0.01
    assert normalised(resp, s_r).std() > 0  # the noise did act


def test_half_select_counts_closed_form():
    n = np.zeros((3, 4), dtype=np.int64)
    n[1, 2] = 3
    n[0, 0] = -2
    up, down = _half_select_counts(n)
    want_up = np.zeros((3, 4), int)
    want_up[1, :] = 3
    want_up[:, 2] = 3
    want_up[1, 2] = 0
    want_down = np.zeros((3, 4), int)
    want_down[0, :] = 2
    want_down[:, 0] = 2
    want_down[0, 0] = 0
    np.testing.assert_array_equal(up, want_up)
    np.testing.assert_array_equal(down, want_down)


def test_half_select_disturbs_neighbours_only_for_devices_without_threshold():
    pulses = np.zeros((3, 4), dtype=np.int64)
    pulses[1, 2] = 20
    vteam = SynapseArray(3, 2)
    s0 = np.full(vteam.cell_shape, 0.3)
    s = program(vteam, s0, pulses, scheme="half_select")
    changed = s != s0
    assert changed.sum() == 1 and changed[1, 2]  # V/2 = -0.1075 V is above v_on = -0.2 V: no disturbance
    gms = preset_array("gms", 3, 2)
    s = program(gms, s0, pulses, scheme="half_select")
    moved = np.abs(s - s0) > 1e-9
    expect = np.zeros((3, 4), bool)
    expect[1, :] = expect[:, 2] = True
    np.testing.assert_array_equal(moved, expect)
    # the exact path integrates the same half pulses: agreement to the model's accuracy (1e-9)
    exact = program(preset_array("gms", 3, 2, write="exact"), s0, pulses, scheme="half_select")
    np.testing.assert_allclose(s, exact, atol=1e-9)


def test_stuck_cells_never_move():
    arr = SynapseArray(4, 4, variability=Variability(p_stuck_on=0.2, p_stuck_off=0.2))
    pop = population(arr)
    s0 = initial_state(arr)
    assert pop.stuck.any()
    s = program(arr, s0, np.full(arr.cell_shape, 30))
    np.testing.assert_array_equal(s[pop.stuck[0]], s0[pop.stuck[0]])
    np.testing.assert_array_equal(s0[pop.stuck[0]], pop.stuck_state[0][pop.stuck[0]])
    assert np.all(s[~pop.stuck[0]] > 0)


def test_population_does_not_depend_on_the_number_of_copies():
    arr = SynapseArray(3, 3, variability=Variability(d2d=0.2, p_stuck_on=0.1))
    p1, p5 = population(arr, 1), population(arr, 5)
    for name in ("r_on", "r_off", "step", "stuck"):
        np.testing.assert_array_equal(getattr(p1, name)[0], getattr(p5, name)[0])
    assert not np.array_equal(p5.r_on[0], p5.r_on[1])


def test_deterministic_update_pulses_are_rounded_ratios():
    # Hand computation: differential pairs, set-only; pulses = round(|dw| / step) on G+ for dw > 0
    # and on G- for dw < 0, step = w_max * f_up(1/2) = the fitted constant dx per pulse times... the
    # nominal weight step of the response (linear-step: the same at every state).
    arr = SynapseArray(2, 2)
    up, _ = response_of(arr).nominal_steps()
    dw = np.array([[3.4 * up, -2.6 * up], [0.0, 7.5001 * up]])
    res = apply_update(arr, initial_state(arr), dw, UpdatePolicy(rounding="deterministic"))
    np.testing.assert_array_equal(res.pulses, [[3, 0, 0, 3], [0, 0, 8, 0]])


def test_stochastic_rounding_and_pulse_trains_are_unbiased():
    # E[pulses] = |dw| / step for both (pulse trains while |dw| / step < train_length). 4,000 cells:
    # the mean's standard error is < 0.01 pulses, tolerance 0.03.
    arr = SynapseArray(40, 50)
    up, _ = response_of(arr).nominal_steps()
    dw = np.full(arr.shape, 2.3 * up)
    for rounding in ("stochastic", "pulse_train"):
        res = apply_update(arr, initial_state(arr), dw, UpdatePolicy(rounding=rounding), seed=1)
        n = res.pulses[:, 0::2]
        assert abs(n.mean() - 2.3) < 0.03, rounding
        assert set(np.unique(n)) >= {2, 3}


def test_bits_clip_and_max_pulses():
    # 2 magnitude bits over clip = 0.3: levels 0, 0.1, 0.2, 0.3 (hand-computed below).
    arr = IdealArray(1, 5)
    dw = np.array([[0.04, 0.06, -0.14, 0.26, 0.9]])
    res = apply_update(arr, np.zeros((1, 5)), dw, UpdatePolicy(bits=2, clip=0.3))
    np.testing.assert_allclose(res.achieved, [[0.0, 0.1, -0.1, 0.3, 0.3]], atol=1e-15)
    # one bit, no clip: a weight moves by the largest |dw| (0.9) where |dw| >= 0.45, else not at all
    res = apply_update(arr, np.zeros((1, 5)), dw, UpdatePolicy(bits=1))
    np.testing.assert_allclose(res.achieved, [[0.0, 0.0, 0.0, 0.0, 0.9]], atol=1e-15)
    # no policy: the exact float update (software reference)
    np.testing.assert_array_equal(apply_update(arr, np.zeros((1, 5)), dw).achieved, dw)
    sarr = SynapseArray(1, 1)
    res = apply_update(sarr, initial_state(sarr), np.array([[5.0]]),
                       UpdatePolicy(rounding="deterministic", max_pulses=7, refresh=False))
    assert res.pulses.max() == 7


def test_refresh_rebalances_saturated_pairs():
    # Both devices of a pair near their upper bound hold a small weight; after an update the refresh
    # resets the pair and writes the weight back within one pulse step (program-and-verify's
    # tolerance).
    arr = preset_array("gms", 2, 2)
    s = np.full(arr.cell_shape, 0.95)
    s[:, 0::2] = 0.97  # w = +0.02 on every pair
    up, _ = response_of(arr).nominal_steps()
    res = apply_update(arr, s, np.full(arr.shape, 0.001), UpdatePolicy(rounding="deterministic"))
    assert res.refreshed == 4
    assert np.all(normalised(arr, res.state).max(axis=-1) < 0.2)
    np.testing.assert_allclose(weights(arr, res.state), weights(arr, s) + res.achieved, atol=1e-12)
    assert np.abs(weights(arr, res.state) - 0.02).max() <= up + 1e-12


@pytest.mark.parametrize("preset", ["vteam", "gms", "rpu"])
def test_write_weights_reaches_targets(preset):
    # Program-and-verify stops within its tolerance (one nominal pulse step) for reachable
    # targets; with the RPU's 30 % spread of the conductance range some cells cannot reach +-0.9
    # w_max, so that preset is checked on targets within +-0.5 w_max.
    arr = preset_array(preset, 6, 5)
    lim = 0.5 if preset == "rpu" else 0.95
    t = np.random.default_rng(3).uniform(-lim, lim, arr.shape) * arr.w_max
    res = write_weights(arr, initial_state(arr), t, seed=0)
    tol = response_of(arr).nominal_steps()[0] * (arr.w_max if arr.mapping == "differential" else 2 * arr.w_max)
    assert np.abs(res.error).max() <= tol
    np.testing.assert_allclose(res.achieved, weights(arr, res.state), atol=0)


def test_same_seed_same_numbers():
    arr = preset_array("rpu", 5, 4)
    dw = np.random.default_rng(0).normal(0, 0.01, arr.shape)
    a = apply_update(arr, initial_state(arr), dw, seed=7)
    b = apply_update(arr, initial_state(arr), dw, seed=7)
    c = apply_update(arr, initial_state(arr), dw, seed=8)
    np.testing.assert_array_equal(a.state, b.state)
    assert not np.array_equal(a.state, c.state)


def test_update_of_copies_is_independent_of_how_many():
    # Copy k's devices depend on (array.seed, k) only; with deterministic rounding and no noise the
    # update of copy 0 is the same alone or in an ensemble.
    arr = SynapseArray(3, 3, variability=Variability(d2d=0.2))
    dw = np.full(arr.shape, 0.1)
    pol = UpdatePolicy(rounding="deterministic")
    one = apply_update(arr, initial_state(arr), dw, pol)
    many = apply_update(arr, initial_state(arr, n_copies=3), dw, pol)
    np.testing.assert_array_equal(many.state[0], one.state)
    assert not np.array_equal(many.achieved[0], many.achieved[1])


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda a, s: apply_update(a, s, np.zeros((3, 3))), r"delta_w must have shape \(2, 3\)"),
        (lambda a, s: apply_update(a, s, np.full((2, 3), np.inf)), "delta_w must be finite"),
        (lambda a, s: write_weights(a, s, np.full((2, 3), 1.5)), r"targets must lie in \[-w_max, w_max\]"),
        (lambda a, s: program(a, s, np.zeros((2, 5))), "pulses must have shape"),
        (lambda a, s: program(a, s, np.full((2, 6), 0.5)), "pulses must be whole numbers"),
        (lambda a, s: program(a, s, np.zeros((2, 6), int), scheme="row"), "scheme must be"),
    ],
)
def test_bad_write_input_names_the_argument(call, match):
    arr = SynapseArray(2, 3)
    with pytest.raises(ValueError, match=match):
        call(arr, initial_state(arr))


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(bits=0), r"UpdatePolicy.bits must be an integer >= 1"),
        (dict(rounding="nearest"), "UpdatePolicy.rounding must be"),
        (dict(clip=-1.0), "UpdatePolicy.clip must be"),
        (dict(refresh_level=0.0), r"UpdatePolicy.refresh_level must be in \(0, 1\]"),
    ],
)
def test_bad_policy_names_the_field(kwargs, match):
    with pytest.raises(ValueError, match=match):
        UpdatePolicy(**kwargs)


def test_pulses_that_move_the_device_the_wrong_way_are_refused():
    with pytest.raises(ValueError, match="pulse.v_set = 0.215 V moves VTEAM the wrong way"):
        pulse_response(VTEAM(), Pulse(v_set=0.215, v_reset=-0.25, width=1e-9), n_pulses=5)
    with pytest.raises(ValueError, match="must be non-zero and of opposite sign"):
        Pulse(v_set=0.2, v_reset=0.1, width=1e-9)


def test_published_response_cannot_be_integrated_exactly():
    with pytest.raises(ValueError, match="write='exact' integrates the device ODE"):
        preset_array("rpu", 2, 2, write="exact")
    with pytest.raises(ValueError, match="half-select disturbance needs the device ODE"):
        arr = preset_array("rpu", 2, 2)
        program(arr, initial_state(arr), np.ones(arr.cell_shape, int), scheme="half_select")
