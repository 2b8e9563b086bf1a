"""One client's protocol state after login: simple and extended query, portals, errors, streaming rows.

:class:`Handler.handle` runs in the client's worker thread (APSW and SP-API calls block). Rows are encoded in
batches and written to an :class:`~sqlspapi.server.output.Output` as they are produced; it is flushed at
ReadyForQuery and Flush. A malformed message gets PostgreSQL's answer (22021 for text that is not UTF-8, 08P01 for
a broken field) and the client stays in sync; an unknown message type is FATAL and ends the connection.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlspapi.server import protocol as pq
from sqlspapi.server.bindparams import decode_binary_param, decode_text_param
from sqlspapi.server.codec import TEXT
from sqlspapi.server.datarows import batch_encoder
from sqlspapi.server.output import ClientGone, Output
from sqlspapi.server.pgerror import client_error

_COPY_MESSAGES = (b"d", b"c", b"f")  # CopyData, CopyDone, CopyFail: valid types, ignored outside COPY
_DEALLOCATE = re.compile(r'\bdeallocate\s+(?:prepare\s+)?("[^"]*+(?:""[^"]*+)*+"|\w+)', re.I)
BATCH_ROWS = 1000        # rows encoded per batch


class QueryCanceled(Exception):
    """A CancelRequest arrived for the running statement."""

    sqlstate = "57014"
    message = "canceling statement due to user request"


@dataclass
class Statement:
    """A parsed (prepared) statement."""

    prepared: Any                     # session.Prepared, or None for an empty query
    param_oids: list[int]             # what ParameterDescription says (0 → text)


@dataclass
class Portal:
    """A bound statement, possibly partly executed."""

    statement: Statement
    params: list[object]
    raw_formats: list[int]            # result format codes as Bind sent them
    result: Any = None
    rows: Iterator[tuple] | None = None
    encoder: Callable[..., tuple[bytes, int]] | None = None
    sent: int = 0
    done: bool = False
    tag: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def _close_iter(rows: object) -> None:
    close = getattr(rows, "close", None)
    if callable(close):
        try:
            close()
        except Exception:  # noqa: BLE001, S110 - abandoning a cursor must never fail the connection
            pass


class Handler:
    """Protocol state of one logged-in client around its session."""

    def __init__(self, session: Any, out: Output) -> None:
        self.session = session
        self.out = out
        self.statements: dict[str, Statement] = {}
        self.portals: dict[str, Portal] = {}
        self.skipping = False          # after an error in extended mode: ignore messages until Sync
        self.busy = False
        self.cancel_requested = False

    # ---------------------------------------------------------------- dispatch
    def handle(self, tag: bytes, body: bytes | list[bytes]) -> bool:
        """Process one message; False means the connection ends (Terminate, or a FATAL error was sent).

        A Query's body may come as a one-item list that :meth:`query` empties once it has read the SQL, so that a
        big query's bytes are freed before it runs (the server passes it so).
        """
        if tag == b"X":
            return False
        if tag == b"S":
            self.sync()
            return True
        if tag == b"H":
            self.out.flush()
            return True
        method = self._dispatch.get(tag)
        if method is None and tag not in _COPY_MESSAGES:  # as PostgreSQL: FATAL, also while skipping to Sync
            self.out.write(pq.error_response(pq.ErrorInfo(
                "08P01", f"invalid frontend message type {tag[0]}", severity="FATAL")))
            self.out.flush()
            return False
        if self.skipping or method is None:  # CopyData/CopyDone/CopyFail outside COPY are ignored
            return True
        try:
            method(self, body)
        except ClientGone:
            raise
        except Exception as exc:  # noqa: BLE001 - every error becomes an ErrorResponse
            self.send_error(exc)
            if tag != b"Q":
                self.skipping = True
        return True

    def send_error(self, exc: BaseException) -> None:
        """Send one ErrorResponse for ``exc`` (Python's own exceptions in PostgreSQL's words: ``client_error``)."""
        if isinstance(exc, pq.ProtocolViolation):
            info = pq.ErrorInfo("08P01", str(exc))
        else:
            info = pq.error_info(exc if isinstance(getattr(exc, "sqlstate", None), str) else client_error(exc))
        self.out.write(pq.error_response(info))

    def request_cancel(self) -> None:
        """From the event loop (CancelRequest): interrupt the running statement, if any."""
        if self.busy:
            self.cancel_requested = True
            self.session.cancel()

    def close(self) -> None:
        """Release portals and the session (worker thread)."""
        for portal in self.portals.values():
            _close_iter(portal.rows)
        self.portals.clear()
        self.session.close()

    # ---------------------------------------------------------------- simple query
    def query(self, body: bytes | list[bytes]) -> None:
        """Query ('Q'): each statement's results in turn, then ReadyForQuery (``body``: see :meth:`handle`)."""
        try:  # a malformed Query still gets its ErrorResponse and ReadyForQuery
            sql = pq.parse_query(body.pop() if isinstance(body, list) else body)
            self._drop_portal("")
            self.statements.pop("", None)
            if not sql.strip().strip(";").strip():
                self.out.write(pq.EMPTY_QUERY)
            else:
                self._start()
                for result in self.session.simple_query(sql):
                    self._stream(result, None, True, 0, Portal(Statement(None, []), [], []))
                    self._check_cancel()
                self._deallocate(sql)
        except ClientGone:
            raise
        except Exception as exc:  # noqa: BLE001 - every error becomes an ErrorResponse
            self.send_error(exc)
        finally:
            self.busy = False
        self.out.write(pq.ready_for_query(self.session.transaction_status))
        self.out.flush()

    # ---------------------------------------------------------------- extended query
    def parse(self, body: bytes) -> None:
        """Parse ('P'): prepare without running (no SP-API call)."""
        msg = pq.parse_parse(body)
        if not msg.query.strip().strip(";").strip():
            stmt = Statement(None, [o or TEXT for o in msg.param_oids])
        else:
            prepared = self.session.prepare(msg.query, msg.param_oids)
            stmt = Statement(prepared, [o or TEXT for o in prepared.param_oids])
        self.statements[msg.name] = stmt
        self.out.write(pq.PARSE_COMPLETE)

    def bind(self, body: bytes) -> None:
        """Bind ('B'): decode parameters by their declared types; the portal runs at its first Execute."""
        msg = pq.parse_bind(body)
        stmt = self.statements.get(msg.statement)
        if stmt is None:
            raise _pg("26000", f'prepared statement "{msg.statement}" does not exist')
        if len(msg.params) != len(stmt.param_oids):
            raise pq.ProtocolViolation(f"bind message supplies {len(msg.params)} parameters, but prepared "
                                       f"statement \"{msg.statement}\" requires {len(stmt.param_oids)}")
        if msg.portal and msg.portal in self.portals:
            raise _pg("42P03", f'cursor "{msg.portal}" already exists')
        formats = pq.expand_formats(msg.param_formats, len(msg.params))
        params: list[object] = []
        for i, (oid, fmt, data) in enumerate(zip(stmt.param_oids, formats, msg.params, strict=True)):
            try:
                params.append(None if data is None else
                              decode_binary_param(oid, data) if fmt else decode_text_param(oid, data))
            except UnicodeDecodeError as exc:  # PostgreSQL's 22021, naming the parameter as it does
                where = f'portal "{msg.portal}"' if msg.portal else "unnamed portal"
                raise _pg("22021", pq.invalid_encoding_message(data, exc),
                          context=f"{where} parameter ${i + 1}") from exc
            except (ValueError, ArithmeticError) as exc:
                raise _pg("22P02", f"invalid value for parameter ${i + 1} (type OID {oid}): {exc}") from exc
        self._drop_portal(msg.portal)
        cols = stmt.prepared.columns if stmt.prepared is not None else None
        if cols is not None:
            pq.expand_formats(msg.result_formats, len(cols))  # validates the count
        self.portals[msg.portal] = Portal(stmt, params, msg.result_formats)
        self.out.write(pq.BIND_COMPLETE)

    def describe(self, body: bytes) -> None:
        """Describe ('D') a statement or portal from what prepare() found: never executes."""
        kind, name = pq.parse_target(body)
        if kind == b"S":
            stmt = self.statements.get(name)
            if stmt is None:
                raise _pg("26000", f'prepared statement "{name}" does not exist')
            self.out.write(pq.parameter_description(stmt.param_oids))
            cols = stmt.prepared.columns if stmt.prepared is not None else None
            self.out.write(pq.row_description(cols, [0] * len(cols)) if cols else pq.NO_DATA)
        elif kind == b"P":
            portal = self.portals.get(name)
            if portal is None:  # a cursor opened with SQL DECLARE is a portal too (psycopg describes it)
                cols, raw_formats = self._cursor_columns(name), []
            else:
                cols = portal.result.columns if portal.result is not None else (
                    portal.statement.prepared.columns if portal.statement.prepared is not None else None)
                raw_formats = portal.raw_formats
            if cols:
                formats = pq.expand_formats(raw_formats, len(cols))
                self.out.write(pq.row_description(cols, formats))
            else:
                self.out.write(pq.NO_DATA)
        else:
            raise pq.ProtocolViolation(f"invalid DESCRIBE message subtype {kind!r}")

    def execute(self, body: bytes) -> None:
        """Execute ('E'): run the portal (first time) and stream up to ``max_rows`` rows."""
        name, max_rows = pq.parse_execute(body)
        portal = self.portals.get(name)
        if portal is None:
            raise _pg("34000", f'portal "{name}" does not exist')
        if portal.statement.prepared is None:
            self.out.write(pq.EMPTY_QUERY)
            return
        if portal.done:
            self.out.write(pq.command_complete(portal.tag))
            return
        try:
            self._start()
            if portal.result is None:
                portal.result = self.session.execute(portal.statement.prepared, portal.params)
            else:  # a suspended portal goes on: its statement_timeout counts again
                self._session_hook("resume_timeout")
            self._stream(portal.result, portal.raw_formats, False, max_rows, portal)
        except BaseException:
            self._drop_portal(name)
            raise
        finally:
            self.busy = False

    def close_message(self, body: bytes) -> None:
        """Close ('C') a statement or portal."""
        kind, name = pq.parse_target(body)
        if kind == b"S":
            self.statements.pop(name, None)
        elif kind == b"P":
            self._drop_portal(name)
        else:
            raise pq.ProtocolViolation(f"invalid CLOSE message subtype {kind!r}")
        self.out.write(pq.CLOSE_COMPLETE)

    def sync(self) -> None:
        """Sync ('S'): end of an extended-query cycle: ReadyForQuery and flush."""
        self.skipping = False
        status = self.session.transaction_status
        if status == "I":
            for portal in self.portals.values():
                _close_iter(portal.rows)
            self.portals.clear()
        self.out.write(pq.ready_for_query(status))
        self.out.flush()

    def function_call(self, body: bytes) -> None:
        """FunctionCall ('F') is not supported."""
        raise _pg("0A000", "the function call protocol is not supported; use SELECT")

    # ---------------------------------------------------------------- streaming
    def _start(self) -> None:
        self.cancel_requested = False
        self.busy = True

    def _check_cancel(self) -> None:
        if self.cancel_requested:
            self.cancel_requested = False
            raise QueryCanceled

    def _stream(self, result: Any, raw_formats: list[int] | None, describe: bool, max_rows: int,
                portal: Portal) -> None:
        """Send (RowDescription +) DataRows (+ CommandComplete or PortalSuspended) for one result."""
        out = self.out
        cols = result.columns
        if cols is None:
            for _ in result.rows:
                pass
            portal.done, portal.tag = True, result.command_tag(0)
            self._notices()
            out.write(pq.command_complete(portal.tag))
            return
        if portal.encoder is None:
            formats = pq.expand_formats(raw_formats or [], len(cols))
            if describe:
                out.write(pq.row_description(cols, formats))
            portal.encoder = batch_encoder([c.type_oid for c in cols], formats)
            portal.rows = iter(result.rows)
        encoder, rows = portal.encoder, portal.rows
        left = max_rows if max_rows > 0 else -1
        while left:
            self._check_cancel()
            want = BATCH_ROWS if left < 0 else min(BATCH_ROWS, left)
            data, n = encoder(rows, want)
            if n:
                out.write(data)
                portal.sent += n
                if left > 0:
                    left -= n
            if n < want:
                portal.done, portal.tag = True, result.command_tag(portal.sent)
                self._notices()
                out.write(pq.command_complete(portal.tag))
                return
        out.write(pq.PORTAL_SUSPENDED)
        self._session_hook("suspend_timeout")  # the client is away between Executes: not the statement's time

    def _session_hook(self, name: str) -> None:
        """Call the session's optional method ``name`` (sessions without it are fine)."""
        hook = getattr(self.session, name, None)
        if hook is not None:
            hook()

    def _notices(self) -> None:
        """Send the statement's notices (a default date window applied) as PostgreSQL NOTICEs."""
        take = getattr(self.session, "take_notices", None)
        for text in take() if take is not None else ():
            self.out.write(pq.notice_response(text))

    def _cursor_columns(self, name: str) -> Any:
        """Columns of a session cursor (DECLARE) by portal name, or 34000."""
        lookup = getattr(self.session, "cursor_columns", None)
        if lookup is not None:
            return lookup(name)
        cursor = getattr(self.session, "cursors", {}).get(name)
        if cursor is None:
            raise _pg("34000", f'portal "{name}" does not exist')
        return cursor.columns

    def _deallocate(self, sql: str) -> None:
        """DEALLOCATE in a simple Query (psqlODBC's way of closing its plans) drops our prepared statements."""
        for match in _DEALLOCATE.finditer(sql):
            name = match.group(1)
            if name.lower() == "all":
                self.statements.clear()
            else:
                self.statements.pop(name[1:-1].replace('""', '"') if name.startswith('"') else name.lower(), None)

    def _drop_portal(self, name: str) -> None:
        portal = self.portals.pop(name, None)
        if portal is not None:
            _close_iter(portal.rows)

    _dispatch: dict[bytes, Callable[[Handler, bytes], None]] = {
        b"Q": query, b"P": parse, b"B": bind, b"D": describe, b"E": execute, b"C": close_message,
        b"F": function_call}


class _PgStateError(Exception):
    def __init__(self, sqlstate: str, message: str, context: str | None = None) -> None:
        super().__init__(message)
        self.sqlstate = sqlstate
        self.message = message
        self.detail = None
        self.hint = None
        self.context = context


def _pg(sqlstate: str, message: str, context: str | None = None) -> Exception:
    return _PgStateError(sqlstate, message, context)
