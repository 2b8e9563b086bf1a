"""PEP 249 type objects, value constructors and parameter adaptation for :mod:`sqlspapi.interfaces.dbapi`.

The type objects (:data:`STRING`, :data:`BINARY`, :data:`NUMBER`, :data:`DATETIME`, :data:`ROWID`) compare equal
to the declared SQL types they stand for, so ``cursor.description[i][1] == STRING`` works. The constructors
(:data:`Date`, :func:`DateFromTicks`, ...) are the ones PEP 249 names, and :func:`adapt_params` turns the
parameters of a statement into values SQLite can bind. :mod:`sqlspapi.interfaces.dbapi` re-exports every
public name here.
"""

from __future__ import annotations

import datetime
import decimal
import time
from collections.abc import Mapping
from typing import Any

from sqlspapi.errors import ProgrammingError


class DBAPITypeObject:
    """A PEP 249 type object: compares equal to itself and to every declared SQL type it stands for."""

    def __init__(self, name: str, *type_names: str) -> None:
        self.name = name
        self.type_names = frozenset(type_names)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, DBAPITypeObject):
            return other is self
        if isinstance(other, str):
            return other.upper() in self.type_names or type_object(other) is self
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.name)

    def __repr__(self) -> str:
        return self.name


STRING = DBAPITypeObject("STRING", "TEXT", "CHAR", "VARCHAR", "CLOB", "STRING")
"""Type object of text columns."""
BINARY = DBAPITypeObject("BINARY", "BLOB", "BINARY")
"""Type object of blob columns."""
NUMBER = DBAPITypeObject(
    "NUMBER", "INTEGER", "INT", "REAL", "FLOAT", "DOUBLE", "NUMERIC", "DECIMAL", "BOOLEAN"
)
"""Type object of integer and real columns."""
DATETIME = DBAPITypeObject("DATETIME", "DATE", "TIME", "DATETIME", "TIMESTAMP")
"""Type object of columns declared as a date or time (sqlspapi's API tables hold ISO 8601 TEXT)."""
ROWID = DBAPITypeObject("ROWID", "ROWID")
"""Type object of rowid columns."""


def type_object(declared: str | None) -> DBAPITypeObject | None:
    """The type object for a declared column type, by SQLite's affinity rules (dates first)."""
    if not declared:
        return None
    decl = declared.upper()
    if "DATE" in decl or "TIME" in decl:
        return DATETIME
    if "INT" in decl:
        return NUMBER
    if "CHAR" in decl or "CLOB" in decl or "TEXT" in decl:
        return STRING
    if "BLOB" in decl:
        return BINARY
    if "REAL" in decl or "FLOA" in decl or "DOUB" in decl or "NUM" in decl or "DEC" in decl or "BOOL" in decl:
        return NUMBER
    return STRING


Date = datetime.date
"""PEP 249 constructor of a date value."""
Time = datetime.time
"""PEP 249 constructor of a time value."""
Timestamp = datetime.datetime
"""PEP 249 constructor of a timestamp value."""
Binary = bytes
"""PEP 249 constructor of a binary value."""


def DateFromTicks(ticks: float) -> datetime.date:  # noqa: N802 - PEP 249 name
    """PEP 249: the local date of a POSIX timestamp."""
    return Date(*time.localtime(ticks)[:3])


def TimeFromTicks(ticks: float) -> datetime.time:  # noqa: N802 - PEP 249 name
    """PEP 249: the local time of day of a POSIX timestamp."""
    return Time(*time.localtime(ticks)[3:6])


def TimestampFromTicks(ticks: float) -> datetime.datetime:  # noqa: N802 - PEP 249 name
    """PEP 249: the local date and time of a POSIX timestamp."""
    return Timestamp(*time.localtime(ticks)[:6])


# ---------------------------------------------------------------- parameter adaptation


def adapt(value: Any) -> Any:
    """A value SQLite can bind: dates and times become ISO 8601 text (UTC as ``...Z``), Decimal a float."""
    if isinstance(value, datetime.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(datetime.UTC).replace(tzinfo=None)
            text = value.isoformat(timespec="seconds" if not value.microsecond else "milliseconds")
            return text + "Z"
        return value.isoformat()
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return float(value)
    return value


def adapt_params(params: Any) -> Any:
    """Adapt every value of a positional sequence or a named mapping (None stays None).

    Raises :class:`~sqlspapi.errors.ProgrammingError` for a single ``str`` or ``bytes`` given as the parameters.
    """
    if params is None:
        return None
    if isinstance(params, Mapping):
        return {key: adapt(value) for key, value in params.items()}
    if isinstance(params, str | bytes):
        raise ProgrammingError("parameters must be a sequence or a mapping, not a single string")
    return tuple(adapt(value) for value in params)


# ---------------------------------------------------------------- connect() keyword parameters


__all__ = [
    "DBAPITypeObject", "STRING", "BINARY", "NUMBER", "DATETIME", "ROWID", "type_object", "Date", "Time",
    "Timestamp", "Binary", "DateFromTicks", "TimeFromTicks", "TimestampFromTicks", "adapt", "adapt_params"
]
