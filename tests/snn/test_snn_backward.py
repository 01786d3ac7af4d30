"""EventProp gradients: central finite differences, the Python twin, chip-in-the-loop reconstruction,
and the discrete-time model's gradient as dt -> 0.

Finite-difference tolerance: the loss is a smooth function of the weights as long as no spike
appears or vanishes (checked for every perturbation). With a step eps = 1e-6 on weights of order 1,
the truncation error of the central difference is ~eps^2 |L'''| ~ 1e-12 relative, and the rounding
error ~ (1e-16 relative precision of the root-solved spike times) |L| / eps ~ 1e-10 relative; the
bound 1e-6 of the issue (relative to the largest gradient entry) is therefore met with a wide margin
(measured: ~1e-9) while any missing or wrong jump term (an O(1) relative error) fails it.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from memsim.snn import LIF, backward, forward, gradient_from_spike_times, reconstruct
from memsim.snn.discrete import forward_discrete

T_MAX = 40e-6
EPS = 1e-6
RTOL_FD = 1e-6

CASES = {
    "ttfs": (LIF(), LIF(), 1),
    "multi": (LIF(mode="multi"), LIF(mode="multi"), 3),
    "multi+refractory": (LIF(mode="multi", refractory=2e-6, reset=-0.3), LIF(mode="multi", refractory=1e-6), 3),
    "ttfs+vmax": (LIF(), LIF(threshold=math.inf), 1),
    "multi+vmax": (LIF(mode="multi", refractory=1e-6), LIF(mode="multi", threshold=math.inf), 2),
}


def setup(case, seed=1, batch=3):
    hidden_lif, out_lif, k_in = CASES[case]
    rng = np.random.default_rng(seed)
    x = np.sort(rng.uniform(0, 15e-6, (batch, 5, k_in)), axis=-1)
    w = [rng.normal(1.2, 1.0, (7, 5)), rng.normal(0.8, 1.0, (3, 7))]
    return x, w, [hidden_lif, out_lif], rng


def loss_and_counts(x, w, neurons, c):
    """A random linear functional of the output spike times (or membrane maxima), and spike counts."""
    tr = forward(x, w, neurons, t_max=T_MAX)
    counts = tuple(int(np.isfinite(t).sum()) for t in tr.times)
    if tr.vmax is not None:
        return float((c * tr.vmax).sum()), counts
    t = tr.times[-1]
    return float((c * np.where(np.isfinite(t), t, 0.0)).sum()), counts


def fd_gradient(x, w, neurons, c):
    ref_counts = loss_and_counts(x, w, neurons, c)[1]
    grads = []
    for l in range(len(w)):
        g = np.zeros_like(w[l])
        for idx in np.ndindex(w[l].shape):
            vals = []
            for sign in (1, -1):
                wp = [a.copy() for a in w]
                wp[l][idx] += sign * EPS
                value, counts = loss_and_counts(x, wp, neurons, c)
                assert counts == ref_counts, "a spike appeared or vanished under the perturbation"
                vals.append(value)
            g[idx] = (vals[0] - vals[1]) / (2 * EPS)
        grads.append(g)
    return grads


def adjoint(x, w, neurons, c, **kw):
    tr = forward(x, w, neurons, t_max=T_MAX)
    if tr.vmax is not None:
        return backward(x, tr, w, neurons, t_max=T_MAX, dl_dvmax=c, **kw), tr
    return backward(x, tr, w, neurons, t_max=T_MAX, dl_dt=c, **kw), tr


def loss_gradient_target(tr, rng):
    shape = tr.vmax.shape if tr.vmax is not None else tr.times[-1].shape
    return rng.normal(size=shape)


@pytest.mark.parametrize("case", sorted(CASES))
def test_eventprop_matches_central_finite_differences(case):
    x, w, neurons, rng = setup(case, seed=10 if case == "ttfs+vmax" else 1)  # seed 10: maxima at kinks
    tr = forward(x, w, neurons, t_max=T_MAX)
    c = loss_gradient_target(tr, rng)
    grads, tr = adjoint(x, w, neurons, c)
    fd = fd_gradient(x, w, neurons, c)
    for l in range(2):
        scale = np.abs(fd[l]).max()
        assert scale > 0
        np.testing.assert_allclose(grads[l], fd[l], rtol=0, atol=RTOL_FD * scale)
    # the checks exercised what they claim: spikes in both layers, several per neuron in multi
    # mode, and (membrane-maximum cases) at least one maximum at a kink made by an input spike
    assert np.isfinite(tr.times[0]).sum() >= 8
    if "multi" in case:
        assert (np.isfinite(tr.times[0]).sum(axis=-1) >= 2).any()
    if tr.vmax is None:
        assert np.isfinite(tr.times[1]).sum() >= 3
    else:
        assert (tr.e_vmax >= 0).any() and (tr.e_vmax < 0).any()


@pytest.mark.parametrize("case", sorted(CASES))
def test_backward_kernel_matches_python_twin(case):
    # reference: the twin moves the costates with the matrix exponential of the transposed 2 x 2
    # system and sorts the events in Python; gradients of order 1-1e6 agree to 1e-12 of their
    # largest entry (double-precision rounding of a few hundred operations).
    x, w, neurons, rng = setup(case, seed=2, batch=2 if "multi" in case else 3)
    tr = forward(x, w, neurons, t_max=T_MAX)
    c = loss_gradient_target(tr, rng)
    kw = {"dl_dvmax": c} if tr.vmax is not None else {"dl_dt": c}
    a = backward(x, tr, w, neurons, t_max=T_MAX, **kw)
    b = backward(x, tr, w, neurons, t_max=T_MAX, engine="python", **kw)
    for p, q in zip(a, b):
        np.testing.assert_allclose(p, q, rtol=0, atol=1e-12 * np.abs(q).max())


def test_per_sample_gradients_sum_to_the_batch_gradient():
    x, w, neurons, rng = setup("ttfs")
    tr = forward(x, w, neurons, t_max=T_MAX)
    c = rng.normal(size=tr.times[-1].shape[:2])
    total = backward(x, tr, w, neurons, t_max=T_MAX, dl_dt=c)
    each = backward(x, tr, w, neurons, t_max=T_MAX, dl_dt=c, per_sample=True)
    for p, q in zip(total, each):
        assert q.shape == (3,) + p.shape
        np.testing.assert_allclose(q.sum(axis=0), p, rtol=1e-13, atol=0)


# ------------------------------------------------------------------- chip in the loop


@pytest.mark.parametrize("case", ["ttfs", "multi+refractory", "ttfs+vmax"])
def test_gradient_from_spike_times_equals_backward_when_the_chip_is_exact(case):
    # reference: backward() on the forward pass's own recorded currents. The reconstruction sums
    # the synaptic kernels directly instead of propagating the current event by event, so the two
    # differ only by rounding: 1e-12 of the largest gradient entry.
    x, w, neurons, rng = setup(case)
    tr = forward(x, w, neurons, t_max=T_MAX)
    c = loss_gradient_target(tr, rng)
    kw = {"dl_dvmax": c} if tr.vmax is not None else {"dl_dt": c}
    rec = reconstruct(x, tr.times, w, neurons, t_max=T_MAX)
    for l in range(2):
        np.testing.assert_allclose(rec.i_spike[l], tr.i_spike[l], rtol=0, atol=1e-12)
        np.testing.assert_allclose(rec.i_release[l], tr.i_release[l], rtol=0, atol=1e-12)
    ordinary = backward(x, tr, w, neurons, t_max=T_MAX, **kw)
    from_times = gradient_from_spike_times(x, tr.times, w, neurons, t_max=T_MAX, **kw)
    for p, q in zip(ordinary, from_times):
        np.testing.assert_allclose(q, p, rtol=0, atol=1e-12 * np.abs(p).max())


def test_gradient_from_a_mismatched_chip_stays_close_to_the_exact_one():
    # A chip whose weights carry 0.1 % noise: its spike times move by O(1e-3) relative, and the
    # gradient reconstructed from them with the nominal weights moves by a similar amount. We
    # require it to differ from the exact gradient (the chip's times were really used) and to
    # stay within 5 % of it (no spike appears or vanishes at this noise level, checked).
    x, w, neurons, rng = setup("ttfs")
    tr = forward(x, w, neurons, t_max=T_MAX)
    chip_w = [a * (1 + 1e-3 * rng.standard_normal(a.shape)) for a in w]
    chip = forward(x, chip_w, neurons, t_max=T_MAX)
    assert all(np.array_equal(np.isfinite(p), np.isfinite(q)) for p, q in zip(tr.times, chip.times))
    c = rng.normal(size=tr.times[-1].shape[:2])
    exact = backward(x, tr, w, neurons, t_max=T_MAX, dl_dt=c)
    hil = gradient_from_spike_times(x, chip.times, w, neurons, t_max=T_MAX, dl_dt=c)
    for p, q in zip(exact, hil):
        gap = np.abs(q - p).max() / np.abs(p).max()
        assert 1e-9 < gap < 0.05


def test_reconstruct_rejects_spike_arrays_that_do_not_fit():
    x, w, neurons, _ = setup("ttfs")
    tr = forward(x, w, neurons, t_max=T_MAX)
    with pytest.raises(ValueError, match="times"):
        reconstruct(x, tr.times[:1], w, neurons, t_max=T_MAX)
    with pytest.raises(ValueError, match=r"times\[0\]"):
        reconstruct(x, [tr.times[0][:, :4], tr.times[1]], w, neurons, t_max=T_MAX)
    with pytest.raises(ValueError, match="dl_dt"):
        backward(x, tr, w, neurons, t_max=T_MAX, dl_dt=np.ones((2, 2)))
    with pytest.raises(ValueError, match="dl_dt"):
        backward(x, tr, w, neurons, t_max=T_MAX)


# ------------------------------------------------------------- discrete model, dt -> 0


def discrete_loss(x, w, neurons, c, dt):
    t = forward_discrete(x, w, neurons, t_max=T_MAX, dt=dt)[-1][..., 0]
    return float((c * np.where(np.isfinite(t), t, 0.0)).sum())


def test_discrete_gradient_converges_to_eventprop():
    # reference: the gradient of the fixed-step model, by central differences of its loss (the
    # exact gradient BPTT would compute: with input times on the grid and linear interpolation
    # of the crossing, the discrete loss is a smooth function of the weights of a single layer).
    # As dt -> 0 the discrete model tends to the exact one, so its gradient must approach the
    # EventProp gradient at first order. The gap is not smooth in dt (the crossing moves between
    # grid steps), so we fit its log-log slope over dt = tau_syn/100 ... tau_syn/1600 and require
    # [0.7, 1.3] (measured 0.9), and a gap below 0.5 % of the largest entry at the finest step.
    rng = np.random.default_rng(5)
    grid = LIF().tau_syn / 100
    x = np.round(rng.uniform(0, 15e-6, (2, 5)) / grid) * grid
    w = [rng.normal(2.0, 0.8, (3, 5))]
    neurons = LIF()
    tr = forward(x, w, neurons, t_max=T_MAX)
    assert np.isfinite(tr.first_spikes).all()
    c = rng.normal(size=(2, 3))
    exact = backward(x, tr, w, neurons, t_max=T_MAX, dl_dt=c)[0]
    gaps = []
    dts = LIF().tau_syn / np.array([100, 200, 400, 800, 1600])
    for dt in dts:
        g = np.zeros_like(w[0])
        h = 1e-7
        for idx in np.ndindex(w[0].shape):
            wp, wm = [w[0].copy()], [w[0].copy()]
            wp[0][idx] += h
            wm[0][idx] -= h
            g[idx] = (discrete_loss(x, wp, neurons, c, dt) - discrete_loss(x, wm, neurons, c, dt)) / (2 * h)
        gaps.append(np.abs(g - exact).max() / np.abs(exact).max())
    gaps = np.array(gaps)
    slope = np.polyfit(np.log(dts), np.log(gaps), 1)[0]
    assert 0.7 <= slope <= 1.3, (slope, gaps)
    assert gaps[-1] < 5e-3, gaps
