"""Model-based and random search: conditions, seeds, resume after a kill, one-line errors."""

import numpy as np
import pytest

from memsim.sweep import Choice, Integers, LogUniform, Uniform
from memsim.sweep.search import SearchSpace, best_so_far, search, search_space

SPACE = SearchSpace({"x": Uniform(0, 1), "kind": Choice(["a", "b"]), "z": LogUniform(1e-3, 1.0),
                     "n": Integers(1, 4)}, {"z": ("kind", ("b",))})


def bowl(point):
    if point["kind"] == "a":
        assert "z" not in point  # an inactive parameter never reaches the task
    return {"score": -(point["x"] - 0.3) ** 2 - (0.0 if point["kind"] == "a" else 0.1 * point["z"]) - 0.01 * point["n"]}


@pytest.mark.parametrize("method", ["random", "cbo"])
def test_search_evaluates_the_budget_and_tracks_the_best(method):
    df = search(bowl, SPACE, max_evals=14, objective="score", method=method, seed=3, n_initial_points=5)
    assert df["eval"].tolist() == list(range(14)) and (df["status"] == "ok").all()
    np.testing.assert_array_equal(df["best"].to_numpy(), np.maximum.accumulate(df["score"].to_numpy()))
    assert df.loc[df["kind"] == "a", "z"].isna().all()
    assert df["n"].between(1, 4).all()


def test_random_search_is_seeded():
    a = search(bowl, SPACE, max_evals=6, objective="score", method="random", seed=1)
    b = search(bowl, SPACE, max_evals=6, objective="score", method="random", seed=1)
    c = search(bowl, SPACE, max_evals=6, objective="score", method="random", seed=2)
    np.testing.assert_array_equal(a["x"], b["x"])
    assert not np.array_equal(a["x"], c["x"])


COUNT = {"n": 0}


def counted(point):
    COUNT["n"] += 1
    if point.get("stop_after") and COUNT["n"] > point["stop_after"]:
        raise KeyboardInterrupt  # a kill in the middle of the search
    return bowl(point)


@pytest.mark.parametrize("method", ["random", "cbo"])
def test_a_killed_search_resumes_without_rerunning_finished_points(tmp_path, method):
    COUNT["n"] = 0
    with pytest.raises(KeyboardInterrupt):
        search(counted, SPACE, tmp_path, max_evals=12, objective="score", method=method, seed=0,
               defaults={"stop_after": 7}, n_initial_points=4)
    COUNT["n"] = 0
    df = search(counted, SPACE, tmp_path, max_evals=12, objective="score", method=method, seed=0,
                defaults={"stop_after": 0}, n_initial_points=4)
    assert COUNT["n"] == 5  # 7 were stored before the kill
    assert df["eval"].tolist() == list(range(12))
    if method == "random":  # the resumed sequence is the uninterrupted one
        full = search(bowl, SPACE, max_evals=12, objective="score", method="random", seed=0)
        np.testing.assert_allclose(df["x"].to_numpy(), full["x"].to_numpy())


def test_failures_are_recorded_and_the_search_goes_on():
    def flaky(point):
        if point["x"] > 0.5:
            raise RuntimeError("diverged")
        return {"score": point["x"]}

    df = search(flaky, SearchSpace({"x": Uniform(0, 1)}), max_evals=10, objective="score", method="cbo", seed=0,
                n_initial_points=4)
    assert len(df) == 10 and (df["status"] == "error").any() and (df["status"] == "ok").any()
    assert df.loc[df["status"] == "error", "error"].str.contains("diverged").all()


def test_best_so_far_skips_failures():
    import pandas as pd

    out = best_so_far(pd.DataFrame({"s": [np.nan, 1.0, np.nan, 0.5, 2.0]}), "s")
    np.testing.assert_array_equal(out, [np.nan, 1.0, 1.0, 1.0, 2.0])


def test_search_space_from_data_and_its_errors():
    s = search_space({"params": {"rule": {"choice": ["delta", "oja"]}, "lr": {"loguniform": [1e-3, 1.0]},
                                 "k": {"integers": [1, 5]}},
                      "conditions": {"k": {"parent": "rule", "values": ["oja"]}}})
    assert s.conditions == {"k": ("rule", ("oja",))}
    bad = [
        ({"params": {}}, "search.params must be a non-empty table"),
        ({"params": {"x": 3}}, r"\['x'\] are fixed values"),
        ({"params": {"x": {"uniform": [0, 1]}}, "extra": 1}, "unknown keys"),
        ({"params": {"x": {"uniform": [0, 1]}}, "conditions": {"x": {"parent": "y"}}},
         "must be a table with 'parent' and a list 'values'"),
        ({"params": {"x": {"uniform": [0, 1]}, "r": {"choice": ["a"]}},
          "conditions": {"x": {"parent": "r", "values": ["b"]}}}, "must be a Choice holding every allowed value"),
    ]
    for data, match in bad:
        with pytest.raises(ValueError, match=match):
            search_space(data)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(max_evals=0), "max_evals must be an integer >= 1"),
        (dict(method="grid"), "method must be 'cbo' or 'random'"),
        (dict(objective=""), "objective must be the name of an output"),
        (dict(workers=0), "workers must be an integer >= 1"),
    ],
)
def test_bad_search_arguments_name_the_argument(kwargs, match):
    args = dict(max_evals=3, objective="score", method="random")
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        search(bowl, SPACE, **args)


def test_cli_search_runs_the_example_spec_and_resumes(tmp_path, capsys):
    from pathlib import Path

    from memsim.cli import main
    from memsim.sweep import load

    spec = Path(__file__).resolve().parents[2] / "examples" / "search" / "rules-digits.toml"
    out = tmp_path / "res"
    assert main(["search", str(spec), "--max-evals", "3", "--method", "random", "--out", str(out),
                 "--no-progress"]) == 0
    assert main(["search", str(spec), "--max-evals", "5", "--method", "random", "--out", str(out),
                 "--no-progress"]) == 0
    text = capsys.readouterr().out
    assert "5 evaluations (5 ok)" in text and "best accuracy" in text
    assert sorted(load(out)["eval"]) == [0, 1, 2, 3, 4]


@pytest.mark.parametrize(
    "body, match",
    [
        ('task = "os:system"\nobjective = "a"\n[search.params]\nx = {uniform=[0,1]}\n', "not a registered task"),
        ('task = "mushroom_body"\n[search.params]\nx = {uniform=[0,1]}\n', "missing 'objective'"),
        ('task = "mushroom_body"\nobjective = "a"\nname = "../x"\n[search.params]\nx = {uniform=[0,1]}\n',
         "name must be a slug"),
        ('task = "mushroom_body"\nobjective = "a"\nmax_evals = 0\n[search.params]\nx = {uniform=[0,1]}\n',
         "max_evals must be an integer >= 1"),
        ('task = "mushroom_body"\nobjective = "a"\nmethod = "grid"\n[search.params]\nx = {uniform=[0,1]}\n',
         "method must be 'cbo' or 'random'"),
    ],
)
def test_cli_bad_search_specs_are_one_line_errors(tmp_path, capsys, body, match):
    from memsim.cli import main

    path = tmp_path / "bad.toml"
    path.write_text(body)
    assert main(["search", str(path), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and match in err[0], err


def test_search_on_a_process_pool_and_on_a_given_executor_gives_the_serial_numbers():
    # Random search draws configuration i from (seed, i) and each point's seed from the point, so
    # the table is the same whatever runs the evaluations (the task is memsim's own, importable
    # by worker processes).
    import concurrent.futures as cf

    from memsim.sweep.plasticity_task import mushroom_body

    space = SearchSpace({"lr": LogUniform(0.01, 1.0), "rule": Choice(["delta", "hebbian"])})
    kw = dict(max_evals=4, objective="accuracy", method="random", seed=5,
              defaults={"dataset": "digits", "n_kc": 150, "sparsity": 0.1})
    serial = search(mushroom_body, space, **kw)
    pooled = search(mushroom_body, space, workers=2, **kw)
    with cf.ThreadPoolExecutor(2) as ex:
        threaded = search(mushroom_body, space, workers=2, executor=ex, **kw)
    for other in (pooled, threaded):
        np.testing.assert_array_equal(other["accuracy"].to_numpy(), serial["accuracy"].to_numpy())
        assert other["rule"].tolist() == serial["rule"].tolist()
