"""Every report the emulator builds agrees with the API tables, checked over real HTTP: the orders reports' rows equal
what getOrders/getOrderItems return for the same orders, the restricted shipping reports' rows equal what an RDT's
getOrders (buyer and address) and getOrderItems return, the FBA inventory report equals getInventorySummaries and
the sales and traffic report follows its schema and getOrderMetrics."""

from __future__ import annotations

import gzip
import json

import pytest
import requests
from jsonschema import Draft7Validator
from test_emulator_reports import DE, MYI, ORDERS, US, Api, _fresh, _tsv, emu  # noqa: F401 - fixtures
from test_emulator_schema import check, models  # noqa: F401 - fixtures

from sqlspapi.emulator.reports_files import ACTIONABLE_ORDERS, FBA_SHIPMENTS, ORDERS_DATE
from sqlspapi.settings.marketplaces import MARKETPLACE_BY_CODE

AFTER, BEFORE = "2025-12-20T00:00:00Z", "2025-12-31T00:00:00Z"
CA, UK = MARKETPLACE_BY_CODE["CA"].id, MARKETPLACE_BY_CODE["UK"].id


@pytest.fixture(scope="module")
def api(emu, check):  # noqa: F811 - the imported fixture
    return Api(emu, check)


def _pages(api: Api, path: str, rows: str, params: dict, token: str | None = None) -> list[dict]:
    """Every row of an Orders v0 list over its NextToken pages (rate limits refilled: this is not about them)."""
    out: list[dict] = []
    query = dict(params)
    while True:
        api.emu.reset_limits()
        r = requests.get(api.emu.url + path, params=query, timeout=10,
                         headers={"x-amz-access-token": token} if token else api.headers)
        assert r.status_code == 200, r.text
        payload = r.json()["payload"]
        out += payload[rows]
        if not payload.get("NextToken"):
            return out
        query = {"NextToken": payload["NextToken"], **{k: v for k, v in params.items() if k == "MarketplaceIds"}}


def _api_items(api: Api, token: str | None = None, **filters: str) -> list[tuple[dict, dict]]:
    """(order, item) of every item of the orders getOrders returns for ``filters``."""
    orders = _pages(api, "/orders/v0/orders", "Orders", filters, token)
    return [(o, i) for o in orders
            for i in _pages(api, f"/orders/v0/orders/{o['AmazonOrderId']}/orderItems", "OrderItems", {})]


def _report(api: Api, report_type: str, markets: list[str]) -> list[dict]:
    got, doc = api.file(report_type, markets, dataStartTime=AFTER, dataEndTime=BEFORE)
    data = gzip.decompress(got.content) if doc.get("compressionAlgorithm") else got.content
    rows = _tsv(data)
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


def _offset(stamp: str) -> str:
    return stamp.replace("Z", "+00:00")


def _amount(item: dict, name: str) -> str:
    return item.get(name, {}).get("Amount", "")


@pytest.mark.parametrize("report_type, after, before", [(ORDERS, "LastUpdatedAfter", "LastUpdatedBefore"),
                                                        (ORDERS_DATE, "CreatedAfter", "CreatedBefore")])
def test_order_report_rows_equal_the_api_orders(api, report_type, after, before) -> None:
    """An order report asked for US and DE holds every marketplace of their regions (Amazon ignores marketplaceIds
    for order reports): the orders of US, CA, DE and UK."""
    report = _report(api, report_type, [US, DE])
    items = _api_items(api, MarketplaceIds=f"{US},{CA},{DE},{UK}", **{after: AFTER, before: BEFORE})
    assert len({o["AmazonOrderId"] for o, _ in items}) > 10
    assert sorted((o["AmazonOrderId"], o["OrderStatus"], i["SellerSKU"], i["ASIN"], str(i["QuantityOrdered"]),
                   _amount(i, "ItemPrice"), _amount(i, "ItemTax"), i["Title"], _offset(o["PurchaseDate"]),
                   _offset(o["LastUpdateDate"]), o["ShippingAddress"]["City"], o["ShippingAddress"]["PostalCode"])
                  for o, i in items) == sorted(
        (r["amazon-order-id"], r["order-status"], r["sku"], r["asin"], r["quantity"], r["item-price"],
         r["item-tax"], r["product-name"], r["purchase-date"], r["last-updated-date"], r["ship-city"],
         r["ship-postal-code"]) for r in report)


def _pii_token(api: Api) -> str:
    return api.rdt({"method": "GET", "path": "/orders/v0/orders", "dataElements": ["buyerInfo", "shippingAddress"]})


def _person(o: dict) -> tuple[str, ...]:
    a = o["ShippingAddress"]
    return (o["BuyerInfo"].get("BuyerEmail", ""), o["BuyerInfo"]["BuyerName"], a["Name"], a["AddressLine1"],
            a["City"], a["PostalCode"], a["CountryCode"])


def _report_person(r: dict) -> tuple[str, ...]:
    return (r["buyer-email"], r["buyer-name"], r["recipient-name"], r["ship-address-1"], r["ship-city"],
            r["ship-postal-code"], r["ship-country"])


def test_fba_shipments_equal_the_api(api) -> None:
    report = _report(api, FBA_SHIPMENTS, [US, DE])
    items = _api_items(api, _pii_token(api), MarketplaceIds=f"{US},{DE}", LastUpdatedAfter=AFTER,
                       LastUpdatedBefore=BEFORE, FulfillmentChannels="AFN", OrderStatuses="Shipped")
    assert len(items) > 5
    assert sorted((o["AmazonOrderId"], i["OrderItemId"], i["SellerSKU"], str(i["QuantityShipped"]),
                   _amount(i, "ItemPrice"), _offset(o["LastUpdateDate"]), *_person(o)) for o, i in items) == sorted(
        (r["amazon-order-id"], r["amazon-order-item-id"], r["sku"], r["quantity-shipped"], r["item-price"],
         r["shipment-date"], *_report_person(r)) for r in report)


def test_actionable_orders_equal_the_api(api) -> None:
    report = _report(api, ACTIONABLE_ORDERS, [US, DE])
    items = _api_items(api, _pii_token(api), MarketplaceIds=f"{US},{DE}", CreatedAfter=AFTER, CreatedBefore=BEFORE,
                       FulfillmentChannels="MFN", OrderStatuses="Unshipped,PartiallyShipped")
    expected = sorted((o["AmazonOrderId"], i["OrderItemId"], i["SellerSKU"], str(i["QuantityOrdered"]),
                       str(i["QuantityShipped"]), str(i["QuantityOrdered"] - i["QuantityShipped"]),
                       _offset(o["PurchaseDate"]), *_person(o))
                      for o, i in items if i["QuantityOrdered"] > i["QuantityShipped"])
    assert len(expected) > 2
    assert expected == sorted((r["order-id"], r["order-item-id"], r["sku"], r["quantity-purchased"],
                               r["quantity-shipped"], r["quantity-to-ship"], r["purchase-date"], *_report_person(r))
                              for r in report)


def test_fba_inventory_report_equals_the_api(api) -> None:
    rows = _tsv(api.file(MYI, [US])[0].content)
    report = {r[0]: dict(zip(rows[0], r, strict=True)) for r in rows[1:]}
    summaries = [s for s, query, _ in api.emu.export("getInventorySummaries") if query["marketplaceIds"] == [US]]
    assert {s["sellerSku"]: (s["fnSku"], str(s["totalQuantity"]), str(s["inventoryDetails"]["fulfillableQuantity"]))
            for s in summaries} == {sku: (r["fnsku"], r["afn-total-quantity"], r["afn-fulfillable-quantity"])
                                    for sku, r in report.items()}


def test_sales_and_traffic_report_follows_its_schema_and_the_sales_api(api, models_dir) -> None:
    got, doc = api.file("GET_SALES_AND_TRAFFIC_REPORT", [US], dataStartTime="2025-12-01T00:00:00Z",
                         dataEndTime="2025-12-30T00:00:00Z", reportOptions={"asinGranularity": "SKU"})
    assert doc["compressionAlgorithm"] == "GZIP"
    body = json.loads(gzip.decompress(got.content))
    schema = json.loads((models_dir / "schemas/reports/sellerSalesAndTrafficReport.json").read_text(encoding="utf-8"))
    errors = list(Draft7Validator(schema).iter_errors(body))
    assert not errors, [e.message for e in errors[:5]]
    assert len(body["salesAndTrafficByDate"]) == 30
    metrics = requests.get(api.emu.url + "/sales/v1/orderMetrics", headers=api.headers, timeout=10, params={
        "marketplaceIds": US, "interval": "2025-12-01T00:00:00Z--2025-12-31T00:00:00Z", "granularity": "Total",
        "granularityTimeZone": "UTC"}).json()["payload"][0]
    assert sum(d["salesByDate"]["unitsOrdered"] for d in body["salesAndTrafficByDate"]) == metrics["unitCount"]
    assert sum(a["salesByAsin"]["unitsOrdered"] for a in body["salesAndTrafficByAsin"]) == metrics["unitCount"]
