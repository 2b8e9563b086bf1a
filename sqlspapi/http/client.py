"""The HTTP client: one ``requests.Session`` per ``Client``, rate limiting, retries, error mapping, call log.

``Client.call(op, path=..., query=..., body=..., rdt=...)`` sends one SP-API operation and returns an
:class:`ApiResponse`. Before sending it waits for the process-wide token bucket of (account, operation)
(:mod:`sqlspapi.http.ratelimit`); it retries per ``Settings.retry``; a token the API calls expired is refreshed once
(:mod:`sqlspapi.http.tokens`); SP-API error bodies become :class:`~sqlspapi.errors.SPAPIError` (or
:class:`~sqlspapi.errors.ThrottledError`) carrying code, message, details, status, request id and operation
(:mod:`sqlspapi.http.apierrors`). Identical GET calls in flight at the same time in the process are sent once
(single flight, :mod:`sqlspapi.http.flight`).
Long waits (> 2 s) are shown on a TTY stderr, otherwise logged at INFO on ``sqlspapi.http.client``.
"""

from __future__ import annotations

import logging
import platform
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.structures import CaseInsensitiveDict

from sqlspapi import __version__
from sqlspapi.definitions.schema import OperationSpec, RestrictedResource
from sqlspapi.errors import OperationalError
from sqlspapi.http import apierrors
from sqlspapi.http import flight as flights
from sqlspapi.http import tokens as auth
from sqlspapi.http.calllog import CallLog, CallRecord
from sqlspapi.http.ratelimit import LIMITER, TokenBucket

log = logging.getLogger("sqlspapi.http.client")

USER_AGENT = f"sqlspapi/{__version__} (Language=Python/{platform.python_version()})"
#: Waits longer than this (seconds) are announced on stderr (TTY) or logged at INFO.
VISIBLE_WAIT = 2.0


@dataclass(frozen=True)
class ApiResponse:
    """A successful SP-API answer: status, decoded JSON (None if empty/not JSON), headers, request id."""

    status: int
    json: Any
    headers: Mapping[str, str] = field(repr=False)
    request_id: str | None = None


# ------------------------------------------------------------------------------------------- retry policy


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


# ------------------------------------------------------------------------------------------ query encoding


def _encode_query(query: Mapping[str, Any] | None) -> dict[str, str]:
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


# ------------------------------------------------------------------------------------------------- client


class Client:
    """SP-API client for one seller account (``Settings``); safe to share between threads."""

    def __init__(self, settings: Any, *, session: requests.Session | None = None) -> None:
        self.settings = settings
        if session is None:
            session = requests.Session()
            adapter = requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=32)
            session.mount("https://", adapter)
            session.mount("http://", adapter)
        self.session = session
        self.calls = CallLog()
        self.limiter = LIMITER
        #: Seconds a completed GET answer stays shareable with other callers of this account (0 = only calls
        #: in flight at the same moment are shared). The bridge server sets it so that dashboards refreshing
        #: together cost one client's calls; the shell and DB-API keep 0 (every statement sees fresh data).
        self.share_window = 0.0

    def __repr__(self) -> str:
        return f"Client(endpoint={self.settings.endpoint!r}, client_id={self.settings.client_id!r})"

    def close(self) -> None:
        """Close the HTTP session (cached tokens stay in the process-wide cache)."""
        self.session.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- helpers -----------------------------------------------------------------------------------------

    def bucket(self, op: OperationSpec) -> TokenBucket:
        """The process-wide rate-limit bucket of ``op`` for this account."""
        return self.limiter.bucket(self.settings.account_key, op)

    def access_token(self) -> str:
        """The current LWA access token (fetched or refreshed as needed). Never print it."""
        return auth.get_access_token(self.settings, self.session)

    def _wait(self, seconds: float, what: str) -> None:
        """Sleep, announcing long waits (TTY stderr progress line, else an INFO log record)."""
        if seconds <= 0:
            return
        if seconds > VISIBLE_WAIT:
            text = f"[sqlspapi] waiting {seconds:.1f} s for {what}…"
            stream = sys.stderr
            tty = False
            try:
                tty = stream is not None and stream.isatty()
            except (AttributeError, ValueError):
                tty = False
            if tty:
                stream.write("\r" + text)
                stream.flush()
                time.sleep(seconds)
                stream.write("\r" + " " * len(text) + "\r")
                stream.flush()
                return
            log.info("waiting %.1f s for %s", seconds, what)
        time.sleep(seconds)

    # -- the call ----------------------------------------------------------------------------------------

    def call(
        self,
        op: OperationSpec,
        *,
        path: Mapping[str, Any] | None = None,
        query: Mapping[str, Any] | None = None,
        body: Any = None,
        rdt: RestrictedResource | None = None,
    ) -> ApiResponse:
        """Send ``op`` and return its answer; raise SPAPIError/ThrottledError/OperationalError/AuthError."""
        method = op.method.upper()
        rel_path = op.format_path({k: str(v) for k, v in (path or {}).items()})
        url = self.settings.endpoint.rstrip("/") + rel_path
        params = _encode_query(query)
        if method != "GET":
            return self._send(op, method, url, rel_path, params, body, rdt)
        flight_key = (self.settings.account_key, method, url, tuple(sorted(params.items())),
                      ("rdt", rdt) if rdt is not None else ("lwa",))
        window = self.share_window
        flight, leader = flights.join(flight_key, window)
        if leader:
            return flights.lead(flight_key, flight, window,
                                lambda: self._send(op, method, url, rel_path, params, body, rdt))
        started = time.time()
        t0 = time.monotonic()
        flight.done.wait()
        result: ApiResponse | None = flight.result
        if result is None and flight.error is None:
            # The leader was interrupted (KeyboardInterrupt, SystemExit): send this call ourselves.
            return self._send(op, method, url, rel_path, params, body, rdt)
        self.calls.append(CallRecord(
            operation=op.name, method=method, path=rel_path, params=dict(params),
            status=result.status if result is not None else flight.status, started=started,
            elapsed=time.monotonic() - t0, throttle_wait=0.0,
            request_id=result.request_id if result is not None else getattr(flight.error, "request_id", None),
            shared=True, attempts=0,
        ))
        if flight.error is not None:
            raise flight.error
        assert result is not None
        return result

    def _token_for(self, rdt: RestrictedResource | None) -> str:
        if rdt is None:
            return auth.get_access_token(self.settings, self.session)
        return auth.get_rdt(self, [rdt])

    def _send(self, op: OperationSpec, method: str, url: str, rel_path: str, params: dict[str, str],
              body: Any, rdt: RestrictedResource | None) -> ApiResponse:
        settings = self.settings
        policy = settings.retry
        bucket = self.bucket(op)
        started = time.time()
        t0 = time.monotonic()
        throttle_wait = 0.0
        retry_wait = 0.0
        retries = 0
        attempts = 0
        refreshed = False
        status = 0
        request_id: str | None = None
        timeout = float(getattr(settings, "timeout", 60.0) or 60.0)

        def record() -> None:
            self.calls.append(CallRecord(
                operation=op.name, method=method, path=rel_path, params=dict(params), status=status,
                started=started, elapsed=time.monotonic() - t0, throttle_wait=throttle_wait,
                request_id=request_id, shared=False, attempts=attempts, retry_wait=retry_wait,
            ))

        try:
            while True:
                token = self._token_for(rdt)
                wait = bucket.reserve()
                if wait > 0:
                    # Send a little after our bucket allows it: the server's bucket started a moment later
                    # than ours (its clock starts at the first request's arrival), so exactly-on-time sends
                    # would draw 429s. The slack is not cumulative: throughput stays at the bucket's rate.
                    wait += min(0.1, 0.5 / bucket.rate)
                    self._wait(wait, f"{op.name} rate limit")
                    throttle_wait += wait
                    token = self._token_for(rdt)
                headers = {
                    "x-amz-access-token": token,
                    "x-amz-date": datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ"),
                    "user-agent": USER_AGENT,
                    "accept": "application/json",
                }
                if body is not None:
                    headers["content-type"] = "application/json"
                attempts += 1
                try:
                    resp = self.session.request(method, url, params=params or None,
                                                json=body if body is not None else None,
                                                headers=headers, timeout=timeout)
                except (requests.ConnectionError, requests.Timeout) as exc:
                    status = 0
                    # A read timeout on a non-GET may have been executed: only connection failures are
                    # retried for writes.
                    safe = method == "GET" or not isinstance(exc, requests.ReadTimeout)
                    if safe and retry_allows(policy, None, retries):
                        delay = backoff_seconds(policy, retries)
                        retries += 1
                        log.info("%s: cannot reach %s (%s); retry %d", op.name, _host(url),
                                 type(exc).__name__, retries)
                        self._wait(delay, f"retry {retries} of {op.name} (connection error)")
                        retry_wait += delay
                        continue
                    raise OperationalError(
                        f"{op.name} failed: cannot reach SP-API endpoint {settings.endpoint} "
                        f"({type(exc).__name__}{f', {attempts} attempts' if attempts > 1 else ''}); "
                        "check the network or proxy, and the Endpoint/Region keys."
                    ) from None
                except requests.RequestException as exc:
                    status = 0
                    raise OperationalError(
                        f"{op.name} failed: request to {settings.endpoint} could not be sent "
                        f"({type(exc).__name__})."
                    ) from None

                status = resp.status_code
                resp_headers = resp.headers
                request_id = resp_headers.get("x-amzn-RequestId") or resp_headers.get("x-amz-request-id")
                limit = resp_headers.get("x-amzn-RateLimit-Limit")
                if limit:
                    bucket.observe_limit_header(limit)
                payload = _decode(resp)
                log.debug("%s %s %s -> %d (%.3f s, request id %s)", op.name, method, rel_path, status,
                          resp.elapsed.total_seconds() if resp.elapsed else 0.0, request_id)

                if 200 <= status < 300:
                    body_error = apierrors.success_body_error(op, status, payload, request_id)
                    if body_error is not None:
                        raise body_error
                    return ApiResponse(status, payload, CaseInsensitiveDict(resp_headers), request_id)

                if not refreshed and apierrors.is_token_problem(status, payload, resp_headers):
                    refreshed = True
                    if rdt is None:
                        auth.invalidate(settings, token)
                    else:
                        auth.invalidate_rdt(self, [rdt], token)
                    log.info("%s: HTTP %d, access token refused; refreshing it once", op.name, status)
                    continue

                if status == 429:
                    bucket.drain()
                if retry_allows(policy, status, retries):
                    delay = backoff_seconds(policy, retries)
                    retry_after = _retry_after(resp_headers)
                    if retry_after is not None:
                        delay = max(delay, retry_after)
                    retries += 1
                    self._wait(delay, f"retry {retries} of {op.name} (HTTP {status})")
                    retry_wait += delay
                    continue
                raise apierrors.api_error(op, status, payload, resp, request_id, retries, settings)
        finally:
            record()

    def download(self, url: str, *, timeout: float | None = None) -> requests.Response:
        """GET a pre-signed URL (e.g. a report document) with this session: no SP-API token, no limiter.

        Connection errors are retried per ``Settings.retry``; non-2xx answers raise OperationalError.
        """
        policy = self.settings.retry
        retries = 0
        timeout = timeout or float(getattr(self.settings, "timeout", 60.0) or 60.0)
        while True:
            try:
                resp = self.session.get(url, timeout=timeout, headers={"user-agent": USER_AGENT})
            except (requests.ConnectionError, requests.Timeout) as exc:
                if retry_allows(policy, None, retries):
                    delay = backoff_seconds(policy, retries)
                    retries += 1
                    self._wait(delay, f"retry {retries} of download from {_host(url)}")
                    continue
                raise OperationalError(f"download from {_host(url)} failed ({type(exc).__name__})") from None
            if resp.status_code >= 500 and retry_allows(policy, resp.status_code, retries):
                delay = backoff_seconds(policy, retries)
                retries += 1
                self._wait(delay, f"retry {retries} of download from {_host(url)}")
                continue
            if not 200 <= resp.status_code < 300:
                raise OperationalError(f"download from {_host(url)} failed (HTTP {resp.status_code})")
            return resp


def _host(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _decode(resp: requests.Response) -> Any:
    if not resp.content:
        return None
    try:
        return resp.json()
    except ValueError:
        return None


def _retry_after(headers: Mapping[str, str]) -> float | None:
    value = headers.get("Retry-After")
    if not value:
        return None
    try:
        return min(max(float(value), 0.0), 300.0)
    except ValueError:
        return None


__all__ = ["ApiResponse", "Client", "USER_AGENT", "retry_allows", "backoff_seconds", "CallLog", "CallRecord"]
