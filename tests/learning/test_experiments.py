"""The experiment scripts run in their --quick mode and write their CSV and PNG files."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
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


def test_chialvo_bak_scaling_fit_recovers_a_known_exponent():
    # Reference: times generated as c * N**1.4 (closed form). Noiseless: the log-log least-squares slope,
    # every bootstrap slope and every local slope are 1.4 to rounding (1e-12). With log-normal noise
    # (sigma 0.3, 200 networks per size) the median's log has sd ~ 1.25 * 0.3 / sqrt(200) = 0.027 per
    # size, so the slope over N = 4..256 has sd ~ 0.01: 0.05 is five of them, and the 95 % bootstrap CI
    # (a fixed seed) contains 1.4.
    mod = _load("chialvo_bak_scaling")
    sizes = np.array([4, 8, 16, 32, 64, 128, 256])
    exact = mod.fit(sizes, [np.full(7, 3.0 * s**1.4) for s in sizes], 50, 0)
    np.testing.assert_allclose([exact["k"], *exact["k_boot"], *exact["local"]], 1.4, rtol=0, atol=1e-12)
    rng = np.random.default_rng(1)
    noisy = mod.fit(sizes, [3.0 * s**1.4 * rng.lognormal(0.0, 0.3, 200) for s in sizes], 1000, 2)
    lo, hi = np.percentile(noisy["k_boot"], [2.5, 97.5])
    assert abs(noisy["k"] - 1.4) < 0.05 and lo < 1.4 < hi and hi - lo < 0.1
    # the verdict's test: the CI must meet [1.3, 1.5] and be no wider than it
    assert mod.verdict(1.51, 1.6, 0.1) == "inconsistent" and mod.verdict(1.1, 1.29, 0.1) == "inconsistent"
    assert mod.verdict(1.2, 1.35, 0.1) == "consistent" and mod.verdict(1.0, 1.45, 0.1) == "inconclusive"
