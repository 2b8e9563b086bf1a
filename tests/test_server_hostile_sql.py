"""Issue 8, the bridge's statement side, through real clients (psycopg, psql): a query is split by a linear scanner (a
big literal costs its own bytes, not 117 times them) and one over the size cap is 54000 naming the cap; deep
expressions answer 54001 at once; ``SET statement_timeout`` stops a statement with 57014; and hostile statements get
PostgreSQL's SQLSTATEs with messages that never speak sqlglot, APSW or Python."""

from __future__ import annotations

import datetime
import re
import threading
import time
import tracemalloc

import pytest
import test_server_clients
from test_server_clients import pg_connect, psql
from test_server_issue7 import psql_script, stall

from sqlspapi.server.guard import MAX_QUERY_ENV
from sqlspapi.server.session import PgSession
from sqlspapi.server.translate import PgError, first_words, split_statements, translate

psycopg = pytest.importorskip("psycopg")
emulator, server = test_server_clients.emulator, test_server_clients.server  # its fixtures: this module's own bridge

#: what an error may never show a client: the translator's or SQLite wrapper's names, Python's exceptions
INTERNALS = re.compile(r"sqlglot|Traceback|apsw\.|<class |<Token|TokenType|\b[A-Z]\w*(?:Error|Exception)\b")
MB = 2**20


def deep_sum(size: int) -> str:
    """``SELECT 1+1+…`` of about ``size`` bytes."""
    return "SELECT " + "+".join(["1"] * (size // 2))


def nested(depth: int, open_: str, close: str, inner: str = "1") -> str:
    return "SELECT " + open_ * depth + inner + close * depth


# ---------------------------------------------------------------- 7: the scanner and the size cap

def test_statements_are_split_outside_every_kind_of_quote_and_comment():
    sql = ("select 'a;''b'; select E'c\\';d' ; select \"e;\"\"f\"; select $x$ g; $$ ; $x$; select $$h;$$; "
           "/* i /* j; */ k; */ select 1 -- l;\n; select $1; select a$b$c from t;; select 'open; select 2")
    assert split_statements(sql) == [
        "select 'a;''b'", "select E'c\\';d'", 'select "e;""f"', "select $x$ g; $$ ; $x$", "select $$h;$$",
        "/* i /* j; */ k; */ select 1 -- l;", "select $1", "select a$b$c from t", "select 'open; select 2"]
    assert split_statements(" ; -- only a comment\n; /* and /* nested */ */ ;") == []
    assert first_words("/* a /* b */ c */ -- d\n  SeLeCt 'from where' \"TimeZone\", x", 3) == ["select", "timezone",
                                                                                               "x"]


def test_splitting_a_big_literal_costs_its_own_bytes():
    sql = "SELECT length('" + "x''y" * (MB // 4) + "'); SELECT 2"
    tracemalloc.start()
    try:
        statements = split_statements(sql)
        words = first_words(statements[0], 3)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 2 * len(sql), f"{peak / len(sql):.1f} bytes per byte of query"  # the statement cut out: 1×
    assert len(statements) == 2 and len(statements[0]) == len(sql) - len("; SELECT 2") and words == ["select", "length"]
    one = statements[0] + ";"
    assert split_statements(one)[0] is one  # a query of one statement is not copied at all


def test_big_literals_are_bound_values_not_parsed_text():
    big = "x'y" * 2000
    tr = translate(f"SELECT length('{big.replace(chr(39), chr(39) * 2)}'), $1::int, $t${big}$t$ = $2, B'{'0' * 5000}'")
    assert tr.values == [big, big] and tr.param_count == 2 and "?3" in tr.sql and "?4" in tr.sql and big not in tr.sql
    assert "?5" not in tr.sql and len(tr.values) == 2  # a bit string is not a text literal: sqlglot reads it


def test_a_big_literal_is_answered_and_a_query_over_the_cap_is_54000(server, monkeypatch):
    literal = "x" * MB
    with pg_connect(server.port) as cn:  # extended protocol (Parse)
        assert cn.execute(f"SELECT length('{literal}'), 1").fetchone() == (MB, 1)
        big = "a'b" * 2000
        escaped = big.replace("'", "''")
        row = cn.execute(f"SELECT length('{escaped}'), %s::int + 1, $q${big}$q$ = %s, '{escaped}'", (6, big)).fetchone()
        assert row == (6000, 7, True, big)
        assert "no SP-API call" in cn.execute(f"EXPLAIN SELECT length('{escaped}') + %s", (1,)).fetchone()[0]
    out = psql_script(server.port, f"SELECT length('{literal}') AS n;\n")  # simple Query
    assert out.returncode == 0 and "1048576" in out.stdout, out.stderr
    monkeypatch.setenv(MAX_QUERY_ENV, "64kB")  # read by each new session
    big = f"SELECT length('{'x' * 70_000}')"
    with pg_connect(server.port) as cn:
        with pytest.raises(psycopg.errors.ProgramLimitExceeded) as raised:
            cn.execute(big)
        message = raised.value.diag.message_primary
        assert "65536 bytes" in message and MAX_QUERY_ENV in message and str(len(big)) in message
        assert cn.execute("SELECT length('small')").fetchone() == (5,)  # the session goes on
    out = psql_script(server.port, big + ";\nSELECT 'after' AS next;\n")
    assert "bytes is larger than the bridge's limit of 65536 bytes" in out.stderr and "after" in out.stdout


# ---------------------------------------------------------------- 8: deep expressions

def test_a_deep_expression_is_refused_before_it_is_parsed():
    tracemalloc.start()
    try:
        with pytest.raises(PgError) as raised:
            translate(deep_sum(MB // 10))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert raised.value.sqlstate == "54001" and "operators in a row" in raised.value.message
    assert peak < MB, f"{peak / MB:.0f} MB: the expression was parsed"
    for sql in (nested(100, "CASE WHEN true THEN ", " END"), nested(60, "(SELECT ", ")")):  # past sqlglot's depth
        with pytest.raises(PgError) as raised:
            translate(sql)
        assert raised.value.sqlstate == "54001" and raised.value.__context__ is None  # no deep frames kept


def test_deep_expressions_answer_54001_and_the_session_goes_on(server):
    refused = [deep_sum(MB), nested(200, "(", ")"), nested(300, "abs(", ")"),
               nested(100, "CASE WHEN true THEN ", " END"), "SELECT " + "- " * 2000 + "1"]
    with pg_connect(server.port) as cn:
        for sql in refused:
            with pytest.raises(psycopg.errors.StatementTooComplex) as raised:
                cn.execute(sql)
            assert "statement too complex" in str(raised.value) and not INTERNALS.search(str(raised.value))
        assert cn.execute(nested(20, "(", ")")).fetchone() == (1,)  # BI tools' nesting still works
        assert cn.execute("SELECT count(*) FROM (SELECT 1) t WHERE " + " OR ".join(["1 = 1"] * 500)).fetchone() == (1,)
        ids = ", ".join(f"'{i}'" for i in range(5000))
        assert cn.execute(f"SELECT 1 WHERE '7' IN ({ids})").fetchone() == (1,)
    out = psql(server.port, nested(200, "(", ")"))
    assert "ERROR:  statement too complex" in out.stderr


# ---------------------------------------------------------------- 10: statement_timeout

def test_statement_timeout_settings_read_as_postgresql_shows_them(server):
    with pg_connect(server.port) as cn:
        def show() -> str:
            return cn.execute("SHOW statement_timeout").fetchone()[0]

        assert show() == "0"
        for value, shown in (("500", "500ms"), ("'5s'", "5s"), ("'1min'", "1min"), ("90000", "90s"),
                             ("'1.5s'", "1500ms"), ("'2h'", "2h"), ("0", "0")):
            cn.execute(f"SET statement_timeout = {value}")
            assert show() == shown, value
        cn.execute("SET SESSION statement_timeout TO 2000")
        assert show() == "2s"
        for bad in ("'abc'", "-1", "'5 parsecs'"):
            with pytest.raises(psycopg.errors.InvalidParameterValue, match="statement_timeout"):
                cn.execute(f"SET statement_timeout = {bad}")
        assert show() == "2s"
        cn.execute("BEGIN")
        cn.execute("SET LOCAL statement_timeout = '250ms'")
        assert show() == "250ms"
        cn.execute("COMMIT")
        assert show() == "2s"  # SET LOCAL ends with its transaction
        cn.execute("BEGIN")
        cn.execute("SET statement_timeout = 700")
        cn.execute("ROLLBACK")
        assert show() == "2s"  # a rolled-back SET is undone, as in PostgreSQL
        cn.execute("RESET statement_timeout")
        assert show() == "0"
        assert cn.execute("SELECT current_setting('statement_timeout')").fetchone() == ("0",)


@pytest.fixture()
def slow_orders(server, emulator):
    """An orders query whose first SP-API call waits ~17 minutes for the rate limiter (its bucket drained)."""
    since = datetime.date.today() - datetime.timedelta(days=144)
    sql = f"""SELECT count(*) FROM orders WHERE "createdTime" >= '{since}'"""
    with pg_connect(server.port) as cn:
        _operation, limiter = stall(cn, emulator, sql)
    try:
        yield sql
    finally:
        limiter.reset()  # published rates again for later tests


def run_in_thread(cn, action) -> list[BaseException]:
    """Run ``action`` on ``cn`` in a thread; the exceptions it raised. It must end within 30 s (the rate-limit wait it
    stops is ~17 min); if not, the test cancels it and fails."""
    failures: list[BaseException] = []

    def run() -> None:
        try:
            action()
        except BaseException as exc:  # noqa: BLE001 - examined by the caller
            failures.append(exc)

    worker = threading.Thread(target=run)
    worker.start()
    worker.join(30)
    stuck = worker.is_alive()
    while worker.is_alive():
        cn.cancel_safe()
        worker.join(1)
    assert not stuck, "statement_timeout did not stop the statement"
    return failures


def test_statement_timeout_stops_a_statement_waiting_for_the_rate_limiter(server, slow_orders):
    with pg_connect(server.port) as cn:
        cn.execute("SET statement_timeout = 500")
        failures = run_in_thread(cn, lambda: cn.execute(slow_orders + " AND 1 = %s", (1,)))  # Parse/Bind/Execute
        assert len(failures) == 1 and isinstance(failures[0], psycopg.errors.QueryCanceled), failures
        assert failures[0].diag.message_primary == "canceling statement due to statement timeout"
        assert cn.execute("SELECT count(*) FROM marketplaces").fetchone()[0] > 0  # the session stays usable
        cn.execute("BEGIN")
        cn.execute("SET LOCAL statement_timeout = 300")
        failures = run_in_thread(cn, lambda: cn.execute(slow_orders))
        assert [f.sqlstate for f in failures] == ["57014"]
        cn.execute("ROLLBACK")
        assert cn.execute("SHOW statement_timeout").fetchone() == ("500ms",)
        cursor = cn.cursor("slow", withhold=True)  # DECLARE … CURSOR WITH HOLD, then FETCH
        failures = run_in_thread(cn, lambda: cursor.execute(slow_orders).fetchall())
        assert [f.sqlstate for f in failures] == ["57014"]
    out = psql(server.port, f"SET statement_timeout = '400ms'; {slow_orders}")  # one simple Query, two statements
    assert "ERROR:  canceling statement due to statement timeout" in out.stderr


#: The first row at once, then ~30 ms of SQLite work per row: the statement runs while its rows are streamed.
SLOW_ROWS = ("WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 1000) SELECT n, CASE WHEN n = 1 "
             "THEN 0 ELSE length(replace(hex(zeroblob(4000000 + n)), '00', 'x')) END AS work FROM r")


def test_statement_timeout_covers_the_rows_streamed_after_the_statement_started(server, demo_database):
    session = PgSession(demo_database, user="bi", database_name="main")
    list(session.simple_query("SET statement_timeout = 300"))
    [result] = session.simple_query(SLOW_ROWS)  # started: its first row is ready
    with pytest.raises(PgError) as raised:
        list(result.rows)
    assert (raised.value.sqlstate, raised.value.message) == ("57014", "canceling statement due to statement timeout")
    with pg_connect(server.port) as cn:
        cn.execute("SET statement_timeout = 300")
        with pytest.raises(psycopg.errors.QueryCanceled, match="statement timeout"):
            cn.execute(SLOW_ROWS).fetchall()
        with pytest.raises(psycopg.errors.QueryCanceled, match="statement timeout"):
            cn.execute(SLOW_ROWS + " WHERE n > %s", (0,)).fetchall()  # Parse/Bind/Execute
        assert cn.execute("SELECT 1").fetchone() == (1,)


def test_a_statement_timeout_after_a_statement_ended_cancels_nothing(server):
    with pg_connect(server.port) as cn:
        cn.execute("SET statement_timeout = 200")
        for _ in range(3):
            assert cn.execute("SELECT count(*) FROM marketplaces").fetchone()[0] > 0
        time.sleep(0.4)  # every timer of the statements above is over: none may hit the next statement
        assert cn.execute("SELECT count(*) FROM marketplaces").fetchone()[0] > 0


# ---------------------------------------------------------------- 12: errors speak PostgreSQL

HOSTILE = [
    ("PRAGMA main.writable_schema = ON", {"42501", "42601"}),
    ("PRAGMA writable_schema = 1", {"42501"}),
    ("ATTACH DATABASE '/tmp/sqlspapi-hostile.db' AS x", {"42501"}),
    ("SELECT load_extension('/tmp/sqlspapi-hostile')", {"42501"}),
    ("VACUUM INTO '/tmp/sqlspapi-hostile.db'", {"42501", "42601", "0A000"}),
    ('SELECT "' + "a" * 100_000 + '" FROM orders', {"42703"}),
    ("SELECT E'a\\000b'", {"22021"}),
    ("SELECT 'a' || E'\\x00'", {"22021"}),
    ("SELECT 1 FROM", {"42601"}),
    ("SELECT * FROM orders WHERE", {"42601"}),
    ("SELECT 'unterminated", {"42601"}),
    ("SELECT split_part('a', 'b', 'x')", {"22P02"}),
    ("SELECT lpad('x', 'many')", {"22P02"}),
    (nested(300, "(", ")"), {"54001"}),
]


def test_hostile_statements_get_postgresql_errors(server):
    with pg_connect(server.port) as cn:
        for sql, states in HOSTILE:
            with pytest.raises(psycopg.Error) as raised:
                cn.execute(sql)
            diag = raised.value.diag
            assert diag.sqlstate in states, (sql[:60], diag.sqlstate, diag.message_primary)
            for text in (diag.message_primary, diag.message_detail, diag.message_hint):
                assert not INTERNALS.search(text or ""), (sql[:60], text)
            assert len(diag.message_primary) < 1000, sql[:60]
        assert cn.execute("SELECT count(*) FROM marketplaces").fetchone()[0] > 0
    assert "syntax error at end of input" in psql(server.port, "SELECT 1 FROM").stderr
