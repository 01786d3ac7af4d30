"""Networks as files (JSON node-link, GraphML) and configurations as TOML.

A :class:`~memsim.circuit.network.Network` is written with everything needed
to rebuild it exactly: node names and roles in node order, edges in index
order with their orientation ``u -> v``, each edge's device class and every
one of its parameters, the initial state ``x0``, and the network's default
device. Reading a file back gives a network whose
:meth:`~memsim.circuit.network.Network.compile` arrays are equal to the
original's.

Node names
----------
Node names may be strings, integers, floats, booleans, ``None`` and (nested)
tuples of these, such as ``("in", 0)`` or ``("h", 1, 2)`` from
:func:`~memsim.circuit.topologies.layered`. They are encoded as JSON values:
a tuple becomes a JSON array of its encoded items and every other name is
written as itself. Lists cannot be node names (they are not hashable), so
an array always decodes back to a tuple and the encoding is reversible. In
GraphML, node ids are positional (``n0``, ``n1``, ...) and the node data
``name`` holds the JSON text of the encoded name (``"a"`` with its quotes for
the string ``a``, ``["in", 0]`` for the tuple ``("in", 0)``).

JSON layout (node-link)
-----------------------
::

    {"format": "memsim-network", "version": 1, "directed": true, "multigraph": true,
     "graph": {"default_device": {"class": "VTEAM", "params": {...}}},
     "nodes": [{"id": ["in", 0], "role": "input"}, ...],
     "edges": [{"source": ["in", 0], "target": ["h", 1, 0], "key": 0, "index": 0,
                "x0": 0.5, "device": {"class": "LinearIonDrift", "params": {"r_on": 100.0, ...}}},
               ...]}

GraphML layout
--------------
Graph data ``format``, ``version`` and the default device; node data ``name``
and ``role``; edge data ``index``, ``x0``, ``device`` (the class name) and one
typed attribute ``device.<field>`` per device parameter (``device.r_on``,
``device.window``, ...), so that other tools can colour edges by a
parameter. Edges are directed ``source -> target``.

Files written by other programs are read leniently: a missing role is
``"bulk"``, a missing device is the default device (:class:`VTEAM` unless the
file names one), a missing ``x0`` is 0.5, edges without ``index`` keep their
order in the file, and a GraphML file without the ``memsim-network`` marker
uses its node ids (strings) as names.

Every problem with a file raises a one-line :class:`ValueError` that names the
file and the bad field (a missing file raises :class:`FileNotFoundError`).
"""

from __future__ import annotations

import dataclasses
import json
import math
import numbers
import os
import tomllib
import xml.etree.ElementTree as ET
from collections.abc import Hashable, Mapping
from pathlib import Path
from typing import Any

from memsim.circuit.network import Network
from memsim.devices.models import VTEAM, Device

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "encode_node",
    "decode_node",
    "device_to_dict",
    "device_from_dict",
    "to_node_link",
    "from_node_link",
    "write_json",
    "read_json",
    "write_graphml",
    "read_graphml",
    "write_network",
    "read_network",
    "load_config",
]

#: Marker written in every network file.
FORMAT = "memsim-network"
#: Version of the file layout (bumped on incompatible changes).
FORMAT_VERSION = 1

_GRAPHML_NS = "http://graphml.graphdrawing.org/xmlns"
_XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
_SCHEMA = "http://graphml.graphdrawing.org/xmlns http://graphml.graphdrawing.org/xmlns/1.0/graphml.xsd"
_DEFAULT_X0 = 0.5  # the default of Network.add_edge


# --------------------------------------------------------------------------- node names
def encode_node(name: Hashable) -> Any:
    """JSON value of a node name: tuples become arrays, other names stay as they are.

    Raises
    ------
    ValueError
        If the name (or an item of a tuple) is not a string, number, boolean,
        ``None`` or tuple, or is a non-finite float.

    Examples
    --------
    >>> encode_node(("h", 1, 2))
    ['h', 1, 2]
    >>> decode_node(encode_node(("in", 0)))
    ('in', 0)
    """
    if isinstance(name, tuple):
        return [encode_node(item) for item in name]
    if name is None or isinstance(name, (str, bool)):
        return name
    if isinstance(name, numbers.Integral):
        return int(name)
    if isinstance(name, numbers.Real) and math.isfinite(name):
        return float(name)
    raise ValueError(
        f"node name {name!r} cannot be written: names must be strings, numbers, booleans, None "
        "or tuples of these"
    )


def decode_node(value: Any) -> Hashable:
    """Node name from its JSON value (the inverse of :func:`encode_node`).

    Examples
    --------
    >>> decode_node(["w", 0, 1])
    ('w', 0, 1)
    """
    if isinstance(value, list):
        return tuple(decode_node(item) for item in value)
    if isinstance(value, dict):
        raise ValueError(f"node name {value!r} is a JSON object; expected a string, number or array")
    return value


# --------------------------------------------------------------------------- devices
def _device_classes() -> dict[str, type[Device]]:
    found: dict[str, type[Device]] = {}
    todo = [Device]
    while todo:
        cls = todo.pop()
        for sub in cls.__subclasses__():
            todo.append(sub)
            if dataclasses.is_dataclass(sub):
                found[sub.__name__] = sub
    return found


def _kind(field: dataclasses.Field) -> type:
    """Python type a device parameter is written as (from its annotation)."""
    typ = field.type if isinstance(field.type, str) else getattr(field.type, "__name__", "")
    return {"float": float, "int": int, "bool": bool}.get(typ, str)


def device_to_dict(device: Device) -> dict:
    """``{"class": name, "params": {field: value}}`` with every parameter of ``device``.

    Examples
    --------
    >>> from memsim.devices.models import Resistor
    >>> device_to_dict(Resistor(50.0))
    {'class': 'Resistor', 'params': {'resistance': 50.0}}
    """
    if not (isinstance(device, Device) and dataclasses.is_dataclass(device)):
        raise ValueError(f"device {device!r} is not a memsim device dataclass")
    params = {}
    for f in dataclasses.fields(device):
        val = getattr(device, f.name)
        kind = _kind(f)
        params[f.name] = kind(val) if kind is not str else val
    return {"class": type(device).__name__, "params": params}


def device_from_dict(data: Mapping, where: str = "device") -> Device:
    """Device from ``{"class": name, "params": {...}}``; missing parameters take their defaults.

    Parameters
    ----------
    data : mapping
        As written by :func:`device_to_dict`.
    where : str
        Prefix of error messages (e.g. ``"circuit.json: edge 3"``).

    Raises
    ------
    ValueError
        Unknown class (the message names it and lists the known ones), unknown
        parameter, a parameter of the wrong type, or a value the device rejects.

    Examples
    --------
    >>> device_from_dict({"class": "LinearIonDrift", "params": {"window": "biolek"}}).window
    'biolek'
    >>> device_from_dict({"class": "Memristron"})
    Traceback (most recent call last):
    ...
    ValueError: device: unknown device class 'Memristron' (known: CaravelliTraversaDiVentra, LinearIonDrift, MetastableSwitch, Resistor, VTEAM)
    """
    if not isinstance(data, Mapping):
        raise ValueError(f"{where}: expected a table with 'class' and 'params', got {data!r}")
    extra = sorted(set(data) - {"class", "params"})
    if extra:
        raise ValueError(f"{where}: unknown key(s) {extra} (expected 'class' and 'params')")
    name = data.get("class")
    classes = _device_classes()
    if name not in classes:
        raise ValueError(f"{where}: unknown device class {name!r} (known: {', '.join(sorted(classes))})")
    cls = classes[name]
    params = data.get("params", {})
    if not isinstance(params, Mapping):
        raise ValueError(f"{where}: 'params' must be a table of parameter values, got {params!r}")
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    kwargs = {}
    for key, val in params.items():
        if key not in fields:
            raise ValueError(f"{where}: {name} has no parameter {key!r} (parameters: {', '.join(fields)})")
        kind = _kind(fields[key])
        if kind is str:
            ok = isinstance(val, str)
        elif kind is int:
            ok = isinstance(val, numbers.Integral) or (isinstance(val, float) and val.is_integer())
        else:
            ok = isinstance(val, numbers.Real)
        if not ok or isinstance(val, bool) != (kind is bool):
            raise ValueError(f"{where}: {name}.{key} must be of type {kind.__name__}, got {val!r}")
        kwargs[key] = kind(val)
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{where}: {exc}") from None


# --------------------------------------------------------------------------- node-link dicts
def to_node_link(network: Network) -> dict:
    """The network as a JSON-ready node-link dict (see the module docstring).

    Examples
    --------
    >>> from memsim import Network, layered
    >>> data = to_node_link(Network.from_graph(layered([1, 1])))
    >>> data["nodes"]
    [{'id': ['in', 0], 'role': 'input'}, {'id': ['out', 0], 'role': 'output'}]
    >>> data["edges"][0]["device"]["class"]
    'VTEAM'
    """
    nodes = [{"id": encode_node(n), "role": network._roles[n]} for n in network.nodes]
    edges = []
    for e, edge in enumerate(network.edges):
        edges.append({
            "source": encode_node(edge.u),
            "target": encode_node(edge.v),
            "key": e,
            "index": e,
            "x0": float(edge.x0),
            "device": device_to_dict(edge.device),
        })
    return {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "directed": True,
        "multigraph": True,
        "graph": {"default_device": device_to_dict(network.default_device)},
        "nodes": nodes,
        "edges": edges,
    }


def _x0(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{where}: x0 must be a number in [0, 1], got {value!r}")
    return float(value)


def _edge_order(indices: list, where: str) -> list[int]:
    """Positions of the edges sorted by their ``index`` (all given) or file order (none given)."""
    given = [i is not None for i in indices]
    if not any(given):
        return list(range(len(indices)))
    if not all(given):
        missing = given.index(False)
        raise ValueError(f"{where}: edge {missing} has no 'index' while others do")
    for pos, i in enumerate(indices):
        if isinstance(i, bool) or not isinstance(i, numbers.Integral):
            raise ValueError(f"{where}: edge {pos}: index must be an integer, got {i!r}")
    if sorted(indices) != list(range(len(indices))):
        raise ValueError(f"{where}: edge indices must be 0 .. {len(indices) - 1}, each once")
    return sorted(range(len(indices)), key=lambda pos: indices[pos])


def _build(default: Device, nodes: list, edges: list, where: str) -> Network:
    """Network from decoded ``(name, role)`` nodes and ``(u, v, device, x0, index)`` edges."""
    net = Network(default_device=default)
    for name, role in nodes:
        if name in net._roles:
            raise ValueError(f"{where}: node {name!r} appears twice")
        try:
            net.add_node(name, role)
        except ValueError as exc:
            raise ValueError(f"{where}: {exc}") from None
    for pos in _edge_order([e[4] for e in edges], where):
        u, v, device, x0 = edges[pos][:4]
        for end in (u, v):
            if end not in net._roles:
                raise ValueError(f"{where}: edge {pos}: endpoint {end!r} is not a declared node")
        if device is None:
            device = default
        if x0 is None:
            x0 = _DEFAULT_X0 if device.dynamic else 0.0
        try:
            net.add_edge(u, v, device, x0=x0)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{where}: edge {pos}: {exc}") from None
    return net


def from_node_link(data: Mapping, where: str = "network") -> Network:
    """Network from a node-link dict (the inverse of :func:`to_node_link`).

    ``"links"`` is accepted for ``"edges"`` (older networkx files).

    Examples
    --------
    >>> from memsim import Network, layered
    >>> net = Network.from_graph(layered([2, 3, 1]))
    >>> from_node_link(to_node_link(net)).nodes == net.nodes
    True
    """
    if not isinstance(data, Mapping):
        raise ValueError(f"{where}: expected a JSON object with 'nodes' and 'edges', got {type(data).__name__}")
    if "format" in data and data["format"] != FORMAT:
        raise ValueError(f"{where}: format must be {FORMAT!r}, got {data['format']!r}")
    version = data.get("version", FORMAT_VERSION)
    if version != FORMAT_VERSION:
        raise ValueError(f"{where}: version {version!r} is not supported (this memsim reads version {FORMAT_VERSION})")
    graph = data.get("graph", {})
    if not isinstance(graph, Mapping):
        raise ValueError(f"{where}: 'graph' must be an object, got {graph!r}")
    default: Device = VTEAM()
    if "default_device" in graph:
        default = device_from_dict(graph["default_device"], f"{where}: default_device")
    raw_nodes = data.get("nodes")
    key = "edges" if "edges" in data else "links"
    raw_edges = data.get(key, [])
    if not isinstance(raw_nodes, list):
        raise ValueError(f"{where}: 'nodes' must be a list, got {raw_nodes!r}")
    if not isinstance(raw_edges, list):
        raise ValueError(f"{where}: '{key}' must be a list, got {raw_edges!r}")
    nodes = []
    for k, node in enumerate(raw_nodes):
        if not isinstance(node, Mapping) or "id" not in node:
            raise ValueError(f"{where}: node {k} must be an object with an 'id', got {node!r}")
        try:
            name = decode_node(node["id"])
        except ValueError as exc:
            raise ValueError(f"{where}: node {k}: {exc}") from None
        nodes.append((name, node.get("role", "bulk")))
    edges = []
    for k, edge in enumerate(raw_edges):
        if not isinstance(edge, Mapping) or "source" not in edge or "target" not in edge:
            raise ValueError(f"{where}: edge {k} must be an object with 'source' and 'target', got {edge!r}")
        ew = f"{where}: edge {k}"
        try:
            u, v = decode_node(edge["source"]), decode_node(edge["target"])
        except ValueError as exc:
            raise ValueError(f"{ew}: {exc}") from None
        device = device_from_dict(edge["device"], ew) if "device" in edge else None
        x0 = _x0(edge["x0"], ew) if "x0" in edge else None
        edges.append((u, v, device, x0, edge.get("index")))
    return _build(default, nodes, edges, where)


# --------------------------------------------------------------------------- JSON files
def _text(path: str | os.PathLike, what: str) -> str:
    p = Path(path)
    if not p.is_file():
        if p.exists():
            raise ValueError(f"{p}: is not a file")
        raise FileNotFoundError(f"{what} not found: {p}")
    try:
        return p.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"{p}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None


#: Deepest nesting of lists/tables accepted in JSON and TOML files (memsim's own formats need
#: fewer than 10 levels; a bound keeps hostile files from exhausting the stack).
MAX_NESTING = 64


def _nesting_depth(text: str) -> int:
    """Upper bound on the bracket nesting of a JSON/TOML text (brackets in strings counted too)."""
    depth = deepest = 0
    for ch in text:
        if ch in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
        elif ch in "]}":
            depth = max(0, depth - 1)
    return deepest


def _check_nesting(text: str, path: str | os.PathLike, what: str) -> None:
    """ValueError if the text nests deeper than :data:`MAX_NESTING` (checked before parsing)."""
    if _nesting_depth(text) > MAX_NESTING:
        # brackets inside strings may count: re-check the parsed structure only when the quick bound fails
        try:
            data = json.loads(text) if what == "JSON" else tomllib.loads(text)
        except RecursionError:
            raise ValueError(f"{path}: malformed {what}: nested more than {MAX_NESTING} levels deep") from None
        except (json.JSONDecodeError, tomllib.TOMLDecodeError):
            return  # the parser reports it
        stack = [(data, 1)]
        while stack:
            obj, d = stack.pop()
            if d > MAX_NESTING:
                raise ValueError(f"{path}: malformed {what}: nested more than {MAX_NESTING} levels deep")
            if isinstance(obj, dict):
                stack.extend((v, d + 1) for v in obj.values())
            elif isinstance(obj, list):
                stack.extend((v, d + 1) for v in obj)


def _atomic_write(path: str | os.PathLike, text: str) -> None:
    p = Path(path)
    tmp = p.with_name(f".{p.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, p)
    finally:
        if tmp.exists():
            tmp.unlink()


def write_json(network: Network, path: str | os.PathLike) -> None:
    """Write a network as node-link JSON (atomically: a reader never sees half a file).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from memsim import Network, layered
    >>> net = Network.from_graph(layered([2, 4, 2]), x0="random", seed=0)
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = pathlib.Path(tmp) / "net.json"
    ...     write_json(net, path)
    ...     back = read_json(path)
    >>> back.nodes[:2], back.edges[0].x0 == net.edges[0].x0
    ([('in', 0), ('in', 1)], True)
    """
    text = json.dumps(to_node_link(network), indent=1, allow_nan=False)
    _atomic_write(path, text + "\n")


def read_json(path: str | os.PathLike) -> Network:
    """Read a network written by :func:`write_json` (or any node-link JSON).

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        Malformed JSON or a bad field; one line naming the file and the field.
    """
    text = _text(path, "network file")
    _check_nesting(text, path, "JSON")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: malformed JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})") from None
    return from_node_link(data, str(path))


# --------------------------------------------------------------------------- GraphML files
def _graphml_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "long"
    if isinstance(value, float):
        return "double"
    return "string"


def _graphml_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value) if isinstance(value, float) else str(value)


def _flat_device(device: Device, prefix: str) -> dict:
    d = device_to_dict(device)
    return {prefix: d["class"], **{f"{prefix}.{k}": v for k, v in d["params"].items()}}


def write_graphml(network: Network, path: str | os.PathLike) -> None:
    """Write a network as GraphML (see the module docstring for the attributes).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from memsim import Network, crossbar
    >>> net = Network.from_graph(crossbar(2, 2, r_wire=5.0))
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     write_graphml(net, pathlib.Path(tmp) / "xbar.graphml")
    ...     back = read_graphml(pathlib.Path(tmp) / "xbar.graphml")
    >>> back.edges[-1].device
    Resistor(resistance=5.0)
    """
    graph_data = {"format": FORMAT, "version": FORMAT_VERSION, **_flat_device(network.default_device, "default_device")}
    node_rows = [{"name": json.dumps(encode_node(n)), "role": network._roles[n]} for n in network.nodes]
    edge_rows = [{"index": e, "x0": float(edge.x0), **_flat_device(edge.device, "device")}
                 for e, edge in enumerate(network.edges)]
    keys: dict[tuple[str, str, str], str] = {}  # (for, name, type) -> key id

    def key_of(scope: str, name: str, value: Any) -> str:
        k = (scope, name, _graphml_type(value))
        if k not in keys:
            keys[k] = f"d{len(keys)}"
        return keys[k]

    def data_elems(parent: ET.Element, scope: str, row: Mapping) -> None:
        for name, value in row.items():
            el = ET.SubElement(parent, "data", key=key_of(scope, name, value))
            el.text = _graphml_text(value)

    graph = ET.Element("graph", id="G", edgedefault="directed")
    data_elems(graph, "graph", graph_data)
    index = {n: f"n{i}" for i, n in enumerate(network.nodes)}
    for n, row in zip(network.nodes, node_rows):
        data_elems(ET.SubElement(graph, "node", id=index[n]), "node", row)
    for e, (edge, row) in enumerate(zip(network.edges, edge_rows)):
        data_elems(ET.SubElement(graph, "edge", id=f"e{e}", source=index[edge.u], target=index[edge.v]), "edge", row)
    root = ET.Element("graphml", {"xmlns": _GRAPHML_NS, "xmlns:xsi": _XSI_NS, "xsi:schemaLocation": _SCHEMA})
    for (scope, name, typ), kid in keys.items():
        ET.SubElement(root, "key", {"id": kid, "for": scope, "attr.name": name, "attr.type": typ})
    root.append(graph)
    ET.indent(root)
    _atomic_write(path, ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n")


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _convert(text: str | None, typ: str, where: str) -> Any:
    text = "" if text is None else text.strip()
    try:
        if typ == "boolean":
            if text.lower() not in ("true", "false", "1", "0"):
                raise ValueError
            return text.lower() in ("true", "1")
        if typ in ("int", "long"):
            return int(text)
        if typ in ("float", "double"):
            return float(text)
    except ValueError:
        raise ValueError(f"{where}: {text!r} is not a valid {typ}") from None
    return text


def _graphml_tree(path: str | os.PathLike) -> ET.Element:
    text = _text(path, "network file")
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise ValueError(f"{path}: malformed GraphML (XML error: {exc})") from None
    if _local(root.tag) != "graphml":
        raise ValueError(f"{path}: not a GraphML file (root element is <{_local(root.tag)}>)")
    return root


def read_graphml(path: str | os.PathLike) -> Network:
    """Read a network from GraphML written by :func:`write_graphml` (or another program).

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        Malformed XML, an unsupported GraphML feature (nested graphs,
        hyperedges) or a bad field; one line naming the file and the field.
    """
    where = str(path)
    root = _graphml_tree(path)
    keys: dict[str, tuple[str, str, str, Any]] = {}
    for el in root:
        if _local(el.tag) != "key":
            continue
        kid = el.get("id")
        if kid is None:
            raise ValueError(f"{where}: a <key> has no id")
        name = el.get("attr.name", kid)
        typ = el.get("attr.type", "string")
        if typ not in ("boolean", "int", "long", "float", "double", "string"):
            raise ValueError(f"{where}: key {kid!r} has unsupported attr.type {typ!r}")
        default = None
        for child in el:
            if _local(child.tag) == "default":
                default = _convert(child.text, typ, f"{where}: default of key {kid!r}")
        keys[kid] = (el.get("for", "all"), name, typ, default)
    graphs = [el for el in root if _local(el.tag) == "graph"]
    if len(graphs) != 1:
        raise ValueError(f"{where}: expected one <graph> element, found {len(graphs)}")
    graph = graphs[0]

    def attrs(el: ET.Element, scope: str, what: str) -> dict:
        out = {name: default for s, name, _, default in keys.values() if s in (scope, "all") and default is not None}
        for child in el:
            if _local(child.tag) != "data":
                continue
            kid = child.get("key")
            if kid not in keys:
                raise ValueError(f"{where}: {what}: data refers to undeclared key {kid!r}")
            _, name, typ, _ = keys[kid]
            out[name] = _convert(child.text, typ, f"{where}: {what}: {name}")
        return out

    gdata = attrs(graph, "graph", "graph")
    ours = gdata.get("format") == FORMAT
    if ours and gdata.get("version", FORMAT_VERSION) != FORMAT_VERSION:
        raise ValueError(f"{where}: version {gdata['version']!r} is not supported (this memsim reads version {FORMAT_VERSION})")
    default = _device_from_flat(gdata, "default_device", f"{where}: default_device") or VTEAM()
    names: dict[str, Hashable] = {}
    nodes, edges = [], []
    for el in graph:
        tag = _local(el.tag)
        if tag in ("graph", "hyperedge"):
            raise ValueError(f"{where}: <{tag}> inside a graph is not supported")
        if tag == "node":
            nid = el.get("id")
            what = f"node {nid!r}"
            if nid is None:
                raise ValueError(f"{where}: a <node> has no id")
            if any(_local(c.tag) in ("graph", "port") for c in el):
                raise ValueError(f"{where}: {what}: nested graphs and ports are not supported")
            data = attrs(el, "node", what)
            node_name: Hashable = nid
            if ours and "name" in data:
                try:
                    if _nesting_depth(data["name"]) > MAX_NESTING:
                        raise ValueError("nested too deeply")
                    node_name = decode_node(json.loads(data["name"]))
                except (json.JSONDecodeError, ValueError, RecursionError):
                    raise ValueError(f"{where}: {what}: name {data['name']!r} is not a JSON-encoded node name") from None
            names[nid] = node_name
            nodes.append((node_name, data.get("role", "bulk")))
    for pos, el in enumerate(e for e in graph if _local(e.tag) == "edge"):
        what = f"edge {pos}"
        src, dst = el.get("source", ""), el.get("target", "")
        for end in (src, dst):
            if end not in names:
                raise ValueError(f"{where}: {what}: endpoint {end!r} is not a declared node")
        data = attrs(el, "edge", what)
        device = _device_from_flat(data, "device", f"{where}: {what}")
        x0 = _x0(data["x0"], f"{where}: {what}") if "x0" in data else None
        edges.append((names[src], names[dst], device, x0, data.get("index")))
    return _build(default, nodes, edges, where)


def _device_from_flat(data: Mapping, prefix: str, where: str) -> Device | None:
    if prefix not in data:
        stray = [k for k in data if k.startswith(prefix + ".")]
        if stray:
            raise ValueError(f"{where}: parameter {stray[0]!r} given without a {prefix!r} class")
        return None
    params = {k[len(prefix) + 1:]: v for k, v in data.items() if k.startswith(prefix + ".")}
    return device_from_dict({"class": data[prefix], "params": params}, where)


# --------------------------------------------------------------------------- by extension
_WRITERS = {".json": write_json, ".graphml": write_graphml}
_READERS = {".json": read_json, ".graphml": read_graphml}


def _suffix(path: str | os.PathLike) -> str:
    suffix = Path(path).suffix.lower()
    if suffix not in _READERS:
        raise ValueError(f"{path}: unknown network file type {suffix!r} (use .json or .graphml)")
    return suffix


def write_network(network: Network, path: str | os.PathLike) -> None:
    """Write a network as JSON or GraphML, chosen by the extension (``.json``, ``.graphml``)."""
    _WRITERS[_suffix(path)](network, path)


def read_network(path: str | os.PathLike) -> Network:
    """Read a network from a ``.json`` or ``.graphml`` file.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from memsim import Network, layered
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = pathlib.Path(tmp) / "net.graphml"
    ...     write_network(Network.from_graph(layered([2, 2])), path)
    ...     read_network(path)
    Network(4 nodes: 2 input, 2 output, 0 bulk; 4 edges)
    """
    return _READERS[_suffix(path)](path)


# --------------------------------------------------------------------------- TOML configs
def load_config(path: str | os.PathLike) -> dict:
    """Read a TOML configuration file into a dict.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist (one line naming it).
    ValueError
        If the file is not valid TOML (one line with the file, the problem,
        its line and column).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = pathlib.Path(tmp) / "run.toml"
    ...     _ = path.write_text('device = "HP_TIO2"\\n[drive]\\namplitude = 1.0\\n')
    ...     load_config(path)
    {'device': 'HP_TIO2', 'drive': {'amplitude': 1.0}}
    >>> load_config("no/such/file.toml")
    Traceback (most recent call last):
    ...
    FileNotFoundError: config file not found: no/such/file.toml
    """
    text = _text(path, "config file")
    _check_nesting(text, path, "TOML")
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        msg = " ".join(str(exc).split())
        raise ValueError(f"{path}: malformed TOML: {msg}") from None
