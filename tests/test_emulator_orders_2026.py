"""The emulator's Orders 2026-01-01 over real HTTP: searchOrders covers every order once, its rules, filters and
included data, the optional blocks, and getOrder."""

from __future__ import annotations

import pytest
from emulator_http import ANCHOR, EPOCH, UK, US, error, get, recent, resolve

from sqlspapi.emulator import (
    Emulator,
)
from sqlspapi.emulator.orders_2026 import render_order as render_2026

EMULATOR = {"orders": 600, "anchor": ANCHOR}  # for the ``emu`` fixture of conftest.py


# -- Orders 2026-01-01 -------------------------------------------------------------------------------------------
def scan_2026(emu: Emulator, tok: str, **params: object) -> list[dict]:
    out: list[dict] = []
    extra = {k: v for k, v in params.items() if k in ("includedData", "maxResultsPerPage")}
    r = get(emu, "/orders/2026-01-01/orders", tok, **params)
    while True:
        assert r.status_code == 200, r.text
        body = r.json()
        out.extend(body["orders"])
        if "pagination" not in body:
            return out
        r = get(emu, "/orders/2026-01-01/orders", tok, paginationToken=body["pagination"]["nextToken"], **extra)


def test_search_orders_all_once(emu, tok):
    orders = scan_2026(emu, tok, createdAfter=EPOCH, maxResultsPerPage=100)
    ids = [o["orderId"] for o in orders]
    assert ids == [o.order_id for o in emu.orders]
    assert all("buyer" not in o and "recipient" not in o and o["orderItems"] for o in orders)
    r = get(emu, "/orders/2026-01-01/orders", tok, lastUpdatedAfter=EPOCH, maxResultsPerPage=3)
    assert "lastUpdatedBefore" in r.json() and len(r.json()["orders"]) == 3


@pytest.mark.parametrize("params, needle", [
    ({}, "exactly one"),
    ({"createdAfter": EPOCH, "lastUpdatedAfter": EPOCH}, "exactly one"),
    ({"createdAfter": EPOCH, "lastUpdatedBefore": EPOCH}, "lastUpdatedBefore"),
    ({"lastUpdatedAfter": EPOCH, "createdBefore": EPOCH}, "createdBefore"),
    ({"createdAfter": EPOCH, "createdBefore": recent(1)}, "two minutes"),
    ({"createdAfter": EPOCH, "maxResultsPerPage": 101}, "maxResultsPerPage"),
    ({"createdAfter": EPOCH, "marketplaceIds": ",".join([US] * 51)}, "marketplaceIds"),
    ({"createdAfter": EPOCH, "fulfillmentStatuses": "Shipped"}, "fulfillmentStatuses"),
    ({"createdAfter": EPOCH, "fulfilledBy": "AFN"}, "fulfilledBy"),
    ({"createdAfter": EPOCH, "includedData": "EVERYTHING"}, "includedData"),
])
def test_search_orders_rules(emu, tok, params, needle):
    r = get(emu, "/orders/2026-01-01/orders", tok, **resolve(params))
    assert r.status_code == 400
    assert error(r)["code"] == "InvalidInput" and needle in error(r)["message"]


def test_search_orders_filters_and_included_data(emu, tok):
    orders = scan_2026(emu, tok, createdAfter=EPOCH, fulfillmentStatuses="CANCELLED,UNSHIPPED", fulfilledBy="AMAZON",
                       marketplaceIds=f"{US},{UK}", includedData="BUYER,RECIPIENT,FULFILLMENT,PROCEEDS,PACKAGES")
    expected = [o.order_id for o in emu.orders if o.status in ("Canceled", "Unshipped") and o.channel == "AFN"
                and o.market.id in (US, UK)]
    assert [o["orderId"] for o in orders] == expected and expected
    for o in orders:
        assert o["fulfillment"]["fulfillmentStatus"] in ("CANCELLED", "UNSHIPPED")
        assert o["fulfillment"]["fulfilledBy"] == "AMAZON"
        assert o["buyer"]["buyerName"] and o["recipient"]["deliveryAddress"]["addressLine1"]


def test_2026_optional_blocks(emu, tok):
    canceled = next(o for o in emu.orders if o.status == "Canceled")
    promo = next(o for o in emu.orders if any(i.promotion_id for i in o.items) and o.status != "Pending")
    cod = next(o for o in emu.orders if o.payment_method == "COD" and o.status != "Pending")
    want = "PROMOTION,CANCELLATION,PAYMENT"
    o = get(emu, f"/orders/2026-01-01/orders/{canceled.order_id}", tok, includedData=want).json()["order"]
    assert all(i["cancellation"]["cancellationRequest"]["requester"] == "BUYER" for i in o["orderItems"])
    o = get(emu, f"/orders/2026-01-01/orders/{promo.order_id}", tok, includedData=want).json()["order"]
    assert any(i.get("promotion", {}).get("breakdowns") for i in o["orderItems"])
    o = get(emu, f"/orders/2026-01-01/orders/{cod.order_id}", tok, includedData=want).json()["order"]
    assert o["payment"]["paymentExecutions"][0]["paymentMethod"] == "CashOnDelivery"
    o = get(emu, f"/orders/2026-01-01/orders/{cod.order_id}", tok).json()["order"]
    assert "payment" not in o and "fulfillment" not in o and "proceeds" not in o


def test_get_order_2026(emu, tok):
    rec = next(o for o in emu.orders if o.status == "Shipped")
    r = get(emu, f"/orders/2026-01-01/orders/{rec.order_id}", tok, includedData="BUYER,PACKAGES")
    assert r.status_code == 200
    o = r.json()["order"]
    assert o == render_2026(rec, {"BUYER", "PACKAGES"})
    assert o["orderId"] == rec.order_id and o["buyer"]["buyerName"] == rec.buyer_name and o["packages"]
    assert o["salesChannel"]["marketplaceId"] == rec.market.id
    assert len(o["orderItems"]) == len(rec.items)
    r = get(emu, "/orders/2026-01-01/orders/999-0000000-0000000", tok)
    assert r.status_code == 404 and error(r)["code"] == "NotFound"
