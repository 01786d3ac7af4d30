"""Write ``vteam-sweep.csv``: a synthetic I-V sweep of one VTEAM device, the README's "measurement".

The device (VTEAM of Kvatinsky et al. 2015 with r_on = 60 ohm, r_off = 1.2 kohm, k_off = 4e-4 m/s,
alpha_off = 1.5, the other parameters published ones) starts at x = 0.4 and is driven by a +-0.25 V
triangle of period 1 us for 2 us; the current is memsim.simulate's (RK4, 4 steps per sample) at 801
samples, plus Gaussian noise of 1 % of its RMS (seed 0). Run from the repository root:

    python examples/data/make_vteam_sweep.py

``tests/devices/test_readme_fit.py`` checks that the stored file is what this script writes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from memsim import PWL, VTEAM, Network, Segment, simulate

TRUE = VTEAM(r_on=60.0, r_off=1200.0, k_off=4e-4, alpha_off=1.5)
X0 = 0.4
PERIOD, AMPLITUDE, N, NOISE, SEED = 1e-6, 0.25, 801, 0.01, 0
HEADER = f"""# Synthetic measurement (examples/data/make_vteam_sweep.py): one VTEAM device,
# r_on = {TRUE.r_on:g} ohm, r_off = {TRUE.r_off:g} ohm, k_off = {TRUE.k_off:g} m/s, alpha_off = {TRUE.alpha_off:g},
# other parameters as published (Kvatinsky et al. 2015); x0 = {X0:g}; +-{AMPLITUDE:g} V triangle,
# period {PERIOD * 1e6:g} us; Gaussian current noise of {NOISE:.0%} of the RMS current (seed {SEED}).
"""


def make() -> str:
    """The CSV text."""
    t = np.linspace(0.0, 2 * PERIOD, N)
    corners = np.arange(9) * PERIOD / 4
    drive = PWL(tuple(corners), tuple(AMPLITUDE * np.tile([0.0, 1.0, 0.0, -1.0], 3)[:9]))
    net = Network(default_device=TRUE)
    net.add_node("a", "input")
    net.add_node("b", "output")
    net.add_edge("a", "b", x0=X0)
    res = simulate(net, Segment(t[-1], drive={"a": drive}, ground=["b"]), dt=(t[1] - t[0]) / 4, record=("i_edge",))
    i = res.i_edge[::4, 0]
    i = i + NOISE * np.sqrt(np.mean(i**2)) * np.random.default_rng(SEED).standard_normal(N)
    rows = "\n".join(f"{a:.10g},{b:.10g},{c:.10g}" for a, b, c in zip(t * 1e6, drive(t), i * 1e3))
    return HEADER + "t [us],v [V],i [mA]\n" + rows + "\n"


if __name__ == "__main__":
    (Path(__file__).parent / "vteam-sweep.csv").write_text(make())
