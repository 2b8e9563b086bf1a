"""The bridge under hostile input and load, seen from real clients and raw sockets (issue 8, connection side).

An empty bridge password refuses to start; a malformed Query, Parse or Bind gets PostgreSQL's error and a
ReadyForQuery (an unknown message type a FATAL and a close, as PostgreSQL does); connections still logging in are
capped, logins time out, and repeated failed logins from one address are refused for a while. A bounded load test
(20 psycopg clients) and a seeded protocol fuzz (~500 malformed messages) run against ``sqlspapi serve --demo`` in
its own process: it stays up, a well-behaved client keeps getting answers, and its memory stays within a bound.
"""

from __future__ import annotations

import collections
import contextlib
import os
import random
import re
import shlex
import socket
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from test_server_clients import PASSWORD, USER, pg_connect, psql
from test_server_wire import Raw, sqlstate, tags

from sqlspapi.server import build_parser, serve, start_in_thread
from sqlspapi.server import protocol as pq
from sqlspapi.server.app import LoginLimits, LoginThrottle

psycopg = pytest.importorskip("psycopg")


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


@contextlib.contextmanager
def hang_guard(cn, seconds: float = 30):
    """Cut psycopg's socket if the block is still waiting after ``seconds``: a hang becomes an error."""
    def cut() -> None:
        with socket.socket(fileno=os.dup(cn.pgconn.socket)) as sock:
            sock.shutdown(socket.SHUT_RDWR)

    timer = threading.Timer(seconds, cut)
    timer.start()
    try:
        yield
    finally:
        timer.cancel()


def message_of(body: bytes) -> str:
    return next(f[1:].decode() for f in body.split(b"\0") if f[:1] == b"M")


@pytest.fixture(scope="module")
def emulator():
    from sqlspapi import emulator as emu

    with emu.start(time_scale=1000.0, orders=300) as e:
        yield e


# ---------------------------------------------------------------- item 9: an empty bridge password

@pytest.mark.parametrize("password", ["", "  \t"], ids=["empty", "blank"])
def test_an_empty_password_refuses_to_start(emulator, password):
    with pytest.raises(ValueError, match="bridge password is empty"):
        start_in_thread(emulator.connection_string(), password=password)

    def started(port: int) -> None:
        raise AssertionError(f"serve() listened on {port} with an empty password")

    with pytest.raises(ValueError, match="bridge password is empty"):
        serve(emulator.connection_string(), password=password, port=0, ready=started)


def test_serve_command_refuses_an_empty_password_from_the_environment():
    env = dict(os.environ, SQLSPAPI_BRIDGE_PASSWORD="")
    done = subprocess.run([sys.executable, "-m", "sqlspapi", "serve", "--demo", "--port", "0"], env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "SQLSPAPI_BRIDGE_PASSWORD" in done.stderr, done.stderr
    assert "empty" in done.stderr and "Traceback" not in done.stderr, done.stderr


# ---------------------------------------------------------------- item 11: malformed Query, Parse, Bind

@pytest.fixture(scope="module")
def server(emulator):
    handle = start_in_thread(emulator.connection_string(), user=USER, password=PASSWORD)
    yield handle
    handle.stop()


@pytest.fixture()
def raw(server):
    r = Login(server.port, timeout=5)  # today's bug was a hang: fail in seconds, not minutes
    assert tags(r.login())[-1:] == b"Z"
    yield r
    r.close()


def test_latin1_bytes_in_a_query_get_22021_and_the_connection_stays_usable(server):
    """A client whose text is LATIN1 while client_encoding is UTF8 sends 'é' as one byte (psycopg sends bytes
    queries as they are): PostgreSQL's 22021, in the simple and in the extended protocol, then normal queries."""
    with pg_connect(server.port) as cn, hang_guard(cn):
        with pytest.raises(psycopg.errors.CharacterNotInRepertoire, match=r'encoding "UTF8": 0xe9'):
            cn.execute(b"SELECT 'caf\xe9' AS drink")
        assert cn.execute("SELECT 'café' AS drink").fetchone() == ("café",)
        with pytest.raises(psycopg.errors.CharacterNotInRepertoire):
            cn.execute(b"SELECT 'caf\xe9' AS drink WHERE 1 = %s", (1,))
        assert cn.execute("SELECT count(*) FROM marketplaces").fetchone()[0] > 0


def test_psql_with_a_latin1_terminal_gets_an_error_not_a_hang(server):
    out = psql(server.port, "SELECT 'caf\udce9' AS drink", PGCLIENTENCODING="LATIN1")  # the byte 0xe9 in argv
    assert out.returncode == 1 and "invalid byte sequence for encoding" in out.stderr, out.stderr


PARSE_OK = b"\0SELECT $1::text AS v\0" + struct.pack("!h", 0)
BIND_ONE = b"\0\0" + struct.pack("!hhi", 0, 1, 1)  # unnamed portal and statement, no formats, one parameter

MALFORMED = [
    ("query without NUL", [(b"Q", b"SELECT 1")], "08P01", "invalid string in message"),
    ("empty query message", [(b"Q", b"")], "08P01", "invalid string in message"),
    ("bytes after the query's NUL", [(b"Q", b"SELECT 1\0junk")], "08P01", "invalid message format"),
    ("query not UTF-8", [(b"Q", b"SELECT 'caf\xe9' AS drink\0")], "22021",
     'invalid byte sequence for encoding "UTF8": 0xe9 0x27 0x20'),
    ("parse not UTF-8", [(b"P", b"\0SELECT 'caf\xe9'\0\0\0"), (b"S", b"")], "22021",
     'invalid byte sequence for encoding "UTF8": 0xe9 0x27'),
    ("parse without NUL", [(b"P", b"\0SELECT 1"), (b"S", b"")], "08P01", "invalid string in message"),
    ("parse cut in its OIDs", [(b"P", b"\0SELECT $1\0" + struct.pack("!h", 3) + b"\0\0"), (b"S", b"")], "08P01",
     "insufficient data left in message"),
    ("bind parameter not UTF-8", [(b"P", PARSE_OK), (b"B", BIND_ONE + b"\xe9" + struct.pack("!h", 0)),
                                  (b"E", b"\0" + struct.pack("!i", 0)), (b"S", b"")], "22021",
     'invalid byte sequence for encoding "UTF8": 0xe9'),
    ("bind portal name not UTF-8", [(b"P", b"\0SELECT 1\0\0\0"), (b"B", b"\xe9\0\0" + struct.pack("!hhh", 0, 0, 0)),
                                    (b"S", b"")], "22021", 'invalid byte sequence for encoding "UTF8": 0xe9'),
    ("bind cut short", [(b"P", b"\0SELECT 1\0\0\0"), (b"B", b"\0\0" + struct.pack("!h", 5)), (b"S", b"")],
     "08P01", "insufficient data left in message"),
]


@pytest.mark.parametrize("messages,state,text", [pytest.param(*case[1:], id=case[0]) for case in MALFORMED])
def test_malformed_messages_get_postgresql_errors_and_ready_for_query(raw, messages, state, text):
    """What PostgreSQL 15 answers to each (checked against a real server): an ERROR, then ReadyForQuery."""
    for tag, body in messages:
        raw.send(tag, body)
    msgs = raw.until(b"Z")
    errors = [body for tag, body in msgs if tag == b"E"]
    assert len(errors) == 1 and sqlstate(errors[0]) == state and message_of(errors[0]) == text
    assert tags(raw.query("SELECT 1")) == b"TDCZ"


def test_unknown_message_type_is_fatal_as_in_postgresql(raw, server):
    raw.send(b"y", b"abc")
    tag, body = raw.read()
    assert tag == b"E" and sqlstate(body) == "08P01" and b"SFATAL\0" in body
    assert message_of(body) == "invalid frontend message type 121"
    assert raw.closed()
    with pg_connect(server.port) as cn:
        assert cn.execute("SELECT 1").fetchone() == (1,)


def test_a_suspended_portal_is_not_timed_while_the_client_is_away(raw):
    """statement_timeout counts per Execute, as in PostgreSQL: a portal read in chunks does not time out between
    them (the client is away, not the statement)."""
    assert tags(raw.query("SET statement_timeout = 300")) == b"CZ"
    raw.send(b"P", b"\0SELECT marketplace_id FROM marketplaces\0\0\0")
    raw.send(b"B", b"cur\0\0" + struct.pack("!hhh", 0, 0, 0))
    raw.send(b"E", b"cur\0" + struct.pack("!i", 1))
    raw.send(b"H")
    assert tags([raw.read() for _ in range(4)]) == b"12Ds"
    time.sleep(0.8)  # longer than the timeout, between two Executes
    raw.send(b"E", b"cur\0" + struct.pack("!i", 0))
    raw.send(b"S")
    msgs = raw.until(b"Z")
    assert tags(msgs)[-2:] == b"CZ" and b"E" not in tags(msgs), msgs


def test_max_query_size_is_a_serve_setting(emulator):
    with start_in_thread(emulator.connection_string(), user=USER, password=PASSWORD, max_query_size="1kB") as h, \
            pg_connect(h.port) as cn:
        with pytest.raises(psycopg.errors.ProgramLimitExceeded, match="limit of 1024 bytes"):
            cn.execute("SELECT '" + "x" * 2000 + "' AS big")
        assert cn.execute("SELECT 1").fetchone() == (1,)
    with pytest.raises(ValueError, match="--max-query-size '12XB' is not a size"):
        start_in_thread(emulator.connection_string(), user=USER, password=PASSWORD, max_query_size="12XB")


# ---------------------------------------------------------------- item 12: limits before login

def test_authentication_timeout_is_short_and_configurable(emulator):
    limits = LoginLimits(auth_timeout=0.5)
    with start_in_thread(emulator.connection_string(), user=USER, password=PASSWORD, login_limits=limits) as h:
        idle = Login(h.port, timeout=10)  # says nothing after connecting
        tag, body = idle.read()
        assert tag == b"E" and sqlstate(body) == "08006" and idle.closed()
        idle.close()


def test_documented_limits_are_serve_options():
    """The limits docs/bi-tools.md shows are `sqlspapi serve` options that build a valid LoginLimits."""
    text = (Path(__file__).resolve().parent.parent / "docs" / "bi-tools.md").read_text(encoding="utf-8")
    line = next(x for x in text.splitlines() if x.startswith("sqlspapi serve") and "--max-failed-logins" in x)
    args = build_parser().parse_args(shlex.split(line)[2:])
    limits = LoginLimits(args.max_unauthenticated, args.auth_timeout, args.max_failed_logins,
                         args.failed_login_window)
    assert all(getattr(limits, k) != getattr(LoginLimits(), k) for k in vars(limits))  # each one set
    with pytest.raises(ValueError, match="authentication timeout"):
        LoginLimits(auth_timeout=0)


def wait_until(check, what: str) -> None:
    deadline = time.monotonic() + 20
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def test_connections_still_logging_in_are_capped(emulator):
    limits = LoginLimits(max_unauthenticated=2)
    with start_in_thread(emulator.connection_string(), user=USER, password=PASSWORD, login_limits=limits) as h, \
            pg_connect(h.port) as logged_in:
        idle = [Login(h.port) for _ in range(2)]
        for s in idle:  # an SSLRequest answered: the server is holding this connection before login
            s.sock.sendall(struct.pack("!ii", 8, pq.SSL_REQUEST))
            assert s.sock.recv(1) == b"N"
        assert h.server.unauthenticated == 2
        with pytest.raises(psycopg.OperationalError, match="too many clients"):
            pg_connect(h.port)  # libpq's default sslmode=prefer: the refusal comes after its SSLRequest
        extra = Login(h.port)
        tag, body = extra.read()  # a connection that sends nothing is refused too, after a short wait
        assert tag == b"E" and sqlstate(body) == "53300" and b"SFATAL\0" in body
        assert logged_in.execute("SELECT count(*) FROM marketplaces").fetchone()[0] > 0  # logged in: unaffected
        for s in [*idle, extra]:
            s.close()
        wait_until(lambda: h.server.unauthenticated == 0, "the idle connections to be dropped")
        with pg_connect(h.port) as cn:
            assert cn.execute("SELECT 1").fetchone() == (1,)


def test_repeated_failed_logins_from_one_address_are_refused_for_a_while(emulator):
    limits = LoginLimits(max_failed_logins=2, failed_login_window=60)
    with start_in_thread(emulator.connection_string(), user=USER, password=PASSWORD, login_limits=limits) as h, \
            pg_connect(h.port) as logged_in:
        for _ in range(2):
            with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
                pg_connect(h.port, password="guess")
        with pytest.raises(psycopg.OperationalError, match="too many failed logins") as refused:
            pg_connect(h.port)  # even the right password: nothing is checked while the address is refused
        assert re.search(r"try again in \d+ s", str(refused.value))
        out = psql(h.port, "SELECT 1")
        assert out.returncode == 2 and "too many failed logins" in out.stderr, out.stderr
        assert logged_in.execute("SELECT 1").fetchone() == (1,)  # sessions already open go on
        try:
            other = Login(h.port, source="127.0.0.2")
        except OSError:
            pytest.skip("no second loopback address here")
        try:
            assert tags(other.login())[-1:] == b"Z"  # another address logs in
            assert tags(other.query("SELECT 1")) == b"TDCZ"
        finally:
            other.close()


def test_failed_login_window_slides_and_parallel_attempts_count():
    now = [100.0]
    throttle = LoginThrottle(max_failures=2, window=60, clock=lambda: now[0])

    def attempt(address: str, ok: bool | None) -> float:
        wait = throttle.retry_after(address)
        if not wait:
            throttle.begin(address)
            throttle.end(address, ok)
        return wait

    assert attempt("10.0.0.1", False) == 0
    now[0] += 30
    assert attempt("10.0.0.1", False) == 0
    assert throttle.retry_after("10.0.0.1") == pytest.approx(30) and throttle.retry_after("10.0.0.2") == 0
    assert attempt("10.0.0.1", True) == pytest.approx(30)  # refused: the right password is not even checked
    now[0] += 31  # the first failure left the window: one more guess
    assert attempt("10.0.0.1", None) == 0  # the client went away: not a failure
    throttle.begin("10.0.0.1")  # a guess under way counts: a parallel one must wait for it
    assert throttle.retry_after("10.0.0.1") == 1.0
    throttle.end("10.0.0.1", False)
    assert throttle.retry_after("10.0.0.1") == pytest.approx(29)
    now[0] += 30
    assert attempt("10.0.0.1", True) == 0 and throttle.retry_after("10.0.0.1") == 0
    for _ in range(5):  # no failure yet: parallel logins (a BI tool opening connections) are not limited
        throttle.begin("10.0.0.3")
    assert throttle.retry_after("10.0.0.3") == 0
    assert LoginThrottle(max_failures=0, window=60).retry_after("10.0.0.1") == 0  # 0: no throttling


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
