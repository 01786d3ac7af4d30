"""The rule-search experiment runs in quick mode, writes its tables and figure and prints verdicts."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pandas as pd
import pytest

EXPERIMENTS = Path(__file__).resolve().parent.parent / "experiments"


def load(name: str):
    """Import ``experiments/<name>.py`` as the script would run (``_common`` on the path)."""
    if name in sys.modules:
        return sys.modules[name]
    if str(EXPERIMENTS) not in sys.path:
        sys.path.insert(0, str(EXPERIMENTS))
    spec = importlib.util.spec_from_file_location(name, EXPERIMENTS / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod

pytest.importorskip("deephyper", reason="the rule search needs the 'search' extra (DeepHyper)")


def test_rule_search_quick(tmp_path, capsys):
    mod = load("rule_search")
    assert mod.main(["--quick", "--out", str(tmp_path)]) == 0
    folder = tmp_path / "rule_search"
    ev = pd.read_csv(folder / "evaluations.csv")
    q = mod.QUICK
    assert len(ev) == 2 * q.budget * len(q.datasets) * len(q.devices)  # both methods, every search
    rules = pd.read_csv(folder / "rules.csv")
    assert (rules["low"] <= rules["mean"]).all() and (rules["mean"] <= rules["high"]).all()
    winners = pd.read_csv(folder / "winners.csv")
    assert len(winners) == len(q.datasets) * len(q.devices)
    assert all(isinstance(json.loads(c), dict) for c in winners["config"])
    assert (folder / "rule_search.png").stat().st_size > 0
    out = capsys.readouterr().out
    assert out.count("claim ") == 4 and "Welch" in out
