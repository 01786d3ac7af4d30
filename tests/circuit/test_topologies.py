"""Tests of memsim.circuit.topologies (graph generators for Network.from_graph)."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest

from memsim.circuit.network import Network
from memsim.circuit.topologies import (
    crossbar,
    erdos_renyi,
    layered,
    orient_by_potential,
    random_geometric,
    set_roles,
    watts_strogatz,
)


def roles(g: nx.Graph, role: str) -> list:
    return [n for n, r in g.nodes(data="role") if r == role]


# --------------------------------------------------------------------- layered
def test_layered_counts_and_roles():
    g = layered([2, 4, 2])
    assert isinstance(g, nx.DiGraph)
    assert (g.number_of_nodes(), g.number_of_edges()) == (8, 16)
    assert roles(g, "input") == [("in", 0), ("in", 1)]
    assert roles(g, "output") == [("out", 0), ("out", 1)]
    assert roles(g, "bulk") == [("h", 1, j) for j in range(4)]
    assert layered([32, 64, 64, 8]).number_of_edges() == 32 * 64 + 64 * 64 + 64 * 8 == 6656
    assert list(layered([3, 2]).edges) == [(("in", i), ("out", j)) for i in range(3) for j in range(2)]


def test_layered_edges_go_to_next_layer_in_documented_order():
    sizes = [3, 5, 4, 2]
    g = layered(sizes)

    def layer(node):
        return {"in": 0, "out": len(sizes) - 1}.get(node[0], node[1] if node[0] == "h" else None)

    edges = list(g.edges)
    assert all(layer(v) == layer(u) + 1 for u, v in edges)
    # layer pair by layer pair, then source, then target
    expected = [
        (u, v)
        for k in range(len(sizes) - 1)
        for u in [n for n in g if layer(n) == k]
        for v in [n for n in g if layer(n) == k + 1]
    ]
    assert edges == expected
    assert all(d == {} for _, _, d in g.edges(data=True))  # memristors: no device attribute


# -------------------------------------------------------------------- crossbar
def test_crossbar_ideal():
    g = crossbar(2, 3)
    assert (g.number_of_nodes(), g.number_of_edges()) == (5, 6)
    assert roles(g, "input") == [("row", 0), ("row", 1)]
    assert roles(g, "output") == [("col", j) for j in range(3)]
    assert roles(g, "bulk") == []
    for e, (u, v) in enumerate(g.edges):  # edge e is cell (e // cols, e % cols)
        assert (u, v) == (("row", e // 3), ("col", e % 3))


@pytest.mark.parametrize(("rows", "cols"), [(3, 4), (1, 3), (4, 1), (1, 1)])
def test_crossbar_with_wires(rows, cols):
    g = crossbar(rows, cols, r_wire=2.5)
    assert g.number_of_nodes() == 2 * rows * cols
    assert g.number_of_edges() == rows * cols + rows * (cols - 1) + (rows - 1) * cols
    assert roles(g, "input") == [("w", i, 0) for i in range(rows)]
    assert roles(g, "output") == [("b", rows - 1, j) for j in range(cols)]
    assert sorted(d["index"] for _, _, d in g.edges(data=True)) == list(range(g.number_of_edges()))
    for u, v, d in g.edges(data=True):
        d = {key: val for key, val in d.items() if key != "index"}
        if u[0] == "w" and v[0] == "b":
            assert (u[1:], d) == (v[1:], {})  # memristor of one cell, no other attributes
        else:
            assert d == {"resistance": 2.5}
            assert u[0] == v[0]
            assert v[1:] == ((u[1], u[2] + 1) if u[0] == "w" else (u[1] + 1, u[2]))


def test_crossbar_cell_edge_index_convention_after_compile():
    rows, cols = 3, 4
    ideal = Network.from_graph(crossbar(rows, cols)).compile()
    names = ideal.node_names
    for e in range(ideal.n_edges):
        assert (names[ideal.edge_u[e]], names[ideal.edge_v[e]]) == (("row", e // cols), ("col", e % cols))

    c = Network.from_graph(crossbar(rows, cols, r_wire=1.0)).compile()
    # documented: memristors first, cell (i, j) is edge i * cols + j; then wires
    assert np.array_equal(np.flatnonzero(c.dynamic), np.arange(rows * cols))
    for e in range(rows * cols):
        i, j = divmod(e, cols)
        assert (c.node_names[c.edge_u[e]], c.node_names[c.edge_v[e]]) == (("w", i, j), ("b", i, j))
    wires = [(c.node_names[c.edge_u[e]], c.node_names[c.edge_v[e]]) for e in range(rows * cols, c.n_edges)]
    word = [(("w", i, j), ("w", i, j + 1)) for i in range(rows) for j in range(cols - 1)]
    bit = [(("b", i, j), ("b", i + 1, j)) for i in range(rows - 1) for j in range(cols)]
    assert wires == word + bit


def test_round_trip_through_network_compile():
    g = crossbar(3, 4, r_wire=0.5)
    c = Network.from_graph(g, x0=0.3).compile()
    assert c.n_edges == g.number_of_edges() == 12 + 9 + 8
    by_index = sorted(g.edges(data=True), key=lambda e: e[2]["index"])  # the compiled edge order
    is_wire = np.array(["resistance" in d for _, _, d in by_index])
    assert is_wire.sum() == 17
    np.testing.assert_array_equal(c.model == 0, is_wire)  # wires became resistors
    np.testing.assert_array_equal(c.params[is_wire, 0], 0.5)  # slot 0 of a Resistor is R (ohm)
    np.testing.assert_array_equal(c.x0[~is_wire], 0.3)
    assert len(c.inputs) == 3 and len(c.outputs) == 4

    c = Network.from_graph(layered([2, 4, 2])).compile()
    assert c.n_edges == 16 and np.all(c.model != 0)
    for gen in (erdos_renyi(15, 0.3, 2, 2, seed=0), random_geometric(20, 0.5, 2, 2, seed=0)):
        c = Network.from_graph(gen).compile()
        assert c.n_edges == gen.number_of_edges() and np.all(c.model != 0)
        assert len(c.inputs) == 2 and len(c.outputs) == 2


# ---------------------------------------------------------------------- random
RANDOM = {
    "erdos_renyi": lambda seed: erdos_renyi(25, 0.2, 3, 2, seed=seed),
    "watts_strogatz": lambda seed: watts_strogatz(25, 4, 0.2, 3, 2, seed=seed),
    "random_geometric": lambda seed: random_geometric(25, 0.45, 3, 2, seed=seed),
}


def snapshot(g: nx.Graph):
    return list(g.nodes(data=True)), list(g.edges(data=True))


@pytest.mark.parametrize("name", sorted(RANDOM))
def test_random_reproducible_connected_with_roles(name):
    make = RANDOM[name]
    g = make(7)
    assert list(g) == list(range(25))
    assert nx.is_connected(g)
    assert len(roles(g, "input")) == 3 and len(roles(g, "output")) == 2
    assert len(roles(g, "bulk")) == 20
    assert snapshot(make(7)) == snapshot(g)  # same seed, same node and edge order
    assert snapshot(make(np.random.default_rng(7))) == snapshot(g)  # a Generator works like its seed
    assert snapshot(make(8)) != snapshot(g)


def test_watts_strogatz_edge_count():
    assert watts_strogatz(30, 6, 0.3, 1, 1, seed=3).number_of_edges() == 30 * 6 // 2


def test_random_geometric_positions_and_electrodes():
    g = random_geometric(40, 0.35, 4, 3, seed=2)
    pos = nx.get_node_attributes(g, "pos")
    assert len(pos) == 40 and all(len(p) == 2 and all(0 <= c < 1 for c in p) for p in pos.values())
    for u, v in g.edges:
        assert np.hypot(pos[u][0] - pos[v][0], pos[u][1] - pos[v][1]) <= 0.35
    x = sorted(pos, key=lambda n: pos[n][0])
    assert set(roles(g, "input")) == set(x[:4])
    assert set(roles(g, "output")) == set(x[-3:])
    g3 = random_geometric(30, 0.6, 1, 1, seed=0, dim=3)
    assert all(len(p) == 3 for p in nx.get_node_attributes(g3, "pos").values())


def test_connected_retry_gives_up_with_value_error():
    with pytest.raises(ValueError, match="connected"):
        erdos_renyi(30, 0.0, 1, 1, seed=0)
    with pytest.raises(ValueError, match="connected"):
        random_geometric(30, 0.01, 1, 1, seed=0)
    g = erdos_renyi(30, 0.0, 1, 1, seed=0, connected=False)
    assert g.number_of_edges() == 0 and len(roles(g, "input")) == 1


# ------------------------------------------------------------------ validation
@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda: layered([3]), "sizes"),
        (lambda: layered([3, 0, 2]), "sizes[1]"),
        (lambda: layered([3, 2.5]), "sizes[1]"),
        (lambda: layered("ab"), "sizes"),
        (lambda: crossbar(0, 2), "rows"),
        (lambda: crossbar(2, True), "cols"),
        (lambda: crossbar(2, 2, r_wire=-1.0), "r_wire"),
        (lambda: crossbar(2, 2, r_wire=float("nan")), "r_wire"),
        (lambda: erdos_renyi(0, 0.5, 1, 1), "n"),
        (lambda: erdos_renyi(10, 1.5, 1, 1), "p"),
        (lambda: erdos_renyi(10, 0.5, 0, 1), "n_inputs"),
        (lambda: erdos_renyi(10, 0.5, 1, -1), "n_outputs"),
        (lambda: erdos_renyi(10, 0.5, 6, 5), "n_inputs + n_outputs"),
        (lambda: watts_strogatz(10, 3, 0.1, 1, 1), "k"),
        (lambda: watts_strogatz(10, 10, 0.1, 1, 1), "k"),
        (lambda: watts_strogatz(10, 4, -0.1, 1, 1), "p"),
        (lambda: random_geometric(10, 0.0, 1, 1), "radius"),
        (lambda: random_geometric(10, 0.5, 1, 1, dim=0), "dim"),
        (lambda: set_roles(nx.path_graph(3), [0], [5]), "outputs"),
        (lambda: set_roles(nx.path_graph(3), [0, 1], [1]), "disjoint"),
    ],
)
def test_invalid_arguments_raise_value_error_naming_them(call, name):
    with pytest.raises(ValueError) as info:
        call()
    assert name in str(info.value)
    assert "\n" not in str(info.value)


def test_set_roles_resets_others_to_bulk():
    g = nx.path_graph(4)
    g.nodes[3]["role"] = "output"
    assert set_roles(g, [0], [1]) is g
    assert [g.nodes[n]["role"] for n in g] == ["input", "output", "bulk", "bulk"]



# ------------------------------------------------------------------ orientation for the controller
@pytest.mark.parametrize("make", [lambda: crossbar(3, 4), lambda: layered([3, 5, 2]),
                                  lambda: random_geometric(20, 0.4, 3, 3, seed=2),
                                  lambda: watts_strogatz(16, 4, 0.3, 2, 2, seed=1)])
def test_orient_by_potential_puts_no_positive_voltage_on_any_device(make):
    # independent check: the nodal solver with every device at 1 S, inputs at 1 V and outputs at
    # 0 V; each oriented edge u -> v must then see v_u - v_v <= 0 (up to rounding, 1e-12 V)
    from memsim import Network, Resistor
    from memsim.solve.nodal import solve_nodal

    graph = make()
    g = orient_by_potential(graph)
    assert g.number_of_edges() == graph.number_of_edges()
    assert sorted(i for _, _, i in g.edges(data="index")) == list(range(graph.number_of_edges()))
    assert all({u, v} == set(e) for (u, v, i), e in zip(sorted(g.edges(data="index"), key=lambda t: t[2]),
                                                        graph.edges()))
    net = Network.from_graph(g, Resistor(1.0)).compile()
    driven = np.concatenate([net.inputs, net.outputs])
    sol = solve_nodal(net, np.ones(net.n_edges), driven,
                      np.concatenate([np.ones(net.inputs.size), np.zeros(net.outputs.size)]))
    assert np.nanmax(sol.v_edge) <= 1e-12
    assert np.nanmin(sol.v_edge) < -1e-3  # and the drive does reach the devices


def test_orient_by_potential_matches_the_backward_layered_orientation_and_validates():
    assert set(orient_by_potential(layered([2, 4, 3])).edges) == set(layered([2, 4, 3], orientation="backward").edges)
    # an existing numbering (the generators' index attribute, which Network follows) is kept
    back = layered([2, 4, 3], orientation="backward")
    assert dict(((u, v), i) for u, v, i in orient_by_potential(back).edges(data="index")) == \
        dict(((u, v), i) for u, v, i in back.edges(data="index"))
    g = nx.path_graph(3)
    with pytest.raises(ValueError, match="input"):
        orient_by_potential(g)
    with pytest.raises(ValueError, match="Graph"):
        orient_by_potential(nx.MultiGraph(g))
