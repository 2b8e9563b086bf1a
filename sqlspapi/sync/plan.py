"""What ``sqlspapi sync`` reads for each table, from the table definitions' ``[sync]`` blocks: the cursor column and
its overlap, the key rows merge on (or the parent value whose rows replace each other), the first run's start, the
columns the order report gives for a backfill — and the SQL that reads one window of one account.

A table with a cursor is read ``WHERE cursor >= bound`` (bound: the last value loaded minus the overlap, or the first
run's start); a child table with ``parent`` is read joined to its parent, through the parent's cursor; a table
without a cursor is read whole and replaces the account's rows. A sync naming a child and its parent reads them as
one :class:`GroupPlan`: one statement per window, the parent ``LEFT JOIN`` the child.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlspapi.definitions.schema import BulkSpec, ColumnSpec, TableSpec
from sqlspapi.errors import ProgrammingError

__all__ = ["TablePlan", "GroupPlan", "plan_tables", "plan_groups", "DLT_TYPES", "BACKFILL_MODES", "REPORT_MIN_DAYS"]

#: dlt data types of sqlspapi column kinds (JSON stays text: dlt would otherwise unnest lists into child tables).
DLT_TYPES: Mapping[str, str] = {"TEXT": "text", "INTEGER": "bigint", "REAL": "decimal", "BOOLEAN": "bool",
                                "JSON": "text", "TIME": "timestamp"}
#: The ``backfill`` choices: ``auto`` (reports for history of at least :data:`REPORT_MIN_DAYS` days), ``report``
#: (reports for any history older than the overlap), ``api`` (paging only).
BACKFILL_MODES = ("auto", "report", "api")
#: Shortest history (days) ``backfill="auto"`` reads through reports (one report window): less is paged.
REPORT_MIN_DAYS = 30


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@dataclass(frozen=True)
class TablePlan:
    """How one table is mirrored: its columns, cursor (``cursor_of`` the table it lives in: the table itself or
    ``parent``), the unit rows merge on, the overlap, the first run's reach and the report's columns."""

    table: str
    columns: tuple[ColumnSpec, ...]
    cursor: str | None = None
    parent: str | None = None
    join: str | None = None
    key: tuple[str, ...] = ()
    replace_by: str | None = None
    overlap: timedelta = timedelta(days=3)
    since_days: int = 730
    report_columns: tuple[str, ...] = ()
    recent: timedelta | None = None

    @property
    def first_api_window(self) -> timedelta:
        """How far back a first run with a report backfill reads through the API (every column): ``recent_days``,
        at least the overlap."""
        return max(self.recent or self.overlap, self.overlap)

    @property
    def unit(self) -> tuple[str, ...]:
        """The columns naming a unit of rows that is written (or left alone) together: the key, or ``replace_by``."""
        return (self.replace_by,) if self.replace_by else self.key

    def first_start(self, now: datetime) -> datetime:
        """The first run's start without ``since``: ``since_days`` back from today (a day inside what the API
        accepts: Amazon counts its limits back from the moment of the call)."""
        today = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        return today - timedelta(days=self.since_days - 1)

    def names(self, report: bool) -> list[str]:
        """The columns a statement reads: every one, or the report's (``report``)."""
        return [c.name for c in self.columns if not report or c.name in self.report_columns]

    def select(self, *, report: bool, upper: bool, account: bool) -> str:
        """The statement reading one window: ``cursor >= ?`` (and ``< ?`` when ``upper``), of one account (``account
        = ?`` when the connection has several); the report's columns only when ``report``. The cursor value is the
        last column."""
        names = self.names(report)
        if self.parent:
            cols = ", ".join(f"c.{_quote(n)}" for n in names)
            on = f"c.{_quote(self.join or '')} = p.{_quote(self.join or '')}"
            on += " AND c.account = p.account" if account else ""
            source = f"{_quote(self.parent)} p JOIN {_quote(self.table)} c ON {on}"
            cursor = f"p.{_quote(self.cursor or '')}"
            who = " AND p.account = ? AND c.account = ?" if account else ""
        else:
            cols = ", ".join(_quote(n) for n in names)
            source, who = _quote(self.table), " AND account = ?" if account else ""
            cursor = _quote(self.cursor) if self.cursor else ""
        if not self.cursor:
            return f"SELECT {cols} FROM {source} WHERE 1{who}"
        return f"SELECT {cols}, {cursor} FROM {source} WHERE {_bounds(cursor, upper)}{who}"

    def column_hints(self) -> dict[str, dict[str, Any]]:
        """dlt column hints: every column typed from the definition (so columns a report leaves NULL exist), the
        ``account`` and ``_sqlspapi_source`` columns."""
        hints: dict[str, dict[str, Any]] = {c.name: {"name": c.name, "data_type": DLT_TYPES[c.kind], "nullable": True}
                                            for c in self.columns}
        hints["account"] = {"name": "account", "data_type": "text", "nullable": False}
        hints["_sqlspapi_source"] = {"name": "_sqlspapi_source", "data_type": "text", "nullable": True}
        return hints


def _bounds(cursor: str, upper: bool) -> str:
    return f"{cursor} >= ?" + (f" AND {cursor} < ?" if upper else "")


@dataclass(frozen=True)
class GroupPlan:
    """Tables read by the same statements: a table alone, or a parent and its first child (``child``: read with
    ``parent LEFT JOIN child``, through the parent's cursor). Named after the parent (its dlt resource)."""

    parent: TablePlan
    child: TablePlan | None = None

    @property
    def members(self) -> tuple[TablePlan, ...]:
        """The group's tables, parent first."""
        return (self.parent,) if self.child is None else (self.parent, self.child)

    def select(self, *, report: bool, upper: bool, account: bool) -> str:
        """The statement reading one window of the group (as :meth:`TablePlan.select`): the parent's columns, the
        child's, the parent's cursor last."""
        child, parent = self.child, self.parent
        if child is None:
            return parent.select(report=report, upper=upper, account=account)
        cols = ", ".join([f"p.{_quote(n)}" for n in parent.names(report)] +
                         [f"c.{_quote(n)}" for n in child.names(report)])
        join = _quote(child.join or "")
        on = f"c.{join} = p.{join}" + (" AND c.account = p.account" if account else "")
        cursor = f"p.{_quote(parent.cursor or '')}"
        return (f"SELECT {cols}, {cursor} FROM {_quote(parent.table)} p LEFT JOIN {_quote(child.table)} c ON {on} "
                f"WHERE {_bounds(cursor, upper)}{' AND p.account = ?' if account else ''}")

    def split(self, values: Sequence[Any], report: bool) -> list[list[Any] | None]:
        """A row of :meth:`select` as each member's values (its columns, then the cursor value when the group has a
        cursor); a child without a row (the ``LEFT JOIN`` found none: its join column is NULL) as None."""
        if self.child is None:
            return [list(values)]
        width = len(self.parent.names(report))
        names = self.child.names(report)
        child = list(values[width:width + len(names)])
        mine = child[names.index(self.child.join)] if self.child.join in names else child[0]
        return [[*values[:width], values[-1]], None if mine is None else [*child, values[-1]]]


def plan_groups(plans: Sequence[TablePlan]) -> list[GroupPlan]:
    """The groups of ``plans`` (in their order): a child whose parent is among them is read with it — the first such
    child of a parent; the others, and a child without its parent, are read alone."""
    names = {p.table for p in plans}
    firsts: dict[str, TablePlan] = {}
    for plan in plans:
        if plan.parent in names and plan.parent not in firsts:
            firsts[plan.parent] = plan
    joined = {id(c) for c in firsts.values()}
    return [GroupPlan(p, firsts.get(p.table)) for p in plans if id(p) not in joined]


def _report_columns(table: TableSpec, spec_backfill: str | None) -> tuple[str, ...]:
    """The columns the table's ``[bulk]`` report route gives (with the join column of a child table)."""
    bulk = table.route("bulk")
    if not spec_backfill or not isinstance(bulk, BulkSpec):
        return ()
    return tuple(bulk.columns)


def plan_tables(specs: Mapping[str, TableSpec], names: Sequence[str], *, overlap_days: float | None = None) -> list[
        TablePlan]:
    """The plans of the tables ``names`` (of ``specs``: the connection's tables by name); ``overlap_days`` overrides
    every table's. A table without ``[sync]`` is read whole each run, replacing the account's rows."""
    plans = []
    for name in names:
        table = specs.get(name)
        if table is None:
            raise ProgrammingError(f"sync: no table {name!r} on this connection")
        columns = tuple(c for c in table.columns if not c.hidden and c.name.lower() != "account")
        spec = table.sync
        if spec is None:
            plans.append(TablePlan(name, columns))
            continue
        cursor, join, timing = spec.cursor, None, spec
        if spec.parent:
            parent = specs.get(spec.parent)
            if parent is None or parent.sync is None or table.nested is None:
                raise ProgrammingError(f"sync: {name} is read through {spec.parent}, which this connection lacks")
            cursor, join, timing = parent.sync.cursor, table.nested.column, parent.sync  # the parent's cursor times
        overlap = timedelta(days=timing.overlap_days if overlap_days is None else overlap_days)
        recent = timedelta(days=timing.recent_days) if timing.recent_days is not None else None
        plans.append(TablePlan(name, columns, cursor=cursor, parent=spec.parent, join=join, key=spec.key,
                               replace_by=spec.replace_by, overlap=overlap, since_days=spec.since_days,
                               report_columns=_report_columns(table, spec.backfill), recent=recent))
    return plans
