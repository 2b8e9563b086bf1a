"""Answer faults the emulator can inject (:meth:`sqlspapi.emulator.Emulator.fault_next`): success answers that are
not whole answers, and pages that page wrongly — what a proxy, a load balancer or a bad day at Amazon may send.

=================  ================================================================================================
kind               the answer (HTTP 200 unless the operation itself failed)
=================  ================================================================================================
``empty``          an empty body (``Content-Length: 0``)
``html``           an HTML error page (``text/html``), as a proxy or captive portal sends
``bytes``          random bytes (seeded by the emulator's seed) with a JSON content type
``truncated``      the real body cut in half, ``Content-Length`` matching the half (a whole, well-framed answer)
``cut``            the real body's ``Content-Length``, half of the body, then the connection closes
``empty_object``   ``{}``
``short_page``     the real page with fewer rows (possibly none) and a next token that continues right after them:
                   paging stays correct, only pages are shorter than asked (applies to pages that have a next token)
``bad_token``      the real page with its next token replaced by one the emulator never issued (following it gives
                   400 InvalidInput)
``repeat_token``   the real page with the next token its own request carried: a paging loop (applies to pages
                   requested with a token that have a next token)
=================  ================================================================================================

A kind that does not apply to an answer (``short_page`` on a last page, any kind on an error answer) leaves it as it
is. :func:`garble` applies a kind to an operation's answer.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlspapi.emulator.common import EncodedList, decode_token, encode_json, encode_token

#: The fault kinds and what each answers (the module docstring has the table).
FAULT_KINDS: Mapping[str, str] = {
    "empty": "HTTP 200 with an empty body",
    "html": "HTTP 200 with an HTML error page",
    "bytes": "HTTP 200 with random bytes",
    "truncated": "HTTP 200 with the body cut in half and a Content-Length matching the half",
    "cut": "HTTP 200 announcing the whole body, sending half, then closing the connection",
    "empty_object": "HTTP 200 with {}",
    "short_page": "a page with fewer rows and a next token that continues after them",
    "bad_token": "a page whose next token the emulator never issued",
    "repeat_token": "a page whose next token is the one its request carried",
}

#: Where a paged answer carries its next token (Orders v0 and Finances; the 2020+ APIs; Reports and Feeds).
TOKEN_PATHS = (("payload", "NextToken"), ("pagination", "nextToken"), ("payload", "pagination", "nextToken"),
               ("payload", "nextToken"), ("nextToken",))
#: Query parameters a request sends its page token in.
TOKEN_PARAMS = ("NextToken", "nextToken", "paginationToken", "pageToken")

HTML_PAGE = (b"<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head>\n<body><h1>502 Bad Gateway</h1>"
             b"<p>The proxy server received an invalid response from an upstream server.</p></body></html>\n")
#: A next token no emulator operation issued (valid base64 of text that is not a token's JSON).
BAD_TOKEN = "bm90LWEtcGFnaW5nLXRva2Vu"


@dataclass(frozen=True)
class RawAnswer:
    """An answer body sent exactly as given: ``length`` is the Content-Length announced (None: the body's own),
    ``close`` ends the connection after it (with a longer ``length``: a body cut off in transit)."""

    data: bytes
    content_type: str = "application/json; charset=utf-8"
    length: int | None = None
    close: bool = False


def garble(kind: str, answer: Any, query: Mapping[str, str], rng: random.Random) -> Any:
    """``answer`` (an operation's successful JSON answer) as fault ``kind`` sends it: a JSON value or a
    :class:`RawAnswer`."""
    if kind == "empty":
        return RawAnswer(b"")
    if kind == "html":
        return RawAnswer(HTML_PAGE, content_type="text/html; charset=utf-8")
    if kind == "bytes":
        return RawAnswer(rng.randbytes(rng.randrange(32, 512)))
    if kind == "empty_object":
        return {}
    if kind in ("truncated", "cut"):
        data = encode_json(answer)
        half = data[:len(data) // 2]
        return RawAnswer(half) if kind == "truncated" else RawAnswer(half, length=len(data), close=True)
    found = _token_path(answer)
    if found is None:
        return answer  # a last page (or no paging): nothing to page wrongly
    if kind == "bad_token":
        return _replace(answer, found, BAD_TOKEN)
    if kind == "repeat_token":
        sent = next((query[p] for p in TOKEN_PARAMS if query.get(p)), None)
        return answer if sent is None else _replace(answer, found, sent)
    if kind == "short_page":
        return _short_page(answer, found, rng)
    raise ValueError(f"unknown fault kind {kind!r}; known: {', '.join(FAULT_KINDS)}")


def _token_path(answer: Any) -> tuple[str, ...] | None:
    """Where ``answer`` holds a next token, or None when it has none."""
    for path in TOKEN_PATHS:
        value: Any = answer
        for step in path:
            value = value.get(step) if isinstance(value, Mapping) else None
        if isinstance(value, str) and value:
            return path
    return None


def _rows_key(answer: Mapping[str, Any]) -> tuple[str, ...] | None:
    """Where the page's rows are: the first array of the payload (v0 envelopes) or of the answer itself."""
    payload = answer.get("payload")
    container, prefix = (payload, ("payload",)) if isinstance(payload, Mapping) else (answer, ())
    key = next((k for k, v in container.items() if isinstance(v, list)), None)
    return None if key is None else (*prefix, key)


def _short_page(answer: Any, token_path: tuple[str, ...], rng: random.Random) -> Any:
    """The page with its first k < n rows, and its next token moved back by the n - k rows left out."""
    rows_path = _rows_key(answer)
    if rows_path is None:
        return answer
    rows: list[Any] = _get(answer, rows_path)
    if not rows:
        return answer
    keep = rng.randrange(0, len(rows))
    token: str = _get(answer, token_path)
    state = decode_token(token, "nextToken")
    state["o"] = int(state["o"]) - (len(rows) - keep)
    shorter = EncodedList(rows[:keep]) if isinstance(rows, EncodedList) else rows[:keep]
    return _replace(_replace(answer, rows_path, shorter), token_path, encode_token(state))


def _get(answer: Any, path: tuple[str, ...]) -> Any:
    for step in path:
        answer = answer[step]
    return answer


def _replace(answer: Mapping[str, Any], path: tuple[str, ...], value: Any) -> dict[str, Any]:
    """A copy of ``answer`` with ``value`` at ``path`` (the objects on the way copied, the answer left unchanged)."""
    out = dict(answer)
    head, *rest = path
    out[head] = _replace(out[head], tuple(rest), value) if rest else value
    return out


__all__ = ["FAULT_KINDS", "TOKEN_PATHS", "TOKEN_PARAMS", "BAD_TOKEN", "RawAnswer", "garble"]
