"""The learning-from-mistakes loop in one compiled kernel: read -> decide -> punish -> normalise.

:func:`memsim.learning.train` spends most of its time outside the integrator
when the networks are small: every presentation is one :meth:`Hardware.run`
per read group, per punishment group and for the normalisation, each a full
:func:`memsim.simulate` call (validation, protocol compilation, node slots,
result objects). :func:`run_slots` does the same work for K copies and a
range of an era's slots in one numba call (``nogil``; large ensembles are
split over threads): per copy and slot it

1. finds the node slots of the read configuration (a breadth-first search
   from the driven nodes over closed edges: :func:`_config_slots`, twin of
   ``memsim.solve.integrate._slot_row``), integrates the read with the
   adaptive kernel (:func:`memsim.solve.adaptive._adaptive_copy`, the very
   function :func:`memsim.simulate` runs for ``method="adaptive"``) and
   solves the final state for the received output currents (twin:
   :func:`~memsim.learning.inhibition.output_currents`);
2. decides (twin: :func:`~memsim.learning.inhibition.decide`);
3. on a mistake, punishes the wrong winner and normalises, each followed by
   the hardware's pruning rule (twin:
   :func:`~memsim.learning.pruning.threshold_pruned`).

The pruning rule also follows the read, as it follows every
:meth:`Hardware.run`. Copies are independent in both loops (the Python loop
groups copies that share a configuration into one ``simulate`` call, whose
kernel advances them one by one), so the compiled loop makes the same
decisions; its floats agree to rounding (numba compiles the integrator's body
into each entry point separately, and the two machine codes may round a sum
differently in the last bit: 2e-14 in the states after the demo's training).
The Python twin is :func:`memsim.learning.step`, and
``tests/learning/test_compiled.py`` compares whole trainings, histories
included, between the two.

Scope (:func:`unsupported`): the adaptive method, no cycle-to-cycle noise
(its draws are seeded per :meth:`Hardware.run` call, which the compiled loop
does not make), no stochastic devices, and networks that ``simulate`` solves
densely in every configuration (at most ``DENSE_MAX_NODES`` free nodes).
Outside it :func:`train` keeps the Python loop.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from numba import njit

from memsim.devices.models import MODEL_GMS, MODEL_RESISTOR
from memsim.learning.config import Controller
from memsim.learning.hardware import Hardware
from memsim.learning.inhibition import normalise_segment, punish_segment, read_segment
from memsim.learning.tasks import Task
from memsim.solve.adaptive import _adaptive_copy
from memsim.solve.integrate import DENSE_MAX_NODES, _on_threads
from memsim.solve.kernels import SLOT_DRIVEN, SLOT_ISLAND, _g_one
from memsim.solve.protocol import compile_protocol

__all__ = ["Configurations", "configurations", "unsupported", "present", "Presented", "run_slots"]


class Configurations:
    """Terminal configurations of one task on one hardware, packed for :func:`run_slots`.

    Configuration ``p`` reads pattern ``p``; ``P + p * n_out + w`` punishes
    pattern ``p`` with output ``w`` grounded; ``P + P * n_out`` normalises.
    ``nodes[ptr[c]:ptr[c + 1]]`` are the driven nodes of configuration ``c``
    and ``volts[c, :D]`` their voltages (V), taken from the segments that
    :func:`~memsim.learning.inhibition.read_segment`,
    :func:`~memsim.learning.inhibition.punish_segment` and
    :func:`~memsim.learning.inhibition.normalise_segment` build, resolved by
    :func:`~memsim.solve.protocol.compile_protocol` as ``simulate`` resolves them.
    """

    def __init__(self, hw: Hardware, task: Task, controller: Controller) -> None:
        pulses = controller.pulses
        circ = hw.circuit
        ins = [int(i) for i in circ.index_of(list(hw.inputs))]
        outs = [int(o) for o in circ.index_of(list(hw.outputs))]
        n_p, n_out = len(task), len(outs)
        # the normalisation's terminals and voltages do not depend on its duration (0 disables it)
        norm = replace(pulses, normalise_duration=pulses.normalise_duration or pulses.read_duration)
        segments = ([read_segment(hw, pat, pulses) for pat in task.patterns]
                    + [punish_segment(hw, pat, w, pulses) for pat in task.patterns for w in range(n_out)]
                    + [normalise_segment(hw, norm)])
        configs = [(seg.driven, seg.constant[0]) for seg in compile_protocol(circ, segments)]
        self.ptr = np.zeros(len(configs) + 1, dtype=np.int64)
        self.ptr[1:] = np.cumsum([len(c[0]) for c in configs])
        self.nodes = np.concatenate([c[0] for c in configs]).astype(np.int64)
        width = max(len(c[0]) for c in configs)
        self.volts = np.zeros((len(configs), width))
        for i, (_, v) in enumerate(configs):
            self.volts[i, : len(v)] = v
        self.outputs = np.array(outs, dtype=np.int64)
        self.targets = np.array(task.targets, dtype=np.int64)
        self.adjacency = _adjacency(circ.n_nodes, circ.edge_u, circ.edge_v)
        self.n_patterns = n_p
        self.shape = (circ.n_nodes, circ.n_edges, tuple(ins), tuple(outs))  # of the circuit it was built for
        self.fewest_driven = int(np.diff(self.ptr).min())


def configurations(hw: Hardware, task: Task, controller: Controller = Controller()) -> Configurations:
    """Pack the read, punish and normalise configurations of a task (see :class:`Configurations`).

    Examples
    --------
    >>> from memsim import Network, layered, VTEAM
    >>> from memsim.learning import association, build_hardware
    >>> hw = build_hardware(Network.from_graph(layered([2, 4, 2], orientation="backward"), VTEAM()), seed=0)
    >>> c = configurations(hw, association((0, 1)))
    >>> len(c.ptr) - 1, c.volts[0, :3].tolist()  # 2 reads, 2 x 2 punishments, 1 normalisation
    (7, [0.01, 0.0, 0.0])
    """
    return Configurations(hw, task, controller)


def unsupported(hw: Hardware, controller: Controller, configs: Configurations | None = None) -> str | None:
    """Why the compiled loop cannot train this hardware (None if it can).

    Examples
    --------
    >>> from memsim import Network, layered, VTEAM, Variability
    >>> from memsim.learning import build_hardware
    >>> net = Network.from_graph(layered([2, 4, 2], orientation="backward"), VTEAM())
    >>> unsupported(build_hardware(net, seed=0), Controller()) is None
    True
    >>> unsupported(build_hardware(net, variability=Variability(c2c=0.1), seed=0), Controller())
    'cycle-to-cycle noise (Hardware.c2c > 0) is drawn per Hardware.run call'
    """
    pulses = controller.pulses
    if pulses.method != "adaptive":
        return f"Pulses.method is {pulses.method!r}; the compiled loop integrates with the adaptive method"
    if hw.c2c > 0:
        return "cycle-to-cycle noise (Hardware.c2c > 0) is drawn per Hardware.run call"
    circ = hw.circuit
    if np.any((circ.model == MODEL_GMS) & (circ.params[:, 6] > 0)):
        return "stochastic MetastableSwitch devices need a fixed-step method"
    # simulate(solver="auto") solves adaptive runs densely up to DENSE_MAX_NODES free nodes (its
    # compiled sparse path is for the fixed-step methods), the compiled loop always: it runs only
    # where no configuration can leave more
    fewest = 1 if configs is None else configs.fewest_driven
    if circ.n_nodes - fewest > DENSE_MAX_NODES:
        return (f"up to {circ.n_nodes - fewest} free nodes: simulate uses its sparse engine above "
                f"{DENSE_MAX_NODES}, which the compiled loop does not have")
    return None


def _adjacency(n_nodes: int, edge_u: np.ndarray, edge_v: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """CSR adjacency: node ``n``'s incident edges ``edge[ptr[n]:ptr[n + 1]]`` and their other ends."""
    ends = np.concatenate([edge_u, edge_v])
    other = np.concatenate([edge_v, edge_u])
    edge = np.concatenate([np.arange(edge_u.size), np.arange(edge_u.size)])
    order = np.argsort(ends, kind="stable")
    ptr = np.zeros(n_nodes + 1, dtype=np.int64)
    np.add.at(ptr, ends + 1, 1)
    return np.cumsum(ptr), edge[order].astype(np.int64), other[order].astype(np.int64)


@njit(cache=True, error_model="numpy", nogil=True)
def _config_slots(open_row, driven, leak, adj_ptr, adj_edge, adj_node, slot_row, queue, seen):
    """Node slots of one copy in one configuration; returns the number of free nodes.

    A node is solved for (slot >= 0, numbered in node order) when a path of
    closed edges joins it to a driven node or a node with leak; other
    floating nodes are islands (twin: ``memsim.solve.integrate._slot_row``,
    which labels connected components).
    """
    n = slot_row.shape[0]
    for nd in range(n):
        seen[nd] = False
    tail = 0
    for d in range(driven.shape[0]):
        nd = driven[d]
        if not seen[nd]:
            seen[nd] = True
            queue[tail] = nd
            tail += 1
    for nd in range(n):
        if leak[nd] > 0.0 and not seen[nd]:
            seen[nd] = True
            queue[tail] = nd
            tail += 1
    head = 0
    while head < tail:
        nd = queue[head]
        head += 1
        for j in range(adj_ptr[nd], adj_ptr[nd + 1]):
            o = adj_node[j]
            if not open_row[adj_edge[j]] and not seen[o]:
                seen[o] = True
                queue[tail] = o
                tail += 1
    for nd in range(n):
        slot_row[nd] = 0 if seen[nd] else SLOT_ISLAND
    for d in range(driven.shape[0]):
        slot_row[driven[d]] = SLOT_DRIVEN
    nf = 0
    for nd in range(n):
        if slot_row[nd] == 0:
            slot_row[nd] = nf
            nf += 1
    return nf


@njit(cache=True, error_model="numpy", nogil=True)
def _prune(k, x, params, model, open_, still, eligible, below):
    """The hardware's threshold rule on copy ``k`` (twin: ``threshold_pruned``)."""
    if below > 0.0:
        pk = params[k]
        for e in range(x.shape[1]):
            if eligible[e] and not open_[k, e] and _g_one(model[e], pk, e, x[k, e]) < below:
                open_[k, e] = True
                still[k, e] = True


@njit(cache=True, error_model="numpy", nogil=True)
def run_slots(
    k_lo, k_hi, slot_lo, slot_hi, order, active, targets, x, params, model, scale, still, stoch, open_, edge_u,
    edge_v, leak, slot, n_free, eligible, cfg_ptr, cfg_nodes, cfg_volts, outputs, kind, sine, pwl_start, pwl_t,
    pwl_v, breaks, durations, prune_below, resolution, ints, flts, rec_t, rec_x, rec_i, rec_ve, rec_vn, rec_in,
    rec_p, adj_ptr, adj_edge, adj_node, currents, answer, wrong, margin, read_e, punish_e, counts,
):
    """Present slots ``slot_lo <= s < slot_hi`` of an era to active copies ``k_lo <= k < k_hi``.

    Per copy ``k`` and slot ``s`` (pattern ``order[k, s]``, target
    ``targets[pattern]``): read (configuration ``pattern``, ``durations[0]``),
    received output currents into ``currents[k, s]``, winner-take-all with
    ``resolution`` (A) into ``answer``, ``wrong`` (-1 where correct) and
    ``margin``; on a mistake the punishment (configuration ``P + pattern *
    n_out + wrong``, ``durations[1]``) and, if ``durations[2] > 0``, the
    normalisation (last configuration). The pruning rule (``prune_below`` S,
    ``eligible`` edges) follows every protocol; ``open_`` and ``still`` are
    updated with it. Energies (J) go to ``read_e`` and ``punish_e``;
    ``counts[k]`` gathers the adaptive kernel's (solves, accepted, rejected,
    event retries, failed) and the copy stops at a failure. ``ints`` =
    (0, 1, 0, forced), ``forced >= 0`` treating every read as a mistake
    won by output ``forced`` (see :func:`present`), and ``flts`` = (0.0, rtol, atol, max step): run-time scalars, so
    that the adaptive kernel keeps the one specialisation simulate() uses
    (the ``rec_*`` arguments are its empty record buffers).
    Returns the number of copies processed.
    """
    n_nodes = leak.shape[0]
    n_out = outputs.shape[0]
    n_p = targets.shape[0]
    queue = np.empty(n_nodes, dtype=np.int64)
    seen = np.empty(n_nodes, dtype=np.bool_)
    energy = np.zeros(1)
    i_node = np.zeros((1, 1, n_nodes))
    t_read = np.zeros(1)
    mag = np.empty(n_out)
    zero = ints[0]  # run-time scalars: literals would specialise the adaptive kernel again
    with_end = ints[1] != 0
    no_end = ints[2] != 0
    done = 0
    for k in range(k_lo, k_hi):
        if not active[k]:
            continue
        done += 1
        for s in range(slot_lo, slot_hi):
            p = order[k, s]
            tg = targets[p]
            # phases: 0 read, 1 punish, 2 normalise; one call site of the adaptive kernel (each call
            # site of it would be optimised again when this kernel is compiled, ~2 s each)
            phase = 0
            c = p
            pe = 0.0
            while phase < 3:
                driven = cfg_nodes[cfg_ptr[c]:cfg_ptr[c + 1]]
                n_d = driven.shape[0]
                n_free[k] = _config_slots(open_[k], driven, leak, adj_ptr, adj_edge, adj_node, slot[k], queue, seen)
                energy[0] = 0.0
                # the read records its end state's node currents, as simulate() records its last sample
                rin = i_node if phase == 0 else rec_in
                rt = t_read if phase == 0 else rec_t
                end = with_end if phase == 0 else no_end
                _adaptive_copy(
                    zero, x[k:k + 1], params[k:k + 1], model, scale[k:k + 1], still[k:k + 1], stoch, open_[k:k + 1],
                    edge_u, edge_v, leak, slot[k:k + 1], n_free[k:k + 1], driven, cfg_volts[c:c + 1], kind[:n_d],
                    sine[:n_d], pwl_start[:n_d + 1], pwl_t, pwl_v, breaks, flts[0], durations[phase],
                    durations[phase], zero, zero, ints[1], zero, end, flts[1],
                    flts[2], flts[3], rt, rec_x, rec_i, rec_ve, rec_vn, rin, rec_p, energy, counts[k:k + 1])
                if counts[k, 4] != 0:
                    break
                _prune(k, x, params, model, open_, still, eligible, prune_below)
                if phase > 0:
                    pe += energy[0]
                    phase += 1
                    if phase == 2 and not durations[2] > 0.0:
                        break
                    c = n_p + n_p * n_out
                    continue
                read_e[k, s] = energy[0]
                for j in range(n_out):  # received current: -i_node (output_currents)
                    currents[k, s, j] = -i_node[0, 0, outputs[j]]
                    mag[j] = abs(currents[k, s, j])
                # decide: winner-take-all on |I| (stable order: the lower index wins ties)
                best = 0
                for j in range(1, n_out):
                    if mag[j] > mag[best]:
                        best = j
                second = 1 if best == 0 else 0
                for j in range(n_out):
                    if j != best and mag[j] > mag[second]:
                        second = j
                ans = best if mag[best] - mag[second] > resolution else -1
                strongest = 0 if tg != 0 else 1
                for j in range(n_out):
                    if j != tg and mag[j] > mag[strongest]:
                        strongest = j
                mistake = ans != tg
                if ints[3] >= 0:  # a forced mistake: punish output ints[3] whatever the read
                    ans = ints[3]
                    strongest = ints[3]
                    mistake = True
                answer[k, s] = ans
                margin[k, s] = mag[tg] - mag[strongest]
                if not mistake:
                    wrong[k, s] = -1
                    break
                wrong[k, s] = strongest
                phase = 1
                c = n_p + p * n_out + strongest
            if counts[k, 4] != 0:
                break
            punish_e[k, s] = pe
    return done


@dataclass(frozen=True, eq=False)
class Presented:
    """What :func:`present` did: per copy ``k`` and slot ``s`` of the era.

    Attributes
    ----------
    x, open_edges : (K, M) device states and open edges afterwards.
    currents : (K, P, n_out) received output currents of the reads (A).
    answer, wrong : (K, P) winner (-1: none) and punished output (-1: none).
    margin : (K, P) target current minus the strongest other (A).
    read_energy, punish_energy : (K, P) energies (J) of the read and of the
        punishment plus normalisation.
    counts : (K, 5) adaptive solver counts (solves, accepted, rejected, event retries, failed).
    Entries of slots or copies not presented keep their initial values (0, or -1).
    """

    x: np.ndarray
    open_edges: np.ndarray
    currents: np.ndarray
    answer: np.ndarray
    wrong: np.ndarray
    margin: np.ndarray
    read_energy: np.ndarray
    punish_energy: np.ndarray
    counts: np.ndarray


def present(hw: Hardware, packed: Configurations, order: np.ndarray, active: np.ndarray,
            controller: Controller = Controller(), *, slots: tuple[int, int] | None = None,
            durations: tuple[float, float, float] | None = None, forced: int = -1) -> Presented:
    """Present slots of an era to the active copies in one compiled call (:func:`run_slots`).

    Parameters
    ----------
    hw : Hardware
        Not modified; the new states are in the result.
    packed : Configurations
        Of ``hw`` and the task (:func:`configurations`).
    order : (K, P) int
        Pattern of each slot per copy (``ControllerState.order``).
    active : (K,) bool
        Copies that take part.
    controller : Controller
        Pulses, resolution and tolerances.
    slots : (first, end), optional
        Slots presented (default: all ``P``).
    durations : (read, punish, normalise), optional
        Pulse durations (s), default those of ``controller.pulses``; 0 skips
        a pulse (used to apply one kind of pulse alone).
    forced : int
        ``>= 0``: every read counts as a mistake won by this output, which
        is punished (then the copies are normalised); for probing what the
        pulses do to a device, not for training.

    Returns
    -------
    Presented

    Examples
    --------
    >>> from memsim import Network, layered, VTEAM
    >>> from memsim.learning import association, build_hardware, initial_state
    >>> hw = build_hardware(Network.from_graph(layered([2, 4, 2], orientation="backward"), VTEAM()),
    ...                     n_copies=3, seed=0)
    >>> task = association((0, 1))
    >>> out = present(hw, configurations(hw, task), initial_state(task, 3).order, np.ones(3, bool))
    >>> out.answer.shape, bool((out.x != hw.x).any())
    ((3, 2), True)
    """
    why = unsupported(hw, controller, packed)
    if why is not None:
        raise ValueError(f"present: the compiled loop does not apply: {why}")
    pulses = controller.pulses
    circ = hw.circuit
    ins, outs = circ.index_of(list(hw.inputs)), circ.index_of(list(hw.outputs))
    if packed.shape != (circ.n_nodes, circ.n_edges, tuple(int(i) for i in ins), tuple(int(o) for o in outs)):
        raise ValueError("present: packed was built for another circuit (configurations(hw, task) of this hardware)")
    k, m = hw.x.shape
    n_p, n_out = packed.n_patterns, packed.outputs.size
    order = np.array(order, dtype=np.int64, order="C")
    active = np.array(active, dtype=bool)
    if order.shape != (k, n_p) or active.shape != (k,):
        raise ValueError(f"order must have shape ({k}, {n_p}) and active ({k},), got {order.shape} and {active.shape}")
    if order.size and (order.min() < 0 or order.max() >= n_p):
        raise ValueError(f"order must hold pattern indices in [0, {n_p})")
    lo, hi = (0, n_p) if slots is None else (int(slots[0]), int(slots[1]))
    if not 0 <= lo <= hi <= n_p:
        raise ValueError(f"slots must satisfy 0 <= first <= end <= {n_p}, got {slots!r}")
    if not -1 <= forced < n_out:
        raise ValueError(f"forced must be -1 or an output index in [0, {n_out}), got {forced!r}")
    dur = np.array([pulses.read_duration, pulses.punish_duration, pulses.normalise_duration] if durations is None
                   else durations, dtype=float)
    if dur.shape != (3,) or not np.all(np.isfinite(dur) & (dur >= 0)):
        raise ValueError(f"durations must be three finite numbers >= 0 s, got {durations!r}")
    x = np.array(hw.x)
    open_ = np.array(hw.open_edges)
    still = (circ.model == MODEL_RESISTOR)[None, :] | open_
    d_max = packed.volts.shape[1]
    currents = np.zeros((k, n_p, n_out))
    answer = np.full((k, n_p), -1, dtype=np.int64)
    wrong = np.full((k, n_p), -1, dtype=np.int64)
    margin = np.zeros((k, n_p))
    read_e = np.zeros((k, n_p))
    pun_e = np.zeros((k, n_p))
    counts = np.zeros((k, 5), dtype=np.int64)

    def c(a, dtype=None):  # writeable C-ordered copies: the adaptive kernel keeps simulate()'s one specialisation
        return np.array(a, dtype=dtype, order="C")

    n = circ.n_nodes
    args = (lo, hi, order, active, c(packed.targets, dtype=np.int64), x, c(hw.params), c(circ.model),
            np.ones((k, m)), still, np.zeros(m, dtype=bool), open_, c(circ.edge_u), c(circ.edge_v), c(circ.leak),
            np.empty((k, n), dtype=np.int64), np.empty(k, dtype=np.int64), hw.memristors, packed.ptr, packed.nodes,
            packed.volts, packed.outputs, np.zeros(d_max, dtype=np.int64), np.zeros((d_max, 4)),
            np.zeros(d_max + 1, dtype=np.int64), np.zeros(0), np.zeros(0), np.zeros(0), dur, float(hw.prune_below),
            float(pulses.resolution), np.array([0, 1, 0, forced], dtype=np.int64),
            np.array([0.0, pulses.rtol, pulses.atol, np.inf]), np.zeros(0), np.empty((0, 1, m)), np.empty((0, 1, m)),
            np.empty((0, 1, m)), np.empty((0, 1, n)), np.empty((0, 1, n)), np.empty((0, 1)), *packed.adjacency,
            currents, answer, wrong, margin, read_e, pun_e, counts)
    _on_threads(run_slots, k, args)
    if counts[:, 4].any():
        bad = np.flatnonzero(counts[:, 4])
        raise RuntimeError(f"simulation failed: step size underflow in copies {bad.tolist()[:10]}: the tolerances "
                           f"rtol={pulses.rtol}, atol={pulses.atol} cannot be met")
    x.setflags(write=False)
    open_.setflags(write=False)
    return Presented(x, open_, currents, answer, wrong, margin, read_e, pun_e, counts)
