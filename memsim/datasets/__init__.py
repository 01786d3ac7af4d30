"""Offline datasets, generated or read from local files; nothing is downloaded.

- :mod:`~memsim.datasets.yinyang`: the Yin-Yang dataset (Kriener, Göltz & Petrovici 2021).
"""

from memsim.datasets.yinyang import yinyang, yinyang_classes, yinyang_splits

__all__ = ["yinyang", "yinyang_classes", "yinyang_splits"]
