"""The Yin-Yang dataset (Kriener, Göltz & Petrovici, arXiv 2102.08211, 2021), generated procedurally.

Points ``(x, y)`` are drawn uniformly in the square ``[0, 2 r_big]^2`` and
kept inside the disc of radius ``r_big`` centred at ``(r_big, r_big)``. With
``d_r``, ``d_l`` the distances to the centres of the right and left dots,
``(1.5 r_big, r_big)`` and ``(0.5 r_big, r_big)``:

- class 2 (the dots): ``d_r < r_small`` or ``d_l < r_small``;
- class 1: otherwise, if ``d_r <= r_small`` or ``r_small < d_l <= r_big/2``
  or (``y > r_big`` and ``d_r > r_big/2``);
- class 0: the rest.

(These are the criteria of the authors' reference implementation, in which
the label of a point satisfying the "yin" criteria is 1.) Classes are
balanced exactly (``n // 3`` each, the remainder to the first classes) by
rejection: candidates are drawn until every class has its quota, then the
samples are shuffled. Features are ``(x, y, 1 - x, 1 - y)`` (with
``r_big = 0.5``, all in ``[0, 1]``). Reference accuracies: a 4-120-3 ANN
98.7 +- 0.3 %, a shallow network 64.3 +- 0.2 % (Kriener et al., README).

Train, validation and test sets come from independent streams spawned from
one seed (:func:`yinyang_splits`), so they never share a point.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

__all__ = ["yinyang", "yinyang_classes", "yinyang_splits"]

Seed = int | np.random.Generator | np.random.SeedSequence | None


def yinyang_classes(x, y, *, r_big: float = 0.5, r_small: float = 0.1) -> np.ndarray:
    """Class (0, 1, 2) of points ``(x, y)`` inside the Yin-Yang disc (see the module docstring).

    Examples
    --------
    >>> yinyang_classes([0.75, 0.25, 0.5, 0.5], [0.5, 0.5, 0.9, 0.1]).tolist()
    [2, 2, 1, 0]
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    d_r = np.hypot(x - 1.5 * r_big, y - r_big)
    d_l = np.hypot(x - 0.5 * r_big, y - r_big)
    yin = (d_r <= r_small) | ((d_l > r_small) & (d_l <= 0.5 * r_big)) | ((y > r_big) & (d_r > 0.5 * r_big))
    dots = (d_r < r_small) | (d_l < r_small)
    return np.where(dots, 2, yin.astype(int))


def _check(name: str, value, *, positive: bool = True) -> float:
    if not (isinstance(value, numbers.Real) and math.isfinite(value) and (value > 0 or not positive)):
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
    return float(value)


def yinyang(n: int, *, seed: Seed = None, r_big: float = 0.5, r_small: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
    """``n`` Yin-Yang samples: features ``(n, 4)`` = ``(x, y, 1-x, 1-y)`` and labels ``(n,)``.

    Examples
    --------
    >>> X, y = yinyang(6, seed=0)
    >>> X.shape, sorted(y.tolist())
    ((6, 4), [0, 0, 1, 1, 2, 2])
    >>> bool(np.allclose(X[:, 2:], 1 - X[:, :2]))
    True
    """
    if not (isinstance(n, numbers.Integral) and n >= 1):
        raise ValueError(f"n must be an integer >= 1, got {n!r}")
    r_big, r_small = _check("r_big", r_big), _check("r_small", r_small)
    if r_small >= 0.5 * r_big:
        raise ValueError(f"r_small must be below r_big / 2, got {r_small!r}")
    rng = np.random.default_rng(seed)
    quota = np.full(3, int(n) // 3)
    quota[: int(n) % 3] += 1
    got: list[list[np.ndarray]] = [[], [], []]
    have = np.zeros(3, int)
    while (have < quota).any():
        pts = rng.random((max(64, 4 * int(n)), 2)) * 2.0 * r_big
        pts = pts[np.hypot(pts[:, 0] - r_big, pts[:, 1] - r_big) <= r_big]
        cls = yinyang_classes(pts[:, 0], pts[:, 1], r_big=r_big, r_small=r_small)
        for c in range(3):
            take = pts[cls == c][: quota[c] - have[c]]
            got[c].append(take)
            have[c] += len(take)
    xy = np.concatenate([np.concatenate(g) for g in got])
    labels = np.repeat(np.arange(3), quota)
    perm = rng.permutation(int(n))
    xy, labels = xy[perm], labels[perm]
    return np.column_stack([xy, 1.0 - xy]), labels


def yinyang_splits(n_train: int = 5000, n_val: int = 1000, n_test: int = 1000, *, seed: int = 0,
                   r_big: float = 0.5, r_small: float = 0.1) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Train / validation / test sets from three independent streams spawned from ``seed``.

    Examples
    --------
    >>> s = yinyang_splits(30, 9, 9, seed=1)
    >>> {k: v[0].shape for k, v in s.items()}
    {'train': (30, 4), 'val': (9, 4), 'test': (9, 4)}
    """
    streams = np.random.SeedSequence(seed).spawn(3)
    sizes = {"train": n_train, "val": n_val, "test": n_test}
    return {k: yinyang(n, seed=np.random.default_rng(s), r_big=r_big, r_small=r_small)
            for (k, n), s in zip(sizes.items(), streams)}
