"""Pruning: removing devices, by a hardware rule during training or by design before it.

Two kinds (DESIGN.md §3; Barrows, Lin, Caravelli & Chialvo 2024):

- **threshold pruning**, a hardware rule: a memristor driven below a
  conductance threshold breaks and becomes an open circuit for good. It is
  applied by :meth:`memsim.learning.hardware.Hardware.run` after every
  protocol (the controller never reads device states); the rule itself is
  :func:`threshold_pruned`.
- **structural pruning** before training: remove chosen edges, or a seeded
  random subset per copy (:func:`prune_edges`). Removing edges breaks the
  symmetry of a uniform layered network, whose hidden nodes are otherwise
  interchangeable.

An open edge has no conductance and a frozen state in :func:`memsim.simulate`,
so it carries no current.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

from memsim.devices import functions as fn

if TYPE_CHECKING:  # pragma: no cover
    from memsim.learning.hardware import Hardware

__all__ = ["threshold_pruned", "prune_edges"]

Seed = int | np.random.Generator | None


def threshold_pruned(
    model: np.ndarray,
    params: np.ndarray,
    x: np.ndarray,
    open_edges: np.ndarray,
    threshold: float,
    eligible: np.ndarray | None = None,
) -> np.ndarray:
    """Open edges after the threshold rule: ``open | (eligible & (g(x) < threshold))``.

    Parameters
    ----------
    model : (M,) model codes; params : (..., M, P); x : (..., M) states.
    open_edges : (..., M) bool, edges already open (they stay open).
    threshold : float
        Conductance (S) below which an eligible device opens.
    eligible : (M,) bool, optional
        Edges the rule applies to (default: every memristor, ``model != 0``).

    Examples
    --------
    >>> from memsim.devices.models import VTEAM
    >>> p = np.array([VTEAM().pack()] * 2)
    >>> threshold_pruned(np.array([2, 2]), p, np.array([0.0, 1.0]), np.zeros(2, bool), 1.5e-3).tolist()
    [True, False]
    """
    if not (isinstance(threshold, numbers.Real) and math.isfinite(threshold) and threshold >= 0):
        raise ValueError(f"threshold must be a finite conductance >= 0 S, got {threshold!r}")
    model = np.asarray(model)
    elig = (model != 0) if eligible is None else np.asarray(eligible, dtype=bool)
    g = fn.conductance(model, params, x)
    return np.asarray(open_edges, dtype=bool) | (elig & (g < threshold))


def prune_edges(
    hardware: "Hardware",
    edges: Sequence[int] | np.ndarray | None = None,
    *,
    fraction: float | None = None,
    n: int | None = None,
    seed: Seed = None,
) -> "Hardware":
    """Structural pruning before training: open chosen or random network edges.

    Give exactly one of ``edges`` (indices of network edges, opened in every
    copy, or a (K, M_net) bool mask per copy), ``n`` (that many distinct
    edges drawn per copy) or ``fraction`` (``round(fraction * M_net)`` edges
    per copy). Random draws are independent per copy and seeded.

    Returns a new :class:`~memsim.learning.hardware.Hardware`; device states
    are unchanged.

    Examples
    --------
    >>> from memsim import Network, layered, VTEAM
    >>> from memsim.learning.hardware import build_hardware
    >>> hw = build_hardware(Network.from_graph(layered([2, 4, 2], orientation="backward"), VTEAM()),
    ...                     n_copies=4, seed=0)
    >>> pruned = prune_edges(hw, n=2, seed=1)
    >>> pruned.open_edges.sum(axis=1).tolist()
    [2, 2, 2, 2]
    """
    given = [a is not None for a in (edges, fraction, n)]
    if sum(given) != 1:
        raise ValueError("prune_edges: give exactly one of edges, fraction or n")
    k, m_net = hardware.n_copies, hardware.n_devices
    mask = np.zeros((k, m_net), dtype=bool)
    if edges is not None:
        arr = np.asarray(edges)
        if arr.dtype == bool:
            if arr.shape not in ((m_net,), (k, m_net)):
                raise ValueError(f"prune_edges: an edge mask must have shape ({m_net},) or ({k}, {m_net}), got {arr.shape}")
            mask[:] = arr
        else:
            idx = arr.astype(np.int64).reshape(-1)
            if idx.size and (idx.min() < 0 or idx.max() >= m_net):
                raise ValueError(f"prune_edges: edges must be network edge indices in [0, {m_net}), got {idx.tolist()}")
            mask[:, idx] = True
    else:
        if fraction is not None:
            if not (isinstance(fraction, numbers.Real) and 0.0 <= fraction < 1.0):
                raise ValueError(f"prune_edges: fraction must be in [0, 1), got {fraction!r}")
            count = int(round(fraction * m_net))
        else:
            if isinstance(n, bool) or not isinstance(n, numbers.Integral) or not 0 <= n < m_net:
                raise ValueError(f"prune_edges: n must be an integer in [0, {m_net}), got {n!r}")
            count = int(n)
        rng = np.random.default_rng(seed)
        for c in range(k):
            mask[c, rng.choice(m_net, size=count, replace=False)] = True
    open_ = np.array(hardware.open_edges)
    open_[:, :m_net] |= mask
    open_.setflags(write=False)
    return replace(hardware, open_edges=open_)
