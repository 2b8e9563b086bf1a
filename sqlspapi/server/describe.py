"""A statement's PostgreSQL types on the way in and out: its parameters and its result columns.

:class:`Prepared` is what Parse/Describe keep of a statement (extended protocol). :func:`parameter_oids` and
:func:`bind_values` give the parameters their types and the values SQLite binds; :func:`result_columns` types the
columns of SQLite's description (declared type, else the translation's inference, else the first row's value);
:func:`text_columns` and :func:`catalog_fallback` cover the catalog queries SQLite cannot run, answered with 0 rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import apsw

from . import pgtypes
from .statements import ColumnDesc
from .translate import Translation

__all__ = ["Prepared", "bind_values", "catalog_fallback", "parameter_oids", "result_columns", "text_columns", "to_bool"]


@dataclass
class Prepared:
    """A parsed statement (extended protocol): parameter types and result columns, described without running."""

    param_oids: list[int]
    columns: list[ColumnDesc] | None
    sql: str = ""
    translation: Translation | None = None
    fallback: bool = False  # a catalog query SQLite cannot run: answers 0 rows with these columns


def text_columns(tr: Translation) -> list[ColumnDesc]:
    """Columns of a catalog query answered with 0 rows: sqlglot's names, all text."""
    return [ColumnDesc(name, pgtypes.TEXT) for name in tr.names]


def parameter_oids(tr: Translation, given: list[int]) -> list[int]:
    """Parameter types: the client's where it gave one (non-zero), else the translation's inference, else text."""
    return [(given[i] if i < len(given) and given[i] else tr.param_oids[i] if i < tr.param_count else pgtypes.TEXT)
            for i in range(max(tr.param_count, len(given)))]


def catalog_fallback(tr: Translation, error: apsw.Error) -> bool:
    """True when a failed statement is a catalog query that answers 0 rows: it touches ``pg_*`` or
    information_schema, was not refused or cancelled, and (for a missing function) reads a catalog relation, so
    ``select pg_foo(1)`` still says the function is missing."""
    if not tr.catalog or isinstance(error, apsw.AuthError | apsw.InterruptError):
        return False
    return tr.reads_catalog or "no such function" not in str(error)


def to_bool(value: Any) -> Any:
    """SQLite has no booleans: 0/1 (or 't'/'f' text) become False/True for a bool column."""
    return value if value is None or isinstance(value, bool) else bool(pgtypes.pg_bool(value))


def result_columns(description: Any, tr: Translation, first: tuple | None) -> list[ColumnDesc]:
    """The result columns of SQLite's ``description``: each typed by its declared type, else the translation's
    inferred type, else (given the ``first`` row) its value's type, else text."""
    columns = []
    for index, (name, decltype) in enumerate(description):
        oid = pgtypes.oid_for_decltype(decltype)
        if oid is None and index < len(tr.types):
            oid = tr.types[index]
        if oid is None and first is not None:
            oid = pgtypes.oid_for_value(first[index]) if first[index] is not None else None
        oid = oid or pgtypes.TEXT
        columns.append(ColumnDesc(name, oid, pgtypes.type_size(oid)))
    return columns


def bind_values(tr: Translation, prepared: Prepared | None, params: list[object]) -> list[object]:
    """The values SQLite binds: the client's parameters converted to their types (the prepared statement's, else the
    translation's), missing ones NULL, then the translation's own values."""
    oids = prepared.param_oids if prepared is not None else tr.param_oids
    values = list(params) + [None] * (tr.param_count - len(params))
    for index, value in enumerate(values[: len(oids)]):
        oid = oids[index]
        if isinstance(value, bytes) and oid != pgtypes.BYTEA:
            value = value.decode()
        if isinstance(value, str):
            if oid in (pgtypes.INT2, pgtypes.INT4, pgtypes.INT8, pgtypes.OID):
                value = int(value)
            elif oid in (pgtypes.FLOAT4, pgtypes.FLOAT8, pgtypes.NUMERIC):
                value = float(value)
            elif oid == pgtypes.BOOL:
                value = pgtypes.pg_bool(value)
        values[index] = int(value) if isinstance(value, bool) else value
    return values[: tr.param_count] + tr.values
