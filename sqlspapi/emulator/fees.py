"""Product Fees API v0: getMyFeesEstimates, Amazon's fees by :func:`sqlspapi.emulator.money.fees_for` (so an estimate
at a SKU's list price equals the fees Finances posts for a unit sold at that price).

The body is a JSON array of 1 to 20 ``FeesEstimateByIdRequest`` objects (Amazon's documented limit; the model
states none): each needs ``IdType`` (ASIN or SellerSKU), ``IdValue`` and a ``FeesEstimateRequest`` with
``MarketplaceId``, ``Identifier`` and ``PriceToEstimateFees.ListingPrice`` (``CurrencyCode`` and a number
``Amount``); a body that breaks this is a 400 for the whole call. An estimate the seller cannot have — an ASIN or
SKU it does not sell, a marketplace it does not sell in, a currency other than the marketplace's, a negative
price — is a result with ``Status`` ``ClientError`` and its ``Error``, beside the others.

The fee details: ReferralFee, VariableClosingFee, PerItemFee and, for Amazon-fulfilled estimates, FBAFees (with
its pick & pack part). ``FeesEstimateIdentifier.SellerInputIdentifier`` echoes the request's ``Identifier``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlspapi.emulator.common import Request, Response, invalid
from sqlspapi.emulator.data import Dataset, iso
from sqlspapi.emulator.generic import Endpoint
from sqlspapi.emulator.money import fees_for
from sqlspapi.emulator.offers import find, market_of, money
from sqlspapi.emulator.pools import Market
from sqlspapi.emulator.sellers import SELLER_ID

#: Estimates one getMyFeesEstimates call takes (Amazon's documentation: "up to 20").
MAX_ESTIMATES = 20
ID_TYPES = ("ASIN", "SellerSKU")
PROGRAMS = ("FBA_CORE", "FBA_SNL", "FBA_EFN")


def _money_field(value: Any, where: str, required: bool) -> None:
    """400 unless ``value`` is a ``MoneyType`` with a currency code and a number amount."""
    if value is None and not required:
        return
    if not isinstance(value, dict) or not isinstance(value.get("CurrencyCode"), str) \
            or not isinstance(value.get("Amount"), int | float) or isinstance(value.get("Amount"), bool):
        raise invalid(f"Invalid request body: {where} must be an object with CurrencyCode and a number Amount.")


def _check(body: Any) -> list[dict[str, Any]]:
    """The estimate requests of a body (400 for the whole call when it is not a list of well-formed ones)."""
    if not isinstance(body, list) or not body:
        raise invalid("Invalid request body: expected a JSON array of at least one FeesEstimateByIdRequest.")
    if len(body) > MAX_ESTIMATES:
        raise invalid(f"Invalid request body: {len(body)} estimates requested; at most {MAX_ESTIMATES} per call.")
    for n, item in enumerate(body):
        where = f"[{n}]"
        if not isinstance(item, dict):
            raise invalid(f"Invalid request body: {where} must be an object.")
        if item.get("IdType") not in ID_TYPES:
            raise invalid(f"Invalid request body: {where}.IdType must be one of {', '.join(ID_TYPES)}.")
        request = item.get("FeesEstimateRequest")
        if not isinstance(item.get("IdValue"), str) or not item["IdValue"] or not isinstance(request, dict):
            raise invalid(f"Invalid request body: {where} needs IdValue and FeesEstimateRequest.")
        for name in ("MarketplaceId", "Identifier"):
            if not isinstance(request.get(name), str) or not request[name]:
                raise invalid(f"Invalid request body: {where}.FeesEstimateRequest.{name} is required.")
        if "IsAmazonFulfilled" in request and not isinstance(request["IsAmazonFulfilled"], bool):
            raise invalid(f"Invalid request body: {where}.FeesEstimateRequest.IsAmazonFulfilled must be a boolean.")
        if request.get("OptionalFulfillmentProgram", "FBA_CORE") not in PROGRAMS:
            raise invalid(f"Invalid request body: {where}.FeesEstimateRequest.OptionalFulfillmentProgram must be one "
                          f"of {', '.join(PROGRAMS)}.")
        prices = request.get("PriceToEstimateFees")
        if not isinstance(prices, dict):
            raise invalid(f"Invalid request body: {where}.FeesEstimateRequest.PriceToEstimateFees is required.")
        _money_field(prices.get("ListingPrice"), f"{where}...ListingPrice", True)
        _money_field(prices.get("Shipping"), f"{where}...Shipping", False)
    return body


def _minor(value: float, market: Market) -> int:
    """A JSON amount in the marketplace's minor units."""
    return int(round(value)) if market.decimals == 0 else int(round(value * 100))


def _detail(fee_type: str, minor: int, market: Market, included: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """A ``FeeDetail`` (no promotion, no tax: the final fee is the fee)."""
    out = {"FeeType": fee_type, "FeeAmount": money(minor, market), "FeePromotion": money(0, market),
           "TaxAmount": money(0, market), "FinalFee": money(minor, market)}
    if included:
        out["IncludedFeeDetailList"] = included
    return out


def estimate(data: Dataset, item: dict[str, Any], now: datetime) -> dict[str, Any]:
    """One ``FeesEstimateResult``: the fees, or a ``ClientError`` saying what is wrong with the request."""
    request = item["FeesEstimateRequest"]
    prices = request["PriceToEstimateFees"]
    afn = request.get("IsAmazonFulfilled", False)
    identifier: dict[str, Any] = {
        "MarketplaceId": request["MarketplaceId"], "SellerId": SELLER_ID, "IdType": item["IdType"],
        "IdValue": item["IdValue"], "IsAmazonFulfilled": afn, "PriceToEstimateFees": prices,
        "SellerInputIdentifier": request["Identifier"]}
    market = market_of(request["MarketplaceId"])
    product = find(data, asin=item["IdValue"]) if item["IdType"] == "ASIN" else find(data, sku=item["IdValue"])
    shipping = prices.get("Shipping") or {"CurrencyCode": prices["ListingPrice"]["CurrencyCode"], "Amount": 0}
    problem = None
    if market is None:
        problem = f"The seller does not sell in marketplace {request['MarketplaceId']}."
    elif product is None:
        problem = f"The {item['IdType']} {item['IdValue']} is not in the seller's catalog."
    elif {prices["ListingPrice"]["CurrencyCode"], shipping["CurrencyCode"]} != {market.currency}:
        problem = f"The currency must be {market.currency} in marketplace {market.id}."
    elif prices["ListingPrice"]["Amount"] < 0 or shipping["Amount"] < 0:
        problem = "The price and the shipping must not be negative."
    if problem is not None or market is None or product is None:
        return {"Status": "ClientError", "FeesEstimateIdentifier": identifier,
                "Error": {"Type": "Sender", "Code": "InvalidParameterValue", "Message": problem, "Detail": []}}
    fees = fees_for(product, market, _minor(prices["ListingPrice"]["Amount"], market),
                    _minor(shipping["Amount"], market), afn)
    details = [_detail("ReferralFee", fees.referral, market), _detail("VariableClosingFee", fees.closing, market),
               _detail("PerItemFee", fees.per_item, market)]
    if afn:
        details.append(_detail("FBAFees", fees.fba, market, [_detail("FBAPickAndPack", fees.fba, market)]))
    return {"Status": "Success", "FeesEstimateIdentifier": identifier,
            "FeesEstimate": {"TimeOfFeesEstimation": iso(now), "TotalFeesEstimate": money(fees.total, market),
                             "FeeDetailList": details}}


def get_my_fees_estimates(req: Request) -> Response:
    """POST /products/fees/v0/feesEstimate."""
    items = _check(req.json_body())
    now = datetime.now(UTC)
    return Response(200, [estimate(req.data, item, now) for item in items])


#: No export: an estimate depends on the price the request gives (the differential tests compare no copy).
ENDPOINTS = (Endpoint("fees", "v0", "getMyFeesEstimates", get_my_fees_estimates),)
