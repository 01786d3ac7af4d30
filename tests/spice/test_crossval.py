"""Cross-validation of memsim against ngspice: whole state trajectories, sample by sample.

Both simulators integrate the same equations (``memsim.spice.to_spice`` writes memsim's device
formulas, with its exact numbers, as ngspice behavioural sources); they differ in method:

- memsim: classical RK4 at a fixed step ``h_m`` (global error ~ h_m^4; every case below uses
  ``h_m`` = a tenth of ngspice's largest step, so memsim's own error is < 1e-12 on smooth
  trajectories -- the convergence tests of tests/solve show the order);
- ngspice: the trapezoidal rule (second order) with its step bounded by ``max_step`` and further
  cut by its local-truncation-error control (``reltol = 1e-7``, ``trtol = 1``, ``chgtol = 1e-16``);
  its global error is ~ C h^2. ``run_ngspice(t_eval=...)`` puts ngspice's points on memsim's grid
  with monotone cubic (PCHIP) interpolation per segment, an O(h^3) error below ngspice's own.
  ngspice also reads numbers inside B-source expressions to 11 significant digits only, which
  moves trajectories by ~1e-11 (see memsim.spice).

So the difference measured below is ngspice's truncation error. Each tolerance is about 5-10x
the difference measured with ngspice-39 (in the comment beside it), and
``test_difference_shrinks_as_ngspice_step_squared`` checks that this difference really is
ngspice's O(h^2) error (a factor-4 smaller step must cut it by > 8) rather than a modelling
mismatch, which would not shrink. Terminal currents are compared relative to their largest value.

Where states hit a hard bound of [0, 1] (no window, VTEAM, Caravelli) both integrators are only
first order across the kink; ngspice cuts its step there and agrees to ~1e-6 anyway, except for
the HP device without window, whose rate reaches ~150/s as R -> R_on just before the bound
(``test_saturating_linear_drift_is_first_order_at_the_bound``).

Reference traces: tests/data holds ngspice trajectories of three cases with the netlists that made
them (see tests/data/README.md); ``test_memsim_matches_stored_ngspice_trace`` compares memsim
against them, so the cross-validation also runs where ngspice is not installed. Regenerate with
``python tests/spice/test_crossval.py --regenerate`` (needs ngspice).
"""

from __future__ import annotations

import datetime
import pathlib
import shutil
import sys

import numpy as np
import pytest

from memsim import (
    PWL,
    VTEAM,
    CaravelliTraversaDiVentra,
    LinearIonDrift,
    MetastableSwitch,
    Network,
    Segment,
    Sine,
    crossbar,
    layered,
    random_geometric,
    simulate,
)
from memsim.spice import run_ngspice, to_spice

DATA = pathlib.Path(__file__).resolve().parents[1] / "data"
HAVE_NGSPICE = shutil.which("ngspice") is not None
requires_ngspice = pytest.mark.skipif(not HAVE_NGSPICE, reason="ngspice not installed: apt-get install ngspice")
#: ngspice options of every comparison (see the module docstring).
SPICE = dict(reltol=1e-7)
HPJ = LinearIonDrift(window="joglekar")  # HP TiO2 (Strukov et al. 2008), Joglekar window p = 1


def _single(device, x0=0.3):
    net = Network(default_device=device)
    net.add_node("a", "input")
    net.add_node("b", "output")
    net.add_edge("a", "b", x0=x0)
    return net


def _x0(m, seed, lo=0.1, hi=0.6):
    # states away from the bounds: a Joglekar device that reaches x = 1 exactly (in floating point)
    # stays there forever (F(1) = 0), so a saturating device makes the comparison ill-conditioned
    return np.random.default_rng(seed).uniform(lo, hi, m)


# ---------------------------------------------------------------- cases: (network, protocol, max_step)
def case_layered():
    """2-4-2, positive then negative polarity; output 0 floats (inhibition) in the second segment."""
    net = Network.from_graph(layered([2, 4, 2]), HPJ, x0=_x0(16, 0))
    proto = [
        Segment(1.0, drive={("in", 0): Sine(0.75, 1.0), ("in", 1): 0.375}, ground=[("out", 0), ("out", 1)],
                label="positive"),
        Segment(0.5, drive={("in", 0): -0.75, ("in", 1): PWL((1.0, 1.5), (-0.75, 0.375))}, ground=[("out", 1)],
                label="negative, output 0 floating"),
    ]
    return net, proto, 1e-4


def case_random_geometric():
    g = random_geometric(20, 0.4, 2, 2, seed=3)  # 61 devices
    net = Network.from_graph(g, HPJ, x0=_x0(g.number_of_edges(), 1))
    drive = {n: Sine(1.0, 1.0, phase=float(i)) for i, n in enumerate(net.inputs)}
    return net, [Segment(0.75, drive=drive, ground=net.outputs)], 1e-4


def case_crossbar():
    g = crossbar(4, 4, r_wire=5.0)  # 16 devices, 24 wire resistors
    net = Network.from_graph(g, HPJ, x0=_x0(g.number_of_edges(), 2))
    drive = {n: Sine(0.75, 1.0, phase=float(i)) for i, n in enumerate(net.inputs)}
    return net, [Segment(0.75, drive=drive, ground=net.outputs)], 1e-4


def case_vteam():
    """VTEAM without window at 1 MHz: the state hits both bounds every period."""
    net = _single(VTEAM())
    return net, [Segment(2e-6, drive={"a": Sine(0.25, 1e6)}, ground=["b"])], 1e-10


# name: (device, drive, duration (s), max_step (s), tolerance on x, relative tolerance on i_node)
SINGLE = {
    # HP without window, 1 V: x in [0.30, 0.69], never at a bound; measured 4.2e-8, 6.7e-8
    "linear-drift": (LinearIonDrift(), Sine(1.0, 1.0), 2.0, 1e-4, 2e-7, 5e-7),
    # x up to 0.97, where the current grows fast; measured 2.6e-8, 4.8e-7
    "joglekar": (HPJ, Sine(1.5, 1.0), 2.0, 1e-4, 2e-7, 3e-6),
    # measured 3.7e-8, 2.6e-7
    "biolek": (LinearIonDrift(window="biolek", p=2), Sine(1.5, 1.0), 2.0, 1e-4, 3e-7, 2e-6),
    # measured 8.9e-9, 3.6e-8
    "prodromakis": (LinearIonDrift(window="prodromakis", p=2), Sine(1.5, 1.0), 2.0, 1e-4, 1e-7, 3e-7),
    # hits both bounds (gate of width 1e-9, first order at the kinks); measured 7.9e-7, 2.3e-4
    # (the current jumps with the state at each kink; max over the interpolated kink samples)
    "vteam": (VTEAM(), Sine(0.25, 1e6), 2e-6, 1e-10, 5e-6, 2e-3),
    # threshold kinks of the rate (alpha_off = 1), x up to 1 - 5e-15; measured 2.5e-6, 1.3e-5
    "vteam-window": (VTEAM(p=2), Sine(0.25, 1e6), 2e-6, 1e-10, 2e-5, 1e-4),
    # hits x = 0; measured 9.2e-8, 1.8e-7
    "caravelli": (CaravelliTraversaDiVentra(), Sine(1.0, 1.0), 2.0, 1e-4, 1e-6, 2e-6),
    # mean-field metastable switch, fast: x from 0.04 to 0.97 each period; measured 4.4e-7, 2.2e-7
    "metastable-switch": (MetastableSwitch(), Sine(0.5, 1e3), 2e-3, 1e-7, 3e-6, 2e-6),
}

# name: (case, tolerance on x, relative tolerance on i_node)
NETWORKS = {
    "layered-2-4-2": (case_layered, 1e-7, 5e-7),  # measured 9.5e-9, 2.6e-8 (incl. the switch)
    "random-geometric": (case_random_geometric, 1e-7, 5e-7),  # measured 8.3e-9, 5.9e-8
    "crossbar-4x4-wires": (case_crossbar, 2e-7, 1e-6),  # measured 2.6e-8, 1.1e-7
}

# stored reference traces: name -> (case, memsim step, tolerance on x, relative tolerance on i_node)
STORED = {
    "layered_2-4-2": (case_layered, 1e-5, 2e-8, 1e-7),
    "crossbar_4x4_wires": (case_crossbar, 1e-5, 2e-8, 1e-7),
    "vteam_single": (case_vteam, 1e-12, 2e-6, 1e-3),
}
#: ngspice step of the stored traces: 1/4 of the live tests' (error 16x smaller, ~1e-9)
STORED_STEP_FACTOR = 0.25
#: samples kept in the stored traces (every n-th step of memsim's grid)
STORED_EVERY = {"layered_2-4-2": 1000, "crossbar_4x4_wires": 1000, "vteam_single": 2000}


def _compare(net, proto, max_step, *, fine=10):
    """memsim (RK4, step max_step / fine) and ngspice on memsim's grid of step max_step."""
    ref = simulate(net, proto, dt=max_step / fine, method="rk4", record_every=fine, record=("x", "i_node"))
    spice = run_ngspice(net, proto, dt=max_step, t_eval=ref.t, record=("x", "i_node"), **SPICE)
    dx = float(np.max(np.abs(spice.x - ref.x)))
    di = float(np.max(np.abs(spice.i_node - ref.i_node)) / np.max(np.abs(ref.i_node)))
    return ref, spice, dx, di


# ---------------------------------------------------------------- live comparisons (need ngspice)
@pytest.mark.ngspice
@requires_ngspice
@pytest.mark.parametrize("name", list(SINGLE))
def test_single_device_sine_drive(name):
    device, wave, duration, max_step, tol_x, tol_i = SINGLE[name]
    ref, _, dx, di = _compare(_single(device), [Segment(duration, drive={"a": wave}, ground=["b"])], max_step)
    assert np.ptp(ref.x) > 0.1  # the drive moves the state
    assert dx <= tol_x, f"{name}: max |dx| = {dx:.3g}"
    assert di <= tol_i, f"{name}: max |di| / max |i| = {di:.3g}"


@pytest.mark.ngspice
@requires_ngspice
@pytest.mark.parametrize("name", list(NETWORKS))
def test_network(name):
    case, tol_x, tol_i = NETWORKS[name]
    net, proto, max_step = case()
    ref, _, dx, di = _compare(net, proto, max_step)
    c = net.compile()
    assert np.ptp(ref.x[:, c.dynamic], axis=0).max() > 0.1
    assert dx <= tol_x, f"{name}: max |dx| = {dx:.3g}"
    assert di <= tol_i, f"{name}: max |di| / max |i| = {di:.3g}"


@pytest.mark.ngspice
@requires_ngspice
def test_layered_floating_output_carries_no_current_and_segments_match():
    net, proto, max_step = case_layered()
    ref, spice, _, _ = _compare(net, proto, max_step)
    np.testing.assert_array_equal(spice.segment, ref.segment)
    out0 = net.compile().node_index[("out", 0)]
    second = ref.segment == 1
    assert np.all(spice.i_node[second, out0] == 0.0) and np.all(ref.i_node[second, out0] == 0.0)
    assert np.abs(spice.i_node[~second, out0]).max() > 1e-5  # it did carry current while grounded


@pytest.mark.ngspice
@requires_ngspice
def test_many_segments_with_switching_terminals():
    # 100 segments of 10 ms: input levels of both signs, the output grounded, floating or driven;
    # every boundary must switch exactly there (a threshold misplaced by one ngspice step costs
    # ~1e-6 in x and the full current jump in i); measured 1.5e-9 and 9.6e-8, the latter from the
    # switch of "b" (bounded by sqrt(eps R_off / R_on) = 2e-7, see memsim.spice)
    def seg(k):
        if k % 3 == 0:
            return Segment(1e-2, drive={"a": 0.7, "b": 0.1})
        return Segment(1e-2, drive={"a": 1.0 if k % 2 else -0.5}, ground=["b"] if k % 3 == 1 else [])
    net = _single(HPJ)
    ref, spice, dx, di = _compare(net, [seg(k) for k in range(100)], 1e-4, fine=1)
    assert dx <= 5e-8 and di <= 1e-6, (dx, di)
    assert np.all(spice.i_node[ref.segment % 3 == 2, 1] == 0.0)  # "b" floats in those segments


@pytest.mark.ngspice
@requires_ngspice
def test_difference_shrinks_as_ngspice_step_squared():
    # Joglekar device: the memsim/ngspice difference is ngspice's trapezoidal error, O(h^2):
    # measured 2.6e-8 at h = 1e-4 and 2.6e-9 at h = 2.5e-5 (ratio 10; 16 in the limit)
    device, wave, duration, _, _, _ = SINGLE["joglekar"]
    net, proto = _single(device), [Segment(duration, drive={"a": wave}, ground=["b"])]
    _, _, coarse, _ = _compare(net, proto, 1e-4)
    _, _, fine, _ = _compare(net, proto, 2.5e-5, fine=4)
    assert coarse / fine > 8, (coarse, fine)


@pytest.mark.ngspice
@requires_ngspice
def test_saturating_linear_drift_is_first_order_at_the_bound():
    # HP without window at 1.5 V reaches x = 1 with dx/dt ~ 150/s (R -> R_on); the kink in time
    # makes both methods first order there: the difference falls ~linearly with the step
    # (measured 8.5e-5 at 1e-4, 1.9e-5 at 2.5e-5) and is tiny elsewhere
    net, proto = _single(LinearIonDrift()), [Segment(2.0, drive={"a": Sine(1.5, 1.0)}, ground=["b"])]
    ref, spice, dx, _ = _compare(net, proto, 2.5e-5, fine=4)
    assert ref.x.max() == 1.0 and dx <= 1e-4, dx
    late = ref.t > 0.6  # after the bound: the state leaves it in step with memsim
    assert np.abs(spice.x - ref.x)[late].max() <= 1e-5


@pytest.mark.ngspice
@requires_ngspice
def test_gear_method_agrees():
    net, proto, max_step = case_layered()
    ref = simulate(net, proto, dt=max_step / 10, method="rk4", record_every=10, record=("x",))
    spice = run_ngspice(net, proto, dt=max_step, t_eval=ref.t, record=("x",), method="gear", **SPICE)
    # Gear-2 has a larger error constant than the trapezoidal rule (2/9 vs 1/12); measured 2.4e-8
    assert np.abs(spice.x - ref.x).max() <= 3e-7


@pytest.mark.ngspice
@requires_ngspice
def test_node_voltages_and_derived_quantities():
    net, proto, max_step = case_crossbar()
    ref = simulate(net, proto, dt=max_step / 10, method="rk4", record_every=10)
    spice = run_ngspice(net, proto, dt=max_step, t_eval=ref.t, **SPICE)
    for q in ("v_node", "v_edge"):  # volts; drives are <= 0.75 V; measured ~1e-9
        assert np.nanmax(np.abs(getattr(spice, q) - getattr(ref, q))) <= 1e-7, q
    # currents and power from those voltages: a 5 ohm wire turns a ~5e-9 V voltage difference
    # into 1e-9 A, 3e-6 of the largest current (measured); devices alone agree to ~1e-7
    for q in ("i_edge", "power"):
        scale = np.abs(getattr(ref, q)).max()
        assert np.abs(getattr(spice, q) - getattr(ref, q)).max() <= 2e-5 * scale, q


@pytest.mark.ngspice
@requires_ngspice
def test_raw_ngspice_points_start_with_the_initial_state():
    net, proto, max_step = case_layered()
    spice = run_ngspice(net, proto, dt=max_step, **SPICE)
    assert spice.t[0] == 0.0 and np.all(np.diff(spice.t) > 0)
    np.testing.assert_array_equal(spice.x[0], net.compile().x0)
    assert np.all(np.isnan(spice.i_node[0, net.compile().inputs]))
    assert spice.t[-1] == pytest.approx(1.5, rel=1e-12)
    assert spice.stats["engine"] == "ngspice" and spice.stats["accepted_points"] > 1000
    assert set(spice.segment) == {0, 1} and spice.labels == ("positive", "negative, output 0 floating")


@pytest.mark.slow
@pytest.mark.ngspice
@requires_ngspice
@pytest.mark.parametrize("shape", ["layered-8-16-8", "crossbar-16x16-wires"])
def test_larger_networks(shape):
    if shape.startswith("layered"):
        g = layered([8, 16, 8])
    else:
        g = crossbar(16, 16, r_wire=1.0)
    net = Network.from_graph(g, HPJ, x0=_x0(g.number_of_edges(), 4))
    drive = {n: Sine(1.0, 25.0, phase=2 * np.pi * i / len(net.inputs)) for i, n in enumerate(net.inputs)}
    proto = [Segment(20e-3, drive=drive, ground=net.outputs)]
    _, _, dx, di = _compare(net, proto, 2e-5)
    assert dx <= 1e-7 and di <= 1e-6, (dx, di)


# ---------------------------------------------------------------- stored reference traces
def _stored_case(name):
    net, proto, max_step = STORED[name][0]()
    return net, proto, max_step * STORED_STEP_FACTOR


def _stored_run(name):
    net, proto, max_step = _stored_case(name)
    h, every = STORED[name][1], STORED_EVERY[name]
    ref = simulate(net, proto, dt=h, method="rk4", record_every=every, record=("x", "i_node"))
    return net, proto, max_step, ref


@pytest.mark.parametrize("name", list(STORED))
def test_stored_netlist_is_the_current_export(name):
    net, proto, max_step = _stored_case(name)
    text = to_spice(net, proto, dt=max_step, title=name, **SPICE)
    assert (DATA / f"{name}.cir").read_text() == text


@pytest.mark.parametrize("name", list(STORED))
def test_memsim_matches_stored_ngspice_trace(name):
    _, _, tol_x, tol_i = STORED[name]
    _, _, _, ref = _stored_run(name)
    with np.load(DATA / f"{name}.npz") as data:
        t, x, i_node = data["t"], data["x"], data["i_node"]
    np.testing.assert_allclose(ref.t, t, rtol=0, atol=1e-15)
    assert np.abs(ref.x - x).max() <= tol_x
    assert np.abs(ref.i_node - i_node).max() <= tol_i * np.abs(i_node).max()


@pytest.mark.slow
@pytest.mark.ngspice
@requires_ngspice
@pytest.mark.parametrize("name", list(STORED))
def test_ngspice_reproduces_stored_trace(name):
    net, proto, max_step, ref = _stored_run(name)
    spice = run_ngspice(net, proto, dt=max_step, t_eval=ref.t, record=("x", "i_node"), title=name, **SPICE)
    with np.load(DATA / f"{name}.npz") as data:
        # ngspice-39 reproduces the trace to ~1e-15; another version may place its steps
        # differently, within its truncation error (the memsim tolerance of the case)
        np.testing.assert_allclose(spice.x, data["x"], rtol=0, atol=STORED[name][2])


def regenerate() -> None:  # pragma: no cover - run by hand
    """Write tests/data/<case>.cir, .npz (ngspice trajectories) and print the provenance lines."""
    from memsim.spice import ngspice_version

    DATA.mkdir(exist_ok=True)
    for name in STORED:
        net, proto, max_step, ref = _stored_run(name)
        text = to_spice(net, proto, dt=max_step, title=name, **SPICE)
        (DATA / f"{name}.cir").write_text(text)
        spice = run_ngspice(net, proto, dt=max_step, t_eval=ref.t, record=("x", "i_node"), title=name, **SPICE)
        np.savez_compressed(DATA / f"{name}.npz", t=spice.t, x=spice.x, i_node=spice.i_node)
        dx = np.abs(spice.x - ref.x).max()
        print(f"{name}: {spice.t.size} samples, max |dx| memsim vs ngspice {dx:.2e}")
    print(f"{ngspice_version()}, {datetime.date.today().isoformat()}")


if __name__ == "__main__":  # pragma: no cover
    if sys.argv[1:] != ["--regenerate"]:
        sys.exit("usage: python tests/spice/test_crossval.py --regenerate")
    regenerate()
