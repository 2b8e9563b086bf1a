"""Honest waiting (issue 7 §3): live progress, cancellation that gives the rate-limit token back, and estimates
before running — through the client, the DB-API, EXPLAIN QUERY PLAN, the shell's ``.explain`` and the shell on a
pseudo-terminal.

Waits are made real but short: the emulator runs 1000× faster than Amazon, and a test slows one operation's bucket
on the client side (``set_rate``) and empties it (``drain``), so the next call has to wait its turn.
"""

from __future__ import annotations

import io
import os
import re
import signal
import subprocess
import sys
import threading
import time

import pytest
from emu_helpers import fresh_process_state, settings_for  # noqa: F401 (fresh_process_state is autouse)

import sqlspapi
from sqlspapi.definitions.schema import OperationSpec
from sqlspapi.errors import AuthError, QueryCancelled
from sqlspapi.http.client import Client
from sqlspapi.http.progress import Progress, ProgressState
from sqlspapi.interfaces.progressbar import TqdmProgress

emulator = pytest.importorskip("sqlspapi.emulator")

PARTICIPATIONS = OperationSpec("getMarketplaceParticipations", "sellers", "v1", "GET",
                               "/sellers/v1/marketplaceParticipations", 0.016, 15)


@pytest.fixture(scope="module")
def emu():
    with emulator.start(orders=300, time_scale=1000) as running:
        yield running


def slow_down(client: Client, op: OperationSpec, rate: float) -> None:
    """Make the next call of ``op`` wait about 1/rate seconds for its turn."""
    bucket = client.bucket(op)
    bucket.set_rate(rate)
    bucket.drain()


def later(seconds: float, action) -> threading.Timer:
    timer = threading.Timer(seconds, action)
    timer.start()
    return timer


# ------------------------------------------------------------------------------------------- the client


def test_a_rate_limit_wait_is_shown_to_the_statement_with_its_countdown(emu):
    client = Client(settings_for(emu))
    client.call(PARTICIPATIONS)
    slow_down(client, PARTICIPATIONS, 4.0)  # the next call waits ~0.25 s
    watch = Progress()
    watch.start()
    seen: list[ProgressState] = []
    watch.listen(seen.append)
    client.call(PARTICIPATIONS, query={"x": 1}, watch=watch)
    waiting = [s for s in seen if s.waiting > 0]
    assert waiting, "listeners hear the wait"
    assert "rate limit of getMarketplaceParticipations" in waiting[0].wait_reason
    assert waiting[0].waiting >= waiting[-1].waiting, "the countdown goes down"
    assert seen[-1].calls == 1 and seen[-1].operation == "getMarketplaceParticipations"
    assert "waiting" in waiting[0].describe() and "for the rate limit of getMarketplaceParticipations" in \
        waiting[0].describe()


def test_cancel_during_a_wait_stops_before_sending_and_gives_the_token_back(emu):
    client = Client(settings_for(emu))
    client.call(PARTICIPATIONS)
    sent = emu.calls.count("getMarketplaceParticipations")
    slow_down(client, PARTICIPATIONS, 0.2)  # the next call would wait 5 s
    bucket = client.bucket(PARTICIPATIONS)
    before = bucket.tokens
    watch = Progress()
    watch.start()
    later(0.2, watch.cancel)
    started = time.monotonic()
    with pytest.raises(QueryCancelled, match="interrupted"):
        client.call(PARTICIPATIONS, query={"x": 2}, watch=watch)
    assert time.monotonic() - started < 4, "stopped at once, not after the wait"
    assert emu.calls.count("getMarketplaceParticipations") == sent, "the call was not sent"
    # The reserved token came back: the bucket is where it was (plus what it refilled meanwhile), not one behind.
    assert bucket.tokens >= before - 0.01
    assert client.calls[-1].operation == "getMarketplaceParticipations" and client.calls[-1].attempts == 0


@pytest.mark.parametrize("watched", [True, False], ids=["in a statement", "outside any statement"])
def test_ctrl_c_during_a_wait_raises_at_once_and_gives_the_token_back(emu, watched):
    if threading.current_thread() is not threading.main_thread():
        pytest.skip("signals reach the main thread only")
    client = Client(settings_for(emu))
    client.call(PARTICIPATIONS)
    slow_down(client, PARTICIPATIONS, 0.2)
    bucket = client.bucket(PARTICIPATIONS)
    before = bucket.tokens
    watch = Progress() if watched else None
    if watch is not None:
        watch.start()
    later(0.2, lambda: os.kill(os.getpid(), signal.SIGINT))
    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        client.call(PARTICIPATIONS, query={"x": 3}, watch=watch)
    assert time.monotonic() - started < 4
    assert bucket.tokens >= before - 0.01


# ------------------------------------------------------------------------------------------- the DB-API


def test_dbapi_progress_callback_sees_calls_pages_rows_and_the_end(emu):
    states: list[ProgressState] = []
    with sqlspapi.connect(emu.connection_string(), LookbackDays="all", progress=states.append) as con:
        rows = con.cursor().execute("SELECT orderId FROM orders").fetchall()
        pages = sum(1 for c in con.last_calls() if c.operation == "searchOrders")
    assert len(rows) == 300 and pages > 1
    last = states[-1]
    assert last.finished and last.rows == 300 and last.pages == pages and last.calls >= pages
    assert [s.finished for s in states].count(True) == 1
    assert all(s.operation for s in states if s.calls)
    assert [s.pages for s in states] == sorted(s.pages for s in states), "counts only grow"


def test_dbapi_cancel_from_another_thread_stops_a_waiting_query_and_the_connection_stays_usable(emu):
    with sqlspapi.connect(emu.connection_string(), LookbackDays="all") as con:
        con.cursor().execute("SELECT count(*) FROM marketplaces").fetchall()
        search = next(op for t in con.database.tables() if t.name == "orders" for r in t.routes
                      if (op := r.operation) is not None and op.name == "searchOrders")
        slow_down(con.database.client, search, 0.2)  # the scan's first page waits 5 s
        later(0.3, con.cancel)
        started = time.monotonic()
        with pytest.raises(QueryCancelled) as info:
            con.cursor().execute("SELECT count(*) FROM orders").fetchall()
        assert time.monotonic() - started < 4
        assert isinstance(info.value, sqlspapi.OperationalError), "a PEP 249 error"
        assert "interrupted" in str(info.value)
        con.database.client.bucket(search).set_rate(1000.0)
        assert con.cursor().execute("SELECT count(*) FROM orders").fetchone() == (300,)


def test_dbapi_connect_checks_the_credentials_at_once(emu):
    with pytest.raises(AuthError, match="ClientSecret"):
        sqlspapi.connect(emu.connection_string(), ClientSecret="SEKRET-wrong")


# ------------------------------------------------------------------------------------------- EXPLAIN


def explain(con, sql: str) -> list[str]:
    return [row[-1] for row in con.cursor().execute("EXPLAIN QUERY PLAN " + sql).fetchall()]


def test_explain_query_plan_estimates_calls_and_time_before_any_call(emu):
    with sqlspapi.connect(emu.connection_string(), LookbackDays="all") as con:
        sql = "SELECT * FROM orders WHERE createdTime >= '2000-01-01'"
        first = explain(con, sql)[0]
        assert con.last_calls() == [], "EXPLAIN makes no call"
        # Before any scan of the account the page count is unknown, and said so — with the pace it will run at.
        assert "pages unknown (no whole scan of searchOrders seen yet on this account)" in first
        assert "0.0056 req/s" in first and "after a burst of 20" in first

        con.cursor().execute("SELECT count(*) FROM orders WHERE createdTime >= '2000-01-01'").fetchall()
        pages = sum(1 for c in con.last_calls() if c.operation == "searchOrders")

        lines = con.database.explain(sql)
        estimated = int(re.search(r"~(\d+) pages?", lines[0]).group(1))
        assert abs(estimated - pages) <= 1, (lines, pages)
        assert "rows a day seen in an earlier scan" in lines[0]
        assert lines[-1].startswith(f"total: {estimated} call")

        # A LIMIT the API takes is one page, whatever the volume.
        assert "≤ 1 page" in con.database.explain("SELECT * FROM orders LIMIT 5")[0]
        # One id is one call; an IN list is one call per value.
        assert "[est. 1 call," in con.database.explain("SELECT * FROM orders WHERE orderId = 'x'")[0]
        assert "1 call per orderId value" in con.database.explain(
            "SELECT * FROM orders WHERE orderId IN ('a', 'b')")[0]
        assert con.last_calls() == [] or all(c.operation != "searchOrders" for c in con.last_calls())


def test_explain_reads_the_rate_limit_state_as_it_is_now(emu):
    with sqlspapi.connect(emu.connection_string()) as con:
        con.cursor().execute("SELECT count(*) FROM orders LIMIT 1").fetchall()
        search = next(op for t in con.database.tables() if t.name == "orders" for r in t.routes
                      if (op := r.operation) is not None and op.name == "searchOrders")
        bucket = con.database.client.bucket(search)
        sql = "SELECT * FROM orders LIMIT 5"
        full = con.database.explain(sql)[0]
        bucket.set_rate(0.01)
        bucket.drain()
        empty = con.database.explain(sql)[0]
        assert "(0 left now)" in empty and "0.01 req/s" in empty, empty
        assert full != empty, "a second EXPLAIN is planned afresh, not served from a statement cache"
        assert re.search(r"~1\d\d s|~1 min", empty) or "min" in empty, empty


def test_shell_explain_shows_the_estimate(emu):
    from sqlspapi.engine import open_database
    from sqlspapi.interfaces.shell import SPAPIShell

    out, err = io.StringIO(), io.StringIO()
    database = open_database(emu.connection_string())
    shell = SPAPIShell(database, stdin=io.StringIO(), stdout=out, stderr=err)
    shell.process_command(".explain SELECT * FROM orders LIMIT 3")
    assert "searchOrders(" in out.getvalue() and "[est. ≤ 1 page" in out.getvalue()
    assert "total: 1 call" in out.getvalue()
    database.close()


# ------------------------------------------------------------------------------------------- the terminal line


class Terminal(io.StringIO):
    """A stream that says it is a terminal (tqdm then draws with carriage returns)."""

    def isatty(self) -> bool:
        return True


def test_tqdm_line_appears_after_the_delay_and_is_erased_at_the_end(monkeypatch):
    monkeypatch.setenv("COLUMNS", "300")
    stream = Terminal()
    bar = TqdmProgress(stream, delay=1.0)
    bar(ProgressState(elapsed=0.5, operation="searchOrders", calls=1))
    assert stream.getvalue() == "", "a short statement shows nothing"
    bar(ProgressState(elapsed=1.5, operation="searchOrders", calls=21, pages=21, rows=2100, waiting=170.0,
                      wait_reason="rate limit of searchOrders (0.0056 req/s)", calls_left=4, seconds_left=700.0))
    shown = stream.getvalue()
    assert "searchOrders" in shown and "21 pages, 2,100 rows" in shown
    assert "waiting 2 min 50 s for the rate limit of searchOrders (0.0056 req/s)" in shown
    assert "~4 calls, ~12 min left" in shown
    bar(ProgressState(elapsed=2.0, finished=True))
    erased = stream.getvalue()[len(shown):]
    assert erased and erased.strip(" \r") == "", f"the line is blanked, nothing else is written: {erased!r}"


@pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs a pseudo-terminal")
def test_shell_on_a_terminal_shows_live_progress_and_ctrl_c_stops_at_once(tmp_path):
    """At 1/5 of Amazon's speed fba_inventory_summaries pages wait 2.5 s after a burst of 2: the line shows the
    countdown; Ctrl-C stops the scan at once, says "interrupted", and the next statement's first call waits at most
    one interval (the cancelled call's token came back)."""
    import select

    env = {**os.environ, "HOME": str(tmp_path), "TERM": "dumb", "SQLSPAPI_DEMO_TIME_SCALE": "0.2"}
    env.pop("SQLSPAPI_CONNECTION_STRING", None)
    import fcntl
    import struct
    import termios

    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 200, 0, 0))
    process = subprocess.Popen([sys.executable, "-m", "sqlspapi", "shell", "--demo"], stdin=slave, stdout=slave,
                               stderr=slave, env=env, close_fds=True, start_new_session=True)
    os.close(slave)
    shown = b""

    def read_until(pattern: bytes, timeout: float = 60, start: int = 0) -> None:
        nonlocal shown
        deadline = time.monotonic() + timeout
        while pattern not in shown[start:]:
            left = deadline - time.monotonic()
            assert left > 0, f"never saw {pattern!r}: {shown.decode(errors='replace')}"
            ready, _, _ = select.select([master], [], [], left)
            if ready:
                chunk = os.read(master, 65536)
                assert chunk, f"the shell exited: {shown.decode(errors='replace')}"
                shown += chunk

    try:
        read_until(b"sqlspapi> ")
        os.write(master, b"SELECT count(*) FROM fba_inventory_summaries;\r")
        read_until(b"for the rate limit of getInventorySummaries")
        mark = len(shown)
        process.send_signal(signal.SIGINT)  # what the terminal sends on Ctrl-C (the pty is not its controlling tty)
        read_until(b"interrupted", 2, mark)
        read_until(b"sqlspapi> ", 5, mark)
        mark = len(shown)
        os.write(master, b"SELECT sellerSku FROM fba_inventory_summaries LIMIT 1;\r")
        read_until(b"sqlspapi> ", 30, mark)
        calls = len(shown)
        os.write(master, b".calls full\r")
        read_until(b"sqlspapi> ", 10, calls)
        os.write(master, b"\x04")
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
        os.close(master)
    after = shown[calls:].decode(errors="replace")
    waits = [float(w) / (1000 if unit == "ms" else 1) for w, unit in
             re.findall(r"getInventorySummaries .*?\(throttle wait ([\d.]+) (ms|s)\)", after)]
    assert waits, after
    assert waits[0] <= 2.7, f"the first call after Ctrl-C waited {waits[0]} s: its token was not given back"


def test_progress_knows_what_is_left_once_the_account_was_scanned(emu):
    states: list[ProgressState] = []
    with sqlspapi.connect(emu.connection_string(), LookbackDays="all") as con:
        sql = "SELECT count(*) FROM orders WHERE createdTime >= '2000-01-01'"
        con.cursor().execute(sql).fetchall()  # a first whole scan teaches the account's volume
        con.progress = states.append
        con.cursor().execute(sql).fetchall()
        pages = sum(1 for c in con.last_calls() if c.operation == "searchOrders")
    known = [s for s in states if s.calls_left is not None and not s.finished]
    assert known, "the second scan's progress has an estimate"
    assert abs(known[0].calls_left - pages) <= 1 and known[0].seconds_left is not None
    assert known[-1].calls_left <= 1, "the estimate counts down to the end"


def test_pandas_read_sql_reports_progress_through_sqlalchemy_connect_args(emu):
    pd = pytest.importorskip("pandas")
    sqlalchemy = pytest.importorskip("sqlalchemy")
    states: list[ProgressState] = []
    engine = sqlalchemy.create_engine("sqlspapi://", connect_args={
        "connection_string": emu.connection_string(), "LookbackDays": "all", "progress": states.append})
    frame = pd.read_sql("SELECT orderId FROM orders", engine)
    assert len(frame) == 300
    finished = [s for s in states if s.finished]
    assert finished and finished[-1].rows == 300 and finished[-1].pages >= 2
    engine.dispose()


@pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs a pseudo-terminal")
def test_query_command_on_a_terminal_shows_progress_then_only_the_result(tmp_path):
    import select

    env = {**os.environ, "HOME": str(tmp_path), "TERM": "dumb", "SQLSPAPI_DEMO_TIME_SCALE": "0.2",
           "COLUMNS": "200"}
    master, slave = os.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "sqlspapi", "query", "--demo", "SELECT count(*) AS n FROM fba_inventory_summaries"],
        stdin=slave, stdout=slave, stderr=slave, env=env, close_fds=True, start_new_session=True)
    os.close(slave)
    shown = b""
    try:
        while process.poll() is None or select.select([master], [], [], 0.2)[0]:
            if select.select([master], [], [], 0.2)[0]:
                try:
                    chunk = os.read(master, 65536)
                except OSError:
                    break
                if not chunk:
                    break
                shown += chunk
        assert process.wait(timeout=120) == 0
    finally:
        if process.poll() is None:
            process.kill()
        os.close(master)
    text = shown.decode(errors="replace")
    assert "for the rate limit of getInventorySummaries" in text, text
    assert re.search(r"\b300\b", text.rsplit("rows", 1)[-1]), text  # the result, after the progress line
