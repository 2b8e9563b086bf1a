"""What a Spark read of a sqlspapi table does, decided on the driver: the read's options, its accounts and date
windows (:class:`ReadPlan`), the filters that narrow them (:func:`push_filters`), and the partitions
(:func:`plan_partitions`) — account × date window, with one account's windows kept in one partition, in order, when
the read spans several accounts (docs/spark.md, "Why the unit of parallelism is the seller account").
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from pyspark.sql.datasource import (
    EqualTo,
    Filter,
    GreaterThan,
    GreaterThanOrEqual,
    In,
    InputPartition,
    LessThan,
    LessThanOrEqual,
)

from sqlspapi.definitions.schema import TableSpec
from sqlspapi.errors import InterfaceError
from sqlspapi.spark.types import ACCOUNT_COLUMN

__all__ = ["ReadPlan", "SqlspapiPartition", "Window", "read_plan", "find_table", "window_column", "push_filters",
           "plan_partitions", "split_windows"]

#: A date window: ``(start, end)`` as ISO-8601 UTC text, either end open (``None``).
Window = tuple[str | None, str | None]

#: Options that become connection-string keys (option name, lower case → key).
_KEY_OPTIONS = {"profile": "Profile", "accounts": "Accounts", "credentialsfile": "CredentialsFile",
                "credentialssecret": "CredentialsSecret"}
#: Timestamps with a whole-second grain: ``col <= t`` is read as ``col < t + 1 s`` (Spark re-checks it).
_GRAIN = timedelta(seconds=1)
_TRUE = ("1", "true", "yes", "on")


@dataclass(frozen=True)
class ReadPlan:
    """One read: the table, the connection string (never shown by ``repr``), the accounts (``(None,)`` on a
    one-account connection), the window column (None: the table has no date window) and the range to read."""

    table: str
    connection_string: str = field(repr=False)
    accounts: tuple[str | None, ...]
    window_column: str | None
    start: datetime | None
    end: datetime | None
    window_days: float
    pushdown: bool = True

    @property
    def named_accounts(self) -> bool:
        """Whether rows carry an ``account`` column (the read spans the named accounts of ``Accounts``)."""
        return any(a is not None for a in self.accounts) or not self.accounts


class SqlspapiPartition(InputPartition):
    """One Spark task: one account (None on a one-account connection) and the date windows it reads, in order."""

    def __init__(self, account: str | None, windows: Sequence[Window]) -> None:
        super().__init__((account, tuple(windows)))
        self.account = account
        self.windows: tuple[Window, ...] = tuple(windows)

    def __repr__(self) -> str:
        return f"SqlspapiPartition(account={self.account!r}, windows={list(self.windows)!r})"


def _quote(value: str) -> str:
    """A connection-string value in braces (``}`` doubled), so ``;`` and ``=`` in it are kept."""
    return "{" + value.replace("}", "}}") + "}"


def _timestamp(text: str, option: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise InterfaceError(f"option {option}={text!r} is not a date or timestamp (write 2025-01-01 or "
                             "2025-01-01T00:00:00Z)") from None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def connection_string(options: Mapping[str, str]) -> str:
    """The sqlspapi connection string of a read: ``connection`` plus the keys given as their own options."""
    parts = [options["connection"].strip().rstrip(";")] if options.get("connection", "").strip() else []
    parts += [f"{key}={_quote(options[name])}" for name, key in _KEY_OPTIONS.items() if options.get(name)]
    if not parts:
        raise InterfaceError('the sqlspapi source needs option("connection", CONNSTR), or option("profile", NAME), '
                             'or option("accounts", …) with option("credentialsFile", PATH)')
    return ";".join(parts)


def find_table(settings: Any, name: str) -> TableSpec:
    """The definition of table ``name`` for the API versions of ``settings`` (case-insensitive)."""
    from sqlspapi.definitions.loader import select_sections

    tables = {t.name.lower(): t for s in select_sections(settings.api_versions) for t in s.tables.values()}
    try:
        return tables[name.strip().lower()]
    except KeyError:
        raise InterfaceError(f"no sqlspapi table {name!r} (sqlspapi tables lists them)") from None


def window_column(table: TableSpec) -> str | None:
    """The table's date-window column: the first column whose range the API takes as an after/before pair
    (orders.createdTime, transactions.postedDate), or a report table's data window column; None without one."""
    for route in table.routes:
        for window in getattr(route, "windows", ()) or ():
            if window.after and window.before:
                return str(window.column)
        if getattr(route, "window_column", None):
            return str(route.window_column)
    return None


def read_plan(options: Mapping[str, str]) -> tuple[ReadPlan, TableSpec]:
    """The plan of a read from its Spark options (names case-insensitive), and the table's definition.

    ``Accounts=all`` is resolved here to the names of the credentials source, so every partition names its account.
    """
    from sqlspapi.settings.accounts import expand
    from sqlspapi.settings.connstr import parse

    opts = {str(k).lower(): str(v) for k, v in options.items() if v is not None}
    if not opts.get("table"):
        raise InterfaceError('the sqlspapi source needs option("table", NAME)')
    text = connection_string(opts)
    settings = parse(text, require_credentials=False)
    table = find_table(settings, opts["table"])
    accounts: tuple[str | None, ...] = tuple(expand(settings)) if settings.accounts else (None,)
    column = opts.get("windowcolumn") or window_column(table)
    if column is not None:
        column = table.columns[table.column_index(column)].name
    try:
        days = float(opts.get("windowdays", "30"))
    except ValueError:
        days = 0.0
    if not days > 0:
        raise InterfaceError(f"option windowDays={opts.get('windowdays')!r} must be a positive number of days")
    start = _timestamp(opts["start"], "start") if opts.get("start") else None
    end = _timestamp(opts["end"], "end") if opts.get("end") else None
    if column is None and (start or end):
        raise InterfaceError(f"table {table.name} has no date window column, so start/end do not apply: it is read "
                             "whole (filter its rows in Spark)")
    pushdown = opts.get("pushfilters", "true").strip().lower() in _TRUE
    return ReadPlan(table.name, text, accounts, column, start, end, days, pushdown), table


def _utc(value: Any) -> datetime | None:
    if not isinstance(value, datetime):
        return None
    return value.astimezone(UTC) if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _later(a: datetime | None, b: datetime) -> datetime:
    return b if a is None or b > a else a


def _earlier(a: datetime | None, b: datetime) -> datetime:
    return b if a is None or b < a else a


def push_filters(plan: ReadPlan, filters: Iterable[Filter]) -> tuple[ReadPlan, list[Filter]]:
    """``plan`` narrowed by the filters it can use, and the filters Spark must still apply.

    ``account = x`` and ``account IN (…)`` keep only those accounts (exact: not returned). On the window column,
    ``>=`` and ``<`` move the range's ends (exact); ``>``, ``<=`` and ``=`` move them too (``<= t`` to ``t + 1 s``)
    and are returned, so Spark drops the rows at the edge. Every other filter is returned.
    """
    remaining: list[Filter] = []
    accounts = plan.accounts
    start, end = plan.start, plan.end
    window = plan.window_column.lower() if plan.window_column else None
    for f in filters:
        column = ".".join(getattr(f, "attribute", ())).lower()
        if column == ACCOUNT_COLUMN and plan.named_accounts and isinstance(f, EqualTo | In):
            wanted = set(f.value) if isinstance(f, In) else {f.value}
            accounts = tuple(a for a in accounts if a in wanted)
            continue
        value = _utc(getattr(f, "value", None))
        if column != window or value is None:
            remaining.append(f)
            continue
        if isinstance(f, GreaterThanOrEqual | GreaterThan | EqualTo):
            start = _later(start, value)
        if isinstance(f, LessThan):
            end = _earlier(end, value)
        elif isinstance(f, LessThanOrEqual | EqualTo):
            end = _earlier(end, value + _GRAIN)
        if not isinstance(f, GreaterThanOrEqual | LessThan):
            remaining.append(f)
    return dataclasses.replace(plan, accounts=accounts, start=start, end=end), remaining


def _iso(moment: datetime) -> str:
    text = moment.astimezone(UTC).isoformat(timespec="microseconds" if moment.microsecond else "seconds")
    return text.replace("+00:00", "Z")


def split_windows(start: datetime | None, end: datetime | None, days: float, now: datetime) -> list[Window]:
    """``[start, end)`` cut into windows of ``days``; without an end the last window stays open (it reads up to the
    API's present), without a start there is one window (sqlspapi's own default lookback then applies)."""
    if start is None:
        return [(None, _iso(end) if end else None)]
    stop = end or now
    step = timedelta(days=days)
    out: list[Window] = []
    lo = start
    while lo < stop:
        hi = min(lo + step, stop)
        out.append((_iso(lo), _iso(hi)))
        lo = hi
    if end is None:
        out = out[:-1] + [(out[-1][0], None)] if out else [(_iso(start), None)]
    return out


def plan_partitions(plan: ReadPlan, now: datetime | None = None) -> list[SqlspapiPartition]:
    """The partitions of a read: with several accounts one per account holding its windows in order (so one
    account's calls never run on two executors at once); with one account one per window; a table without a
    window column reads one partition per account. A read pruned to nothing has one empty partition."""
    if plan.window_column is None:
        windows: list[Window] = [(None, None)]
    else:
        windows = split_windows(plan.start, plan.end, plan.window_days, now or datetime.now(UTC))
    if not plan.accounts or not windows:
        return [SqlspapiPartition(plan.accounts[0] if plan.accounts else None, ())]
    if len(plan.accounts) > 1:
        return [SqlspapiPartition(account, windows) for account in plan.accounts]
    return [SqlspapiPartition(plan.accounts[0], [w]) for w in windows]
