"""``sqlspapi serve`` end to end with real clients on loopback: pyodbc → unixODBC → psqlODBC (server-side prepare
0/1 × declare/fetch 0/1), psql, psycopg, pg8000; login refusals, ATTACH refused, TLS, md5, many clients sharing
one SP-API client."""

from __future__ import annotations

import datetime
import os
import shutil
import subprocess
import threading
import time
from decimal import Decimal

import pytest

from sqlspapi.server import SHARE_WINDOW, start_in_thread

USER, PASSWORD = "bi", "bridge-pw"
JOIN = ('SELECT o."orderId", count(*) AS items, sum(i."quantityOrdered") AS qty FROM orders o '
        'JOIN order_items i ON i."orderId" = o."orderId" GROUP BY o."orderId" ORDER BY o."orderId" LIMIT 3')
DASHBOARD = ('SELECT "salesChannel_marketplaceName" AS market, count(*) AS n, sum("proceeds_grandTotal_amount") AS '
             'total FROM orders GROUP BY 1 ORDER BY 2 DESC, 1')
TYPED = ('SELECT "orderId", "createdTime", "proceeds_grandTotal_amount", "createdTime"::date AS day FROM orders '
         'WHERE "proceeds_grandTotal_amount" IS NOT NULL ORDER BY "createdTime"')
TOTALS = ('SELECT "salesChannel_marketplaceName" AS market, sum("proceeds_grandTotal_amount") AS total, '
          'max("createdTime") AS latest FROM orders GROUP BY 1 ORDER BY 1')


def check_typed_rows(rows: list, totals: list) -> None:
    """Timestamps as aware datetimes in UTC, money as Decimal, ``::date`` as date, and each ``sum(money)`` the exact
    decimal total of its amounts (SQLite adds floats: without the numeric type one would print 432.51000000000005)."""
    assert len(rows) > 20
    for _order, created, amount, day in rows:
        assert isinstance(created, datetime.datetime) and created.utcoffset() == datetime.timedelta(0)
        assert isinstance(amount, Decimal) and amount.as_tuple().exponent >= -2
        assert day == created.date()
    assert [r[1] for r in rows] == sorted(r[1] for r in rows)
    assert len(totals) > 1
    for _market, total, latest in totals:
        assert isinstance(total, Decimal) and isinstance(latest, datetime.datetime)
    assert sum((t[1] for t in totals), Decimal(0)) == sum((r[2] for r in rows), Decimal(0))
    assert all(t[1].as_tuple().exponent >= -2 for t in totals)


@pytest.fixture(scope="module")
def emulator():
    from sqlspapi import emulator as emu

    with emu.start(time_scale=1000.0, orders=600) as e:  # fast usage plans, a few pages of orders
        yield e


@pytest.fixture(scope="module")
def server(emulator):
    handle = start_in_thread(emulator.connection_string(), user=USER, password=PASSWORD)
    yield handle
    handle.stop()


# ---------------------------------------------------------------- pyodbc → psqlODBC

def odbc_connect(port: int, ssp: int = 1, udf: int = 0, password: str = PASSWORD, sslmode: str = "disable",
                 **extra: str):
    pyodbc = pytest.importorskip("pyodbc")
    if "PostgreSQL Unicode" not in pyodbc.drivers():
        pytest.skip("psqlODBC is not installed: apt-get install unixodbc odbc-postgresql")
    more = "".join(f";{k}={v}" for k, v in extra.items())
    return pyodbc.connect(f"Driver={{PostgreSQL Unicode}};Server=127.0.0.1;Port={port};Database=main;Uid={USER};"
                          f"Pwd={password};SSLMode={sslmode};UseServerSidePrepare={ssp};UseDeclareFetch={udf}{more}",
                          autocommit=True)


MATRIX = [pytest.param((ssp, udf), id=f"ssp{ssp}-declarefetch{udf}") for ssp in (0, 1) for udf in (0, 1)]


@pytest.fixture(scope="module", params=MATRIX)
def odbc(request, server):
    ssp, udf = request.param
    cn = odbc_connect(server.port, ssp, udf, Fetch=20)
    yield cn
    cn.close()


@pytest.mark.odbc
class TestODBC:
    def test_tables_and_columns(self, odbc):
        cur = odbc.cursor()
        tables = {t.table_name for t in cur.tables()}
        assert {"orders", "order_items", "marketplaces"} <= tables
        cols = [(c.column_name, c.type_name) for c in cur.columns(table="orders")]
        assert cols[0] == ("orderId", "text") and ("proceeds_grandTotal_amount", "numeric") in cols
        assert ("createdTime", "timestamptz") in cols

    def test_select_star_and_count(self, odbc):
        cur = odbc.cursor()
        (count,) = cur.execute("SELECT count(*) FROM orders").fetchone()
        rows = cur.execute("SELECT * FROM orders").fetchall()
        assert count == len(rows) > 20  # several Fetch=20 batches with declare/fetch
        assert cur.description[0][0] == "orderId" and len(cur.description) == len(rows[0])

    def test_parameters(self, odbc):
        cur = odbc.cursor()
        first, amount = cur.execute('SELECT "orderId", "proceeds_grandTotal_amount" FROM orders '
                                    'ORDER BY "orderId" LIMIT 1').fetchone()
        rows = cur.execute('SELECT "orderId" FROM orders WHERE "orderId" = ?', first).fetchall()
        assert [tuple(r) for r in rows] == [(first,)]
        (n,) = cur.execute('SELECT count(*) FROM orders WHERE "proceeds_grandTotal_amount" >= ? AND 1 = ?',
                           amount, 1).fetchone()
        assert n >= 1

    def test_empty_result_keeps_columns(self, odbc):
        cur = odbc.cursor()
        assert cur.execute('SELECT "orderId", "createdTime" FROM orders WHERE 1 = 0').fetchall() == []
        assert [d[0] for d in cur.description] == ["orderId", "createdTime"]

    def test_error_then_good_query(self, odbc):
        pyodbc = pytest.importorskip("pyodbc")
        cur = odbc.cursor()
        with pytest.raises(pyodbc.Error, match="42703"):
            cur.execute("SELECT no_such_column FROM orders")
        assert cur.execute("SELECT count(*) FROM marketplaces").fetchone()[0] > 0

    def test_join(self, odbc):
        rows = odbc.cursor().execute(JOIN).fetchall()
        assert len(rows) == 3 and all(r[1] >= 1 and r[2] >= 1 for r in rows)

    def test_types(self, odbc):
        """psqlODBC reports timestamps as SQL_TYPE_TIMESTAMP and money as SQL_NUMERIC: datetime and Decimal."""
        pyodbc = pytest.importorskip("pyodbc")
        cur = odbc.cursor()
        kinds = {c.column_name: c.data_type for c in cur.columns(table="orders")}
        assert kinds["createdTime"] == pyodbc.SQL_TYPE_TIMESTAMP and kinds["proceeds_grandTotal_amount"] == \
            pyodbc.SQL_NUMERIC
        rows = [tuple(r) for r in cur.execute(TYPED).fetchall()]
        assert [d[1] for d in cur.description] == [str, datetime.datetime, Decimal, datetime.date]
        totals = [tuple(r) for r in cur.execute(TOTALS).fetchall()]
        utc = [(o, c.replace(tzinfo=datetime.UTC), a, d) for o, c, a, d in rows]  # naive: the session is in UTC
        check_typed_rows(utc, [(m, t, x.replace(tzinfo=datetime.UTC)) for m, t, x in totals])


@pytest.mark.odbc
def test_odbc_wrong_password_refused(server):
    pyodbc = pytest.importorskip("pyodbc")
    with pytest.raises(pyodbc.Error, match="password authentication failed"):
        odbc_connect(server.port, password="wrong")


# ---------------------------------------------------------------- psql

def psql(port: int, command: str, password: str = PASSWORD, **env: str) -> subprocess.CompletedProcess:
    if shutil.which("psql") is None:
        pytest.skip("psql is not installed: apt-get install postgresql-client")
    return subprocess.run(["psql", "-X", "-h", "127.0.0.1", "-p", str(port), "-U", USER, "-d", "main", "-c",
                           command], env=dict(os.environ, PGPASSWORD=password, **env), capture_output=True,
                          text=True, timeout=60)


def test_psql(server):
    out = psql(server.port, r"\dt")
    assert out.returncode == 0, out.stderr
    assert "orders" in out.stdout and "order_items" in out.stdout
    out = psql(server.port, r"\d orders")
    assert out.returncode == 0, out.stderr
    assert "orderId" in out.stdout and "double precision" not in out.stdout
    declared = {line.split("|")[0].strip(): line.split("|")[1].strip() for line in out.stdout.splitlines()
                if line.count("|") >= 2}
    assert declared["createdTime"] == "timestamp with time zone" and declared["orderId"] == "text"
    assert declared["proceeds_grandTotal_amount"] == "numeric"
    out = psql(server.port, 'SELECT sum("proceeds_grandTotal_amount") AS total, min("createdTime") AS first '
                            'FROM orders')
    assert out.returncode == 0, out.stderr
    total, first = (v.strip() for v in out.stdout.splitlines()[2].split("|"))
    assert len(total.partition(".")[2]) <= 2 and first.endswith("+00") and "T" not in first, out.stdout
    out = psql(server.port, "SELECT count(*) FROM marketplaces")
    assert out.returncode == 0 and "(1 row)" in out.stdout
    out = psql(server.port, "SELECT 1", password="nope")
    assert out.returncode != 0 and "password authentication failed" in out.stderr


# ---------------------------------------------------------------- psycopg and pg8000

def pg_connect(port: int, password: str = PASSWORD, **kw):
    psycopg = pytest.importorskip("psycopg")
    return psycopg.connect(host="127.0.0.1", port=port, user=USER, password=password, dbname="main",
                           autocommit=True, **kw)


def test_psycopg(server):
    import psycopg

    with pg_connect(server.port) as cn:
        first = cn.execute('SELECT "orderId" FROM orders ORDER BY 1 LIMIT 1').fetchone()[0]
        assert cn.execute('SELECT "orderId" FROM orders WHERE "orderId" = %s', (first,)).fetchall() == [(first,)]
        rows = cn.cursor(binary=True).execute(JOIN).fetchall()  # binary results
        n = cn.execute('SELECT count(*) FROM orders WHERE "proceeds_grandTotal_amount" > %b AND 1 = %b',
                       (0.5, 1)).fetchone()[0]  # binary parameters
        assert n > 0
        assert len(rows) == 3 and isinstance(rows[0][1], int)
        with pytest.raises(psycopg.errors.UndefinedColumn):
            cn.execute("SELECT nope FROM orders")
        assert cn.execute("SELECT count(*) FROM marketplaces").fetchone()[0] > 0
        with pytest.raises(psycopg.Error) as info:
            cn.execute("ATTACH DATABASE ':memory:' AS other")
        assert info.value.sqlstate in ("42501", "0A000", "42601")  # refused, never run
        with cn.transaction(), cn.cursor(name="srv") as cur:  # server-side cursor: DECLARE/FETCH
            cur.execute('SELECT "orderId" FROM orders')
            assert len(cur.fetchmany(5)) == 5 and len(cur.fetchall()) > 0
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        pg_connect(server.port, password="wrong")


@pytest.mark.parametrize("binary", [False, True], ids=["text", "binary"])
def test_psycopg_types(server, binary):
    """Timestamps arrive as aware datetimes, money as Decimal, in text and in binary results; a datetime parameter
    filters a timestamp column as an instant."""
    with pg_connect(server.port) as cn:
        cur = cn.cursor(binary=binary)
        rows = cur.execute(TYPED).fetchall()
        assert [d.type_code for d in cur.description] == [25, 1184, 1700, 1082]
        check_typed_rows(rows, cur.execute(TOTALS).fetchall())
        middle = rows[len(rows) // 2][1]
        later = cur.execute('SELECT "createdTime" FROM orders WHERE "proceeds_grandTotal_amount" IS NOT NULL AND '
                            '"createdTime" >= %s ORDER BY 1', (middle.astimezone(
                                datetime.timezone(datetime.timedelta(hours=-5))),)).fetchall()
        assert [r[0] for r in later] == [r[1] for r in rows if r[1] >= middle]
        flags = cur.execute("SELECT participation_isParticipating FROM marketplaces").fetchall()
        assert {type(f) for (f,) in flags} == {bool}


def test_pg8000_types(server):
    pg8000 = pytest.importorskip("pg8000.native")
    cn = pg8000.Connection(USER, host="127.0.0.1", port=server.port, password=PASSWORD, database="main")
    try:
        check_typed_rows([tuple(r) for r in cn.run(TYPED)], [tuple(r) for r in cn.run(TOTALS)])
    finally:
        cn.close()


def test_pg8000(server):
    pg8000 = pytest.importorskip("pg8000.native")
    cn = pg8000.Connection(USER, host="127.0.0.1", port=server.port, password=PASSWORD, database="main")
    try:
        first = cn.run('SELECT "orderId" FROM orders ORDER BY 1 LIMIT 1')[0][0]
        assert cn.run('SELECT "orderId" FROM orders WHERE "orderId" = :o', o=first) == [[first]]
        assert [c["name"] for c in cn.columns] == ["orderId"]
        assert len(cn.run(JOIN)) == 3
        with pytest.raises(pg8000.DatabaseError):
            cn.run("SELECT nope FROM orders")
        assert cn.run("SELECT count(*) FROM marketplaces")[0][0] > 0
    finally:
        cn.close()
    with pytest.raises(pg8000.DatabaseError, match="28P01"):
        pg8000.Connection(USER, host="127.0.0.1", port=server.port, password="wrong", database="main")


# ---------------------------------------------------------------- md5, TLS, trust

def test_md5_login(emulator):
    with start_in_thread(emulator.connection_string(), user=USER, password=PASSWORD, auth_method="md5") as h:
        with pg_connect(h.port) as cn:
            assert cn.execute("SELECT 1").fetchone() == (1,)
        with pytest.raises(Exception, match="password authentication failed"):
            pg_connect(h.port, password="wrong")


@pytest.fixture(scope="module")
def tls_server(emulator, tmp_path_factory):
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    tmp = tmp_path_factory.mktemp("tls")
    cert, key = tmp / "cert.pem", tmp / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
                    "/CN=127.0.0.1", "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    with start_in_thread(emulator.connection_string(), user=USER, password=PASSWORD, tls_cert=str(cert),
                         tls_key=str(key)) as h:
        yield h


@pytest.mark.odbc
def test_tls_odbc(tls_server):
    cn = odbc_connect(tls_server.port, sslmode="require")
    try:
        assert cn.cursor().execute("SELECT count(*) FROM marketplaces").fetchone()[0] > 0
    finally:
        cn.close()


def test_tls(tls_server):
    with pg_connect(tls_server.port, sslmode="require") as cn:
        assert cn.pgconn.ssl_in_use
        assert cn.execute("SELECT count(*) FROM marketplaces").fetchone()[0] > 0
    out = psql(tls_server.port, "SELECT 1", PGSSLMODE="require")
    assert out.returncode == 0, out.stderr


def test_trust_on_loopback(emulator):
    with start_in_thread(emulator.connection_string(), trust_loopback=True) as h:
        with pg_connect(h.port, password="") as cn:
            assert cn.execute("SELECT 1").fetchone() == (1,)


# ---------------------------------------------------------------- many clients, one SP-API client

def test_concurrent_clients_share_the_api(server, emulator):
    time.sleep(SHARE_WINDOW + 0.5)  # answers earlier tests fetched are no longer shareable
    with pg_connect(server.port) as cn:
        emulator.calls.clear()
        expected = cn.execute(DASHBOARD).fetchall()
        single = len(emulator.calls)
    assert single >= 1
    time.sleep(SHARE_WINDOW + 0.5)  # the single client's answers expire: the 20 share only each other's
    clients = 20
    barrier = threading.Barrier(clients)
    results: list[object] = []
    failures: list[BaseException] = []

    def client() -> None:
        try:
            with pg_connect(server.port) as c:
                barrier.wait(30)
                results.append(c.execute(DASHBOARD).fetchall())
        except BaseException as exc:  # noqa: BLE001 - reported below
            failures.append(exc)

    emulator.calls.clear()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not failures and len(results) == clients and all(r == expected for r in results)
    # one shared SP-API client: calls in flight are merged (single flight) and answers stay shareable for a few
    # seconds (SHARE_WINDOW), so 20 dashboards cost about one client's calls instead of 20×. The margin covers a
    # date window that moves when the clock crosses a minute during the test.
    assert len(emulator.calls) <= 2 * single, (len(emulator.calls), single)


def test_sqlspapi_serve_command(emulator):
    import re
    import sys

    env = dict(os.environ, SQLSPAPI_BRIDGE_PASSWORD=PASSWORD, SQLSPAPI_CONNECTION_STRING=emulator.connection_string())
    proc = subprocess.Popen([sys.executable, "-m", "sqlspapi", "serve", "--user", USER, "--port", "0"], env=env,
                            stderr=subprocess.PIPE, text=True)
    try:
        port = None
        for _ in range(50):
            m = re.search(r"listening on 127\.0\.0\.1:(\d+)", proc.stderr.readline())
            if m:
                port = int(m.group(1))
                break
        assert port, "sqlspapi serve did not announce its port"
        with pg_connect(port) as cn:
            assert cn.execute("SELECT count(*) FROM marketplaces").fetchone()[0] > 0
    finally:
        proc.terminate()
        proc.wait(20)


def test_bi_style_casts_reach_the_api_and_a_default_window_is_a_notice(server, emulator):
    """The issue's finding: `::timestamp`, cast and extract counted only the default window, silently. (Only the
    default-window notices count here: the auto mode may read the range from the order reports, and say how long.)"""
    with pg_connect(server.port) as cn:
        notices: list[str] = []
        cn.add_notice_handler(lambda diag: notices.append(diag.message_primary or "")
                              if "LookbackDays" in (diag.message_primary or "") else None)
        bare = cn.execute("""SELECT count(*) FROM orders WHERE "createdTime" >= '2025-01-01'""").fetchone()[0]
        assert not notices
        for sql in ("""SELECT count(*) FROM orders WHERE "createdTime"::timestamp >= '2025-01-01'""",
                    """SELECT count(*) FROM orders WHERE cast("createdTime" AS date) >= '2025-01-01'""",
                    """SELECT count(*) FROM orders WHERE extract(year FROM "createdTime"::timestamp) >= 2025"""):
            assert cn.execute(sql).fetchone()[0] == bare, sql
        assert not notices
        everything = cn.execute("SELECT count(*) FROM orders").fetchone()[0]
        assert everything < bare and len(notices) == 1 and "LookbackDays=all" in notices[0]
