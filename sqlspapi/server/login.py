"""What a client that has not logged in yet may hold: :class:`LoginLimits` (the operator's caps) and
:class:`LoginThrottle` (failed logins per client address in a sliding window), both enforced by
:class:`~sqlspapi.server.app.BridgeServer` before a session exists.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["MAX_TRACKED_ADDRESSES", "LoginLimits", "LoginThrottle"]

log = logging.getLogger("sqlspapi.server")

#: client addresses the failed-login throttle remembers at most (the oldest are forgotten first)
MAX_TRACKED_ADDRESSES = 10_000


@dataclass(frozen=True)
class LoginLimits:
    """What clients that have not logged in yet may hold (docs/server-interface.md, "Limits").

    ``max_unauthenticated``: connections still in startup or login at once; one more gets FATAL 53300 after its
    startup packet (or after 2 s without one).
    ``auth_timeout``: seconds for the startup packet and the login (PostgreSQL's ``authentication_timeout``).
    ``max_failed_logins`` failed logins from one client address within ``failed_login_window`` seconds, and that
    address's next logins are refused (FATAL 53300) until the oldest of them is older than the window; 0 turns the
    throttle off. Loopback addresses count too.
    """

    max_unauthenticated: int = 64
    auth_timeout: float = 10.0
    max_failed_logins: int = 5
    failed_login_window: float = 60.0

    def __post_init__(self) -> None:
        if self.max_unauthenticated < 1:
            raise ValueError("the cap on connections still logging in must be at least 1")
        if not 0 < self.auth_timeout <= 3600:
            raise ValueError("the authentication timeout must be between 0 and 3600 seconds")
        if self.max_failed_logins < 0:
            raise ValueError("the number of failed logins before refusing an address cannot be negative")
        if not 0 < self.failed_login_window <= 86400:
            raise ValueError("the failed-login window must be between 0 and 86400 seconds")


class LoginThrottle:
    """Failed logins per client address in a sliding window: an address with ``max_failures`` failures within
    ``window`` seconds is refused until the oldest of them leaves the window. Once an address has failed, its logins
    still under way count as failures-to-be, so parallel connections cannot guess more often than sequential ones.
    A successful login forgets the address; ``max_failures`` 0 never refuses. At most
    :data:`MAX_TRACKED_ADDRESSES` addresses are remembered."""

    def __init__(self, max_failures: int, window: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.max_failures = max_failures
        self.window = window
        self.clock = clock
        self._failures: dict[str, deque[float]] = {}
        self._pending: dict[str, int] = {}

    def retry_after(self, address: str) -> float:
        """Seconds until ``address`` may try to log in again; 0 when it may now."""
        times = self._recent(address)
        if not self.max_failures or times is None or len(times) + self._pending.get(address, 0) < self.max_failures:
            return 0.0
        if len(times) < self.max_failures:  # refused for the logins it has under way: they end within seconds
            return 1.0
        return times[0] + self.window - self.clock()

    def begin(self, address: str) -> None:
        """A login attempt from ``address`` starts (end it with :meth:`end`)."""
        self._pending[address] = self._pending.get(address, 0) + 1

    def end(self, address: str, ok: bool | None) -> None:
        """The attempt ended: ``True`` logged in (its failures are forgotten), ``False`` failed (counted), ``None``
        neither (the client went away or broke the protocol)."""
        left = self._pending.get(address, 1) - 1
        if left > 0:
            self._pending[address] = left
        else:
            self._pending.pop(address, None)
        if ok:
            self._failures.pop(address, None)
        elif ok is False and self.max_failures:
            self._failed(address)

    def _failed(self, address: str) -> None:
        times = self._recent(address)
        if times is None:
            if len(self._failures) >= MAX_TRACKED_ADDRESSES:
                self._failures.pop(next(iter(self._failures)))
            times = self._failures[address] = deque(maxlen=self.max_failures)
        times.append(self.clock())
        if len(times) == self.max_failures:
            log.warning("%d failed logins from %s within %g s: its logins are refused for a while",
                        self.max_failures, address, self.window)

    def _recent(self, address: str) -> deque[float] | None:
        times = self._failures.get(address)
        if times is not None:
            while times and times[0] <= self.clock() - self.window:
                times.popleft()
            if not times:
                del self._failures[address]
                return None
        return times
