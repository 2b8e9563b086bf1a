"""What the bridge refuses, and says so as PostgreSQL would: ``EXPLAIN`` options it cannot honour, and functions.

:func:`explain_statement` reads ``EXPLAIN [ ( option, … ) | VERBOSE ] statement`` and returns the statement
(``ANALYZE`` and a ``FORMAT`` other than TEXT are 0A000: the plan is sqlspapi's API plan, never a run).
:func:`function_error` turns SQLite's "no such function" into PostgreSQL's answer: 0A000 naming the call as the user
wrote it for a function PostgreSQL has and sqlspapi cannot run, 42883 with PostgreSQL's hint for a name PostgreSQL
lacks too (so clients probing for a function behave as with a real server).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import sqlglot
from sqlglot import exp
from sqlglot.errors import ErrorLevel, SqlglotError

from . import pgtypes
from .infer import Scope
from .pgerror import PgError
from .pgfunctions import POSTGRESQL_FUNCTIONS
from .series import argument_type
from .translate import BridgeSQLite, prefilter

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
    except (SqlglotError, RecursionError):
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
    types = [pgtypes.format_type(oid) if (oid := argument_type(a, scope)) else "unknown" for a in arguments]
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
        tree = sqlglot.parse_one(prefilter(sql), read="postgres", error_level=ErrorLevel.RAISE)
        call = next((node for node in tree.find_all(exp.Func) if _called_name(node, BridgeSQLite) == wanted), None)
    except (SqlglotError, RecursionError):
        pass
    if isinstance(call, exp.Array):
        return PgError("0A000", "arrays (ARRAY[…]) are not supported by sqlspapi, except in = ANY(ARRAY[…])")
    name = (_called_name(call, "postgres") if call is not None else None) or wanted
    signature = _signature(call, name, columns or {})
    if name in POSTGRESQL_FUNCTIONS:
        return PgError("0A000", f"function {signature} is not supported by sqlspapi",
                       hint="The bridge runs on SQLite; see `sqlspapi help bi-tools` for the functions it translates.")
    return PgError("42883", f"function {signature} does not exist", hint=_UNDEFINED_FUNCTION_HINT)


__all__ = ["explain_statement", "function_error"]
