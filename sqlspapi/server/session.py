"""One bridge client's SQL session: PostgreSQL statements in, SQLite results out (see docs/server-interface.md).

``PgSession`` answers what PostgreSQL servers answer themselves (SET/RESET/SHOW, BEGIN/COMMIT/ROLLBACK, SAVEPOINT,
DISCARD, DEALLOCATE, DECLARE/FETCH/MOVE/CLOSE cursors), translates everything else with ``translate`` and runs it
on the session's own ``Database`` connection, which carries the emulated catalog (``catalog``) and the authorizer
(``guard``). Describe (``prepare``) never runs a query: the exec tracer captures the description, returns False.
``EXPLAIN`` answers the API plan (``Database.explain``: the calls the statement would make and their estimated cost)
as PostgreSQL's one ``QUERY PLAN`` column, without calling the API (``explain``). Parameter and result column types
come from ``describe``. SQLite's "no such function/column/table" become PostgreSQL's SQLSTATEs with a useful
message (``translate.function_error``, ``sqlspapi.interfaces.hints.hint``); every other failure reaches the client
through ``pgerror.client_error`` (PostgreSQL's words, never Python's).

Limits: a query longer than the session's ``max_query_size`` (``$SQLSPAPI_BRIDGE_MAX_QUERY_SIZE``, default 16 MiB)
is refused with 54000 before anything else reads it; ``SET statement_timeout`` stops a statement that runs longer
(57014) with a timer that calls :meth:`PgSession.cancel`, from the statement's start until its last row is read.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterator
from typing import Any

import apsw

from sqlspapi.interfaces.hints import hint

from . import pgtypes, unsupported
from . import translate as _sql
from .catalog import Catalog
from .describe import (
    Prepared,
    bind_values,
    catalog_fallback,
    parameter_oids,
    result_columns,
    text_columns,
    to_bool,
)
from .explain import ExplainStatement
from .guard import (
    Guard,
    StatementTimer,
    cancelled,
    check_query_size,
    install_functions,
    query_size_limit,
    timeout_error,
)
from .pgerror import client_error
from .pgsettings import DEFAULT_SETTINGS, timeout_ms
from .statements import FETCH_RE, ColumnDesc, HeldCursor, ServerStatements, StatementResult, unquote
from .translate import PgError, Translation, first_words, leading_code, split_statements, translate

__all__ = ["ColumnDesc", "MissingName", "PgError", "PgSession", "Prepared", "StatementResult"]

_SERVER_ANSWERED = {"set", "reset", "show", "begin", "start", "commit", "end", "rollback", "abort", "savepoint",
                    "release", "discard", "deallocate", "declare", "fetch", "move", "close", "listen", "unlisten",
                    "notify"}
_SQLITE_MISSING = re.compile(r"no such (function|column|table): (\S+)")
_QUOTED = re.compile(r'"([^"]*+(?:""[^"]*+)*+)"')


class MissingName(PgError, apsw.SQLError):
    """SQLite's "no such function/column/table" as PostgreSQL reports it (42883 or 0A000, 42703, 42P01) with a
    useful message; still an ``apsw.SQLError`` for code that catches SQLite's errors."""


class PgSession(ServerStatements, ExplainStatement):
    """A client's session on its own ``Database`` (see the module docstring and docs/server-interface.md)."""

    def __init__(self, database: Any, *, user: str, database_name: str, application_name: str = "",
                 max_query_size: int | None = None) -> None:
        self.max_query_size = max_query_size if max_query_size is not None else query_size_limit()
        self.database = database
        self._notices: list[str] = []  # sent to the client as NOTICEs before the statement's CommandComplete
        if hasattr(database, "_on_notice"):
            database._on_notice = self._notices.append
        self.con: apsw.Connection = getattr(database, "connection", database)
        self.user, self.database_name = user, database_name
        self.settings = dict(DEFAULT_SETTINGS, application_name=application_name, session_authorization=user)
        self.transaction_status = "I"
        self._begun_settings: dict[str, str] = {}  # the settings at BEGIN: ROLLBACK restores them
        self._local_settings: dict[str, str | None] = {}  # values before SET LOCAL: the transaction's end restores
        self._deadline = StatementTimer(self.cancel)
        self.cursors: dict[str, HeldCursor] = {}
        descriptions = {}
        if hasattr(database, "tables"):
            for spec in database.tables():
                descriptions[spec.name] = (getattr(spec, "description", None),
                                           {c.name: getattr(c, "description", "") for c in spec.columns})
        self.catalog = Catalog(self.con, user=user, database_name=database_name, settings=self.settings,
                               descriptions=descriptions)
        install_functions(self.con)
        for option in (apsw.SQLITE_DBCONFIG_DQS_DML, apsw.SQLITE_DBCONFIG_DQS_DDL):
            self.con.config(option, 0)  # "x" is an identifier, never SQLite's string-literal fallback
        self.guard = Guard(self.con)

    # ---- the interface ---------------------------------------------------------------------------------------
    def simple_query(self, sql: str) -> Iterator[StatementResult]:
        """Run each statement of a simple Query in order; results are produced lazily, errors raise."""
        self._run(lambda: check_query_size(sql, self.max_query_size), "")
        for statement in split_statements(sql):
            yield self._timed(lambda s=statement: self._statement(s, None, None), statement)

    def prepare(self, sql: str, param_oids: list[int]) -> Prepared:
        """Parse and describe a statement without running it (never an SP-API call)."""
        self._run(lambda: check_query_size(sql, self.max_query_size), "")
        words = first_words(sql)
        if not words or words[0] in _SERVER_ANSWERED:
            columns = [ColumnDesc(words[1] if len(words) > 1 else "setting", pgtypes.TEXT)] \
                if words[:1] == ["show"] else None
            if words[:1] == ["fetch"] and (match := FETCH_RE.match(leading_code(sql).rstrip("; "))):
                columns = self.cursors[name].columns if (name := unquote(match.group(3))) in self.cursors else None
            return Prepared(list(param_oids), columns, sql=sql)
        if words[0] == "explain":
            return self._run(lambda: self._describe_explain(sql, param_oids), sql)
        return self._run(lambda: self._describe(sql, param_oids), sql)

    def cursor_columns(self, name: str) -> list[ColumnDesc] | None:
        """The result columns of an open cursor (DECLARE … CURSOR), for Describe of a FETCH."""
        if name not in self.cursors:
            raise PgError("34000", f'cursor "{name}" does not exist')
        return self.cursors[name].columns

    def execute(self, prepared: Prepared, params: list[object]) -> StatementResult:
        """Run a prepared statement with decoded parameter values."""
        return self._timed(lambda: self._statement(prepared.sql, prepared, list(params)), prepared.sql)

    def cancel(self) -> None:
        """Interrupt the running statement (thread-safe), also while it waits for the rate limiter: the database's
        ``cancel()`` stops that wait (``QueryCancelled``, SQLSTATE 57014) and gives the reserved token back."""
        self.con.interrupt()
        stop = getattr(self.database, "cancel", None)
        if callable(stop):
            stop()

    def suspend_timeout(self) -> None:
        """The protocol suspended a portal (Execute with a row limit): its ``statement_timeout`` stops counting while
        the client is away, as PostgreSQL times each Execute."""
        self._deadline.suspend()

    def resume_timeout(self) -> None:
        """An Execute continues a suspended portal: a full ``statement_timeout`` counts again from now."""
        self._deadline.resume(timeout_ms(self.settings.get("statement_timeout", "0")))

    def close(self) -> None:
        """Drop the cursors and close the session's database."""
        self._deadline.suspend()
        self.cursors.clear()
        closer = getattr(self.database, "close", None)
        if closer is not None:
            closer()

    # ---- dispatch --------------------------------------------------------------------------------------------
    def _run(self, run: Callable[[], Any], sql: str) -> Any:
        try:
            return run()
        except Exception as error:
            converted = self._failed(error, sql)
            if converted is error:
                raise
            raise converted from error

    def _failed(self, error: Exception, sql: str = "") -> Exception:
        """Mark an open transaction failed; return the error as the client should see it (``client_error``)."""
        if self.transaction_status == "T":
            self.transaction_status = "E"
        if isinstance(error, apsw.Error) and (self.guard.denied or isinstance(error, apsw.AuthError)):
            return PgError("42501", self.guard.denied or str(error))
        if isinstance(error, apsw.SQLError) and (missing := _SQLITE_MISSING.search(str(error))):
            return client_error(self._missing(error, missing[1], missing[2], sql))
        return client_error(error)  # type: ignore[return-value]

    def _timed(self, run: Callable[[], StatementResult], sql: str) -> StatementResult:
        """Run one statement under ``statement_timeout``: the timer runs from now until its rows are all read (or
        the rows iterator is closed); when it fires, the statement's cancel is answered as a statement timeout."""
        limit = timeout_ms(self.settings.get("statement_timeout", "0"))
        if limit <= 0:
            return self._run(run, sql)
        clock = self._deadline.start(limit)
        try:
            result = self._run(run, sql)
        except Exception as error:
            self._deadline.stop(clock)
            if self._deadline.fired(clock) and cancelled(error):
                raise timeout_error() from None
            raise
        result.rows = self._timed_rows(result.rows, clock)
        return result

    def _timed_rows(self, rows: Iterator[tuple], clock: object) -> Iterator[tuple]:
        try:
            yield from rows
        except Exception as error:
            if self._deadline.fired(clock) and cancelled(error):
                raise timeout_error() from None
            raise
        finally:
            self._deadline.stop(clock)

    def _missing(self, error: apsw.SQLError, kind: str, name: str, sql: str) -> Exception:
        """SQLite's "no such function/column/table" as PostgreSQL answers it, with what the user needs to know."""
        if kind == "function":
            pg = unsupported.function_error(sql, name, self.catalog.columns)
            return MissingName(pg.sqlstate, pg.message, pg.detail, pg.hint)
        unquoted = _QUOTED.sub(lambda m: m[1].replace('""', '"'), str(error))  # SQLite quotes sqlglot's identifiers
        better = hint(self.database, unquoted, sql)
        return error if better is None else MissingName("42703" if kind == "column" else "42P01", better)

    def _statement(self, sql: str, prepared: Prepared | None, params: list[object] | None) -> StatementResult:
        words = first_words(sql, 3)
        head = words[0] if words else ""
        if self.transaction_status == "E" and head not in ("rollback", "abort", "commit", "end") and \
                words[:2] != ["rollback", "to"]:
            raise PgError("25P02", "current transaction is aborted, commands ignored until end of transaction block")
        if head in ("attach", "detach"):
            raise PgError("42501", f"sqlspapi refuses {head.upper()}: the bridge serves only its own tables")
        if head in _SERVER_ANSWERED:
            return self._server_statement(leading_code(sql), words)
        if head == "explain":
            return self._explain(sql, prepared, params or [])
        return self._query(sql, prepared, params)

    # ---- queries ---------------------------------------------------------------------------------------------
    def _translate(self, sql: str) -> Translation:
        self.guard.internal = True
        try:
            self.catalog.refresh()
        finally:
            self.guard.internal = False
        try:
            return translate(sql, self.catalog.columns)
        except PgError as error:
            beyond_limits = error.sqlstate.startswith("54")  # never parsed again
            names = _sql.fallback_names(sql) if not beyond_limits and _sql.CATALOG_RE.search(sql) else None
            if names is None:
                raise
            return Translation(sql="", names=names, catalog=True)  # a catalog query: 0 rows, these columns

    def _describe(self, sql: str, param_oids: list[int]) -> Prepared:
        tr = self._translate(sql)
        if not tr.sql:
            return Prepared(list(param_oids), text_columns(tr), sql=sql, translation=tr, fallback=True)
        oids = parameter_oids(tr, param_oids)
        cursor, captured = self._describing_cursor(run=False)
        self.guard.denied = None
        try:
            cursor.execute(tr.sql, [None] * tr.param_count + tr.values)
        except apsw.ExecTraceAbort:
            pass
        except apsw.Error as error:
            if not catalog_fallback(tr, error):
                raise
            return Prepared(oids, text_columns(tr), sql=sql, translation=tr, fallback=True)
        description = captured.get("d") or ()
        return Prepared(oids, result_columns(description, tr, None) if description else None, sql=sql,
                        translation=tr)

    def _describing_cursor(self, *, run: bool) -> tuple[apsw.Cursor, dict[str, Any]]:
        """A cursor whose exec tracer keeps the statement's description (present even for 0 rows) in
        ``captured["d"]``; with ``run=False`` it stops the statement before it runs (Describe: no SP-API call)."""
        captured: dict[str, Any] = {}

        def trace(cursor: apsw.Cursor, _sql: str, _bindings: Any) -> bool:
            captured.setdefault("d", cursor.getdescription())
            return run

        cursor = self.con.cursor()
        cursor.exec_trace = trace
        return cursor, captured

    def _sqlite_text(self, tr: Translation) -> str:
        """The SQLite statement to run: with the date bounds the database states on bare columns so they reach the
        API (``Database.prepare``), except for catalog queries."""
        prepare = getattr(self.database, "prepare", None)
        return prepare(tr.sql) if prepare is not None and not tr.catalog else tr.sql

    def take_notices(self) -> list[str]:
        """The notices of the statement just run (a default date window applied), once."""
        notices, self._notices[:] = list(self._notices), []
        return notices

    def _query(self, sql: str, prepared: Prepared | None, params: list[object] | None) -> StatementResult:
        tr = prepared.translation if prepared and prepared.translation else self._translate(sql)
        if prepared is not None and prepared.fallback or not tr.sql:
            return StatementResult(prepared.columns if prepared else text_columns(tr), iter(()), tag="SELECT 0")
        bindings = bind_values(tr, prepared, params or [])
        cursor, captured = self._describing_cursor(run=True)
        self.guard.denied = None
        begin = getattr(self.database, "begin_statement", None)
        if begin is not None:
            begin()
        try:
            cursor.execute(self._sqlite_text(tr), bindings)
        except apsw.Error as error:
            if not catalog_fallback(tr, error):
                raise
            return StatementResult(text_columns(tr) or None, iter(()), tag="SELECT 0")
        description = captured.get("d") or ()
        if not description:
            return StatementResult(None, tag=self._command_tag(sql))
        if prepared is not None and prepared.columns is not None:
            columns, rows = prepared.columns, cursor
        elif all(d or (i < len(tr.types) and tr.types[i]) for i, (_n, d) in enumerate(description)):
            columns, rows = result_columns(description, tr, None), cursor  # every type known: no peeking
        else:
            first = next(cursor, None)
            columns = result_columns(description, tr, first)
            rows = itertools.chain([first] if first is not None else [], cursor)
        converters = [(i, to_bool) for i, c in enumerate(columns) if c.type_oid == pgtypes.BOOL]
        if not converters and self.transaction_status == "I" and rows is cursor:
            return StatementResult(columns, cursor, tag=lambda n: f"SELECT {n}")  # fastest: the APSW cursor itself
        return StatementResult(columns, self._rows(rows, converters), tag=lambda n: f"SELECT {n}")

    def _rows(self, rows: Iterator[tuple], converters: list) -> Iterator[tuple]:
        try:
            if not converters:
                yield from rows
                return
            for row in rows:
                values = list(row)
                for index, convert in converters:
                    values[index] = convert(values[index])
                yield tuple(values)
        except Exception as error:
            converted = self._failed(error)
            if converted is error:
                raise
            raise converted from error

    def _command_tag(self, sql: str) -> str:
        words = first_words(sql, 3)
        changes = self.con.changes()
        if words[:1] == ["insert"]:
            return f"INSERT 0 {changes}"
        if words[:1] in (["update"], ["delete"]):
            return f"{words[0].upper()} {changes}"
        if words[:1] in (["create"], ["drop"]):
            kind = [w for w in words[1:] if w not in ("temp", "temporary", "or", "replace")][:1]
            return f"{words[0].upper()} {(kind[0] if kind else '').upper()}".strip()
        return " ".join(words[:1]).upper()
