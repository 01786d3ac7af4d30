"""Shared by the symmetry, contrast and network studies: the spread-hardware baseline and its statistics.

- :func:`modelling_choices`: the line every verdict prints;
- :func:`copy_circuit`: one copy of a :class:`memsim.learning.Hardware` as a
  circuit with that copy's own (spread) device parameters and without its
  opened devices, for the analysers that take a circuit;
- :func:`compare`: paired comparison (test, effect size, interval);
- :func:`spearman`: rank correlation with its interval.

Every paired comparison in those studies pairs two conditions on the same units
(the same hardware draw, the same pattern set): the effect is the mean
paired difference ``d = a - b``, its interval a seeded percentile bootstrap
over the units, its test the one-sided Wilcoxon signed-rank test of
``d > 0`` (``scipy.stats.wilcoxon``, zero differences dropped), and its
rank effect size the matched-pairs rank-biserial correlation
``(W+ - W-) / (W+ + W-)`` (Kerby 2014; +1: every nonzero difference positive).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from scipy.stats import norm, rankdata, spearmanr, wilcoxon


@dataclass(frozen=True)
class Paired:
    """Outcome of :func:`compare` (``a`` against ``b``)."""

    n: int  # pairs
    mean_a: float
    mean_b: float
    delta: float  # mean paired difference a - b
    low: float  # bootstrap interval of delta
    high: float
    w_plus: float  # Wilcoxon W+ (sum of the ranks of the positive differences)
    rank_biserial: float  # (W+ - W-) / (W+ + W-), 0 when every difference is 0
    p_value: float  # one-sided, a > b

    @classmethod
    def from_row(cls, row) -> "Paired":
        """From a row (namedtuple or mapping) of a table built from ``Paired.__dict__``."""
        get = row.get if isinstance(row, dict) else lambda k: getattr(row, k)
        return cls(**{k: get(k) for k in cls.__dataclass_fields__})

    def text(self, fmt: str = ".3f") -> str:
        """``a vs b (delta [low, high]), Wilcoxon W+ = .., rank-biserial r = .., one-sided p = .., n = ..``."""
        return (f"{self.mean_a:{fmt}} vs {self.mean_b:{fmt}} (difference {self.delta:+{fmt}}, 95 % CI "
                f"[{self.low:+{fmt}}, {self.high:+{fmt}}]; Wilcoxon W+ = {self.w_plus:.1f}, rank-biserial r = "
                f"{self.rank_biserial:+.2f}, one-sided p = {self.p_value:.2g}, n = {self.n} pairs)")


def bootstrap_mean_ci(d, *, seed: int, n_boot: int = 4000, confidence: float = 0.95) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean of ``d`` (resampling its entries; seeded)."""
    d = np.asarray(d, dtype=float)
    if d.size == 0:
        return float("nan"), float("nan")
    idx = np.random.default_rng(seed).integers(0, d.size, size=(n_boot, d.size))
    means = d[idx].mean(axis=1)
    tail = 50 * (1 - confidence)
    return float(np.percentile(means, tail)), float(np.percentile(means, 100 - tail))


def wilcoxon_greater(d) -> tuple[float, float, float]:
    """One-sided Wilcoxon signed-rank test of ``d > 0``: ``(W+, rank-biserial r, p)``.

    Zero differences are dropped (Wilcoxon's treatment). With no nonzero
    difference there is no evidence either way: ``(0, 0, 1.0)``.
    """
    d = np.asarray(d, dtype=float)
    nz = d[d != 0]
    if nz.size == 0:
        return 0.0, 0.0, 1.0
    ranks = rankdata(np.abs(nz))
    w_plus, w_minus = float(ranks[nz > 0].sum()), float(ranks[nz < 0].sum())
    p = float(wilcoxon(nz, alternative="greater").pvalue)
    return w_plus, (w_plus - w_minus) / (w_plus + w_minus), p


def compare(a, b, *, seed: int) -> Paired:
    """Paired comparison of ``a`` against ``b`` (equal-length arrays, one entry per unit)."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(f"a and b must be 1-D arrays of one shape, got {a.shape} and {b.shape}")
    d = a - b
    low, high = bootstrap_mean_ci(d, seed=seed)
    w_plus, r, p = wilcoxon_greater(d)
    return Paired(n=int(d.size), mean_a=float(a.mean()), mean_b=float(b.mean()), delta=float(d.mean()), low=low,
                  high=high, w_plus=w_plus, rank_biserial=r, p_value=p)


def modelling_choices(**extra) -> str:
    """The modelling choices every verdict of these studies depends on, plus ``extra`` (name=value)."""
    from memsim.learning import Pulses

    p = Pulses()
    base = (f"devices VTEAM with its published parameters; controller pulses memsim.learning.Pulses() defaults "
            f"(read {p.read_voltage:g} V, punish {p.punish_voltage:g} V x {p.punish_duration * 1e9:g} ns, normalise "
            f"{p.normalise_voltage:g} V x {p.normalise_duration * 1e9:g} ns); 50 ohm source resistance")
    return "modelling choices: " + base + "".join(f"; {k.replace('_', ' ')} {v}" for k, v in extra.items())


def copy_circuit(hw, k: int):
    """(circuit, states) of copy ``k`` of a Hardware: its own device parameters, its open edges removed."""
    keep = ~np.asarray(hw.open_edges[k])
    c = hw.circuit
    sub = replace(c, edge_u=c.edge_u[keep], edge_v=c.edge_v[keep], model=c.model[keep], params=hw.params[k][keep],
                  x0=hw.x[k][keep], devices=tuple(d for d, kp in zip(c.devices, keep) if kp))
    return sub, np.asarray(hw.x[k])[keep]


def spearman(x, y, confidence: float = 0.95) -> tuple[float, float, float, float]:
    """Spearman's rho of ``x`` and ``y`` with its interval: ``(rho, low, high, two-sided p)``.

    The interval is Fisher's z transform with the variance ``1.06 / (n - 3)``
    of Fieller, Hartley & Pearson (Biometrika 44, 470, 1957). A constant
    input has no rank correlation: ``(0, -1, 1, 1.0)``.
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if np.unique(x).size < 2 or np.unique(y).size < 2 or x.size < 4:
        return 0.0, -1.0, 1.0, 1.0
    res = spearmanr(x, y)
    rho = float(res.statistic)
    half = float(norm.ppf(0.5 + confidence / 2)) * np.sqrt(1.06 / (x.size - 3))
    z = np.arctanh(np.clip(rho, -0.999999, 0.999999))
    return rho, float(np.tanh(z - half)), float(np.tanh(z + half)), float(res.pvalue)
