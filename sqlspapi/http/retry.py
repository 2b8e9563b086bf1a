"""One retry loop for every request the HTTP layer sends: SP-API calls, the LWA token grant and downloads.

:func:`run` calls an *attempt* until it returns a value (returned) or raises (propagated). An attempt that fails in
a way a retry may cure returns a :class:`Failure`; ``run`` then asks the connection string's retry policy
(``Settings.retry``, a :class:`~sqlspapi.settings.keys.RetryPolicy`) whether one more retry is allowed
(:func:`retry_allows`), waits the policy's backoff (:func:`backoff_seconds`, lengthened by a ``Retry-After``
header) and tries again, else raises the failure's error. A failure that a new token may cure (an SP-API 401/403
saying the token expired) carries a ``refresh``: ``run`` calls it once per run and retries at once, without
counting a retry. Waits are the statement's (:func:`pause` with its :class:`~sqlspapi.http.progress.Progress`: shown
live, cancellable) or, outside a statement, logged at INFO when longer than :data:`VISIBLE_WAIT` seconds.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

T = TypeVar("T")

#: Waits longer than this (seconds) are announced on stderr (TTY) or logged at INFO.
VISIBLE_WAIT = 2.0
#: Longest ``Retry-After`` honoured (seconds).
MAX_RETRY_AFTER = 300.0


def retry_allows(policy: Any, status: int | None, retries: int, *, transient: bool = False) -> bool:
    """Whether ``policy`` (a ``RetryPolicy``) allows one more retry after ``retries`` retries.

    The rule itself is ``RetryPolicy.should_retry`` (None = a connection error); ``transient`` widens
    ``RetryAny`` to an answer the caller knows is temporary (e.g. an LWA ``temporarily_unavailable``).
    """
    if policy is None:
        return False
    if transient and policy.mode == "RetryAny" and retries < policy.count_max:
        return True
    return bool(policy.should_retry(status, retries))


def backoff_seconds(policy: Any, retries: int) -> float:
    """Seconds before retry number ``retries + 1`` (``RetryPolicy.wait_ms``)."""
    return max(0.0, policy.wait_ms(retries) / 1000.0)


def retry_after(headers: Mapping[str, str]) -> float | None:
    """The ``Retry-After`` header in seconds (0 to :data:`MAX_RETRY_AFTER`), or None when absent or not a number."""
    value = headers.get("Retry-After")
    if not value:
        return None
    try:
        return min(max(float(value), 0.0), MAX_RETRY_AFTER)
    except ValueError:
        return None


def pause(seconds: float, what: str, log: logging.Logger, watch: Any = None) -> None:
    """Sleep ``seconds`` waiting for ``what``.

    With a ``watch`` (the statement's :class:`~sqlspapi.http.progress.Progress`) the wait is the statement's: its
    listeners show the countdown and a cancel stops it at once. Without one, a wait longer than
    :data:`VISIBLE_WAIT` seconds is logged at INFO on ``log``.
    """
    if seconds <= 0:
        return
    if watch is not None:
        watch.wait(seconds, what)
        return
    if seconds > VISIBLE_WAIT:
        log.info("waiting %.1f s for %s", seconds, what)
    time.sleep(seconds)


@dataclass(frozen=True)
class Failure:
    """What an attempt returns when it failed in a way a retry (or a new token) may cure.

    ``status`` is the HTTP status, None when no answer came (connection error, timeout); ``error(retries)``
    builds the exception raised when no retry is left; ``label`` names the failure in the wait announcement
    ("HTTP 503"); ``note``, when given, is logged at INFO before a retry; ``retry_after`` (seconds) lengthens
    the backoff; ``transient`` says the answer is known to be temporary (see :func:`retry_allows`);
    ``retryable`` False forbids a retry (e.g. a write whose read timed out); ``refresh`` drops the token the
    attempt used: called once per run, then the attempt is repeated at once.
    """

    status: int | None
    error: Callable[[int], BaseException]
    label: str
    note: str = ""
    retry_after: float | None = None
    transient: bool = False
    retryable: bool = True
    refresh: Callable[[], object] | None = None


@dataclass
class RetryState:
    """The progress of one :func:`run`: retries done, seconds waited for them, whether the token was refreshed.

    ``attempts`` counts requests actually sent; the attempt increments it (only it knows when a request left).
    """

    retries: int = 0
    retry_wait: float = 0.0
    refreshed: bool = False
    attempts: int = 0


def run(policy: Any, attempt: Callable[[], T | Failure], *, what: str, log: logging.Logger,
        state: RetryState | None = None, watch: Any = None) -> T:
    """Call ``attempt`` until it returns a value, retrying each :class:`Failure` as ``policy`` allows.

    ``what`` names the request in wait announcements ("retry 2 of getOrders (HTTP 503)"); ``state``, when given,
    is updated as the run goes (the client reads it to log the call, even when the run raises); ``watch`` (the
    statement's :class:`~sqlspapi.http.progress.Progress`) shows and may cancel the backoff waits.
    """
    state = state if state is not None else RetryState()
    while True:
        outcome = attempt()
        if not isinstance(outcome, Failure):
            return outcome
        if outcome.refresh is not None and not state.refreshed:
            state.refreshed = True
            outcome.refresh()
            continue
        if not outcome.retryable or not retry_allows(policy, outcome.status, state.retries,
                                                     transient=outcome.transient):
            raise outcome.error(state.retries)
        delay = backoff_seconds(policy, state.retries)
        if outcome.retry_after is not None:
            delay = max(delay, outcome.retry_after)
        state.retries += 1
        if outcome.note:
            log.info("%s; retry %d in %.1f s", outcome.note, state.retries, delay)
        pause(delay, f"retry {state.retries} of {what} ({outcome.label})", log, watch)
        state.retry_wait += delay


__all__ = ["VISIBLE_WAIT", "retry_allows", "backoff_seconds", "retry_after", "pause", "Failure", "RetryState", "run"]
