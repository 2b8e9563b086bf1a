"""The Listings Items tables as a seller uses them, against the emulator: what reaches the API (includedData from the
columns, SKU batches, the seller in the path), the SellerId a connection must give, and listings that agree with
the FBA inventory, the catalog, the money model and the merchant listings report. Every answer of the emulator's
searchListingsItems validates against Amazon's model."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
import requests
from spapi_models import check_response

from sqlspapi.emulator import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_REFRESH_TOKEN, start
from sqlspapi.emulator.data import Dataset
from sqlspapi.emulator.listings_items import PARTS
from sqlspapi.emulator.money import list_price
from sqlspapi.emulator.pools import MARKETS_BY_ID
from sqlspapi.engine import open_database
from sqlspapi.errors import ConnectionStringError, SPAPIError

MODEL = "listings-items-2021-08-01.json"
TEMPLATE = "/listings/2021-08-01/items/{sellerId}"
US, DE, JP = "ATVPDKIKX0DER", "A1PA6795UKMFR9", "A1VC38T7YXB528"
ANCHOR = datetime(2026, 11, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def emulator():
    emu = start(time_scale=5000, anchor=ANCHOR)  # report downloads' URLs live 5 emulator minutes
    yield emu
    emu.stop()


@pytest.fixture(scope="module")
def db(emulator):
    """The seller's database: three marketplaces, SellerId set."""
    database = open_database(emulator.connection_string(MarketplaceIds="US,DE,JP", SellerId=emulator.seller_id),
                             poll_scale=1 / emulator.time_scale)
    yield database
    database.close()


@pytest.fixture(scope="module")
def data(emulator) -> Dataset:
    return emulator.dataset


@pytest.fixture(scope="module")
def token(emulator) -> str:
    answer = requests.post(emulator.token_url, data={"grant_type": "refresh_token", "client_id": DEMO_CLIENT_ID,
                                                     "client_secret": DEMO_CLIENT_SECRET,
                                                     "refresh_token": DEMO_REFRESH_TOKEN}, timeout=10)
    return answer.json()["access_token"]


def search(emulator, token: str, seller: str | None = None, **params: object) -> requests.Response:
    path = TEMPLATE.replace("{sellerId}", seller or emulator.seller_id)
    return requests.get(emulator.url + path, params=params, headers={"x-amz-access-token": token}, timeout=10)


def rows(db, sql: str, *args: object) -> list[tuple]:
    return db.connection.execute(sql, args).fetchall()


def calls(db) -> list[dict]:
    return [c.params for c in db.last_calls() if c.operation == "searchListingsItems"]


# -- the emulator's API --------------------------------------------------------------------------------------------
def test_answers_validate_against_the_model(emulator, token, models_dir) -> None:
    every = ",".join(PARTS)
    cases = [
        {"marketplaceIds": US},
        {"marketplaceIds": JP, "includedData": every, "pageSize": 20},
        {"marketplaceIds": f"{US},{DE}", "includedData": every, "identifiers": "SKU-001-BLA,SKU-006-WHI",
         "identifiersType": "SKU"},
        {"marketplaceIds": DE, "includedData": "issues,summaries", "withIssueSeverity": "ERROR"},
        {"marketplaceIds": "A13V1IB3VIYZZH"},  # a marketplace the seller does not sell in: no items
    ]
    for params in cases:
        answer = search(emulator, token, **params)
        assert answer.status_code == 200, answer.text
        check_response(models_dir, MODEL, "GET", TEMPLATE, 200, answer.json())
    refused = search(emulator, token, marketplaceIds=US, identifiers="SKU-001-BLA")
    assert refused.status_code == 400
    check_response(models_dir, MODEL, "GET", TEMPLATE, 400, refused.json())
    denied = search(emulator, token, "A2OTHERSELLER", marketplaceIds=US)
    assert denied.status_code == 403
    check_response(models_dir, MODEL, "GET", TEMPLATE, 403, denied.json())


@pytest.mark.parametrize(("params", "words"), [
    ({"identifiers": "SKU-001-BLA"}, "identifiersType"),
    ({"identifiersType": "SKU"}, "identifiers"),
    ({"identifiers": "SKU-001-BLA", "identifiersType": "SKU", "variationParentSku": "P"}, "variationParentSku"),
    ({"variationParentSku": "P", "packageHierarchySku": "Q"}, "packageHierarchySku"),
    ({"pageSize": 21}, "pageSize"),
    ({"identifiers": ",".join(f"S{n}" for n in range(21)), "identifiersType": "SKU"}, "20"),
    ({"withStatus": "ACTIVE"}, "withStatus"),
])
def test_the_models_rules_are_enforced(emulator, token, params, words) -> None:
    answer = search(emulator, token, marketplaceIds=US, **params)
    assert answer.status_code == 400, answer.text
    assert words in answer.json()["errors"][0]["message"]


def test_pages_sort_and_tokens_as_amazon(emulator, token) -> None:
    first = search(emulator, token, marketplaceIds=US).json()
    assert first["numberOfResults"] == 60 and len(first["items"]) == 10  # the default page
    updated = [i["summaries"][0]["lastUpdatedDate"] for i in first["items"]]
    assert updated == sorted(updated, reverse=True)  # default: lastUpdatedDate DESC
    second = search(emulator, token, marketplaceIds=US, pageToken=first["pagination"]["nextToken"]).json()
    back = search(emulator, token, marketplaceIds=US, pageToken=second["pagination"]["previousToken"]).json()
    assert back["items"] == first["items"]
    other = search(emulator, token, marketplaceIds=DE, pageToken=first["pagination"]["nextToken"])
    assert other.status_code == 400 and "same parameters" in other.json()["errors"][0]["message"]
    by_sku = search(emulator, token, marketplaceIds=US, sortBy="sku", sortOrder="ASC", pageSize=20).json()
    skus = [i["sku"] for i in by_sku["items"]]
    assert skus == sorted(skus)


# -- what reaches the API ------------------------------------------------------------------------------------------
def test_included_data_is_chosen_from_the_columns(db) -> None:
    wanted = {
        "SELECT sku FROM listings_items WHERE marketplaceId = 'ATVPDKIKX0DER'": "summaries",
        "SELECT sku, price_amount FROM listings_items WHERE marketplaceId = 'ATVPDKIKX0DER'": "offers",
        "SELECT quantity, issues FROM listings_items WHERE marketplaceId = 'ATVPDKIKX0DER'":
            "fulfillmentAvailability,issues",
        "SELECT * FROM listings_items WHERE marketplaceId = 'ATVPDKIKX0DER'":
            "attributes,fulfillmentAvailability,issues,offers,procurement,relationships,summaries",
        "SELECT code FROM listings_item_issues WHERE marketplaceId = 'ATVPDKIKX0DER'": "issues,summaries",
    }
    for sql, parts in wanted.items():
        assert rows(db, sql), sql
        sent = calls(db)
        assert sent and {c["includedData"] for c in sent} == {parts}, sql


def test_sku_in_list_is_batched_20_per_call_per_marketplace(db, data) -> None:
    skus = [p.sku for p in data.products[:45]]
    marks = ",".join("?" * len(skus))
    got = rows(db, f"SELECT sku, marketplaceId FROM listings_items WHERE sku IN ({marks}) "
                   "AND marketplaceId IN ('ATVPDKIKX0DER', 'A1PA6795UKMFR9')", *skus)
    assert sorted(got) == sorted((s, m) for s in skus for m in (US, DE))
    sent = calls(db)
    for market in (US, DE):
        assert [len(c["identifiers"].split(",")) for c in sent if c["marketplaceIds"] == market] == [20, 20, 5]
    assert len(sent) == 6
    assert {c["identifiersType"] for c in sent} == {"SKU"}
    assert sorted(s for c in sent if c["marketplaceIds"] == US for s in c["identifiers"].split(",")) == sorted(skus)


def test_limit_on_a_child_table_counts_its_rows_not_the_listings(db) -> None:
    """Most listings have no issue: LIMIT 5 on the issues still gives five issues (the listings' pages continue)."""
    every = rows(db, "SELECT sku, code FROM listings_item_issues WHERE marketplaceId = 'A1VC38T7YXB528'")
    assert len(every) > 5
    assert len(rows(db, "SELECT sku, code FROM listings_item_issues WHERE marketplaceId = 'A1VC38T7YXB528' "
                        "LIMIT 5")) == 5


# -- the seller --------------------------------------------------------------------------------------------------
def test_a_connection_without_seller_id_is_told_where_to_find_it_before_any_call(emulator) -> None:
    with open_database(emulator.connection_string(MarketplaceIds="US")) as plain:
        for table in ("listings_items", "listings_item_issues", "listings_item_offers",
                      "listings_item_fulfillment_availability"):
            with pytest.raises(ConnectionStringError) as err:
                rows(plain, f"SELECT * FROM {table}")
            text = str(err.value)
            assert "Seller Central → Settings → Account Info → Merchant Token" in text, text
            assert "SellerId=" in text and "merchant token" in text
            assert err.value.key == "SellerId"
            assert plain.last_calls() == []
        # the merchant token may also come from the query
        got = rows(plain, "SELECT sku FROM listings_items WHERE sellerId = ? AND sku = 'SKU-001-BLA'",
                   emulator.seller_id)
        assert got == [("SKU-001-BLA",)]
        assert [c.path for c in plain.last_calls()] == [f"/listings/2021-08-01/items/{emulator.seller_id}"]


def test_another_sellers_token_is_refused_by_amazon(emulator) -> None:
    with open_database(emulator.connection_string(MarketplaceIds="US", SellerId="A2OTHERSELLER",
                                                  RetryMode="None")) as other:
        with pytest.raises(SPAPIError) as err:
            rows(other, "SELECT sku FROM listings_items")
        assert err.value.status == 403


# -- agreement with the other APIs ---------------------------------------------------------------------------------
def test_quantities_fnsku_and_asin_agree_with_fba_inventory(db) -> None:
    got = rows(db, "SELECT l.sku, l.quantity, f.inventoryDetails_fulfillableQuantity, l.fnSku, f.fnSku, l.asin, "
                   "f.asin, l.fulfillmentChannelCode FROM listings_items l JOIN fba_inventory_summaries f "
                   "ON f.sellerSku = l.sku AND f.marketplaceId = l.marketplaceId "
                   "WHERE l.marketplaceId = 'A1PA6795UKMFR9' AND f.marketplaceId = 'A1PA6795UKMFR9'")
    assert len(got) == 60
    for sku, quantity, fulfillable, fn_sku, fba_fn_sku, asin, fba_asin, channel in got:
        assert (quantity, fn_sku, asin) == (fulfillable, fba_fn_sku, fba_asin), sku
        assert channel == "AMAZON_EU"


def test_asin_item_name_and_product_type_agree_with_the_catalog(db, data) -> None:
    skus = [p.sku for p in data.products[::20]]
    marks = ",".join("?" * len(skus))
    got = rows(db, "SELECT l.sku, l.asin, c.asin, l.itemName, c.itemName, l.productType, c.productType "
                   "FROM listings_items l JOIN catalog_items c "
                   "ON c.asin = l.asin AND c.marketplaceId = l.marketplaceId "
                   f"WHERE l.marketplaceId = 'A1VC38T7YXB528' AND l.sku IN ({marks})", *skus)
    assert len(got) == len(skus)
    for sku, asin, catalog_asin, name, catalog_name, kind, catalog_kind in got:
        assert (asin, name, kind) == (catalog_asin, catalog_name, catalog_kind), sku
        assert "（" in name  # the Japanese title


def test_prices_are_the_money_models_list_prices(db, data) -> None:
    products = {p.sku: p for p in data.products}
    got = rows(db, "SELECT sku, marketplaceId, offerType, price_amount, price_currencyCode, points_pointsNumber "
                   "FROM listings_item_offers")
    assert {(sku, mp) for sku, mp, *_ in got} == {(p, m) for p in products for m in (US, DE, JP)}
    for sku, mp, kind, amount, currency, points in got:
        market = MARKETS_BY_ID[mp]
        minor = list_price(products[sku], market)
        price = minor if kind == "B2C" else minor - max(1, minor // 20)
        assert amount == price / 10 ** market.decimals and currency == market.currency, (sku, mp, kind)
        assert points == (price // 100 if mp == JP else None)
    b2b = {sku for sku, _mp, kind, *_ in got if kind == "B2B"}
    assert 0 < len(b2b) < len(products)
    main = dict(((sku, mp), amount) for sku, mp, amount in rows(db, "SELECT sku, marketplaceId, price_amount "
                                                                     "FROM listings_items"))
    assert all(main[(sku, mp)] == amount for sku, mp, kind, amount, *_ in got if kind == "B2C")


def test_the_same_listings_as_the_merchant_listings_report(db) -> None:
    got = rows(db, "SELECT r.seller_sku, r.asin1 = l.asin, r.price = l.price_amount, r.quantity = l.quantity, "
                   "r.open_date = l.createdDate, r.status, l.status FROM merchant_listings_all_data r "
                   "JOIN listings_items l ON l.sku = r.seller_sku AND l.marketplaceId = r.marketplaceId "
                   "WHERE r.marketplaceId = 'ATVPDKIKX0DER'")
    assert len(got) == 60
    for sku, same_asin, same_price, same_quantity, same_date, report_status, status in got:
        assert (same_asin, same_price, same_quantity, same_date) == (1, 1, 1, 1), sku
        assert json.loads(status) == (["BUYABLE", "DISCOVERABLE"] if report_status == "Active" else []), sku


def test_suppressed_listings_have_an_error_issue_and_no_status(db) -> None:
    suppressed = rows(db, "SELECT sku, marketplaceId, status FROM listings_items WHERE withoutStatus = 'BUYABLE'")
    assert suppressed and all(status == "[]" for _sku, _mp, status in suppressed)
    assert sorted(calls(db)[0]) == ["includedData", "marketplaceIds", "pageSize", "sortBy", "sortOrder",
                                    "withoutStatus"]
    errors = rows(db, "SELECT sku, marketplaceId, code, exemptionStatus, enforcementActions FROM listings_item_issues "
                      "WHERE withIssueSeverity = 'ERROR' AND severity = 'ERROR'")
    removed = {(sku, mp) for sku, mp, _code, exemption, actions in errors
               if exemption == "NOT_EXEMPT" and json.loads(actions) == [{"action": "LISTING_SUPPRESSED"}]}
    assert removed == {(sku, mp) for sku, mp, _status in suppressed}
    exempt = [row for row in errors if row[3] == "EXEMPT_UNTIL_EXPIRY_DATE"]
    assert exempt and {mp for _sku, mp, *_ in exempt} == {JP}  # price alerts, exempt for now: still buyable
    buyable = {sku for (sku,) in rows(db, "SELECT sku FROM listings_items WHERE marketplaceId = ? "
                                          "AND withStatus = 'BUYABLE'", JP)}
    assert {sku for sku, *_ in exempt} <= buyable
