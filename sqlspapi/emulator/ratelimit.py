"""Token buckets that enforce the emulated operations' usage plans.

The plans themselves come from the table definitions (``rate``/``burst`` of each ``[operations.X]``), bound to the
emulator's operation names by :mod:`sqlspapi.emulator.routes`; nothing here repeats them.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class UsagePlan:
    """An operation's published usage plan: ``rate`` requests per second refill, ``burst`` bucket size."""

    rate: float
    burst: int


def format_rate(value: float) -> str:
    """A rate as the decimal string of the ``x-amzn-RateLimit-Limit`` header (``0.0167``, ``1.67``, ``5``)."""
    text = format(Decimal(repr(round(value, 8))).normalize(), "f")
    return text


class TokenBucket:
    """A token bucket: starts full with ``burst`` tokens and gains ``rate`` tokens per second."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate = rate
        self.burst = float(burst)
        self.tokens = float(burst)
        self.stamp = time.monotonic()

    def take(self) -> bool:
        """Take one token if there is one (not thread-safe on its own: :class:`Limiter` holds the lock)."""
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False


class Limiter:
    """One token bucket per (account, operation); ``plans`` maps operation name → plan; rates × ``time_scale``."""

    def __init__(self, time_scale: float = 1.0, plans: Mapping[str, UsagePlan] | None = None) -> None:
        if time_scale <= 0:
            raise ValueError("time_scale must be > 0")
        self.time_scale = float(time_scale)
        self.plans: Mapping[str, UsagePlan] = dict(plans or {})
        self._lock = threading.Lock()
        self._buckets: dict[tuple[str, str], TokenBucket] = {}

    def rate(self, operation: str) -> float:
        """The scaled rate (requests per second) of ``operation``."""
        return self.plans[operation].rate * self.time_scale

    def header(self, operation: str) -> str:
        """The ``x-amzn-RateLimit-Limit`` header value of ``operation`` (scaled rate)."""
        return format_rate(self.rate(operation))

    def allow(self, account: str, operation: str) -> bool:
        """Consume a token for (account, operation); False means the caller must answer 429."""
        plan = self.plans[operation]
        with self._lock:
            bucket = self._buckets.get((account, operation))
            if bucket is None:
                bucket = TokenBucket(plan.rate * self.time_scale, plan.burst)
                self._buckets[(account, operation)] = bucket
            return bucket.take()

    def reset(self) -> None:
        """Refill every bucket (forget all state)."""
        with self._lock:
            self._buckets.clear()
