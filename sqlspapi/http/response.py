"""The answer of a successful SP-API call, shared by the client, the token provider and the error mapping, and how a
response body becomes JSON (:func:`decode_json`)."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

try:  # a core dependency; pure-Python json keeps working where no orjson wheel exists
    import orjson
except ImportError:  # pragma: no cover - orjson is installed with sqlspapi
    orjson = None  # type: ignore[assignment]


@dataclass(frozen=True)
class ApiResponse:
    """A successful SP-API answer: status, decoded JSON (None if empty/not JSON), headers, request id."""

    status: int
    json: Any
    headers: Mapping[str, str] = field(repr=False)
    request_id: str | None = None


#: Every ASCII digit → ``0``: a body whose translation holds :data:`_LONG_DIGITS` may have an integer beyond 64 bits.
_DIGITS_AS_ZERO = bytes(0x30 if 0x30 <= b <= 0x39 else b for b in range(256))
#: Integers of up to 18 digits fit in 64 bits; orjson would turn longer ones into floats, json.loads keeps them.
_LONG_DIGITS = b"0" * 19


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """The cyclic garbage collector off for the block, then back as it was.

    Decoding a large page allocates tens of thousands of containers at once; with the collector on, each 700 of them
    start a young collection, and the pages a statement keeps make the older generations large, so a scan spent about
    a fifth of its CPU collecting. Paused, the page's objects are examined once when the collector resumes. The
    decoders hold the GIL, so another thread sees the collector off only for the length of one decode.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def decode_json(body: bytes, encoding: str | None, fallback: Callable[[], Any]) -> Any:
    """``body`` decoded as JSON, by orjson when the result is the same as the standard library's, else ``fallback()``.

    ``encoding`` is the charset the response declares (``requests.Response.encoding``): orjson reads only UTF-8, so
    any other charset takes ``fallback`` (``resp.json``), as do bodies orjson refuses (NaN, lone surrogates, a BOM,
    1e400: json.loads is more lenient) and bodies that may hold an integer beyond 64 bits (a run of 19+ digits).
    orjson decodes a large searchOrders page in about half the time of json.loads, bytes in (no str round trip).
    The garbage collector is paused while decoding (:func:`_collector_paused`).
    """
    with _collector_paused():
        if orjson is not None and (encoding is None or encoding.lower().replace("_", "-") in ("utf-8", "utf8")) \
                and _LONG_DIGITS not in body.translate(_DIGITS_AS_ZERO):
            try:
                return orjson.loads(body)
            except orjson.JSONDecodeError:
                pass
        return fallback()


__all__ = ["ApiResponse", "decode_json"]
