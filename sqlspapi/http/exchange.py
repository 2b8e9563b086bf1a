"""The pieces of one SP-API HTTP exchange around :class:`~sqlspapi.http.client.Client`'s call.

What a request carries (query encoding, headers, ``USER_AGENT``), the wait for the operation's rate-limit turn, the
reading of an answer's body as JSON, and the retry loop's :class:`~sqlspapi.http.retry.Failure` of an exchange that
got no answer (:func:`unreachable`) or an answer that was not whole (:func:`incomplete`).
"""

from __future__ import annotations

import logging
import platform
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import requests

from sqlspapi import __version__
from sqlspapi.definitions.schema import OperationSpec
from sqlspapi.errors import OperationalError
from sqlspapi.http import apierrors
from sqlspapi.http.progress import Progress, rate_text
from sqlspapi.http.ratelimit import Bucket
from sqlspapi.http.response import decode_json, describe_body
from sqlspapi.http.retry import Failure, pause
from sqlspapi.settings.keys import Secret

log = logging.getLogger("sqlspapi.http.client")  # the client's logger: its waits are announced as the client's

USER_AGENT = f"sqlspapi/{__version__} (Language=Python/{platform.python_version()})"


def encode_query(query: Mapping[str, Any] | None) -> dict[str, str]:
    """Query values as SP-API wants them: lists comma-joined, booleans true/false, None dropped."""
    out: dict[str, str] = {}
    for key, value in (query or {}).items():
        if value is None:
            continue
        if isinstance(value, bool):
            out[key] = "true" if value else "false"
        elif isinstance(value, (list, tuple, set, frozenset)):
            items = [v for v in value if v is not None]
            if not items:
                continue
            out[key] = ",".join(("true" if v else "false") if isinstance(v, bool) else str(v) for v in items)
        else:
            out[key] = str(value)
    return out


def await_turn(op: OperationSpec, bucket: Bucket, watch: Progress | None = None) -> float:
    """Take a token of ``op``'s bucket, waiting until it is due; return the seconds waited.

    A wait that is cancelled (Ctrl-C, :meth:`Progress.cancel`) gives the token back before raising: the call was
    not sent, so the next statement's turn comes as if it had never queued.
    """
    wait = bucket.reserve()
    if wait <= 0:
        return 0.0
    # Send a little after our bucket allows it: the server's bucket started a moment later than ours (its clock
    # starts at the first request's arrival), so exactly-on-time sends would draw 429s. The slack is not
    # cumulative: throughput stays at the bucket's rate.
    wait += min(0.1, 0.5 / bucket.rate)
    try:
        pause(wait, f"rate limit of {op.name} ({rate_text(bucket.rate)})", log, watch)
    except BaseException:
        bucket.refund()
        raise
    return wait


def unreachable(op: OperationSpec, method: str, url: str, endpoint: str, exc: requests.RequestException,
                 attempts: int) -> Failure:
    """The failure of a request that got no answer (connection error or timeout) after ``attempts`` attempts."""
    kind = type(exc).__name__
    message = (f"{op.name} failed: cannot reach SP-API endpoint {endpoint} "
               f"({kind}{f', {attempts} attempts' if attempts > 1 else ''}); "
               "check the network or proxy, and the Endpoint/Region keys.")
    return Failure(None, lambda _retries: OperationalError(message), "connection error",
                   note=f"{op.name}: cannot reach {url_host(url)} ({kind})",
                   # A read timeout on a non-GET may have been executed: only connection failures are retried
                   # for writes.
                   retryable=method == "GET" or not isinstance(exc, requests.ReadTimeout))


def url_host(url: str) -> str:
    """The scheme and host of ``url`` (what a message may name of a pre-signed URL)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def incomplete(op: OperationSpec, method: str, status: int | None, request_id: str | None, what: str) -> Failure:
    """The failure of a success answer that was not a whole answer: retried as a network failure is (for reads;
    a write that answered may have been carried out), then raised as ``IncompleteResponse``."""
    repeatable = method == "GET"
    return Failure(None, lambda retries: apierrors.incomplete_error(op, status, what, request_id, retries, repeatable),
                   "incomplete answer", note=f"{op.name}: incomplete answer ({what}) [request id {request_id}]",
                   transient=True, retryable=repeatable)


def decode(resp: requests.Response, clean: Callable[[str], str]) -> tuple[Any, str | None]:
    """The body as JSON and None, or (None, what the body is instead) when it is empty or not whole JSON.

    orjson on the raw bytes when it gives what ``resp.json()`` would (see
    :func:`~sqlspapi.http.response.decode_json`), else ``resp.json()``. ``clean`` scrubs the body's text before a
    piece of it is quoted (:func:`~sqlspapi.http.response.describe_body`).
    """
    body = resp.content
    if not body:
        return None, describe_body(body)
    try:
        return decode_json(body, resp.encoding, resp.json), None
    except ValueError:
        return None, describe_body(body, resp.headers.get("content-type"), clean)


def request_headers(token: Secret, has_body: bool) -> dict[str, str]:
    """The headers of an SP-API request carrying ``token``."""
    headers = {
        "x-amz-access-token": token.reveal(),
        "x-amz-date": datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ"),
        "user-agent": USER_AGENT,
        "accept": "application/json",
    }
    if has_body:
        headers["content-type"] = "application/json"
    return headers

__all__ = ["USER_AGENT", "await_turn", "decode", "encode_query", "incomplete", "request_headers", "unreachable",
           "url_host"]
