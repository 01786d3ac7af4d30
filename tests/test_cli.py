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


# ------------------------------------------------------------------ learning: demo and train
def test_demo_trains_the_paper_network_and_writes_the_figure(tmp_path, capsys):
    out = tmp_path / "demo.png"
    assert main(["demo", "--copies", "3", "--no-progress", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "memsim demo" in text and "16 edges" in text and "association 0->0 1->1" in text
    assert "learned: 3/3 copies" in text and "figure written" in text
    assert out.stat().st_size > 10_000


def test_train_with_a_task_spec_writes_history(tmp_path, capsys):
    csv = tmp_path / "h.csv"
    rc = main(["train", "--layers", "2,4,2", "--task", "association:1,0", "--copies", "2", "--max-eras", "5",
               "--no-progress", "--csv", str(csv)])
    assert rc == 0
    text = capsys.readouterr().out
    assert "association 0->1 1->0" in text and "presentations written" in text
    header = csv.read_text().splitlines()[0]
    assert header.startswith("copy,era,slot,n,pattern,target,answer,correct,margin")


def test_train_shows_a_progress_bar(capsys):
    assert main(["train", "--task", "association:0,0", "--copies", "1", "--max-eras", "2"]) == 0
    assert "train" in capsys.readouterr().err  # tqdm writes to stderr


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["train", "--task", "xor"], "unknown kind"),
        (["train", "--task", "boolean:implies"], "function"),
        (["train", "--task", "parity:2"], "needs 3 inputs"),
        (["train", "--layers", "3,4,2", "--task", "association:0,1"], "needs 2 inputs"),
        (["train", "--task", "association:0,x"], "--task"),
        (["train", "--task", "random:9"], "p = 9"),
        (["train", "--prune-fraction", "1.5", "--max-eras", "1"], "fraction"),
    ],
)
def test_train_bad_task_is_a_one_line_error(argv, needle, capsys):
    assert main(argv + ["--no-progress"]) == 2
    err = capsys.readouterr().err.strip()
    assert needle in err and "\n" not in err and "Traceback" not in err


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["train", "--copies", "0"], "--copies"),
        (["train", "--punish-voltage", "-1"], "--punish-voltage"),
        (["train", "--normalise-duration", "nan"], "--normalise-duration"),
        (["train", "--order", "random"], "--order"),
        (["demo", "--dt", "0"], "--dt"),
        (["demo", "--max-eras", "x"], "--max-eras"),
    ],
)
def test_train_and_demo_bad_arguments_exit_2(argv, needle, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip()
    assert needle in err and "\n" not in err


@pytest.mark.parametrize("command", ["demo", "train"])
def test_learning_commands_help_has_examples(command):
    env = dict(os.environ, MPLBACKEND="Agg")
    proc = subprocess.run([sys.executable, "-m", "memsim.cli", command, "--help"],
                          capture_output=True, text=True, env=env, check=True)
    assert f"memsim {command} --" in proc.stdout
