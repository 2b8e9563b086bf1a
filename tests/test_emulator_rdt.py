"""The emulator's restricted data over real HTTP: addresses and buyer info without and with a restricted data
token, getOrders with data elements, and the bodies createRestrictedDataToken refuses."""

from __future__ import annotations

import pytest
import requests
from emulator_http import ANCHOR, US, error, get, rdt, scan_v0

EMULATOR = {"orders": 600, "anchor": ANCHOR}  # for the ``emu`` fixture of conftest.py


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
