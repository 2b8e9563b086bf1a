"""Vendor Orders v1: the emulator's getPurchaseOrders / getPurchaseOrder / getPurchaseOrdersStatus over HTTP (Amazon's
rules, paging, every answer valid against the model) and the four tables through SQL (date windows split into 7-day
calls, paging, reads by number, items and statuses that agree with their purchase orders, prices that agree with the
seller's listings, SKUs and ASINs that join the seller's tables)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
import requests
import spapi_models as sm
from emu_helpers import api_get as get
from emu_helpers import api_ok as ok
from emu_helpers import lwa_token

from sqlspapi.definitions.loader import load_all
from sqlspapi.emulator import start
from sqlspapi.engine import open_database
from sqlspapi.errors import DefaultWindowWarning, SPAPIError

ANCHOR = datetime(2026, 11, 1, tzinfo=UTC)
MODEL = "vendor-orders-v1.json"
POS, PO, STATUS = ("/vendor/orders/v1/purchaseOrders", "/vendor/orders/v1/purchaseOrders/{purchaseOrderNumber}",
                   "/vendor/orders/v1/purchaseOrdersStatus")
OCT1, OCT8 = "2026-10-01T00:00:00Z", "2026-10-08T00:00:00Z"
US = "ATVPDKIKX0DER"


@pytest.fixture(scope="module")
def emu():
    with start(orders=500, time_scale=5000, anchor=ANCHOR) as e:
        yield e


@pytest.fixture(scope="module")
def tok(emu):
    return lwa_token(emu)


@pytest.fixture(scope="module")
def db(emu):
    database = open_database(emu.connection_string(), poll_scale=1 / emu.time_scale)
    yield database
    database.close()






def bad(r: requests.Response, *words: str) -> str:
    assert r.status_code == 400, r.text
    (err,) = r.json()["errors"]
    for word in words:
        assert word in err["message"], err["message"]
    return err["message"]


def scan(emu, tok, path: str, key: str, **params) -> tuple[list[dict], list[dict]]:
    """Every row of a paged list (payload.<key>), and every page's answer."""
    pages = [ok(get(emu, tok, path, **params))]
    while token := pages[-1]["payload"].get("pagination", {}).get("nextToken"):
        pages.append(ok(get(emu, tok, path, nextToken=token, **params)))
    return [row for page in pages for row in page["payload"][key]], pages


def placed(emu, start: str, end: str) -> list:
    """The emulator's purchase orders placed in [start, end), oldest first (the data the API serves)."""
    lo, hi = datetime.fromisoformat(start), datetime.fromisoformat(end)
    return [obj for obj, _q, _p in emu.export("getPurchaseOrders")
            if lo <= datetime.fromisoformat(obj["orderDetails"]["purchaseOrderDate"]) < hi]


def rows(db, sql: str, *args) -> list[tuple]:
    return db.connection.execute(sql, args).fetchall()


def calls(db) -> list[tuple[str, dict]]:
    return [(r.operation, dict(r.params)) for r in db.last_calls()]


# ------------------------------------------------------------------------------------------------ the API
def test_every_answer_validates_against_the_model(emu, tok, models_dir) -> None:
    orders, pages = scan(emu, tok, POS, "orders", createdAfter=OCT1, createdBefore=OCT8)
    for page in pages:
        sm.check_response(models_dir, MODEL, "GET", POS, 200, page)
    short = ok(get(emu, tok, POS, createdAfter=OCT1, createdBefore=OCT8, includeDetails="false", limit=3))
    sm.check_response(models_dir, MODEL, "GET", POS, 200, short)
    assert [set(o) for o in short["payload"]["orders"]] == [{"purchaseOrderNumber", "purchaseOrderState"}] * 3
    changed = [o for o in orders if "purchaseOrderChangedDate" in o["orderDetails"]]
    for order in [orders[0], *changed[:5]]:
        answer = ok(get(emu, tok, PO.format(purchaseOrderNumber=order["purchaseOrderNumber"])))
        sm.check_response(models_dir, MODEL, "GET", PO, 200, answer)
        assert answer["payload"] == order
    statuses, pages = scan(emu, tok, STATUS, "ordersStatus", updatedAfter="2026-10-25T00:00:00Z",
                           updatedBefore="2026-11-01T00:00:00Z")
    assert {s["purchaseOrderStatus"] for s in statuses} == {"OPEN", "CLOSED"}
    for page in pages:
        sm.check_response(models_dir, MODEL, "GET", STATUS, 200, page)
    missing = get(emu, tok, PO.format(purchaseOrderNumber="0AAAAAAA"))
    assert missing.status_code == 404
    sm.check_response(models_dir, MODEL, "GET", PO, 404, missing.json())
    refused = get(emu, tok, POS, createdAfter=OCT1, createdBefore="2026-10-09T00:00:00Z")
    bad(refused, "7 days")
    sm.check_response(models_dir, MODEL, "GET", POS, 400, refused.json())


def test_pages_of_100_follow_the_next_token(emu, tok) -> None:
    expected = [o["purchaseOrderNumber"] for o in placed(emu, OCT1, OCT8)]
    assert len(expected) > 100  # October: Amazon stocks up for the fourth quarter
    first = ok(get(emu, tok, POS, createdAfter=OCT1, createdBefore=OCT8))["payload"]
    assert len(first["orders"]) == 100 and first["pagination"]["nextToken"]
    orders, pages = scan(emu, tok, POS, "orders", createdAfter=OCT1, createdBefore=OCT8)
    assert [o["purchaseOrderNumber"] for o in orders] == expected and len(pages) == 2
    assert "pagination" not in pages[-1]["payload"]
    newest, _ = scan(emu, tok, POS, "orders", createdAfter=OCT1, createdBefore=OCT8, sortOrder="DESC", limit=40)
    assert [o["purchaseOrderNumber"] for o in newest] == expected[::-1]
    small = ok(get(emu, tok, POS, createdAfter=OCT1, createdBefore=OCT8, limit=5))["payload"]
    assert [o["purchaseOrderNumber"] for o in small["orders"]] == expected[:5]
    bad(get(emu, tok, POS, createdAfter=OCT1, createdBefore="2026-10-07T00:00:00Z",
            nextToken=small["pagination"]["nextToken"]), "same parameters")
    bad(get(emu, tok, POS, createdAfter=OCT1, createdBefore=OCT8, limit=101), "limit", "100")


def test_amazons_rules_are_enforced(emu, tok) -> None:
    bad(get(emu, tok, POS, changedAfter=OCT1, changedBefore="2026-10-08T00:00:01Z"), "must not exceed 7 days")
    bad(get(emu, tok, POS, createdAfter="2026-10-05T00:00:00Z", createdBefore=OCT1), "must be before")
    bad(get(emu, tok, POS, createdAfter="2026-03-01T00:00:00Z", createdBefore="2026-03-05T00:00:00Z"),
        "past 6 months", "getPurchaseOrder")
    bad(get(emu, tok, POS, createdAfter=OCT1, createdBefore=OCT8, isPOChanged="yes"), "isPOChanged")
    bad(get(emu, tok, POS, createdAfter=OCT1, createdBefore=OCT8, purchaseOrderState="Open"), "purchaseOrderState")
    bad(get(emu, tok, PO.format(purchaseOrderNumber="PO-1")), "purchaseOrderNumber")
    bad(get(emu, tok, STATUS, updatedAfter=OCT1, updatedBefore="2026-10-09T00:00:00Z"), "7 days")
    old = ok(get(emu, tok, STATUS, createdAfter="2025-03-01T00:00:00Z", createdBefore="2025-03-08T00:00:00Z"))
    assert old["payload"]["ordersStatus"]  # no six-month limit on statuses


def test_filters_select_what_they_say(emu, tok) -> None:
    window = {"createdAfter": OCT1, "createdBefore": OCT8}
    every, _ = scan(emu, tok, POS, "orders", **window)
    cases = {
        "purchaseOrderState=Closed": lambda o: o["purchaseOrderState"] == "Closed",
        "orderingVendorCode=DEMO2": lambda o: o["orderDetails"]["sellingParty"]["partyId"] == "DEMO2",
        "poItemState=Cancelled": lambda o: any(i["orderedQuantity"]["amount"] == 0 for i in o["orderDetails"]["items"]),
        "isPOChanged=true": lambda o: "purchaseOrderChangedDate" in o["orderDetails"],
    }
    for param, keep in cases.items():
        name, value = param.split("=")
        found, _ = scan(emu, tok, POS, "orders", **window, **{name: value})
        assert found == [o for o in every if keep(o)] and found, param
    assert ok(get(emu, tok, POS, isPOChanged="false", **window))["payload"]["orders"] == every[:100]
    changed, _ = scan(emu, tok, POS, "orders", changedAfter=OCT1, changedBefore=OCT8)
    assert changed and all(OCT1 <= o["orderDetails"]["purchaseOrderChangedDate"] < OCT8 for o in changed)
    statuses, _ = scan(emu, tok, STATUS, "ordersStatus", **window)
    status_cases = {
        "purchaseOrderStatus=CLOSED": lambda s: s["purchaseOrderStatus"] == "CLOSED",
        "shipToPartyId=ONT8": lambda s: s["shipToParty"]["partyId"] == "ONT8",
        "orderingVendorCode=DEMOJP": lambda s: s["sellingParty"]["partyId"] == "DEMOJP",
        "itemConfirmationStatus=PARTIALLY_ACCEPTED": lambda s: any(
            i["acknowledgementStatus"]["confirmationStatus"] == "PARTIALLY_ACCEPTED" for i in s["itemStatus"]),
        "itemReceiveStatus=RECEIVED": lambda s: any(
            i["receivingStatus"]["receiveStatus"] == "RECEIVED" for i in s["itemStatus"]),
    }
    for param, keep in status_cases.items():
        name, value = param.split("=")
        found, _ = scan(emu, tok, STATUS, "ordersStatus", **window, **{name: value})
        assert found == [s for s in statuses if keep(s)] and found, param
    one = ok(get(emu, tok, STATUS, purchaseOrderNumber=statuses[3]["purchaseOrderNumber"]))["payload"]
    assert one["ordersStatus"] == [statuses[3]]


# ------------------------------------------------------------------------------------------------ the tables
@pytest.mark.parametrize(("table", "item", "parents"), [
    ("vendor_purchase_order_items", "OrderItem", ("Order", "OrderDetails")),
    ("vendor_purchase_order_item_status", "OrderItemStatus", ("OrderStatus",)),
])
def test_child_columns_are_fields_of_the_item_or_its_order(table, item, parents, models_dir) -> None:
    """The child tables' rows are items (the hooks add their order's fields): every column is a field of the item
    schema or of the order's, typed as the model says (the generic test can only check the order's schema)."""
    model = sm.load(models_dir, MODEL)
    section = next(s for s in load_all() if s.section == "vendor_orders")
    schemas = [model["definitions"][name] for name in (item, *parents)]
    kinds = {"integer": "INTEGER", "boolean": "BOOLEAN", "object": "JSON", "array": "JSON"}
    for column in section.tables[table].columns:
        if column.source != "row":
            continue
        found = next((f for s in schemas if (f := sm.walk(model, s, column.path)) is not None), None)
        assert found is not None, f"{table}.{column.name}: {'.'.join(column.path)} is in no schema of {item}"
        want = "TIME" if found.get("format") == "date-time" else kinds.get(found.get("type", "object"), "TEXT")
        if column.path[-1] == "amount" and column.path[-2] in ("netCost", "listPrice"):
            want = "REAL"  # a Decimal string
        assert column.kind == want, f"{table}.{column.name}: {column.kind}, the model says {want}"


def test_a_date_range_is_read_in_7_day_calls_with_their_pages(emu, db) -> None:
    got = rows(db, "SELECT purchaseOrderNumber FROM vendor_purchase_orders "
                   "WHERE purchaseOrderDate >= '2026-10-01' AND purchaseOrderDate < '2026-10-15'")
    expected = [o["purchaseOrderNumber"] for o in placed(emu, OCT1, "2026-10-15T00:00:00Z")]
    assert [r[0] for r in got] == expected and len(set(expected)) == len(expected) > 200
    made = calls(db)
    windows = [(q["createdAfter"], q["createdBefore"], "nextToken" in q) for _op, q in made]
    assert {op for op, _q in made} == {"getPurchaseOrders"}
    assert windows == [(OCT1, OCT8, False), (OCT1, OCT8, True),
                       (OCT8, "2026-10-15T00:00:00Z", False), (OCT8, "2026-10-15T00:00:00Z", True)]


def test_without_a_range_the_last_lookback_days_are_read_and_the_user_is_told(emu, db) -> None:
    count = rows(db, "SELECT count(*) FROM vendor_purchase_orders")[0][0]
    made = calls(db)
    now = datetime.now(UTC)
    spans = [(datetime.fromisoformat(q["createdAfter"]), datetime.fromisoformat(q["createdBefore"]))
             for _op, q in made if "nextToken" not in q]
    assert len(spans) == 5 and abs(spans[0][0] - (now - timedelta(days=30))) < timedelta(minutes=2)
    assert all(b - a <= timedelta(days=7) for a, b in spans) and abs(spans[-1][1] - now) < timedelta(minutes=2)
    assert all(spans[n][1] == spans[n + 1][0] for n in range(4))
    assert count == len(placed(emu, spans[0][0].isoformat(), spans[-1][1].isoformat()))
    told = [n for n in db.notices() if n.category is DefaultWindowWarning]
    assert len(told) == 1 and "vendor_purchase_orders" in told[0] and "LookbackDays" in told[0]


def test_a_purchase_order_is_read_by_number_at_any_age(emu, db) -> None:
    old = next(o for o, _q, _p in emu.export("getPurchaseOrders") if o["orderDetails"]["purchaseOrderDate"] < "2025-06")
    number = old["purchaseOrderNumber"]
    got = rows(db, "SELECT purchaseOrderNumber, purchaseOrderState, purchaseOrderDate, items FROM "
                   "vendor_purchase_orders WHERE purchaseOrderNumber = ?", number)
    assert calls(db) == [("getPurchaseOrder", {})]
    assert got[0][:3] == (number, old["purchaseOrderState"], old["orderDetails"]["purchaseOrderDate"])
    items = rows(db, "SELECT itemSequenceNumber, asin, sku, orderedQuantity_amount FROM vendor_purchase_order_items "
                     "WHERE purchaseOrderNumber = ?", number)
    assert items == [(i["itemSequenceNumber"], i["amazonProductIdentifier"], i["vendorProductIdentifier"],
                      i["orderedQuantity"]["amount"]) for i in old["orderDetails"]["items"]]
    status = rows(db, "SELECT purchaseOrderStatus FROM vendor_purchase_order_status WHERE purchaseOrderNumber = ?",
                  number)
    assert status == [("CLOSED",)] and calls(db) == [("getPurchaseOrdersStatus", {"purchaseOrderNumber": number})]
    assert rows(db, "SELECT * FROM vendor_purchase_orders WHERE purchaseOrderNumber = '0AAAAAAA'") == []
    with pytest.raises(SPAPIError, match="6 months"):
        rows(db, "SELECT count(*) FROM vendor_purchase_orders WHERE purchaseOrderDate >= ? "
                 "AND purchaseOrderDate < ?", old["orderDetails"]["purchaseOrderDate"], "2025-06-01")


def test_items_agree_with_their_purchase_order(db) -> None:
    window = "purchaseOrderDate >= '2026-10-01' AND purchaseOrderDate < '2026-10-08'"
    items = rows(db, "SELECT purchaseOrderNumber, purchaseOrderState, purchaseOrderDate, sellingParty_partyId, "
                     "itemSequenceNumber, asin, sku, orderedQuantity_amount, orderedQuantity_unitOfMeasure, "
                     f"netCost_amount, netCost_currencyCode FROM vendor_purchase_order_items WHERE {window}")
    exploded = rows(db, "SELECT o.purchaseOrderNumber, o.purchaseOrderState, o.purchaseOrderDate, "
                        "o.sellingParty_partyId, i.value ->> '$.itemSequenceNumber', "
                        "i.value ->> '$.amazonProductIdentifier', i.value ->> '$.vendorProductIdentifier', "
                        "i.value ->> '$.orderedQuantity.amount', i.value ->> '$.orderedQuantity.unitOfMeasure', "
                        "CAST(i.value ->> '$.netCost.amount' AS REAL), i.value ->> '$.netCost.currencyCode' "
                        f"FROM vendor_purchase_orders o, json_each(o.items) i WHERE {window}")
    assert len(items) > 300 and Counter(items) == Counter(exploded)
    cancelled = rows(db, "SELECT purchaseOrderNumber, orderedQuantity_amount FROM vendor_purchase_order_items "
                         f"WHERE poItemState = 'Cancelled' AND {window}")
    assert 0 in {q for _n, q in cancelled} and calls(db)[0][1]["poItemState"] == "Cancelled"


def test_status_agrees_with_the_purchase_order(db) -> None:
    window = "purchaseOrderDate >= '2026-10-10' AND purchaseOrderDate < '2026-10-17'"
    orders = dict(rows(db, "SELECT purchaseOrderNumber, purchaseOrderState FROM vendor_purchase_orders "
                           f"WHERE {window}"))
    status = dict(rows(db, "SELECT purchaseOrderNumber, purchaseOrderStatus FROM vendor_purchase_order_status "
                           f"WHERE {window}"))
    assert status.keys() == orders.keys() and {"Acknowledged", "Closed"} <= set(orders.values())
    assert all((status[n] == "CLOSED") == (state == "Closed") for n, state in orders.items())
    ordered = Counter(rows(db, "SELECT purchaseOrderNumber, itemSequenceNumber, asin, sku, orderedQuantity_amount, "
                               f"netCost_amount FROM vendor_purchase_order_items WHERE {window}"))
    lines = rows(db, "SELECT purchaseOrderNumber, itemSequenceNumber, asin, sku, orderedQuantity_amount, "
                     "netCost_amount, confirmationStatus, acceptedQuantity_amount, rejectedQuantity_amount, "
                     "receiveStatus, receivedQuantity_amount, purchaseOrderStatus "
                     f"FROM vendor_purchase_order_item_status WHERE {window}")
    assert Counter(line[:6] for line in lines) == ordered
    for *_, qty, _cost, confirmation, accepted, rejected, receive, received, po_status in lines:
        assert confirmation in ("ACCEPTED", "PARTIALLY_ACCEPTED", "REJECTED")  # acknowledged a day after placement
        assert accepted + rejected == qty and 0 <= received <= accepted
        assert (receive == "RECEIVED") == (0 < received == accepted)
        if po_status == "CLOSED":
            assert received == accepted
    new = rows(db, "SELECT DISTINCT confirmationStatus FROM vendor_purchase_order_item_status s "
                   "WHERE purchaseOrderNumber IN (SELECT purchaseOrderNumber FROM vendor_purchase_orders "
                   "WHERE purchaseOrderState = 'New' AND purchaseOrderDate >= '2026-10-25')")
    assert new == [("UNCONFIRMED",)]


def test_prices_and_products_agree_with_the_sellers_tables(db) -> None:
    window = "purchaseOrderDate >= '2026-10-01' AND purchaseOrderDate < '2026-10-08'"
    vendor = rows(db, "SELECT DISTINCT sku, asin, listPrice_amount, netCost_amount FROM vendor_purchase_order_items "
                      f"WHERE {window} AND netCost_currencyCode = 'USD'")
    listed = {sku: (asin, price) for sku, asin, price in rows(
        db, "SELECT seller_sku, asin1, price FROM merchant_listings_all_data WHERE marketplaceId = ?", US)}
    assert len(vendor) > 20
    for sku, asin, list_price, net_cost in vendor:
        assert listed[sku] == (asin, list_price)  # the seller's listing price, the same product
        assert 0 < net_cost < list_price
    joined = rows(db, "SELECT count(*), sum(f.asin = i.asin) FROM vendor_purchase_order_items i "
                      "JOIN fba_inventory_summaries f ON f.sellerSku = i.sku AND f.marketplaceId = ? "
                      f"WHERE i.{window.replace(' AND ', ' AND i.')}", US)
    assert joined[0][0] > 20 and joined[0][0] == joined[0][1]


def test_an_inclusive_upper_bound_keeps_the_rows_at_the_bound(emu, db) -> None:
    """``<= T`` reaches Amazon's exclusive createdBefore as T + 1 s: the order placed at T itself is read (and SQLite
    still drops whatever the extra second lets through)."""
    row = emu.export("getPurchaseOrders")[-1][0]
    placed = row["orderDetails"]["purchaseOrderDate"]
    number = row["purchaseOrderNumber"]
    got = db.connection.execute(
        "SELECT purchaseOrderNumber, purchaseOrderDate FROM vendor_purchase_orders WHERE purchaseOrderDate >= "
        "datetime(?, '-1 day') AND purchaseOrderDate <= ?", (placed, placed)).fetchall()
    assert number in {n for n, _ in got}
    bound = datetime.fromisoformat(placed.replace("Z", "+00:00"))
    assert all(datetime.fromisoformat(d.replace("Z", "+00:00")) <= bound for _, d in got)


def test_a_lookback_longer_than_the_api_searches_is_capped_and_told(emu) -> None:
    """LookbackDays=365 on an API that searches 180 days back: the scan covers those 180 days (not a 400 from Amazon)
    and the user is told the scan is shorter than asked."""
    database = open_database(emu.connection_string(LookbackDays="365"), poll_scale=1 / emu.time_scale)
    try:
        count = database.connection.execute("SELECT count(*) FROM vendor_purchase_orders").fetchone()[0]
        starts = [datetime.fromisoformat(q["createdAfter"]) for _op, q in calls(database) if "nextToken" not in q]
        assert count > 0 and abs(min(starts) - (datetime.now(UTC) - timedelta(days=180))) < timedelta(minutes=2)
        told = [str(n) for n in database.notices()]
        assert any("LookbackDays=365" in n and "180 days" in n for n in told), told
    finally:
        database.close()
