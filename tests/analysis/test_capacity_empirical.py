"""Empirical capacity: Wilson intervals, known capacities, early stopping, seeding, validation."""

from __future__ import annotations

import concurrent.futures as cf
import math
import threading
import time

import networkx as nx
import numpy as np
import pandas as pd
import pytest
from scipy.stats import binomtest

from memsim import VTEAM, Network, Variability, layered
from memsim.analysis import (
    CapacityResult,
    association_set,
    controllability,
    controller_configurations,
    empirical_capacity,
    wilson_interval,
)
from memsim.learning import Controller, build_hardware, classification

FAST = Controller(max_eras=5)


def backward(sizes) -> Network:
    return Network.from_graph(layered(list(sizes), orientation="backward"), VTEAM())


def one_sided_net() -> nx.DiGraph:
    """Three inputs wired to output 0 only; output 1 is an isolated node, so it never receives current."""
    g = nx.DiGraph()
    for n, role in [("i0", "input"), ("i1", "input"), ("i2", "input"), ("o0", "output"), ("o1", "output")]:
        g.add_node(n, role=role)
    for i in ("i0", "i1", "i2"):
        g.add_edge("o0", i)
    return g


def to_unreachable(p: int, rng: np.random.Generator):
    """``p`` one-input patterns that all target the unreachable output 1."""
    return classification(np.eye(3)[:p], [1] * p, 2)


# ------------------------------------------------------------------ Wilson interval
@pytest.mark.parametrize("k,n,conf", [(0, 1, 0.95), (0, 10, 0.95), (3, 10, 0.95), (7, 7, 0.9), (50, 100, 0.99),
                                      (1, 3, 0.5), (12, 40, 0.8)])
def test_wilson_matches_scipy_and_the_closed_form(k, n, conf):
    lo, hi = wilson_interval(k, n, conf)
    ref = binomtest(k, n).proportion_ci(confidence_level=conf, method="wilson")
    # both evaluate the same closed form; differences are rounding (~1e-16)
    assert lo == pytest.approx(ref.low, abs=1e-12) and hi == pytest.approx(ref.high, abs=1e-12)
    z = {0.95: 1.959963984540054, 0.9: 1.6448536269514722, 0.99: 2.5758293035489004,
         0.5: 0.6744897501960817, 0.8: 1.2815515655446004}[conf]
    centre = (k + z * z / 2) / (n + z * z)
    half = z / (n + z * z) * math.sqrt(k * (n - k) / n + z * z / 4)
    assert lo == pytest.approx(max(centre - half, 0.0), abs=1e-12)
    assert hi == pytest.approx(min(centre + half, 1.0), abs=1e-12)
    assert 0.0 <= lo <= k / n <= hi <= 1.0


def test_wilson_vectorised_and_edges():
    lo, hi = wilson_interval(np.array([0, 5, 10]), np.array([10, 10, 10]))
    assert lo.shape == hi.shape == (3,)
    assert lo[0] == 0.0 and hi[2] == 1.0
    assert hi[0] == pytest.approx(1.959963984540054**2 / (10 + 1.959963984540054**2), rel=1e-12)  # z^2/(n+z^2)
    assert lo[1] == pytest.approx(1 - hi[1], rel=1e-12)  # symmetric about 1/2
    for kwargs, field in [({"successes": 1, "trials": 0}, "trials"), ({"successes": 4, "trials": 3}, "successes"),
                          ({"successes": 0.5, "trials": 3}, "successes"),
                          ({"successes": 1, "trials": 3, "confidence": 1.0}, "confidence")]:
        with pytest.raises(ValueError, match=field):
            wilson_interval(**kwargs)


# ------------------------------------------------------------------ known capacities
def test_trivially_wired_net_learns_every_association():
    # layered([3, 2]): each input has its own device to each output, so every one-input
    # association map is learnable: P(learned | p) = 1 for p <= n_inputs
    res = empirical_capacity(backward([3, 2]), tasks="association", n_sets=3, copies=2,
                             controller=Controller(max_eras=10), seed=0)
    assert isinstance(res, CapacityResult)
    assert res.p.tolist() == [1, 2, 3] and res.p_limit == 3
    assert res.probability.tolist() == [1.0, 1.0, 1.0]
    assert res.n_trials.tolist() == [6, 6, 6] and res.successes.tolist() == [6, 6, 6]
    assert res.capacity == 3 and res.mean_learnable == 3.0 and not res.stopped_early
    np.testing.assert_allclose(res.low, wilson_interval(6, 6)[0])
    assert np.all(res.high == 1.0) and np.all(np.isfinite(res.presentations))


def test_uniform_net_learns_only_constant_maps():
    # x0 = 0.5 everywhere: the hidden nodes of 2-4-2 stay interchangeable, the split of the
    # current between the outputs cannot depend on the input, so only sets whose targets all
    # agree are learnable; two one-input patterns with random targets agree with probability 1/2
    res = empirical_capacity(backward([2, 4, 2]), tasks="association", x0=0.5, n_sets=8, copies=1,
                             controller=FAST, seed=5)
    targets_agree = [len(set(association_set(2, 2, 2, seed=np.random.default_rng(ss)).targets.tolist())) == 1
                     for ss in (np.random.SeedSequence([int(np.random.default_rng(5).integers(2**62)), 2, j])
                                .spawn(3)[0] for j in range(8))]
    assert res.probability[0] == 1.0
    assert res.successes[1] == sum(targets_agree)


# ------------------------------------------------------------------ early stopping
def test_early_stopping_stops_at_the_first_confidently_unlearnable_size():
    res = empirical_capacity(one_sided_net(), tasks=to_unreachable, p_max=3, n_sets=2, copies=2,
                             controller=Controller(max_eras=2), seed=1)
    # 0 of 4: Wilson upper bound z^2 / (4 + z^2) = 0.49 < 1/2, so p = 2, 3 are never tried
    assert res.p.tolist() == [1] and res.stopped_early
    assert res.high[0] < 0.5 and res.capacity == 0 and res.mean_learnable == 0.0
    full = empirical_capacity(one_sided_net(), tasks=to_unreachable, p_max=3, n_sets=2, copies=2,
                              controller=Controller(max_eras=2), seed=1, early_stop=False)
    assert full.p.tolist() == [1, 2, 3] and not full.stopped_early and np.all(full.successes == 0)
    # with 3 trials the bound (0.56) stays above 1/2: no stop
    few = empirical_capacity(one_sided_net(), tasks=to_unreachable, p_max=2, n_sets=3, copies=1,
                             controller=Controller(max_eras=2), seed=1)
    assert few.p.tolist() == [1, 2] and not few.stopped_early
    # ... but it is below a threshold of 0.6, which stops the same scan after p = 1
    assert empirical_capacity(one_sided_net(), tasks=to_unreachable, p_max=2, n_sets=3, copies=1,
                              controller=Controller(max_eras=2), threshold=0.6, seed=1).p.tolist() == [1]


# ------------------------------------------------------------------ seeding
def test_seeds_reproduce_and_sizes_are_independent_of_the_scan():
    net = backward([2, 2, 2])
    kw = {"tasks": "random", "n_sets": 2, "copies": 2, "controller": FAST}
    a = empirical_capacity(net, seed=11, **kw)
    b = empirical_capacity(net, seed=11, **kw)
    for name in ("p", "n_trials", "successes", "probability", "low", "high"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    np.testing.assert_array_equal(a.presentations, b.presentations)
    # the draws for size p depend on (seed, p, set) only: a scan cut at p = 2 agrees on p = 1, 2
    c = empirical_capacity(net, seed=11, p_max=2, **kw)
    np.testing.assert_array_equal(c.successes, a.successes[:2])
    np.testing.assert_array_equal(c.presentations, a.presentations[:2])
    # a graph is converted with VTEAM devices: the same numbers
    g = empirical_capacity(layered([2, 2, 2], orientation="backward"), seed=11, **kw)
    np.testing.assert_array_equal(g.successes, a.successes)


def test_trials_record_each_copy_and_a_smaller_cap_is_a_truncation():
    # the per-copy records add up to the per-size counts, and training stops only at the stop
    # criterion or the cap, so the run with cap 4 must equal the run with cap 12 censored at 4 eras
    # (exact: same seeds, same arithmetic up to era 4)
    net = backward([2, 4, 2])
    kw = {"tasks": "random", "n_sets": 3, "copies": 2, "early_stop": False, "seed": 5,
          "variability": Variability(d2d=0.1)}
    long = empirical_capacity(net, controller=Controller(max_eras=12), **kw)
    short = empirical_capacity(net, controller=Controller(max_eras=4), **kw)
    t = long.trials
    assert list(t.columns) == ["p", "set", "copy", "learned", "eras", "presentations"]
    assert len(t) == 3 * 3 * 2
    np.testing.assert_array_equal(t.groupby("p")["learned"].sum().to_numpy(), long.successes)
    done = t["learned"].to_numpy(bool)
    assert np.all(np.isnan(t["eras"].to_numpy()[~done])) and np.all(t["eras"].to_numpy()[done] >= 1)
    assert np.all(t["eras"].to_numpy()[done] <= 12)
    by_cap = done & (t["eras"].to_numpy() <= 4)
    np.testing.assert_array_equal(short.trials["learned"].to_numpy(bool), by_cap)
    np.testing.assert_array_equal(short.trials["eras"].to_numpy()[by_cap], t["eras"].to_numpy()[by_cap])
    # informative: with seed 5 some copies learn after era 4 (eras 5-7) and some exactly at it
    assert by_cap.sum() < done.sum() and np.any(t["eras"].to_numpy() == 4)


def test_symmetry_breakers_run_and_are_seeded():
    net = backward([2, 4, 2])
    kw = {"tasks": "association", "p_max": 1, "n_sets": 1, "copies": 2, "controller": FAST, "seed": 3}
    a = empirical_capacity(net, x0=0.5, state_spread=0.1, prune_fraction=0.25, **kw)
    b = empirical_capacity(net, x0=0.5, state_spread=0.1, prune_fraction=0.25, **kw)
    assert a.p.tolist() == [1] and a.successes.tolist() == b.successes.tolist()
    assert a.n_trials.tolist() == [2]


# ------------------------------------------------------------------ result and validation
def test_result_is_immutable_and_tabulates():
    res = empirical_capacity(backward([2, 2]), tasks="association", p_max=1, n_sets=1, copies=1,
                             controller=FAST, seed=0)
    with pytest.raises(ValueError):
        res.probability[0] = 0.0
    with pytest.raises(AttributeError):
        res.capacity = 7
    t = res.table()
    assert list(t.columns) == ["p", "n_trials", "successes", "probability", "low", "high", "presentations"]
    assert len(t) == 1 and "capacity=1" in repr(res)


def test_progress_bar(capsys):
    empirical_capacity(backward([2, 2]), tasks="association", p_max=1, n_sets=1, copies=1, controller=FAST,
                       seed=0, progress=True)
    assert "capacity" in capsys.readouterr().err


def one_pattern(p: int, rng: np.random.Generator):
    """A sampler that ignores ``p`` (always one pattern): an invalid task generator."""
    return association_set(2, 2, 1, seed=rng)


@pytest.mark.parametrize("kwargs,field", [
    ({"n_sets": 0}, "n_sets"), ({"copies": 0}, "copies"), ({"threshold": 0.0}, "threshold"),
    ({"confidence": 1.0}, "confidence"), ({"tasks": "parity"}, "tasks"), ({"tasks": to_unreachable}, "p_max"),
    ({"p_max": 0}, "p_max"), ({"density": 0.0}, "density"), ({"prune_fraction": 1.0}, "prune_fraction"),
    ({"state_spread": 0.1}, "state_spread"), ({"state_spread": -1.0}, "state_spread"),
    ({"controller": "fast"}, "controller"), ({"tasks": one_pattern, "p_max": 2}, "tasks"),
])
def test_bad_arguments_name_the_field(kwargs, field):
    with pytest.raises(ValueError, match=field):
        empirical_capacity(backward([2, 2]), **{"controller": FAST, "n_sets": 1, "copies": 1, **kwargs})


def test_bad_network():
    with pytest.raises(ValueError, match="network"):
        empirical_capacity("2-4-2")
    with pytest.raises(ValueError, match="outputs"):
        empirical_capacity(backward([2, 1]))


def test_association_set():
    t = association_set(5, 3, 4, seed=2)
    assert t.levels.shape == (4, 5) and np.all(t.levels.sum(axis=1) == 1.0)
    assert len({tuple(r) for r in t.levels}) == 4 and t.n_outputs == 3
    assert association_set(5, 3, 4, seed=2) == t
    with pytest.raises(ValueError, match="p"):
        association_set(2, 2, 3)


# ------------------------------------------------------------------ configurations for controllability
def test_controller_configurations_and_the_symmetric_gramian():
    net = backward([2, 4, 2])
    hw = build_hardware(net, x0=0.5, seed=0)
    cfgs = controller_configurations(hw)
    assert [c.label for c in cfgs].count("punish") == 4 and len(cfgs) == 7
    task = classification([[1, 0], [1, 1]], [1, 0], 2)
    assert [c.label for c in controller_configurations(hw, task)] == ["read", "punish", "read", "punish", "normalise"]
    # interchangeable hidden nodes: the uniform net's Gramian is rank deficient and random states raise it
    uniform = controllability(hw.circuit, cfgs, x=hw.x[0])
    hw_r = build_hardware(net, x0="random", seed=0)
    broken = controllability(hw_r.circuit, controller_configurations(hw_r), x=hw_r.x[0])
    assert uniform.n_dynamic == 16 and uniform.rank < broken.rank
    with pytest.raises(ValueError, match="task"):
        controller_configurations(hw, classification([[1, 0, 1]], [0], 2))
    with pytest.raises(ValueError, match="hardware"):
        controller_configurations(net)


def reachable_then_not(p: int, rng: np.random.Generator):
    """p = 1: one pattern to the reachable output 0 (learned in the first era); p >= 2: all to the unreachable 1."""
    return classification(np.eye(3)[:p], [0 if p == 1 else 1] * p, 2)


class RecordingPool(cf.ThreadPoolExecutor):
    """Two threads logging when each set is submitted and done; set ``hold`` is held back (sets finish out of order)."""

    def __init__(self, hold: tuple[int, int]) -> None:
        super().__init__(max_workers=2)
        self.hold, self.log, self.lock = hold, [], threading.Lock()

    def submit(self, fn, /, *args, **kwargs):
        pj = args[1:3]  # _train_set(net, p, j, base, opts)
        with self.lock:
            self.log.append(("submit", *pj))

        def run():
            if pj == self.hold:
                time.sleep(1.0)
            out = fn(*args, **kwargs)
            with self.lock:
                self.log.append(("done", *pj))
            return out

        return super().submit(run)


def test_next_size_starts_early_only_when_the_stop_is_ruled_out(monkeypatch):
    # size 1 is learned (4 of 4), size 2 never (0 of 4: Wilson high 0.49 < 1/2, the scan stops there)
    kw = {"tasks": reachable_then_not, "p_max": 3, "n_sets": 4, "copies": 1, "controller": Controller(max_eras=2),
          "seed": 1}
    one = empirical_capacity(one_sided_net(), **kw)
    assert one.p.tolist() == [1, 2] and one.successes.tolist() == [4, 0] and one.stopped_early
    pool = RecordingPool(hold=(1, 3))
    monkeypatch.setattr("memsim.analysis.capacity.process_pool", lambda workers: pool)
    two = empirical_capacity(one_sided_net(), workers=2, **kw)
    pool.shutdown(wait=True)
    for name in ("p", "successes", "low", "high", "presentations"):
        np.testing.assert_array_equal(getattr(one, name), getattr(two, name))
    assert two.stopped_early == one.stopped_early and two.capacity == one.capacity
    submitted = [(p, j) for what, p, j in pool.log if what == "submit"]
    # every set of sizes 1 and 2 once, none of size 3: after 0 successes at size 2 the stop is not ruled out
    assert sorted(submitted) == [(p, j) for p in (1, 2) for j in range(4)]
    # the sets of size 2 started while set 3 of size 1 (held back) was still running
    assert pool.log.index(("submit", 2, 0)) < pool.log.index(("done", 1, 3))


def test_workers_give_the_same_early_stop_on_a_process_pool():
    kw = {"tasks": reachable_then_not, "p_max": 3, "n_sets": 4, "copies": 1, "controller": Controller(max_eras=2),
          "seed": 2}
    one, two = empirical_capacity(one_sided_net(), **kw), empirical_capacity(one_sided_net(), workers=2, **kw)
    assert one.p.tolist() == two.p.tolist() == [1, 2] and one.stopped_early and two.stopped_early
    for name in ("successes", "low", "high", "presentations"):
        np.testing.assert_array_equal(getattr(one, name), getattr(two, name))


def test_wilson_upper_bound_grows_with_the_successes():
    # the parallel scan starts size p + 1 once high(successes so far, n) >= threshold: the final
    # high (more successes, same n) is then >= threshold too, so no early stop can follow
    for conf in (0.5, 0.9, 0.95, 0.99):
        for n in range(1, 65):
            hi = wilson_interval(np.arange(n + 1), np.full(n + 1, n), conf)[1]
            assert np.all(np.diff(hi) >= 0), (conf, n)


def test_workers_do_not_change_the_numbers():
    # the draws of set j at size p depend on (seed, p, j) only and results are gathered in set order
    net = backward([2, 2, 2])
    kw = {"tasks": "random", "n_sets": 3, "copies": 2, "controller": FAST, "seed": 4}
    one = empirical_capacity(net, **kw)
    two = empirical_capacity(net, workers=2, **kw)
    for name in ("p", "successes", "probability", "low", "high"):
        np.testing.assert_array_equal(getattr(one, name), getattr(two, name))
    np.testing.assert_array_equal(one.presentations, two.presentations)
    pd.testing.assert_frame_equal(one.trials, two.trials)  # per-copy records too, in set order
    with pytest.raises(ValueError, match="workers"):
        empirical_capacity(net, workers=0, **kw)
    with pytest.raises(ValueError, match="picklable"):
        empirical_capacity(net, tasks=lambda p, rng: association_set(2, 2, p, seed=rng), p_max=1, workers=2,
                           n_sets=1, controller=FAST)
