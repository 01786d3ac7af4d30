"""State plots of large networks draw a sample (issue 13: 40,400 lines took 36 of 46 s)."""

import matplotlib

matplotlib.use("Agg")

from memsim import LinearIonDrift, Network, Segment, crossbar, simulate  # noqa: E402
from memsim.plotting import MAX_STATE_LINES, plot_states  # noqa: E402


def test_plot_states_samples_large_networks_and_says_so():
    net = Network.from_graph(crossbar(25, 20), LinearIonDrift(window="joglekar"), x0="random", seed=0)
    seg = Segment(1e-2, drive={n: 0.5 for n in net.inputs}, ground=net.outputs)
    res = simulate(net, seg, dt=1e-3, record=("x",))
    ax = plot_states(res)
    n_dev = 25 * 20
    step = -(-n_dev // MAX_STATE_LINES)  # every 3rd of 500 devices: 167 lines
    drawn = len(range(0, n_dev, step))
    assert len(ax.lines) == drawn + 1  # the sample plus the median of all devices
    assert ax.get_title() == f"device states: every {step}th of {n_dev} devices ({drawn} drawn)"
    ax_all = plot_states(res, max_lines=10_000)  # below the threshold: every device, as before
    assert len(ax_all.lines) == n_dev and ax_all.get_title() == "device states"
