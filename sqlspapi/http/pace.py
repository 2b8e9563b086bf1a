"""What this process has seen of one account's operations, for estimates: answer time, rows per page, rows per day.

An :class:`~sqlspapi.http.runtime.AccountRuntime` owns one :class:`PaceBook`. The client records how long each call
took to answer (:meth:`PaceBook.answered`); the list route records each whole scan of a date window
(:meth:`PaceBook.scanned`). ``EXPLAIN QUERY PLAN`` and the live progress turn them into "~12 pages, ~31 min" —
before the first scan of an operation the page count is unknown and said so. Nothing is stored on disk; the book
holds at most :data:`MAX_OPERATIONS` operations.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

#: Operations a book remembers at most (least recently seen forgotten first).
MAX_OPERATIONS = 256
#: Seconds an SP-API call is assumed to take to answer before one was seen.
DEFAULT_LATENCY = 0.3
#: Weight of the newest observation in the running averages.
_WEIGHT = 0.3


@dataclass
class Seen:
    """One operation's observations (running averages); None where nothing was seen yet."""

    latency: float | None = None
    rows_per_page: float | None = None  # the largest page seen: the page size once a scan filled one
    rows_per_day: float | None = None
    rows_per_scan: float | None = None  # rows of a whole scan without a date window


def _blend(old: float | None, new: float) -> float:
    return new if old is None else old + _WEIGHT * (new - old)


class PaceBook:
    """One account's observations per operation name; thread-safe."""

    def __init__(self) -> None:
        self._ops: OrderedDict[str, Seen] = OrderedDict()
        self._lock = threading.Lock()

    def _entry(self, operation: str) -> Seen:
        seen = self._ops.get(operation)
        if seen is None:
            seen = self._ops[operation] = Seen()
            while len(self._ops) > MAX_OPERATIONS:
                self._ops.popitem(last=False)
        self._ops.move_to_end(operation)
        return seen

    def answered(self, operation: str, seconds: float) -> None:
        """A call of ``operation`` took ``seconds`` to answer (rate-limit waits excluded)."""
        if seconds < 0:
            return
        with self._lock:
            seen = self._entry(operation)
            seen.latency = _blend(seen.latency, seconds)

    def scanned(self, operation: str, rows: int, days: float | None, largest_page: int) -> None:
        """A whole scan of ``operation``: ``rows`` rows over a window of ``days`` days (None: the request had no date
        window), the largest page holding ``largest_page`` rows (the page size, once a scan had a full page)."""
        with self._lock:
            seen = self._entry(operation)
            if largest_page > (seen.rows_per_page or 0):
                seen.rows_per_page = float(largest_page)
            if days is None:
                seen.rows_per_scan = _blend(seen.rows_per_scan, float(rows))
            elif days > 0:
                seen.rows_per_day = _blend(seen.rows_per_day, rows / days)

    def seen(self, operation: str) -> Seen:
        """A copy of the observations of ``operation``."""
        with self._lock:
            found = self._ops.get(operation)
            return Seen(found.latency, found.rows_per_page, found.rows_per_day, found.rows_per_scan) if found \
                else Seen()

    def latency(self, operation: str) -> float:
        """Seconds a call of ``operation`` takes to answer (the running average, else :data:`DEFAULT_LATENCY`)."""
        return self.seen(operation).latency or DEFAULT_LATENCY

    def __repr__(self) -> str:
        with self._lock:
            return f"PaceBook({len(self._ops)} operations)"


__all__ = ["MAX_OPERATIONS", "DEFAULT_LATENCY", "Seen", "PaceBook"]
