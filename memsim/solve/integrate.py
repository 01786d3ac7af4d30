"""``simulate``: the one time-integration entry point."""

from __future__ import annotations

import math
import time
import warnings
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

import numpy as np

from memsim.circuit.network import CompiledNetwork, Network
from memsim.devices import functions as fn
from memsim.devices.models import MODEL_GMS, MODEL_RESISTOR
from memsim.devices.variability import Variability, cycle_factors, sample_devices
from memsim.solve import kernels as kn
from memsim.solve.adaptive import encode_drives
from memsim.solve.nodal import find_islands, solve_nodal
from memsim.solve.protocol import PWL, CompiledSegment, Segment, Sine, compile_protocol
from memsim.solve.result import RECORDABLE, Result
from memsim.solve.sparse import SolveStats, SparseElectrical
from memsim.solve.stepper import adaptive_python, integrate_python, numpy_rates, record_sample

__all__ = ["simulate", "prepare", "Prepared", "Method", "Solver", "MAX_STEPS", "MAX_MEMORY", "MIN_STEPS_PER_PERIOD"]

Method = Literal["euler", "heun", "rk4", "adaptive", "scipy"]
Solver = Literal["auto", "dense", "sparse", "numpy"]

#: Largest reduced system solved densely by ``solver="auto"``.
DENSE_MAX_NODES = 256
#: Fixed-step methods on the compiled sparse path: from this many free nodes up to
#: ``DENSE_MAX_NODES``, ``solver="auto"`` is dense only when the reduced system has more than
#: ``_DENSE_MIN_ENTRIES`` entries per row (layered networks). Sparse graphs such as crossbars
#: with wires are faster on the compiled sparse path there (measured: equal at 60 free nodes,
#: 2x at 112, 6.6x at 264), layered ones about equal at 128.
_SPARSE_MIN_NODES = 64
_DENSE_MIN_ENTRIES = 16
#: Ensembles of at least this many copies spread their copies over threads.
_PARALLEL_MIN_COPIES = 8
#: Bound on the elements of one block of time-dependent drive voltages.
_DRIVE_BLOCK = 1 << 21
#: Steps per call of a compiled kernel with a constant drive (the progress bar advances per call).
_STEP_BLOCK = 1 << 16
#: Most time steps one simulation may take (a day or more of computing even for one device):
#: a ``dt`` typed a few orders of magnitude too small is refused instead of running for ever.
MAX_STEPS = 10**12
#: Default limit (bytes) on the memory of the recorded samples and the per-copy arrays
#: (``max_memory`` raises it). Recordings larger than this are decimated when ``record_every``
#: is left to its default, refused when it is given.
MAX_MEMORY = 2**30
#: A periodic drive with fewer steps than this per period is under-resolved: a warning says so.
MIN_STEPS_PER_PERIOD = 8


def _as_compiled(network) -> CompiledNetwork:
    if isinstance(network, CompiledNetwork):
        return network
    if isinstance(network, Network):
        return network.compile()
    raise TypeError(f"network must be a Network or CompiledNetwork, got {type(network).__name__}")


def _copies(name: str, arr, trailing: tuple[int, ...], k: int | None) -> tuple[np.ndarray | None, int | None]:
    """Check an optional per-copy array; return it with a leading copy axis."""
    if arr is None:
        return None, k
    a = np.asarray(arr)
    if a.shape == trailing:
        return a[None], k
    if a.ndim == len(trailing) + 1 and a.shape[1:] == trailing:
        if k is not None and a.shape[0] != k:
            raise ValueError(f"{name} has {a.shape[0]} copies but the ensemble has {k}")
        return a, a.shape[0]
    raise ValueError(f"{name} must have shape {trailing} or (K,) + {trailing}, got {a.shape}")


#: Node slots already computed, per compiled network: {(open row, driven): (slots, n_free)}. A memo
#: of a pure function (learning loops repeat a few terminal configurations thousands of times).
_SLOT_MEMO: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_SLOT_MEMO_MAX = 4096


def _slot_row(net: CompiledNetwork, row: np.ndarray, driven: np.ndarray) -> tuple[np.ndarray, int]:
    memo = _SLOT_MEMO.setdefault(net, {})
    key = (row.tobytes(), driven.tobytes())
    hit = memo.get(key)
    if hit is None:
        island = find_islands(net.n_nodes, net.edge_u, net.edge_v, ~row, driven, net.leak)
        s = np.full(net.n_nodes, kn.SLOT_ISLAND, dtype=np.int64)
        s[driven] = kn.SLOT_DRIVEN
        free = np.flatnonzero(~island & (s != kn.SLOT_DRIVEN))
        s[free] = np.arange(free.size)
        s.setflags(write=False)
        if len(memo) >= _SLOT_MEMO_MAX:
            memo.clear()
        hit = memo[key] = (s, int(free.size))
    return hit


def _slots(net: CompiledNetwork, open_: np.ndarray, driven: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Node slots (K, N) and reduced-system sizes (K,) for one configuration."""
    n_copies = open_.shape[0]
    slot = np.empty((n_copies, net.n_nodes), dtype=np.int64)
    n_free = np.empty(n_copies, dtype=np.int64)
    driven = np.ascontiguousarray(driven, dtype=np.int64)
    if not open_.any():  # the common case: one configuration for every copy
        s, nf = _slot_row(net, open_[0], driven)
        slot[:] = s
        n_free[:] = nf
        return slot, n_free
    uniq, inverse = np.unique(open_, axis=0, return_inverse=True)
    for j, row in enumerate(uniq):
        s, nf = _slot_row(net, np.ascontiguousarray(row), driven)
        sel = inverse.reshape(-1) == j
        slot[sel] = s
        n_free[sel] = nf
    return slot, n_free


def _auto_engine(net: CompiledNetwork, open_: np.ndarray, slot: np.ndarray, n_free: np.ndarray, method: str,
                 factor_backend: str, stochastic: bool) -> str:
    """The engine of ``solver="auto"`` for one segment (see ``DENSE_MAX_NODES``)."""
    nf = int(n_free.max())
    if nf > DENSE_MAX_NODES:
        return "sparse"
    compiled_sparse = method in kn.METHODS and factor_backend == "auto" and not stochastic
    if nf < _SPARSE_MIN_NODES or not compiled_sparse:
        return "dense"
    c = int(np.argmax(n_free))
    s_u, s_v = slot[c][net.edge_u], slot[c][net.edge_v]
    entries = 2 * np.count_nonzero(~open_[c] & (s_u >= 0) & (s_v >= 0)) + nf  # at most, L_FF
    return "dense" if entries > _DENSE_MIN_ENTRIES * nf else "sparse"


def _stage_offsets(method: str) -> np.ndarray:
    return {"euler": np.array([0.0]), "heun": np.array([0.0, 1.0]), "rk4": np.array([0.0, 0.5, 1.0])}[method]


def simulate(
    network: Network | CompiledNetwork,
    protocol: Segment | Sequence[Segment],
    *,
    dt: float,
    method: Method = "rk4",
    x0: np.ndarray | None = None,
    params: np.ndarray | None = None,
    ensemble: int | None = None,
    open_edges: np.ndarray | None = None,
    variability: Variability | None = None,
    seed: int | np.random.Generator | None = None,
    record_every: int | None = None,
    record: Sequence[str] = RECORDABLE,
    solver: Solver = "auto",
    low_rank_max: int = 16,
    refine_max: int = 10,
    factor_backend: str = "auto",
    rtol: float = 1e-8,
    atol: float = 1e-10,
    ivp_method: str = "RK45",
    max_step: float | None = None,
    t0: float = 0.0,
    progress: bool = False,
    max_memory: float = MAX_MEMORY,
) -> Result:
    """Integrate the device states of a network through a protocol.

    Each segment is integrated on its own uniform grid: ``n = ceil(duration /
    dt)`` steps of ``h = duration / n <= dt``, so no step straddles a segment
    boundary. Fixed-step schemes (``"euler"``, ``"heun"``, ``"rk4"``) run in
    compiled kernels (dense networks) or around a sparse solver that reuses
    its symbolic analysis and applies low-rank updates when few devices change
    (large networks). ``"adaptive"`` chooses its own steps: the embedded
    Bogacki–Shampine 3(2) pair with a PI controller and location of threshold
    and bound crossings (:mod:`memsim.solve.adaptive`), compiled for dense
    networks with constant, :class:`Sine` and :class:`PWL` drives, else the
    same algorithm around the electrical solve in NumPy; samples stay on the
    ``dt`` grid (interpolated) and the dissipated energy is integrated along
    the steps (:meth:`Result.energy`). ``"scipy"`` runs
    :func:`scipy.integrate.solve_ivp` (``ivp_method``), the reference the
    adaptive kernel is tested against. States are kept in ``[0, 1]``: rates
    pushing out at a bound are zeroed and every step is clipped.

    Parameters
    ----------
    network : Network or CompiledNetwork
    protocol : Segment or sequence of Segment
    dt : float
        Largest step (s); for ``"adaptive"`` and ``"scipy"``, the sampling interval.
    method : {"euler", "heun", "rk4", "adaptive", "scipy"}
    x0 : (M,) or (K, M) array, optional
        Initial states (default: the network's). A leading axis of ``K``
        copies makes an ensemble run.
    params : (M, P) or (K, M, P) array, optional
        Packed device parameters overriding the network's.
    ensemble : int, optional
        Number of copies ``K`` (implied by the shape of ``x0``/``params``/``open_edges``).
    open_edges : (M,) or (K, M) bool array, optional
        Open (pruned) edges: no conductance, frozen state.
    variability : Variability, optional
        Device spread, cycle-to-cycle noise and stuck devices, drawn with ``seed``.
    seed : int or Generator, optional
        Seeds every random draw of the run (variability, stochastic switches).
    record_every : int, optional
        Record every n-th step (and the final state). Default 1, unless the
        recording would exceed ``max_memory``: then it is decimated to fit,
        with a warning saying how.
    record : sequence of str
        Quantities to record, a subset of ``("x", "i_edge", "v_edge", "v_node",
        "i_node", "power")``.
    solver : {"auto", "dense", "sparse", "numpy"}
        Electrical solve: compiled dense Cholesky, sparse factorisation, or the
        plain NumPy reference (slow; for testing). ``"auto"`` picks dense up to
        ``DENSE_MAX_NODES`` free nodes, except for fixed-step methods on sparse
        graphs of 64 or more free nodes (crossbars with wires): sparse. The
        sparse path of the fixed-step methods is compiled (its own ``L D L^T``
        in numba, :mod:`memsim.solve.sparse_step`) when ``factor_backend`` is
        ``"auto"`` and no device is stochastic; otherwise it runs in Python
        around CHOLMOD or SuperLU (:class:`memsim.solve.sparse.SparseElectrical`).
    low_rank_max : int
        Sparse path: most changed devices handled by a Woodbury update.
    refine_max : int
        Sparse path: when more devices changed, passes of iterative refinement
        on the last factorisation (to a correction below 1e-12 of the
        solution) before refactorising; 0 refactorises every solve.
    factor_backend : str
        Sparse path: ``"auto"``, ``"cholmod"`` or ``"splu"``.
    rtol, atol : float
        ``"adaptive"``/``"scipy"``: relative and absolute tolerances on the
        device states (local error per step, weighted RMS norm).
    ivp_method : str
        ``"scipy"``: the :func:`scipy.integrate.solve_ivp` method.
    max_step : float, optional
        ``"adaptive"``: largest step (s); default: a whole segment.
    t0 : float
        Start time (s); waveforms see absolute time.
    progress : bool
        Show a tqdm progress bar of the steps (it advances within a segment,
        every 65,536 steps or drive block).
    max_memory : float
        Limit in bytes on the recorded samples plus the per-copy arrays
        (default :data:`MAX_MEMORY`, 1 GiB), estimated before anything is
        allocated. Past it, a default ``record_every`` is raised to fit; an
        explicit one, or per-copy arrays alone past the limit, raise
        ``ValueError``.

    Returns
    -------
    Result

    Examples
    --------
    >>> from memsim import Network, LinearIonDrift, Segment, Sine, simulate
    >>> net = Network(default_device=LinearIonDrift())
    >>> net.add_node("a", "input"); net.add_node("b", "output")
    >>> _ = net.add_edge("a", "b", x0=0.1)
    >>> res = simulate(net, Segment(1.0, drive={"a": Sine(1.0, 1.0)}, ground=["b"]), dt=1e-3)
    >>> res.x.shape
    (1001, 1)
    """
    net = _as_compiled(network)
    m = net.n_edges
    if ensemble is not None and not (isinstance(ensemble, (int, np.integer)) and ensemble >= 1):
        raise ValueError(f"ensemble must be an integer >= 1, got {ensemble!r}")
    k = ensemble
    x0a, k = _copies("x0", x0, (m,), k)
    pa, k = _copies("params", params, net.params.shape, k)
    _, k = _copies("open_edges", open_edges, (m,), k)
    prep = prepare(net, protocol, dt=dt, method=method, ensemble=k, open_edges=open_edges,
                   record_every=record_every, record=record, solver=solver, low_rank_max=low_rank_max,
                   max_memory=max_memory,
                   refine_max=refine_max,
                   factor_backend=factor_backend, rtol=rtol, atol=atol, ivp_method=ivp_method,
                   max_step=max_step, t0=t0, progress=progress)
    return prep.run(x0a, params=pa, variability=variability, seed=seed)


@dataclass(frozen=True, eq=False)
class Prepared:
    """A protocol resolved against a network, ready to run many times.

    Made by :func:`prepare`; :meth:`run` integrates it from given initial
    states. Everything that does not depend on the states (validation,
    protocol compilation, node slots, constant drive arrays) is done once,
    so repeated short runs (e.g. the presentations of a learning loop) pay
    little more than the compiled kernel.
    """

    network: CompiledNetwork
    segments: tuple
    steps: tuple
    slots: tuple
    engines: tuple
    drives: tuple
    open_edges: np.ndarray
    still: np.ndarray
    params: np.ndarray
    stoch: np.ndarray
    n_copies: int
    ensemble: bool
    method: str
    record: tuple
    record_every: int
    n_records: int
    t0: float
    options: Mapping[str, object]
    progress: bool

    def run(
        self,
        x0: np.ndarray | None = None,
        *,
        params: np.ndarray | None = None,
        variability: Variability | None = None,
        seed: int | np.random.Generator | None = None,
    ) -> Result:
        """Integrate from states ``x0`` ((M,) or (K, M); default: the network's).

        ``params``, ``variability`` and ``seed`` are as in :func:`simulate`.

        Examples
        --------
        >>> from memsim import Network, LinearIonDrift, Segment
        >>> net = Network(LinearIonDrift()); net.add_node("a", "input"); _ = net.add_edge("a", "b", x0=0.2)
        >>> prep = prepare(net, Segment(1e-3, drive={"a": 1.0}, ground=["b"]), dt=1e-4)
        >>> [round(float(prep.run(np.array([x])).x_final[0]), 6) for x in (0.2, 0.5)]
        [0.20078, 0.501244]
        """
        wall = time.perf_counter()
        net, k = self.network, self.n_copies
        m = net.n_edges
        if x0 is None:
            x = np.array(np.broadcast_to(net.x0, (k, m)))
        else:
            x0 = np.asarray(x0, dtype=float)
            if x0.shape not in ((m,), (k, m)):
                raise ValueError(f"x0 must have shape ({m},) or ({k}, {m}), got {x0.shape}")
            x = np.array(np.broadcast_to(x0, (k, m)))
        if not np.all((x >= 0) & (x <= 1)):
            bad = np.argwhere(~((x >= 0) & (x <= 1)))[0]
            raise ValueError(f"x0 must be finite and in [0, 1]; x0[{tuple(int(b) for b in bad)}] = {x[tuple(bad)]!r}")
        if params is None:
            prm = self.params
        else:
            params = np.asarray(params, dtype=float)
            if params.shape not in (net.params.shape, (k,) + net.params.shape):
                raise ValueError(f"params must have shape {net.params.shape} or {(k,) + net.params.shape}, got {params.shape}")
            prm = np.ascontiguousarray(np.broadcast_to(params, (k,) + net.params.shape))
            if not np.all(np.isfinite(prm)):
                raise ValueError("params must be finite")
        var = _NO_VARIABILITY if variability is None else variability
        random = var != _NO_VARIABILITY or bool(self.stoch.any())
        # a Generator only when something is drawn (creating one unseeded reads OS entropy)
        rng = np.random.default_rng(seed) if random else None
        still = self.still
        if var != _NO_VARIABILITY:
            sample = sample_devices(net.model, prm, k, var, rng)
            prm = sample.params
            x = np.where(sample.stuck, sample.stuck_state, x)
            still = still | sample.stuck
        n_rec = self.n_records
        shapes = {"x": (k, m), "i_edge": (k, m), "v_edge": (k, m), "v_node": (k, net.n_nodes),
                  "i_node": (k, net.n_nodes), "power": (k,)}
        bufs = {q: np.full((n_rec,) + shapes[q], np.nan) if q in self.record else _EMPTY[q](k, m, net.n_nodes)
                for q in RECORDABLE}
        rec_t = np.empty(n_rec)
        rec_seg = np.empty(n_rec, dtype=np.int64)
        stats = SolveStats()
        opts = self.options
        bar = None
        if self.progress:
            from tqdm.auto import tqdm

            bar = tqdm(total=sum(self.steps), unit="step", desc="simulate")
        t_start, step0, r = self.t0, 0, 0
        n_seg = len(self.segments)
        energy = np.zeros(k)
        counts = np.zeros((k, 5), dtype=np.int64)
        for idx in range(n_seg):
            seg, n_steps, (slot, n_free), engine = self.segments[idx], self.steps[idx], self.slots[idx], self.engines[idx]
            h = seg.duration / n_steps
            scale = cycle_factors(net.model, k, var.c2c, rng)
            last = idx == n_seg - 1
            r0 = r
            if self.method == "adaptive":
                r += _adaptive_segment(net, seg, engine, x, prm, scale, still, self.stoch, self.open_edges,
                                       slot, n_free, t_start, h, n_steps, step0, self.record_every, r, last,
                                       rec_t, bufs, stats, opts, energy, counts)
                if bar is not None:
                    bar.update(n_steps)
            elif self.method == "scipy":
                r += _scipy_segment(net, seg, engine, x, prm, scale, still, self.open_edges, slot, n_free,
                                    t_start, h, n_steps, step0, self.record_every, r, last,
                                    rec_t, bufs, stats, opts)
                if bar is not None:
                    bar.update(n_steps)
            else:
                r += _fixed_segment(net, seg, engine, self.method, x, prm, scale, still, self.stoch,
                                    self.open_edges, slot, n_free, t_start, h, n_steps, step0,
                                    self.record_every, r, last, rec_t, bufs, stats, rng, opts,
                                    self.drives[idx], None if bar is None else bar.update)
            rec_seg[r0:r] = idx
            t_start += seg.duration
            step0 += n_steps
        if bar is not None:
            bar.close()
        if r != n_rec:  # pragma: no cover - an internal invariant
            raise RuntimeError(f"internal error: wrote {r} samples, expected {n_rec}")
        stats_d = stats.as_dict()
        stats_d.update(steps=sum(self.steps), copies=k, engine="+".join(sorted(set(self.engines))),
                       method=self.method, wall_time=time.perf_counter() - wall)
        status = "success"
        dissipated = None
        if self.method == "adaptive":
            dissipated = energy
            stats_d.update(steps=int(counts[:, 1].sum()), rejected=int(counts[:, 2].sum()),
                           events=int(counts[:, 3].sum()))
            if counts[:, 4].any():
                bad = np.flatnonzero(counts[:, 4])
                status = (f"step size underflow in copies {bad.tolist()[:10]}: the tolerances rtol={self.options['rtol']}"
                          f", atol={self.options['atol']} cannot be met; states after it are not integrated")
        ens = self.ensemble
        return Result(
            t=rec_t,
            segment=rec_seg,
            x_final=x if ens else x[0],
            network=net,
            labels=tuple(sg.label for sg in self.segments),
            ensemble=ens,
            stats=stats_d,
            status=status,
            dissipated=dissipated,
            **{q: (bufs[q] if ens else bufs[q][:, 0]) for q in self.record},
        )


_NO_VARIABILITY = Variability()


_EMPTY = {
    "x": lambda k, m, n: np.empty((0, k, m)),
    "i_edge": lambda k, m, n: np.empty((0, k, m)),
    "v_edge": lambda k, m, n: np.empty((0, k, m)),
    "v_node": lambda k, m, n: np.empty((0, k, n)),
    "i_node": lambda k, m, n: np.empty((0, k, n)),
    "power": lambda k, m, n: np.empty((0, k)),
}


def prepare(
    network: Network | CompiledNetwork,
    protocol: Segment | Sequence[Segment],
    *,
    dt: float,
    method: Method = "rk4",
    ensemble: int | None = None,
    open_edges: np.ndarray | None = None,
    record_every: int | None = None,
    record: Sequence[str] = RECORDABLE,
    solver: Solver = "auto",
    low_rank_max: int = 16,
    refine_max: int = 10,
    factor_backend: str = "auto",
    rtol: float = 1e-8,
    atol: float = 1e-10,
    ivp_method: str = "RK45",
    max_step: float | None = None,
    t0: float = 0.0,
    progress: bool = False,
    max_memory: float = MAX_MEMORY,
) -> Prepared:
    """Validate and resolve a protocol once; :meth:`Prepared.run` integrates it.

    Arguments are those of :func:`simulate` that do not depend on the initial
    states: ``prepare(net, protocol, **opts).run(x0, params=..., seed=...)``
    is exactly ``simulate(net, protocol, x0=x0, params=..., seed=..., **opts)``.
    ``ensemble`` fixes the number of copies ``K`` (also implied by a
    ``(K, M)`` ``open_edges``).

    Examples
    --------
    >>> from memsim import Network, LinearIonDrift, Segment
    >>> net = Network(LinearIonDrift()); net.add_node("a", "input"); _ = net.add_edge("a", "b")
    >>> prep = prepare(net, Segment(1e-3, drive={"a": 0.1}, ground=["b"]), dt=1e-4, ensemble=3)
    >>> prep.run().x_final.shape
    (3, 1)
    """
    net = _as_compiled(network)
    m = net.n_edges
    if not (isinstance(dt, (int, float)) and math.isfinite(dt) and dt > 0):
        raise ValueError(f"dt must be a finite number > 0 s, got {dt!r}")
    if method not in ("euler", "heun", "rk4", "adaptive", "scipy"):
        raise ValueError(f"method must be 'euler', 'heun', 'rk4', 'adaptive' or 'scipy', got {method!r}")
    for name, val in (("rtol", rtol), ("atol", atol)):
        if isinstance(val, bool) or not (isinstance(val, (int, float)) and math.isfinite(val) and val > 0):
            raise ValueError(f"{name} must be a finite number > 0, got {val!r}")
    if max_step is not None and (isinstance(max_step, bool) or not (
            isinstance(max_step, (int, float)) and math.isfinite(max_step) and max_step > 0)):
        raise ValueError(f"max_step must be a finite number > 0 s or None, got {max_step!r}")
    if solver not in ("auto", "dense", "sparse", "numpy"):
        raise ValueError(f"solver must be 'auto', 'dense', 'sparse' or 'numpy', got {solver!r}")
    if record_every is not None and not (isinstance(record_every, (int, np.integer)) and not
                                         isinstance(record_every, bool) and record_every >= 1):
        raise ValueError(f"record_every must be an integer >= 1, got {record_every!r}")
    if isinstance(max_memory, bool) or not (isinstance(max_memory, (int, float)) and max_memory > 0):
        raise ValueError(f"max_memory must be a number of bytes > 0, got {max_memory!r}")
    record = tuple(record)
    unknown = [r for r in record if r not in RECORDABLE]
    if unknown:
        raise ValueError(f"record: unknown quantities {unknown}; choose from {RECORDABLE}")
    if ensemble is not None and not (isinstance(ensemble, (int, np.integer)) and ensemble >= 1):
        raise ValueError(f"ensemble must be an integer >= 1, got {ensemble!r}")
    oa, k = _copies("open_edges", open_edges, (m,), ensemble)
    is_ensemble = k is not None
    k = 1 if k is None else int(k)
    work = memory_estimate(0, (), k, m, net.n_nodes)[1]
    if work > max_memory:  # before any (k, m) array is allocated
        raise ValueError(f"the run needs ~{work / 2**20:.4g} MiB for {k} copies of {m} devices before recording "
                         f"anything, more than max_memory = {max_memory / 2**20:.4g} MiB; use fewer copies or "
                         "raise max_memory")
    open_ = np.array(np.broadcast_to(np.zeros(m, bool) if oa is None else oa.astype(bool), (k, m)))
    stoch = (net.model == MODEL_GMS) & (net.params[:, 6] > 0)
    if np.any(stoch) and method in ("adaptive", "scipy"):
        raise ValueError(f"method={method!r} cannot integrate stochastic MetastableSwitch devices (n_switches > 0); "
                         "use a fixed-step method")
    segs = compile_protocol(net, protocol, k)
    n_float = sum(s.duration / dt for s in segs)
    if not n_float <= MAX_STEPS:
        span = sum(s.duration for s in segs)
        raise ValueError(f"dt = {dt!r} s gives {n_float:.3g} steps over the protocol's {span:.3g} s, more than "
                         f"{MAX_STEPS:.0e}: raise dt or shorten the protocol")
    steps = tuple(max(1, math.ceil(s.duration / dt - 1e-9)) for s in segs)
    _check_resolution(segs, steps)
    if np.any(stoch):
        tau = net.params[stoch, 4].min()
        h_max = max(s.duration / n for s, n in zip(segs, steps))
        if h_max > tau:
            raise ValueError(f"dt={dt!r} s exceeds the switch time constant tau={tau!r} s of a stochastic MetastableSwitch")
    slots, engines, drives = [], [], []
    offsets = _stage_offsets(method) if method in kn.METHODS else np.array([0.0])
    for seg in segs:
        slot, n_free = _slots(net, open_, seg.driven)
        slots.append((slot, n_free))
        engine = solver
        if engine == "auto":
            engine = _auto_engine(net, open_, slot, n_free, method, factor_backend, bool(np.any(stoch)))
        engines.append(engine)
        drives.append(None if seg.time_dependent else
                      np.ascontiguousarray(np.broadcast_to(seg.constant[None, None], (1, offsets.size, k, seg.driven.size))))
    total = sum(steps)
    record_every = _record_every(record_every, record, total, k, m, net.n_nodes, float(max_memory))
    still = (net.model == MODEL_RESISTOR)[None, :] | open_
    prm = np.ascontiguousarray(np.broadcast_to(net.params, (k,) + net.params.shape))
    if not (isinstance(refine_max, (int, np.integer)) and refine_max >= 0):
        raise ValueError(f"refine_max must be an integer >= 0, got {refine_max!r}")
    options = MappingProxyType(dict(rtol=float(rtol), atol=float(atol), ivp_method=ivp_method,
                                    max_step=math.inf if max_step is None else float(max_step),
                                    low_rank_max=low_rank_max,
                                    factor_backend=factor_backend, refine_max=int(refine_max)))
    return Prepared(
        network=net, segments=segs, steps=steps, slots=tuple(slots), engines=tuple(engines),
        drives=tuple(drives), open_edges=open_, still=still, params=prm, stoch=stoch,
        n_copies=k, ensemble=is_ensemble,
        method=method, record=record, record_every=int(record_every),
        n_records=-(-total // record_every) + 1, t0=float(t0), options=options, progress=progress,
    )


def _check_resolution(segs: Sequence[CompiledSegment], steps: Sequence[int]) -> None:
    """Warn when a step is too long for a periodic drive (the result would be aliased)."""
    for idx, (seg, n) in enumerate(zip(segs, steps)):
        h = seg.duration / n
        for col, wave in seg.functions:
            if isinstance(wave, Sine) and wave.frequency != 0:
                per_period = 1.0 / (abs(wave.frequency) * h)
                if per_period < MIN_STEPS_PER_PERIOD:
                    warnings.warn(
                        f"dt = {h:.3g} s under-resolves the {abs(wave.frequency):.3g} Hz sine on node index "
                        f"{int(seg.driven[col])} in segment {idx} ({per_period:.3g} steps per period, fewer than "
                        f"{MIN_STEPS_PER_PERIOD}): the result is aliased; use dt <= "
                        f"{1.0 / (abs(wave.frequency) * MIN_STEPS_PER_PERIOD):.3g} s",
                        UserWarning, stacklevel=4)


def memory_estimate(n_records: int, record: Sequence[str], k: int, m: int, n: int) -> tuple[int, int]:
    """Bytes of (the recorded samples, the per-copy working arrays) of one run.

    Examples
    --------
    >>> memory_estimate(1001, ("x",), 1, 10, 5)[0]
    80080
    """
    from memsim.devices.models import N_PARAMS

    per = {"x": k * m, "i_edge": k * m, "v_edge": k * m, "v_node": k * n, "i_node": k * n, "power": k}
    record_bytes = 8 * n_records * sum(per[q] for q in record)
    work = 8 * k * (m * (N_PARAMS + 8) + n * 4)
    return record_bytes, work


def _record_every(record_every: int | None, record: Sequence[str], total: int, k: int, m: int, n: int,
                  max_memory: float) -> int:
    """``record_every``, checked against ``max_memory`` (default: 1, or decimated to fit)."""
    every = 1 if record_every is None else int(record_every)
    rec_bytes, work = memory_estimate(-(-total // every) + 1, record, k, m, n)
    if work > max_memory:
        raise ValueError(f"the run needs ~{work / 2**20:.4g} MiB for {k} copies of {m} devices before recording "
                         f"anything, more than max_memory = {max_memory / 2**20:.4g} MiB; use fewer copies or "
                         "raise max_memory")
    if rec_bytes + work <= max_memory:
        return every
    per_sample = max(1, rec_bytes // (-(-total // every) + 1))
    fit = int((max_memory - work) // per_sample) - 1
    if record_every is not None or fit < 2:
        raise ValueError(f"recording {', '.join(record)} every {every} of {total:,} steps needs "
                         f"~{(rec_bytes + work) / 2**20:.4g} MiB, more than max_memory = {max_memory / 2**20:.4g} MiB; "
                         f"raise record_every (>= {-(-total // max(fit, 1))}), record fewer quantities or raise max_memory")
    every = -(-total // fit)
    warnings.warn(f"recording every step would need ~{(rec_bytes + work) / 2**20:.4g} MiB (max_memory = "
                  f"{max_memory / 2**20:.4g} MiB): recording every {every}th of {total:,} steps instead; pass "
                  "record_every or max_memory to choose", UserWarning, stacklevel=4)
    return every


def _drive_blocks(seg: CompiledSegment, t_start: float, h: float, n_steps: int, offsets: np.ndarray, k: int,
                 constant: np.ndarray | None):
    """Yield ``(first_step, n, vdrive, vstep)`` blocks of C-contiguous voltages.

    Constant drives (``constant``, precomputed by :func:`prepare`) give one row
    (``vstep = 0``); time-dependent ones give ``n + 1`` rows (``vstep = 1``),
    see :func:`memsim.solve.kernels.integrate_dense`.
    """
    d = seg.driven.size
    if constant is not None:
        for s0 in range(0, n_steps, _STEP_BLOCK):
            yield s0, min(_STEP_BLOCK, n_steps - s0), constant, 0
        return
    block = max(1, _DRIVE_BLOCK // max(1, offsets.size * k * d))
    for s0 in range(0, n_steps, block):
        n = min(block, n_steps - s0)
        steps = np.arange(s0, s0 + n + 1, dtype=float)
        times = t_start + h * (steps[:, None] + offsets[None, :])
        times[-1, :] = t_start + h * (s0 + n)  # the row after the block: its start time
        vd = seg.voltages(times.ravel(), k).reshape(n + 1, offsets.size, k, d)
        yield s0, n, vd, 1


def _solvers(net, engine, prm, open_, slot, n_free, driven, stats, low_rank_max, backend, refine_max=10):
    """Per-copy electrical solves for the Python stepper: ``solve(k, x, vd)``."""
    k = prm.shape[0]
    if engine == "sparse":
        objs = [SparseElectrical(net.model, prm[c], open_[c], net.edge_u, net.edge_v, net.leak,
                                 slot[c], n_free[c], driven, low_rank_max=low_rank_max,
                                 refine_max=refine_max, backend=backend, stats=stats) for c in range(k)]
        return lambda c, xc, vd: objs[c](c, xc, vd)
    if engine == "numpy":
        def solve(c, xc, vd):
            g = np.where(open_[c], 0.0, fn.conductance(net.model, prm[c], xc))
            sol = solve_nodal(net, g, driven, vd)
            stats.solves += 1
            stats.factorizations += 1
            return g, sol.v_node, sol.v_edge, sol.i_edge
        return solve
    n_max = max(1, int(n_free.max()))
    a, rhs = np.empty((n_max, n_max)), np.empty(n_max)

    def dense(c, xc, vd):
        v, g = np.empty(net.n_nodes), np.empty(net.n_edges)
        dv, cur = np.empty(net.n_edges), np.empty(net.n_edges)
        kn.electrical_dense(xc, prm[c], net.model, open_[c], net.edge_u, net.edge_v, net.leak,
                            slot[c], n_free[c], driven, vd, a, rhs, v, g, dv, cur)
        stats.solves += 1
        stats.factorizations += 1
        return g, v, dv, cur
    return dense


def _compiled_rates(model, params_k, x, dv, cur, scale_k, still_k, stoch):
    """Bounded stage rates of one copy by the numba kernel (sparse path)."""
    out = np.empty(x.shape[0])
    kn._stage_rates(x, params_k, model, scale_k, still_k, stoch, dv, cur, out)
    return out


def _fixed_segment(net, seg, engine, method, x, prm, scale, still, stoch, open_, slot, n_free,
                   t_start, h, n_steps, step0, record_every, r, last, rec_t, bufs, stats, rng,
                   opts, constant, tick=None):
    k = x.shape[0]
    offsets = _stage_offsets(method)
    buffers = tuple(bufs[q] for q in RECORDABLE)
    mcode = kn.METHODS[method]
    written = 0
    py_solve = steppers = None
    if engine == "sparse" and opts["factor_backend"] == "auto" and not np.any(stoch):
        from memsim.solve.sparse_step import sparse_steppers

        steppers = sparse_steppers(open_, net.edge_u, net.edge_v, net.leak, slot, n_free,
                                   low_rank_max=opts["low_rank_max"], refine_max=opts["refine_max"])
    elif engine != "dense":
        py_solve = _solvers(net, engine, prm, open_, slot, n_free, seg.driven, stats,
                            opts["low_rank_max"], opts["factor_backend"], opts["refine_max"])
    for s0, n, vd, vstep in _drive_blocks(seg, t_start, h, n_steps, offsets, k, constant):
        final = last and s0 + n == n_steps
        tb = t_start + s0 * h
        if engine == "dense":
            seeds = rng.integers(0, 2**62, size=k) if np.any(stoch) else np.zeros(k, dtype=np.int64)
            kernel = kn.integrate_dense_parallel if k >= _PARALLEL_MIN_COPIES else kn.integrate_dense
            rows, evals = kernel(
                x, prm, net.model, scale, still, stoch, open_, net.edge_u, net.edge_v, net.leak,
                slot, n_free, seg.driven, vd, vstep, tb, h, n, mcode, step0 + s0, record_every,
                r + written, final, rec_t, *buffers, seeds)
            written += rows
            stats.solves += evals
            stats.factorizations += evals
        elif steppers is not None:
            for c, stepper in enumerate(steppers):
                rows = stepper.advance(c, x, prm, net.model, scale, still, open_, net.edge_u, net.edge_v, net.leak,
                                       slot, seg.driven, vd, vstep, tb, h, n, mcode, step0 + s0, record_every,
                                       r + written, final, rec_t, buffers, stats)
            written += rows
        else:
            written += integrate_python(
                py_solve, x, prm, net.model, scale, still, stoch, net.leak, net.edge_u, net.edge_v,
                slot, vd, vstep, tb, h, n, mcode, step0 + s0, record_every, r + written, final,
                buffers, rec_t, rng, numpy_rates if engine == "numpy" else _compiled_rates)
        if tick is not None:
            tick(n)
    return written


def _adaptive_segment(net, seg, engine, x, prm, scale, still, stoch, open_, slot, n_free, t_start, h,
                      n_steps, step0, record_every, r, last, rec_t, bufs, stats, opts, energy, counts):
    """One segment by adaptive Bogacki–Shampine steps: the compiled kernel, or its NumPy twin."""
    k = x.shape[0]
    t_end = t_start + seg.duration
    buffers = tuple(bufs[q] for q in RECORDABLE)
    enc = encode_drives(seg, k) if engine == "dense" else None
    knots = np.array([t for _, w in seg.functions if isinstance(w, PWL) for t in w.times])
    breaks = np.unique(knots[(knots > t_start) & (knots < t_end)])  # kinks of PWL drives: step boundaries
    if enc is not None:
        from memsim.solve import adaptive as ad

        vconst, kind, sine, start, pwl_t, pwl_v = enc
        before = int(counts[:, 0].sum())
        c = _writable_c  # one array layout for every call: one compiled specialisation of the kernel
        args = (x, c(prm), c(net.model), c(scale), c(still), c(stoch), c(open_), c(net.edge_u), c(net.edge_v),
                c(net.leak), c(slot), c(n_free), c(seg.driven), vconst, kind, sine, start, pwl_t, pwl_v, breaks,
                float(t_start), float(t_end), float(h), int(n_steps), int(step0),
                record_every, r, last, opts["rtol"], opts["atol"], opts["max_step"], rec_t, *buffers, energy, counts)
        rows = _on_threads(ad.integrate_adaptive, k, args)
        done = int(counts[:, 0].sum()) - before
        stats.solves += done  # dense: one factorisation per solve
        stats.factorizations += done
        return rows
    solve = _solvers(net, engine, prm, open_, slot, n_free, seg.driven, stats,
                     opts["low_rank_max"], opts["factor_backend"], opts["refine_max"])
    return adaptive_python(
        solve, lambda t: seg.voltages(np.array([t]), k)[0], x, prm, net.model, scale, still, stoch, net.leak,
        net.edge_u, net.edge_v, slot, breaks, t_start, t_end, h, n_steps, step0, record_every, r, last,
        opts["rtol"], opts["atol"], opts["max_step"], not seg.time_dependent, buffers, rec_t, energy, counts,
        numpy_rates if engine == "numpy" else _compiled_rates)


_POOL: list = []


def _writable_c(a: np.ndarray) -> np.ndarray:
    """``a`` if C-contiguous and writeable, else such a copy (numba types arrays by layout and flags)."""
    return a if (a.flags.c_contiguous and a.flags.writeable) else np.array(a, order="C")


def _on_threads(kernel, k: int, args: tuple) -> int:
    """Run a ``nogil`` kernel over copies ``[0, k)``, split over threads when there are many copies.

    The copies are independent, so the split does not change any number.
    """
    if k < 2 * _PARALLEL_MIN_COPIES:  # one chunk: no thread pool (and numba's threads are not started)
        return int(kernel(0, k, *args))
    import numba

    n = min(numba.get_num_threads(), k // _PARALLEL_MIN_COPIES)
    if n <= 1:
        return int(kernel(0, k, *args))
    if not _POOL:
        from concurrent.futures import ThreadPoolExecutor

        _POOL.append(ThreadPoolExecutor(max_workers=max(2, numba.get_num_threads()), thread_name_prefix="memsim"))
    edges = np.linspace(0, k, n + 1).astype(int)
    futures = [_POOL[0].submit(kernel, int(lo), int(hi), *args) for lo, hi in zip(edges[:-1], edges[1:])]
    return [int(f.result()) for f in futures][0]


def _scipy_segment(net, seg, engine, x, prm, scale, still, open_, slot, n_free, t_start, h,
                   n_steps, step0, record_every, r, last, rec_t, bufs, stats, opts):
    k, m = x.shape
    solve = _solvers(net, engine, prm, open_, slot, n_free, seg.driven, stats,
                     opts["low_rank_max"], opts["factor_backend"], opts["refine_max"])
    t_end = t_start + seg.duration

    def voltages(t):
        return seg.voltages(np.array([t]), k)[0]

    def rhs(t, y):
        xs = np.clip(y.reshape(k, m), 0.0, 1.0)
        vd = voltages(t)
        out = np.empty((k, m))
        for c in range(k):
            _, _, dv, cur = solve(c, xs[c], vd[c])
            rate = fn.rate(net.model, prm[c], xs[c], dv, cur) * scale[c]
            out[c] = np.where(still[c], 0.0, fn.bound_rate(xs[c], rate))
        return out.ravel()

    local = np.arange(n_steps)
    rec_steps = local[(step0 + local) % record_every == 0]
    t_rec = t_start + h * rec_steps
    if last:
        t_rec = np.append(t_rec, t_end)
    t_eval = t_rec if last else np.append(t_rec, t_end)
    import scipy.integrate as si  # only this reference path needs it

    sol = si.solve_ivp(rhs, (t_start, t_end), x.ravel(), method=opts["ivp_method"], t_eval=t_eval,
                       rtol=opts["rtol"], atol=opts["atol"])
    if not sol.success:
        raise RuntimeError(f"solve_ivp failed in segment {seg.label!r}: {sol.message}")
    stats.rhs_evaluations += int(sol.nfev)
    buffers = tuple(bufs[q] for q in RECORDABLE)
    for j, tj in enumerate(t_rec):
        xs = np.clip(sol.y[:, j].reshape(k, m), 0.0, 1.0)
        vd = voltages(tj)
        for c in range(k):
            g, v, dv, cur = solve(c, xs[c], vd[c])
            record_sample(buffers, r + j, c, xs[c], g, v, dv, cur, net.leak, net.edge_u, net.edge_v, slot[c])
        rec_t[r + j] = tj
    x[:] = np.clip(sol.y[:, -1].reshape(k, m), 0.0, 1.0)
    return t_rec.size
