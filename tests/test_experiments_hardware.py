"""Helpers of experiments/codesign_hardware.py (its quick run is in test_experiments_codesign.py)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import chi2

from memsim import VTEAM, Network, layered
from memsim.learning import Pulses, build_hardware
from memsim.learning.inhibition import normalise_segment


@pytest.fixture
def hwmod(load_experiment):
    return load_experiment("codesign_hardware")


def _normalised_uniform_net(device, resistance, voltage, duration):
    net = Network.from_graph(layered([2, 4, 2], orientation="backward"), device)
    hw = build_hardware(net, x0=0.0, source_resistance=resistance)
    p = Pulses(normalise_voltage=voltage, normalise_duration=duration)
    hw, _ = hw.run(normalise_segment(hw, p), dt=p.dt, method="adaptive", record=(), record_every=2**62)
    return hw.conductances()[0]


@pytest.mark.parametrize(("resistance", "voltage"), [(50.0, 0.6), (20.0, 0.6), (200.0, 0.8)])
def test_uniform_set_point_matches_the_simulated_linear_threshold_net(hwmod, resistance, voltage):
    # Reference: the simulator. A depressed uniform 2-4-2 net of linear-threshold VTEAM devices under one
    # 20 ns normalising pulse: near g* the overdrive decays exponentially with a time constant of ~0.2 ns
    # (rate 10 m/s / 3 nm / 0.2 V per volt, times dv/dg dg/dx at g*), so after 20 ns the net sits at its
    # set point up to the integrator's tolerance (rtol 1e-6 on the states, times (r_off - r_on)/r <= 20 for
    # the conductance): 2e-5 relative.
    g = _normalised_uniform_net(VTEAM(alpha_on=1.0, alpha_off=1.0), resistance, voltage, 20e-9)
    g_star = hwmod.uniform_set_point((2, 4, 2), voltage, 0.2, resistance)
    assert 1 / 1000 < g_star < 1 / 50  # an interior set point
    assert g == pytest.approx(np.full(16, g_star), rel=2e-5)


def test_uniform_set_point_bounds_and_no_overshoot(hwmod):
    assert hwmod.uniform_set_point((2, 4, 2), 0.6, 0.2, 0.0) == math.inf  # ideal sources: no set point
    assert hwmod.uniform_set_point((2, 4, 2), 0.4, 0.2, 50.0) == 0.0  # V_n / 2 at the threshold: no switching
    # ideal sources: the pulse drives the uniform net to the ON bound (1 / r_on = 20 mS) exactly
    g = _normalised_uniform_net(VTEAM(), 0.0, 0.6, 20e-9)
    assert g == pytest.approx(np.full(16, 1 / 50.0), rel=1e-12)
    # the published VTEAM (alpha_on = 3) approaches g* from below (a threshold device stops at it, it cannot
    # overshoot), slowly (the overdrive falls as t^-1/2): below g* up to the integrator tolerance, above 50 %
    g = _normalised_uniform_net(VTEAM(), 50.0, 0.6, 20e-9)
    g_star = hwmod.uniform_set_point((2, 4, 2), 0.6, 0.2, 50.0)
    assert np.all(g <= g_star * (1 + 2e-5)) and np.all(g > 0.5 * g_star)
    with pytest.raises(ValueError, match="layers"):
        hwmod.uniform_set_point((2, 4, 1), 0.6, 0.2, 50.0)


def test_km_median_by_hand(hwmod):
    # Kaplan-Meier by hand: times 1..5, censored at 2 and 5. S(1) = 4/5; t = 2 censored; S(3) = 4/5 * 2/3 =
    # 0.533; S(4) = 0.533 * 1/2 = 0.267 -> the median is 4. Without censoring the median of 1..4 is 2.
    assert hwmod.km_median([1, 2, 3, 4, 5], [True, False, True, True, False]) == 4.0
    assert hwmod.km_median([1, 2, 3, 4], [True] * 4) == 2.0
    assert hwmod.km_median([1, 9, 9], [True, False, False]) == math.inf  # S never falls to 0.5
    assert hwmod.km_median([3, 3], [False, False]) == math.inf


def test_newcombe_difference_matches_the_published_examples(hwmod):
    # Newcombe, Stat. Med. 17, 873 (1998), Table II, method 10 (4 decimals as printed)
    d, lo, hi = hwmod.newcombe_difference(56, 70, 48, 80)
    assert (round(d, 4), round(lo, 4), round(hi, 4)) == (0.2, 0.0524, 0.3339)
    d, lo, hi = hwmod.newcombe_difference(9, 10, 3, 10)
    assert (round(lo, 4), round(hi, 4)) == (0.1705, 0.8090)


def test_homogeneity(hwmod):
    assert hwmod.homogeneity([5, 5, 5], [5, 5, 5]) == (1.0, 0.0)  # all learned: no evidence either way
    # 10/10 against 0/10: chi-square (no continuity correction) = 20 on 1 dof, Cramer's V = sqrt(20 / 20) = 1
    p, v = hwmod.homogeneity([10, 0], [10, 10])
    assert v == pytest.approx(1.0, rel=1e-12) and p == pytest.approx(chi2.sf(20.0, 1), rel=1e-9)


def test_pulse_sets_merge_identical_settings(hwmod):
    import pandas as pd

    spec = hwmod.DEVICES[0]
    p = Pulses()
    fields = {"punish_voltage": p.punish_voltage, "punish_duration": p.punish_duration,
              "normalise_voltage": p.normalise_voltage, "normalise_duration": p.normalise_duration}
    chosen = pd.DataFrame([{"device": spec.name, "tuned_at": 0.0, **fields, "normalise_duration": 1e-10},
                           {"device": spec.name, "tuned_at": 50.0, **fields}])
    sets = hwmod.pulse_sets(hwmod.Config(), spec, chosen)
    assert list(sets) == ["tuned at 50 ohm = package default", "tuned at 0 ohm"]
    assert sets["tuned at 0 ohm"].normalise_duration == 1e-10
    assert hwmod._label(sets, "package default") == "tuned at 50 ohm = package default"
    assert len(spec.grid()) == 24 and len({*spec.grid()}) == 24  # 1 x 2 x 3 x 4 distinct settings
