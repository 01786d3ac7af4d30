"""Tracebacks the CLI used to print (issue 13): each is now one line naming the option, exit 2."""

from __future__ import annotations

import networkx as nx
import pytest

from memsim import Network, layered
from memsim.circuit.io import write_network
from memsim.cli import main


def _run(argv):
    """(exit status, stderr-free?) of main, argparse exits included."""
    try:
        return main(argv)
    except SystemExit as exc:
        return exc.code


def _one_line_error(capsys, *needles):
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "Traceback" not in err, err
    for needle in needles:
        assert needle in err, (needle, err)
    return err


@pytest.mark.parametrize(
    ("argv", "needles"),
    [
        (["simulate", "--dt", "1e-300"], ["--dt", "more than --max-steps"]),  # was a numba TypingError
        (["simulate", "--duration", "1e300"], ["--duration", "more than --max-steps"]),  # idem
        (["train", "--c2c", "1e308", "--copies", "1"], ["c2c"]),  # was OverflowError
        (["simulate", "--seed", "-1"], ["--seed"]),  # the message did not name --seed
        (["simulate", "--layers", "100000,100000"], ["--layers", "10,000,000,000 devices"]),
        (["demo", "--device", "hp", "--copies", "1"], ["hp", "--punish-duration"]),
        (["demo", "--device", "gms", "--copies", "1"], ["gms", "--punish-voltage"]),
        (["train", "--device", "ctdv", "--copies", "1"], ["ctdv", "--normalise-duration"]),
    ],
)
def test_former_tracebacks_are_one_line_exit_2(argv, needles, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert _run(argv) == 2
    _one_line_error(capsys, *needles)


def test_export_spice_without_inputs(tmp_path, capsys):
    g = nx.DiGraph()
    g.add_node("a", role="bulk")
    g.add_edge("a", "b")
    path = tmp_path / "noin.json"
    write_network(Network.from_graph(g), path)
    assert _run(["export-spice", "--network", str(path), "--out", str(tmp_path / "x.cir")]) == 2  # was IndexError
    _one_line_error(capsys, "no node with role 'input'")


def test_resistors_only_network_simulates(tmp_path, capsys):
    g = layered([2, 2])
    for _, _, d in g.edges(data=True):
        d["resistance"] = 100.0
    path = tmp_path / "res.json"
    write_network(Network.from_graph(g), path)
    # was "zero-size array to reduction operation" after simulating
    assert _run(["simulate", "--network", str(path), "--duration", "0.01", "--out", str(tmp_path / "a.png")]) == 0
    assert "no memristors in the network" in capsys.readouterr().out


def test_amplitude_overflow_is_not_reported_as_success(tmp_path, capsys):
    assert _run(["simulate", "--amplitude", "1e308", "--duration", "0.01", "--out", str(tmp_path / "a.png")]) == 2
    _one_line_error(capsys, "non-finite energy", "--amplitude")


def test_aliasing_warning_is_one_line(tmp_path, capsys):
    assert _run(["simulate", "--frequency", "1e6", "--duration", "0.01", "--out", str(tmp_path / "a.png")]) == 0
    _one_line_error(capsys, "warning", "under-resolves")


@pytest.fixture
def table(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("a,b,c\n1,x,1\n2,y,2\n1,z,3\n")
    return path


def test_plot_non_numeric_value(table, capsys):
    assert _run(["plot", str(table), "--x", "a", "--value", "b", "--out", str(table.with_suffix(".png"))]) == 2
    _one_line_error(capsys, "--value", "'b' holds no numbers")  # was a TypeError traceback


def test_plot_same_axis_twice(table, capsys):
    assert _run(["plot", str(table), "--x", "a", "--y", "a", "--value", "c",
                 "--out", str(table.with_suffix(".png"))]) == 2
    _one_line_error(capsys, "--x and --y")


def test_deep_json_network(tmp_path, capsys):
    path = tmp_path / "deep.json"
    path.write_text("[" * 1000 + "]" * 1000)
    assert _run(["simulate", "--network", str(path)]) == 2  # was RecursionError
    _one_line_error(capsys, "nested more than 64 levels")


def test_internal_errors_are_one_line(monkeypatch, capsys):
    import memsim.cli as cli

    def boom(args):
        raise ZeroDivisionError("bug")

    parser = cli.build_parser()
    monkeypatch.setattr(cli, "build_parser", lambda: parser)
    parser._subparsers._group_actions[0].choices["plot"].set_defaults(func=boom)
    assert main(["plot", "r", "--x", "a", "--value", "b"]) == 1
    _one_line_error(capsys, "internal error: ZeroDivisionError: bug", "MEMSIM_DEBUG")
