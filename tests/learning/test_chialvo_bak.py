"""Tests of the abstract Chialvo–Bak network (memsim.learning.chialvo_bak).

Reference: Chialvo & Bak, Neuroscience 90, 1137 (1999); Bak & Chialvo, PRE 63, 031912 (2001).
The rules are discrete (argmax routing, depression of active synapses), so the checks are exact.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from memsim.learning.chialvo_bak import ChialvoBak, init_weights, present, propagate, train_chialvo_bak
from memsim.learning.tasks import association, parity, random_patterns


def test_activity_follows_the_strongest_synapses():
    w_in = np.array([[[0.2, 0.9, 0.1], [0.8, 0.1, 0.3]]])  # 2 inputs -> 3 hidden
    w_out = np.array([[[0.5, 0.4], [0.1, 0.6], [0.9, 0.0]]])  # 3 hidden -> 2 outputs
    ans, firing = propagate([w_in, w_out], np.array([[True, False]]), 1)
    assert firing[1].tolist() == [[False, True, False]] and ans.tolist() == [1]
    ans, firing = propagate([w_in, w_out], np.array([[False, True]]), 1)
    assert firing[1].tolist() == [[True, False, False]] and ans.tolist() == [0]
    # both inputs firing: hidden input sums 1.0, 1.0, 0.4 -> first of the tied maxima; two may fire
    ans, firing = propagate([w_in, w_out], np.array([[True, True]]), 2)
    assert firing[1].tolist() == [[True, True, False]]
    assert ans.tolist() == [1]  # output drives 0.5 + 0.1 = 0.6 vs 0.4 + 0.6 = 1.0


def test_correct_answers_change_nothing_and_mistakes_depress_only_the_active_path():
    task = association((0, 1, 0))
    cfg = ChialvoBak(hidden=(5,), delta=0.1, max_eras=1, order="task")
    w0 = init_weights([3, 5, 2], 200, seed=11)
    res = train_chialvo_bak(task, cfg, n_copies=200, seed=11)  # same seed -> same initial weights
    for c in range(200):
        changed = [np.argwhere(res.weights[layer][c] != w0[layer][c]) for layer in range(2)]
        if res.mistakes[c] == 0:
            assert all(ch.size == 0 for ch in changed)  # no mistake, no change at all
        # every change is a depression of at most delta per mistake, never a potentiation
        for layer in range(2):
            diff = w0[layer][c] - res.weights[layer][c]
            assert np.all(diff >= 0) and np.all(diff <= 0.1 * res.mistakes[c] + 1e-15)
    # with one active hidden neuron, a mistake touches one input->hidden synapse per active input
    # and one hidden->output synapse
    single = np.flatnonzero(res.mistakes == 1)
    assert single.size > 0
    for c in single:
        assert int((res.weights[0][c] != w0[0][c]).sum()) <= 1
        assert int((res.weights[1][c] != w0[1][c]).sum()) <= 1


def test_tagging_protects_once_successful_synapses():
    # one input, two hidden, two outputs; the route in -> h0 -> out0 is the strongest
    w = [np.array([[[0.9, 0.1]]]), np.array([[[0.8, 0.2], [0.3, 0.7]]])]
    t = [np.zeros((1, 1, 2), bool), np.zeros((1, 2, 2), bool)]
    active = np.array([[True]])
    for factor, expect_tagged in ((1.0, False), (0.25, True)):
        cfg = ChialvoBak(hidden=(2,), delta=0.1, tag_factor=factor)
        # success (target 0): nothing changes; with tagging the active synapses are tagged
        ans, ok, w1, t1 = present(w, t, active, np.array([0]), cfg, np.random.default_rng(0))
        assert ok.tolist() == [True] and all(np.array_equal(a, b) for a, b in zip(w1, w))
        assert bool(t1[0][0, 0, 0]) is expect_tagged and bool(t1[1][0, 0, 0]) is expect_tagged
        assert int(t1[0].sum() + t1[1].sum()) == (2 if expect_tagged else 0)
        # a later mistake (target 1) on the same route: the depression of a tagged synapse is the
        # untagged depression times tag_factor (same random draws: same generator seed)
        _, ok, w2, _ = present(w1, t1, active, np.array([1]), cfg, np.random.default_rng(1))
        _, _, w_ref, _ = present(w, t, active, np.array([1]), ChialvoBak(hidden=(2,), delta=0.1),
                                 np.random.default_rng(1))
        assert ok.tolist() == [False]
        for layer in range(2):
            drop, drop_ref = w1[layer] - w2[layer], w[layer] - w_ref[layer]
            np.testing.assert_allclose(drop, factor * drop_ref, rtol=0, atol=1e-15)  # exact arithmetic
            assert np.count_nonzero(drop_ref) == 1 and 0 < drop_ref.max() <= 0.1


def test_learns_association_maps_and_is_seeded():
    task = association((1, 0, 1, 1))
    a = train_chialvo_bak(task, ChialvoBak(hidden=(8,)), n_copies=50, seed=4)
    b = train_chialvo_bak(task, ChialvoBak(hidden=(8,)), n_copies=50, seed=4)
    assert a.learned.all()
    np.testing.assert_array_equal(a.presentations, b.presentations)
    np.testing.assert_array_equal(a.weights[0], b.weights[0])
    assert np.all(a.learning_time >= 0) and np.all(a.learning_time % len(task) == 0)


def test_learned_networks_answer_every_pattern_correctly():
    task = random_patterns(5, 3, 6, seed=1)
    cfg = ChialvoBak(hidden=(12,), tag_factor=0.01)
    res = train_chialvo_bak(task, cfg, n_copies=20, seed=5)
    assert res.learned.all()
    active = task.levels > 0
    for p, target in enumerate(task.targets):
        ans, _ = propagate(res.weights, np.tile(active[p], (20, 1)), cfg.n_active)
        assert np.all(ans == target)


def test_parity_with_tagging_is_learned():
    # Bak & Chialvo (2001) learn parity with selective punishment of never-successful synapses
    res = train_chialvo_bak(parity(3), ChialvoBak(hidden=(16,), tag_factor=0.1), n_copies=20, seed=0)
    assert res.learned.all()


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [({"hidden": (0,)}, "hidden"), ({"n_active": 0}, "n_active"), ({"hidden": (2,), "n_active": 3}, "n_active"),
     ({"delta": 0.0}, "delta"), ({"tag_factor": 2.0}, "tag_factor"), ({"order": "x"}, "order"),
     ({"max_eras": 0}, "max_eras"), ({"depression": "x"}, "depression"), ({"stop": "x"}, "stop")],
)
def test_bad_config_raises(kwargs, needle):
    with pytest.raises(ValueError, match=needle):
        ChialvoBak(**kwargs)


# --------------------------------------------------------------------------- options of Bak & Chialvo's set-up
# Hand-computed case: inputs in0, in1; hidden h0, h1; outputs out0, out1. Pattern B = in1 -> out1,
# pattern A = in0 -> out0 (task order B, A). Initially in0 -> h0 (0.9 > 0.5), in1 -> h0 (0.7 > 0.2),
# h0 -> out0 (0.8 > 0.2), h1 -> out1 (0.6 > 0.1): A right, B wrong.
_W0 = np.array([[[0.9, 0.5], [0.7, 0.2]]])
_W1 = np.array([[[0.8, 0.2], [0.1, 0.6]]])


def _task_ba():
    from memsim.learning.tasks import classification

    return classification([[0, 1], [1, 0]], [1, 0], 2, name="B-then-A")


@pytest.mark.parametrize("engine", ["numba", "python"])
def test_constant_depression_and_tagging_by_hand(engine):
    # delta = 0.3 exactly, tagged synapses punished half. Era 1: B wrong -> in1-h0 0.7 -> 0.4, h0-out0
    # 0.8 -> 0.5 (not yet tagged); B still goes h0 (0.4 > 0.2) -> out0. A right: tags in0-h0, h0-out0.
    # Era 2: B wrong -> in1-h0 0.4 -> 0.1 (untagged), h0-out0 0.5 -> 0.35 (tagged: 0.3 * 0.5); now B goes
    # h1 (0.2 > 0.1) -> out1: the map is right after presentation 3 (2 mistakes). stop="era" needs the rest
    # of era 2 and a clean era 3: learning time 4 presentations (6 made). Floats: the same subtractions.
    task = _task_ba()
    cfg = ChialvoBak(hidden=(2,), delta=0.3, tag_factor=0.5, order="task", depression="constant", stop="map")
    res = train_chialvo_bak(task, cfg, initial_weights=[_W0, _W1], seed=0, engine=engine)
    assert res.learned.tolist() == [True] and res.mistakes.tolist() == [2] and res.eras.tolist() == [2]
    assert res.presentations.tolist() == [3] and res.learning_time.tolist() == [3.0]
    np.testing.assert_array_equal(res.weights[0][0], [[0.9, 0.5], [0.7 - 0.3 - 0.3, 0.2]])
    np.testing.assert_array_equal(res.weights[1][0], [[0.8 - 0.3 - 0.5 * 0.3, 0.2], [0.1, 0.6]])
    era = train_chialvo_bak(task, replace(cfg, stop="era"), initial_weights=[_W0, _W1],
                            seed=0, engine=engine)
    assert era.presentations.tolist() == [6] and era.eras.tolist() == [3] and era.learning_time.tolist() == [4.0]
    np.testing.assert_array_equal(era.weights[1][0], res.weights[1][0])  # no change after the map is right
    # without tagging the second depression of h0-out0 is the full 0.3
    plain = train_chialvo_bak(task, replace(cfg, tag_factor=1.0), initial_weights=[_W0, _W1],
                              seed=0, engine=engine)
    np.testing.assert_array_equal(plain.weights[1][0], [[0.8 - 0.3 - 0.3, 0.2], [0.1, 0.6]])


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4])
def test_sampled_order_draws_one_pattern_per_presentation(seed):
    # With constant depression the case above learns at the second presentation of B (index 0), whatever
    # the A's in between (A stays right: h0-out0 ends at 0.8 - 0.3 - 0.3 > 0.2 even untagged). The copy's
    # generator is the first child of default_rng(seed) (no weights drawn: initial_weights given), and
    # "sample" takes pattern floor(2 u) per presentation: replaying those draws gives the learning time.
    task = _task_ba()
    cfg = ChialvoBak(hidden=(2,), delta=0.3, order="sample", depression="constant", stop="map")
    res = train_chialvo_bak(task, cfg, initial_weights=[_W0, _W1], seed=seed)
    gen = np.random.default_rng(seed).spawn(1)[0]
    picks = [min(int(gen.random() * 2), 1) for _ in range(200)]
    expected = int(np.flatnonzero(np.array(picks) == 0)[1]) + 1
    assert res.learning_time.tolist() == [float(expected)] and res.mistakes.tolist() == [2]


@pytest.mark.parametrize("order", ["random", "task", "sample"])
@pytest.mark.parametrize("stop", ["era", "map"])
@pytest.mark.parametrize("depression", ["uniform", "constant"])
def test_compiled_kernel_matches_the_numpy_twin(order, stop, depression):
    # The twin routes with propagate() and checks the whole map by propagating every pattern; the kernel
    # keeps the hidden drives and the answers up to date incrementally. Same draws, same arithmetic:
    # identical numbers (exact comparison).
    for task, tag in ((parity(3), 0.1), (random_patterns(5, 3, 7, seed=3), 1.0)):
        cfg = ChialvoBak(hidden=(7,), tag_factor=tag, order=order, stop=stop, depression=depression, max_eras=400)
        a = train_chialvo_bak(task, cfg, n_copies=5, seed=21, engine="numba")
        b = train_chialvo_bak(task, cfg, n_copies=5, seed=21, engine="python")
        assert a.learned.any()
        for x, y in ((a.learned, b.learned), (a.presentations, b.presentations), (a.mistakes, b.mistakes),
                     (a.eras, b.eras), *zip(a.weights, b.weights)):
            np.testing.assert_array_equal(x, y)


@pytest.mark.parametrize("order", ["random", "task"])
def test_map_criterion_is_exact_and_the_era_criterion_rounds_it_up_to_whole_eras(order):
    # stop="map": the learned networks answer every pattern (checked here by propagate); both criteria
    # share every random draw until the last mistake, after which nothing changes, so the error-free-era
    # learning time is the map's rounded up to a whole number of eras (exact).
    task = parity(3)
    base = ChialvoBak(hidden=(16,), tag_factor=0.01, order=order)
    m = train_chialvo_bak(task, replace(base, stop="map"), n_copies=30, seed=8)
    e = train_chialvo_bak(task, base, n_copies=30, seed=8)
    assert m.learned.all() and e.learned.all()
    active = task.levels > 0
    for p, target in enumerate(task.targets):
        assert np.all(propagate(m.weights, np.tile(active[p], (30, 1)), 1)[0] == target)
    np.testing.assert_array_equal(e.learning_time, np.ceil(m.learning_time / len(task)) * len(task))
    np.testing.assert_array_equal(e.mistakes, m.mistakes)


def test_the_twin_trains_layouts_the_kernel_does_not():
    res = train_chialvo_bak(parity(2), ChialvoBak(hidden=(6, 6), n_active=2, tag_factor=0.1, stop="map"),
                            n_copies=4, seed=2)
    assert res.learned.all()
    with pytest.raises(ValueError, match="engine"):
        train_chialvo_bak(parity(2), ChialvoBak(hidden=(6, 6)), engine="numba")
    with pytest.raises(ValueError, match="engine"):
        train_chialvo_bak(parity(2), ChialvoBak(hidden=(6,)), engine="fast")
    with pytest.raises(ValueError, match="initial_weights"):
        train_chialvo_bak(parity(2), ChialvoBak(hidden=(6,)), initial_weights=[np.zeros((1, 3, 5)),
                                                                              np.zeros((1, 5, 2))])
