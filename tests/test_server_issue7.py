"""Issue 7 through ``sqlspapi serve`` with real clients (psql, psycopg, pyodbc → psqlODBC): ``EXPLAIN`` answers the
API plan and its cost without calling the API; functions the bridge lacks are SQLSTATE 0A000 (names PostgreSQL lacks
too stay 42883, as PostgreSQL answers); ``generate_series`` and ``make_date`` build BI date dimensions with
PostgreSQL's types; an unknown column says which column or API version was meant (42703); a cancel stops a statement
that waits for the rate limiter (57014) and the session stays usable."""

from __future__ import annotations

import datetime
import os
import re
import shutil
import subprocess
import threading
import time
from typing import Any

import pytest
import test_server_clients
from test_server_clients import PASSWORD, USER, odbc_connect, pg_connect, psql

from sqlspapi.definitions.schema import OperationSpec
from sqlspapi.engine import resolve_settings
from sqlspapi.http.runtime import runtime_for

psycopg = pytest.importorskip("psycopg")
emulator, server = test_server_clients.emulator, test_server_clients.server  # its fixtures: this module's own bridge

PLANNED = ('SELECT o."orderId", sum(i."quantityOrdered") FROM orders o JOIN order_items i ON i."orderId" = o."orderId" '
           """WHERE o."createdTime" >= '2026-10-01' GROUP BY 1""")
DAYS = ("SELECT d::date AS day FROM generate_series('2026-01-01'::date, '2026-03-31'::date, '1 day'::interval) d "
        "ORDER BY 1")
FIRST = datetime.date.today() - datetime.timedelta(days=45)  # 31 days of the emulator's orders (dated from today)
LAST = FIRST + datetime.timedelta(days=30)
PER_DAY = (f"""SELECT d::date AS day, count(o."orderId") AS orders FROM generate_series('{FIRST}'::date, """
           f"""'{LAST}'::date, '1 day'::interval) AS d LEFT JOIN orders o ON o."createdTime"::date = d::date """
           f"""AND o."createdTime" >= '{FIRST}' GROUP BY 1 ORDER BY 1""")
GROUPED = (f"""SELECT "createdTime"::date AS day, count(*) FROM orders WHERE "createdTime" >= '{FIRST}' AND """
           f""""createdTime" < '{LAST + datetime.timedelta(days=1)}' GROUP BY 1""")


def psql_script(port: int, script: str) -> subprocess.CompletedProcess:
    """psql reading ``script`` from standard input (for meta-commands such as ``\\gdesc``); skips without psql."""
    if shutil.which("psql") is None:
        pytest.skip("psql is not installed: apt-get install postgresql-client")
    return subprocess.run(["psql", "-X", "-h", "127.0.0.1", "-p", str(port), "-U", USER, "-d", "main", "-f", "-"],
                          input=script, env=dict(os.environ, PGPASSWORD=PASSWORD), capture_output=True, text=True,
                          timeout=60)


def table(stdout: str) -> list[list[str]]:
    """The header and rows of psql's aligned output (the ``(n rows)`` footer left out)."""
    lines = [line for line in stdout.splitlines() if line.strip() and not re.fullmatch(r"-[-+]*", line.strip())]
    return [[cell.strip() for cell in line.split("|")] for line in lines if not re.fullmatch(r"\(\d+ rows?\)", line)]


# ---------------------------------------------------------------- EXPLAIN

def test_explain_answers_the_api_plan_without_calling_it(server, emulator):
    with pg_connect(server.port) as cn:
        before = len(emulator.calls)
        cur = cn.cursor()
        plans = []
        for prefix in ("EXPLAIN", "EXPLAIN (FORMAT TEXT)", "EXPLAIN VERBOSE", "explain (verbose, costs off)"):
            plans.append(cur.execute(f"{prefix} {PLANNED}").fetchall())
            assert [(d.name, d.type_code) for d in cur.description] == [("QUERY PLAN", 25)]
            assert cur.statusmessage == "EXPLAIN"
        first = plans[0]
        assert len(first) >= 2 and all(len(row) == 1 and "\n" not in row[0] for row in first)
        assert "searchOrders(createdAfter" in first[0][0] and "2026-10-01" in first[0][0]
        assert any("orderItems" in line for (line,) in first)
        assert all(len(plan) == len(first) for plan in plans)
        assert cur.execute('EXPLAIN SELECT "orderId" FROM orders WHERE "orderId" = %s', ("902-1",)).fetchall()
        assert cur.execute("EXPLAIN SELECT 1 + 1").fetchall() == [("no SP-API call: answered by SQLite alone",)]
        assert len(emulator.calls) == before, "EXPLAIN called the API"
        with pytest.raises(psycopg.errors.FeatureNotSupported, match="EXPLAIN ANALYZE is not supported"):
            cur.execute(f"EXPLAIN ANALYZE {PLANNED}")
        with pytest.raises(psycopg.errors.FeatureNotSupported, match="FORMAT JSON"):
            cur.execute(f"EXPLAIN (FORMAT JSON) {PLANNED}")
        with pytest.raises(psycopg.errors.SyntaxError, match='unrecognized EXPLAIN option "colour"'):
            cur.execute(f"EXPLAIN (COLOUR) {PLANNED}")
        assert len(emulator.calls) == before, "a refused EXPLAIN called the API"
        assert cur.execute("SELECT 1").fetchone() == (1,)


def test_explain_in_psql(server):
    out = psql(server.port, f"EXPLAIN {PLANNED}")
    assert out.returncode == 0, out.stderr
    rows = table(out.stdout)
    assert rows[0] == ["QUERY PLAN"] and "searchOrders" in rows[1][0] and out.stdout.rstrip().endswith("rows)")
    out = psql(server.port, f"EXPLAIN ANALYZE {PLANNED}")
    assert out.returncode != 0 and "EXPLAIN ANALYZE is not supported by sqlspapi" in out.stderr


# ---------------------------------------------------------------- functions the bridge lacks

def test_unsupported_function_is_0A000_naming_it(server):
    with pg_connect(server.port) as cn:
        for sql, shown in (("SELECT to_tsvector('orders')", "function to_tsvector(unknown) is not supported"),
                           ('SELECT "orderId", age("createdTime") FROM orders',
                            "function age(timestamp with time zone) is not supported"),
                           ("SELECT to_timestamp(1700000000)", "function to_timestamp(integer) is not supported")):
            with pytest.raises(psycopg.errors.FeatureNotSupported) as raised:
                cn.execute(sql)
            assert raised.value.sqlstate == "0A000" and shown in str(raised.value), str(raised.value)
        with pytest.raises(psycopg.errors.UndefinedFunction) as raised:  # PostgreSQL has none either: 42883
            cn.execute("SELECT pg_foo(1)")
        assert "function pg_foo(integer) does not exist" in str(raised.value)
        assert cn.execute("SELECT count(*) FROM marketplaces").fetchone()[0] > 0
    out = psql(server.port, "SELECT to_tsvector('orders')")
    assert out.returncode != 0 and "function to_tsvector(unknown) is not supported by sqlspapi" in out.stderr


@pytest.mark.odbc
def test_unsupported_function_through_odbc(server):
    pyodbc = pytest.importorskip("pyodbc")
    cn = odbc_connect(server.port)
    try:
        with pytest.raises(pyodbc.Error, match=r"0A000.*function to_tsvector\(unknown\) is not supported"):
            cn.cursor().execute("SELECT to_tsvector('orders')")
    finally:
        cn.close()


# ---------------------------------------------------------------- generate_series and make_date

def test_date_dimension_with_postgresql_types(server):
    with pg_connect(server.port) as cn:
        cur = cn.cursor()
        days = [d for (d,) in cur.execute(DAYS).fetchall()]
        assert [d.type_code for d in cur.description] == [1082]
        assert len(days) == 90 and days[0] == datetime.date(2026, 1, 1) and days[-1] == datetime.date(2026, 3, 31)
        assert all(b - a == datetime.timedelta(days=1) for a, b in zip(days, days[1:], strict=False))
        rows = cur.execute("SELECT * FROM generate_series('2026-01-01'::date, '2026-01-03'::date, "
                           "interval '1 day')").fetchall()
        assert [d.name for d in cur.description] == ["generate_series"] and cur.description[0].type_code == 1184
        assert rows[0][0] == datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC) and len(rows) == 3
        rows = cur.execute("SELECT h FROM generate_series('2026-01-31 10:00'::timestamp, '2026-04-30', "
                           "'1 month') AS h").fetchall()
        assert cur.description[0].type_code == 1114
        assert [r[0] for r in rows] == [datetime.datetime(2026, m, d, 10) for m, d in ((1, 31), (2, 28), (3, 28),
                                                                                           (4, 28))]
        assert cur.execute("SELECT * FROM generate_series(1, 10)").fetchall() == [(n,) for n in range(1, 11)]
        assert [(d.name, d.type_code) for d in cur.description] == [("generate_series", 23)]
        assert cur.execute("SELECT s.n FROM generate_series(10, 1, -3) AS s(n)").fetchall() == [(10,), (7,), (4,),
                                                                                               (1,)]
        assert [d.name for d in cur.description] == ["n"]
        assert cur.execute("SELECT generate_series(1, 3000000000, 1500000000)").fetchall() == [
            (1,), (1500000001,)]
        assert cur.description[0].type_code == 20  # bigint bounds: int8
        assert cur.execute("SELECT make_date(2026, 2, 28)").fetchall() == [(datetime.date(2026, 2, 28),)]
        assert cur.description[0].type_code == 1082
        with pytest.raises(psycopg.errors.DatetimeFieldOverflow):
            cur.execute("SELECT make_date(2026, 2, 30)")
        with pytest.raises(psycopg.errors.InvalidParameterValue, match="step size cannot equal zero"):
            cur.execute("SELECT * FROM generate_series(1, 3, 0)")


def test_generate_series_forms_sqlite_cannot_run_are_refused(server):
    with pg_connect(server.port) as cn:
        for sql in ('SELECT o."orderId", n FROM orders o CROSS JOIN LATERAL generate_series(1, o."itemCount") n',
                    'SELECT "orderId", generate_series(1, 2) FROM orders'):
            with pytest.raises(psycopg.errors.FeatureNotSupported, match="generate_series"):
                cn.execute(sql)
        assert cn.execute("SELECT 1").fetchone() == (1,)


def test_date_dimension_joined_with_orders(server):
    with pg_connect(server.port) as cn:
        plan = [line for (line,) in cn.execute(f"EXPLAIN {PER_DAY}").fetchall()]
        assert plan[0] == "Function Scan on generate_series (no SP-API call)" and "searchOrders" in plan[1]
        per_day = cn.execute(PER_DAY).fetchall()
        grouped = dict(cn.execute(GROUPED).fetchall())
    assert len(per_day) == 31 and sum(n for _day, n in per_day) == sum(grouped.values()) > 0
    assert per_day == [(day, grouped.get(day, 0)) for day, _n in per_day]  # days without orders count 0


def test_generate_series_types_in_psql(server):
    out = psql_script(server.port, f"{DAYS} \\gdesc\nSELECT * FROM generate_series(1, 10) \\gdesc\n"
                                   "SELECT * FROM generate_series('2026-01-01'::date, '2026-01-02'::date, "
                                   "'1 day'::interval) \\gdesc\nSELECT make_date(2026, 1, 2) \\gdesc\n")
    assert out.returncode == 0 and not out.stderr, out.stderr
    described = [row for row in table(out.stdout) if row != ["Column", "Type"]]
    assert described == [["day", "date"], ["generate_series", "integer"],
                         ["generate_series", "timestamp with time zone"], ["make_date", "date"]]


@pytest.mark.odbc
def test_date_dimension_through_odbc(server):
    cn = odbc_connect(server.port)
    try:
        cur = cn.cursor()
        days = [d for (d,) in cur.execute(DAYS).fetchall()]
        assert cur.description[0][1] is datetime.date and len(days) == 90
        assert [tuple(r) for r in cur.execute(PER_DAY).fetchall()][0][0] == FIRST
    finally:
        cn.close()


# ---------------------------------------------------------------- unknown columns

def test_unknown_column_says_what_was_meant(server):
    with pg_connect(server.port) as cn:
        with pytest.raises(psycopg.errors.UndefinedColumn) as raised:
            cn.execute('SELECT "AmazonOrderId" FROM orders')
        assert "it is an Orders v0 column: use orderId, or OrdersApiVersion=v0" in str(raised.value)
        with pytest.raises(psycopg.errors.UndefinedColumn, match="did you mean fulfillment_fulfillmentStatus"):
            cn.execute('SELECT count(*) FROM orders o WHERE o."fulfilmentStatus" = %s', ("SHIPPED",))
        assert cn.execute("SELECT count(*) FROM marketplaces").fetchone()[0] > 0
    out = psql(server.port, 'SELECT "AmazonOrderId" FROM orders')
    assert out.returncode != 0 and "use orderId, or OrdersApiVersion=v0" in out.stderr


# ---------------------------------------------------------------- cancel while waiting for the rate limiter

def stall(cn, emulator, sql: str) -> tuple[str, Any]:
    """Make the first SP-API call of ``sql`` wait ~17 minutes for the rate limiter (the bridge account's bucket of
    its operation, read from EXPLAIN, drained at 0.001 req/s); return the operation and the limiter (``reset()`` it
    after the test: published rates again)."""
    plan = cn.execute(f"EXPLAIN {sql}").fetchone()[0]
    operation = re.search(r"INDEX \d+:(\w+)\(", plan)[1]
    limiter = runtime_for(resolve_settings(emulator.connection_string())).limiter  # the bridge's account
    limiter.reset()
    limiter.bucket(OperationSpec(operation, "orders", "", "GET", "/", 0.001, 1)).drain()
    return operation, limiter


def test_cancel_stops_a_statement_waiting_for_the_rate_limiter(server, emulator):
    sql = f"""SELECT count(*) FROM orders WHERE "createdTime" >= '{FIRST - datetime.timedelta(days=99)}'"""
    with pg_connect(server.port) as cn:
        operation, limiter = stall(cn, emulator, sql)
        calls = emulator.calls.count(operation)
        failures: list[BaseException] = []

        def run() -> None:
            try:
                cn.execute(sql)
            except BaseException as exc:  # noqa: BLE001 - examined below
                failures.append(exc)

        try:
            worker = threading.Thread(target=run)
            started = time.monotonic()
            worker.start()
            while worker.is_alive() and time.monotonic() - started < 30:
                cn.cancel_safe()  # again until it lands: a cancel before the statement starts waiting is idle
                worker.join(0.3)
            assert not worker.is_alive(), "the cancelled statement did not stop"
        finally:
            limiter.reset()  # published rates again for later tests
        assert len(failures) == 1 and isinstance(failures[0], psycopg.errors.QueryCanceled), failures
        assert failures[0].sqlstate == "57014" and "canceling statement due to user request" in str(failures[0])
        assert failures[0].diag.message_detail, "stopped by SQLite's interrupt, not in the rate limiter's wait"
        assert emulator.calls.count(operation) == calls, "the cancelled call was sent"
        assert cn.execute("SELECT count(*) FROM marketplaces").fetchone()[0] > 0  # the session stays usable
        assert cn.execute(sql).fetchone()[0] > 0
