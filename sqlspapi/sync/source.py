"""The dlt source of ``sqlspapi sync``: one ``dlt.resource`` per group of tables (a table, or a parent with the child
read in the same statements: ``orders LEFT JOIN order_items``), reading sqlspapi through its DB-API.

Each resource reads, for each account of the connection (several accounts concurrently, at most
:data:`~sqlspapi.sql.fanout.MAX_WORKERS` at a time, each within its own usage plans), the rows whose cursor is at
least the last value loaded minus the table's overlap (the first run: from ``since`` or the table's ``since_days``)
into a spool on disk (:mod:`sqlspapi.sync.spool`), and hands them to dlt in batches of :data:`BATCH_ROWS` once the
account's read succeeded — the child's rows to its own table, with its own hints. Its state
(:mod:`sqlspapi.sync.units`) is in ``dlt.current.resource_state()``, committed by dlt with the data it describes:
the parent's in ``accounts``, a child's in ``tables[child]["accounts"]``.

History older than the overlap is read through the table's order report (``Route=report``) when it has one and
``backfill`` allows it: only the report's columns, ``_sqlspapi_source = 'report'``; the rest through the API. An
account whose read fails (on a connection with several accounts) is recorded, writes nothing of the group and keeps
its cursor; the others go on.
"""

from __future__ import annotations

import contextlib
import copy
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import dlt

from sqlspapi.errors import AccountErrorsWarning, Error, OperationalError, ProgrammingError
from sqlspapi.interfaces import dbapi
from sqlspapi.sql.fanout import MAX_WORKERS
from sqlspapi.sync.plan import BACKFILL_MODES, GroupPlan, TablePlan, plan_groups, plan_tables
from sqlspapi.sync.spool import Spool
from sqlspapi.sync.units import AccountRead, group_bound, iso, parse_time, windows

__all__ = ["source", "Recorder", "BATCH_ROWS", "SOURCE_NAME"]

#: Rows fetched from sqlspapi (and handed to dlt) at a time.
BATCH_ROWS = 500
#: The dlt source's (and schema's) name.
SOURCE_NAME = "sqlspapi"
#: How old a report of the same window may be to serve a table's backfill (``ReportMaxAgeMinutes`` of the report
#: connection): a first sync's orders take hours at Amazon's rates, and order_items reads the same windows after.
REPORT_REUSE_MINUTES = 1440


@dataclass
class Recorder:
    """What a sync observes while dlt extracts: rows read per table, SP-API calls and rate-limit waits, the
    accounts that failed, the notices of the statements; ``on_rows(table, rows_so_far)`` is called per batch."""

    rows: dict[str, int] = field(default_factory=dict)
    calls: int = 0
    throttle_seconds: float = 0.0
    accounts_failed: dict[str, str] = field(default_factory=dict)
    notices: list[str] = field(default_factory=list)
    on_rows: Callable[[str, int], None] | None = None

    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def statement(self, connection: dbapi.Connection, cursor: dbapi.Cursor) -> None:
        """Count a finished statement's calls and waits, keep its notices (account errors apart)."""
        calls = connection.last_calls()
        with self._lock:  # accounts are read in threads
            self.calls += len(calls)
            self.throttle_seconds += sum(getattr(c, "throttle_wait", 0.0) or 0.0 for c in calls)
            for category, message in cursor.messages:
                if not issubclass(category, AccountErrorsWarning) and str(message) not in self.notices:
                    self.notices.append(str(message))

    def add_rows(self, table: str, count: int) -> None:
        """``count`` more rows of ``table`` read."""
        with self._lock:
            self.rows[table] = self.rows.get(table, 0) + count
            if self.on_rows is not None:
                self.on_rows(table, self.rows[table])

    def failed(self, account: str, message: str) -> None:
        """An account whose read failed (the first message kept)."""
        with self._lock:
            self.accounts_failed.setdefault(account, message)


class _Stopped(Exception):
    """An account's read stopped because the sync's generator was closed."""


class _Connections:
    """The DB-API connections of one resource, opened when first needed (one per ``Route``), closed together."""

    def __init__(self, connection_string: str | None, demo: bool) -> None:
        self.connection_string = connection_string
        self.demo = demo
        self._open: dict[str, dbapi.Connection] = {}

    def get(self, route: str) -> dbapi.Connection:
        if route not in self._open:
            # the history's reports, of windows the tables read alike, serve each table (orders, then order_items)
            keys: dict[str, Any] = {"Route": route}
            if route == "report":
                keys["ReportMaxAgeMinutes"] = REPORT_REUSE_MINUTES
            connection = dbapi.connect(self.connection_string, demo=self.demo, **keys)
            connection.issue_warnings = False  # the recorder keeps the notices (and threads read the accounts)
            self._open[route] = connection
        return self._open[route]

    def close(self) -> None:
        for connection in self._open.values():
            connection.close()
        self._open.clear()


class _Reader:
    """Reads one group for dlt (the resource's generator): per account, every statement into a spool, then — the
    read having succeeded — the rows to write, each member's to its table."""

    def __init__(self, group: GroupPlan, connection_string: str | None, demo: bool, accounts: list[str | None],
                 since: datetime | None, backfill: str, recorder: Recorder) -> None:
        self.group = group
        self.connection_string = connection_string
        self.demo = demo
        self.accounts = accounts
        self.since = since
        self.backfill = backfill
        self.recorder = recorder
        # a group's tables each have their own hints (a table variant of the resource: one table's hints, not the
        # resource's merged with them, which would give the child its parent's primary key)
        self.hints = [dlt.mark.make_hints(table_name=m.table, **_table_hints(m)) for m in group.members] \
            if group.child is not None else [None]

    def __call__(self) -> Iterator[Any]:
        states = _member_states(self.group)
        now = datetime.now(UTC)
        jobs = []
        for account in self.accounts:
            reads = [AccountRead(m, account, s.setdefault(account or "", {}))
                     for m, s in zip(self.group.members, states, strict=True)]
            jobs.append((reads, group_bound(self.group, reads, self.since or self.group.parent.first_start(now))))
        if len(jobs) == 1:  # one account: its error is the sync's
            reads, bound = jobs[0]
            with Spool() as spool, contextlib.closing(_Connections(self.connection_string, self.demo)) as opened:
                self._read(reads, bound, now, spool, opened)
                yield from self._write(reads, spool)
            return
        # several accounts: read concurrently (each within its own usage plans), each into its own spool, written in
        # the accounts' order as their reads end
        stop = threading.Event()
        with ThreadPoolExecutor(max_workers=min(MAX_WORKERS, len(jobs)), thread_name_prefix="sqlspapi-sync") as pool:
            futures = [pool.submit(self._read_account, reads, bound, now, stop) for reads, bound in jobs]
            try:
                for (reads, _bound), future in zip(jobs, futures, strict=True):
                    spool = future.result()
                    if spool is not None:
                        with spool:
                            yield from self._write(reads, spool)
            finally:
                stop.set()  # dlt closed the generator early, or a write failed: the other reads end at their next batch
                for future in futures:
                    future.cancel()
                pool.shutdown(wait=True)
                for future in futures:
                    if future.done() and not future.cancelled() and future.exception() is None:
                        spool = future.result()
                        if spool is not None:
                            spool.close()

    def _read_account(self, reads: list[AccountRead], bound: datetime, now: datetime,
                      stop: threading.Event) -> Spool | None:
        """One account's read (in a worker thread) into a new spool; None when it failed (recorded) or was stopped."""
        spool = Spool()
        try:
            with contextlib.closing(_Connections(self.connection_string, self.demo)) as opened:
                self._read(reads, bound, now, spool, opened, stop)
            return spool
        except (Error, _Stopped) as exc:
            spool.close()
            if isinstance(exc, Error):
                self._failed(reads[0].account, str(exc))
            return None
        except BaseException:
            spool.close()
            raise

    def _failed(self, account: str | None, message: str) -> None:
        self.recorder.failed(account or "", f"{self.group.parent.table}: {message}")

    def _read(self, reads: list[AccountRead], bound: datetime, now: datetime, spool: Spool,
              connections: _Connections, stop: threading.Event | None = None) -> None:
        """Every statement of one account into ``spool``; an account error (``OnAccountError=skip``) raises."""
        group, account = self.group, reads[0].account
        for statement, (route, lower, upper) in enumerate(windows(group.parent, bound, now, self.backfill,
                                                                  lambda: reads[0].best)):
            connection = connections.get(route)
            sql = group.select(report=route == "report", upper=upper is not None, account=account is not None)
            params: list[Any] = [iso(b) for b in (lower, upper) if b is not None]
            params += [account] * (sql.count("account = ?") if account is not None else 0)
            cursor = connection.cursor()
            cursor.execute(sql, params)
            previous: list[Any] | None = None
            while batch := cursor.fetchmany(BATCH_ROWS):
                if stop is not None and stop.is_set():
                    cursor.close()
                    raise _Stopped
                out: list[list[tuple[str, int, dict[str, Any]]]] = [[] for _ in reads]
                for values in batch:
                    parts = group.split(values, route == "report")
                    if group.child is not None and parts[0] == previous:
                        parts[0] = None  # a parent row repeats once per child row (together): read it once
                    elif group.child is not None:
                        previous = parts[0]
                    for rows, read, part in zip(out, reads, parts, strict=True):
                        if part is not None:
                            rows.append(_spooled(read, part, route, statement))
                for index, (rows, read) in enumerate(zip(out, reads, strict=True)):
                    spool.add(index, rows)
                    self.recorder.add_rows(read.plan.table, len(rows))
            self.recorder.statement(connection, cursor)
            cursor.close()
            failed = [str(m) for c, m in cursor.messages if issubclass(c, AccountErrorsWarning)]
            if failed:  # its cursor stays: the next run reads the window again
                raise OperationalError(failed[0])

    def _write(self, reads: list[AccountRead], spool: Spool) -> Iterator[Any]:
        """The rows of a read that succeeded, each member's with its table's hints; then the new state."""
        for index, (read, hints) in enumerate(zip(reads, self.hints, strict=True)):
            spool.skip(index, read.unchanged())
            for batch in spool.batches(index, BATCH_ROWS):
                yield batch if hints is None else dlt.mark.with_hints(batch, hints, create_table_variant=True)
        for read in reads:
            read.commit()


def _member_states(group: GroupPlan) -> list[dict[str, Any]]:
    """Each member's states per account, in the group's resource state: the parent's in ``accounts``, a child's in
    ``tables[child]["accounts"]`` — at first a copy of the child's state as a resource of its own (a mirror synced
    before the two were read together: its next run is then no first run)."""
    state = dlt.current.resource_state()
    states = [state.setdefault("accounts", {})]
    for child in group.members[1:]:
        entry = state.setdefault("tables", {}).setdefault(child.table, {})
        if "accounts" not in entry:
            alone = dlt.current.source_state().get("resources", {}).get(child.table, {})
            entry["accounts"] = copy.deepcopy(alone.get("accounts", {}))
        states.append(entry["accounts"])
    return states


def _spooled(read: AccountRead, values: list[Any], route: str, statement: int) -> tuple[str, int, dict[str, Any]]:
    unit, row = read.row(values, route, statement)
    return unit, statement, row


def _table_hints(plan: TablePlan) -> dict[str, Any]:
    """dlt hints of one table: merged on (key, account), or replacing the rows of each (replace_by value, account) —
    or, without a cursor, each account's rows; its columns typed from the definition."""
    hints = plan.column_hints()
    if plan.cursor and plan.key and not plan.parent:
        hints[plan.cursor]["dedup_sort"] = "desc"
    if plan.cursor and plan.key and not plan.replace_by:
        keys: dict[str, Any] = {"primary_key": [*plan.key, "account"]}
    elif plan.cursor:
        keys = {"merge_key": [plan.replace_by or "", "account"]}
    else:
        keys = {"merge_key": "account"}
    return {"write_disposition": {"disposition": "merge", "strategy": "delete-insert"}, "columns": hints, **keys}


def _resource(group: GroupPlan, reader: _Reader) -> Any:
    """The dlt resource of one group, named after its parent (with a child, every batch carries its table's hints)."""
    hints = _table_hints(group.parent)
    if group.child is not None:
        hints = {"write_disposition": hints["write_disposition"]}
    return dlt.resource(reader(), name=group.parent.table, **hints)


def _since(text: str) -> datetime:
    """``since``: a date (``YYYY-MM-DD``, or an ISO 8601 time) or a number of days back from now (``30d``)."""
    days = text.strip().lower().removesuffix("d")
    try:
        return datetime.now(UTC) - timedelta(days=float(days)) if days.isdigit() else parse_time(text.strip())
    except ValueError:
        raise ProgrammingError(f"since {text!r}: want a date (YYYY-MM-DD) or days back (30d)") from None


def source(connection_string: str | None = None, *, tables: Sequence[str], demo: bool = False,
           since: str | None = None, overlap_days: float | None = None, backfill: str = "auto",
           recorder: Recorder | None = None) -> Any:
    """A dlt source mirroring sqlspapi ``tables`` of the connection (``demo=True``: the built-in emulator).

    ``since`` (``YYYY-MM-DD``, or days back: ``30d``) is where a table's first run starts (default: its
    ``since_days`` back);
    ``overlap_days`` overrides each table's overlap; ``backfill`` is ``auto`` (history of 30 days or more through
    the order report), ``report`` (any history older than the overlap through it) or ``api`` (paging only).
    ``recorder`` collects rows, calls, rate-limit waits, failed accounts and notices (:func:`sqlspapi.sync.sync`
    passes one). The connection is opened once here: wrong credentials or an unknown table fail at once.
    """
    if backfill not in BACKFILL_MODES:
        raise ProgrammingError(f"backfill {backfill!r}: want one of {', '.join(BACKFILL_MODES)}")
    if not tables:
        raise ProgrammingError("sync: name at least one table (tables=['orders', ...])")
    start = _since(since) if since is not None else None
    recorder = recorder if recorder is not None else Recorder()
    with dbapi.connect(connection_string, demo=demo) as connection:
        specs = {t.name: t for t in connection.database.tables()}
        accounts = [a.name for a in connection.database.accounts]
    groups = plan_groups(plan_tables(specs, list(tables), overlap_days=overlap_days))
    accounts = accounts if len(accounts) > 1 else [None]
    resources = [_resource(g, _Reader(g, connection_string, demo, accounts, start, backfill, recorder))
                 for g in groups]

    @dlt.source(name=SOURCE_NAME, max_table_nesting=0)
    def sqlspapi_source() -> Any:
        return resources

    return sqlspapi_source()
