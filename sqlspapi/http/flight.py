"""Single flight for GET calls: identical calls of one account in flight at the same time are sent once.

The first caller of a flight key (method, URL, query, token kind) becomes the leader and sends the call; callers
arriving while it is in flight become followers, wait for it, and reuse its answer or re-raise its error. A client
with a ``share_window`` > 0 also keeps a completed answer shareable for that many seconds (for the bridge server,
where dashboards refreshing together should cost one client's calls). Each
:class:`~sqlspapi.http.runtime.AccountRuntime` owns one :class:`Flights`, so only calls of the same seller account
are merged.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")

#: A flight key: (method, URL, sorted query items, token kind).
FlightKey = tuple[Any, ...]


class Flight:
    """A GET in progress; followers wait on ``done`` and reuse ``result`` or re-raise ``error``."""

    __slots__ = ("done", "result", "error", "status")

    def __init__(self) -> None:
        self.done = threading.Event()
        self.result: Any = None
        self.error: BaseException | None = None
        self.status = 0


class Flights:
    """The GET calls of one account in flight now, and (for a ``share_window``) those completed moments ago."""

    def __init__(self) -> None:
        self._flights: dict[FlightKey, Flight] = {}
        #: Completed GET answers kept shareable (flight key → (expiry, flight)).
        self._recent: dict[FlightKey, tuple[float, Flight]] = {}
        self._lock = threading.Lock()

    def join(self, key: FlightKey, window: float) -> tuple[Flight, bool]:
        """The flight of ``key`` and whether the caller leads it (must send the call and then :meth:`lead` it).

        With ``window`` > 0 an answer completed less than ``window`` seconds ago is joined as a finished flight.
        """
        with self._lock:
            flight = self._flights.get(key)
            if flight is None and window > 0:
                expiry, done = self._recent.get(key, (0.0, None))
                if done is not None and expiry > time.monotonic():
                    flight = done  # answered moments ago for another client of this account: share it
            leader = flight is None
            if flight is None:
                flight = self._flights[key] = Flight()
        return flight, leader

    def lead(self, key: FlightKey, flight: Flight, window: float, send: Callable[[], T]) -> T:
        """Run ``send`` as the leader of ``flight``: publish its result or error, then release the followers."""
        try:
            result = send()
            flight.result = result
            return result
        except Exception as exc:
            flight.error = exc
            flight.status = getattr(exc, "status", 0) or 0
            raise
        finally:
            with self._lock:
                self._flights.pop(key, None)
                if window > 0 and flight.result is not None:
                    now = time.monotonic()
                    self._recent[key] = (now + window, flight)
                    for stale in [k for k, (expiry, _f) in self._recent.items() if expiry <= now]:
                        del self._recent[stale]
            flight.done.set()

    def __repr__(self) -> str:
        with self._lock:
            return f"Flights({len(self._flights)} in flight, {len(self._recent)} recent)"


__all__ = ["Flight", "FlightKey", "Flights"]
