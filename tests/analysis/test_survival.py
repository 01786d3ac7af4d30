"""The stratified log-rank test: hand-computed cases, scipy's two-sample test, calibration under the null."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import CensoredData, logrank

from memsim.analysis.survival import logrank_test

# group a: events at 1 and 4, censored at 3; group b: events at 2 and 2, censored at 5
TIMES = [1, 3, 4, 2, 2, 5]
EVENTS = [True, False, True, True, True, False]
GROUPS = list("aaabbb")


def test_hand_computed_two_groups():
    # by hand, event times 1, 2, 4 (3 is a censoring):
    #   t=1: at risk a 3, b 3; 1 event (a): E_a = 3/6 = 0.5,  V = 1*5/5 * 1/2 * 1/2 = 0.25
    #   t=2: at risk a 2, b 3; 2 events (b): E_a = 2*2/5 = 0.8, V = 2*3/4 * 2/5 * 3/5 = 0.36
    #   t=4: at risk a 1, b 1; 1 event (a): E_a = 1/2 = 0.5,  V = 1*1/1 * 1/2 * 1/2 = 0.25
    # O_a = 2, E_a = 1.8, E_b = 4 - 1.8 = 2.2, V = 0.86: chi2 = 0.2^2 / 0.86, z_b = -0.2 / sqrt(0.86)
    r = logrank_test(TIMES, EVENTS, GROUPS, scores={"a": 0.0, "b": 1.0})
    # sums of a few exact fractions: rounding only (~1e-16)
    assert r.groups.tolist() == ["a", "b"] and r.observed.tolist() == [2.0, 2.0]
    np.testing.assert_allclose(r.expected, [1.8, 2.2], rtol=1e-12)
    assert r.statistic == pytest.approx(0.04 / 0.86, rel=1e-12) and r.df == 1
    assert r.trend_z == pytest.approx(-0.2 / np.sqrt(0.86), rel=1e-12)
    assert r.trend_pvalue == pytest.approx(r.pvalue, rel=1e-12)  # two groups: z^2 is the chi-square


def test_hand_computed_strata_add_up():
    # a second stratum, a at 1 and b at 2: t=1 gives E_a = 1/2, V = 1/4; at t=2 only b is at risk
    # (E_a = 0, V = 0). Pooled: O_a - E_a = 0.2 + 0.5, V = 0.86 + 0.25
    t = TIMES + [1, 2]
    e = EVENTS + [True, True]
    g = GROUPS + ["a", "b"]
    r = logrank_test(t, e, g, strata=[0] * 6 + [1, 1])
    assert r.statistic == pytest.approx(0.7**2 / 1.11, rel=1e-12)
    # without strata the second stratum's subjects join the first risk sets: a different number
    assert logrank_test(t, e, g).statistic != pytest.approx(r.statistic, rel=1e-3)


def test_two_groups_match_scipy():
    # reference: scipy.stats.logrank (two-sided), an independent implementation of the same test
    rng = np.random.default_rng(0)
    for _ in range(5):
        ta, tb = rng.exponential(1.0, 30).round(1), rng.exponential(1.6, 25).round(1)  # ties on purpose
        ca, cb = rng.random(30) < 0.3, rng.random(25) < 0.3
        ref = logrank(CensoredData.right_censored(ta, ca), CensoredData.right_censored(tb, cb))
        r = logrank_test(np.r_[ta, tb], ~np.r_[ca, cb], [0] * 30 + [1] * 25, scores=[0.0, 1.0])
        assert r.statistic == pytest.approx(ref.statistic**2, rel=1e-10)
        assert r.pvalue == pytest.approx(ref.pvalue, rel=1e-10)
        assert abs(r.trend_z) == pytest.approx(abs(ref.statistic), rel=1e-10)


def test_k_groups_equal_the_reduced_form_and_ignore_labels():
    # the generalised inverse equals the textbook form that drops one group (V is singular: rows sum
    # to zero); relabelling groups changes nothing
    rng = np.random.default_rng(1)
    t = rng.exponential(1.0, 60).round(1)
    e = rng.random(60) < 0.8
    g = rng.integers(0, 3, 60)
    strata = rng.integers(0, 2, 60)
    r = logrank_test(t, e, g, strata=strata)
    o_e = r.observed - r.expected
    # recompute V independently, dropping the last group
    v = np.zeros((2, 2))
    for s in (0, 1):
        sel = strata == s
        for time in np.unique(t[sel & e]):
            risk = np.array([np.sum(sel & (t >= time) & (g == k)) for k in range(3)], float)
            d = np.sum(sel & e & (t == time))
            n = risk.sum()
            if n > 1:
                f = risk[:2] / n
                v += d * (n - d) / (n - 1) * (np.diag(f) - np.outer(f, f))
    assert r.df == 2
    assert r.statistic == pytest.approx(float(o_e[:2] @ np.linalg.solve(v, o_e[:2])), rel=1e-9)
    relabelled = logrank_test(t, e, np.array(["z", "y", "x"])[g], strata=strata)
    assert relabelled.statistic == pytest.approx(r.statistic, rel=1e-12)


def test_null_calibration_of_the_trend_test():
    # three groups with equal hazards, random censoring, two strata: the trend test rejects at 5 %
    # in about 5 % of 400 data sets; binomial(400, 0.05) lies in [8, 32] with probability > 0.999
    rng = np.random.default_rng(2)
    rejections = 0
    for _ in range(400):
        t = rng.exponential(1.0, 45).round(2)
        e = rng.random(45) < 0.7
        g = np.repeat([0, 1, 2], 15)
        r = logrank_test(t, e, g, strata=rng.integers(0, 2, 45), scores=[0.0, 1.0, 2.0])
        rejections += r.trend_pvalue < 0.05
    assert 8 <= rejections <= 32


def test_trend_detects_a_graded_hazard():
    # hazards 1, 2, 4 for scores 0, 1, 2: larger scores have more events than expected (z > 0)
    rng = np.random.default_rng(3)
    g = np.repeat([0, 1, 2], 40)
    t = rng.exponential(1.0 / np.array([1.0, 2.0, 4.0])[g])
    r = logrank_test(t, np.ones(120, bool), g, scores=[0.0, 1.0, 2.0])
    assert r.trend_z > 3 and r.pvalue < 1e-3


def test_bad_input():
    with pytest.raises(ValueError, match="groups must have at least two"):
        logrank_test([1, 2], [1, 1], [0, 0])
    with pytest.raises(ValueError, match="times must be finite"):
        logrank_test([1, np.nan], [1, 0], [0, 1])
    with pytest.raises(ValueError, match="1-D arrays of one length"):
        logrank_test([1, 2, 3], [1, 0], [0, 1, 1])
    with pytest.raises(ValueError, match="events must be booleans"):
        logrank_test([1, 2], [1, 2], [0, 1])
    with pytest.raises(ValueError, match="scores"):
        logrank_test([1, 2], [1, 1], [0, 1], scores=[1.0])
