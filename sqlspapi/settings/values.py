"""The value types a :class:`~sqlspapi.settings.connstr.Settings` stores, beside plain str, int, float and bool.

:class:`Secret` (a string whose ``repr``/``str`` are ``***``), :class:`RetryPolicy` (the ``Retry*`` keys, with
:data:`RETRY_MODES` and :data:`MAX_RETRY_WAIT_MS`), :class:`ReportPolicy` (the ``Report*`` keys) and the read-only
mapping that keeps Settings hashable. They know nothing of the connection-string text: the converters
(:mod:`sqlspapi.settings.converters`) make them from it, and :mod:`sqlspapi.settings.keys` re-exports them.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["Secret", "RetryPolicy", "ReportPolicy", "RETRY_MODES", "MAX_RETRY_WAIT_MS"]


class Secret:
    """A secret string (client secret, refresh token, AWS secret key) that never shows itself.

    ``repr()``/``str()``/``format()`` give ``***``; :meth:`reveal` returns the text. Equal to another
    ``Secret`` with the same text (compared in constant time), hashable, and false when empty.
    """

    __slots__ = ("_value",)

    def __init__(self, value: str = "") -> None:
        if isinstance(value, Secret):
            value = value.reveal()
        if not isinstance(value, str):
            raise TypeError("Secret wraps a str")
        object.__setattr__(self, "_value", value)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Secret is immutable")

    def reveal(self) -> str:
        """The secret text itself: pass it to the wire, never to a log or a message."""
        return self._value

    def __repr__(self) -> str:
        return "***"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return format("***", spec)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        return hmac.compare_digest(self._value.encode("utf-8", "surrogatepass"),
                                   other._value.encode("utf-8", "surrogatepass"))

    def __hash__(self) -> int:
        return hash((Secret, self._value))

    def __bool__(self) -> bool:
        return bool(self._value)

    def __reduce__(self) -> tuple[Any, ...]:
        return (Secret, (self._value,))


RETRY_MODES = ("None", "RetryAny", "RetryWhenStatusCodeMatch")
"""Values of ``RetryMode`` (ZappySys spelling), matched case-insensitively."""

MAX_RETRY_WAIT_MS = 3_600_000
"""The longest single wait between retries (one hour): also the upper bound of ``RetryWaitTimeMs``."""


@dataclass(frozen=True)
class RetryPolicy:
    """How the client retries a failed call (``Retry*`` keys, as in the ZappySys connector).

    ``mode``: ``None`` (never), ``RetryAny`` (429, any 5xx, network failures) or ``RetryWhenStatusCodeMatch``
    (``status_codes`` and network failures); at most ``count_max`` retries; the first wait is
    ``first_wait_ms`` and doubles after each retry when ``multiply_wait``, up to :data:`MAX_RETRY_WAIT_MS`. A
    ``Retry-After`` or rate-limit header, when the client sees one, may lengthen it.
    """

    mode: str = "RetryWhenStatusCodeMatch"
    status_codes: frozenset[int] = frozenset({429, 500, 502, 503, 504})
    count_max: int = 5
    multiply_wait: bool = True
    first_wait_ms: int = 1000

    def should_retry(self, status: int | None, retries_done: int) -> bool:
        """Whether to retry after HTTP ``status`` (``None``: network error), ``retries_done`` retries in."""
        if self.mode == "None" or retries_done >= self.count_max:
            return False
        if status is None:
            return True
        if self.mode == "RetryAny":
            return status == 429 or status >= 500
        return status in self.status_codes

    def wait_ms(self, retries_done: int) -> int:
        """Milliseconds to wait before retry number ``retries_done + 1``."""
        if not self.multiply_wait:
            return min(self.first_wait_ms, MAX_RETRY_WAIT_MS)
        return min(self.first_wait_ms * (2 ** min(max(0, retries_done), 64)), MAX_RETRY_WAIT_MS)


@dataclass(frozen=True)
class ReportPolicy:
    """How report tables request, reuse, wait for and cache reports (``Report*`` keys; docs/report-tables.md).

    A DONE or running report of the same type, marketplace, options and data window created within
    ``max_age_minutes`` is reused (``disable_cache`` forces a new one); a report still running after
    ``wait_seconds`` is an error that names it, and the next identical query resumes it. Documents are kept on disk
    under ``cache_dir`` (None: the user cache directory) up to ``cache_mb`` megabytes (0: not kept).
    """

    max_age_minutes: int = 15
    disable_cache: bool = False
    wait_seconds: float = 300.0
    cache_dir: str | None = None
    cache_mb: int = 512


class _FrozenMap(Mapping[str, Any]):
    """A read-only, hashable mapping keyed by str (so :class:`~sqlspapi.settings.connstr.Settings` stays hashable)."""

    __slots__ = ("_data",)

    def __init__(self, data: Mapping[str, Any] | None = None) -> None:
        self._data = dict(data or {})

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __hash__(self) -> int:
        return hash(frozenset(self._data.items()))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Mapping):
            return dict(self.items()) == dict(other.items())
        return NotImplemented

    def __repr__(self) -> str:
        return repr(self._data)
