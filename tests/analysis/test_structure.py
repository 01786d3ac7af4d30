"""Symmetry, correlations and structural capacity: known answers and independent checks."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest

from memsim import LinearIonDrift, Network, crossbar, layered, terminal_response
from memsim.analysis.capacity import response_jacobian, structural_capacity
from memsim.analysis.correlations import (
    distance_decay,
    edge_distances,
    measured_correlations,
    omega_correlations,
    response_correlations,
)
from memsim.analysis.symmetry import (
    edge_classes,
    hidden_orbits,
    node_orbits,
    prune_random,
    spread_states,
    weighted_asymmetry,
)
from memsim.devices import functions as fn

DEV = LinearIonDrift()


# ------------------------------------------------------------------ symmetry
def test_orbits_of_known_networks():
    orbit_sizes = lambda g: sorted(len(o) for o in node_orbits(g))  # noqa: E731
    assert orbit_sizes(layered([2, 3, 2])) == [2, 2, 3]  # each layer is one orbit
    assert orbit_sizes(layered([32, 64, 64, 8])) == [8, 32, 64, 64]
    assert orbit_sizes(crossbar(3, 4)) == [3, 4]  # rows and columns
    # a path a-b-c with a, c inputs: the reflection swaps them
    g = nx.path_graph(["a", "b", "c"])
    g.nodes["a"]["role"] = g.nodes["c"]["role"] = "input"
    assert orbit_sizes(g) == [1, 2]
    g.nodes["c"]["role"] = "output"  # roles break the reflection
    assert orbit_sizes(g) == [1, 1, 1]


def test_orbits_on_a_non_twin_symmetry_need_the_search():
    # a 6-cycle with one input: the reflection through the input maps
    # nodes 1<->5 and 2<->4 (not twins, so VF2 must find it)
    g = nx.cycle_graph(6)
    g.nodes[0]["role"] = "input"
    assert sorted(map(sorted, node_orbits(g))) == [[0], [1, 5], [2, 4], [3]]


def test_edge_classes_and_weighted_asymmetry():
    net = Network.from_graph(layered([2, 3, 2]), DEV).compile()
    cls = edge_classes(net)
    assert np.array_equal(np.unique(cls), [0, 1]) and np.sum(cls == 0) == 6
    assert weighted_asymmetry(net, np.ones(12)) == 0.0
    w = np.ones(12)
    w[0] = 3.0  # one edge of the 6-edge class: CV = std/mean of [3,1,1,1,1,1]
    expected = 6 * np.std([3, 1, 1, 1, 1, 1]) / np.mean([3, 1, 1, 1, 1, 1]) / 12
    assert weighted_asymmetry(net, w) == pytest.approx(expected, rel=1e-12)
    with pytest.raises(ValueError, match="weights"):
        weighted_asymmetry(net, np.ones(3))


def test_symmetry_breaking_operations_are_seeded():
    net = Network.from_graph(layered([2, 4, 2]), DEV)
    a, b = prune_random(net, 5, seed=1), prune_random(net, 5, seed=1)
    assert np.array_equal(a, b) and a.sum() == 5
    assert not np.array_equal(a, prune_random(net, 5, seed=2))
    with pytest.raises(ValueError, match="k must"):
        prune_random(net, 99)
    x = spread_states(np.full(16, 0.5), 0.1, seed=3)
    assert np.array_equal(x, spread_states(np.full(16, 0.5), 0.1, seed=3))
    assert np.all((x >= 0) & (x <= 1)) and x.std() > 0


# -------------------------------------------------------------- correlations
def test_omega_correlations_zero_on_trees_and_perfect_on_one_loop():
    tree = nx.balanced_tree(2, 3)
    tree.nodes[0]["role"] = "input"
    assert np.all(omega_correlations(Network.from_graph(tree, DEV)) == 0)
    loop = nx.cycle_graph(5)
    loop.nodes[0]["role"] = "input"
    c = omega_correlations(Network.from_graph(loop, DEV))
    # one cycle: every edge carries the same loop current; orientation gives the sign
    np.testing.assert_allclose(np.abs(c), 1.0, atol=1e-12)


def test_response_correlations_diagonal_and_symmetry():
    net = Network.from_graph(layered([2, 3, 2]), DEV, x0="random", seed=0).compile()
    c = response_correlations(net)
    np.testing.assert_allclose(np.diag(c), 1.0, atol=1e-12)
    np.testing.assert_allclose(c, c.T, atol=1e-12)
    assert np.all(np.abs(c) <= 1 + 1e-12)


def test_measured_correlations_and_distance_decay():
    rng = np.random.default_rng(0)
    common = rng.standard_normal(200).cumsum()
    states = np.column_stack([common, 2 * common + 1, rng.standard_normal(200).cumsum()])
    c = measured_correlations(states)
    assert c[0, 1] == pytest.approx(1.0, abs=1e-12)  # exact affine copy
    assert abs(c[0, 2]) < 0.3  # independent walks: |r| ~ 1/sqrt(199) in expectation
    net = Network.from_graph(layered([2, 2, 2]), DEV)
    dist = edge_distances(net)
    assert dist[0, 0] == 0 and np.all(dist[np.triu_indices(8, 1)] >= 1)
    dd = distance_decay(np.where(dist == 1, 0.8, np.where(dist == 2, 0.1, 0.0)) + np.eye(8), net)
    assert dd.mean_abs.tolist() == pytest.approx([0.8, 0.1])
    assert dd.length == 2.0
    with pytest.raises(ValueError, match="T >= 3"):
        measured_correlations(np.zeros((2, 3)))


# -------------------------------------------------------- structural capacity
def test_response_jacobian_matches_finite_differences_of_terminal_response():
    # reference: central differences of memsim.terminal_response (Schur complement
    # by repeated nodal solves), an independent path; Y is linear-fractional in g,
    # so the O(h^2) error at h = 1e-6 * g is ~1e-12 relative
    net = Network.from_graph(layered([2, 3, 2]), DEV, x0="random", seed=4).compile()
    j_full, j_io = response_jacobian(net)
    g = fn.conductance(net.model, net.params, net.x0)
    terminals = np.concatenate([net.inputs, net.outputs])
    iu = np.triu_indices(terminals.size, 1)
    for e in (0, 5, 11):
        h = 1e-6 * g[e]
        gp, gm = g.copy(), g.copy()
        gp[e] += h
        gm[e] -= h
        dy = (terminal_response(net, gp, terminals) - terminal_response(net, gm, terminals)) / (2 * h)
        np.testing.assert_allclose(j_full[:, e], dy[iu], rtol=1e-6, atol=1e-9)
        np.testing.assert_allclose(j_io[:, e], dy[2:, :2].ravel(), rtol=1e-6, atol=1e-9)


def test_structural_capacity_symmetric_versus_broken():
    sym = structural_capacity(Network.from_graph(layered([2, 4, 2]), DEV, x0=0.5))
    rnd = structural_capacity(Network.from_graph(layered([2, 4, 2]), DEV, x0="random", seed=0))
    assert (sym.independent_entries, sym.io_entries) == (6, 4)
    assert sym.io_rank < rnd.io_rank == 4  # breaking the symmetry raises the rank
    assert sym.jacobian_rank < rnd.jacobian_rank == 6
    # a single device can change only one direction
    net = Network(DEV)
    net.add_node("a", "input")
    net.add_node("b", "output")
    net.add_edge("a", "b")
    assert structural_capacity(net).jacobian_rank == 1



def test_hidden_orbits_pin_the_terminals():
    from memsim import crossbar

    # layered 2-3-2: inputs and outputs are pinned, the three hidden nodes stay interchangeable
    assert [sorted(o) for o in hidden_orbits(layered([2, 3, 2]))] == [[("h", 1, 0), ("h", 1, 1), ("h", 1, 2)]]
    assert hidden_orbits(crossbar(2, 3)) == []  # no bulk node at all
    # a path i - a - b - o: with the terminals pinned nothing can swap a and b (node_orbits with
    # roles alone maps the path onto its reverse only if i and o had the same role: they do not)
    g = nx.path_graph(["i", "a", "b", "o"])
    g.nodes["i"]["role"], g.nodes["o"]["role"] = "input", "output"
    assert sorted(map(len, hidden_orbits(g))) == [1, 1]
    # two inputs joined to one bulk node each: node_orbits swaps the pairs, hidden_orbits cannot
    h = nx.Graph([("i0", "a"), ("i1", "b"), ("a", "o"), ("b", "o")])
    for n, r in (("i0", "input"), ("i1", "input"), ("o", "output")):
        h.nodes[n]["role"] = r
    assert sorted(map(len, node_orbits(h))) == [1, 2, 2]
    assert sorted(map(len, hidden_orbits(h))) == [1, 1]
