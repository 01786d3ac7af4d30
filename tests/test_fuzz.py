"""Fuzzing the readers and the CLI's numeric options (issue 13).

Random bytes and random structured values go to the JSON, GraphML and TOML readers and to the
command line. The contract: success, or a ValueError / exit status 2 with one line; never another
exception, a traceback, a run past a time bound, or a non-finite number printed on success.
Bounded: about 300 examples in all, each timed, the whole file in well under a minute.
"""

from __future__ import annotations

import io
import json
import math
import re
import tempfile
import time
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, example, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from memsim import Network, layered  # noqa: E402
from memsim.circuit.io import load_config, read_network, to_node_link, write_graphml  # noqa: E402
from memsim.cli import main  # noqa: E402
from memsim.sweep import load_sweep  # noqa: E402

#: Seconds one example may take (a reader answers in milliseconds; a quick simulate in about one).
BOUND_S = 20.0
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda kids: st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=8), kids, max_size=4),
    max_leaves=20,
)


def _tmp(suffix: str, data: bytes) -> Path:
    fd = tempfile.NamedTemporaryFile(suffix=suffix, delete=False)
    fd.write(data)
    fd.close()
    return Path(fd.name)


def _reader_contract(fn, path: Path) -> None:
    t0 = time.perf_counter()
    try:
        fn(path)
    except ValueError as exc:
        assert "\n" not in str(exc), str(exc)
    finally:
        path.unlink()
    assert time.perf_counter() - t0 < BOUND_S


@FAST
@given(st.binary(max_size=400))
@example(b"[" * 1000 + b"]" * 1000)  # RecursionError before issue 13
@example(b'function = "subprocess:run"\n[space]\nkind = []\n')  # TypeError (unhashable kind) before
def test_random_bytes_to_every_reader(data):
    for suffix, fn in ((".json", read_network), (".graphml", read_network), (".toml", load_config),
                       (".toml", load_sweep)):
        _reader_contract(fn, _tmp(suffix, data))


VALID = to_node_link(Network.from_graph(layered([2, 2])))


@FAST
@given(st.sampled_from(["nodes", "edges", "default_device", "format", "directed", "extra"]), json_values,
       st.integers(0, 3))
def test_structured_json_networks(field, value, where):
    doc = json.loads(json.dumps(VALID))
    if field in ("nodes", "edges") and where < len(doc[field]) and isinstance(doc[field][where], dict):
        doc[field][where][str(value)[:8] if where == 3 else "x0"] = value  # corrupt one entry
    else:
        doc[field] = value
    _reader_contract(read_network, _tmp(".json", json.dumps(doc, allow_nan=True).encode()))


@FAST
@given(st.sampled_from(["r_on", "x0", "role", "name", "index", "device"]),
       st.one_of(st.text(max_size=30), st.floats().map(repr), st.integers().map(str)))
def test_structured_graphml_networks(attr, value):
    with tempfile.TemporaryDirectory() as tmp:
        good = Path(tmp) / "g.graphml"
        write_graphml(Network.from_graph(layered([2, 2])), good)
        text = good.read_text()
    escaped = value.replace("&", "&amp;").replace("<", "&lt;")
    # replace the first data value of any key whose name contains attr
    text = re.sub(rf'(<data key="[^"]*{attr}[^"]*">)[^<]*(</data>)', lambda m: m.group(1) + escaped + m.group(2),
                  text, count=1)
    _reader_contract(read_network, _tmp(".graphml", text.encode("utf-8", "surrogatepass")))


toml_scalars = st.one_of(st.integers(), st.floats(allow_nan=False, allow_infinity=False), st.booleans(),
                         st.text(alphabet=st.characters(codec="ascii", exclude_characters='"\\'), max_size=12))


def _toml(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, list):
        return "[" + ", ".join(_toml(x) for x in v) + "]"
    return repr(v)


@FAST
@given(st.sampled_from(["name", "function", "kind", "n", "seed", "axes_a", "points"]),
       st.one_of(toml_scalars, st.lists(toml_scalars, max_size=3)))
def test_structured_toml_specs(field, value):
    spec = {"name": '"s"', "function": '"transient"', "kind": '"random"', "n": "2", "seed": "0",
            "axes_a": '{ uniform = [0, 1] }', "points": None}
    spec[field] = _toml(value)
    text = f"name = {spec['name']}\nfunction = {spec['function']}\n[space]\nkind = {spec['kind']}\n"
    text += f"n = {spec['n']}\nseed = {spec['seed']}\naxes = {{ a = {spec['axes_a']} }}\n"
    if spec["points"] is not None:
        text += f"points = {spec['points']}\n"
    _reader_contract(load_sweep, _tmp(".toml", text.encode()))


numbers = st.one_of(
    st.floats().map(repr), st.integers(-10**30, 10**30).map(str), st.sampled_from(["1e308", "-0", "0x10", "", " ", "1,2"]),
    st.text(max_size=6),
)


def _cli(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    t0 = time.perf_counter()
    with redirect_stdout(out), redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as exc:  # argparse
            code = exc.code
    assert time.perf_counter() - t0 < BOUND_S, argv
    return code, out.getvalue(), err.getvalue()


def _cli_contract(argv: list[str]) -> None:
    code, out, err = _cli(argv)
    assert code in (0, 2), (argv, code, err)
    assert "Traceback" not in err
    if code == 2:  # one error line (warnings printed before it are one line each)
        lines = [ln for ln in err.strip().splitlines() if ": warning: " not in ln]
        assert len(lines) == 1 and ": error: " in lines[0], err
    else:  # success never reports a non-finite number
        for tok in re.findall(r"[-+]?\b(?:nan|inf)\b", out.lower()):
            pytest.fail(f"{argv}: non-finite number {tok!r} in {out!r}")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None)
@given(st.sampled_from(["--dt", "--duration", "--amplitude", "--frequency", "--seed", "--layers"]), numbers)
def test_cli_numeric_options_simulate(option, value):
    with tempfile.TemporaryDirectory() as tmp:
        base = ["simulate", "--duration", "0.05", "--dt", "1e-3", "--max-steps", "20000", "--out",
                str(Path(tmp) / "s.png")]
        _cli_contract(base + [option, value])


@FAST
@given(st.sampled_from(["--dt", "--duration", "--amplitude", "--frequency", "--seed", "--layers"]), numbers)
def test_cli_numeric_options_export_spice(option, value):
    with tempfile.TemporaryDirectory() as tmp:
        _cli_contract(["export-spice", "--duration", "0.01", "--dt", "1e-3", "--out", str(Path(tmp) / "n.cir"),
                       option, value])


@FAST
@given(st.sampled_from(["--copies", "--max-eras", "--stop-after", "--read-voltage", "--punish-voltage",
                        "--punish-duration", "--normalise-voltage", "--normalise-duration", "--dt", "--d2d",
                        "--c2c", "--source-resistance", "--prune-below", "--prune-fraction", "--seed"]), numbers)
def test_cli_numeric_options_train_parse(option, value):
    """Training runs take seconds each: here every value is parsed; bad ones must be one line, exit 2."""
    from memsim.cli import build_parser

    err = io.StringIO()
    with redirect_stderr(err):
        try:
            args = build_parser().parse_args(["train", option, value])
        except SystemExit as exc:
            assert exc.code == 2 and err.getvalue().strip().count("\n") == 0
            return
    val = getattr(args, option.lstrip("-").replace("-", "_"))
    assert isinstance(val, int) or math.isfinite(val)
