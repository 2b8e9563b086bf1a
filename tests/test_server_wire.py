"""The bridge's protocol behaviour seen from a raw socket against the real server stack (emulator → engine →
session → protocol): startup and SSL/GSS replies, several results per Query, extended query with Flush,
error recovery until Sync, portal suspension, describe without API calls, cancel, client limits, disconnects."""

from __future__ import annotations

import socket
import struct
import threading
import time

import pytest
from test_server_protocol import parse_datarows

from sqlspapi.server import protocol as pq
from sqlspapi.server import start_in_thread

# ---------------------------------------------------------------- raw socket against the real stack

class Raw:
    """A minimal frontend speaking bytes, for what drivers hide."""

    def __init__(self, port: int, user: str = "sqlspapi") -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.buf = b""
        self.port = port
        self.user = user

    def startup(self) -> dict:
        body = f"user\0{self.user}\0database\0main\0application_name\0raw\0\0".encode()
        self.sock.sendall(struct.pack("!ii", len(body) + 8, pq.PROTOCOL_3_0) + body)
        msgs = self.until(b"Z")
        self.params = {k.decode(): v.decode() for t, b in msgs if t == b"S" for k, v in [b[:-1].split(b"\0")]}
        self.key = next(struct.unpack("!ii", b) for t, b in msgs if t == b"K")
        return self.params

    def send(self, tag: bytes, body: bytes = b"") -> None:
        self.sock.sendall(tag + struct.pack("!i", len(body) + 4) + body)

    def read(self) -> tuple[bytes, bytes]:
        while len(self.buf) < 5 or len(self.buf) < 1 + struct.unpack_from("!i", self.buf, 1)[0]:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed")
            self.buf += chunk
        n = struct.unpack_from("!i", self.buf, 1)[0]
        tag, body, self.buf = self.buf[:1], self.buf[5:1 + n], self.buf[1 + n:]
        return tag, body

    def until(self, last: bytes) -> list[tuple[bytes, bytes]]:
        out = []
        while True:
            msg = self.read()
            out.append(msg)
            if msg[0] == last:
                return out

    def query(self, sql: str) -> list[tuple[bytes, bytes]]:
        self.send(b"Q", sql.encode() + b"\0")
        return self.until(b"Z")

    def close(self) -> None:
        self.sock.close()


def tags(msgs):
    return b"".join(t for t, _ in msgs)


def sqlstate(body: bytes) -> str:
    return next(f[1:].decode() for f in body.split(b"\0") if f[:1] == b"C")


@pytest.fixture(scope="module")
def emulator():
    from sqlspapi import emulator as emu

    with emu.start(time_scale=1000.0, orders=300) as e:
        yield e


@pytest.fixture(scope="module")
def server(emulator):
    handle = start_in_thread(emulator.connection_string(), trust_loopback=True, max_clients=8)
    yield handle
    handle.stop()


@pytest.fixture()
def raw(server):
    r = Raw(server.port)
    r.startup()
    yield r
    r.close()


def test_startup_parameters_and_key(raw):
    assert raw.params["server_version"] == "15.0" and raw.params["client_encoding"] == "UTF8"
    assert raw.params["DateStyle"] == "ISO, MDY" and raw.params["integer_datetimes"] == "on"
    assert raw.params["standard_conforming_strings"] == "on" and raw.params["TimeZone"] == "UTC"
    assert raw.params["application_name"] == "raw"


@pytest.mark.parametrize("code", [pq.SSL_REQUEST, pq.GSSENC_REQUEST])
def test_ssl_and_gss_requests_answered_n_without_tls(server, code):
    s = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    s.sendall(struct.pack("!ii", 8, code))
    assert s.recv(1) == b"N"
    s.close()


def test_multiple_results_in_one_query(raw):
    msgs = raw.query('BEGIN;DECLARE c CURSOR WITH HOLD FOR SELECT marketplace_id FROM marketplaces;'
                     'FETCH 2 IN c')
    assert tags(msgs) == b"CCTDDCZ"
    assert [b for t, b in msgs if t == b"C"] == [b"BEGIN\0", b"DECLARE CURSOR\0", b"FETCH 2\0"]
    assert msgs[-1][1] == b"T"
    assert tags(raw.query("FETCH 100 IN c; CLOSE c; COMMIT"))[-3:] == b"CCZ"
    assert tags(raw.query("")) == b"IZ"


def test_error_in_simple_query_stops_the_rest(raw):
    msgs = raw.query("SELECT 1; SELECT nope FROM orders; SELECT 2")
    assert tags(msgs) == b"TDCEZ" and sqlstate(msgs[3][1]) == "42703"
    assert tags(raw.query("SELECT 3")) == b"TDCZ"


def parse(name: str, sql: str, oids=()) -> bytes:
    return name.encode() + b"\0" + sql.encode() + b"\0" + struct.pack("!h", len(oids)) + b"".join(
        struct.pack("!I", o) for o in oids)


def bind(portal: str, stmt: str, params=(), result_formats=()) -> bytes:
    body = portal.encode() + b"\0" + stmt.encode() + b"\0" + struct.pack("!h", 0) + struct.pack("!h", len(params))
    for p in params:
        body += struct.pack("!i", -1) if p is None else struct.pack("!i", len(p)) + p
    return body + struct.pack("!h", len(result_formats)) + b"".join(struct.pack("!h", f) for f in result_formats)


def test_extended_describe_runs_nothing_and_flush_sends(raw, emulator):
    emulator.calls.clear()
    raw.send(b"P", parse("s1", 'SELECT "orderId", "proceeds_grandTotal_amount" FROM orders WHERE "orderId" = $1'))
    raw.send(b"D", b"Ss1\0")
    raw.send(b"H")
    msgs = [raw.read() for _ in range(3)]
    assert tags(msgs) == b"1tT"
    assert struct.unpack("!hI", msgs[1][1]) == (1, 25)  # real types, never 0
    assert len(emulator.calls) == 0  # describing costs no SP-API call
    raw.send(b"B", bind("p1", "s1", [b"no-such-order"]))
    raw.send(b"E", b"p1\0" + struct.pack("!i", 0))
    raw.send(b"S")
    msgs = raw.until(b"Z")  # the API refuses the id: its code and request id reach the client
    assert tags(msgs) == b"2EZ" and sqlstate(msgs[1][1]) == "58000"
    assert b"InvalidInput" in msgs[1][1] and b"request id" in msgs[1][1]
    raw.send(b"B", bind("p1", "s1", [None]))
    raw.send(b"E", b"p1\0" + struct.pack("!i", 0))
    raw.send(b"S")
    assert tags(raw.until(b"Z")) == b"2CZ"


def test_error_skips_until_sync(raw):
    raw.send(b"P", parse("", "SELECT nope FROM orders"))
    raw.send(b"B", bind("", ""))
    raw.send(b"E", b"\0" + struct.pack("!i", 0))
    raw.send(b"S")
    msgs = raw.until(b"Z")
    assert tags(msgs) == b"EZ" and sqlstate(msgs[0][1]) == "42703"
    raw.send(b"P", parse("", "SELECT 1 AS one"))
    raw.send(b"B", bind("", "", result_formats=[1]))
    raw.send(b"D", b"P\0")
    raw.send(b"E", b"\0" + struct.pack("!i", 0))
    raw.send(b"S")
    msgs = raw.until(b"Z")
    assert tags(msgs) == b"12TDCZ"
    (value,) = parse_datarows(b"D" + struct.pack("!i", 4 + len(msgs[3][1])) + msgs[3][1])[0]
    assert len(value) in (4, 8) and int.from_bytes(value, "big", signed=True) == 1  # binary int4/int8


def test_portal_suspension(raw):
    raw.send(b"P", parse("", "SELECT marketplace_id FROM marketplaces"))
    raw.send(b"B", bind("cur", ""))
    raw.send(b"E", b"cur\0" + struct.pack("!i", 2))
    raw.send(b"H")
    assert tags([raw.read() for _ in range(5)]) == b"12DDs"
    raw.send(b"E", b"cur\0" + struct.pack("!i", 0))
    raw.send(b"S")
    rest = raw.until(b"Z")
    assert tags(rest)[-2:] == b"CZ" and b"D" in tags(rest)


def test_cancel_request_interrupts(server):
    r = Raw(server.port)
    r.startup()
    pid, secret = r.key
    r.send(b"Q", b"WITH RECURSIVE g(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM g) SELECT count(*) FROM g\0")
    time.sleep(0.5)
    c = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    c.sendall(struct.pack("!iiii", 16, pq.CANCEL_REQUEST, pid, secret))
    c.close()
    msgs = r.until(b"Z")
    assert b"E" in tags(msgs) and sqlstate(dict(msgs)[b"E"]) == "57014"
    assert tags(r.query("SELECT 1")) == b"TDCZ"
    r.close()


def test_clients_are_independent_and_limited(server):
    conns = [Raw(server.port) for _ in range(8)]
    for c in conns:
        c.startup()
    extra = Raw(server.port)
    body = b"user\0x\0\0"
    extra.sock.sendall(struct.pack("!ii", len(body) + 8, pq.PROTOCOL_3_0) + body)
    tag, err = extra.read()
    assert tag == b"E" and sqlstate(err) == "53300"
    threads = [threading.Thread(target=c.query, args=("SELECT count(*) FROM marketplaces",)) for c in conns]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for c in conns:
        c.close()


def test_client_vanishing_mid_stream_frees_the_server(server):
    r = Raw(server.port)
    r.startup()
    r.send(b"Q", b"WITH RECURSIVE g(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM g WHERE x < 2000000) "
                 b"SELECT x, 'row ' || x FROM g\0")
    assert r.read()[0] == b"T"
    time.sleep(0.3)  # the server fills the socket and waits (backpressure), then the client goes away
    r.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    r.close()
    deadline = time.time() + 20
    while time.time() < deadline and len(server.server.clients) > 0:
        time.sleep(0.1)
    assert len(server.server.clients) == 0
    other = Raw(server.port)
    other.startup()
    assert tags(other.query("SELECT 1")) == b"TDCZ"
    other.close()
