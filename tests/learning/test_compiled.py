"""The compiled training loop against its Python twin (repeated ``step`` calls, each ``simulate``).

Reference: ``train(..., compiled=False)``, the loop of :func:`memsim.learning.step` through
``Hardware.run`` and ``simulate``. Both integrate every copy with the same adaptive kernel function,
so every decision (answers, punished outputs, pruning, learned eras) must be identical. The floats
are not bit-identical: numba compiles the adaptive kernel's body once into ``simulate``'s entry
point and once into the training kernel, and the two machine codes round some sums differently in
the last bit (measured: 2e-14 in the states after a whole demo training, 1e-13 relative in the
output currents). A last-bit change can move one accepted step of the step-size controller, which
changes a state by at most the local error the tolerances allow, so floats are compared at the
integrator's own tolerance: rtol 1e-6 of each column's scale.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from memsim import VTEAM, Network, Variability, layered
from memsim.learning import (
    Controller,
    Pulses,
    association,
    build_hardware,
    initial_state,
    prune_edges,
    random_patterns,
    train,
)
from memsim.learning import compiled as cl
from memsim.solve.integrate import _slot_row

INTS = ["copy", "era", "slot", "n", "pattern", "target", "answer", "correct"]


def _same_training(a, b, scale_tol=1e-6):
    pa, pb = a.presentations, b.presentations
    assert len(pa) == len(pb) > 0
    for col in INTS:
        np.testing.assert_array_equal(pa[col].to_numpy(), pb[col].to_numpy(), err_msg=col)
    for col in pa.columns.difference(INTS):
        x, y = pa[col].to_numpy(float), pb[col].to_numpy(float)
        np.testing.assert_allclose(x, y, rtol=0, atol=scale_tol * max(np.abs(x).max(), 1e-300), err_msg=col)
    np.testing.assert_array_equal(a.eras.to_numpy(), b.eras.to_numpy())
    for f in ("era", "position", "order", "era_mistakes", "streak", "done", "presentations", "mistakes",
              "last_mistake", "learned_era"):
        np.testing.assert_array_equal(getattr(a.state, f), getattr(b.state, f), err_msg=f)
    assert a.hardware.runs == b.hardware.runs
    np.testing.assert_array_equal(a.hardware.open_edges, b.hardware.open_edges)
    np.testing.assert_allclose(a.hardware.x, b.hardware.x, rtol=0, atol=scale_tol)
    assert sorted(a.snapshots) == sorted(b.snapshots)


def _net(layers):
    return Network.from_graph(layered(layers, orientation="backward"), VTEAM())


def test_demo_training_same_as_step_loop():
    # 20 copies: the compiled loop splits them over threads, as simulate does
    hw = build_hardware(_net([2, 4, 2]), n_copies=20, seed=0)
    ctrl = Controller(order="shuffled")
    a = train(hw, association((0, 1)), ctrl, seed=3, compiled=False)
    b = train(hw, association((0, 1)), ctrl, seed=3, compiled=True)
    assert a.mistakes.sum() > 20 and a.learned.any()  # something happened to compare
    _same_training(a, b)


def test_pruning_spread_grounded_idle_inputs_and_open_edges():
    """Pruning during training, stuck devices, grounded idle inputs, islands from structural pruning."""
    var = Variability(d2d=0.1, p_stuck_off=0.05)
    hw = build_hardware(_net([3, 5, 3]), n_copies=6, variability=var, prune_below=1.3e-3, seed=11)
    hw = prune_edges(hw, fraction=0.2, seed=2)
    pulses = dataclasses.replace(Pulses(), idle_inputs="ground")
    ctrl = Controller(pulses=pulses, max_eras=12, stop_after=2)
    task = random_patterns(3, 3, 4, seed=1)
    a = train(hw, task, ctrl, seed=1, compiled=False)
    b = train(hw, task, ctrl, seed=1, compiled=True)
    assert a.eras["pruned"].sum() > 0  # the rule fired during training
    assert a.mistakes.sum() > 0
    _same_training(a, b)


def test_wide_dense_network_same_as_step_loop():
    # 74 free nodes: past the fixed-step methods' sparse threshold (64), still dense for the adaptive method
    hw = build_hardware(_net([2, 70, 2]), n_copies=3, seed=4)
    ctrl = Controller(max_eras=4)
    a = train(hw, association((0, 1)), ctrl, compiled=False)
    b = train(hw, association((0, 1)), ctrl, compiled=True)
    assert a.mistakes.sum() > 0
    _same_training(a, b)


def test_default_uses_compiled_loop_where_it_applies():
    hw = build_hardware(_net([2, 4, 2]), n_copies=3, seed=1)
    task = association((1, 0))
    a = train(hw, task, Controller(max_eras=5), compiled=None)
    b = train(hw, task, Controller(max_eras=5), compiled=True)
    # the same code path: bit-identical
    np.testing.assert_array_equal(a.hardware.x, b.hardware.x)


@pytest.mark.parametrize("why", ["c2c", "rk4", "large"])
def test_outside_its_scope(why):
    ctrl = Controller(max_eras=2)
    if why == "c2c":
        hw = build_hardware(_net([2, 4, 2]), variability=Variability(c2c=0.1), seed=0)
        needle = "cycle-to-cycle"
    elif why == "rk4":
        hw = build_hardware(_net([2, 4, 2]), seed=0)
        ctrl = Controller(pulses=dataclasses.replace(Pulses(), method="rk4", dt=1e-10), max_eras=2)
        needle = "adaptive"
    else:  # more than DENSE_MAX_NODES = 256 free nodes: simulate's sparse engine
        hw = build_hardware(_net([2, 260, 2]), seed=0)
        needle = "sparse engine"
    task = association((0, 1))
    with pytest.raises(ValueError, match=needle):
        train(hw, task, ctrl, compiled=True)
    # the default falls back to the Python loop, whose result compiled=False reproduces exactly
    a = train(hw, task, ctrl)
    b = train(hw, task, ctrl, compiled=False)
    np.testing.assert_array_equal(a.hardware.x, b.hardware.x)


def test_bad_compiled_argument():
    hw = build_hardware(_net([2, 4, 2]), seed=0)
    with pytest.raises(ValueError, match="compiled must be"):
        train(hw, association((0, 1)), compiled="yes")


def test_config_slots_twin():
    """The kernel's breadth-first node slots equal simulate's (connected components) on random openings."""
    rng = np.random.default_rng(0)
    hw = build_hardware(_net([3, 6, 6, 3]), seed=0)
    circ = hw.circuit
    adj = cl._adjacency(circ.n_nodes, circ.edge_u, circ.edge_v)
    slot = np.empty(circ.n_nodes, dtype=np.int64)
    queue = np.empty(circ.n_nodes, dtype=np.int64)
    seen = np.empty(circ.n_nodes, dtype=bool)
    islands = 0
    for _ in range(200):
        open_row = rng.random(circ.n_edges) < rng.uniform(0, 0.8)
        driven = np.sort(rng.choice(circ.n_nodes, size=rng.integers(1, 5), replace=False)).astype(np.int64)
        nf = cl._config_slots(open_row, driven, np.array(circ.leak), *adj, slot, queue, seen)
        ref, ref_nf = _slot_row(circ, open_row, driven)
        np.testing.assert_array_equal(slot, ref)
        assert nf == ref_nf
        islands += int((ref == -2).any())
    assert islands > 50  # the openings made islands often


def test_forced_mistake_probe():
    hw = build_hardware(_net([2, 4, 2]), n_copies=2, seed=0)
    task = association((0, 1))
    packed = cl.configurations(hw, task)
    order = initial_state(task, 2).order
    out = cl.present(hw, packed, order, np.array([True, False]), forced=1)
    assert (out.wrong[0] == 1).all() and (out.punish_energy[0] > 0).all()
    assert (out.wrong[1] == -1).all() and np.array_equal(out.x[1], hw.x[1])  # inactive copy untouched
    alone = cl.present(hw, packed, order, np.ones(2, bool), durations=(1e-9, 0.0, 0.0), forced=0)
    assert (alone.punish_energy == 0).all() and (alone.wrong == 0).all()  # zero-length pulses do nothing
    assert not out.x.flags.writeable


@pytest.mark.parametrize(
    "kwargs,needle",
    [
        ({"slots": (1, 3)}, "slots"),
        ({"forced": 2}, "forced"),
        ({"durations": (1e-9, -1.0, 0.0)}, "durations"),
        ({"order": np.zeros((2, 3), dtype=int)}, "order"),
        ({"order": np.full((2, 2), 5)}, "pattern indices"),
    ],
)
def test_present_bad_input(kwargs, needle):
    hw = build_hardware(_net([2, 4, 2]), n_copies=2, seed=0)
    task = association((0, 1))
    order = kwargs.pop("order", initial_state(task, 2).order)
    with pytest.raises(ValueError, match=needle):
        cl.present(hw, cl.configurations(hw, task), order, np.ones(2, bool), **kwargs)


def test_present_refuses_configurations_of_another_circuit():
    task = association((0, 1))
    small = build_hardware(_net([2, 4, 2]), seed=0)
    big = build_hardware(_net([2, 6, 2]), seed=0)
    with pytest.raises(ValueError, match="another circuit"):
        cl.present(big, cl.configurations(small, task), initial_state(task, 1).order, np.ones(1, bool))
