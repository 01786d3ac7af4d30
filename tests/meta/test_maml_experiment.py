"""experiments/maml_double_digits.py runs in quick mode (under a minute) and writes its tables and verdicts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("jax", reason='the experiment needs the extra: pip install "memsim[jax]"')
pytest.importorskip("sklearn", reason='the digits tasks need scikit-learn: pip install "memsim[jax]"')


def test_quick_run_writes_tables_figure_and_claims(tmp_path, capsys, load_experiment):
    mod = load_experiment("maml_double_digits")
    assert mod.main(["--quick", "--out", str(tmp_path)]) == 0
    folder = tmp_path / "maml_double_digits"
    for f in ("accuracy.csv", "bits.csv", "noise.csv", "adaptation.csv", "training.csv", "episodes.csv", "maml.png"):
        assert (folder / f).stat().st_size > 0, f
    acc = pd.read_csv(folder / "accuracy.csv")
    assert {"snn", "ann", "snn-random-init", "chance"} <= set(acc["model"])
    assert np.all((acc["ci_lo"] <= acc["accuracy"]) & (acc["accuracy"] <= acc["ci_hi"]))
    out = capsys.readouterr().out
    assert out.count("claim ") == 3 and "SUPPORTED" in out


def test_ci95_is_the_normal_interval(load_experiment):
    mod = load_experiment("maml_double_digits")
    m, lo, hi = mod.ci95([0.0, 1.0, 0.0, 1.0])
    # closed form: mean 0.5, sample sd = sqrt(1/3), half width 1.96 sqrt(1/3) / 2
    half = 1.96 * np.sqrt(1 / 3) / 2
    assert m == 0.5 and abs(lo - (0.5 - half)) < 1e-12 and abs(hi - (0.5 + half)) < 1e-12
