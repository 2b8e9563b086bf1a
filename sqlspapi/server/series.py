"""PostgreSQL's ``generate_series`` and ``make_date`` for the bridge (BI date dimensions): SQLite tables, functions.

SQLite has no set-returning functions, and APSW's SQLite is built without the ``generate_series`` extension. The
bridge registers one eponymous table-valued function per result type, ``pg_series_int4``, ``pg_series_int8``,
``pg_series_numeric``, ``pg_series_timestamp`` and ``pg_series_timestamptz`` (hidden columns ``start``, ``stop``,
``step``; a ``value`` column declared with the PostgreSQL type, so clients see ``int4``, ``timestamptz`` …).
``translate`` picks the one PostgreSQL's overload resolution would pick and wraps it so that the alias names the
column as in PostgreSQL: ``FROM generate_series(1, 3) d`` → ``(SELECT value AS "d" FROM pg_series_int4(1, 3)) AS "d"``.

Values follow PostgreSQL: an integer or numeric series steps by 1 unless told; a date/time series needs an interval
step, adds it to the previous value (so a monthly series from Jan 31 goes Feb 28, Mar 28 …) and, from dates, gives
``timestamptz`` at midnight UTC (the session's TimeZone); a NULL argument gives no rows; a zero step is an error.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable, Iterator
from decimal import Decimal, InvalidOperation
from typing import Any

import apsw

from sqlspapi.sql import isotime

from . import pgtypes
from .translate import PgError

_HIDDEN = ("start", "stop", "step")  # columns 1, 2, 3 of every series table (0 is ``value``)


def _int_series(start: Any, stop: Any, step: Any = 1) -> Iterator[int]:
    first, last, by = (pgtypes.pg_cast_int(v) for v in (start, stop, step))
    if by == 0:
        raise PgError("22023", "step size cannot equal zero")
    yield from range(first, last + (1 if by > 0 else -1), by)  # type: ignore[arg-type,operator]


def _decimal(value: Any) -> Decimal:
    try:
        return Decimal(str(value).strip())
    except InvalidOperation:
        raise PgError("22P02", f"invalid input syntax for type numeric: {value!r}") from None


def _numeric_series(start: Any, stop: Any, step: Any = 1) -> Iterator[float]:
    current, last, by = _decimal(start), _decimal(stop), _decimal(step)
    if by == 0:
        raise PgError("22023", "step size cannot equal zero")
    while current <= last if by > 0 else current >= last:
        yield float(current)
        current += by


def _time_series(kind: str) -> Callable[..., Iterator[str]]:
    def series(start: Any, stop: Any, step: Any = None) -> Iterator[str]:
        if step is None:
            raise PgError("42883", f"function generate_series({kind}, {kind}) does not exist",
                          hint="A date/time series needs an interval step, e.g. '1 day'::interval.")
        current, last = pgtypes.parse_timestamp(start), pgtypes.parse_timestamp(stop)
        if current is None or last is None:
            return
        after = _advance(current, step)
        if after == current:
            raise PgError("22023", "step size cannot equal zero")
        forward = after > current
        while current <= last if forward else current >= last:
            yield pgtypes.format_timestamp(current, kind) or ""
            current = _advance(current, step)
    return series


def _advance(value: _dt.datetime, step: Any) -> _dt.datetime:
    """``value + step`` as PostgreSQL adds an interval (calendar months, then days and times)."""
    return pgtypes.parse_timestamp(pgtypes.pg_add_interval(value, str(step))) or value


#: decltype of ``value`` and the generator, by the table's type suffix
SERIES: dict[str, tuple[str, Callable[..., Iterator[Any]]]] = {
    "int4": ("int4", _int_series),
    "int8": ("int8", _int_series),
    "numeric": ("numeric", _numeric_series),
    "timestamp": (f"timestamp TEXT COLLATE {isotime.NAME}", _time_series("timestamp")),
    "timestamptz": (f"timestamptz TEXT COLLATE {isotime.NAME}", _time_series("timestamptz")),
}


class _SeriesModule:
    """An eponymous-only table-valued function: ``SELECT value FROM pg_series_x(start, stop[, step])``."""

    def __init__(self, decltype: str, generate: Callable[..., Iterator[Any]]) -> None:
        self.schema = f"CREATE TABLE series(value {decltype}, {', '.join(f'{h} HIDDEN' for h in _HIDDEN)})"
        self.generate = generate

    def Connect(self, *_args: Any) -> tuple[str, _SeriesTable]:  # noqa: N802 - APSW's VTModule protocol
        """The table's declaration and the table."""
        return self.schema, _SeriesTable(self.generate)

    Create = Connect


class _SeriesTable:
    def __init__(self, generate: Callable[..., Iterator[Any]]) -> None:
        self.generate = generate

    def BestIndexObject(self, info: apsw.IndexInfo) -> bool:  # noqa: N802
        """Take the arguments (``hidden = value`` constraints) in column order; refuse plans without them."""
        by_column: dict[int, int] = {}
        for index in range(info.nConstraint):
            column = info.get_aConstraint_iColumn(index)
            if column < 1 or info.get_aConstraint_op(index) != apsw.SQLITE_INDEX_CONSTRAINT_EQ:
                continue
            if not info.get_aConstraint_usable(index):
                return False  # an argument from a table not read yet: SQLite tries another order
            by_column[column] = index
        for position, column in enumerate(sorted(by_column), start=1):
            info.set_aConstraintUsage_argvIndex(by_column[column], position)
            info.set_aConstraintUsage_omit(by_column[column], True)
        info.idxNum = sum(1 << column for column in by_column)
        info.estimatedRows = 1000
        info.estimatedCost = 1000.0
        return True

    def Open(self) -> _SeriesCursor:  # noqa: N802
        """A cursor over one series."""
        return _SeriesCursor(self.generate)

    def Disconnect(self) -> None:  # noqa: N802
        """Nothing to release."""

    Destroy = Disconnect


class _SeriesCursor:
    def __init__(self, generate: Callable[..., Iterator[Any]]) -> None:
        self.generate = generate
        self.arguments: list[Any] = [None, None, None]
        self.values: Iterator[Any] = iter(())
        self.current: Any = None
        self.rowid = 0
        self.done = True

    def Filter(self, index_number: int, _index_string: str | None, arguments: tuple[Any, ...]) -> None:  # noqa: N802
        """Start the series of these arguments (none at all when one is NULL)."""
        given = iter(arguments)
        self.arguments = [next(given) if index_number & (1 << column) else None for column in (1, 2, 3)]
        start, stop, step = self.arguments
        if start is None or stop is None or (index_number & 8 and step is None):
            self.values = iter(())
        else:
            self.values = self.generate(start, stop) if step is None else self.generate(start, stop, step)
        self.rowid = 0
        self.Next()

    def Next(self) -> None:  # noqa: N802
        """Advance to the next value."""
        try:
            self.current = next(self.values)
            self.rowid += 1
            self.done = False
        except StopIteration:
            self.done = True

    def Eof(self) -> bool:  # noqa: N802
        """True after the last value."""
        return self.done

    def Column(self, number: int) -> Any:  # noqa: N802
        """``value`` (0) or an argument (1–3)."""
        return self.current if number == 0 else self.arguments[number - 1]

    def Rowid(self) -> int:  # noqa: N802
        """The value's position in the series, from 1."""
        return self.rowid

    def Close(self) -> None:  # noqa: N802
        """Drop the series."""
        self.values = iter(())


def make_date(year: Any, month: Any, day: Any) -> str | None:
    """``make_date(year, month, day)``: the date as ISO text (a ``date`` for clients); an impossible date is 22008."""
    if year is None or month is None or day is None:
        return None
    parts = [pgtypes.pg_cast_int(v) for v in (year, month, day)]
    try:
        return _dt.date(*parts).isoformat()  # type: ignore[arg-type]
    except ValueError:
        raise PgError("22008", "date field value out of range: {}-{:02d}-{:02d}".format(*parts)) from None


def install(con: apsw.Connection) -> None:
    """Register the series tables and ``make_date`` on a connection (and the ISOTIME collation they declare)."""
    isotime.register(con)
    for suffix, (decltype, generate) in SERIES.items():
        con.create_module(f"pg_series_{suffix}", _SeriesModule(decltype, generate), use_bestindex_object=True,
                          eponymous_only=True, read_only=True)
    con.create_scalar_function("make_date", make_date, 3, deterministic=True)


__all__ = ["SERIES", "install", "make_date"]
