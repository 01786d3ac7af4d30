"""memsim.devices.fit: parameters recovered from simulated measurements, their uncertainties, bad input.

Reference data come from :func:`memsim.simulate` on a one-device network (``measure_sweep`` and
``measure_pulses`` below): the same integrator as the fit, but not the fit's forward model (its
interpolation onto the samples, its conductance and quantity conversion, its parameter handling).
On the same step grid the model is then exact for the true parameters, so a noiseless fit must
recover them to the optimiser's tolerance; noise is Gaussian, seeded.
"""

from __future__ import annotations

import io
from dataclasses import replace

import numpy as np
import pytest

from memsim import (
    PWL,
    VTEAM,
    CaravelliTraversaDiVentra,
    LinearIonDrift,
    MetastableSwitch,
    Network,
    Resistor,
    Segment,
    Sine,
    simulate,
)
from memsim.devices.fit import SWEEP_SUBSTEPS as SUB
from memsim.devices.fit import FitResult, IVSweep, PulseTrain, fit, fittable, simulate_pulses, simulate_sweep
from memsim.devices.presets import HP_TIO2, KNOWM_GMS



def one_device(device, x0):
    net = Network(default_device=device)
    net.add_node("a", "input")
    net.add_node("b", "output")
    net.add_edge("a", "b", x0=x0)
    return net


def measure_sweep(device, t, drive, x0):
    """Current at the samples ``t`` (uniform) under the waveform ``drive``, from simulate's i_edge."""
    t = np.asarray(t)
    res = simulate(one_device(device, x0), Segment(t[-1] - t[0], drive={"a": drive}, ground=["b"]),
                   dt=(t[1] - t[0]) / SUB, t0=t[0], record=("i_edge",))
    np.testing.assert_allclose(res.t[::SUB], t, rtol=1e-12)
    return res.i_edge[::SUB, 0]


def measure_pulses(device, amplitude, width, x0, dt, gap=0.0):
    """State after each pulse, from simulate's recorded states at the segment ends."""
    segs = []
    for a in amplitude:
        segs.append(Segment(width, drive={"a": a}, ground=["b"]))
        if gap:
            segs.append(Segment(gap, drive={"a": 0.0}, ground=["b"]))
    res = simulate(one_device(device, x0), segs, dt=dt, record=("x",))
    ends = np.flatnonzero(np.diff(res.segment) != 0) + 1  # first sample of the next segment
    x = np.append(res.x[ends, 0], res.x_final[0])
    return x[:: 2 if gap else 1]


def triangle(n_periods=2, period=1e-6, amp=0.3, n=2001):
    t = np.linspace(0.0, n_periods * period, n)
    corners_t = np.arange(0, 4 * n_periods + 1) * period / 4
    corners_v = amp * np.tile([0.0, 1.0, 0.0, -1.0], n_periods + 1)[: corners_t.size]
    return t, PWL(tuple(corners_t), tuple(corners_v))


TRUE_VTEAM = VTEAM(r_on=60.0, r_off=1200.0, k_off=4e-4, alpha_off=1.5)


def off_by(device, names, factor=1.3):
    return replace(device, **{n: getattr(device, n) * factor for n in names if n != "x0"})


# ------------------------------------------------------------------ forward model


def test_simulated_sweep_is_simulates_current():
    t, drive = triangle()
    i_ref = measure_sweep(TRUE_VTEAM, t, drive, 0.5)
    sw = simulate_sweep(TRUE_VTEAM, t, drive(t), x0=0.5)
    # same integrator, same grid, same drive (the triangle is the PWL through the samples): the
    # currents agree to rounding (1e-12 of the largest current)
    np.testing.assert_allclose(sw.i, i_ref, rtol=0, atol=1e-12 * np.abs(i_ref).max())
    big = np.abs(sw.v) > 0.1
    assert np.ptp(sw.i[big] / sw.v[big]) > 1e-4  # the conductance changed: the device switched


def test_simulated_pulses_of_a_threshold_device_follow_the_closed_form():
    # VTEAM without window below v_on: a constant rate dx/dt = -k_on/d (v/v_on - 1)^alpha_on during
    # each pulse (Kvatinsky et al. 2015), so each pulse moves x by the same dx (RK4 is exact on a constant)
    dev = VTEAM()
    v, width = -0.25, 2e-10
    dx = -dev.k_on / dev.d * (v / dev.v_on - 1) ** dev.alpha_on * width
    p = simulate_pulses(dev, [v] * 10, width, quantity="state", x0=0.0, dt=2e-11)
    np.testing.assert_allclose(p.response, np.minimum(dx * np.arange(1, 11), 1.0), rtol=1e-12)
    g = simulate_pulses(dev, [v] * 10, width, quantity="conductance", x0=0.0, dt=2e-11).response
    np.testing.assert_allclose(g, 1 / (dev.r_on * p.response + dev.r_off * (1 - p.response)), rtol=1e-12)
    np.testing.assert_allclose(measure_pulses(dev, [v] * 10, width, 0.0, 2e-11), p.response, rtol=1e-12)


# ------------------------------------------------------------------ noiseless recovery


def test_noiseless_vteam_sweep_recovers_four_parameters_and_the_initial_state():
    # +-0.25 V: the device switches fully both ways (x reaches 0 and 1). The fit is local: from
    # x0 = 0.5 at 1.3x the truth a +-0.3 V sweep from x0 = 0.4 stops in a local minimum (r_off 15 %
    # off, rms 1.7 % of the current); this sweep converges from 0.8x-1.5x and x0 in 0.3-0.6
    t, drive = triangle(amp=0.25)
    data = IVSweep(t, drive(t), measure_sweep(TRUE_VTEAM, t, drive, 0.5))
    free = ["r_on", "r_off", "k_off", "alpha_off", "x0"]
    res = fit(off_by(TRUE_VTEAM, free), data, free, x0=0.3)
    assert res.success, res.message
    # exact model, tol 1e-10 in log-parameters: 1e-6 relative leaves room for the conditioning
    for name in free[:-1]:
        assert res.params[name] == pytest.approx(getattr(TRUE_VTEAM, name), rel=1e-6)
    assert res.x0 == pytest.approx(0.5, abs=1e-6) and res.params["x0"] == res.x0
    assert res.device == replace(TRUE_VTEAM, **{n: res.params[n] for n in free[:-1]})
    assert res.rms < 1e-9 * np.abs(data.i).max()


def test_noiseless_gms_pulse_train_recovers_tau_and_threshold():
    amp = np.r_[np.full(40, 0.35), np.full(40, -0.35)]
    x = measure_pulses(KNOWM_GMS, amp, 2e-5, 0.05, 1e-6)
    g = x / KNOWM_GMS.r_on + (1 - x) / KNOWM_GMS.r_off  # GMS: switches in parallel
    res = fit(off_by(KNOWM_GMS, ["tau", "v_on"], 1.2), PulseTrain(amp, 2e-5, g), ["tau", "v_on"], x0=0.05, dt=1e-6)
    assert res.success, res.message
    assert res.params["tau"] == pytest.approx(KNOWM_GMS.tau, rel=1e-6)
    assert res.params["v_on"] == pytest.approx(KNOWM_GMS.v_on, rel=1e-6)


def test_noiseless_ctdv_pulses_with_gaps_recover_the_decay_rate():
    # the decay -alpha x acts during the gaps at 0 V: without gaps alpha and beta would still be
    # separable, with them the decay is seen alone
    true = CaravelliTraversaDiVentra(r_on=1.0, r_off=100.0, alpha=2.0, beta=50.0)
    amp = np.r_[np.full(10, 1.0), np.full(10, -1.0)]
    x = measure_pulses(true, amp, 0.05, 0.3, 1e-3, gap=0.1)
    r = true.r_on * x + true.r_off * (1 - x)
    data = PulseTrain(amp, 0.05, r, quantity="resistance", gap=0.1)
    res = fit(off_by(true, ["alpha", "beta"]), data, ["alpha", "beta"], x0=0.3, dt=1e-3)
    assert res.success, res.message
    assert res.params["alpha"] == pytest.approx(2.0, rel=1e-6)
    assert res.params["beta"] == pytest.approx(50.0, rel=1e-6)


# ------------------------------------------------------------------ noise and uncertainties


def test_noisy_vteam_sine_sweep_within_three_standard_errors():
    period = 1e-6
    t = np.linspace(0.0, 2 * period, 2001)  # 1000 samples per period: the fit's PWL through them
    drive = Sine(0.3, 1 / period)            # differs from the sine by < (pi / 1000)^2 / 8 ~ 1e-6 of it
    i = measure_sweep(TRUE_VTEAM, t, drive, 0.5)
    sd = 0.01 * np.sqrt(np.mean(i**2))  # 1 % Gaussian noise (of the current's RMS)
    data = IVSweep(t, drive(t), i + sd * np.random.default_rng(0).standard_normal(t.size))
    free = ["r_on", "r_off", "k_off", "alpha_off"]
    res = fit(off_by(TRUE_VTEAM, free), data, free, x0=0.5)
    assert res.success, res.message
    for name in free:
        true = getattr(TRUE_VTEAM, name)
        assert abs(res.params[name] - true) < 3 * res.stderr[name], name
        # the noise level bounds the relative error: r_on and r_off set the current's scale where the
        # device is ON or OFF (hundreds of samples each), so 1 % noise averages to well below 1 %;
        # k_off and alpha_off act only through the switching parts of the loop: 5 %
        assert res.params[name] == pytest.approx(true, rel=0.01 if name.startswith("r_") else 0.05), name
    # the residuals are the noise: their RMS is the noise sd (to its sampling error ~ sd / sqrt(2n))
    assert res.rms == pytest.approx(sd, rel=0.05)
    assert res.n_points == 2001 and res.cost == pytest.approx(0.5 * np.sum(res.residuals**2))


def test_noisy_mobility_and_its_standard_error_against_an_independent_estimate():
    # HP device, 1 V at 1 Hz from x0 = 0.1: i ~ 70 uA, dx/dt = k i ~ 0.7 /s, a loop of ~0.2 in x
    t = np.linspace(0.0, 1.0, 1001)
    drive = Sine(1.0, 1.0)
    i = measure_sweep(HP_TIO2, t, drive, 0.1)
    sd = 0.01 * np.sqrt(np.mean(i**2))
    data = IVSweep(t, drive(t), i + sd * np.random.default_rng(1).standard_normal(t.size))
    res = fit(replace(HP_TIO2, mu_v=1.5e-14), data, ["mu_v"], x0=0.1)
    # independent linearised standard error of a one-parameter least-squares fit with known noise:
    # se = sd / ||d i / d mu_v||, the derivative by central differences of simulate() itself
    mu = HP_TIO2.mu_v
    di = (measure_sweep(replace(HP_TIO2, mu_v=mu * 1.0001), t, drive, 0.1)
          - measure_sweep(replace(HP_TIO2, mu_v=mu * 0.9999), t, drive, 0.1)) / (2e-4 * mu)
    se_ref = sd / np.linalg.norm(di)
    # the fit's estimate uses the residual variance (relative sampling error 1 / sqrt(2 n) ~ 2 %) and
    # its own differences: 10 %
    assert res.stderr["mu_v"] == pytest.approx(se_ref, rel=0.1)
    # the stated tolerance from the noise level: 3 se_ref, below the 1 % noise of one sample (the
    # 1001 samples average it down; ~0.4 % here as the loop's shape is weakly sensitive to mu_v)
    assert abs(res.params["mu_v"] - mu) < 3 * se_ref
    assert 3 * se_ref / mu < 0.01


def test_standard_errors_match_the_spread_over_noise_realisations():
    # 24 noisy copies of one GMS pulse train (1 % of each reading, passed as sigma): the standard
    # deviation of the estimates over the copies must match the reported standard error. For 24
    # copies the sample sd has a relative sampling error of 1 / sqrt(2 * 23) ~ 15 %: +-45 % is 3 of it
    amp = np.r_[np.full(30, 0.35), np.full(30, -0.35)]
    x = measure_pulses(KNOWM_GMS, amp, 2e-5, 0.05, 2e-6)
    g = x / KNOWM_GMS.r_on + (1 - x) / KNOWM_GMS.r_off
    rng = np.random.default_rng(2)
    est, se = [], []
    for _ in range(24):
        data = PulseTrain(amp, 2e-5, g * (1 + 0.01 * rng.standard_normal(g.size)))
        res = fit(KNOWM_GMS, data, ["tau", "v_on"], x0=0.05, dt=2e-6, sigma=0.01 * g)
        est.append([res.params["tau"], res.params["v_on"]])
        se.append([res.stderr["tau"], res.stderr["v_on"]])
    ratio = np.std(est, axis=0, ddof=1) / np.mean(se, axis=0)
    assert np.all((0.55 < ratio) & (ratio < 1.45)), ratio


def test_degenerate_parameters_are_reported_not_identifiable():
    # linear drift: k = mu_v r_on / d^2, so mu_v and d enter only through mu_v / d^2
    t = np.linspace(0.0, 1.0, 201)
    v = np.sin(2 * np.pi * t)
    # the drive of the data is the fit's (the PWL through the samples): with the sine itself the
    # trapezoidal flux of the PWL is smaller by ~(pi / 200)^2 / 3 and k would absorb it (no window:
    # the state is a function of the flux)
    data = IVSweep(t, v, measure_sweep(HP_TIO2, t, PWL(tuple(t), tuple(v)), 0.1))
    res = fit(replace(HP_TIO2, mu_v=2e-14), data, ["mu_v", "d"], x0=0.1)
    assert not res.success
    assert res.stderr["mu_v"] == np.inf and res.stderr["d"] == np.inf
    assert "not identifiable" in res.message and "mu_v, d" in res.message
    assert np.all(np.isnan(res.covariance))
    # the combination is still determined: k matches to the optimiser's tolerance
    assert res.device.k == pytest.approx(HP_TIO2.k, rel=1e-6)
    # VTEAM: k_on, k_off and d act only through k_on / d and k_off / d
    t, drive = triangle(amp=0.25, n=401)
    data = IVSweep(t, drive(t), measure_sweep(TRUE_VTEAM, t, drive, 0.5))
    res = fit(replace(TRUE_VTEAM, d=4e-9), data, ["k_on", "k_off", "d"], x0=0.5)
    assert not res.success and "not identifiable from these data: k_on, k_off, d" in res.message
    assert res.device.k_off / res.device.d == pytest.approx(TRUE_VTEAM.k_off / TRUE_VTEAM.d, rel=1e-6)


def test_a_bound_that_excludes_the_truth_is_reported():
    t, drive = triangle()
    data = IVSweep(t, drive(t), measure_sweep(TRUE_VTEAM, t, drive, 0.5))
    res = fit(replace(TRUE_VTEAM, k_off=3e-4), data, ["k_off"], x0=0.5, bounds={"k_off": (1e-4, 3.5e-4)})
    assert res.params["k_off"] == pytest.approx(3.5e-4, rel=1e-9)
    assert "at a bound of the search: k_off" in res.message


# ------------------------------------------------------------------ CSV


def test_csv_sweep_with_units_and_comments(tmp_path):
    t, drive = triangle(n=401)
    i = measure_sweep(TRUE_VTEAM, t, drive, 0.5)
    path = tmp_path / "sweep.csv"
    cols = zip(t.tolist(), drive(t).tolist(), i.tolist())
    rows = "\n".join(f"{a * 1e6!r},{b * 1e3!r},{c * 1e6!r},x" for a, b, c in cols)
    path.write_text(f"# made by a test\nTime [us], V [mV], current (uA),note\n{rows}\n")
    sw = IVSweep.from_csv(path)
    np.testing.assert_allclose(sw.t, t, rtol=1e-15, atol=1e-22)  # the unit conversion is one product
    np.testing.assert_allclose(sw.v, drive(t), rtol=1e-15, atol=1e-18)
    np.testing.assert_allclose(sw.i, i, rtol=1e-15, atol=1e-22)
    res = fit(replace(TRUE_VTEAM, k_off=5e-4), sw, ["k_off"], x0=0.5)
    assert res.params["k_off"] == pytest.approx(4e-4, rel=1e-6)


def test_csv_pulse_train_in_resistance(tmp_path):
    amp = [0.35] * 20 + [-0.35] * 20
    p = simulate_pulses(KNOWM_GMS, amp, 2e-5, quantity="resistance", x0=0.1, dt=1e-6)
    path = tmp_path / "pulses.csv"
    path.write_text("amplitude [V],width [us],R [kohm]\n" + "\n".join(
        f"{a!r},20,{float(r) / 1e3!r}" for a, r in zip(amp, p.response)) + "\n")
    data = PulseTrain.from_csv(path)
    assert data.quantity == "resistance" and data.n_points == 40
    res = fit(replace(KNOWM_GMS, tau=1.3e-4), data, ["tau"], x0=0.1, dt=1e-6)
    assert res.params["tau"] == pytest.approx(1e-4, rel=1e-6)


BAD_CSV = [
    ("t,v\n0,0\n1,1\n", "missing column 'i'"),
    ("t,v,i\n0,0,0\n1,abc,1\n", "column 'v' row 2: 'abc' is not a finite number"),
    ("t [V],v,i\n0,0,0\n", "column 't \\[V\\]': unit \\[V\\] is not a unit of s"),
    ("t,time,v,i\n0,0,0,0\n", "both give 't'"),
    ("t,v,i\n0,0,\n", "row 1: '' is not a finite number"),
    ("t,v,i\n0,0,nan\n", "is not a finite number"),
    ("t,v,i\n1,0,0\n0,0,0\n", "IVSweep.t must be strictly increasing"),
]


@pytest.mark.parametrize("text, match", BAD_CSV)
def test_bad_sweep_csv_one_line_errors(text, match):
    with pytest.raises(ValueError, match=match) as exc:
        IVSweep.from_csv(io.StringIO(text))
    assert "\n" not in str(exc.value)


@pytest.mark.parametrize("text, match", [
    ("amplitude,width\n0.3,1e-6\n", "exactly one response column"),
    ("amplitude,width,g,r\n0.3,1e-6,1,1\n", "exactly one response column"),
    ("amplitude,width,x [S]\n0.3,1e-6,0.5\n", "a state is dimensionless"),
    ("amplitude,width [ms],g\n0.3,0,1\n", "PulseTrain.width must be > 0"),
])
def test_bad_pulse_csv_one_line_errors(text, match):
    with pytest.raises(ValueError, match=match) as exc:
        PulseTrain.from_csv(io.StringIO(text))
    assert "\n" not in str(exc.value)


def test_a_binary_file_is_not_a_csv(tmp_path):
    path = tmp_path / "x.csv"
    path.write_bytes(b"\xff\xfe\x00\x01\x80\x81" * 20)
    with pytest.raises(ValueError, match="not a CSV table"):
        IVSweep.from_csv(path)


# ------------------------------------------------------------------ bad arguments


SWEEP = IVSweep([0.0, 1e-6, 2e-6, 3e-6], [0.0, 0.3, 0.0, -0.3], [0.0, 1e-3, 0.0, -1e-3])


@pytest.mark.parametrize("kwargs, match", [
    (dict(free=["k_of"]), "'k_of' is not a fittable parameter of VTEAM"),
    (dict(free=[]), "free must be a non-empty sequence"),
    (dict(free="k_off"), "free must be a non-empty sequence"),
    (dict(free=["k_off", "k_off"]), "free lists a parameter twice"),
    (dict(free=["p"]), "'p' is not a fittable parameter"),
    (dict(free=["k_off"], x0=1.5), "x0 must be a number in \\[0, 1\\]"),
    (dict(free=["k_off"], bounds={"k_off": (1e-3, 1e-2)}), "does not contain the start VTEAM.k_off"),
    (dict(free=["k_off"], bounds={"k_off": (1.0,)}), "bounds\\['k_off'\\] must be a pair"),
    (dict(free=["k_off"], bounds={"r_on": (1, 2)}), "bounds: \\['r_on'\\] are not free parameters"),
    (dict(free=["k_off"], method="adaptive"), "method must be 'euler', 'heun' or 'rk4'"),
    (dict(free=["k_off"], dt=-1.0), "dt must be a finite number > 0"),
    (dict(free=["k_off"], sigma=np.ones(3)), "sigma must be a number > 0 or 4 finite values"),
    (dict(free=["k_off"], tol=2.0), "tol must be a number in \\(0, 1\\)"),
    (dict(free=["k_off"], max_nfev=0), "max_nfev must be an integer >= 1"),
    (dict(free=["r_on", "r_off", "k_off", "alpha_off"]), "4 points for 4 free parameters"),
])
def test_bad_fit_arguments_one_line_errors(kwargs, match):
    with pytest.raises(ValueError, match=match) as exc:
        fit(VTEAM(), SWEEP, **kwargs)
    assert "\n" not in str(exc.value)


@pytest.mark.parametrize("device, free, match", [
    (VTEAM(k_off=0.0), ["k_off"], "VTEAM.k_off = 0.0 cannot start a fit"),
    (LinearIonDrift(window="joglekar"), ["p"], "'p' is not a fittable parameter of LinearIonDrift"),
    (MetastableSwitch(n_switches=10), ["tau"], "n_switches must be 0"),
    (Resistor(1e3), ["resistance"], "device must be one of"),
])
def test_unfittable_devices(device, free, match):
    with pytest.raises(ValueError, match=match):
        fit(device, SWEEP, free)


def test_bad_data_one_line_errors():
    for make, match in [
        (lambda: IVSweep([0, 1], [0, 1], [0, 1, 2]), "IVSweep.i has 3 values, expected 2"),
        (lambda: IVSweep([[0, 1]], [0, 1], [0, 1]), "IVSweep.t must be a non-empty 1-D array"),
        (lambda: IVSweep([0, 1], [0, np.inf], [0, 1]), "IVSweep.v must be finite; v\\[1\\]"),
        (lambda: IVSweep([0], [0], [0]), "IVSweep.t must have at least 2 samples"),
        (lambda: IVSweep(["a", "b"], [0, 1], [0, 1]), "IVSweep.t must be an array of numbers"),
        (lambda: PulseTrain([0.3], 1e-6, [1.0], quantity="current"), "PulseTrain.quantity must be one of"),
        (lambda: PulseTrain([0.3], 1e-6, [1.0], gap=-1.0), "PulseTrain.gap must be a finite number >= 0"),
        (lambda: fit(VTEAM(), {"t": [0, 1]}, ["k_off"]), "data must be an IVSweep or a PulseTrain"),
    ]:
        with pytest.raises(ValueError, match=match) as exc:
            make()
        assert "\n" not in str(exc.value)


# ------------------------------------------------------------------ result


def test_fit_result_reads_well_and_is_read_only():
    t, drive = triangle(n=401)
    data = IVSweep(t, drive(t), measure_sweep(TRUE_VTEAM, t, drive, 0.5))
    res = fit(replace(TRUE_VTEAM, k_off=5e-4), data, ["k_off", "r_off"], x0=0.5)
    assert isinstance(res, FitResult)
    text = repr(res)
    assert text.startswith("FitResult(VTEAM: k_off = 0.0004 \u00b1 ") and " m/s, r_off = 1200 \u00b1 " in text
    assert text.endswith("over 401 points, success)")
    assert list(res.params) == ["k_off", "r_off"] and res.covariance.shape == (2, 2)
    with pytest.raises(TypeError):
        res.params["k_off"] = 1.0
    with pytest.raises(ValueError):
        res.covariance[0, 0] = 1.0
    assert fittable(VTEAM())[-1] == "x0" and "p" not in fittable(VTEAM())
