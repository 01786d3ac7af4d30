"""Tests of the controller's protocols (memsim.learning.inhibition): signs, polarity, margins, dt.

Polarity reference: VTEAM (Kvatinsky et al., IEEE TCAS-II 62, 786, 2015) turns ON below
v_on = -0.2 V and OFF above v_off = +0.02 V; with orientation="backward" a forward pulse on the
inputs puts negative voltages on the devices.
"""

from __future__ import annotations

import numpy as np
import pytest

from memsim import Network, Resistor
from memsim.learning.hardware import build_hardware
from memsim.learning.inhibition import (
    Pulses,
    decide,
    normalise_segment,
    output_currents,
    punish_segment,
    read_segment,
)
from memsim.learning.tasks import Pattern

PULSES = Pulses()


def test_output_current_is_the_current_received_by_the_output():
    # a: input driven at V_r through no source resistance; b, c: grounded outputs through 1 k / 2 k.
    # Ohm's law: the outputs receive V/1k and V/2k (positive), and the source at b reports -V/1k.
    net = Network()
    net.add_node("a", "input")
    net.add_node("b", "output")
    net.add_node("c", "output")
    net.add_edge("a", "b", Resistor(1e3), x0=0.0)
    net.add_edge("a", "c", Resistor(2e3), x0=0.0)
    hw = build_hardware(net, n_copies=2, source_resistance=0.0, seed=0)
    hw2, res = hw.run(read_segment(hw, Pattern((1.0,), 0), PULSES), dt=PULSES.dt)
    cur = output_currents(res, hw)
    np.testing.assert_allclose(cur, [[1e-5, 5e-6]] * 2, rtol=1e-12)  # exact up to round-off
    np.testing.assert_allclose(res.terminal_current("b")[-1], [-1e-5] * 2, rtol=1e-12)
    assert decide(cur, 0).correct.all() and decide(cur, 1).wrong.tolist() == [0, 0]


def test_decide_with_ties_and_resolution():
    cur = np.array([[3e-6, 1e-6, 2e-6], [1e-6, 1e-6 + 5e-10, 0.0], [-4e-6, 1e-6, 0.0]])
    d = decide(cur, np.array([2, 0, 0]), resolution=1e-9)
    assert d.answer.tolist() == [0, -1, 0]  # row 1: within the resolution -> no answer
    assert d.correct.tolist() == [False, False, True]  # row 2: the magnitude wins
    assert d.wrong.tolist() == [0, 1, -1]
    np.testing.assert_allclose(d.margin, [-1e-6, -5e-10, 3e-6])
    with pytest.raises(ValueError, match="currents"):
        decide(np.zeros(3), 0)


def test_segments_follow_the_pattern_and_the_idle_rule(net242):
    hw = build_hardware(net242, seed=0)
    p = Pattern((0.5, 0.0), 1)
    src0, src1 = hw.inputs
    seg = read_segment(hw, p, PULSES)
    assert dict(seg.drive) == {src0: 0.005} and seg.ground == hw.outputs and seg.label == "read"
    seg = punish_segment(hw, p, 0, Pulses(idle_inputs="ground"))
    assert dict(seg.drive) == {src0: -0.25} and seg.ground == (("out", 0), src1)
    assert normalise_segment(hw, PULSES).ground == hw.outputs
    with pytest.raises(ValueError, match="wrong"):
        punish_segment(hw, p, 2, PULSES)
    with pytest.raises(ValueError, match="levels"):
        read_segment(hw, Pattern((1.0,), 0), PULSES)
    with pytest.raises(ValueError, match="normalise_duration"):
        normalise_segment(hw, Pulses(normalise_duration=0.0))


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [({"read_voltage": 0.0}, "read_voltage"), ({"punish_duration": -1e-9}, "punish_duration"),
     ({"dt": float("inf")}, "dt"), ({"method": "scipy"}, "method"), ({"rtol": 0.0}, "rtol"), ({"idle_inputs": "open"}, "idle_inputs"),
     ({"resolution": -1.0}, "resolution"), ({"normalise_voltage": True}, "normalise_voltage")],
)
def test_pulses_reject_bad_values(kwargs, needle):
    with pytest.raises(ValueError, match=needle) as exc:
        Pulses(**kwargs)
    assert "\n" not in str(exc.value)


def test_punishing_pulse_depresses_the_wrong_path_and_normalising_pulse_potentiates(net242):
    hw = build_hardware(net242, n_copies=40, seed=6)
    names = hw.circuit.node_names
    u, v = hw.circuit.edge_u[:16], hw.circuit.edge_v[:16]
    touches = lambda node: (u == names.index(node)) | (v == names.index(node))  # noqa: E731
    wrong_path = touches(("in", 0)) | touches(("out", 1))
    hw2, _ = hw.run(punish_segment(hw, Pattern((1.0, 0.0), 0), 1, PULSES), dt=PULSES.dt, record=("power",))
    dx = hw2.x[:, :16] - hw.x[:, :16]
    assert np.all(dx[:, wrong_path] <= 0.0)  # devices between input 0 and the wrong winner only depress
    assert np.all(dx[:, wrong_path].sum(axis=1) < -0.1)  # and together they move by a lot
    hw3, _ = hw2.run(normalise_segment(hw2, PULSES), dt=PULSES.dt, record=("power",))
    assert np.all(hw3.x >= hw2.x)  # every device sees v <= 0 in the forward pulse: ON direction only
    assert np.all((hw3.x - hw2.x)[:, :16].sum(axis=1) > 0)


def _mistake_cases(net, n, seed):
    """n seeded mistakes on the 2-4-2 net: random states, pattern s % 2, target = the read's loser."""
    hw = build_hardware(net, n_copies=n, seed=seed)
    pats = [Pattern((1.0, 0.0), 0), Pattern((0.0, 1.0), 0)]
    reads = []
    for p in pats:
        _, res = hw.run(read_segment(hw, p, PULSES), dt=PULSES.dt)
        reads.append(output_currents(res, hw))
    which = np.arange(n) % 2
    cur = np.where(which[:, None] == 0, reads[0], reads[1])
    target = np.argmin(np.abs(cur), axis=1)  # make the read a mistake: the loser is the target
    return hw, pats, which, target, cur


def _margins(hw, pats, which, target):
    out = np.empty(hw.n_copies)
    for j, p in enumerate(pats):
        copies = np.flatnonzero(which == j)
        _, res = hw.run(read_segment(hw, p, PULSES), dt=PULSES.dt, copies=copies)
        out[copies] = decide(output_currents(res, hw), target[copies]).margin
    return out


def test_punishing_a_mistake_increases_its_margin_in_at_least_95_percent_of_cases(net242):
    """Issue 5 acceptance: 100 seeded mistakes with the default pulses.

    Measured (seed 123): the punishing pulse raises the margin in 100/100 cases. The full mistake
    step (punish, then normalise) raises it in ~85 % of cases: the normalising pulse potentiates
    the whole network and so scales the still-negative margins up in magnitude; the relative
    margin (I_target - I_wrong) / (I_target + I_wrong) rises in >= 90 %. Those two are recorded,
    not asserted at 95 %.
    """
    hw, pats, which, target, cur = _mistake_cases(net242, 100, seed=123)
    before = _margins(hw, pats, which, target)
    assert np.all(before < 0)
    punished = hw
    for j, p in enumerate(pats):
        for w in (0, 1):
            copies = np.flatnonzero((which == j) & (1 - target == w))
            if copies.size:
                punished, _ = punished.run(punish_segment(hw, p, w, PULSES), copies=copies, dt=PULSES.dt,
                                           record=("power",))
    after = _margins(punished, pats, which, target)
    assert np.mean(after > before) >= 0.95
    full, _ = punished.run(normalise_segment(hw, PULSES), dt=PULSES.dt, record=("power",))
    after_full = _margins(full, pats, which, target)
    assert np.mean(after_full > before) >= 0.75  # recorded above: ~85 %


def test_halving_dt_does_not_change_the_mistake_step_materially(net242):
    # RK4 with dt = 1e-11 s vs 5e-12 s through one punish + normalise from 20 random states.
    # Measured difference 1.6e-8 of the state range (RK4, error ~ dt^4); tolerance 1e-6, still
    # five orders of magnitude below the ~0.1-0.5 a mistake moves a device.
    hw = build_hardware(net242, n_copies=20, seed=8)
    out = []
    for dt in (PULSES.dt, PULSES.dt / 2):
        h, _ = hw.run(punish_segment(hw, Pattern((1.0, 0.0), 0), 1, PULSES), dt=dt, record=("power",))
        h, _ = h.run(normalise_segment(h, PULSES), dt=dt, record=("power",))
        out.append(h.x)
    assert np.max(np.abs(out[0] - out[1])) < 1e-6
