"""The dlt source of ``sqlspapi sync``: one ``dlt.resource`` per table, reading sqlspapi through its DB-API.

Each resource reads, for each account of the connection, the rows whose cursor is at least the last value loaded
minus the table's overlap (the first run: from ``since`` or the table's ``since_days``), in batches of
:data:`BATCH_ROWS` (memory stays flat), and keeps its state in ``dlt.current.resource_state()`` — committed by dlt
with the data it describes:

- ``accounts[account]["cursor"]``: the largest cursor value loaded (ISO 8601, UTC);
- ``accounts[account]["seen"]``: for the units (key values, or the parent value of ``replace_by`` rows) whose cursor
  lies within the overlap of it, the cursor and a hash of their rows. A re-read unit whose rows did not change is not
  written again, so a re-run after nothing changed writes nothing.

History older than the overlap is read through the table's order report (``Route=report``) when it has one and
``backfill`` allows it: only the report's columns, ``_sqlspapi_source = 'report'``; the rest through the API. An
account whose read fails (on a connection with several accounts) is recorded and keeps its cursor; the others go on.
"""

from __future__ import annotations

import hashlib
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import dlt

from sqlspapi.errors import AccountErrorsWarning, Error, ProgrammingError
from sqlspapi.interfaces import dbapi
from sqlspapi.sync.plan import BACKFILL_MODES, REPORT_MIN_DAYS, TablePlan, plan_tables

__all__ = ["source", "Recorder", "BATCH_ROWS", "SOURCE_NAME"]

#: Rows fetched from sqlspapi (and handed to dlt) at a time.
BATCH_ROWS = 500
#: The dlt source's (and schema's) name.
SOURCE_NAME = "sqlspapi"
#: How old a report of the same window may be to serve a table's backfill (``ReportMaxAgeMinutes`` of the report
#: connection): a first sync's orders take hours at Amazon's rates, and order_items reads the same windows after.
REPORT_REUSE_MINUTES = 1440
#: Units a table's read keeps for its state before it drops those older than the overlap of the largest cursor.
PRUNE_UNITS = 10_000
_MASK = (1 << 64) - 1


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

    def statement(self, connection: dbapi.Connection, cursor: dbapi.Cursor) -> None:
        """Count a finished statement's calls and waits, keep its notices (account errors apart)."""
        calls = connection.last_calls()
        self.calls += len(calls)
        self.throttle_seconds += sum(getattr(c, "throttle_wait", 0.0) or 0.0 for c in calls)
        for category, message in cursor.messages:
            if not issubclass(category, AccountErrorsWarning) and str(message) not in self.notices:
                self.notices.append(str(message))

    def add_rows(self, table: str, count: int) -> None:
        """``count`` more rows of ``table`` read."""
        self.rows[table] = self.rows.get(table, 0) + count
        if self.on_rows is not None:
            self.on_rows(table, self.rows[table])


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse(text: str) -> datetime:
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _hash(values: Sequence[Any]) -> int:
    return int.from_bytes(hashlib.blake2b(repr(tuple(values)).encode(), digest_size=8).digest(), "big")


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
            self._open[route] = dbapi.connect(self.connection_string, demo=self.demo, **keys)
        return self._open[route]

    def close(self) -> None:
        with warnings.catch_warnings():  # a statement's last notices (the recorder kept them) come as it closes
            warnings.simplefilter("ignore")
            for connection in self._open.values():
                connection.close()
        self._open.clear()


class _Unit:
    """A unit's rows as read in this run: their cursor and hashes (of every column; of the report's columns alone),
    and — for a unit read again within the overlap — the rows, kept until the end and written only if they changed."""

    __slots__ = ("cursor", "full", "report", "rows", "source")

    def __init__(self, source: str) -> None:
        self.rows: list[dict[str, Any]] = []
        self.full = 0
        self.report = 0
        self.cursor = ""
        self.source = source

    def add(self, cursor: str, full: int, report: int) -> None:
        """One more row of the unit (a unit's hash is the sum of its rows': their order does not matter)."""
        self.cursor = max(self.cursor, cursor)
        self.full = (self.full + full) & _MASK
        self.report = (self.report + report) & _MASK

    def entry(self) -> list[str]:
        """The unit's state entry: [cursor, hash, source] — the hash of the report's columns for a unit the report
        gave, so the same unit read through the API later compares on those columns."""
        digest = self.report if self.source == "report" else self.full
        return [self.cursor, f"{digest:016x}", self.source]

    def same_as(self, before: list[str] | None) -> bool:
        """True when the unit's rows are those its state entry describes."""
        if before is None or len(before) != 3:
            return False
        digest = self.report if before[2] == "report" else self.full
        return before[:2] == [self.cursor, f"{digest:016x}"]


class _AccountRead:
    """One table of one account: its windows, the rows to write, the state to keep."""

    def __init__(self, plan: TablePlan, account: str | None, state: dict[str, Any], start: datetime,
                 now: datetime) -> None:
        self.plan = plan
        self.account = account
        self.state = state
        self.old = _parse(state["cursor"]) if state.get("cursor") else None
        self.bound = self.old - plan.overlap if self.old else start
        self.seen_before: dict[str, list[str]] = dict(state.get("seen", {}))
        self.new: dict[str, _Unit] = {}
        self.again: dict[str, _Unit] = {}
        self.best: datetime | None = self.old
        self.now = now
        self._report = [c.name in plan.report_columns for c in plan.columns]
        self._limit = PRUNE_UNITS

    def windows(self, backfill: str) -> Iterator[tuple[str, datetime | None, datetime | None]]:
        """(route, lower bound, upper bound) of each statement, decided as the reads go: without a report backfill,
        one API read from the bound; with one, the API's recent window (``recent_days``) first, then — knowing the
        largest cursor — the API down to the overlap of that cursor, and the order report for the history before."""
        if not self.plan.cursor:
            yield "api", None, None
            return
        split = self.now - self.plan.first_api_window
        history = (split - self.bound) / timedelta(days=1)
        wanted = {"auto": REPORT_MIN_DAYS, "report": 0, "api": None}[backfill]
        if not self.plan.report_columns or wanted is None or history <= wanted:
            yield "api", self.bound, None
            return
        yield "api", split, None
        edge = max(min(split, self.best - self.plan.overlap) if self.best else split, self.bound)
        if edge < split:
            yield "api", edge, split
        if self.bound < edge:
            yield "report", self.bound, edge

    def rows(self, values: Sequence[Any], source: str) -> Iterator[dict[str, Any]]:
        """One row read: written now (new), or kept to compare (read again within the overlap)."""
        plan = self.plan
        names = [c.name for c in plan.columns if source == "api" or c.name in plan.report_columns]
        row = dict(zip(names, values, strict=False))
        row["account"] = self.account or ""
        row["_sqlspapi_source"] = source
        cursor = values[-1] if plan.cursor else None
        if cursor is None:
            yield row
            return
        if self.best is None or cursor > self.best:
            self.best = cursor
        unit = "\x1f".join(str(row.get(k)) for k in plan.unit)
        full = _hash(values)
        report = full if source == "report" else _hash([v for v, r in zip(values, self._report, strict=False) if r]
                                                       + [cursor])
        if self.old is not None and cursor <= self.old and unit not in self.new:
            kept = self.again.setdefault(unit, _Unit(source))
            kept.rows.append(row)
            kept.add(_iso(cursor), full, report)
            return
        self.new.setdefault(unit, _Unit(source)).add(_iso(cursor), full, report)
        if len(self.new) > self._limit:  # memory stays flat: only units within the overlap of the best are kept
            edge = _iso(self.best - plan.overlap)
            self.new = {u: kept for u, kept in self.new.items() if kept.cursor >= edge}
            self._limit = 2 * len(self.new) + PRUNE_UNITS
        yield row

    def rest(self) -> Iterator[dict[str, Any]]:
        """The units read again whose rows changed (or that also had new rows)."""
        for unit, kept in self.again.items():
            if unit in self.new or not kept.same_as(self.seen_before.get(unit)):
                yield from kept.rows
                if unit not in self.new:
                    self.new[unit] = kept
            else:  # unchanged: it stays as the state describes it (a report row stays a report row)
                self.new[unit] = kept
                kept.source = self.seen_before[unit][2]
            kept.rows = []
        self.again.clear()

    def commit(self) -> None:
        """The account's new state: the largest cursor, and the units within the overlap of it."""
        if self.best is None:
            return
        self.state["cursor"] = _iso(self.best)
        edge = _iso(self.best - self.plan.overlap)
        self.state["seen"] = {unit: kept.entry() for unit, kept in self.new.items() if kept.cursor >= edge}
        self.new.clear()


class _Reader:
    """Reads one table for dlt (the resource's generator)."""

    def __init__(self, plan: TablePlan, connection_string: str | None, demo: bool, accounts: list[str | None],
                 since: datetime | None, backfill: str, recorder: Recorder) -> None:
        self.plan = plan
        self.connection_string = connection_string
        self.demo = demo
        self.accounts = accounts
        self.since = since
        self.backfill = backfill
        self.recorder = recorder

    def __call__(self) -> Iterator[list[dict[str, Any]]]:
        state = dlt.current.resource_state().setdefault("accounts", {})
        connections = _Connections(self.connection_string, self.demo)
        now = datetime.now(UTC)
        try:
            for account in self.accounts:
                read = _AccountRead(self.plan, account, state.setdefault(account or "", {}),
                                    self.since or self.plan.first_start(now), now)
                try:
                    yield from self._account(read, connections)
                except Error as exc:
                    if len(self.accounts) == 1:
                        raise
                    self.recorder.accounts_failed.setdefault(account or "", f"{self.plan.table}: {exc}")
        finally:
            connections.close()

    def _account(self, read: _AccountRead, connections: _Connections) -> Iterator[list[dict[str, Any]]]:
        many = read.account is not None
        for route, lower, upper in read.windows(self.backfill):
            connection = connections.get(route)
            sql = self.plan.select(report=route == "report", upper=upper is not None, account=many)
            params: list[Any] = [_iso(b) for b in (lower, upper) if b is not None]
            params += [read.account] * (sql.count("account = ?") if many else 0)
            cursor = connection.cursor()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                cursor.execute(sql, params)
                while batch := cursor.fetchmany(BATCH_ROWS):
                    out = [row for values in batch for row in read.rows(values, route)]
                    self.recorder.add_rows(self.plan.table, len(batch))
                    if out:
                        yield out
                self.recorder.statement(connection, cursor)
                cursor.close()
            failed = [str(m) for c, m in cursor.messages if issubclass(c, AccountErrorsWarning)]
            if failed:
                self.recorder.accounts_failed.setdefault(read.account or "", f"{self.plan.table}: {failed[0]}")
                return  # its cursor stays: the next run reads the window again
        rest = list(read.rest())
        for start in range(0, len(rest), BATCH_ROWS):
            yield rest[start:start + BATCH_ROWS]
        read.commit()


def _resource(plan: TablePlan, reader: _Reader) -> Any:
    """The dlt resource of one table: merged on (key, account), or replacing the rows of each (replace_by value,
    account) — or, without a cursor, each account's rows."""
    hints = plan.column_hints()
    if plan.cursor and plan.key and not plan.parent:
        hints[plan.cursor]["dedup_sort"] = "desc"
    if plan.cursor and plan.key and not plan.replace_by:
        keys: dict[str, Any] = {"primary_key": [*plan.key, "account"]}
    elif plan.cursor:
        keys = {"merge_key": [plan.replace_by or "", "account"]}
    else:
        keys = {"merge_key": "account"}
    return dlt.resource(reader(), name=plan.table, write_disposition={"disposition": "merge",
                                                                    "strategy": "delete-insert"},
                        columns=hints, **keys)


def _since(text: str) -> datetime:
    """``since``: a date (``YYYY-MM-DD``, or an ISO 8601 time) or a number of days back from now (``30d``)."""
    days = text.strip().lower().removesuffix("d")
    try:
        return datetime.now(UTC) - timedelta(days=float(days)) if days.isdigit() else _parse(text.strip())
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
    plans = plan_tables(specs, list(tables), overlap_days=overlap_days)
    accounts = accounts if len(accounts) > 1 else [None]
    resources = [_resource(p, _Reader(p, connection_string, demo, accounts, start, backfill, recorder)) for p in plans]

    @dlt.source(name=SOURCE_NAME, max_table_nesting=0)
    def sqlspapi_source() -> Any:
        return resources

    return sqlspapi_source()
