"""Tests of memsim.devices.variability: d2d spread, stuck devices, c2c factors, validation.

Statistical checks use n = 20000 draws and a tolerance of 5 standard errors of the estimator
(two-sided probability of a false failure ~6e-7 per check for a Gaussian estimator); the seeds are
fixed, so the run is deterministic anyway.
"""

import dataclasses
import math

import numpy as np
import pytest

from memsim.devices.models import (
    MODEL_RESISTOR,
    N_PARAMS,
    VTEAM,
    CaravelliTraversaDiVentra,
    LinearIonDrift,
    MetastableSwitch,
    Resistor,
)
from memsim.devices.variability import (
    SPREAD_SLOTS,
    Variability,
    cycle_factors,
    sample_devices,
)

N_SIGMA = 5.0  # tolerance in standard errors
K, M = 200, 100  # copies x devices = 20000 draws per slot

MEMRISTORS = [
    LinearIonDrift(),
    VTEAM(),
    CaravelliTraversaDiVentra(),
    MetastableSwitch(),
]


def _population(devs, m_each):
    """Model codes (M,) and nominal params (M, P) with ``m_each`` copies of each device."""
    devs = [d for d in devs for _ in range(m_each)]
    return np.array([d.model_id for d in devs]), np.stack([d.pack() for d in devs])


def _mixed(m_each=5):
    return _population(
        [LinearIonDrift(), Resistor(50.0), VTEAM(), MetastableSwitch()], m_each
    )


# ---------------------------------------------------------------------------------------------
# Variability validation
# ---------------------------------------------------------------------------------------------

FIELDS = ["d2d", "c2c", "p_stuck_on", "p_stuck_off"]


@pytest.mark.parametrize("name", FIELDS)
@pytest.mark.parametrize("bad", [-0.1, -1e-12, math.nan, math.inf])
def test_variability_rejects_negative_or_nonfinite_naming_the_field(name, bad):
    with pytest.raises(ValueError, match=rf"Variability\.{name}\b"):
        Variability(**{name: bad})


def test_variability_rejects_stuck_probabilities_summing_above_one():
    with pytest.raises(ValueError, match=r"p_stuck_on.*p_stuck_off"):
        Variability(p_stuck_on=0.6, p_stuck_off=0.5)
    Variability(p_stuck_on=0.5, p_stuck_off=0.5)  # exactly 1 is allowed


def test_variability_is_frozen():
    v = Variability(d2d=0.1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        v.d2d = 0.2


# ---------------------------------------------------------------------------------------------
# seeding
# ---------------------------------------------------------------------------------------------

VAR = Variability(d2d=0.1, p_stuck_on=0.1, p_stuck_off=0.05)


def test_same_seed_same_sample():
    model, params = _mixed()
    a = sample_devices(model, params, 8, VAR, seed=42)
    b = sample_devices(model, params, 8, VAR, seed=42)
    c = sample_devices(model, params, 8, VAR, seed=np.random.default_rng(42))
    for s in (b, c):
        np.testing.assert_array_equal(a.params, s.params)
        np.testing.assert_array_equal(a.stuck, s.stuck)
        np.testing.assert_array_equal(a.stuck_state, s.stuck_state)


def test_different_seeds_differ():
    model, params = _mixed()
    a = sample_devices(model, params, 8, VAR, seed=1)
    b = sample_devices(model, params, 8, VAR, seed=2)
    dyn = model != MODEL_RESISTOR
    assert not np.array_equal(a.params[:, dyn], b.params[:, dyn])
    assert not np.array_equal(a.stuck, b.stuck)


def test_sample_shapes_and_dtypes():
    model, params = _mixed()
    s = sample_devices(model, params, 3, VAR, seed=0)
    assert s.params.shape == (3, model.size, N_PARAMS)
    assert s.stuck.shape == s.stuck_state.shape == (3, model.size)
    assert s.stuck.dtype == bool
    # the input is not modified
    np.testing.assert_array_equal(params, _mixed()[1])


def test_no_variability_returns_nominal_copies():
    model, params = _mixed()
    s = sample_devices(model, params, 4, Variability(), seed=0)
    np.testing.assert_array_equal(s.params, np.broadcast_to(params, s.params.shape))
    assert not s.stuck.any()


def test_per_copy_nominal_params_are_accepted():
    model, params = _mixed()
    per_copy = np.stack([params, 2 * params])
    s = sample_devices(model, per_copy, 2, Variability(), seed=0)
    np.testing.assert_array_equal(s.params, per_copy)


# ---------------------------------------------------------------------------------------------
# device-to-device spread
# ---------------------------------------------------------------------------------------------


# sigma <= 0.1: the GMS device has ln(r_off / r_on) = ln 3 = 1.10, and the log-ratio after spread
# has sd sigma*sqrt(2) = 0.14, so r_on >= r_off is a 7.8-sigma event (P ~ 3e-15 per device); at
# sigma = 0.2 it is 3.9 sigma (P ~ 5e-5), i.e. about one of 20000 devices, and the sample raises.
@pytest.mark.parametrize("dev", MEMRISTORS, ids=lambda d: type(d).__name__)
@pytest.mark.parametrize("sigma", [0.05, 0.1])
def test_d2d_factors_are_mean_one_log_normal(dev, sigma):
    model, params = _population([dev], M)
    s = sample_devices(model, params, K, Variability(d2d=sigma), seed=7)
    n = K * M
    slots = SPREAD_SLOTS[dev.model_id]
    logs = []
    for slot in slots:
        f = s.params[..., slot] / params[:, slot]
        assert np.all(f > 0)  # signs kept (VTEAM k_on, v_on are negative)
        # mean of exp(sigma z - sigma^2/2) is 1, std sqrt(exp(sigma^2) - 1)
        se_mean = math.sqrt(math.expm1(sigma**2)) / math.sqrt(n)
        assert abs(f.mean() - 1.0) < N_SIGMA * se_mean, slot
        lg = np.log(f).ravel()
        # log factor ~ N(-sigma^2/2, sigma^2); SE of the sample std of a normal: sigma/sqrt(2(n-1))
        assert abs(lg.std(ddof=1) - sigma) < N_SIGMA * sigma / math.sqrt(2 * (n - 1)), (
            slot
        )
        assert abs(lg.mean() + 0.5 * sigma**2) < N_SIGMA * sigma / math.sqrt(n), slot
        logs.append(lg)
    # independent factors per slot: correlation coefficients ~ N(0, 1/n)
    corr = np.corrcoef(np.array(logs))
    off = corr[~np.eye(len(slots), dtype=bool)]
    assert np.all(np.abs(off) < N_SIGMA / math.sqrt(n))


@pytest.mark.parametrize("dev", MEMRISTORS, ids=lambda d: type(d).__name__)
def test_d2d_leaves_other_slots_untouched(dev):
    model, params = _population([dev], 10)
    s = sample_devices(model, params, 20, Variability(d2d=0.3), seed=3)
    untouched = [k for k in range(N_PARAMS) if k not in SPREAD_SLOTS[dev.model_id]]
    assert untouched  # every model has at least one slot that is not spread
    np.testing.assert_array_equal(
        s.params[..., untouched],
        np.broadcast_to(params[:, untouched], (20, 10, len(untouched))),
    )
    for slot in SPREAD_SLOTS[dev.model_id]:
        assert np.all(s.params[..., slot] != params[:, slot])


def test_resistors_are_never_spread_nor_stuck():
    model, params = _population([Resistor(50.0), LinearIonDrift(), Resistor(7.0)], 50)
    var = Variability(d2d=0.5, p_stuck_on=0.5, p_stuck_off=0.5)
    s = sample_devices(model, params, 40, var, seed=11)
    res = model == MODEL_RESISTOR
    np.testing.assert_array_equal(
        s.params[:, res], np.broadcast_to(params[res], (40, res.sum(), N_PARAMS))
    )
    assert not s.stuck[:, res].any()
    # with p_stuck_on + p_stuck_off = 1 every memristor is stuck
    assert s.stuck[:, ~res].all()


def test_too_large_spread_raises_naming_d2d():
    model, params = _population([MetastableSwitch()], 50)  # r_off / r_on = 3 only
    with pytest.raises(ValueError, match=r"d2d"):
        sample_devices(model, params, 20, Variability(d2d=2.0), seed=0)


def test_spread_keeps_r_on_below_r_off_when_it_succeeds():
    model, params = _mixed(20)
    s = sample_devices(model, params, 50, Variability(d2d=0.1), seed=5)
    dyn = model != MODEL_RESISTOR
    assert np.all(s.params[:, dyn, 0] < s.params[:, dyn, 1])


# ---------------------------------------------------------------------------------------------
# stuck devices
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "p_on,p_off", [(0.1, 0.05), (0.0, 0.2), (0.3, 0.0), (0.01, 0.01)]
)
def test_stuck_fractions_are_binomial(p_on, p_off):
    model, params = _population([VTEAM()], M)
    s = sample_devices(
        model, params, K, Variability(p_stuck_on=p_on, p_stuck_off=p_off), seed=9
    )
    n = K * M
    stuck_on = s.stuck & (s.stuck_state == 1.0)
    stuck_off = s.stuck & (s.stuck_state == 0.0)
    for count, p in ((stuck_on.sum(), p_on), (stuck_off.sum(), p_off)):
        # binomial(n, p): mean n p, sd sqrt(n p (1 - p)); exact zero when p = 0
        assert abs(count - n * p) <= N_SIGMA * math.sqrt(n * p * (1 - p))
    # stuck_state is 1 exactly for the stuck-ON devices
    np.testing.assert_array_equal(s.stuck_state == 1.0, stuck_on)
    # stuck devices are not also spread (no d2d here)
    np.testing.assert_array_equal(s.params, np.broadcast_to(params, s.params.shape))


# ---------------------------------------------------------------------------------------------
# cycle-to-cycle factors
# ---------------------------------------------------------------------------------------------


def test_cycle_factors_sigma_zero_are_ones():
    model, _ = _mixed()
    f = cycle_factors(model, 6, 0.0, np.random.default_rng(0))
    assert f.shape == (6, model.size)
    np.testing.assert_array_equal(f, 1.0)


@pytest.mark.parametrize("sigma", [0.05, 0.3])
def test_cycle_factors_mean_one_log_normal(sigma):
    model = np.full(M, VTEAM().model_id)
    f = cycle_factors(model, K, sigma, np.random.default_rng(123))
    n = K * M
    assert f.shape == (K, M)
    assert np.all(f > 0)
    assert abs(f.mean() - 1.0) < N_SIGMA * math.sqrt(math.expm1(sigma**2)) / math.sqrt(
        n
    )
    assert abs(np.log(f).std(ddof=1) - sigma) < N_SIGMA * sigma / math.sqrt(2 * (n - 1))


def test_cycle_factors_reproducible_and_fresh_per_call():
    model = np.zeros(10, dtype=int) + 1
    a = cycle_factors(model, 3, 0.1, np.random.default_rng(5))
    b = cycle_factors(model, 3, 0.1, np.random.default_rng(5))
    np.testing.assert_array_equal(a, b)
    rng = np.random.default_rng(5)
    first, second = cycle_factors(model, 3, 0.1, rng), cycle_factors(model, 3, 0.1, rng)
    assert not np.array_equal(first, second)
