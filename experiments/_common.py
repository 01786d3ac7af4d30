"""Plumbing shared by the experiment scripts: command line, result files, verdict lines, a test.

Each experiment is a script with a frozen ``Config`` (full and ``--quick``
settings), ``run(cfg) -> {name: DataFrame}``, ``figure(res, cfg)`` and a
``report(res, cfg)`` that prints its summary and verdicts; :func:`main`
ties them together so every script has the same command line::

    python experiments/<name>.py [--quick] [--out results] [--workers N]

and writes ``<out>/<name>/<table>.csv`` for every table (before drawing the
figure, so a plotting failure loses no result) and the figure.
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import mannwhitneyu


def main(
    argv: list[str] | None,
    *,
    doc: str,
    name: str,
    full,
    quick,
    run: Callable[..., Mapping[str, pd.DataFrame]],
    figure: Callable,
    figure_file: str,
    report: Callable[[Mapping[str, pd.DataFrame], object], None],
    quick_help: str = "small settings (for CI)",
) -> int:
    """Parse ``[--quick] [--out DIR]``, run, write CSVs and the figure, print the report; return 0."""
    ap = argparse.ArgumentParser(description=doc.strip().splitlines()[0])
    ap.add_argument("--quick", action="store_true", help=quick_help)
    ap.add_argument("--out", default="results", help="results folder (default: results)")
    if hasattr(full, "workers"):
        ap.add_argument("--workers", type=int, default=1,
                        help="processes that train pattern sets in parallel (default 1; same numbers for any value)")
    args = ap.parse_args(argv)
    cfg = quick if args.quick else full
    if hasattr(full, "workers"):
        if args.workers < 1:
            ap.error(f"--workers must be >= 1, got {args.workers}")
        cfg = dataclasses.replace(cfg, workers=args.workers)
    t0 = time.perf_counter()
    res = run(cfg)
    folder = Path(args.out) / name
    folder.mkdir(parents=True, exist_ok=True)
    for key, df in res.items():
        df.to_csv(folder / f"{key}.csv", index=False)
    figure(res, cfg).savefig(folder / figure_file, dpi=110)
    print(f"{name}: {time.perf_counter() - t0:.1f} s -> {folder}")
    report(res, cfg)
    return 0


def claim_line(claim: str, supported: bool, evidence: str) -> str:
    """``claim <claim>: SUPPORTED|NOT SUPPORTED by memsim's numbers: <evidence>``."""
    return f"claim {claim}: {'SUPPORTED' if supported else 'NOT SUPPORTED'} by memsim's numbers: {evidence}"


def mann_whitney_greater(a, b) -> tuple[float, float]:
    """One-sided Mann-Whitney U test of ``a > b`` (``scipy.stats.mannwhitneyu``): ``(U, p)``.

    When every value of both samples is equal there is no evidence either
    way: ``(n_a n_b / 2, 1.0)`` (scipy would return p = 0.5 or warn).
    """
    a, b = np.asarray(a, float), np.asarray(b, float)
    if np.unique(np.concatenate([a, b])).size == 1:
        return float(a.size * b.size / 2), 1.0
    res = mannwhitneyu(a, b, alternative="greater")
    return float(res.statistic), float(res.pvalue)
