"""The emulator's HTTP side: routing, authentication, throttling, fault injection and the call log.

A :class:`Emulator` owns a stdlib ``ThreadingHTTPServer`` on 127.0.0.1 serving in a background thread.
Request flow: route (404 for unknown paths) -> SigV4 signature, when the request carries one (403,
:func:`sqlspapi.http.sigv4.check_signature`) -> access token (403) -> injected fault -> token bucket (429)
-> operation handler (400/404 from validation). Every answer carries ``x-amzn-RequestId``; 2xx/400/404 answers
of a known operation also carry ``x-amzn-RateLimit-Limit`` with the time-scaled rate. Injected faults are HTTP
statuses (:meth:`Emulator.fail_next`) or answer faults (:meth:`Emulator.fault_next`, kinds in
:mod:`sqlspapi.emulator.faults`): a success answer that is not a whole one, or a page that pages wrongly. The
socket server and its request handler are :mod:`sqlspapi.emulator.httpd`.
"""

from __future__ import annotations

import gc
import json
import random
import threading
import time
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from sqlspapi.emulator import reports
from sqlspapi.emulator.calllog import CallLog, EmulatorCall
from sqlspapi.emulator.common import QUOTA_EXCEEDED, ApiError, Config, Request
from sqlspapi.emulator.data import Dataset
from sqlspapi.emulator.faults import FAULT_KINDS, RawAnswer, garble
from sqlspapi.emulator.generic import Row, validate
from sqlspapi.emulator.httpd import Server, make_handler
from sqlspapi.emulator.lwa import (
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    DEMO_REFRESH_TOKEN,
    DENIED,
    Auth,
    rdt_elements,
)
from sqlspapi.emulator.ratelimit import Limiter, UsagePlan
from sqlspapi.emulator.routes import PROVISIONAL, Router, build_routes
from sqlspapi.emulator.sellers import SELLER_ID
from sqlspapi.http.sigv4 import ALGORITHM as SIGV4_ALGORITHM
from sqlspapi.http.sigv4 import check_signature

LWA_OPERATION = "lwaToken"
#: The AWS key pair the emulator knows for SigV4-signed requests (AWS's documented example keys).
DEMO_AWS_ACCESS_KEY_ID = "FAKE-DEMO-ACCESS-KEY-ID"
DEMO_AWS_SECRET_ACCESS_KEY = "fake-demo-secret-access-key-not-real"

_FAULTS = {
    400: ("InvalidInput", "Invalid Input"),
    403: ("Unauthorized", DENIED),
    404: ("NotFound", "The requested resource was not found."),
    500: ("InternalFailure", "We encountered an internal error. Please try again."),
    503: ("ServiceUnavailable", "Service temporarily unavailable. Please try again."),
}


def _brace(value: str) -> str:
    """An ODBC connection-string value, braced when it holds ``; = | { }`` or edge spaces."""
    if any(ch in value for ch in ";=|{}") or value != value.strip():
        return "{" + value.replace("}", "}}") + "}"
    return value


class Emulator:
    """A running local SP-API (see ``docs/internals.md``): ``url``, ``token_url``, ``calls``, controls."""

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0, seed: int = 7, orders: int = 2000,
                 time_scale: float = 1.0, token_lifetime: float = 3600.0, anchor: datetime | None = None,
                 items_page_size: int = 100) -> None:
        self.seed = seed
        self.time_scale = float(time_scale)
        self.dataset = Dataset(seed=seed, orders=orders, anchor=anchor)
        self.auth = Auth(token_lifetime)
        self.router = Router(build_routes() + build_routes(PROVISIONAL, reports.SPECS))
        self.limiter = Limiter(time_scale, self.router.plans)
        self.config = Config(items_page_size=items_page_size)
        self.calls = CallLog()
        self._aws_keys: dict[str, tuple[str, str | None]] = {DEMO_AWS_ACCESS_KEY_ID: (DEMO_AWS_SECRET_ACCESS_KEY, None)}
        self._faults: dict[str, list[int | str | None]] = {}
        self._faults_lock = threading.Lock()
        self._fault_rng = random.Random(seed)
        self._httpd = Server((host, port), make_handler(self.handle))
        self.host = host
        self.port: int = self._httpd.server_address[1]
        shown = "127.0.0.1" if host in ("", "0.0.0.0") else host
        if ":" in shown:
            shown = f"[{shown}]"
        self.url = f"http://{shown}:{self.port}"
        self.token_url = self.url + "/auth/o2/token"
        self.reports = reports.attach(self.dataset, time_scale=self.time_scale, base_url=self.url, config=self.config)
        self._thread: threading.Thread | None = None

    # -- lifecycle ----------------------------------------------------------------------------------------
    def start(self) -> Emulator:
        """Serve in a daemon thread (idempotent); returns self."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                            name=f"sqlspapi-emulator-{self.port}", daemon=True)
            self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in the calling thread until :meth:`stop` or KeyboardInterrupt."""
        self._httpd.serve_forever(poll_interval=0.2)

    def stop(self) -> None:
        """Stop serving and close the listening socket."""
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._httpd.server_close()
        self._httpd.close_connections()

    def __repr__(self) -> str:
        return (f"<Emulator {self.url} orders={len(self.dataset.orders)} seed={self.seed} "
                f"time_scale={self.time_scale:g}>")

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- controls -----------------------------------------------------------------------------------------
    @property
    def orders(self) -> list[Any]:
        """The generated orders (``OrderRecord``), oldest first."""
        return self.dataset.orders

    @property
    def token_lifetime(self) -> float:
        """Lifetime (seconds) of access tokens and RDTs issued from now on."""
        return self.auth.token_lifetime

    def set_token_lifetime(self, seconds: float) -> None:
        """Change the lifetime of tokens issued from now on (already issued tokens keep theirs)."""
        self.auth.set_token_lifetime(seconds)

    def revoke_refresh_token(self, refresh_token: str = DEMO_REFRESH_TOKEN) -> None:
        """Make later LWA grants with this refresh token answer ``invalid_grant``."""
        self.auth.revoke(refresh_token)

    def add_account(self, refresh_token: str) -> None:
        """Accept another refresh token: a second seller account (same data, its own rate-limit buckets)."""
        self.auth.add_account(refresh_token)

    def accept_aws_key(self, access_key_id: str, secret_access_key: str, session_token: str | None = None) -> None:
        """Know another AWS key (e.g. an assumed role's) for checking SigV4 signatures (a request with an
        ``Authorization: AWS4-HMAC-SHA256`` header is verified; a wrong or unknown one answers 403)."""
        self._aws_keys[access_key_id] = (secret_access_key, session_token)

    def set_items_page_size(self, size: int) -> None:
        """Page size of getOrderItems (default 100)."""
        self.config.items_page_size = max(1, int(size))

    def fail_next(self, operation: str, status: int, n: int = 1, *, skip: int = 0) -> None:
        """Answer the next ``n`` calls of ``operation`` with ``status`` (after authentication, before throttling),
        after ``skip`` calls answered normally."""
        self._queue_faults(operation, int(status), n, skip)

    def fault_next(self, operation: str, kind: str, n: int = 1, *, skip: int = 0) -> None:
        """Answer the next ``n`` calls of ``operation`` with answer fault ``kind`` (one of
        :data:`~sqlspapi.emulator.faults.FAULT_KINDS`: ``empty``, ``html``, ``bytes``, ``truncated``, ``cut``,
        ``empty_object``, ``short_page``, ``bad_token``, ``repeat_token``), after ``skip`` calls answered normally.
        The operation runs (and is throttled) as usual; its success answer is then garbled."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; known: {', '.join(FAULT_KINDS)}")
        self._queue_faults(operation, kind, n, skip)

    def report_outcome_next(self, report_type: str | None, outcome: str, *, reason: str | None = None,
                            n: int = 1) -> None:
        """End the next ``n`` reports of ``report_type`` (None: any) with ``outcome`` (``FATAL``, ``CANCELLED``,
        ``DONE_NO_DOCUMENT`` …; see :mod:`sqlspapi.emulator.reports`); ``reason``: the FATAL document's text."""
        self.reports.outcome_next(report_type, outcome, reason=reason, n=n)

    def clear_faults(self) -> int:
        """Forget every fault not yet served; return how many there were."""
        with self._faults_lock:
            left = sum(1 for queue in self._faults.values() for fault in queue if fault is not None)
            self._faults.clear()
        return left

    def _queue_faults(self, operation: str, fault: int | str, n: int, skip: int) -> None:
        with self._faults_lock:
            self._faults.setdefault(operation, []).extend([None] * int(skip) + [fault] * int(n))

    def reset_limits(self) -> None:
        """Refill every token bucket."""
        self.limiter.reset()

    def rate_limit_header(self, operation: str) -> str:
        """The ``x-amzn-RateLimit-Limit`` value this emulator sends for ``operation``."""
        return self.limiter.header(operation)

    @property
    def usage_plans(self) -> dict[str, UsagePlan]:
        """Operation name → the usage plan it is throttled with (from the definitions, unscaled)."""
        return dict(self.router.plans)

    @property
    def seller_id(self) -> str:
        """The demo seller's merchant token (``SellerId``; Catalog SKU searches need it)."""
        return SELLER_ID

    def advance_clock(self, seconds: float) -> None:
        """Move the emulator clock forward: paging tokens age by ``seconds`` (FBA nextToken expires after 30 s)."""
        self.config.clock_offset += float(seconds)

    def export(self, operation: str, version: str | None = None) -> list[Row]:
        """Every row object ``operation`` can return, each with its query and path parameters (module docstring)."""
        route = self.router.find(operation, version)
        exporter = route.endpoint.export
        if exporter is None:
            raise ValueError(f"{route.name} has no export: its answer depends on the request (e.g. an aggregate)")
        # Thousands of nested dicts at once: the cyclic collector would spend ~3x the build time scanning them
        # (they hold no cycles), so it pauses while the list is built.
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            return list(exporter(self.dataset))
        finally:
            if was_enabled:
                gc.enable()

    def connection_string(self, **extra: Any) -> str:
        """Connection string of the demo app against this emulator, plus ``extra`` keys."""
        pairs: list[tuple[str, str]] = [("ClientId", DEMO_CLIENT_ID), ("ClientSecret", DEMO_CLIENT_SECRET),
                                        ("RefreshToken", DEMO_REFRESH_TOKEN), ("TokenUrl", self.token_url),
                                        ("Endpoint", self.url)]
        for key, value in extra.items():
            if value is None:
                continue
            if isinstance(value, bool):
                text = "true" if value else "false"
            elif isinstance(value, list | tuple | set | frozenset):
                text = ",".join(str(v) for v in value)
            else:
                text = str(value)
            pairs.append((key, text))
        return ";".join(f"{k}={_brace(v)}" for k, v in pairs)

    def _take_fault(self, operation: str) -> int | str | None:
        with self._faults_lock:
            queue = self._faults.get(operation)
            if queue:
                return queue.pop(0)
        return None

    def _garble(self, kind: str | None, status: int, answer: Any, query: dict[str, str]) -> Any:
        """The answer as answer fault ``kind`` sends it (a success answer only; None: as it is)."""
        if kind is None or not 200 <= status < 300:
            return answer
        with self._faults_lock:
            rng = random.Random(self._fault_rng.random())
        return garble(kind, answer, query, rng)

    # -- request handling ---------------------------------------------------------------------------------
    def handle(self, method: str, target: str, headers: Any, body: bytes) -> tuple[int, Any, dict[str, str]]:
        """Answer one request: (status, JSON body, extra headers). Records it in :attr:`calls`.

        The body may hold already encoded parts: :func:`sqlspapi.emulator.common.encode_json` writes it.
        """
        started = time.time()
        parts = urlsplit(target)
        path = unquote(parts.path).rstrip("/") or "/"
        query: dict[str, str] = {}
        for key, value in parse_qsl(parts.query, keep_blank_values=True):
            query[key] = f"{query[key]},{value}" if key in query else value
        extra: dict[str, str] = {}
        params: dict[str, Any] = dict(query)
        if path == "/auth/o2/token":
            operation = LWA_OPERATION
            if method != "POST":
                status, answer = 400, {"error": "invalid_request", "error_description": "Use POST."}
            elif isinstance(fault := self._take_fault(operation), int):
                status, answer = fault, {"error": "server_error" if fault >= 500 else "invalid_request",
                                         "error_description": "Injected fault."}
            else:
                status, answer, params = self.auth.token_endpoint(body, headers.get("Content-Type", ""))
                answer = self._garble(fault, status, answer, query)
            self.calls.append(EmulatorCall(operation, method, path, params, status, started))
            return status, answer, extra
        if path == "/apps/authorize/consent":  # the website authorization flow's consent page (lwa.Auth.consent)
            status, text, location = self.auth.consent(query)
            if location is not None:
                extra["Location"] = location
            self.calls.append(EmulatorCall("consent", method, path, {"application_id": query.get(
                "application_id")}, status, started))
            return status, RawAnswer(text.encode(), "text/plain; charset=utf-8"), extra
        if path.startswith(reports.DOWNLOAD_PREFIX + "/"):
            status, answer, extra = reports.download(self.dataset, method, path, query, headers)
            self.calls.append(EmulatorCall(reports.DOWNLOAD_OPERATION, method, path, params, status, started))
            return status, answer, extra
        operation, status, answer = "unknown", 404, None
        answer_fault: str | None = None
        account: str | None = None
        try:
            found = self.router.match(method, path)
            if found is None:
                raise ApiError(404, "NotFound", f"The requested resource {method} {path} was not found.")
            route, path_args = found
            operation, restricted = route.name, route.restricted
            if (headers.get("Authorization") or "").startswith(SIGV4_ALGORITHM) and (refused := check_signature(
                    method, f"http://{headers.get('Host')}{target}", headers, body, self._aws_keys)):
                raise ApiError(403, *refused)
            if method == "POST":
                try:
                    params["body"] = json.loads(body.decode("utf-8") or "null")
                except (ValueError, UnicodeDecodeError):
                    params["body"] = None
            checked = self.auth.check(headers.get("x-amz-access-token"))
            grant = checked.grant
            if grant is None:
                raise ApiError(403, "Unauthorized", DENIED, checked.details)
            account = grant.account
            refused = self.auth.refusal(grant, route.spec.grantless)
            if refused is not None:
                raise ApiError(403, "Unauthorized", DENIED, refused)
            elements = None
            if grant.rdt:
                elements = rdt_elements(grant, method, path) if restricted else None
                if elements is None:
                    raise ApiError(403, "Unauthorized", DENIED,
                                   "The restricted data token does not grant access to this resource.")
            fault = self._take_fault(operation)
            if isinstance(fault, str):
                answer_fault = fault
            elif fault is not None:
                if fault == 429:
                    raise _Throttled()
                code, message = _FAULTS.get(fault, ("InternalFailure", "Injected fault."))
                raise ApiError(fault, code, message, "Injected fault.")
            if not self.limiter.allow(grant.account, operation):
                raise _Throttled()
            req = Request(method, path, query, body, grant, self.dataset, self.auth, self.config, path_args,
                          elements)
            if route.endpoint.rules is not None:
                req.params = validate(route.endpoint.rules, query)
            result = route.endpoint.handler(req)
            status, answer = result.status, self._garble(answer_fault, result.status, result.body, query)
        except _Throttled:
            status, answer = 429, {"errors": [dict(QUOTA_EXCEEDED)]}
        except ApiError as err:
            status, answer = err.status, err.body()
        except Exception as exc:  # noqa: BLE001 - an emulator bug must still answer like a server
            status = 500
            answer = {"errors": [{"code": "InternalFailure", "message": f"Emulator error: {exc!r}"}]}
        if operation != "unknown" and (200 <= status < 300 or status in (400, 404)):
            extra["x-amzn-RateLimit-Limit"] = self.limiter.header(operation)
        if status >= 400 and status != 429 and operation != "unknown":
            extra["x-amzn-ErrorType"] = {400: "ValidationException", 403: "AccessDeniedException",
                                         404: "ResourceNotFoundException"}.get(status, "InternalFailure")
        self.calls.append(EmulatorCall(operation, method, path, params, status, started, account))
        return status, answer, extra


class _Throttled(Exception):
    """Internal: answer 429 QuotaExceeded."""

