"""The bridge's limits before login (issue 8, connection side): logins time out, connections still logging in
are capped, and repeated failed logins from one address are refused for a while, seen from real clients and raw
sockets."""

from __future__ import annotations

import re
import shlex
import struct
import time
from pathlib import Path

import pytest
from test_server_clients import PASSWORD, USER, pg_connect, psql
from test_server_wire import sqlstate, tags
from wire_login import Login

from sqlspapi.server import build_parser, start_in_thread
from sqlspapi.server import protocol as pq
from sqlspapi.server.app import LoginLimits, LoginThrottle

psycopg = pytest.importorskip("psycopg")
EMULATOR = {"time_scale": 1000.0, "orders": 300}  # for the ``emu`` fixture of conftest.py


# ---------------------------------------------------------------- item 12: limits before login

def test_authentication_timeout_is_short_and_configurable(emu):
    limits = LoginLimits(auth_timeout=0.5)
    with start_in_thread(emu.connection_string(), user=USER, password=PASSWORD, login_limits=limits) as h:
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


def test_connections_still_logging_in_are_capped(emu):
    limits = LoginLimits(max_unauthenticated=2)
    with start_in_thread(emu.connection_string(), user=USER, password=PASSWORD, login_limits=limits) as h, \
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


def test_repeated_failed_logins_from_one_address_are_refused_for_a_while(emu):
    limits = LoginLimits(max_failed_logins=2, failed_login_window=60)
    with start_in_thread(emu.connection_string(), user=USER, password=PASSWORD, login_limits=limits) as h, \
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
