"""The per-account read state of one mirrored table: which rows a run writes, and the state it keeps.

Rows are grouped in units (the table's key, or its ``replace_by`` value: the rows written, or left alone, together).
For each unit a read keeps in memory its cursor, a hash of its rows and the statement that first gave it — never the
rows, which wait in the spool (:mod:`sqlspapi.sync.spool`). A unit is written when its cursor is past the last value
loaded, or when it was read again within the overlap and its rows changed (the hash in ``seen`` differs); only the
rows of the first statement that gave a unit count (windows are read newest first).

The state (``dlt.current.resource_state()``, committed by dlt with the data it describes) of an account:

- ``cursor``: the largest cursor value loaded (ISO 8601, UTC);
- ``seen``: for the units whose cursor lies within the overlap of it, [cursor, hash, source]. A re-read unit whose
  rows did not change is not written again, so a re-run after nothing changed writes nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlspapi.sync.plan import REPORT_MIN_DAYS, GroupPlan, TablePlan

__all__ = ["AccountRead", "windows", "group_bound", "iso", "parse_time", "PRUNE_UNITS"]

#: Units a table's read keeps before it drops those it will write anyway and that lie before the overlap of the
#: largest cursor (memory stays flat).
PRUNE_UNITS = 10_000
_MASK = (1 << 64) - 1


def iso(value: datetime) -> str:
    """``value`` as ISO 8601 in UTC, to the second (``2026-01-01T00:00:00Z``)."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: str) -> datetime:
    """An ISO 8601 time (``Z`` or an offset; none: UTC)."""
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _hash(values: Sequence[Any]) -> int:
    return int.from_bytes(hashlib.blake2b(repr(tuple(values)).encode(), digest_size=8).digest(), "big")


class _Unit:
    """A unit as read in this run: the statement that first gave it, the largest cursor of its rows there and their
    hashes (of every column; of the report's columns alone)."""

    __slots__ = ("cursor", "full", "report", "source", "statement")

    def __init__(self, source: str, statement: int) -> None:
        self.full = 0
        self.report = 0
        self.cursor = ""
        self.source = source
        self.statement = statement

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


class AccountRead:
    """One table of one account in one run: turns the values a statement read into rows and units, decides which
    units are written, and keeps the state. ``old`` is the table's last cursor (None: a first run)."""

    def __init__(self, plan: TablePlan, account: str | None, state: dict[str, Any]) -> None:
        self.plan = plan
        self.account = account
        self.state = state
        self.old = parse_time(state["cursor"]) if state.get("cursor") else None
        self.seen_before: dict[str, list[str]] = dict(state.get("seen", {}))
        self.units: dict[str, _Unit] = {}
        self.best: datetime | None = self.old
        self._report = [c.name in plan.report_columns for c in plan.columns]
        self._limit = PRUNE_UNITS

    def row(self, values: Sequence[Any], source: str, statement: int) -> tuple[str, dict[str, Any]]:
        """One row read by ``statement`` (through ``source``: ``api`` or ``report``): its unit and the row."""
        plan = self.plan
        row = dict(zip(plan.names(source == "report"), values, strict=False))
        row["account"] = self.account or ""
        row["_sqlspapi_source"] = source
        cursor = values[-1] if plan.cursor else None
        if cursor is None:
            return "", row
        if self.best is None or cursor > self.best:
            self.best = cursor
        unit = "\x1f".join(str(row.get(k)) for k in plan.unit)
        kept = self.units.get(unit)
        if kept is None:
            kept = self.units[unit] = _Unit(source, statement)
            if len(self.units) > self._limit:
                self._prune()
        if kept.statement == statement:
            full = _hash(values)
            report = full if source == "report" else _hash([v for v, r in zip(values, self._report, strict=False)
                                                            if r] + [cursor])
            kept.add(iso(cursor), full, report)
        return unit, row

    def _prune(self) -> None:
        """Drop the units that are written anyway (past the last cursor) and lie before the overlap of the best."""
        edge = iso(self.best - self.plan.overlap) if self.best else ""
        old = iso(self.old) if self.old else ""
        self.units = {u: kept for u, kept in self.units.items() if kept.cursor >= edge or kept.cursor <= old}
        self._limit = 2 * len(self.units) + PRUNE_UNITS

    def unchanged(self) -> Iterator[tuple[str, int]]:
        """(unit, statement) of the units read again whose rows did not change: not written (they stay as the state
        describes them — a report row stays a report row)."""
        old = iso(self.old) if self.old else None
        for unit, kept in self.units.items():
            if old is not None and kept.cursor <= old and kept.same_as(self.seen_before.get(unit)):
                kept.source = self.seen_before[unit][2]
                yield unit, kept.statement

    def commit(self) -> None:
        """The account's new state: the largest cursor, and the units within the overlap of it."""
        if self.best is None:
            return
        self.state["cursor"] = iso(self.best)
        edge = iso(self.best - self.plan.overlap)
        self.state["seen"] = {unit: kept.entry() for unit, kept in self.units.items() if kept.cursor >= edge}
        self.units.clear()


def windows(plan: TablePlan, bound: datetime, now: datetime, backfill: str,
            best: Any) -> Iterator[tuple[str, datetime | None, datetime | None]]:
    """(route, lower bound, upper bound) of each statement reading ``plan`` (a group's parent) from ``bound``,
    decided as the reads go (``best()``: the largest cursor read so far, or None), newest first: without a report
    backfill, one API read from the bound; with one, the API's recent window (``recent_days``) first, then — knowing
    the largest cursor — the API down to the overlap of that cursor, and the order report for the history before."""
    if not plan.cursor:
        yield "api", None, None
        return
    split = now - plan.first_api_window
    history = (split - bound) / timedelta(days=1)
    wanted = {"auto": REPORT_MIN_DAYS, "report": 0, "api": None}[backfill]
    if not plan.report_columns or wanted is None or history <= wanted:
        yield "api", bound, None
        return
    yield "api", split, None
    largest = best()
    edge = max(min(split, largest - plan.overlap) if largest else split, bound)
    if edge < split:
        yield "api", edge, split
    if bound < edge:
        yield "report", bound, edge


def group_bound(group: GroupPlan, reads: Sequence[AccountRead], start: datetime) -> datetime:
    """Where a group's read of an account starts: the overlap before the smallest of its tables' cursors — or
    ``start`` when one of them has none (a child added to a mirror of its parent: a first run for the account)."""
    olds = [r.old for r in reads]
    if any(old is None for old in olds):
        for read in reads:  # every unit is written again: merging on keys makes it idempotent
            read.old = None
        return start
    return min(olds) - group.parent.overlap  # type: ignore[type-var]
