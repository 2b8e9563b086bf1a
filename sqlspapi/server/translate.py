"""PostgreSQL SQL → SQLite SQL for the bridge: sqlglot plus the project dialect for what BI tools send.

``translate(sql, columns)`` parses one PostgreSQL statement, rewrites what SQLite lacks (``date_trunc``,
``extract``, intervals and ``make_interval``, ``E'…'`` strings, ``version()``, ``::regclass`` and other casts,
``pg_catalog.``/``public.`` qualifiers, ``OPERATOR(pg_catalog.~)``, ``COLLATE pg_catalog.default``), names unaliased
result columns as PostgreSQL does (``count(*)`` → ``count``), turns ``$n`` into ``?n`` and infers the types of
parameters and result expressions. ``generate_series`` (in FROM, or alone in a select list without FROM) becomes the
series table of its PostgreSQL result type (:mod:`sqlspapi.server.series`). Any sqlglot warning or unsupported
construct raises ``PgError`` (42601 syntax, 0A000 unsupported): a query is never silently changed. Error messages
speak PostgreSQL (``syntax error at or near "x"``), never sqlglot's internals.

Before sqlglot sees a statement, :func:`check_complexity` refuses what it could only fail on slowly or with a
RecursionError (SQLSTATE 54001, statement too complex): parentheses nested deeper than :data:`MAX_NESTING`, more than
:data:`MAX_OPERATOR_RUN` operators in a row (``1+1+…``), more than :data:`MAX_TOKENS` tokens; a RecursionError
that still happens is 54001 too. A string literal longer than :data:`BIG_LITERAL` never reaches sqlglot or the
SQLite text: :func:`lift_literals` makes it a value bound after the client's parameters (``Translation.values``).
These, and :func:`split_statements`, :func:`first_words` and :func:`leading_code`, live in the linear text-level
scanner :mod:`sqlspapi.server.scanner` (quotes, ``E'…'`` escapes, dollar quotes and nested comments in one pass,
constant memory); this module re-exports them.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field

import sqlglot
from sqlglot import exp, transforms
from sqlglot.dialects.sqlite import SQLite
from sqlglot.errors import ErrorLevel, ParseError, SqlglotError, TokenError, UnsupportedError

from . import pgtypes
from .infer import Scope, cast_type_text, interval_text, name_results, param_oid
from .pgerror import PgError, plain_text, too_complex
from .scanner import (  # noqa: F401 - re-exported: the session and the tests import them from here
    BIG_LITERAL,
    LIMITS_HINT,
    MAX_NESTING,
    MAX_OPERATOR_RUN,
    MAX_TOKENS,
    WORD_CHARS,
    check_complexity,
    first_words,
    leading_code,
    lift_literals,
    pieces,
    split_statements,
)
from .series import column_aliases, expand_series

_local = threading.local()


class _WarningCollector(logging.Handler):
    """Collects sqlglot's log warnings of the current thread while a translation runs."""

    def emit(self, record: logging.LogRecord) -> None:
        sink = getattr(_local, "warnings", None)
        if sink is not None and record.levelno >= logging.WARNING:
            sink.append(record.getMessage())


_SQLGLOT_LOG = logging.getLogger("sqlglot")
_SQLGLOT_LOG.addHandler(_WarningCollector())
if _SQLGLOT_LOG.getEffectiveLevel() > logging.WARNING:  # an application that silences sqlglot must not hide them
    _SQLGLOT_LOG.setLevel(logging.WARNING)

CATALOG_RE = re.compile(r"\b(pg_\w+|information_schema)\b", re.IGNORECASE)
_CATALOG_RELATION = re.compile(r"pg_\w+", re.IGNORECASE)
_OPERATOR_RE = re.compile(r"OPERATOR\s*\(\s*(?:pg_catalog\s*\.\s*)?([~!<>=*+\-/%@#^&|]+)\s*\)", re.IGNORECASE)
_COLLATE_RE = re.compile(r"(?<!\s)\s+COLLATE\s+(?:pg_catalog\s*\.\s*)?(?:\"default\"|default|\"C\"|\"POSIX\")", re.I)


@dataclass
class Translation:
    """A translated statement: SQLite text, parameter count and types, result names and inferred result types."""

    sql: str
    param_count: int = 0
    param_oids: list[int] = field(default_factory=list)
    names: list[str] = field(default_factory=list)  # PostgreSQL result column names (sqlglot named_selects)
    types: list[int | None] = field(default_factory=list)  # inferred OIDs per result column, None = unknown
    catalog: bool = False  # touches pg_* or information_schema: failures may answer 0 rows
    reads_catalog: bool = False  # reads a pg_*/information_schema relation (not only calls a pg_* function)
    values: list[object] = field(default_factory=list)  # big literals, bound after the parameters (lift_literals)


def prefilter(sql: str) -> str:
    """Text-level fixes sqlglot cannot parse: ``OPERATOR(pg_catalog.~)`` → ``~``, default collations dropped."""
    return _COLLATE_RE.sub("", _OPERATOR_RE.sub(r"\1", sql))


def _rewrite(node: exp.Expression) -> exp.Expression:
    """One AST node of PostgreSQL → what SQLite plus the bridge's functions can run."""
    if isinstance(node, exp.Table):
        db = node.args.get("db")
        if db is not None and db.name.lower() in ("public", "main"):
            node.set("db", None)
            node.set("catalog", None)
        elif db is not None and db.name.lower().startswith("pg_temp"):
            node.set("db", exp.to_identifier("temp"))
    elif isinstance(node, exp.Column) and node.args.get("db") is not None:
        if node.args["db"].name.lower() in ("public", "main"):
            node.set("db", None)
            node.set("catalog", None)
    elif isinstance(node, exp.Dot) and isinstance(node.this, exp.Identifier) and \
            node.this.name.lower() == "pg_catalog" and isinstance(node.expression, exp.Func):
        return node.expression
    elif isinstance(node, exp.ByteString):
        return exp.Literal.string(node.this)
    elif isinstance(node, exp.Parameter) and isinstance(node.this, exp.Literal):
        return exp.var(f"?{node.this.name}")
    elif isinstance(node, exp.Add | exp.Sub):
        return _date_arithmetic(node)
    elif isinstance(node, exp.TimeToStr) and "%" not in node.text("format"):
        raise PgError("0A000", f"to_char with the format {node.text('format')!r} is not supported by sqlspapi "
                               "(only date/time formats are)")
    elif isinstance(node, exp.Cast):
        return _rewrite_cast(node)
    elif interval_text(node) is not None and not isinstance(node.parent, exp.Add | exp.Sub):
        return exp.Literal.string(interval_text(node) or "")
    elif isinstance(node, exp.Anonymous) and node.name.lower() == "date_part" and len(node.expressions) == 2:
        return exp.func("pg_extract", *node.expressions)
    elif isinstance(node, exp.EQ) and isinstance(node.expression, exp.Any) and \
            isinstance(node.expression.this.unnest(), exp.Array):
        return exp.In(this=node.this, expressions=node.expression.this.unnest().expressions)
    elif isinstance(node, exp.EQ) and isinstance(node.expression, exp.Any):
        return exp.func("pg_array_contains", node.expression.this.unnest(), node.this)
    elif isinstance(node, exp.Array) and len(node.expressions) == 1 and isinstance(node.expressions[0], exp.Select):
        if not getattr(_local, "catalog", False):
            raise PgError("0A000", "ARRAY(subquery) is not supported by sqlspapi")
        return exp.Null()  # catalog queries (psql's reloptions): no arrays to collect in the emulated catalog
    elif isinstance(node, exp.Bracket) and len(node.expressions) == 1:
        return exp.func("pg_array_get", node.this, node.expressions[0])
    elif isinstance(node, exp.RegexpILike):
        return exp.func("pg_regexp_i", node.expression, node.this)
    elif isinstance(node, exp.Left | exp.Right):
        start = exp.Literal.number(1) if isinstance(node, exp.Left) else exp.Neg(this=node.expression)
        args = [node.this, start] + ([node.expression] if isinstance(node, exp.Left) else [])
        return exp.func("substr", *args)
    elif isinstance(node, exp.Column) and not node.table and node.name.lower() in ("current_role",):
        return exp.func(node.name.lower())
    return node


_TEMPORAL_FUNCTIONS = {"pg_timestamp", "pg_date_trunc", "pg_add_interval"}


def _temporal(node: exp.Expression) -> str | None:
    """'date' or 'timestamp' when a (rewritten) expression is a date/time value, else None."""
    node = node.unnest()
    if isinstance(node, exp.CurrentDate):
        return "date"
    if isinstance(node, exp.CurrentTimestamp):
        return "timestamp"
    if isinstance(node, exp.Anonymous) and node.name.lower() in _TEMPORAL_FUNCTIONS:
        return "date" if node.name.lower() == "pg_timestamp" and node.expressions[-1].name == "date" else "timestamp"
    return None


def _date_arithmetic(node: exp.Add | exp.Sub) -> exp.Expression:
    """Date/time ± interval, date ± integer days, and date/time − date/time, as PostgreSQL computes them."""
    sign = exp.Literal.number(-1 if isinstance(node, exp.Sub) else 1)
    for interval, other in ((node.expression, node.this), (node.this, node.expression)):
        text = interval_text(interval)
        if text is not None and (interval is node.expression or isinstance(node, exp.Add)):
            return exp.func("pg_add_interval", other, exp.Literal.string(text), sign)
    left, right = _temporal(node.this), _temporal(node.expression)
    if left and right and isinstance(node, exp.Sub):
        return exp.func("pg_timestamp_diff", node.this, node.expression)
    if left == "date" and not right and isinstance(node.expression, exp.Literal) and node.expression.is_int:
        return exp.func("pg_timestamp", exp.func("pg_add_interval", node.this, exp.Literal.string(
            f"{node.expression.name} days"), sign), exp.Literal.string("date"))
    if left or right:
        raise PgError("0A000", f"this date/time arithmetic is not supported by sqlspapi: {node.sql('postgres')}")
    return node


def _rewrite_cast(node: exp.Cast) -> exp.Expression:
    text = cast_type_text(node).split("(")[0].strip()
    special = {"regclass": "pg_regclass", "regtype": "pg_regtype", "regnamespace": "pg_regnamespace"}
    if text in special:
        return exp.func(special[text], node.this)
    if text == "interval":
        return exp.Interval(this=node.this) if isinstance(node.parent, exp.Add | exp.Sub) else node.this
    if text in ("regproc", "regprocedure") or text.endswith("[]") or text.endswith("vector"):
        return node.this
    oid = pgtypes.oid_for_name(text)
    if oid == pgtypes.BOOL:
        return exp.func("pg_bool", node.this)
    if oid in (pgtypes.DATE, pgtypes.TIMESTAMP, pgtypes.TIMESTAMPTZ):
        return exp.func("pg_timestamp", node.this, exp.Literal.string(pgtypes.type_name(oid)))
    affinity = pgtypes.BY_OID[oid].sqlite if oid in pgtypes.BY_OID else None
    if affinity is None:
        raise PgError("0A000", f"type {text!r} is not supported by sqlspapi")
    if affinity in ("INTEGER", "REAL") and oid != pgtypes.OID:
        cast = exp.func("pg_cast_int" if affinity == "INTEGER" else "pg_cast_float", node.this)
        scale = node.to.expressions[1:2] if isinstance(node.to, exp.DataType) and oid == pgtypes.NUMERIC else []
        return exp.func("round", cast, scale[0].this) if scale else cast
    return exp.Cast(this=node.this, to=exp.DataType.build(affinity))


def _distinct_on(tree: exp.Expression) -> exp.Expression:
    """``DISTINCT ON`` → ROW_NUMBER() subquery (sqlglot), keeping the ORDER BY PostgreSQL applies to the result."""
    select = tree if isinstance(tree, exp.Select) else None
    distinct = select.args.get("distinct") if select is not None else None
    if select is None or distinct is None or not distinct.args.get("on"):
        return tree
    order = select.args.get("order")
    out = transforms.eliminate_distinct_on(tree)
    if order is not None and isinstance(out, exp.Select):
        names = set(out.named_selects)
        if all(isinstance(o.this, exp.Column) and o.this.name in names for o in order.expressions):
            out = out.order_by(*[exp.Ordered(this=exp.column(o.this.name), desc=o.args.get("desc"),
                                             nulls_first=o.args.get("nulls_first")) for o in order.expressions],
                               copy=False)
        else:
            raise PgError("0A000", "DISTINCT ON with an ORDER BY on expressions not in the select list is not "
                                   "supported by sqlspapi")
    return out


def _transform(tree: exp.Expression) -> exp.Expression:
    """Apply ``_rewrite`` bottom-up (children before parents), so rewritten parents see rewritten children."""
    for node in reversed(list(tree.walk(bfs=False))):
        new = _rewrite(node)
        if new is not node:
            if node is tree:
                tree = new
            else:
                node.replace(new)
    return tree


class BridgeSQLite(SQLite):
    """sqlglot's SQLite dialect with the bridge's functions for what stock output gets wrong on BI SQL."""

    class Generator(SQLite.Generator):
        """Generator transforms: date_trunc/extract/version/current_* become the bridge's SQLite functions."""

        TRANSFORMS = {
            **SQLite.Generator.TRANSFORMS,
            exp.TimestampTrunc: lambda self, e: self.func("pg_date_trunc", exp.Literal.string(e.unit.name.lower()
                                                                                                if e.unit else "day"),
                                                          e.this),
            exp.DateTrunc: lambda self, e: self.func("pg_date_trunc", exp.Literal.string(e.unit.name.lower()
                                                                                           if e.unit else "day"),
                                                     e.this),
            exp.Extract: lambda self, e: self.func("pg_extract", exp.Literal.string(e.this.name.lower()), e.expression),
            exp.CurrentVersion: lambda self, e: "version()",
            exp.CurrentSchema: lambda self, e: "current_schema()",
            exp.CurrentUser: lambda self, e: "current_user()",
            exp.SessionUser: lambda self, e: "session_user()",
            exp.CurrentCatalog: lambda self, e: "current_catalog()",
        }


def translate(sql: str, columns: Mapping[str, Mapping[str, int]] | None = None) -> Translation:
    """Translate one PostgreSQL statement to SQLite; raises ``PgError`` instead of changing its meaning (54001 for a
    statement beyond :func:`check_complexity`'s limits, checked before anything is parsed, or too deep anyway)."""
    check_complexity(sql)
    try:
        return _translate(sql, columns or {})
    except RecursionError:
        pass  # raised below, outside this handler: the deep frames and trees go with the RecursionError now
    raise too_complex("expressions nested too deeply", LIMITS_HINT)


def _translate(sql: str, columns: Mapping[str, Mapping[str, int]]) -> Translation:
    text, lifted_after, values = lift_literals(sql)
    catalog = bool(CATALOG_RE.search(text))
    text = prefilter(text)
    _local.warnings = warnings = []
    _local.catalog = catalog
    try:
        tree = sqlglot.parse_one(text, read="postgres", error_level=ErrorLevel.RAISE)
        if warnings:
            raise PgError("42601", f"cannot translate the statement: {plain_text(warnings[0])}")
        reads_catalog = any(_CATALOG_RELATION.fullmatch(t.name) or t.db.lower() in ("pg_catalog", "information_schema")
                            for t in tree.find_all(exp.Table))
        names, types = name_results(tree, columns)
        params: dict[int, int] = {}
        for param in tree.find_all(exp.Parameter):
            if isinstance(param.this, exp.Literal) and param.this.name.isdigit():
                select = param.find_ancestor(exp.Select) or tree
                params[int(param.this.name)] = param_oid(param, Scope(select, columns))
        tree = column_aliases(expand_series(tree, columns))
        tree = _distinct_on(tree)
        tree = _transform(tree)
        out = tree.sql(dialect=BridgeSQLite, unsupported_level=ErrorLevel.RAISE)
        if warnings:
            raise PgError("0A000", f"cannot translate the statement: {plain_text(warnings[0])}")
    except ParseError as error:
        raise syntax_error(error) from error
    except TokenError as error:
        raise PgError("42601", "unterminated quoted string, identifier or comment") from error
    except UnsupportedError as error:
        raise PgError("0A000", f"not supported by sqlspapi: {plain_text(str(error))}") from error
    except SqlglotError as error:
        raise PgError("42601", f"cannot translate the statement: {plain_text(str(error))}") from error
    finally:
        _local.warnings = None
    if "\x00" in out:  # E'\000', E'\x00': PostgreSQL text never holds NUL (SQLite would cut the statement there)
        raise PgError("22021", 'invalid byte sequence for encoding "UTF8": 0x00')
    count = lifted_after if values else max(params, default=0)
    return Translation(sql=out, param_count=count,
                       param_oids=[params.get(i, pgtypes.TEXT) for i in range(1, count + 1)],
                       names=names, types=types, catalog=catalog, reads_catalog=reads_catalog, values=values)


_EXPECTING_MORE = re.compile(r"SENTINEL|missing for|^Expecting|^Expected")


def syntax_error(error: ParseError) -> PgError:
    """sqlglot's ParseError as PostgreSQL words it: ``syntax error at or near "x"`` (or ``at end of input``), with
    sqlglot's description as the detail when it names no internals."""
    first = (getattr(error, "errors", None) or [{}])[0]
    description, near = str(first.get("description") or ""), str(first.get("highlight") or "")
    if not near or _EXPECTING_MORE.search(description) and not str(first.get("end_context") or "").strip():
        message = "syntax error at end of input"
    else:
        message = f'syntax error at or near "{near[:WORD_CHARS]}"'
    detail = plain_text(description.split(" but got <", 1)[0]) if "missing for" not in description else None
    return PgError("42601", message, detail=detail or None)


def fallback_names(sql: str) -> list[str] | None:
    """Result column names of a statement sqlglot parses but the bridge cannot run (catalog fallback), or None."""
    try:
        tree = sqlglot.parse_one(prefilter(sql), read="postgres", error_level=ErrorLevel.RAISE)
        return name_results(tree, {})[0]
    except (SqlglotError, RecursionError):
        return None
