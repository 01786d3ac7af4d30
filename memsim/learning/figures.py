"""Figures of training runs (matplotlib, imported lazily; every function takes ``ax=None``).

Kept beside the learning code because the CLI's ``memsim demo`` and the
experiments share them; they read only :class:`~memsim.learning.lfm.Training`
tables.
"""

from __future__ import annotations

import numpy as np

from memsim.learning.lfm import Training

__all__ = ["plot_learning_curve", "plot_power", "training_figure"]


def _axes(ax):
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(5, 3.5))
    return ax


def plot_learning_curve(training: Training, ax=None):
    """Fraction of copies that answer correctly, and that have learned, per era.

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
    ax.plot(eras, correct, "o-", label="correct answers")
    ax.plot(eras, learned, "s--", label="copies learned")
    ax.set_xlabel("era")
    ax.set_ylabel("fraction")
    ax.set_ylim(-0.05, 1.05)
    ax.legend(loc="lower right")
    return ax


def plot_power(training: Training, read_duration: float, ax=None):
    """Mean read power per presentation (W) for each pattern, over presentations.

    ``read_duration`` (s) converts the read energy to power.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from memsim import Network, layered, VTEAM
    >>> from memsim.learning import build_hardware, train, association, Controller
    >>> hw = build_hardware(Network.from_graph(layered([2, 4, 2], orientation="backward"), VTEAM()),
    ...                     n_copies=2, seed=0)
    >>> ax = plot_power(train(hw, association((0, 1)), Controller(max_eras=3)), 1e-9)
    >>> ax.get_yscale()
    'linear'
    """
    ax = _axes(ax)
    p = training.presentations
    for pat, grp in p.groupby("pattern"):
        mean = grp.groupby("n")["read_energy"].mean() / read_duration
        ax.plot(mean.index, mean.to_numpy() * 1e6, "o-", label=f"pattern {pat}")
    ax.set_xlabel("presentation of the copy")
    ax.set_ylabel("read power (uW)")
    ax.legend()
    return ax


def training_figure(training: Training, read_duration: float, title: str = ""):
    """Two panels: learning curve and read power per presentation. Returns the figure."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(9, 3.5), constrained_layout=True)
    plot_learning_curve(training, axes[0])
    plot_power(training, read_duration, axes[1])
    if title:
        fig.suptitle(title)
    return fig
