"""The rule-search experiment runs in quick mode, writes its tables and figure and prints verdicts."""

from __future__ import annotations

import json

import pandas as pd
import pytest

pytest.importorskip("deephyper", reason="the rule search needs the 'search' extra (DeepHyper)")


def test_rule_search_quick(tmp_path, capsys, load_experiment):
    mod = load_experiment("rule_search")
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
