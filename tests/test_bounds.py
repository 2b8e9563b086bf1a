"""Date bounds implied through wrappers (sqlspapi.sql.bounds): what is added, and that answers never change.

The added bounds must be necessary conditions of the predicate they come from: a generated corpus of wrapped
comparisons (wrapper × operator × literal precision × AND/OR nesting) gives exactly the same answer with and without
the rewrite over a plain SQLite copy of the emulator's orders. And through the engine, the rewritten statement lets
the window reach the API.
"""

from __future__ import annotations

import apsw
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sqlspapi.emulator import start
from sqlspapi.engine import open_database
from sqlspapi.sql import isotime
from sqlspapi.sql.bounds import imply_bounds

TIME = {"orders": frozenset({"createdtime", "lastupdatedtime"})}

CASES = [
    ("SELECT count(*) FROM orders WHERE datetime(createdTime) >= '2026-01-01'",
     "(DATETIME(createdTime) >= '2026-01-01' AND createdTime >= '2026-01-01T00:00:00Z')"),
    ("SELECT count(*) FROM orders WHERE date(createdTime) = '2026-11-20'",
     "createdTime >= '2026-11-20T00:00:00Z' AND createdTime < '2026-11-21T00:00:00Z'"),
    ("SELECT count(*) FROM orders WHERE substr(createdTime, 1, 4) = '2026'",
     "createdTime >= '2026-01-01T00:00:00Z' AND createdTime < '2027-01-01T00:00:00Z'"),
    ("SELECT count(*) FROM orders WHERE strftime('%Y-%m', createdTime) <= '2026-10'",
     "createdTime < '2026-11-01T00:00:00Z'"),
    ("SELECT count(*) FROM orders WHERE '2026-10-01' <= date(createdTime)", "createdTime >= '2026-10-01T00:00:00Z'"),
    ("SELECT count(*) FROM orders WHERE PG_TIMESTAMP(\"createdTime\", 'timestamp') >= '2026-01-01'",
     "\"createdTime\" >= '2026-01-01T00:00:00Z'"),
    ("SELECT count(*) FROM orders WHERE PG_EXTRACT('year', PG_TIMESTAMP(\"createdTime\", 'timestamp')) = 2026",
     "\"createdTime\" >= '2026-01-01T00:00:00Z' AND \"createdTime\" < '2027-01-01T00:00:00Z'"),
    ("SELECT 1 FROM orders o WHERE PG_DATE_TRUNC('month', o.\"createdTime\") < '2026-11-20'",
     "o.\"createdTime\" < '2026-12-01T00:00:00Z'"),
    ("SELECT count(*) FROM orders WHERE date(createdTime) >= date('2026-10-31', '+1 day')",
     "createdTime >= '2026-11-01T00:00:00Z'"),  # a constant expression is evaluated
]
UNCHANGED = [
    "SELECT count(*) FROM orders WHERE createdTime >= '2026-01-01'",  # already bare: SQLite offers it
    "SELECT count(*) FROM orders WHERE strftime('%m', createdTime) = '10'",  # a month of any year: no bound
    "SELECT count(*) FROM orders WHERE date(createdTime, '+1 day') = '2026-11-20'",  # shifted: not a floor
    "SELECT count(*) FROM orders WHERE julianday(createdTime) > 2460000",
    "SELECT count(*) FROM orders WHERE datetime(orderId) >= '2026-01-01'",  # not a TIME column
    "SELECT count(*) FROM orders WHERE date(createdTime) >= createdTime",  # no constant side
    "SELECT count(*) FROM orders WHERE date(createdTime) >= date(lastUpdatedTime)",  # both sides vary
    "not sql at all ((",
]


@pytest.mark.parametrize(("sql", "added"), CASES)
def test_wrapped_comparisons_gain_bare_bounds(sql: str, added: str) -> None:
    assert added in imply_bounds(sql, TIME)


@pytest.mark.parametrize("sql", UNCHANGED)
def test_what_implies_nothing_is_left_as_written(sql: str) -> None:
    assert imply_bounds(sql, TIME) == sql


# ------------------------------------------------------------------------------------- answers never change
@pytest.fixture(scope="module")
def plain() -> apsw.Connection:
    """The emulator's orders (2026-01-01 shape) in a plain SQLite table with the ISOTIME collation."""
    con = apsw.Connection(":memory:")
    isotime.register(con)
    con.execute("CREATE TABLE orders(orderId TEXT, createdTime TEXT COLLATE ISOTIME, "
                "lastUpdatedTime TEXT COLLATE ISOTIME, status TEXT)")
    with start(time_scale=1e6) as emu:
        rows = [(o["orderId"], o["createdTime"], o["lastUpdatedTime"], o["fulfillment"]["fulfillmentStatus"])
                for o, _q, _p in emu.export("searchOrders")]
    with con:
        con.executemany("INSERT INTO orders VALUES (?, ?, ?, ?)", rows)
    return con


WRAPPERS = ["datetime({c})", "date({c})", "substr({c}, 1, 4)", "substr({c}, 1, 7)", "substr({c}, 1, 10)",
            "strftime('%Y', {c})", "strftime('%Y-%m', {c})", "strftime('%Y-%m-%d', {c})", "CAST({c} AS TEXT)"]
OPS = [">=", ">", "<=", "<", "="]
CONSTANTS = st.builds(lambda d, n: f"date('{d}', '{n:+d} days')", st.sampled_from(["2025-06-15", "2026-10-31"]),
                      st.integers(-400, 400))
LITERALS = st.builds(
    lambda y, m, d, h, cut: f"{y:04d}-{m:02d}-{d:02d} {h:02d}:30:00"[:cut],
    st.integers(2024, 2027), st.integers(1, 12), st.integers(1, 28), st.integers(0, 23),
    st.sampled_from([4, 7, 10, 19]),
)
PREDICATE = st.builds(lambda w, c, op, lit, flip: f"{lit} {op} {w.format(c=c)}" if flip
                      else f"{w.format(c=c)} {op} {lit}",
                      st.sampled_from(WRAPPERS), st.sampled_from(["createdTime", "lastUpdatedTime"]),
                      st.sampled_from(OPS), st.one_of(LITERALS.map(lambda s: f"'{s}'"), CONSTANTS), st.booleans())
WHERE = st.recursive(PREDICATE, lambda inner: st.builds(lambda a, b, j: f"({a} {j} {b})", inner, inner,
                                                        st.sampled_from(["AND", "OR"])), max_leaves=3)


@settings(max_examples=250, deadline=None)
@given(where=WHERE, tail=st.sampled_from(["", " OR status = 'PENDING'", " AND status = 'SHIPPED'"]))
def test_rewritten_answers_equal_the_original(plain: apsw.Connection, where: str, tail: str) -> None:
    sql = f"SELECT orderId FROM orders WHERE {where}{tail} ORDER BY orderId"
    rewritten = imply_bounds(sql, TIME)
    assert plain.execute(rewritten).fetchall() == plain.execute(sql).fetchall(), rewritten


def test_through_the_engine_the_window_reaches_the_api() -> None:
    with start(time_scale=1e6) as emu:  # Route=api: the window reaching searchOrders, not the order report
        db = open_database(emu.connection_string(Route="api"))
        try:
            literal = db.connection.execute("SELECT date('now', '-400 days')").fetchone()[0]
            sql = f"SELECT count(*) FROM orders WHERE date(createdTime) >= '{literal}'"
            wrapped = db.connection.execute(sql).fetchone()[0]
            assert db.notices(), "without the rewrite a default window applies, and the user is told"
            rewritten = db.connection.execute(db.prepare(sql)).fetchone()[0]
            assert not db.notices()
            bare = db.connection.execute(f"SELECT count(*) FROM orders WHERE createdTime >= '{literal}'").fetchone()[0]
            assert rewritten == bare > wrapped
            assert all("createdAfter" in c.params for c in db.last_calls() if c.operation == "searchOrders")
        finally:
            db.close()
