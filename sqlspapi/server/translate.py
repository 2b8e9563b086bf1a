"""PostgreSQL SQL → SQLite SQL for the bridge: sqlglot plus the project dialect for what BI tools send.

``translate(sql, columns)`` parses one PostgreSQL statement, rewrites what SQLite lacks (``date_trunc``,
``extract``, intervals and ``make_interval``, ``E'…'`` strings, ``version()``, ``::regclass`` and other casts,
``pg_catalog.``/``public.`` qualifiers, ``OPERATOR(pg_catalog.~)``, ``COLLATE pg_catalog.default``), names unaliased
result columns as PostgreSQL does (``count(*)`` → ``count``), turns ``$n`` into ``?n`` and infers the types of
parameters and result expressions. ``generate_series`` (in FROM, or alone in a select list without FROM) becomes the
series table of its PostgreSQL result type (:mod:`sqlspapi.server.series`). Any sqlglot warning or unsupported
construct raises ``PgError`` (42601 syntax, 0A000 unsupported): a query is never silently changed.

``explain_statement`` reads ``EXPLAIN``'s options and returns the statement to plan; ``function_error`` turns
SQLite's "no such function" into PostgreSQL's answer (0A000 for a PostgreSQL function the bridge lacks, else 42883).
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
from sqlglot.errors import ErrorLevel, ParseError, SqlglotError, UnsupportedError

from . import pgtypes
from .catalog import DEFAULT_SETTINGS
from .infer import Scope, cast_oid, cast_type_text, infer_type, interval_text, name_results, param_oid
from .pgfunctions import POSTGRESQL_FUNCTIONS

_local = threading.local()


_SET_RE = re.compile(r"set\s+(?:session\s+|local\s+)?(?:(time\s+zone)\s+(.*)|([\w.]+)\s*(?:=|\bto\b)\s*(.*))",
                     re.I | re.S)


def apply_set(settings: dict[str, str], sql: str) -> None:
    """``SET [SESSION|LOCAL] name {TO|=} value[, …]`` / ``SET TIME ZONE x`` into the session's settings."""
    match = _SET_RE.match(sql.strip().rstrip(";"))
    if not match:
        raise PgError("42601", f"syntax error in SET: {sql[:80]!r}")
    name = "timezone" if match.group(1) else match.group(3).lower()
    value = (match.group(2) or match.group(4) or "").strip()
    if value.lower() == "default":
        settings[name] = DEFAULT_SETTINGS.get(name, "")
    else:
        parts = [p.strip() for p in re.findall(r"'(?:[^']|'')*'|[^,]+", value)]
        settings[name] = ", ".join(p[1:-1].replace("''", "'") if p.startswith("'") else p for p in parts)


def show(settings: dict[str, str], sql: str) -> tuple[list[str], list[tuple]]:
    """``SHOW name`` / ``SHOW ALL``: the column names and rows PostgreSQL returns."""
    name = " ".join(sql.strip().rstrip(";").split()[1:]).lower().strip('"')
    name = {"time zone": "timezone", "transaction isolation level": "transaction_isolation"}.get(name, name)
    if name == "all":
        return ["name", "setting", "description"], [(k, v, "") for k, v in sorted(settings.items())]
    if name not in settings:
        raise PgError("42704", f'unrecognized configuration parameter "{name}"')
    return [name], [(settings[name],)]


class PgError(Exception):
    """An error for the client as PostgreSQL reports it: SQLSTATE, message, optional detail and hint."""

    def __init__(self, sqlstate: str, message: str, detail: str | None = None, hint: str | None = None) -> None:
        super().__init__(message)
        self.sqlstate, self.message, self.detail, self.hint = sqlstate, message, detail, hint


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
_COLLATE_RE = re.compile(r"\s+COLLATE\s+(?:pg_catalog\s*\.\s*)?(?:\"default\"|default|\"C\"|\"POSIX\")", re.I)
_TOKEN_RE = re.compile(r"""(?:[Ee]'(?:[^'\\]|\\.|'')*'|'(?:[^']|'')*'|"(?:[^"]|"")*"|--[^\n]*|/\*.*?\*/|"""
                       r"""(\$[A-Za-z_]*\$).*?\1)""", re.DOTALL)
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


def split_statements(sql: str) -> list[str]:
    """Split a simple-query string on ``;`` outside quotes, dollar quotes and comments; drop empty statements."""
    parts, start, pos = [], 0, 0
    while pos < len(sql):
        match = _TOKEN_RE.match(sql, pos)
        if match:
            pos = match.end()
            continue
        if sql[pos] == ";":
            parts.append(sql[start:pos])
            start = pos + 1
        pos += 1
    parts.append(sql[start:])
    return [p.strip() for p in parts if _strip_comments(p).strip()]


def _strip_comments(sql: str) -> str:
    return re.sub(r"--[^\n]*|/\*.*?\*/", " ", sql, flags=re.DOTALL)


def first_words(sql: str, count: int = 2) -> list[str]:
    """The first ``count`` keywords of a statement, lower case (comments skipped)."""
    return [w.lower() for w in re.findall(r"[A-Za-z_]+", _strip_comments(sql))[:count]]


def _prefilter(sql: str) -> str:
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


_TEMPORAL_TYPES = {pgtypes.DATE, pgtypes.TIMESTAMP, pgtypes.TIMESTAMPTZ}
_SERIES_SUFFIX = {pgtypes.INT4: "int4", pgtypes.INT8: "int8", pgtypes.NUMERIC: "numeric",
                  pgtypes.TIMESTAMP: "timestamp", pgtypes.TIMESTAMPTZ: "timestamptz"}
_INT4_MAX = 2**31 - 1


def _argument_type(node: exp.Expression, scope: Scope) -> int | None:
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
    bounds = {_argument_type(call.args[k], scope) for k in ("start", "end")}
    step = call.args.get("step")
    step_type = _argument_type(step, scope) if step is not None else None
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


def _series(tree: exp.Expression, columns: Mapping[str, Mapping[str, int]]) -> exp.Expression:
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


def _column_aliases(tree: exp.Expression) -> exp.Expression:
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
    """Translate one PostgreSQL statement to SQLite; raises ``PgError`` instead of changing its meaning."""
    columns = columns or {}
    text = _prefilter(sql)
    _local.warnings = warnings = []
    _local.catalog = bool(CATALOG_RE.search(sql))
    try:
        tree = sqlglot.parse_one(text, read="postgres", error_level=ErrorLevel.RAISE)
        if warnings:
            raise PgError("42601", f"cannot translate the statement: {warnings[0]}")
        reads_catalog = any(_CATALOG_RELATION.fullmatch(t.name) or t.db.lower() in ("pg_catalog", "information_schema")
                            for t in tree.find_all(exp.Table))
        names, types = name_results(tree, columns)
        params: dict[int, int] = {}
        for param in tree.find_all(exp.Parameter):
            if isinstance(param.this, exp.Literal) and param.this.name.isdigit():
                select = param.find_ancestor(exp.Select) or tree
                params[int(param.this.name)] = param_oid(param, Scope(select, columns))
        tree = _column_aliases(_series(tree, columns))
        tree = _distinct_on(tree)
        tree = _transform(tree)
        out = tree.sql(dialect=BridgeSQLite, unsupported_level=ErrorLevel.RAISE)
        if warnings:
            raise PgError("0A000", f"cannot translate the statement: {warnings[0]}")
    except ParseError as error:
        errors = getattr(error, "errors", None) or [{}]
        raise PgError("42601", f"syntax error: {errors[0].get('description') or error}") from error
    except UnsupportedError as error:
        raise PgError("0A000", f"not supported by sqlspapi: {error}") from error
    except SqlglotError as error:
        raise PgError("42601", f"cannot translate the statement: {error}") from error
    finally:
        _local.warnings = None
    count = max(params, default=0)
    return Translation(sql=out, param_count=count,
                       param_oids=[params.get(i, pgtypes.TEXT) for i in range(1, count + 1)],
                       names=names, types=types, catalog=bool(CATALOG_RE.search(sql)), reads_catalog=reads_catalog)


def fallback_names(sql: str) -> list[str] | None:
    """Result column names of a statement sqlglot parses but the bridge cannot run (catalog fallback), or None."""
    try:
        tree = sqlglot.parse_one(_prefilter(sql), read="postgres", error_level=ErrorLevel.RAISE)
        return name_results(tree, {})[0]
    except SqlglotError:
        return None


_EXPLAIN_RE = re.compile(r"explain\b\s*(?:\((?P<options>[^()]*)\)|"
                         r"(?P<words>(?:(?:analy[sz]e|verbose|query\s+plan)\b\s*)*))(?P<statement>.*)", re.I | re.S)
_EXPLAIN_OPTIONS = {"analyze", "analyse", "verbose", "costs", "settings", "buffers", "wal", "timing", "summary",
                    "format", "generic_plan", "serialize", "memory"}
_FALSE = {"false", "off", "0", "no"}


def explain_statement(sql: str) -> str:
    """The statement of ``EXPLAIN [(option [value], …)] [VERBOSE] statement`` (SQLite's ``EXPLAIN QUERY PLAN`` is
    read too). ``ANALYZE`` would run the statement and its SP-API calls: 0A000, as is a FORMAT other than TEXT; an
    unknown option is 42601 as in PostgreSQL."""
    match = _EXPLAIN_RE.match(sql.strip().rstrip(";").strip())
    if match is None or not match["statement"].strip():
        raise PgError("42601", "syntax error at end of input: EXPLAIN needs a statement")
    options: dict[str, str] = {word.lower(): "true" for word in re.findall(r"analy[sz]e|verbose", match["words"] or "",
                                                                           re.I)}
    for item in filter(None, (part.strip() for part in (match["options"] or "").split(","))):
        name, _, value = item.partition(" ")
        if name.lower() not in _EXPLAIN_OPTIONS:
            raise PgError("42601", f'unrecognized EXPLAIN option "{name.lower()}"')
        options[name.lower()] = value.strip().strip("'").lower() or "true"
    if any(options.get(name, "false") not in _FALSE for name in ("analyze", "analyse")):
        raise PgError("0A000", "EXPLAIN ANALYZE is not supported by sqlspapi: it would run the statement and make its "
                               "SP-API calls. EXPLAIN shows the calls the statement would make and their estimated "
                               "number and time, without calling the API.")
    if options.get("format", "text") != "text":
        raise PgError("0A000", f"EXPLAIN (FORMAT {options['format'].upper()}) is not supported by sqlspapi: only "
                               "FORMAT TEXT")
    return match["statement"].strip()


_FUNCTION_NAME = re.compile(r"\s*([A-Za-z_]\w*)\s*\(")
_UNDEFINED_FUNCTION_HINT = "No function matches the given name and argument types. You might need to add explicit " \
                           "type casts."


def _called_name(node: exp.Func, dialect: type | str) -> str | None:
    """The name a function call is written with in ``dialect`` (lower case), None when it is not a plain call."""
    try:
        match = _FUNCTION_NAME.match(node.sql(dialect=dialect))
    except SqlglotError:
        return None
    return match[1].lower() if match else None


def _signature(node: exp.Func | None, name: str, columns: Mapping[str, Mapping[str, int]]) -> str:
    """``name(type, …)`` as PostgreSQL's errors spell a call (string literals are ``unknown``)."""
    if node is None:
        return f"{name}(...)"
    arguments: list[exp.Expression] = []
    for value in node.args.values():
        arguments.extend(v for v in (value if isinstance(value, list) else [value]) if isinstance(v, exp.Expression))
    scope = Scope(node.find_ancestor(exp.Select) or node.root(), columns)
    types = [pgtypes.format_type(oid) if (oid := _argument_type(a, scope)) else "unknown" for a in arguments]
    return f"{name}({', '.join(types)})"


def function_error(sql: str, missing: str, columns: Mapping[str, Mapping[str, int]] | None = None) -> PgError:
    """PostgreSQL's answer when SQLite says ``no such function: MISSING`` running the translation of ``sql``.

    The call is found again in ``sql`` (sqlglot may have renamed it: ``to_timestamp(1)`` runs as ``UNIX_TO_TIME``)
    and named as the user wrote it, with its argument types. A function PostgreSQL has is SQLSTATE 0A000, "function
    to_tsvector(unknown) is not supported by sqlspapi"; one PostgreSQL lacks too is 42883, "function foo(integer)
    does not exist", with PostgreSQL's hint.
    """
    wanted, call = missing.lower(), None
    try:
        tree = sqlglot.parse_one(_prefilter(sql), read="postgres", error_level=ErrorLevel.RAISE)
        call = next((node for node in tree.find_all(exp.Func) if _called_name(node, BridgeSQLite) == wanted), None)
    except SqlglotError:
        pass
    if isinstance(call, exp.Array):
        return PgError("0A000", "arrays (ARRAY[…]) are not supported by sqlspapi, except in = ANY(ARRAY[…])")
    name = (_called_name(call, "postgres") if call is not None else None) or wanted
    signature = _signature(call, name, columns or {})
    if name in POSTGRESQL_FUNCTIONS:
        return PgError("0A000", f"function {signature} is not supported by sqlspapi",
                       hint="The bridge runs on SQLite; see `sqlspapi help bi-tools` for the functions it translates.")
    return PgError("42883", f"function {signature} does not exist", hint=_UNDEFINED_FUNCTION_HINT)
