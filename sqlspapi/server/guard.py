"""What guards a bridge session: PostgreSQL's functions and a read-only authorizer on its SQLite connection, and
its limits (the query size cap, ``statement_timeout``).

``install_functions`` registers ``version()`` and the functions the translated SQL calls (``pg_date_trunc``,
``pg_extract``, ``pg_add_interval``, strict casts, ``regexp`` …, and ``series``' ``make_date`` and
``generate_series`` tables). ``Guard`` is the connection's authorizer: after the session's own catalog is attached it
refuses ATTACH and DETACH, ``load_extension``, PRAGMA writes and every write outside the client's temp tables (CREATE
TEMP TABLE and INSERT/UPDATE/DELETE on temp tables stay allowed), and remembers why, so the client's error says what
was refused.

``query_size_limit`` reads the query size cap (``$SQLSPAPI_BRIDGE_MAX_QUERY_SIZE``, default 16 MiB) and
``check_query_size`` refuses a larger query with 54000 before anything parses it. ``StatementTimer`` is
``statement_timeout``: a timer per statement that cancels it and remembers that it did, so the cancel is answered
``canceling statement due to statement timeout`` (57014).
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
from collections.abc import Callable

import apsw

from sqlspapi import errors

from . import pgtypes, series
from .pgerror import PgError

VERSION = "PostgreSQL 15.0 (sqlspapi {version}: SQL over Amazon's Selling Partner API, SQLite {sqlite})"
_PRAGMAS_READ = {"table_info", "table_xinfo", "table_list", "index_list", "index_info", "index_xinfo",
                 "foreign_key_list", "function_list", "module_list", "pragma_list", "collation_list",
                 "database_list", "compile_options", "schema_version", "user_version", "encoding"}


def _none_safe(func: Callable[..., object]) -> Callable[..., object]:
    return lambda *args: None if any(a is None for a in args) else func(*args)


_STRING_FUNCTIONS: dict[str, Callable[..., object]] = {  # PostgreSQL string functions SQLite lacks
    "split_part": _none_safe(lambda s, d, n: (str(s).split(str(d)) + [""] * int(n))[int(n) - 1] if int(n) > 0
                             else ""),
    "initcap": _none_safe(lambda s: re.sub(r"[A-Za-z0-9]+", lambda m: m.group(0).capitalize(), str(s))),
    "btrim": _none_safe(lambda s, chars=" ": str(s).strip(str(chars))),
    "lpad": _none_safe(lambda s, n, fill=" ": (str(fill) * int(n) + str(s))[-int(n):] if len(str(s)) < int(n)
                       else str(s)[: int(n)]),
    "rpad": _none_safe(lambda s, n, fill=" ": (str(s) + str(fill) * int(n))[: int(n)]),
    "md5": _none_safe(lambda s: hashlib.md5(str(s).encode(), usedforsecurity=False).hexdigest()),
    "reverse": _none_safe(lambda s: str(s)[::-1]),
}


def install_functions(con: apsw.Connection) -> None:
    """Register ``version()``, the bridge's PostgreSQL functions and ``generate_series`` on a connection."""
    try:
        from importlib.metadata import version

        ours = version("sqlspapi")
    except Exception:  # noqa: BLE001 - running from a checkout without metadata
        ours = "dev"
    text = VERSION.format(version=ours, sqlite=apsw.sqlite_lib_version())
    con.create_scalar_function("version", lambda: text, 0)
    for name, func in (("pg_date_trunc", pgtypes.pg_date_trunc), ("pg_extract", pgtypes.pg_extract),
                       ("pg_add_interval", pgtypes.pg_add_interval), ("pg_timestamp", pgtypes.pg_timestamp),
                       ("pg_bool", pgtypes.pg_bool), ("pg_cast_int", pgtypes.pg_cast_int),
                       ("pg_cast_float", pgtypes.pg_cast_float), ("pg_array_get", pgtypes.pg_array_get),
                       ("pg_timestamp_diff", pgtypes.pg_timestamp_diff),
                       ("pg_array_contains", pgtypes.pg_array_contains), *_STRING_FUNCTIONS.items()):
        con.create_scalar_function(name, func, deterministic=True)
    con.create_scalar_function("regexp", lambda p, s: None if p is None or s is None else
                               int(re.search(p, str(s)) is not None), 2, deterministic=True)
    con.create_scalar_function("pg_regexp_i", lambda p, s: None if p is None or s is None else
                               int(re.search(p, str(s), re.I) is not None), 2, deterministic=True)
    series.install(con)


class Guard:
    """The connection's authorizer (chained after any existing one); ``internal`` lets the session's own work pass."""

    def __init__(self, con: apsw.Connection) -> None:
        self.internal = False
        self.denied: str | None = None  # why the last refused action was refused
        self._previous: Callable[..., int] | None = con.authorizer
        con.authorizer = self

    def __call__(self, op: int, p1: str | None, p2: str | None, db: str | None, trigger: str | None) -> int:
        """SQLite's authorizer callback: SQLITE_OK or SQLITE_DENY (recording the reason)."""
        if self._previous is not None:
            verdict = self._previous(op, p1, p2, db, trigger)
            if verdict != apsw.SQLITE_OK:
                return verdict
        if self.internal:
            return apsw.SQLITE_OK
        reason = refusal(op, p1, p2, db)
        if reason is None:
            return apsw.SQLITE_OK
        self.denied = f"sqlspapi refuses {reason}: the bridge is read-only except for the client's temp tables"
        return apsw.SQLITE_DENY

_WRITES = {apsw.SQLITE_INSERT: "INSERT into", apsw.SQLITE_UPDATE: "UPDATE of", apsw.SQLITE_DELETE: "DELETE from"}
_DDL = {apsw.SQLITE_CREATE_TABLE: "CREATE TABLE", apsw.SQLITE_CREATE_VIEW: "CREATE VIEW",
        apsw.SQLITE_CREATE_INDEX: "CREATE INDEX", apsw.SQLITE_CREATE_TRIGGER: "CREATE TRIGGER",
        apsw.SQLITE_CREATE_VTABLE: "CREATE VIRTUAL TABLE", apsw.SQLITE_DROP_TABLE: "DROP TABLE",
        apsw.SQLITE_DROP_VIEW: "DROP VIEW", apsw.SQLITE_DROP_INDEX: "DROP INDEX",
        apsw.SQLITE_DROP_TRIGGER: "DROP TRIGGER", apsw.SQLITE_DROP_VTABLE: "DROP VIRTUAL TABLE",
        apsw.SQLITE_REINDEX: "REINDEX", apsw.SQLITE_ANALYZE: "ANALYZE"}


def refusal(op: int, p1: str | None, p2: str | None, db: str | None) -> str | None:
    """Why the authorizer refuses an action, or None when it is allowed."""
    if op == apsw.SQLITE_ATTACH:
        return "ATTACH"
    if op == apsw.SQLITE_DETACH:
        return "DETACH"
    if op == apsw.SQLITE_FUNCTION and (p2 or "").lower() == "load_extension":
        return "load_extension()"
    if op == apsw.SQLITE_PRAGMA:
        name = (p1 or "").lower()
        if p2 is not None and name not in _PRAGMAS_READ or name in ("optimize", "shrink_memory", "wal_checkpoint",
                                                                     "incremental_vacuum", "writable_schema"):
            return f"PRAGMA {name}" + (f" = {p2}" if p2 is not None else "")
        return None
    if op in _WRITES and db != "temp" and (p1 or "").lower() not in ("sqlite_master", "sqlite_schema"):
        return f"{_WRITES[op]} {db}.{p1}" if db else f"{_WRITES[op]} {p1}"
    if op in _DDL and db != "temp":
        return f"{_DDL[op]} {p1 or ''}".strip()
    if op == apsw.SQLITE_ALTER_TABLE and p1 != "temp":
        return f"ALTER TABLE {p2}"
    return None


# ---- limits: the query size cap and statement_timeout ----------------------------------------------------------
#: The environment variable with the largest query (bytes of SQL text) a session accepts: ``16777216``, ``64MB``.
MAX_QUERY_ENV = "SQLSPAPI_BRIDGE_MAX_QUERY_SIZE"
DEFAULT_MAX_QUERY_SIZE = 16 * 2**20
_SIZE_RE = re.compile(r"\s*(\d+)\s*(b|kb|kib|mb|mib|gb|gib)?\s*", re.I)
_SIZE_UNITS = {"b": 1, "kb": 2**10, "kib": 2**10, "mb": 2**20, "mib": 2**20, "gb": 2**30, "gib": 2**30}


def query_size_limit(text: str | None = None) -> int:
    """The query size cap in bytes from ``text`` (default ``$SQLSPAPI_BRIDGE_MAX_QUERY_SIZE``, else 16 MiB): a number
    of bytes or one with a unit as PostgreSQL writes memory (``kB``, ``MB``, ``GB``: powers of 1024). ValueError when
    it is not one; ``sqlspapi serve`` should call this at start so a typo fails there."""
    text = os.environ.get(MAX_QUERY_ENV) if text is None else text
    if not text:
        return DEFAULT_MAX_QUERY_SIZE
    match = _SIZE_RE.fullmatch(text)
    if match is None or int(match[1]) == 0:
        raise ValueError(f"{MAX_QUERY_ENV}={text[:40]!r} is not a size: write bytes (16777216) or a number with kB, MB "
                         "or GB (16MB)")
    return int(match[1]) * _SIZE_UNITS[(match[2] or "b").lower()]


def check_query_size(sql: str, limit: int) -> None:
    """54000 when the query text is larger than ``limit`` bytes (UTF-8): a length check, nothing parses it."""
    if len(sql) <= limit // 4 or len(sql) <= limit and sql.isascii():
        return  # (at most 4 bytes a character)
    size = len(sql) if sql.isascii() else len(sql.encode("utf-8", "surrogatepass"))
    if size > limit:
        raise PgError("54000", f"query of {size} bytes is larger than the bridge's limit of {limit} bytes "
                               f"({MAX_QUERY_ENV})",
                      hint=f"Raise it with the environment variable {MAX_QUERY_ENV} of sqlspapi serve (for example "
                           f"{MAX_QUERY_ENV}=64MB), or send large values as query parameters.")


class StatementTimer:
    """``statement_timeout`` of one session: a timer per statement that calls ``cancel`` when it runs out, and
    remembers for which statement it did (so that statement's cancel is answered as a timeout). Thread-safe: the
    timer thread, the client's worker thread and the event loop's cancel may meet here."""

    def __init__(self, cancel: Callable[[], None]) -> None:
        self._cancel = cancel
        self._lock = threading.Lock()
        self._timer: threading.Timer | None = None
        self._current: object = None  # the running statement's clock
        self._fired: object = None  # the clock that ran out

    def start(self, milliseconds: int) -> object:
        """A statement starts: its clock (pass it to :meth:`stop` and :meth:`fired`), counting ``milliseconds``."""
        clock = object()
        with self._lock:
            self._current = clock
            self._arm(milliseconds)
        return clock

    def _arm(self, milliseconds: int) -> None:
        self._disarm()
        self._timer = threading.Timer(milliseconds / 1000, self._run_out)
        self._timer.daemon = True
        self._timer.start()

    def _disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def stop(self, clock: object) -> None:
        """The statement of ``clock`` ended: its timer stops (a later statement's keeps running)."""
        with self._lock:
            if clock is self._current:
                self._disarm()
                self._current = None

    def suspend(self) -> None:
        """Stop counting for the running statement (a suspended portal); :meth:`resume` counts again."""
        with self._lock:
            self._disarm()

    def resume(self, milliseconds: int) -> None:
        """Count ``milliseconds`` again for the running statement (0: not at all)."""
        with self._lock:
            if self._current is not None and milliseconds > 0:
                self._arm(milliseconds)

    def fired(self, clock: object) -> bool:
        """True when the statement of ``clock`` was cancelled because its time ran out."""
        return self._fired is clock

    def _run_out(self) -> None:
        with self._lock:  # held while cancelling: the statement cannot end and another start in between
            if threading.current_thread() is not self._timer:
                return  # stopped, suspended or replaced while this timer woke up
            self._timer, self._fired = None, self._current
            self._cancel()


def cancelled(error: BaseException) -> bool:
    """True for the errors a cancel ends a statement with (in a rate-limit wait, between calls, in SQLite)."""
    return isinstance(error, errors.QueryCancelled | apsw.InterruptError) or getattr(error, "sqlstate", "") == "57014"


def timeout_error() -> PgError:
    """57014 as PostgreSQL words a statement stopped by ``statement_timeout``."""
    return PgError("57014", "canceling statement due to statement timeout")
