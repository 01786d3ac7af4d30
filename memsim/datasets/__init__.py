"""Offline datasets, generated or read from local files and packages; nothing is downloaded.

- :mod:`~memsim.datasets.images`: Fashion-MNIST (Debian package), MNIST (user files),
  scikit-learn's 8 x 8 digits, MNIST-1D (generated).
- :mod:`~memsim.datasets.yinyang`: the Yin-Yang dataset (Kriener, Göltz & Petrovici 2021).
- :mod:`~memsim.datasets.fewshot`: "double" few-shot tasks (two images side by side) and a seeded
  N-way K-shot episode sampler; :mod:`~memsim.datasets.events`: event streams by simulated saccades.
"""

from memsim.datasets.images import DATASETS, Split, digits, fashion_mnist, load, mnist, mnist1d, read_idx
from memsim.datasets.yinyang import yinyang, yinyang_classes, yinyang_splits

__all__ = ["Split", "DATASETS", "load", "fashion_mnist", "mnist", "digits", "mnist1d", "read_idx",
           "yinyang", "yinyang_classes", "yinyang_splits"]
