"""The ``memsim`` command line: the main job runs, bad input gives one line and exit 2."""

from __future__ import annotations

import os
import subprocess
import sys
from contextlib import nullcontext as _nullcontext

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


SWEEP_TOML = """
name = "cli-sweep"
function = "memsim.sweep.tasks:transient"

[defaults]
topology = "layered"
sizes = [2, 2, 1]
device = "HP_TIO2_JOGLEKAR"
duration = 0.05
dt = 0.01

[[space]]
kind = "grid"
axes = { amplitude = [0.5, 1.0], frequency = [1.0, 2.0], seed = [0, 1] }
"""


def test_sweep_then_plot_and_resume(tmp_path, capsys):
    spec = tmp_path / "sweep.toml"
    spec.write_text(SWEEP_TOML)
    out = tmp_path / "res"
    assert main(["sweep", str(spec), "--workers", "1", "--out", str(out), "--no-progress"]) == 0
    assert "8 points (8 ok, 0 failed)" in capsys.readouterr().out
    # a rerun skips every completed point and returns the same table
    assert main(["sweep", str(spec), "--workers", "1", "--out", str(out), "--no-progress"]) == 0
    assert "8 points (8 ok" in capsys.readouterr().out
    png = tmp_path / "map.png"
    assert main(["plot", str(out), "--x", "amplitude", "--y", "frequency", "--value", "energy", "--out", str(png)]) == 0
    assert png.stat().st_size > 5_000
    assert main(["plot", str(out), "--x", "amplitude", "--value", "nope"]) == 2
    assert "'nope'" in capsys.readouterr().err


def test_sweep_bad_spec_is_one_line(tmp_path, capsys):
    spec = tmp_path / "bad.toml"
    spec.write_text('name = "x"\nfunction = ')
    assert main(["sweep", str(spec), "--workers", "1", "--no-progress"]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "Traceback" not in err
    assert main(["sweep", str(tmp_path / "missing.toml")]) == 2


def test_analysis_and_export_commands(tmp_path, capsys):
    assert main(["controllability", "--layers", "2,3,2", "--out", str(tmp_path / "s.png")]) == 0
    out = capsys.readouterr().out
    assert "rank" in out and (tmp_path / "s.png").exists()
    assert main(["capacity", "--layers", "2,3,2", "--device", "hp"]) == 0
    assert "input-output response rank" in capsys.readouterr().out
    cir = tmp_path / "n.cir"
    assert main(["export-spice", "--duration", "0.01", "--dt", "0.001", "--out", str(cir)]) == 0
    assert ".tran" in cir.read_text()


def test_empirical_capacity_command(tmp_path, capsys):
    csv = tmp_path / "cap.csv"
    # 2-2 layer: every one-input association is learnable (see tests/analysis/test_capacity_empirical.py)
    assert main(["capacity", "--layers", "2,2", "--empirical", "--tasks", "association", "--n-sets", "2",
                 "--copies", "1", "--max-eras", "10", "--csv", str(csv), "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "empirical (association pattern sets" in out and "capacity 2" in out
    assert "p = 2: P(learned) = 1.00" in out
    import pandas as pd

    assert pd.read_csv(csv)["probability"].tolist() == [1.0, 1.0]
    for bad, field in ((["--threshold", "2"], "threshold"), (["--n-sets", "0"], "--n-sets")):
        with pytest.raises(SystemExit) if field.startswith("--") else _nullcontext():
            code = main(["capacity", "--layers", "2,2", "--empirical", "--no-progress", *bad])
            assert code == 2
        err = capsys.readouterr().err
        assert field in err and "Traceback" not in err
    assert main(["capacity", "--layers", "2,1", "--empirical"]) == 2
    assert "2 outputs" in capsys.readouterr().err


def test_simulate_reads_a_network_file(tmp_path, capsys):
    from memsim import LinearIonDrift, Network, layered
    from memsim.circuit.io import write_network

    path = tmp_path / "net.json"
    write_network(Network.from_graph(layered([2, 2, 1]), LinearIonDrift(), x0=0.4), path)
    assert main(["simulate", "--network", str(path), "--duration", "0.05", "--dt", "0.01",
                 "--out", str(tmp_path / "s.png")]) == 0
    assert "net.json" in capsys.readouterr().out
    assert main(["simulate", "--network", str(tmp_path / "none.json")]) == 2


def test_import_memsim_is_lazy():
    # `import memsim` must not pull numba, scipy or pandas in (issue 12: cold start); the public
    # names still resolve, on first use. Checked in a fresh interpreter.
    import subprocess
    import sys

    code = ("import sys, memsim; heavy = [m for m in ('numba', 'scipy', 'pandas') if m in sys.modules]; "
            "print(heavy); assert not heavy; assert memsim.Network.__name__ == 'Network'; "
            "assert memsim.arrays.SynapseArray.__name__ == 'SynapseArray'; "
            "assert set(memsim.__all__) <= set(dir(memsim))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr


def test_parser_and_help_do_not_import_the_numerical_stack():
    # Issue 12 (cold start): building the parser and printing every command's --help must not import
    # numpy, numba, scipy, pandas or matplotlib (they cost ~1 s; the commands import them when they run).
    # A deterministic check of sys.modules in a fresh interpreter, not a timing.
    code = (
        "import contextlib, io, sys\n"
        "import memsim.cli as cli\n"
        "parser = cli.build_parser()\n"
        "commands = list(parser._subparsers._group_actions[0].choices)\n"
        "assert len(commands) >= 9, commands\n"
        "for argv in [['--help']] + [[c, '--help'] for c in commands]:\n"
        "    with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):\n"
        "        cli.main(argv)\n"
        "heavy = sorted({m.split('.')[0] for m in sys.modules} & {'numpy', 'numba', 'scipy', 'pandas', 'matplotlib'})\n"
        "assert not heavy, heavy\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr


def test_demo_without_figure_imports_neither_pandas_nor_matplotlib(tmp_path):
    # Issue 12 (warm demo <= 1 s): the training job and its summary need numpy, numba and networkx
    # only; pandas (~0.25 s) and matplotlib (~0.8 s with the figure) come with --csv and the figure.
    # A deterministic check of sys.modules in a fresh interpreter, not a timing.
    code = (
        "import sys\n"
        "import memsim.cli as cli\n"
        "assert cli.main(['demo', '--copies', '2', '--max-eras', '3', '--no-progress', '--no-figure']) == 0\n"
        "heavy = sorted({m.split('.')[0] for m in sys.modules} & {'pandas', 'matplotlib'})\n"
        "assert not heavy, heavy\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "learned:" in out.stdout and "figure written" not in out.stdout
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("command", ["demo", "train"])
def test_cli_defaults_are_the_controller_defaults(command, capsys):
    # The learning options' defaults (parsed and shown by --help) must be those of Pulses() and
    # Controller() as the training code sees them (memsim.learning.lfm / .inhibition re-export them
    # from memsim.learning.config): the CLI reads them from the dataclasses, never a copy.
    from memsim.cli import build_parser
    from memsim.learning.inhibition import Pulses
    from memsim.learning.lfm import Controller

    pulses, controller = Pulses(), Controller()
    args = build_parser().parse_args([command])
    expected = {name: getattr(pulses, name) for name in ("read_voltage", "punish_voltage", "punish_duration",
                                                         "normalise_voltage", "normalise_duration", "dt",
                                                         "idle_inputs")}
    expected.update({name: getattr(controller, name) for name in ("order", "stop_after", "max_eras")})
    assert {name: getattr(args, name) for name in expected} == expected
    assert controller.pulses == pulses
    if command == "demo":  # demo's help shows the defaults (ArgumentDefaultsHelpFormatter)
        with pytest.raises(SystemExit):
            main([command, "--help"])
        shown = " ".join(capsys.readouterr().out.split())
        for name, value in expected.items():  # the first "(default: ...)" after the option is its own
            after = shown.split(f" --{name.replace('_', '-')} ", 1)[1]
            assert after.split("(default: ", 1)[1].startswith(f"{value})"), name
