"""Few-shot "double" tasks as event streams, and a seeded N-way K-shot episode sampler.

Double N-MNIST (Stewart & Neftci, Neuromorph. Comput. Eng. 2, 044002, 2022)
puts two digits side by side: 10 x 10 = 100 classes of ordered digit pairs.
:func:`double_tasks` builds the same offline from the 8 x 8 digits bundled
with scikit-learn (8 x 16 double images) or from Fashion-MNIST (the Debian
package ``dataset-fashion-mnist``; 28 x 28 images pooled to 7 x 7, 7 x 14
double images), turns every double image into an event stream with
:func:`memsim.datasets.events.saccade_events`, and splits the 100 classes
into meta-train / meta-validation / meta-test classes (64 / 16 / 20 by
default, a seeded shuffle). :func:`episodes` samples N-way K-shot episodes
from one split: N classes drawn without replacement, relabelled ``0 .. N-1``
in a random order, K support and ``n_query`` query examples per class, all
distinct.

Nothing is downloaded: a missing dataset is one line saying what to install.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from memsim.datasets.events import saccade_events
from memsim.datasets.images import FASHION_MNIST_DIR, read_idx

__all__ = ["DATASETS", "FASHION_MNIST_DIR", "SPLITS", "DoubleTasks", "Episodes", "base_images", "double_tasks",
           "episodes"]

#: Base image sets :func:`double_tasks` knows.
DATASETS = ("digits", "fashion-mnist")
#: Split names of :class:`DoubleTasks`.
SPLITS = ("train", "val", "test")


def _int(name: str, value, lo: int) -> int:
    if not (isinstance(value, (int, np.integer)) and not isinstance(value, bool) and value >= lo):
        raise ValueError(f"{name} must be an integer >= {lo}, got {value!r}")
    return int(value)


def base_images(dataset: str = "digits", *, root=None) -> tuple[np.ndarray, np.ndarray]:
    """Single images (float in [0, 1]) and labels 0-9 of a base set.

    ``"digits"``: scikit-learn's 1,797 8 x 8 digits (pixels / 16).
    ``"fashion-mnist"``: the 60,000 training images of Fashion-MNIST, 4 x 4
    mean-pooled to 7 x 7, read from ``root`` (default
    :data:`FASHION_MNIST_DIR`).

    Examples
    --------
    >>> x, y = base_images("digits")
    >>> x.shape, float(x.max()), sorted(set(y.tolist())) == list(range(10))
    ((1797, 8, 8), 1.0, True)
    """
    if dataset == "digits":
        try:
            from sklearn.datasets import load_digits
        except ImportError as err:  # pragma: no cover - installed with the extra
            raise ImportError('the "digits" tasks need scikit-learn: pip install "memsim[jax]"') from err
        d = load_digits()
        return d.images / 16.0, d.target.astype(np.int64)
    if dataset == "fashion-mnist":
        folder = FASHION_MNIST_DIR if root is None else Path(root)
        files = folder / "train-images-idx3-ubyte.gz", folder / "train-labels-idx1-ubyte.gz"
        if not all(f.exists() for f in files):
            raise ValueError(f"Fashion-MNIST IDX files not found in {folder}: apt-get install dataset-fashion-mnist")
        x = read_idx(files[0]).astype(float) / 255.0
        x = x.reshape(-1, 7, 4, 7, 4).mean(axis=(2, 4))
        return x, read_idx(files[1]).astype(np.int64)
    raise ValueError(f"dataset must be one of {DATASETS}, got {dataset!r}")


@dataclass(frozen=True)
class DoubleTasks:
    """Event streams of the 100 double-image classes and their meta-train/val/test split.

    Attributes
    ----------
    name : base dataset.
    events : uint8 ``(100, per_class, steps, 2, H, 2 W)`` ON/OFF event counts.
    pairs : ``(100, 2)`` base labels (left, right) of each class.
    train, val, test : class indices of each split (disjoint, together all 100).
    """

    name: str
    events: np.ndarray
    pairs: np.ndarray
    train: np.ndarray
    val: np.ndarray
    test: np.ndarray

    @property
    def per_class(self) -> int:
        """Examples per class."""
        return self.events.shape[1]

    @property
    def sample_shape(self) -> tuple[int, ...]:
        """``(steps, 2, H, W)`` of one example."""
        return self.events.shape[2:]

    def classes(self, split: str) -> np.ndarray:
        """Class indices of a split (``"train"``, ``"val"`` or ``"test"``)."""
        if split not in SPLITS:
            raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
        return getattr(self, split)


def double_tasks(dataset: str = "digits", *, per_class: int = 20, steps: int = 10, amplitude: float = 1.0,
                 threshold: float = 0.3, split: tuple[int, int, int] = (64, 16, 20), seed: int = 0,
                 root=None) -> DoubleTasks:
    """Build the double-image few-shot classes as event streams.

    Each of the 100 classes ``(a, b)`` gets ``per_class`` double images: a
    random base image of label ``a`` on the left, one of label ``b`` on the
    right (drawn without replacement per class and side), turned into
    ``steps`` time bins of ON/OFF events by :func:`saccade_events` with
    ``amplitude`` and ``threshold``. The classes are shuffled and split into
    ``split = (train, val, test)`` counts that add up to 100.

    Examples
    --------
    >>> t = double_tasks(per_class=4, steps=5, seed=1)
    >>> t.events.shape, len(t.train), len(t.val), len(t.test)
    ((100, 4, 5, 2, 8, 16), 64, 16, 20)
    """
    if dataset not in DATASETS:
        raise ValueError(f"dataset must be one of {DATASETS}, got {dataset!r}")
    per_class = _int("per_class", per_class, 1)
    steps = _int("steps", steps, 1)
    if (len(split) != 3 or not all(isinstance(s, (int, np.integer)) and s >= 1 for s in split)
            or sum(split) != 100):
        raise ValueError(f"split must be three integers >= 1 adding up to 100 classes, got {split!r}")
    x, y = base_images(dataset, root=root)
    rng = np.random.default_rng(seed)
    by_label = [np.flatnonzero(y == c) for c in range(10)]
    smallest = min(len(b) for b in by_label)
    if per_class > smallest:
        raise ValueError(f"per_class must be <= {smallest} (the fewest base images of one label), got {per_class}")
    pairs = np.array([(a, b) for a in range(10) for b in range(10)])
    doubles = np.empty((100, per_class) + (x.shape[1], 2 * x.shape[2]))
    for c, (a, b) in enumerate(pairs):
        left = rng.choice(by_label[a], per_class, replace=False)
        right = rng.choice(by_label[b], per_class, replace=False)
        doubles[c] = np.concatenate([x[left], x[right]], axis=-1)
    ev = saccade_events(doubles, steps=steps, amplitude=amplitude, threshold=threshold)
    order = rng.permutation(100)
    n_tr, n_va, _ = split
    parts = order[:n_tr], order[n_tr:n_tr + n_va], order[n_tr + n_va:]
    for a in (ev, pairs) + parts:
        a.flags.writeable = False
    return DoubleTasks(dataset, ev, pairs, *(np.sort(p) for p in parts))


@dataclass(frozen=True)
class Episodes:
    """A batch of N-way K-shot episodes.

    ``support_x`` ``(E, N K, ...)`` and ``query_x`` ``(E, N Q, ...)`` hold the
    examples, grouped by label; ``support_y``/``query_y`` their labels
    ``0 .. N-1``; ``classes`` ``(E, N)`` the class index behind each label.
    """

    support_x: np.ndarray
    support_y: np.ndarray
    query_x: np.ndarray
    query_y: np.ndarray
    classes: np.ndarray


def episodes(tasks: DoubleTasks, split: str = "train", *, n_way: int = 5, k_shot: int = 1, n_query: int = 15,
             n_episodes: int = 1, seed=None) -> Episodes:
    """Sample ``n_episodes`` N-way K-shot episodes from one split (seeded).

    Examples
    --------
    >>> t = double_tasks(per_class=6, steps=3, seed=0)
    >>> e = episodes(t, "test", n_way=5, k_shot=1, n_query=5, n_episodes=2, seed=0)
    >>> e.support_x.shape, e.query_y[0].tolist()[:6]
    ((2, 5, 3, 2, 8, 16), [0, 0, 0, 0, 0, 1])
    """
    if not isinstance(tasks, DoubleTasks):
        raise ValueError(f"tasks must be a DoubleTasks, got {type(tasks).__name__}")
    pool = tasks.classes(split)
    n_way = _int("n_way", n_way, 2)
    k_shot = _int("k_shot", k_shot, 1)
    n_query = _int("n_query", n_query, 1)
    n_episodes = _int("n_episodes", n_episodes, 1)
    if n_way > len(pool):
        raise ValueError(f"n_way = {n_way} is larger than the {len(pool)} classes of split {split!r}")
    if k_shot + n_query > tasks.per_class:
        raise ValueError(f"k_shot + n_query = {k_shot + n_query} exceeds the {tasks.per_class} examples per class")
    rng = np.random.default_rng(seed)
    cls = np.stack([rng.choice(pool, n_way, replace=False) for _ in range(n_episodes)])
    idx = np.argsort(rng.random((n_episodes, n_way, tasks.per_class)), axis=-1)[..., :k_shot + n_query]
    ex = tasks.events[cls[..., None], idx]  # (E, N, K + Q, ...)
    shape = tasks.sample_shape
    sx = ex[:, :, :k_shot].reshape((n_episodes, n_way * k_shot) + shape)
    qx = ex[:, :, k_shot:].reshape((n_episodes, n_way * n_query) + shape)
    labels = np.arange(n_way)
    sy = np.broadcast_to(np.repeat(labels, k_shot), (n_episodes, n_way * k_shot)).copy()
    qy = np.broadcast_to(np.repeat(labels, n_query), (n_episodes, n_way * n_query)).copy()
    return Episodes(sx, sy, qx, qy, cls)
