"""Runaway sizes and silent waits in simulate (issue 13)."""

import numpy as np
import pytest

import memsim.solve.integrate as integ
from memsim import LinearIonDrift, Network, Segment, Sine, layered, prepare, simulate


def _pair():
    net = Network(LinearIonDrift(window="joglekar"))
    net.add_node("a", "input")
    net.add_edge("a", "b", x0=0.3)
    return net


@pytest.mark.parametrize(("duration", "dt"), [(2.0, 1e-300), (1e300, 1e-3)])
def test_absurd_step_counts_are_one_line_errors_naming_dt(duration, dt):
    # before: a numba TypingError (the step count overflowed int64) or a run that never ends
    with pytest.raises(ValueError, match=r"^dt = .* steps over the protocol's .* more than 1e\+12") as exc:
        simulate(_pair(), Segment(duration, drive={"a": 1.0}, ground=["b"]), dt=dt)
    assert "\n" not in str(exc.value)


def test_large_recording_is_decimated_by_default_and_refused_when_explicit():
    net = Network.from_graph(layered([2, 4, 2]))
    seg = Segment(1e-2, drive={("in", 0): 0.1}, ground=[("in", 1), ("out", 0), ("out", 1)])
    # 1e7 steps x (3 x 16 edge + 2 x 8 node + 1) quantities x 8 bytes = 5.2 GB if every step were recorded
    with pytest.warns(UserWarning, match="recording every step would need ~4.*MiB"):
        prep = prepare(net, seg, dt=1e-9)
    rec, work = integ.memory_estimate(prep.n_records, prep.record, 1, 16, 8)
    assert prep.record_every > 1 and rec + work <= integ.MAX_MEMORY
    with pytest.raises(ValueError, match="record_every .* max_memory"):
        prepare(net, seg, dt=1e-9, record_every=1)
    prep = prepare(net, seg, dt=1e-9, record_every=1, max_memory=8e9)  # the user raises the limit
    assert prep.n_records == 10**7 + 1
    with pytest.raises(ValueError, match="copies .* max_memory"):
        prepare(net, seg, dt=1e-3, ensemble=10**8)


def test_small_runs_record_every_step_as_before():
    res = simulate(_pair(), Segment(1e-3, drive={"a": 1.0}, ground=["b"]), dt=1e-4)
    assert res.t.size == 11


def test_progress_advances_within_a_segment(monkeypatch):
    updates = []

    class Bar:
        def __init__(self, total, **kw):
            self.total = total

        def update(self, n):
            updates.append(n)

        def close(self):
            pass

    import tqdm.auto

    monkeypatch.setattr(tqdm.auto, "tqdm", Bar)
    n = 3 * integ._STEP_BLOCK + 5
    simulate(_pair(), Segment(n * 1e-6, drive={"a": 1e-3}, ground=["b"]), dt=1e-6, progress=True,
             record=("x",), record_every=1000)
    assert len(updates) == 4 and sum(updates) == n  # four blocks of one segment, not one jump at the end


def test_blocks_do_not_change_the_numbers(monkeypatch):
    seg = Segment(2e-1, drive={"a": 1.0}, ground=["b"])
    a = simulate(_pair(), seg, dt=1e-6, record=("x",), record_every=997)
    monkeypatch.setattr(integ, "_STEP_BLOCK", 1 << 40)  # one block per segment, as before the change
    b = simulate(_pair(), seg, dt=1e-6, record=("x",), record_every=997)
    np.testing.assert_array_equal(a.x, b.x)  # identical doubles: blocks resume the same loop
    # sample times are block start + k h: the two sums may round differently, by one ulp at most
    np.testing.assert_allclose(a.t, b.t, rtol=4e-16, atol=0)


def test_under_resolved_periodic_drive_warns():
    seg = Segment(1e-2, drive={"a": Sine(1.0, 1e6)}, ground=["b"])
    with pytest.warns(UserWarning, match=r"under-resolves the 1e\+06 Hz sine .* aliased; use dt <= 1.25e-07 s"):
        simulate(_pair(), seg, dt=1e-3)
    simulate(_pair(), Segment(1e-2, drive={"a": Sine(1.0, 100.0)}, ground=["b"]), dt=1e-4)  # 100 steps/period: quiet
