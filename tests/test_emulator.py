"""The emulator over real HTTP: LWA, Orders v0 rules and paging, restricted data, Orders 2026, sellers,
rate limiting, determinism, call log and fault injection."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import pytest
import requests

from sqlspapi.emulator import (
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    DEMO_REFRESH_TOKEN,
    Emulator,
    main,
    start,
)
from sqlspapi.emulator.cli import build_parser
from sqlspapi.emulator.data import Dataset
from sqlspapi.emulator.orders_2026 import render_order as render_2026
from sqlspapi.emulator.orders_v0 import render_order as render_v0

US, CA, DE, UK, JP = "ATVPDKIKX0DER", "A2EUQ1WTGCTBG2", "A1PA6795UKMFR9", "A1F83G8C2ARO7P", "A1VC38T7YXB528"
ALL = ",".join((US, CA, DE, UK, JP))
EPOCH = "2000-01-01T00:00:00Z"
ANCHOR = datetime(2026, 1, 1, tzinfo=UTC)


def token(emu: Emulator, refresh: str = DEMO_REFRESH_TOKEN) -> str:
    r = requests.post(emu.token_url, data={"grant_type": "refresh_token", "client_id": DEMO_CLIENT_ID,
                                           "client_secret": DEMO_CLIENT_SECRET, "refresh_token": refresh})
    assert r.status_code == 200, r.text
    return r.json()["access_token"]


def get(emu: Emulator, path: str, tok: str | None, **params: object) -> requests.Response:
    headers = {"x-amz-access-token": tok} if tok else {}
    return requests.get(emu.url + path, params=params, headers=headers, timeout=10)


def rdt(emu: Emulator, tok: str, resources: list[dict]) -> requests.Response:
    return requests.post(emu.url + "/tokens/2021-03-01/restrictedDataToken", json={"restrictedResources": resources},
                         headers={"x-amz-access-token": tok}, timeout=10)


def error(r: requests.Response) -> dict:
    body = r.json()
    assert len(body["errors"]) == 1
    return body["errors"][0]


@pytest.fixture(scope="module")
def emu():
    with start(orders=600, time_scale=1_000_000, anchor=ANCHOR) as e:
        yield e


@pytest.fixture(scope="module")
def tok(emu):
    return token(emu)


def scan_v0(emu: Emulator, tok: str, **params: object) -> list[dict]:
    out: list[dict] = []
    r = get(emu, "/orders/v0/orders", tok, **params)
    while True:
        assert r.status_code == 200, r.text
        payload = r.json()["payload"]
        out.extend(payload["Orders"])
        if not payload.get("NextToken"):
            return out
        r = get(emu, "/orders/v0/orders", tok, NextToken=payload["NextToken"])


# -- LWA ---------------------------------------------------------------------------------------------------------
def test_lwa_success_form_and_json(emu):
    body = {"grant_type": "refresh_token", "client_id": DEMO_CLIENT_ID, "client_secret": DEMO_CLIENT_SECRET,
            "refresh_token": DEMO_REFRESH_TOKEN}
    for r in (requests.post(emu.token_url, data=body), requests.post(emu.token_url, json=body)):
        assert r.status_code == 200
        j = r.json()
        assert j["access_token"].startswith("Atza|emu-")
        assert j["token_type"] == "bearer" and j["expires_in"] == 3600 and j["refresh_token"] == DEMO_REFRESH_TOKEN
        assert "x-amzn-RequestId" in r.headers


@pytest.mark.parametrize("change, status, code", [
    ({"grant_type": None}, 400, "invalid_request"),
    ({"grant_type": "password"}, 400, "unsupported_grant_type"),
    ({"client_id": "nope"}, 401, "invalid_client"),
    ({"client_secret": "wrong"}, 401, "invalid_client"),
    ({"client_secret": None}, 400, "invalid_request"),
    ({"refresh_token": "Atzr|unknown"}, 400, "invalid_grant"),
    ({"refresh_token": None}, 400, "invalid_request"),
])
def test_lwa_errors(emu, change, status, code):
    body = {"grant_type": "refresh_token", "client_id": DEMO_CLIENT_ID, "client_secret": DEMO_CLIENT_SECRET,
            "refresh_token": DEMO_REFRESH_TOKEN}
    body.update(change)
    r = requests.post(emu.token_url, data={k: v for k, v in body.items() if v is not None})
    assert r.status_code == status
    j = r.json()
    assert j["error"] == code and j["error_description"]
    assert DEMO_CLIENT_SECRET not in r.text


def test_missing_and_unknown_access_token(emu):
    for tok_value in (None, "Atza|made-up"):
        r = get(emu, "/sellers/v1/marketplaceParticipations", tok_value)
        assert r.status_code == 403
        assert error(r)["code"] == "Unauthorized"
        assert error(r)["message"] == "Access to requested resource is denied."
        assert "x-amzn-RateLimit-Limit" not in r.headers


def test_token_expires_mid_scan():
    with start(orders=300, time_scale=10_000, token_lifetime=0.5, anchor=ANCHOR) as e:
        t = token(e)
        r = get(e, "/orders/v0/orders", t, CreatedAfter=EPOCH, MarketplaceIds=ALL, MaxResultsPerPage=10)
        assert r.status_code == 200
        time.sleep(0.7)
        r = get(e, "/orders/v0/orders", t, NextToken=r.json()["payload"]["NextToken"])
        assert r.status_code == 403
        assert r.json() == {"errors": [{"code": "Unauthorized", "message": "Access to requested resource is denied.",
                                        "details": "The access token you provided has expired."}]}
        e.set_token_lifetime(3600)
        assert get(e, "/sellers/v1/marketplaceParticipations", token(e)).status_code == 200


def test_grantless_token_cannot_read_seller_data(emu):
    r = requests.post(emu.token_url, data={"grant_type": "client_credentials", "client_id": DEMO_CLIENT_ID,
                                           "client_secret": DEMO_CLIENT_SECRET,
                                           "scope": "sellingpartnerapi::notifications"})
    assert r.status_code == 200 and r.json()["scope"] == "sellingpartnerapi::notifications"
    assert "refresh_token" not in r.json()
    r = get(emu, "/sellers/v1/marketplaceParticipations", r.json()["access_token"])
    assert r.status_code == 403 and error(r)["code"] == "Unauthorized"


def test_revoke_refresh_token():
    with start(orders=50, anchor=ANCHOR) as e:
        t = token(e)
        e.revoke_refresh_token()
        r = requests.post(e.token_url, data={"grant_type": "refresh_token", "client_id": DEMO_CLIENT_ID,
                                             "client_secret": DEMO_CLIENT_SECRET, "refresh_token": DEMO_REFRESH_TOKEN})
        assert r.status_code == 400 and r.json()["error"] == "invalid_grant"
        assert get(e, "/sellers/v1/marketplaceParticipations", t).status_code == 200  # issued tokens stay valid


# -- getOrders rules ---------------------------------------------------------------------------------------------
def _recent(minutes: float) -> str:
    """A marker resolved when the request is sent: now minus ``minutes``."""
    return f"RECENT:{minutes}"


def _resolve(params: dict) -> dict:
    out = {}
    for key, value in params.items():
        if isinstance(value, str) and value.startswith("RECENT:"):
            moment = datetime.now(UTC) - timedelta(minutes=float(value[7:]))
            value = moment.strftime("%Y-%m-%dT%H:%M:%SZ")
        out[key] = value
    return out


@pytest.mark.parametrize("params, needle", [
    ({"CreatedAfter": EPOCH}, "MarketplaceIds"),
    ({"CreatedAfter": EPOCH, "MarketplaceIds": ",".join([US] * 51)}, "MarketplaceIds"),
    ({"CreatedAfter": EPOCH, "MarketplaceIds": "NOTAMARKET"}, "MarketplaceIds"),
    ({"MarketplaceIds": US}, "CreatedAfter"),
    ({"MarketplaceIds": US, "CreatedAfter": EPOCH, "LastUpdatedAfter": EPOCH}, "LastUpdated"),
    ({"MarketplaceIds": US, "CreatedAfter": EPOCH, "LastUpdatedBefore": EPOCH}, "LastUpdated"),
    ({"MarketplaceIds": US, "LastUpdatedAfter": EPOCH, "CreatedBefore": "2001-01-01T00:00:00Z"}, "CreatedBefore"),
    ({"MarketplaceIds": US, "CreatedAfter": EPOCH, "CreatedBefore": _recent(1)}, "two minutes"),
    ({"MarketplaceIds": US, "LastUpdatedAfter": EPOCH, "LastUpdatedBefore": _recent(0.5)}, "two minutes"),
    ({"MarketplaceIds": US, "CreatedAfter": _recent(-60)}, "CreatedAfter"),
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
    r = get(emu, "/orders/v0/orders", tok, **_resolve(params))
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


# -- restricted data -----------------------------------------------------------------------------------------
def test_address_and_buyer_info_without_rdt(emu, tok):
    rec = next(o for o in emu.orders if o.buyer_email)
    addr = get(emu, f"/orders/v0/orders/{rec.order_id}/address", tok).json()["payload"]
    assert set(addr["ShippingAddress"]) == {"City", "StateOrRegion", "PostalCode", "CountryCode"}
    info = get(emu, f"/orders/v0/orders/{rec.order_id}/buyerInfo", tok).json()["payload"]
    assert "BuyerEmail" not in info and "BuyerName" not in info and info["AmazonOrderId"] == rec.order_id
    order = get(emu, f"/orders/v0/orders/{rec.order_id}", tok).json()["payload"]
    assert "Name" not in order["ShippingAddress"] and "BuyerEmail" not in order.get("BuyerInfo", {})


@pytest.mark.parametrize("generic", [False, True])
def test_address_and_buyer_info_with_rdt(emu, tok, generic):
    rec = next(o for o in emu.orders if o.buyer_email and o.address.phone)
    oid = "{orderId}" if generic else rec.order_id
    r = rdt(emu, tok, [{"method": "GET", "path": f"/orders/v0/orders/{oid}/address"},
                       {"method": "GET", "path": f"/orders/v0/orders/{oid}/buyerInfo"}])
    assert r.status_code == 200
    j = r.json()
    assert j["restrictedDataToken"].startswith("Atz.sprdt|") and j["expiresIn"] == 3600
    t = j["restrictedDataToken"]
    addr = get(emu, f"/orders/v0/orders/{rec.order_id}/address", t).json()["payload"]["ShippingAddress"]
    assert addr["Name"] == rec.buyer_name and addr["AddressLine1"] and addr["Phone"] == rec.address.phone
    info = get(emu, f"/orders/v0/orders/{rec.order_id}/buyerInfo", t).json()["payload"]
    assert info["BuyerEmail"] == rec.buyer_email and info["BuyerName"] == rec.buyer_name
    other = next(o for o in emu.orders if o.order_id != rec.order_id)
    r = get(emu, f"/orders/v0/orders/{other.order_id}/address", t)
    assert r.status_code == (200 if generic else 403)
    r = get(emu, "/sellers/v1/marketplaceParticipations", t)  # an RDT is not an LWA token
    assert r.status_code == 403


def test_get_orders_with_rdt_data_elements(emu, tok):
    t = rdt(emu, tok, [{"method": "GET", "path": "/orders/v0/orders",
                        "dataElements": ["buyerInfo", "shippingAddress"]}]).json()["restrictedDataToken"]
    orders = scan_v0(emu, t, CreatedAfter="2025-06-01T00:00:00Z", MarketplaceIds=US)
    assert orders and all("Name" in o["ShippingAddress"] for o in orders)
    assert any("BuyerEmail" in o.get("BuyerInfo", {}) for o in orders)
    t2 = rdt(emu, tok, [{"method": "GET", "path": "/orders/v0/orders",
                         "dataElements": ["shippingAddress"]}]).json()["restrictedDataToken"]
    orders = scan_v0(emu, t2, CreatedAfter="2025-06-01T00:00:00Z", MarketplaceIds=US)
    assert all("Name" in o["ShippingAddress"] for o in orders)
    assert not any("BuyerEmail" in o.get("BuyerInfo", {}) for o in orders)


@pytest.mark.parametrize("body, needle", [
    ({}, "restrictedResources"),
    ({"restrictedResources": []}, "restrictedResources"),
    ({"restrictedResources": [{"method": "GET", "path": "/orders/v0/orders"}] * 51}, "50"),
    ({"restrictedResources": [{"method": "FETCH", "path": "/orders/v0/orders"}]}, "method"),
    ({"restrictedResources": [{"method": "GET"}]}, "path"),
    ({"restrictedResources": [{"method": "GET", "path": "/sellers/v1/account"}]}, "path"),
    ({"restrictedResources": [{"method": "GET", "path": "/orders/v0/orders", "dataElements": ["ssn"]}]},
     "dataElements"),
    ({"restrictedResources": [{"method": "GET", "path": "/orders/v0/orders/{orderId}/address",
                               "dataElements": ["buyerInfo"]}]}, "dataElements"),
])
def test_rdt_bad_bodies(emu, tok, body, needle):
    r = requests.post(emu.url + "/tokens/2021-03-01/restrictedDataToken", json=body,
                      headers={"x-amz-access-token": tok})
    assert r.status_code == 400
    assert error(r)["code"] == "InvalidInput" and needle in error(r)["message"]
    r = requests.post(emu.url + "/tokens/2021-03-01/restrictedDataToken", data=b"{not json",
                      headers={"x-amz-access-token": tok})
    assert r.status_code == 400


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
    ({"createdAfter": EPOCH, "createdBefore": _recent(1)}, "two minutes"),
    ({"createdAfter": EPOCH, "maxResultsPerPage": 101}, "maxResultsPerPage"),
    ({"createdAfter": EPOCH, "marketplaceIds": ",".join([US] * 51)}, "marketplaceIds"),
    ({"createdAfter": EPOCH, "fulfillmentStatuses": "Shipped"}, "fulfillmentStatuses"),
    ({"createdAfter": EPOCH, "fulfilledBy": "AFN"}, "fulfilledBy"),
    ({"createdAfter": EPOCH, "includedData": "EVERYTHING"}, "includedData"),
])
def test_search_orders_rules(emu, tok, params, needle):
    r = get(emu, "/orders/2026-01-01/orders", tok, **_resolve(params))
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


# -- sellers, unknown paths, headers ----------------------------------------------------------------------------
def test_marketplace_participations(emu, tok):
    r = get(emu, "/sellers/v1/marketplaceParticipations", tok)
    assert r.status_code == 200
    payload = r.json()["payload"]
    by_country = {p["marketplace"]["countryCode"]: p["marketplace"] for p in payload}
    assert set(by_country) == {"US", "CA", "DE", "GB", "JP"}
    assert by_country["GB"]["id"] == UK and by_country["JP"]["defaultCurrencyCode"] == "JPY"
    assert r.headers["x-amzn-RateLimit-Limit"] == emu.rate_limit_header("getMarketplaceParticipations")
    assert get(emu, "/sellers/v1/account", tok).json()["payload"]["sellingPlan"] == "PROFESSIONAL"


def test_unknown_path(emu, tok):
    r = get(emu, "/catalog/2099-01-01/nothing", tok)
    assert r.status_code == 404 and error(r)["code"] == "NotFound"
    assert r.headers["x-amzn-RequestId"]
    r = requests.delete(emu.url + "/orders/v0/orders", headers={"x-amz-access-token": tok})
    assert r.status_code == 404


# -- rate limits -------------------------------------------------------------------------------------------------
def test_burst_then_429():
    with start(orders=100, anchor=ANCHOR) as e:
        t = token(e)
        statuses = [get(e, "/orders/v0/orders", t, CreatedAfter=EPOCH, MarketplaceIds=US).status_code
                    for _ in range(21)]
        assert statuses == [200] * 20 + [429]
        r = get(e, "/orders/v0/orders", t, CreatedAfter=EPOCH, MarketplaceIds=US)
        assert r.status_code == 429
        assert r.json() == {"errors": [{"code": "QuotaExceeded",
                                        "message": "You exceeded your quota for the requested resource.",
                                        "details": ""}]}
        assert "x-amzn-RateLimit-Limit" not in r.headers and r.headers["x-amzn-RequestId"]
        ok = get(e, "/sellers/v1/marketplaceParticipations", t)  # other operations have their own buckets
        assert ok.status_code == 200 and ok.headers["x-amzn-RateLimit-Limit"] == "0.016"
        e.add_account("Atzr|second-seller")  # ... and so do other accounts
        t2 = token(e, "Atzr|second-seller")
        assert get(e, "/orders/v0/orders", t2, CreatedAfter=EPOCH, MarketplaceIds=US).status_code == 200


def test_time_scale_honoured():
    with start(orders=50, time_scale=62.5, anchor=ANCHOR) as e:  # getMarketplaceParticipations: 1 request/s
        t = token(e)
        first = get(e, "/sellers/v1/marketplaceParticipations", t)
        assert first.headers["x-amzn-RateLimit-Limit"] == "1"
        statuses = [get(e, "/sellers/v1/marketplaceParticipations", t).status_code for _ in range(15)]
        assert statuses[:14] == [200] * 14 and statuses[-1] == 429
        time.sleep(1.1)
        assert get(e, "/sellers/v1/marketplaceParticipations", t).status_code == 200
    with start(orders=50, time_scale=100, anchor=ANCHOR) as e:
        t = token(e)
        r = get(e, "/orders/v0/orders", t, CreatedAfter=EPOCH, MarketplaceIds=US)
        assert r.headers["x-amzn-RateLimit-Limit"] == "1.67"
        assert e.rate_limit_header("searchOrders") == "0.56"


# -- determinism, call log, faults, CLI --------------------------------------------------------------------------
def test_determinism():
    a, b, c = Dataset(seed=3, orders=300, anchor=ANCHOR), Dataset(seed=3, orders=300, anchor=ANCHOR), \
        Dataset(seed=4, orders=300, anchor=ANCHOR)
    assert [render_v0(o, {"buyerInfo", "shippingAddress"}) for o in a.orders] == \
        [render_v0(o, {"buyerInfo", "shippingAddress"}) for o in b.orders]
    assert [o.order_id for o in a.orders] != [o.order_id for o in c.orders]
    t0 = time.perf_counter()
    big = Dataset(seed=7, orders=3500, anchor=ANCHOR)
    assert time.perf_counter() - t0 < 1.0 and len(big.orders) == 3500
    assert len({o.order_id for o in big.orders}) == 3500
    assert {o.status for o in big.orders} == {"PendingAvailability", "Pending", "Unshipped", "PartiallyShipped",
                                              "Shipped", "InvoiceUnconfirmed", "Canceled", "Unfulfillable"}
    assert {o.market.key for o in big.orders} == {"US", "CA", "DE", "UK", "JP"}
    assert {o.channel for o in big.orders} == {"AFN", "MFN"}
    assert {o.payment_method for o in big.orders} == {"COD", "CVS", "Other"}


def test_same_seed_same_http_answer():
    with start(orders=100, seed=11, anchor=ANCHOR) as e1, start(orders=100, seed=11, anchor=ANCHOR) as e2:
        params = {"CreatedAfter": "2025-01-01T00:00:00Z", "CreatedBefore": "2025-12-01T00:00:00Z",
                  "MarketplaceIds": ALL}
        assert get(e1, "/orders/v0/orders", token(e1), **params).json() == \
            get(e2, "/orders/v0/orders", token(e2), **params).json()


def test_call_log(emu, tok):
    emu.calls.clear()
    t = token(emu)
    get(emu, "/orders/v0/orders", t, CreatedAfter=EPOCH, MarketplaceIds=US, MaxResultsPerPage=1)
    get(emu, "/orders/v0/orders", t, MarketplaceIds=US)
    calls = list(emu.calls)
    assert [c.operation for c in calls] == ["lwaToken", "getOrders", "getOrders"]
    assert [c.status for c in calls] == [200, 200, 400]
    assert calls[1].params == {"CreatedAfter": EPOCH, "MarketplaceIds": US, "MaxResultsPerPage": "1"}
    assert calls[1].method == "GET" and calls[1].path == "/orders/v0/orders" and calls[1].time > 0
    assert "client_secret" not in calls[0].params and "refresh_token" not in calls[0].params
    assert emu.calls.count("getOrders", 400) == 1
    emu.calls.clear()
    assert len(emu.calls) == 0


@pytest.mark.parametrize("status, code", [(503, "ServiceUnavailable"), (500, "InternalFailure"),
                                          (429, "QuotaExceeded")])
def test_fault_injection(emu, tok, status, code):
    rec = emu.orders[0]
    emu.fail_next("getOrder", status, 2)
    got = [get(emu, f"/orders/v0/orders/{rec.order_id}", tok) for _ in range(3)]
    assert [r.status_code for r in got] == [status, status, 200]
    assert error(got[0])["code"] == code


def test_fault_injection_lwa(emu):
    emu.fail_next("lwaToken", 503)
    r = requests.post(emu.token_url, data={"grant_type": "refresh_token", "client_id": DEMO_CLIENT_ID,
                                           "client_secret": DEMO_CLIENT_SECRET, "refresh_token": DEMO_REFRESH_TOKEN})
    assert r.status_code == 503 and r.json()["error"] == "server_error"
    assert token(emu)


def test_connection_string(emu):
    cs = emu.connection_string(Marketplaces="US,DE", Weird="a=b")
    assert cs.startswith(f"ClientId=demo-client-id;ClientSecret=demo-client-secret;"
                         f"RefreshToken={{Atzr|demo-refresh-token}};TokenUrl={emu.url}/auth/o2/token;"
                         f"Endpoint={emu.url}")
    assert cs.endswith(";Marketplaces=US,DE;Weird={a=b}")
    assert emu.url.startswith("http://127.0.0.1:") and emu.host == "127.0.0.1"


def test_stop_closes_socket_and_keep_alive_connections():
    e = start(orders=10)
    url = e.url
    session = requests.Session()
    assert session.get(url + "/nothing", timeout=2).status_code == 404  # a kept-alive connection
    e.stop()
    with pytest.raises(requests.ConnectionError):
        requests.get(url + "/sellers/v1/account", timeout=2)
    with pytest.raises(requests.ConnectionError):
        session.get(url + "/nothing", timeout=2)


def test_cli_parser_and_main():
    args = build_parser().parse_args([])
    assert (args.host, args.port, args.time_scale, args.seed, args.orders, args.token_lifetime) == \
        ("127.0.0.1", 8000, 1.0, 7, 2000, 3600.0)
    assert main(["--time-scale", "0"]) == 2
    proc = subprocess.Popen([sys.executable, "-c", "from sqlspapi.emulator import main; main(['--port', '0'])"],
                            stdout=subprocess.PIPE, text=True)
    try:
        first = proc.stdout.readline()
        second, third = proc.stdout.readline(), proc.stdout.readline()
        assert "http://127.0.0.1:" in first
        assert "Connection string" in second and "TokenUrl=http://127.0.0.1:" in third
        url = first.split()[4]
        assert requests.get(url + "/nothing", timeout=5).status_code == 404
    finally:
        proc.terminate()
        proc.wait(timeout=10)
