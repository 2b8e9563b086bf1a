"""Every kind of emulator answer validates against Amazon's official model for that operation and status.

The validator is a draft-4 ``Draft4Validator`` whose root document is the whole Swagger 2.0 model (``x-`` keys
removed), pointing with ``$ref`` at ``#/paths/<path>/<method>/responses/<status>/schema`` so that every
``#/definitions/X`` inside resolves against the model.
"""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

import pytest
import requests
from jsonschema import Draft4Validator

from sqlspapi.emulator import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_REFRESH_TOKEN, start

pytestmark = pytest.mark.models

V0, V2026, TOKENS, SELLERS = "orders-v0.json", "orders-2026-01-01.json", "tokens-2021-03-01.json", "sellers-v1.json"
CAT22, CAT20, FBA, SALES = ("catalog-items-2022-04-01.json", "catalog-items-2020-12-01.json", "fba-inventory-v1.json",
                            "sales-v1.json")
US = "ATVPDKIKX0DER"
FBA_QUERY = {"granularityType": "Marketplace", "granularityId": US, "marketplaceIds": US}
METRICS_QUERY = {"marketplaceIds": US, "interval": "2025-12-01T00:00:00Z--2026-01-01T00:00:00Z", "granularity": "Day",
                 "granularityTimeZone": "UTC"}
ALL = "ATVPDKIKX0DER,A2EUQ1WTGCTBG2,A1PA6795UKMFR9,A1F83G8C2ARO7P,A1VC38T7YXB528"
EPOCH = "2000-01-01T00:00:00Z"
INCLUDED = "BUYER,RECIPIENT,PROCEEDS,EXPENSE,PROMOTION,CANCELLATION,FULFILLMENT,PACKAGES,TAX,PAYMENT"


def _strip(node):
    if isinstance(node, dict):
        return {k: _strip(v) for k, v in node.items() if not k.startswith("x-")}
    if isinstance(node, list):
        return [_strip(v) for v in node]
    return node


@pytest.fixture(scope="module")
def models(models_dir: Path):
    cache: dict[str, dict] = {}

    def load(name: str) -> dict:
        if name not in cache:
            cache[name] = _strip(json.loads((models_dir / name).read_text(encoding="utf-8")))
        return cache[name]

    return load


@pytest.fixture(scope="module")
def check(models):
    """check(model_file, method, path_template, response) validates ``response`` against the model."""
    validators: dict[tuple, Draft4Validator] = {}

    def run(model: str, method: str, template: str, r: requests.Response) -> None:
        key = (model, method, template, r.status_code)
        if key not in validators:
            root = dict(models(model))
            responses = root["paths"][template][method.lower()]["responses"]
            assert str(r.status_code) in responses, f"{template} declares no {r.status_code} response"
            pointer = "/".join(quote(p.replace("~", "~0").replace("/", "~1"), safe="~")
                               for p in ("paths", template, method.lower(), "responses", str(r.status_code),
                                         "schema"))
            root["$ref"] = "#/" + pointer
            validators[key] = Draft4Validator(root)
        errors = sorted(validators[key].iter_errors(r.json()), key=lambda e: list(e.path))
        assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors[:10])

    return run


@pytest.fixture(scope="module")
def emu():
    with start(orders=400, time_scale=1_000_000, items_page_size=2, anchor=datetime(2026, 1, 1, tzinfo=UTC)) as e:
        yield e


@pytest.fixture(scope="module")
def tok(emu):
    r = requests.post(emu.token_url, data={"grant_type": "refresh_token", "client_id": DEMO_CLIENT_ID,
                                           "client_secret": DEMO_CLIENT_SECRET, "refresh_token": DEMO_REFRESH_TOKEN})
    return r.json()["access_token"]


@pytest.fixture(scope="module")
def pii_tok(emu, tok):
    resources = [{"method": "GET", "path": p, "dataElements": d} for p, d in (
        ("/orders/v0/orders", ["buyerInfo", "shippingAddress"]),
        ("/orders/v0/orders/{orderId}", ["buyerInfo", "shippingAddress"]),
        ("/orders/v0/orders/{orderId}/orderItems", []),
        ("/orders/v0/orders/{orderId}/address", None),
        ("/orders/v0/orders/{orderId}/buyerInfo", None),
    )]
    resources = [{k: v for k, v in r.items() if v is not None} for r in resources]
    r = requests.post(emu.url + "/tokens/2021-03-01/restrictedDataToken", json={"restrictedResources": resources},
                      headers={"x-amz-access-token": tok})
    assert r.status_code == 200, r.text
    return r.json()["restrictedDataToken"]


def _get(emu, path, tok, **params):
    return requests.get(emu.url + path, params=params, headers={"x-amz-access-token": tok} if tok else {})


def test_validator_is_not_vacuous(check, emu, tok):
    r = _get(emu, f"/orders/v0/orders/{emu.orders[0].order_id}", tok)
    check(V0, "GET", "/orders/v0/orders/{orderId}", r)
    broken = r.json()
    broken["payload"]["OrderTotal"] = {"CurrencyCode": "USD", "Amount": 12.5}
    r._content = json.dumps(broken).encode()
    with pytest.raises(AssertionError):
        check(V0, "GET", "/orders/v0/orders/{orderId}", r)


@pytest.mark.parametrize("use_pii", [False, True])
def test_every_v0_order_and_item(check, emu, tok, pii_tok, use_pii):
    t = pii_tok if use_pii else tok
    r = _get(emu, "/orders/v0/orders", t, CreatedAfter=EPOCH, MarketplaceIds=ALL)
    pages = 0
    while True:
        assert r.status_code == 200
        check(V0, "GET", "/orders/v0/orders", r)
        pages += 1
        nt = r.json()["payload"].get("NextToken")
        if not nt:
            break
        r = _get(emu, "/orders/v0/orders", t, NextToken=nt)
    assert pages == 4
    statuses_seen = set()
    for rec in emu.orders:
        if rec.status in statuses_seen and len(rec.items) < 3:
            continue
        statuses_seen.add(rec.status)
        r = _get(emu, f"/orders/v0/orders/{rec.order_id}/orderItems", t)
        check(V0, "GET", "/orders/v0/orders/{orderId}/orderItems", r)
        nt = r.json()["payload"].get("NextToken")
        if nt:
            r = _get(emu, f"/orders/v0/orders/{rec.order_id}/orderItems", t, NextToken=nt)
            check(V0, "GET", "/orders/v0/orders/{orderId}/orderItems", r)
        for suffix, template in (("", "/orders/v0/orders/{orderId}"),
                                 ("/address", "/orders/v0/orders/{orderId}/address"),
                                 ("/buyerInfo", "/orders/v0/orders/{orderId}/buyerInfo")):
            r = _get(emu, f"/orders/v0/orders/{rec.order_id}{suffix}", t)
            assert r.status_code == 200
            check(V0, "GET", template, r)


V0_ERRORS = [
    ("/orders/v0/orders", {"MarketplaceIds": "ATVPDKIKX0DER"}, 400),
    ("/orders/v0/orders/{orderId}", {}, 404),
    ("/orders/v0/orders/{orderId}/orderItems", {}, 404),
    ("/orders/v0/orders/{orderId}/address", {}, 404),
    ("/orders/v0/orders/{orderId}/buyerInfo", {}, 404),
]


@pytest.mark.parametrize("template, params, status", V0_ERRORS)
def test_v0_errors(check, emu, tok, template, params, status):
    path = template.replace("{orderId}", "999-0000000-0000000")
    r = _get(emu, path, tok, **params)
    assert r.status_code == status
    check(V0, "GET", template, r)
    r = _get(emu, path.replace("999-0000000-0000000", "bad"), tok, **params)
    assert r.status_code == 400 or template == "/orders/v0/orders"
    check(V0, "GET", template, r)
    r = _get(emu, path, None, **params)
    assert r.status_code == 403
    check(V0, "GET", template, r)


OPS = [
    (V0, "getOrders", "/orders/v0/orders", {"CreatedAfter": EPOCH, "MarketplaceIds": "ATVPDKIKX0DER"}),
    (V0, "getOrder", "/orders/v0/orders/{orderId}", {}),
    (V0, "getOrderItems", "/orders/v0/orders/{orderId}/orderItems", {}),
    (V0, "getOrderAddress", "/orders/v0/orders/{orderId}/address", {}),
    (V0, "getOrderBuyerInfo", "/orders/v0/orders/{orderId}/buyerInfo", {}),
    (V2026, "searchOrders", "/orders/2026-01-01/orders", {"createdAfter": EPOCH}),
    (V2026, "getOrder2026", "/orders/2026-01-01/orders/{orderId}", {}),
    (SELLERS, "getMarketplaceParticipations", "/sellers/v1/marketplaceParticipations", {}),
    (SELLERS, "getAccount", "/sellers/v1/account", {}),
    (CAT22, "searchCatalogItems", "/catalog/2022-04-01/items", {"keywords": "usb", "marketplaceIds": US}),
    (CAT22, "getCatalogItem", "/catalog/2022-04-01/items/{asin}", {"marketplaceIds": US}),
    (CAT20, "searchCatalogItems2020", "/catalog/2020-12-01/items", {"keywords": "usb", "marketplaceIds": US}),
    (CAT20, "getCatalogItem2020", "/catalog/2020-12-01/items/{asin}", {"marketplaceIds": US}),
    (FBA, "getInventorySummaries", "/fba/inventory/v1/summaries", FBA_QUERY),
    (SALES, "getOrderMetrics", "/sales/v1/orderMetrics", METRICS_QUERY),
]


@pytest.mark.parametrize("model, op, template, params", OPS, ids=[o[1] for o in OPS])
@pytest.mark.parametrize("status", [429, 500, 503])
def test_injected_faults(check, emu, tok, model, op, template, params, status):
    path = template.replace("{orderId}", emu.orders[1].order_id).replace("{asin}", emu.dataset.products[1].asin)
    emu.fail_next(op, status)
    r = _get(emu, path, tok, **params)
    assert r.status_code == status
    check(model, "GET", template, r)
    r = _get(emu, path, tok, **params)
    assert r.status_code == 200
    check(model, "GET", template, r)


@pytest.mark.parametrize("included", ["", "BUYER", INCLUDED])
def test_every_2026_order(check, emu, tok, included):
    params = {"createdAfter": EPOCH}
    if included:
        params["includedData"] = included
    r = _get(emu, "/orders/2026-01-01/orders", tok, **params)
    while True:
        assert r.status_code == 200
        check(V2026, "GET", "/orders/2026-01-01/orders", r)
        nt = r.json().get("pagination", {}).get("nextToken")
        if not nt:
            break
        extra = {"includedData": included} if included else {}
        r = _get(emu, "/orders/2026-01-01/orders", tok, paginationToken=nt, **extra)
    for rec in emu.orders[::20]:
        r = _get(emu, f"/orders/2026-01-01/orders/{rec.order_id}", tok, **({"includedData": included}
                                                                             if included else {}))
        check(V2026, "GET", "/orders/2026-01-01/orders/{orderId}", r)


@pytest.mark.parametrize("path, params, status", [
    ("/orders/2026-01-01/orders", {}, 400),
    ("/orders/2026-01-01/orders", {"createdAfter": "nope"}, 400),
    ("/orders/2026-01-01/orders/{orderId}", {}, 404),
    ("/orders/2026-01-01/orders/{orderId}", {"includedData": "ALL"}, 400),
])
def test_2026_errors(check, emu, tok, path, params, status):
    r = _get(emu, path.replace("{orderId}", "999-0000000-0000000"), tok, **params)
    assert r.status_code == status
    check(V2026, "GET", path, r)
    r = _get(emu, path.replace("{orderId}", "999-0000000-0000000"), None, **params)
    assert r.status_code == 403
    check(V2026, "GET", path, r)


def test_tokens(check, emu, tok):
    url = emu.url + "/tokens/2021-03-01/restrictedDataToken"
    template = "/tokens/2021-03-01/restrictedDataToken"
    body = {"restrictedResources": [{"method": "GET", "path": "/orders/v0/orders/{orderId}/address"}]}
    r = requests.post(url, json=body, headers={"x-amz-access-token": tok})
    assert r.status_code == 200
    check(TOKENS, "POST", template, r)
    for bad in ({}, {"restrictedResources": [{"method": "GET", "path": "/nope"}]}):
        r = requests.post(url, json=bad, headers={"x-amz-access-token": tok})
        assert r.status_code == 400
        check(TOKENS, "POST", template, r)
    r = requests.post(url, json=body)
    assert r.status_code == 403
    check(TOKENS, "POST", template, r)
    for status in (429, 500, 503):
        emu.fail_next("createRestrictedDataToken", status)
        r = requests.post(url, json=body, headers={"x-amz-access-token": tok})
        assert r.status_code == status
        check(TOKENS, "POST", template, r)


def test_sellers(check, emu, tok):
    for template in ("/sellers/v1/marketplaceParticipations", "/sellers/v1/account"):
        r = _get(emu, template, tok)
        assert r.status_code == 200
        check(SELLERS, "GET", template, r)
        r = _get(emu, template, "Atza|bogus")
        assert r.status_code == 403
        check(SELLERS, "GET", template, r)


def test_not_found_body_has_error_shape(models, emu, tok):
    r = _get(emu, "/nothing/here", tok)
    assert r.status_code == 404
    errors = Draft4Validator({"$ref": "#/definitions/ErrorList", **models(V2026)})
    assert not list(errors.iter_errors(r.json()))


def _pages(emu, tok, path, token_param, params):
    r = _get(emu, path, tok, **params)
    while True:
        yield r
        nt = r.json().get("pagination", {}).get("nextToken")
        if not nt:
            return
        r = _get(emu, path, tok, **{token_param: nt}, **params)


@pytest.mark.parametrize("model, version, parts", [
    (CAT22, "2022-04-01", "attributes,classifications,dimensions,identifiers,images,productTypes,relationships,"
                          "salesRanks,summaries,vendorDetails"),
    (CAT20, "2020-12-01", "identifiers,images,productTypes,salesRanks,summaries,variations,vendorDetails"),
])
def test_every_catalog_answer(check, emu, tok, model, version, parts):
    search, item = f"/catalog/{version}/items", f"/catalog/{version}/items/{{asin}}"
    for mp in ALL.split(","):
        pages = _pages(emu, tok, search, "pageToken", {"keywords": "Trailhead", "marketplaceIds": mp, "pageSize": 20,
                                                       "includedData": parts})
        for r in itertools.islice(pages, 2):  # products, parents and catalog-only items
            assert r.status_code == 200
            check(model, "GET", search, r)
    get_parts = parts if version == "2022-04-01" else "attributes," + parts
    for product in emu.dataset.products[::9]:
        r = _get(emu, item.replace("{asin}", product.asin), tok, marketplaceIds=ALL, includedData=get_parts)
        assert r.status_code == 200
        check(model, "GET", item, r)
    for path, template, params, status in (
            (search, search, {"marketplaceIds": US}, 400),
            (search, search, {"keywords": "usb", "marketplaceIds": US, "includedData": "nope"}, 400),
            (item.replace("{asin}", "B000000000"), item, {"marketplaceIds": US}, 404)):
        r = _get(emu, path, tok, **params)
        assert r.status_code == status
        check(model, "GET", template, r)
        r = _get(emu, path, None, **params)
        assert r.status_code == 403
        check(model, "GET", template, r)


def test_every_fba_answer(check, emu, tok):
    template = "/fba/inventory/v1/summaries"
    for mp in ALL.split(","):
        for details in ("true", "false"):
            query = {"granularityType": "Marketplace", "granularityId": mp, "marketplaceIds": mp, "details": details}
            for r in _pages(emu, tok, template, "nextToken", query):
                assert r.status_code == 200
                check(FBA, "GET", template, r)
    for params in ({**FBA_QUERY, "granularityId": "A1PA6795UKMFR9"}, {"marketplaceIds": US}):
        r = _get(emu, template, tok, **params)
        assert r.status_code == 400
        check(FBA, "GET", template, r)
    r = _get(emu, template, None, **FBA_QUERY)
    assert r.status_code == 403
    check(FBA, "GET", template, r)


@pytest.mark.parametrize("granularity", ["Hour", "Day", "Week", "Month", "Year", "Total"])
def test_every_sales_answer(check, emu, tok, granularity):
    template = "/sales/v1/orderMetrics"
    interval = ("2025-12-25T00:00:00-08:00--2026-01-01T00:00:00-08:00" if granularity == "Hour"
                else "2024-03-01T00:00:00Z--2026-01-01T00:00:00Z")
    params = {"marketplaceIds": US, "interval": interval, "granularity": granularity}
    if granularity != "Hour":
        params["granularityTimeZone"] = "UTC"
    r = _get(emu, template, tok, **params)
    assert r.status_code == 200
    check(SALES, "GET", template, r)
    r = _get(emu, template, tok, **{**params, "granularity": "Decade"})
    assert r.status_code == 400
    check(SALES, "GET", template, r)
    r = _get(emu, template, None, **params)
    assert r.status_code == 403
    check(SALES, "GET", template, r)
