"""PgSession on the real stack (demo emulator database): server-answered statements, cursors, describe without
running, parameters, transactions, the authorizer and cancel."""

from __future__ import annotations

import threading
import time

import apsw
import pytest

from sqlspapi.server.session import ColumnDesc, PgError, PgSession


@pytest.fixture(scope="module")
def database(demo_database):
    return demo_database


@pytest.fixture(scope="module")
def shared(database):
    """One session per connection (the catalog is attached once); each test leaves it idle."""
    return PgSession(database, user="bi", database_name="main", application_name="tests")


@pytest.fixture()
def session(shared):
    yield shared
    if shared.transaction_status != "I":
        run(shared, "ROLLBACK")
    run(shared, "CLOSE ALL; RESET ALL")


def run(session, sql):
    out = []
    for result in session.simple_query(sql):
        rows = list(result.rows)
        out.append((None if result.columns is None else [c.name for c in result.columns], rows,
                    result.command_tag(len(rows))))
    return out


def calls(database):
    return database.client.calls.since(0)


def test_describe_never_calls_the_api(session, database):
    database.client.calls.clear()
    prepared = session.prepare("SELECT * FROM orders", [])
    assert prepared.columns[0] == ColumnDesc("orderId", 25, -1)
    assert len(prepared.columns) == 28 and prepared.param_oids == []
    prepared = session.prepare('select count(*), sum("proceeds_grandTotal_amount") from orders '
                               'where "createdTime" >= $1', [0])
    assert [(c.name, c.type_oid) for c in prepared.columns] == [("count", 20), ("sum", 1700)]  # numeric money
    assert prepared.param_oids == [1184]  # the compared column's type: timestamptz
    assert calls(database) == []
    result = session.execute(prepared, ["2000-01-01"])
    [(count, total)] = list(result.rows)
    assert count > 0 and total > 0 and result.command_tag(1) == "SELECT 1"
    assert calls(database), "executing does call the API"


def test_zero_row_results_keep_their_columns(session):
    [(cols, rows, tag)] = run(session, "select * from marketplaces where 1 = 0")
    assert cols and rows == [] and tag == "SELECT 0"
    prepared = session.prepare("select typname from pg_type where oid = $1", [0])
    assert prepared.param_oids == [26] and prepared.columns == [ColumnDesc("typname", 19, 64)]
    assert list(session.execute(prepared, [99999]).rows) == []


def test_connect_statements_of_psqlodbc(session):
    assert run(session, "SET DateStyle = 'ISO';SET extra_float_digits = 2;show transaction_isolation") == [
        (None, [], "SET"), (None, [], "SET"), (["transaction_isolation"], [("read committed",)], "SHOW")]
    assert run(session, "show DateStyle") == [(["datestyle"], [("ISO",)], "SHOW")]
    assert run(session, "reset all; show application_name") == [(None, [], "RESET"),
                                                                   (["application_name"], [("",)], "SHOW")]
    assert run(session, "set search_path to public, '$user'; show search_path")[1][1] == [("public, $user",)]
    assert run(session, "SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")[0][2] == "SET"
    with pytest.raises(PgError) as caught:
        run(session, "show no_such_setting")
    assert caught.value.sqlstate == "42704"


def test_server_functions(session):
    [(cols, [row], _)] = run(session, "select version(), current_schema(), current_database(), current_user, "
                                      "session_user, pg_backend_pid() > 0")
    assert cols == ["version", "current_schema", "current_database", "current_user", "session_user", "?column?"]
    assert row[0].startswith("PostgreSQL 15") and "sqlspapi" in row[0]
    assert row[1:] == ("public", "main", "bi", "bi", True)


def test_transactions(session):
    assert session.transaction_status == "I"
    assert run(session, "BEGIN")[0][2] == "BEGIN" and session.transaction_status == "T"
    with pytest.raises(apsw.SQLError):
        run(session, "select nope from orders")
    assert session.transaction_status == "E"
    with pytest.raises(PgError) as caught:
        run(session, "select 1")
    assert caught.value.sqlstate == "25P02"
    assert run(session, "COMMIT")[0][2] == "ROLLBACK" and session.transaction_status == "I"
    assert [t for _c, _r, t in run(session, "begin; savepoint a; release a; commit")] == [
        "BEGIN", "SAVEPOINT", "RELEASE", "COMMIT"]
    assert run(session, "start transaction; rollback")[1][2] == "ROLLBACK"
    assert run(session, "discard all; deallocate \"_PLAN0x1\"; deallocate all") == [
        (None, [], "DISCARD ALL"), (None, [], "DEALLOCATE"), (None, [], "DEALLOCATE ALL")]


def test_cursors(session):
    out = run(session, "BEGIN; DECLARE c NO SCROLL CURSOR FOR select marketplace_id from marketplaces "
                       "order by 1; FETCH 1 FROM c; FETCH FORWARD 1 IN c; MOVE 1 IN c; FETCH ALL c; FETCH NEXT c")
    tags = [t for _c, _r, t in out]
    total = len(out[2][1]) + len(out[3][1]) + 1 + len(out[5][1])
    assert tags[:4] == ["BEGIN", "DECLARE CURSOR", "FETCH 1", "FETCH 1"] and tags[4] == "MOVE 1"
    assert tags[5] == f"FETCH {total - 3}" and tags[6] == "FETCH 0" and out[2][0] == ["marketplace_id"]
    assert run(session, "close c") == [(None, [], "CLOSE CURSOR")]
    with pytest.raises(PgError) as caught:
        run(session, "fetch 1 from c")
    assert caught.value.sqlstate == "34000"
    run(session, "rollback")
    with pytest.raises(PgError) as caught:
        run(session, "declare d cursor for select 1")
    assert caught.value.sqlstate == "25P01"
    run(session, 'declare "Held" binary cursor with hold for select 1 as x union all select 2')
    assert run(session, 'fetch 5 from "Held"') == [(["x"], [(1,), (2,)], "FETCH 2")]


def test_describe_of_fetch_and_attach_refused(session):
    run(session, "begin; declare c cursor for select marketplace_id, marketplace_name from marketplaces")
    assert [c.name for c in session.prepare("FETCH 10 FROM c", []).columns] == ["marketplace_id", "marketplace_name"]
    assert session.cursor_columns("c") == session.prepare("fetch all in c", []).columns
    with pytest.raises(PgError, match="does not exist"):
        session.cursor_columns("nope")
    run(session, "rollback")
    with pytest.raises(PgError) as caught:
        run(session, "ATTACH DATABASE ':memory:' AS x")
    assert caught.value.sqlstate == "42501" and "ATTACH" in caught.value.message


def test_parameters_inferred_and_bound(session):
    prepared = session.prepare('select marketplace_id from marketplaces where "marketplace_countryCode" = $1 '
                               'limit $2', [0, 0])
    assert prepared.param_oids == [25, 20]
    rows = list(session.execute(prepared, ["US", "5"]).rows)
    assert rows and all(len(r) == 1 for r in rows)
    prepared = session.prepare("select $1::int + 1, $2", [0, 0])
    assert prepared.param_oids == [23, 25]
    assert list(session.execute(prepared, ["41", "x"]).rows) == [(42, "x")]


def test_double_quotes_are_identifiers(session):
    with pytest.raises(apsw.SQLError, match="no such column"):
        run(session, 'select "noSuchColumn" from marketplaces')


def test_booleans_are_booleans(session):
    [(_c, rows, _t)] = run(session, "select 1 = 1, 1 = 0, null::boolean, 't'::bool")
    assert rows == [(True, False, None, True)]


def test_authorizer(session):
    run(session, "create temp table picks (sku text, qty integer)")
    assert run(session, "insert into picks values ('a', 1), ('b', 2)") == [(None, [], "INSERT 0 2")]
    assert run(session, "update picks set qty = 3 where sku = 'a'") == [(None, [], "UPDATE 1")]
    assert run(session, "select sum(qty) from picks")[0][1] == [(5,)]
    assert run(session, "drop table picks") == [(None, [], "DROP TABLE")]
    refused = {"create table t (a int)": "CREATE TABLE", "insert into orders (\"orderId\") values ('x')": "INSERT",
               "delete from pg_catalog.pg_class": "DELETE from pg_catalog.pg_class",
               "drop table orders": "DROP VIRTUAL TABLE orders", "select load_extension('x')": "load_extension",
               "create view v as select 1": "CREATE VIEW"}
    for sql, what in refused.items():
        with pytest.raises(PgError) as caught:
            run(session, sql)
        assert caught.value.sqlstate == "42501" and what in caught.value.message and "refuses" in caught.value.message
    for sql, what in {"ATTACH ':memory:' AS x": "ATTACH", "DETACH pg_catalog": "DETACH",
                      "PRAGMA writable_schema = 1": "PRAGMA writable_schema"}.items():
        with pytest.raises(apsw.AuthError):
            session.con.execute(sql)
        assert what in session.guard.denied
    assert session.con.execute("PRAGMA table_info(orders)").fetchall()


def test_cancel_interrupts_the_running_statement(session):
    timer = threading.Timer(0.2, session.cancel)
    start = time.monotonic()
    timer.start()
    with pytest.raises(apsw.InterruptError):
        run(session, "with recursive n(i) as (select 1 union all select i + 1 from n) select count(*) from n")
    assert time.monotonic() - start < 5


def test_catalog_error_versus_user_error(session):
    with pytest.raises(apsw.SQLError):
        run(session, "select * from no_such_user_table")
    assert run(session, "select attname from pg_attribute a, unnest(a.attacl) x") == [(["attname"], [], "SELECT 0")]
    # generate_series runs as PostgreSQL's (no rows here: pg_proc is empty), typed as PostgreSQL types it
    prepared = session.prepare("select x.n from pg_proc p, generate_series(1, 3) as x(n)", [])
    assert prepared.columns == [ColumnDesc("n", 23, 4)] and list(session.execute(prepared, []).rows) == []
    # a catalog query SQLite cannot run answers 0 rows with text columns (what a BI tool's probe survives)
    prepared = session.prepare("select x.n from pg_proc p, unnest(p.proargnames) as x(n)", [])
    assert prepared.columns == [ColumnDesc("n", 25)] and list(session.execute(prepared, []).rows) == []


# ---------------------------------------------------------------- sqlspapi dsn


def test_dsn_formats_render(capsys):
    from sqlspapi.server import dsn

    argv = ["--host", "10.0.0.5", "--port", "6543", "--user", "bi", "--name", "Amazon", "--format", "all"]
    assert dsn.main(argv) == 0
    out = capsys.readouterr().out
    for text in ("[Amazon]", "Servername=10.0.0.5", "Port=6543", "Username=bi", "SSLMode=require",
                 "SERVER=10.0.0.5", "Driver={PostgreSQL Unicode};Server=10.0.0.5;Port=6543",
                 "psql \"host=10.0.0.5 port=6543 dbname=main user=bi sslmode=require",
                 "jdbc:postgresql://10.0.0.5:6543/main?user=bi&sslmode=require", "UseServerSidePrepare=1",
                 "BoolsAsChar=0", "TextAsLongVarchar=0"):
        assert text in out
    assert "${" not in out
    assert dsn.render("odbc.ini", host="localhost").count("SSLMode=disable") == 1


CHECK_DSN = """
import pyodbc
connection = pyodbc.connect("DSN=spapi_test", autocommit=True)
cursor = connection.cursor()
print(*[t.table_name for t in cursor.tables(schema="public")], sep=",")
cursor.execute("select participation_isParticipating, marketplace_name from marketplaces")
flag, name = cursor.fetchone()
print(flag is True, isinstance(name, str), cursor.description[1][3])
"""


@pytest.mark.odbc
def test_rendered_dsn_connects_through_unixodbc(tmp_path, demo_database):
    """odbcinst.ini + odbc.ini from `sqlspapi dsn` → unixODBC → psqlODBC → sqlspapi serve (demo).

    The client runs in a subprocess: unixODBC caches its ini files per process, so changing ODBCSYSINI here would
    hide the system's drivers from the other tests.
    """
    import os
    import subprocess
    import sys

    pytest.importorskip("pyodbc")
    from sqlspapi.server import dsn, start_in_thread

    if not os.path.exists(dsn.driver_path()):
        pytest.skip("psqlODBC is not installed: apt-get install unixodbc odbc-postgresql")
    with start_in_thread(demo=True, trust_loopback=True) as server:
        (tmp_path / "odbcinst.ini").write_text(dsn.render("odbcinst.ini", driver_name="sqlspapi psqlODBC"))
        (tmp_path / "odbc.ini").write_text(dsn.render("odbc.ini", port=server.port, name="spapi_test",
                                                      driver_name="sqlspapi psqlODBC"))
        env = dict(os.environ, ODBCSYSINI=str(tmp_path), ODBCINI=str(tmp_path / "odbc.ini"))
        done = subprocess.run([sys.executable, "-c", CHECK_DSN], env=env, capture_output=True, text=True,
                              timeout=120)
    assert done.returncode == 0, done.stderr
    listed, *checks = done.stdout.split()
    tables = listed.split(",")  # SQLTables lists every demo table
    assert {"orders", "marketplaces"} <= set(tables) and len(tables) == len(demo_database.tables())
    # BoolsAsChar=0 gives a bool; TextAsLongVarchar=0 + MaxVarcharSize=65535
    assert checks == ["True", "True", "65535"]
