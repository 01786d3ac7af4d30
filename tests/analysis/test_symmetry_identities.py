"""Identities of uniform single-hidden-layer nets, so no study rests on them unknowingly (issue 14).

Setting: ``layered([n_in, h, n_out])``, every device in one state (x = 0.5), no variability. The
h hidden nodes are then *twins*: same neighbours, identical devices. Swapping two of them is an
automorphism of the circuit with its devices, so in every terminal configuration all hidden nodes sit
at one voltage ``V_h`` (the nodal solution is unique and the swap maps it to itself) and the net
behaves as a star: terminal ``t`` joined to one hub through the h parallel devices of its edges
(conductance ``G_t = sum_j g(x_tj)``). Every consequence below follows from that reduction.
"""

from __future__ import annotations

import numpy as np
import pytest

from memsim import VTEAM, Network, crossbar, layered
from memsim.analysis import controllability, controller_configurations, structural_capacity
from memsim.analysis.symmetry import hidden_twins, is_uniform
from memsim.devices import functions as fn
from memsim.learning import Pattern, Pulses, build_hardware
from memsim.learning.inhibition import normalise_segment, output_currents, punish_segment, read_segment
from memsim.solve.nodal import terminal_response

SIZES = [(2, 4, 2), (3, 5, 2), (2, 8, 4), (4, 6, 3), (3, 3, 3)]


def uniform_hardware(sizes, x0=0.5):
    net = Network.from_graph(layered(list(sizes), orientation="backward"), VTEAM())
    return net, build_hardware(net, x0=x0, seed=0)


def edge_blocks(x, sizes):
    """States as (n_in, h) for the input-side edges and (h, n_out) for the output-side ones."""
    n_in, h, n_out = sizes
    return x[: n_in * h].reshape(n_in, h), x[n_in * h: n_in * h + h * n_out].reshape(h, n_out)


# ------------------------------------------------------------------ structural capacity


@pytest.mark.parametrize("sizes", SIZES)
def test_uniform_read_response_is_rank_one_so_io_rank_is_n_in_plus_n_out_minus_one(sizes):
    n_in, h, n_out = sizes
    net = Network.from_graph(layered(list(sizes)), VTEAM(), x0=0.5).compile()
    g = fn.conductance(net.model, net.params, net.x0)
    terminals = np.concatenate([net.inputs, net.outputs])
    y = terminal_response(net, g, terminals)
    # star reduction: Y_oi = -G_o G_i / S with G_t = h g and S = (n_in + n_out) h g, summed over the
    # h hubs: Y_oi = -h g / (n_in + n_out) for every pair, a rank-one n_out x n_in block
    g0 = g[0]
    np.testing.assert_allclose(y[n_in:, :n_in], -h * g0 / (n_in + n_out), rtol=1e-12)  # solver rounding
    sc = structural_capacity(net)
    # d Y_OI / d g stays tangent to the rank-one n_out x n_in matrices (Y_OI = a b^T for the star, with
    # a, b the output and input branch conductances over sqrt(S)), a manifold of dimension
    # n_in + n_out - 1 (a b^T = (c a)(b / c)^T): hence io_rank = n_in + n_out - 1 <= n_in n_out
    assert sc.io_rank == n_in + n_out - 1
    # the whole terminal response of a T-branch star, Y_ts = G_t G_s / S, determines every G_t
    # (G_t^2 / S = Y_ts Y_tr / Y_sr, then S = (sum_t G_t / sqrt(S))^2) and nothing more: rank T (T >= 3)
    assert sc.jacobian_rank == n_in + n_out
    # the identities are about the symmetry: random states give the full io rank min(n_in n_out, M)
    rnd = Network.from_graph(layered(list(sizes)), VTEAM(), x0="random", seed=1)
    assert structural_capacity(rnd).io_rank == min(n_in * n_out, h * (n_in + n_out))


# ------------------------------------------------------------------ controllability


@pytest.mark.parametrize("sizes", SIZES)
def test_uniform_controllability_rank(sizes):
    """Rank of the controller's Gramian at uniform states: n_in + n_out - 1 if n_in = n_out, else n_in + n_out.

    Upper bound n_in + n_out: every configuration is hidden-permutation symmetric, so the linearised
    dynamics (A_c, B_c) commute with the permutations of the hidden nodes and the reachable states
    lie in the symmetric subspace, one direction per terminal (its h edges moving together).

    One less when n_in = n_out: let c = +1 on the input-side edges and -1 on the output-side ones.
    Kirchhoff's law at the hidden nodes makes the input-side currents sum to the output-side ones, and
    a VTEAM rate f(v) depends on the device voltage v = i / g(x) only. If at the operating point every
    moving device has the same voltage (hence the same f' and g), then
    d(c.dx)/dt = f'/g (c.di) - f' i g'/g^2 (c.dx) = -f' i g'/g^2 (c.dx): c.dx obeys a closed equation
    with no input, so c is never steered. That holds in every punishment (only the pattern's input
    branch and the wrong winner's branch carry current: the same current through h devices each;
    the floating terminals' devices see 0 V, below both thresholds) and in the normalising pulse
    exactly when n_in = n_out (the hub's current splits into n_in and n_out equal branches); reads
    stay below the thresholds and move nothing. With n_in != n_out the normalising pulse's input- and
    output-side devices carry different currents, c is steered and the rank is n_in + n_out.

    The issue stated (n_in + n_out - 1) / M for every size: true only for n_in = n_out
    (e.g. 3-5-2 has rank 5 of 25, not 4).
    """
    n_in, h, n_out = sizes
    _, hw = uniform_hardware(sizes)
    ctrl = controllability(hw.circuit, controller_configurations(hw), x=hw.x[0])
    m = h * (n_in + n_out)
    expected = n_in + n_out - (1 if n_in == n_out else 0)
    assert ctrl.n_dynamic == m
    assert ctrl.rank == expected
    assert ctrl.normalised_rank == expected / m
    w = ctrl.gramian[:m, :m]  # the memristors come first in hw.circuit (then the source resistors)
    scale = np.abs(w).max()
    # the Gramian is invariant under a permutation of the hidden nodes (a cyclic shift here):
    # 1e-9 of its largest entry, the rank tolerance of controllability()
    perm = np.concatenate([np.roll(np.arange(n_in * h).reshape(n_in, h), 1, axis=1).ravel(),
                           n_in * h + np.roll(np.arange(h * n_out).reshape(h, n_out), 1, axis=0).ravel()])
    np.testing.assert_allclose(w[np.ix_(perm, perm)], w, atol=1e-9 * scale)
    c = np.concatenate([np.ones(n_in * h), -np.ones(h * n_out)]) / np.sqrt(m)
    steered = c @ w @ c / np.linalg.eigvalsh(w)[-1]
    if n_in == n_out:
        assert steered < 1e-9  # below the rank tolerance: the conserved direction
    else:
        assert steered > 1e-6  # well above it: the normalising pulse steers it


# ------------------------------------------------------------------ output currents


def normalised_reads(hw, patterns):
    out = []
    for pt in patterns:
        _, res = hw.run(read_segment(hw, pt, Pulses()), dt=Pulses().dt)
        cur = output_currents(res, hw)[0]
        out.append(cur / cur.sum())
    return np.array(out)


def star_split(hw, sizes):
    """Closed form of the normalised output currents: G_o / sum G_o, G_o = sum_j g(x_jo)."""
    g = hw.conductances()[0]
    _, g_out = edge_blocks(g, sizes)
    return g_out.sum(axis=0) / g_out.sum()


def patterns_of(n_in):
    one_hot = [Pattern(tuple(float(i == j) for j in range(n_in)), 0) for i in range(n_in)]
    mixed = [Pattern(tuple(1.0 for _ in range(n_in)), 0), Pattern(tuple(0.5 + 0.5 * (j % 2) for j in range(n_in)), 0)]
    return one_hot + mixed


@pytest.mark.parametrize("sizes", [(2, 4, 2), (3, 5, 2)])
def test_uniform_net_answers_every_input_the_same_before_and_after_a_controller_pulse(sizes):
    # all hidden nodes at one voltage V_h in a read (outputs grounded): output o receives
    # V_h G_o, so the split of the current between the outputs is G_o / sum G_o whatever the inputs
    # (any levels, one-hot or not). A punishment or normalisation acts on the hidden nodes
    # symmetrically as well, so the states stay twin-symmetric and the split stays input-independent:
    # exactly (up to rounding), for every pattern, not only symmetric ones; only its value changes.
    n_in, h, n_out = sizes
    _, hw = uniform_hardware(sizes)
    pats = patterns_of(n_in)
    before = normalised_reads(hw, pats)
    np.testing.assert_allclose(before, np.full_like(before, 1.0 / n_out), rtol=1e-12)
    # punish input 0's pattern with output 0 as the wrong winner, then normalise
    hw2, _ = hw.run([punish_segment(hw, pats[0], 0, Pulses()), normalise_segment(hw, Pulses())], dt=Pulses().dt)
    x_in, x_out = edge_blocks(hw2.x[0], sizes)
    assert np.abs(hw2.x[0] - hw.x[0]).max() > 1e-2  # the pulses did change the devices
    np.testing.assert_allclose(x_in, x_in[:, :1].repeat(h, axis=1), rtol=0, atol=1e-12)  # rows of twins
    np.testing.assert_allclose(x_out, x_out[:1].repeat(h, axis=0), rtol=0, atol=1e-12)
    after = normalised_reads(hw2, pats)
    # the same split for every pattern, equal to the star's closed form (1e-9: read currents
    # ~1e-5 A from a nodal solve; rounding is ~1e-15 of them)
    np.testing.assert_allclose(after, np.broadcast_to(star_split(hw2, sizes), after.shape), rtol=1e-9)
    assert np.abs(after[0] - before[0]).max() > 1e-3  # the punishment moved the split (output 0 lost)
    assert is_uniform(hw2.circuit, hw2.x[0])


def test_breaking_the_twin_symmetry_makes_the_answer_depend_on_the_input():
    # the control: hidden node 0 made different on both sides (its edge from input 0 and its edge
    # to output 0), so the split depends on the pattern and the test above can fail. (Either edge alone
    # is not enough: the two inputs, resp. the two outputs, would stay interchangeable.)
    sizes = (2, 4, 2)
    x = np.full(16, 0.5)
    x[[0, 8]] = 0.1  # in 0 -> h 0 and h 0 -> out 0
    _, hw = uniform_hardware(sizes, x0=x)
    reads = normalised_reads(hw, patterns_of(2)[:2])
    assert np.abs(reads[0] - reads[1]).max() > 1e-4
    assert hidden_twins(hw.circuit, hw.x[0]) == [[("h", 1, 1), ("h", 1, 2), ("h", 1, 3)]]


# ------------------------------------------------------------------ the helper


def test_hidden_twins_finds_the_degenerate_baselines():
    net = Network.from_graph(layered([2, 4, 2], orientation="backward"), VTEAM(), x0=0.5)
    assert hidden_twins(net) == [[("h", 1, j) for j in range(4)]]
    rng = np.random.default_rng(0)
    assert not is_uniform(net, rng.random(16))
    assert not is_uniform(net, np.clip(0.5 + 1e-6 * rng.standard_normal(16), 0, 1))  # any spread breaks it
    # equal states but a device spread in one device's parameters: not twins any more
    params = net.compile().params.copy()
    params[0, 0] *= 1.1
    assert hidden_twins(net, params=params) == [[("h", 1, 1), ("h", 1, 2), ("h", 1, 3)]]
    # an open (pruned) edge breaks the twins of its hidden node
    open_ = np.zeros(16, bool)
    open_[[0, 5]] = True  # in0 -> h0 and in1 -> h1
    assert hidden_twins(net, open_edges=open_) == [[("h", 1, 2), ("h", 1, 3)]]
    # two hidden layers: each layer's nodes are twins among themselves
    deep = Network.from_graph(layered([2, 3, 3, 2]), VTEAM(), x0=0.5)
    assert sorted(map(len, hidden_twins(deep))) == [3, 3]
    assert hidden_twins(Network.from_graph(crossbar(2, 3), VTEAM(), x0=0.5)) == []  # no bulk nodes
    with pytest.raises(ValueError, match="x must have shape"):
        hidden_twins(net, np.zeros(3))
    with pytest.raises(ValueError, match="rtol"):
        hidden_twins(net, rtol=-1.0)
