"""The ``memsim`` command line: the main job runs, bad input gives one line and exit 2."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from memsim.cli import main


def test_simulate_default_writes_summary_and_figure(tmp_path, capsys):
    out = tmp_path / "sim.png"
    assert main(["simulate", "--duration", "0.5", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "16 edges" in text and "steps" in text and "figure written" in text
    assert out.stat().st_size > 10_000  # a real PNG with three panels


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["simulate", "--dt", "-1"], "--dt"),
        (["simulate", "--dt", "nan"], "--dt"),
        (["simulate", "--layers", "2,x"], "--layers"),
        (["simulate", "--layers", "3"], "--layers"),
        (["simulate", "--device", "nonsense"], "--device"),
        (["simulate", "--duration", "0"], "--duration"),
        (["frobnicate"], "invalid choice"),
        ([], "command"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(argv, needle, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip()
    assert needle in err and "\n" not in err and "Traceback" not in err


def test_unwritable_output_is_a_one_line_error(tmp_path, capsys):
    rc = main(["simulate", "--duration", "0.01", "--out", str(tmp_path / "missing" / "x.png")])
    assert rc == 2
    err = capsys.readouterr().err.strip()
    assert "No such file" in err and "\n" not in err


def test_console_script_help_has_an_example():
    env = dict(os.environ, MPLBACKEND="Agg")
    proc = subprocess.run([sys.executable, "-m", "memsim.cli", "simulate", "--help"],
                          capture_output=True, text=True, env=env, check=True)
    assert "example: memsim simulate" in proc.stdout
