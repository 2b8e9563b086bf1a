"""The emulator's generic APIs over real HTTP — FBA Inventory, Sales, Sellers getAccount, the orders exports and
usage plans — and ``Emulator.export`` agreeing with what paging through the API returns. Catalog Items:
``test_emulator_catalog_items.py``."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime

import pytest
import requests
from emu_helpers import api_bad as bad
from emu_helpers import api_get as get
from emu_helpers import api_ok as ok
from emulator_http import ANCHOR, DE, UK, US

from sqlspapi.emulator import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_REFRESH_TOKEN, start
from sqlspapi.emulator.pools import MARKETS

#: The emulator the module's ``emu`` fixture (tests/conftest.py) starts: 500 orders anchored at :data:`ANCHOR`.
EMULATOR = {"orders": 500, "anchor": ANCHOR}
C22 = "/catalog/2022-04-01/items"
FBA, SALES = "/fba/inventory/v1/summaries", "/sales/v1/orderMetrics"


# -- FBA Inventory v1 ----------------------------------------------------------------------------------------------
def fba(emu, tok, mp=US, **params):
    return get(emu, tok, FBA, granularityType="Marketplace", granularityId=mp, marketplaceIds=mp, **params)


def scan_fba(emu, tok, mp=US, **params) -> list[dict]:
    body = ok(fba(emu, tok, mp, **params))
    out = list(body["payload"]["inventorySummaries"])
    while body.get("pagination", {}).get("nextToken"):
        assert len(body["payload"]["inventorySummaries"]) == 50
        body = ok(fba(emu, tok, mp, nextToken=body["pagination"]["nextToken"], **params))
        out.extend(body["payload"]["inventorySummaries"])
    return out


def test_fba_summaries_per_sku_and_details(emu, tok):
    rows = scan_fba(emu, tok, DE)
    assert [r["sellerSku"] for r in rows] == [p.sku for p in emu.dataset.products]
    assert "inventoryDetails" not in rows[0] and rows[0]["productName"] == emu.dataset.products[0].titles["de"]
    detailed = scan_fba(emu, tok, DE, details="true")
    details = detailed[0]["inventoryDetails"]
    assert details["reservedQuantity"]["totalReservedQuantity"] >= details["reservedQuantity"][
        "pendingCustomerOrderQuantity"]
    assert all(d["totalQuantity"] >= d["inventoryDetails"]["fulfillableQuantity"] for d in detailed)


def test_fba_pending_quantity_joins_the_orders(emu, tok):
    pending: dict[str, int] = defaultdict(int)
    for o in emu.orders:
        if o.market.id == US and o.channel == "AFN" and o.status in (
                "PendingAvailability", "Pending", "Unshipped", "PartiallyShipped"):
            for i in o.items:
                pending[i.product.sku] += i.quantity - i.shipped
    rows = scan_fba(emu, tok, US, details="true")
    assert {r["sellerSku"]: r["inventoryDetails"]["reservedQuantity"]["pendingCustomerOrderQuantity"]
            for r in rows} == {p.sku: pending[p.sku] for p in emu.dataset.products}
    assert any(pending.values())


def test_fba_filters(emu, tok):
    skus = [p.sku for p in emu.dataset.products[::7]]
    rows = scan_fba(emu, tok, UK, sellerSkus=",".join(skus), sellerSku="ignored")
    assert [r["sellerSku"] for r in rows] == skus
    assert [r["sellerSku"] for r in scan_fba(emu, tok, UK, sellerSku=skus[1])] == [skus[1]]
    everything = scan_fba(emu, tok, UK)
    cut = sorted(r["lastUpdatedTime"] for r in everything)[len(everything) // 2]
    recent = scan_fba(emu, tok, UK, startDateTime=cut, sellerSkus=skus[0])
    assert {r["sellerSku"] for r in recent} == {r["sellerSku"] for r in everything if r["lastUpdatedTime"] >= cut}
    bad(fba(emu, tok, UK, sellerSkus=",".join(f"S{n}" for n in range(51))), "sellerSkus", "50")
    bad(get(emu, tok, FBA, granularityType="Marketplace", granularityId=US, marketplaceIds=UK), "granularityId")
    bad(get(emu, tok, FBA, granularityType="Country", granularityId=UK, marketplaceIds=UK), "granularityType")
    bad(get(emu, tok, FBA, granularityId=UK, marketplaceIds=UK), "granularityType")
    bad(fba(emu, tok, UK, details="yes"), "details", "boolean")
    bad(fba(emu, tok, UK, startDateTime="2020-01-01T00:00:00Z"), "startDateTime")
    bad(fba(emu, tok, UK, startDateTime="yesterday"), "startDateTime")


def test_fba_next_token_needs_the_same_filters_and_expires(emu, tok):
    since = "2025-11-01T00:00:00Z"
    body = ok(fba(emu, tok, US, startDateTime=since))
    token = body["pagination"]["nextToken"]
    bad(fba(emu, tok, US, nextToken=token), "nextToken", "same parameters")
    assert ok(fba(emu, tok, US, startDateTime=since, nextToken=token))["payload"]["inventorySummaries"]
    emu.advance_clock(31)
    bad(fba(emu, tok, US, startDateTime=since, nextToken=token), "nextToken", "expired")
    fresh = ok(fba(emu, tok, US, startDateTime=since))["pagination"]["nextToken"]
    assert ok(fba(emu, tok, US, startDateTime=since, nextToken=fresh))


def test_fba_export_agrees_with_the_api(emu, tok):
    exported = emu.export("getInventorySummaries")
    for m in MARKETS:
        mine = [row for row, query, _ in exported if query == {"marketplaceIds": [m.id]}]
        assert scan_fba(emu, tok, m.id, details="true") == mine


# -- Sales v1 -------------------------------------------------------------------------------------------------------
def metrics(emu, tok, **params):
    return get(emu, tok, SALES, marketplaceIds=US, **params)


def _group_by(emu, lo: datetime, hi: datetime, key, *, b2b: bool | None = None, asin: str | None = None):
    """order_metrics recomputed from the exported orders and items (what a GROUP BY over the tables gives)."""
    orders = {row["AmazonOrderId"]: row for row, q, _ in emu.export("getOrders", "v0")}
    items = defaultdict(list)
    for row, _, path in emu.export("getOrderItems"):
        items[path["orderId"]].append(row)
    out: dict[str, list] = defaultdict(lambda: [0, 0, 0, 0.0])
    for oid, o in orders.items():
        when = datetime.fromisoformat(o["PurchaseDate"])
        if (o["MarketplaceId"] != US or not lo <= when < hi or o["OrderStatus"] in ("Pending", "Canceled")
                or (b2b is not None and o["IsBusinessOrder"] != b2b)):
            continue
        kept = [i for i in items[oid] if asin is None or i["ASIN"] == asin]
        if kept:
            acc = out[key(when)]
            acc[0] += sum(i["QuantityOrdered"] for i in kept)
            acc[1] += len(kept)
            acc[2] += 1
            acc[3] += sum(float(i["ItemPrice"]["Amount"]) for i in kept)
    return out


def _as_table(payload) -> dict[str, list]:
    return {p["interval"][:10]: [p["unitCount"], p["orderItemCount"], p["orderCount"],
                                 float(p["totalSales"]["amount"])]
            for p in payload if p["orderCount"]}


def test_order_metrics_equal_a_group_by_over_orders(emu, tok):
    lo, hi = datetime(2025, 12, 1, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC)
    body = ok(metrics(emu, tok, interval="2025-12-01T00:00:00Z--2026-01-01T00:00:00Z", granularity="Day",
                      granularityTimeZone="UTC"))
    assert len(body["payload"]) == 31
    assert body["payload"][0]["interval"] == "2025-12-01T00:00Z--2025-12-02T00:00Z"
    expected = _group_by(emu, lo, hi, lambda t: t.strftime("%Y-%m-%d"))
    got = _as_table(body["payload"])
    assert got.keys() == expected.keys() and expected
    for day, row in got.items():
        assert row[:3] == expected[day][:3] and row[3] == pytest.approx(expected[day][3]), day
    b2b = _as_table(ok(metrics(emu, tok, interval="2025-12-01T00:00:00Z--2026-01-01T00:00:00Z", granularity="Total",
                               buyerType="B2B"))["payload"])
    assert list(b2b.values()) in ([], [pytest.approx(sum((v for v in _group_by(
        emu, lo, hi, lambda t: "all", b2b=True).values()), start=[]))])


def test_order_metrics_total_asin_and_averages(emu, tok):
    lo, hi = datetime(2025, 1, 1, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC)
    asin = emu.dataset.products[4].asin
    (row,) = ok(metrics(emu, tok, interval="2025-01-01T00:00:00Z--2026-01-01T00:00:00Z", granularity="Total",
                        asin=asin))["payload"]
    (expected,) = _group_by(emu, lo, hi, lambda t: "all", asin=asin).values()
    assert [row["unitCount"], row["orderItemCount"], row["orderCount"]] == expected[:3]
    assert float(row["averageUnitPrice"]["amount"]) == pytest.approx(expected[3] / expected[0], abs=0.006)


def test_order_metrics_buckets(emu, tok):
    weeks = ok(metrics(emu, tok, interval="2025-12-03T00:00:00Z--2025-12-20T00:00:00Z", granularity="Week",
                       granularityTimeZone="UTC", firstDayOfWeek="Sunday"))["payload"]
    assert [w["interval"] for w in weeks] == ["2025-12-03T00:00Z--2025-12-07T00:00Z",
                                              "2025-12-07T00:00Z--2025-12-14T00:00Z",
                                              "2025-12-14T00:00Z--2025-12-20T00:00Z"]
    hours = ok(metrics(emu, tok, interval="2025-12-30T22:30:00-07:00--2025-12-31T01:00:00-07:00",
                       granularity="Hour"))["payload"]
    assert [h["interval"] for h in hours] == ["2025-12-30T22:30-07:00--2025-12-30T23:00-07:00",
                                              "2025-12-30T23:00-07:00--2025-12-31T00:00-07:00",
                                              "2025-12-31T00:00-07:00--2025-12-31T01:00-07:00"]
    months = ok(metrics(emu, tok, interval="2025-10-15T00:00:00Z--2026-01-01T00:00:00Z", granularity="Month",
                        granularityTimeZone="Etc/UTC"))["payload"]
    assert [m["interval"][:10] for m in months] == ["2025-10-15", "2025-11-01", "2025-12-01"]
    assert sum(m["orderCount"] for m in months) == ok(metrics(
        emu, tok, interval="2025-10-15T00:00:00Z--2026-01-01T00:00:00Z", granularity="Total"))["payload"][0][
        "orderCount"]


def test_order_metrics_rules(emu, tok):
    interval = "2025-12-01T00:00:00Z--2025-12-02T00:00:00Z"
    bad(metrics(emu, tok, interval=interval, granularity="Day"), "granularityTimeZone")
    bad(metrics(emu, tok, interval=interval, granularity="Day", granularityTimeZone="Europe/Berlin"),
        "granularityTimeZone")
    bad(metrics(emu, tok, interval=interval, granularity="Day", granularityTimeZone="Mars/Olympus"),
        "granularityTimeZone")
    bad(metrics(emu, tok, interval=interval, granularity="Minute"), "granularity")
    bad(metrics(emu, tok, interval="2025-12-01T00:00:00--2025-12-02T00:00:00", granularity="Total"), "absolute")
    bad(metrics(emu, tok, interval="2025-12-02T00:00:00Z--2025-12-01T00:00:00Z", granularity="Total"), "before")
    bad(metrics(emu, tok, interval="2025-10-01T00:00:00Z--2025-12-01T00:00:00Z", granularity="Hour"), "Hour")
    bad(metrics(emu, tok, interval=interval, granularity="Total", asin="B0X", sku="S"), "asin")
    bad(metrics(emu, tok, interval=interval, granularity="Total", buyerType="Robots"), "buyerType")
    bad(get(emu, tok, SALES, marketplaceIds=f"{US},{DE}", interval=interval, granularity="Total"), "one marketplace")
    bad(metrics(emu, tok, granularity="Total"), "interval")
    with pytest.raises(ValueError, match="no export"):
        emu.export("getOrderMetrics")


# -- Sellers, orders export, plans ---------------------------------------------------------------------------------
def test_get_account_and_exports(emu, tok):
    body = ok(get(emu, tok, "/sellers/v1/account"))
    assert emu.export("getAccount") == [(body["payload"], {}, {})]
    parts = ok(get(emu, tok, "/sellers/v1/marketplaceParticipations"))["payload"]
    assert [row for row, _, _ in emu.export("getMarketplaceParticipations")] == parts


def test_orders_exports_agree_with_the_api(emu, tok):
    v0 = emu.export("getOrders")
    assert [row["AmazonOrderId"] for row, _, _ in v0] == [o.order_id for o in emu.orders]
    row, query, path = v0[3]
    assert query == {"MarketplaceIds": [row["MarketplaceId"]]} and path == {}
    one = ok(get(emu, tok, f"/orders/v0/orders/{row['AmazonOrderId']}"))["payload"]
    assert one == row == emu.export("getOrder", "v0")[3][0]
    items = [r for r, _, p in emu.export("getOrderItems") if p == {"orderId": row["AmazonOrderId"]}]
    assert ok(get(emu, tok, f"/orders/v0/orders/{row['AmazonOrderId']}/orderItems"))["payload"]["OrderItems"] == items
    new, query, path = emu.export("searchOrders")[3]
    assert path == {} and query["marketplaceIds"] == [new["salesChannel"]["marketplaceId"]]
    got = ok(get(emu, tok, f"/orders/2026-01-01/orders/{new['orderId']}", includedData=",".join(
        query["includedData"])))["order"]
    assert got == new == emu.export("getOrder2026")[3][0]
    assert emu.export("getOrder", "2026-01-01")[3][2] == {"orderId": new["orderId"]}
    with pytest.raises(ValueError, match="versions"):
        emu.export("getOrder")
    with pytest.raises(ValueError, match="no operation"):
        emu.export("listWidgets")


def test_usage_plans_and_headers(emu, tok):
    plans = emu.usage_plans
    assert (plans["getInventorySummaries"].rate, plans["getInventorySummaries"].burst) == (2.0, 2)
    assert (plans["getOrderMetrics"].rate, plans["getOrderMetrics"].burst) == (0.5, 15)
    assert plans["getOrder2026"] == plans["getOrder"]
    r = fba(emu, tok)
    assert r.headers["x-amzn-RateLimit-Limit"] == emu.rate_limit_header("getInventorySummaries") == "2000000"


def test_new_operations_are_throttled_by_their_plan():
    with start(orders=20, time_scale=0.001, anchor=ANCHOR) as e:
        r = requests.post(e.token_url, data={"grant_type": "refresh_token", "client_id": DEMO_CLIENT_ID,
                                             "client_secret": DEMO_CLIENT_SECRET, "refresh_token": DEMO_REFRESH_TOKEN})
        t = r.json()["access_token"]
        statuses = [get(e, t, C22, keywords="usb", marketplaceIds=US).status_code for _ in range(3)]
        assert statuses == [200, 200, 429]  # burst 2
        assert e.calls.count("searchCatalogItems", 429) == 1
