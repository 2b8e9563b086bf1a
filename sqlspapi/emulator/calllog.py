"""The emulator's call log: one :class:`EmulatorCall` per HTTP request it answered."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class EmulatorCall:
    """One request the emulator answered.

    ``operation`` is the SP-API operationId (``getOrders``, ``searchOrders``, ...), ``"lwaToken"`` for the LWA
    token endpoint or ``"unknown"`` for a path the emulator does not serve. ``params`` holds the query string
    (one string per key; repeated keys are comma-joined, as the SP-API reads them), plus ``"body"`` (the parsed
    JSON body) for POST operations; secrets posted to the LWA endpoint are never recorded. ``time`` is the wall
    clock (``time.time()``) when the request arrived. ``account`` is the seller account whose token made an SP-API
    call (``demo`` for the demo refresh token; None for LWA, downloads and refused tokens).
    """

    operation: str
    method: str
    path: str
    params: dict[str, Any] = field(default_factory=dict)
    status: int = 0
    time: float = 0.0
    account: str | None = None


class CallLog:
    """A thread-safe, list-like log of :class:`EmulatorCall` (iterate, index, ``len``, ``clear()``)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: list[EmulatorCall] = []

    def append(self, call: EmulatorCall) -> None:
        """Record one call."""
        with self._lock:
            self._calls.append(call)

    def clear(self) -> None:
        """Forget every recorded call."""
        with self._lock:
            self._calls.clear()

    def snapshot(self) -> list[EmulatorCall]:
        """A copy of the calls recorded so far."""
        with self._lock:
            return list(self._calls)

    def of(self, operation: str) -> list[EmulatorCall]:
        """The calls of one operation, oldest first."""
        return [c for c in self.snapshot() if c.operation == operation]

    def count(self, operation: str | None = None, status: int | None = None) -> int:
        """How many calls match ``operation`` and ``status`` (``None`` matches any)."""
        return sum(
            1
            for c in self.snapshot()
            if (operation is None or c.operation == operation) and (status is None or c.status == status)
        )

    def __len__(self) -> int:
        with self._lock:
            return len(self._calls)

    def __iter__(self) -> Iterator[EmulatorCall]:
        return iter(self.snapshot())

    def __getitem__(self, index: Any) -> Any:
        with self._lock:
            return self._calls[index]

    def __bool__(self) -> bool:
        return len(self) > 0

    def __repr__(self) -> str:
        return f"CallLog({len(self)} calls)"
