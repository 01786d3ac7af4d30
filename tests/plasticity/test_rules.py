"""Learning rules against hand-computed updates; the mushroom body's code and its two training engines."""

import numpy as np
import pytest

from memsim.arrays import IdealArray, UpdatePolicy, initial_state, preset_array, weights
from memsim.plasticity import (
    BCM,
    RULES,
    AntiHebbian,
    Delta,
    Hebbian,
    HebbianDecay,
    MushroomBody,
    Oja,
    delta_w,
    evaluate,
    kenyon_code,
    projection,
    signals,
    train,
)

# One sample, 3 inputs (activities 1, 0, 0.5), 2 outputs y = (2, 1), label 1: the answer (0) is wrong.
PRE = np.array([[1.0, 0.0, 0.5]])
Y = np.array([[2.0, 1.0]])
T = np.array([1])
W = np.array([[0.2, -0.1], [0.0, 0.3], [0.4, 0.4]])
E = np.exp(1.0)
PSI = np.array([E / (E + 1), 1 / (E + 1)])  # softmax(2, 1)


def test_signals_by_hand():
    s = signals(Y, T)
    np.testing.assert_array_equal(s["valence"], [[-1.0, 1.0]])
    np.testing.assert_allclose(s["activity"], [PSI], rtol=1e-15)
    np.testing.assert_allclose(s["error"], [[-PSI[0], 1 - PSI[1]]], rtol=1e-15)
    np.testing.assert_array_equal(s["reward"], [-1.0])


@pytest.mark.parametrize(
    "rule, expected",
    [
        # lr * pre (x) m with m = (-1, +1)
        (Hebbian(lr=0.5), 0.5 * np.array([[-1, 1], [0, 0], [-0.5, 0.5]])),
        # ... minus lr * decay * w
        (HebbianDecay(lr=0.5, decay=0.1), 0.5 * np.array([[-1, 1], [0, 0], [-0.5, 0.5]]) - 0.05 * W),
        # lr (pre m - m^2 w), m^2 = (1, 1)
        (Oja(lr=0.5), 0.5 * (np.array([[-1, 1], [0, 0], [-0.5, 0.5]]) - W)),
        # lr pre (onehot - psi)
        (Delta(lr=0.5), 0.5 * np.outer([1, 0, 0.5], [-PSI[0], 1 - PSI[1]])),
        # -lr pre psi (1 - onehot): only output 0 (the wrong one) is depressed
        (AntiHebbian(lr=0.5), -0.5 * np.outer([1, 0, 0.5], [PSI[0], 0.0])),
        # u = (onehot + psi) / 2, theta = 0: lr pre u^2
        (BCM(lr=0.5), 0.5 * np.outer([1, 0, 0.5], [(PSI[0] / 2) ** 2, ((1 + PSI[1]) / 2) ** 2])),
    ],
)
def test_rules_match_hand_computed_updates(rule, expected):
    dw, _ = delta_w(rule, PRE, Y, T, W)
    np.testing.assert_allclose(dw, expected, rtol=1e-14, atol=1e-16)


def test_bcm_threshold_slides_and_flips_the_sign():
    # theta <- theta + (u^2 - theta) / tau; with theta above u the update depresses.
    rule = BCM(lr=1.0, tau=2.0)
    u = np.array([PSI[0] / 2, (1 + PSI[1]) / 2])
    _, theta = delta_w(rule, PRE, Y, T, W)
    np.testing.assert_allclose(theta, u**2 / 2, rtol=1e-15)
    dw, _ = delta_w(rule, PRE, Y, T, W, state=np.array([1.0, 1.0]))
    assert np.all(dw[0] < 0)


def test_rules_average_over_the_batch():
    pre = np.vstack([PRE, 2 * PRE])
    y = np.vstack([Y, Y])
    dw, _ = delta_w(Hebbian(lr=1.0), pre, y, np.array([1, 1]), W)
    single, _ = delta_w(Hebbian(lr=1.0), PRE, Y, T, W)
    np.testing.assert_allclose(dw, 1.5 * single, rtol=1e-15)


def test_bad_rule_inputs_name_the_argument():
    with pytest.raises(ValueError, match="Hebbian.lr must be a finite number >= 0"):
        Hebbian(lr=-1.0)
    with pytest.raises(ValueError, match="Delta.temperature must be > 0"):
        Delta(temperature=0.0)
    with pytest.raises(ValueError, match="must agree in B"):
        delta_w(Hebbian(), PRE, np.vstack([Y, Y]), T, W)
    with pytest.raises(ValueError, match=r"w must have shape \(3, 2\)"):
        delta_w(Hebbian(), PRE, Y, T, W.T)


def test_kenyon_code_by_hand():
    # 4 inputs, 3 Kenyon cells of fan-in 2; k-WTA with one winner is the cell with the largest
    # summed input (computed here from the projection itself).
    mb = MushroomBody(n_inputs=4, n_kc=3, n_outputs=2, fan_in=2, sparsity=1 / 3, seed=5)
    proj = projection(mb)
    x = np.array([[0.1, 0.7, 0.3, 0.9]], dtype=np.float32)
    drive = x[0, proj].sum(axis=1)
    assert kenyon_code(mb, x)[0].tolist() == [int(np.argmax(drive))]
    assert all(len(set(row)) == 2 for row in proj.tolist())  # without replacement


def test_kwta_ties_go_to_the_lower_index():
    mb = MushroomBody(n_inputs=10, n_kc=40, n_outputs=2, sparsity=0.1)
    code = kenyon_code(mb, np.zeros((2, 10), dtype=np.float32))  # every drive ties at 0
    assert code.tolist() == [[0, 1, 2, 3], [0, 1, 2, 3]]


def test_global_inhibition_activates_about_the_sparsity():
    mb = MushroomBody(n_inputs=64, n_kc=1000, n_outputs=10, sparsity=0.05, inhibition="global")
    x = np.random.default_rng(0).random((200, 64)).astype(np.float32)
    active = (kenyon_code(mb, x) >= 0).sum(axis=1)
    # threshold mean + 1.645 std on near-normal drives: 5 % +- sampling, 3.5-6.5 % allowed
    assert 35 <= active.mean() <= 65


@pytest.mark.parametrize("name", sorted(RULES))
@pytest.mark.parametrize("batch", [1, 7])
def test_compiled_loop_equals_the_reference_loop(name, batch):
    # Same arithmetic in a different order: agreement to 1e-12 of the weights' scale.
    rng = np.random.default_rng(1)
    mb = MushroomBody(n_inputs=20, n_kc=60, n_outputs=3, sparsity=0.1)
    x = rng.random((50, 20)).astype(np.float32)
    y = rng.integers(0, 3, 50)
    rule = RULES[name](lr=0.3)
    a = train(mb, x, y, rule, IdealArray(60, 3), batch=batch)
    b = train(mb, x, y, rule, IdealArray(60, 3), batch=batch, engine="python")
    assert a.engine == "compiled" and b.engine == "python"
    np.testing.assert_allclose(a.state, b.state, rtol=0, atol=1e-12 * max(1.0, np.abs(b.state).max()))
    assert a.online_accuracy == b.online_accuracy
    assert np.abs(a.state).max() > 0


def test_memristive_readout_learns_and_costs_accuracy_honestly():
    # Digits through a 300-cell expansion: the ideal array's delta rule and the RPU preset's must
    # both beat chance (10 %) by far; the device's step nonlinearity and noise may cost accuracy.
    from memsim.datasets import digits

    d = digits(seed=0)
    mb = MushroomBody(n_inputs=64, n_kc=300, n_outputs=10, sparsity=0.1)
    ideal = train(mb, d.x_train, d.y_train, Delta(lr=0.2), IdealArray(300, 10))
    acc_ideal = evaluate(mb, IdealArray(300, 10), ideal.state, d.x_test, d.y_test)
    arr = preset_array("rpu", 300, 10)
    dev = train(mb, d.x_train, d.y_train, Delta(lr=0.2), arr, batch=4, seed=0)
    acc_dev = evaluate(mb, arr, dev.state, d.x_test, d.y_test)
    assert acc_ideal > 0.7 and acc_dev > 0.4
    assert np.abs(weights(arr, dev.state)).max() > 0


def test_bad_training_input_names_the_argument():
    mb = MushroomBody(n_inputs=4, n_kc=10, n_outputs=2)
    x = np.zeros((3, 4))
    with pytest.raises(ValueError, match=r"array must have shape \(n_kc, n_outputs\)"):
        train(mb, x, np.array([0, 1, 0]), Hebbian(), IdealArray(10, 3))
    with pytest.raises(ValueError, match=r"y must hold labels in \[0, 2\)"):
        train(mb, x, np.array([0, 1, 2]), Hebbian(), IdealArray(10, 2))
    with pytest.raises(ValueError, match=r"x must have shape \(N, 4\)"):
        kenyon_code(mb, np.zeros((3, 5)))
    with pytest.raises(ValueError, match="MushroomBody.sparsity must be in"):
        MushroomBody(n_inputs=4, sparsity=0.9)
    with pytest.raises(ValueError, match="batch must be an integer >= 1"):
        train(mb, x, np.array([0, 1, 0]), Hebbian(), IdealArray(10, 2), batch=0)
    with pytest.raises(ValueError, match="UpdatePolicy"):
        UpdatePolicy(bits=0)


@pytest.mark.parametrize("preset", ["rpu", "gms", "vteam"])
@pytest.mark.parametrize("name", ["delta", "oja", "bcm", "hebbian_decay"])
def test_compiled_device_loop_equals_the_reference_loop(preset, name):
    # With nothing random (deterministic rounding, no cycle noise, no spread) the compiled device
    # loop and the reference loop (read -> delta_w -> apply_update) do the same arithmetic; they
    # agree exactly here, 1e-12 allowed for summation order.
    from memsim.devices import Variability

    rng = np.random.default_rng(2)
    mb = MushroomBody(n_inputs=20, n_kc=60, n_outputs=3, sparsity=0.1)
    x = rng.random((60, 20)).astype(np.float32)
    y = rng.integers(0, 3, 60)
    arr = preset_array(preset, 60, 3, variability=Variability())
    pol = UpdatePolicy(rounding="deterministic", refresh=False, bits=6)
    a = train(mb, x, y, RULES[name](lr=0.3), arr, batch=2, policy=pol)
    b = train(mb, x, y, RULES[name](lr=0.3), arr, batch=2, policy=pol, engine="python")
    assert a.engine == "compiled" and b.engine == "python"
    np.testing.assert_allclose(a.state, b.state, rtol=0, atol=1e-12)
    assert np.abs(a.state - initial_state(arr)).max() > 0


def test_compiled_device_loop_with_noise_matches_the_reference_statistically():
    # Stochastic rounding, 30 % spread and cycle noise (the RPU preset): the two loops draw
    # different random numbers, so their test accuracies are compared over 3 seeds each; the
    # means must agree within 0.04 (seed-to-seed spread here is ~0.01-0.02).
    from memsim.datasets import digits

    d = digits(seed=0)
    mb = MushroomBody(n_inputs=64, n_kc=200, n_outputs=10, sparsity=0.1)
    arr = preset_array("rpu", 200, 10)
    code, ctest = kenyon_code(mb, d.x_train), kenyon_code(mb, d.x_test)
    accs = {"auto": [], "python": []}
    for engine in accs:
        for s in range(3):
            out = train(mb, d.x_train, d.y_train, Delta(lr=0.2), arr, code=code, batch=4, engine=engine, seed=s)
            accs[engine].append(evaluate(mb, arr, out.state, d.x_test, d.y_test, code=ctest))
    assert abs(np.mean(accs["auto"]) - np.mean(accs["python"])) < 0.04
    assert np.mean(accs["auto"]) > 0.4
