"""Single flight for GET calls: identical calls of one account in flight at the same time are sent once.

The first caller of a flight key (method, URL, query, token kind) becomes the leader and sends the call; callers
arriving while it is in flight become followers, wait for it, and reuse its answer or re-raise its error. A client
with a ``share_window`` > 0 also keeps a completed answer shareable for that many seconds (for the bridge server,
where dashboards refreshing together should cost one client's calls); an answer a connection got stays shareable
with the account's *other* connections for :data:`OTHERS_WINDOW` seconds (threads running the same query). Each
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


#: Seconds an answer stays shareable with *other* callers of the account (other connections, threads) that send the
#: identical call: eight threads running the same query a moment apart cost one thread's calls.
OTHERS_WINDOW = 2.0
#: Most completed answers kept shareable at once (oldest out first).
MAX_RECENT = 1024
#: Most body bytes of completed answers kept shareable at once (oldest out first): a fast scan keeps a few pages.
MAX_RECENT_BYTES = 8_000_000


def answer_size(result: Any) -> int:
    """An answer's body size as its Content-Length says (a guess of 1,000 bytes when it does not)."""
    try:
        return int((getattr(result, "headers", None) or {}).get("content-length") or 0) or 1_000
    except (TypeError, ValueError):
        return 1_000


class Flights:
    """The GET calls of one account in flight now, and those completed moments ago (still shareable)."""

    def __init__(self) -> None:
        self._flights: dict[FlightKey, Flight] = {}
        #: Completed GET answers kept shareable: flight key → (completed at, shareable with anyone until, flight,
        #: the caller that got it).
        self._recent: dict[FlightKey, tuple[float, float, Flight, object | None]] = {}
        self._recent_bytes = 0
        self._lock = threading.Lock()
        #: Seconds an answer is shared with other callers (:data:`OTHERS_WINDOW`; 0: only calls in flight).
        self.others_window = OTHERS_WINDOW

    def join(self, key: FlightKey, window: float, caller: object | None = None, *,
             recent: bool = True) -> tuple[Flight, bool]:
        """The flight of ``key`` and whether the caller leads it (must send the call and then :meth:`lead` it).

        A call in flight is always joined. With ``recent``, so is an answer completed moments ago: by anyone for
        ``window`` seconds (a client's ``share_window``), by another ``caller`` for ``others_window`` seconds —
        never a caller's own answer beyond ``window`` (a connection's next statement sees fresh data).
        """
        with self._lock:
            flight = self._flights.get(key)
            if flight is None and recent:
                completed, until, done, owner = self._recent.get(key, (0.0, 0.0, None, None))
                now = time.monotonic()
                others = caller is not None and owner is not None and owner is not caller \
                    and now - completed < self.others_window
                if done is not None and (until > now or others):
                    flight = done  # answered moments ago for another caller of this account: share it
            leader = flight is None
            if flight is None:
                flight = self._flights[key] = Flight()
        return flight, leader

    def lead(self, key: FlightKey, flight: Flight, window: float, send: Callable[[], T],
             caller: object | None = None) -> T:
        """Run ``send`` as the leader of ``flight``: publish its result or error, then release the followers; a
        result stays shareable (see :meth:`join`) when ``window`` > 0 or a ``caller`` is named."""
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
                if (window > 0 or caller is not None) and flight.result is not None:
                    now = time.monotonic()
                    if key in self._recent:
                        self._forget(key)
                    self._recent[key] = (now, now + window, flight, caller)
                    self._recent_bytes += answer_size(flight.result)
                    for stale in [k for k, (done_at, until, _f, _c) in self._recent.items()
                                  if until <= now and now - done_at >= self.others_window]:
                        self._forget(stale)
                    while self._recent and (len(self._recent) > MAX_RECENT
                                            or self._recent_bytes > MAX_RECENT_BYTES):
                        self._forget(next(iter(self._recent)))
            flight.done.set()

    def _forget(self, key: FlightKey) -> None:
        """Drop one completed answer (the lock is held)."""
        _done_at, _until, flight, _caller = self._recent.pop(key)
        self._recent_bytes -= answer_size(flight.result)

    def __repr__(self) -> str:
        with self._lock:
            return f"Flights({len(self._flights)} in flight, {len(self._recent)} recent)"


__all__ = ["answer_size", "OTHERS_WINDOW", "MAX_RECENT", "MAX_RECENT_BYTES", "Flight", "FlightKey", "Flights"]
