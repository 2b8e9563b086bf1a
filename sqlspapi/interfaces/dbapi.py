"""PEP 249 (DB-API 2.0) over a sqlspapi ``Database``.

``connect(connection_string)`` opens a :class:`~sqlspapi.engine.Database` (SQLite virtual tables backed by
SP-API calls) and wraps its APSW connection in a :class:`Connection` whose cursors follow PEP 249: a
``description`` that survives 0-row results, ``fetchmany``, ``rowcount``, type objects, and every error
raised as one of the PEP 249 classes in :mod:`sqlspapi.errors`. Errors sqlspapi raises itself (a missing
filter, a bad connection string, an SP-API answer) reach the caller unchanged; SQLite's own errors are mapped.

Values come typed by their column's declared type: a timestamp column (``description`` type code
:data:`DATETIME`) gives timezone-aware ``datetime`` objects in UTC, a decimal column (money amounts, type code
:data:`NUMBER`) exact ``decimal.Decimal`` objects, a ``BOOLEAN`` column ``bool``. An expression has no declared type
in SQLite (``max(createdTime)`` is text, ``sum(amount)`` a float): select the column itself, or convert with
:func:`~sqlspapi.interfaces.dbtypes.to_datetime` / :func:`~sqlspapi.interfaces.dbtypes.exact_decimal`.

The type objects, constructors and parameter adaptation (statement parameters, and the keyword arguments of
:func:`connect` merged into the connection string) live in :mod:`sqlspapi.interfaces.dbtypes`, the error mapping in
:mod:`sqlspapi.interfaces.dberrors`, the cursor in :mod:`sqlspapi.interfaces.dbcursor`; this module re-exports their
public names, so it is a complete DB-API module.

    >>> import sqlspapi.interfaces.dbapi as db
    >>> with db.connect(demo=True) as con:
    ...     con.cursor().execute("SELECT count(*) FROM marketplaces").fetchone()
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import apsw

from sqlspapi.errors import (
    ConnectionStringError,
    DatabaseError,
    DataError,
    Error,
    IntegrityError,
    InterfaceError,
    InternalError,
    NotSupportedError,
    OperationalError,
    ProgrammingError,
    Warning,
)
from sqlspapi.http.progress import Listener
from sqlspapi.interfaces.dbcursor import Cursor
from sqlspapi.interfaces.dbtypes import (
    BINARY,
    DATETIME,
    NUMBER,
    ROWID,
    STRING,
    Binary,
    Date,
    DateFromTicks,
    DBAPITypeObject,
    Time,
    TimeFromTicks,
    Timestamp,
    TimestampFromTicks,
)

apilevel = "2.0"
"""PEP 249: the DB-API level supported."""

threadsafety = 1
"""PEP 249: threads may share the module but not connections."""

paramstyle = "qmark"
"""PEP 249: ``?`` placeholders; named ``:name`` placeholders with a mapping work too."""

sqlite_version = apsw.sqlite_lib_version()
"""The SQLite library version as text (SQLAlchemy's SQLite dialect reads it)."""

sqlite_version_info = tuple(int(part) for part in sqlite_version.split(".")[:3])
"""The SQLite library version as a tuple of ints."""


# ---------------------------------------------------------------- connection and cursor


def connect(
    connection_string: str | None = None,
    *,
    demo: bool = False,
    database: Any = None,
    progress: Listener | None = None,
    **keys: Any,
) -> Connection:
    """Open a PEP 249 connection to SP-API.

    ``connection_string`` is an ODBC-style ``Key=Value;...`` string (see the connection string reference);
    keyword arguments are more keys, overriding the string's (``connect(cs, OrdersApiVersion="v0")``).
    ``demo=True`` connects to the built-in emulator instead (started once per process). ``database`` wraps an
    already open :class:`~sqlspapi.engine.Database`, which closing this connection then leaves open.
    ``progress`` is called with each :class:`~sqlspapi.http.progress.ProgressState` of a running statement
    (:class:`sqlspapi.interfaces.progressbar.TqdmProgress` draws them; see :attr:`Connection.progress`).

    The credentials are checked at once (one Login with Amazon token request, or the token already held for the
    account): a wrong ClientSecret or RefreshToken fails here, naming the key, not at the first query.
    """
    if database is not None:
        if connection_string is not None or keys or demo:
            raise InterfaceError("pass either database= or a connection string / demo=True, not both")
        return Connection(database, owns_database=False, progress=progress)
    if connection_string is None and not demo and not keys:
        raise ConnectionStringError(
            "no connection string: pass one (ClientId=...;ClientSecret=...;RefreshToken=...) or demo=True"
        )
    from sqlspapi.engine import open_database

    opened = open_database(connection_string, demo=demo, overrides=keys)
    try:
        opened.check_credentials()  # wrong credentials fail now (AuthError names the key, and the account)
    except BaseException:
        opened.close()
        raise
    return Connection(opened, progress=progress)


class Connection:
    """A PEP 249 connection over one :class:`~sqlspapi.engine.Database`.

    The tables are read-only, so ``commit`` and ``rollback`` do nothing. ``database`` is the underlying
    ``Database`` (settings, client, ``explain``); :meth:`last_calls` lists the SP-API calls of the last
    statement.
    """

    Warning = Warning
    Error = Error
    InterfaceError = InterfaceError
    DatabaseError = DatabaseError
    DataError = DataError
    OperationalError = OperationalError
    IntegrityError = IntegrityError
    InternalError = InternalError
    ProgrammingError = ProgrammingError
    NotSupportedError = NotSupportedError

    def __init__(self, database: Any, *, owns_database: bool = True, progress: Listener | None = None) -> None:
        self.database = database
        self._owns_database = owns_database
        self._closed = False
        self._progress: Listener | None = None
        self._unlisten: Callable[[], None] | None = None
        self.progress = progress
        self.issue_warnings = True
        """Whether a statement's notices are also issued as Python warnings (the default) or only kept in its
        cursor's ``messages`` (False: for a program that reads them itself, e.g. from threads, where
        ``warnings.catch_warnings`` is not safe)."""

    @property
    def progress(self) -> Listener | None:
        """The progress callback: called (in the thread running the statement) with a
        :class:`~sqlspapi.http.progress.ProgressState` at each call, page and rate-limit tick of a statement, and
        once with ``finished=True`` when it ends. Set it to None to stop."""
        return self._progress

    @progress.setter
    def progress(self, listener: Listener | None) -> None:
        if self._unlisten is not None:
            self._unlisten()
            self._unlisten = None
        self._progress = listener
        watch = getattr(self.database, "progress", None)
        if listener is not None and watch is not None:
            self._unlisten = watch.listen(listener)

    def cancel(self) -> None:
        """Stop the statement running on this connection at once (call it from another thread): it raises
        :class:`~sqlspapi.errors.QueryCancelled`, and the rate-limit token reserved for its next call is given
        back. A DB-API extension (psycopg's ``cancel()``)."""
        self.database.cancel()

    @property
    def closed(self) -> bool:
        """True once :meth:`close` was called."""
        return self._closed

    def _check_open(self) -> None:
        if self._closed:
            raise InterfaceError("the connection is closed")

    def cursor(self) -> Cursor:
        """A new cursor on this connection."""
        self._check_open()
        return Cursor(self)

    def execute(self, sql: str, params: Sequence[Any] | Mapping[str, Any] | None = ()) -> Cursor:
        """Shortcut (as in sqlite3): a new cursor that has executed ``sql``."""
        return self.cursor().execute(sql, params)

    def commit(self) -> None:
        """Nothing to commit: the API tables are read-only (PEP 249 requires the method)."""
        self._check_open()

    def rollback(self) -> None:
        """Nothing to roll back: the API tables are read-only."""
        self._check_open()

    def close(self) -> None:
        """Close the connection (and the ``Database`` it opened); closing twice is harmless."""
        if self._closed:
            return
        self._closed = True
        self.progress = None
        if self._owns_database:
            self.database.close()

    def last_calls(self) -> list[Any]:
        """The SP-API calls (``CallRecord``) the last statement made."""
        return list(self.database.last_calls())

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        return f"<sqlspapi.interfaces.dbapi.Connection {state}>"


__all__ = [
    "apilevel", "threadsafety", "paramstyle", "sqlite_version", "sqlite_version_info", "connect",
    "Connection", "Cursor", "Warning", "Error", "InterfaceError", "DatabaseError",
    "DataError", "OperationalError", "IntegrityError", "InternalError", "ProgrammingError",
    "NotSupportedError",
    "ConnectionStringError", "STRING", "BINARY", "NUMBER", "DATETIME", "ROWID", "Date", "Time", "Timestamp",
    "DateFromTicks", "TimeFromTicks", "TimestampFromTicks", "Binary", "DBAPITypeObject",
]
