"""Current-based leaky integrate-and-fire neurons: parameters, packing, closed-form dynamics.

Model (Wunderlich & Pehle, Sci. Rep. 11, 12829 (2021), eq. 1-2), for every
neuron ``i`` of a layer fed by presynaptic neurons ``j``::

    tau_mem dV_i/dt = -V_i + I_i
    tau_syn dI_i/dt = -I_i + tau_syn * sum_j W_ij sum_k delta(t - t_j^k)

so a presynaptic spike makes ``I_i`` jump by ``W_ij``. The membrane rests at
0; when ``V_i`` reaches ``threshold`` the neuron spikes, ``V_i`` is set to
``reset`` and held there for ``refractory`` seconds (the synaptic current
keeps integrating). Voltages and weights share one arbitrary unit (the
threshold is usually 1).

Two spiking modes:

- ``"ttfs"`` (time to first spike): one spike per neuron; after it the
  membrane is held for good (an infinite refractory period), as in the
  Yin-Yang setting of Pehle et al. (arXiv 2302.07141);
- ``"multi"``: any number of spikes, separated by the refractory period.

A layer with ``threshold = inf`` never spikes: a leaky-integrator read-out
whose membrane maximum can be trained (:mod:`memsim.snn.eventprop`).

Between events the dynamics are linear and solved in closed form
(:func:`propagate`); every neuron may have its own parameters (mismatch), so
the kernels read a packed ``(N, 5)`` table per layer (:func:`neuron_table`).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

__all__ = [
    "LIF",
    "Mode",
    "N_FIELDS",
    "TAU_MEM",
    "TAU_SYN",
    "THRESHOLD",
    "RESET",
    "REFRACTORY",
    "neuron_table",
    "layer_tables",
    "phi",
    "propagate",
]

Mode = Literal["ttfs", "multi"]
Seed = int | np.random.Generator | None

#: Columns of a packed neuron table.
TAU_MEM, TAU_SYN, THRESHOLD, RESET, REFRACTORY = 0, 1, 2, 3, 4
N_FIELDS = 5


def _finite_positive(name: str, value) -> float:
    if not (isinstance(value, numbers.Real) and math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
    return float(value)


@dataclass(frozen=True)
class LIF:
    """Nominal parameters of a layer of current-based LIF neurons.

    Examples
    --------
    >>> LIF().tau_mem, LIF(mode="multi", refractory=2e-6).refractory
    (1.2e-05, 2e-06)
    >>> LIF(tau_syn=-1.0)
    Traceback (most recent call last):
    ...
    ValueError: tau_syn must be a finite number > 0, got -1.0
    """

    tau_mem: float = 12e-6  # s, membrane time constant (BrainScaleS-2 Yin-Yang setting)
    tau_syn: float = 6e-6  # s, synaptic time constant
    threshold: float = 1.0  # V (the weights' unit); inf: a non-spiking read-out
    reset: float = 0.0  # V, membrane value after a spike (< threshold)
    refractory: float = 0.0  # s, hold time after a spike in "multi" mode (>= 0)
    mode: Mode = "ttfs"  # "ttfs": one spike per neuron; "multi": any number

    def __post_init__(self) -> None:
        _finite_positive("tau_mem", self.tau_mem)
        _finite_positive("tau_syn", self.tau_syn)
        if not (isinstance(self.threshold, numbers.Real) and self.threshold > 0):
            raise ValueError(f"threshold must be > 0 (inf for a non-spiking layer), got {self.threshold!r}")
        if not (isinstance(self.reset, numbers.Real) and math.isfinite(self.reset) and self.reset < self.threshold):
            raise ValueError(f"reset must be finite and below the threshold, got {self.reset!r}")
        if not (isinstance(self.refractory, numbers.Real) and self.refractory >= 0):
            raise ValueError(f"refractory must be >= 0 s, got {self.refractory!r}")
        if self.mode not in ("ttfs", "multi"):
            raise ValueError(f"mode must be 'ttfs' or 'multi', got {self.mode!r}")

    def pack(self) -> np.ndarray:
        """``[tau_mem, tau_syn, threshold, reset, refractory]``; ``"ttfs"`` packs ``refractory = inf``."""
        ref = math.inf if self.mode == "ttfs" else self.refractory
        return np.array([self.tau_mem, self.tau_syn, self.threshold, self.reset, ref], dtype=float)


def neuron_table(lif: LIF, n: int, *, mismatch: float = 0.0, seed: Seed = None) -> np.ndarray:
    """Packed ``(n, 5)`` parameter table of ``n`` neurons, optionally with mismatch.

    With ``mismatch = s > 0`` every neuron's ``tau_mem``, ``tau_syn`` and
    ``threshold`` are multiplied by independent log-normal factors
    ``exp(s z)``, ``z ~ N(0, 1)`` (fixed-pattern parameter spread of an
    analog chip); ``reset`` and ``refractory`` stay nominal.

    Examples
    --------
    >>> neuron_table(LIF(), 2)[:, :3].tolist()
    [[1.2e-05, 6e-06, 1.0], [1.2e-05, 6e-06, 1.0]]
    >>> t = neuron_table(LIF(), 1000, mismatch=0.05, seed=0)
    >>> bool(0.04 < np.log(t[:, 0] / 12e-6).std() < 0.06)
    True
    """
    if not (isinstance(n, numbers.Integral) and n >= 1):
        raise ValueError(f"n must be an integer >= 1, got {n!r}")
    if not (isinstance(mismatch, numbers.Real) and math.isfinite(mismatch) and mismatch >= 0):
        raise ValueError(f"mismatch must be a finite relative spread >= 0, got {mismatch!r}")
    table = np.tile(lif.pack(), (int(n), 1))
    if mismatch > 0:
        rng = np.random.default_rng(seed)
        table[:, :3] *= np.exp(mismatch * rng.standard_normal((int(n), 3)))
    return table


def _check_table(table: np.ndarray, n: int, layer: int) -> np.ndarray:
    t = np.ascontiguousarray(table, dtype=float)
    if t.shape != (n, N_FIELDS):
        raise ValueError(f"neurons[{layer}] must have shape ({n}, {N_FIELDS}), got {t.shape}")
    tm, ts, th, rs, rf = t.T
    if not (np.all(np.isfinite(tm)) and np.all(tm > 0)):
        raise ValueError(f"neurons[{layer}] tau_mem must be finite and > 0")
    if not (np.all(np.isfinite(ts)) and np.all(ts > 0)):
        raise ValueError(f"neurons[{layer}] tau_syn must be finite and > 0")
    if not np.all(th > 0):
        raise ValueError(f"neurons[{layer}] threshold must be > 0")
    if not (np.all(np.isfinite(rs)) and np.all(rs < th)):
        raise ValueError(f"neurons[{layer}] reset must be finite and below the threshold")
    if not np.all(rf >= 0):
        raise ValueError(f"neurons[{layer}] refractory must be >= 0")
    return t


def layer_tables(neurons, sizes: Sequence[int]) -> list[np.ndarray]:
    """One packed table per layer from ``neurons``: an :class:`LIF` (every layer), or a
    sequence with one :class:`LIF` or ``(N_l, 5)`` table per layer.

    Examples
    --------
    >>> [t.shape for t in layer_tables(LIF(), [3, 2])]
    [(3, 5), (2, 5)]
    >>> layer_tables([LIF()], [3, 2])
    Traceback (most recent call last):
    ...
    ValueError: neurons must give one entry per layer (2), got 1
    """
    if isinstance(neurons, LIF):
        return [neuron_table(neurons, n) for n in sizes]
    if isinstance(neurons, np.ndarray) or not isinstance(neurons, Sequence):
        raise ValueError("neurons must be an LIF or a sequence of one LIF or (N, 5) table per layer")
    if len(neurons) != len(sizes):
        raise ValueError(f"neurons must give one entry per layer ({len(sizes)}), got {len(neurons)}")
    return [neuron_table(x, n) if isinstance(x, LIF) else _check_table(x, n, i)
            for i, (x, n) in enumerate(zip(neurons, sizes))]


def phi(s, tau_mem, tau_syn):
    """``(exp(-s/tau_mem) - exp(-s/tau_syn)) / (1/tau_syn - 1/tau_mem)``, stable as the taus meet.

    It is the response of ``tau_mem V' = -V + I`` to ``I = exp(-s/tau_syn)``
    times ``tau_mem``; at ``tau_mem == tau_syn`` it is ``s exp(-s/tau)``.

    Examples
    --------
    >>> float(phi(1.0, 2.0, 1.0)), float((np.exp(-0.5) - np.exp(-1.0)) / 0.5)
    (0.4773024370823822, 0.4773024370823822)
    >>> float(phi(1.0, 1.0, 1.0)) == float(np.exp(-1.0))
    True
    """
    s, tm, ts = np.broadcast_arrays(*(np.asarray(a, dtype=float) for a in (s, tau_mem, tau_syn)))
    d = 1.0 / ts - 1.0 / tm
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(d != 0, -np.expm1(-s * d) / np.where(d != 0, d, 1.0), s)
    return np.exp(-s / tm) * ratio


def propagate(v, i, s, tau_mem, tau_syn):
    """State ``(V, I)`` after ``s`` seconds of free evolution from ``(v, i)`` (closed form).

    ``I(s) = i exp(-s/tau_syn)``, ``V(s) = v exp(-s/tau_mem) + (i/tau_mem) phi(s)``.

    Examples
    --------
    >>> v, i = propagate(0.0, 1.0, 1e-6, 2e-6, 1e-6)
    >>> round(float(v), 12), round(float(i), 12)
    (0.238651218541, 0.367879441171)
    """
    s = np.asarray(s, dtype=float)
    v_new = np.asarray(v) * np.exp(-s / tau_mem) + np.asarray(i) / tau_mem * phi(s, tau_mem, tau_syn)
    return v_new, np.asarray(i) * np.exp(-s / tau_syn)
