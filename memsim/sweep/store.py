"""Crash-safe storage of sweep results: one Parquet part per batch of finished points.

Layout of a results directory::

    results/
      part-<time ns>-<pid>-<counter>.parquet    one batch of finished points each
      .tmp-<pid>-<...>.parquet                  a part being written (ignored by readers)

A part is written to a temporary file in the same directory and renamed
into place with :func:`os.replace`, which is atomic on POSIX and Windows: a
reader (or a sweep killed with SIGKILL at any instant) sees either the whole
part or none of it. Only the process that runs the sweep writes parts, once
per batch of points it has received, so a killed sweep loses only the points
that were being computed. Temporary files of dead processes are removed by
the next sweep in the directory. :func:`load` reads every part, ignores
temporary files, and keeps one row per ``point_id`` (an ``"ok"`` row over an
``"error"`` row, then the latest), so rows are never duplicated even if a part
was copied twice. (Durability against power loss is not attempted: parts are
not fsynced.)

Rows have the columns: ``point_id``, the parameters (nested dicts flattened
to ``a.b`` columns, list values as JSON text), ``seed``, ``point`` (the whole
point as canonical JSON), ``memsim_version``, ``status`` (``"ok"`` or
``"error"``), ``error`` (``"Type: message"``), ``wall_s`` and the outputs.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
from collections.abc import Mapping, Sequence
from itertools import count
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = ["RESERVED", "canonical", "point_id", "derive_seed", "flatten", "write_part", "load",
           "read_parts", "deduplicate", "to_tables", "frame", "compact", "clean_temporary"]

#: Columns the runner writes besides the parameters and outputs.
RESERVED = ("point_id", "point", "seed", "memsim_version", "status", "error", "wall_s")
_TEXT = ("point_id", "point", "memsim_version", "status", "error")
_PART = re.compile(r"^part-\d+-\d+-\d+\.parquet$")
_TMP = re.compile(r"^\.tmp-(\d+)-.*\.parquet$")
_counter = count()


def canonical(value: Any) -> str:
    """Canonical JSON text (sorted keys, no spaces) of plain data: the basis of point ids.

    Examples
    --------
    >>> canonical({"b": [1, 2.5], "a": "x"})
    '{"a":"x","b":[1,2.5]}'
    """
    return json.dumps(value, sort_keys=True, separators=(",", ":"), allow_nan=False, ensure_ascii=False)


def point_id(point: Mapping[str, Any], function: str = "") -> str:
    """Stable id of a point: the first 16 hex digits of SHA-256 of the function and point.

    Parameters
    ----------
    point : mapping of plain values
    function : str
        Reference of the point function (``"package.module:name"``), so the
        same parameters of two different functions have different ids.

    Examples
    --------
    >>> point_id({"a": 1, "b": 2}) == point_id({"b": 2, "a": 1})
    True
    >>> len(point_id({"a": 1}))
    16
    """
    text = canonical({"function": function, "point": point})
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def derive_seed(point: Mapping[str, Any]) -> int:
    """Seed in ``[0, 2**32)`` computed from a point's parameters (for points without ``seed``).

    Examples
    --------
    >>> derive_seed({"a": 1}) == derive_seed({"a": 1})
    True
    """
    digest = hashlib.sha256(("seed:" + canonical(point)).encode("utf-8")).digest()
    return int.from_bytes(digest[:4], "big")


def flatten(point: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Column values of a point: nested dicts become ``a.b`` keys, lists become JSON text.

    Examples
    --------
    >>> flatten({"topology": "layered", "sizes": [2, 4, 2], "device_params": {"r_off": 1e4}})
    {'topology': 'layered', 'sizes': '[2,4,2]', 'device_params.r_off': 10000.0}
    """
    out: dict[str, Any] = {}
    for key, val in point.items():
        name = f"{prefix}{key}"
        if isinstance(val, Mapping):
            out.update(flatten(val, name + "."))
        elif isinstance(val, (list, tuple)):
            out[name] = canonical(list(val))
        else:
            out[name] = val
    return out


def to_tables(rows: Sequence[Mapping[str, Any]]) -> list:
    """Arrow tables of ``rows``: one table, or one per row if their types do not mix."""
    import pyarrow as pa

    # from_pylist takes the columns of the first row only: give every row all columns
    columns = list(dict.fromkeys(k for row in rows for k in row))
    full = [{k: row.get(k) for k in columns} for row in rows]
    try:
        tables = [pa.Table.from_pylist(full)]
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        tables = [pa.Table.from_pylist([row]) for row in full]
    out = []
    for t in tables:
        for name in _TEXT:  # text columns stay text when all their values are null
            if name in t.column_names and pa.types.is_null(t.schema.field(name).type):
                t = t.set_column(t.column_names.index(name), name, t.column(name).cast(pa.string()))
        out.append(t)
    return out


def write_part(directory: str | os.PathLike, rows: Sequence[Mapping[str, Any]]) -> list[Path]:
    """Write finished rows as Parquet part(s), atomically; return the part paths.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     _ = write_part(tmp, [{"point_id": "ab", "status": "ok", "y": 1.5}])
    ...     load(tmp)[["point_id", "y"]].values.tolist()
    [['ab', 1.5]]
    """
    import pyarrow.parquet as pq

    directory = Path(directory)
    paths = []
    for table in to_tables(rows):
        name = f"part-{time.time_ns():020d}-{os.getpid()}-{next(_counter):06d}.parquet"
        tmp = directory / f".tmp-{os.getpid()}-{name}"
        try:
            pq.write_table(table, tmp)
            os.replace(tmp, directory / name)
        finally:
            if tmp.exists():
                tmp.unlink()
        paths.append(directory / name)
    return paths


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # pragma: no cover - another user's live process
        return True
    return True


def clean_temporary(directory: str | os.PathLike) -> int:
    """Remove temporary part files left by processes that no longer run; return how many."""
    removed = 0
    for p in Path(directory).iterdir():
        m = _TMP.match(p.name)
        if m and int(m.group(1)) != os.getpid() and not _alive(int(m.group(1))):
            p.unlink(missing_ok=True)
            removed += 1
    return removed


def _part_files(directory: Path) -> list[Path]:
    if not directory.is_dir():
        if directory.exists():
            raise ValueError(f"{directory}: is not a directory")
        raise FileNotFoundError(f"results directory not found: {directory}")
    return sorted(p for p in directory.iterdir() if _PART.match(p.name))


def read_parts(directory: str | os.PathLike) -> pd.DataFrame:
    """All rows of all parts, in write order, without removing duplicates.

    Raises
    ------
    FileNotFoundError
        If the directory does not exist.
    ValueError
        If a part cannot be read (one line naming the file).
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    tables = []
    for p in _part_files(Path(directory)):
        try:
            tables.append(pq.read_table(p))
        except (OSError, pa.ArrowException) as exc:
            raise ValueError(f"{p}: unreadable result part ({' '.join(str(exc).split())}); delete it and rerun") from None
    return frame(tables)


def frame(tables: list) -> pd.DataFrame:
    """One DataFrame from Arrow tables whose columns may differ (missing -> null).

    Numeric columns are widened (int -> float); a column whose type differs
    between tables in another way (e.g. a parameter that is a string in
    some points and a number in others) is converted to text everywhere.
    """
    import pyarrow as pa

    if not tables:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in ("point_id", "status", "error")})
    try:
        return pa.concat_tables(tables, promote_options="permissive").to_pandas()
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        pass
    kinds: dict[str, set] = {}
    for t in tables:
        for f in t.schema:
            if not pa.types.is_null(f.type):
                kinds.setdefault(f.name, set()).add(f.type)
    numeric = lambda ty: pa.types.is_integer(ty) or pa.types.is_floating(ty)
    mixed = {n for n, ts in kinds.items() if len(ts) > 1 and not all(numeric(ty) for ty in ts)}
    fixed = []
    for t in tables:
        for n in mixed & set(t.column_names):
            t = t.set_column(t.column_names.index(n), n, t.column(n).cast(pa.string()))
        fixed.append(t)
    return pa.concat_tables(fixed, promote_options="permissive").to_pandas()


def deduplicate(df: pd.DataFrame) -> pd.DataFrame:
    """One row per ``point_id``: an ``"ok"`` row over an ``"error"`` row, then the last written."""
    if df.empty:
        return df.reset_index(drop=True)
    order = pd.Series(range(len(df)), index=df.index)
    ok = (df["status"] == "ok").astype(int)
    keep = pd.DataFrame({"id": df["point_id"], "ok": ok, "order": order}).sort_values(["ok", "order"], kind="stable")
    last = keep.drop_duplicates("id", keep="last")["order"].sort_values()
    return df.iloc[last.to_numpy()].reset_index(drop=True)


def load(directory: str | os.PathLike) -> pd.DataFrame:
    """Results stored in ``directory``: one row per point, in the order they were written.

    Temporary files are ignored and duplicate point ids (which a normal run
    never writes) are resolved by :func:`deduplicate`.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     _ = write_part(tmp, [{"point_id": "a", "status": "error", "y": None}])
    ...     _ = write_part(tmp, [{"point_id": "a", "status": "ok", "y": 2.0}])
    ...     load(tmp)[["point_id", "status", "y"]].values.tolist()
    [['a', 'ok', 2.0]]
    """
    return deduplicate(read_parts(directory))


def compact(directory: str | os.PathLike) -> Path | None:
    """Merge all parts of ``directory`` into one (fewer files, faster :func:`load`).

    The merged part is written atomically before the old parts are removed;
    a crash in between leaves duplicates that :func:`load` resolves. Do not
    compact a directory a sweep is writing into. Returns the new part, or
    ``None`` if there was nothing to merge.
    """
    import pyarrow as pa

    directory = Path(directory)
    parts = _part_files(directory)
    if len(parts) < 2:
        return None
    df = load(directory)
    table = pa.Table.from_pandas(df, preserve_index=False)
    import pyarrow.parquet as pq

    name = f"part-{time.time_ns():020d}-{os.getpid()}-{next(_counter):06d}.parquet"
    tmp = directory / f".tmp-{os.getpid()}-{name}"
    pq.write_table(table, tmp)
    os.replace(tmp, directory / name)
    for p in parts:
        p.unlink(missing_ok=True)
    return directory / name
