"""Write the notebooks of this folder from their cell sources (outputs stripped).

    python notebooks/build_notebooks.py

Notebooks are kept in git without outputs; CI executes them (tests/test_notebooks.py)
with MEMSIM_QUICK=1, which every notebook reads to shrink its work.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).parent

QUICKSTART = [
    new_markdown_cell(
        "# memsim quickstart: build, simulate, plot\n\n"
        "A 2-4-2 network of HP TiO2 memristors (linear ion drift, Joglekar window), driven by a sine\n"
        "on one input with the other input and both outputs grounded."
    ),
    new_code_cell(
        "import os\n"
        "import numpy as np\n"
        "import matplotlib.pyplot as plt\n"
        "from memsim import Network, LinearIonDrift, Segment, Sine, layered, simulate\n"
        "from memsim.plotting import plot_iv, plot_network, plot_states, plot_terminal_currents\n"
        "QUICK = os.environ.get('MEMSIM_QUICK') == '1'"
    ),
    new_code_cell(
        "net = Network.from_graph(layered([2, 4, 2]), LinearIonDrift(window='joglekar'), x0='random', seed=0)\n"
        "drive = Segment(2.0, drive={('in', 0): Sine(1.0, 1.0)}, ground=[('in', 1), ('out', 0), ('out', 1)])\n"
        "res = simulate(net, drive, dt=1e-2 if QUICK else 1e-3, method='rk4')\n"
        "res"
    ),
    new_markdown_cell("States, output currents and the pinched hysteresis loop of one device:"),
    new_code_cell(
        "fig, axes = plt.subplots(1, 3, figsize=(13, 3.5), layout='constrained')\n"
        "plot_states(res, ax=axes[0]); plot_terminal_currents(res, ax=axes[1]); plot_iv(res, edge=0, ax=axes[2]);"
    ),
    new_markdown_cell("The network before and after, edges coloured by conductance:"),
    new_code_cell(
        "fig, axes = plt.subplots(1, 2, figsize=(10, 3.5), layout='constrained')\n"
        "plot_network(net, ax=axes[0]); plot_network(net, x=res.x_final, ax=axes[1]);"
    ),
    new_markdown_cell("An ensemble of 100 copies with device-to-device spread advances together:"),
    new_code_cell(
        "from memsim import Variability\n"
        "ens = simulate(net, drive, dt=1e-2, ensemble=20 if QUICK else 100, variability=Variability(d2d=0.1), seed=1)\n"
        "spread = ens.x_final.std(axis=0)\n"
        "print(f'{ens.x_final.shape[0]} copies; spread of final states per device: {spread.min():.3f} .. {spread.max():.3f}')"
    ),
]

LEARNING = [
    new_markdown_cell(
        "# Learning from mistakes on the 2-4-2 network\n\n"
        "The setting of Barrows, Lin, Caravelli & Chialvo (2024): 2 inputs, a hidden layer of 4 nodes,\n"
        "2 outputs, threshold (VTEAM) devices. The controller reads a pattern, does nothing when the\n"
        "answer is right, and after a mistake punishes the wrong path and normalises. It never touches a\n"
        "device: every pulse is a `simulate` protocol on the terminals."
    ),
    new_code_cell(
        "import os\n"
        "import numpy as np\n"
        "import matplotlib.pyplot as plt\n"
        "from memsim import VTEAM, Network, association, build_hardware, layered, train\n"
        "from memsim.learning import Pulses\n"
        "from memsim.plotting import training_figure\n"
        "from memsim.plotting import plot_network\n"
        "QUICK = os.environ.get('MEMSIM_QUICK') == '1'\n"
        "K = 10 if QUICK else 50"
    ),
    new_code_cell(
        "net = Network.from_graph(layered([2, 4, 2], orientation='backward'), VTEAM())\n"
        "hw = build_hardware(net, n_copies=K, seed=0)\n"
        "out = train(hw, association((0, 1)))\n"
        "out"
    ),
    new_markdown_cell("Success, presentations needed, and the learning curve with the read power per presentation:"),
    new_code_cell(
        "print(f'learned: {out.success_rate:.0%} of {K} copies; presentations to learn: '\n"
        "      f'median {np.nanmedian(out.presentations_to_learn):.0f}, max {np.nanmax(out.presentations_to_learn):.0f}')\n"
        "training_figure(out, read_duration=Pulses().read_duration, title='2-4-2, association 0->0, 1->1');"
    ),
    new_markdown_cell("One copy before and after training (edges coloured by conductance):"),
    new_code_cell(
        "fig, axes = plt.subplots(1, 2, figsize=(10, 3.5), layout='constrained')\n"
        "m = net.n_edges\n"
        "plot_network(net, x=hw.x[0, :m], ax=axes[0]); axes[0].set_title('before')\n"
        "plot_network(net, x=out.hardware.x[0, :m], ax=axes[1]); axes[1].set_title('after');"
    ),
    new_code_cell(
        "assert out.success_rate >= 0.8, out.success_rate  # the paper's task is learned by most copies"
    ),
]

CODESIGN = [
    new_markdown_cell(
        "# Capacity and controllability across topologies\n\n"
        "A small sweep: layered networks of growing hidden width, with uniform device states\n"
        "(every hidden node interchangeable) or with the symmetry broken by a spread of states.\n"
        "For each we compute the structural capacity (rank of the terminal-response Jacobian)\n"
        "and the controllability rank of the device states through the controller's pulses."
    ),
    new_code_cell(
        "import os\n"
        "import numpy as np\n"
        "import pandas as pd\n"
        "import matplotlib.pyplot as plt\n"
        "from memsim import LinearIonDrift, Network, Segment, layered\n"
        "from memsim.analysis import controllability, node_orbits, spread_states, structural_capacity\n"
        "QUICK = os.environ.get('MEMSIM_QUICK') == '1'"
    ),
    new_code_cell(
        "def configurations(net, v=1.0, t=1e-3):\n"
        "    ins, outs = net.inputs, net.outputs\n"
        "    cfgs = [Segment(t, drive={i: v}, ground=[j for j in ins if j != i] + outs) for i in ins]\n"
        "    cfgs += [Segment(t, drive={i: -v for i in ins}, ground=[o]) for o in outs]\n"
        "    return cfgs\n"
        "\n"
        "rows = []\n"
        "for width in ([2, 3, 4] if QUICK else [2, 3, 4, 6, 8]):\n"
        "    for broken in (False, True):\n"
        "        net = Network.from_graph(layered([2, width, 2]), LinearIonDrift(window='joglekar'), x0=0.5)\n"
        "        x = spread_states(net.compile().x0, 0.1, seed=width) if broken else None\n"
        "        c = controllability(net, configurations(net), x=x)\n"
        "        s = structural_capacity(net, x=x)\n"
        "        rows.append(dict(width=width, broken=broken, devices=c.n_dynamic, rank=c.rank,\n"
        "                         normalised_rank=c.normalised_rank, io_rank=s.io_rank,\n"
        "                         orbits=len(node_orbits(layered([2, width, 2])))))\n"
        "table = pd.DataFrame(rows)\n"
        "table"
    ),
    new_code_cell(
        "fig, ax = plt.subplots(figsize=(5, 3.5), layout='constrained')\n"
        "for broken, grp in table.groupby('broken'):\n"
        "    ax.plot(grp.width, grp.normalised_rank, 'o-', label='spread states' if broken else 'uniform states')\n"
        "ax.set_xlabel('hidden width'); ax.set_ylabel('controllability rank / devices'); ax.legend();"
    ),
    new_markdown_cell(
        "Breaking the symmetry of the device states raises the controllability rank at every width:\n"
        "with interchangeable hidden nodes the terminals drive them identically."
    ),
    new_code_cell(
        "wide = table.pivot(index='width', columns='broken', values='rank')\n"
        "assert (wide[True] > wide[False]).all(), wide\n"
        "wide"
    ),
    new_markdown_cell(
        "## Empirical capacity\n\n"
        "`empirical_capacity` trains the learning-from-mistakes controller on random pattern sets of\n"
        "growing size p and estimates P(learned | p) with Wilson intervals; the capacity is the largest p\n"
        "learned with probability >= 1/2, and the mean number of learnable patterns is the sum of the\n"
        "probabilities. Here the 2-4-2 net of VTEAM devices at uniform states (x = 0.5) against random\n"
        "states (each set on its own seed). `experiments/codesign_*.py` run the full studies."
    ),
    new_code_cell(
        "from memsim import VTEAM\n"
        "from memsim.analysis import empirical_capacity\n"
        "from memsim.learning import Controller\n"
        "from memsim.plotting import plot_capacity_curve\n"
        "\n"
        "net = Network.from_graph(layered([2, 4, 2], orientation='backward'), VTEAM())\n"
        "kw = dict(tasks='random', n_sets=3 if QUICK else 16, copies=1, controller=Controller(max_eras=5 if QUICK else 12), seed=7)\n"
        "caps = {'uniform states': empirical_capacity(net, x0=0.5, **kw),\n"
        "        'random states': empirical_capacity(net, x0='random', **kw)}\n"
        "fig, ax = plt.subplots(figsize=(5, 3.5), layout='constrained')\n"
        "for label, res in caps.items():\n"
        "    plot_capacity_curve(res.p, res.probability, res.low, res.high, ax=ax, label=f'{label}: mean {res.mean_learnable:.2f}')\n"
        "ax.legend();\n"
        "caps['random states'].table()"
    ),
]


def write(name: str, cells) -> None:
    for i, cell in enumerate(cells):
        cell["id"] = f"cell-{i}"  # stable ids: rebuilding changes only what changed
    nb = new_notebook(cells=cells, metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
    nbformat.write(nb, HERE / name)


if __name__ == "__main__":
    write("01_quickstart.ipynb", QUICKSTART)
    write("02_learning_from_mistakes.ipynb", LEARNING)
    write("03_capacity_controllability.ipynb", CODESIGN)
