"""The HTTP client: one ``requests.Session`` per ``Client``, rate limiting, retries, error mapping, call log.

``Client.call(op, path=..., query=..., body=..., rdt=..., expect=...)`` sends one SP-API operation and returns an
:class:`~sqlspapi.http.response.ApiResponse`. The client keeps only what is its own (session, call log,
``share_window``); what belongs to the seller account lives in its :class:`~sqlspapi.http.runtime.AccountRuntime`
(``client.runtime``, shared by every client of the account in the process): before sending, a call waits for the
account's token bucket of the operation (:mod:`sqlspapi.http.ratelimit`); identical GET calls in flight at the same
time are sent once (single flight, :mod:`sqlspapi.http.flight`). Tokens come from a :class:`TokenProvider`
(:class:`sqlspapi.http.tokens.AccountTokens` over the runtime's token store): the seller's LWA token, an RDT for a
restricted resource, or, for an operation the definition marks ``grantless``, a client-credentials token for its
LWA scope; a token the API calls expired is refreshed once. Retries follow ``Settings.retry`` through the one
retry loop of :mod:`sqlspapi.http.retry` (which also announces long waits: a TTY progress line, else INFO on
``sqlspapi.http.client``). SP-API error bodies become
:class:`~sqlspapi.errors.SPAPIError` (or :class:`~sqlspapi.errors.ThrottledError`) carrying code, message, details,
status, request id and operation (:mod:`sqlspapi.http.apierrors`). A 2xx answer is accepted only when it is whole:
complete JSON (204/205 may be empty) that, when the caller passes ``expect`` (an
:class:`~sqlspapi.http.response.Envelope`), holds what the operation documents; anything else (an empty body, an
HTML page, bytes, JSON cut short, ``{}``, a page without its rows, a connection closed mid-body — or, for a GET,
before the answer came) is a transient fault, retried as a network failure is, then raised as SPAPIError
``IncompleteResponse`` — never read as empty. No secret reaches a message (:func:`sqlspapi.http.apierrors.scrub`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

import requests
from requests.structures import CaseInsensitiveDict

from sqlspapi.definitions.schema import OperationSpec, RestrictedResource
from sqlspapi.errors import AccountSwitchError, OperationalError
from sqlspapi.http import apierrors, sigv4
from sqlspapi.http.calllog import CallLog, CallRecord
from sqlspapi.http.exchange import (
    USER_AGENT,
    await_turn,
    decode,
    encode_query,
    incomplete,
    request_headers,
    unreachable,
    url_host,
)
from sqlspapi.http.progress import TICK, Progress
from sqlspapi.http.ratelimit import Bucket
from sqlspapi.http.response import ApiResponse, Envelope, broken_off
from sqlspapi.http.retry import Failure, RetryState, retry_after, run
from sqlspapi.http.runtime import AccountRuntime, runtime_for
from sqlspapi.http.tokens import AccountTokens
from sqlspapi.settings.accounts import operation_refusal
from sqlspapi.settings.keys import Secret

log = logging.getLogger("sqlspapi.http.client")


class TokenProvider(Protocol):
    """Where the client gets the bearer tokens it sends (:class:`sqlspapi.http.tokens.AccountTokens`)."""

    def access_token(self) -> str:
        """A valid LWA access token."""
        ...

    def rdt(self, resources: Sequence[RestrictedResource]) -> str:
        """A valid Restricted Data Token for ``resources``."""
        ...

    def grantless_token(self, scope: str) -> str:
        """A valid client-credentials (grantless) access token for LWA ``scope``."""
        ...

    def invalidate_grantless(self, scope: str, token: str | None = None) -> bool:
        """Drop the grantless token of ``scope`` the API refused (only if it is still ``token``)."""
        ...

    def invalidate(self, token: str | None = None) -> bool:
        """Drop the access token the API refused (only if it is still ``token``); True if one was dropped."""
        ...

    def invalidate_rdt(self, resources: Sequence[RestrictedResource], token: str | None = None) -> bool:
        """Drop the RDT of ``resources`` the API refused (only if it is still ``token``)."""
        ...


# ------------------------------------------------------------------------------------------------- client


class Client:
    """SP-API client for one seller account (``Settings``); safe to share between threads.

    ``runtime`` defaults to the account's runtime in this process (:func:`~sqlspapi.http.runtime.runtime_for`).
    """

    def __init__(self, settings: Any, *, session: requests.Session | None = None,
                 runtime: AccountRuntime | None = None) -> None:
        self.settings = settings
        if runtime is None:
            runtime = runtime_for(settings)
        elif runtime.account_key != settings.account_key:
            raise ValueError(f"{runtime!r} belongs to another account than these settings")
        #: The account's state (tokens, rate-limit buckets, single flight, memoised facts), shared by its clients.
        self.runtime = runtime
        if session is None:
            session = requests.Session()
            adapter = requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=32)
            session.mount("https://", adapter)
            session.mount("http://", adapter)
        self.session = session
        #: The tokens this client sends; RDTs are requested through :meth:`call`.
        self.tokens: TokenProvider = AccountTokens(settings, runtime.tokens, session=session, call=self.call)
        self.calls = CallLog()
        #: SigV4 signing of SP-API requests (``SignRequests=true``, :mod:`sqlspapi.http.sigv4`), else None.
        self.signer = sigv4.signer(settings)
        #: Seconds a completed GET answer of this client stays shareable with any caller, this client included
        #: (0 = none beyond :data:`~sqlspapi.http.flight.OTHERS_WINDOW`, in which other connections of the account
        #: share it: threads running the same query a moment apart cost one thread's calls). The bridge server sets
        #: it so that dashboards refreshing together cost one client's calls; a connection's own next statement
        #: sees fresh data.
        self.share_window = 0.0

    def __repr__(self) -> str:
        return f"Client(endpoint={self.settings.endpoint!r}, client_id={self.settings.client_id!r})"

    def close(self) -> None:
        """Close the HTTP session (tokens stay in the account's runtime)."""
        self.session.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- helpers -----------------------------------------------------------------------------------------

    def bucket(self, op: OperationSpec) -> Bucket:
        """The account's rate-limit bucket of ``op`` (shared by every client of the account)."""
        return self.runtime.bucket(op)

    def access_token(self) -> str:
        """The current LWA access token (fetched or refreshed as needed). Never print it."""
        return self.tokens.access_token()

    # -- the call ----------------------------------------------------------------------------------------

    def call(
        self,
        op: OperationSpec,
        *,
        path: Mapping[str, Any] | None = None,
        query: Mapping[str, Any] | None = None,
        body: Any = None,
        rdt: RestrictedResource | None = None,
        expect: Envelope | None = None,
        watch: Progress | None = None,
        fresh: bool = False,
        caller: object | None = None,
    ) -> ApiResponse:
        """Send ``op`` and return its answer; raise SPAPIError/ThrottledError/OperationalError/AuthError.

        ``expect`` is what a whole answer of ``op`` holds (the route's rows, row or next-token paths): an answer
        without it is retried, then raised as ``IncompleteResponse``. ``watch`` (the statement's
        :class:`~sqlspapi.http.progress.Progress`) hears of the call and shows its waits; when it is cancelled the
        call is not sent (:class:`~sqlspapi.errors.QueryCancelled`) and its rate-limit token is given back.
        ``fresh`` refuses an answer completed moments ago (the share window): only one in flight may be joined.
        ``caller`` (a connection's statement scope) names who asks: an identical answer another caller of the account
        got less than :data:`~sqlspapi.http.flight.OTHERS_WINDOW` seconds ago is reused, never the caller's own.
        """
        refusal = operation_refusal(self.settings, op)
        if refusal is not None:
            raise AccountSwitchError(refusal)
        if watch is not None:
            watch.calling(op.name)
        response = self._call(op, path, query, body, rdt, expect, watch, fresh, caller)
        if watch is not None:
            watch.answered(op.name)
        return response

    def _call(self, op: OperationSpec, path: Mapping[str, Any] | None, query: Mapping[str, Any] | None, body: Any,
              rdt: RestrictedResource | None, expect: Envelope | None, watch: Progress | None,
              fresh: bool = False, caller: object | None = None) -> ApiResponse:
        method = op.method.upper()
        rel_path = op.format_path({k: str(v) for k, v in (path or {}).items()})
        url = self.settings.endpoint.rstrip("/") + rel_path
        params = encode_query(query)
        if method != "GET":
            return self._send(op, method, url, rel_path, params, body, rdt, expect, watch)
        flights = self.runtime.flights
        flight_key = (method, url, tuple(sorted(params.items())), ("rdt", rdt) if rdt is not None else ("lwa",),
                      expect)
        window = self.share_window
        flight, leader = flights.join(flight_key, window, None if fresh else caller, recent=not fresh)
        if leader:
            return flights.lead(flight_key, flight, window,
                                lambda: self._send(op, method, url, rel_path, params, body, rdt, expect, watch),
                                caller)
        started = time.time()
        t0 = time.monotonic()
        while not flight.done.wait(TICK):
            if watch is not None:
                watch.check()  # cancelled while another statement's identical call runs: stop waiting for it
        result: ApiResponse | None = flight.result
        if result is None and flight.error is None:
            # The leader was interrupted (KeyboardInterrupt, SystemExit, a cancel): send this call ourselves.
            return self._send(op, method, url, rel_path, params, body, rdt, expect, watch)
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

    def _token_for(self, op: OperationSpec, rdt: RestrictedResource | None) -> str:
        if op.grantless:
            return self.tokens.grantless_token(op.grantless)
        return self.tokens.access_token() if rdt is None else self.tokens.rdt([rdt])

    def _refresher(self, op: OperationSpec, status: int, rdt: RestrictedResource | None, token: str
                   ) -> Callable[[], None]:
        """What drops ``token`` after the API refused it (the retry loop calls it once, then retries)."""
        def refresh() -> None:
            if op.grantless:
                self.tokens.invalidate_grantless(op.grantless, token)
            elif rdt is None:
                self.tokens.invalidate(token)
            else:
                self.tokens.invalidate_rdt([rdt], token)
            log.info("%s: HTTP %d, access token refused; refreshing it once", op.name, status)

        return refresh

    def _send(self, op: OperationSpec, method: str, url: str, rel_path: str, params: dict[str, str],
              body: Any, rdt: RestrictedResource | None, expect: Envelope | None = None,
              watch: Progress | None = None) -> ApiResponse:
        settings = self.settings
        bucket = self.bucket(op)
        state = RetryState()
        started = time.time()
        t0 = time.monotonic()
        throttle_wait = 0.0
        status = 0
        request_id: str | None = None
        timeout = float(getattr(settings, "timeout", 60.0) or 60.0)

        def attempt() -> ApiResponse | Failure:
            nonlocal throttle_wait, status, request_id
            # The token stays a Secret in this frame (error reporters record frame locals): revealed only into the
            # request's headers, and for the comparisons of a refresh.
            token = Secret(self._token_for(op, rdt))
            waited = await_turn(op, bucket, watch)
            if waited:
                throttle_wait += waited
                token = Secret(self._token_for(op, rdt))  # it may have expired while we waited
            state.attempts += 1
            sent = time.monotonic()
            try:
                resp = self.session.request(method, url, params=params or None,
                                            json=body if body is not None else None,
                                            headers=request_headers(token, body is not None), timeout=timeout,
                                            auth=self.signer)
            except (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError,
                    requests.exceptions.ContentDecodingError) as exc:
                status = 0
                broken = broken_off(exc)  # the answer began (or the connection was made), then broke off
                if broken is not None and (method == "GET" or not isinstance(exc, requests.ConnectionError)):
                    return incomplete(op, method, None, None, broken)
                return unreachable(op, method, url, settings.endpoint, exc, state.attempts)
            except requests.RequestException as exc:
                status = 0
                raise OperationalError(
                    f"{op.name} failed: request to {settings.endpoint} could not be sent ({type(exc).__name__})."
                ) from None

            self.runtime.pace.answered(op.name, time.monotonic() - sent)
            status = resp.status_code
            resp_headers = resp.headers
            request_id = resp_headers.get("x-amzn-RequestId") or resp_headers.get("x-amz-request-id")
            limit = resp_headers.get("x-amzn-RateLimit-Limit")
            if limit:
                bucket.observe_limit_header(limit)
            payload, not_json = decode(resp, lambda text: apierrors.scrub(text, settings, (token,)))
            log.debug("%s %s %s -> %d (%.3f s, request id %s)", op.name, method, rel_path, status,
                      resp.elapsed.total_seconds() if resp.elapsed else 0.0, request_id)
            if 200 <= status < 300:
                if not_json is not None and not (status in (204, 205) and not resp.content):
                    return incomplete(op, method, status, request_id, not_json)
                body_error = apierrors.success_body_error(op, status, payload, request_id, settings, (token,))
                if body_error is not None:
                    raise body_error
                problem = expect.problem(payload) if expect is not None else None
                if problem is not None:
                    return incomplete(op, method, status, request_id, problem)
                return ApiResponse(status, payload, CaseInsensitiveDict(resp_headers), request_id)
            if status == 429:
                bucket.drain()
            answered, rid = status, request_id
            return Failure(
                status,
                lambda retries: apierrors.api_error(op, answered, payload, resp, rid, retries, settings, (token,)),
                f"HTTP {status}", retry_after=retry_after(resp_headers),
                refresh=(self._refresher(op, status, rdt, token.reveal())
                         if apierrors.is_token_problem(status, payload, resp_headers) else None),
            )

        try:
            return run(settings.retry, attempt, what=op.name, log=log, state=state, watch=watch)
        finally:
            self.calls.append(CallRecord(
                operation=op.name, method=method, path=rel_path, params=dict(params), status=status,
                started=started, elapsed=time.monotonic() - t0, throttle_wait=throttle_wait,
                request_id=request_id, shared=False, attempts=state.attempts, retry_wait=state.retry_wait,
            ))

    def download(self, url: str, *, timeout: float | None = None, stream: bool = False) -> requests.Response:
        """GET a pre-signed URL (e.g. a report document) with this session: no SP-API token, no limiter.

        Connection errors and 5xx answers are retried per ``Settings.retry``; non-2xx answers raise
        OperationalError (its ``status`` is the HTTP status). With ``stream`` the body is not read yet: iterate
        ``iter_content`` and close the answer (``Content-Encoding: gzip`` is undone while reading).
        """
        host = url_host(url)
        timeout = timeout or float(getattr(self.settings, "timeout", 60.0) or 60.0)

        def attempt() -> requests.Response | Failure:
            try:
                resp = self.session.get(url, timeout=timeout, headers={"user-agent": USER_AGENT}, stream=stream)
            except (requests.ConnectionError, requests.Timeout) as exc:
                kind = type(exc).__name__
                return Failure(None, lambda _retries: OperationalError(f"download from {host} failed ({kind})"),
                               "connection error")
            status = resp.status_code
            if 200 <= status < 300:
                return resp
            error = OperationalError(f"download from {host} failed (HTTP {status})")
            error.status = status  # type: ignore[attr-defined]
            resp.close()
            if status < 500:
                raise error
            return Failure(status, lambda _retries: error, f"HTTP {status}")

        return run(self.settings.retry, attempt, what=f"download from {host}", log=log)


__all__ = ["ApiResponse", "Client", "TokenProvider", "USER_AGENT", "CallLog", "CallRecord"]
