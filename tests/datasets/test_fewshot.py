"""Saccade event streams (closed-form DVS counts) and the double-image few-shot tasks and episodes."""

from __future__ import annotations

import math

import numpy as np
import pytest

pytest.importorskip("sklearn", reason='the digits tasks need scikit-learn: pip install "memsim[jax]"')

from memsim.datasets.events import saccade_events, saccade_path  # noqa: E402
from memsim.datasets.fewshot import FASHION_MNIST_DIR, double_tasks, episodes  # noqa: E402


def test_uniform_image_emits_events_only_where_the_border_moves_in():
    # steps=3, amplitude=2: frame offsets (dy, dx) = (0, 0), (2, 1), (0, 2), (0, 0) (integer shifts)
    np.testing.assert_allclose(saccade_path(3, 2.0), [[0, 0], [2, 1], [0, 2], [0, 0]])
    theta, eps = 0.3, 0.1
    ev = saccade_events(np.ones((6, 6)), steps=3, amplitude=2.0, threshold=theta, eps=eps).astype(int)
    n = math.floor(math.log((1 + eps) / eps) / theta)  # closed form: log-intensity drop 1 -> 0, in thresholds
    # frame 1: rows 0-1 and column 0 are shifted in from outside (dark): n OFF events each, nothing else
    off1 = np.zeros((6, 6), int)
    off1[:2, :] = n
    off1[:, 0] = n
    assert np.array_equal(ev[0, 1], off1) and ev[0, 0].sum() == 0
    # frame 2: rows 0-1 light up again except the now dark columns 0-1 (reference back up by n thresholds)
    on2 = np.zeros((6, 6), int)
    on2[:2, 2:] = n
    off2 = np.zeros((6, 6), int)
    off2[2:, 1] = n
    assert np.array_equal(ev[1, 0], on2) and np.array_equal(ev[1, 1], off2)


def test_events_are_deterministic_and_reject_bad_images():
    img = np.random.default_rng(0).random((3, 5, 7))
    assert np.array_equal(saccade_events(img), saccade_events(img))
    with pytest.raises(ValueError, match="images"):
        saccade_events(img * 2)
    with pytest.raises(ValueError, match="threshold"):
        saccade_events(img, threshold=0)
    with pytest.raises(ValueError, match="steps"):
        saccade_events(img, steps=0)


@pytest.fixture(scope="module")
def tasks():
    return double_tasks(per_class=8, steps=4, seed=3)


def test_double_tasks_classes_and_split(tasks):
    assert tasks.events.shape == (100, 8, 4, 2, 8, 16) and tasks.events.dtype == np.uint8
    assert sorted(map(tuple, tasks.pairs.tolist())) == [(a, b) for a in range(10) for b in range(10)]
    parts = [set(tasks.train), set(tasks.val), set(tasks.test)]
    assert [len(p) for p in parts] == [64, 16, 20]
    assert set.union(*parts) == set(range(100)) and sum(len(p) for p in parts) == 100
    assert tasks.events.sum() > 0
    again = double_tasks(per_class=8, steps=4, seed=3)
    assert np.array_equal(again.events, tasks.events) and np.array_equal(again.test, tasks.test)
    assert not np.array_equal(double_tasks(per_class=8, steps=4, seed=4).test, tasks.test)


def test_episodes_shapes_labels_and_split(tasks):
    ep = episodes(tasks, "val", n_way=4, k_shot=2, n_query=3, n_episodes=5, seed=0)
    assert ep.support_x.shape == (5, 8, 4, 2, 8, 16) and ep.query_x.shape == (5, 12, 4, 2, 8, 16)
    assert ep.support_y[0].tolist() == [0, 0, 1, 1, 2, 2, 3, 3]
    assert ep.query_y[0].tolist() == [0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3]
    assert set(ep.classes.ravel()) <= set(tasks.val)
    assert all(len(set(c)) == 4 for c in ep.classes)
    # support and query of a label come from that label's class
    for e in range(5):
        for lab, c in enumerate(ep.classes[e]):
            pool = tasks.events[c].reshape(tasks.per_class, -1)
            for x in ep.support_x[e, ep.support_y[e] == lab]:
                assert (pool == x.ravel()).all(axis=1).any()
    same = episodes(tasks, "val", n_way=4, k_shot=2, n_query=3, n_episodes=5, seed=0)
    assert np.array_equal(same.query_x, ep.query_x)


@pytest.mark.parametrize("kwargs, message", [
    (dict(split="test", n_way=21), "n_way = 21 is larger than the 20 classes of split 'test'"),
    (dict(k_shot=0), "k_shot must be an integer >= 1"),
    (dict(k_shot=4, n_query=5), "exceeds the 8 examples per class"),
    (dict(split="meta-test"), "split must be one of"),
    (dict(n_way=1), "n_way must be an integer >= 2"),
])
def test_bad_episode_arguments_give_one_line(tasks, kwargs, message):
    with pytest.raises(ValueError, match=message) as info:
        episodes(tasks, **kwargs)
    assert "\n" not in str(info.value)


def test_unknown_dataset_gives_one_line():
    with pytest.raises(ValueError, match="dataset must be one of") as info:
        double_tasks("omniglot")
    assert "\n" not in str(info.value)
    with pytest.raises(ValueError, match="split must be three integers"):
        double_tasks(split=(60, 20, 10))


def test_missing_fashion_files_say_what_to_install(tmp_path):
    with pytest.raises(ValueError, match="apt-get install dataset-fashion-mnist"):
        double_tasks("fashion-mnist", root=tmp_path)


@pytest.mark.skipif(not (FASHION_MNIST_DIR / "train-images-idx3-ubyte.gz").exists(),
                    reason="Debian package dataset-fashion-mnist not installed")
def test_fashion_double_tasks():
    t = double_tasks("fashion-mnist", per_class=3, steps=3)
    assert t.events.shape == (100, 3, 3, 2, 7, 14) and t.events.sum() > 0
