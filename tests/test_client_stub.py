"""The HTTP client against answers the emulator never gives, from a tiny stub server in this file: errors inside
a 2xx envelope, the request headers, a denied 403, and downloads that fail."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from client_operations import PARTICIPATIONS
from emu_helpers import fresh_process_state  # noqa: F401 (autouse: each test starts as a new process would)

from sqlspapi.errors import OperationalError, SPAPIError
from sqlspapi.http.client import Client
from sqlspapi.settings.connstr import parse

# ------------------------------------------------------------------- answers the emulator never gives


class _Stub(BaseHTTPRequestHandler):
    """Serves LWA tokens and one canned SP-API answer; records request headers."""

    answer: tuple[int, dict] = (200, {})
    seen: list[dict] = []

    def log_message(self, *args):  # quiet
        pass

    def _send(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("x-amzn-RequestId", "stub-req-1")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        self.rfile.read(int(self.headers.get("content-length", 0)))
        self._send(200, {"access_token": "Atza|stub-token", "expires_in": 3600, "token_type": "bearer"})

    def do_GET(self):
        type(self).seen.append(dict(self.headers))
        self._send(*type(self).answer)


@pytest.fixture
def stub():
    handler = type("Handler", (_Stub,), {"seen": [], "answer": (200, {})})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    yield handler, parse(f"ClientId=cid;ClientSecret=csecret;RefreshToken=Atzr|r;TokenUrl={url}/auth/o2/token;"
                         f"Endpoint={url};RetryMode=None")
    server.shutdown()
    server.server_close()


def test_errors_inside_a_2xx_envelope_raise(stub):
    handler, settings = stub
    handler.answer = (200, {"payload": {}, "errors": [{"code": "InvalidInput", "message": "Bad thing",
                                                        "details": "field X"}]})
    with pytest.raises(SPAPIError) as info:
        Client(settings).call(PARTICIPATIONS)
    assert info.value.status == 200 and info.value.code == "InvalidInput" and info.value.details == "field X"
    assert str(info.value) == ("getMarketplaceParticipations failed (HTTP 200 InvalidInput): Bad thing — field X "
                               "[request id stub-req-1]")


def test_request_headers(stub):
    handler, settings = stub
    Client(settings).call(PARTICIPATIONS)
    [headers] = handler.seen
    lower = {k.lower(): v for k, v in headers.items()}
    assert lower["x-amz-access-token"] == "Atza|stub-token"
    assert lower["user-agent"].startswith("sqlspapi/") and "(Language=Python/" in lower["user-agent"]
    assert len(lower["x-amz-date"]) == 16 and lower["x-amz-date"].endswith("Z") and "T" in lower["x-amz-date"]
    assert lower["accept"] == "application/json"


def test_403_denied_has_auth_hint_and_is_not_refreshed(stub):
    handler, settings = stub
    handler.answer = (403, {"errors": [{"code": "Unauthorized", "message": "Access to requested resource is "
                                        "denied.", "details": ""}]})
    with pytest.raises(SPAPIError) as info:
        Client(settings).call(PARTICIPATIONS)
    assert info.value.status == 403 and "role" in str(info.value)
    assert len(handler.seen) == 1


def test_download_retries_5xx_then_names_the_status(stub):
    handler, settings = stub
    client = Client(settings.with_overrides(RetryMode="RetryAny", RetryCountMax=2, RetryWaitTimeMs=1))
    handler.answer = (503, {})
    with pytest.raises(OperationalError, match=r"download from http://127\.0\.0\.1:\d+ failed \(HTTP 503\)"):
        client.download(settings.endpoint + "/doc/1")
    assert len(handler.seen) == 3
    handler.answer = (404, {})
    with pytest.raises(OperationalError, match=r"\(HTTP 404\)"):
        client.download(settings.endpoint + "/doc/1")
    assert len(handler.seen) == 4  # a 4xx is not retried
    handler.answer = (200, {"rows": 1})
    assert client.download(settings.endpoint + "/doc/1").json() == {"rows": 1}
    assert "x-amz-access-token" not in {k.lower() for k in handler.seen[-1]}
