"""The bridge under load and fuzz (issue 8, connection side): a bounded load test (20 psycopg clients) and a
seeded protocol fuzz (~500 malformed messages) run against ``sqlspapi serve --demo`` in its own process: it stays
up, a well-behaved client keeps getting answers, and its memory stays within a bound."""

from __future__ import annotations

import collections
import os
import random
import re
import socket
import struct
import subprocess
import sys
import threading
import time

import pytest
from test_server_clients import PASSWORD, USER, pg_connect
from test_server_wire import tags
from wire_login import BIND_ONE, PARSE_OK, Login

from sqlspapi.server import protocol as pq

psycopg = pytest.importorskip("psycopg")


# ---------------------------------------------------------------- load and fuzz, against `sqlspapi serve --demo`

class ServeProcess:
    """``sqlspapi serve --demo`` in a child process: its port, resident memory and log."""

    def __init__(self, *args: str) -> None:
        env = dict(os.environ, SQLSPAPI_BRIDGE_PASSWORD=PASSWORD)
        self.proc = subprocess.Popen([sys.executable, "-m", "sqlspapi", "serve", "--demo", "--user", USER,
                                      "--port", "0", *args], env=env, stderr=subprocess.PIPE, text=True)
        self.log: list[str] = []
        announced = threading.Event()

        def read_log() -> None:
            for line in self.proc.stderr:
                self.log.append(line)
                if " listening on " in line:
                    announced.set()
            announced.set()

        threading.Thread(target=read_log, daemon=True).start()
        announced.wait(60)
        ports = [m.group(1) for line in self.log for m in [re.search(r"listening on [\d.]+:(\d+)", line)] if m]
        assert ports, "".join(self.log)
        self.port = int(ports[0])

    def rss_mb(self) -> float:
        with open(f"/proc/{self.proc.pid}/status", encoding="ascii") as status:
            return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:")) / 1024

    def answers(self) -> bool:
        """Alive, and a new client logs in and gets a query answered."""
        with pg_connect(self.port) as cn:
            return self.proc.poll() is None and cn.execute("SELECT 1").fetchone() == (1,)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()


@pytest.fixture(scope="module")
def bridge_process():
    if not os.path.exists("/proc/self/status"):
        pytest.skip("resident memory is read from /proc")
    # the fuzz fails logins on purpose; the throttle itself is tested above
    proc = ServeProcess("--max-failed-logins", "0")
    yield proc
    proc.stop()


MIX = ["SELECT * FROM marketplaces",
       'SELECT "orderId", "createdTime", "proceeds_grandTotal_amount" FROM orders ORDER BY "createdTime" DESC LIMIT 25',
       "SELECT c.relname FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
       "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'v') ORDER BY 1"]
LOAD_CLIENTS, LOAD_SECONDS, RSS_BOUND_MB = 20, 8.0, 60


def run_mix(cn, rng: random.Random) -> None:
    sql = rng.choice(MIX)
    rows = cn.execute(sql).fetchall()
    assert rows and (sql != MIX[2] or ("orders",) in rows), sql


def test_load_20_clients_mixed_queries(bridge_process):
    """20 psycopg clients run marketplaces, orders with LIMIT and a catalog query for several seconds: no error,
    the server stays up, a client running SELECT 1 beside them keeps getting answers, memory stays bounded."""
    def warm(i: int) -> None:
        with pg_connect(bridge_process.port) as cn:
            for sql in MIX:
                cn.execute(sql).fetchall()

    workers = [threading.Thread(target=warm, args=(i,)) for i in range(LOAD_CLIENTS)]
    [t.start() for t in workers]
    [t.join(60) for t in workers]
    baseline = bridge_process.rss_mb()
    stop = threading.Event()
    done: list[int] = []
    failures: list[BaseException] = []

    def client(i: int) -> None:
        rng, n = random.Random(i), 0
        try:
            with pg_connect(bridge_process.port) as cn:
                while not stop.is_set():
                    run_mix(cn, rng)
                    n += 1
        except BaseException as exc:  # noqa: BLE001 - reported below
            failures.append(exc)
        done.append(n)

    workers = [threading.Thread(target=client, args=(i,)) for i in range(LOAD_CLIENTS)]
    [t.start() for t in workers]
    probe_answers = 0
    with pg_connect(bridge_process.port) as probe:
        deadline = time.monotonic() + LOAD_SECONDS
        while time.monotonic() < deadline:
            assert probe.execute("SELECT 1").fetchone() == (1,)
            probe_answers += 1
            time.sleep(0.05)
    stop.set()
    [t.join(60) for t in workers]
    assert not failures, failures[:3]
    assert len(done) == LOAD_CLIENTS and sum(done) >= LOAD_CLIENTS
    assert probe_answers >= 3  # answered all along, not only before the load or after it
    assert bridge_process.answers()
    assert bridge_process.rss_mb() - baseline < RSS_BOUND_MB, (baseline, bridge_process.rss_mb())


# -- the fuzz: seeded random malformed input before, during and after login

ANSWER = struct.pack("!hi", 1, 2) + b"42"  # the DataRow of SELECT 42
FRONTEND = b"QPBDESHCFXdcf"          # message types a logged-in client may send
TEMPLATES = [b"Q" + b"SELECT 1\0", b"P" + PARSE_OK, b"B" + BIND_ONE + b"42" + struct.pack("!h", 0),
             b"D" + b"S\0", b"E" + b"\0" + struct.pack("!i", 0), b"C" + b"P\0", b"F" + struct.pack("!i", 1)]


def mutated(rng: random.Random, data: bytes) -> bytes:
    """Flip, cut, extend or replace bytes of ``data``."""
    data = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        kind = rng.randrange(4)
        if kind == 0 and data:
            data[rng.randrange(len(data))] = rng.randrange(256)
        elif kind == 1:
            del data[rng.randrange(len(data) + 1):]
        elif kind == 2:
            data += rng.randbytes(rng.randint(1, 16))
        else:
            data = bytearray(rng.randbytes(rng.randint(0, 40)))
    return bytes(data)


def garbage_message(rng: random.Random) -> bytes:
    """One malformed message after login: a mutated body under a valid or unknown type, or a bad length."""
    roll = rng.random()
    if roll < 0.08:
        return bytes([rng.choice([t for t in range(33, 127) if t not in FRONTEND])]) + struct.pack("!i", 4)
    if roll < 0.14:
        return rng.choice(b"QPBE").to_bytes(1, "big") + struct.pack("!i", rng.choice([-1, 0, 3, 1 << 30]))
    template = rng.choice(TEMPLATES)
    tag = template[:1] if rng.random() < 0.8 else bytes([rng.choice(FRONTEND)])
    body = mutated(rng, template[1:])
    return tag + struct.pack("!i", len(body) + 4) + body


def garbage_before_login(rng: random.Random) -> bytes:
    """A bad startup packet: odd lengths, unknown protocol codes, truncated, or a bad password message."""
    params = f"user\0{USER}\0database\0main\0\0".encode()
    startup = struct.pack("!ii", len(params) + 8, pq.PROTOCOL_3_0) + params
    kind = rng.randrange(5)
    if kind == 0:
        return struct.pack("!i", rng.choice([-5, 0, 4, 7, 10001, 1 << 30])) + rng.randbytes(rng.randint(0, 12))
    if kind == 1:
        return struct.pack("!ii", 16, rng.randrange(1 << 31)) + rng.randbytes(8)
    if kind == 2:
        return startup[:rng.randrange(len(startup))]
    if kind == 3:
        return struct.pack("!ii", 8, pq.SSL_REQUEST) + mutated(rng, startup)
    return startup + mutated(rng, b"p" + struct.pack("!i", 30) + b"SCRAM-SHA-256\0" + struct.pack("!i", 8)
                             + b"n,,n=,r=")


def test_protocol_fuzz(bridge_process):
    """~500 malformed messages from a fixed seed: every connection gets an answer and stays in sync or is closed,
    the server stays up, a normal client works afterwards, memory stays bounded, nothing is logged as a crash."""
    rng = random.Random(20261126)
    port = bridge_process.port
    bridge_process.answers()
    baseline = bridge_process.rss_mb()
    sent, conn, seen = 0, None, collections.Counter()
    while sent < 500:
        if rng.random() < 0.25:  # before or during login: the server answers or closes once we stop talking
            s = socket.create_connection(("127.0.0.1", port), timeout=10)
            s.sendall(garbage_before_login(rng))
            s.shutdown(socket.SHUT_WR)
            first = s.recv(1)
            while s.recv(65536):
                pass
            s.close()
            seen["refused before login" if first == b"E" else "closed before login"] += 1
            sent += 1
            continue
        if conn is None:
            conn = Login(port)
            assert tags(conn.login())[-1:] == b"Z"
        for _ in range(rng.randint(1, 3)):
            conn.sock.sendall(garbage_message(rng))
            sent += 1
        try:  # in sync again: a Sync and a query get their own answer, or the server closed the connection
            conn.send(b"S")
            conn.send(b"Q", b"SELECT 42 AS answer\0")
            errors = 0
            while True:
                tag, body = conn.read()
                errors += tag == b"E"
                if tag == b"D" and body == ANSWER:
                    assert conn.read()[0] == b"C" and conn.read()[0] == b"Z"
                    seen["error, then in sync" if errors else "no error, in sync"] += 1
                    break
        except (ConnectionError, BrokenPipeError):
            conn.close()
            conn = None
            seen["closed after login"] += 1
    # the fuzz reached every path: errors answered in sync, connections closed, refusals before login
    assert seen["error, then in sync"] >= 50 and min(seen[k] for k in (
        "closed after login", "refused before login", "closed before login")) >= 10, seen
    assert bridge_process.answers()
    assert bridge_process.rss_mb() - baseline < RSS_BOUND_MB, (baseline, bridge_process.rss_mb())
    log = "".join(bridge_process.log)
    assert "Traceback" not in log, log[-3000:]
