"""Tests of memsim.devices.models, memsim.devices.functions and memsim.devices.presets.

Validation (errors name the field), packed layouts (checked against each ``pack`` docstring),
frozen dataclasses, conductance end points, window zeros, VTEAM thresholds, the GMS mean-field
fixed point, and the published parameter sets.
"""

import dataclasses
import doctest
import inspect
import math
import re

import numpy as np
import pytest

from memsim.devices import functions, models, presets, variability
from memsim.devices.functions import bound_rate, conductance, gms_probabilities, rate, window
from memsim.devices.models import (
    MODEL_CTDV,
    MODEL_GMS,
    MODEL_LINEAR_DRIFT,
    MODEL_RESISTOR,
    MODEL_VTEAM,
    N_PARAMS,
    Q_OVER_KB,
    VTEAM,
    WINDOW_IDS,
    CaravelliTraversaDiVentra,
    Device,
    LinearIonDrift,
    MetastableSwitch,
    Resistor,
)

# Tolerances. Conductance end points and closed-form rates are a handful of IEEE operations
# (each rounding by <= 2**-53 ~ 1.1e-16), so 1e-14 relative leaves a wide margin; results that
# must vanish exactly (windows at their zeros, VTEAM below threshold) are compared with ==.
RTOL_FORMULA = 1e-14
# GMS fixed point: x* = P_on / (P_on + P_off) makes (1 - x*) P_on - x* P_off cancel two terms
# of size ~P_on P_off / (P_on + P_off) <= (P_on + P_off); rounding leaves ~1e-16 of that scale.
RTOL_FIXED_POINT = 1e-12

MEMRISTOR_CLASSES = [LinearIonDrift, VTEAM, CaravelliTraversaDiVentra, MetastableSwitch]
ALL_CLASSES = [Resistor, *MEMRISTOR_CLASSES]


def _default(cls):
    return cls(1e3) if cls is Resistor else cls()


def _numeric_fields(cls):
    dev = _default(cls)
    return [
        f.name
        for f in dataclasses.fields(cls)
        if isinstance(getattr(dev, f.name), (int, float))
        and not isinstance(getattr(dev, f.name), bool)
    ]


def _one(dev: Device):
    """Model code array (1,) and packed params (1, P) of a single device."""
    return np.array([dev.model_id]), dev.pack()[None, :]


# ---------------------------------------------------------------------------------------------
# validation
# ---------------------------------------------------------------------------------------------

NONFINITE_CASES = [
    (cls, name, bad)
    for cls in ALL_CLASSES
    for name in _numeric_fields(cls)
    for bad in (math.nan, math.inf, -math.inf)
]


@pytest.mark.parametrize(
    "cls,name,bad",
    NONFINITE_CASES,
    ids=[f"{c.__name__}.{n}={b}" for c, n, b in NONFINITE_CASES],
)
def test_nonfinite_parameter_is_rejected_naming_the_field(cls, name, bad):
    if cls is Resistor:
        with pytest.raises(ValueError, match=rf"Resistor\.{name}\b"):
            Resistor(bad)
        return
    with pytest.raises(ValueError, match=rf"{cls.__name__}\.{name}\b"):
        cls(**{name: bad})


@pytest.mark.parametrize("cls", MEMRISTOR_CLASSES)
@pytest.mark.parametrize("r_on,r_off", [(100.0, 100.0), (200.0, 100.0)])
def test_r_on_not_below_r_off_is_rejected(cls, r_on, r_off):
    with pytest.raises(ValueError, match=r"r_on.*r_off"):
        cls(r_on=r_on, r_off=r_off)


@pytest.mark.parametrize("cls", [LinearIonDrift, VTEAM])
@pytest.mark.parametrize("d", [0.0, -1e-9])
def test_nonpositive_thickness_is_rejected(cls, d):
    with pytest.raises(ValueError, match=rf"{cls.__name__}\.d\b"):
        cls(d=d)


@pytest.mark.parametrize("cls", MEMRISTOR_CLASSES)
@pytest.mark.parametrize("name", ["r_on", "r_off"])
def test_nonpositive_resistance_is_rejected(cls, name):
    with pytest.raises(ValueError, match=rf"{cls.__name__}\.{name}\b"):
        cls(**{name: -1.0})


@pytest.mark.parametrize("name", ["mu_v", "p", "j"])
def test_linear_drift_nonpositive_parameters_are_rejected(name):
    with pytest.raises(ValueError, match=rf"LinearIonDrift\.{name}\b"):
        LinearIonDrift(**{name: 0.0})


@pytest.mark.parametrize("bad", ["Joglekar", "strukov", "", None])
def test_unknown_window_is_rejected(bad):
    with pytest.raises(ValueError, match=r"window"):
        LinearIonDrift(window=bad)


@pytest.mark.parametrize("v_on", [0.0, 0.1])
def test_vteam_v_on_must_be_negative(v_on):
    with pytest.raises(ValueError, match=r"VTEAM\.v_on\b"):
        VTEAM(v_on=v_on)


@pytest.mark.parametrize(
    "name,bad",
    [
        ("v_off", 0.0),
        ("v_off", -0.1),
        ("k_on", 1.0),
        ("k_off", -1e-4),
        ("p", -1.0),
        ("alpha_on", 0.0),
        ("alpha_off", -1.0),
    ],
)
def test_vteam_sign_constraints(name, bad):
    with pytest.raises(ValueError, match=rf"VTEAM\.{name}\b"):
        VTEAM(**{name: bad})


@pytest.mark.parametrize("name,bad", [("alpha", -1.0), ("beta", 0.0), ("beta", -1.0)])
def test_ctdv_constraints(name, bad):
    with pytest.raises(ValueError, match=rf"CaravelliTraversaDiVentra\.{name}\b"):
        CaravelliTraversaDiVentra(**{name: bad})


def test_ctdv_accepts_zero_decay():
    assert CaravelliTraversaDiVentra(alpha=0.0).alpha == 0.0


@pytest.mark.parametrize("n", [-1, -0.5, 2.5, 1e-3])
def test_gms_n_switches_must_be_a_nonnegative_integer(n):
    with pytest.raises(ValueError, match=r"MetastableSwitch\.n_switches\b"):
        MetastableSwitch(n_switches=n)


@pytest.mark.parametrize("name", ["tau", "temperature"])
def test_gms_nonpositive_time_and_temperature_rejected(name):
    with pytest.raises(ValueError, match=rf"MetastableSwitch\.{name}\b"):
        MetastableSwitch(**{name: 0.0})


@pytest.mark.parametrize("bad", [0, 0.0, -5.0])
def test_resistor_nonpositive_is_rejected(bad):
    with pytest.raises(ValueError, match=r"Resistor\.resistance\b"):
        Resistor(bad)


# ---------------------------------------------------------------------------------------------
# packed layouts
# ---------------------------------------------------------------------------------------------

# Instances whose fields are all different, so that a slot mix-up cannot go unnoticed.
DISTINCT = {
    Resistor: Resistor(470.0),
    LinearIonDrift: LinearIonDrift(
        r_on=120.0, r_off=9e3, d=7e-9, mu_v=2e-14, window="prodromakis", p=2.0, j=0.5
    ),
    VTEAM: VTEAM(
        r_on=40.0,
        r_off=900.0,
        k_on=-7.0,
        k_off=3e-4,
        alpha_on=4.0,
        alpha_off=2.0,
        v_on=-0.3,
        v_off=0.05,
        d=4e-9,
        p=3.0,
    ),
    CaravelliTraversaDiVentra: CaravelliTraversaDiVentra(
        r_on=2.0, r_off=50.0, alpha=0.3, beta=7.0
    ),
    MetastableSwitch: MetastableSwitch(
        r_on=400.0,
        r_off=1200.0,
        v_on=0.2,
        v_off=0.3,
        tau=2e-4,
        temperature=310.0,
        n_switches=7,
    ),
}


def _slot_names(cls) -> list[str]:
    doc = inspect.getdoc(cls.pack)
    m = re.search(r"Slots:\s*``\[(.*?)\]``", doc or "", re.DOTALL)
    assert m, f"{cls.__name__}.pack docstring does not document its slots"
    return [s.strip() for s in m.group(1).split(",")]


def _slot_value(dev, name: str) -> float:
    special = {
        "R": lambda d: d.resistance,
        "window_id": lambda d: WINDOW_IDS[d.window],
        "q/(k_B T)": lambda d: Q_OVER_KB / d.temperature,
    }
    if name in special:
        return special[name](dev)
    return getattr(dev, name)


@pytest.mark.parametrize("cls", ALL_CLASSES)
def test_pack_matches_its_documented_slots(cls):
    dev = DISTINCT[cls]
    packed = dev.pack()
    names = _slot_names(cls)
    assert packed.shape == (N_PARAMS,)
    assert packed.dtype == np.float64
    assert len(names) <= N_PARAMS
    for idx, name in enumerate(names):
        assert packed[idx] == pytest.approx(_slot_value(dev, name), rel=RTOL_FORMULA), (
            idx,
            name,
        )
    # undocumented slots are padding
    assert np.all(packed[len(names) :] == 0.0)
    # slots 0 and 1 always hold r_on and r_off (a resistor stores R in both)
    if cls is not Resistor:
        assert (packed[0], packed[1]) == (dev.r_on, dev.r_off)


def test_model_ids_are_distinct_and_match_constants():
    assert Resistor.model_id == MODEL_RESISTOR
    assert LinearIonDrift.model_id == MODEL_LINEAR_DRIFT
    assert VTEAM.model_id == MODEL_VTEAM
    assert CaravelliTraversaDiVentra.model_id == MODEL_CTDV
    assert MetastableSwitch.model_id == MODEL_GMS
    assert len({c.model_id for c in ALL_CLASSES}) == len(ALL_CLASSES)
    assert Resistor.dynamic is False
    assert all(c.dynamic for c in MEMRISTOR_CLASSES)


def test_q_over_kb_codata_and_gms_slot():
    # q = 1.602176634e-19 C, k_B = 1.380649e-23 J/K (exact SI values since 2019)
    assert Q_OVER_KB == pytest.approx(11604.51812, rel=1e-9)
    dev = MetastableSwitch(temperature=298.5)
    assert dev.pack()[5] == pytest.approx(
        1.602176634e-19 / (1.380649e-23 * 298.5), rel=RTOL_FORMULA
    )


def test_window_ids_cover_the_window_literal():
    assert set(WINDOW_IDS) == set(models.Window.__args__)
    assert sorted(WINDOW_IDS.values()) == list(range(len(WINDOW_IDS)))


# ---------------------------------------------------------------------------------------------
# frozen
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("cls", ALL_CLASSES)
def test_devices_are_frozen(cls):
    dev = DISTINCT[cls]
    first = dataclasses.fields(cls)[0].name
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(dev, first, 1.0)
    assert dataclasses.is_dataclass(dev)
    assert hash(dev) == hash(
        dataclasses.replace(dev)
    )  # frozen dataclasses hash by value


# ---------------------------------------------------------------------------------------------
# conductance
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("cls", MEMRISTOR_CLASSES)
def test_conductance_end_points(cls):
    dev = DISTINCT[cls]
    model, params = _one(dev)
    g0 = conductance(model, params, np.array([0.0]))[0]
    g1 = conductance(model, params, np.array([1.0]))[0]
    assert g0 == pytest.approx(1.0 / dev.r_off, rel=RTOL_FORMULA)
    assert g1 == pytest.approx(1.0 / dev.r_on, rel=RTOL_FORMULA)


def test_conductance_series_versus_parallel_in_between():
    # same r_on, r_off: series models give 1/(r_on x + r_off (1-x)), GMS x/r_on + (1-x)/r_off
    devs = [
        LinearIonDrift(r_on=100.0, r_off=1000.0),
        VTEAM(r_on=100.0, r_off=1000.0),
        CaravelliTraversaDiVentra(r_on=100.0, r_off=1000.0),
        MetastableSwitch(r_on=100.0, r_off=1000.0),
        Resistor(250.0),
    ]
    model = np.array([d.model_id for d in devs])
    params = np.stack([d.pack() for d in devs])
    x = np.full(len(devs), 0.25)
    g = conductance(model, params, x)
    series = 1.0 / (100.0 * 0.25 + 1000.0 * 0.75)
    parallel = 0.25 / 100.0 + 0.75 / 1000.0
    np.testing.assert_allclose(
        g, [series, series, series, parallel, 1 / 250.0], rtol=RTOL_FORMULA
    )


def test_conductance_broadcasts_over_ensembles():
    devs = [LinearIonDrift(), MetastableSwitch(), Resistor(10.0)]
    model = np.array([d.model_id for d in devs])
    params = np.broadcast_to(np.stack([d.pack() for d in devs]), (4, 3, N_PARAMS))
    x = np.linspace(0, 1, 12).reshape(4, 3)
    g = conductance(model, params, x)
    assert g.shape == (4, 3)
    for k in range(4):
        np.testing.assert_array_equal(g[k], conductance(model, params[k], x[k]))


# ---------------------------------------------------------------------------------------------
# linear ion drift and windows
# ---------------------------------------------------------------------------------------------


def test_hp_rate_constant_is_1e4():
    # REFERENCES / Strukov et al. 2008: k = mu_v R_on / D^2 = 1e-14 * 100 / (1e-8)^2 = 1e4 1/(A s)
    assert presets.HP_TIO2.k == pytest.approx(1e4, rel=RTOL_FORMULA)
    assert presets.HP_TIO2.pack()[2] == pytest.approx(1e4, rel=RTOL_FORMULA)


def test_linear_drift_rate_without_window_is_k_i():
    dev = presets.HP_TIO2
    model, params = _one(dev)
    for x in (0.0, 0.3, 1.0):
        for i in (-2e-3, 0.0, 1e-4):
            r = rate(model, params, np.array([x]), np.array([0.7]), np.array([i]))[0]
            assert r == pytest.approx(dev.k * i, rel=RTOL_FORMULA, abs=0.0)


@pytest.mark.parametrize("p", [1.0, 2.0, 3.0])
@pytest.mark.parametrize("i", [-1e-3, 1e-3])
def test_joglekar_window_vanishes_at_both_ends(p, i):
    x = np.array([0.0, 1.0])
    f = window(
        np.array(WINDOW_IDS["joglekar"]), np.array(p), np.array(1.0), x, np.full(2, i)
    )
    # zero to double precision: windows are evaluated one ulp inside [0, 1] so a
    # state rounded onto a bound is not trapped (functions.window docstring);
    # one ulp below 1 gives F = 1 - (1 - 2**-52)**(2p) ~ 2p * 2**-52 < 1e-14
    np.testing.assert_allclose(f, [0.0, 0.0], rtol=0, atol=1e-14)
    assert f[1] > 0
    # and is 1 in the middle, in [0, 1] everywhere
    grid = np.linspace(0, 1, 101)
    fg = window(np.array(1), np.array(p), np.array(1.0), grid, np.full(101, i))
    assert fg[50] == pytest.approx(1.0, rel=RTOL_FORMULA)
    assert np.all((fg >= 0) & (fg <= 1))


@pytest.mark.parametrize("p", [1.0, 2.0, 3.0])
def test_biolek_window_vanishes_at_the_end_the_current_pushes_towards(p):
    kind, pp, j = np.array(WINDOW_IDS["biolek"]), np.array(p), np.array(1.0)
    x = np.array([0.0, 1.0])
    pos = window(kind, pp, j, x, np.array([1e-3, 1e-3]))
    neg = window(kind, pp, j, x, np.array([-1e-3, -1e-3]))
    # positive current drives x up: blocked at x = 1, free to leave x = 0
    # (blocked to double precision: evaluated one ulp inside, see the Joglekar test)
    np.testing.assert_allclose(pos, [1.0, 0.0], rtol=0, atol=1e-14)
    # negative current drives x down: blocked at x = 0, free to leave x = 1
    np.testing.assert_allclose(neg, [0.0, 1.0], rtol=0, atol=1e-14)


@pytest.mark.parametrize("p", [1.0, 2.0, 2.5, 7.0])
@pytest.mark.parametrize("j", [0.5, 1.0, 3.0])
def test_prodromakis_window_vanishes_at_both_ends_and_peaks_mid(p, j):
    grid = np.linspace(0, 1, 101)
    f = window(
        np.array(WINDOW_IDS["prodromakis"]),
        np.array(p),
        np.array(j),
        grid,
        np.ones(101),
    )
    # zero to double precision at the ends (evaluated one ulp inside, see the
    # Joglekar test): j * (1 - (1/4 + 3/4 - ~2**-53)**p) <= j * p * 2**-52 < 1e-14
    assert abs(f[0]) < 1e-14 and abs(f[-1]) < 1e-14
    assert f[50] == pytest.approx(j * (1 - 0.75**p), rel=RTOL_FORMULA)
    assert np.argmax(f) == 50


def test_window_none_is_one():
    grid = np.linspace(0, 1, 11)
    f = window(np.array(0), np.array(1.0), np.array(1.0), grid, np.ones(11))
    np.testing.assert_array_equal(f, np.ones(11))


@pytest.mark.parametrize(
    "name", ["HP_TIO2_JOGLEKAR", "HP_TIO2_BIOLEK", "HP_TIO2_PRODROMAKIS"]
)
def test_windowed_rate_is_blocked_at_the_bounds(name):
    dev = presets.get_preset(name)
    model, params = _one(dev)
    up = rate(model, params, np.array([1.0]), np.array([1.0]), np.array([1e-3]))[0]
    down = rate(model, params, np.array([0.0]), np.array([-1.0]), np.array([-1e-3]))[0]
    # the window is evaluated one ulp inside the bound, so the raw rate is
    # k * i * F ~ 1e4 * 1e-3 * 1e-15 (negligible) and bound_rate zeroes it exactly
    assert abs(up) < 1e-12 and abs(down) < 1e-12
    assert bound_rate(np.array([1.0, 0.0]), np.array([up, down])).tolist() == [0.0, 0.0]
    mid = rate(model, params, np.array([0.5]), np.array([1.0]), np.array([1e-3]))[0]
    assert mid > 0


def _window_at_bounds_or_rejected(make, evaluate):
    """Either the model rejects the exponent (ValueError naming p) or the window vanishes."""
    try:
        dev = make()
    except ValueError as exc:
        assert re.search(r"\.p\b", str(exc)), str(exc)
        return
    values = evaluate(dev)
    assert np.all(np.isfinite(values)), values
    np.testing.assert_array_equal(values, 0.0)


@pytest.mark.parametrize("p", [1.5, 1.25])
@pytest.mark.parametrize("kind", ["joglekar", "biolek", "vteam"])
def test_window_zero_at_bounds_for_every_accepted_exponent(kind, p):
    if kind == "vteam":

        def evaluate(dev):
            model, params = _one(dev)
            # x = 0 (fully OFF) under an ON pulse, x = 1 under an OFF pulse
            return np.array(
                [
                    rate(
                        model,
                        params,
                        np.array([0.0]),
                        np.array([-0.5]),
                        np.array([0.0]),
                    )[0],
                    rate(
                        model, params, np.array([1.0]), np.array([0.5]), np.array([0.0])
                    )[0],
                ]
            )

        _window_at_bounds_or_rejected(lambda: VTEAM(p=p), evaluate)
        return

    def evaluate(dev):
        model, params = _one(dev)
        out = []
        for x, i in (
            ((0.0, -1e-3), (1.0, 1e-3))
            if kind == "biolek"
            else ((0.0, -1e-3), (0.0, 1e-3), (1.0, -1e-3), (1.0, 1e-3))
        ):
            out.append(
                rate(model, params, np.array([x]), np.array([0.0]), np.array([i]))[0]
            )
        return np.array(out)

    _window_at_bounds_or_rejected(lambda: LinearIonDrift(window=kind, p=p), evaluate)


# ---------------------------------------------------------------------------------------------
# VTEAM
# ---------------------------------------------------------------------------------------------


def test_vteam_rate_zero_between_thresholds():
    dev = presets.VTEAM_KVATINSKY2015
    _, params = _one(dev)
    v = np.linspace(dev.v_on, dev.v_off, 201)  # thresholds included
    for x in (0.0, 0.4, 1.0):
        r = rate(
            np.full(v.size, dev.model_id),
            np.repeat(params, v.size, 0),
            np.full(v.size, x),
            v,
            v / 100,
        )
        np.testing.assert_array_equal(r, 0.0)


def test_vteam_rate_signs_and_magnitudes_beyond_thresholds():
    dev = presets.VTEAM_KVATINSKY2015
    model, params = _one(dev)
    for v in (-0.25, -0.4, -1.0):
        r = rate(model, params, np.array([0.5]), np.array([v]), np.array([0.0]))[0]
        # paper: dw/dt = k_on (v/v_on - 1)^alpha_on < 0, x = 1 - w/d grows: turns ON
        expected = -dev.k_on * (v / dev.v_on - 1.0) ** dev.alpha_on / dev.d
        assert r > 0
        assert r == pytest.approx(expected, rel=RTOL_FORMULA)
    for v in (0.03, 0.1, 1.0):
        r = rate(model, params, np.array([0.5]), np.array([v]), np.array([0.0]))[0]
        expected = -dev.k_off * (v / dev.v_off - 1.0) ** dev.alpha_off / dev.d
        assert r < 0  # positive voltage above v_off turns OFF
        assert r == pytest.approx(expected, rel=RTOL_FORMULA)


def test_vteam_joglekar_window_scales_rate():
    dev = VTEAM(p=1.0)
    model, params = _one(dev)
    base = rate(*_one(VTEAM()), np.array([0.25]), np.array([-0.5]), np.array([0.0]))[0]
    r = rate(model, params, np.array([0.25]), np.array([-0.5]), np.array([0.0]))[0]
    assert r == pytest.approx(base * (1 - (2 * 0.25 - 1) ** 2), rel=RTOL_FORMULA)


# ---------------------------------------------------------------------------------------------
# Caravelli-Traversa-Di Ventra
# ---------------------------------------------------------------------------------------------


def test_ctdv_rate_formula():
    dev = DISTINCT[CaravelliTraversaDiVentra]
    model, params = _one(dev)
    for x, i in ((0.0, 1e-3), (0.5, -2e-2), (1.0, 0.0)):
        r = rate(model, params, np.array([x]), np.array([0.0]), np.array([i]))[0]
        assert r == pytest.approx(
            dev.r_off / dev.beta * i - dev.alpha * x, rel=RTOL_FORMULA, abs=0.0
        )


def test_resistor_rate_is_zero():
    model, params = _one(Resistor(10.0))
    assert (
        rate(model, params, np.array([0.3]), np.array([5.0]), np.array([0.5]))[0] == 0.0
    )


# ---------------------------------------------------------------------------------------------
# generalized metastable switch
# ---------------------------------------------------------------------------------------------

GMS_VOLTAGES = [-1.0, -0.5, -0.27, -0.1, 0.0, 0.1, 0.27, 0.5, 1.0]


@pytest.mark.parametrize("v", GMS_VOLTAGES)
def test_gms_probabilities_closed_form(v):
    dev = DISTINCT[MetastableSwitch]
    _, params = _one(dev)
    p_on, p_off = gms_probabilities(params, np.array([v]))
    b = Q_OVER_KB / dev.temperature
    assert p_on[0] == pytest.approx(
        1 / (1 + math.exp(-b * (v - dev.v_on))) / dev.tau, rel=RTOL_FORMULA
    )
    assert p_off[0] == pytest.approx(
        1 / (1 + math.exp(b * (v + dev.v_off))) / dev.tau, rel=RTOL_FORMULA
    )


@pytest.mark.parametrize(
    "dev", [presets.KNOWM_GMS, DISTINCT[MetastableSwitch]], ids=["knowm", "distinct"]
)
@pytest.mark.parametrize("v", GMS_VOLTAGES)
def test_gms_mean_field_fixed_point(dev, v):
    model, params = _one(dev)
    p_on, p_off = (a[0] for a in gms_probabilities(params, np.array([v])))
    x_star = p_on / (p_on + p_off)
    r = rate(model, params, np.array([x_star]), np.array([v]), np.array([0.0]))[0]
    assert abs(r) <= RTOL_FIXED_POINT * (p_on + p_off)
    # stable: rate points towards x* from both sides
    below = rate(
        model, params, np.array([x_star * 0.5]), np.array([v]), np.array([0.0])
    )[0]
    above = rate(
        model,
        params,
        np.array([x_star + 0.5 * (1 - x_star)]),
        np.array([v]),
        np.array([0.0]),
    )[0]
    assert below > 0 > above


def test_gms_symmetric_thresholds_give_half_at_zero_volts():
    model, params = _one(presets.KNOWM_GMS)
    p_on, p_off = gms_probabilities(params, np.array([0.0]))
    assert p_on[0] == pytest.approx(p_off[0], rel=RTOL_FORMULA)
    r = rate(model, params, np.array([0.5]), np.array([0.0]), np.array([0.0]))[0]
    assert abs(r) <= RTOL_FIXED_POINT * (p_on[0] + p_off[0])


# ---------------------------------------------------------------------------------------------
# presets
# ---------------------------------------------------------------------------------------------

YEAR = re.compile(r"\b(?:19|20)\d\d\b")


def test_presets_listing_matches_module_constants():
    listed = presets.presets()
    assert set(listed) == set(presets.CITATIONS)
    assert set(listed) <= set(presets.__all__)
    for name, dev in listed.items():
        assert getattr(presets, name) is dev
        assert isinstance(dev, Device)
        assert dev.dynamic
        assert dev.pack().shape == (N_PARAMS,)
    # every Device constant in the module is listed
    constants = {n for n, v in vars(presets).items() if isinstance(v, Device)}
    assert constants == set(listed)


def test_presets_returns_a_copy():
    d = presets.presets()
    d.clear()
    assert presets.presets()


@pytest.mark.parametrize("name", sorted(presets.CITATIONS))
def test_each_preset_cites_its_paper_with_year(name):
    citation = presets.CITATIONS[name]
    years = YEAR.findall(citation)
    assert years, citation
    # the comment block just above the constant cites the same year(s)
    lines = inspect.getsource(presets).splitlines()
    start = next(k for k, line in enumerate(lines) if line.startswith(f"{name} ="))
    block = []
    k = start - 1
    while k >= 0 and lines[k].startswith("#:"):
        block.append(lines[k])
        k -= 1
    comment = " ".join(block)
    for year in years:
        assert year in comment, (name, year)
    # and the module docstring lists it
    assert name in presets.__doc__


@pytest.mark.parametrize("name", sorted(presets.CITATIONS))
def test_preset_frozen_and_get_preset_round_trip(name):
    dev = presets.get_preset(name)
    assert dev is presets.presets()[name]
    with pytest.raises(dataclasses.FrozenInstanceError):
        dev.r_on = 1.0


@pytest.mark.parametrize("bad", ["hp_tio2_typo", "", "VTEAM"])
def test_get_preset_unknown_lists_valid_names(bad):
    with pytest.raises(ValueError) as info:
        presets.get_preset(bad)
    msg = str(info.value)
    assert repr(bad) in msg
    for name in presets.presets():
        assert name in msg


def test_preset_values_are_the_published_ones():
    hp = [
        presets.HP_TIO2,
        presets.HP_TIO2_JOGLEKAR,
        presets.HP_TIO2_BIOLEK,
        presets.HP_TIO2_PRODROMAKIS,
    ]
    for dev in hp:
        assert (dev.r_on, dev.r_off, dev.d, dev.mu_v) == (100.0, 16e3, 10e-9, 1e-14)
    assert [d.window for d in hp] == ["none", "joglekar", "biolek", "prodromakis"]
    assert presets.HP_TIO2_JOGLEKAR.p == 1.0
    v = presets.VTEAM_KVATINSKY2015
    assert (
        v.r_on,
        v.r_off,
        v.k_on,
        v.k_off,
        v.alpha_on,
        v.alpha_off,
        v.v_on,
        v.v_off,
        v.d,
    ) == (50.0, 1e3, -10.0, 5e-4, 3.0, 1.0, -0.2, 0.02, 3e-9)
    g = presets.KNOWM_GMS
    assert (g.r_on, g.r_off, g.v_on, g.v_off, g.tau, g.temperature) == (
        500.0,
        1500.0,
        0.27,
        0.27,
        1e-4,
        298.5,
    )
    c = presets.CTDV_CARAVELLI2017
    assert (c.r_on, c.r_off, c.alpha, c.beta) == (1.0, 100.0, 1.0, 1.0)


# ---------------------------------------------------------------------------------------------
# docstring examples
# ---------------------------------------------------------------------------------------------


def _run_doctests(module):
    finder = doctest.DocTestFinder()
    runner = doctest.DocTestRunner(
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    )
    for test in finder.find(module, module.__name__, globs={"np": np, **vars(module)}):
        runner.run(test, out=lambda s: None)
    return runner.summarize(verbose=False)


@pytest.mark.parametrize(
    "module",
    [
        models,
        variability,
        presets,
        functions,
    ],
    ids=lambda m: m.__name__.rsplit(".", 1)[-1],
)
def test_docstring_examples_run(module):
    result = _run_doctests(module)
    assert result.attempted > 0
    assert result.failed == 0
