"""Tests of memsim.learning.tasks: pattern sets enumerate and validate correctly."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from memsim.learning.tasks import (
    Pattern,
    Task,
    all_associations,
    association,
    boolean,
    classification,
    parity,
    perceptron,
    random_patterns,
)


@pytest.mark.parametrize(("n_in", "n_out"), [(1, 2), (2, 2), (2, 3), (3, 2), (3, 4)])
def test_all_associations_enumerates_every_map_once(n_in, n_out):
    tasks = all_associations(n_in, n_out)
    maps = [tuple(t.targets.tolist()) for t in tasks]
    assert len(maps) == n_out**n_in
    assert maps == list(itertools.product(range(n_out), repeat=n_in))  # lexicographic, no repeats
    for t in tasks:
        assert (t.n_inputs, t.n_outputs, len(t)) == (n_in, n_out, n_in)
        np.testing.assert_array_equal(t.levels, np.eye(n_in))  # input i alone drives pattern i


def test_association_patterns_and_names():
    t = association((1, 0, 1))
    assert t.n_outputs == 2 and t.targets.tolist() == [1, 0, 1]
    assert [p.active for p in t.patterns] == [(0,), (1,), (2,)]
    assert [p.label for p in t.patterns] == ["0->1", "1->0", "2->1"]
    assert association((0, 0), n_outputs=3).n_outputs == 3


@pytest.mark.parametrize(
    ("fn", "truth"),
    [("and", [0, 0, 0, 1]), ("or", [0, 1, 1, 1]), ("xor", [0, 1, 1, 0]), ("nand", [1, 1, 1, 0]),
     ("nor", [1, 0, 0, 0]), ("xnor", [1, 0, 0, 1])],
)
def test_boolean_truth_tables_with_bias(fn, truth):
    t = boolean(fn)
    assert t.targets.tolist() == truth
    np.testing.assert_array_equal(t.levels[:, :2], [[0, 0], [0, 1], [1, 0], [1, 1]])
    assert np.all(t.levels[:, 2] == 1.0)  # the bias input is driven in every pattern


@pytest.mark.parametrize("n", [1, 2, 3, 5])
def test_parity_targets_are_bit_sums_mod_2(n):
    t = parity(n)
    bits = t.levels[:, :n].astype(int)
    assert len(t) == 2**n and t.n_inputs == n + 1
    assert len({tuple(b) for b in bits}) == 2**n
    np.testing.assert_array_equal(t.targets, bits.sum(axis=1) % 2)


def test_random_patterns_are_distinct_nonempty_and_seeded():
    a = random_patterns(5, 3, 12, seed=7)
    b = random_patterns(5, 3, 12, seed=7)
    c = random_patterns(5, 3, 12, seed=8)
    assert len({p.levels for p in a.patterns}) == 12
    assert all(p.active for p in a.patterns)
    assert a == b and a != c
    assert set(np.unique(a.levels)) <= {0.0, 1.0} and a.targets.max() < 3


def test_perceptron_is_linearly_separable_and_seeded():
    t = perceptron(4, 30, seed=3)
    assert t == perceptron(4, 30, seed=3)
    lv, y = t.levels[:, :4], t.targets
    assert set(y.tolist()) == {0, 1}
    # separable: a least-squares hyperplane through the data need not separate, so check with the
    # perceptron algorithm, which converges on separable data (Novikoff); 10_000 epochs is ample here
    xb = np.hstack([lv - 0.5, np.ones((len(y), 1))])
    s = 2 * y - 1
    w = np.zeros(5)
    for _ in range(10_000):
        wrong = np.flatnonzero(s * (xb @ w) <= 0)
        if wrong.size == 0:
            break
        w += s[wrong[0]] * xb[wrong[0]]
    assert np.all(s * (xb @ w) > 0)


def test_classification_from_arrays():
    t = classification([[1, 0.5], [0.25, 1]], [1, 0], name="demo")
    assert t.name == "demo" and t.targets.tolist() == [1, 0] and t.n_outputs == 2


@pytest.mark.parametrize(
    ("make", "needle"),
    [
        (lambda: Pattern((0.0, 0.0), 0), "Pattern.levels"),
        (lambda: Pattern((1.5,), 0), "Pattern.levels"),
        (lambda: Pattern((1.0,), -1), "Pattern.target"),
        (lambda: Task("t", 2, 1, (Pattern((1.0, 0.0), 0),)), "n_outputs"),
        (lambda: Task("t", 2, 2, ()), "Task.patterns"),
        (lambda: Task("t", 2, 2, (Pattern((1.0,), 0),)), "Task.patterns[0]"),
        (lambda: Task("t", 1, 2, (Pattern((1.0,), 0), Pattern((1.0,), 1))), "distinct"),
        (lambda: association((0, 3), n_outputs=2), "n_outputs"),
        (lambda: association(()), "mapping"),
        (lambda: all_associations(0, 2), "n_inputs"),
        (lambda: boolean("implies"), "function"),
        (lambda: boolean("and", bias=False), "bias"),
        (lambda: parity(0), "n_bits"),
        (lambda: parity(3, bias=False), "bias"),
        (lambda: random_patterns(2, 2, 4), "p = 4"),
        (lambda: random_patterns(3, 2, 2, density=0.0), "density"),
        (lambda: classification([1, 0], [0, 1]), "levels"),
    ],
)
def test_bad_input_raises_one_line_value_error_naming_the_field(make, needle):
    with pytest.raises(ValueError) as exc:
        make()
    assert needle in str(exc.value) and "\n" not in str(exc.value)
