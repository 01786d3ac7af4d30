"""Reads of synapse arrays: ideal product, IR drop against the circuit simulator, DAC/ADC, noise."""

import numpy as np
import pytest

from memsim import Network, crossbar, solve_nodal
from memsim.arrays import (
    IdealArray,
    SynapseArray,
    conductances,
    effective_conductance,
    initial_state,
    read,
    weights,
)
from memsim.arrays.read import DENSE_MAX
from memsim.devices import Variability


def _random_state(arr, seed, n_copies=None):
    rng = np.random.default_rng(seed)
    shape = arr.cell_shape if n_copies is None else (n_copies,) + arr.cell_shape
    return rng.random(shape)


def _nodal_currents(arr, state, v_in):
    """Output currents from memsim's own nodal solver on memsim.circuit.crossbar (the reference)."""
    rows, cols = arr.cell_shape
    net = Network.from_graph(crossbar(rows, cols, arr.r_wire), arr.device).compile()
    g = np.concatenate([conductances(arr, state).ravel(),
                        np.full(net.n_edges - rows * cols, 1.0 / arr.r_wire)])
    inputs, outputs = net.inputs, net.outputs
    sol = solve_nodal(net, g, np.concatenate([inputs, outputs]), np.concatenate([v_in, np.zeros(cols)]))
    return -sol.i_node[outputs]


def _currents_to_outputs(arr, cur):
    d = cur[0::2] - cur[1::2] if arr.mapping == "differential" else cur[:-1] - cur[-1]
    return d * arr.weight_per_g / arr.v_read


@pytest.mark.parametrize("mapping", ["differential", "reference"])
@pytest.mark.parametrize("r_wire", [0.5, 20.0])
def test_ir_drop_read_equals_the_nodal_solver(mapping, r_wire):
    # Reference: solve_nodal on the same crossbar built by memsim.circuit.crossbar. Both are direct
    # float64 solves of a Laplacian whose conductances span 1e-3..2 S (condition ~1e4), so they agree
    # to ~1e-12 relative; 1e-9 leaves room for the different elimination orders.
    arr = SynapseArray(5, 3, mapping=mapping, r_wire=r_wire)
    state = _random_state(arr, 1)
    x = np.random.default_rng(2).uniform(-1, 1, (7, 5))
    y = read(arr, state, x)
    ref = np.array([_currents_to_outputs(arr, _nodal_currents(arr, state, xi * arr.v_read)) for xi in x])
    np.testing.assert_allclose(y, ref, rtol=1e-9, atol=1e-12 * np.abs(ref).max())
    # the IR drop matters at these wire resistances (else the test would not tell the paths apart)
    assert np.abs(y - x @ weights(arr, state)).max() > 1e-4 * np.abs(ref).max()


def test_sparse_ir_drop_path_equals_the_nodal_solver():
    # 16 x 32 physical cells have 2*16*32 - 16 - 32 = 976 floating nodes > DENSE_MAX: the sparse
    # factorisation; reference and tolerance as above (solve_nodal uses scipy's spsolve here).
    arr = SynapseArray(16, 16, r_wire=2.0)
    assert 2 * 16 * 32 - 16 - 32 > DENSE_MAX
    state = _random_state(arr, 3)
    x = np.random.default_rng(4).uniform(-1, 1, 16)
    ref = _currents_to_outputs(arr, _nodal_currents(arr, state, x * arr.v_read))
    np.testing.assert_allclose(read(arr, state, x), ref, rtol=1e-9, atol=1e-12 * np.abs(ref).max())


def test_batched_solves_equal_the_effective_conductance_path():
    # Fewer inputs than rows solve each input; more use G_eff: the same linear map, so equal to
    # rounding (1e-12 relative).
    arr = SynapseArray(6, 4, r_wire=3.0)
    state = _random_state(arr, 5)
    x = np.random.default_rng(6).uniform(-1, 1, (10, 6))
    many = read(arr, state, x)
    few = np.concatenate([read(arr, state, x[i:i + 3]) for i in range(0, 10, 3)])
    np.testing.assert_allclose(many, few, rtol=1e-12, atol=1e-14)


def test_ideal_read_is_the_matrix_product_of_the_weights():
    # Closed form: with ideal wires the output is exactly x @ W (W from the conductances).
    arr = SynapseArray(4, 3, mapping="reference", variability=Variability(d2d=0.2))
    state = _random_state(arr, 7)
    x = np.random.default_rng(8).uniform(-1, 1, (5, 4))
    np.testing.assert_allclose(read(arr, state, x), x @ weights(arr, state), rtol=1e-12, atol=1e-15)


def test_ideal_path_is_the_limit_of_vanishing_wire_resistance():
    # The IR-drop error is first order in r_wire (currents through wires ~ g_cell * r_wire): each
    # decade of r_wire divides it by 10 (9.5..10.5 allowed for the second-order term), and at
    # r_wire = 1e-7 ohm it is below 1e-7 relative.
    base = SynapseArray(6, 5)
    state = _random_state(base, 9)
    x = np.random.default_rng(10).uniform(-1, 1, (8, 6))
    ideal = read(base, state, x)
    errs = []
    for r in (1e-1, 1e-2, 1e-3, 1e-7):
        arr = SynapseArray(6, 5, r_wire=r)
        errs.append(np.abs(read(arr, state, x) - ideal).max() / np.abs(ideal).max())
    assert 9.5 < errs[0] / errs[1] < 10.5 and 9.5 < errs[1] / errs[2] < 10.5
    assert errs[3] < 1e-7


def test_effective_conductance_of_zero_wires_is_the_cells():
    g = np.random.default_rng(0).uniform(1e-3, 2e-2, (3, 4))
    np.testing.assert_array_equal(effective_conductance(g, 0.0), g)


def test_dac_and_adc_quantise_to_their_grids():
    # DAC: 3 bits -> 3 levels per sign, inputs rounded to multiples of 1/3. ADC: 4 bits over
    # +-adc_range -> 7 levels per sign. Closed forms on a hand-made case.
    arr = SynapseArray(2, 1, dac_bits=3)
    state = np.array([[1.0, 0.0], [1.0, 0.0]])  # both weights w_max = 1
    y = read(arr, state, np.array([0.4, -0.9]))
    np.testing.assert_allclose(y, [1 / 3 - 1.0], rtol=1e-12)
    arr = SynapseArray(2, 1, adc_bits=4, adc_range=1.4)
    y = read(arr, state, np.array([[0.3, 0.15], [1.0, 1.0]]))
    np.testing.assert_allclose(y[:, 0], [0.4, 1.4], rtol=1e-12)  # 0.45 -> nearest of 0.2k; 2 clips


def test_read_noise_statistics_and_seed():
    # Gaussian noise of std read_noise in weight units: the sample std of 20,000 outputs lies
    # within 3 % of 0.05 (its standard error is 0.5 %); same seed, same numbers.
    arr = SynapseArray(3, 2, read_noise=0.05)
    state = _random_state(arr, 11)
    x = np.tile(np.array([0.5, -0.2, 0.1]), (10_000, 1))
    clean = x[0] @ weights(arr, state)
    y = read(arr, state, x, seed=3)
    assert abs((y - clean).std() - 0.05) < 0.0015
    np.testing.assert_array_equal(y, read(arr, state, x, seed=3))
    assert not np.array_equal(y, read(arr, state, x, seed=4))


def test_copies_read_independently():
    arr = SynapseArray(3, 2, r_wire=1.0)
    states = _random_state(arr, 12, n_copies=3)
    x = np.random.default_rng(13).uniform(-1, 1, (4, 3))
    y = read(arr, states, x)
    assert y.shape == (3, 4, 2)
    for k in range(3):
        np.testing.assert_allclose(y[k], read(arr, states[k], x), rtol=1e-13)


def test_ideal_array_reads_exactly():
    arr = IdealArray(3, 2)
    w = np.arange(6.0).reshape(3, 2)
    np.testing.assert_array_equal(read(arr, w, np.array([1.0, 2.0, -1.0])), np.array([1.0, 2.0, -1.0]) @ w)


@pytest.mark.parametrize(
    "kwargs, inputs, match",
    [
        ({}, np.ones(4), "inputs must have shape"),
        ({}, np.array([2.0, 0.0, 0.0]), r"inputs must lie in \[-1, 1\]"),
        ({}, np.array([np.nan, 0.0, 0.0]), "inputs must be finite"),
    ],
)
def test_bad_read_input_names_the_argument(kwargs, inputs, match):
    arr = SynapseArray(3, 2, **kwargs)
    with pytest.raises(ValueError, match=match):
        read(arr, initial_state(arr), inputs)


def test_bad_state_names_the_argument():
    arr = SynapseArray(3, 2)
    with pytest.raises(ValueError, match="state must have shape"):
        read(arr, np.zeros((3, 3)), np.zeros(3))
    with pytest.raises(ValueError, match=r"state holds device states, which must lie in \[0, 1\]"):
        read(arr, np.full(arr.cell_shape, 1.5), np.zeros(3))


@pytest.mark.parametrize(
    "field, value, match",
    [
        ("r_wire", -1.0, r"SynapseArray.r_wire must be a finite number >= 0"),
        ("dac_bits", 0, r"SynapseArray.dac_bits must be an integer >= 1"),
        ("adc_bits", 0, r"SynapseArray.adc_bits must be an integer >= 1"),
        ("rows", 0, r"SynapseArray.rows must be an integer >= 1"),
        ("v_read", 0.0, r"SynapseArray.v_read must be a finite number > 0"),
        ("mapping", "single", r"SynapseArray.mapping must be"),
        ("read_noise", float("nan"), r"SynapseArray.read_noise must be a finite number"),
    ],
)
def test_bad_array_fields_name_the_field(field, value, match):
    kwargs = dict(rows=2, cols=2)
    kwargs[field] = value
    with pytest.raises(ValueError, match=match):
        SynapseArray(**kwargs)
