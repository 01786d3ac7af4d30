"""The compiled sparse time loop (memsim.solve.sparse_step) against its Python twin.

The twin is ``integrate_python`` around ``SparseElectrical`` (``factor_backend="splu"`` selects
it): the same schemes and reuse rules (Woodbury updates, conjugate gradients preconditioned by
the last factorisation, refactorisation), in NumPy and SciPy. Both solve every step either
directly (error ~ kappa eps ~ 1e-13 here) or until the estimated voltage error is below
REFINE_TOL = 1e-12 of the largest voltage, so node voltages differ by up to ~2e-12 V_max per
solve. Tolerances, with a fifty-fold margin for accumulation over the runs' 30-100 steps:
voltages dv = 100 REFINE_TOL V_max; edge currents 2 g_max dv (both ends of the stiffest edge,
the 2 S wires); terminal currents deg_max times that; power sum |i| dv + |v| di over the edges;
states 1e-10 (the rates move by ~1e-12 relative per step). Observed differences are ~1e-13.
"""

from __future__ import annotations

import numpy as np
import pytest

from memsim import PWL, VTEAM, LinearIonDrift, Network, Segment, Sine, crossbar, layered, simulate
from memsim.devices import functions as fn
from memsim.solve.sparse import REFINE_TOL


def assert_same(a, b):
    c = b.network
    v_max = np.nanmax(np.abs(b.v_node))
    g_max = max(fn.conductance(c.model, c.params, np.zeros(c.n_edges)).max(),
                fn.conductance(c.model, c.params, np.ones(c.n_edges)).max())
    deg_max = np.bincount(np.concatenate([c.edge_u, c.edge_v])).max()
    dv = 100 * REFINE_TOL * v_max
    di = 2 * g_max * dv
    tol = {"x": 1e-10, "v_node": dv, "v_edge": 2 * dv, "i_edge": di, "i_node": deg_max * di,
           "power": np.nanmax(np.abs(b.i_edge)) * c.n_edges * 2 * dv + v_max * c.n_edges * di}
    for q, atol in tol.items():
        np.testing.assert_allclose(getattr(a, q), getattr(b, q), rtol=0, atol=atol, equal_nan=True, err_msg=q)


@pytest.fixture(scope="module")
def joglekar_crossbar():
    net = Network.from_graph(crossbar(6, 7, r_wire=0.5), LinearIonDrift(window="joglekar"), x0="random", seed=2)
    return net, net.compile()


@pytest.mark.parametrize("method", ["euler", "heun", "rk4"])
def test_compiled_sparse_matches_python_twin_on_drifting_crossbar(joglekar_crossbar, method):
    # every device drifts every step: the conjugate-gradient path, with periodic refactorisation
    net, c = joglekar_crossbar
    seg = Segment(4e-2, drive={n: Sine(1.0, 10.0, phase=i) for i, n in enumerate(net.inputs)}, ground=net.outputs)
    fast = simulate(c, seg, dt=1e-3, method=method, solver="sparse")
    twin = simulate(c, seg, dt=1e-3, method=method, solver="sparse", factor_backend="splu")
    assert np.abs(fast.x_final - c.x0).max() > 1e-3  # the states really move
    assert fast.stats["refinements"] > 0 and fast.stats["factorizations"] < fast.stats["solves"] / 4
    assert_same(fast, twin)
    # and both against the compiled dense kernel (exact solves every stage)
    dense = simulate(c, seg, dt=1e-3, method=method, solver="dense")
    assert_same(fast, dense)


def test_compiled_sparse_woodbury_updates_on_threshold_devices():
    # VTEAM devices below threshold do not move (one factorisation for the read); a write on one
    # word line moves a few devices (Woodbury updates of the old factor)
    net = Network.from_graph(crossbar(5, 5, r_wire=2.0), VTEAM(), x0="random", seed=1)
    c = net.compile()
    ins = [("w", i, 0) for i in range(5)]
    outs = [("b", 4, j) for j in range(5)]
    read = Segment(2e-9, drive={n: 0.01 for n in ins}, ground=outs)
    write = Segment(3e-9, drive={ins[0]: -0.9}, ground=outs)
    fast = simulate(c, [read, write], dt=1e-10, solver="sparse", low_rank_max=8)
    twin = simulate(c, [read, write], dt=1e-10, solver="sparse", low_rank_max=8, factor_backend="splu")
    assert np.abs(fast.x_final - c.x0).max() > 1e-3
    assert fast.stats["low_rank_updates"] > 0
    assert fast.stats["factorizations"] < 10
    assert_same(fast, twin)
    # with updates disabled every changed step refactorises; same answer
    plain = simulate(c, [read, write], dt=1e-10, solver="sparse", low_rank_max=0, refine_max=0)
    assert plain.stats["low_rank_updates"] == 0 and plain.stats["factorizations"] > fast.stats["factorizations"]
    assert_same(plain, twin)


def test_compiled_sparse_ensemble_with_pruned_edges_and_islands():
    net = Network.from_graph(layered([3, 6, 5, 2]), LinearIonDrift(window="joglekar"), x0="random", seed=4)
    c = net.compile()
    open_ = np.zeros((4, c.n_edges), dtype=bool)  # copies 0 and 3 share their configuration (and analysis)
    open_[1, :5] = True  # input 0 disconnected from the first hidden node ...
    h0 = c.index_of([("h", 1, 0)])[0]
    open_[2, (c.edge_u == h0) | (c.edge_v == h0)] = True  # ... and a floating island in copy 2
    seg = Segment(2e-2, drive={n: Sine(0.8, 25.0, phase=i) for i, n in enumerate(net.inputs)}, ground=net.outputs)
    x0 = np.random.default_rng(0).random((4, c.n_edges))
    fast = simulate(c, seg, dt=5e-4, method="rk4", solver="sparse", x0=x0, open_edges=open_)
    twin = simulate(c, seg, dt=5e-4, method="rk4", solver="sparse", x0=x0, open_edges=open_, factor_backend="splu")
    dense = simulate(c, seg, dt=5e-4, method="rk4", solver="dense", x0=x0, open_edges=open_)
    assert np.all(np.isnan(fast.v_node[:, 2, h0]))  # the island has no voltage
    assert_same(fast, twin)
    assert_same(fast, dense)


def test_compiled_sparse_restarts_from_the_last_solution_at_a_step_in_the_drive(joglekar_crossbar):
    # a PWL ramp of 1 ns inside the segment: extrapolating the last solutions through it would
    # start conjugate gradients far off, the kernel falls back to the last solution; the answer
    # is that of the twin either way
    net, c = joglekar_crossbar
    step = PWL((0.0, 1e-2, 1e-2 + 1e-9, 1.0), (0.2, 0.2, 1.0, 1.0))
    seg = Segment(3e-2, drive={n: step for n in net.inputs}, ground=net.outputs)
    fast = simulate(c, seg, dt=1e-3, method="euler", solver="sparse")
    twin = simulate(c, seg, dt=1e-3, method="euler", solver="sparse", factor_backend="splu")
    assert_same(fast, twin)
    assert fast.stats["solves"] <= twin.stats["solves"]


def test_compiled_sparse_converges_to_refine_tol(joglekar_crossbar):
    # voltages from conjugate gradients on an old factor against a fresh factorisation every
    # solve (refine_max=0): states agree to ~REFINE_TOL (the voltage error bound) times the
    # steps' sensitivity, well inside 1e-10
    net, c = joglekar_crossbar
    seg = Segment(4e-2, drive={n: Sine(1.0, 10.0, phase=i) for i, n in enumerate(net.inputs)}, ground=net.outputs)
    exact = simulate(c, seg, dt=1e-3, method="heun", solver="sparse", refine_max=0)
    refined = simulate(c, seg, dt=1e-3, method="heun", solver="sparse")
    assert exact.stats["refinements"] == 0 and refined.stats["refinements"] > 0
    vmax = np.nanmax(np.abs(exact.v_node))
    assert np.nanmax(np.abs(refined.v_node - exact.v_node)) < 100 * REFINE_TOL * vmax
    assert_same(refined, exact)


def test_compiled_sparse_reports_a_matrix_that_is_not_positive_definite():
    net = Network.from_graph(crossbar(3, 3, r_wire=1.0), LinearIonDrift(), x0="random", seed=0)
    c = net.compile()
    params = np.array(c.params)
    params[0, 0] = params[0, 1] = -0.1  # -10 S against 1 S wires: L_FF is indefinite
    seg = Segment(1e-3, drive={n: 0.5 for n in net.inputs}, ground=net.outputs)
    with pytest.raises(np.linalg.LinAlgError, match="not positive definite"):
        simulate(c, seg, dt=1e-4, solver="sparse", params=params)


def test_copies_of_one_configuration_share_the_analysis():
    from memsim.solve.integrate import _slots
    from memsim.solve.protocol import compile_protocol
    from memsim.solve.sparse_step import sparse_steppers

    net = Network.from_graph(crossbar(3, 4, r_wire=1.0), LinearIonDrift(), x0="random", seed=0)
    c = net.compile()
    open_ = np.zeros((3, c.n_edges), dtype=bool)
    open_[1, 0] = True
    seg = compile_protocol(c, Segment(1e-3, drive={n: 0.5 for n in net.inputs}, ground=net.outputs), 3)[0]
    slot, n_free = _slots(c, open_, seg.driven)
    st = sparse_steppers(open_, c.edge_u, c.edge_v, c.leak, slot, n_free)
    assert st[2].factor.perm is st[0].factor.perm and st[2].system is st[0].system
    assert st[1].system is not st[0].system
    assert st[2].factor.lx is not st[0].factor.lx and st[2].work.ctr is not st[0].work.ctr  # numeric: own
