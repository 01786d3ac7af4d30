"""Tests of the nodal solvers: memsim.solve.nodal (NumPy reference), the numba kernel
``electrical_dense`` and ``SparseElectrical`` (sparse, Woodbury low-rank updates).

References used below:

- hand solutions of small resistor circuits (Ohm's and Kirchhoff's laws, Thevenin's theorem);
- circuit theorems that hold for every linear resistive network (DESIGN.md section 2):
  Kirchhoff's current law at floating nodes, Tellegen's theorem, passivity, reciprocity
  (the terminal conductance matrix is symmetric positive semi-definite), linearity in the drive
  and invariance under relabelling of the nodes;
- the NumPy reference ``solve_nodal`` itself, for the compiled and sparse solvers.

Tolerances.  A backward-stable solve of ``L_FF v_F = b`` in double precision (unit roundoff
u = eps/2 = 1.1e-16) has a forward error ``|dv| / |v| <~ 3 F u kappa(L_FF)`` (Higham, *Accuracy
and Stability of Numerical Algorithms*, 2nd ed., Thm. 7.2 with the backward error of Thm. 9.4;
F unknowns).  Two different solvers (LU with pivoting in NumPy, Cholesky in numba, SuperLU) or two
orderings of the same unknowns therefore agree to about ``F eps kappa``; :func:`voltage_tol`
returns ``32 F eps kappa`` (safety factor ~10 over the bound; on 2000 random cases like the ones
drawn here the observed error never exceeded 1.2 F eps kappa).  The node voltages obey the
maximum principle (``|v_F| <= max |v_D|``), so voltage errors are compared against
``vmax = max |v_D|`` and edge-current errors (``|di_e| <= g_e |d(v_u - v_v)|``) against
``gmax * vmax``.  Kappa is computed per example with numpy.linalg.cond.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from memsim import LinearIonDrift, Network
from memsim.circuit.network import compile_network
from memsim.devices import functions as fn
from memsim.solve import kernels as kn
from memsim.solve import nodal
from memsim.solve.nodal import find_islands, laplacian, solve_nodal, terminal_response
from memsim.solve.sparse import SparseElectrical

EPS = np.finfo(float).eps

# Hand-solved circuits have kappa(L_FF) < 10 and at most 2 unknowns, so LU leaves errors of a few
# eps (~1e-15) relative; 1e-12 leaves a wide margin yet any error in a formula or a sign would be
# O(1).
RTOL_HAND = 1e-12


def resistor_net(nodes, resistors, leak=None):
    """Compile a resistor network; ``nodes`` is [(name, role)], ``resistors`` [(u, v, ohm)]."""
    net = Network()
    for name, role in nodes:
        net.add_node(name, role)
    for u, v, r in resistors:
        net.add_resistor(u, v, r)
    c = compile_network(net, leak=leak if leak is not None else 0.0)
    return c, fn.conductance(c.model, c.params, c.x0)


# ===================================================================== 1. hand-solved circuits
def test_voltage_divider():
    # in --1k-- mid --3k-- gnd, V = 2 V: v_mid = V R2 / (R1 + R2) = 1.5 V, I = V / (R1 + R2) = 0.5 mA.
    c, g = resistor_net([("in", "input"), ("mid", "bulk"), ("gnd", "output")],
                        [("in", "mid", 1e3), ("mid", "gnd", 3e3)])
    sol = solve_nodal(c, g, ["in", "gnd"], [2.0, 0.0], by_name=True)
    np.testing.assert_allclose(sol.v_node, [2.0, 1.5, 0.0], rtol=RTOL_HAND)
    np.testing.assert_allclose(sol.v_edge, [0.5, 1.5], rtol=RTOL_HAND)
    np.testing.assert_allclose(sol.i_edge, [0.5e-3, 0.5e-3], rtol=RTOL_HAND)
    # source at "in" delivers +0.5 mA; the grounded node takes it back (-0.5 mA); none at "mid"
    np.testing.assert_allclose(sol.i_node, [0.5e-3, 0.0, -0.5e-3], rtol=RTOL_HAND, atol=0)
    np.testing.assert_allclose(sol.power, 2.0 * 0.5e-3, rtol=RTOL_HAND)  # P = V I = 1 mW


def test_series_parallel():
    # in --100-- m --(200 || 300)-- gnd, V = 2.2 V.  R_eq = 100 + 120 = 220 ohm, I = 10 mA,
    # v_m = 2.2 - 100 * 0.01 = 1.2 V, branch currents 1.2/200 = 6 mA and 1.2/300 = 4 mA.
    c, g = resistor_net([("in", "input"), ("m", "bulk"), ("gnd", "output")],
                        [("in", "m", 100.0), ("m", "gnd", 200.0), ("m", "gnd", 300.0)])
    sol = solve_nodal(c, g, [0, 2], [2.2, 0.0])
    np.testing.assert_allclose(sol.v_node, [2.2, 1.2, 0.0], rtol=RTOL_HAND)
    np.testing.assert_allclose(sol.i_edge, [10e-3, 6e-3, 4e-3], rtol=RTOL_HAND)
    np.testing.assert_allclose(sol.i_node[[0, 2]], [10e-3, -10e-3], rtol=RTOL_HAND)
    # terminal response between in and gnd is the 2x2 conductance matrix of 1/220 S
    y = terminal_response(c, g, [0, 2])
    np.testing.assert_allclose(y, np.array([[1, -1], [-1, 1]]) / 220.0, rtol=RTOL_HAND)


def bridge(r1, r2, r3, r4, r5):
    # A (driven) -R1- B -R2- C (ground);  A -R3- D -R4- C;  bridge R5: B -> D (edge index 4)
    return resistor_net(
        [("A", "input"), ("B", "bulk"), ("C", "output"), ("D", "bulk")],
        [("A", "B", r1), ("B", "C", r2), ("A", "D", r3), ("D", "C", r4), ("B", "D", r5)],
    )


def test_wheatstone_bridge_balanced():
    # R1/R2 = R3/R4 = 1/2: v_B = v_D = 2V/3, no bridge current.  The computed v_B and v_D carry
    # errors of a few eps * V, so |I5| <= ~4 eps V / R5; 1e-15 * V / R5 is ~4.5 eps.
    v = 1.0
    c, g = bridge(100.0, 200.0, 150.0, 300.0, 50.0)
    sol = solve_nodal(c, g, ["A", "C"], [v, 0.0], by_name=True)
    np.testing.assert_allclose(sol.v_node[[1, 3]], [2 * v / 3, 2 * v / 3], rtol=RTOL_HAND)
    assert abs(sol.i_edge[4]) <= 1e-15 * v / 50.0
    # total current: (R1 + R2) || (R3 + R4) = 300 || 450 = 180 ohm
    np.testing.assert_allclose(sol.i_node[0], v / 180.0, rtol=RTOL_HAND)


def test_wheatstone_bridge_unbalanced_closed_form():
    # Thevenin across B-D: V_th = V (R2/(R1+R2) - R4/(R3+R4)) = 2/3 - 1/4 = 5/12 V,
    # R_th = R1||R2 + R3||R4 = 200/3 + 75 = 425/3 ohm, I5 = V_th / (R_th + R5) = 1/460 A (B -> D).
    r1, r2, r3, r4, r5, v = 100.0, 200.0, 300.0, 100.0, 50.0, 1.0
    c, g = bridge(r1, r2, r3, r4, r5)
    sol = solve_nodal(c, g, ["A", "C"], [v, 0.0], by_name=True)
    v_th = v * (r2 / (r1 + r2) - r4 / (r3 + r4))
    r_th = r1 * r2 / (r1 + r2) + r3 * r4 / (r3 + r4)
    i5 = v_th / (r_th + r5)
    np.testing.assert_allclose(i5, 1.0 / 460.0, rtol=1e-15)  # the closed form itself
    np.testing.assert_allclose(sol.i_edge[4], i5, rtol=RTOL_HAND)
    # KCL at B and D with the hand value of I5
    np.testing.assert_allclose(sol.i_edge[0], sol.i_edge[1] + i5, rtol=RTOL_HAND)
    np.testing.assert_allclose(sol.i_edge[2] + i5, sol.i_edge[3], rtol=RTOL_HAND)
    # v_B - v_D = I5 R5
    np.testing.assert_allclose(sol.v_edge[4], i5 * r5, rtol=RTOL_HAND)


def test_current_read_through_grounded_output():
    # in --2k-- h --3k-- out (grounded through an ammeter), h --1k-- dead end d (floating).
    # Ammeter current = V / (R1 + R2) = 0.5 V / 5k = 0.1 mA flowing *out of* the network at out,
    # so the source at out delivers -0.1 mA; the dead end carries nothing and sits at v_h.
    c, g = resistor_net([("in", "input"), ("h", "bulk"), ("out", "output"), ("d", "bulk")],
                        [("in", "h", 2e3), ("h", "out", 3e3), ("h", "d", 1e3)])
    sol = solve_nodal(c, g, [c.node_index["in"], c.node_index["out"]], [0.5, 0.0])
    np.testing.assert_allclose(-sol.i_node[c.node_index["out"]], 0.5 / 5e3, rtol=RTOL_HAND)
    np.testing.assert_allclose(sol.v_node[c.node_index["h"]], 0.5 * 3 / 5, rtol=RTOL_HAND)
    np.testing.assert_allclose(sol.v_node[c.node_index["d"]], 0.5 * 3 / 5, rtol=RTOL_HAND)
    # the dead-end current is rounding noise on v_h - v_d = 0: a few eps * v_h / 1k
    assert abs(sol.i_edge[2]) <= 1e-15 * 0.3 / 1e3
    # disconnecting the output makes it float: no current, everything at the input potential
    sol2 = solve_nodal(c, g, [c.node_index["in"]], [0.5])
    np.testing.assert_allclose(sol2.v_node, 0.5, rtol=RTOL_HAND)
    np.testing.assert_allclose(sol2.i_edge, 0.0, atol=1e-15 * 0.5 / 1e3)  # rounding noise only


def test_leak_conductance():
    # in --1k-- mid --1k-- gnd with a leak G = 1 mS from mid to ground:
    # KCL at mid: (V - v)/R1 = v/R2 + G v  ->  v = (V/R1) / (1/R1 + 1/R2 + G) = V/3.
    # A leak at the driven input adds G_in V to the current its source delivers.
    v, g_leak, g_in = 3.0, 1e-3, 2e-3
    c, g = resistor_net([("in", "input"), ("mid", "bulk"), ("gnd", "output")],
                        [("in", "mid", 1e3), ("mid", "gnd", 1e3)],
                        leak={"mid": g_leak, "in": g_in})
    sol = solve_nodal(c, g, ["in", "gnd"], [v, 0.0], by_name=True)
    np.testing.assert_allclose(sol.v_node[1], v / 3, rtol=RTOL_HAND)
    i_in = (v - v / 3) / 1e3
    np.testing.assert_allclose(sol.i_edge, [i_in, (v / 3) / 1e3], rtol=RTOL_HAND)
    np.testing.assert_allclose(sol.i_node[0], i_in + g_in * v, rtol=RTOL_HAND)
    np.testing.assert_allclose(sol.i_node[2], -(v / 3) / 1e3, rtol=RTOL_HAND)
    # with only the input driven, mid is still anchored by its leak: v = V R_leak/(R1 + R_leak)
    # through the path in -1k- mid -leak- ground (gnd then floats at v_mid).
    sol2 = solve_nodal(c, g, ["in"], [v], by_name=True)
    np.testing.assert_allclose(sol2.v_node[1], v * 1e3 / (1e3 + 1e3), rtol=RTOL_HAND)


def test_leak_compile_validation():
    net = Network()
    net.add_node("a", "input")
    net.add_resistor("a", "b", 1.0)
    with pytest.raises(ValueError, match="leak"):
        compile_network(net, leak={"a": -1.0})
    with pytest.raises(KeyError, match="leak"):
        compile_network(net, leak={"zz": 1.0})


def test_series_emf_loop():
    # Both terminals grounded, an EMF E aiding a -> gnd in series with R2: loop current
    # E / (R1 + R2) flows in -> a -> gnd, so v_a = -E R1 / (R1 + R2) and the source at "in"
    # delivers +E / (R1 + R2).
    e, r1, r2 = 1.5, 1e3, 2e3
    c, g = resistor_net([("in", "input"), ("a", "bulk"), ("gnd", "output")],
                        [("in", "a", r1), ("a", "gnd", r2)])
    sol = solve_nodal(c, g, [0, 2], [0.0, 0.0], edge_emf=np.array([0.0, e]))
    i = e / (r1 + r2)
    np.testing.assert_allclose(sol.v_node[1], -e * r1 / (r1 + r2), rtol=RTOL_HAND)
    np.testing.assert_allclose(sol.i_edge, [i, i], rtol=RTOL_HAND)
    np.testing.assert_allclose(sol.i_node[[0, 2]], [i, -i], rtol=RTOL_HAND)
    np.testing.assert_allclose(sol.power, i**2 * (r1 + r2), rtol=RTOL_HAND)  # power in the resistors


# ===================================================================== 2. floating islands
def island_circuit():
    # main: in -1k- a -1k- gnd, plus a 470-ohm edge in -> gnd that will be pruned (edge 2);
    # detached triangle p, q, r (edges 3-5) with no path to any driven node;
    # a -> s (edge 6, pruned) and s -> t (edge 7): s, t become an island once edge 6 is open.
    return resistor_net(
        [("in", "input"), ("a", "bulk"), ("gnd", "output"),
         ("p", "bulk"), ("q", "bulk"), ("r", "bulk"), ("s", "bulk"), ("t", "bulk")],
        [("in", "a", 1e3), ("a", "gnd", 1e3), ("in", "gnd", 470.0),
         ("p", "q", 1e3), ("q", "r", 2e3), ("r", "p", 3e3),
         ("a", "s", 1e3), ("s", "t", 1e3)],
    )


def test_floating_island_gives_nan_and_zero_current():
    c, g = island_circuit()
    g = g.copy()
    g[[2, 6]] = 0.0  # pruned edges
    sol = solve_nodal(c, g, ["in", "gnd"], [1.0, 0.0], by_name=True)  # no exception, no warning
    island = [c.node_index[n] for n in "pqrst"]
    assert np.all(np.isnan(sol.v_node[island]))
    np.testing.assert_allclose(sol.v_node[:3], [1.0, 0.5, 0.0], rtol=RTOL_HAND)
    # edges inside the islands: zero voltage and zero current, exactly
    assert np.array_equal(sol.v_edge[[3, 4, 5, 7]], np.zeros(4))
    assert np.array_equal(sol.i_edge[[3, 4, 5, 7]], np.zeros(4))
    # pruned edges carry exactly zero current (edge 6 joins a live node to an island: its
    # voltage is undefined, but its current is zero)
    assert np.array_equal(sol.i_edge[[2, 6]], np.zeros(2))
    np.testing.assert_allclose(sol.v_edge[2], 1.0, rtol=RTOL_HAND)
    assert np.array_equal(sol.i_node[island], np.zeros(5))
    np.testing.assert_allclose(sol.i_edge[:2], [0.5e-3, 0.5e-3], rtol=RTOL_HAND)
    np.testing.assert_allclose(sol.power, 0.5e-3, rtol=RTOL_HAND)  # 1 V * 0.5 mA, finite
    # terminal response is unaffected by the islands
    np.testing.assert_allclose(terminal_response(c, g, [0, 2]), np.array([[1, -1], [-1, 1]]) / 2e3,
                               rtol=RTOL_HAND)


def test_find_islands_mask():
    c, g = island_circuit()
    conducting = g != 0
    conducting[[2, 6]] = False
    mask = find_islands(c.n_nodes, c.edge_u, c.edge_v, conducting, np.array([0, 2]), c.leak)
    assert mask.tolist() == [False, False, False, True, True, True, True, True]
    # a driven node inside the triangle anchors it; a leak anchors s and t
    leak = np.zeros(c.n_nodes)
    leak[c.node_index["t"]] = 1e-3
    mask = find_islands(c.n_nodes, c.edge_u, c.edge_v, conducting, np.array([0, 2, 4]), leak)
    assert not mask.any()


def test_island_anchored_by_leak_sits_at_ground():
    # The detached triangle with a leak at p has no source: the exact solution is 0 V and the
    # right-hand side is exactly zero, so the computed voltages are exactly zero.
    net = Network()
    for n, role in [("in", "input"), ("gnd", "output")]:
        net.add_node(n, role)
    net.add_resistor("in", "gnd", 1e3)
    for u, v in [("p", "q"), ("q", "r"), ("r", "p")]:
        net.add_resistor(u, v, 1e3)
    c = compile_network(net, leak={"p": 1e-3})
    g = fn.conductance(c.model, c.params, c.x0)
    sol = solve_nodal(c, g, ["in", "gnd"], [1.0, 0.0], by_name=True)
    assert np.array_equal(sol.v_node[2:], np.zeros(3))
    assert np.array_equal(sol.i_edge[1:], np.zeros(3))


def test_all_edges_pruned_everything_floating_is_island():
    c, g = island_circuit()
    sol = solve_nodal(c, np.zeros_like(g), ["in"], [1.0], by_name=True)
    assert sol.v_node[0] == 1.0
    assert np.all(np.isnan(sol.v_node[1:]))
    assert np.array_equal(sol.i_edge, np.zeros(c.n_edges))
    assert sol.power == 0.0


def test_sparse_branch_of_solve_nodal_matches_dense(monkeypatch):
    # Forcing the spsolve branch (DENSE_MAX = 0) must give the dense answer; hand circuit with
    # kappa < 10, see RTOL_HAND.
    c, g = bridge(100.0, 200.0, 300.0, 100.0, 50.0)
    dense = solve_nodal(c, g, [0, 2], [1.0, 0.0])
    monkeypatch.setattr(nodal, "DENSE_MAX", 0)
    sparse = solve_nodal(c, g, [0, 2], [1.0, 0.0])
    np.testing.assert_allclose(sparse.v_node, dense.v_node, rtol=RTOL_HAND)
    np.testing.assert_allclose(sparse.i_edge, dense.i_edge, rtol=RTOL_HAND)


# ===================================================================== 3. property tests
@dataclass
class Case:
    n: int
    edges: list  # [(u, v)] oriented u -> v, node indices
    g: np.ndarray  # target conductances (S)
    driven: np.ndarray
    vd: np.ndarray
    open_: np.ndarray  # bool, pruned edges


@st.composite
def cases(draw, allow_open=False):
    """Random connected circuit: gnm_random_graph(n, m, seed) with 4 <= n <= 14 nodes, extra
    edges joining its components in a chain, up to 3 parallel edges, random orientations, conductances log-uniform in
    [1e-6, 1] S, 1 <= D <= n - 1 driven nodes at whole millivolts in [-1, 1] V (mV steps keep the
    voltage scale away from subnormal numbers), the rest floating; optionally random pruned edges.
    """
    n = draw(st.integers(4, 14), label="n")
    m = draw(st.integers(n - 1, min(n * (n - 1) // 2, 3 * n)), label="m")
    seed = draw(st.integers(0, 2**32 - 1), label="seed")
    graph = nx.gnm_random_graph(n, m, seed=seed)
    heads = sorted(min(comp) for comp in nx.connected_components(graph))
    graph.add_edges_from(itertools.pairwise(heads))
    edges = list(graph.edges())
    # a few parallel devices (a multigraph, as Network allows)
    par = draw(st.lists(st.integers(0, len(edges) - 1), max_size=3), label="parallel")
    edges += [edges[e] for e in par]
    n_e = len(edges)
    flips = draw(st.lists(st.booleans(), min_size=n_e, max_size=n_e), label="flips")
    edges = [(v, u) if f else (u, v) for (u, v), f in zip(edges, flips)]
    log_g = draw(st.lists(st.floats(-6.0, 0.0), min_size=n_e, max_size=n_e), label="log10 g")
    k = draw(st.integers(1, n - 1), label="D")
    perm = draw(st.permutations(range(n)), label="node order")
    mv = draw(st.lists(st.integers(-1000, 1000), min_size=k, max_size=k), label="mV")
    if allow_open:
        open_ = np.array(draw(st.lists(st.booleans(), min_size=n_e, max_size=n_e), label="open"))
    else:
        open_ = np.zeros(n_e, dtype=bool)
    return Case(n, edges, 10.0 ** np.array(log_g), np.array(perm[:k], dtype=np.int64),
                np.array(mv, dtype=float) / 1000.0, open_)


def build(case, node_order=None, edge_order=None):
    """Compiled network of ``case`` with nodes named "n<i>", inserted in ``node_order`` and the
    edges in ``edge_order``; returns (compiled, g) with g in the compiled edge order (the open
    edges zeroed).  The first driven node is the required input."""
    node_order = range(case.n) if node_order is None else node_order
    edge_order = range(len(case.edges)) if edge_order is None else edge_order
    net = Network()
    first = int(case.driven[0])
    for i in node_order:
        net.add_node(f"n{i}", "input" if i == first else "bulk")
    for e in edge_order:
        u, v = case.edges[e]
        net.add_resistor(f"n{u}", f"n{v}", 1.0 / case.g[e])
    c = net.compile()
    g = fn.conductance(c.model, c.params, c.x0)
    g[case.open_[list(edge_order)]] = 0.0
    return c, g


def kappa_ff(c, g, driven):
    """(F, kappa(L_FF)) over the non-island floating nodes; (0, 1.0) if there are none."""
    island = find_islands(c.n_nodes, c.edge_u, c.edge_v, g != 0, driven, c.leak)
    free = np.ones(c.n_nodes, dtype=bool)
    free[driven] = False
    free &= ~island
    nf = int(free.sum())
    if nf == 0:
        return 0, 1.0
    lap = laplacian(c, g).toarray()[np.ix_(free, free)]
    return nf, float(np.linalg.cond(lap))


def voltage_tol(c, g, driven):
    """``32 F eps kappa(L_FF)`` (module docstring)."""
    nf, kappa = kappa_ff(c, g, driven)
    return 32 * nf * EPS * kappa


def scales(case, g):
    vmax = float(np.abs(case.vd).max())
    return vmax, float(g.max()) * vmax


# KCL residual at floating nodes, relative to gmax * vmax (>= half the largest possible edge
# current).  The residual of a backward-stable solve is ~ F eps |L| |v| <= ~ 14 * 2 * 13 * eps *
# gmax * vmax ~ 1e-13 gmax vmax, independent of kappa, and need not be small compared to the
# *actual* largest current (one driven node, or equal drive voltages, leave only rounding
# currents), hence the reference scale.  1e-12 gives a margin of ~10 over that bound.
RTOL_KCL = 1e-12
# Tellegen: sum_e v_e i_e - sum_D v_D I_D = sum_F v_F (B i)_F is the KCL residual weighted by the
# node voltages: <= F vmax * 1e-13 gmax vmax, i.e. <~ 1e-12 of P_ref = sum_e g_e vmax^2 (an upper
# bound on the dissipated power up to a factor 4).  The required 1e-9 is met with a wide margin.
RTOL_TELLEGEN = 1e-9


@settings(max_examples=60, deadline=None)
@given(cases())
def test_kcl_tellegen_passivity(case):
    c, g = build(case)
    sol = solve_nodal(c, g, case.driven, case.vd)
    vmax, i_ref = scales(case, g)
    floating = np.ones(case.n, dtype=bool)
    floating[case.driven] = False
    kcl = np.asarray(c.incidence @ sol.i_edge).ravel()
    assert np.all(np.abs(kcl[floating]) <= RTOL_KCL * i_ref)
    assert np.array_equal(sol.i_node[floating], np.zeros(int(floating.sum())))
    np.testing.assert_array_equal(sol.i_node[case.driven], kcl[case.driven])  # no leak here
    # Tellegen
    p_edges = float(np.sum(sol.v_edge * sol.i_edge))
    p_terminals = float(np.sum(case.vd * sol.i_node[case.driven]))
    p_ref = float(np.sum(g)) * vmax**2
    assert abs(p_edges - p_terminals) <= RTOL_TELLEGEN * p_ref
    np.testing.assert_allclose(sol.power, p_edges, rtol=1e-12, atol=1e-300)  # same sum, reordered
    # Passivity.  Each term i_e v_e = (g_e v_e) v_e >= 0 exactly in floating point (rounding keeps
    # signs), so the dissipated power is exactly non-negative; the delivered power may fall short
    # of zero only by the Tellegen rounding above ("tiny" = 1e-12 P_ref).
    assert sol.power >= 0.0
    assert p_terminals >= -1e-12 * p_ref


@settings(max_examples=40, deadline=None)
@given(cases())
def test_reciprocity_terminal_response_symmetric_psd(case):
    c, g = build(case)
    y = terminal_response(c, g, case.driven)
    # Each column comes from one solve with unit drive: voltage errors <= tol (unit vmax) and so
    # terminal-current errors <= tol * sum(g); asymmetry, row sums and negative eigenvalues are
    # bounded by twice that (plus 1e-13 sum(g) for the rounding of the current sums themselves).
    g_sum = float(np.sum(g))
    tol = (2 * voltage_tol(c, g, case.driven) + 1e-13) * g_sum
    assert np.all(np.abs(y - y.T) <= tol)
    eig = np.linalg.eigvalsh(0.5 * (y + y.T))
    assert eig.min() >= -tol * len(case.driven)  # PSD (Weyl: |d lambda| <= ||dY||_2 <= D ||dY||_max)
    # no leak: driving every terminal at 1 V moves no current (Y 1 = 0)
    assert np.all(np.abs(y.sum(axis=1)) <= tol * len(case.driven))
    # consistency with solve_nodal for the drawn voltages: I_D = Y v_D
    sol = solve_nodal(c, g, case.driven, case.vd)
    vmax = float(np.abs(case.vd).max())
    assert np.all(np.abs(y @ case.vd - sol.i_node[case.driven]) <= 2 * len(case.driven) * tol * vmax)


@settings(max_examples=40, deadline=None)
@given(cases(), st.data())
def test_invariant_under_node_relabelling(case, data):
    node_order = data.draw(st.permutations(range(case.n)), label="node insertion order")
    edge_order = data.draw(st.permutations(range(len(case.edges))), label="edge insertion order")
    c1, g1 = build(case)
    c2, g2 = build(case, node_order, edge_order)
    names = [f"n{i}" for i in case.driven]
    s1 = solve_nodal(c1, g1, case.driven, case.vd)
    s2 = solve_nodal(c2, g2, names, case.vd, by_name=True)
    # physical answer per named node / per named edge
    idx2 = c2.index_of([f"n{i}" for i in range(case.n)])
    vmax, i_ref = scales(case, g1)
    # two orderings of the same system: each within tol of the exact answer
    tol = voltage_tol(c1, g1, case.driven) + voltage_tol(c2, g2, c2.index_of(names))
    np.testing.assert_allclose(s2.v_node[idx2], s1.v_node, rtol=0, atol=tol * vmax)
    edge_order = np.asarray(edge_order)
    pos = np.empty_like(edge_order)
    pos[edge_order] = np.arange(edge_order.size)  # compiled index in c2 of original edge e
    np.testing.assert_allclose(s2.v_edge[pos], s1.v_edge, rtol=0, atol=2 * tol * vmax)
    np.testing.assert_allclose(s2.i_edge[pos], s1.i_edge, rtol=0, atol=2 * tol * i_ref)
    # the same holds for the terminal currents (sum over at most n - 1 edges)
    np.testing.assert_allclose(s2.i_node[idx2], s1.i_node, rtol=0,
                               atol=2 * case.n * tol * i_ref + RTOL_KCL * case.n * i_ref)
    np.testing.assert_allclose(s2.power, s1.power, rtol=0, atol=4 * tol * float(np.sum(g1)) * vmax**2
                               + RTOL_TELLEGEN * float(np.sum(g1)) * vmax**2)


@settings(max_examples=40, deadline=None)
@given(cases(), st.data())
def test_linear_in_drive_voltages(case, data):
    k = len(case.driven)
    mv2 = data.draw(st.lists(st.integers(-1000, 1000), min_size=k, max_size=k), label="mV 2")
    vd2 = np.array(mv2, dtype=float) / 1000.0
    # whole thousandths, like the voltages: a subnormal alpha would underflow the currents
    alpha = data.draw(st.integers(-3000, 3000), label="alpha * 1000") / 1000.0
    c, g = build(case)
    tol = voltage_tol(c, g, case.driven)
    s1 = solve_nodal(c, g, case.driven, case.vd)
    s2 = solve_nodal(c, g, case.driven, vd2)
    s12 = solve_nodal(c, g, case.driven, case.vd + vd2)
    sa = solve_nodal(c, g, case.driven, alpha * case.vd)
    v1, v2 = float(np.abs(case.vd).max()), float(np.abs(vd2).max())
    gmax = float(g.max())
    # superposition: three solves, each within tol * (its vmax) of the exact answer
    atol = tol * 2 * (v1 + v2)
    np.testing.assert_allclose(s12.v_node, s1.v_node + s2.v_node, rtol=0, atol=atol)
    np.testing.assert_allclose(s12.i_edge, s1.i_edge + s2.i_edge, rtol=0, atol=2 * gmax * atol)
    # scaling
    atol = tol * 2 * abs(alpha) * v1 + 2 * EPS * abs(alpha) * v1
    np.testing.assert_allclose(sa.v_node, alpha * s1.v_node, rtol=0, atol=atol)
    np.testing.assert_allclose(sa.i_edge, alpha * s1.i_edge, rtol=0, atol=2 * gmax * atol)
    # scaling by an exact power of two commutes with every rounding: bitwise equal
    s_half = solve_nodal(c, g, case.driven, -0.5 * case.vd)
    np.testing.assert_array_equal(s_half.v_node, -0.5 * s1.v_node)


# ===================================================================== 4. numba kernel
def slots(c, g, driven):
    """Slot array by the kernels.py convention, built from find_islands."""
    island = find_islands(c.n_nodes, c.edge_u, c.edge_v, g != 0, driven, c.leak)
    slot = np.full(c.n_nodes, kn.SLOT_ISLAND, dtype=np.int64)
    slot[driven] = kn.SLOT_DRIVEN
    free = np.flatnonzero(~island & (slot != kn.SLOT_DRIVEN))
    slot[free] = np.arange(free.size)
    return slot, int(free.size)


def run_kernel(c, x, open_, driven, vd, leak=None):
    leak = np.array(c.leak if leak is None else leak, dtype=float)
    g0 = fn.conductance(c.model, c.params, x)
    g0[open_] = 0.0
    slot, n_free = slots(c, g0, driven)
    n, m = c.n_nodes, c.n_edges
    a = np.empty((max(n_free, 1), max(n_free, 1)))
    rhs = np.empty(max(n_free, 1))
    v, g, dv, cur = np.empty(n), np.empty(m), np.empty(m), np.empty(m)
    ok = kn.electrical_dense(
        np.array(x, dtype=float), np.array(c.params), np.array(c.model), np.array(open_, dtype=bool),
        np.array(c.edge_u), np.array(c.edge_v), leak, slot, n_free,
        np.array(driven, dtype=np.int64), np.array(vd, dtype=float), a, rhs, v, g, dv, cur)
    return ok, g, v, dv, cur, slot


def memristor_case(case, x_seed):
    """The case's graph with linear-drift memristors (kappa-friendly g in [6.25e-5, 1e-2] S) at
    random states, to exercise the conductance evaluation inside the kernel."""
    net = Network(default_device=LinearIonDrift())
    first = int(case.driven[0])
    for i in range(case.n):
        net.add_node(i, "input" if i == first else "bulk")
    rng = np.random.default_rng(x_seed)
    for u, v in case.edges:
        net.add_edge(u, v, x0=rng.random())
    return net.compile()


@pytest.mark.parametrize("devices", ["resistors", "memristors"])
@settings(max_examples=50, deadline=None)
@given(case=cases(allow_open=True), x_seed=st.integers(0, 2**32 - 1))
def test_electrical_dense_matches_solve_nodal(devices, case, x_seed):
    if devices == "resistors":
        c, _ = build(case)
    else:
        c = memristor_case(case, x_seed)
    x = np.array(c.x0)
    ok, g, v, dv, cur, slot = run_kernel(c, x, case.open_, case.driven, case.vd)
    assert ok
    g_ref = fn.conductance(c.model, c.params, x)
    g_ref[case.open_] = 0.0
    # g: the same formula in numba and NumPy; at most an ulp or two apart
    np.testing.assert_allclose(g, g_ref, rtol=4 * EPS, atol=0)
    ref = solve_nodal(c, g_ref, case.driven, case.vd)
    # NaN exactly on the islands (and only there)
    assert np.array_equal(np.isnan(v), np.isnan(ref.v_node))
    assert np.array_equal(np.isnan(v), slot == kn.SLOT_ISLAND)
    vmax = float(np.abs(case.vd).max())
    tol = voltage_tol(c, g_ref, case.driven)
    i_ref = float(g_ref.max()) * vmax
    np.testing.assert_allclose(v, ref.v_node, rtol=0, atol=tol * vmax, equal_nan=True)
    # edge voltages: NaN only on pruned edges touching an island; zero inside islands
    np.testing.assert_allclose(dv, ref.v_edge, rtol=0, atol=2 * tol * vmax, equal_nan=True)
    inside = (slot[c.edge_u] == kn.SLOT_ISLAND) & (slot[c.edge_v] == kn.SLOT_ISLAND)
    assert np.array_equal(dv[inside], np.zeros(int(inside.sum())))
    # currents never NaN; exactly zero on pruned edges and inside islands
    assert not np.isnan(cur).any()
    assert np.array_equal(cur[case.open_ | inside], np.zeros(int((case.open_ | inside).sum())))
    # |di| <= g |d dv| + rounding of g (4 eps relative, above)
    np.testing.assert_allclose(cur, ref.i_edge, rtol=4 * EPS, atol=2 * tol * i_ref)


def test_electrical_dense_leak_and_hand_values():
    # Leak divider of test_leak_conductance through the kernel: v_mid = V / 3 (hand value).
    c, _ = resistor_net([("in", "input"), ("mid", "bulk"), ("gnd", "output")],
                        [("in", "mid", 1e3), ("mid", "gnd", 1e3)], leak={"mid": 1e-3})
    ok, g, v, dv, cur, slot = run_kernel(c, np.array(c.x0), np.zeros(2, bool), [0, 2], [3.0, 0.0])
    assert ok and slot.tolist() == [kn.SLOT_DRIVEN, 0, kn.SLOT_DRIVEN]
    np.testing.assert_allclose(g, [1e-3, 1e-3], rtol=RTOL_HAND)
    np.testing.assert_allclose(v, [3.0, 1.0, 0.0], rtol=RTOL_HAND)
    np.testing.assert_allclose(dv, [2.0, 1.0], rtol=RTOL_HAND)
    np.testing.assert_allclose(cur, [2e-3, 1e-3], rtol=RTOL_HAND)


def test_electrical_dense_reports_non_spd():
    # A floating node marked free although it has no conducting path (its only edge is open):
    # the reduced matrix is singular and the kernel must say so instead of raising.
    c, _ = resistor_net([("in", "input"), ("a", "bulk")], [("in", "a", 1e3)])
    slot = np.array([kn.SLOT_DRIVEN, 0], dtype=np.int64)
    v, gg, dv, cur = np.empty(2), np.empty(1), np.empty(1), np.empty(1)
    ok = kn.electrical_dense(np.array(c.x0), np.array(c.params), np.array(c.model), np.array([True]),
                             np.array(c.edge_u), np.array(c.edge_v), np.zeros(2), slot, 1,
                             np.array([0]), np.array([1.0]), np.empty((1, 1)), np.empty(1),
                             v, gg, dv, cur)
    assert not ok


# ===================================================================== 5. SparseElectrical
def sparse_problem(seed, n=40, m=90, leak_node=None):
    """Random connected graph of linear-drift memristors (g in [6.25e-5, 1e-2] S), 4 driven nodes,
    two pruned edges; optionally a leak at one node."""
    rng = np.random.default_rng(seed)
    graph = nx.gnm_random_graph(n, m, seed=seed)
    heads = sorted(min(comp) for comp in nx.connected_components(graph))
    graph.add_edges_from(itertools.pairwise(heads))
    net = Network(default_device=LinearIonDrift())
    for i in range(n):
        net.add_node(i, "input" if i < 2 else ("output" if i < 4 else "bulk"))
    for u, v in graph.edges():
        net.add_edge(u, v, x0=rng.random())
    u, v = next(iter(graph.edges(10)))
    net.add_edge(v, u, x0=rng.random())  # a parallel device, opposite orientation
    # a pendant pair hanging from node 5 through an edge that will be pruned: an island
    net.add_edge(5, "s", x0=0.5)
    net.add_edge("s", "t", x0=0.5)
    leak = {} if leak_node is None else {leak_node: 1e-3}
    c = compile_network(net, leak=leak)
    open_ = np.zeros(c.n_edges, dtype=bool)
    open_[c.n_edges - 2] = True
    open_[rng.integers(0, c.n_edges - 2)] = True
    driven = np.arange(4, dtype=np.int64)
    vd = np.array([1.0, 0.4, 0.0, 0.0])
    return c, np.array(c.x0), open_, driven, vd


@pytest.fixture(params=["splu", "cholmod"])
def backend(request):
    if request.param == "cholmod":
        pytest.importorskip("sksparse.cholmod", reason="scikit-sparse (CHOLMOD) is not installed",
                            exc_type=ImportError)
    return request.param


def make_sparse(c, open_, driven, x, backend, low_rank_max=16, refine_max=0):
    # refine_max=0: these tests exercise the Woodbury / refactorisation logic; the
    # preconditioned-CG path (refine_max > 0) is tested in test_integrate.py
    g = fn.conductance(c.model, c.params, x)
    g[open_] = 0.0
    slot, n_free = slots(c, g, driven)
    return SparseElectrical(np.array(c.model), np.array(c.params), open_, np.array(c.edge_u),
                            np.array(c.edge_v), np.array(c.leak), slot, n_free, driven,
                            low_rank_max=low_rank_max, refine_max=refine_max, backend=backend), slot


# The sparse problems (F = 36 free nodes, g within a factor 160) have kappa(L_FF) ~ 100; it is
# asserted below MAX_KAPPA_SPARSE = 1e3, so every solver is within 32 F eps kappa
# <= 32 * 40 * 2.2e-16 * 1e3 = 2.8e-10 of the exact answer (module docstring).  The Woodbury
# correction solves S = I + C U^T A0^-1 U (at most 17 x 17); for one edge its eigenvalue is
# 1 + (g_new/g_old - 1) g_old R_eff with 0 < g_old R_eff <= 1, i.e. between 1 and g_new/g_old, so
# kappa(S) is at most the conductance ratio (<= 160) and its extra error ~ eps kappa(A0) kappa(S)
# <= 4e-11.  The required relative 1e-9 (voltages against max |v_D|, currents against max |i|)
# thus holds by the bounds; the observed errors (both backends, 1 to 16 changes) are <= 3e-15.
RTOL_SPARSE = 1e-9
MAX_KAPPA_SPARSE = 1e3


def check_against_nodal(c, x, open_, driven, vd, out):
    g, v, dv, cur = out
    g_ref = fn.conductance(c.model, c.params, x)
    g_ref[open_] = 0.0
    np.testing.assert_allclose(g, g_ref, rtol=4 * EPS, atol=0)
    ref = solve_nodal(c, g_ref, driven, vd)
    nf, kappa = kappa_ff(c, g_ref, driven)
    assert nf <= 40 and kappa < MAX_KAPPA_SPARSE
    vmax = float(np.abs(vd).max())
    np.testing.assert_allclose(v, ref.v_node, rtol=0, atol=RTOL_SPARSE * vmax, equal_nan=True)
    np.testing.assert_allclose(dv, ref.v_edge, rtol=0, atol=RTOL_SPARSE * vmax, equal_nan=True)
    np.testing.assert_allclose(cur, ref.i_edge, rtol=0, atol=RTOL_SPARSE * np.abs(ref.i_edge).max())
    assert not np.isnan(cur).any()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_sparse_electrical_matches_solve_nodal(seed, backend):
    c, x, open_, driven, vd = sparse_problem(seed, leak_node=7 if seed == 2 else None)
    solver, slot = make_sparse(c, open_, driven, x, backend)
    assert slot[c.index_of(["s", "t"])].tolist() == [kn.SLOT_ISLAND] * 2  # the pendant pair
    out = solver(0, x, vd)
    check_against_nodal(c, x, open_, driven, vd, out)
    assert solver.stats.factorizations == 1
    assert np.all(np.isnan(out[1][slot == kn.SLOT_ISLAND]))


def system_edges(c, slot, open_):
    """Edges that enter the reduced system (live, touching a free node)."""
    su, sv = slot[c.edge_u], slot[c.edge_v]
    return np.flatnonzero(~open_ & ((su >= 0) | (sv >= 0)))


@pytest.mark.parametrize("n_changed", [1, 2, 3])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_sparse_woodbury_update_matches_refactorisation(seed, n_changed, backend):
    c, x, open_, driven, vd = sparse_problem(seed, leak_node=7 if seed == 2 else None)
    solver, slot = make_sparse(c, open_, driven, x, backend, low_rank_max=16)
    solver(0, x, vd)
    stats = solver.stats
    assert (stats.factorizations, stats.low_rank_updates) == (1, 0)
    rng = np.random.default_rng(100 + seed)
    sys_edges = system_edges(c, slot, open_)
    # first update: n_changed devices jump to new states
    x1 = x.copy()
    changed = rng.choice(sys_edges, n_changed, replace=False)
    x1[changed] = rng.random(n_changed)
    out1 = solver(0, x1, vd)
    assert (stats.factorizations, stats.low_rank_updates) == (1, 1)
    check_against_nodal(c, x1, open_, driven, vd, out1)
    # a fresh refactorisation agrees with the Woodbury answer
    fresh, _ = make_sparse(c, open_, driven, x1, backend)
    out_fresh = fresh(0, x1, vd)
    vmax = float(np.abs(vd).max())
    np.testing.assert_allclose(out1[1], out_fresh[1], rtol=0, atol=RTOL_SPARSE * vmax, equal_nan=True)
    np.testing.assert_allclose(out1[3], out_fresh[3], rtol=0,
                               atol=RTOL_SPARSE * np.abs(out_fresh[3]).max())
    # second update, relative to the same old factor (cached and new Woodbury columns, new drive)
    x2 = x1.copy()
    more = rng.choice(np.setdiff1d(sys_edges, changed), n_changed, replace=False)
    x2[more] = rng.random(n_changed)
    vd2 = np.array([-0.3, 0.8, 0.0, 0.1])
    out2 = solver(0, x2, vd2)
    assert (stats.factorizations, stats.low_rank_updates) == (1, 2)
    check_against_nodal(c, x2, open_, driven, vd2, out2)
    # states back to those of the factor: no update needed, plain solve
    out0 = solver(0, x, vd)
    assert (stats.factorizations, stats.low_rank_updates) == (1, 2)
    check_against_nodal(c, x, open_, driven, vd, out0)
    # a device between two driven nodes or inside an island is not part of the system: changing
    # it needs neither an update nor a refactorisation
    outside = np.setdiff1d(np.arange(c.n_edges), sys_edges)
    if outside.size:
        x3 = x.copy()
        x3[outside] = 1.0 - x3[outside]
        out3 = solver(0, x3, vd)
        assert (stats.factorizations, stats.low_rank_updates) == (1, 2)
        check_against_nodal(c, x3, open_, driven, vd, out3)


@pytest.mark.parametrize("seed", [1, 2])
def test_sparse_refactorises_beyond_low_rank_max(seed, backend):
    c, x, open_, driven, vd = sparse_problem(seed)
    solver, slot = make_sparse(c, open_, driven, x, backend, low_rank_max=16)
    solver(0, x, vd)
    rng = np.random.default_rng(200 + seed)
    sys_edges = system_edges(c, slot, open_)
    # exactly low_rank_max changes: still a Woodbury update
    x16 = x.copy()
    ch = rng.choice(sys_edges, 16, replace=False)
    x16[ch] = np.where(x[ch] < 0.5, x[ch] + 0.4, x[ch] - 0.4)  # guaranteed to change
    check_against_nodal(c, x16, open_, driven, vd, solver(0, x16, vd))
    assert (solver.stats.factorizations, solver.stats.low_rank_updates) == (1, 1)
    # low_rank_max + 1 changes: refactorisation, no update
    x17 = x.copy()
    ch = rng.choice(sys_edges, 17, replace=False)
    x17[ch] = np.where(x[ch] < 0.5, x[ch] + 0.4, x[ch] - 0.4)
    check_against_nodal(c, x17, open_, driven, vd, solver(0, x17, vd))
    assert (solver.stats.factorizations, solver.stats.low_rank_updates) == (2, 1)
    # later small changes are relative to the new factor
    x18 = x17.copy()
    x18[ch[0]] = 1.0 - x18[ch[0]] if x18[ch[0]] != 0.5 else 0.9
    check_against_nodal(c, x18, open_, driven, vd, solver(0, x18, vd))
    assert (solver.stats.factorizations, solver.stats.low_rank_updates) == (2, 2)


def test_sparse_low_rank_disabled(backend):
    c, x, open_, driven, vd = sparse_problem(4)
    solver, slot = make_sparse(c, open_, driven, x, backend, low_rank_max=0)
    solver(0, x, vd)
    x1 = x.copy()
    e = system_edges(c, slot, open_)[0]
    x1[e] = 1.0 - x1[e] if x1[e] != 0.5 else 0.1
    check_against_nodal(c, x1, open_, driven, vd, solver(0, x1, vd))
    assert (solver.stats.factorizations, solver.stats.low_rank_updates) == (2, 0)
