"""Controllability: known answers on symmetric networks, linearisation against finite differences."""

from __future__ import annotations

import importlib

import networkx as nx
import numpy as np
import pytest

from memsim import LinearIonDrift, Network, Segment, layered
from memsim.analysis.controllability import _gramian, controllability, linearise, terminal_map
from memsim.devices import functions as fn
from memsim.solve.nodal import solve_nodal

DEV = LinearIonDrift(window="joglekar")


def net_232(x0=0.5):
    return Network.from_graph(layered([2, 3, 2]), DEV, x0=x0)


def configs(net):
    ins, outs = net.inputs, net.outputs
    return [
        Segment(1e-3, drive={ins[0]: 1.0}, ground=[ins[1], *outs]),
        Segment(1e-3, drive={ins[1]: 1.0}, ground=[ins[0], *outs]),
        Segment(1e-3, drive={ins[0]: -1.0, ins[1]: -1.0}, ground=outs[:1]),
    ]


def test_interchangeable_hidden_nodes_give_rank_deficiency_that_breaking_symmetry_raises():
    net = net_232()
    uniform = controllability(net, configs(net))
    # 3 hidden nodes with identical devices and states: each configuration drives
    # all three hidden branches identically, so only one direction per input and
    # output pair of branches is steerable: rank 3 of 12
    assert uniform.n_dynamic == 12
    assert uniform.rank == 3
    x = np.full(12, 0.5)
    x[0] = 0.3  # one device differs: the symmetry between hidden nodes breaks
    broken = controllability(net, configs(net), x=x)
    assert broken.rank > uniform.rank
    # the terminal-to-device-voltage map does not depend on the symmetry of the
    # *states* in this case beyond its own rank, but never exceeds sum of D_c
    assert broken.voltage_map_rank <= sum(len(c.drive) + len(c.ground) for c in configs(net))


def test_pruning_an_edge_breaks_symmetry_and_raises_rank():
    net = net_232()
    full = controllability(net, configs(net))
    g = layered([2, 3, 2])
    g.remove_edge(("in", 0), ("h", 1, 0))  # structural pruning before training
    pruned = Network.from_graph(g, DEV, x0=0.5)
    assert controllability(pruned, configs(pruned)).rank > full.rank


def test_terminal_map_is_the_linear_response():
    net = net_232().compile()
    rng = np.random.default_rng(0)
    x = rng.uniform(0.1, 0.9, net.n_edges)
    cfg = configs(net_232())[2]
    s_map = terminal_map(net, cfg, x)
    u = np.array([-1.0, -1.0, 0.0])
    g = fn.conductance(net.model, net.params, x)
    sol = solve_nodal(net, g, net.index_of(list(cfg.drive) + list(cfg.ground)), u)
    # superposition: the nodal solution is linear in the driven voltages
    np.testing.assert_allclose(s_map @ u, sol.v_edge, rtol=1e-12, atol=1e-15)


def test_linearisation_predicts_small_changes():
    # reference: the nonlinear rates at a perturbed operating point; the
    # linear prediction must be right to second order in the perturbation
    net = net_232().compile()
    rng = np.random.default_rng(1)
    x = rng.uniform(0.2, 0.8, net.n_edges)
    cfg = configs(net_232())[0]
    a, b = linearise(net, cfg, x)
    driven = net.index_of(list(cfg.drive) + list(cfg.ground))
    u = np.array([1.0, 0.0, 0.0, 0.0])

    def f(xx, uu):
        g = fn.conductance(net.model, net.params, xx)
        sol = solve_nodal(net, g, driven, uu)
        return fn.rate(net.model, net.params, xx, sol.v_edge, sol.i_edge)

    dx = 1e-5 * rng.standard_normal(net.n_edges)
    du = 1e-5 * rng.standard_normal(u.size)
    exact = f(x + dx, u + du) - f(x, u)
    lin = a @ dx + b @ du
    # the remainder is O(|d|^2) ~ 1e-10 of the rate scale (~1); 1e-7 is margin
    scale = np.abs(f(x, u)).max()
    assert np.abs(exact - lin).max() < 1e-7 * scale
    assert np.abs(lin).max() > 1e-6 * scale  # and the linear part is not trivial


def test_bad_input():
    net = net_232()
    with pytest.raises(ValueError, match="configurations"):
        controllability(net, [])
    with pytest.raises(ValueError, match="x"):
        controllability(net, configs(net), x=np.zeros(3))
    r = Network()
    r.add_node("a", "input")
    r.add_resistor("a", "b", 1.0)
    with pytest.raises(ValueError, match="dynamic"):
        controllability(r, [Segment(1.0, drive={"a": 1.0}, ground=["b"])])


# ------------------------------------------------------------------ the Gramian integral
@pytest.mark.parametrize("t", [1e-3, 1.0, 50.0, 2000.0])
def test_gramian_of_diagonal_dynamics_matches_the_closed_form(t):
    # A = diag(a): W_ij = (B B^T)_ij (exp((a_i + a_j) t) - 1) / (a_i + a_j), exactly. t |a| reaches
    # 2e5 (stiff): Van Loan over the whole interval would return rounding noise there (e^{2e5}).
    # 1e-9 relative: a few ulps per doubling step (<= 20 steps) and the Pade error of expm (~1e-15).
    a = np.array([-100.0, -3.0, -0.5, 0.0, 0.2 / max(t, 1.0)])
    b = np.random.default_rng(0).standard_normal((5, 3))
    s = a[:, None] + a[None, :]
    safe = np.where(s == 0, 1.0, s)
    ref = (b @ b.T) * np.where(s == 0, t, np.expm1(s * t) / safe)
    got = _gramian(np.diag(a), b, t)
    np.testing.assert_allclose(got, ref, rtol=1e-9, atol=1e-12 * np.abs(ref).max())


def test_gramian_of_stiff_coupled_dynamics_matches_quadrature():
    # non-normal, coupled, stiff (eigenvalues -1e4, -30, -1, 0 over t = 0.05: t |lambda| = 500);
    # reference: scipy.integrate.quad_vec of exp(A s) B B^T exp(A^T s), with its error bound
    from scipy.integrate import quad_vec
    from scipy.linalg import expm

    rng = np.random.default_rng(1)
    v = np.eye(4) + 0.3 * rng.standard_normal((4, 4))
    a = v @ np.diag([-1e4, -30.0, -1.0, 0.0]) @ np.linalg.inv(v)
    b = rng.standard_normal((4, 2))
    t = 0.05

    def integrand(s):
        e = expm(a * s)
        return e @ b @ b.T @ e.T

    ref, err = quad_vec(integrand, 0.0, t, epsabs=1e-14, epsrel=1e-11, points=[1e-4, 1e-3])
    got = _gramian(a, b, t)
    assert err < 1e-9 * np.abs(ref).max()
    np.testing.assert_allclose(got, ref, rtol=1e-7, atol=1e-9 * np.abs(ref).max())
    assert np.all(np.linalg.eigvalsh(got) > -1e-12 * np.abs(ref).max())  # a Gramian is PSD


# ------------------------------------------------------------------ analytic network Jacobian
def _mixed_network(seed: int):
    """A random graph of mixed devices and resistors with floating nodes and an isolated island."""
    from memsim import VTEAM, CaravelliTraversaDiVentra, Resistor

    rng = np.random.default_rng(seed)
    g = nx.gnm_random_graph(9, 18, seed=seed)
    net = Network()
    for n in g.nodes:
        net.add_node(n, "input" if n < 2 else ("output" if n < 4 else "bulk"))
    devices = [LinearIonDrift(window="joglekar"), VTEAM(), CaravelliTraversaDiVentra()]
    for u, v in g.edges:
        if rng.random() < 0.2:
            net.add_resistor(u, v, float(rng.uniform(100, 1e4)))
        else:
            net.add_edge(u, v, device=devices[int(rng.integers(3))], x0=float(rng.uniform(0.1, 0.9)))
    net.add_edge("isle-a", "isle-b", device=VTEAM(), x0=0.3)  # a floating island: no current, no coupling
    del Resistor
    return net


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("leak", [0.0, 1e-4])
def test_analytic_jacobian_matches_central_differences(seed, leak):
    # reference: central differences of the whole network's rates (one nodal solve per device and
    # side). Their truncation error is O(h^2 f''') with h = 1e-6 and rounding ~1e-16 |f| / h ~ 1e-10
    # of the rate scale; both forms share the device-level partials, so they agree to ~1e-8 relative.
    net = _mixed_network(seed).compile(leak=leak)
    ins, outs = [net.node_names[i] for i in net.inputs], [net.node_names[i] for i in net.outputs]
    coupling = 0.0
    for cfg in (Segment(1e-3, drive={ins[0]: 0.8}, ground=[ins[1], *outs]),
                Segment(1e-3, drive={ins[0]: -1.2, ins[1]: -1.2}, ground=outs[:1])):
        x = np.random.default_rng(seed + 10).uniform(0.05, 0.95, net.n_edges)
        a_an, b_an = linearise(net, cfg, x)
        a_fd, b_fd = linearise(net, cfg, x, method="difference")
        np.testing.assert_array_equal(b_an, b_fd)
        # row by row: device rates differ by 1e6 between VTEAM above threshold and the others
        row = np.abs(a_fd).max(axis=1, keepdims=True)
        assert np.all(np.abs(a_an - a_fd) <= 1e-7 * row + 1e-300)
        off = np.abs(a_fd - np.diag(np.diag(a_fd))) / np.where(row > 0, row, 1.0)
        coupling = max(coupling, off.max())
    assert coupling > 1e-3  # the network coupling (off-diagonal terms) is exercised


def test_linearise_rejects_an_unknown_method():
    net = net_232()
    with pytest.raises(ValueError, match="method"):
        linearise(net, configs(net)[0], method="exact")


def test_gramian_drops_devices_that_cannot_move_exactly():
    # device 1 has zero rows in A and B (below threshold): it stays at the operating point, so
    # W's row and column 1 are zero although A couples it into device 0 (column 1 of A). Reference:
    # the full block exponential over the short horizon (t ||A|| < 1, no cancellation issue).
    from memsim.analysis.controllability import _van_loan

    rng = np.random.default_rng(3)
    a = rng.standard_normal((4, 4))
    a[1] = 0.0
    b = rng.standard_normal((4, 2))
    b[1] = 0.0
    t = 0.1
    got = _gramian(a, b, t)
    _, ref = _van_loan(a, b @ b.T, t)
    np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-15)
    assert np.all(got[1] == 0.0) and np.all(got[:, 1] == 0.0)


def test_sparse_transfer_branch_matches_the_dense_one(monkeypatch):
    # large networks (> DENSE_MAX floating nodes) factorise the floating-node Laplacian with sparse
    # LU; forcing that branch on a small network must give the same Jacobian (rounding only)
    ctl = importlib.import_module("memsim.analysis.controllability")  # the package attribute is the function

    net = _mixed_network(1).compile(leak=1e-4)
    ins, outs = [net.node_names[i] for i in net.inputs], [net.node_names[i] for i in net.outputs]
    cfg = Segment(1e-3, drive={ins[0]: -1.2, ins[1]: -1.2}, ground=outs[:1])
    x = np.random.default_rng(3).uniform(0.05, 0.95, net.n_edges)
    dense, _ = linearise(net, cfg, x)
    monkeypatch.setattr(ctl, "DENSE_MAX", 0)
    sparse, _ = linearise(net, cfg, x)
    np.testing.assert_allclose(sparse, dense, rtol=1e-10, atol=1e-12 * np.abs(dense).max())
    assert np.abs(dense - np.diag(np.diag(dense))).max() > 0  # the coupling term is exercised
