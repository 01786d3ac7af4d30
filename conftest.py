"""Test-session settings shared by tests/ and the doctests in memsim/."""

import os
import sys

import pytest

os.environ.setdefault("MPLBACKEND", "Agg")  # no display in CI


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close("all")
