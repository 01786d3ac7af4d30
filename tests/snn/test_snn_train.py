"""Training helpers: loss gradients by central differences, Adam against its formula, encoding,
a chip callable in the loop, and the experiment's quick mode."""

from __future__ import annotations


import numpy as np
import pandas as pd
import pytest

from memsim.datasets import yinyang
from memsim.snn import LIF, forward
from memsim.snn.train import (
    Adam,
    FirstSpikeMSE,
    adam_init,
    adam_step,
    evaluate,
    latency_encode,
    train_epoch,
    vmax_cross_entropy,
)



def central(f, x, h):
    g = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        xp, xm = x.copy(), x.copy()
        xp[idx] += h
        xm[idx] -= h
        g[idx] = (f(xp) - f(xm)) / (2 * h)
    return g


def test_loss_gradients_match_central_differences():
    # both losses are smooth (away from the clip): central differences with h = 1e-9 s (times of
    # ~1e-5 s) and 1e-6 (potentials ~1) have truncation ~h^2 and rounding ~1e-16/h relative,
    # so 1e-6 relative is safe.
    rng = np.random.default_rng(0)
    loss = FirstSpikeMSE(t_correct=5e-6, t_wrong=9e-6, t_clip=24e-6, tau=12e-6)
    t = rng.uniform(1e-6, 20e-6, (4, 3))
    y = np.array([0, 2, 1, 1])
    np.testing.assert_allclose(loss(t, y)[1], central(lambda a: loss(a, y)[0], t, 1e-9), rtol=1e-6)
    v = rng.normal(size=(4, 3))
    np.testing.assert_allclose(vmax_cross_entropy(v, y)[1], central(lambda a: vmax_cross_entropy(a, y)[0], v, 1e-6),
                               rtol=1e-6, atol=1e-10)


def test_clipped_or_silent_outputs_give_no_gradient():
    loss = FirstSpikeMSE(t_correct=5e-6, t_wrong=9e-6, t_clip=24e-6, tau=12e-6)
    value, grad = loss(np.array([[np.inf, 30e-6, 5e-6]]), np.array([2]))
    assert grad.tolist() == [[0.0, 0.0, 0.0]]
    assert value == pytest.approx(2 * ((24e-6 - 9e-6) / 12e-6) ** 2)


def test_adam_follows_its_formula_for_two_steps():
    # reference: the update written out by hand (Kingma & Ba 2015, Algorithm 1)
    opt = Adam(lr=0.1)
    g1, g2 = np.array([1.0, -2.0]), np.array([0.5, 0.5])
    w, s = adam_step([np.zeros(2)], [g1], adam_init([np.zeros(2)]), opt, 0.1)
    w, s = adam_step(w, [g2], s, opt, 0.1)
    m1, v1 = 0.1 * g1, 0.001 * g1**2
    m2, v2 = 0.9 * m1 + 0.1 * g2, 0.999 * v1 + 0.001 * g2**2
    first = -0.1 * (m1 / 0.1) / (np.sqrt(v1 / 0.001) + 1e-8)
    second = first - 0.1 * (m2 / (1 - 0.81)) / (np.sqrt(v2 / (1 - 0.999**2)) + 1e-8)
    np.testing.assert_allclose(w[0], second, rtol=1e-14)


def test_latency_encoding_checks_its_features():
    with pytest.raises(ValueError, match="features"):
        latency_encode([[1.5]], t_late=1.0)
    assert latency_encode([[0.5]], t_late=2.0, duplicate=1, bias_time=None).tolist() == [[1.0]]


def test_training_lowers_the_loss_and_a_chip_callable_plugs_in():
    # a small Yin-Yang problem: two epochs lower the training loss, in software and with an
    # exact "chip" (the software forward returning spike times only), which must then give the
    # very same weights (the reconstruction is exact up to rounding: 1e-9 after 20 Adam steps).
    lif = LIF()
    X, y = yinyang(320, seed=0)
    x = latency_encode(X, t_late=12e-6)
    loss = FirstSpikeMSE(t_correct=5.4e-6, t_wrong=9e-6, t_clip=24e-6, tau=12e-6)
    rng = np.random.default_rng(0)
    w0 = [rng.normal(0.6, 0.32, (30, 25)), rng.normal(0.5, 0.8, (3, 30))]

    def chip(weights, inputs):
        return forward(inputs, weights, lif, t_max=24e-6).times

    results = []
    for c in (None, chip):
        w, s = w0, adam_init(w0)
        losses = []
        for epoch in range(2):
            w, s, l = train_epoch(w, s, x, y, neurons=lif, t_max=24e-6, loss=loss, opt=Adam(), epoch=epoch,
                                  seed=epoch, chip=c)
            losses.append(l)
        assert losses[1] < losses[0]
        results.append(w)
        acc, _ = evaluate(w, x, y, neurons=lif, t_max=24e-6, loss=loss, chip=c)
        assert 0.0 <= acc <= 1.0
    for p, q in zip(*results):
        np.testing.assert_allclose(p, q, rtol=0, atol=1e-9)


def test_experiment_quick_mode_writes_results_and_a_verdict(tmp_path, capsys, load_experiment):
    mod = load_experiment("eventprop_yinyang")
    assert mod.main(["--quick", "--out", str(tmp_path)]) == 0
    folder = tmp_path / "eventprop_yinyang"
    for f in ("runs.csv", "curves.csv", "information.csv", "hil_runs.csv", "hil_curves.csv"):
        assert len(pd.read_csv(folder / f)) > 0
    assert (folder / "yinyang.png").stat().st_size > 0
    out = capsys.readouterr().out
    assert "claim" in out and "SUPPORTED" in out
    # the exact check of the hardware-in-the-loop path: an ideal array gives the software weights
    assert "computes the software EventProp steps): SUPPORTED" in out
    hil = pd.read_csv(folder / "hil_runs.csv")
    assert set(hil["variant"]) == {"software", "ideal", "rpu x0", "rpu x1", "rpu x1 read-back",
                                   "exact writes, mismatch x2"}
    assert hil["deployed_acc"].notna().sum() == 6  # (two levels + the exact-write control) x two seeds
    mean, sd, lo, hi = mod.summary(np.array([0.9, 0.92, 0.94]))
    assert mean == pytest.approx(0.92) and sd == pytest.approx(0.02) and lo < mean < hi
