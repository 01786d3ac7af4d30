"""Sweep specs are data (issue 13): only registered tasks run, names are slugs, sizes are bounded."""

import sys

import pytest

from memsim.cli import main
from memsim.sweep import Grid, RandomSpace, Sweep, load_sweep, register_task, registered_tasks, resolve_task, run
from memsim.sweep import spec as spec_mod
from memsim.sweep.tasks import transient

SHELL_SPEC = """
name = "x"
function = "subprocess:run"
[defaults]
args = ["sh", "-c", "touch {marker}"]
[space]
kind = "list"
points = [{{ check = false }}]
"""


def test_spec_cannot_run_a_shell_command(tmp_path, capsys):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.toml"
    path.write_text(SHELL_SPEC.format(marker=marker))
    with pytest.raises(ValueError, match="'subprocess:run' is not a registered task"):
        load_sweep(path)
    assert main(["sweep", str(path), "--workers", "1", "--no-progress", "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "not a registered task" in err
    assert not marker.exists()


def test_spec_cannot_import_a_module(tmp_path):
    path = tmp_path / "this.toml"
    path.write_text('function = "this:x"\n[space]\nkind = "grid"\naxes = {a = [1]}\n')
    had_this = "this" in sys.modules
    with pytest.raises(ValueError, match="not a registered task"):
        load_sweep(path)
    assert had_this or "this" not in sys.modules  # the module was never imported


def test_registered_tasks_run_from_a_spec(tmp_path):
    def triple(point):
        return {"y": 3 * point["x"]}

    register_task("triple-test", triple, replace=True)
    assert "triple-test" in registered_tasks()
    path = tmp_path / "t.toml"
    path.write_text('name = "t"\nfunction = "triple-test"\n[space]\nkind = "grid"\naxes = {x = [1, 2]}\n')
    sw = load_sweep(path)
    assert sw.function is triple
    assert sw.run(None, workers=1, progress=False)["y"].tolist() == [3, 6]
    with pytest.raises(ValueError, match="already registered"):
        register_task("triple-test", lambda p: p)
    with pytest.raises(ValueError, match="built-in"):
        register_task("transient", triple)
    with pytest.raises(ValueError, match="task name"):
        register_task("a:b", triple)


def test_entry_point_tasks(monkeypatch):
    class EP:
        name, value = "from-package", "memsim.sweep.tasks:transient"

        def load(self):
            return transient

    monkeypatch.setattr(spec_mod, "_entry_points", lambda: {"from-package": EP()})
    assert resolve_task("from-package") is transient
    assert "from-package" in registered_tasks()


def test_builtin_references_still_work_and_python_may_name_any_function():
    assert resolve_task("memsim.sweep.tasks:transient") is transient  # older spec files
    assert resolve_task("transient") is transient
    # from Python code, an arbitrary module:function is allowed (the caller already runs code)
    sw = Sweep("math:sqrt", Grid({"x": [1]}))
    assert sw.function.__name__ == "sqrt"


@pytest.mark.parametrize("name", ["../../x", "/tmp/abs", "a/b", "..", ".", "", "a b", "x\n", "-rf"])
def test_names_are_slugs(tmp_path, name):
    with pytest.raises(ValueError, match="slug"):
        Sweep(transient, Grid({"x": [1]}), name=name)
    path = tmp_path / "n.toml"
    path.write_text(f'name = {name!r}\nfunction = "transient"\n[space]\nkind = "grid"\naxes = {{a = [1]}}\n'
                    .replace("'", '"'))
    with pytest.raises(ValueError, match="slug"):
        load_sweep(path)


def test_default_output_folder_stays_under_results(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "s.toml"
    path.write_text('name = "../../escape"\nfunction = "transient"\n[space]\nkind = "grid"\naxes = {a = [1]}\n')
    assert main(["sweep", str(path), "--workers", "1", "--no-progress"]) == 2
    assert "slug" in capsys.readouterr().err
    assert not (tmp_path.parent.parent / "escape").exists()


def test_huge_spaces_are_refused_before_allocation(tmp_path, capsys):
    with pytest.raises(ValueError, match="10,000,000,000 points, more than max_points"):
        run(transient, Grid({"a": list(range(100_000)), "b": list(range(100_000))}), workers=1)
    with pytest.raises(ValueError, match="more than max_points"):
        run(transient, RandomSpace(10**11, {"a": {"uniform": [0, 1]}}, seed=0), workers=1)
    path = tmp_path / "big.toml"
    path.write_text('function = "transient"\n[space]\nkind = "random"\nn = 100000000000\nseed = 0\n'
                    'axes = {a = {uniform = [0, 1]}}\n')
    assert main(["sweep", str(path), "--workers", "1", "--no-progress", "--out", str(tmp_path / "o")]) == 2
    assert "max_points" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:  # argparse rejects it, one line
        main(["sweep", str(path), "--workers", "1", "--no-progress", "--max-points", "0"])
    assert exc.value.code == 2


FAILING = """
name = "some-fail"
function = "transient"
[defaults]
topology = "layered"
sizes = [2, 2]
duration = 0.01
[space]
kind = "list"
points = [{ dt = 1e-3 }, { dt = 1e-300 }, { dt = "fast" }, { amplitude = 1e308 }]
"""


def test_sweep_exits_nonzero_when_points_fail_and_errors_name_dt(tmp_path, capsys):
    path = tmp_path / "f.toml"
    path.write_text(FAILING)
    out = tmp_path / "res"
    assert main(["sweep", str(path), "--workers", "1", "--no-progress", "--out", str(out)]) == 1
    cap = capsys.readouterr()
    assert "4 points (1 ok, 3 failed)" in cap.out
    assert cap.err.count("\n") == 1 and "3 point(s) failed" in cap.err
    from memsim.sweep import load

    table = load(out).set_index("dt", drop=False)
    errors = table["error"].tolist()
    assert table["status"].tolist().count("ok") == 1  # every result is written
    assert any("dt = 1e-300 s gives" in str(e) for e in errors)
    assert any("dt must be a number" in str(e) and "'fast'" in str(e) for e in errors)
    assert any("amplitude must be a number in [-1e+06, 1e+06]" in str(e) for e in errors)


def test_non_finite_outputs_are_errors_not_ok():
    from memsim.sweep.runner import evaluate

    rec = evaluate(lambda p: {"energy": float("inf")}, {"seed": 0})
    assert rec["status"] == "error" and "'energy' is not finite" in rec["error"]
    rec = evaluate(lambda p: {"x": float("nan")}, {"seed": 0})
    assert rec["status"] == "error"
    assert evaluate(lambda p: {"x": None}, {"seed": 0})["status"] == "ok"


def test_scheduler_without_dask_is_one_line(tmp_path, monkeypatch, capsys):
    path = tmp_path / "s.toml"
    path.write_text('name = "s"\nfunction = "transient"\n[space]\nkind = "grid"\naxes = {a = [1]}\n')
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed -> ImportError
    assert main(["sweep", str(path), "--scheduler", "tcp://127.0.0.1:1", "--no-progress"]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "--scheduler needs dask.distributed" in err

