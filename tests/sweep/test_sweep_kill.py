"""A sweep killed with SIGKILL loses only points in flight; a rerun completes it exactly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest
import sweep_points as sp

from memsim.sweep import run
from memsim.sweep.store import read_parts

HERE = Path(__file__).resolve().parent

pytestmark = pytest.mark.skipif(not hasattr(os, "killpg"), reason="needs POSIX process groups (os.killpg)")


def _numbers(df):
    return df.drop(columns=[c for c in df.columns if c.endswith("wall_s")])


def test_sigkill_mid_sweep_then_resume_loses_and_duplicates_nothing(tmp_path):
    out = tmp_path / "results"
    space = sp.space(n_a=5, n_b=4)  # 20 points, 0.2 s each on 2 workers: ~2 s of work
    script = tmp_path / "sweep.py"
    script.write_text(textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(HERE)!r})
        import sweep_points as sp
        from memsim.sweep import run
        if __name__ == "__main__":
            run(sp.noisy, sp.space(n_a=5, n_b=4), {str(out)!r}, workers=2, progress=False)
    """))
    env = dict(os.environ, SWEEP_POINTS_SLEEP="0.2")
    # its own session: the kill reaches the sweep, its fork server and its workers, as a kill of a job would
    proc = subprocess.Popen([sys.executable, str(script)], env=env, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60.0
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            if out.is_dir() and len(list(out.glob("part-*.parquet"))) >= 4:
                break
            time.sleep(0.02)
        assert proc.poll() is None, f"the sweep ended before it was killed: {proc.stderr.read().decode()[-2000:]}"
        os.killpg(proc.pid, signal.SIGKILL)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        proc.stderr.close()
    time.sleep(0.1)
    killed = read_parts(out)
    assert 4 <= len(killed) < len(space)  # killed mid-way
    assert killed["point_id"].is_unique
    assert killed["status"].isin(["ok", "error"]).all() and killed["y"][killed["status"] == "ok"].notna().all()

    resumed = run(sp.noisy, space, out, workers=1, progress=False)  # no sleep in this process
    raw = read_parts(out)
    assert len(raw) == len(space) and raw["point_id"].is_unique  # nothing lost, nothing run twice
    assert set(killed["point_id"]) <= set(raw["point_id"])
    reference = run(sp.noisy, space, workers=1, progress=False)  # uninterrupted, in memory
    pd.testing.assert_frame_equal(_numbers(resumed), _numbers(reference))
