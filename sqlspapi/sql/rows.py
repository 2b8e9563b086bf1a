"""Turns SP-API JSON objects into SQL rows: dotted paths flattened to columns, values typed for SQLite.

Money amounts become REAL, counts INTEGER, booleans 0/1, timestamps stay ISO 8601 TEXT, and arrays or deeper
objects become JSON text usable with SQLite's JSON functions.
"""

from __future__ import annotations

import json
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


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


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

    Only the columns in ``used`` (SQLite's colUsed) are computed; the others are None.
    """
    n = len(columns)
    wanted = sorted(i for i in (range(n) if used is None else used) if 0 <= i < n)
    if used is not None and any(i >= 63 for i in used):
        wanted = list(range(n))  # colUsed bit 63 means "63 and above"
    conn = connection or {}
    plain = [(i, columns[i].path, CONVERTERS[columns[i].kind]) for i in wanted if columns[i].source == "row"]
    other = [(i, columns[i], CONVERTERS[columns[i].kind]) for i in wanted if columns[i].source != "row"]

    def build(obj: Mapping[str, Any], request: Any, parent: Mapping[str, Any] | None) -> list[Any]:
        out: list[Any] = [None] * n
        for i, path, convert in plain:
            value = obj
            for part in path:
                if isinstance(value, Mapping):
                    value = value.get(part)
                else:
                    value = dig(value, (part,))
                if value is None:
                    break
            if value is not None:
                out[i] = convert(value)
        for i, column, convert in other:
            value = source_value(column, obj, request, parent, conn)
            if value is not None:
                out[i] = convert(value)
        return out

    return build
