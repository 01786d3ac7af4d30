"""Spaces (grid, random, list, chained) and sweep specifications from TOML."""

from __future__ import annotations

import numpy as np
import pytest

from memsim.sweep import (
    Chain,
    Choice,
    Grid,
    Integers,
    ListSpace,
    LogUniform,
    RandomSpace,
    Sweep,
    Uniform,
    load_sweep,
    resolve_function,
)
from memsim.sweep.space import plain, space_from_dict
from memsim.sweep.store import canonical, derive_seed, flatten, point_id
from memsim.sweep.tasks import transient


def test_grid_is_the_cartesian_product_last_axis_fastest():
    g = Grid({"topology": "layered", "sizes": [[2, 4, 2], [2, 8, 2]], "seed": (0, 1, 2)})
    pts = g.points()
    assert len(g) == len(pts) == 6
    assert pts[0] == {"topology": "layered", "sizes": [2, 4, 2], "seed": 0}
    assert pts[1]["seed"] == 1 and pts[3]["sizes"] == [2, 8, 2]
    assert list(g) == pts


def test_grid_rejects_empty_axes_and_objects():
    with pytest.raises(ValueError, match=r"Grid.axes.seed is an empty list"):
        Grid({"seed": []})
    with pytest.raises(ValueError, match=r"Grid.axes.f must be a plain value"):
        Grid({"f": object()})
    with pytest.raises(ValueError, match="must be finite"):
        Grid({"x": [float("nan")]})


def test_random_space_is_seeded_and_prefix_stable():
    axes = {"p": Uniform(0.1, 0.5), "r": LogUniform(1e-3, 1.0), "n": Integers(8, 9),
            "dev": Choice(["HP_TIO2", "KNOWM_GMS"]), "topology": "erdos_renyi"}
    a = RandomSpace(50, axes, seed=3).points()
    assert a == RandomSpace(50, axes, seed=3).points()
    assert a != RandomSpace(50, axes, seed=4).points()
    assert RandomSpace(20, axes, seed=3).points() == a[:20]  # growing n keeps the first points
    p = np.array([pt["p"] for pt in a])
    r = np.array([pt["r"] for pt in a])
    assert np.all((p >= 0.1) & (p < 0.5)) and np.all((r >= 1e-3) & (r < 1.0))
    assert {pt["n"] for pt in a} == {8, 9}  # both ends included
    assert {pt["dev"] for pt in a} == {"HP_TIO2", "KNOWM_GMS"}
    assert all(type(pt["p"]) is float and type(pt["n"]) is int for pt in a)  # plain Python values


def test_random_space_from_dict_specs_equals_classes():
    a = RandomSpace(5, {"p": {"uniform": [0, 1]}, "k": {"integers": [1, 3]}, "c": {"choice": [[1], [2]]}}, seed=0)
    b = RandomSpace(5, {"p": Uniform(0, 1), "k": Integers(1, 3), "c": Choice([[1], [2]])}, seed=0)
    assert a.points() == b.points()


@pytest.mark.parametrize(
    ("axes", "needle"),
    [
        ({"p": [0.1, 0.2]}, "ambiguous"),
        ({"p": {"uniform": [1.0]}}, r"uniform needs \[low, high\]"),
        ({"p": {"uniform": [1.0, 0.0]}}, "low .* must be < high"),
        ({"p": {"loguniform": [0.0, 1.0]}}, "0 < low < high"),
        ({"p": {"integers": [1.5, 2]}}, "Integers.low must be an integer"),
        ({"p": {"choice": []}}, "non-empty list"),
    ],
)
def test_random_space_bad_axes(axes, needle):
    with pytest.raises(ValueError, match=needle) as exc:
        RandomSpace(3, axes, seed=0)
    assert "RandomSpace.axes.p" in str(exc.value) or "Integers" in str(exc.value)


def test_random_space_needs_seed_and_positive_n():
    with pytest.raises(ValueError, match="RandomSpace.seed"):
        RandomSpace(3, {"p": Uniform(0, 1)}, seed=None)
    with pytest.raises(ValueError, match="RandomSpace.n"):
        RandomSpace(0, {"p": Uniform(0, 1)}, seed=1)


def test_list_and_chain():
    s = ListSpace([{"a": 1}, {"a": (2, 3)}]) + Grid({"a": [4, 5]})
    assert isinstance(s, Chain) and len(s) == 4
    assert s.points() == [{"a": 1}, {"a": [2, 3]}, {"a": 4}, {"a": 5}]
    with pytest.raises(ValueError, match=r"ListSpace.items\[1\] must be a dict"):
        ListSpace([{"a": 1}, 3])


def test_plain_ids_and_flatten():
    assert plain({"x": np.float64(0.25), "t": (np.int32(1), "a")}) == {"x": 0.25, "t": [1, "a"]}
    assert point_id({"a": 1, "b": [1, 2]}, "f:g") == point_id({"b": [1, 2], "a": 1}, "f:g")
    assert point_id({"a": 1}, "f:g") != point_id({"a": 1}, "f:h")  # the function is part of the id
    assert point_id({"a": 1}) != point_id({"a": 1.0})  # types are part of the id, as in the file
    assert 0 <= derive_seed({"a": 1}) < 2**32 and derive_seed({"a": 1}) != derive_seed({"a": 2})
    assert flatten({"t": {"u": 1, "v": [1, 2]}}) == {"t.u": 1, "t.v": "[1,2]"}
    assert canonical({"b": 1, "a": 2}) == '{"a":2,"b":1}'


SPEC = """
name = "demo"
function = "memsim.sweep.tasks:transient"

[defaults]
topology = "layered"
duration = 0.05

[[space]]
kind = "grid"
axes = { sizes = [[2, 2], [2, 3, 2]], seed = [0, 1] }

[[space]]
kind = "random"
n = 3
seed = 7
axes = { amplitude = { uniform = [0.5, 1.5] }, sizes = { choice = [[2, 2]] } }

[[space]]
kind = "list"
points = [{ topology = "crossbar", rows = 2, cols = 2 }]
"""


def test_load_sweep_from_toml(tmp_path):
    path = tmp_path / "sweep.toml"
    path.write_text(SPEC)
    sw = load_sweep(path)
    assert sw.name == "demo" and sw.function is transient
    assert sw.function_ref == "memsim.sweep.tasks:transient"
    pts = sw.points()
    assert len(sw) == len(pts) == 4 + 3 + 1
    assert pts[0] == {"topology": "layered", "duration": 0.05, "sizes": [2, 2], "seed": 0}
    assert 0.5 <= pts[4]["amplitude"] < 1.5
    assert pts[-1]["topology"] == "crossbar" and pts[-1]["duration"] == 0.05  # point values win over defaults


def test_single_space_table(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text('function = "memsim.sweep.tasks:transient"\n[space]\nkind = "grid"\naxes = {a = [1, 2]}\n')
    assert [p["a"] for p in load_sweep(path).points()] == [1, 2]


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ('function = "memsim.sweep.tasks:transient"\n[space\n', "malformed TOML"),
        ('function = "memsim.sweep.tasks:nope"\n[space]\nkind = "grid"\naxes = {}\n',
         "'memsim.sweep.tasks:nope' is not a registered task"),
        ('function = "no_such_pkg.mod:f"\n[space]\nkind = "grid"\naxes = {}\n', "'no_such_pkg.mod:f' is not a registered task"),
        ('function = "nope"\n[space]\nkind = "grid"\naxes = {}\n', r"registered: .*codesign, .*transient"),
        ('function = 3\n[space]\nkind = "grid"\naxes = {}\n', "must be the name of a registered task"),
        ('function = "memsim.sweep.tasks:GENERATORS"\n[space]\nkind = "grid"\naxes = {}\n', "is not a registered task"),
        ('[space]\nkind = "grid"\naxes = {}\n', "'function' is missing"),
        ('function = "memsim.sweep.tasks:transient"\n', "'space' is missing"),
        ('function = "memsim.sweep.tasks:transient"\nworkers = 2\n[space]\nkind = "grid"\naxes = {}\n',
         r"unknown key\(s\) \['workers'\]"),
        ('function = "memsim.sweep.tasks:transient"\n[space]\nkind = "cube"\n', "space.kind must be one of"),
        ('function = "memsim.sweep.tasks:transient"\n[space]\nkind = "random"\nn = 2\naxes = {}\n', "space.seed is missing"),
        ('function = "memsim.sweep.tasks:transient"\n[space]\nkind = "grid"\naxes = {}\nsteps = 3\n',
         r"unknown key\(s\) \['steps'\] for a grid space"),
        (('function = "memsim.sweep.tasks:transient"\n[[space]]\nkind = "grid"\naxes = {}\n[[space]]\n'
          'kind = "random"\nn = 2\nseed = 0\naxes = {p = {uniform = [1, 0]}}\n'),
         r"space\[1\]: RandomSpace.axes.p: Uniform: low"),
        ('function = "memsim.sweep.tasks:transient"\ndefaults = 3\n[space]\nkind = "grid"\naxes = {}\n',
         "defaults must be a table"),
    ],
)
def test_bad_sweep_files_give_one_line_value_errors(tmp_path, text, needle):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ValueError, match=needle) as exc:
        load_sweep(path)
    msg = str(exc.value)
    assert "\n" not in msg and str(path) in msg


def test_missing_sweep_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="config file not found"):
        load_sweep(tmp_path / "nope.toml")


def test_space_from_dict_errors_name_the_field():
    with pytest.raises(ValueError, match=r"^space\.axes is missing"):
        space_from_dict({"kind": "grid"})
    with pytest.raises(ValueError, match=r"^space is empty"):
        space_from_dict([])


def test_sweep_in_python_accepts_references_and_callables():
    a = Sweep("memsim.sweep.tasks:transient", Grid({"x": [1]}))
    b = Sweep(transient, Grid({"x": [1]}))
    assert a.function is b.function is resolve_function("memsim.sweep.tasks:transient")
    with pytest.raises(ValueError, match="Sweep.space must be a Space"):
        Sweep(transient, [{"x": 1}])
