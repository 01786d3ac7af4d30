"""Netlist export (memsim.spice.to_spice) and the runner's plumbing, without ngspice.

The runner is exercised with a stand-in ``ngspice`` (a small Python script written by the test)
that writes ``wrdata``-format files, so parsing, the t = 0 row, clipping, column mapping, chunked
output and the error paths are tested everywhere; tests/spice/test_crossval.py runs the real one.
"""

from __future__ import annotations

import os
import re
import stat
import sys

import numpy as np
import pytest

import memsim.spice as spice
from memsim import (
    PWL,
    VTEAM,
    CaravelliTraversaDiVentra,
    LinearIonDrift,
    MetastableSwitch,
    Network,
    Segment,
    Sine,
    crossbar,
    layered,
)
from memsim.spice import NgspiceError, NgspiceNotFoundError, run_ngspice, to_spice

HPJ = LinearIonDrift(window="joglekar")


def pair(device=HPJ, x0=0.25):
    net = Network(default_device=device)
    net.add_node("a", "input")
    net.add_node("b", "output")
    net.add_edge("a", "b", x0=x0)
    return net


def lines(text, prefix):
    return [ln for ln in text.splitlines() if ln.startswith(prefix)]


READ = [Segment(1e-3, drive={"a": 0.5}, ground=["b"])]


# ---------------------------------------------------------------- numbers and elements
def test_numbers_are_written_exactly():
    dev = LinearIonDrift(r_on=123.45678901234567, r_off=9876.543210987654, d=3.3e-9, mu_v=1.1e-14,
                         window="prodromakis", p=2.5, j=0.7)
    rng = np.random.default_rng(0)
    net = Network(default_device=dev)
    net.add_node("a", "input")
    net.add_node("b", "output")
    x0 = rng.random(3)
    for x in x0:
        net.add_edge("a", "b", x0=x)
    text = to_spice(net, [Segment(0.1, drive={"a": Sine(0.3, 7.0, phase=0.1)}, ground=["b"])], dt=1e-4)
    ics = [float(m) for m in re.findall(r"IC=(\S+)", text)]
    assert ics == list(x0)  # bit for bit
    numbers = {float(m) for m in re.findall(r"(?<![\w.])-?\d+\.\d*(?:e[-+]?\d+)?|\d+e[-+]?\d+", text)}
    for value in (dev.r_on, dev.r_off, dev.k, dev.p, dev.j, 2.0 * np.pi * 7.0):
        assert value in numbers, value


def test_one_element_set_per_edge_and_leak():
    net = Network.from_graph(crossbar(2, 3, r_wire=2.5), HPJ, x0=0.5)
    c = net.compile(leak=1e-9)
    text = to_spice(c, [Segment(1e-3, drive={n: 0.2 for n in net.inputs}, ground=net.outputs)], dt=1e-4)
    n_dev, n_wire = int(c.dynamic.sum()), int((~c.dynamic).sum())
    assert len(lines(text, "BX")) == len(lines(text, "C")) == n_dev == 6
    assert len(re.findall(r"^B\d+ ", text, re.M)) == n_dev
    assert len(lines(text, "R")) == n_wire == 7 and all(ln.endswith(" 2.5") for ln in lines(text, "R"))
    assert len(lines(text, "GL")) == c.n_nodes  # leak to ground on every node
    assert lines(text, "GL0 ") == ["GL0 n0 0 n0 0 1e-09"]


def test_network_and_compiled_network_give_the_same_netlist():
    net = Network.from_graph(layered([2, 3, 1]), HPJ, x0="random", seed=1)
    proto = [Segment(1e-3, drive={("in", 0): 1.0}, ground=[("out", 0)])]
    assert to_spice(net, proto, dt=1e-4) == to_spice(net.compile(), proto, dt=1e-4)


def test_device_expressions_follow_memsim_formulas():
    text = to_spice(pair(HPJ), READ, dt=1e-4)
    # Joglekar p = 1: the window is written as a product, no pow()
    assert lines(text, "BX0")[0] == (
        "BX0 0 x0 I = 9999.999999999998*V(n0,n1)*(1/(100.0*V(x0) + 16000.0*(1-V(x0))))"
        "*(1 - (2*V(x0)-1)*(2*V(x0)-1))")
    text = to_spice(pair(LinearIonDrift(window="biolek", p=2)), READ, dt=1e-4)
    assert "pow((V(x0)-u(-V(n0,n1)))*(V(x0)-u(-V(n0,n1))), 2.0)" in text
    text = to_spice(pair(VTEAM(p=2)), READ, dt=1e-4)
    assert "V(n0,n1) > 0.02 ? 0.0005*pow(abs(V(n0,n1)/0.02 - 1), 1.0)" in text
    assert "V(n0,n1) < (-0.2) ? (-10.0)*pow(abs(V(n0,n1)/(-0.2) - 1), 3.0)" in text
    text = to_spice(pair(MetastableSwitch()), READ, dt=1e-4)
    assert lines(text, "B0")[0] == "B0 n0 n1 I = V(n0,n1)*(V(x0)/500.0 + (1-V(x0))/1500.0)"
    assert "exp(" in lines(text, "BX0")[0]


@pytest.mark.parametrize("device, gated", [
    (HPJ, False), (LinearIonDrift(window="biolek"), False), (LinearIonDrift(window="prodromakis"), False),
    (VTEAM(p=1), False), (MetastableSwitch(), False),
    (LinearIonDrift(), True), (VTEAM(), True), (CaravelliTraversaDiVentra(), True),
])
def test_bound_rule_only_where_the_model_can_leave_the_unit_interval(device, gated):
    rate = lines(to_spice(pair(device), READ, dt=1e-4, bound_width=1e-6), "BX0")[0]
    assert ("min(max(V(x0)*1000000.0,0),1)" in rate) == gated
    assert ("10000000.0*(max(-V(x0),0) - max(V(x0)-1,0))" in rate) == gated  # 1e3 / max_step


# ---------------------------------------------------------------- terminals and time
def test_terminal_sources():
    net = Network.from_graph(layered([2, 2, 2]), HPJ, x0=0.5)
    c = net.compile()
    i = c.node_index
    proto = [
        Segment(1e-3, drive={("in", 0): Sine(1.0, 100.0), ("in", 1): 0.3}, ground=[("out", 0), ("out", 1)]),
        Segment(2e-3, drive={("in", 0): -1.0}, ground=[("out", 1)]),
    ]
    text = to_spice(c, proto, dt=1e-4)
    # grounded throughout: a bare ammeter to ground
    assert f"VA{i['out', 1]} 0 n{i['out', 1]} 0" in text.splitlines()
    # driven throughout: behavioural source behind an ammeter, exact waveform, switching at 1 ms
    in0 = i["in", 0]
    bd = lines(text, f"BD{in0} ")[0]
    # the switch at 1 ms: an 11-digit threshold (ngspice's B-source precision) just past it
    assert bd.startswith(f"BD{in0} d{in0} 0 V = (time <= 1.0000000003e-03 ? (0.0 + 1.0*sin(") and repr(200 * np.pi) in bd
    assert bd.endswith(": (-1.0))")
    assert f"VA{in0} d{in0} n{in0} 0" in text.splitlines()
    # driven, then floating: a switch whose conductance drops to exactly 0
    for node in (("in", 1), ("out", 0)):
        k = i[node]
        sw = lines(text, f"BS{k} ")[0]
        assert sw.startswith(f"BS{k} s{k} n{k} I = V(s{k},n{k})*(time <= ") and sw.endswith(" : 0)")
        # G_on balances the voltage drop and the rounding: sqrt(g_lo g_hi / eps) of the node's devices
        g_on = np.sqrt(1 / 16e3 * 1 / 100 / np.finfo(float).eps)
        assert float(re.search(r"\? (\S+) :", sw).group(1)) == pytest.approx(g_on, rel=1e-15)
    # hidden nodes float throughout: no source
    assert not lines(text, f"VA{i['h', 1, 0]} ")
    # a breakpoint at the segment boundary
    assert lines(text, "VBRK") == ["VBRK brk 0 PWL(0.0 0 0.001 1)"]
    assert lines(text, ".tran") == [".tran 0.0001 0.003 0 0.0001 uic"]


def test_pwl_is_clamped_and_its_corners_are_breakpoints():
    proto = [Segment(1.0, drive={"a": PWL((0.2, 0.5), (-1.0, 2.0))}, ground=["b"])]
    text = to_spice(pair(), proto, dt=1e-3, max_step=1e-4)
    assert "V = pwl(min(max(time, 0.2), 0.5), 0.2, (-1.0), 0.5, 2.0)" in text
    assert lines(text, "VBRK") == ["VBRK brk 0 PWL(0.0 0 0.2 1 0.5 0)"]
    assert lines(text, ".tran") == [".tran 0.001 1.0 0 0.0001 uic"]


def test_options_control_block_and_saved_vectors():
    text = to_spice(pair(), READ, dt=1e-4, reltol=1e-6, method="gear", interp=True, node_voltages=True,
                    output="out.txt", title="my circuit")
    assert text.splitlines()[0].startswith("* my circuit: 2 nodes, 1 edges, 1 segments")
    assert lines(text, ".options") == [
        ".options reltol=1e-06 abstol=1e-15 vntol=1e-12 chgtol=1e-16 trtol=1.0 method=gear interp"]
    assert lines(text, ".save") == [".save v(x0) i(va0) i(va1) v(n0) v(n1)"]
    assert lines(text, "wrdata") == ["wrdata out.txt v(x0) i(va0) i(va1) v(n0) v(n1)"]
    assert {"run", "option numdgt=17", "set wr_singlescale", "quit", ".endc"} <= set(text.splitlines())
    assert text.endswith(".end\n")


# ---------------------------------------------------------------- errors
@pytest.mark.parametrize("kwargs, match", [
    (dict(dt=0.0), "dt"), (dict(dt=1e-4, reltol=-1.0), "reltol"), (dict(dt=1e-4, max_step=np.inf), "max_step"),
    (dict(dt=1e-4, method="euler"), "method"), (dict(dt=1e-4, x0=np.array([0.5, 0.5])), "x0"),
    (dict(dt=1e-4, x0=np.array([1.5])), "x0"), (dict(dt=1e-4, params=np.zeros((2, 1, 10))), "params"),
    (dict(dt=1e-4, switch_conductance=0.0), "switch_conductance"), (dict(dt=1e-4, bound_width=0.7), "bound_width"),
])
def test_bad_options_raise_value_error_naming_them(kwargs, match):
    with pytest.raises(ValueError, match=match):
        to_spice(pair(), READ, **kwargs)


def test_unsupported_inputs_raise_clear_errors():
    with pytest.raises(ValueError, match="stochastic MetastableSwitch"):
        to_spice(pair(MetastableSwitch(n_switches=10)), READ, dt=1e-4)
    with pytest.raises(ValueError, match=r"protocol\[0\]\.drive\['a'\]: only numbers, Sine and PWL"):
        to_spice(pair(), [Segment(1e-3, drive={"a": lambda t: 0 * t}, ground=["b"])], dt=1e-4)
    with pytest.raises(ValueError, match="ensemble"):
        to_spice(pair(), [Segment(1e-3, drive={"a": np.array([0.1, 0.2])}, ground=["b"])], dt=1e-4)
    net = pair()
    net.add_edge("c", "d")  # a component with no driven node
    with pytest.raises(ValueError, match="floating islands"):
        to_spice(net, READ, dt=1e-4)
    with pytest.raises(KeyError, match="nowhere"):
        to_spice(pair(), [Segment(1e-3, drive={"nowhere": 1.0})], dt=1e-4)


def test_missing_ngspice_says_how_to_install_it():
    with pytest.raises(NgspiceNotFoundError, match="apt-get install ngspice") as info:
        run_ngspice(pair(), READ, dt=1e-4, executable="no-such-ngspice-here")
    assert isinstance(info.value, FileNotFoundError)


def test_runner_rejects_unknown_options():
    with pytest.raises(TypeError, match="nonsense"):
        run_ngspice(pair(), READ, dt=1e-4, nonsense=1)
    with pytest.raises(ValueError, match="record"):
        run_ngspice(pair(), READ, dt=1e-4, record=("x", "charge"))


# ---------------------------------------------------------------- the runner, with a stand-in ngspice
FAKE = '''#!{python}
"""Stand-in for ngspice: writes wrdata files with known numbers (see tests/spice/test_export.py)."""
import os, re, sys
mode = os.environ.get("FAKE_NGSPICE", "ok")
text = open(sys.argv[-1]).read()
if mode == "fail":
    print("Error: timestep too small")
    sys.exit(1)
stop = float(re.search(r"^\\.tran \\S+ (\\S+)", text, re.M).group(1))
rows = 10 if mode == "ok" else 5
for line in text.splitlines():
    if line.startswith("wrdata "):
        _, out, *vecs = line.split()
        with open(out, "w") as fh:
            fh.write(" time " + " ".join(vecs) + "\\n")
            for k in range(1, rows + 1):
                vals = [stop * k / 10]
                for j, vec in enumerate(vecs):
                    node = int(re.sub(r"\\D", "", vec))
                    vals.append(1.25 if vec.startswith("v(x") and k == 10 else
                                0.01 * k + node if vec.startswith("v(x") else
                                1e-3 * k + node if vec.startswith("i(") else -k - node)
                fh.write(" ".join(repr(v) for v in vals) + "\\n")
print("Total analysis time (seconds) = 0.25")
print("Accepted timepoints = 10")
'''


@pytest.fixture
def fake_ngspice(tmp_path):
    path = tmp_path / "fake-ngspice"
    path.write_text(FAKE.replace("{python}", sys.executable))
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


def two_segments():
    net = Network.from_graph(layered([2, 2, 1]), HPJ, x0=0.5)
    proto = [Segment(0.5, drive={("in", 0): 1.0, ("in", 1): 0.5}, ground=[("out", 0)], label="a"),
             Segment(0.5, drive={("in", 0): -1.0}, label="b")]
    return net, proto


def test_runner_reads_wrdata_back_into_a_result(fake_ngspice, tmp_path):
    net, proto = two_segments()
    c = net.compile()
    res = run_ngspice(net, proto, dt=0.1, executable=fake_ngspice, workdir=tmp_path / "run")
    assert (tmp_path / "run" / "memsim.cir").exists() and (tmp_path / "run" / "memsim.log").exists()
    np.testing.assert_allclose(res.t, np.arange(11) / 10, rtol=0, atol=1e-15)
    np.testing.assert_array_equal(res.x[0], c.x0)  # t = 0: the exact initial state
    k = np.arange(1, 10)
    np.testing.assert_allclose(res.x[1:10, 0], 0.01 * k)
    np.testing.assert_array_equal(res.x[10], np.ones(6))  # 1.25 and the rest clipped to [0, 1]
    assert np.all((res.x >= 0) & (res.x <= 1))
    # ammeter currents at the driven nodes; 0 where a node floats in the sample's segment
    in1, out0 = c.node_index["in", 1], c.node_index["out", 0]
    np.testing.assert_array_equal(res.segment, [0] * 6 + [1] * 5)  # t = 0.5 ends segment 0
    np.testing.assert_allclose(res.i_node[1:6, in1], 1e-3 * np.arange(1, 6) + in1)
    assert np.all(res.i_node[6:, [in1, out0]] == 0.0) and np.all(np.isnan(res.i_node[0, [0, in1, out0]]))
    np.testing.assert_allclose(res.v_node[3], -3.0 - np.arange(c.n_nodes))
    np.testing.assert_allclose(res.v_edge[3], res.v_node[3, c.edge_u] - res.v_node[3, c.edge_v])
    assert res.stats["analysis_time"] == 0.25 and res.stats["engine"] == "ngspice"
    assert res.labels == ("a", "b") and not res.ensemble


def test_runner_resamples_onto_given_times(fake_ngspice):
    net, proto = two_segments()
    t = np.array([0.0, 0.25, 0.5, 0.55, 0.85])
    res = run_ngspice(net, proto, dt=0.1, executable=fake_ngspice, t_eval=t, record=("x", "i_node"))
    np.testing.assert_array_equal(res.t, t)
    np.testing.assert_array_equal(res.segment, [0, 0, 1, 1, 1])  # memsim's convention at 0.5
    assert res.x[0, 0] == 0.5  # the initial state
    np.testing.assert_allclose(res.x[1:4, 0], 0.1 * t[1:4], rtol=1e-12)  # linear data (away from t = 0)
    assert res.v_node is None and res.i_edge is None
    with pytest.raises(ValueError, match="t_eval"):
        run_ngspice(net, proto, dt=0.1, executable=fake_ngspice, t_eval=np.array([0.0, 2.0]))


def test_runner_splits_wide_output_over_several_files(fake_ngspice, tmp_path, monkeypatch):
    monkeypatch.setattr(spice, "_WR_CHUNK", 3)
    net, proto = two_segments()
    res = run_ngspice(net, proto, dt=0.1, executable=fake_ngspice, workdir=tmp_path)
    assert sorted(p for p in os.listdir(tmp_path) if p.startswith("memsim.out")) == [
        f"memsim.out.{j}" for j in range(5)]  # 6 states, 3 ammeters, 5 node voltages: 14 columns
    np.testing.assert_allclose(res.x[1, :], np.minimum(0.01 + np.arange(6), 1.0))
    np.testing.assert_allclose(res.v_node[2], -2.0 - np.arange(5))


@pytest.mark.parametrize("mode, match", [("fail", "timestep too small"), ("short", "stopped at t = 0.5")])
def test_runner_reports_ngspice_failures_with_its_log(fake_ngspice, monkeypatch, mode, match):
    monkeypatch.setenv("FAKE_NGSPICE", mode)
    net, proto = two_segments()
    with pytest.raises(NgspiceError, match=match):
        run_ngspice(net, proto, dt=0.1, executable=fake_ngspice)
