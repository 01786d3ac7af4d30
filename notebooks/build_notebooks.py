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


ARRAYS = [
    new_markdown_cell(
        "# Synapse arrays: weights as memristor conductances\n\n"
        "A `SynapseArray` holds a weight matrix as conductances in a crossbar (differential pairs by\n"
        "default), reads it as bit-line currents (ideal wires or through their resistance, solved\n"
        "exactly) and writes it only by programming pulses, integrated through the device ODE or its\n"
        "fitted pulse response. The state is a plain array of device states."
    ),
    new_code_cell(
        "import os\n"
        "import numpy as np\n"
        "import matplotlib.pyplot as plt\n"
        "from memsim.arrays import (SynapseArray, UpdatePolicy, apply_update, initial_state, normalised,\n"
        "                           preset_array, program, read, weights, write_weights)\n"
        "from memsim.arrays.program import response_of\n"
        "QUICK = os.environ.get('MEMSIM_QUICK') == '1'"
    ),
    new_markdown_cell(
        "## Pulse response: device ODE against the fitted model\n\n"
        "1,000 identical pulses on one cell, integrated exactly (RK4 through the device model) and by\n"
        "the pulse-response model fitted from it. VTEAM moves its state by a constant step per pulse,\n"
        "so its conductance steps grow towards the ON bound; the metastable switch follows soft bounds."
    ),
    new_code_cell(
        "n = 300 if QUICK else 1000\n"
        "fig, axes = plt.subplots(1, 2, figsize=(10, 3.5), layout='constrained')\n"
        "for ax, name in zip(axes, ['vteam', 'gms']):\n"
        "    arr = preset_array(name, 1, 1)\n"
        "    exact = preset_array(name, 1, 1, write='exact')\n"
        "    s_r = s_e = np.full(arr.cell_shape, 0.001)\n"
        "    tr, te = [], []\n"
        "    for k in range(n):\n"
        "        p = np.array([[1 if k < 0.6 * n else -1, 0]])\n"
        "        s_r, s_e = program(arr, s_r, p), program(exact, s_e, p)\n"
        "        tr.append(normalised(arr, s_r)[0, 0]); te.append(normalised(arr, s_e)[0, 0])\n"
        "    ax.plot(te, lw=3, alpha=0.4, label='device ODE (exact)')\n"
        "    ax.plot(tr, 'k--', label=f'fitted {response_of(arr).up.family} model')\n"
        "    ax.set(title=name, xlabel='pulse', ylabel='normalised conductance')\n"
        "    ax.legend()\n"
        "    print(f'{name}: largest difference {np.abs(np.subtract(tr, te)).max():.1e}')"
    ),
    new_markdown_cell(
        "## Writing a weight matrix\n\n"
        "Program-and-verify writes targets into a VTEAM crossbar and into the soft-bounds resistive\n"
        "processing unit of Gokmen & Vlasov (2016), whose 30 % device spread leaves some targets out of\n"
        "reach of their cell."
    ),
    new_code_cell(
        "rng = np.random.default_rng(0)\n"
        "rows, cols = (16, 8) if QUICK else (64, 32)\n"
        "fig, axes = plt.subplots(1, 2, figsize=(10, 4), layout='constrained')\n"
        "for ax, name in zip(axes, ['vteam', 'rpu']):\n"
        "    arr = preset_array(name, rows, cols)\n"
        "    target = rng.uniform(-0.9, 0.9, arr.shape) * arr.w_max\n"
        "    res = write_weights(arr, initial_state(arr), target, seed=1)\n"
        "    ax.plot(target.ravel(), res.achieved.ravel(), '.', ms=3)\n"
        "    ax.plot([-arr.w_max, arr.w_max], [-arr.w_max, arr.w_max], 'k:', lw=1)\n"
        "    ax.set(title=f'{name}: {res.iterations} verify iterations', xlabel='target weight', ylabel='achieved')\n"
        "    err = res.error\n"
        "    print(f'{name}: |error| median {np.median(np.abs(err)):.1e}, 99th percentile {np.quantile(np.abs(err), 0.99):.1e}, '\n"
        "          f'{res.pulses.sum()} pulses')"
    ),
    new_markdown_cell(
        "## Open-loop updates: achieved against desired\n\n"
        "`apply_update` knows only the nominal step of one pulse at mid-range (as a chip's periphery\n"
        "would), so a nonlinear device makes the achieved change depend on where each weight sits."
    ),
    new_code_cell(
        "arr = preset_array('vteam', rows, cols)\n"
        "state = write_weights(arr, initial_state(arr), rng.uniform(-0.8, 0.8, arr.shape), seed=2).state\n"
        "desired = rng.normal(0, 0.05, arr.shape)\n"
        "res = apply_update(arr, state, desired, UpdatePolicy(rounding='stochastic'), seed=3)\n"
        "fig, ax = plt.subplots(figsize=(4.5, 3.5), layout='constrained')\n"
        "sc = ax.scatter(desired.ravel(), res.achieved.ravel(), c=weights(arr, state).ravel(), s=6, cmap='coolwarm')\n"
        "fig.colorbar(sc, label='weight before')\n"
        "ax.plot([-0.15, 0.15], [-0.15, 0.15], 'k:', lw=1)\n"
        "ax.set(xlabel='desired change', ylabel='achieved change');\n"
        "print(f'achieved / desired: slope {np.polyfit(desired.ravel(), res.achieved.ravel(), 1)[0]:.2f}')"
    ),
    new_markdown_cell(
        "## IR drop: read error against array size and wire resistance\n\n"
        "The same random weights read through wires of resistance `r_wire` per segment (exact nodal\n"
        "solution, one factorisation per batch) against the ideal product; relative RMS error of 64\n"
        "random inputs. VTEAM's 50 ohm ON state makes even 0.1 ohm segments matter in small arrays;\n"
        "the RPU cells (10 kohm and up) tolerate far larger arrays."
    ),
    new_code_cell(
        "sizes = [8, 16, 32] if QUICK else [8, 16, 32, 64, 128]\n"
        "fig, axes = plt.subplots(1, 2, figsize=(10, 3.5), layout='constrained', sharey=True)\n"
        "for ax, name in zip(axes, ['vteam', 'rpu']):\n"
        "    for r_wire in [0.1, 1.0, 10.0]:\n"
        "        errs = []\n"
        "        for n in sizes:\n"
        "            ideal = preset_array(name, n, n)\n"
        "            state = rng.uniform(0, 1, ideal.cell_shape)\n"
        "            x = rng.uniform(-1, 1, (64, n))\n"
        "            y0 = read(ideal, state, x)\n"
        "            y = read(preset_array(name, n, n, r_wire=r_wire), state, x)\n"
        "            errs.append(np.sqrt(np.mean((y - y0) ** 2) / np.mean(y0 ** 2)))\n"
        "        ax.loglog(sizes, errs, 'o-', label=f'{r_wire:g} ohm per segment')\n"
        "    g_off, g_on = ideal.g_range\n"
        "    ax.set(title=f'{name}: cells {1 / g_on:.0f}-{1 / g_off:.0f} ohm', xlabel='rows = weight columns')\n"
        "axes[0].set(ylabel='relative RMS read error')\n"
        "axes[1].legend();"
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
    write("04_synapse_arrays.ipynb", ARRAYS)
