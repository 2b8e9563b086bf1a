"""Hostile and edge inputs to the planner and client (issue 8, items 1, 3, 4 and 6): each answer right or a clear
error, against the emulator, through the DB-API a user would use.

- a constraint written with another collation than the column's is evaluated by SQLite, never sent to the API;
- dates before year 1000 are sent with a four-digit year; ids that cannot be ids ('', '.', '..') never leave the
  process, and a path value is always percent-encoded;
- a statement whose calls are counted before calling and exceed ``MaxCallsPerStatement`` fails at once with the
  estimate; one that reaches the ceiling while running stops; long ones are announced first;
- threads running the same query a moment apart cost about one thread's calls (the account runtime shares an answer
  with other connections for ``OTHERS_WINDOW`` seconds), while a connection's own next statement is fresh.
"""

from __future__ import annotations

import threading
import warnings

import pytest

import sqlspapi
from sqlspapi.definitions.schema import OperationSpec, usable_path_value
from sqlspapi.errors import CallLimitError, SlowStatementWarning
from sqlspapi.http.runtime import reset_runtimes

emulator = pytest.importorskip("sqlspapi.emulator")


@pytest.fixture(scope="module")
def emu():
    with emulator.start(orders=400, time_scale=1000) as running:
        yield running


@pytest.fixture(autouse=True)
def fresh_runtime():
    reset_runtimes()
    yield
    reset_runtimes()


def connect(emu, **keys):
    return sqlspapi.connect(emu.connection_string(), LookbackDays="all", **keys)


def count(con, sql: str, *params) -> int:
    return con.cursor().execute(sql, params).fetchone()[0]


# ------------------------------------------------------------------------------------------- COLLATE


@pytest.mark.parametrize("version", ["2026-01-01", "v0"])
def test_a_collation_other_than_the_columns_is_evaluated_by_sqlite(emu, version):
    column = "salesChannel_marketplaceId" if version == "2026-01-01" else "MarketplaceId"
    with connect(emu, OrdersApiVersion=version) as con:
        exact = count(con, f"SELECT count(*) FROM orders WHERE {column} = 'ATVPDKIKX0DER'")
        assert exact > 0
        lower = count(con, f"SELECT count(*) FROM orders WHERE {column} = 'atvpdkikx0der' COLLATE NOCASE")
        assert lower == exact, "NOCASE matches what the API would not"
        sent = [c.params for c in con.last_calls() if c.operation in ("searchOrders", "getOrders")]
        assert sent and not any("atvpdkikx0der" in str(p).lower() and "ATVPDKIKX0DER" not in str(p)
                                for p in sent), "the lower-case value never reached the API"


def test_nocase_on_a_status_column_is_not_an_api_error(emu):
    with connect(emu, OrdersApiVersion="v0") as con:
        shipped = count(con, "SELECT count(*) FROM orders WHERE OrderStatus = 'Shipped'")
        assert count(con, "SELECT count(*) FROM orders WHERE OrderStatus = 'shipped' COLLATE NOCASE") == shipped


# ------------------------------------------------------------------------------------------- edge values


def test_a_year_before_1000_is_sent_with_four_digits(emu):
    with connect(emu) as con:
        total = count(con, "SELECT count(*) FROM orders WHERE createdTime >= '0001-01-01'")
        assert total == count(con, "SELECT count(*) FROM orders WHERE createdTime >= '2000-01-01'")
        first = next(c for c in con.last_calls() if c.operation == "searchOrders")
        assert first.params["createdAfter"] == "2000-01-01T00:00:00Z"
        con.cursor().execute("SELECT count(*) FROM orders WHERE createdTime >= '0001-01-01'").fetchall()
        first = next(c for c in con.last_calls() if c.operation == "searchOrders")
        assert first.params["createdAfter"] == "0001-01-01T00:00:00Z"


@pytest.mark.parametrize("bad", ["", ".", "..", "   "])
@pytest.mark.parametrize("version", ["2026-01-01", "v0"])
def test_an_id_that_cannot_be_an_id_is_no_row_and_no_call(emu, bad, version):
    key = "orderId" if version == "2026-01-01" else "AmazonOrderId"
    with connect(emu, OrdersApiVersion=version) as con:
        sent = len(emu.calls)
        assert con.cursor().execute(f"SELECT * FROM orders WHERE {key} = ?", (bad,)).fetchall() == []
        assert con.cursor().execute(f"SELECT * FROM order_items WHERE {key} = ?", (bad,)).fetchall() == []
        real = emu.orders[0].order_id
        rows = con.cursor().execute(f"SELECT {key} FROM orders WHERE {key} IN (?, ?)", (bad, real)).fetchall()
        assert rows == [(real,)]
        paths = [c.path for c in emu.calls[sent:]]
        assert all(not p.rstrip("/").endswith(("/orders", "/.", "/..")) or "orderItems" in p or "?" in p
                   for p in paths if "/orders/" in p and p.count("/") >= 4), paths


def test_path_values_are_percent_encoded():
    op = OperationSpec("getOrder", "orders", "v0", "GET", "/orders/v0/orders/{orderId}", 0.5, 30)
    assert op.format_path({"orderId": "../sellers"}) == "/orders/v0/orders/..%2Fsellers"
    assert op.format_path({"orderId": ".."}) == "/orders/v0/orders/%2E%2E"
    assert op.format_path({"orderId": "a b?c#d"}) == "/orders/v0/orders/a%20b%3Fc%23d"
    assert not usable_path_value("") and not usable_path_value("..") and usable_path_value("111-1111111-1111111")


# ------------------------------------------------------------------------------------------- MaxCallsPerStatement


def test_a_fan_out_counted_before_calling_beyond_the_ceiling_fails_at_once(emu):
    ids = [f"111-{n:07d}-{n:07d}" for n in range(1200)]
    with connect(emu) as con:
        marks = ",".join("?" * len(ids))
        with pytest.raises(CallLimitError) as info:
            con.cursor().execute(f"SELECT * FROM orders WHERE orderId IN ({marks})", ids).fetchall()
        assert con.last_calls() == [], "no call was made"
        text = str(info.value)
        assert "~1,200 getOrder calls" in text and "MaxCallsPerStatement=1000" in text and "h" in text
        assert isinstance(info.value, sqlspapi.ProgrammingError)


def test_a_statement_reaching_the_ceiling_while_running_stops(emu):
    with connect(emu, MaxCallsPerStatement=2) as con:
        with pytest.raises(CallLimitError, match="stopped after 2 SP-API calls"):
            con.cursor().execute("SELECT count(*) FROM orders").fetchall()
        assert len(con.last_calls()) == 2
    with connect(emu, MaxCallsPerStatement=0) as con:  # 0: no ceiling
        assert count(con, "SELECT count(*) FROM orders") == 400


def test_a_long_fan_out_is_announced_with_its_estimate(emu):
    ids = [o.order_id for o in emu.orders[:40]]
    with connect(emu) as con:
        bucket = con.database.client.bucket(next(
            op for t in con.database.tables() if t.name == "orders" for r in t.routes
            if (op := r.operation) is not None and op.name == "getOrder"))
        bucket.set_rate(0.5)  # Amazon's pace, from an empty bucket: 40 calls take 80 s (the emulator's answers then
        bucket.drain()        # teach the bucket its own, faster rate, so the test itself waits about 2 s)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            cur = con.cursor()
            rows = cur.execute(f"SELECT orderId FROM orders WHERE orderId IN ({','.join('?' * 40)})",
                               ids).fetchall()
        assert len(rows) == 40
        slow = [w for w in caught if issubclass(w.category, SlowStatementWarning)]
        assert len(slow) == 1 and "~40 getOrder calls" in str(slow[0].message)
        assert any(category is SlowStatementWarning for category, _m in cur.messages)


# ------------------------------------------------------------------------------------------- many threads


def test_threads_running_the_same_query_share_answers_but_a_connection_sees_fresh_data(emu):
    sql = "SELECT count(*) FROM orders WHERE createdTime >= '2026-06-01'"
    with connect(emu) as con:
        before = len(emu.calls)
        alone = count(con, sql)
        one_thread = len(emu.calls) - before

    results: list[int] = []
    barrier = threading.Barrier(8)

    def run() -> None:
        with connect(emu) as mine:
            barrier.wait()
            results.append(count(mine, sql))

    before = len(emu.calls)
    threads = [threading.Thread(target=run) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    eight = len(emu.calls) - before
    assert results == [alone] * 8
    assert eight <= one_thread * 1.5, f"8 threads sent {eight} calls, one thread {one_thread}"

    own = "SELECT count(*) FROM orders WHERE createdTime >= '2026-07-01'"
    with connect(emu) as con:  # a connection's next statement does not reuse its own answers: fresh data
        count(con, own)
        before = len(emu.calls)
        count(con, own)
        assert len(emu.calls) - before >= 1


def test_answers_kept_for_other_connections_are_bounded_by_size():
    """A fast scan's pages are shared for a moment, but only the last few megabytes of them are kept."""
    from types import SimpleNamespace

    from sqlspapi.http.flight import MAX_RECENT_BYTES, Flights

    flights = Flights()
    page = SimpleNamespace(headers={"content-length": str(1_000_000)})
    me, other = object(), object()
    pages = MAX_RECENT_BYTES // 1_000_000 + 5
    for n in range(pages):
        flight, leader = flights.join(("GET", n), 0.0, me)
        assert leader
        flights.lead(("GET", n), flight, 0.0, lambda: page, me)
    _first, leads_first = flights.join(("GET", 0), 0.0, other)
    last, leads_last = flights.join(("GET", pages - 1), 0.0, other)
    assert leads_first, "the oldest page was let go"
    assert not leads_last and last.result is page, "the newest page is shared with another connection"
