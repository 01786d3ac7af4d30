"""Plot functions draw what they are given (checked on the artists) and reject bad input."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from memsim import LinearIonDrift, Network, Segment, layered, simulate  # noqa: E402
from memsim.plotting import (  # noqa: E402
    plot_capacity_curve,
    plot_network,
    plot_states,
    plot_sweep_heatmap,
    summary_figure,
)


def test_network_drawing_marks_open_edges_dashed():
    net = Network.from_graph(layered([2, 4, 2]), LinearIonDrift(), x0="random", seed=0)
    op = np.zeros(16, bool)
    op[[1, 7, 9]] = True
    ax = plot_network(net, open_edges=op)
    dashed = [ln for ln in ax.lines if ln.get_linestyle() == "--"]
    assert len(dashed) == 3 and len(ax.lines) == 16


def test_states_and_summary_figure():
    net = Network.from_graph(layered([2, 2, 1]), LinearIonDrift(), x0=0.3)
    res = simulate(net, Segment(0.1, drive={("in", 0): 1.0}, ground=[("out", 0)]), dt=0.01)
    ax = plot_states(res)
    assert len(ax.lines) == 6
    np.testing.assert_array_equal(ax.lines[0].get_ydata(), res.x[:, 0])
    assert len(summary_figure(res).axes) == 3


def test_capacity_curve_band_and_heatmap_values():
    ax = plot_capacity_curve([1, 2, 3], [1.0, 0.6, 0.1], [0.9, 0.4, 0.0], [1.0, 0.8, 0.3])
    assert len(ax.collections) == 1  # the confidence band
    t = pd.DataFrame({"a": [1, 1, 2, 2, 2], "b": [0.1, 0.2, 0.1, 0.2, 0.2], "out": [1.0, 2.0, 3.0, 4.0, 6.0]})
    ax = plot_sweep_heatmap(t, "a", "b", "out")
    img = ax.images[0].get_array()
    np.testing.assert_array_equal(img, [[1.0, 3.0], [2.0, 5.0]])  # mean over repeated points
    with pytest.raises(ValueError, match="'nope'"):
        plot_sweep_heatmap(t, "a", "nope", "out")


def test_power_panel_says_how_many_copies_each_point_averages():
    from memsim import VTEAM
    from memsim.learning import Controller, association, build_hardware, train
    from memsim.plotting import plot_power, power_table

    hw = build_hardware(Network.from_graph(layered([2, 4, 2], orientation="backward"), VTEAM()), n_copies=6, seed=2)
    out = train(hw, association((0, 1)), Controller(max_eras=6))
    t = power_table(out, 1e-9)
    # reference: the controller's own per-copy presentation counter; a copy presents at n iff it made >= n presentations
    counts = t.groupby("n")["copies"].sum()
    made = np.asarray(out.state.presentations)
    np.testing.assert_array_equal(counts.to_numpy(), [(made >= n).sum() for n in counts.index])
    p = out.presentations
    last = t.iloc[-1]
    sel = p[(p["pattern"] == last["pattern"]) & (p["n"] == last["n"])]
    assert last["power"] == pytest.approx(sel["read_energy"].mean() / 1e-9, rel=1e-12)
    ax = plot_power(out, 1e-9)
    assert "µW" in ax.get_ylabel() and "still training" in ax.get_ylabel()
    twin = [a for a in ax.figure.axes if a is not ax][0]
    np.testing.assert_array_equal(twin.lines[0].get_ydata(), t.loc[t["pattern"] == t["pattern"].iloc[0], "copies"])
