"""Network building and compilation."""

from __future__ import annotations

import dataclasses

import networkx as nx
import numpy as np
import pytest

from memsim import VTEAM, LinearIonDrift, Network, Resistor, compile_network


def _graph(kind):
    g = kind()
    g.add_node("i", role="input")
    g.add_node("o", role="output")
    g.add_edge("i", "h")
    g.add_edge("h", "o")
    return g


@pytest.mark.parametrize("kind", [nx.Graph, nx.DiGraph, nx.MultiGraph, nx.MultiDiGraph])
def test_from_any_networkx_graph(kind):
    c = Network.from_graph(_graph(kind), LinearIonDrift(), x0=0.25).compile()
    assert c.node_names == ("i", "o", "h")
    assert c.n_edges == 2
    np.testing.assert_array_equal(c.roles, [1, 2, 0])  # input, output, bulk
    np.testing.assert_array_equal(c.x0, [0.25, 0.25])
    b = c.incidence.toarray()
    # oriented incidence: +1 at u, -1 at v, every column sums to zero
    np.testing.assert_array_equal(b.sum(axis=0), 0)
    np.testing.assert_array_equal(np.abs(b).sum(axis=0), 2)


def test_multigraph_keeps_parallel_edges_with_their_own_attributes():
    g = nx.MultiDiGraph()
    g.add_node("a", role="input")
    g.add_edge("a", "b", x0=0.1)
    g.add_edge("a", "b", resistance=50.0)
    g.add_edge("b", "a", device=VTEAM(), x0=0.9)
    c = Network.from_graph(g, LinearIonDrift()).compile()
    assert c.n_edges == 3
    np.testing.assert_array_equal(c.model, [1, 0, 2])
    np.testing.assert_array_equal(c.x0, [0.1, 0.0, 0.9])  # resistors carry state 0
    assert c.params[1, 0] == 50.0
    # the third edge is oriented b -> a as given
    assert (c.node_names[c.edge_u[2]], c.node_names[c.edge_v[2]]) == ("b", "a")


def test_index_attribute_fixes_edge_order():
    g = nx.DiGraph()
    g.add_node(0, role="input")
    g.add_edge(0, 1, index=2)
    g.add_edge(0, 2, index=0)
    g.add_edge(1, 2, index=1)
    c = Network.from_graph(g, LinearIonDrift()).compile()
    assert list(zip(c.edge_u.tolist(), c.edge_v.tolist())) == [(0, 2), (1, 2), (0, 1)]


def test_initial_states_scalar_array_random_seeded():
    g = _graph(nx.DiGraph)
    c = Network.from_graph(g, LinearIonDrift(), x0=[0.2, 0.7]).compile()
    np.testing.assert_array_equal(c.x0, [0.2, 0.7])
    a = Network.from_graph(g, LinearIonDrift(), x0="random", seed=4).compile()
    b = Network.from_graph(g, LinearIonDrift(), x0="random", seed=4).compile()
    d = Network.from_graph(g, LinearIonDrift(), x0="random", seed=5).compile()
    np.testing.assert_array_equal(a.x0, b.x0)
    assert not np.array_equal(a.x0, d.x0)
    assert np.all((a.x0 >= 0) & (a.x0 < 1))


def test_compiled_is_frozen_and_read_only():
    c = Network.from_graph(_graph(nx.DiGraph), LinearIonDrift()).compile()
    with pytest.raises(dataclasses.FrozenInstanceError):
        c.x0 = np.zeros(2)  # type: ignore[misc]
    for name in ("roles", "edge_u", "edge_v", "model", "params", "x0", "leak"):
        with pytest.raises(ValueError, match="read-only"):
            getattr(c, name)[0] = 0
    with pytest.raises(TypeError):
        c.node_index["new"] = 3  # type: ignore[index]


def test_leak_mapping_and_index_of():
    net = Network.from_graph(_graph(nx.DiGraph), LinearIonDrift())
    c = compile_network(net, leak={"h": 1e-6})
    np.testing.assert_array_equal(c.leak, [0, 0, 1e-6])
    np.testing.assert_array_equal(c.index_of(["h", "i"]), [2, 0])
    with pytest.raises(KeyError, match="zz"):
        c.index_of(["zz"])


@pytest.mark.parametrize(
    ("build", "exc", "match"),
    [
        (lambda n: n.add_node("a", role="hidden"), ValueError, "role"),
        (lambda n: n.add_edge("a", "a"), ValueError, "self-loop"),
        (lambda n: n.add_edge("a", "b", x0=1.5), ValueError, "x0"),
        (lambda n: n.add_edge("a", "b", x0=float("nan")), ValueError, "x0"),
        (lambda n: n.add_edge("a", "b", device="vteam"), TypeError, "device"),
        (lambda n: n.add_resistor("a", "b", -1.0), ValueError, "resistance"),
        (lambda n: n.compile(), ValueError, "no edges"),
        (lambda n: (n.add_edge("a", "b"), n.compile()), ValueError, "input"),
        (lambda n: (n.add_node("a", "input"), n.add_edge("a", "b"), n.compile(leak=-1.0)), ValueError, "leak"),
        (lambda n: (n.add_node("a", "input"), n.add_edge("a", "b"), n.compile(leak={"q": 1.0})), KeyError, "q"),
    ],
)
def test_bad_input_raises_naming_the_problem(build, exc, match):
    with pytest.raises(exc, match=match):
        build(Network())


def test_from_graph_bad_x0():
    with pytest.raises(ValueError, match="x0"):
        Network.from_graph(_graph(nx.DiGraph), x0=[0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match="x0"):
        Network.from_graph(_graph(nx.DiGraph), x0="uniform")


def test_repr_and_networkx_roundtrip():
    net = Network.from_graph(_graph(nx.DiGraph), LinearIonDrift())
    net.add_resistor("h", "o", 10.0)
    assert "3 edges" in repr(net)
    g = net.to_networkx()
    assert g.number_of_edges() == 3
    assert isinstance(g.edges["h", "o", 2]["device"], Resistor)
    back = Network.from_graph(g).compile()
    assert back.n_edges == 3 and back.model.tolist() == [1, 1, 0]
