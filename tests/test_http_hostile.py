"""Hostile answers at the HTTP layer (issue 8, items 2 and 5): incomplete answers are named for what they are, and
no secret leaves the process in any encoding.

* An incomplete or garbled answer of the LWA token endpoint, of createRestrictedDataToken or of the Sellers API's
  marketplace discovery is retried per the retry keys, then reported as an incomplete answer that is usually
  temporary — not as "check TokenUrl" or "set MarketplaceIds", which stay for a wrong TokenUrl (a 404, an HTML page,
  no connection at all) and for a seller that truly lists no marketplace.
* A token endpoint, proxy or API that echoes what it was sent (the grant form URL-encoded, the access token
  JSON-escaped, HTML-escaped or base64-encoded) never puts a secret in an exception's text, its repr or the logs;
  and no frame an LWA error passes through holds the client secret or the refresh token in a local that error
  reporters recording frame locals (Sentry, rich tracebacks, ``pytest -l``) would keep.

The emulator injects the faults (``fault_next``); answers it never gives come from a small stub server in this file.
"""

from __future__ import annotations

import base64
import html
import json
import logging
import re
import socket
import threading
import traceback
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, quote, quote_plus, unquote, unquote_plus

import pytest
from emu_helpers import fresh_process_state, settings_for  # noqa: F401 (fresh_process_state is autouse)

from sqlspapi.definitions.schema import OperationSpec, RestrictedResource
from sqlspapi.engine import open_database
from sqlspapi.errors import AuthError, InterfaceError, SPAPIError
from sqlspapi.http.client import Client
from sqlspapi.settings.connstr import Settings, parse

emulator = pytest.importorskip("sqlspapi.emulator")

RETRIES = 2
KEYS = {"RetryWaitTimeMs": 1, "RetryCountMax": RETRIES}
#: Faults that make an answer unusable (sqlspapi.emulator.faults).
BODY_FAULTS = ("empty", "html", "bytes", "truncated", "cut", "empty_object")
LWA = "lwaToken"
PARTICIPATIONS = OperationSpec("getMarketplaceParticipations", "sellers", "v1", "GET",
                               "/sellers/v1/marketplaceParticipations", 100.0, 100)

#: The stub's credentials: every character class an encoding changes (``|``, ``/``, ``+``, ``=``).
CLIENT_SECRET = "amzn1.oa2-cs.v1.s3cr3t/Pa55+w0rd=QQ"
REFRESH_TOKEN = "Atzr|IwEBIrefresh/T0ken+Pad==Zz9"
ACCESS_TOKEN = "Atza|IwEBIaccess/T0ken+Pad==Yy8"
SECRETS = (CLIENT_SECRET, REFRESH_TOKEN, ACCESS_TOKEN)


@pytest.fixture(scope="module")
def emu():
    emu = emulator.start(time_scale=100_000, orders=20)
    yield emu
    emu.stop()


@pytest.fixture(autouse=True)
def no_faults_left_over(emu):
    emu.clear_faults()
    emu.calls.clear()
    yield
    emu.clear_faults()


# ------------------------------------------------------------------------------------------- the stub server


@dataclass(frozen=True)
class Reply:
    """One answer of the stub: ``close`` hangs up without answering."""

    status: int = 200
    body: Any = b""
    content_type: str = "application/json"
    close: bool = False

    def data(self) -> bytes:
        if isinstance(self.body, bytes):
            return self.body
        return self.body.encode() if isinstance(self.body, str) else json.dumps(self.body).encode()


#: A reply, or what makes one from the request's body and headers (an echo).
Script = Reply | Callable[[bytes, dict[str, str]], Reply]
TOKEN = Reply(200, {"access_token": ACCESS_TOKEN, "expires_in": 3600, "token_type": "bearer"})


class Stub:
    """LWA at ``/auth/o2/token`` and SP-API at every other path, each answering its script in turn (the last reply
    repeats); counts the requests of each."""

    def __init__(self) -> None:
        self.scripts: dict[str, list[Script]] = {"lwa": [TOKEN], "api": [Reply(200, {"payload": []})]}
        self.hits: Counter[str] = Counter()
        self._lock = threading.Lock()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _serve(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                reply = stub.next("lwa" if self.path.startswith("/auth/o2/token") else "api", body,
                                  {k.lower(): v for k, v in self.headers.items()})
                if reply.close:
                    self.close_connection = True
                    return
                data = reply.data()
                self.send_response(reply.status)
                self.send_header("content-type", reply.content_type)
                self.send_header("content-length", str(len(data)))
                self.send_header("x-amzn-RequestId", "stub-request-1")
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _serve

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def next(self, route: str, body: bytes, headers: dict[str, str]) -> Reply:
        with self._lock:
            self.hits[route] += 1
            script = self.scripts[route]
            step = script.pop(0) if len(script) > 1 else script[0]
        return step(body, headers) if callable(step) else step

    def settings(self, **keys: Any) -> Settings:
        given = {"ClientId": "cid", "ClientSecret": CLIENT_SECRET, "RefreshToken": REFRESH_TOKEN,
                 "TokenUrl": f"{self.url}/auth/o2/token", "Endpoint": self.url, **KEYS, **keys}
        return parse(";".join(f"{k}={{{v}}}" for k, v in given.items()))


@pytest.fixture
def stub() -> Iterator[Stub]:
    server = Stub()
    thread = threading.Thread(target=server.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server
    server.server.shutdown()
    server.server.server_close()


def login_error(settings: Settings) -> AuthError:
    """The AuthError a first login with ``settings`` raises (caught here, so that its traceback starts in a frame
    that holds no secret)."""
    try:
        Client(settings).access_token()
    except AuthError as exc:
        return exc
    raise AssertionError("the login succeeded")


# ------------------------------------------------------------------------------------------- leak oracle


def _json_unescaped(text: str) -> str:
    return re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), text).replace("\\/", "/")


def decodings(text: str) -> set[str]:
    """``text`` as it reads once decoded every way a secret may have been encoded in it: URL (also twice), form,
    JSON escapes, HTML references, and base64 (standard and URL-safe, any alignment) of each run of its letters."""
    found = {text, unquote(text), unquote_plus(text), unquote(unquote(text)), html.unescape(text),
             _json_unescaped(text), unquote_plus(_json_unescaped(text))}
    for run in re.findall(r"[A-Za-z0-9+/_=-]{12,}", text):
        for start in range(4):
            chunk = run[start:].rstrip("=")
            chunk = chunk[:len(chunk) // 4 * 4]
            for decode in (base64.b64decode, base64.urlsafe_b64decode):
                try:
                    found.add(decode(chunk).decode("latin-1"))
                except ValueError:
                    pass
    return found


def leaks(text: str, secrets: tuple[str, ...] = SECRETS) -> list[str]:
    """The 8-character pieces of ``secrets`` that ``text`` shows, in any of its :func:`decodings`."""
    readings = decodings(text)
    return [secret[i:i + 8] for secret in secrets for i in range(len(secret) - 7)
            if any(secret[i:i + 8] in reading for reading in readings)]


def shown(exc: BaseException, caplog: pytest.LogCaptureFixture) -> str:
    """Everything a user or a log sees of ``exc``: its text, repr, attributes and the captured log."""
    attrs = {k: v for k, v in vars(exc).items() if not k.startswith("_")}
    return "\n".join([str(exc), repr(exc), repr(exc.args), repr(attrs), caplog.text])


def chain(exc: BaseException | None) -> Iterator[BaseException]:
    while exc is not None:
        yield exc
        exc = exc.__cause__ or exc.__context__


def frame_locals_text(exc: BaseException) -> str:
    """What an error reporter that records frame locals keeps of ``exc``: the traceback with locals
    (``capture_locals=True``) and the repr of every local of every frame of every exception in its chain."""
    parts = list(traceback.TracebackException.from_exception(exc, capture_locals=True).format())
    for link in chain(exc):
        tb = link.__traceback__
        while tb is not None:
            parts.extend(f"{name}={value!r}" for name, value in tb.tb_frame.f_locals.items())
            tb = tb.tb_next
    return "\n".join(parts)


def test_the_oracle_sees_every_encoding() -> None:
    form = f"grant_type=refresh_token&refresh_token={quote_plus(REFRESH_TOKEN)}&client_secret={CLIENT_SECRET}"
    for text in (REFRESH_TOKEN, quote(REFRESH_TOKEN, safe=""), quote_plus(REFRESH_TOKEN),
                 json.dumps(REFRESH_TOKEN).replace("/", "\\/").replace("|", "\\u007c"),
                 base64.b64encode(form.encode()).decode(), html.escape(REFRESH_TOKEN).replace("|", "&#124;")):
        assert leaks(f"echo: {text} end"), text
    assert not leaks("nothing to see: *** and ***")


# ------------------------------------------------------------------------- incomplete answers at the login


@pytest.mark.parametrize("kind", BODY_FAULTS)
def test_an_incomplete_login_answer_is_retried(emu, kind) -> None:
    emu.fault_next(LWA, kind, 1)
    assert Client(settings_for(emu, **KEYS)).access_token()
    assert emu.calls.count(LWA) == 2


@pytest.mark.parametrize("kind", BODY_FAULTS)
def test_a_login_answer_still_incomplete_says_so_and_blames_no_setting(emu, kind) -> None:
    emu.fault_next(LWA, kind, RETRIES + 1)
    text = str(login_error(settings_for(emu, **KEYS)))
    assert emu.calls.count(LWA) == RETRIES + 1
    assert text.startswith("Login with Amazon gave an incomplete answer (")
    assert f"{RETRIES + 1} attempts" in text and "usually temporary" in text and ": retry" in text
    assert "check TokenUrl" not in text and "ClientSecret" not in text and "RefreshToken" not in text
    if kind == "html":  # an HTML page may also be a wrong TokenUrl: said after the likelier cause
        assert "'502 Bad Gateway'" in text and "If it keeps happening" in text and emu.token_url in text
    else:
        assert "TokenUrl" not in text


def test_no_retry_allowed_reports_the_first_incomplete_login_answer(emu) -> None:
    emu.fault_next(LWA, "empty_object", 1)
    error = login_error(settings_for(emu, RetryMode="None"))
    assert str(error).startswith("Login with Amazon gave an incomplete answer (HTTP 200, an empty JSON object)")
    assert emu.calls.count(LWA) == 1 and error.status == 200


def test_a_login_connection_closed_before_the_answer_is_incomplete_not_unreachable(stub) -> None:
    stub.scripts["lwa"] = [Reply(close=True), TOKEN]
    assert Client(stub.settings()).access_token() == ACCESS_TOKEN
    assert stub.hits["lwa"] == 2
    stub.scripts["lwa"] = [Reply(close=True)]
    text = str(login_error(stub.settings(ClientId="cid2", RetryCountMax=1)))  # another account: no token yet
    assert text.startswith("Login with Amazon gave an incomplete answer (the connection closed before an answer "
                           "arrived (RemoteDisconnected), 2 attempts)")
    assert "TokenUrl" not in text and "Cannot reach" not in text


def test_a_login_without_an_answer_in_time_is_temporary_not_unreachable(stub) -> None:
    answered = threading.Event()
    stub.scripts["lwa"] = [lambda body, headers: (answered.wait(10), TOKEN)[1]]  # answers once the client gave up
    try:
        text = str(login_error(stub.settings(Timeout=0.2, RetryMode="None")))
    finally:
        answered.set()
    assert text.startswith("Login with Amazon did not answer within 0.2 s (ReadTimeout); it is usually temporary")
    assert "TokenUrl" not in text


def test_a_wrong_token_url_still_names_token_url(emu, stub) -> None:
    # The emulator's SP-API side answers an unknown path with a JSON 404: not Login with Amazon.
    text = str(login_error(settings_for(emu, TokenUrl=emu.url + "/auth/o2/tokens", **KEYS)))
    assert "answered HTTP 404 without an LWA error" in text and "check TokenUrl" in text
    assert emu.calls.count(LWA) == 0
    stub.scripts["lwa"] = [Reply(404, "<html><head><title>404 Not Found</title></head></html>", "text/html")]
    text = str(login_error(stub.settings()))
    assert "HTTP 404 without an LWA error (an HTML page ('404 Not Found') instead of JSON)" in text
    assert "check TokenUrl" in text and stub.hits["lwa"] == 1  # a wrong URL is not retried


def test_a_login_server_error_is_temporary_not_a_setting(stub) -> None:
    stub.scripts["lwa"] = [Reply(503, {"error": "temporarily_unavailable"})]
    text = str(login_error(stub.settings()))
    assert "is unavailable (HTTP 503 temporarily_unavailable, 3 attempts)" in text and "usually temporary" in text
    assert "check TokenUrl" not in text and stub.hits["lwa"] == RETRIES + 1


# ---------------------------------------------------------------------- incomplete answers of the Tokens API


@pytest.mark.parametrize("kind", ["cut", "empty_object", "html"])
def test_an_incomplete_rdt_answer_is_retried_then_clear(emu, kind) -> None:
    client = Client(settings_for(emu, **KEYS))
    emu.fault_next("createRestrictedDataToken", kind, 1)
    assert client.tokens.rdt([RestrictedResource("GET", "/orders/v0/orders/{orderId}", ("buyerInfo",))])
    assert emu.calls.count("createRestrictedDataToken") == 2
    emu.fault_next("createRestrictedDataToken", kind, RETRIES + 1)
    with pytest.raises(SPAPIError) as info:
        client.tokens.rdt([RestrictedResource("GET", "/orders/v0/orders/{orderId}", ("shippingAddress",))])
    err = info.value
    assert err.code == "IncompleteResponse" and err.operation == "createRestrictedDataToken"
    text = str(err)
    assert f"after {RETRIES} retries" in text and "usually transient" in text and "request id" in text
    assert "not sent again" not in text
    assert emu.calls.count("createRestrictedDataToken") == 2 + RETRIES + 1


# ------------------------------------------------------------- incomplete answers of marketplace discovery


@pytest.mark.parametrize("kind", BODY_FAULTS)
def test_an_incomplete_sellers_answer_does_not_say_set_marketplace_ids(emu, kind) -> None:
    sql = "SELECT count(*) FROM orders WHERE PurchaseDate >= '2000-01-01'"
    with open_database(emu.connection_string(OrdersApiVersion="v0", **KEYS)) as db:
        emu.fault_next("getMarketplaceParticipations", kind, RETRIES + 1)
        with pytest.raises(SPAPIError) as info:
            db.connection.execute(sql).fetchall()
        text = str(info.value)
        assert info.value.code == "IncompleteResponse" and info.value.operation == "getMarketplaceParticipations"
        assert text.startswith("getMarketplaceParticipations answered") and "request id" in text
        assert "usually transient" in text and "MarketplaceIds" not in text
        assert db.connection.execute(sql).fetchall()[0][0] > 0  # nothing was remembered of the failure


def participation(marketplace_id: str | None, participating: bool = True) -> dict[str, Any]:
    market = {"name": "Amazon.com", "countryCode": "US"}
    if marketplace_id is not None:
        market["id"] = marketplace_id
    return {"marketplace": market, "participation": {"isParticipating": participating,
                                                     "hasSuspendedListings": False}}


def test_participations_without_a_marketplace_id_are_an_incomplete_answer(stub) -> None:
    bad = Reply(200, {"payload": [participation("ATVPDKIKX0DER"), participation(None)]})
    good = Reply(200, {"payload": [participation("ATVPDKIKX0DER"), participation("A2EUQ1WTGCTBG2")]})
    stub.scripts["api"] = [bad, good]
    with open_database(settings=stub.settings()) as db:
        assert db.marketplace_ids() == ("ATVPDKIKX0DER", "A2EUQ1WTGCTBG2")
    assert stub.hits["api"] == 2
    stub.scripts["api"] = [bad]
    with open_database(settings=stub.settings(ClientId="cid2")) as db:  # another account: nothing memoised
        with pytest.raises(SPAPIError) as info:
            db.marketplace_ids()
    assert info.value.code == "IncompleteResponse"
    assert str(info.value).startswith(
        f"getMarketplaceParticipations answered HTTP 200 with an incomplete response after {RETRIES} retries: 1 of "
        "its 2 marketplace participations names no marketplace id [request id stub-request-1]")
    assert "MarketplaceIds" not in str(info.value)


@pytest.mark.parametrize("payload", [[], [participation("ATVPDKIKX0DER", participating=False)]])
def test_a_seller_that_lists_no_marketplace_is_told_to_set_marketplace_ids(stub, payload) -> None:
    stub.scripts["api"] = [Reply(200, {"payload": payload})]
    with open_database(settings=stub.settings()) as db, pytest.raises(InterfaceError) as info:
        db.marketplace_ids()
    assert "lists no marketplace this seller participates in" in str(info.value)
    assert "request id stub-request-1" in str(info.value) and "set MarketplaceIds" in str(info.value)
    assert stub.hits["api"] == 1  # a whole answer is not retried


def test_an_sp_api_connection_closed_before_the_answer_is_retried_then_incomplete(stub) -> None:
    stub.scripts["api"] = [Reply(close=True), Reply(200, {"payload": []})]
    assert Client(stub.settings()).call(PARTICIPATIONS).json == {"payload": []}
    stub.scripts["api"] = [Reply(close=True)]
    with pytest.raises(SPAPIError) as info:
        Client(stub.settings()).call(PARTICIPATIONS)
    assert info.value.code == "IncompleteResponse"
    assert "the connection closed before an answer arrived (RemoteDisconnected)" in str(info.value)
    assert "cannot reach" not in str(info.value) and "Endpoint" not in str(info.value)
    assert stub.hits["api"] == 2 + RETRIES + 1


# ------------------------------------------------------------------------------------------------ secrets


def echo_form(status: int, render: Callable[[str], Any], content_type: str = "application/json") -> Script:
    """A token endpoint (or proxy) that answers ``status`` with ``render(form as sent)``."""
    return lambda body, headers: Reply(status, render(body.decode()), content_type)


def form_as_json(form: str) -> str:
    """The form as JSON, escaped the way some servers write it (``\\/``, non-alphanumerics as ``\\u00XX``)."""
    fields = {k: v[0] for k, v in parse_qs(form).items()}
    return re.sub(r"[|+=]", lambda m: f"\\u{ord(m.group()):04x}", json.dumps(fields).replace("/", "\\/"))


ECHOES = {
    "400 text, form URL-encoded": echo_form(400, lambda form: f"Bad request: {form}", "text/plain"),
    "400 LWA error, form in description": echo_form(
        400, lambda form: {"error": "invalid_request", "error_description": f"cannot parse {form}"}),
    "400 LWA error, form in the error code": echo_form(400, lambda form: {"error": form}),
    "400 LWA error, form JSON-escaped": echo_form(
        400, lambda form: {"error": "invalid_request", "error_description": form_as_json(form)}),
    "400 LWA error, form in base64": echo_form(
        400, lambda form: {"error": "invalid_request", "error_description": base64.b64encode(form.encode()).decode()}),
    "400 LWA error, form URL-encoded twice": echo_form(
        400, lambda form: {"error": "invalid_request", "error_description": quote(form, safe="")}),
    "200 text, form URL-encoded": echo_form(200, lambda form: form.replace("grant_type=refresh_token&", ""),
                                            "text/plain"),
    "200 JSON cut short, form JSON-escaped": echo_form(200, lambda form: form_as_json(form)[:-12]),
    "502 HTML page, form HTML-escaped": echo_form(
        502, lambda form: f"<html><title>{html.escape(unquote_plus(form))}</title></html>", "text/html"),
    "404 HTML page, form in the title": echo_form(
        404, lambda form: f"<html><title>{unquote_plus(form)}</title></html>", "text/html"),
}


@pytest.mark.parametrize("echo", ECHOES.values(), ids=ECHOES.keys())
def test_a_token_endpoint_echoing_the_form_shows_no_secret(stub, caplog, echo) -> None:
    stub.scripts["lwa"] = [echo]
    with caplog.at_level(logging.DEBUG):
        error = login_error(stub.settings())
    assert not leaks(shown(error, caplog)), shown(error, caplog)
    assert not leaks(frame_locals_text(error))


def echo_token(status: int, render: Callable[[str], Any], content_type: str = "application/json") -> Script:
    """An SP-API endpoint (or proxy) that answers ``status`` with ``render(the access token it was sent)``."""
    return lambda body, headers: Reply(status, render(headers["x-amz-access-token"]), content_type)


API_ECHOES = {
    "400 SP-API error, token in message and details": echo_token(400, lambda token: {"errors": [
        {"code": "InvalidInput", "message": f"bad token {token}", "details": {"headers": {"token": token}}}]}),
    "403 SP-API error, token in the code": echo_token(403, lambda token: {"errors": [{"code": token}]}),
    "200 with errors, token URL-encoded": echo_token(200, lambda token: {"payload": [], "errors": [
        {"code": "InvalidInput", "message": f"x-amz-access-token={quote(token, safe='')}"}]}),
    "400 text, token JSON-escaped": echo_token(
        400, lambda token: json.dumps({"echo": token}).replace("/", "\\/").replace("|", "\\u007C"), "text/plain"),
    "500 text, token in base64": echo_token(
        500, lambda token: "headers: " + base64.b64encode(f"x-amz-access-token: {token}".encode()).decode(),
        "text/plain"),
    "200 text, token HTML-escaped": echo_token(
        200, lambda token: "<p>" + "".join(f"&#{ord(ch)};" for ch in token) + "</p>", "text/html"),
    "200 JSON cut short, token form-encoded": echo_token(
        200, lambda token: '{"payload": [], "echo": "' + quote_plus(token) + '", "more'),
}


@pytest.mark.parametrize("echo", API_ECHOES.values(), ids=API_ECHOES.keys())
def test_an_api_error_echoing_the_access_token_shows_no_secret(stub, caplog, echo) -> None:
    stub.scripts["api"] = [echo]
    with caplog.at_level(logging.DEBUG), pytest.raises(SPAPIError) as info:
        Client(stub.settings()).call(PARTICIPATIONS)
    assert stub.hits["api"] >= 1
    assert not leaks(shown(info.value, caplog)), shown(info.value, caplog)


def _dead_token_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}/auth/o2/token"


LOGIN_FAILURES: dict[str, tuple[list[Script], dict[str, Any]]] = {
    "4xx with JSON": ([echo_form(400, lambda form: {"error": "invalid_grant", "error_description": form})], {}),
    "5xx": ([Reply(503, {"error": "temporarily_unavailable"})], {}),
    "connection error": ([TOKEN], {"TokenUrl": "dead"}),
    "garbled body": ([echo_form(200, lambda form: '{"access_token": "' + form)], {}),
    "connection closed": ([Reply(close=True)], {}),
}


@pytest.mark.parametrize("failure", LOGIN_FAILURES.values(), ids=LOGIN_FAILURES.keys())
def test_no_login_error_path_keeps_a_secret_in_a_frame_local(stub, failure) -> None:
    script, keys = failure
    stub.scripts["lwa"] = list(script)
    if keys.get("TokenUrl") == "dead":
        keys = {"TokenUrl": _dead_token_url()}
    error = login_error(stub.settings(RetryCountMax=1, **keys))
    text = frame_locals_text(error)
    assert "_request_token" in text  # the frames of the login are there, with their locals
    assert not leaks(text), text
