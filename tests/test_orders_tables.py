"""The orders tables as an analyst uses them: both API versions, joins, restricted data, throttling, errors."""

from __future__ import annotations

import json

import apsw
import pytest

from sqlspapi.emulator import start
from sqlspapi.engine import open_database
from sqlspapi.errors import (
    ConnectionStringError,
    MissingFilterError,
    ProgrammingError,
    RestrictedDataError,
    ThrottledError,
)


@pytest.fixture(scope="module")
def emulator():
    emu = start(time_scale=5000)
    yield emu
    emu.stop()


def db_for(emulator, **keys):
    return open_database(emulator.connection_string(**keys))


def ops(db) -> list[str]:
    return [c.operation for c in db.last_calls()]


def test_in_list_of_120_ids_is_three_get_orders_calls(emulator) -> None:
    with db_for(emulator, OrdersApiVersion="v0") as db:
        ids = [r[0] for r in db.connection.execute(
            "SELECT AmazonOrderId FROM orders WHERE PurchaseDate >= '2000-01-01' LIMIT 120")]
        assert len(ids) == 120
        marks = ",".join("?" * len(ids))
        rows = db.connection.execute(f"SELECT AmazonOrderId FROM orders WHERE AmazonOrderId IN ({marks})",
                                     ids).fetchall()
        assert sorted(r[0] for r in rows) == sorted(ids)
        calls = db.last_calls()
        assert [c.operation for c in calls] == ["getOrders"] * 3
        assert all(len(c.params["AmazonOrderIds"].split(",")) <= 50 for c in calls)


def test_one_id_is_one_get_order_with_typed_columns(emulator) -> None:
    with db_for(emulator, OrdersApiVersion="v0") as db:
        order_id = db.connection.execute("SELECT AmazonOrderId FROM orders LIMIT 1").fetchone()[0]
        cur = db.connection.execute(
            "SELECT AmazonOrderId, OrderTotal_Amount, NumberOfItemsUnshipped, IsPrime, PaymentMethodDetails "
            "FROM orders WHERE AmazonOrderId = ?", (order_id,))
        row = cur.fetchone()
        assert ops(db) == ["getOrder"]
        assert row[0] == order_id
        assert row[1] is None or isinstance(row[1], float)
        assert isinstance(row[2], int) and row[3] in (0, 1)
        assert isinstance(json.loads(row[4]), list)
        missing = "SELECT * FROM orders WHERE AmazonOrderId = '999-9999999-9999999'"
        assert db.connection.execute(missing).fetchall() == []


def test_same_table_names_both_versions_with_each_versions_columns(emulator) -> None:
    with db_for(emulator, OrdersApiVersion="v0") as v0, db_for(emulator) as v2026:
        names = "SELECT name FROM sqlite_schema ORDER BY name"
        assert v0.connection.execute(names).fetchall() == v2026.connection.execute(names).fetchall()
        cols_v0 = [d[0] for d in v0.connection.execute("SELECT * FROM orders LIMIT 1").getdescription()]
        cols_26 = [d[0] for d in v2026.connection.execute("SELECT * FROM orders LIMIT 1").getdescription()]
        assert "AmazonOrderId" in cols_v0 and "OrderTotal_Amount" in cols_v0
        assert "orderId" in cols_26 and "proceeds_grandTotal_amount" in cols_26
        assert ops(v2026) == ["searchOrders"]


def test_v0_join_calls_get_order_items_per_order(emulator) -> None:
    with db_for(emulator, OrdersApiVersion="v0") as db:
        rows = db.connection.execute(
            "SELECT o.AmazonOrderId, i.ASIN, i.QuantityOrdered, i.ItemPrice_Amount FROM orders o "
            "JOIN order_items i ON i.AmazonOrderId = o.AmazonOrderId "
            "WHERE o.PurchaseDate >= '2026-11-20'").fetchall()
        calls = ops(db)
        orders = {r[0] for r in rows}
        assert rows and all(isinstance(r[2], int) for r in rows)
        assert calls.count("getOrderItems") == len(orders)
        assert calls.count("getOrders") >= 1 and set(calls) == {"getOrders", "getOrderItems"}


def test_2026_join_costs_one_search_orders_scan(emulator) -> None:
    with db_for(emulator) as db:
        rows = db.connection.execute(
            "SELECT o.orderId, i.orderItemId, i.product_title, i.product_price_unitPrice_amount FROM orders o "
            "JOIN order_items i ON i.orderId = o.orderId WHERE o.createdTime >= '2026-10-01'").fetchall()
        assert rows
        assert set(ops(db)) == {"searchOrders"}
        assert len({r[0] for r in rows}) <= len(rows)
        assert any(not r[2].isascii() for r in rows), "the demo data has non-ASCII titles"


def test_order_items_without_order_id_says_how_to_join(emulator) -> None:
    for version, key in (("v0", "AmazonOrderId"), ("2026-01-01", "orderId")):
        with db_for(emulator, OrdersApiVersion=version) as db:
            with pytest.raises(MissingFilterError) as err:
                db.connection.execute("SELECT * FROM order_items").fetchall()
            assert key in str(err.value) and "JOIN order_items" in str(err.value)
            assert db.last_calls() == []


def test_restricted_tables_need_include_restricted_data(emulator) -> None:
    for version in ("v0", "2026-01-01"):
        with db_for(emulator, OrdersApiVersion=version) as db:
            for table in ("order_addresses", "order_buyer_info"):
                with pytest.raises(RestrictedDataError, match="IncludeRestrictedData=true"):
                    db.connection.execute(f"SELECT * FROM {table} WHERE 1").fetchall()


def test_v0_restricted_data_with_rdt(emulator) -> None:
    with db_for(emulator, OrdersApiVersion="v0") as plain:
        ids = [r[0] for r in plain.connection.execute(
            "SELECT AmazonOrderId FROM orders WHERE FulfillmentChannel = 'MFN' LIMIT 3")]
        names = plain.connection.execute(
            f"SELECT ShippingAddress_Name FROM orders WHERE AmazonOrderId = '{ids[0]}'").fetchall()
        assert names == [(None,)], "without an RDT the API leaves PII out"
    with db_for(emulator, OrdersApiVersion="v0", IncludeRestrictedData="true") as db:
        marks = ",".join("?" * len(ids))
        rows = db.connection.execute(
            f"SELECT AmazonOrderId, ShippingAddress_Name, ShippingAddress_AddressLine1 FROM order_addresses "
            f"WHERE AmazonOrderId IN ({marks})", ids).fetchall()
        assert len(rows) == 3 and all(r[1] and r[2] for r in rows)
        calls = ops(db)
        assert calls.count("getOrderAddress") == 3
        buyers = db.connection.execute(
            f"SELECT BuyerEmail, BuyerName FROM order_buyer_info WHERE AmazonOrderId = '{ids[0]}'").fetchall()
        assert buyers and buyers[0][0]
        named = db.connection.execute(
            f"SELECT ShippingAddress_Name FROM orders WHERE AmazonOrderId = '{ids[0]}'").fetchone()
        assert named[0], "with IncludeRestrictedData the order carries the shipping name"


def test_2026_restricted_data_with_included_data(emulator) -> None:
    with db_for(emulator, IncludeRestrictedData="true") as db:
        rows = db.connection.execute(
            "SELECT o.orderId, a.deliveryAddress_name, b.buyerEmail FROM orders o "
            "JOIN order_addresses a ON a.orderId = o.orderId JOIN order_buyer_info b ON b.orderId = o.orderId "
            "WHERE o.createdTime >= '2026-11-15'").fetchall()
        assert rows and all(r[1] for r in rows) and any(r[2] for r in rows)
        calls = db.last_calls()
        assert {c.operation for c in calls} == {"searchOrders"}
        assert "BUYER" in calls[0].params["includedData"] and "RECIPIENT" in calls[0].params["includedData"]


def test_throttling_is_retried_then_reported(emulator) -> None:
    # Route=api: this is about paging getOrders (a count over the default window may read the order report once the
    # account's volume is known, see tests/test_bulk_route.py)
    with db_for(emulator, OrdersApiVersion="v0", Route="api") as db:
        emulator.fail_next("getOrders", 429, 2)
        assert db.connection.execute("SELECT count(*) FROM orders LIMIT 1").fetchone()[0] >= 0
        assert db.last_calls()[0].attempts == 3
    with db_for(emulator, OrdersApiVersion="v0", RetryMode="None", Route="api") as db:
        emulator.fail_next("getOrders", 429, 1)
        with pytest.raises(ThrottledError) as err:
            db.connection.execute("SELECT * FROM orders LIMIT 1").fetchall()
        assert err.value.code == "QuotaExceeded" and err.value.request_id
        assert "QuotaExceeded" in str(err.value)


def test_token_refresh_in_the_middle_of_a_scan() -> None:
    emu = start(time_scale=300, orders=3000, token_lifetime=1.0)
    try:
        with open_database(emu.connection_string(OrdersApiVersion="v0")) as db:
            n = db.connection.execute("SELECT count(*) FROM orders WHERE PurchaseDate >= '2000-01-01'").fetchone()[0]
            assert n == 3000
            pages = [c for c in db.last_calls() if c.operation == "getOrders"]
            assert len(pages) == 30 and all(c.status == 200 for c in pages)
        token_grants = [c for c in emu.calls if "token" in c.operation.lower() or c.path.endswith("/token")]
        assert len(token_grants) >= 2, "the access token expired during the scan and was refreshed"
    finally:
        emu.stop()


def test_explain_query_plan_shows_operation_and_parameters(emulator) -> None:
    with db_for(emulator, OrdersApiVersion="v0") as db:
        plan = " ".join(r[-1] for r in db.connection.execute(
            "EXPLAIN QUERY PLAN SELECT * FROM orders WHERE OrderStatus = 'Shipped' AND PurchaseDate >= '2026-01-01'"))
        assert "getOrders(" in plan and "OrderStatuses='Shipped'" in plan and "CreatedAfter" in plan
        assert db.last_calls() == [], "EXPLAIN makes no API call"
        plan = " ".join(r[-1] for r in db.connection.execute(
            "EXPLAIN QUERY PLAN SELECT * FROM orders WHERE AmazonOrderId = 'x'"))
        assert "getOrder(AmazonOrderId='x') — one call" in plan


def test_user_errors_speak(emulator) -> None:
    with db_for(emulator, OrdersApiVersion="v0") as db:
        with pytest.raises(ProgrammingError, match="not a date/time"):
            db.connection.execute("SELECT * FROM orders WHERE PurchaseDate >= 'last tuesday'").fetchall()
    with pytest.raises(ConnectionStringError) as err:
        db_for(emulator, OrdersApiVersion="v1")
    assert "2026-01-01" in str(err.value) and "v0" in str(err.value)


def test_tables_are_read_only(emulator) -> None:
    import apsw

    with db_for(emulator) as db:
        with pytest.raises(apsw.Error):
            db.connection.execute("DELETE FROM orders")


def test_timestamps_compare_as_instants_whatever_the_spelling(emulator) -> None:
    """BI tools write '2026-11-20 10:00:00'; the API returns '2026-11-20T09:00:00Z': same instant rules."""
    with db_for(emulator) as db:
        con = db.connection
        stamps = [r[0] for r in con.execute("SELECT createdTime FROM orders WHERE createdTime >= '2026-11-15'")]
        assert stamps and all(s.endswith("Z") and "T" in s for s in stamps)
        pivot = sorted(stamps)[len(stamps) // 2]
        spaced = pivot.replace("T", " ").rstrip("Z")
        expected = sorted(s for s in stamps if s <= pivot)
        for literal in (pivot, spaced, spaced[:16], pivot.replace("Z", "+00:00")):
            got = sorted(r[0] for r in con.execute(
                "SELECT createdTime FROM orders WHERE createdTime >= '2026-11-15' AND createdTime <= ?", (literal,)))
            want = expected if len(literal) > 16 else [s for s in expected if s[:16] < spaced[:16].replace(" ", "T")]
            assert got == want, literal
        later = pivot.replace("T", " ").replace("Z", "+02:00")  # the same wall time two hours east = 2 h earlier
        got = [r[0] for r in con.execute("SELECT createdTime FROM orders WHERE createdTime = ?", (later,))]
        assert got == []
        ordered = [r[0] for r in con.execute(
            "SELECT createdTime FROM orders WHERE createdTime >= '2026-11-15' ORDER BY createdTime")]
        assert ordered == sorted(stamps)


@pytest.mark.xfail(strict=True, raises=apsw.SQLError,
                   reason="APSW 3.54.1: an IN (subquery) that yields no rows, on a virtual table taking IN lists whole "
                          "(sqlite3_vtab_in), fails with SQLError('<NULL>') before Filter runs; should be zero rows")
def test_in_an_empty_subquery_is_zero_rows(demo_database) -> None:
    sql = "SELECT * FROM orders WHERE orderId IN (SELECT 'x' WHERE 0)"
    assert demo_database.connection.execute(sql).fetchall() == []


def test_marketplace_ids_of_the_connection_narrow_the_2026_search(emulator) -> None:
    """MarketplaceIds=DE: searchOrders is asked for DE only (its marketplaceIds is optional, so without the key every
    marketplace comes back); a filter on the marketplace column still says which. Route=api: paging, not the order
    report the auto mode may read for so long a window."""
    db = db_for(emulator, MarketplaceIds="DE", Route="api")
    window = "createdTime >= '2026-01-01'"
    got = db.connection.execute(f"SELECT DISTINCT salesChannel_marketplaceId FROM orders WHERE {window}").fetchall()
    assert got == [("A1PA6795UKMFR9",)]
    assert all(c.params.get("marketplaceIds") == "A1PA6795UKMFR9" for c in db.last_calls()
               if c.operation == "searchOrders")
    everywhere = db_for(emulator, Route="api").connection.execute(
        f"SELECT count(DISTINCT salesChannel_marketplaceId) FROM orders WHERE {window}").fetchone()[0]
    assert everywhere > 1
