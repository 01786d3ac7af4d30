"""Test-session settings shared by tests/ and the doctests in memsim/."""

import importlib.util
import os
import sys
from pathlib import Path

import pytest

os.environ.setdefault("MPLBACKEND", "Agg")  # no display in CI


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close("all")


EXPERIMENTS = Path(__file__).resolve().parent / "experiments"


def _load_experiment(name: str):
    """Import ``experiments/<name>.py`` as the script runs (``experiments/`` on the path for ``_common``)."""
    if name in sys.modules:
        return sys.modules[name]
    if str(EXPERIMENTS) not in sys.path:
        sys.path.insert(0, str(EXPERIMENTS))
    spec = importlib.util.spec_from_file_location(name, EXPERIMENTS / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod  # dataclasses resolve their module through sys.modules
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture
def load_experiment():
    """The loader of the experiment scripts: ``load_experiment("rule_search")`` is the module."""
    return _load_experiment
