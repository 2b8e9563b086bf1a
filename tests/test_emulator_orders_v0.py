"""The emulator's Orders v0 over real HTTP: Amazon's getOrders rules, paging that covers every order once, the
window bounds and filters, getOrder and getOrderItems and the shapes of their answers."""

from __future__ import annotations

import pytest
from emulator_http import ALL, ANCHOR, DE, EPOCH, JP, US, error, get, recent, resolve, scan_v0, token

from sqlspapi.emulator import (
    start,
)
from sqlspapi.emulator.orders_v0 import render_order as render_v0

EMULATOR = {"orders": 600, "anchor": ANCHOR}  # for the ``emu`` fixture of conftest.py


# -- getOrders rules ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("params, needle", [
    ({"CreatedAfter": EPOCH}, "MarketplaceIds"),
    ({"CreatedAfter": EPOCH, "MarketplaceIds": ",".join([US] * 51)}, "MarketplaceIds"),
    ({"CreatedAfter": EPOCH, "MarketplaceIds": "NOTAMARKET"}, "MarketplaceIds"),
    ({"MarketplaceIds": US}, "CreatedAfter"),
    ({"MarketplaceIds": US, "CreatedAfter": EPOCH, "LastUpdatedAfter": EPOCH}, "LastUpdated"),
    ({"MarketplaceIds": US, "CreatedAfter": EPOCH, "LastUpdatedBefore": EPOCH}, "LastUpdated"),
    ({"MarketplaceIds": US, "LastUpdatedAfter": EPOCH, "CreatedBefore": "2001-01-01T00:00:00Z"}, "CreatedBefore"),
    ({"MarketplaceIds": US, "CreatedAfter": EPOCH, "CreatedBefore": recent(1)}, "two minutes"),
    ({"MarketplaceIds": US, "LastUpdatedAfter": EPOCH, "LastUpdatedBefore": recent(0.5)}, "two minutes"),
    ({"MarketplaceIds": US, "CreatedAfter": recent(-60)}, "CreatedAfter"),
    ({"MarketplaceIds": US, "CreatedAfter": "2024-02-01", "CreatedBefore": "2024-01-01"}, "CreatedAfter"),
    ({"MarketplaceIds": US, "CreatedAfter": "yesterday"}, "CreatedAfter"),
    ({"MarketplaceIds": US, "CreatedAfter": EPOCH, "MaxResultsPerPage": 0}, "MaxResultsPerPage"),
    ({"MarketplaceIds": US, "CreatedAfter": EPOCH, "MaxResultsPerPage": 101}, "MaxResultsPerPage"),
    ({"MarketplaceIds": US, "CreatedAfter": EPOCH, "MaxResultsPerPage": "x"}, "MaxResultsPerPage"),
    ({"MarketplaceIds": US, "CreatedAfter": EPOCH, "AmazonOrderIds": ",".join(["111-1111111-1111111"] * 51)},
     "AmazonOrderIds"),
    ({"MarketplaceIds": US, "CreatedAfter": EPOCH, "AmazonOrderIds": "12345"}, "AmazonOrderIds"),
    ({"MarketplaceIds": US, "CreatedAfter": EPOCH, "OrderStatuses": "Lost"}, "OrderStatuses"),
    ({"MarketplaceIds": US, "CreatedAfter": EPOCH, "FulfillmentChannels": "XYZ"}, "FulfillmentChannels"),
    ({"MarketplaceIds": US, "CreatedAfter": EPOCH, "PaymentMethods": "Cash"}, "PaymentMethods"),
    ({"MarketplaceIds": US, "CreatedAfter": EPOCH, "SellerOrderId": "SO-1", "OrderStatuses": "Shipped"},
     "SellerOrderId"),
    ({"MarketplaceIds": US, "CreatedAfter": EPOCH, "NextToken": "garbage!"}, "NextToken"),
])
def test_get_orders_rules(emu, tok, params, needle):
    r = get(emu, "/orders/v0/orders", tok, **resolve(params))
    assert r.status_code == 400, r.text
    err = error(r)
    assert err["code"] == "InvalidInput"
    assert needle in err["message"]
    assert r.headers["x-amzn-RateLimit-Limit"] == emu.rate_limit_header("getOrders")


def test_paging_covers_all_orders_once(emu, tok):
    for key in ("CreatedAfter", "LastUpdatedAfter"):
        orders = scan_v0(emu, tok, **{key: EPOCH, "MarketplaceIds": ALL, "MaxResultsPerPage": 37})
        ids = [o["AmazonOrderId"] for o in orders]
        assert len(ids) == len(set(ids)) == len(emu.orders) == 600
        field = "PurchaseDate" if key == "CreatedAfter" else "LastUpdateDate"
        assert [o[field] for o in orders] == sorted(o[field] for o in orders)


def test_paging_with_repeated_params_and_response_bound(emu, tok):
    params = {"CreatedAfter": "2025-06-01T00:00:00Z", "MarketplaceIds": US, "MaxResultsPerPage": 5}
    r = get(emu, "/orders/v0/orders", tok, **params)
    p1 = r.json()["payload"]
    assert p1["CreatedBefore"] and len(p1["Orders"]) == 5
    r2 = get(emu, "/orders/v0/orders", tok, NextToken=p1["NextToken"], **params)
    p2 = r2.json()["payload"]
    assert {o["AmazonOrderId"] for o in p1["Orders"]}.isdisjoint(o["AmazonOrderId"] for o in p2["Orders"])
    assert p2["CreatedBefore"] == p1["CreatedBefore"]
    r = get(emu, "/orders/v0/orders", tok, LastUpdatedAfter="2025-06-01T00:00:00Z", MarketplaceIds=US)
    assert "LastUpdatedBefore" in r.json()["payload"] and "CreatedBefore" not in r.json()["payload"]


def test_window_bounds(emu, tok):
    after, before = "2025-03-01T00:00:00Z", "2025-04-01T00:00:00Z"
    orders = scan_v0(emu, tok, CreatedAfter=after, CreatedBefore=before, MarketplaceIds=ALL)
    expected = [o.order_id for o in emu.orders if after <= o.purchase.strftime("%Y-%m-%dT%H:%M:%SZ") <= before]
    assert [o["AmazonOrderId"] for o in orders] == expected and expected


@pytest.mark.parametrize("param, attr, value", [
    ("OrderStatuses", "status", "Canceled"),
    ("FulfillmentChannels", "channel", "AFN"),
    ("PaymentMethods", "payment_method", "COD"),
])
def test_filters(emu, tok, param, attr, value):
    orders = scan_v0(emu, tok, CreatedAfter=EPOCH, MarketplaceIds=ALL, **{param: value})
    expected = {o.order_id for o in emu.orders if getattr(o, attr) == value}
    assert expected and {o["AmazonOrderId"] for o in orders} == expected


def test_filter_multi_status_and_marketplace(emu, tok):
    orders = scan_v0(emu, tok, CreatedAfter=EPOCH, MarketplaceIds=f"{DE},{JP}", OrderStatuses="Shipped,Pending")
    expected = {o.order_id for o in emu.orders if o.market.id in (DE, JP) and o.status in ("Shipped", "Pending")}
    assert {o["AmazonOrderId"] for o in orders} == expected
    assert {o["MarketplaceId"] for o in orders} == {DE, JP}


def test_seller_order_id_and_buyer_email(emu, tok):
    rec = next(o for o in emu.orders if o.seller_order_id)
    orders = scan_v0(emu, tok, CreatedAfter=EPOCH, MarketplaceIds=ALL, SellerOrderId=rec.seller_order_id)
    assert [o["AmazonOrderId"] for o in orders] == [rec.order_id]
    rec = next(o for o in emu.orders if o.buyer_email)
    orders = scan_v0(emu, tok, CreatedAfter=EPOCH, MarketplaceIds=ALL, BuyerEmail=rec.buyer_email.upper())
    assert [o["AmazonOrderId"] for o in orders] == [rec.order_id]
    assert any(o.buyer_email is None for o in emu.orders)


def test_amazon_order_ids(emu, tok):
    picks = [emu.orders[i] for i in (5, 50, 300, 599)]
    ids = ",".join(o.order_id for o in picks)
    orders = scan_v0(emu, tok, CreatedAfter=EPOCH, MarketplaceIds=ALL, AmazonOrderIds=ids)
    assert sorted(o["AmazonOrderId"] for o in orders) == sorted(o.order_id for o in picks)
    after = picks[2].purchase.strftime("%Y-%m-%dT%H:%M:%SZ")  # the first two are outside this window
    orders = scan_v0(emu, tok, CreatedAfter=after, MarketplaceIds=ALL, AmazonOrderIds=ids)
    assert sorted(o["AmazonOrderId"] for o in orders) == sorted(o.order_id for o in picks[2:])


# -- getOrder / getOrderItems ----------------------------------------------------------------------------------
def test_get_order_and_errors(emu, tok):
    rec = emu.orders[10]
    r = get(emu, f"/orders/v0/orders/{rec.order_id}", tok)
    assert r.status_code == 200
    o = r.json()["payload"]
    assert o == render_v0(rec) and o["AmazonOrderId"] == rec.order_id
    r = get(emu, "/orders/v0/orders/999-0000000-0000000", tok)
    assert r.status_code == 404 and error(r)["code"] == "NotFound"
    assert r.headers["x-amzn-RateLimit-Limit"] == emu.rate_limit_header("getOrder")
    r = get(emu, "/orders/v0/orders/not-an-id", tok)
    assert r.status_code == 400 and "orderId" in error(r)["message"]


def test_order_shapes(emu):
    pending = next(o for o in emu.orders if o.status == "Pending")
    assert "OrderTotal" not in render_v0(pending)
    jp = next(o for o in emu.orders if o.market.currency == "JPY" and o.status == "Shipped")
    assert "." not in render_v0(jp)["OrderTotal"]["Amount"]
    us = next(o for o in emu.orders if o.market.currency == "USD" and o.status == "Shipped")
    amount = render_v0(us)["OrderTotal"]["Amount"]
    assert isinstance(amount, str) and len(amount.split(".")[1]) == 2
    for o in emu.orders:
        assert o.last_update >= o.purchase and o.last_update < emu.dataset.anchor
        assert 1 <= len(o.items) <= 5


def test_get_order_items_paging():
    with start(orders=200, time_scale=10_000, items_page_size=2, anchor=ANCHOR) as e:
        t = token(e)
        rec = next(o for o in e.orders if len(o.items) >= 3)
        items, next_token = [], None
        for _ in range(5):
            params = {"NextToken": next_token} if next_token else {}
            r = get(e, f"/orders/v0/orders/{rec.order_id}/orderItems", t, **params)
            assert r.status_code == 200
            payload = r.json()["payload"]
            assert payload["AmazonOrderId"] == rec.order_id and len(payload["OrderItems"]) <= 2
            items += payload["OrderItems"]
            next_token = payload.get("NextToken")
            if not next_token:
                break
        assert [i["OrderItemId"] for i in items] == [i.item_id for i in rec.items]
        other = next(o for o in e.orders if o.order_id != rec.order_id)
        r = get(e, f"/orders/v0/orders/{other.order_id}/orderItems", t,
                NextToken=get(e, f"/orders/v0/orders/{rec.order_id}/orderItems", t).json()["payload"]["NextToken"])
        assert r.status_code == 400


def test_non_ascii_titles_and_names(emu):
    titles = {i.title for o in emu.orders for i in o.items}
    names = {o.buyer_name for o in emu.orders}
    assert any("é" in t for t in titles) and any("ü" in t for t in titles)
    assert any(ord(c) > 0x3000 for t in titles for c in t)
    assert any("Müller" in n or "Šimon" in n for n in names) and any("山田" in n for n in names)
