"""Image classification datasets read from local files or packages, or generated; never downloaded.

- :func:`fashion_mnist`: Fashion-MNIST (Xiao, Rasul & Vollgraf, arXiv 1708.07747, 2017) from the
  IDX files of the Debian package ``dataset-fashion-mnist`` (or a folder the user gives);
- :func:`mnist`: MNIST (LeCun et al. 1998) from IDX files in a folder the user gives (no package
  ships it here);
- :func:`digits`: the 8 x 8 handwritten digits bundled with scikit-learn (Alpaydin & Kaynak, UCI),
  an MNIST-like set of 1,797 images;
- :func:`mnist1d`: MNIST-1D (Greydanus, "Scaling down deep learning", arXiv 2011.14439, 2020),
  generated procedurally with a seeded generator from the paper's ten 1-D templates and its
  transformations (padding, shear, scale, translation, correlated and white noise, resampling to
  40 points); the numbers differ from the official pickle, the recipe is the same.

Every loader returns a :class:`Split` with seeded, disjoint train/validation/test parts; features
are float32 in [0, 1] (MNIST-1D: standardised floats) and labels int64.
"""

from __future__ import annotations

import gzip
import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["Split", "DATASETS", "load", "fashion_mnist", "mnist", "digits", "mnist1d", "read_idx",
           "FASHION_MNIST_DIR"]

#: Where the Debian package ``dataset-fashion-mnist`` installs its IDX files.
FASHION_MNIST_DIR = Path("/usr/share/datasets/fashion-mnist")
_APT_HINT = "apt-get install dataset-fashion-mnist"


@dataclass(frozen=True)
class Split:
    """Train/validation/test parts of a dataset (arrays read-only).

    Examples
    --------
    >>> s = digits(seed=0)
    >>> s.x_train.shape[1], s.n_classes, s.name
    (64, 10, 'digits')
    """

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray

    def __post_init__(self) -> None:
        for f in ("x_train", "y_train", "x_val", "y_val", "x_test", "y_test"):
            getattr(self, f).flags.writeable = False

    @property
    def n_features(self) -> int:
        return int(self.x_train.shape[1])

    @property
    def n_classes(self) -> int:
        return int(max(self.y_train.max(), self.y_test.max())) + 1


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file (optionally gzip-compressed): unsigned-byte arrays of MNIST-style data.

    Raises
    ------
    ValueError
        If the file is not an IDX file of unsigned bytes (one line naming the file).
    """
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            raw = f.read()
    except OSError as err:
        raise ValueError(f"{path}: cannot be read as an IDX file ({err})") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise ValueError(f"{path}: not an IDX file of unsigned bytes (bad magic number)")
    ndim = raw[3]
    header = 4 + 4 * ndim
    if ndim < 1 or len(raw) < header:
        raise ValueError(f"{path}: truncated IDX header")
    shape = tuple(int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim))
    size = math.prod(shape)
    if len(raw) - header != size:
        raise ValueError(f"{path}: IDX header announces {size} values, the file holds {len(raw) - header}")
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape)


def _find(folder: Path, stem: str) -> Path:
    for name in (stem, stem + ".gz"):
        if (folder / name).is_file():
            return folder / name
    raise FileNotFoundError(stem)


def _check_fraction(name: str, v) -> float:
    if not (isinstance(v, (int, float)) and 0 <= v < 1):
        raise ValueError(f"{name} must be a fraction in [0, 1), got {v!r}")
    return float(v)


def _seeded_validation(name, x, y, x_test, y_test, validation: int, seed) -> Split:
    if not (isinstance(validation, (int, np.integer)) and 0 <= validation < len(y)):
        raise ValueError(f"validation must be an integer in [0, {len(y)}), got {validation!r}")
    order = np.random.default_rng(seed).permutation(len(y))
    val, train = order[:validation], order[validation:]
    return Split(name, x[train], y[train], x[val], y[val], x_test, y_test)


def _idx_set(name: str, folder: Path, validation: int, seed) -> Split:
    files = {}
    for key, stem in (("x_train", "train-images-idx3-ubyte"), ("y_train", "train-labels-idx1-ubyte"),
                      ("x_test", "t10k-images-idx3-ubyte"), ("y_test", "t10k-labels-idx1-ubyte")):
        try:
            files[key] = read_idx(_find(folder, stem))
        except FileNotFoundError:
            hint = f"; install it with: {_APT_HINT}" if name == "fashion-mnist" else ""
            raise ValueError(f"{name}: {stem}[.gz] not found in {folder}{hint}") from None
    x = files["x_train"].reshape(len(files["x_train"]), -1).astype(np.float32) / 255.0
    xt = files["x_test"].reshape(len(files["x_test"]), -1).astype(np.float32) / 255.0
    y, yt = files["y_train"].astype(np.int64), files["y_test"].astype(np.int64)
    if len(x) != len(y) or len(xt) != len(yt):
        raise ValueError(f"{name}: images and labels in {folder} differ in number")
    return _seeded_validation(name, x, y, xt, yt, validation, seed)


def fashion_mnist(*, path: str | os.PathLike | None = None, validation: int = 5000, seed=0) -> Split:
    """Fashion-MNIST: 60,000 training (less ``validation``) and 10,000 test images, 784 pixels.

    Reads the IDX files of the Debian package ``dataset-fashion-mnist`` (or of ``path``); the
    validation images are a seeded random subset of the training set.
    """
    return _idx_set("fashion-mnist", Path(path) if path is not None else FASHION_MNIST_DIR, validation, seed)


def mnist(path: str | os.PathLike, *, validation: int = 5000, seed=0) -> Split:
    """MNIST from the four IDX files (``train-images-idx3-ubyte[.gz]`` ...) in the folder ``path``."""
    return _idx_set("mnist", Path(path), validation, seed)


def _three_way(name, x, y, validation: float, test: float, seed) -> Split:
    validation = _check_fraction("validation", validation)
    test = _check_fraction("test", test)
    if validation + test >= 1:
        raise ValueError(f"validation + test must be < 1, got {validation + test}")
    order = np.random.default_rng(seed).permutation(len(y))
    n_val, n_test = round(validation * len(y)), round(test * len(y))
    val, te, tr = order[:n_val], order[n_val:n_val + n_test], order[n_val + n_test:]
    return Split(name, x[tr], y[tr], x[val], y[val], x[te], y[te])


def digits(*, validation: float = 0.15, test: float = 0.2, seed=0) -> Split:
    """scikit-learn's 1,797 8 x 8 digit images (pixels scaled to [0, 1]), split by seeded shuffling."""
    try:
        from sklearn.datasets import load_digits
    except ImportError as err:  # pragma: no cover - scikit-learn is a test dependency
        raise ImportError('digits needs scikit-learn: pip install "memsim[search]"') from err
    d = load_digits()
    return _three_way("digits", (d.data / 16.0).astype(np.float32), d.target.astype(np.int64), validation, test,
                      seed)


#: The ten 1-D digit templates of MNIST-1D (Greydanus 2020), 12 points each.
_TEMPLATES = np.array([
    [5, 6, 6.5, 6.75, 7, 7, 7, 7, 6.75, 6.5, 6, 5],
    [5, 3, 3, 3.4, 3.8, 4.2, 4.6, 5, 5.4, 5.8, 5, 5],
    [5, 6, 6.5, 6.5, 6, 5.25, 4.75, 4, 3.5, 3.5, 4, 5],
    [5, 6, 6.5, 6.5, 6, 5, 5, 6, 6.5, 6.5, 6, 5],
    [5, 4.4, 3.8, 3.2, 2.6, 2.6, 5, 5, 5, 5, 5, 5],
    [5, 3, 3, 3, 3, 5, 6, 6.5, 6.5, 6, 4.5, 5],
    [5, 4, 3.5, 3.25, 3, 3, 3, 3, 3.25, 3.5, 4, 5],
    [5, 7, 7, 6.6, 6.2, 5.8, 5.4, 5, 4.6, 4.2, 5, 5],
    [5, 4, 3.5, 3.5, 4, 5, 5, 4, 3.5, 3.5, 4, 5],
    [5, 4, 3.5, 3.5, 4, 5, 5, 5, 5, 4.7, 4.3, 5],
])


def _resample(x: np.ndarray, n: int) -> np.ndarray:
    return np.interp(np.linspace(0, 1, n), np.linspace(0, 1, x.size), x)


def _mnist1d_samples(labels: np.ndarray, rng: np.random.Generator, length: int = 40) -> np.ndarray:
    """One MNIST-1D signal per label, after Greydanus (2020) with the paper's default settings:
    right padding of 36..60 zeros, dilation to 72 points, scale 1 +- 0.2, cyclic translation by
    0..47, correlated noise (Gaussian filter of width 2, scale 0.25) where the signal is zero, white
    noise 0.02, shear +- 0.375 over the signal, resampling to ``length`` points."""
    from scipy.ndimage import gaussian_filter1d

    tmpl = _TEMPLATES - _TEMPLATES.mean(axis=1, keepdims=True)
    tmpl /= tmpl.std(axis=1, keepdims=True)
    tmpl = (tmpl - tmpl[:, :1]) / 6.0 + 1e-8  # starts and ends at 0; eps marks the signal
    out = np.empty((labels.size, length))
    for n, lab in enumerate(labels):
        x = np.concatenate([tmpl[lab], np.zeros(int(rng.integers(36, 61)))])
        x = _resample(x, 72) * (1 + 0.4 * (rng.random() - 0.5))
        k = int(rng.integers(0, 48))
        x = np.roll(x, k)
        noise = gaussian_filter1d(0.25 * rng.standard_normal(x.size), 2.0)
        x = np.where(x != 0, x, noise) + 0.02 * rng.standard_normal(x.size)
        x = x - 0.75 * (rng.random() - 0.5) * np.linspace(-0.5, 0.5, x.size)
        out[n] = _resample(x, length)
    return out


def mnist1d(n: int = 5000, *, validation: float = 0.1, test: float = 0.2, seed=0) -> Split:
    """MNIST-1D (Greydanus 2020) generated with a seeded generator: ``n`` signals of 40 points, balanced classes.

    Features are standardised with the training part's mean and standard deviation, then mapped to
    [0, 1] by the training range (so rate-coded networks can read them like pixels).
    """
    if not (isinstance(n, (int, np.integer)) and n >= 10):
        raise ValueError(f"n must be an integer >= 10, got {n!r}")
    rng = np.random.default_rng(seed)
    labels = rng.permutation(np.arange(n) % 10)
    x = _mnist1d_samples(labels, rng)
    split = _three_way("mnist1d", x, labels.astype(np.int64), validation, test, rng)
    lo, hi = split.x_train.min(axis=0), split.x_train.max(axis=0)

    def scale(a):
        return np.clip((a - lo) / (hi - lo), 0, 1).astype(np.float32)

    return Split("mnist1d", scale(split.x_train), split.y_train, scale(split.x_val), split.y_val,
                 scale(split.x_test), split.y_test)


#: Loaders by name, for :func:`load` and the search specs.
DATASETS = {"fashion-mnist": fashion_mnist, "digits": digits, "mnist1d": mnist1d}


def load(name: str, **kwargs) -> Split:
    """A dataset by name: ``"fashion-mnist"``, ``"digits"``, ``"mnist1d"`` (``"mnist"`` needs ``path=``).

    Examples
    --------
    >>> load("mnist1d", n=200, seed=1).x_train.shape
    (140, 40)
    """
    if name == "mnist":
        return mnist(**kwargs)
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; choose from {sorted(DATASETS) + ['mnist']}")
    return DATASETS[name](**kwargs)
