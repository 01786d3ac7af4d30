"""The Yin-Yang dataset: geometry of the classes, balance, seeding, disjoint splits.

References: the class criteria of Kriener, Goltz & Petrovici (2021) evaluated by hand at points
whose class is evident from the figure (dot centres, the middle of each half-disc), and the areas
of the regions (each dot pi r_small^2; the two large regions equal by the point symmetry).
"""

from __future__ import annotations

import numpy as np
import pytest

from memsim.datasets import yinyang, yinyang_classes, yinyang_splits


def test_classes_at_evident_points():
    # dot centres (class 2), points next to them inside the large regions, and the symmetric pair
    x = [0.75, 0.25, 0.5, 0.5, 0.25, 0.75]
    y = [0.5, 0.5, 0.9, 0.1, 0.5 + 0.15, 0.5 - 0.15]
    assert yinyang_classes(x, y).tolist() == [2, 2, 1, 0, 1, 0]


def test_the_two_large_regions_have_equal_area_and_the_dots_pi_r_small_squared():
    # Monte Carlo over the disc (2e5 points): the fraction of each dot is (r_small/r_big)^2 =
    # 0.04 and the large regions share the rest equally (0.46 each); the standard error of a
    # fraction near 0.5 is ~1.1e-3, so 5e-3 is > 4 standard errors.
    rng = np.random.default_rng(0)
    p = rng.random((400_000, 2))
    p = p[np.hypot(p[:, 0] - 0.5, p[:, 1] - 0.5) <= 0.5][:200_000]
    frac = np.bincount(yinyang_classes(p[:, 0], p[:, 1]), minlength=3) / len(p)
    np.testing.assert_allclose(frac, [0.46, 0.46, 0.08], atol=5e-3)


def test_samples_are_balanced_inside_the_disc_and_mirrored():
    X, y = yinyang(1001, seed=3)
    assert X.shape == (1001, 4) and np.bincount(y).tolist() == [334, 334, 333]
    assert np.all(np.hypot(X[:, 0] - 0.5, X[:, 1] - 0.5) <= 0.5)
    np.testing.assert_array_equal(X[:, 2:], 1.0 - X[:, :2])
    np.testing.assert_array_equal(yinyang_classes(X[:, 0], X[:, 1]), y)


def test_same_seed_same_samples_and_splits_are_disjoint():
    a, b = yinyang(50, seed=7), yinyang(50, seed=7)
    np.testing.assert_array_equal(a[0], b[0])
    s = yinyang_splits(300, 100, 100, seed=7)
    rows = {k: {tuple(r) for r in v[0]} for k, v in s.items()}
    assert not (rows["train"] & rows["val"] or rows["train"] & rows["test"] or rows["val"] & rows["test"])
    assert not np.array_equal(yinyang_splits(30, 9, 9, seed=1)["train"][0], yinyang_splits(30, 9, 9, seed=2)["train"][0])


@pytest.mark.parametrize(("kwargs", "match"), [({"n": 0}, "n"), ({"n": 5, "r_big": -1.0}, "r_big"),
                                               ({"n": 5, "r_small": 0.3}, "r_small")])
def test_bad_arguments_raise_one_line(kwargs, match):
    with pytest.raises(ValueError, match=match) as exc:
        yinyang(**kwargs)
    assert "\n" not in str(exc.value)
