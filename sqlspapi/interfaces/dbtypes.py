"""PEP 249 type objects, value constructors and parameter adaptation for :mod:`sqlspapi.interfaces.dbapi`.

The type objects (:data:`STRING`, :data:`BINARY`, :data:`NUMBER`, :data:`DATETIME`, :data:`ROWID`) compare equal
to the declared SQL types they stand for, so ``cursor.description[i][1] == STRING`` works. The constructors
(:data:`Date`, :func:`DateFromTicks`, ...) are the ones PEP 249 names, and :func:`adapt_params` turns the
parameters of a statement into values SQLite can bind. :mod:`sqlspapi.interfaces.dbapi` re-exports every
public name here.

Result values follow the declared type of a result column (see ``COLUMN_TYPES`` in
:mod:`sqlspapi.definitions.schema`): :func:`value_converter` turns a timestamp column's ISO 8601 text
(``TIMESTAMPTZ TEXT``) into a timezone-aware ``datetime`` in UTC, a decimal column's REAL (``DECIMAL REAL``, money
amounts) into an exact ``Decimal``, and a ``BOOLEAN`` column's 0/1 into ``bool``. SQLite gives a declared type to
plain column references only: an expression (``max(createdTime)``, ``sum(amount)``, a ``CAST``) comes back as SQLite
computed it (text, float, integer).
"""

from __future__ import annotations

import datetime
import decimal
import time
from collections.abc import Callable, Mapping
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
DATETIME = DBAPITypeObject("DATETIME", "DATE", "TIME", "DATETIME", "TIMESTAMP", "TIMESTAMPTZ")
"""Type object of columns declared as a date or time (sqlspapi's timestamp columns: ``TIMESTAMPTZ TEXT``)."""
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


# ---------------------------------------------------------------- result values


def to_datetime(value: Any) -> Any:
    """ISO 8601 text (``2026-11-20T09:00:00Z``, an offset, a date alone) as a timezone-aware ``datetime`` in UTC.

    Text without an offset is taken as UTC (SP-API's times are UTC); text that is not a timestamp stays text.
    """
    if value.__class__ is not str:
        return value
    try:
        parsed = datetime.datetime.fromisoformat(value)
    except ValueError:
        return value
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=datetime.UTC)
    return parsed if parsed.tzinfo is datetime.UTC else parsed.astimezone(datetime.UTC)


def exact_decimal(value: float) -> decimal.Decimal:
    """The decimal a float stands for: its shortest form at 15 significant digits, the precision a double holds.

    Any decimal of up to 15 digits read into a float comes back unchanged (``43.25``), and so does a sum of such
    amounts (SQLite's ``sum`` compensates its rounding): ``432.51000000000005`` → ``Decimal('432.51')``.
    """
    return decimal.Decimal(format(value, ".15g"))


def to_decimal(value: Any) -> Any:
    """A number as an exact ``Decimal`` (floats through :func:`exact_decimal`); other values unchanged."""
    if value.__class__ is float:
        return exact_decimal(value)
    if value.__class__ is int:
        return decimal.Decimal(value)
    return value


def to_bool(value: Any) -> Any:
    """SQLite's 0/1 of a BOOLEAN column as ``bool``; other values unchanged."""
    return bool(value) if value.__class__ is int else value


def value_converter(declared: str | None) -> Callable[[Any], Any] | None:
    """The conversion of a result column's values by its declared type, None when they stay as SQLite gives them.

    ``TIMESTAMPTZ …`` → :func:`to_datetime`, ``DECIMAL …``/``NUMERIC …`` → :func:`to_decimal`, ``BOOLEAN`` →
    :func:`to_bool` (the first word decides: sqlspapi declares ``TIMESTAMPTZ TEXT`` and ``DECIMAL REAL``).
    """
    if not declared:
        return None
    first = declared.split(None, 1)[0].split("(")[0].upper()
    return _CONVERTERS.get(first)


_CONVERTERS: Mapping[str, Callable[[Any], Any]] = {
    "TIMESTAMPTZ": to_datetime, "DECIMAL": to_decimal, "NUMERIC": to_decimal, "BOOLEAN": to_bool, "BOOL": to_bool,
}


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
    "Timestamp", "Binary", "DateFromTicks", "TimeFromTicks", "TimestampFromTicks", "adapt", "adapt_params",
    "to_datetime", "exact_decimal", "to_decimal", "to_bool", "value_converter",
]
