"""Tests of memsim.learning.hardware and memsim.learning.pruning.

Device states change only inside simulate; VTEAM has an exactly zero rate between its thresholds,
so "reads change nothing" and "open edges carry no current" are checked for exact equality.
"""

from __future__ import annotations

import numpy as np
import pytest

from memsim import VTEAM, Network, Resistor, Variability, layered
from memsim.learning.hardware import build_hardware
from memsim.learning.inhibition import Pulses, normalise_segment, punish_segment, read_segment
from memsim.learning.pruning import prune_edges, threshold_pruned
from memsim.learning.tasks import Pattern, random_patterns

DT = Pulses().dt


def test_backward_layered_reverses_every_edge_and_keeps_the_numbering():
    fwd = Network.from_graph(layered([3, 5, 4, 2]))
    bwd = Network.from_graph(layered([3, 5, 4, 2], orientation="backward"))
    assert [(e.v, e.u) for e in bwd.edges] == [(e.u, e.v) for e in fwd.edges]
    assert bwd.inputs == fwd.inputs and bwd.outputs == fwd.outputs
    with pytest.raises(ValueError, match="orientation"):
        layered([2, 2], orientation="sideways")


def test_build_hardware_instruments_the_inputs(net242):
    hw = build_hardware(net242, n_copies=3, seed=0)
    c = hw.circuit
    assert hw.n_devices == 16 and c.n_edges == 18 and hw.x.shape == (3, 18) and hw.params.shape == (3, 18, 10)
    assert hw.inputs == (("source", ("in", 0)), ("source", ("in", 1)))
    assert hw.outputs == (("out", 0), ("out", 1))
    assert [c.devices[e] for e in (16, 17)] == [Resistor(50.0), Resistor(50.0)]
    assert [c.node_names[i] for i in c.inputs] == list(hw.inputs)
    assert np.all(hw.x[:, 16:] == 0) and np.all((hw.x[:, :16] >= 0) & (hw.x[:, :16] < 1))
    direct = build_hardware(net242, source_resistance=0.0, seed=0)
    assert direct.inputs == (("in", 0), ("in", 1)) and direct.circuit.n_edges == 16
    again = build_hardware(net242, n_copies=3, seed=0)
    np.testing.assert_array_equal(hw.x, again.x)  # seeded


def test_hardware_is_immutable_and_run_touches_only_the_selected_copies(net242):
    hw = build_hardware(net242, n_copies=4, seed=1)
    for name in ("x", "params", "open_edges"):
        with pytest.raises(ValueError):
            getattr(hw, name)[0, 0] = 1  # read-only arrays
    with pytest.raises(AttributeError):
        hw.x = hw.x  # frozen dataclass
    x_before = hw.x.copy()
    seg = punish_segment(hw, Pattern((1.0, 0.0), 0), 1, Pulses(punish_duration=2e-9))
    hw2, res = hw.run(seg, dt=DT, copies=[1, 3], record=("power",))
    np.testing.assert_array_equal(hw.x, x_before)  # the old snapshot is untouched
    np.testing.assert_array_equal(hw2.x[[1, 3]], res.x_final)
    np.testing.assert_array_equal(hw2.x[[0, 2]], x_before[[0, 2]])
    assert not np.array_equal(hw2.x[1], x_before[1])
    assert (hw.runs, hw2.runs) == (0, 1)
    with pytest.raises(ValueError, match="copies"):
        hw.run(seg, dt=DT, copies=[4])


def test_reads_are_non_destructive_and_sub_threshold(net242):
    # 50 copies in random states, every pattern of a random set on 2 inputs, read at the default
    # voltage: no device may move (VTEAM rate is exactly 0 between v_on and v_off)
    hw = build_hardware(net242, n_copies=50, seed=2)
    pulses = Pulses()
    for p in random_patterns(2, 2, 3, seed=0).patterns:
        hw2, res = hw.run(read_segment(hw, p, pulses), dt=pulses.dt, record=("v_edge",))
        np.testing.assert_array_equal(hw2.x, hw.x)
        v = res.v_edge[:, :, :16]
        assert np.nanmax(np.abs(v)) <= pulses.read_voltage < VTEAM().v_off


def test_open_edges_carry_no_current_and_keep_their_state(net242):
    hw = prune_edges(build_hardware(net242, n_copies=5, seed=3), edges=[0, 5, 12])
    for seg in (punish_segment(hw, Pattern((1.0, 0.0), 0), 1, Pulses(punish_duration=5e-9)),
                normalise_segment(hw, Pulses())):
        hw2, res = hw.run(seg, dt=DT, record=("i_edge",))
        assert np.all(res.i_edge[:, :, [0, 5, 12]] == 0.0)
        np.testing.assert_array_equal(hw2.x[:, [0, 5, 12]], hw.x[:, [0, 5, 12]])
        assert np.any(res.i_edge[:, :, 1] != 0.0)


def test_structural_pruning_is_seeded_per_copy():
    net = Network.from_graph(layered([2, 6, 2], orientation="backward"), VTEAM())
    hw = build_hardware(net, n_copies=6, seed=0)
    a = prune_edges(hw, fraction=0.25, seed=9)
    b = prune_edges(hw, fraction=0.25, seed=9)
    np.testing.assert_array_equal(a.open_edges, b.open_edges)
    assert a.open_edges[:, :24].sum(axis=1).tolist() == [6] * 6
    assert not a.open_edges[:, 24:].any()  # instruments are never pruned
    assert len({tuple(r) for r in a.open_edges}) > 1  # copies differ
    mask = np.zeros((6, 24), dtype=bool)
    mask[2, 3] = True
    assert prune_edges(hw, edges=mask).open_edges.sum() == 1
    with pytest.raises(ValueError, match="exactly one"):
        prune_edges(hw, edges=[1], n=2)
    with pytest.raises(ValueError, match="edges"):
        prune_edges(hw, edges=[24])
    with pytest.raises(ValueError, match="fraction"):
        prune_edges(hw, fraction=1.0)


def test_threshold_pruning_is_a_hardware_rule_applied_after_each_protocol(net242):
    g_mid = 1.0 / (50.0 * 0.3 + 1e3 * 0.7)  # conductance of a VTEAM device at x = 0.3
    hw = build_hardware(net242, n_copies=8, x0=0.6, prune_below=g_mid, seed=4)
    assert not hw.open_edges.any()
    strong = Pulses(punish_voltage=1.0, punish_duration=300e-9)
    hw2, _ = hw.run(punish_segment(hw, Pattern((1.0, 0.0), 0), 1, strong), dt=DT, record=("power",))
    model, params = hw2.circuit.model, hw2.params
    expected = threshold_pruned(model, params, hw2.x, hw.open_edges, g_mid, hw.memristors)
    np.testing.assert_array_equal(hw2.open_edges, expected)
    assert hw2.open_edges.any() and not hw2.open_edges[:, 16:].any()
    # once open, always open, even after a potentiating pulse; and no current through them
    hw3, res = hw2.run(normalise_segment(hw2, Pulses(normalise_voltage=1.0)), dt=DT, record=("i_edge",))
    assert np.all(hw3.open_edges >= hw2.open_edges)
    assert np.all(res.i_edge[:, hw2.open_edges] == 0.0)
    assert np.all(hw3.conductances()[hw3.open_edges[:, :16]] == 0.0)


def test_stuck_devices_do_not_move_and_c2c_noise_is_seeded(net242):
    var = Variability(d2d=0.05, c2c=0.1, p_stuck_on=0.2)
    hw = build_hardware(net242, n_copies=6, variability=var, seed=5)
    stuck = hw.params[:, :16, 2] == 0.0  # k_on zeroed marks a stuck VTEAM device
    assert stuck.any() and np.all(hw.x[:, :16][stuck] == 1.0)
    seg = punish_segment(hw, Pattern((1.0, 1.0), 0), 1, Pulses(punish_duration=20e-9))
    a, _ = hw.run(seg, dt=DT, record=("power",))
    b, _ = hw.run(seg, dt=DT, record=("power",))
    np.testing.assert_array_equal(a.x, b.x)  # same hardware, same run counter: same noise
    assert np.all(a.x[:, :16][stuck] == 1.0)
    c, _ = a.run(seg, dt=DT, record=("power",))
    d, _ = build_hardware(net242, n_copies=6, variability=Variability(d2d=0.05, p_stuck_on=0.2), seed=5).run(
        seg, dt=DT, record=("power",))
    assert not np.array_equal(a.x, d.x)  # cycle-to-cycle noise changes the outcome
    assert c.runs == 2


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [({"n_copies": 0}, "n_copies"), ({"source_resistance": -1.0}, "source_resistance"),
     ({"prune_below": float("nan")}, "prune_below"), ({"x0": "zeros"}, "x0"), ({"x0": 1.5}, "x0"),
     ({"x0": np.zeros(3)}, "x0"), ({"variability": 0.1}, "variability")],
)
def test_build_hardware_rejects_bad_input(net242, kwargs, needle):
    with pytest.raises(ValueError, match=needle):
        build_hardware(net242, **kwargs)


def test_build_hardware_needs_two_outputs():
    with pytest.raises(ValueError, match="2 output"):
        build_hardware(Network.from_graph(layered([2, 1], orientation="backward"), VTEAM()))
    with pytest.raises(ValueError, match="Network"):
        build_hardware(layered([2, 2]))
