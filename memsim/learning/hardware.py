"""The hardware the learning controller talks to: a circuit, its instruments and its device states.

:class:`Hardware` is an immutable snapshot of K copies of one memristive
circuit. The controller never reads or writes device states: it only calls
:meth:`Hardware.run`, which applies a protocol of terminal conditions through
:func:`memsim.simulate` and returns a new snapshot whose states are exactly
``Result.x_final`` (the arrays are read-only). Two hardware rules act after
every protocol, as physics would, not as controller decisions:

- **pruning**: a memristor whose conductance has fallen below
  ``prune_below`` (S) breaks: it becomes an open circuit for good
  (:func:`memsim.learning.pruning.threshold_pruned`);
- **cycle-to-cycle noise**: each protocol run draws fresh rate factors (the
  ``c2c`` sigma of :class:`memsim.Variability`) from a seed derived from the
  hardware seed and the run counter, so runs are reproducible.

Instruments: every input terminal is driven through a source resistance
(``source_resistance``, ohm; 50 ohm is the output impedance of a standard
pulse generator). It is what makes the normalising pulse of the controller
homeostatic: a depressed (high-resistance) network takes most of the pulse and
is potentiated, a potentiated one leaves the pulse on the source resistance
and is left alone. Outputs are grounded through ideal ammeters.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

import numpy as np

from memsim.circuit.network import CompiledNetwork, Network
from memsim.devices import functions as fn
from memsim.devices.models import MODEL_CTDV, MODEL_GMS, MODEL_LINEAR_DRIFT, MODEL_VTEAM, Resistor
from memsim.devices.variability import Variability, sample_devices
from memsim.learning.pruning import threshold_pruned
from memsim.solve.integrate import simulate
from memsim.solve.protocol import Segment
from memsim.solve.result import Result

__all__ = ["Hardware", "build_hardware", "SOURCE"]

Seed = int | np.random.Generator | None

#: Name tag of the source (instrument) nodes: input ``n`` is driven at node ``(SOURCE, n)``.
SOURCE = "source"

#: Packed slots set so that a stuck device has zero switching rate, per model code.
_FREEZE: dict[int, tuple[tuple[int, float], ...]] = {
    MODEL_LINEAR_DRIFT: ((2, 0.0),),  # k
    MODEL_VTEAM: ((2, 0.0), (3, 0.0)),  # k_on, k_off
    MODEL_CTDV: ((2, 0.0), (3, 1e300)),  # alpha, beta -> rate ~ 0
    MODEL_GMS: ((4, 1e300),),  # tau -> rate ~ 0
}


def _readonly(a: np.ndarray) -> np.ndarray:
    a = np.array(a)  # a private copy
    a.setflags(write=False)
    return a


def _freeze(obj, names: tuple[str, ...]) -> None:
    """In a frozen dataclass's ``__post_init__``: replace each writeable array field by a read-only copy."""
    for name in names:
        arr = getattr(obj, name)
        if arr.flags.writeable:
            object.__setattr__(obj, name, _readonly(arr))


@dataclass(frozen=True, eq=False)
class Hardware:
    """K copies of a memristive circuit with its instruments (immutable).

    Build it with :func:`build_hardware`; change it only with :meth:`run`
    (device states) or :func:`memsim.learning.pruning.prune_edges`
    (structure, before training).

    Attributes
    ----------
    circuit : CompiledNetwork
        The network plus the source resistors of the inputs.
    inputs, outputs : tuple
        Terminal names the controller drives (the source nodes) and reads
        (the network's output nodes), in the network's input/output order.
    n_devices : int
        Edges ``0 .. n_devices - 1`` of the circuit are the network's own
        edges (same numbering as the network); the rest are instruments.
    x : (K, M) read-only device states (M circuit edges).
    params : (K, M, P) read-only packed parameters (after device spread).
    open_edges : (K, M) read-only bool, pruned edges.
    prune_below : float
        Conductance (S) below which a memristor breaks; 0 disables pruning.
    c2c : float
        Log-normal sigma of the cycle-to-cycle rate noise (per protocol segment).
    seed : int
        Base of the seeds of the cycle-to-cycle draws.
    runs : int
        Protocols run so far.
    """

    circuit: CompiledNetwork = field(repr=False)
    inputs: tuple
    outputs: tuple
    n_devices: int
    x: np.ndarray = field(repr=False)
    params: np.ndarray = field(repr=False)
    open_edges: np.ndarray = field(repr=False)
    prune_below: float = 0.0  # S
    c2c: float = 0.0  # 1
    seed: int = 0
    runs: int = 0

    def __post_init__(self) -> None:
        _freeze(self, ("x", "params", "open_edges"))

    @property
    def n_copies(self) -> int:
        """Number of copies K."""
        return int(self.x.shape[0])

    @property
    def memristors(self) -> np.ndarray:
        """(M,) bool: network edges whose state evolves."""
        out = self.circuit.dynamic.copy()
        out[self.n_devices:] = False
        return out

    def conductances(self) -> np.ndarray:
        """(K, n_devices) conductances of the network's edges (S), 0 where open.

        For observers (history, figures); the controller never calls it.

        Examples
        --------
        >>> from memsim import Network, layered, VTEAM
        >>> hw = build_hardware(Network.from_graph(layered([2, 2], orientation="backward"), VTEAM()), x0=1.0)
        >>> hw.conductances().tolist()  # fully ON VTEAM devices: 1 / r_on
        [[0.02, 0.02, 0.02, 0.02]]
        """
        g = fn.conductance(self.circuit.model, self.params, self.x)
        g = np.where(self.open_edges, 0.0, g)
        return g[:, : self.n_devices]

    def run(
        self,
        protocol: Segment | Sequence[Segment],
        *,
        dt: float,
        copies: np.ndarray | Sequence[int] | None = None,
        method: Literal["adaptive", "euler", "heun", "rk4"] = "rk4",
        record: Sequence[str] = ("i_node", "power"),
        record_every: int = 1,
        rtol: float = 1e-6,
        atol: float = 1e-8,
    ) -> tuple["Hardware", Result]:
        """Apply a protocol to some copies through :func:`memsim.simulate`.

        Parameters
        ----------
        protocol : Segment or sequence of Segment
            Terminal conditions; per-copy voltages have one value per selected copy.
        dt : float
            Largest time step (s).
        copies : array of int, optional
            Copies that take part (default all); the others do not change.
        method, record, record_every, rtol, atol
            Passed to :func:`memsim.simulate` (an ensemble run over the
            selected copies; ``rtol``/``atol`` for ``method="adaptive"``).

        Returns
        -------
        (Hardware, Result)
            The new hardware (states of the selected copies = ``Result.x_final``,
            then the pruning rule) and the simulation result.

        Examples
        --------
        >>> from memsim import Network, layered, VTEAM, Segment
        >>> hw = build_hardware(Network.from_graph(layered([2, 2], orientation="backward"), VTEAM()),
        ...                     n_copies=3, seed=0)
        >>> read = Segment(1e-10, drive={hw.inputs[0]: 0.01}, ground=hw.outputs)
        >>> hw2, res = hw.run(read, dt=1e-11)
        >>> bool((hw2.x == res.x_final).all()), hw2.runs
        (True, 1)
        """
        sel = np.arange(self.n_copies) if copies is None else np.asarray(copies, dtype=np.int64).reshape(-1)
        if sel.size == 0:
            raise ValueError("Hardware.run: copies selects no copy")
        if sel.min() < 0 or sel.max() >= self.n_copies or np.unique(sel).size != sel.size:
            raise ValueError(f"Hardware.run: copies must be distinct indices in [0, {self.n_copies}), got {sel.tolist()}")
        var = Variability(c2c=self.c2c) if self.c2c > 0 else None
        seed = np.random.SeedSequence([self.seed, self.runs])
        res = simulate(
            self.circuit, protocol, dt=dt, method=method, x0=self.x[sel], params=self.params[sel],
            open_edges=self.open_edges[sel], variability=var, seed=np.random.default_rng(seed),
            record=record, record_every=record_every, rtol=rtol, atol=atol,
        )
        if not res.success:  # pragma: no cover - fixed-step runs always succeed
            raise RuntimeError(f"Hardware.run: simulation failed: {res.status}")
        x = np.array(self.x)
        x[sel] = res.x_final
        open_ = np.array(self.open_edges)
        if self.prune_below > 0:
            dyn = self.memristors
            open_[sel] = threshold_pruned(
                self.circuit.model, self.params[sel], res.x_final, self.open_edges[sel], self.prune_below, dyn
            )
        return replace(self, x=_readonly(x), open_edges=_readonly(open_), runs=self.runs + 1), res

    def __repr__(self) -> str:
        return (
            f"Hardware({self.n_copies} copies, {self.n_devices} devices, inputs {list(self.inputs)}, "
            f"outputs {list(self.outputs)}, {int(self.open_edges.sum())} open, {self.runs} runs)"
        )


def _state_array(x0, k: int, m: int, rng: np.random.Generator) -> np.ndarray:
    if isinstance(x0, str):
        if x0 != "random":
            raise ValueError(f"x0 must be a number, an array or 'random', got {x0!r}")
        return rng.random((k, m))
    arr = np.asarray(x0, dtype=float)
    if arr.ndim == 0:
        arr = np.full((k, m), float(arr))
    elif arr.shape == (m,):
        arr = np.tile(arr, (k, 1))
    elif arr.shape != (k, m):
        raise ValueError(f"x0 must be a number, 'random', or have shape ({m},) or ({k}, {m}), got {arr.shape}")
    if not np.all(np.isfinite(arr)) or np.any((arr < 0) | (arr > 1)):
        raise ValueError("x0 must be finite and in [0, 1]")
    return arr


def build_hardware(
    network: Network,
    *,
    n_copies: int = 1,
    x0: float | np.ndarray | Literal["random"] = "random",
    variability: Variability | None = None,
    source_resistance: float = 50.0,
    prune_below: float = 0.0,
    seed: Seed = None,
) -> Hardware:
    """Instrument a network and make K copies of it.

    Parameters
    ----------
    network : Network
        The memristive network (inputs and outputs by node role).
    n_copies : int
        Number of copies K (an ensemble trained together).
    x0 : float, (M,) or (K, M) array, or "random"
        Initial states of the network's edges; ``"random"`` (default) draws
        every state uniformly in ``[0, 1)`` per copy (a seeded source of
        asymmetry, as the unformed devices of a fresh chip).
    variability : Variability, optional
        Device-to-device spread and stuck devices are drawn once here, per
        copy; cycle-to-cycle noise acts in every :meth:`Hardware.run`.
        Stuck devices keep their state (their switching rates are zeroed).
    source_resistance : float
        Series resistance (ohm) between each input terminal and the network
        (default 50 ohm, a pulse generator's output impedance); 0 drives
        the inputs directly. It sets the conductance the normalising pulse
        restores (module docstring); with 0 ohm and the default pulses the
        2-4-2 net learns the bijective maps in 10 of 40 seeds instead of 40
        of 40 (``experiments/codesign_hardware.py``, which also measures the
        set point and its dependence on the resistance and the device).
    prune_below : float
        Hardware pruning rule: memristors whose conductance falls below this
        value (S) become open for good; 0 (default) disables it.
    seed : int or Generator
        Seeds the initial states, the device spread and the cycle-to-cycle noise.

    Examples
    --------
    >>> from memsim import Network, layered, VTEAM
    >>> net = Network.from_graph(layered([2, 4, 2], orientation="backward"), VTEAM())
    >>> hw = build_hardware(net, n_copies=5, seed=1)
    >>> hw.x.shape, hw.inputs
    ((5, 18), (('source', ('in', 0)), ('source', ('in', 1))))
    """
    if not isinstance(network, Network):
        raise ValueError(f"network must be a memsim Network, got {type(network).__name__}")
    if isinstance(n_copies, bool) or not isinstance(n_copies, numbers.Integral) or n_copies < 1:
        raise ValueError(f"n_copies must be an integer >= 1, got {n_copies!r}")
    for name, val in (("source_resistance", source_resistance), ("prune_below", prune_below)):
        if not (isinstance(val, numbers.Real) and math.isfinite(val) and val >= 0):
            raise ValueError(f"{name} must be a finite number >= 0, got {val!r}")
    ins, outs = network.inputs, network.outputs
    if len(outs) < 2:
        raise ValueError(f"network must have at least 2 output nodes to learn from mistakes, got {len(outs)}")
    rng = np.random.default_rng(seed)
    m_net = network.n_edges
    x_net = _state_array(x0, n_copies, m_net, rng)
    circ = Network(default_device=network.default_device)
    in_set, out_set = set(ins), set(outs)
    for n in network.nodes:
        role = "input" if n in in_set else "output" if n in out_set else "bulk"
        circ.add_node(n, "bulk" if (role == "input" and source_resistance > 0) else role)
    for e in network.edges:
        circ.add_edge(e.u, e.v, e.device, x0=e.x0)
    terminals: list[Hashable] = list(ins)
    if source_resistance > 0:
        terminals = []
        for n in ins:
            t = (SOURCE, n)
            if t in network.nodes:
                raise ValueError(f"network already has a node named {t!r}")
            circ.add_node(t, "input")
            circ.add_edge(t, n, Resistor(float(source_resistance)), x0=0.0)
            terminals.append(t)
    compiled = circ.compile()
    m = compiled.n_edges
    x = np.zeros((n_copies, m))
    x[:, :m_net] = np.where(compiled.dynamic[:m_net], x_net, 0.0)
    params = np.array(np.broadcast_to(compiled.params, (n_copies,) + compiled.params.shape))
    if variability is not None:
        if not isinstance(variability, Variability):
            raise ValueError(f"variability must be a memsim Variability, got {type(variability).__name__}")
        sample = sample_devices(compiled.model, compiled.params, n_copies, variability, rng)
        params = sample.params
        stuck = sample.stuck & compiled.dynamic[None, :]
        stuck[:, m_net:] = False
        x = np.where(stuck, sample.stuck_state, x)
        for code, slots in _FREEZE.items():
            sel = stuck & (compiled.model == code)[None, :]
            for slot, val in slots:
                params[..., slot] = np.where(sel, val, params[..., slot])
        c2c = float(variability.c2c)
    else:
        c2c = 0.0
    return Hardware(
        circuit=compiled,
        inputs=tuple(terminals),
        outputs=tuple(outs),
        n_devices=m_net,
        x=x,
        params=params,
        open_edges=np.zeros((n_copies, m), dtype=bool),
        prune_below=float(prune_below),
        c2c=c2c,
        seed=int(rng.integers(2**62)),
    )
