"""Product Pricing API 2022-05-01: getCompetitiveSummary and getFeaturedOfferExpectedPriceBatch over the
competitive offer model (:mod:`sqlspapi.emulator.offers`).

Batch bodies are checked as Amazon does (a 400 for the whole batch otherwise): ``getCompetitiveSummary`` takes 1 to
20 sub-requests, each with ``asin``, ``marketplaceId``, ``includedData`` (at least one of featuredBuyingOptions,
referencePrices, lowestPricedOffers, similarItems), ``method`` GET and the operation's own ``uri``, and at most 5
``lowestPricedOffersInputs``; ``getFeaturedOfferExpectedPriceBatch`` takes 1 to 40 (its description's limit), each
with ``uri``, ``method``, ``marketplaceId`` and ``sku``. An ASIN or SKU the seller does not have is a 404 inside the
batch, a marketplace it does not sell in a 400.

The competitive summary has only the parts asked for: the featured offer (by Prime and non-Prime segment), the
lowest priced New offers (at most 20, lowest landed price first), the reference prices (CompetitivePriceThreshold,
WasPrice) and the other variants of the product as similar items. The featured offer expected price is the lowest
landed price of an eligible competitor (``VALID_FOEP``), or ``NO_COMPETING_OFFER`` when there is none.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from sqlspapi.emulator.common import Request, Response, invalid
from sqlspapi.emulator.data import Dataset
from sqlspapi.emulator.generic import Endpoint, Row
from sqlspapi.emulator.offers import Competition, Offer, competition, find, market_of, money
from sqlspapi.emulator.pools import MARKETS
from sqlspapi.emulator.pricing_v0 import batch_requests, require, sub_status, unanswerable

SUMMARY_URI = "/products/pricing/2022-05-01/items/competitiveSummary"
FOEP_URI = "/products/pricing/2022-05-01/offer/featuredOfferExpectedPrice"
INCLUDED_DATA = ("featuredBuyingOptions", "referencePrices", "lowestPricedOffers", "similarItems")
CONDITIONS = ("New", "Used", "Collectible", "Refurbished", "Club")
#: Sub-requests one getFeaturedOfferExpectedPriceBatch call takes ("up to 40", its description says).
FOEP_MAX = 40


def _uri(sub: dict[str, Any], n: int, uri: str) -> None:
    if sub["uri"] != uri:
        raise invalid(f"Invalid request body: requests[{n}].uri must be {uri}, got {sub['uri']!r}.")


def _offer(o: Offer, c: Competition) -> dict[str, Any]:
    """An ``Offer``."""
    m = c.market
    return {"sellerId": o.seller_id, "condition": o.condition, "subCondition": o.sub_condition,
            "fulfillmentType": "AFN" if o.afn else "MFN", "listingPrice": money(o.price, m, pascal=False),
            "shippingOptions": [{"shippingOptionType": "DEFAULT", "price": money(o.shipping, m, pascal=False)}],
            "primeDetails": {"eligibility": "NATIONAL" if o.afn else "NONE"}}


def _summary(c: Competition, included: list[str], inputs: list[dict[str, Any]]) -> dict[str, Any]:
    """A ``CompetitiveSummaryResponseBody`` with the parts asked for."""
    m = c.market
    body: dict[str, Any] = {"asin": c.product.asin, "marketplaceId": m.id}
    if "featuredBuyingOptions" in included and c.featured is not None:
        segments = [{"customerMembership": member, "segmentDetails": {
            "glanceViewWeightPercentage": share,
            "sampleLocation": {"postalCode": {"countryCode": m.country_code, "value": "10001"}}}}
            for member, share in (("PRIME", 61.5), ("NON_PRIME", 38.5))]
        body["featuredBuyingOptions"] = [{"buyingOptionType": "New", "segmentedFeaturedOffers": [
            {**_offer(c.featured, c), "featuredOfferSegments": segments}]}]
    if "lowestPricedOffers" in included:
        found = []
        for want in inputs or [{"itemCondition": "New", "offerType": "Consumer"}]:
            offers = c.of(want["itemCondition"])[:20]
            if offers:
                found.append({"lowestPricedOffersInput": want, "offers": [_offer(o, c) for o in offers]})
        body["lowestPricedOffers"] = found
    if "referencePrices" in included:
        body["referencePrices"] = [
            {"name": "CompetitivePriceThreshold", "price": money(min(o.landed for o in c.offers), m, pascal=False)},
            {"name": "WasPrice", "price": money(c.msrp, m, pascal=False)}]
    if "similarItems" in included:
        body["similarItems"] = [{"items": [{"asin": a} for a in c.similar]}]
    return body


def summary_response(data: Dataset, sub: dict[str, Any]) -> dict[str, Any]:
    """One ``CompetitiveSummaryResponse``."""
    market, product = market_of(sub["marketplaceId"]), find(data, asin=sub["asin"])
    failed = unanswerable(market, sub["marketplaceId"], product, f"ASIN {sub['asin']!r}")
    if failed is not None:
        status, errors = failed
        return {"status": status, "body": {"asin": sub["asin"], "marketplaceId": sub["marketplaceId"],
                                           "errors": errors}}
    assert market is not None and product is not None
    body = _summary(competition(data, product, market), sub["includedData"], sub.get("lowestPricedOffersInputs", []))
    return {"status": sub_status(200), "body": body}


def get_competitive_summary(req: Request) -> Response:
    """POST /batches/products/pricing/2022-05-01/items/competitiveSummary."""
    subs = batch_requests(req, 20)
    for n, sub in enumerate(subs):
        require(sub, n, ("asin", "marketplaceId", "method", "uri"), {"method": ("GET",)})
        _uri(sub, n, SUMMARY_URI)
        included = sub.get("includedData")
        if not isinstance(included, list) or not included or any(i not in INCLUDED_DATA for i in included):
            raise invalid(f"Invalid request body: requests[{n}].includedData must list at least one of "
                          f"{', '.join(INCLUDED_DATA)}.")
        inputs = sub.get("lowestPricedOffersInputs", [])
        if not isinstance(inputs, list) or len(inputs) > 5 or any(
                not isinstance(i, dict) or i.get("itemCondition") not in CONDITIONS or i.get("offerType") != "Consumer"
                for i in inputs):
            raise invalid(f"Invalid request body: requests[{n}].lowestPricedOffersInputs takes at most 5 objects "
                          "with itemCondition and offerType Consumer.")
    return Response(200, {"responses": [summary_response(req.data, sub) for sub in subs]})


def _identifier(c: Competition, o: Offer, sku: str | None = None) -> dict[str, Any]:
    out = {"marketplaceId": c.market.id, "sellerId": o.seller_id, "asin": c.product.asin,
           "fulfillmentType": "AFN" if o.afn else "MFN"}
    return {**out, "sku": sku} if sku else out


def _featured(c: Competition, o: Offer) -> dict[str, Any]:
    """A ``FeaturedOffer``."""
    m = c.market
    return {"offerIdentifier": _identifier(c, o), "condition": o.condition,
            "price": {"listingPrice": money(o.price, m, pascal=False),
                      "shippingPrice": money(o.shipping, m, pascal=False)}}


def foep_response(data: Dataset, sub: dict[str, Any], n: int = 0) -> dict[str, Any]:
    """One ``FeaturedOfferExpectedPriceResponse``."""
    out: dict[str, Any] = {"headers": {"x-amzn-RequestId": f"emulator-sub-{n}"},
                           "request": {"marketplaceId": sub["marketplaceId"], "sku": sub["sku"]}}
    market, product = market_of(sub["marketplaceId"]), find(data, sku=sub["sku"])
    failed = unanswerable(market, sub["marketplaceId"], product, f"SKU {sub['sku']!r}")
    if failed is not None:
        status, errors = failed
        return {**out, "status": status, "body": {"errors": errors}}
    assert market is not None and product is not None
    c = competition(data, product, market)
    result: dict[str, Any] = {"resultStatus": "NO_COMPETING_OFFER"}
    if c.rival is not None:
        result = {"featuredOfferExpectedPrice": {"listingPrice": money(c.rival.landed, market, pascal=False)},
                  "resultStatus": "VALID_FOEP", "competingFeaturedOffer": _featured(c, c.rival)}
    if c.featured is not None:
        result["currentFeaturedOffer"] = _featured(c, c.featured)
    return {**out, "status": sub_status(200), "body": {
        "offerIdentifier": _identifier(c, c.own, product.sku), "featuredOfferExpectedPriceResults": [result]}}


def get_featured_offer_expected_price_batch(req: Request) -> Response:
    """POST /batches/products/pricing/2022-05-01/offer/featuredOfferExpectedPrice."""
    subs = batch_requests(req, FOEP_MAX)
    for n, sub in enumerate(subs):
        require(sub, n, ("uri", "method", "marketplaceId", "sku"), {"method": ("GET",)})
        _uri(sub, n, FOEP_URI)
    return Response(200, {"responses": [foep_response(req.data, sub, n) for n, sub in enumerate(subs)]})


def _export(render: Callable[[Dataset, dict[str, Any]], dict[str, Any]],
            key: str) -> Callable[[Dataset], Iterator[Row]]:
    """Every sub-response of the definition's sub-requests, with the inputs as its query."""
    def export(data: Dataset) -> Iterator[Row]:
        for m in MARKETS:
            for p in data.products:
                value = p.sku if key == "sku" else p.asin
                sub = {key: value, "marketplaceId": m.id, "includedData": list(INCLUDED_DATA),
                       "lowestPricedOffersInputs": [{"itemCondition": "New", "offerType": "Consumer"}]}
                yield render(data, sub), {key: value, "marketplaceId": m.id, "marketplaceIds": [m.id]}, {}
    return export


ENDPOINTS = (
    Endpoint("pricing", "2022-05-01", "getCompetitiveSummary", get_competitive_summary,
             export=_export(summary_response, "asin")),
    Endpoint("pricing", "2022-05-01", "getFeaturedOfferExpectedPriceBatch", get_featured_offer_expected_price_batch,
             export=_export(foep_response, "sku")),
)
