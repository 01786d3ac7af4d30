"""Tests of memsim.governing: cycle-space projector and the closed-form CTDV dynamics.

Tolerances. Omega is built from an SVD of the incidence matrix (entries 0, +-1,
M <= 25 columns); every identity checked on it (symmetry, idempotence,
B Omega = 0, Omega + cut = I) involves O(M) double-precision operations on O(1)
entries, so rounding is ~M * 1e-16 ~ 1e-14 (observed <= 1e-14); 1e-12 leaves a
margin of 100. The closed-form currents are compared with the nodal solver to
1e-10 relative to the largest current: REFERENCES.md reports agreement to 1e-18
(absolute, unnormalised currents of ~1e-4 A); here both sides are computed
independently in double precision, and the solve with I - chi Omega X (2-norm
condition number <= (1 + chi) / (1 - chi) = 199 for r_off / r_on = 100) and the
nodal Laplacian solve each cost a few digits out of ~16 (observed <= 3e-13 over
2000 random graphs).
"""

from __future__ import annotations

import itertools

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from memsim import CaravelliTraversaDiVentra, LinearIonDrift, Network
from memsim.devices import functions
from memsim.governing import currents, cut_projector, cycle_projector, rate
from memsim.solve.nodal import solve_nodal

R_ON, R_OFF, ALPHA, BETA = 1.0, 100.0, 0.7, 3.0
DEVICE = CaravelliTraversaDiVentra(r_on=R_ON, r_off=R_OFF, alpha=ALPHA, beta=BETA)
TOL_PROJ = 1e-12
TOL_REL = 1e-10


@st.composite
def graphs(draw, connect=None):
    """(networkx Graph with nodes 0..n-1, numpy Generator); optionally made connected."""
    n = draw(st.integers(6, 12))
    m = draw(st.integers(n - 1, min(25, n * (n - 1) // 2)))
    seed = draw(st.integers(0, 2**32 - 1))
    g = nx.gnm_random_graph(n, m, seed=seed)
    if connect if connect is not None else draw(st.booleans()):
        comps = [min(c) for c in nx.connected_components(g)]
        g.add_edges_from(itertools.pairwise(comps))
    return g, np.random.default_rng(seed)


def build(g: nx.Graph, rng: np.random.Generator, device=DEVICE):
    """Compiled network (node k = index k, node 0 'input', random orientations and x)."""
    net = Network(default_device=device)
    for k in range(g.number_of_nodes()):
        net.add_node(k, role="input" if k == 0 else "bulk")
    for a, b in g.edges():
        u, v = (a, b) if rng.random() < 0.5 else (b, a)
        net.add_edge(u, v, x0=rng.uniform(1e-3, 1.0 - 1e-3))
    return net.compile()


def grounds(g: nx.Graph) -> np.ndarray:
    """One node per connected component (its smallest), to be driven at 0 V."""
    return np.array(sorted(min(c) for c in nx.connected_components(g)), dtype=np.int64)


def nodal(c, g, x, s):
    gx = functions.conductance(c.model, c.params, x)
    gnd = grounds(g)
    return solve_nodal(c, gx, gnd, np.zeros(gnd.size), edge_emf=s)


def incidence(c) -> np.ndarray:
    return c.incidence.toarray()


# ---------------------------------------------------------------- projectors
@settings(max_examples=40, deadline=None)
@given(graphs())
def test_projector_properties(gr):
    g, rng = gr
    c = build(g, rng)
    b = incidence(c)
    n, m = b.shape
    om = cycle_projector(c)
    assert om.shape == (m, m)
    np.testing.assert_allclose(om, om.T, rtol=0, atol=TOL_PROJ)
    np.testing.assert_allclose(om @ om, om, rtol=0, atol=TOL_PROJ)
    np.testing.assert_allclose(b @ om, 0.0, rtol=0, atol=TOL_PROJ)
    np.testing.assert_allclose(om + cut_projector(c), np.eye(m), rtol=0, atol=TOL_PROJ)
    cyclomatic = m - n + nx.number_connected_components(g)
    assert np.linalg.matrix_rank(om) == cyclomatic
    assert np.trace(om) == pytest.approx(cyclomatic, abs=TOL_PROJ)
    # the other construction named in REFERENCES: I - B^T (B B^T)^+ B
    alt = np.eye(m) - b.T @ np.linalg.pinv(b @ b.T) @ b
    np.testing.assert_allclose(om, alt, rtol=0, atol=1e-10)
    # same answer from the raw incidence (dense or sparse) and from the Network itself
    np.testing.assert_array_equal(cycle_projector(b), om)
    np.testing.assert_array_equal(cycle_projector(c.incidence), om)


@settings(max_examples=20, deadline=None)
@given(st.integers(2, 15), st.integers(1, 4), st.integers(0, 2**32 - 1))
def test_forest_has_no_cycles(n, trees, seed):
    rng = np.random.default_rng(seed)
    edges = []
    for t in range(trees):  # `trees` disjoint random trees of n nodes each
        edges += [(t * n + int(rng.integers(0, k)), t * n + k) for k in range(1, n)]
    b = np.zeros((n * trees, len(edges)))
    for e, (u, v) in enumerate(edges):
        b[u, e], b[v, e] = 1.0, -1.0
    assert np.array_equal(cycle_projector(b), np.zeros((len(edges), len(edges))))
    assert np.array_equal(cut_projector(b), np.eye(len(edges)))


def test_projector_orientation_and_parallel_edges():
    # flipping an edge conjugates Omega by diag(+-1); two parallel edges make one cycle
    b = np.array([[1.0, 1.0, 0.0], [-1.0, -1.0, 1.0], [0.0, 0.0, -1.0]])
    om = cycle_projector(b)
    np.testing.assert_allclose(
        om, [[0.5, -0.5, 0], [-0.5, 0.5, 0], [0, 0, 0]], atol=TOL_PROJ
    )
    d = np.diag([1.0, -1.0, 1.0])
    np.testing.assert_allclose(cycle_projector(b @ d), d @ om @ d, atol=TOL_PROJ)


# ---------------------------------------------------------------- closed form vs nodal
@settings(max_examples=40, deadline=None)
@given(graphs(connect=True), st.floats(0.1, 10.0))
def test_currents_match_nodal_connected(gr, amp):
    g, rng = gr
    c = build(g, rng)
    s = amp * rng.standard_normal(c.n_edges)
    sol = nodal(c, g, c.x0, s)
    i = currents(c, c.x0, s)
    # floor |s| / r_off: on a tree the currents are 0 and the nodal solve leaves ~1e-17
    scale = max(np.abs(sol.i_edge).max(), np.abs(s).max() / R_OFF)
    np.testing.assert_allclose(i, sol.i_edge, rtol=0, atol=TOL_REL * scale)


@settings(max_examples=30, deadline=None)
@given(graphs())
def test_currents_obey_kirchhoff(gr):
    # independent of any solver: B i = 0 (KCL), and the drops R i - s derive from
    # node potentials (KVL: least-squares B^T v = R i - s has zero residual)
    g, rng = gr
    c = build(g, rng)
    s = rng.standard_normal(c.n_edges)
    i = currents(c, c.x0, s)
    b = incidence(c)
    scale = np.abs(s).max() / R_ON
    np.testing.assert_allclose(b @ i, 0.0, rtol=0, atol=TOL_REL * scale)
    drop = (R_OFF * (1 - c.x0) + R_ON * c.x0) * i - s
    v = np.linalg.lstsq(b.T, drop, rcond=None)[0]
    np.testing.assert_allclose(b.T @ v, drop, rtol=0, atol=TOL_REL * np.abs(s).max())


@settings(max_examples=20, deadline=None)
@given(graphs(connect=False), st.integers(1, 4))
def test_currents_and_rate_match_nodal_ensemble(gr, k):
    # possibly disconnected graphs, K ensemble members, x and s both (K, M)
    g, rng = gr
    c = build(g, rng)
    x = rng.uniform(0.0, 1.0, (k, c.n_edges))
    s = rng.standard_normal((k, c.n_edges))
    i = currents(c, x, s)
    r = rate(c, x, s)
    assert i.shape == r.shape == (k, c.n_edges)
    for j in range(k):
        sol = nodal(c, g, x[j], s[j])
        scale = max(np.abs(sol.i_edge).max(), np.abs(s[j]).max() / R_OFF)
        np.testing.assert_allclose(i[j], sol.i_edge, rtol=0, atol=TOL_REL * scale)
        # the device law with v = edge voltage, i = nodal current
        ref = functions.rate(c.model, c.params, x[j], sol.v_edge, sol.i_edge)
        np.testing.assert_allclose(
            ref, -ALPHA * x[j] + R_OFF / BETA * sol.i_edge, rtol=1e-14
        )
        np.testing.assert_allclose(
            r[j], ref, rtol=0, atol=TOL_REL * R_OFF / BETA * scale
        )


def test_broadcasting_shapes():
    g = nx.cycle_graph(6)
    g.add_edge(0, 3)
    c = build(g, np.random.default_rng(1))
    rng = np.random.default_rng(2)
    x1, s1 = rng.random(c.n_edges), rng.standard_normal(c.n_edges)
    x2, s2 = rng.random((3, c.n_edges)), rng.standard_normal((3, c.n_edges))
    assert currents(c, x1, s1).shape == (c.n_edges,)
    np.testing.assert_allclose(
        currents(c, x2, s1), [currents(c, xx, s1) for xx in x2], rtol=1e-13
    )
    np.testing.assert_allclose(
        currents(c, x1, s2), [currents(c, x1, ss) for ss in s2], rtol=1e-13
    )
    np.testing.assert_allclose(
        rate(c, x2, s2), [rate(c, a, b) for a, b in zip(x2, s2)], rtol=1e-13
    )


@settings(max_examples=30, deadline=None)
@given(graphs())
def test_gradient_emf_drives_no_current(gr):
    g, rng = gr
    c = build(g, rng)
    phi = rng.standard_normal(c.n_nodes)
    s = incidence(c).T @ phi  # s_e = phi_u - phi_v
    i = currents(c, c.x0, s)
    np.testing.assert_allclose(i, 0.0, rtol=0, atol=1e-12 * np.abs(s).max() / R_ON)
    np.testing.assert_allclose(rate(c, c.x0, s), -ALPHA * c.x0, rtol=0, atol=1e-12)


def test_single_loop_is_ohms_law():
    net = Network(default_device=DEVICE)
    net.add_node("a", role="input")
    x = np.array([0.1, 0.5, 0.9, 0.3])
    for e, (u, v) in enumerate([("a", "b"), ("b", "c"), ("c", "d"), ("d", "a")]):
        net.add_edge(u, v, x0=x[e])
    s = np.array([1.0, -0.5, 2.0, 0.25])
    total_r = np.sum(R_OFF * (1 - x) + R_ON * x)
    np.testing.assert_allclose(
        currents(net, x, s), np.full(4, s.sum() / total_r), rtol=1e-13
    )


# ---------------------------------------------------------------- bad input
def _triangle(devices):
    net = Network(default_device=DEVICE)
    net.add_node(0, role="input")
    for (u, v), dev in zip([(0, 1), (1, 2), (2, 0)], devices):
        net.add_edge(u, v, dev)
    return net.compile()


def test_mixed_models_rejected():
    c = _triangle([DEVICE, LinearIonDrift(), DEVICE])
    with pytest.raises(ValueError, match=r"CaravelliTraversaDiVentra.*edge\(s\) \[1\]"):
        currents(c, np.zeros(3), np.ones(3))
    with pytest.raises(ValueError, match="CaravelliTraversaDiVentra"):
        rate(c, np.zeros(3), np.ones(3))


def test_non_uniform_parameters_rejected():
    other = CaravelliTraversaDiVentra(
        r_on=R_ON, r_off=2 * R_OFF, alpha=ALPHA, beta=BETA
    )
    with pytest.raises(ValueError, match="same r_off"):
        currents(_triangle([DEVICE, DEVICE, other]), np.zeros(3), np.ones(3))
    # alpha differs: the currents are still defined, rate() needs uniform alpha
    other = CaravelliTraversaDiVentra(
        r_on=R_ON, r_off=R_OFF, alpha=2 * ALPHA, beta=BETA
    )
    c = _triangle([DEVICE, other, DEVICE])
    assert currents(c, np.zeros(3), np.ones(3)).shape == (3,)
    with pytest.raises(ValueError, match="same alpha"):
        rate(c, np.zeros(3), np.ones(3))


def test_leak_rejected():
    net = Network(default_device=DEVICE)
    net.add_node(0, role="input")
    for u, v in [(0, 1), (1, 2), (2, 0)]:
        net.add_edge(u, v)
    with pytest.raises(ValueError, match="leak"):
        currents(net.compile(leak=1e-3), np.zeros(3), np.ones(3))


@pytest.mark.parametrize(
    "x_shape, s_shape",
    [
        ((4,), (3,)),
        ((3,), (4,)),
        ((2, 3, 3), (3,)),
        ((), (3,)),
        ((2, 3), (5, 3)),
        ((3, 1), (3,)),
    ],
)
def test_wrong_shapes_rejected(x_shape, s_shape):
    c = _triangle([DEVICE] * 3)
    with pytest.raises(ValueError, match="shape"):
        currents(c, np.zeros(x_shape), np.zeros(s_shape))
    with pytest.raises(ValueError, match="shape"):
        rate(c, np.zeros(x_shape), np.zeros(s_shape))


def test_non_finite_rejected():
    c = _triangle([DEVICE] * 3)
    with pytest.raises(ValueError, match="finite"):
        currents(c, np.array([0.5, np.nan, 0.5]), np.ones(3))


@pytest.mark.parametrize(
    "b",
    [
        np.array([1.0, -1.0]),  # 1-D
        np.array([[1.0, 1.0], [-1.0, 0.0]]),  # column without -1
        np.array([[2.0], [-1.0]]),  # bad entry
        np.array([[1.0], [-1.0], [1.0]]),  # two +1
    ],
)
def test_bad_incidence_rejected(b):
    with pytest.raises(ValueError, match="incidence"):
        cycle_projector(b)
