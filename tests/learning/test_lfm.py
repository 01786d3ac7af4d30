"""Tests of the learning-from-mistakes controller (memsim.learning.lfm)."""

from __future__ import annotations

import numpy as np
import pytest

import memsim.learning.hardware as hardware_module
from memsim.learning.hardware import build_hardware
from memsim.learning.lfm import Controller, Training, initial_state, step, train
from memsim.learning.tasks import all_associations, association, boolean

FAST = Controller(max_eras=30)


def test_controller_changes_device_states_only_through_simulate(net242, monkeypatch):
    """Spy on every simulate call: each copy's state after every step is the x_final of the last
    simulate call that included it (or its initial state), and nothing else writes the states."""
    calls = []
    real = hardware_module.simulate

    def spy(circuit, protocol, **kw):
        res = real(circuit, protocol, **kw)
        calls.append((np.array(kw["x0"]), np.array(res.x_final)))
        return res

    monkeypatch.setattr(hardware_module, "simulate", spy)
    task = association((1, 0))
    hw = build_hardware(net242, n_copies=6, seed=11)
    state = initial_state(task, 6, FAST)
    expected = np.array(hw.x)
    for _ in range(12):
        before = len(calls)
        x_prev = np.array(hw.x)
        state, hw, rec = step(state, hw, task, FAST)
        for x0, xf in calls[before:]:
            # every call starts from the current states of its copies and we replay its output
            rows = [int(np.flatnonzero((expected == r).all(axis=1))[0]) for r in x0]
            expected[rows] = xf
        np.testing.assert_array_equal(hw.x, expected)
        untouched = np.setdiff1d(np.arange(6), rec.copy)
        np.testing.assert_array_equal(hw.x[untouched], x_prev[untouched])
        with pytest.raises(ValueError):
            hw.x[0, 0] = 0.5  # the controller cannot write device states
    assert len(calls) > 12  # reads plus punishments happened


def test_a_correct_answer_changes_nothing(net242):
    # constant map: many copies answer correctly at once; their states and pruning must not change
    task = association((0, 0))
    hw = build_hardware(net242, n_copies=30, seed=12, prune_below=5e-4)
    state = initial_state(task, 30, FAST)
    state2, hw2, rec = step(state, hw, task, FAST)
    ok = rec.copy[rec.correct]
    bad = rec.copy[~rec.correct]
    assert ok.size > 0 and bad.size > 0
    np.testing.assert_array_equal(hw2.x[ok], hw.x[ok])
    np.testing.assert_array_equal(hw2.open_edges[ok], hw.open_edges[ok])
    assert np.all(rec.punish_energy[rec.correct] == 0.0) and np.all(rec.punish_energy[~rec.correct] > 0.0)
    assert not np.any(np.all(hw2.x[bad] == hw.x[bad], axis=1))  # every mistake was punished
    np.testing.assert_array_equal(state2.mistakes[ok], 0)


def test_step_is_pure(net242):
    task = association((0, 1))
    hw = build_hardware(net242, n_copies=4, seed=13)
    state = initial_state(task, 4, FAST)
    x0, order = np.array(hw.x), np.array(state.order)
    s1, h1, r1 = step(state, hw, task, FAST)
    s2, h2, r2 = step(state, hw, task, FAST)  # same inputs, same outputs
    np.testing.assert_array_equal(hw.x, x0)
    np.testing.assert_array_equal(state.order, order)
    assert state.position == 0 and s1.position == 1
    np.testing.assert_array_equal(h1.x, h2.x)
    np.testing.assert_array_equal(r1.currents, r2.currents)


def test_ensemble_training_equals_training_each_copy_alone(net242):
    # grouping copies into shared simulate calls must not change any copy's trajectory
    task = association((1, 0))
    hw = build_hardware(net242, n_copies=4, seed=14)
    together = train(hw, task, FAST)
    for c in range(4):
        alone = build_hardware(net242, n_copies=1, x0=hw.x[c : c + 1, :16], seed=0)
        one = train(alone, task, FAST)
        assert one.state.last_mistake[0] == together.state.last_mistake[c]
        # same arithmetic per copy; a batched call may reorder nothing but stays within round-off
        np.testing.assert_allclose(one.hardware.x[0], together.hardware.x[c], rtol=0, atol=1e-12)


def test_history_tables_and_bounded_snapshots(net242):
    task = association((0, 1))
    out = train(build_hardware(net242, n_copies=5, seed=15), task, Controller(max_eras=12, snapshot_every=4))
    assert isinstance(out, Training)
    p = out.presentations
    assert list(p.columns) == ["copy", "era", "slot", "n", "pattern", "target", "answer", "correct", "margin",
                               "read_energy", "punish_energy", "i_out_0", "i_out_1"]
    assert len(p) == int(out.state.presentations.sum())
    assert np.all(p["read_energy"] > 0) and np.all(p.loc[p["correct"], "punish_energy"] == 0)
    assert np.all(p.loc[~p["correct"], "punish_energy"] > 1e3 * p.loc[~p["correct"], "read_energy"])
    e = out.eras
    assert list(e.columns) == ["copy", "era", "mistakes", "pruned", "open_edges"]
    assert e.groupby("copy")["mistakes"].sum().reindex(range(5), fill_value=0).tolist() == out.mistakes.tolist()
    eras_run = out.state.era
    assert set(out.snapshots) <= {-1, eras_run - 1} | {k for k in range(12) if (k + 1) % 4 == 0}
    assert all(v.shape == (5, 16) for v in out.snapshots.values())
    assert "learned" in repr(out)


def test_threshold_pruning_during_training_is_recorded(net242):
    # a threshold at the conductance of x = 0.15 (S); punishments drive some devices below it
    g_min = 1.0 / (50.0 * 0.15 + 1e3 * 0.85)
    hw = build_hardware(net242, n_copies=6, prune_below=g_min, seed=18)
    out = train(hw, association((1, 0)), Controller(max_eras=8))
    e = out.eras
    final_open = out.hardware.open_edges[:, :16].sum(axis=1)
    assert final_open.sum() > 0
    assert e.groupby("copy")["pruned"].sum().reindex(range(6), fill_value=0).tolist() == final_open.tolist()
    last = max(out.snapshots)
    assert np.all(out.snapshots[last][out.hardware.open_edges[:, :16]] == 0.0)  # open: no conductance


def test_stop_after_and_cap(net242):
    task = association((1, 0))
    hw = build_hardware(net242, n_copies=6, seed=16)
    two = train(hw, task, Controller(max_eras=30, stop_after=2))
    e = two.eras
    for c in np.flatnonzero(two.learned):
        tail = e[e["copy"] == c].sort_values("era")["mistakes"].tolist()
        assert tail[-2:] == [0, 0] and (len(tail) == 2 or tail[-3] > 0)
        assert two.state.learned_era[c] == len(tail) - 2
    capped = train(hw, task, Controller(max_eras=1))
    assert capped.state.era == 1
    assert np.all(np.isnan(capped.presentations_to_learn[~capped.learned]))


def test_shuffled_order_is_seeded():
    task = boolean("or")
    s = initial_state(task, 5, Controller(order="shuffled"), seed=3)
    t = initial_state(task, 5, Controller(order="shuffled"), seed=3)
    np.testing.assert_array_equal(s.order, t.order)
    assert all(sorted(row) == [0, 1, 2, 3] for row in s.order.tolist())
    assert len({tuple(r) for r in s.order.tolist()}) > 1  # copies get their own orders


def test_the_paper_task_is_learned_at_the_defaults_on_a_seeded_subset(net242):
    """Default run: 20 seeded copies of each 2-pattern bijective map (the hard ones) on the 2-4-2
    network; all learned (measured 40/40). The slow test below measures 100 seeds of every map."""
    for mapping in ((0, 1), (1, 0)):
        out = train(build_hardware(net242, n_copies=20, seed=100), association(mapping), Controller())
        assert out.success_rate >= 0.9, (mapping, out.success_rate)


@pytest.mark.slow
def test_the_paper_task_is_learned_in_at_least_90_percent_of_100_seeds(net242):
    """Issue 5 acceptance: 100 seeds (seeded random initial states) for each of the 4 maps of the
    2-input, 2-output association task, default controller; see experiments/lfm_success.py."""
    for task in all_associations(2, 2):
        out = train(build_hardware(net242, n_copies=100, seed=2024), task, Controller())
        assert out.success_rate >= 0.9, (task.name, out.success_rate)


def test_bad_arguments(net242):
    hw = build_hardware(net242, seed=0)
    with pytest.raises(ValueError, match="inputs"):
        step(initial_state(boolean("and"), 1), hw, boolean("and"))
    with pytest.raises(ValueError, match="copies"):
        step(initial_state(association((0, 1)), 2), hw, association((0, 1)))
    with pytest.raises(ValueError, match="hardware"):
        train(None, association((0, 1)))
    with pytest.raises(ValueError, match="max_eras"):
        Controller(max_eras=0)
    with pytest.raises(ValueError, match="order"):
        Controller(order="random")
