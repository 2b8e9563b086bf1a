"""Client-side rate limiting: one token bucket per operation in each account's :class:`Limiter`.

SP-API throttles each operation with a token bucket per application + selling-partner pair (``rate``
tokens per second, ``burst`` tokens at most). The client mirrors it: before sending,
:meth:`TokenBucket.reserve` takes a token (or reserves the next one and says how long to wait), so a steady
scan waits instead of drawing 429s. A response's ``x-amzn-RateLimit-Limit`` header teaches the bucket the real
rate (:meth:`TokenBucket.observe_limit_header`); a 429 empties it (:meth:`TokenBucket.drain`). Each
:class:`~sqlspapi.http.runtime.AccountRuntime` (one per ``Settings.account_key``) owns one :class:`Limiter`, so
every connection to the same seller account in the process shares the buckets.

With a shared store (``RateLimitStore``: :mod:`sqlspapi.http.bucketstore`) the :class:`Limiter` hands out
:class:`~sqlspapi.http.bucketstore.SharedBucket` objects instead, whose state is a row of a SQLite file every
process on the machine uses: the same interface (:class:`Bucket`), the same arithmetic (:func:`refilled`,
:func:`wait_for`).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from sqlspapi.definitions.schema import OperationSpec

#: Smallest rate accepted (requests per second); protects against a zero or absurd header value.
MIN_RATE = 1e-4


def refilled(tokens: float, burst: float, rate: float, elapsed: float) -> float:
    """``tokens`` after ``elapsed`` seconds of refill at ``rate``, at most ``burst`` (a negative elapsed time, a clock
    set back, adds nothing)."""
    if elapsed > 0:
        return min(float(burst), tokens + elapsed * rate)
    return tokens


def wait_for(tokens: float, rate: float) -> float:
    """Seconds until the caller who left the bucket at ``tokens`` (negative: callers queued) may send."""
    return 0.0 if tokens >= 0 else -tokens / rate


def limit_header_rate(value: str | None) -> float | None:
    """The rate an ``x-amzn-RateLimit-Limit`` header value states, or None when it states no usable rate."""
    if not value:
        return None
    try:
        rate = float(str(value).split(",")[0].strip())
    except ValueError:
        return None
    if not math.isfinite(rate) or rate <= 0:
        return None
    return rate


class Bucket:
    """What every rate-limit bucket offers (the in-process :class:`TokenBucket`, the shared
    :class:`~sqlspapi.http.bucketstore.SharedBucket`): subclasses implement ``rate``, ``burst``, ``tokens``,
    :meth:`reserve`, :meth:`refund`, :meth:`drain`, :meth:`set_rate`, :meth:`_now` and :meth:`_known_rate`."""

    _sleep: Callable[[float], None]

    @property
    def rate(self) -> float:
        """Current refill rate in tokens (requests) per second."""
        raise NotImplementedError

    @property
    def burst(self) -> int:
        """Bucket capacity."""
        raise NotImplementedError

    @property
    def tokens(self) -> float:
        """Tokens available now (negative when callers are queued)."""
        return self._now()[0]

    def _now(self) -> tuple[float, float]:
        """(tokens, rate) now, read together."""
        raise NotImplementedError

    def _known_rate(self) -> float:
        """The rate as last seen, without looking again (what a rate-limit header is compared with)."""
        raise NotImplementedError

    def reserve(self) -> float:
        """Take one token now; return the seconds the caller must wait before sending (0.0 if none)."""
        raise NotImplementedError

    def refund(self) -> None:
        """Give back a token taken by :meth:`reserve` for a call that was then not sent (cancelled while waiting):
        the next caller's turn comes as if the cancelled call had never queued."""
        raise NotImplementedError

    def drain(self) -> None:
        """Empty the bucket (after a 429: the server's bucket is empty, so the next call waits a refill)."""
        raise NotImplementedError

    def set_rate(self, rate: float) -> None:
        """Change the refill rate; tokens earned so far are kept, the burst is unchanged."""
        raise NotImplementedError

    def acquire(self) -> float:
        """Take one token, sleeping until it is available; return the seconds waited."""
        wait = self.reserve()
        if wait > 0:
            self._sleep(wait)
        return wait

    def seconds_for(self, calls: float, latency: float = 0.0) -> float:
        """About how long ``calls`` calls take from now at this bucket's state: the tokens available now go at
        once, the rest at the rate (each call also takes ``latency`` seconds to answer)."""
        if calls <= 0:
            return 0.0
        tokens, rate = self._now()
        paced = max(0.0, calls - tokens) / rate
        return max(calls * latency, paced + latency)

    def observe_limit_header(self, value: str | None) -> bool:
        """Adopt the rate from an ``x-amzn-RateLimit-Limit`` header value; True when it changed the rate."""
        rate = limit_header_rate(value)
        if rate is None or math.isclose(rate, self._known_rate(), rel_tol=1e-9):
            return False
        self.set_rate(rate)
        return True


class TokenBucket(Bucket):
    """A thread-safe token bucket with reservations, in this process's memory.

    ``tokens`` may go negative: each negative unit is a caller already promised the next refill, which keeps
    concurrent callers in order without holding the lock while sleeping. ``clock`` and ``sleep`` are
    injectable for tests (a fake clock whose ``sleep`` advances it).
    """

    def __init__(
        self,
        rate: float,
        burst: int,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        tokens: float | None = None,
    ) -> None:
        self._rate = max(float(rate), MIN_RATE)
        self._burst = max(int(burst), 1)
        self._clock = clock
        self._sleep = sleep
        self._tokens = float(self._burst) if tokens is None else min(float(tokens), float(self._burst))
        self._updated = clock()
        self._lock = threading.Lock()

    @property
    def rate(self) -> float:
        """Current refill rate in tokens (requests) per second."""
        return self._rate

    @property
    def burst(self) -> int:
        """Bucket capacity."""
        return self._burst

    def _known_rate(self) -> float:
        return self._rate

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = refilled(self._tokens, self._burst, self._rate, now - self._updated)
        self._updated = now

    def _now(self) -> tuple[float, float]:
        with self._lock:
            self._refill()
            return self._tokens, self._rate

    def reserve(self) -> float:
        """Take one token now; return the seconds the caller must wait before sending (0.0 if none)."""
        with self._lock:
            self._refill()
            self._tokens -= 1.0
            return wait_for(self._tokens, self._rate)

    def refund(self) -> None:
        """Give back a token taken by :meth:`reserve` for a call that was then not sent (cancelled while waiting):
        the next caller's turn comes as if the cancelled call had never queued."""
        with self._lock:
            self._refill()
            self._tokens = min(float(self._burst), self._tokens + 1.0)

    def drain(self) -> None:
        """Empty the bucket (after a 429: the server's bucket is empty, so the next call waits a refill)."""
        with self._lock:
            self._refill()
            self._tokens = min(self._tokens, 0.0)

    def set_rate(self, rate: float) -> None:
        """Change the refill rate; tokens earned so far are kept, the burst is unchanged."""
        if not math.isfinite(rate) or rate <= 0:
            return
        with self._lock:
            self._refill()
            self._rate = max(float(rate), MIN_RATE)

    def __repr__(self) -> str:
        return f"TokenBucket(rate={self._rate:g}/s, burst={self._burst}, tokens={self.tokens:.2f})"


class BucketSource(Protocol):
    """Where shared buckets live (:class:`~sqlspapi.http.bucketstore.BucketStore`): what a :class:`Limiter` asks of
    it."""

    path: Path

    def bucket(self, account: str, operation: str, rate: float, burst: int, *,
               sleep: Callable[[float], None] = ...) -> Bucket:
        """The shared bucket of (``account``, ``operation``), created full at ``rate``/``burst`` when new."""

    def forget(self, account: str) -> int:
        """Delete the account's buckets; how many there were."""


class Limiter:
    """One account's buckets, one per operation name (owned by an :class:`~sqlspapi.http.runtime.AccountRuntime`).

    Without a ``store`` the buckets are :class:`TokenBucket` objects in this process; with one
    (:class:`~sqlspapi.http.bucketstore.BucketStore`) they are rows of ``account`` in the shared file, so every
    process of the machine draws from the same buckets.
    """

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        store: BucketSource | None = None,
        account: str = "",
    ) -> None:
        self._buckets: dict[str, Bucket] = {}
        self._lock = threading.Lock()
        self._clock = clock
        self._sleep = sleep
        #: The shared store the buckets live in, or None (this process only).
        self.store = store
        self._account = account

    def bucket(self, op: OperationSpec) -> Bucket:
        """The bucket of ``op``; a new one starts full at the operation's published rate and burst (a shared one
        already in the store keeps its state and the rate learned by any process)."""
        with self._lock:
            found = self._buckets.get(op.name)
            if found is None:
                if self.store is not None:
                    found = self.store.bucket(self._account, op.name, op.rate, op.burst, sleep=self._sleep)
                else:
                    found = TokenBucket(op.rate, op.burst, clock=self._clock, sleep=self._sleep)
                self._buckets[op.name] = found
            return found

    def reset(self) -> None:
        """Forget every bucket (a new bucket starts full at the published rate); with a store, the account's rows
        in it too (for every process)."""
        with self._lock:
            self._buckets.clear()
            if self.store is not None:
                self.store.forget(self._account)

    def __repr__(self) -> str:
        with self._lock:
            where = f", shared in {self.store.path}" if self.store is not None else ""
            return f"Limiter({len(self._buckets)} buckets{where})"


__all__ = ["MIN_RATE", "Bucket", "BucketSource", "TokenBucket", "Limiter", "refilled", "wait_for", "limit_header_rate"]
