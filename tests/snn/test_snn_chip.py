"""Hardware in the loop (memsim.snn.chip): an exact chip reproduces software EventProp; a memristive
chip holds the nominal weights up to the program-and-verify tolerance; seeds reproduce; bad input
gives one-line errors."""

from __future__ import annotations

import numpy as np
import pytest

from memsim.arrays import IdealArray, UpdatePolicy, initial_state, preset_array, weights
from memsim.arrays.program import response_of
from memsim.datasets import yinyang
from memsim.devices import Variability
from memsim.snn import LIF, forward
from memsim.snn.chip import (
    Chip,
    chip_forward,
    chip_neurons,
    chip_state,
    chip_update,
    chip_weights,
    clip_nominal,
    hil_epoch,
)
from memsim.snn.train import Adam, FirstSpikeMSE, adam_init, latency_encode, train_epoch

LIF0 = LIF()
T_MAX = 24e-6
LOSS = FirstSpikeMSE(t_correct=5.4e-6, t_wrong=9e-6, t_clip=24e-6, tau=12e-6)


def problem(n=160, hidden=20, seed=0):
    X, y = yinyang(n, seed=seed)
    x = latency_encode(X, t_late=12e-6)
    rng = np.random.default_rng(seed)
    w0 = [rng.normal(0.6, 0.32, (hidden, 25)), rng.normal(0.5, 0.8, (3, hidden))]
    return x, y, w0


def ideal_chip(hidden=20, **kw):
    return Chip((IdealArray(25, hidden), IdealArray(hidden, 3)), LIF0, **kw)


def rpu_chip(w0, *, level=1.0, **kw):
    var = Variability(d2d=0.3 * level, c2c=0.3 * level)
    arrays = tuple(preset_array("rpu", w.shape[1], w.shape[0], w_max=float(1.5 * np.abs(w).max()), variability=var,
                                **kw) for w in w0)
    return Chip(arrays, LIF0, mismatch=0.05 * level, seed=3)


def test_ideal_chip_forward_gives_the_software_spike_times_exactly():
    # reference: software forward with the same weights; an IdealArray holds W.T exactly, and with
    # no mismatch, noise or timestamp rounding the same kernel runs on the same numbers: bitwise equal.
    x, _, w0 = problem(40)
    chip = ideal_chip()
    times = chip_forward(chip, chip_state(chip, w0), x, t_max=T_MAX)
    ref = forward(x, w0, LIF0, t_max=T_MAX).times
    assert len(times) == 2
    for a, b in zip(times, ref):
        np.testing.assert_array_equal(a, b)


def test_hil_training_on_an_ideal_chip_gives_the_software_weights():
    # reference: software EventProp (train_epoch) from the same weights and seeds. The chip's state is
    # updated by adding Adam's steps, the host's weights by Adam itself: they differ by rounding
    # (~1e-16 per step), which moves spike times by ~1e-16 relative; after 10 steps 1e-9 is generous.
    x, y, w0 = problem(160)
    chip = ideal_chip()
    w_sw, s_sw = w0, adam_init(w0)
    w_hw, s_hw, st = w0, adam_init(w0), chip_state(chip, w0)
    for epoch in range(2):
        w_sw, s_sw, l_sw = train_epoch(w_sw, s_sw, x, y, neurons=LIF0, t_max=T_MAX, loss=LOSS, opt=Adam(),
                                       epoch=epoch, seed=epoch)
        w_hw, s_hw, st, stats = hil_epoch(chip, st, w_hw, s_hw, x, y, t_max=T_MAX, loss=LOSS, opt=Adam(),
                                          epoch=epoch, seed=epoch)
        assert stats.loss == pytest.approx(l_sw, rel=1e-9)
        assert stats.write_error == 0.0 and stats.inconsistent == 0.0
    for a, b, s in zip(w_hw, w_sw, st):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-9)
        np.testing.assert_allclose(s.T, a, rtol=0, atol=1e-12)  # the chip holds what the host believes
    assert max(float(np.abs(a - b).max()) for a, b in zip(w_hw, w0)) > 1e-3  # training did move the weights


def test_memristive_chip_holds_the_nominal_weights_up_to_the_verify_tolerance():
    # reference: program-and-verify stops when every |held - target| <= one nominal set-pulse step
    # (its default tolerance) with noiseless verify reads; without device-to-device spread every
    # target is reachable, so that step bounds the error (cycle noise on, so the error is not zero).
    _, _, w0 = problem()
    chip = Chip(tuple(preset_array("rpu", w.shape[1], w.shape[0], w_max=float(1.5 * np.abs(w).max()),
                                   variability=Variability(c2c=0.3)) for w in w0), LIF0)
    held = chip_weights(chip, chip_state(chip, w0, seed=0))
    for h, w, a in zip(held, clip_nominal(chip, w0), chip.arrays):
        tol = response_of(a).nominal_steps()[0] * 2 * a.w_max  # reference mapping: 2 w_max per unit of gn
        err = np.abs(h - w)
        assert err.max() <= tol * (1 + 1e-12)
        assert err.max() > 0.0


def test_weights_beyond_w_max_are_clipped_on_the_host_and_on_the_chip():
    _, _, w0 = problem()
    w_big = [w * 10 for w in w0]
    chip = rpu_chip(w0, level=0.0)
    nominal = clip_nominal(chip, w_big)
    for n, a in zip(nominal, chip.arrays):
        assert np.abs(n).max() == pytest.approx(a.w_max)
    held = chip_weights(chip, chip_state(chip, w_big, seed=0))
    for h, a in zip(held, chip.arrays):
        assert np.abs(h).max() <= a.w_max * (1 + 1e-9)


def test_chip_update_reports_the_change_the_chip_holds():
    # reference: chip_weights before and after (the achieved change is defined as that difference);
    # 1e-12 covers the subtraction of weights of order 1.
    _, _, w0 = problem()
    chip = rpu_chip(w0)
    st = chip_state(chip, w0, seed=0)
    rng = np.random.default_rng(1)
    delta = [rng.normal(0, 0.01, w.shape) for w in w0]
    new, achieved = chip_update(chip, st, delta, UpdatePolicy(), seed=2)
    for a, b, c in zip(achieved, chip_weights(chip, new), chip_weights(chip, st)):
        np.testing.assert_allclose(a, b - c, rtol=0, atol=1e-12)
    # the achieved step follows the desired one (correlation well above 0) but is not equal to it
    flat_a, flat_d = np.concatenate([a.ravel() for a in achieved]), np.concatenate([d.ravel() for d in delta])
    assert np.corrcoef(flat_a, flat_d)[0, 1] > 0.5
    assert np.abs(flat_a - flat_d).max() > 1e-4
    again, _ = chip_update(chip, st, delta, UpdatePolicy(), seed=2)
    for a, b in zip(new, again):
        np.testing.assert_array_equal(a, b)


def test_mismatch_noise_and_timestamps_are_seeded_and_change_the_spikes():
    x, _, w0 = problem(30)
    chip = rpu_chip(w0, read_noise=0.05)
    st = chip_state(chip, w0, seed=0)
    a = chip_forward(chip, st, x, t_max=T_MAX, seed=5)
    b = chip_forward(chip, st, x, t_max=T_MAX, seed=5)
    c = chip_forward(chip, st, x, t_max=T_MAX, seed=6)
    for p, q in zip(a, b):
        np.testing.assert_array_equal(p, q)
    assert not np.array_equal(a[0], c[0])  # fresh noise per presentation
    tables = chip_neurons(chip)
    assert not np.array_equal(tables[0], chip_neurons(Chip(chip.arrays, LIF0, mismatch=0.05, seed=4))[0])
    assert np.all(tables[0][:, 0] != LIF0.tau_mem)
    res = 1e-7
    quant = chip_forward(Chip(chip.arrays, LIF0, mismatch=0.05, seed=3, time_resolution=res), st, x, t_max=T_MAX,
                         seed=5)
    for q, p in zip(quant, a):
        fin = np.isfinite(p)
        np.testing.assert_array_equal(np.isfinite(q), fin)
        # reference: rounding to the nearest multiple of res moves each time by at most res / 2
        assert np.abs(q[fin] - p[fin]).max() <= res / 2 * (1 + 1e-9)
        np.testing.assert_allclose(q[fin] / res, np.round(q[fin] / res), rtol=0, atol=1e-6)


def test_ir_drop_vanishes_with_the_wire_resistance():
    # reference: weights() (no wires). With r_wire = 1e-6 ohm against cell resistances >= 1e4 ohm the
    # relative IR drop is ~1e-10 per segment x 25 segments: 1e-6 of w_max bounds it; 50 ohm must differ.
    _, _, w0 = problem()
    base = rpu_chip(w0, level=0.0)
    st = chip_state(base, w0, seed=0)
    plain = [weights(a, s).T for a, s in zip(base.arrays, st)]
    tiny = Chip(tuple(a.__class__(**{**a.__dict__, "r_wire": 1e-6}) for a in base.arrays), LIF0)
    wired = Chip(tuple(a.__class__(**{**a.__dict__, "r_wire": 50.0}) for a in base.arrays), LIF0)
    for p, t, w, a in zip(plain, chip_weights(tiny, st), chip_weights(wired, st), base.arrays):
        np.testing.assert_allclose(t, p, rtol=0, atol=1e-6 * a.w_max)
        assert np.abs(w - p).max() > 1e-3 * a.w_max


def test_hil_epoch_is_seeded_and_read_back_keeps_host_and_chip_together():
    x, y, w0 = problem(96)
    chip = rpu_chip(w0, read_noise=0.02)
    st0 = chip_state(chip, w0, seed=0)
    w_start = clip_nominal(chip, w0)
    runs = [hil_epoch(chip, st0, w_start, adam_init(w_start), x, y, t_max=T_MAX, loss=LOSS, opt=Adam(), epoch=0,
                      seed=7) for _ in range(2)]
    for a, b in zip(runs[0][0] + list(runs[0][2]), runs[1][0] + list(runs[1][2])):
        np.testing.assert_array_equal(a, b)
    w, _, st, stats = runs[0]
    assert stats.write_error > 0
    # without read-back the host's weights drift from the chip's by the accumulated write error
    assert max(float(np.abs(h - n).max()) for h, n in zip(chip_weights(chip, st), w)) > 1e-3
    w, _, st, _ = hil_epoch(chip, st0, w_start, adam_init(w_start), x, y, t_max=T_MAX, loss=LOSS, opt=Adam(),
                            epoch=0, readback=True, seed=7)
    for h, n in zip(clip_nominal(chip, chip_weights(chip, st)), w):
        np.testing.assert_array_equal(h, n)


@pytest.mark.parametrize("make, match", [
    (lambda: Chip((IdealArray(4, 3), IdealArray(2, 2))), "Chip.arrays\\[1\\] must have rows = 3"),
    (lambda: Chip(()), "Chip.arrays must be a non-empty tuple"),
    (lambda: Chip((IdealArray(4, 3),), mismatch=-0.1), "Chip.mismatch"),
    (lambda: Chip((IdealArray(4, 3),), time_resolution=float("nan")), "Chip.time_resolution"),
    (lambda: Chip((IdealArray(4, 3),), neurons=(LIF0, LIF0)), "Chip.neurons"),
    (lambda: chip_state(Chip((IdealArray(4, 3),)), [np.zeros((4, 3))]), "weights\\[0\\] must have shape \\(3, 4\\)"),
    (lambda: chip_state(Chip((IdealArray(4, 3),)), np.zeros((3, 4))), "weights must be a sequence of 1"),
    (lambda: chip_forward(Chip((IdealArray(4, 3),)), [np.zeros((3, 4))], [[0.0] * 4], t_max=1e-5),
     "state\\[0\\] must have shape \\(4, 3\\)"),
    (lambda: chip_update(Chip((IdealArray(4, 3),)), [np.zeros((4, 3))], [np.zeros((3, 4))], policy="x"),
     "policy must be an UpdatePolicy"),
    (lambda: chip_update(Chip((IdealArray(4, 3),)), [np.zeros((4, 3))], [np.full((3, 4), np.nan)]),
     "delta_w\\[0\\] must be finite"),
])
def test_bad_input_gives_one_line_errors(make, match):
    with pytest.raises(ValueError, match=match) as err:
        make()
    assert "\n" not in str(err.value)


def test_hil_epoch_checks_labels_and_batch_size():
    x, y, w0 = problem(10, hidden=3)
    chip = ideal_chip(hidden=3)
    st = chip_state(chip, w0)
    with pytest.raises(ValueError, match="labels must have one entry per input sample"):
        hil_epoch(chip, st, w0, adam_init(w0), x, y[:5], t_max=T_MAX, loss=LOSS, opt=Adam(), epoch=0)
    with pytest.raises(ValueError, match="batch_size"):
        hil_epoch(chip, st, w0, adam_init(w0), x, y, t_max=T_MAX, loss=LOSS, opt=Adam(), epoch=0, batch_size=0)
    assert initial_state(chip.arrays[0]).shape == (25, 3)
