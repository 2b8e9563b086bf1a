"""Faults between the driver and Amazon never become wrong rows (issue 7, section 6).

The emulator garbles answers on request (:meth:`Emulator.fault_next`: an empty body, an HTML page, random bytes, a
body cut in half with a matching Content-Length, a connection closed mid-body, ``{}``, short pages, invalid and
repeated next tokens) or fails them with 429/500/503 (:meth:`Emulator.fail_next`). The fault suite runs seeded
queries of both Orders versions (scans, aggregates, IN lists, joins, gets) with one fault each, and every result is
the fault-free one or a clear error naming the operation: none is wrong. Retries are fast (RetryWaitTimeMs=1) and
the emulator's clock runs 100,000 times faster than Amazon's, so the suite takes a few seconds.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass
from typing import Any

import pytest
from fakes import FakeClient, paged

import sqlspapi
from sqlspapi.emulator import start
from sqlspapi.emulator.faults import FAULT_KINDS
from sqlspapi.engine import open_database
from sqlspapi.errors import Error, SPAPIError
from sqlspapi.http import flight
from sqlspapi.http.runtime import reset_runtimes
from sqlspapi.sql.routes import listing, paging

SEED = 20260607
RUNS = 240
RETRIES = 2
KEYS = {"RetryWaitTimeMs": 1, "RetryCountMax": RETRIES}
STATUS_FAULTS = (429, 500, 503)
#: Answer faults that make an answer unusable (the others page wrongly).
BODY_FAULTS = ("empty", "html", "bytes", "truncated", "cut", "empty_object")


@pytest.fixture(scope="module")
def emu():
    emu = start(time_scale=100_000, orders=240, seed=11, items_page_size=2)
    yield emu
    emu.stop()


@pytest.fixture(scope="module")
def dbs(emu):
    """One database per Orders version, on the faulty emulator."""
    with open_database(emu.connection_string(OrdersApiVersion="v0", **KEYS)) as v0, \
            open_database(emu.connection_string(**KEYS)) as v2026:
        yield {"v0": v0, "2026": v2026}


@pytest.fixture(autouse=True)
def no_faults_left_over(emu, monkeypatch):
    """No fault of a previous test, and no answer shared from another connection moments ago: a fault is injected
    into the next call, which must then be sent (the account runtime would otherwise reuse the identical answer
    another test's connection just got, for ``OTHERS_WINDOW`` seconds)."""
    monkeypatch.setattr(flight, "OTHERS_WINDOW", 0.0)
    reset_runtimes()
    emu.clear_faults()
    yield
    emu.clear_faults()
    reset_runtimes()


@dataclass(frozen=True)
class Query:
    """A query of the fault suite: the SQL, its Orders version, and the operations it calls (emulator name →
    the name the driver's errors use)."""

    name: str
    version: str
    sql: str
    ops: tuple[tuple[str, str], ...]
    params: tuple[Any, ...] = ()


def suite_queries(emu) -> list[Query]:
    """Scans, aggregates, IN lists, joins and gets on both Orders versions."""
    recent = emu.orders[-10].purchase.strftime("%Y-%m-%dT%H:%M:%SZ")
    ids = tuple(o.order_id for o in emu.orders[::4])  # 60 ids: two getOrders calls of 50 and 10
    few = tuple(o.order_id for o in emu.orders[3::47])  # 6 ids: six getOrder calls (2026)
    marks = ",".join("?" * len(ids))
    few_marks = ",".join("?" * len(few))
    return [
        Query("v0 aggregate", "v0", "SELECT count(*), round(sum(OrderTotal_Amount), 2), min(PurchaseDate), "
              "max(PurchaseDate) FROM orders WHERE PurchaseDate >= '2000-01-01'", (("getOrders", "getOrders"),)),
        Query("v0 scan", "v0", "SELECT AmazonOrderId, OrderStatus, OrderTotal_Amount FROM orders "
              "WHERE PurchaseDate >= '2000-01-01'", (("getOrders", "getOrders"),)),
        Query("v0 IN list", "v0", f"SELECT AmazonOrderId, PurchaseDate FROM orders WHERE AmazonOrderId IN ({marks})",
              (("getOrders", "getOrders"),), ids),
        Query("v0 join", "v0", "SELECT o.AmazonOrderId, i.ASIN, i.QuantityOrdered FROM orders o JOIN order_items i "
              f"ON i.AmazonOrderId = o.AmazonOrderId WHERE o.PurchaseDate >= '{recent}'",
              (("getOrders", "getOrders"), ("getOrderItems", "getOrderItems"))),
        Query("v0 get", "v0", "SELECT AmazonOrderId, OrderStatus FROM orders WHERE AmazonOrderId = ?",
              (("getOrder", "getOrder"),), (emu.orders[7].order_id,)),
        Query("2026 aggregate", "2026", "SELECT count(*), round(sum(proceeds_grandTotal_amount), 2) FROM orders "
              "WHERE createdTime >= '2000-01-01'", (("searchOrders", "searchOrders"),)),
        Query("2026 IN list", "2026", f"SELECT orderId, createdTime FROM orders WHERE orderId IN ({few_marks})",
              (("getOrder2026", "getOrder"),), few),
        Query("2026 join", "2026", "SELECT o.orderId, i.product_asin, i.quantityOrdered FROM orders o "
              f"JOIN order_items i ON i.orderId = o.orderId WHERE o.createdTime >= '{recent}'",
              (("searchOrders", "searchOrders"),)),
    ]


def run(db, query: Query) -> list[tuple[Any, ...]]:
    """The query's rows, in a stable order."""
    return sorted(db.connection.execute(query.sql, query.params).fetchall(), key=repr)


def is_clear(exc: BaseException, operation: str) -> bool:
    """A clear error: one of ours, naming the operation, with the request id (or the paging loop it found)."""
    text = str(exc)
    return isinstance(exc, Error) and operation in text and (
        "request id" in text or getattr(exc, "code", None) == listing.PAGING_LOOP)


def test_fault_suite_every_result_is_identical_or_a_clear_error(emu, dbs) -> None:
    queries = suite_queries(emu)
    baseline: dict[str, list[tuple[Any, ...]]] = {}
    calls: dict[tuple[str, str], int] = {}
    for query in queries:
        before = len(emu.calls)
        baseline[query.name] = run(dbs[query.version], query)
        assert baseline[query.name], query.name
        made = Counter(c.operation for c in emu.calls[before:])
        for op, _name in query.ops:
            calls[(query.name, op)] = made[op]
            assert made[op] >= 1, (query.name, op)
    rng = random.Random(SEED)
    kinds: list[str | int] = [*FAULT_KINDS, *STATUS_FAULTS]
    outcomes: Counter[str] = Counter()
    by_kind: dict[str | int, Counter[str]] = {kind: Counter() for kind in kinds}
    wrong: list[str] = []
    for i in range(RUNS):
        query = queries[i % len(queries)]
        kind = kinds[(i // len(queries)) % len(kinds)] if i < len(queries) * len(kinds) else rng.choice(kinds)
        op, name = rng.choice(query.ops)
        n = rng.choice((1, 1, 2, RETRIES + 1))
        skip = rng.randrange(calls[(query.name, op)])
        if isinstance(kind, int):
            emu.fail_next(op, kind, n, skip=skip)
        else:
            emu.fault_next(op, kind, n, skip=skip)
        try:
            got = run(dbs[query.version], query)
        except Exception as exc:  # noqa: BLE001 - every exception is judged: clear, or a failure of the suite
            outcome = "clear error" if is_clear(exc, name) else "unclear error"
            if outcome == "unclear error":
                wrong.append(f"{query.name} / {kind} x{n} after {skip}: {type(exc).__name__}: {exc}")
        else:
            outcome = "identical" if got == baseline[query.name] else "wrong"
            if outcome == "wrong":
                wrong.append(f"{query.name} / {kind} x{n} after {skip}: {len(got)} rows, "
                             f"expected {len(baseline[query.name])}")
        outcomes[outcome] += 1
        by_kind[kind][outcome] += 1
        emu.clear_faults()
    assert not wrong, "\n".join(wrong)
    assert sum(outcomes.values()) == RUNS >= 200
    assert outcomes["identical"] and outcomes["clear error"], outcomes
    # Every fault kind ran, and each that spoils an answer was recovered from (a retry) at least once.
    assert all(sum(c.values()) >= 12 for c in by_kind.values()), by_kind
    assert all(by_kind[kind]["identical"] for kind in (*BODY_FAULTS, "short_page", *STATUS_FAULTS)), by_kind


@pytest.mark.parametrize("kind", BODY_FAULTS)
def test_an_incomplete_answer_is_retried_and_the_result_is_whole(emu, dbs, kind) -> None:
    query = suite_queries(emu)[1]  # the v0 scan: three pages
    expected = run(dbs["v0"], query)
    emu.fault_next("getOrders", kind, 1, skip=1)
    assert run(dbs["v0"], query) == expected
    pages = [c for c in dbs["v0"].last_calls() if c.operation == "getOrders"]
    assert [c.attempts for c in pages] == [1, 2, 1]


@pytest.mark.parametrize("kind", BODY_FAULTS)
def test_an_answer_still_incomplete_after_the_retries_is_a_clear_error(emu, dbs, kind) -> None:
    query = suite_queries(emu)[0]
    emu.fault_next("getOrders", kind, RETRIES + 1, skip=1)
    with pytest.raises(SPAPIError) as err:
        run(dbs["v0"], query)
    assert err.value.code == "IncompleteResponse" and err.value.operation == "getOrders"
    text = str(err.value)
    assert text.startswith("getOrders answered") and f"after {RETRIES} retries" in text
    assert "request id" in text and "usually transient" in text
    if kind != "cut":  # a connection closed mid-body leaves no response headers to read the request id from
        assert err.value.request_id and err.value.request_id in text


def test_no_retry_allowed_reports_the_first_incomplete_answer(emu) -> None:
    with open_database(emu.connection_string(OrdersApiVersion="v0", RetryMode="None")) as db:
        emu.fault_next("getOrders", "empty_object", 1)
        with pytest.raises(SPAPIError, match=r"getOrders answered HTTP 200 with an incomplete response: "
                                              r"no payload\.Orders array") as err:
            db.connection.execute("SELECT * FROM orders WHERE PurchaseDate >= '2000-01-01'").fetchall()
        assert [c.attempts for c in db.last_calls() if c.operation == "getOrders"] == [1]
        assert err.value.status == 200


@pytest.mark.parametrize(("version", "operation", "driver_name"),
                         [("v0", "getOrder", "getOrder"), ("2026", "getOrder2026", "getOrder")])
def test_an_empty_object_for_a_get_is_not_no_such_order(emu, dbs, version, operation, driver_name) -> None:
    order_id = emu.orders[5].order_id
    key = "AmazonOrderId" if version == "v0" else "orderId"
    sql = f"SELECT {key} FROM orders WHERE {key} = ?"
    emu.fault_next(operation, "empty_object", 1)
    assert dbs[version].connection.execute(sql, (order_id,)).fetchall() == [(order_id,)]
    emu.fault_next(operation, "empty_object", RETRIES + 1)
    with pytest.raises(SPAPIError, match=f"{driver_name} answered HTTP 200 with an incomplete response"):
        dbs[version].connection.execute(sql, (order_id,)).fetchall()


def test_short_pages_page_on_to_the_same_rows(emu, dbs) -> None:
    for query in (suite_queries(emu)[1], suite_queries(emu)[5]):
        db = dbs[query.version]
        op = query.ops[0][0]
        expected = run(db, query)
        emu.fault_next(op, "short_page", 2)
        assert run(db, query) == expected
        assert emu.clear_faults() == 0  # both short pages were served, and paged on from


def test_a_repeated_next_token_is_an_error_not_a_loop(emu, dbs) -> None:
    emu.fault_next("searchOrders", "repeat_token", 1, skip=1)
    with pytest.raises(SPAPIError, match="searchOrders answered page 2 with a next token it had already given") \
            as err:
        run(dbs["2026"], suite_queries(emu)[5])
    assert err.value.code == "PagingLoop"


def test_an_invalid_next_token_is_a_clear_error(emu, dbs) -> None:
    emu.fault_next("getOrders", "bad_token", 1)
    with pytest.raises(SPAPIError, match=r"getOrders failed \(HTTP 400 InvalidInput\): Invalid NextToken") as err:
        run(dbs["v0"], suite_queries(emu)[0])
    assert err.value.request_id


def test_dbapi_users_get_an_operational_error(emu) -> None:
    conn = sqlspapi.connect(emu.connection_string(OrdersApiVersion="v0", **KEYS))
    try:
        emu.fault_next("getOrders", "html", RETRIES + 1)
        cur = conn.cursor()
        with pytest.raises(sqlspapi.OperationalError, match="an HTML page .* instead of JSON"):
            cur.execute("SELECT count(*) FROM orders WHERE PurchaseDate >= '2000-01-01'")
            cur.fetchall()
    finally:
        conn.close()


# ------------------------------------------------------------------------------ page chains, on a fake client
def _widgets(answers: Any) -> list[dict[str, Any]]:
    """The rows of the test-only widgets table served by ``answers`` (a listWidgets handler or canned list)."""
    from test_routes import rows

    return rows("widgets", FakeClient({"listWidgets": answers}))


def test_a_page_chain_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(paging, "MAX_PAGES", 5)
    endless = paged([{"widgetId": f"W{i}", "status": "ACTIVE"} for i in range(100)], "payload.widgets",
                    "payload.nextToken", page_size=1)
    with pytest.raises(SPAPIError, match="listWidgets still had a next page after 5 pages") as err:
        _widgets(endless)
    assert err.value.code == "PagingLoop"


def test_a_page_without_its_rows_array_is_incomplete_unless_the_api_omits_empty_arrays() -> None:
    with pytest.raises(SPAPIError, match="no payload.widgets array") as err:
        _widgets([{"payload": {}}])
    assert err.value.code == "IncompleteResponse"
    with pytest.raises(SPAPIError, match="payload is a string, not an object"):
        _widgets([{"payload": "<html>"}])
    with pytest.raises(SPAPIError, match=r"payload.widgets holds an empty object, not a row object"):
        _widgets([{"payload": {"widgets": [{}]}}])
    # widget_events says empty_rows_omitted: no array is no rows — but not beside a next token.
    from test_routes import rows

    events = {"listEvents": [{"payload": {}}]}
    assert rows("widget_events", FakeClient(events)) == []
    with pytest.raises(SPAPIError, match="no payload.events array, yet a next token"):
        rows("widget_events", FakeClient({"listEvents": [{"payload": {"nextToken": "page-2"}}]}))
