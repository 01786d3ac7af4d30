"""Networks as JSON and GraphML files, configurations as TOML."""

from __future__ import annotations

import dataclasses
import itertools
import json

import networkx as nx
import numpy as np
import pytest

from memsim import (
    VTEAM,
    CaravelliTraversaDiVentra,
    LinearIonDrift,
    MetastableSwitch,
    Network,
    Resistor,
    crossbar,
    erdos_renyi,
    layered,
)
from memsim.circuit.io import (
    decode_node,
    device_from_dict,
    device_to_dict,
    encode_node,
    load_config,
    read_graphml,
    read_json,
    read_network,
    to_node_link,
    write_graphml,
    write_json,
    write_network,
)

FORMATS = [(write_json, read_json, "json"), (write_graphml, read_graphml, "graphml")]
ALL_DEVICES = [
    Resistor(47.5),
    LinearIonDrift(),
    LinearIonDrift(r_on=120.0, r_off=2e4, d=7e-9, mu_v=3e-14, window="joglekar", p=2.0),
    LinearIonDrift(window="biolek", p=3.0),
    LinearIonDrift(window="prodromakis", p=1.5, j=0.7),
    VTEAM(),
    VTEAM(k_on=-3.5, v_off=0.05, p=2.0),
    CaravelliTraversaDiVentra(r_on=2.0, r_off=300.0, alpha=0.1, beta=3.0),
    MetastableSwitch(),
    MetastableSwitch(n_switches=250, temperature=310.0),
]


def _assert_same(a: Network, b: Network) -> None:
    """Same nodes, roles, edges (order, orientation, devices, x0) and compiled arrays."""
    assert a.nodes == b.nodes
    assert [type(n) for n in a.nodes] == [type(n) for n in b.nodes]
    assert [a._roles[n] for n in a.nodes] == [b._roles[n] for n in b.nodes]
    assert a.edges == b.edges  # frozen dataclasses: u, v, device (class and every field), x0
    assert [type(e.device) for e in a.edges] == [type(e.device) for e in b.edges]
    assert a.default_device == b.default_device
    ca, cb = a.compile(), b.compile()
    assert ca.node_names == cb.node_names
    for name in ("roles", "edge_u", "edge_v", "model", "params", "x0"):
        np.testing.assert_array_equal(getattr(ca, name), getattr(cb, name), err_msg=name)  # exact: no tolerance


def _round_trip(net, writer, reader, ext, tmp_path):
    path = tmp_path / f"net.{ext}"
    writer(net, path)
    back = reader(path)
    _assert_same(net, back)
    return back, path


@pytest.mark.parametrize(("writer", "reader", "ext"), FORMATS)
def test_layered_round_trip(writer, reader, ext, tmp_path):
    net = Network.from_graph(layered([2, 4, 3, 2]), LinearIonDrift(window="joglekar"), x0="random", seed=3)
    back, _ = _round_trip(net, writer, reader, ext, tmp_path)
    assert back.nodes[0] == ("in", 0) and back.nodes[2] == ("h", 1, 0)


@pytest.mark.parametrize(("writer", "reader", "ext"), FORMATS)
def test_reversed_edges_keep_orientation_and_order(writer, reader, ext, tmp_path):
    # every edge of a layered graph reversed, numbered as in the forward graph
    fwd = layered([2, 3, 2])
    g = nx.DiGraph()
    g.add_nodes_from(fwd.nodes(data=True))
    g.add_edges_from((v, u, {"index": e}) for e, (u, v) in enumerate(fwd.edges))
    net = Network.from_graph(g, VTEAM(), x0=0.25)
    back, _ = _round_trip(net, writer, reader, ext, tmp_path)
    assert (back.edges[0].u, back.edges[0].v) == (("h", 1, 0), ("in", 0))
    assert (back.edges[-1].u, back.edges[-1].v) == (("out", 1), ("h", 1, 2))


@pytest.mark.parametrize(("writer", "reader", "ext"), FORMATS)
def test_crossbar_with_wires_round_trip(writer, reader, ext, tmp_path):
    net = Network.from_graph(crossbar(3, 4, r_wire=2.5), VTEAM(), x0="random", seed=1)
    back, _ = _round_trip(net, writer, reader, ext, tmp_path)
    wires = [e for e in back.edges if isinstance(e.device, Resistor)]
    assert len(wires) == 3 * 3 + 2 * 4 and all(e.device.resistance == 2.5 and e.x0 == 0.0 for e in wires)


@pytest.mark.parametrize(("writer", "reader", "ext"), FORMATS)
def test_multigraph_parallel_and_antiparallel_edges(writer, reader, ext, tmp_path):
    g = nx.MultiDiGraph()
    g.add_node("a", role="input")
    g.add_node("c", role="output")
    g.add_edge("a", "b", x0=0.1)
    g.add_edge("a", "b", resistance=50.0)
    g.add_edge("b", "a", device=VTEAM(), x0=0.9)
    g.add_edge("b", "c", x0=0.123456789012345678)
    net = Network.from_graph(g, LinearIonDrift())
    back, _ = _round_trip(net, writer, reader, ext, tmp_path)
    assert [(e.u, e.v) for e in back.edges] == [("a", "b"), ("a", "b"), ("b", "a"), ("b", "c")]


@pytest.mark.parametrize(("writer", "reader", "ext"), FORMATS)
def test_every_device_model_and_parameter(writer, reader, ext, tmp_path):
    net = Network(default_device=MetastableSwitch(n_switches=7))
    net.add_node(("in", 0), role="input")
    net.add_node(("out", 0), role="output")
    for k, dev in enumerate(ALL_DEVICES):
        net.add_edge(("in", 0) if k % 2 else ("out", 0), ("h", k), dev, x0=0.0 if not dev.dynamic else k / 10)
    back, _ = _round_trip(net, writer, reader, ext, tmp_path)
    for a, b in zip(net.edges, back.edges):
        for f in dataclasses.fields(a.device):
            assert type(getattr(a.device, f.name)) is type(getattr(b.device, f.name)), f.name


@pytest.mark.parametrize(("writer", "reader", "ext"), FORMATS)
def test_odd_node_names(writer, reader, ext, tmp_path):
    net = Network(default_device=LinearIonDrift())
    names = ["plain", 7, 2.5, ("t", ("nested", 1)), ("in", 0), "[1, 2]", True, None, "with space & <xml>", "ünï"]
    net.add_node(names[0], role="input")
    for u, v in itertools.pairwise(names):
        net.add_edge(u, v, x0=0.5)
    back, _ = _round_trip(net, writer, reader, ext, tmp_path)
    assert back.nodes[3] == ("t", ("nested", 1)) and back.nodes[5] == "[1, 2]"


@pytest.mark.parametrize(("writer", "reader", "ext"), FORMATS)
def test_random_graph_with_integer_names(writer, reader, ext, tmp_path):
    net = Network.from_graph(erdos_renyi(12, 0.4, 2, 2, seed=5), x0="random", seed=5)
    _round_trip(net, writer, reader, ext, tmp_path)


def test_encoding_of_node_names_is_reversible_and_documented():
    assert encode_node(("in", 0)) == ["in", 0]
    assert decode_node(["h", 1, [2, 3]]) == ("h", 1, (2, 3))
    assert encode_node(np.int64(4)) == 4 and type(encode_node(np.int64(4))) is int
    with pytest.raises(ValueError, match="cannot be written"):
        encode_node(frozenset())
    with pytest.raises(ValueError, match="cannot be written"):
        encode_node(float("nan"))


def test_json_is_node_link_and_graphml_is_readable_by_networkx(tmp_path):
    net = Network.from_graph(crossbar(2, 2, r_wire=1.0))
    data = to_node_link(net)
    assert set(data) >= {"directed", "multigraph", "graph", "nodes", "edges"}
    assert data["nodes"][0] == {"id": ["w", 0, 0], "role": "input"}
    write_graphml(net, tmp_path / "x.graphml")
    g = nx.read_graphml(tmp_path / "x.graphml")
    assert g.number_of_nodes() == net.n_nodes and g.number_of_edges() == net.n_edges
    assert g.nodes["n0"]["name"] == '["w", 0, 0]' and g.nodes["n0"]["role"] == "input"
    assert {d["device"] for _, _, d in g.edges(data=True)} == {"VTEAM", "Resistor"}


def test_write_and_read_by_extension(tmp_path):
    net = Network.from_graph(layered([2, 2]))
    for ext in ("json", "graphml"):
        write_network(net, tmp_path / f"n.{ext}")
        _assert_same(net, read_network(tmp_path / f"n.{ext}"))
    with pytest.raises(ValueError, match="unknown network file type '.txt'"):
        write_network(net, tmp_path / "n.txt")


def test_networkx_graphml_without_memsim_data_reads_leniently(tmp_path):
    g = nx.DiGraph()
    g.add_node("i", role="input")
    g.add_edge("i", "o")
    g.add_edge("o", "x")
    nx.write_graphml(g, tmp_path / "plain.graphml")
    net = read_graphml(tmp_path / "plain.graphml")
    assert net.nodes == ["i", "o", "x"] and net.inputs == ["i"]
    assert [(e.u, e.v) for e in net.edges] == [("i", "o"), ("o", "x")]
    assert all(e.device == VTEAM() and e.x0 == 0.5 for e in net.edges)


def _json_file(tmp_path, mutate):
    data = to_node_link(Network.from_graph(layered([2, 2]), LinearIonDrift()))
    mutate(data)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data))
    return path


@pytest.mark.parametrize(
    ("mutate", "needle"),
    [
        (lambda d: d["edges"][1]["device"].update({"class": "Memristron"}), "edge 1: unknown device class 'Memristron'"),
        (lambda d: d["edges"][0]["device"]["params"].update({"colour": 1}), "LinearIonDrift has no parameter 'colour'"),
        (lambda d: d["edges"][0]["device"]["params"].update({"r_on": "low"}), "LinearIonDrift.r_on must be of type float"),
        (lambda d: d["edges"][0]["device"]["params"].update({"r_on": 1e9}), "r_on .* must be < r_off"),
        (lambda d: d["edges"][0].update({"x0": 2.0}), r"edge 0: edge .*x0 must be in \[0, 1\]"),
        (lambda d: d["edges"][0].update({"target": ["nowhere", 0]}), "endpoint .*nowhere.* is not a declared node"),
        (lambda d: d["edges"][0].update({"index": 5}), "edge indices must be 0 .. 3"),
        (lambda d: d["edges"][0].pop("index"), "edge 0 has no 'index' while others do"),
        (lambda d: d["nodes"][0].update({"role": "boss"}), "role must be one of"),
        (lambda d: d["nodes"].append(dict(d["nodes"][0])), "appears twice"),
        (lambda d: d.update({"version": 99}), "version 99 is not supported"),
        (lambda d: d.update({"format": "other"}), "format must be 'memsim-network'"),
        (lambda d: d.update({"nodes": {}}), "'nodes' must be a list"),
        (lambda d: d["graph"].update({"default_device": {"class": "Nope"}}), "default_device: unknown device class 'Nope'"),
    ],
)
def test_bad_json_fields_give_one_line_errors(tmp_path, mutate, needle):
    path = _json_file(tmp_path, mutate)
    with pytest.raises(ValueError, match=needle) as exc:
        read_json(path)
    assert "\n" not in str(exc.value) and str(path) in str(exc.value)


def test_bad_graphml_files(tmp_path):
    good = tmp_path / "good.graphml"
    write_graphml(Network.from_graph(layered([2, 2]), LinearIonDrift()), good)
    text = good.read_text()
    cases = {
        "unknown class": (text.replace(">LinearIonDrift<", ">Memristron<", 1), "unknown device class 'Memristron'"),
        "bad number": (text.replace(">100.0<", ">lots<", 1), "'lots' is not a valid double"),
        "truncated": (text[: len(text) // 2], "malformed GraphML"),
        "not graphml": ("<html></html>", "not a GraphML file"),
        "bad name": (text.replace('>["in", 0]<', ">[in<", 1), "is not a JSON-encoded node name"),
    }
    for label, (body, needle) in cases.items():
        path = tmp_path / "bad.graphml"
        path.write_text(body)
        with pytest.raises(ValueError, match=needle) as exc:
            read_graphml(path)
        assert "\n" not in str(exc.value), label


def test_missing_and_malformed_files(tmp_path):
    for reader in (read_json, read_graphml, load_config):
        with pytest.raises(FileNotFoundError, match="not found: .*missing"):
            reader(tmp_path / "missing")
    (tmp_path / "bad.json").write_text("{nodes: ")
    with pytest.raises(ValueError, match=r"bad.json: malformed JSON: .*line 1, column 2"):
        read_json(tmp_path / "bad.json")
    with pytest.raises(ValueError, match="is not a file"):
        read_json(tmp_path)


def test_load_config(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text('name = "x"\n[device]\npreset = "HP_TIO2"\nr_off = 2e4\n')
    assert load_config(path) == {"name": "x", "device": {"preset": "HP_TIO2", "r_off": 2e4}}
    path.write_text('name = "x"\nname = "y"\n')
    with pytest.raises(ValueError, match=r"c.toml: malformed TOML: .*line 2") as exc:
        load_config(path)
    assert "\n" not in str(exc.value)
    path.write_bytes(b"\xff\xfe")
    with pytest.raises(ValueError, match="not UTF-8"):
        load_config(path)


def test_device_dicts():
    for dev in ALL_DEVICES:
        assert device_from_dict(device_to_dict(dev)) == dev
    assert device_from_dict({"class": "VTEAM"}) == VTEAM()  # missing parameters take defaults
    with pytest.raises(ValueError, match=r"unknown key\(s\) \['extra'\]"):
        device_from_dict({"class": "VTEAM", "extra": 1})
    with pytest.raises(ValueError, match="n_switches must be of type int"):
        device_from_dict({"class": "MetastableSwitch", "params": {"n_switches": 2.5}})


def test_write_is_atomic_and_leaves_no_temporary_file(tmp_path):
    path = tmp_path / "n.json"
    write_json(Network.from_graph(layered([2, 2])), path)
    write_json(Network.from_graph(layered([2, 3])), path)  # overwrite in place
    assert read_json(path).n_edges == 6
    assert sorted(p.name for p in tmp_path.iterdir()) == ["n.json"]
