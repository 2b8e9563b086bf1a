"""Product Fees v0: the emulator's getMyFeesEstimates (bodies checked as Amazon checks them, answers valid against
the model) and the ``fees_estimates`` table: estimates at a SKU's list price equal the money model's fees (so they
agree with what Finances posts), failed estimates are rows, and the inputs say what is missing."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests
import spapi_models as sm
from emu_helpers import lwa_token

from sqlspapi.emulator.money import fees_for, list_price
from sqlspapi.emulator.pools import MARKETS_BY_ID
from sqlspapi.errors import MissingFilterError, ProgrammingError

US, JP = "ATVPDKIKX0DER", "A1VC38T7YXB528"
MODEL, PATH = "product-fees-v0.json", "/products/fees/v0/feesEstimate"
EMULATOR, MARKETPLACES = {"time_scale": 5000}, "US,JP"  # for the ``emu`` and ``db`` fixtures of conftest.py


@pytest.fixture(scope="module")
def post(emu):
    token = lwa_token(emu)

    def send(body: Any) -> requests.Response:
        return requests.post(emu.url + PATH, json=body, headers={"x-amz-access-token": token}, timeout=10)
    return send


def request(id_value: str = "SKU-001-BLA", amount: Any = 19.99, currency: str = "USD", marketplace: str = US,
            id_type: str = "SellerSKU", **extra: Any) -> dict[str, Any]:
    return {"IdType": id_type, "IdValue": id_value, "FeesEstimateRequest": {
        "MarketplaceId": marketplace, "Identifier": f"r-{id_value}", "IsAmazonFulfilled": True,
        "PriceToEstimateFees": {"ListingPrice": {"CurrencyCode": currency, "Amount": amount}}, **extra}}


# ---------------------------------------------------------------------------------------------- the emulator
def test_answers_validate_against_the_model(post, models_dir) -> None:
    answer = post([request(), request("NOPE"), request(marketplace="A1AM78C64UM0Y8", currency="MXN"),
                   request(amount=5, currency="EUR"), request("B0LFXCTNCS", id_type="ASIN")])
    assert answer.status_code == 200, answer.text
    sm.check_response(models_dir, MODEL, "POST", PATH, 200, answer.json())
    assert [r["Status"] for r in answer.json()] == ["Success", "ClientError", "ClientError", "ClientError", "Success"]
    assert [r["FeesEstimateIdentifier"]["SellerInputIdentifier"] for r in answer.json()][:2] == \
        ["r-SKU-001-BLA", "r-NOPE"]


@pytest.mark.parametrize(("body", "words"), [
    ([request()] * 21, "at most 20"),
    ([], "at least one"),
    ({"requests": [request()]}, "JSON array"),
    ([{**request(), "IdType": "UPC"}], "IdType"),
    ([{"IdType": "ASIN", "FeesEstimateRequest": request()["FeesEstimateRequest"]}], "IdValue"),
    ([{**request(), "FeesEstimateRequest": {"MarketplaceId": US, "Identifier": "x"}}], "PriceToEstimateFees"),
    ([request(amount="19.99")], "number Amount"),
    ([request() | {"FeesEstimateRequest": {**request()["FeesEstimateRequest"], "Identifier": ""}}], "Identifier"),
])
def test_bodies_are_checked_as_amazon_does(post, models_dir, body: Any, words: str) -> None:
    answer = post(body)
    assert answer.status_code == 400, answer.text
    sm.check_response(models_dir, MODEL, "POST", PATH, 400, answer.json())
    assert words in answer.json()["errors"][0]["message"]


# ---------------------------------------------------------------------------------------------- the table
def test_an_estimate_at_the_list_price_is_the_money_models_fees(db, emu) -> None:
    """Every SKU at its listing price (from the listings report) in US and JP: the fees Finances posts for it."""
    rows = {}
    for mp in (US, JP):
        sql = ("SELECT sku, price, totalFees_amount, ReferralFee_amount, FBAFees_amount, listingPrice_currencyCode "
               "FROM fees_estimates((SELECT json_group_array(json_object('identifier', seller_sku, 'price', price)) "
               f"FROM merchant_listings_all_data WHERE marketplaceId = '{mp}'), NULL, NULL, NULL, '{mp}')")
        rows[mp] = list(db.connection.execute(sql))
        assert db.last_calls()[-1].operation == "getMyFeesEstimates"
        assert sum(c.operation == "getMyFeesEstimates" for c in db.last_calls()) == 3, "60 SKUs: 3 calls of 20"
    data = emu.dataset
    for mp, found in rows.items():
        market = MARKETS_BY_ID[mp]
        scale = 1 if market.decimals == 0 else 100
        assert len(found) == len(data.products) == 60
        by_sku = {sku: rest for sku, *rest in found}
        for product in data.products:
            price = list_price(product, market)
            fees = fees_for(product, market, price)
            got_price, total, referral, fba, currency = by_sku[product.sku]
            assert round(got_price * scale) == price
            assert (round(total * scale), round(referral * scale), round(fba * scale)) == \
                (fees.total, fees.referral, fees.fba), product.sku
            assert currency == market.currency


def test_merchant_fulfilled_and_by_asin(db) -> None:
    row = db.connection.execute(
        "SELECT sku, asin, totalFees_amount, ReferralFee_amount, FBAFees_amount, shipping_amount "
        f"FROM fees_estimates('B0LFXCTNCS', 30, 5, 0, '{US}', 'asin')").fetchone()
    sku, asin, total, referral, fba, shipping = row
    assert (sku, asin, fba, shipping) == (None, "B0LFXCTNCS", None, 5.0)
    assert total == referral > 0, "no FBA fee when the seller ships"


def test_a_failed_estimate_is_a_row_saying_why(db) -> None:
    array = json.dumps([{"identifier": "SKU-001-BLA", "price": 19.99}, {"identifier": "NO-SUCH-SKU", "price": 5},
                        {"identifier": "SKU-001-WHI", "price": -1}])
    rows = db.connection.execute(f"SELECT sku, status, totalFees_amount, error_code, error_message FROM "
                                 f"fees_estimates('{array}', NULL, NULL, NULL, '{US}') ORDER BY sku").fetchall()
    assert [(r[0], r[1]) for r in rows] == [("NO-SUCH-SKU", "ClientError"), ("SKU-001-BLA", "Success"),
                                            ("SKU-001-WHI", "ClientError")]
    assert rows[0][2:4] == (None, "InvalidParameterValue") and "not in the seller's catalog" in rows[0][4]
    assert "negative" in rows[2][4]


def test_no_marketplace_means_each_of_the_connections_in_its_currency(db) -> None:
    rows = db.connection.execute("SELECT marketplaceId, listingPrice_currencyCode, status FROM "
                                 "fees_estimates('SKU-001-BLA', 2000) ORDER BY 1").fetchall()
    assert rows == [(JP, "JPY", "Success"), (US, "USD", "Success")]


def test_a_null_price_is_no_estimate_not_an_error(db) -> None:
    """As ``= NULL`` matches nothing: a pending order's item without a price has no estimate; the others do."""
    rows = db.connection.execute(
        "WITH l(sku, price) AS (VALUES ('SKU-001-BLA', 19.99), ('SKU-001-WHI', NULL)) SELECT l.sku, f.status FROM l "
        f"JOIN fees_estimates(l.sku, l.price) AS f WHERE f.marketplaceId = '{US}'").fetchall()
    assert rows == [("SKU-001-BLA", "Success")]
    array = json.dumps([{"identifier": "SKU-001-BLA", "price": 19.99}, {"identifier": "SKU-001-WHI", "price": None}])
    assert db.connection.execute(f"SELECT sku FROM fees_estimates('{array}', NULL, NULL, NULL, '{US}')").fetchall() \
        == [("SKU-001-BLA",)]


def test_missing_inputs_say_what_to_write(db) -> None:
    with pytest.raises(MissingFilterError, match="fees_estimates needs price"):
        db.connection.execute("SELECT * FROM fees_estimates('SKU-001-BLA')").fetchall()
    with pytest.raises(ProgrammingError, match=r"needs price for identifier 'B'.*json_group_array"):
        db.connection.execute("""SELECT * FROM fees_estimates('[{"identifier": "A", "price": 1}, "B"]')""").fetchall()
    with pytest.raises(ProgrammingError, match=r"'cost', which is not an input \(inputs: identifier, price"):
        db.connection.execute("""SELECT * FROM fees_estimates('[{"identifier": "A", "cost": 1}]')""").fetchall()
