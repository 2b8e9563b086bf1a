"""A raw PostgreSQL frontend that logs in to the bridge with SCRAM-SHA-256, and well-formed Parse and Bind bodies
to build malformed messages from: shared by the hostile-wire tests."""

from __future__ import annotations

import socket
import struct

import pytest
from test_server_clients import PASSWORD, USER
from test_server_wire import Raw

from sqlspapi.server import protocol as pq

PARSE_OK = b"\0SELECT $1::text AS v\0" + struct.pack("!h", 0)
"""The body of a Parse of ``SELECT $1::text AS v`` (unnamed statement, no parameter types)."""
BIND_ONE = b"\0\0" + struct.pack("!hhi", 0, 1, 1)  # unnamed portal and statement, no formats, one parameter
"""The start of a Bind body with one parameter: its value's bytes come next."""


class Login(Raw):
    """A raw frontend that logs in with SCRAM-SHA-256 (scramp as the client), optionally from another loopback
    address (Linux routes all of 127.0.0.0/8 to lo)."""

    def __init__(self, port: int, user: str = USER, source: str = "127.0.0.1", timeout: float = 10) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout, source_address=(source, 0))
        self.buf, self.port, self.user = b"", port, user

    def login(self, password: str = PASSWORD) -> list[tuple[bytes, bytes]]:
        """Startup and SCRAM; the messages up to ReadyForQuery, or up to the ErrorResponse that refused us."""
        scramp = pytest.importorskip("scramp")
        body = f"user\0{self.user}\0database\0main\0\0".encode()
        self.sock.sendall(struct.pack("!ii", len(body) + 8, pq.PROTOCOL_3_0) + body)
        tag, data = self.read()
        if tag != b"R":
            return [(tag, data)]
        client = scramp.ScramClient(["SCRAM-SHA-256"], self.user, password)
        first = client.get_client_first().encode()
        self.send(b"p", pq.cstr("SCRAM-SHA-256") + struct.pack("!i", len(first)) + first)
        tag, data = self.read()
        if tag != b"R":
            return [(tag, data)]
        client.set_server_first(data[4:].decode())
        self.send(b"p", client.get_client_final().encode())
        msgs = []
        while not msgs or msgs[-1][0] not in (b"Z", b"E"):
            msgs.append(self.read())
        return msgs

    def closed(self) -> bool:
        """True once the server closed the connection (anything it sent first is discarded)."""
        try:
            while True:
                self.read()
        except (ConnectionError, OSError):
            return True

