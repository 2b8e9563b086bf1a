"""The ``[tables.NAME.sync]`` block of a table definition as data: how ``sqlspapi sync`` mirrors the table.

``cursor`` is a TIME column the API filters with ``>=`` (orders: ``lastUpdatedTime``); each run reads from the last
value loaded minus ``overlap_days``. ``key`` is what rows merge on (default: the table's ``key``); ``replace_by`` makes
the rows of one parent value (an order's items) replace each other as a group instead. ``parent`` reads the table
through its parent's cursor (``order_items`` through ``orders.lastUpdatedTime``, joined on the nested column).
``backfill = "report"`` reads a first run's history through the table's ``[bulk]`` report route, all but its last
``recent_days`` (default: the overlap), which the API reads with every column. ``since_days`` is how far back a first
run reads. A table without ``cursor`` is replaced per account each run.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["SyncSpec", "SYNC_KEYS"]

#: The keys of a ``[sync]`` block (none is required).
SYNC_KEYS = {"cursor": False, "key": False, "overlap_days": False, "backfill": False, "parent": False,
             "replace_by": False, "since_days": False, "recent_days": False}


@dataclass(frozen=True)
class SyncSpec:
    """How one table is mirrored by ``sqlspapi sync`` (see the module docstring)."""

    cursor: str | None = None
    key: tuple[str, ...] = ()
    overlap_days: float = 3.0
    backfill: str | None = None
    parent: str | None = None
    replace_by: str | None = None
    since_days: int = 730
    recent_days: float | None = None
