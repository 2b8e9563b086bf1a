"""The emulator's generic APIs over real HTTP — Catalog Items (2022-04-01, 2020-12-01), FBA Inventory, Sales,
Sellers getAccount — and ``Emulator.export`` agreeing with what paging through the API returns."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime

import pytest
import requests

from sqlspapi.emulator import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_REFRESH_TOKEN, Emulator, start
from sqlspapi.emulator.catalog import PARTS_2020_GET, PARTS_2020_SEARCH, PARTS_2022
from sqlspapi.emulator.pools import BRANDS, MARKETS

US, CA, DE, UK, JP = "ATVPDKIKX0DER", "A2EUQ1WTGCTBG2", "A1PA6795UKMFR9", "A1F83G8C2ARO7P", "A1VC38T7YXB528"
ANCHOR = datetime(2026, 1, 1, tzinfo=UTC)
C22, C20 = "/catalog/2022-04-01/items", "/catalog/2020-12-01/items"
FBA, SALES = "/fba/inventory/v1/summaries", "/sales/v1/orderMetrics"


@pytest.fixture(scope="module")
def emu():
    with start(orders=500, time_scale=1_000_000, anchor=ANCHOR) as e:
        yield e


@pytest.fixture(scope="module")
def tok(emu):
    r = requests.post(emu.token_url, data={"grant_type": "refresh_token", "client_id": DEMO_CLIENT_ID,
                                           "client_secret": DEMO_CLIENT_SECRET, "refresh_token": DEMO_REFRESH_TOKEN})
    return r.json()["access_token"]


def get(emu: Emulator, tok: str, path: str, **params: object) -> requests.Response:
    return requests.get(emu.url + path, params=params, headers={"x-amz-access-token": tok}, timeout=10)


def ok(r: requests.Response) -> dict:
    assert r.status_code == 200, r.text
    return r.json()


def bad(r: requests.Response, *words: str) -> str:
    assert r.status_code == 400, r.text
    (err,) = r.json()["errors"]
    assert err["code"] == "InvalidInput"
    for word in words:
        assert word in err["message"], err["message"]
    return err["message"]


def scan_catalog(emu, tok, path, **params) -> tuple[list[dict], dict]:
    first = body = ok(get(emu, tok, path, **params))
    items = list(body["items"])
    while body.get("pagination", {}).get("nextToken"):
        body = ok(get(emu, tok, path, pageToken=body["pagination"]["nextToken"], **params))
        items.extend(body["items"])
    return items, first


# -- Catalog Items 2022-04-01 --------------------------------------------------------------------------------------
def test_keyword_search_stops_at_1000_with_the_true_total(emu, tok):
    items, first = scan_catalog(emu, tok, C22, keywords="usb", marketplaceIds=US, pageSize=20)
    assert first["numberOfResults"] > 1000
    assert len(items) == 1000
    assert len({i["asin"] for i in items}) == 1000
    assert all("usb" in i["summaries"][0]["itemName"].lower() for i in items)
    assert {b["brandName"] for b in first["refinements"]["brands"]} == set(BRANDS)
    assert sum(b["numberOfResults"] for b in first["refinements"]["brands"]) == first["numberOfResults"]


def test_page_size_default_max_and_previous_token(emu, tok):
    body = ok(get(emu, tok, C22, keywords="usb", marketplaceIds=US))
    assert len(body["items"]) == 10 and "previousToken" not in body["pagination"]
    second = ok(get(emu, tok, C22, keywords="usb", marketplaceIds=US, pageToken=body["pagination"]["nextToken"]))
    back = ok(get(emu, tok, C22, keywords="usb", marketplaceIds=US,
                  pageToken=second["pagination"]["previousToken"]))
    assert back["items"] == body["items"]
    bad(get(emu, tok, C22, keywords="usb", marketplaceIds=US, pageSize=21), "pageSize", "20")
    bad(get(emu, tok, C22, keywords="usb", marketplaceIds=US, pageSize="ten"), "pageSize", "integer")
    bad(get(emu, tok, C22, keywords="usb", marketplaceIds=DE, pageToken=body["pagination"]["nextToken"]),
        "pageToken", "same parameters")


def test_included_data_only_the_parts_asked(emu, tok):
    (item,) = ok(get(emu, tok, C22, keywords="mouse", marketplaceIds=US, brandNames="Brightline", pageSize=1))["items"]
    assert set(item) == {"asin", "summaries"}
    (item,) = ok(get(emu, tok, C22, keywords="mouse", marketplaceIds=US, pageSize=1,
                     includedData="images,salesRanks"))["items"]
    assert set(item) == {"asin", "images", "salesRanks"}
    (item,) = ok(get(emu, tok, C22, keywords="マウス", marketplaceIds=JP, pageSize=1,
                     includedData=",".join(PARTS_2022)))["items"]
    assert set(item) == {"asin", *PARTS_2022}
    assert item["summaries"][0]["marketplaceId"] == JP and item["attributes"]["item_name"][0]["marketplace_id"] == JP
    bad(get(emu, tok, C22, keywords="mouse", marketplaceIds=US, includedData="everything"), "includedData")


def test_identifier_searches_join_the_products(emu, tok):
    products = emu.dataset.products
    asins = [p.asin for p in products[:20]]
    body = ok(get(emu, tok, C22, identifiers=",".join(asins), identifiersType="ASIN", marketplaceIds=US,
                  pageSize=20, includedData="identifiers,summaries"))
    assert [i["asin"] for i in body["items"]] == asins
    ean = next(x["identifier"] for x in body["items"][3]["identifiers"][0]["identifiers"]
               if x["identifierType"] == "EAN")
    by_ean = ok(get(emu, tok, C22, identifiers=ean, identifiersType="EAN", marketplaceIds=US))
    assert [i["asin"] for i in by_ean["items"]] == [asins[3]]
    skus = ok(get(emu, tok, C22, identifiers=f"{products[5].sku},NOPE", identifiersType="SKU",
                  sellerId=emu.seller_id, marketplaceIds=DE))
    assert [i["asin"] for i in skus["items"]] == [products[5].asin]
    assert ok(get(emu, tok, C22, identifiers=products[5].sku, identifiersType="SKU", sellerId="OTHER",
                  marketplaceIds=DE))["numberOfResults"] == 0
    bad(get(emu, tok, C22, identifiers=products[5].sku, identifiersType="SKU", marketplaceIds=DE), "sellerId")
    bad(get(emu, tok, C22, identifiers=asins[0], marketplaceIds=US), "identifiersType")
    bad(get(emu, tok, C22, identifiers=asins[0], identifiersType="ASIN", keywords="usb", marketplaceIds=US))
    bad(get(emu, tok, C22, identifiers=asins[0], identifiersType="ASIN", brandNames="Voltix", marketplaceIds=US),
        "brandNames")
    bad(get(emu, tok, C22, marketplaceIds=US), "keywords")
    bad(get(emu, tok, C22, identifiers=",".join(f"B0{n:08d}" for n in range(21)), identifiersType="ASIN",
            marketplaceIds=US), "identifiers", "20")
    bad(get(emu, tok, C22, keywords="usb", marketplaceIds=f"{US},{DE}"), "marketplaceIds", "1")
    bad(get(emu, tok, C22, keywords="usb", marketplaceIds="XX"), "marketplaceIds")


def test_brand_and_classification_filters(emu, tok):
    items, first = scan_catalog(emu, tok, C22, keywords="usb", brandNames="voltix,Trailhead", marketplaceIds=UK,
                                pageSize=20)
    assert {i["summaries"][0]["brand"] for i in items} == {"Voltix", "Trailhead"}
    assert len(items) == first["numberOfResults"] < 1000
    hubs, _ = scan_catalog(emu, tok, C22, keywords="usb", classificationIds="516866", marketplaceIds=UK, pageSize=20)
    assert hubs and all(i["summaries"][0]["browseClassification"]["classificationId"] == "516866" for i in hubs)
    electronics, _ = scan_catalog(emu, tok, C22, keywords="usb", classificationIds="172282", marketplaceIds=UK,
                                  pageSize=20)
    assert len(electronics) > len(hubs)  # ancestors match too


def test_get_catalog_item(emu, tok):
    product = emu.dataset.products[7]
    body = ok(get(emu, tok, f"{C22}/{product.asin}", marketplaceIds=f"{US},{DE}", includedData="summaries"))
    assert body["asin"] == product.asin
    assert [s["marketplaceId"] for s in body["summaries"]] == [US, DE]
    assert [s["itemName"] for s in body["summaries"]] == [product.titles["en"], product.titles["de"]]
    r = get(emu, tok, f"{C22}/B000000000", marketplaceIds=US)
    assert r.status_code == 404 and r.json()["errors"][0]["code"] == "NotFound"
    bad(get(emu, tok, f"{C22}/{product.asin}"), "marketplaceIds")


def test_variation_family(emu, tok):
    child = emu.dataset.products[0]
    body = ok(get(emu, tok, f"{C22}/{child.asin}", marketplaceIds=US, includedData="relationships,summaries"))
    (rel,) = body["relationships"][0]["relationships"]
    parent = ok(get(emu, tok, f"{C22}/{rel['parentAsins'][0]}", marketplaceIds=US,
                    includedData="relationships,summaries"))
    assert parent["summaries"][0]["itemClassification"] == "VARIATION_PARENT"
    assert parent["relationships"][0]["relationships"][0]["childAsins"] == [p.asin for p in emu.dataset.products[:3]]


# -- Catalog Items 2020-12-01 --------------------------------------------------------------------------------------
def test_catalog_2020_shape_and_rules(emu, tok):
    body = ok(get(emu, tok, C20, keywords="ヘッドホン", marketplaceIds=JP, includedData=",".join(PARTS_2020_SEARCH)))
    assert body["pagination"] == {} and body["refinements"]["brands"]
    item = body["items"][0]
    assert set(item) == {"asin", *PARTS_2020_SEARCH}
    summary = item["summaries"][0]
    assert {"brandName", "browseNode", "itemName"} <= set(summary) and "brand" not in summary
    assert item["variations"][0]["variationType"] == "CHILD"
    full = ok(get(emu, tok, f"{C20}/{item['asin']}", marketplaceIds=JP, includedData=",".join(PARTS_2020_GET)))
    assert set(full) == {"asin", *PARTS_2020_GET}
    bad(get(emu, tok, C20, marketplaceIds=JP), "keywords")
    bad(get(emu, tok, C20, keywords="usb", marketplaceIds=JP, includedData="attributes"), "includedData")
    assert emu.calls.count("searchCatalogItems2020") >= 3 and emu.calls.count("getCatalogItem2020") == 1


def test_catalog_export_agrees_with_the_api(emu, tok):
    for version, path, parts in (("2022-04-01", C22, PARTS_2022), ("2020-12-01", C20, PARTS_2020_SEARCH)):
        exported = emu.export("searchCatalogItems", version)
        assert len(exported) % len(MARKETS) == 0
        mine = {row["asin"]: row for row, query, path_params in exported if query == {"marketplaceIds": [JP]}}
        assert all(path_params == {} for _, _, path_params in exported)
        seen: dict[str, dict] = {}
        brands = BRANDS if version == "2022-04-01" else BRANDS[:1]
        for brand in brands:  # every item's brand is searchable: the brands partition the catalog
            items, first = scan_catalog(emu, tok, path, keywords=brand, marketplaceIds=JP, pageSize=20,
                                        includedData=",".join(parts))
            assert len(items) == first["numberOfResults"] < 1000
            seen.update((i["asin"], i) for i in items)
        assert seen == (mine if brands == BRANDS else {a: mine[a] for a in seen})
    got = emu.export("getCatalogItem", "2022-04-01")
    row, query, path_params = got[0]
    assert set(row) == {"asin", *PARTS_2022} and path_params == {"asin": row["asin"]}
    assert ok(get(emu, tok, f"{C22}/{row['asin']}", includedData=",".join(PARTS_2022), **query)) == row
    with pytest.raises(ValueError, match="version"):
        emu.export("searchCatalogItems")


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
