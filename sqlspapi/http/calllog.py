"""The client's call log: one ``CallRecord`` per ``Client.call``, grouped by SQL statement.

``Client.calls`` is a bounded, thread-safe, list-like ``CallLog``. ``mark_statement()`` starts a new
statement; ``last_statement()`` returns the records made since the last mark. Records hold operation names,
paths and query parameters only: never a token or a secret.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, overload


@dataclass(frozen=True)
class CallRecord:
    """One logical SP-API call as the client made it (retries included, see ``attempts``).

    ``started`` is the wall-clock start (``time.time()``), ``elapsed`` the seconds until the final answer,
    ``throttle_wait`` the seconds spent waiting for the rate limiter, ``status`` the final HTTP status (0 when
    the endpoint could not be reached), ``shared`` True when the answer came from an identical call already in
    flight (single flight) rather than a request of its own.
    """

    operation: str
    method: str
    path: str
    params: dict[str, Any]
    status: int
    started: float
    elapsed: float
    throttle_wait: float
    request_id: str | None
    shared: bool = False
    attempts: int = 1
    retry_wait: float = field(default=0.0)


class CallLog:
    """A bounded, thread-safe list of ``CallRecord`` (oldest dropped past ``maxlen``) with statement marks."""

    def __init__(self, maxlen: int = 10_000) -> None:
        self._records: deque[CallRecord] = deque(maxlen=maxlen)
        self._total = 0
        self._mark = 0
        self._lock = threading.Lock()

    def append(self, record: CallRecord) -> None:
        """Add a record (the client does this once per call)."""
        with self._lock:
            self._records.append(record)
            self._total += 1

    def mark_statement(self) -> int:
        """Start a new SQL statement; returns a marker usable with :meth:`since`."""
        with self._lock:
            self._mark = self._total
            return self._mark

    def since(self, marker: int) -> list[CallRecord]:
        """Records appended after ``marker`` (a value from :meth:`mark_statement` or :meth:`position`)."""
        with self._lock:
            count = min(self._total - marker, len(self._records))
            if count <= 0:
                return []
            return list(self._records)[-count:]

    def position(self) -> int:
        """A marker for "now" without moving the statement mark (for callers that share one client)."""
        with self._lock:
            return self._total

    def last_statement(self) -> list[CallRecord]:
        """Records made since the last :meth:`mark_statement`."""
        return self.since(self._mark)

    def clear(self) -> None:
        """Forget every record."""
        with self._lock:
            self._records.clear()
            self._mark = self._total

    def __len__(self) -> int:
        with self._lock:
            return len(self._records)

    def __iter__(self) -> Iterator[CallRecord]:
        with self._lock:
            return iter(list(self._records))

    @overload
    def __getitem__(self, index: int) -> CallRecord: ...

    @overload
    def __getitem__(self, index: slice) -> list[CallRecord]: ...

    def __getitem__(self, index: int | slice) -> CallRecord | list[CallRecord]:
        with self._lock:
            if isinstance(index, slice):
                return list(self._records)[index]
            return self._records[index]

    def __repr__(self) -> str:
        return f"CallLog({len(self)} records)"
