"""``sqlspapi sync``: keep a local mirror of sqlspapi tables with dlt — incremental by each table's cursor, merged
on its key, per account, history through the order report (docs/sync.md).

    >>> from sqlspapi.sync import sync
    >>> summary = sync(demo=True, tables=["orders", "order_items"])   # doctest: +SKIP

:func:`source` is the dlt source itself (for a pipeline of your own), :func:`sync` runs it with a lock, progress and
a :class:`Summary`.
"""

from __future__ import annotations

from sqlspapi.sync.run import Summary, SyncLockedError, sync
from sqlspapi.sync.source import source

__all__ = ["source", "sync", "Summary", "SyncLockedError"]
