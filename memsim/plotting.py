"""Plots of simulation results (matplotlib is imported only when a function runs).

Every function takes ``ax=None`` (a new figure is made when omitted) and
returns the axes it drew on.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import TYPE_CHECKING

import numpy as np

from memsim.solve.result import Result

if TYPE_CHECKING:
    import pandas as pd

    from memsim.learning.lfm import Training

__all__ = [
    "plot_states",
    "plot_terminal_currents",
    "plot_iv",
    "summary_figure",
    "plot_network",
    "plot_controllability_spectrum",
    "plot_capacity_curve",
    "plot_sweep_heatmap",
    "plot_learning_curve",
    "plot_power",
    "power_table",
    "training_figure",
]


def _axes(ax):
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots()
    return ax


def _single(result: Result, name: str) -> np.ndarray:
    arr = result._get(name)
    return arr[:, 0] if result.ensemble else arr


#: Most state lines :func:`plot_states` draws by default; above it, an evenly spaced sample plus
#: the 10-50-90 % band of all devices (drawing 40,000 lines took most of a run's time).
MAX_STATE_LINES = 200


def plot_states(result: Result, edges: Sequence[int] | None = None, ax=None, max_lines: int = MAX_STATE_LINES):
    """Device states ``x(t)`` of the chosen edges (default: all memristors, first copy).

    With more than ``max_lines`` memristors and no ``edges`` given, draws
    ``max_lines`` evenly spaced devices (the title says how many and the
    spacing) over the shaded 10-90 % band and the median of all of them.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> from memsim import Network, LinearIonDrift, Segment, simulate
    >>> net = Network(LinearIonDrift()); net.add_node("a", "input"); _ = net.add_edge("a", "b")
    >>> res = simulate(net, Segment(0.1, drive={"a": 1.0}, ground=["b"]), dt=0.01)
    >>> ax = plot_states(res)
    """
    ax = _axes(ax)
    x = _single(result, "x")
    title = "device states"
    if edges is None:
        edges = np.flatnonzero(result.network.dynamic)
        if len(edges) > max_lines:
            step = -(-len(edges) // max_lines)
            lo, mid, hi = np.percentile(x[:, edges], [10, 50, 90], axis=1)
            ax.fill_between(result.t, lo, hi, color="0.85", label="10-90 % of all devices")
            ax.plot(result.t, mid, color="k", lw=1.5, label="median of all devices")
            title = f"device states: every {step}th of {len(edges):,} devices ({len(edges[::step])} drawn)"
            edges = edges[::step]
    for e in edges:
        ax.plot(result.t, x[:, e], lw=0.5 if title != "device states" else 1)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("state x")
    ax.set_ylim(-0.02, 1.02)
    ax.set_title(title)
    if title != "device states":
        ax.legend(fontsize="small", loc="best")
    return ax


def plot_terminal_currents(result: Result, nodes: Sequence[Hashable] | None = None, ax=None):
    """Currents delivered by the sources at ``nodes`` (default: outputs), first copy."""
    ax = _axes(ax)
    net = result.network
    if nodes is None:
        nodes = [net.node_names[i] for i in net.outputs]
    for n in nodes:
        cur = result.terminal_current(n)
        cur = cur[:, 0] if result.ensemble else cur
        ax.plot(result.t, cur, label=str(n))
    ax.set_xlabel("time (s)")
    ax.set_ylabel("current into network (A)")
    ax.set_title("terminal currents")
    if nodes:
        ax.legend(fontsize="small")
    return ax


def plot_iv(result: Result, edge: int = 0, ax=None):
    """Current against voltage of one device (pinched hysteresis for a memristor)."""
    ax = _axes(ax)
    ax.plot(_single(result, "v_edge")[:, edge], _single(result, "i_edge")[:, edge], lw=1)
    ax.set_xlabel("device voltage (V)")
    ax.set_ylabel("device current (A)")
    ax.set_title(f"I-V of edge {edge}")
    return ax


def summary_figure(result: Result, edge: int = 0):
    """Three panels: states, output currents, and one device's I-V loop."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8), layout="constrained")
    plot_states(result, ax=axes[0])
    plot_terminal_currents(result, ax=axes[1])
    plot_iv(result, edge=edge, ax=axes[2])
    return fig


def _layout(net) -> dict:
    """Node positions: by layer for layered/crossbar names, spring layout otherwise."""
    import networkx as nx

    names = net.node_names
    if all(isinstance(n, tuple) and n and n[0] in ("in", "h", "out") for n in names):
        pos = {}
        for n in names:
            col = 0 if n[0] == "in" else (n[1] if n[0] == "h" else 10**6)
            pos[n] = (col, -n[-1])
        cols = sorted({p[0] for p in pos.values()})
        rank = {c: i for i, c in enumerate(cols)}
        return {n: (rank[x], y) for n, (x, y) in pos.items()}
    if all(isinstance(n, tuple) and len(n) == 3 and n[0] in ("w", "b") for n in names):
        return {n: (n[2] + (0.3 if n[0] == "b" else 0.0), -n[1] - (0.3 if n[0] == "b" else 0.0)) for n in names}
    g = nx.Graph()
    g.add_nodes_from(names)
    g.add_edges_from((names[u], names[v]) for u, v in zip(net.edge_u, net.edge_v))
    return nx.spring_layout(g, seed=0)


def plot_network(network, x=None, open_edges=None, ax=None, cmap: str = "viridis"):
    """Draw a network with its memristors coloured by conductance (log scale).

    Resistors are thin grey lines, open (pruned) edges dashed light grey;
    inputs are drawn as triangles, outputs as squares, bulk nodes as dots.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> from memsim import Network, layered
    >>> ax = plot_network(Network.from_graph(layered([2, 4, 2]), x0="random", seed=0))
    """
    import matplotlib.pyplot as plt
    from matplotlib.colors import LogNorm

    from memsim.circuit.network import Network
    from memsim.devices import functions as fn

    ax = _axes(ax)
    net = network.compile() if isinstance(network, Network) else network
    x = net.x0 if x is None else np.asarray(x, dtype=float)
    open_ = np.zeros(net.n_edges, bool) if open_edges is None else np.asarray(open_edges, bool)
    g = fn.conductance(net.model, net.params, x)
    pos = _layout(net)
    names = net.node_names
    dyn = (net.model != 0) & ~open_
    norm = LogNorm(vmin=g[dyn].min(), vmax=g[dyn].max()) if dyn.any() and g[dyn].min() < g[dyn].max() else None
    cm = plt.get_cmap(cmap)
    for e in range(net.n_edges):
        (x1, y1), (x2, y2) = pos[names[net.edge_u[e]]], pos[names[net.edge_v[e]]]
        if open_[e]:
            ax.plot([x1, x2], [y1, y2], ls="--", color="0.85", lw=0.8, zorder=1)
        elif net.model[e] == 0:
            ax.plot([x1, x2], [y1, y2], color="0.6", lw=0.6, zorder=1)
        else:
            c = cm(norm(g[e])) if norm is not None else cm(0.5)
            ax.plot([x1, x2], [y1, y2], color=c, lw=1.8, zorder=2)
    markers = {0: ("o", "0.3"), 1: ("^", "tab:red"), 2: ("s", "tab:blue")}
    for role, (mk, col) in markers.items():
        pts = [pos[names[i]] for i in np.flatnonzero(net.roles == role)]
        if pts:
            px, py = zip(*pts)
            ax.scatter(px, py, marker=mk, color=col, s=40 if role else 12, zorder=3)
    if norm is not None:
        sm = plt.cm.ScalarMappable(norm=norm, cmap=cm)
        ax.figure.colorbar(sm, ax=ax, label="conductance (S)")
    ax.set_axis_off()
    return ax


def plot_controllability_spectrum(result, ax=None, label: str | None = None):
    """Singular values of a controllability Gramian, with the rank threshold.

    ``result`` is a :class:`memsim.analysis.controllability.Controllability`.
    """
    ax = _axes(ax)
    sv = np.asarray(result.singular_values)
    shown = np.where(sv > 0, sv, np.nan)
    ax.semilogy(np.arange(1, sv.size + 1), shown, "o-", ms=3,
                label=label or f"rank {result.rank}/{result.n_dynamic}")
    if result.tolerance > 0:
        ax.axhline(result.tolerance, color="0.5", ls=":", lw=1)
    ax.set_xlabel("index")
    ax.set_ylabel("Gramian singular value")
    ax.set_title("controllability spectrum")
    ax.legend(fontsize="small")
    return ax


def plot_capacity_curve(p, probability, low=None, high=None, ax=None, label: str | None = None,
                        threshold: float = 0.5):
    """Probability of learning a p-pattern set against p, with a confidence band.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> ax = plot_capacity_curve([1, 2, 3], [1.0, 0.7, 0.2], [0.9, 0.5, 0.1], [1.0, 0.85, 0.35])
    >>> ax.figure.canvas.draw(); [t.get_text() for t in ax.get_xticklabels()][1:4]
    ['1', '2', '3']
    """
    ax = _axes(ax)
    p = np.asarray(p)
    line = ax.plot(p, probability, "o-", label=label)[0]
    if low is not None and high is not None:
        ax.fill_between(p, low, high, color=line.get_color(), alpha=0.2, lw=0)
    ax.axhline(threshold, color="0.5", ls=":", lw=1)
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("patterns p")
    ax.set_ylabel("P(learned)")
    ax.set_ylim(-0.02, 1.02)
    ax.set_title("capacity")
    if label:
        ax.legend(fontsize="small")
    return ax


def plot_sweep_heatmap(table, x: str, y: str, value: str, ax=None, cmap: str = "magma"):
    """Heat map of a sweep output over two swept parameters (mean over other columns).

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import pandas as pd
    >>> t = pd.DataFrame({"a": [1, 1, 2, 2], "b": [0.1, 0.2, 0.1, 0.2], "out": [1.0, 2.0, 3.0, 4.0]})
    >>> ax = plot_sweep_heatmap(t, "a", "b", "out")
    """
    ax = _axes(ax)
    for col in (x, y, value):
        if col not in table.columns:
            raise ValueError(f"column {col!r} is not in the table (columns: {list(table.columns)})")
    grid = table.pivot_table(index=y, columns=x, values=value, aggfunc="mean")
    im = ax.imshow(grid.to_numpy(), origin="lower", aspect="auto", cmap=cmap)
    ax.set_xticks(range(grid.shape[1]), [f"{c:g}" if isinstance(c, float) else str(c) for c in grid.columns])
    ax.set_yticks(range(grid.shape[0]), [f"{c:g}" if isinstance(c, float) else str(c) for c in grid.index])
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    ax.figure.colorbar(im, ax=ax, label=value)
    return ax


# ------------------------------------------------------------------ training runs (memsim.learning.Training)


def plot_learning_curve(training: Training, ax=None):
    """Fraction of copies that answer correctly, and that have learned, per era.

    Both fractions are over all K copies: a copy that has stopped (learned)
    presents no more patterns and counts as correct in every later era (it
    made no mistake in its last era, and a stopped copy does not change).

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from memsim import Network, layered, VTEAM
    >>> from memsim.learning import build_hardware, train, association, Controller
    >>> hw = build_hardware(Network.from_graph(layered([2, 4, 2], orientation="backward"), VTEAM()),
    ...                     n_copies=2, seed=0)
    >>> ax = plot_learning_curve(train(hw, association((0, 1)), Controller(max_eras=5)))
    >>> ax.get_xlabel()
    'era'
    """
    ax = _axes(ax)
    p = training.presentations
    k = training.state.n_copies
    n_eras = max(int(training.state.era), 1)
    eras = np.arange(n_eras)
    correct = np.ones(n_eras)
    if len(p):
        # a copy that stopped makes no more mistakes: it counts as correct in later eras
        n_pat = int(p["slot"].max()) + 1
        per_era = p.groupby("era")["correct"].agg(["sum", "count"]).reindex(eras, fill_value=0)
        skipped = k * n_pat - per_era["count"].to_numpy()
        correct = (per_era["sum"].to_numpy() + skipped) / (k * n_pat)
    learned_era = np.asarray(training.state.learned_era)
    learned = np.array([(learned_era[learned_era >= 0] <= e).sum() / k for e in eras])
    ax.plot(eras, correct, "o-", label="correct answers (learned copies count as correct)")
    ax.plot(eras, learned, "s--", label="copies learned")
    ax.set_xlabel("era")
    ax.set_ylabel(f"fraction of all {k} copies")
    ax.set_ylim(-0.05, 1.05)
    ax.legend(loc="lower right", fontsize=8)
    return ax


def power_table(training: Training, read_duration: float) -> pd.DataFrame:
    """Mean read power per pattern and presentation of the copy, and how many copies each mean averages.

    Copies that have learned stop presenting patterns, so the mean at
    presentation ``n`` is over the copies still training then: one row per
    ``(pattern, n)`` with ``power`` (W, mean read energy / ``read_duration``)
    and ``copies`` (the number of copies it averages).

    Examples
    --------
    >>> from memsim import Network, layered, VTEAM
    >>> from memsim.learning import build_hardware, train, association, Controller
    >>> hw = build_hardware(Network.from_graph(layered([2, 4, 2], orientation="backward"), VTEAM()),
    ...                     n_copies=3, seed=0)
    >>> t = power_table(train(hw, association((0, 1)), Controller(max_eras=3)), 1e-9)
    >>> int(t["copies"].max()) <= 3
    True
    """
    import pandas as pd

    p = training.presentations
    g = p.groupby(["pattern", "n"])["read_energy"]
    out = g.agg(["mean", "size"]).reset_index()
    return pd.DataFrame({"pattern": out["pattern"], "n": out["n"], "power": out["mean"] / read_duration,
                         "copies": out["size"]})


def plot_power(training: Training, read_duration: float, ax=None):
    """Mean read power per presentation (µW) for each pattern, with the number of copies each point averages.

    ``read_duration`` (s) converts the read energy to power. The mean at a
    presentation is over the copies still training then (copies that learned
    present no more patterns); the thin lines on the right axis give how many
    copies that is (:func:`power_table`).

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from memsim import Network, layered, VTEAM
    >>> from memsim.learning import build_hardware, train, association, Controller
    >>> hw = build_hardware(Network.from_graph(layered([2, 4, 2], orientation="backward"), VTEAM()),
    ...                     n_copies=2, seed=0)
    >>> ax = plot_power(train(hw, association((0, 1)), Controller(max_eras=3)), 1e-9)
    >>> ax.get_yscale(), ax.get_ylabel().splitlines()
    ('linear', ['read power (µW)', 'mean over the copies still training'])
    """
    ax = _axes(ax)
    table = power_table(training, read_duration)
    twin = ax.twinx()
    for i, (pat, grp) in enumerate(table.groupby("pattern")):
        color = f"C{i}"
        ax.plot(grp["n"], grp["power"] * 1e6, "o-", color=color, label=f"pattern {pat}")
        twin.plot(grp["n"], grp["copies"], "-", color=color, lw=0.8, alpha=0.5)
    ax.set_xlabel("presentation of the copy")
    ax.set_ylabel("read power (µW)\nmean over the copies still training")
    twin.set_ylabel("copies averaged (thin lines)")
    twin.set_ylim(0, max(int(table["copies"].max()) if len(table) else 1, 1) * 1.05)
    ax.legend()
    return ax


def training_figure(training: Training, read_duration: float, title: str = ""):
    """Two panels: learning curve over all copies (:func:`plot_learning_curve`) and read power per
    presentation over the copies still training, with their number (:func:`plot_power`). Returns the figure."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(9, 3.5), constrained_layout=True)
    plot_learning_curve(training, axes[0])
    plot_power(training, read_duration, axes[1])
    if title:
        fig.suptitle(title)
    return fig
