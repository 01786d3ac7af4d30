"""Paired comparisons for the symmetry, contrast and network studies: one-sided test, effect size, interval.

Every comparison in those studies pairs two conditions on the same units
(the same hardware draw, the same pattern set): the effect is the mean
paired difference ``d = a - b``, its interval a seeded percentile bootstrap
over the units, its test the one-sided Wilcoxon signed-rank test of
``d > 0`` (``scipy.stats.wilcoxon``, zero differences dropped), and its
rank effect size the matched-pairs rank-biserial correlation
``(W+ - W-) / (W+ + W-)`` (Kerby 2014; +1: every nonzero difference positive).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import rankdata, wilcoxon


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
