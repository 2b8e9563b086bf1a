"""The PEP 249 cursor of :mod:`sqlspapi.interfaces.dbapi`: statement execution, typed rows, ``description``.

A :class:`Cursor` runs a statement on its connection's APSW connection; an exec tracer (:class:`_Tracer`) keeps the
statement's ``description`` (known even for 0 rows) and the value conversions its columns' declared types call for
(:func:`~sqlspapi.interfaces.dbtypes.value_converter`). Errors are raised as PEP 249 classes
(:func:`~sqlspapi.interfaces.dberrors.reraise`); a SQLite "no such column" gets a hint.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, Protocol

import apsw

from sqlspapi.errors import DefaultWindowWarning, InterfaceError, ProgrammingError, Warning
from sqlspapi.interfaces.dberrors import reraise
from sqlspapi.interfaces.dbtypes import adapt_params, type_object, value_converter
from sqlspapi.interfaces.hints import hint


class CursorOwner(Protocol):
    """What a cursor uses of its :class:`sqlspapi.interfaces.dbapi.Connection`."""

    database: Any
    issue_warnings: bool

    def _check_open(self) -> None:
        """Raise InterfaceError when the connection is closed."""


class _Tracer:
    """The exec tracer of a cursor's statements: marks each statement start, keeps its description and the value
    conversions its columns' declared types call for (``converters``: (column index, function) pairs).

    A separate object, so the APSW cursor holding it does not hold the DB-API cursor (no reference cycle: a
    dropped cursor finishes its statement at once instead of at the next garbage collection).
    """

    __slots__ = ("converters", "database", "description")

    def __init__(self, database: Any) -> None:
        self.database = database
        self.description: tuple[tuple[Any, ...], ...] | None = None
        self.converters: tuple[tuple[int, Callable[[Any], Any]], ...] = ()

    def __call__(self, cursor: apsw.Cursor, sql: str, bindings: Any) -> bool:
        self.database.begin_statement()
        try:
            columns = cursor.getdescription()
        except apsw.ExecutionCompleteError:
            columns = ()
        self.description = (
            tuple((name, type_object(decl), None, None, None, None, None) for name, decl in columns)
            if columns else None
        )
        self.converters = tuple((i, convert) for i, (_name, decl) in enumerate(columns)
                                if (convert := value_converter(decl)) is not None)
        return True


class Cursor:
    """A PEP 249 cursor: ``description`` is known once a query is prepared, even when it returns no row."""

    arraysize: int
    """Rows :meth:`fetchmany` returns by default."""

    def __init__(self, connection: CursorOwner) -> None:
        self.connection = connection
        self.arraysize = 1
        self.lastrowid = None
        self._cursor: apsw.Cursor | None = None
        self._description: tuple[tuple[Any, ...], ...] | None = None
        self._converters: tuple[tuple[int, Callable[[Any], Any]], ...] = ()
        self._rowcount = -1
        self._has_result = False
        self._closed = False
        self._tracer = _Tracer(connection.database)
        self.messages: list[tuple[type[Warning], str]] = []
        """What the last statement told the user (PEP 249's optional ``messages``): e.g. a default date window."""

    # -- attributes

    @property
    def description(self) -> tuple[tuple[Any, ...], ...] | None:
        """One 7-tuple per result column (name, type_code, None x 5), or None when the statement has none."""
        return self._description

    @property
    def rowcount(self) -> int:
        """-1 for queries (rows stream from the API); the number of changed rows for other statements."""
        return self._rowcount

    # -- execution

    def _prepare(self) -> apsw.Cursor:
        if self._closed:
            raise InterfaceError("the cursor is closed")
        self.connection._check_open()
        self._discard()
        self._description = None
        self._rowcount = -1
        self._has_result = False
        self._tracer = _Tracer(self.connection.database)
        self.messages = []
        self.connection.database._on_notice = self._notice
        cursor = self.connection.database.connection.cursor()
        cursor.exec_trace = self._tracer
        return cursor

    def _notice(self, message: str) -> None:
        """A notice of the running statement: kept in ``messages`` and issued as a Python warning (unless the
        connection's ``issue_warnings`` is False)."""
        category = getattr(message, "category", DefaultWindowWarning)  # engine.Notice: its warning category
        self.messages.append((category, message))
        if self.connection.issue_warnings:
            warnings.warn(message, category, stacklevel=3)

    def _finish(self, cursor: apsw.Cursor, changes_before: int) -> None:
        self._cursor = cursor
        self._description = self._tracer.description
        self._converters = self._tracer.converters
        self._has_result = self._description is not None
        if not self._has_result:
            self._rowcount = self.connection.database.connection.total_changes() - changes_before

    def execute(self, sql: str, params: Sequence[Any] | Mapping[str, Any] | None = ()) -> Cursor:
        """Run ``sql`` (``?`` or ``:name`` placeholders) with ``params``; returns this cursor."""
        cursor = self._prepare()
        db = self.connection.database.connection
        sql = self.connection.database.prepare(sql)  # date bounds through wrappers reach the API
        try:
            before = db.total_changes()
            cursor.execute(sql, adapt_params(params))
        except BaseException as exc:
            self._description = None
            self._ended()
            if isinstance(exc, apsw.SQLError) and (better := hint(self.connection.database, str(exc), sql)):
                raise ProgrammingError(better) from None  # no such column: did you mean …, which version has it
            if not isinstance(exc, Exception):
                raise  # KeyboardInterrupt: the statement stopped at once
            reraise(exc)
        self._finish(cursor, before)
        if not self._has_result:
            self._ended()
        return self

    def _ended(self) -> None:
        """The statement ended (read to its end, failed or stopped): its progress listeners hear it once."""
        watch = getattr(self.connection.database, "progress", None)
        if watch is not None:
            watch.finish()

    def executemany(self, sql: str, seq_of_params: Sequence[Sequence[Any] | Mapping[str, Any]]) -> Cursor:
        """Run ``sql`` once for each parameter set."""
        cursor = self._prepare()
        db = self.connection.database.connection
        try:
            before = db.total_changes()
            cursor.executemany(sql, [adapt_params(params) for params in seq_of_params])
        except Exception as exc:
            self._description = None
            reraise(exc)
        self._finish(cursor, before)
        return self

    # -- fetching

    def _next(self) -> tuple[Any, ...] | None:
        if self._closed:
            raise InterfaceError("the cursor is closed")
        if self._cursor is None or not self._has_result:
            raise ProgrammingError("no result set: execute a query first")
        try:
            row = next(self._cursor)
        except StopIteration:
            self._ended()
            return None
        except BaseException as exc:
            self._ended()
            if not isinstance(exc, Exception):
                raise
            reraise(exc)
        if not self._converters:
            return row
        values = list(row)
        for index, convert in self._converters:
            if values[index] is not None:
                values[index] = convert(values[index])
        return tuple(values)

    def fetchone(self) -> tuple[Any, ...] | None:
        """The next row, or None when there is no more."""
        return self._next()

    def fetchmany(self, size: int | None = None) -> list[tuple[Any, ...]]:
        """Up to ``size`` (default ``arraysize``) more rows."""
        size = self.arraysize if size is None else size
        rows = []
        while len(rows) < size:
            row = self._next()
            if row is None:
                break
            rows.append(row)
        return rows

    def fetchall(self) -> list[tuple[Any, ...]]:
        """Every remaining row."""
        rows = []
        while (row := self._next()) is not None:
            rows.append(row)
        return rows

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        while (row := self._next()) is not None:
            yield row

    # -- the rest of PEP 249

    def setinputsizes(self, sizes: Any) -> None:
        """Accepted and ignored (PEP 249)."""

    def setoutputsize(self, size: Any, column: int | None = None) -> None:
        """Accepted and ignored (PEP 249)."""

    def _discard(self) -> None:
        """Finish the previous statement (a pending one would keep its tables locked)."""
        if self._cursor is not None:
            try:
                self._cursor.close(force=True)
            except apsw.Error:
                pass
        self._cursor = None

    def close(self) -> None:
        """Close the cursor; fetching afterwards raises InterfaceError."""
        self._discard()
        self._closed = True

    def __enter__(self) -> Cursor:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


__all__ = ["Cursor", "CursorOwner"]
