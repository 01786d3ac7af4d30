"""Offline datasets, generated or read from local files and packages; nothing is downloaded.

- :mod:`~memsim.datasets.images`: Fashion-MNIST (Debian package), MNIST (user files),
  scikit-learn's 8 x 8 digits, MNIST-1D (generated).
"""

from memsim.datasets.images import DATASETS, Split, digits, fashion_mnist, load, mnist, mnist1d, read_idx

__all__ = ["Split", "DATASETS", "load", "fashion_mnist", "mnist", "digits", "mnist1d", "read_idx"]
