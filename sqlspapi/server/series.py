"""PostgreSQL's ``generate_series`` and ``make_date`` for the bridge (BI date dimensions): SQLite tables, functions.

SQLite has no set-returning functions, and APSW's SQLite is built without the ``generate_series`` extension. The
bridge registers one eponymous table-valued function per result type, ``pg_series_int4``, ``pg_series_int8``,
``pg_series_numeric``, ``pg_series_timestamp`` and ``pg_series_timestamptz`` (hidden columns ``start``, ``stop``,
``step``; a ``value`` column declared with the PostgreSQL type, so clients see ``int4``, ``timestamptz`` …).
The translation half (:func:`expand_series`, called by ``translate``) picks the one PostgreSQL's overload resolution
would pick and wraps it so that the alias names the column as in PostgreSQL: ``FROM generate_series(1, 3) d`` →
``(SELECT value AS "d" FROM pg_series_int4(1, 3)) AS "d"``; :func:`column_aliases` applies ``AS s(a, b)`` lists.

Values follow PostgreSQL: an integer or numeric series steps by 1 unless told; a date/time series needs an interval
step, adds it to the previous value (so a monthly series from Jan 31 goes Feb 28, Mar 28 …) and, from dates, gives
``timestamptz`` at midnight UTC (the session's TimeZone); a NULL argument gives no rows; a zero step is an error.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable, Iterator, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

import apsw
from sqlglot import exp

from sqlspapi.sql import isotime

from . import pgtypes
from .infer import Scope, cast_oid, infer_type, interval_text
from .pgerror import PgError

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


# ------------------------------------------------------------------ the translation half: FROM generate_series(…)


_TEMPORAL_TYPES = {pgtypes.DATE, pgtypes.TIMESTAMP, pgtypes.TIMESTAMPTZ}
_SERIES_SUFFIX = {pgtypes.INT4: "int4", pgtypes.INT8: "int8", pgtypes.NUMERIC: "numeric",
                  pgtypes.TIMESTAMP: "timestamp", pgtypes.TIMESTAMPTZ: "timestamptz"}
_INT4_MAX = 2**31 - 1


def argument_type(node: exp.Expression, scope: Scope) -> int | None:
    """The PostgreSQL type of a function argument (``unknown`` string literals are None)."""
    if interval_text(node) is not None:
        return pgtypes.INTERVAL
    if isinstance(node, exp.Cast):
        return cast_oid(node)
    if isinstance(node, exp.Literal):
        if node.is_string:
            return None
        return pgtypes.INT8 if node.is_int and abs(int(node.name)) > _INT4_MAX else infer_type(node, scope)
    return infer_type(node, scope)


def _series_type(call: exp.GenerateSeries, scope: Scope) -> int:
    """The result type PostgreSQL's overload resolution gives ``generate_series(start, stop[, step])``."""
    if call.args.get("is_end_exclusive") is not None:
        raise PgError("0A000", "generate_series with a time zone argument is not supported by sqlspapi")
    bounds = {argument_type(call.args[k], scope) for k in ("start", "end")}
    step = call.args.get("step")
    step_type = argument_type(step, scope) if step is not None else None
    if bounds & _TEMPORAL_TYPES or step_type == pgtypes.INTERVAL:
        if pgtypes.TIMESTAMP in bounds and not bounds & {pgtypes.TIMESTAMPTZ, pgtypes.DATE}:
            return pgtypes.TIMESTAMP
        return pgtypes.TIMESTAMPTZ  # date and unknown literals resolve to the timestamptz variant
    kinds = bounds | {step_type}
    if kinds & {pgtypes.NUMERIC, pgtypes.FLOAT4, pgtypes.FLOAT8}:
        return pgtypes.NUMERIC
    return pgtypes.INT8 if pgtypes.INT8 in kinds else pgtypes.INT4


def _series_source(call: exp.GenerateSeries, table: str, column: str, scope: Scope) -> exp.Subquery:
    """``(SELECT value AS "column" FROM pg_series_<type>(start, stop[, step])) AS "table"``."""
    arguments = [call.args[k] for k in ("start", "end", "step") if call.args.get(k) is not None]
    if any(argument.find(exp.Column) for argument in arguments):
        raise PgError("0A000", "generate_series over the columns of another table (LATERAL) is not supported by "
                               "sqlspapi: give it constant bounds and join on the values")
    function = exp.Anonymous(this=f"pg_series_{_SERIES_SUFFIX[_series_type(call, scope)]}", expressions=arguments)
    select = exp.select(exp.alias_(exp.column("value"), column, quoted=True)).from_(exp.Table(this=function))
    return select.subquery(exp.to_identifier(table, quoted=True))


def _folded(identifier: exp.Identifier) -> str:
    """An identifier as PostgreSQL reads it: unquoted names fold to lower case."""
    return identifier.name if identifier.quoted else identifier.name.lower()


def expand_series(tree: exp.Expression, columns: Mapping[str, Mapping[str, int]]) -> exp.Expression:
    """``generate_series`` → the bridge's series tables: in FROM/JOIN (``AS d`` names the table and its column,
    ``AS s(r)`` the column r), or as the only set-returning call of a select list without FROM."""
    for table in list(tree.find_all(exp.Table)):
        if isinstance(table.this, exp.GenerateSeries):
            alias = table.args.get("alias")
            name = _folded(alias.this) if alias is not None and alias.this else "generate_series"
            column = _folded(alias.columns[0]) if alias is not None and alias.columns else name
            select = table.find_ancestor(exp.Select) or tree
            table.replace(_series_source(table.this, name, column, Scope(select, columns)))
    for select in list(tree.find_all(exp.Select)):
        calls = [c for c in select.find_all(exp.GenerateSeries) if c.find_ancestor(exp.Select) is select]
        if not calls:
            continue
        if len(calls) > 1 or select.args.get("from_") is not None or \
                any(call.find_ancestor(exp.Where, exp.Group, exp.Order, exp.Having) for call in calls):
            raise PgError("0A000", "generate_series in a select list is only supported alone in a SELECT without "
                                   "FROM; write it in FROM (FROM generate_series(…) AS d) and join on d")
        source = _series_source(calls[0], "generate_series", "generate_series", Scope(select, columns))
        calls[0].replace(exp.column("generate_series", "generate_series", quoted=True))
        select.from_(source, copy=False)
    return tree


def column_aliases(tree: exp.Expression) -> exp.Expression:
    """Column lists in derived-table aliases, which SQLite lacks: ``(VALUES …) s(a, b)`` → ``(SELECT column1 AS a,
    column2 AS b FROM (VALUES …)) AS s``, ``(SELECT x, y …) s(a, b)`` → ``(SELECT x AS a, y AS b …) AS s`` (psql's
    ``\\gdesc`` and catalog queries of JDBC tools use them)."""
    for node in list(tree.find_all(exp.Values, exp.Subquery)):
        alias = node.args.get("alias")
        if not isinstance(alias, exp.TableAlias) or not alias.columns:
            continue
        names = [_folded(column) for column in alias.columns]
        if isinstance(node, exp.Values):
            bare = node.copy()
            bare.set("alias", None)
            select = exp.select(*[exp.alias_(exp.column(f"column{i}"), name, quoted=True)
                                  for i, name in enumerate(names, start=1)]).from_(bare)
            node.replace(select.subquery(exp.to_identifier(_folded(alias.this), quoted=True)))
        elif isinstance(node.this, exp.Select) and not node.this.is_star and len(node.this.expressions) >= len(names):
            for item, name in zip(node.this.expressions, names, strict=False):
                item.replace(exp.alias_(item.unalias(), name, quoted=True))
            alias.set("columns", None)
    return tree


__all__ = ["expand_series", "column_aliases", "argument_type", "SERIES", "install", "make_date"]
