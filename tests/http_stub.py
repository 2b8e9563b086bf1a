"""A small stub of LWA and SP-API for the hostile-HTTP tests: answers the emulator never gives (connections closed
before the answer, echoes of what was sent, pages without marketplace ids), scripted per test, with credentials in
every character class an encoding changes; and the login error a first login raises."""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from sqlspapi.definitions.schema import OperationSpec
from sqlspapi.errors import AuthError
from sqlspapi.http.client import Client
from sqlspapi.settings.connstr import Settings, parse

RETRIES = 2
KEYS = {"RetryWaitTimeMs": 1, "RetryCountMax": RETRIES}
LWA = "lwaToken"
PARTICIPATIONS = OperationSpec("getMarketplaceParticipations", "sellers", "v1", "GET",
                               "/sellers/v1/marketplaceParticipations", 100.0, 100)

#: The stub's credentials: every character class an encoding changes (``|``, ``/``, ``+``, ``=``).
CLIENT_SECRET = "amzn1.oa2-cs.v1.FAKE-s3cr3t/Pa55+w0rd=QQ"
REFRESH_TOKEN = "Atzr|FAKE-refresh/T0ken+Pad==Zz9"
ACCESS_TOKEN = "Atza|IwEBIaccess/T0ken+Pad==Yy8"
SECRETS = (CLIENT_SECRET, REFRESH_TOKEN, ACCESS_TOKEN)


@dataclass(frozen=True)
class Reply:
    """One answer of the stub: ``close`` hangs up without answering."""

    status: int = 200
    body: Any = b""
    content_type: str = "application/json"
    close: bool = False

    def data(self) -> bytes:
        """The body as bytes (a str encoded, anything else as JSON)."""
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
        """Bind a free port of 127.0.0.1 (serve with ``self.server.serve_forever``)."""
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
        """The reply of ``route`` (``lwa`` or ``api``) to a request: the script's next step, counted."""
        with self._lock:
            self.hits[route] += 1
            script = self.scripts[route]
            step = script.pop(0) if len(script) > 1 else script[0]
        return step(body, headers) if callable(step) else step

    def settings(self, **keys: Any) -> Settings:
        """Settings that log in and call the API at this stub, with connection-string ``keys`` added."""
        given = {"ClientId": "cid", "ClientSecret": CLIENT_SECRET, "RefreshToken": REFRESH_TOKEN,
                 "TokenUrl": f"{self.url}/auth/o2/token", "Endpoint": self.url, **KEYS, **keys}
        return parse(";".join(f"{k}={{{v}}}" for k, v in given.items()))



def login_error(settings: Settings) -> AuthError:
    """The AuthError a first login with ``settings`` raises (caught here, so that its traceback starts in a frame
    that holds no secret)."""
    try:
        Client(settings).access_token()
    except AuthError as exc:
        return exc
    raise AssertionError("the login succeeded")
