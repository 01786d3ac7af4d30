"""``simulate``: the one time-integration entry point."""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from typing import Literal

import numpy as np
import scipy.integrate as si

from memsim.circuit.network import CompiledNetwork, Network
from memsim.devices import functions as fn
from memsim.devices.models import MODEL_GMS, MODEL_RESISTOR
from memsim.devices.variability import Variability, cycle_factors, sample_devices
from memsim.solve import kernels as kn
from memsim.solve.nodal import find_islands, solve_nodal
from memsim.solve.protocol import CompiledSegment, Segment, compile_protocol
from memsim.solve.result import RECORDABLE, Result
from memsim.solve.sparse import SolveStats, SparseElectrical
from memsim.solve.stepper import integrate_python, record_sample

__all__ = ["simulate", "Method", "Solver"]

Method = Literal["euler", "heun", "rk4", "adaptive"]
Solver = Literal["auto", "dense", "sparse", "numpy"]

#: Largest reduced system solved densely by ``solver="auto"``.
DENSE_MAX_NODES = 256
#: Bound on the elements of one block of time-dependent drive voltages.
_DRIVE_BLOCK = 1 << 21
#: Electrical solves per fixed step of each scheme.
_EVALS_PER_STEP = {"euler": 1, "heun": 2, "rk4": 4}


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


def _slots(net: CompiledNetwork, open_: np.ndarray, driven: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Node slots (K, N) and reduced-system sizes (K,) for one configuration."""
    n_copies = open_.shape[0]
    slot = np.empty((n_copies, net.n_nodes), dtype=np.int64)
    n_free = np.empty(n_copies, dtype=np.int64)
    uniq, inverse = np.unique(open_, axis=0, return_inverse=True)
    for j, row in enumerate(uniq):
        island = find_islands(net.n_nodes, net.edge_u, net.edge_v, ~row, driven, net.leak)
        s = np.full(net.n_nodes, kn.SLOT_ISLAND, dtype=np.int64)
        s[driven] = kn.SLOT_DRIVEN
        free = np.flatnonzero(~island & (s != kn.SLOT_DRIVEN))
        s[free] = np.arange(free.size)
        sel = inverse.reshape(-1) == j
        slot[sel] = s
        n_free[sel] = free.size
    return slot, n_free


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
    record_every: int = 1,
    record: Sequence[str] = RECORDABLE,
    solver: Solver = "auto",
    low_rank_max: int = 16,
    factor_backend: str = "auto",
    rtol: float = 1e-8,
    atol: float = 1e-10,
    ivp_method: str = "RK45",
    t0: float = 0.0,
    progress: bool = False,
) -> Result:
    """Integrate the device states of a network through a protocol.

    Each segment is integrated on its own uniform grid: ``n = ceil(duration /
    dt)`` steps of ``h = duration / n <= dt``, so no step straddles a segment
    boundary. Fixed-step schemes (``"euler"``, ``"heun"``, ``"rk4"``) run in
    compiled kernels (dense networks) or around a sparse solver that reuses
    its symbolic analysis and applies low-rank updates when few devices change
    (large networks); ``"adaptive"`` uses :func:`scipy.integrate.solve_ivp`
    with ``rtol``/``atol`` and reports samples on the fixed-step grid. States
    are kept in ``[0, 1]``: rates pushing out at a bound are zeroed and every
    step is clipped.

    Parameters
    ----------
    network : Network or CompiledNetwork
    protocol : Segment or sequence of Segment
    dt : float
        Largest step (s); for ``"adaptive"``, the sampling interval.
    method : {"euler", "heun", "rk4", "adaptive"}
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
    record_every : int
        Record every n-th step (and the final state).
    record : sequence of str
        Quantities to record, a subset of ``("x", "i_edge", "v_edge", "v_node",
        "i_node", "power")``.
    solver : {"auto", "dense", "sparse", "numpy"}
        Electrical solve: compiled dense Cholesky, sparse factorisation, or the
        plain NumPy reference (slow; for testing). ``"auto"`` picks dense up to
        ``DENSE_MAX_NODES`` free nodes.
    low_rank_max : int
        Sparse path: most changed devices handled by a Woodbury update.
    factor_backend : str
        Sparse path: ``"auto"``, ``"cholmod"`` or ``"splu"``.
    rtol, atol, ivp_method : adaptive path tolerances and scipy method.
    t0 : float
        Start time (s); waveforms see absolute time.
    progress : bool
        Show a tqdm progress bar over segments.

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
    wall = time.perf_counter()
    net = _as_compiled(network)
    m, n_nodes = net.n_edges, net.n_nodes
    if not (isinstance(dt, (int, float)) and math.isfinite(dt) and dt > 0):
        raise ValueError(f"dt must be a finite number > 0 s, got {dt!r}")
    if method not in ("euler", "heun", "rk4", "adaptive"):
        raise ValueError(f"method must be 'euler', 'heun', 'rk4' or 'adaptive', got {method!r}")
    if solver not in ("auto", "dense", "sparse", "numpy"):
        raise ValueError(f"solver must be 'auto', 'dense', 'sparse' or 'numpy', got {solver!r}")
    if not (isinstance(record_every, (int, np.integer)) and record_every >= 1):
        raise ValueError(f"record_every must be an integer >= 1, got {record_every!r}")
    record = tuple(record)
    unknown = [r for r in record if r not in RECORDABLE]
    if unknown:
        raise ValueError(f"record: unknown quantities {unknown}; choose from {RECORDABLE}")
    if ensemble is not None and not (isinstance(ensemble, (int, np.integer)) and ensemble >= 1):
        raise ValueError(f"ensemble must be an integer >= 1, got {ensemble!r}")

    k = ensemble
    x0a, k = _copies("x0", x0, (m,), k)
    pa, k = _copies("params", params, net.params.shape, k)
    oa, k = _copies("open_edges", open_edges, (m,), k)
    is_ensemble = k is not None
    k = 1 if k is None else k
    x = np.array(np.broadcast_to(net.x0 if x0a is None else x0a, (k, m)), dtype=float)
    if not np.all(np.isfinite(x)) or np.any((x < 0) | (x > 1)):
        bad = np.argwhere(~((x >= 0) & (x <= 1)))[0]
        raise ValueError(f"x0 must be finite and in [0, 1]; x0[{tuple(int(b) for b in bad)}] = {x[tuple(bad)]!r}")
    prm = np.ascontiguousarray(np.broadcast_to(net.params if pa is None else pa.astype(float), (k, m, net.params.shape[1])))
    if not np.all(np.isfinite(prm)):
        raise ValueError("params must be finite")
    open_ = np.array(np.broadcast_to(np.zeros(m, bool) if oa is None else oa.astype(bool), (k, m)))
    rng = np.random.default_rng(seed)
    still = np.array(np.broadcast_to(net.model == MODEL_RESISTOR, (k, m))) | open_
    var = variability if variability is not None else Variability()
    if var != Variability():
        sample = sample_devices(net.model, prm, k, var, rng)
        prm = sample.params
        x = np.where(sample.stuck, sample.stuck_state, x)
        still |= sample.stuck
    stoch = (net.model == MODEL_GMS) & (net.params[:, 6] > 0)
    if np.any(stoch) and method == "adaptive":
        raise ValueError("method='adaptive' cannot integrate stochastic MetastableSwitch devices (n_switches > 0); use a fixed-step method")

    segs = compile_protocol(net, protocol, k)
    steps = [max(1, math.ceil(s.duration / dt - 1e-9)) for s in segs]
    if np.any(stoch):
        tau = net.params[stoch, 4].min()
        h_max = max(s.duration / n for s, n in zip(segs, steps))
        if h_max > tau:
            raise ValueError(f"dt={dt!r} s exceeds the switch time constant tau={tau!r} s of a stochastic MetastableSwitch")
    total = sum(steps)
    n_rec = -(-total // record_every) + 1
    shapes = {"x": (k, m), "i_edge": (k, m), "v_edge": (k, m), "v_node": (k, n_nodes),
              "i_node": (k, n_nodes), "power": (k,)}
    bufs = {q: np.full((n_rec,) + shapes[q], np.nan) if q in record else np.empty((0,) + shapes[q])
            for q in RECORDABLE}
    rec_t = np.empty(n_rec)
    rec_seg = np.empty(n_rec, dtype=np.int64)
    stats = SolveStats()
    engine_used = set()

    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=total, unit="step", desc="simulate")
    t_start, step0, r = float(t0), 0, 0
    for idx, (seg, n_steps) in enumerate(zip(segs, steps)):
        h = seg.duration / n_steps
        slot, n_free = _slots(net, open_, seg.driven)
        engine = solver
        if engine == "auto":
            engine = "dense" if n_free.max() <= DENSE_MAX_NODES else "sparse"
        engine_used.add(engine)
        scale = cycle_factors(net.model, k, var.c2c, rng)
        last = idx == len(segs) - 1
        r0 = r
        if method == "adaptive":
            r += _adaptive_segment(net, seg, engine, x, prm, scale, still, open_, slot, n_free,
                                   t_start, h, n_steps, step0, record_every, r, last,
                                   rec_t, bufs, stats, rtol, atol, ivp_method, low_rank_max, factor_backend)
        else:
            r += _fixed_segment(net, seg, engine, method, x, prm, scale, still, stoch, open_, slot,
                                n_free, t_start, h, n_steps, step0, record_every, r, last,
                                rec_t, bufs, stats, rng, low_rank_max, factor_backend)
        rec_seg[r0:r] = idx
        t_start += seg.duration
        step0 += n_steps
        if bar is not None:
            bar.update(n_steps)
    if bar is not None:
        bar.close()
    assert r == n_rec, (r, n_rec)

    def shape(a):
        return a if is_ensemble else a[:, 0]

    stats_d = stats.as_dict()
    stats_d.update(steps=total, copies=k, engine="+".join(sorted(engine_used)), method=method,
                   wall_time=time.perf_counter() - wall)
    return Result(
        t=rec_t,
        segment=rec_seg,
        x_final=x if is_ensemble else x[0],
        network=net,
        labels=tuple(s.label for s in segs),
        ensemble=is_ensemble,
        stats=stats_d,
        **{q: shape(bufs[q]) for q in record},
    )


def _drive_blocks(seg: CompiledSegment, t_start: float, h: float, n_steps: int, offsets: np.ndarray, k: int):
    """Yield ``(first_step, n, vdrive, vstep)`` blocks of C-contiguous voltages.

    Constant drives give one row (``vstep = 0``); time-dependent ones give
    ``n + 1`` rows (``vstep = 1``), see :func:`memsim.solve.kernels.integrate_dense`.
    """
    d = seg.driven.size
    if not seg.time_dependent:
        yield 0, n_steps, np.ascontiguousarray(np.broadcast_to(seg.constant[None, None], (1, offsets.size, k, d))), 0
        return
    block = max(1, _DRIVE_BLOCK // max(1, offsets.size * k * d))
    for s0 in range(0, n_steps, block):
        n = min(block, n_steps - s0)
        steps = np.arange(s0, s0 + n + 1, dtype=float)
        times = t_start + h * (steps[:, None] + offsets[None, :])
        times[-1, :] = t_start + h * (s0 + n)  # the row after the block: its start time
        vd = seg.voltages(times.ravel(), k).reshape(n + 1, offsets.size, k, d)
        yield s0, n, vd, 1


def _solvers(net, engine, prm, open_, slot, n_free, driven, stats, low_rank_max, backend):
    """Per-copy electrical solves for the Python stepper: ``solve(k, x, vd)``."""
    k = prm.shape[0]
    if engine == "sparse":
        objs = [SparseElectrical(net.model, prm[c], open_[c], net.edge_u, net.edge_v, net.leak,
                                 slot[c], n_free[c], driven, low_rank_max=low_rank_max,
                                 backend=backend, stats=stats) for c in range(k)]
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


def _fixed_segment(net, seg, engine, method, x, prm, scale, still, stoch, open_, slot, n_free,
                   t_start, h, n_steps, step0, record_every, r, last, rec_t, bufs, stats, rng,
                   low_rank_max, backend):
    k = x.shape[0]
    offsets = _stage_offsets(method)
    buffers = tuple(bufs[q] for q in RECORDABLE)
    mcode = kn.METHODS[method]
    written = 0
    py_solve = None
    if engine != "dense":
        py_solve = _solvers(net, engine, prm, open_, slot, n_free, seg.driven, stats, low_rank_max, backend)
    for s0, n, vd, vstep in _drive_blocks(seg, t_start, h, n_steps, offsets, k):
        final = last and s0 + n == n_steps
        tb = t_start + s0 * h
        if engine == "dense":
            seeds = rng.integers(0, 2**62, size=k) if np.any(stoch) else np.zeros(k, dtype=np.int64)
            written += kn.integrate_dense(
                x, prm, net.model, scale, still, stoch, open_, net.edge_u, net.edge_v, net.leak,
                slot, n_free, seg.driven, vd, vstep, tb, h, n, mcode, step0 + s0, record_every,
                r + written, final, rec_t, *buffers, seeds)
            evals = k * (n * _EVALS_PER_STEP[method] + final)
            stats.solves += evals
            stats.factorizations += evals
        else:
            written += integrate_python(
                py_solve, x, prm, net.model, scale, still, stoch, net.leak, net.edge_u, net.edge_v,
                slot, vd, vstep, tb, h, n, mcode, step0 + s0, record_every, r + written, final,
                buffers, rec_t, rng)
    return written


def _adaptive_segment(net, seg, engine, x, prm, scale, still, open_, slot, n_free, t_start, h,
                      n_steps, step0, record_every, r, last, rec_t, bufs, stats, rtol, atol,
                      ivp_method, low_rank_max, backend):
    k, m = x.shape
    solve = _solvers(net, engine, prm, open_, slot, n_free, seg.driven, stats, low_rank_max, backend)
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
    sol = si.solve_ivp(rhs, (t_start, t_end), x.ravel(), method=ivp_method, t_eval=t_eval,
                       rtol=rtol, atol=atol)
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
