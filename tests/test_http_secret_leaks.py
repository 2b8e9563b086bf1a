"""Hostile answers at the HTTP layer (issue 8, item 5): no secret leaves the process in any encoding.

A token endpoint, proxy or API that echoes what it was sent (the grant form URL-encoded, the access token
JSON-escaped, HTML-escaped or base64-encoded) never puts a secret in an exception's text, its repr or the logs;
and no frame an LWA error passes through holds the client secret or the refresh token in a local that error
reporters recording frame locals (Sentry, rich tracebacks, ``pytest -l``) would keep. The echoes come from the
stub server of ``http_stub.py``; a leak oracle here reads every text in every encoding a secret may take.
"""

from __future__ import annotations

import base64
import html
import json
import logging
import re
import socket
import traceback
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qs, quote, quote_plus, unquote, unquote_plus

import pytest
from emu_helpers import fresh_process_state  # noqa: F401 (autouse: each test starts as a new process would)
from http_stub import (
    CLIENT_SECRET,
    PARTICIPATIONS,
    REFRESH_TOKEN,
    SECRETS,
    TOKEN,
    Reply,
    Script,
    login_error,
)

from sqlspapi.errors import SPAPIError
from sqlspapi.http.client import Client

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
