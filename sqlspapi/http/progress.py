"""Live progress of one SQL statement: what it called, what it waits for, what is left — and its cancellation.

Each :class:`~sqlspapi.engine.Database` owns one :class:`Progress`; a new statement :meth:`Progress.start`\\ s it.
The HTTP client reports each call (:meth:`Progress.calling`, :meth:`Progress.answered`) and waits through
:meth:`Progress.wait` (the rate limiter's turn, a retry's backoff); the routes report pages and rows
(:meth:`Progress.page`) and what they expect to call (:meth:`Progress.expect`). Listeners (the shell's terminal
line, a DB-API ``progress`` callback, ...) receive a :class:`ProgressState` on every event and, during a wait,
every :data:`TICK` seconds — so a countdown moves even while nothing else happens.

:meth:`Progress.cancel` (thread-safe: the bridge's CancelRequest, ``Connection.cancel()``) stops the statement at
its next wait or call with :class:`~sqlspapi.errors.QueryCancelled`; Ctrl-C in the thread running it raises
``KeyboardInterrupt`` from the wait at once. Either way the rate-limit token reserved for the call that was not
sent is given back (the client does that: :meth:`~sqlspapi.http.ratelimit.TokenBucket.refund`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlspapi.errors import CallLimitError, QueryCancelled

#: Seconds between the progress events a long wait sends (the countdown's step) and between cancel checks.
TICK = 0.1

log = logging.getLogger("sqlspapi.http.progress")


def duration(seconds: float) -> str:
    """``seconds`` as a person reads a wait: "0.4 s", "12 s", "3 min 5 s", "31 min", "4 h 10 min"."""
    if seconds < 10:
        return f"{seconds:.1f} s"
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 10:
        return f"{minutes} min {secs} s" if secs else f"{minutes} min"
    if minutes < 60:
        return f"{round(seconds / 60)} min"
    hours, minutes = divmod(round(seconds / 60), 60)
    if hours < 48:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{hours / 24:.1f} days"


def rate_text(rate: float) -> str:
    """A rate as people compare it with Amazon's usage plans: "0.0056 req/s", "0.5 req/s", "20 req/s"."""
    return f"{rate:.2g} req/s" if rate < 1 else f"{rate:g} req/s"


@dataclass(frozen=True)
class ProgressState:
    """A snapshot of the running statement, as listeners receive it.

    ``elapsed`` seconds since the statement began; ``operation`` the SP-API operation being called or waited for;
    ``calls`` SP-API calls answered so far; ``pages`` list pages received and ``rows`` the rows they held (rows the
    API returned, before SQLite's own filtering); ``waiting`` seconds left of the current wait (0 when not waiting)
    and ``wait_reason`` what it waits for ("rate limit of searchOrders at 0.0056 req/s", "retry 1 of getOrders
    (HTTP 503)"); ``calls_left`` and ``seconds_left`` the estimate of what remains, None when it is not knowable
    (pages depend on data not seen yet); ``finished`` True in the last event of the statement.
    """

    elapsed: float = 0.0
    operation: str = ""
    calls: int = 0
    pages: int = 0
    rows: int = 0
    waiting: float = 0.0
    wait_reason: str = ""
    calls_left: int | None = None
    seconds_left: float | None = None
    finished: bool = False

    def describe(self) -> str:
        """One line: "searchOrders: 13 calls · waiting 2 min 58 s for the rate limit of searchOrders (0.0056 req/s) ·
        12 pages, 1,140 rows · ~4 calls, ~12 min left"."""
        head = f"{self.operation}: " if self.operation else ""
        return f"{head}{self.calls:,} call{'s' if self.calls != 1 else ''} · {self.details()}"

    def details(self) -> str:
        """What follows the call count: the current wait (first: it is what a user waits for), pages and rows, the
        estimate of what is left."""
        parts = [f"waiting {duration(self.waiting)} for the {self.wait_reason}"] if self.waiting > 0 else []
        parts.append(f"{self.pages:,} page{'s' if self.pages != 1 else ''}, {self.rows:,} rows")
        if self.calls_left is not None and self.seconds_left is not None:
            parts.append(f"~{self.calls_left:,} call{'s' if self.calls_left != 1 else ''}, "
                         f"~{duration(self.seconds_left)} left")
        return " · ".join(parts)


#: A listener: called with each state (from the thread running the statement).
Listener = Callable[[ProgressState], None]


@dataclass
class _Expected:
    """Calls a route expects to make of one operation, and the pacing that tells how long they take."""

    calls: float | None
    pace: Callable[[float], float]  # calls → seconds at the account's current rate-limit state
    made: int = 0


@dataclass
class _Counters:
    started: float = 0.0
    operation: str = ""
    calls: int = 0
    pages: int = 0
    rows: int = 0
    wait_until: float = 0.0
    wait_reason: str = ""
    expected: dict[str, _Expected] = field(default_factory=dict)


class Progress:
    """The progress of the statement running on one database; listeners see it, another thread may cancel it."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._listeners: list[Listener] = []
        self._cancel = threading.Event()
        self._lock = threading.Lock()
        self._now = _Counters(started=clock())
        self._running = False
        #: Most calls one statement may make (``MaxCallsPerStatement``; 0: no limit).
        self.max_calls = 0

    def __repr__(self) -> str:
        return f"Progress({self.state().describe()})"

    # -- listeners ---------------------------------------------------------------------------------------

    def listen(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener`` with every state from now on; returns what stops it."""
        with self._lock:
            self._listeners.append(listener)

        def stop() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return stop

    def _emit(self, finished: bool = False) -> None:
        if not self._listeners:
            return
        state = self.state(finished=finished)
        for listener in list(self._listeners):
            try:
                listener(state)
            except (KeyboardInterrupt, QueryCancelled):
                raise
            except Exception:  # a listener's bug must not break the statement
                log.exception("progress listener %r failed", listener)

    # -- the statement's life ----------------------------------------------------------------------------

    def start(self) -> None:
        """A new statement begins: counters at zero, a cancel of the previous one forgotten."""
        if self._running:
            self.finish()
        with self._lock:
            self._now = _Counters(started=self._clock())
            self._cancel.clear()
            self._running = True

    def finish(self) -> None:
        """The statement ended (its rows were all read, or it failed): listeners get the final state once."""
        if not self._running:
            return
        self._running = False
        self._now.wait_until = 0.0
        self._emit(finished=True)

    def state(self, *, finished: bool = False) -> ProgressState:
        """The current snapshot."""
        now = self._clock()
        c = self._now
        calls_left = seconds_left = None
        known = [e for e in c.expected.values() if e.calls is not None]
        if c.expected and len(known) == len(c.expected):
            left = [(max(0.0, float(e.calls or 0) - e.made), e) for e in known]
            calls_left = round(sum(n for n, _e in left))
            seconds_left = sum(e.pace(n) for n, e in left if n > 0)
        return ProgressState(
            elapsed=now - c.started, operation=c.operation, calls=c.calls, pages=c.pages, rows=c.rows,
            waiting=max(0.0, c.wait_until - now), wait_reason=c.wait_reason if c.wait_until > now else "",
            calls_left=calls_left, seconds_left=seconds_left, finished=finished)

    # -- cancellation ------------------------------------------------------------------------------------

    def cancel(self) -> None:
        """Stop the running statement at its next wait or call (thread-safe)."""
        self._cancel.set()

    @property
    def cancelled(self) -> bool:
        """True once :meth:`cancel` was called for the running statement."""
        return self._cancel.is_set()

    def check(self) -> None:
        """Raise :class:`~sqlspapi.errors.QueryCancelled` when the statement was cancelled."""
        if self._cancel.is_set():
            raise QueryCancelled(
                "interrupted: the statement was cancelled before its next SP-API call; no further call was made.")

    # -- events ------------------------------------------------------------------------------------------

    def calling(self, operation: str) -> None:
        """A call of ``operation`` is about to be sent (or waited for); raise
        :class:`~sqlspapi.errors.CallLimitError` instead when the statement made ``max_calls`` calls already."""
        self.check()
        c = self._now
        if self.max_calls and c.calls >= self.max_calls:
            raise CallLimitError(
                f"the statement stopped after {c.calls:,} SP-API calls (the last ones {operation}): that is "
                f"MaxCallsPerStatement={self.max_calls}. Narrow the query (a shorter date range, fewer ids), or "
                "raise MaxCallsPerStatement (0 = no limit) in the connection string; EXPLAIN QUERY PLAN estimates "
                "the calls before running.")
        c.operation = operation
        self._emit()

    def expected_calls(self) -> float | None:
        """The calls the statement's accesses said they will make (None when one of them cannot know)."""
        found = list(self._now.expected.values())
        if any(e.calls is None for e in found):
            return None
        return sum(float(e.calls or 0) for e in found)

    def answered(self, operation: str) -> None:
        """A call of ``operation`` was answered."""
        c = self._now
        c.calls += 1
        expected = c.expected.get(operation)
        if expected is not None:
            expected.made += 1
        self._emit()

    def page(self, operation: str) -> None:
        """A list page of ``operation`` arrived."""
        c = self._now
        c.pages += 1
        c.operation = operation
        self._emit()

    def row(self) -> None:
        """One row arrived from the API (listeners hear of rows with the next page or call, not one by one)."""
        self._now.rows += 1

    def expect(self, operation: str, calls: float | None, pace: Callable[[float], float]) -> None:
        """A route will make about ``calls`` calls of ``operation`` (None: it depends on data not seen yet);
        ``pace(n)`` is how many seconds ``n`` calls take at the account's current rate-limit state."""
        c = self._now
        old = c.expected.get(operation)
        if old is None:
            c.expected[operation] = _Expected(calls, pace)
        elif old.calls is not None:
            old.calls = None if calls is None else old.calls + calls

    def wait(self, seconds: float, reason: str, operation: str = "") -> None:
        """Sleep ``seconds``, ticking listeners every :data:`TICK` s; raise at once when cancelled (or on Ctrl-C)."""
        if seconds <= 0:
            return
        c = self._now
        deadline = self._clock() + seconds
        c.wait_until, c.wait_reason = deadline, reason
        if operation:
            c.operation = operation
        try:
            while True:
                self.check()
                self._emit()
                left = deadline - self._clock()
                if left <= 0:
                    return
                if self._cancel.wait(min(TICK, left)):
                    self.check()
        finally:
            c.wait_until = 0.0


__all__ = ["TICK", "Progress", "ProgressState", "Listener", "duration", "rate_text"]
