"""Many accounts, one table access: the ``account`` column, the concurrent fan-out and what a failing account does.

On a connection with ``Accounts=a,b,c`` every table gets a last column ``account``. SQLite offers the table's
``account = 'x'``, ``account IN (...)`` or ``account <> 'x'`` term; :func:`split_constraints` takes it away from the
planner (the planner plans one account's access, the same for all) and :func:`selected` turns its value into the
accounts to call.

:func:`fan_out` runs one row stream per selected account, concurrently (at most :data:`MAX_WORKERS` at a time), and
merges them through a bounded queue: memory stays flat whatever the accounts return, and closing the merged stream
(a LIMIT met, the statement finished) stops every producer at its next row. One account's stream runs inline, with no
thread. A failing account is handed to ``on_error``: with ``OnAccountError=fail`` it raises the error, its message
prefixed with the account's name (:func:`named`); with ``skip`` the error goes to :class:`AccountErrors` (the
``account_errors`` table) and a notice, and the other accounts' rows still come — never silently missing rows.
"""

from __future__ import annotations

import copy
import queue
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

import apsw

from sqlspapi.errors import AccountErrorsWarning, CallLimitError, OperationalError, QueryCancelled
from sqlspapi.sql.plan import EQ, LIMIT, OFFSET, OTHER, Constraint, Notify

__all__ = ["ACCOUNT_COLUMN", "NE", "MAX_WORKERS", "QUEUE_ROWS", "AccountErrors", "AccountSet", "split_constraints",
           "selected", "named", "fan_out", "register_account_errors"]

T = TypeVar("T")

#: The name of the column every table of a many-account connection gets (the last one).
ACCOUNT_COLUMN = "account"
#: Accounts read at the same time by one table access (each within its own usage plans).
MAX_WORKERS = 8
#: Rows waiting in the merge queue at most (a producer ahead of the consumer waits).
QUEUE_ROWS = 64
#: Seconds between checks of a stop request while a producer or the consumer waits on the queue.
_POLL = 0.05


# ------------------------------------------------------------------------------------------ the account column
#: The operator name of ``account <> 'x'`` (only the ``account`` column takes it).
NE = "NE"


def split_constraints(constraints: Sequence[Constraint], account_column: int
                      ) -> tuple[list[Constraint], list[tuple[int, str]]]:
    """The constraints for the planner — those on the ``account`` column, and LIMIT and OFFSET (they count the rows
    of every account together, so SQLite keeps them), made unusable — and the indexes of the usable
    ``account = ...`` / ``IN`` / ``<>`` terms with their operator, which the table consumes itself."""
    planned: list[Constraint] = []
    mine: list[tuple[int, str]] = []
    for i, c in enumerate(constraints):
        if c.op in (LIMIT, OFFSET):
            planned.append(Constraint(c.column, c.op, usable=False))
        elif c.column == account_column:
            if c.usable and c.op in (EQ, NE):
                mine.append((i, c.op))
            planned.append(Constraint(c.column, OTHER, usable=False))
        else:
            planned.append(c)
    return planned, mine


def selected(names: Sequence[str], terms: Iterable[tuple[str, Any]]) -> tuple[list[int], list[str]]:
    """The indexes (in ``names`` order) of the accounts every ``account`` term allows — (operator, value) pairs: ``EQ``
    with a value or, for ``IN``, a set of values; ``NE`` with the value left out — and the values naming no account
    (for a notice)."""
    chosen = set(range(len(names)))
    unknown: list[str] = []
    for op, value in terms:
        wanted = set(value) if isinstance(value, set | frozenset | list | tuple) else {value}
        hits = {i for i, n in enumerate(names) if n in wanted}
        unknown += sorted(str(v) for v in wanted if v not in names)
        chosen = chosen - hits if op == NE else chosen & hits
    return sorted(chosen), unknown


# ------------------------------------------------------------------------------------------ errors
def named(error: BaseException, label: str) -> BaseException:
    """``error`` with its message prefixed by the account (``"account 'b': ..."``), same class and attributes, so the
    faces map it as before; an error that cannot be copied becomes an OperationalError with that message."""
    if str(error).startswith(label):
        return error
    text = f"{label}: {error}"
    try:
        copied = copy.copy(error)
        copied.args = (text,)
        if str(copied) == text:
            copied.__cause__ = error
            return copied
    except Exception:  # noqa: BLE001 - a class copy cannot handle: fall back to a plain error
        pass
    fallback = OperationalError(text)
    fallback.__cause__ = error
    return fallback


class AccountErrors:
    """The errors of skipped accounts (``OnAccountError=skip``), newest last, at most :data:`MAX_ROWS`; the
    ``account_errors`` table reads them. Thread-safe."""

    MAX_ROWS = 1000
    COLUMNS = (("occurred_at", "TEXT"), ("account", "TEXT"), ("table_name", "TEXT"), ("error", "TEXT"),
               ("message", "TEXT"), ("request_id", "TEXT"))

    def __init__(self) -> None:
        self._rows: deque[tuple[str, str, str, str, str, str | None]] = deque(maxlen=self.MAX_ROWS)
        self._lock = threading.Lock()

    def add(self, account: str, table: str, error: BaseException) -> None:
        """Record that ``account`` failed reading ``table`` with ``error`` (no secret: messages never hold one)."""
        when = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        with self._lock:
            self._rows.append((when, account, table, type(error).__name__, str(error),
                               getattr(error, "request_id", None)))

    def rows(self) -> list[tuple[Any, ...]]:
        """A copy of the recorded errors, oldest first."""
        with self._lock:
            return list(self._rows)

    def __len__(self) -> int:
        with self._lock:
            return len(self._rows)


class _ErrorsModule:
    """The ``account_errors`` virtual table: the rows of an :class:`AccountErrors`."""

    def __init__(self, errors: AccountErrors) -> None:
        self.errors = errors

    def Create(self, connection: apsw.Connection, modulename: str, dbname: str, tablename: str,  # noqa: N802
               *args: str) -> tuple[str, _ErrorsModule]:
        """Declare the columns."""
        columns = ", ".join(f'"{name}" {kind}' for name, kind in AccountErrors.COLUMNS)
        return f'CREATE TABLE "{tablename}"({columns})', self

    Connect = Create

    def BestIndex(self, *args: Any) -> None:  # noqa: N802
        """A full scan (a few rows at most)."""
        return None

    def Open(self) -> _ErrorsCursor:  # noqa: N802
        """A cursor over a snapshot of the errors."""
        return _ErrorsCursor(self.errors.rows())

    def Disconnect(self) -> None:  # noqa: N802
        """Nothing to release."""

    Destroy = Disconnect


class _ErrorsCursor:
    def __init__(self, rows: list[tuple[Any, ...]]) -> None:
        self._rows = rows
        self._i = 0

    def Filter(self, *args: Any) -> None:  # noqa: N802
        self._i = 0

    def Eof(self) -> bool:  # noqa: N802
        return self._i >= len(self._rows)

    def Next(self) -> None:  # noqa: N802
        self._i += 1

    def Rowid(self) -> int:  # noqa: N802
        return self._i + 1

    def Column(self, n: int) -> Any:  # noqa: N802
        return self.Rowid() if n == -1 else self._rows[self._i][n]

    def Close(self) -> None:  # noqa: N802
        self._rows = []


def register_account_errors(connection: apsw.Connection, errors: AccountErrors) -> None:
    """Register the ``account_errors`` table on ``connection`` (in ``main``, so catalogs and BI tools list it)."""
    connection.create_module("spapi_account_errors", _ErrorsModule(errors), read_only=True)
    connection.execute('CREATE VIRTUAL TABLE main."account_errors" USING spapi_account_errors()')


class AccountSet:
    """The accounts a many-account connection's tables fan out over (``members``: objects with ``name``, ``label``,
    ``settings`` and ``context``, as :class:`~sqlspapi.account.Account`), and what a failing one does:
    ``on_error`` is ``fail`` or ``skip`` (``OnAccountError``)."""

    def __init__(self, members: Sequence[Any], on_error: str, errors: AccountErrors, notice: Notify) -> None:
        self.members = list(members)
        self.names = [m.name for m in self.members]
        self.on_error = on_error
        self.errors = errors
        self.notice = notice

    def failed(self, table: str, index: int, error: BaseException) -> None:
        """Account ``index`` failed reading ``table``: raise the error naming it (``fail``, or a cancelled statement),
        or record it in ``account_errors`` with a notice (``skip``)."""
        member = self.members[index]
        if self.on_error != "skip" or isinstance(error, QueryCancelled | CallLimitError | KeyboardInterrupt):
            raise named(error, member.label)
        self.errors.add(member.name, table, error)
        self.notice(f"{table}: {member.label} was skipped (OnAccountError=skip), so its rows are missing from this "
                    f"answer: {type(error).__name__}: {error} — SELECT * FROM account_errors lists every skipped "
                    "account.", AccountErrorsWarning)


# ------------------------------------------------------------------------------------------ the fan-out
_DONE = object()


class _Stop(Exception):
    """The consumer went away: a producer stops."""


def fan_out(jobs: Sequence[tuple[int, Callable[[], Iterator[T]]]],
            on_error: Callable[[int, BaseException], None]) -> Iterator[tuple[int, T]]:
    """The items of every job's stream, tagged with the job's number, as they come (each job's own order kept).

    ``jobs`` are (number, start) pairs; ``start()`` returns the stream (called in the job's thread, so what it does
    before the first item — binding, a marketplace discovery — runs concurrently too). A job that raises is handed
    to ``on_error(number, error)``, which raises (the merged stream ends with that error and the other jobs stop) or
    returns (the job's remaining items are left out, the others go on). Closing the merged stream stops every job at
    its next item.
    """
    if len(jobs) == 1:
        number, start = jobs[0]
        try:
            for item in start():
                yield number, item
        except Exception as exc:  # noqa: BLE001 - the policy decides
            on_error(number, exc)
        return
    yield from _Merge(jobs, on_error).run()


class _Merge:
    """The threads and the bounded queue of one :func:`fan_out` over several jobs."""

    def __init__(self, jobs: Sequence[tuple[int, Callable[[], Iterator[Any]]]],
                 on_error: Callable[[int, BaseException], None]) -> None:
        self.pending = list(jobs)
        self.on_error = on_error
        self.queue: queue.Queue[tuple[int, Any]] = queue.Queue(maxsize=QUEUE_ROWS)
        self.stop = threading.Event()
        self.running = 0

    def _put(self, entry: tuple[int, Any]) -> None:
        while True:
            if self.stop.is_set():
                raise _Stop
            try:
                self.queue.put(entry, timeout=_POLL)
                return
            except queue.Full:
                continue

    def _produce(self, number: int, start: Callable[[], Iterator[Any]]) -> None:
        stream: Iterator[Any] | None = None
        try:
            stream = start()
            for item in stream:
                self._put((number, item))
            self._put((number, _DONE))
        except _Stop:
            pass
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer, which applies the policy
            try:
                self._put((number, exc))
            except _Stop:
                pass
        finally:
            close = getattr(stream, "close", None)
            if close is not None:
                close()

    def _start_next(self) -> None:
        number, start = self.pending.pop(0)
        self.running += 1
        threading.Thread(target=self._produce, args=(number, start), daemon=True,
                         name=f"sqlspapi-account-{number}").start()

    def run(self) -> Iterator[tuple[int, Any]]:
        try:
            while self.pending and self.running < MAX_WORKERS:
                self._start_next()
            while self.running:
                try:
                    number, item = self.queue.get(timeout=_POLL)
                except queue.Empty:
                    continue
                if item is _DONE or isinstance(item, BaseException):
                    self.running -= 1
                    if self.pending:
                        self._start_next()
                    if item is not _DONE:
                        self.on_error(number, item)
                    continue
                yield number, item
        finally:
            self.stop.set()
