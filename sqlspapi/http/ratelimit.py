"""Client-side rate limiting: one token bucket per operation in each account's :class:`Limiter`.

SP-API throttles each operation with a token bucket per application + selling-partner pair (``rate``
tokens per second, ``burst`` tokens at most). The client mirrors it: before sending,
:meth:`TokenBucket.reserve` takes a token (or reserves the next one and says how long to wait), so a steady
scan waits instead of drawing 429s. A response's ``x-amzn-RateLimit-Limit`` header teaches the bucket the real
rate (:meth:`TokenBucket.observe_limit_header`); a 429 empties it (:meth:`TokenBucket.drain`). Each
:class:`~sqlspapi.http.runtime.AccountRuntime` (one per ``Settings.account_key``) owns one :class:`Limiter`, so
every connection to the same seller account in the process shares the buckets.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

from sqlspapi.definitions.schema import OperationSpec

#: Smallest rate accepted (requests per second); protects against a zero or absurd header value.
MIN_RATE = 1e-4


class TokenBucket:
    """A thread-safe token bucket with reservations.

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
    ) -> None:
        self._rate = max(float(rate), MIN_RATE)
        self._burst = max(int(burst), 1)
        self._clock = clock
        self._sleep = sleep
        self._tokens = float(self._burst)
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

    @property
    def tokens(self) -> float:
        """Tokens available now (negative when callers are queued)."""
        with self._lock:
            self._refill()
            return self._tokens

    def _refill(self) -> None:
        now = self._clock()
        elapsed = now - self._updated
        if elapsed > 0:
            self._tokens = min(float(self._burst), self._tokens + elapsed * self._rate)
        self._updated = now

    def reserve(self) -> float:
        """Take one token now; return the seconds the caller must wait before sending (0.0 if none)."""
        with self._lock:
            self._refill()
            self._tokens -= 1.0
            if self._tokens >= 0:
                return 0.0
            return -self._tokens / self._rate

    def acquire(self) -> float:
        """Take one token, sleeping until it is available; return the seconds waited."""
        wait = self.reserve()
        if wait > 0:
            self._sleep(wait)
        return wait

    def refund(self) -> None:
        """Give back a token taken by :meth:`reserve` for a call that was then not sent (cancelled while waiting):
        the next caller's turn comes as if the cancelled call had never queued."""
        with self._lock:
            self._refill()
            self._tokens = min(float(self._burst), self._tokens + 1.0)

    def seconds_for(self, calls: float, latency: float = 0.0) -> float:
        """About how long ``calls`` calls take from now at this bucket's state: the tokens available now go at
        once, the rest at the rate (each call also takes ``latency`` seconds to answer)."""
        if calls <= 0:
            return 0.0
        with self._lock:
            self._refill()
            tokens = self._tokens
        paced = max(0.0, calls - tokens) / self._rate
        return max(calls * latency, paced + latency)

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

    def observe_limit_header(self, value: str | None) -> bool:
        """Adopt the rate from an ``x-amzn-RateLimit-Limit`` header value; True when it changed the rate."""
        if not value:
            return False
        try:
            rate = float(str(value).split(",")[0].strip())
        except ValueError:
            return False
        if not math.isfinite(rate) or rate <= 0:
            return False
        if math.isclose(rate, self._rate, rel_tol=1e-9):
            return False
        self.set_rate(rate)
        return True

    def __repr__(self) -> str:
        return f"TokenBucket(rate={self._rate:g}/s, burst={self._burst}, tokens={self.tokens:.2f})"


class Limiter:
    """One account's buckets, one per operation name (owned by an :class:`~sqlspapi.http.runtime.AccountRuntime`)."""

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._buckets: dict[str, TokenBucket] = {}
        self._lock = threading.Lock()
        self._clock = clock
        self._sleep = sleep

    def bucket(self, op: OperationSpec) -> TokenBucket:
        """The bucket of ``op``, created (full) from the operation's published rate and burst on first use."""
        with self._lock:
            found = self._buckets.get(op.name)
            if found is None:
                found = self._buckets[op.name] = TokenBucket(op.rate, op.burst, clock=self._clock, sleep=self._sleep)
            return found

    def reset(self) -> None:
        """Forget every bucket (a new bucket starts full at the published rate)."""
        with self._lock:
            self._buckets.clear()

    def __repr__(self) -> str:
        with self._lock:
            return f"Limiter({len(self._buckets)} buckets)"


__all__ = ["MIN_RATE", "TokenBucket", "Limiter"]
