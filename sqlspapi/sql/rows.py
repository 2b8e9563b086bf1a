"""Turns SP-API JSON objects into SQL rows: dotted paths flattened to columns, values typed for SQLite.

Money amounts become REAL, counts INTEGER, booleans 0/1, timestamps stay ISO 8601 TEXT, and arrays or deeper
objects become JSON text usable with SQLite's JSON functions.
"""

from __future__ import annotations

import functools
import itertools
import json
import json.encoder
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from sqlspapi.definitions.schema import ColumnSpec

_MISSING = object()


def dig(obj: Any, path: str | Sequence[str] | None) -> Any:
    """The value at a dotted path inside nested dicts (a numeric step indexes a list), or None when missing."""
    if path is None:
        return None
    parts = path.split(".") if isinstance(path, str) else path
    for part in parts:
        if isinstance(obj, Mapping):
            obj = obj.get(part)
        elif isinstance(obj, list) and part.isdigit():
            index = int(part)
            obj = obj[index] if index < len(obj) else None
        else:
            return None
        if obj is None:
            return None
    return obj


def as_rows(value: Any) -> list[Mapping[str, Any]]:
    """A rows path may hold a list of objects, one object, or nothing."""
    if value is None:
        return []
    if isinstance(value, list):
        return [v for v in value if isinstance(v, Mapping)]
    if isinstance(value, Mapping):
        return [value]
    return []


#: ``json.dumps(value, ensure_ascii=False, separators=(",", ":"))`` without building an encoder per call: the C
#: encoder json.dumps would build, made once (no circular-reference check: decoded JSON has no cycles).
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
_C_ENCODE = (json.encoder.c_make_encoder(None, _ENCODER.default, json.encoder.encode_basestring, None, ":", ",",
                                         False, False, True)
             if json.encoder.c_make_encoder is not None else None)


def _json(value: Any) -> str:
    if _C_ENCODE is None:
        return _ENCODER.encode(value)
    return "".join(_C_ENCODE(value, 0))


def _real(value: Any) -> Any:
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.replace(",", "")) if value.strip() else None
        except ValueError:
            return value
    return _json(value)


def _integer(value: Any) -> Any:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            return value
    return _json(value) if isinstance(value, list | dict) else value


def _boolean(value: Any) -> Any:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in ("true", "yes", "1"):
            return 1
        if lowered in ("false", "no", "0"):
            return 0
        return value
    if isinstance(value, int):
        return int(bool(value))
    return value


def _text(value: Any) -> Any:
    if isinstance(value, str):
        return value
    if isinstance(value, list | dict):
        return _json(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


#: Converter per column type (sqlglot style: behaviour as a table).
CONVERTERS: Mapping[str, Callable[[Any], Any]] = {
    "TEXT": _text,
    "INTEGER": _integer,
    "REAL": _real,
    "BOOLEAN": _boolean,
    "JSON": _json,
    "TIME": _text,
}


RowBuilder = Callable[[Mapping[str, Any], Any, Mapping[str, Any] | None], list[Any]]


def source_value(column: ColumnSpec, obj: Mapping[str, Any], request: Any, parent: Mapping[str, Any] | None,
                 connection: Mapping[str, Any]) -> Any:
    """The raw value of one column for a row: from the row, the call's path or query parameters, the parent entity,
    the connection, or a constant (see ``COLUMN_SOURCES``)."""
    source, path = column.source, column.path
    if source == "row":
        return dig(obj, path)
    if source == "path_param":
        return request.path.get(path[0]) if request is not None else None
    if source == "query_param":
        value = request.query.get(path[0]) if request is not None else None
        if isinstance(value, list | tuple):
            return value[0] if len(value) == 1 else (list(value) or None)
        return value
    if source == "parent":
        return dig(parent, path)
    if source == "connection":
        return connection.get(path[0])
    return path[0]  # const


def row_builder(columns: Sequence[ColumnSpec], used: Iterable[int] | None = None,
                connection: Mapping[str, Any] | None = None) -> RowBuilder:
    """A function (row object, request, parent entity) → list of column values.

    Only the columns in ``used`` (SQLite's colUsed) are computed; the others are None. The function is compiled
    once per column set (see :func:`_compiled`): a row object that is a ``dict`` (all decoded JSON) is read by
    straight-line code; any other mapping takes :func:`source_value` column by column, with the same result.
    """
    n = len(columns)
    wanted = sorted(i for i in (range(n) if used is None else used) if 0 <= i < n)
    if used is not None and any(i >= 63 for i in used):
        wanted = list(range(n))  # colUsed bit 63 means "63 and above"
    conn = connection or {}
    chosen = [(i, columns[i]) for i in wanted]

    def generic(obj: Mapping[str, Any], request: Any, parent: Mapping[str, Any] | None) -> list[Any]:
        out: list[Any] = [None] * n
        for i, column in chosen:
            value = source_value(column, obj, request, parent, conn)
            if value is not None:
                out[i] = CONVERTERS[column.kind](value)
        return out

    layout = tuple((i, c.source, c.path, c.kind) for i, c in chosen)
    return _compiled(n, layout)(columns, conn, generic)


#: Per column type: the JSON type most values have, and the converted value of such a ``v`` (inlined in the
#: compiled builder; any other value goes through the type's converter).
_FAST: Mapping[str, tuple[str, str]] = {
    "TEXT": ("str", "v"),
    "TIME": ("str", "v"),
    "INTEGER": ("int", "v"),
    "REAL": ("float", "v"),
    "BOOLEAN": ("bool", "(1 if v else 0)"),
}

#: The names the compiled builders use.
_NAMESPACE: Mapping[str, Any] = {
    **{f"k_{kind}": convert for kind, convert in CONVERTERS.items()}, "dig": dig, "source_value": source_value,
}


def _inline(source: str, path: tuple[str, ...]) -> bool:
    """Whether the compiled builder reads the column itself (a row path) rather than through source_value."""
    return source == "row" and bool(path)


@functools.lru_cache(maxsize=256)
def _compiled(n: int, layout: tuple[tuple[int, str, tuple[str, ...], str], ...]) -> Callable[..., RowBuilder]:
    """``make(columns, connection, generic)`` → the row builder of ``n`` columns computing ``layout``'s.

    ``layout`` is (index, source, path, kind) per computed column. Row paths become nested ``dict.get`` calls, one
    per distinct prefix (``fulfillment.shipByWindow`` is looked up once for its two columns); a step that meets
    something other than a dict (a list indexed by a numeric step, another mapping) finishes with :func:`dig`.
    Source code is generated once per layout (cached): compiling per cursor would cost more than a small scan.
    """
    lines = ["def make(columns, connection, generic):"]
    lines += [f"    col{i} = columns[{i}]" for i, source, path, _k in layout if not _inline(source, path)]
    lines += ["    def build(obj, request, parent):",
              "        if type(obj) is not dict:",
              "            return generic(obj, request, parent)"]
    if layout:
        lines.append("        " + " = ".join(f"c{i}" for i, *_ in layout) + " = None")
    tree: dict[str, Any] = {}
    for i, source, path, kind in layout:
        if _inline(source, path):
            node = tree
            for part in path:
                node = node.setdefault(part, {})
            node.setdefault("", []).append((i, kind))
    counter = itertools.count()

    def convert(i: int, kind: str, value: str, pad: str) -> list[str]:
        fast = _FAST.get(kind)
        if fast is None:
            return [f"{pad}c{i} = k_{kind}({value})"]
        return [f"{pad}v = {value}", f"{pad}c{i} = {fast[1]} if type(v) is {fast[0]} else k_{kind}(v)"]

    def leaves(node: dict[str, Any], rest: tuple[str, ...]) -> list[tuple[int, str, tuple[str, ...]]]:
        found = [(i, kind, rest) for i, kind in node.get("", [])]
        for part, child in node.items():
            if part:
                found += leaves(child, (*rest, part))
        return found

    def emit(var: str, node: dict[str, Any], pad: str) -> None:
        for part, child in node.items():
            if not part:
                continue
            sub = f"d{next(counter)}"
            lines.append(f"{pad}{sub} = {var}.get({part!r})")
            lines.append(f"{pad}if {sub} is not None:")
            for i, kind in child.get("", []):
                lines.extend(convert(i, kind, sub, pad + "    "))
            deeper = {k: v for k, v in child.items() if k}
            if deeper:
                lines.append(f"{pad}    if type({sub}) is dict:")
                emit(sub, deeper, pad + "        ")
                lines.append(f"{pad}    else:")
                for i, kind, rest in leaves(deeper, ()):
                    lines.append(f"{pad}        v = dig({sub}, {rest!r})")
                    lines.append(f"{pad}        if v is not None:")
                    lines.extend(convert(i, kind, "v", pad + "            "))

    emit("obj", tree, "        ")
    for i, source, path, kind in layout:
        if not _inline(source, path):
            lines.append(f"        v = source_value(col{i}, obj, request, parent, connection)")
            lines.append("        if v is not None:")
            lines.extend(convert(i, kind, "v", "            "))
    computed = {i for i, *_ in layout}
    lines.append("        return [" + ", ".join(f"c{i}" if i in computed else "None" for i in range(n)) + "]")
    lines.append("    return build")
    namespace = dict(_NAMESPACE)
    exec(compile("\n".join(lines), f"<sqlspapi/sql/rows.py: row builder of {n} columns>", "exec"), namespace)  # noqa: S102
    return namespace["make"]
