"""The experiment scripts run in their --quick mode and write their CSV and PNG files."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[2] / "experiments"


def _load(name: str):
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))  # as when run as a script: `import _common` finds experiments/
    spec = importlib.util.spec_from_file_location(f"experiments_{name}", ROOT / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # dataclasses look their module up while the class is built
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.parametrize(
    ("name", "files"),
    [
        ("lfm_paper_242", ("presentations.csv", "summary.csv", "power.png")),
        ("chialvo_bak_scaling", ("summary.csv", "runs.csv", "learning_time.png")),
        pytest.param("lfm_success", ("summary.csv", "runs.csv", "success.png"), marks=pytest.mark.slow),
        pytest.param("lfm_size", ("summary.csv", "success_vs_size.png"), marks=pytest.mark.slow),
    ],
)
def test_quick_mode_writes_results(name, files, tmp_path, capsys):
    mod = _load(name)
    assert mod.main(["--quick", "--out", str(tmp_path)]) == 0
    folder = tmp_path / mod.NAME
    for f in files:
        assert (folder / f).stat().st_size > 0
    summary = pd.read_csv(folder / "summary.csv")
    assert len(summary) > 0
    assert mod.NAME in capsys.readouterr().out
