"""Turns SP-API JSON objects into SQL rows: dotted paths flattened to columns, values typed for SQLite.

Money amounts become REAL, counts INTEGER, booleans 0/1, timestamps stay ISO 8601 TEXT, and arrays or deeper
objects become JSON text usable with SQLite's JSON functions.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from sqlspapi.definitions.loader import ColumnSpec

_MISSING = object()


def dig(obj: Any, path: str | Sequence[str] | None) -> Any:
    """The value at a dotted path inside nested dicts, or None when any step is missing."""
    if path is None:
        return None
    parts = path.split(".") if isinstance(path, str) else path
    for part in parts:
        if not isinstance(obj, Mapping):
            return None
        obj = obj.get(part)
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


RowBuilder = Callable[[Mapping[str, Any], Mapping[str, Any], Mapping[str, Any] | None], list[Any]]


def row_builder(columns: Sequence[ColumnSpec], used: Iterable[int] | None = None) -> RowBuilder:
    """A function (row object, path params, parent entity) → list of column values.

    Only the columns in ``used`` (SQLite's colUsed) are computed; the others are None.
    """
    n = len(columns)
    wanted = sorted(i for i in (range(n) if used is None else used) if 0 <= i < n)
    if used is not None and any(i >= 63 for i in used):
        wanted = list(range(n))  # colUsed bit 63 means "63 and above"
    plan = [(i, columns[i].source, columns[i].path, CONVERTERS[columns[i].kind]) for i in wanted]

    def build(obj: Mapping[str, Any], path_params: Mapping[str, Any],
              parent: Mapping[str, Any] | None) -> list[Any]:
        out: list[Any] = [None] * n
        for i, source, path, convert in plan:
            if source == "row":
                value = dig(obj, path)
            elif source == "path_param":
                value = path_params.get(path[0])
            else:
                value = dig(parent, path)
            if value is not None:
                out[i] = convert(value)
        return out

    return build
