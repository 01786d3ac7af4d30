"""The co-design experiments run in quick mode and write their tables and figures; their helpers."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

EXPERIMENTS = Path(__file__).resolve().parent.parent / "experiments"


def load(name: str):
    """Import ``experiments/<name>.py`` (not a package) as a module."""
    if name in sys.modules:
        return sys.modules[name]
    if str(EXPERIMENTS) not in sys.path:
        sys.path.insert(0, str(EXPERIMENTS))  # as when run as a script: `import _common` finds experiments/
    spec = importlib.util.spec_from_file_location(name, EXPERIMENTS / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod  # dataclasses resolve their module through sys.modules
    spec.loader.exec_module(mod)
    return mod


OUTPUTS = {
    "codesign_depth": ("summary.csv", "capacity.csv", "controllability.csv", "depth.png"),
    "codesign_size": ("summary.csv", "capacity.csv", "size.png"),
    "codesign_symmetry": ("controllability.csv", "trials.csv", "tests.csv", "symmetry.png"),
    "codesign_contrast": ("runs.csv", "conductances.csv", "summary.csv", "tests.csv", "contrast.png"),
    "codesign_networks": ("summary.csv", "capacity.csv", "networks.png"),
    "codesign_search": ("evaluations.csv", "rescored.csv", "codesign_search.png"),
    "codesign_hardware": ("search.csv", "pulses.csv", "runs.csv", "summary.csv", "mechanism.csv", "cycles.csv",
                          "hardware.png"),
}


@pytest.mark.parametrize("name", sorted(OUTPUTS))
def test_quick_run_writes_csv_png_and_a_verdict(name, tmp_path, capsys):
    mod = load(name)
    assert "Claim" in mod.__doc__ or "claim" in mod.__doc__
    assert mod.main(["--quick", "--out", str(tmp_path)]) == 0
    folder = tmp_path / name
    for f in OUTPUTS[name]:
        assert (folder / f).stat().st_size > 0, f
    for f in OUTPUTS[name]:
        if f.endswith(".csv"):
            assert len(pd.read_csv(folder / f)) > 0, f
    out = capsys.readouterr().out
    assert "claim" in out and "SUPPORTED" in out


def test_depth_layers_keep_the_budget():
    mod = load("codesign_depth")
    assert mod.layers_for(1, 48) == [2, 12, 2]
    assert mod.layers_for(3, 48) == [2, 4, 4, 4, 2]  # 8 + 16 + 16 + 8 = 48 devices
    assert mod.layers_for(2, 24) == [2, 3, 3, 2]  # 21 devices; width 4 would give 32


def _simulated_counts(law, n=4000, seed=0):
    """Binomial counts of P = expit((C(M) - p) / w) at the full study's sizes, p = 1..7."""
    from scipy.special import expit

    m = np.repeat([10.0, 15, 20, 40, 80, 160], 7)
    p = np.tile(np.arange(1.0, 8.0), 6)
    k = np.random.default_rng(seed).binomial(n, expit((law(m) - p) / 0.6)).astype(float)
    return m, p, k, np.full(m.size, float(n))


@pytest.mark.parametrize("truth", ["exponential", "power law"])
def test_size_aic_recovers_the_law_that_made_the_counts(truth):
    # counts simulated from each law with the same end points (C = 5 at 10 devices, ~1.1 at 160) and
    # 4000 trials per cell: the maximum-likelihood rate is within 10 % of the truth (its standard error
    # here is ~1 %), and AIC prefers the true law by far more than 2 (the laws differ by ~0.7 patterns
    # in the middle of the range, hundreds of log-likelihood units at this n)
    mod = load("codesign_size")
    rate = {"exponential": 0.01, "power law": 0.55}[truth]
    law = {"exponential": lambda m: 5.0 * np.exp(-rate * (m - 10)), "power law": lambda m: 5.0 * (m / 10) ** -rate}
    m, p, k, n = _simulated_counts(law[truth])
    fits = mod.fit_sizes(m, p, k, n, m0=10.0)
    other = "power law" if truth == "exponential" else "exponential"
    assert fits[other].aic - fits[truth].aic > 20
    assert fits[truth].theta[1] == pytest.approx(rate, rel=0.1)
    assert np.exp(fits[truth].theta[0]) == pytest.approx(5.0, rel=0.05)
    assert fits["constant"].aic > fits[truth].aic + 20  # the size effect is found


def test_size_free_model_and_symmetry_offset_recover_known_capacities():
    # one capacity per size (3, 2, 1.5) and a factor exp(0.3) on the second variant; 4000 trials per cell
    from scipy.special import expit

    mod = load("codesign_size")
    si = np.tile(np.repeat([0, 1, 2], 6), 2)
    p = np.tile(np.arange(1.0, 7.0), 6)
    off = np.repeat([0.0, 1.0], 18)
    c = np.array([3.0, 2.0, 1.5])[si] * np.exp(0.3 * off)
    n = np.full(p.size, 4000.0)
    k = np.random.default_rng(1).binomial(4000, expit((c - p) / 0.5)).astype(float)
    fit = mod._free_fit(si, p, k, n, 3, start=[np.log(2.0)] * 3 + [0.0, 0.0], offset=off)
    # standard errors ~1 % at this n: 5 % tolerance
    np.testing.assert_allclose(np.exp(fit.theta[:3]), [3.0, 2.0, 1.5], rtol=0.05)
    assert fit.theta[-1] == pytest.approx(0.3, abs=0.03) and np.exp(fit.theta[3]) == pytest.approx(0.5, rel=0.05)


def test_depth_model_recovers_a_known_slope():
    # logit P = beta_p + beta_L (depth - 1), beta_L = -0.4, 4000 trials per cell: standard error of
    # beta_L ~0.02, tolerance 0.08; the null model (beta_L = 0) fits far worse
    from scipy.special import expit

    mod = load("codesign_depth")
    depth = np.repeat([1.0, 2, 3, 4], 3)
    pi = np.tile([0, 1, 2], 4)
    beta = np.array([2.0, 0.5, -0.5])
    n = np.full(12, 4000.0)
    k = np.random.default_rng(2).binomial(4000, expit(beta[pi] - 0.4 * (depth - 1))).astype(float)
    alt = mod.fit_depth(pi, 3, depth, k, n)
    null = mod.fit_depth(pi, 3, depth, k, n, slope=False)
    assert alt.theta[-1] == pytest.approx(-0.4, abs=0.08)
    np.testing.assert_allclose(alt.theta[:3], beta, atol=0.15)
    assert null.n_params == 3 and null.theta[-1] == 0.0 and null.aic > alt.aic + 20


def test_common_caps_and_censoring():
    common = load("_common")
    assert common.scaled_cap(10, 10.0, 10.0, 1 / 3) == 10
    assert common.scaled_cap(80, 10.0, 10.0, 1 / 3) == 20  # (80 / 10)^(1/3) = 2
    assert common.scaled_cap(10, 10.0, 10.0, 1 / 3, factor=1 / 3) == 4  # ceil(3.33)
    assert common.scaled_cap(1, 0.1, 10.0, 1.0) == 1  # at least one era
    t = pd.DataFrame({"learned": [True, True, False], "eras": [2.0, 7.0, np.nan]})
    assert common.learned_by(t, 5).tolist() == [True, False, False]
    assert common.learned_by(t, [1, 7, 9]).tolist() == [False, True, False]


def test_common_set_bootstrap_keeps_the_sets_paired():
    # two sizes trained on the same 5 sets of each p, 2 copies each; size 2 learns exactly what size 1
    # learns, so every resample (one draw of the sets per p, shared by both sizes) gives equal counts
    common = load("_common")
    rows = [{"size": s, "p": p, "set": j, "copy": c} for s in (1, 2) for p in (1, 2) for j in range(5) for c in (0, 1)]
    t = pd.DataFrame(rows)
    learned = ((t["set"] + t["copy"] + t["p"]) % 3 == 0).to_numpy()
    keys, k, n, kb, nb = common.set_bootstrap(t, ["size", "p"], learned, 50, seed=0)
    assert keys.to_dict("list") == {"size": [1, 1, 2, 2], "p": [1, 2, 1, 2]}
    np.testing.assert_array_equal(n, [10, 10, 10, 10])
    np.testing.assert_array_equal(k, [t[(t["size"] == s) & (t["p"] == p)].pipe(lambda g: learned[g.index].sum())
                                      for s, p in ((1, 1), (1, 2), (2, 1), (2, 2))])
    np.testing.assert_array_equal(kb[:, :2], kb[:, 2:])  # paired
    np.testing.assert_array_equal(nb, 10.0)  # 5 sets drawn per p, 2 copies each
    assert len(np.unique(kb[:, 0])) > 1  # the resamples differ
    assert common.set_bootstrap(t, ["size", "p"], learned, 50, seed=0)[3].tolist() == kb.tolist()  # seeded


def test_common_kaplan_meier_median():
    # hand: events at 1 (a), 2, 2 (b), 4 (a); censored 3, 5. S(1) = 5/6, S(2) = 5/6 * 3/5 = 1/2,
    # S(4) = 1/2 * 1/2 = 1/4: the median is the first time with S <= 1/2, t = 2
    common = load("_common")
    times, events = [1, 3, 4, 2, 2, 5], [True, False, True, True, True, False]
    assert common.km_median(times, events) == 2.0
    np.testing.assert_allclose(common.kaplan_meier(times, events).probabilities, [5 / 6, 1 / 2, 1 / 2, 1 / 4, 1 / 4])
    assert common.km_median([1, 2, 3], [True, False, False]) == np.inf  # S stays at 2/3
    assert common.km_median([1, 2], [False, False]) == np.inf


def test_symmetry_conditions_share_their_draws_and_copy_circuit_is_the_pruned_net():
    mod = load("codesign_symmetry")
    from memsim import VTEAM, Network, layered
    from memsim.analysis import controllability, controller_configurations
    from memsim.learning import build_hardware

    cfg = mod.QUICK
    net = Network.from_graph(layered(list(cfg.layers), orientation="backward"), VTEAM())
    hw = {c: mod.condition_hardware(net, c, cfg, 2, [5, 6]) for c in mod.CONDITIONS}
    # the pairing the tests rely on: same spread draws, same states, same opened devices
    assert np.array_equal(hw["narrow"].params, hw["hardware"].params)
    assert np.array_equal(hw["hardware"].x, hw["hardware+pruned"].x)
    assert np.array_equal(hw["symmetric+pruned"].open_edges, hw["hardware+pruned"].open_edges)
    assert np.array_equal(hw["narrow+pruned"].open_edges, hw["hardware+pruned"].open_edges)
    assert (hw["hardware+pruned"].open_edges.sum(axis=1) == cfg.prune_k).all()
    # reference: the same net built independently from the graph without the opened edges
    sym = hw["symmetric+pruned"]
    for k in range(2):
        circ, x = load("_baseline").copy_circuit(sym, k)
        open_ = np.asarray(sym.open_edges[k, : net.n_edges])
        g = layered(list(cfg.layers), orientation="backward")
        g.remove_edges_from([(u, v) for u, v, i in g.edges(data="index") if open_[i]])
        ref = build_hardware(Network.from_graph(g, VTEAM()), x0=0.5)
        rc = ref.circuit
        assert [(circ.node_names[u], circ.node_names[v]) for u, v in zip(circ.edge_u, circ.edge_v)] == \
            [(rc.node_names[u], rc.node_names[v]) for u, v in zip(rc.edge_u, rc.edge_v)]
        a = controllability(circ, controller_configurations(sym), x=x)
        b = controllability(ref.circuit, controller_configurations(ref), x=ref.x[0])
        # the same linearisation of the same circuit: only the order of float sums may differ
        assert a.rank == b.rank and np.allclose(a.gramian, b.gramian, rtol=1e-9, atol=1e-12 * abs(b.gramian).max())


def test_symmetry_capacity_difference_is_the_difference_of_mean_learnable():
    mod = load("codesign_symmetry")
    # two conditions, p = 1, 2, three sets of two copies; learned_era -1: not learned
    eras = {"a": [0, 0, 1, 5, 0, -1, 2, 9, -1, -1, 3, 3], "b": [0, 0, 0, -1, 0, 0, 9, -1, -1, -1, 1, -1]}
    rows = [{"condition": c, "p": p, "set": j, "copy": k, "learned_era": eras[c][(p - 1) * 6 + 2 * j + k]}
            for c in eras for p in (1, 2) for j in range(3) for k in range(2)]
    trials = pd.DataFrame(rows)
    # by hand, cap 40: a learns 5/6 at p = 1 and 4/6 at p = 2; b 5/6 and 2/6 -> difference 2/6
    r = mod.capacity_test(trials, "a", "b", 40, seed=0)
    assert r.delta == pytest.approx(2 / 6, abs=1e-12) and r.mean_a == pytest.approx(1.5, abs=1e-12)
    # cap 3 drops eras >= 3: a 4/6 + 1/6, b 5/6 + 1/6 -> -1/6
    assert mod.capacity_test(trials, "a", "b", 3, seed=0).delta == pytest.approx(-1 / 6, abs=1e-12)


def test_contrast_surviving_asymmetry():
    mod = load("codesign_contrast")
    from memsim import Network, layered
    from memsim.analysis.symmetry import edge_classes, weighted_asymmetry

    # by hand: class 0 survivors [1, 3]: CV = 1 / 2 (population sd); class 1 [2, 2]: CV 0 -> (2 * 0.5 + 0) / 4
    cls = np.array([0, 0, 0, 1, 1])
    g = np.array([1.0, 3.0, 5.0, 2.0, 2.0])
    assert mod.surviving_asymmetry(cls, g, np.array([0, 0, 1, 0, 0], bool)) == pytest.approx(0.25, rel=1e-12)
    assert mod.surviving_asymmetry(cls, g, np.array([0, 1, 1, 0, 0], bool)) == 0.0  # one survivor: no contrast
    # nothing open: memsim's weighted_asymmetry (an independent implementation)
    net = Network.from_graph(layered([2, 4, 2]))
    w = np.random.default_rng(3).uniform(0.001, 0.02, net.n_edges)
    assert mod.surviving_asymmetry(edge_classes(net), w, np.zeros(net.n_edges, bool)) == pytest.approx(
        weighted_asymmetry(net, w), rel=1e-12)


def test_contrast_threshold_and_cv():
    mod = load("codesign_contrast")
    from memsim import VTEAM

    assert mod.prune_threshold(VTEAM(), 1.0) == pytest.approx(1 / 50.0)
    assert mod.prune_threshold(VTEAM(), 0.0) == pytest.approx(1 / 1000.0)
    assert mod.coefficient_of_variation(np.array([1.0, 1.0])) == 0.0
    assert mod.coefficient_of_variation(np.array([0.0, 2.0])) == pytest.approx(1.0)


def test_paired_comparison():
    baseline = load("_baseline")
    b = np.array([0.1, 0.4, 0.2, 0.9, 0.5])
    r = baseline.compare(b + 0.25, b, seed=0)
    # every difference is +0.25: bootstrap means are all 0.25; five positive ranks: W+ = 15, r = 1,
    # exact one-sided p = 1 / 2^5
    assert (r.delta, r.low, r.high) == pytest.approx((0.25, 0.25, 0.25), abs=1e-12)
    assert r.w_plus == 15.0 and r.rank_biserial == 1.0 and r.p_value == pytest.approx(1 / 32, rel=1e-12)
    assert baseline.wilcoxon_greater(np.zeros(4)) == (0.0, 0.0, 1.0)  # no evidence either way
    assert baseline.compare(b, b + 0.25, seed=0).p_value == 1.0
    with pytest.raises(ValueError, match="shape"):
        baseline.compare(b, b[:3], seed=0)


def test_common_mann_whitney_and_claim_line():
    common = load("_common")
    assert common.mann_whitney_greater([1, 1], [1, 1]) == (2.0, 1.0)  # no evidence either way
    # complete separation of 4 vs 4: U = 16, exact one-sided p = 1 / C(8, 4) = 1/70
    u, p = common.mann_whitney_greater([5, 6, 7, 8], [1, 2, 3, 4])
    assert u == 16.0 and p == pytest.approx(1 / 70, rel=1e-12)
    assert common.mann_whitney_greater([1, 2, 3, 4], [5, 6, 7, 8])[1] > 0.5
    assert common.claim_line("(x)", False, "y") == "claim (x): NOT SUPPORTED by memsim's numbers: y"


def test_common_main_writes_tables_before_the_figure(tmp_path):
    common = load("_common")

    def bad_figure(res, cfg):
        raise RuntimeError("plotting failed")

    with pytest.raises(RuntimeError, match="plotting"):
        common.main(["--out", str(tmp_path)], doc="t", name="demo", full=1, quick=0,
                    run=lambda cfg: {"table": pd.DataFrame({"cfg": [cfg]})}, figure=bad_figure,
                    figure_file="f.png", report=print)
    assert pd.read_csv(tmp_path / "demo" / "table.csv")["cfg"].tolist() == [1]  # no result lost
    with pytest.raises(SystemExit):
        common.main(["--bogus"], doc="t", name="demo", full=1, quick=0, run=None, figure=None,
                    figure_file="f.png", report=print)
