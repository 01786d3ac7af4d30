"""Hostile or mistaken network input (issue 13): unknown edge attributes, deep nesting."""

import networkx as nx
import pytest

from memsim import Network, layered
from memsim.circuit.io import MAX_NESTING, load_config, read_network


def test_unknown_edge_attributes_are_an_error_naming_them():
    g = layered([2, 2])
    for _, _, d in g.edges(data=True):
        d["r"] = 1.0  # meant as a wire resistance; used to become all memristors silently
    with pytest.raises(ValueError, match=r"edge attribute\(s\) 'r' are not memsim's .*'resistance' in ohm"):
        Network.from_graph(g)
    net = Network.from_graph(g, unknown_attributes="ignore")  # the explicit opt-out
    assert net.n_edges == 4


def test_known_edge_attributes_are_used():
    g = nx.DiGraph()
    g.add_node("a", role="input")
    g.add_edge("a", "b", resistance=10.0, index=0)
    g.add_edge("b", "c", x0=0.25, index=1)
    net = Network.from_graph(g)
    c = net.compile()
    assert list(c.dynamic) == [False, True] and c.x0[1] == 0.25


@pytest.mark.parametrize("depth", [MAX_NESTING + 1, 1000, 100_000])
def test_deeply_nested_json_is_one_line_value_error(tmp_path, depth):
    path = tmp_path / "deep.json"
    path.write_text('{"nodes": ' + "[" * depth + "]" * depth + "}")
    with pytest.raises(ValueError, match=f"nested more than {MAX_NESTING} levels"):
        read_network(path)


@pytest.mark.parametrize("depth", [MAX_NESTING + 1, 1000])
def test_deeply_nested_toml_is_one_line_value_error(tmp_path, depth):
    path = tmp_path / "deep.toml"
    path.write_text("a = " + "[" * depth + "]" * depth + "\n")
    with pytest.raises(ValueError, match=f"nested more than {MAX_NESTING} levels"):
        load_config(path)


def test_brackets_inside_strings_do_not_count(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text('a = "' + "[" * 1000 + '"\n')
    assert load_config(path) == {"a": "[" * 1000}
