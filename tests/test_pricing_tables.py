"""Product Pricing v0 and 2022-05-01: the emulator's batch and list operations (bodies checked as Amazon checks
them, every answer valid against the models) and the tables, which agree with each other and with the seller's
listings: the seller's own offer is at its list price, every API names the same featured offer, the featured offer
expected price is what it takes to win it, and an item Amazon cannot answer is a row, not a gap."""

from __future__ import annotations

from typing import Any

import pytest
import requests
import spapi_models as sm
from emu_helpers import lwa_token

from sqlspapi.emulator import start
from sqlspapi.emulator.money import list_price
from sqlspapi.emulator.offers import competition
from sqlspapi.emulator.pools import MARKETS_BY_ID
from sqlspapi.emulator.sellers import SELLER_ID

US, CA, JP = "ATVPDKIKX0DER", "A2EUQ1WTGCTBG2", "A1VC38T7YXB528"
V0, V22 = "product-pricing-v0.json", "product-pricing-2022-05-01.json"
ITEMS = "/batches/products/pricing/v0/itemOffers"
LISTINGS = "/batches/products/pricing/v0/listingOffers"
SUMMARY = "/batches/products/pricing/2022-05-01/items/competitiveSummary"
FOEP = "/batches/products/pricing/2022-05-01/offer/featuredOfferExpectedPrice"
EMULATOR, MARKETPLACES = {"time_scale": 5000}, "US,JP"  # for the ``emu`` and ``db`` fixtures of conftest.py


@pytest.fixture(scope="module")
def fast():
    """An emulator for raw calls in quick succession (its clock fast enough for the 2022 usage plans: 1 per 30 s)."""
    e = start(time_scale=1e6, orders=200)
    yield e
    e.stop()


@pytest.fixture(scope="module")
def api(fast):
    token = lwa_token(fast)

    def call(method: str, path: str, body: Any = None, **params: Any) -> requests.Response:
        return requests.request(method, fast.url + path, json=body, params=params, timeout=10,
                                headers={"x-amz-access-token": token})
    return call


def asins(emu, n: int) -> list[str]:
    return [p.asin for p in emu.dataset.products[:n]]


def item(asin: str, marketplace: str = US, **extra: Any) -> dict[str, Any]:
    return {"uri": f"/products/pricing/v0/items/{asin}/offers", "method": "GET", "MarketplaceId": marketplace,
            "ItemCondition": "New", **extra}


def summary(asin: str, marketplace: str = US, **extra: Any) -> dict[str, Any]:
    return {"asin": asin, "marketplaceId": marketplace, "includedData": ["featuredBuyingOptions", "referencePrices",
            "lowestPricedOffers", "similarItems"], "method": "GET", "uri": SUMMARY.removeprefix("/batches"), **extra}


def foep(sku: str, marketplace: str = US) -> dict[str, Any]:
    return {"uri": FOEP.removeprefix("/batches"), "method": "GET", "marketplaceId": marketplace, "sku": sku}


# ---------------------------------------------------------------------------------------------- the emulator
def test_batch_answers_validate_against_the_models(api, emu, models_dir) -> None:
    a = asins(emu, 3)
    answer = api("POST", ITEMS, {"requests": [item(a[0]), item(a[1], CA, CustomerType="Business"), item("B0NOPE"),
                                              item(a[2], "A1AM78C64UM0Y8"), item(a[0], ItemCondition="Used")]})
    sm.check_response(models_dir, V0, "POST", ITEMS, 200, answer.json())
    assert [r["status"]["statusCode"] for r in answer.json()["responses"]] == [200, 200, 404, 400, 200]
    listing = {"uri": "/products/pricing/v0/listings/SKU-001-BLA/offers", "method": "GET", "MarketplaceId": JP,
               "ItemCondition": "New"}
    unknown = {**listing, "uri": "/products/pricing/v0/listings/X/offers"}
    answer = api("POST", LISTINGS, {"requests": [listing, unknown]})
    sm.check_response(models_dir, V0, "POST", LISTINGS, 200, answer.json())
    assert answer.json()["responses"][0]["body"]["payload"]["SKU"] == "SKU-001-BLA"
    answer = api("POST", SUMMARY, {"requests": [summary(a[0]), summary("B0NOPE"),
                                                summary(a[1], lowestPricedOffersInputs=[
                                                    {"itemCondition": "Used", "offerType": "Consumer"}])]})
    sm.check_response(models_dir, V22, "POST", SUMMARY, 200, answer.json())
    answer = api("POST", FOEP, {"requests": [foep(p.sku) for p in emu.dataset.products[:40]]})
    sm.check_response(models_dir, V22, "POST", FOEP, 200, answer.json())
    statuses = {r["body"]["featuredOfferExpectedPriceResults"][0]["resultStatus"] for r in answer.json()["responses"]}
    assert statuses == {"VALID_FOEP", "NO_COMPETING_OFFER"}


def test_list_answers_validate_against_the_model(api, emu, models_dir) -> None:
    for path in ("/products/pricing/v0/competitivePrice", "/products/pricing/v0/price"):
        answer = api("GET", path, MarketplaceId=US, ItemType="Asin", Asins=",".join([*asins(emu, 2), "B0NOPE"]))
        assert answer.status_code == 200, answer.text
        sm.check_response(models_dir, V0, "GET", path, 200, answer.json())
        assert [p["status"] for p in answer.json()["payload"]] == ["Success", "Success", "ClientError"]
        bad = api("GET", path, MarketplaceId=US, ItemType="Sku", Skus=",".join(f"S{n}" for n in range(21)))
        assert bad.status_code == 400 and "at most 20" in bad.json()["errors"][0]["message"]
        sm.check_response(models_dir, V0, "GET", path, 400, bad.json())


@pytest.mark.parametrize(("path", "body", "words"), [
    (ITEMS, {"requests": []}, "at least one"),
    (ITEMS, {"requests": [item("B0A")] * 21}, "at most 20"),
    (ITEMS, [item("B0A")], "requests must be a list"),
    (ITEMS, {"requests": [{k: v for k, v in item("B0A").items() if k != "ItemCondition"}]}, "ItemCondition"),
    (ITEMS, {"requests": [item("B0A", ItemCondition="Mint")]}, "ItemCondition 'Mint'"),
    (ITEMS, {"requests": [item("B0A", method="POST")]}, "method 'POST'"),
    (ITEMS, {"requests": [item("B0A", uri="/products/pricing/v0/listings/B0A/offers")]}, "item's offers"),
    (LISTINGS, {"requests": [item("B0A")]}, "listing's offers"),
    (SUMMARY, {"requests": [summary("B0A")] * 21}, "at most 20"),
    (SUMMARY, {"requests": [summary("B0A", includedData=[])]}, "includedData"),
    (SUMMARY, {"requests": [summary("B0A", uri="/elsewhere")]}, "uri must be"),
    (SUMMARY, {"requests": [summary("B0A", lowestPricedOffersInputs=[{"itemCondition": "New"}])]}, "offerType"),
    (FOEP, {"requests": [foep("S")] * 41}, "at most 40"),
    (FOEP, {"requests": [{k: v for k, v in foep("S").items() if k != "sku"}]}, "sku"),
])
def test_batch_bodies_are_checked_as_amazon_does(api, models_dir, path: str, body: Any, words: str) -> None:
    answer = api("POST", path, body)
    assert answer.status_code == 400, answer.text
    sm.check_response(models_dir, V22 if "2022" in path else V0, "POST", path, 400, answer.json())
    assert words in answer.json()["errors"][0]["message"]


# ---------------------------------------------------------------------------------------------- the tables
def test_own_offers_are_at_the_list_price_in_every_api(db, emu) -> None:
    data = emu.dataset
    for mp in (US, JP):
        market = MARKETS_BY_ID[mp]
        scale = 1 if market.decimals == 0 else 100
        listed = dict(db.connection.execute(
            f"SELECT seller_sku, price FROM merchant_listings_all_data WHERE marketplaceId = '{mp}'"))
        skus = ", ".join(f"'{p.sku}'" for p in data.products[:20])
        mine = dict(db.connection.execute(f"SELECT sku, listingPrice_amount FROM listing_offers WHERE sku IN ({skus}) "
                                          f"AND marketplaceId = '{mp}' AND myOffer"))
        own = dict(db.connection.execute(f"SELECT sku, listingPrice_amount FROM pricing WHERE sku IN ({skus}) AND "
                                         f"marketplaceId = '{mp}'"))
        for p in data.products[:20]:
            price = list_price(p, market)
            assert round(listed[p.sku] * scale) == round(mine[p.sku] * scale) == round(own[p.sku] * scale) == price


def test_every_api_names_the_same_featured_offer(db, emu) -> None:
    products = emu.dataset.products[:20]
    asin_list = ", ".join(f"'{p.asin}'" for p in products)
    sku_list = ", ".join(f"'{p.sku}'" for p in products)
    where = f"marketplaceId = '{US}'"
    offers = dict(db.connection.execute(f"SELECT asin, sellerId FROM item_offers WHERE asin IN ({asin_list}) AND "
                                        f"{where} AND isBuyBoxWinner"))
    pricing = dict(db.connection.execute(f"SELECT asin, buyBox_sellerId FROM competitive_pricing WHERE asin IN "
                                         f"({asin_list}) AND {where}"))
    summaries = dict(db.connection.execute(f"SELECT asin, featuredOffer_sellerId FROM competitive_summary WHERE asin "
                                           f"IN ({asin_list}) AND {where}"))
    expected = {r[0]: r[1:] for r in db.connection.execute(
        "SELECT asin, currentFeaturedOffer_sellerId, resultStatus, featuredOfferExpectedPrice_amount FROM "
        f"featured_offer_expected_price WHERE sku IN ({sku_list}) AND {where}")}
    market = MARKETS_BY_ID[US]
    for p in products:
        c = competition(emu.dataset, p, market)
        assert c.featured is not None
        assert offers[p.asin] == pricing[p.asin] == summaries[p.asin] == expected[p.asin][0] == c.featured.seller_id
        featured_now, status, foep_amount = expected[p.asin]
        if c.rival is None:
            assert (status, foep_amount) == ("NO_COMPETING_OFFER", None)
            assert featured_now == SELLER_ID
        else:
            assert status == "VALID_FOEP" and round(foep_amount * 100) == c.rival.landed
            assert (featured_now == SELLER_ID) == (c.own.landed <= c.rival.landed), "at or below the FOEP: featured"


def test_offer_rows_explode_with_the_summary_on_each(db, emu) -> None:
    p = emu.dataset.products[0]
    rows = db.connection.execute(
        "SELECT sellerId, myOffer, listingPrice_amount + shipping_amount, totalOfferCount, isBuyBoxWinner FROM "
        f"item_offers WHERE asin = '{p.asin}' AND marketplaceId = '{US}'").fetchall()
    c = competition(emu.dataset, p, MARKETS_BY_ID[US])
    assert [r[0] for r in rows] == [o.seller_id for o in c.of("New")]
    assert [round(r[2] * 100) for r in rows] == sorted(o.landed for o in c.of("New")), "lowest landed price first"
    assert {r[3] for r in rows} == {len(c.of("New"))} and sum(r[4] for r in rows) == 1


def test_an_item_amazon_cannot_answer_is_a_row(db, emu) -> None:
    real = emu.dataset.products[0]
    for sql in (f"SELECT asin, statusCode, errors FROM competitive_summary WHERE asin IN ('{real.asin}', 'B0NOPE') "
                f"AND marketplaceId = '{US}' ORDER BY asin",
                f"SELECT sku, statusCode, errors FROM featured_offer_expected_price WHERE sku IN ('{real.sku}', "
                f"'NOPE') AND marketplaceId = '{US}' ORDER BY sku DESC",
                f"SELECT asin, statusCode, errors FROM item_offers WHERE asin IN ('{real.asin}', 'B0NOPE') "
                f"AND marketplaceId = '{US}' GROUP BY asin ORDER BY asin"):
        found, missing = db.connection.execute(sql).fetchall()
        assert found[1] == 200 and found[2] is None, sql
        assert missing[1] == 404 and "not found" in missing[2], sql
    rows = db.connection.execute(f"SELECT asin, status, buyBox_sellerId FROM competitive_pricing WHERE asin IN "
                                 f"('{real.asin}', 'B0NOPE') AND marketplaceId = '{US}' ORDER BY asin").fetchall()
    assert [r[:2] for r in rows] == [(real.asin, "Success"), ("B0NOPE", "ClientError")]


def test_offers_join_the_inventory_on_asin_and_marketplace(db) -> None:
    rows = db.connection.execute(
        "SELECT f.sellerSku, o.listingPrice_amount FROM fba_inventory_summaries f JOIN item_offers o "
        "ON o.asin = f.asin AND o.marketplaceId = f.marketplaceId AND o.myOffer "
        f"WHERE f.marketplaceId = '{JP}' AND f.sellerSku IN ('SKU-001-BLA', 'SKU-002-BLA')").fetchall()
    assert sorted(r[0] for r in rows) == ["SKU-001-BLA", "SKU-002-BLA"]
    assert all(isinstance(r[1], float) and r[1] == int(r[1]) for r in rows), "whole yen"
