"""Plots of simulation results (matplotlib is imported only when a function runs).

Every function takes ``ax=None`` (a new figure is made when omitted) and
returns the axes it drew on.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence

import numpy as np

from memsim.solve.result import Result

__all__ = ["plot_states", "plot_terminal_currents", "plot_iv", "summary_figure"]


def _axes(ax):
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots()
    return ax


def _single(result: Result, name: str) -> np.ndarray:
    arr = result._get(name)
    return arr[:, 0] if result.ensemble else arr


def plot_states(result: Result, edges: Sequence[int] | None = None, ax=None):
    """Device states ``x(t)`` of the chosen edges (default: all memristors, first copy).

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
    if edges is None:
        edges = np.flatnonzero(result.network.dynamic)
    for e in edges:
        ax.plot(result.t, x[:, e], lw=1)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("state x")
    ax.set_ylim(-0.02, 1.02)
    ax.set_title("device states")
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
