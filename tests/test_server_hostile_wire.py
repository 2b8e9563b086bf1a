"""The bridge under hostile input, seen from real clients and raw sockets (issue 8, connection side).

An empty bridge password refuses to start; a malformed Query, Parse or Bind gets PostgreSQL's error and a
ReadyForQuery (an unknown message type a FATAL and a close, as PostgreSQL does); a client whose text is not UTF-8
gets an error, not a hang.
"""

from __future__ import annotations

import contextlib
import os
import socket
import struct
import subprocess
import sys
import threading
import time

import pytest
from test_server_clients import PASSWORD, USER, pg_connect, psql
from test_server_wire import sqlstate, tags
from wire_login import BIND_ONE, PARSE_OK, Login

from sqlspapi.server import serve, start_in_thread

psycopg = pytest.importorskip("psycopg")
EMULATOR = {"time_scale": 1000.0, "orders": 300}  # for the ``emu`` fixture of conftest.py


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


# ---------------------------------------------------------------- item 9: an empty bridge password

@pytest.mark.parametrize("password", ["", "  \t"], ids=["empty", "blank"])
def test_an_empty_password_refuses_to_start(emu, password):
    with pytest.raises(ValueError, match="bridge password is empty"):
        start_in_thread(emu.connection_string(), password=password)

    def started(port: int) -> None:
        raise AssertionError(f"serve() listened on {port} with an empty password")

    with pytest.raises(ValueError, match="bridge password is empty"):
        serve(emu.connection_string(), password=password, port=0, ready=started)


def test_serve_command_refuses_an_empty_password_from_the_environment():
    env = dict(os.environ, SQLSPAPI_BRIDGE_PASSWORD="")
    done = subprocess.run([sys.executable, "-m", "sqlspapi", "serve", "--demo", "--port", "0"], env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "SQLSPAPI_BRIDGE_PASSWORD" in done.stderr, done.stderr
    assert "empty" in done.stderr and "Traceback" not in done.stderr, done.stderr


# ---------------------------------------------------------------- item 11: malformed Query, Parse, Bind

@pytest.fixture(scope="module")
def server(emu):
    handle = start_in_thread(emu.connection_string(), user=USER, password=PASSWORD)
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


def test_max_query_size_is_a_serve_setting(emu):
    with start_in_thread(emu.connection_string(), user=USER, password=PASSWORD, max_query_size="1kB") as h, \
            pg_connect(h.port) as cn:
        with pytest.raises(psycopg.errors.ProgramLimitExceeded, match="limit of 1024 bytes"):
            cn.execute("SELECT '" + "x" * 2000 + "' AS big")
        assert cn.execute("SELECT 1").fetchone() == (1,)
    with pytest.raises(ValueError, match="--max-query-size '12XB' is not a size"):
        start_in_thread(emu.connection_string(), user=USER, password=PASSWORD, max_query_size="12XB")
