"""Running sweeps: tables, workers, failures, storage, resume and progress."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest
import sweep_points as sp

import memsim
from memsim.sweep import Grid, ListSpace, RandomSpace, Sweep, Uniform, compact, load, run
from memsim.sweep.store import read_parts, write_part


def _numbers(df: pd.DataFrame) -> pd.DataFrame:
    """The table without wall times (the only columns that differ between runs)."""
    return df.drop(columns=[c for c in df.columns if c.endswith("wall_s")])


def test_table_has_one_row_per_point_with_params_version_status_and_outputs():
    df = run(sp.noisy, sp.space(), workers=1, progress=False)
    assert len(df) == 8
    assert list(df.columns[:4]) == ["point_id", "a", "b", "seed"]
    for col in ("point", "memsim_version", "status", "error", "wall_s", "y", "n", "stats.mean"):
        assert col in df.columns
    assert df["point_id"].is_unique
    assert (df["memsim_version"] == memsim.__version__).all()
    assert df[["a", "b"]].values.tolist()[:3] == [[1, 0.5], [1, 1.0], [2, 0.5]]  # space order
    # the seed is derived from the parameters: same parameters, same seed
    again = run(sp.noisy, ListSpace([{"a": 2, "b": 0.5}]), workers=1, progress=False)
    assert again["seed"].iloc[0] == df["seed"].iloc[2]


def test_failing_points_are_recorded_and_the_sweep_goes_on():
    df = run(sp.noisy, sp.space(), workers=1, progress=False)
    bad = df[df["a"] == 3]
    assert len(bad) == 2 and (bad["status"] == "error").all()
    assert (bad["error"] == "ValueError: a must not be 3").all()
    assert bad["y"].isna().all()
    good = df[df["a"] != 3]
    assert (good["status"] == "ok").all() and good["error"].isna().all() and good["y"].notna().all()


def test_same_numbers_with_one_worker_or_two(tmp_path):
    one = run(sp.noisy, sp.space(), tmp_path / "one", workers=1, progress=False)
    two = run(sp.noisy, sp.space(), tmp_path / "two", workers=2, progress=False)
    pd.testing.assert_frame_equal(_numbers(one), _numbers(two))
    mem = run(sp.noisy, sp.space(), workers=2, progress=False)  # in memory, not stored
    pd.testing.assert_frame_equal(_numbers(one), _numbers(mem))


def test_explicit_seed_is_used_and_stored():
    df = run(sp.noisy, Grid({"a": [1], "b": [1.0], "seed": [5, 6]}), workers=1, progress=False)
    assert df["seed"].tolist() == [5, 6]
    assert df["y"].iloc[0] == pytest.approx(np.random.default_rng(5).random())


def test_rerun_skips_stored_points_and_extends(tmp_path):
    first = run(sp.noisy, sp.space(n_a=2), tmp_path, workers=1, progress=False)
    n_parts = len(list(tmp_path.glob("part-*.parquet")))
    again = run(sp.noisy, sp.space(n_a=2), tmp_path, workers=1, progress=False)
    assert len(list(tmp_path.glob("part-*.parquet"))) == n_parts  # nothing recomputed
    pd.testing.assert_frame_equal(first, again)  # wall times included: the stored rows
    more = run(sp.noisy, sp.space(n_a=4), tmp_path, workers=1, progress=False)
    assert len(more) == 8 and len(read_parts(tmp_path)) == 8  # only the 4 new points ran
    # same rows; integer outputs become float once failed points (no outputs) share the table
    pd.testing.assert_frame_equal(more.iloc[[0, 1, 2, 3]].reset_index(drop=True), first, check_dtype=False)
    pd.testing.assert_frame_equal(_numbers(load(tmp_path)).sort_values("point_id").reset_index(drop=True),
                                  _numbers(more).sort_values("point_id").reset_index(drop=True))


def test_errors_are_skipped_on_rerun_unless_retried(tmp_path, monkeypatch):
    run(sp.noisy, sp.space(), tmp_path, workers=1, progress=False)
    assert len(read_parts(tmp_path)) == 8
    run(sp.noisy, sp.space(), tmp_path, workers=1, progress=False)
    assert len(read_parts(tmp_path)) == 8
    df = run(sp.noisy, sp.space(), tmp_path, workers=1, progress=False, retry_errors=True)
    raw = read_parts(tmp_path)
    assert len(raw) == 10  # the two failed points ran again ...
    assert len(df) == 8 and (df["status"] == "error").sum() == 2  # ... and one row per point remains


def test_load_ignores_temporary_files_and_deduplicates(tmp_path):
    run(sp.noisy, sp.space(n_a=2), tmp_path, workers=1, progress=False)
    (tmp_path / ".tmp-999999999-part-x.parquet").write_bytes(b"half a file")  # a dead writer's leftover
    parts = sorted(tmp_path.glob("part-*.parquet"))
    (tmp_path / ("part-99999999999999999999-1-000000.parquet")).write_bytes(parts[0].read_bytes())  # a copy
    df = load(tmp_path)
    assert len(df) == 4 and df["point_id"].is_unique
    assert len(read_parts(tmp_path)) == 5
    run(sp.noisy, sp.space(n_a=2), tmp_path, workers=1, progress=False)
    assert not (tmp_path / ".tmp-999999999-part-x.parquet").exists()  # cleaned by the next sweep


def test_compact_merges_parts(tmp_path):
    df = run(sp.noisy, sp.space(), tmp_path, workers=1, progress=False)
    assert len(list(tmp_path.glob("part-*.parquet"))) == 8
    compact(tmp_path)
    assert len(list(tmp_path.glob("part-*.parquet"))) == 1
    again = run(sp.noisy, sp.space(), tmp_path, workers=1, progress=False)
    pd.testing.assert_frame_equal(df, again)


def test_unreadable_part_and_missing_directory(tmp_path):
    (tmp_path / "part-00000000000000000001-1-000000.parquet").write_bytes(b"not parquet")
    with pytest.raises(ValueError, match="unreadable result part") as exc:
        load(tmp_path)
    assert "\n" not in str(exc.value)
    with pytest.raises(FileNotFoundError, match="results directory not found"):
        load(tmp_path / "nope")


def test_empty_directory_loads_an_empty_table(tmp_path):
    df = load(tmp_path)
    assert len(df) == 0 and "point_id" in df.columns


def test_bad_outputs_are_point_errors():
    df = run(sp.vector, ListSpace([{"a": 1}]), workers=1, progress=False)
    assert df["status"].iloc[0] == "error" and "output 'v' must be a scalar" in df["error"].iloc[0]
    df = run(sp.collides, ListSpace([{"a": 1}]), workers=1, progress=False)
    assert "output 'a' has the name of a parameter" in df["error"].iloc[0]


def test_outputs_of_mixed_types_are_stored_as_text(tmp_path):
    df = run(sp.mixed, Grid({"a": [1, 2, 3]}), tmp_path, workers=1, progress=False)
    assert df["r"].tolist() == ["text", "1.5", "text"]


def test_parameters_of_mixed_types(tmp_path):
    df = run(sp.noisy, Grid({"a": [1, 2], "b": ["x", 0.5]}), tmp_path, workers=1, progress=False)
    assert df["b"].tolist() == ["x", "0.5", "x", "0.5"]
    assert df["point"].iloc[1] == f'{{"a":1,"b":0.5,"seed":{df["seed"].iloc[1]}}}'  # exact values kept


def test_reserved_parameter_names_are_rejected():
    with pytest.raises(ValueError, match="parameter 'status' has the name of a reserved column"):
        run(sp.noisy, ListSpace([{"a": 1, "status": 2}]), workers=1, progress=False)


def test_process_pool_needs_an_importable_function():
    with pytest.raises(ValueError, match="cannot be sent to worker processes"):
        run(lambda p: {}, ListSpace([{"a": 1}]), workers=2, progress=False)


def test_bad_runner_arguments():
    with pytest.raises(ValueError, match="workers must be an integer >= 1"):
        run(sp.noisy, ListSpace([{"a": 1}]), workers=0, progress=False)
    with pytest.raises(ValueError, match="either workers .* or scheduler"):
        run(sp.noisy, ListSpace([{"a": 1}]), workers=2, scheduler="tcp://127.0.0.1:1", progress=False)
    with pytest.raises(ValueError, match="space must be a Space"):
        run(sp.noisy, [{"a": 1}], workers=1, progress=False)


def test_duplicate_points_run_once():
    df = run(sp.noisy, ListSpace([{"a": 1, "b": 1.0}, {"b": 1.0, "a": 1}]), workers=1, progress=False)
    assert len(df) == 1


def test_progress_bar_shows_done_failed_and_can_be_disabled(capsys):
    run(sp.noisy, sp.space(), workers=1, progress=False)
    assert capsys.readouterr().err == ""
    run(sp.noisy, sp.space(), workers=1, progress=True, name="demo")
    err = capsys.readouterr().err
    assert "demo" in err and "8/8" in err and "failed=2" in err


def test_transient_task_on_every_topology():
    pts = ListSpace([
        {"topology": "layered", "sizes": [2, 3, 2]},
        {"topology": "crossbar", "rows": 2, "cols": 2, "r_wire": 1.0, "device": "VTEAM_KVATINSKY2015",
         "amplitude": 0.5},
        {"topology": "erdos_renyi", "n": 8, "p": 0.5, "n_inputs": 2, "n_outputs": 2, "d2d": 0.1, "c2c": 0.05},
        {"topology": "watts_strogatz", "n": 8, "k": 4, "p": 0.2, "n_inputs": 1, "n_outputs": 2,
         "device": "CTDV_CARAVELLI2017", "device_params": {"alpha": 0.5}},
        {"topology": "random_geometric", "n": 10, "radius": 0.6, "n_inputs": 2, "n_outputs": 2, "x0": 0.3},
        {"topology": "layered", "sizes": [2, 2], "colour": "red"},
        {"topology": "torus", "n": 3},
        {"topology": "layered"},
        {"topology": "layered", "sizes": [2, 2], "device": "NOPE"},
    ])
    df = run("memsim.sweep.tasks:transient", pts, workers=1, progress=False, defaults={"duration": 0.02})
    assert df["status"].tolist()[:5] == ["ok"] * 5, df["error"].tolist()
    assert df["n_edges"].tolist()[:2] == [12.0, 8.0]  # crossbar 2x2 with wires: 4 cells + 4 wires
    ok = df.iloc[:5]
    assert ((ok["x_min"] >= 0) & (ok["x_max"] <= 1) & (ok["energy"] >= 0)).all()
    assert ok["i_out_1"].notna().all() and np.all(np.isfinite(ok["i_out_peak"]))
    errors = df["error"].tolist()[5:]
    assert "unknown parameter 'colour'" in errors[0]
    assert "topology must be one of" in errors[1]
    assert "needs parameter 'sizes'" in errors[2]
    assert "unknown device preset 'NOPE'" in errors[3]


def test_transient_is_reproducible_from_its_seed():
    space = RandomSpace(2, {"p": Uniform(0.4, 0.6)}, seed=0)
    sweep = Sweep("memsim.sweep.tasks:transient", space,
                  defaults={"topology": "erdos_renyi", "n": 8, "n_inputs": 2, "n_outputs": 1, "duration": 0.02})
    a, b = sweep.run(workers=1, progress=False), sweep.run(workers=1, progress=False)
    pd.testing.assert_frame_equal(_numbers(a), _numbers(b))


def test_point_function_from_environment_is_unchanged():
    assert os.environ.get("SWEEP_POINTS_SLEEP") in (None, "0")  # the tests above ran without sleeping


def test_a_part_keeps_the_columns_of_every_row(tmp_path):
    # a batch whose first row is a failed point (no outputs) must keep the outputs of the others
    write_part(tmp_path, [{"point_id": "a", "status": "error", "error": "E: x"},
                          {"point_id": "b", "status": "ok", "error": None, "y": 1.0}])
    df = load(tmp_path)
    assert df["y"].tolist()[1] == 1.0 and np.isnan(df["y"].tolist()[0])


def test_codesign_task_scores_topologies_like_the_analysers():
    from memsim import VTEAM, Network, crossbar, layered
    from memsim.analysis import controllability, controller_configurations
    from memsim.learning import build_hardware

    pts = ListSpace([
        {"topology": "layered", "sizes": [2, 2], "tasks": "association", "x0": 0.5},
        {"topology": "layered", "sizes": [2, 4, 2], "x0": 0.5, "measure_capacity": False},
        {"topology": "crossbar", "rows": 2, "cols": 3, "measure_capacity": False},
        {"topology": "random_geometric", "n": 10, "radius": 0.6, "n_inputs": 2, "n_outputs": 2, "p_max": 1,
         "n_sets": 2},
        {"topology": "layered", "sizes": [2, 2], "x0": "half"},
        {"topology": "layered", "sizes": [2, 2], "n_set": 3},
    ])
    df = run("memsim.sweep.tasks:codesign", pts, workers=1, progress=False, defaults={"max_eras": 10})
    assert df["status"].tolist() == ["ok"] * 4 + ["error"] * 2, df["error"].tolist()
    # a 2-2 layer learns every one-input association (tests/analysis/test_capacity_empirical.py)
    assert df["capacity"].iloc[0] == 2 and df["mean_learnable"].iloc[0] == 2.0
    # the same figures as the analysers called directly on the same hardware
    net = Network.from_graph(layered([2, 4, 2], orientation="backward"), VTEAM())
    hw = build_hardware(net, x0=0.5, seed=0)
    assert df["ctrl_rank"].iloc[1] == controllability(hw.circuit, controller_configurations(hw), x=hw.x[0]).rank
    assert df["hidden_asymmetry"].iloc[1] == 0.25  # four interchangeable hidden nodes, one orbit
    assert df["n_edges"].iloc[2] == 6 and df["hidden_asymmetry"].iloc[2] == 1.0
    assert np.isnan(df["capacity"].iloc[1]) and df["p_tested"].iloc[3] == 1
    assert "x0" in df["error"].iloc[4] and "unknown parameter 'n_set'" in df["error"].iloc[5]
    del crossbar


def _echo_flag(point):
    return {"flag": 1.0}


def test_an_output_named_like_another_points_parameter_is_an_error():
    # the first point has no parameter "flag"; its output "flag" would share the column with the
    # second point's parameter and mix types: both are reported as errors, not stored
    df = run(_echo_flag, ListSpace([{"x": 1}, {"x": 2, "flag": "on"}]), workers=1, progress=False)
    assert df["status"].tolist() == ["error", "error"]
    assert "output 'flag' has the name of a parameter" in df["error"].iloc[0]
