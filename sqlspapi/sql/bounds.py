"""Date bounds that reach the API through the wrappers people and BI tools write.

SQLite offers a virtual table only constraints on bare columns: ``datetime(createdTime) >= '2026-01-01'`` or a BI
tool's ``CAST(createdTime AS timestamp) >= …`` reaches the planner as nothing, so the scan falls back to the default
look-back and SQLite filters that subset. :func:`imply_bounds` rewrites such a comparison ``w(col) OP literal`` (in
WHERE, ON or HAVING, inside AND, OR and NOT-free nesting) into ``(w(col) OP literal AND col >= lower [AND col <
upper])``: the added bounds on the bare column follow from the original (they are necessary, never sufficient), so
the answer is unchanged while the window reaches the API.

Wrappers understood (nested freely): ``CAST(… AS …)``, ``datetime``, ``date``, ``strftime(fmt, …)`` with a leading
``%Y[-%m[-%d[ %H…]]]`` format, ``substr(…, 1, n)``, the bridge's ``PG_TIMESTAMP(…, type)``, ``PG_DATE_TRUNC(unit, …)``
and ``PG_EXTRACT('year'|'month'…, …)``. Each is a floor of the instant (never later than it), so ``w(col) >= X``
implies ``col >= X``; an upper bound ``w(col) <= X`` implies ``col < X + one unit`` of the literal's precision.
Anything else (julianday, arithmetic, a non-literal side) is left alone. The rewrite never changes a statement it
does not understand: on any parse problem the text is returned as it was.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

import apsw
import sqlglot
from sqlglot import exp

#: Units a literal's precision can have, finest last.
_UNITS = ("year", "month", "day", "hour", "minute", "second")
_PREFIX = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:[ T](\d{2})(?::(\d{2})(?::(\d{2})(?:\.\d+)?)?)?)?)?)?"
                     r"(?:Z|[+-]00:?00)?$")
_FLOOR_FUNCTIONS = {"datetime", "date", "pg_timestamp"}
#: Evaluates constant sides (``date('now', '-7 days')``): SQLite's own date functions, no tables, read-only use.
_SCRATCH = apsw.Connection(":memory:")


def imply_bounds(sql: str, time_columns: Mapping[str, frozenset[str]]) -> str:
    """``sql`` with implied bounds added on bare TIME columns; unchanged when there is nothing to add.

    ``time_columns`` maps each table name (lower case) to the lower-cased names of its TIME columns.
    """
    lowered = sql.lower()
    if not any(name in lowered for cols in time_columns.values() for name in cols):
        return sql
    try:
        trees = sqlglot.parse(sql, read="sqlite")
    except (sqlglot.errors.ParseError, sqlglot.errors.TokenError, ValueError):
        return sql
    changed = False
    for tree in trees:
        if tree is None:
            continue
        aliases = _aliases(tree, time_columns)
        for node in list(tree.find_all(exp.GT, exp.GTE, exp.LT, exp.LTE, exp.EQ)):
            implied = _implied(node, aliases, time_columns)
            if implied is not None:
                node.replace(exp.Paren(this=exp.and_(node.copy(), implied)))
                changed = True
    if not changed:
        return sql
    return ";\n".join(t.sql(dialect="sqlite") for t in trees if t is not None)


def _aliases(tree: exp.Expression, time_columns: Mapping[str, frozenset[str]]) -> dict[str, str]:
    """Alias (or name) → table name, for the tables of the statement that have TIME columns."""
    out: dict[str, str] = {}
    for table in tree.find_all(exp.Table):
        name = table.name.lower()
        if name in time_columns:
            out[(table.alias or table.name).lower()] = name
    return out


def _is_time_column(column: exp.Column, aliases: Mapping[str, str],
                    time_columns: Mapping[str, frozenset[str]]) -> bool:
    name = column.name.lower()
    if column.table:
        table = aliases.get(column.table.lower())
        return table is not None and name in time_columns[table]
    candidates = [t for t in set(aliases.values()) if name in time_columns[t]]
    return bool(candidates)


_COARSER = {u: i for i, u in enumerate(_UNITS)}
#: sqlglot's own nodes for a text → time conversion of the same instant (how it reads strftime's argument).
_IDENTITY = tuple(getattr(exp, n) for n in ("TsOrDsToTimestamp", "TsOrDsToTime", "StrToTime") if hasattr(exp, n))
_SUBSTR_UNITS = {4: "year", 7: "month", 10: "day", 13: "hour", 16: "minute", 19: "second"}
_FORMAT_UNITS = {"%Y": "year", "%Y-%m": "month", "%Y-%m-%d": "day", "%Y-%m-%d %H": "hour", "%Y-%m-%dT%H": "hour",
                 "%Y-%m-%d %H:%M": "minute", "%Y-%m-%dT%H:%M": "minute", "%Y-%m-%d %H:%M:%S": "second",
                 "%Y-%m-%dT%H:%M:%S": "second"}


def _coarsest(a: str | None, b: str | None) -> str | None:
    if a is None or b is None:
        return a or b
    return a if _COARSER[a] < _COARSER[b] else b


def _unwrap(node: exp.Expression) -> tuple[exp.Column | None, str | None, bool]:
    """The bare column under floor-like wrappers, the coarsest granularity they truncate to (None: the instant
    itself), and whether the outermost wrapper is a year extract (a number is compared, not a time)."""
    grain: str | None = None
    year = False
    while True:
        if isinstance(node, exp.Column):
            return node, grain, year
        if isinstance(node, (exp.Cast, exp.Paren, *_IDENTITY)):
            node = node.this
            continue
        name = node.name.lower() if isinstance(node, exp.Anonymous) else ""
        args = node.expressions if isinstance(node, exp.Anonymous) else []
        if name == "pg_timestamp" and len(args) == 2:
            kind = args[1].this.lower() if isinstance(args[1], exp.Literal) else ""
            grain, node = (_coarsest(grain, "day") if kind == "date" else grain), args[0]
            continue
        if name == "pg_date_trunc" and len(args) == 2 and isinstance(args[0], exp.Literal) \
                and args[0].this.lower() in _COARSER:
            grain, node = _coarsest(grain, args[0].this.lower()), args[1]
            continue
        if name == "pg_extract" and len(args) == 2 and isinstance(args[0], exp.Literal) \
                and args[0].this.lower() == "year" and grain is None and not year:
            year, grain, node = True, "year", args[1]
            continue
        if isinstance(node, exp.Date) or name == "date" or (isinstance(node, exp.Func) and
                                                               node.sql_name().lower() == "date"):
            inner = node.this if not args else args[0]
            if len(node.expressions if isinstance(node, exp.Anonymous) else []) > 1:
                return None, None, False  # date(col, modifiers): not a plain floor
            grain, node = _coarsest(grain, "day"), inner
            continue
        if name == "datetime" and len(args) == 1 or (isinstance(node, exp.Func) and not name
                                                     and node.sql_name().lower() == "datetime"):
            node = args[0] if args else node.this
            continue
        fmt, inner = _strftime_parts(node)
        if fmt is not None and inner is not None and fmt in _FORMAT_UNITS:
            grain, node = _coarsest(grain, _FORMAT_UNITS[fmt]), inner
            continue
        if isinstance(node, exp.Substring):
            start, length = node.args.get("start"), node.args.get("length")
            if isinstance(start, exp.Literal) and start.this == "1" and isinstance(length, exp.Literal) \
                    and int(length.this) in _SUBSTR_UNITS:
                grain, node = _coarsest(grain, _SUBSTR_UNITS[int(length.this)]), node.this
                continue
        return None, None, False


def _strftime_parts(node: exp.Expression) -> tuple[str | None, exp.Expression | None]:
    if isinstance(node, exp.Anonymous) and node.name.lower() == "strftime":
        args = node.expressions
        if len(args) == 2 and isinstance(args[0], exp.Literal):
            return args[0].this, args[1]
        return None, None
    if isinstance(node, exp.TimeToStr):
        fmt = node.args.get("format")
        return (fmt.this if isinstance(fmt, exp.Literal) else None), node.this
    return None, None


def _implied(node: exp.Expression, aliases: Mapping[str, str],
             time_columns: Mapping[str, frozenset[str]]) -> exp.Expression | None:
    left, right = node.this, node.expression
    op = type(node)
    if _constant(left) is not None and _constant(right) is None:
        left, right = right, left
        op = {exp.GT: exp.LT, exp.GTE: exp.LTE, exp.LT: exp.GT, exp.LTE: exp.GTE}.get(op, op)
    value = _constant(right)
    if value is None or isinstance(left, exp.Column) or _constant(left) is not None:
        return None
    moving = "now" in right.sql().lower()  # date('now', '-7 days') grows while the statement waits to run
    column, grain, year = _unwrap(left)
    if column is None or not _is_time_column(column, aliases, time_columns):
        return None
    text = value.strip()
    if year and not re.fullmatch(r"\d{4}", text):
        return None
    span = _span(text)
    if span is None:
        return None
    low, precision = span
    # Every wrapper is a floor of the instant: w(col) >= X implies col >= X. An upper bound holds one unit of the
    # coarser of the wrapper's granularity and the literal's precision past the floored literal.
    unit = _coarsest(grain, precision) or precision
    high = _add(_floor(low, unit), unit)
    if moving:
        high += timedelta(days=1)  # the constant is evaluated now; by the time the statement runs it may be later
    bare = column.copy()
    bounds: list[exp.Expression] = []
    if op in (exp.GT, exp.GTE, exp.EQ):
        bounds.append(exp.GTE(this=bare.copy(), expression=exp.Literal.string(_iso(low))))
    if op in (exp.LT, exp.LTE, exp.EQ):
        bounds.append(exp.LT(this=bare.copy(), expression=exp.Literal.string(_iso(high))))
    return exp.and_(*bounds) if len(bounds) > 1 else bounds[0]


def _constant(node: exp.Expression) -> str | None:
    """The text of a constant side: a literal, or an expression without columns that SQLite evaluates to text or a
    number (``date('now', '-7 days')``); None for anything else."""
    if isinstance(node, exp.Literal):
        return str(node.this)
    if node.find(exp.Column, exp.Select, exp.Star) is not None or not isinstance(node, exp.Func):
        return None
    try:
        value = _SCRATCH.execute(f"SELECT {node.sql(dialect='sqlite')}").fetchone()[0]
    except apsw.Error:
        return None
    return str(value) if isinstance(value, str | int) and not isinstance(value, bool) else None


def _span(text: str) -> tuple[datetime, str] | None:
    """The first instant a literal stands for, and its precision (``'2026-10'`` → Oct 1st, month)."""
    m = _PREFIX.match(text)
    if not m:
        return None
    given = [int(p) for p in m.groups() if p is not None]
    try:
        low = datetime(given[0], *(given[1:3] + [1] * (2 - len(given[1:3]))), *given[3:6], tzinfo=UTC)
    except ValueError:
        return None
    return low, _UNITS[len(given) - 1]


def _floor(moment: datetime, unit: str) -> datetime:
    """``moment`` truncated to ``unit``."""
    keep = _COARSER[unit]
    fields = {"month": 1, "day": 1, "hour": 0, "minute": 0, "second": 0}
    return moment.replace(**{f: v for f, v in fields.items() if _COARSER[f] > keep})


def _add(moment: datetime, unit: str) -> datetime:
    """``moment`` plus one ``unit``."""
    if unit == "year":
        return moment.replace(year=moment.year + 1)
    if unit == "month":
        year, month = (moment.year + 1, 1) if moment.month == 12 else (moment.year, moment.month + 1)
        return moment.replace(year=year, month=month, day=min(moment.day, calendar.monthrange(year, month)[1]))
    return moment + {"day": timedelta(days=1), "hour": timedelta(hours=1), "minute": timedelta(minutes=1),
                     "second": timedelta(seconds=1)}[unit]


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
