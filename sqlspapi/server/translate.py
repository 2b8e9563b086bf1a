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
that still happens is 54001 too. :func:`pieces` is the linear scanner under :func:`split_statements`,
:func:`first_words`, :func:`leading_code` and the guard: quotes, ``E'…'`` escapes, dollar quotes and nested comments
in one pass, constant memory. A string literal longer than :data:`BIG_LITERAL` never reaches sqlglot or the SQLite
text: :func:`lift_literals` makes it a value bound after the client's parameters (``Translation.values``).
"""

from __future__ import annotations

import itertools
import logging
import re
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

import sqlglot
from sqlglot import exp, transforms
from sqlglot.dialects.sqlite import SQLite
from sqlglot.errors import ErrorLevel, ParseError, SqlglotError, TokenError, UnsupportedError

from . import pgtypes
from .infer import Scope, cast_type_text, interval_text, name_results, param_oid
from .pgerror import PgError, plain_text, too_complex
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


# ---- the scanner: statements, quotes and comments in linear time and constant memory ------------------------------
# Each construct is found with str.find or one possessive regex (no backtracking, no per-character state), so a
# query of N bytes costs O(N) time and O(1) memory beyond the statements cut out of it.
_NEXT = re.compile(r"""['";$]|--|/\*""")  # what may open a quoted piece or a comment, or end a statement
_STRING_REST = re.compile(r"[^']*+(?:''[^']*+)*+'")  # after the opening quote; '' is a quote inside
_IDENT_REST = re.compile(r'[^"]*+(?:""[^"]*+)*+"')
_ESCAPE_REST = re.compile(r"(?:[^'\\]++|\\.|'')*+'", re.S)  # E'…': a backslash escapes the next character
_COMMENT_MARK = re.compile(r"/\*|\*/")  # block comments nest in PostgreSQL
_DOLLAR_TAG = re.compile(r"\$(?:[^\W\d]\w*)?\$")  # $$ or $tag$ ($1 is a parameter, not a tag)
_NON_SPACE = re.compile(r"\S")
_WORD = re.compile(r"[A-Za-z_]+")
_WORD_CHARS = 63  # PostgreSQL's identifier length; a longer word is cut (keywords are much shorter)
STRING, IDENTIFIER, COMMENT, END = "'", '"', "-", ";"  # kinds of pieces (a dollar-quoted string is a STRING)


def _word_char(char: str) -> bool:
    return char.isalnum() or char in "_$"


def _rest(pattern: re.Pattern[str], sql: str, pos: int) -> int:
    match = pattern.match(sql, pos)
    return match.end() if match else len(sql)  # unterminated: to the end (sqlglot then reports it)


def _block_comment_end(sql: str, pos: int) -> int:
    depth = 1
    while depth and (mark := _COMMENT_MARK.search(sql, pos)) is not None:
        depth += 1 if mark.group() == "/*" else -1
        pos = mark.end()
    return len(sql) if depth else pos


def pieces(sql: str) -> Iterator[tuple[str, int, int]]:
    """``(kind, start, end)`` of each string (``'…'``, ``E'…'``, ``$tag$…$tag$``: kind STRING), quoted identifier,
    comment (``--`` and nested ``/* */``) and statement-ending ``;`` (END) of ``sql`` in order; what lies between
    them is plain SQL. An unterminated piece runs to the end.

    Linear in the length of ``sql`` and constant in memory (a 100 MB literal costs nothing beyond its own bytes);
    lazy, so a caller reading the first words stops early.
    """
    pos, size = 0, len(sql)
    while (found := _NEXT.search(sql, pos)) is not None:
        start, mark = found.start(), found.group()
        if mark == ";":
            kind, end = END, start + 1
        elif mark == "'":
            escaped = start > 0 and sql[start - 1] in "eE" and not (start > 1 and _word_char(sql[start - 2]))
            kind, end = STRING, _rest(_ESCAPE_REST if escaped else _STRING_REST, sql, start + 1)
            start -= 1 if escaped else 0
        elif mark == '"':
            kind, end = IDENTIFIER, _rest(_IDENT_REST, sql, start + 1)
        elif mark == "--":
            newline = sql.find("\n", start)
            kind, end = COMMENT, size if newline < 0 else newline
        elif mark == "/*":
            kind, end = COMMENT, _block_comment_end(sql, start + 2)
        else:  # "$": a dollar quote, unless it is a $1 parameter or inside a name (a$b)
            tag = _DOLLAR_TAG.match(sql, start)
            if tag is None or start > 0 and _word_char(sql[start - 1]):
                pos = start + 1
                continue
            close = sql.find(tag.group(), tag.end())
            kind, end = STRING, size if close < 0 else close + len(tag.group())
        yield kind, start, end
        pos = end


def _with_end(sql: str) -> Iterator[tuple[str, int, int]]:
    """:func:`pieces`, then an END at the end of ``sql`` (so the plain SQL after the last piece is seen too)."""
    return itertools.chain(pieces(sql), [(END, len(sql), len(sql))])


def split_statements(sql: str) -> list[str]:
    """Split a simple-query string on ``;`` outside quotes, dollar quotes and comments; drop empty statements.

    A query of one statement, alone or followed by one ``;`` and white space, comes back whole (stripped, the ``;``
    kept: every statement reads past it, as in a Parse message), so a 100 MB statement is not copied."""
    spans, start, plain, content = [], 0, 0, False
    for kind, at, end in _with_end(sql):
        content = content or kind in (STRING, IDENTIFIER) or _NON_SPACE.search(sql, plain, at) is not None
        if kind == END:
            if content:
                spans.append((start, at))
            start, content = end, False
        plain = end
    if len(spans) == 1 and spans[0][0] == 0 and _NON_SPACE.search(sql, spans[0][1] + 1) is None:
        return [sql.strip()]
    return [sql[first:last].strip() for first, last in spans]


def first_words(sql: str, count: int = 2) -> list[str]:
    """The first ``count`` words of a statement, lower case, outside comments and string literals (words of a
    quoted identifier count: ``SHOW "TimeZone"``)."""
    words: list[str] = []
    plain = 0
    for kind, at, end in _with_end(sql):
        for span in [(plain, at)] + ([(at, end)] if kind == IDENTIFIER else []):
            for word in _WORD.finditer(sql, *span):
                words.append(sql[word.start():min(word.end(), word.start() + _WORD_CHARS)].lower())
                if len(words) == count:
                    return words
        plain = end
    return words


def leading_code(sql: str) -> str:
    """``sql`` from its first character that is neither white space nor part of a comment."""
    plain = 0
    for kind, at, end in _with_end(sql):
        code = _NON_SPACE.search(sql, plain, at)
        if code is not None or kind != COMMENT:
            return sql[code.start() if code is not None else at:]
        plain = end
    return ""


#: String literals longer than this many characters do not go through sqlglot: each becomes a value bound after the
#: client's parameters (``Translation.values``), so a 100 MB literal is neither parsed nor copied into the SQL text.
BIG_LITERAL = 4096
_PARAMETER = re.compile(r"(?<![\w$])\$(\d+)")


def _string_value(sql: str, start: int, end: int) -> str | None:
    """The value of the complete ``'…'`` or ``$tag$…$tag$`` string ``sql[start:end]``; None for an ``E'…'`` string or
    an unterminated one (sqlglot reads and reports those)."""
    if sql[start] == "'":
        return sql[start + 1:end - 1].replace("''", "'") if _STRING_REST.match(sql, start + 1) else None
    tag = _DOLLAR_TAG.match(sql, start)
    if tag is None or end - start < 2 * len(tag.group()) or not sql.startswith(tag.group(), end - len(tag.group())):
        return None
    return sql[tag.end():end - len(tag.group())]


def lift_literals(sql: str) -> tuple[str, int, list[object]]:
    """``(text, count, values)``: ``sql`` with each string literal longer than :data:`BIG_LITERAL` (not a ``B''``,
    ``X''`` or ``U&''`` one) replaced by a parameter numbered after the client's own, the number of the client's
    last parameter and the literals' values in order; ``(sql, 0, [])`` when there is none."""
    plain, count, lifted = 0, 0, []
    for kind, at, end in _with_end(sql):
        count = max([count, *(int(number) for number in _PARAMETER.findall(sql, plain, at))])
        if kind == STRING and end - at > BIG_LITERAL and not (at and (_word_char(sql[at - 1]) or sql[at - 1] == "&")):
            value = _string_value(sql, at, end)
            if value is not None:
                lifted.append((at, end, value))
        plain = end
    if not lifted:
        return sql, 0, []
    parts, last = [], 0
    for number, (at, end, _value) in enumerate(lifted, count + 1):
        parts += [sql[last:at], f"${number}"]
        last = end
    return "".join([*parts, sql[last:]]), count, [value for _at, _end, value in lifted]


# ---- the complexity guard: what sqlglot could only fail on, refused before it parses ------------------------------
#: Parentheses nested deeper than this are refused (sqlglot's recursive parser fails at about 45 levels).
MAX_NESTING = 64
#: A run of more operators than this in one expression (``1+1+…``, a tree as deep as the run) is refused.
MAX_OPERATOR_RUN = 256
#: Statements of more tokens than this are refused (sqlglot keeps ~600 bytes a token and reads ~15,000 a second).
MAX_TOKENS = 100_000
_TOKEN = re.compile(r"(?P<open>\()|(?P<close>\))|(?P<word>[\w$]+)|(?P<operator>[-+*/%^<>=~!@#&|]+)|\S")
#: Words that end an operator run: the operands around them are separate subtrees (AND/OR chains are flat).
_RUN_ENDS = frozenset({"and", "or", "case", "when", "then", "else", "end", "select", "from", "where", "group",
                       "having", "order", "by", "limit", "offset", "on", "join", "union", "intersect", "except",
                       "as", "in", "values", "with", "returning", "set"})
_LIMITS_HINT = (f"sqlspapi's SQL translator handles at most {MAX_NESTING} nested parentheses, {MAX_OPERATOR_RUN} "
                f"operators in a row and {MAX_TOKENS:,} tokens per statement: simplify the statement or split it.")


def check_complexity(sql: str) -> None:
    """Raise ``PgError`` 54001 (statement too complex) when the statement is beyond the translator's limits: a scan
    of the plain SQL between :func:`pieces` that stops as soon as a limit is passed (a 1 MB ``1+1+…`` at once)."""
    depth, run, outer_runs, tokens, plain = 0, 0, [], 0, 0
    for kind, at, end in _with_end(sql):
        for token in _TOKEN.finditer(sql, plain, at):
            tokens += 1
            if token.lastgroup == "open":
                outer_runs.append(run)
                depth, run = depth + 1, 0
                if depth > MAX_NESTING:
                    raise too_complex(f"parentheses nested more than {MAX_NESTING} deep", _LIMITS_HINT)
            elif token.lastgroup == "close":
                depth, run = max(depth - 1, 0), outer_runs.pop() if outer_runs else 0
            elif token.lastgroup == "operator" or token.lastgroup == "word" and token.group().lower() == "not":
                run += 1
                if run > MAX_OPERATOR_RUN:
                    raise too_complex(f"more than {MAX_OPERATOR_RUN} operators in a row", _LIMITS_HINT)
            elif token.group() == "," or token.lastgroup == "word" and token.group().lower() in _RUN_ENDS:
                run = 0
            if tokens > MAX_TOKENS:
                raise too_complex(f"more than {MAX_TOKENS:,} tokens", _LIMITS_HINT)
        tokens += kind in (STRING, IDENTIFIER)
        plain = end


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
    raise too_complex("expressions nested too deeply", _LIMITS_HINT)


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
        message = f'syntax error at or near "{near[:_WORD_CHARS]}"'
    detail = plain_text(description.split(" but got <", 1)[0]) if "missing for" not in description else None
    return PgError("42601", message, detail=detail or None)


def fallback_names(sql: str) -> list[str] | None:
    """Result column names of a statement sqlglot parses but the bridge cannot run (catalog fallback), or None."""
    try:
        tree = sqlglot.parse_one(prefilter(sql), read="postgres", error_level=ErrorLevel.RAISE)
        return name_results(tree, {})[0]
    except (SqlglotError, RecursionError):
        return None
