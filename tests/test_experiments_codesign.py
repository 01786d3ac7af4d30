"""The co-design experiments run in quick mode and write their tables and figures; their helpers."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

EXPERIMENTS = Path(__file__).resolve().parent.parent / "experiments"


def load(name: str):
    """Import ``experiments/<name>.py`` (not a package) as a module."""
    if name in sys.modules:
        return sys.modules[name]
    if str(EXPERIMENTS) not in sys.path:
        sys.path.insert(0, str(EXPERIMENTS))  # as when run as a script: `import _common` finds experiments/
    spec = importlib.util.spec_from_file_location(name, EXPERIMENTS / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod  # dataclasses resolve their module through sys.modules
    spec.loader.exec_module(mod)
    return mod


OUTPUTS = {
    "codesign_depth": ("summary.csv", "capacity.csv", "controllability.csv", "depth.png"),
    "codesign_size": ("summary.csv", "capacity.csv", "size.png"),
    "codesign_symmetry": ("runs.csv", "tests.csv", "symmetry.png"),
    "codesign_contrast": ("runs.csv", "conductances.csv", "summary.csv", "contrast.png"),
    "codesign_networks": ("summary.csv", "capacity.csv", "networks.png"),
    "codesign_search": ("evaluations.csv", "rescored.csv", "codesign_search.png"),
    "codesign_hardware": ("search.csv", "pulses.csv", "runs.csv", "summary.csv", "mechanism.csv", "cycles.csv",
                          "hardware.png"),
}


@pytest.mark.parametrize("name", sorted(OUTPUTS))
def test_quick_run_writes_csv_png_and_a_verdict(name, tmp_path, capsys):
    mod = load(name)
    assert "Claim" in mod.__doc__ or "claim" in mod.__doc__
    assert mod.main(["--quick", "--out", str(tmp_path)]) == 0
    folder = tmp_path / name
    for f in OUTPUTS[name]:
        assert (folder / f).stat().st_size > 0, f
    for f in OUTPUTS[name]:
        if f.endswith(".csv"):
            assert len(pd.read_csv(folder / f)) > 0, f
    out = capsys.readouterr().out
    assert "claim" in out and "SUPPORTED" in out


def test_depth_layers_keep_the_budget():
    mod = load("codesign_depth")
    assert mod.layers_for(1, 48) == [2, 12, 2]
    assert mod.layers_for(3, 48) == [2, 4, 4, 4, 2]  # 8 + 16 + 16 + 8 = 48 devices
    assert mod.layers_for(2, 24) == [2, 3, 3, 2]  # 21 devices; width 4 would give 32


def test_size_loglinear_fit_recovers_an_exponential():
    mod = load("codesign_size")
    x = np.array([8.0, 16, 32, 64])
    slope, r2 = mod._loglinear(x, 3.0 * np.exp(-0.05 * x))
    assert slope == pytest.approx(-0.05, rel=1e-9) and r2 == pytest.approx(1.0, abs=1e-12)


def test_symmetry_helpers():
    mod = load("codesign_symmetry")
    mask = np.zeros(16, dtype=bool)
    mask[[0, 5]] = True
    g = mod.pruned_graph((2, 4, 2), mask)
    assert g.number_of_edges() == 14
    assert sorted(i for _, _, i in g.edges(data="index")) == [i for i in range(16) if i not in (0, 5)]


def test_contrast_threshold_and_cv():
    mod = load("codesign_contrast")
    from memsim import VTEAM

    assert mod.prune_threshold(VTEAM(), 1.0) == pytest.approx(1 / 50.0)
    assert mod.prune_threshold(VTEAM(), 0.0) == pytest.approx(1 / 1000.0)
    assert mod.coefficient_of_variation(np.array([1.0, 1.0])) == 0.0
    assert mod.coefficient_of_variation(np.array([0.0, 2.0])) == pytest.approx(1.0)


def test_common_mann_whitney_and_claim_line():
    common = load("_common")
    assert common.mann_whitney_greater([1, 1], [1, 1]) == (2.0, 1.0)  # no evidence either way
    # complete separation of 4 vs 4: U = 16, exact one-sided p = 1 / C(8, 4) = 1/70
    u, p = common.mann_whitney_greater([5, 6, 7, 8], [1, 2, 3, 4])
    assert u == 16.0 and p == pytest.approx(1 / 70, rel=1e-12)
    assert common.mann_whitney_greater([1, 2, 3, 4], [5, 6, 7, 8])[1] > 0.5
    assert common.claim_line("(x)", False, "y") == "claim (x): NOT SUPPORTED by memsim's numbers: y"


def test_common_main_writes_tables_before_the_figure(tmp_path):
    common = load("_common")

    def bad_figure(res, cfg):
        raise RuntimeError("plotting failed")

    with pytest.raises(RuntimeError, match="plotting"):
        common.main(["--out", str(tmp_path)], doc="t", name="demo", full=1, quick=0,
                    run=lambda cfg: {"table": pd.DataFrame({"cfg": [cfg]})}, figure=bad_figure,
                    figure_file="f.png", report=print)
    assert pd.read_csv(tmp_path / "demo" / "table.csv")["cfg"].tolist() == [1]  # no result lost
    with pytest.raises(SystemExit):
        common.main(["--bogus"], doc="t", name="demo", full=1, quick=0, run=None, figure=None,
                    figure_file="f.png", report=print)
