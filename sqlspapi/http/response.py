"""The answer of a successful SP-API call, shared by the client, the token provider and the error mapping; how a
response body becomes JSON (:func:`decode_json`); and when a success answer is a whole one.

A 2xx answer is accepted only when it is complete, well-formed JSON (:func:`describe_body` names what it was
instead: an empty body, an HTML page, bytes that are not JSON, JSON cut short) and, when the caller says what the
operation answers (an :class:`Envelope`, built by the route from its definition), when the documented objects are
there: a ``{}`` or a page without its rows array is not "zero rows". The client turns any other answer into a
retried, then reported, ``IncompleteResponse`` fault (:func:`sqlspapi.http.apierrors.incomplete_error`).
:func:`broken_off` tells an answer that began and broke off (a transient fault) from a connection that could not be
made (a configuration or network problem).
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import requests
import urllib3

try:  # a core dependency; pure-Python json keeps working where no orjson wheel exists
    import orjson
except ImportError:  # pragma: no cover - orjson is installed with sqlspapi
    orjson = None  # type: ignore[assignment]


@dataclass(frozen=True)
class ApiResponse:
    """A successful SP-API answer: status, decoded JSON (None only for an empty 204/205 answer), headers, request id."""

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


#: JSON null and a missing key are the same to an envelope check.
_ABSENT: Any = object()


def _kind(value: Any) -> str:
    """The JSON kind of a decoded value, for messages ("a string", "an array")."""
    if isinstance(value, Mapping):
        return "an empty object" if not value else "an object"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    return "null"


def _at(body: Any, path: str) -> tuple[Any, str | None]:
    """The value at dotted ``path`` of ``body`` (``_ABSENT`` when missing or null) and, when a step on the way is not
    an object, a text saying which ("payload is a string, not an object"). ``""`` is the body itself."""
    if not path:
        return body, None
    obj = body
    walked = "the body"
    for step in path.split("."):
        if not isinstance(obj, Mapping):
            return _ABSENT, f"{walked} is {_kind(obj)}, not an object"
        obj = obj.get(step)
        if obj is None:
            return _ABSENT, None
        walked = step if walked == "the body" else f"{walked}.{step}"
    return obj, None


@dataclass(frozen=True)
class Envelope:
    """What a whole success answer of one operation holds: the shape its route's definition documents.

    ``rows``: dotted path of the rows (an array of objects, or one object; ``""`` is the body itself; None: no
    rows expected). A missing rows array is an incomplete answer, unless ``rows_optional`` (the API is known to
    omit empty arrays: the definition key ``empty_rows_omitted``) — and even then not beside a next token.
    ``next_token``: where the next-page token is; when present it must be a string. ``row``: dotted path of the one
    object a get answers (``""``: the body), present and not empty. ``required``: other dotted paths that must be
    present (a document job's id, its status, the download URL).
    """

    rows: str | None = None
    rows_optional: bool = False
    next_token: str | None = None
    row: str | None = None
    required: tuple[str, ...] = ()

    def problem(self, body: Any) -> str | None:
        """What keeps ``body`` (decoded JSON) from being a whole answer, or None when it is one."""
        has_token = False
        if self.next_token:
            token, bad = _at(body, self.next_token)
            if bad:
                return bad
            if token is not _ABSENT and not isinstance(token, str):
                return f"its next token ({self.next_token}) is {_kind(token)}, not a string"
            has_token = token is not _ABSENT and token != ""
        if self.rows is not None:
            problem = self._rows_problem(body, has_token)
            if problem:
                return problem
        if self.row is not None:
            obj, bad = _at(body, self.row)
            if bad:
                return bad
            if not isinstance(obj, Mapping) or not obj:
                where = self.row or "the body"
                return f"no {where} object" if obj is _ABSENT else f"{where} is {_kind(obj)}"
        for path in self.required:
            value, bad = _at(body, path)
            if bad or value is _ABSENT:
                return bad or f"no {path}"
        return None

    def _rows_problem(self, body: Any, has_token: bool) -> str | None:
        assert self.rows is not None
        where = self.rows or "the body"
        rows, bad = _at(body, self.rows)
        if bad:
            return bad
        if rows is _ABSENT:
            if has_token:
                return f"no {where} array, yet a next token"
            return None if self.rows_optional else f"no {where} array"
        if isinstance(rows, list):
            if not all(isinstance(r, Mapping) and r for r in rows):
                return f"{where} holds {_kind(next(r for r in rows if not (isinstance(r, Mapping) and r)))}, " \
                       "not a row object"
            return None
        if isinstance(rows, Mapping) and rows:
            return None
        return f"{where} is {_kind(rows)}, not an array of objects"


#: Longest piece of a bad body quoted in a message.
_QUOTE = 60


def describe_body(body: bytes, content_type: str | None = None, clean: Callable[[str], str] | None = None) -> str:
    """What a success body that is not whole JSON is, for an error message (a short, printable quote of it).

    ``clean`` (e.g. :func:`sqlspapi.http.apierrors.scrub` of the request's secrets) is applied to the whole text
    before a piece of it is quoted, so that a quote never ends in the middle of a secret it could not recognise.
    """
    if not body:
        return "an empty body"
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return f"{len(body):,} bytes that are not JSON text (starting {bytes(body[:12])!r})"
    stripped = (clean(text) if clean is not None else text).strip()
    head = stripped.lower()[:200]
    if (content_type and "html" in content_type.lower()) or head.startswith("<"):
        title = ""
        start = head.find("<title>")
        if start >= 0:
            end = head.find("</title>", start)
            title = stripped[start + 7:end if end > start else start + 7 + _QUOTE].strip()[:_QUOTE]
        return f"an HTML page{f' ({title!r})' if title else ''} instead of JSON"
    if stripped[:1] in ("{", "["):
        tail = _printable(stripped[-_QUOTE // 2:])
        return f"{len(body):,} bytes of JSON cut short or malformed (ending {tail!r})"
    return f"{len(body):,} bytes that are not JSON (starting {_printable(stripped[:_QUOTE // 2])!r})"


def is_html(body: bytes, content_type: str | None = None) -> bool:
    """Whether an answer is an HTML page (its content type says so, or its text starts with ``<``)."""
    return bool(content_type and "html" in content_type.lower()) or body.lstrip()[:1] == b"<"


def broken_off(exc: BaseException) -> str | None:
    """What a ``requests`` exception says about an answer that began and broke off, or None when it is not one.

    An answer broke off when the connection was made and then closed or reset before the whole answer arrived
    (mid-body, or before the status line), or its body did not decode: a network fault that a retry usually cures.
    None for a connection that could not be made (refused, no name resolution, connect timeout, proxy or TLS
    failure) and for a read timeout: those are not incomplete answers.
    """
    if isinstance(exc, requests.exceptions.ChunkedEncodingError):
        return "the connection closed before the whole body arrived"
    if isinstance(exc, requests.exceptions.ContentDecodingError):
        return "a body that does not decode as its Content-Encoding says"
    if not isinstance(exc, requests.ConnectionError) or isinstance(
            exc, requests.exceptions.ConnectTimeout | requests.exceptions.ProxyError | requests.exceptions.SSLError):
        return None
    inner = exc.args[0] if exc.args else None
    if isinstance(inner, urllib3.exceptions.ReadTimeoutError):
        return "the body stopped arriving (read timeout)"
    if isinstance(inner, urllib3.exceptions.ProtocolError):
        cause = inner.args[1] if len(inner.args) > 1 and isinstance(inner.args[1], BaseException) else inner
        return f"the connection closed before an answer arrived ({type(cause).__name__})"
    return None


def _printable(text: str) -> str:
    return "".join(ch if ch.isprintable() and ch != "\ufffd" else "?" for ch in text)


__all__ = ["ApiResponse", "Envelope", "decode_json", "describe_body", "is_html", "broken_off"]
