"""Time-to-event statistics for censored learning times: the stratified log-rank test.

How long a network takes to learn is a time to an event (the stop
criterion) observed only up to the era cap: copies still training at the cap
are *right-censored*. The Kaplan-Meier estimate of the survival function
``S(t) = P(not learned after t eras)`` and the two-sample log-rank test are
in scipy (``scipy.stats.ecdf`` of ``scipy.stats.CensoredData``,
``scipy.stats.logrank``); :func:`logrank_test` adds what the co-design
studies need beyond that: more than two groups, strata (compare groups
within each pattern set, so that the difficulty of the set cancels) and the
trend test over ordered groups (size, depth).

For each stratum and each distinct event time ``t`` with ``n_g`` copies of
group ``g`` still at risk (time ``>= t``) and ``d_g`` events at ``t``
(``n``, ``d`` the totals), the expected events under the null hypothesis of
equal hazards are ``E_g = n_g d / n`` and their covariance ::

    V_gh = d (n - d) / (n - 1) * (n_g / n) * (delta_gh - n_h / n)      (n > 1)

summed over times and strata (N. Mantel, Cancer Chemother. Rep. 50, 163,
1966; R. Peto & J. Peto, J. R. Stat. Soc. A 135, 185, 1972). With ``O_g``
the observed events, the k-sample statistic is ``(O - E)^T V^- (O - E)``
(generalised inverse, chi-square with ``rank V`` degrees of freedom); the
trend test with group scores ``w`` is ``z = w . (O - E) / sqrt(w^T V w)``,
standard normal under the null, positive when groups with larger scores
have more events than expected (here: learn sooner).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import chi2, norm

__all__ = ["LogRank", "logrank_test"]


@dataclass(frozen=True, eq=False)
class LogRank:
    """Outcome of :func:`logrank_test`.

    Attributes
    ----------
    groups : (G,) the distinct group labels, sorted.
    observed, expected : (G,) events per group, observed and expected under equal hazards.
    statistic : float, the k-sample chi-square statistic.
    df : int, its degrees of freedom (rank of the covariance, ``G - 1`` in general).
    pvalue : float, of the k-sample test.
    trend_z : float, the trend statistic (NaN without scores).
    trend_pvalue : float, its two-sided p-value (NaN without scores).
    """

    groups: np.ndarray
    observed: np.ndarray
    expected: np.ndarray
    statistic: float
    df: int
    pvalue: float
    trend_z: float = float("nan")
    trend_pvalue: float = float("nan")


def logrank_test(times, events, groups, *, strata=None, scores=None) -> LogRank:
    """Stratified k-sample log-rank test, with an optional trend test over ordered groups.

    Parameters
    ----------
    times : (N,) array of float
        Event or censoring time of each subject (finite).
    events : (N,) array of bool
        True where the event was observed, False where the time is censored.
    groups : (N,) array
        Group label of each subject (at least two distinct labels).
    strata : (N,) array, optional
        Stratum label of each subject; groups are compared within each
        stratum and the sums pooled (default: one stratum).
    scores : mapping label -> float or (G,) array in sorted label order, optional
        Group scores of the trend test (e.g. log device count).

    Returns
    -------
    LogRank

    Examples
    --------
    Group a learns at 1 and 4 (3 censored), group b at 2 and 2 (5 censored):

    >>> r = logrank_test([1, 3, 4, 2, 2, 5], [1, 0, 1, 1, 1, 0], list("aaabbb"))
    >>> r.observed.tolist(), r.expected.round(6).tolist(), round(r.statistic, 6)
    ([2.0, 2.0], [1.8, 2.2], 0.046512)
    """
    t = np.asarray(times, dtype=float)
    e = np.asarray(events)
    g = np.asarray(groups)
    n_obs = t.shape[0] if t.ndim == 1 else -1
    if t.ndim != 1 or e.shape != t.shape or g.shape != t.shape:
        raise ValueError(f"times, events and groups must be 1-D arrays of one length, got shapes "
                         f"{t.shape}, {e.shape}, {g.shape}")
    if not np.all(np.isfinite(t)):
        raise ValueError("times must be finite (give censored subjects their censoring time)")
    if e.dtype != bool and not np.all(np.isin(e, (0, 1))):
        raise ValueError("events must be booleans (True: event observed, False: censored)")
    e = e.astype(bool)
    s = np.zeros(n_obs, dtype=np.int64) if strata is None else np.unique(np.asarray(strata), return_inverse=True)[1]
    if s.shape != t.shape:
        raise ValueError(f"strata must have the shape of times {t.shape}, got {s.shape}")
    labels, gi = np.unique(g, return_inverse=True)
    k = labels.size
    if k < 2:
        raise ValueError(f"groups must have at least two distinct labels, got {labels.tolist()}")
    o = np.bincount(gi[e], minlength=k).astype(float)
    ex = np.zeros(k)
    v = np.zeros((k, k))
    for stratum in np.unique(s):
        sel = s == stratum
        ts, es, gs = t[sel], e[sel], gi[sel]
        for time in np.unique(ts[es]):
            at_risk = np.bincount(gs[ts >= time], minlength=k).astype(float)
            d_g = np.bincount(gs[(ts == time) & es], minlength=k).astype(float)
            n, d = at_risk.sum(), d_g.sum()
            frac = at_risk / n
            ex += d * frac
            if n > 1:
                v += d * (n - d) / (n - 1) * (np.diag(frac) - np.outer(frac, frac))
    diff = o - ex
    rank = int(np.linalg.matrix_rank(v)) if np.any(v) else 0
    stat = float(diff @ np.linalg.pinv(v) @ diff) if rank else 0.0
    p = float(chi2.sf(stat, rank)) if rank else 1.0
    z = p_z = float("nan")
    if scores is not None:
        w = (np.array([scores[lab] for lab in labels], dtype=float) if isinstance(scores, dict)
             else np.asarray(scores, dtype=float))
        if w.shape != (k,) or not np.all(np.isfinite(w)):
            raise ValueError(f"scores must give a finite score to each of the {k} groups {labels.tolist()}")
        var = float(w @ v @ w)
        z = float(w @ diff / np.sqrt(var)) if var > 0 else 0.0
        p_z = float(2 * norm.sf(abs(z))) if var > 0 else 1.0
    return LogRank(groups=labels, observed=o, expected=ex, statistic=stat, df=rank, pvalue=p,
                   trend_z=z, trend_pvalue=p_z)
