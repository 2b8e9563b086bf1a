"""The emulator's HTTP transport: a threading server on a socket, and the handler that answers each request.

:class:`Server` is a stdlib ``ThreadingHTTPServer`` that can also drop its open keep-alive connections when it stops;
:func:`make_handler` gives the request handler class that reads a request, passes it to ``handle`` (the
:class:`~sqlspapi.emulator.server.Emulator`'s :meth:`~sqlspapi.emulator.server.Emulator.handle`) and writes the answer
with its ``x-amzn-RequestId``.
"""

from __future__ import annotations

import socket
import threading
import uuid
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from sqlspapi.emulator.common import encode_json
from sqlspapi.emulator.faults import RawAnswer

#: What answers one request: (method, target, headers, body) -> (status, JSON body or RawAnswer, extra headers).
Handle = Callable[[str, str, Any, bytes], "tuple[int, Any, dict[str, str]]"]


class Server(ThreadingHTTPServer):
    """A threading HTTP server that can also drop its open keep-alive connections on stop."""

    daemon_threads = True
    request_queue_size = 128  # bursts of parallel clients (bridge, benchmarks) must not be refused

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        super().__init__(*args, **kwargs)

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        """Track the connection while a thread serves it."""
        with self._open_lock:
            self._open.add(request)
        try:
            super().process_request_thread(request, client_address)
        finally:
            with self._open_lock:
                self._open.discard(request)

    def close_connections(self) -> None:
        """Shut down every open client connection (their threads then end)."""
        with self._open_lock:
            conns = list(self._open)
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def make_handler(handle: Handle) -> type[BaseHTTPRequestHandler]:
    """The request handler class that answers every method through ``handle``."""
    class _Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # keep-alive answers must not wait for delayed ACKs

        def version_string(self) -> str:
            """The Server header."""
            return "sqlspapi-emulator"

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length > 0 else b""
            status, answer, extra = handle(self.command, self.path, self.headers, body)
            raw = answer if isinstance(answer, RawAnswer) else RawAnswer(encode_json(answer))
            data = raw.data
            self.send_response(status)
            self.send_header("Content-Type", raw.content_type)
            self.send_header("Content-Length", str(len(data) if raw.length is None else raw.length))
            self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
            for key, value in extra.items():
                self.send_header(key, value)
            if raw.close:
                self.send_header("Connection", "close")
                self.close_connection = True
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _serve

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
            """Stay quiet."""

    return _Handler


__all__ = ["Handle", "Server", "make_handler"]
