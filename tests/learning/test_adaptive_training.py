"""The controller's default integrator (adaptive steps) against the fixed-step RK4 it replaced.

Reference: RK4 at the controller's 10 ps step (the former default). The adaptive method at the
default tolerances (rtol 1e-6, atol 1e-8) must not change any training outcome of these seeded runs:
the same mistakes at the same presentations, hence the same learned era for every copy, and
device states that agree to ~1e-5 (both integrators' errors on the normalising pulse are ~1e-5, see
tests/solve/test_adaptive.py). Measured over 8 seeded 20-copy runs of the four association maps:
identical outcomes in every copy, 12x less wall time (closing note of issue 12).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from memsim import VTEAM, Network, layered
from memsim.learning import Controller, Pulses, association, build_hardware, train


@pytest.mark.parametrize("targets,seed", [((0, 1), 0), ((1, 1), 5)])
def test_same_outcomes_as_rk4(targets, seed):
    net = Network.from_graph(layered([2, 4, 2], orientation="backward"), VTEAM())
    task = association(targets)
    out = {}
    for method in ("rk4", "adaptive"):
        ctrl = Controller(pulses=dataclasses.replace(Pulses(), method=method), max_eras=30)
        out[method] = train(build_hardware(net, n_copies=6, seed=seed), task, ctrl, seed=seed)
    a, b = out["rk4"], out["adaptive"]
    assert a.mistakes.sum() > 0  # something was learned, not given
    np.testing.assert_array_equal(a.state.learned_era, b.state.learned_era)
    np.testing.assert_array_equal(a.state.last_mistake, b.state.last_mistake)
    np.testing.assert_array_equal(a.presentations["correct"].to_numpy(), b.presentations["correct"].to_numpy())
    np.testing.assert_allclose(a.hardware.x, b.hardware.x, atol=1e-4)


def test_default_pulses_are_adaptive():
    assert Pulses().method == "adaptive" and Pulses().rtol == 1e-6 and Pulses().atol == 1e-8
