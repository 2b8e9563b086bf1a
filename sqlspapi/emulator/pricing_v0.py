"""Product Pricing API v0: getItemOffersBatch, getListingOffersBatch, getCompetitivePricing and getPricing over the
competitive offer model (:mod:`sqlspapi.emulator.offers`).

Batch bodies are checked as Amazon does: ``requests`` holds 1 to 20 sub-requests, each with ``uri`` (the path of
getItemOffers / getListingOffers for one ASIN / SKU), ``method`` GET, ``MarketplaceId`` and ``ItemCondition`` (and
an optional ``CustomerType``) — anything else is a 400 for the whole batch. A sub-request for an ASIN or SKU the
seller does not have answers 404 (an unknown marketplace 400) inside the batch; the others answer 200 with the
offers (one page of at most 20, lowest landed price first), the summary (lowest and Buy Box prices, offer counts,
list price, sales rank) and the echo of the sub-request. ``getCompetitivePricing`` and ``getPricing`` take up to 20
ASINs or SKUs (``ItemType`` says which); an unknown one is an item with status ``ClientError``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from typing import Any
from urllib.parse import unquote

from sqlspapi.emulator.common import Request, Response, invalid
from sqlspapi.emulator.data import Dataset, Product
from sqlspapi.emulator.generic import Endpoint, Row, rules
from sqlspapi.emulator.offers import Competition, Offer, competition, find, market_of, money
from sqlspapi.emulator.pools import KNOWN_MARKETPLACE_IDS, MARKETS, Market
from sqlspapi.emulator.sellers import SELLER_ID

__all__ = ["ENDPOINTS", "batch_requests", "require", "sub_status", "unanswerable", "offers_result"]

CONDITIONS = ("New", "Used", "Collectible", "Refurbished", "Club")
CUSTOMER_TYPES = ("Consumer", "Business")
PRICES = rules("""
MarketplaceId    string    required
Asins            string[]  max_items=20
Skus             string[]  max_items=20
ItemType         string    required enum=Asin,Sku
ItemCondition    string    enum=New,Used,Collectible,Refurbished,Club
OfferType        string    enum=B2C,B2B
""")
COMPETITIVE = rules("""
MarketplaceId    string    required
Asins            string[]  max_items=20
Skus             string[]  max_items=20
ItemType         string    required enum=Asin,Sku
CustomerType     string    enum=Consumer,Business
""")
_ITEM_URI = re.compile(r"^/products/pricing/v0/items/([^/]+)/offers$")
_LISTING_URI = re.compile(r"^/products/pricing/v0/listings/([^/]+)/offers$")
_REASONS = {200: "OK", 400: "Bad Request", 404: "Not Found"}


# ------------------------------------------------------------------------------------------- batch bodies


def batch_requests(req: Request, max_items: int | None) -> list[dict[str, Any]]:
    """The sub-requests of a batch body ``{"requests": [...]}`` (400 unless it holds 1 to ``max_items`` objects)."""
    body = req.json_body()
    subs = body.get("requests") if isinstance(body, dict) else None
    if not isinstance(subs, list) or not subs:
        raise invalid("Invalid request body: requests must be a list of at least one request.")
    if max_items is not None and len(subs) > max_items:
        raise invalid(f"Invalid request body: requests holds {len(subs)} requests; at most {max_items} are allowed.")
    if not all(isinstance(s, dict) for s in subs):
        raise invalid("Invalid request body: each element of requests must be an object.")
    return subs


def require(sub: dict[str, Any], n: int, fields: Sequence[str], enums: dict[str, Sequence[str]]) -> None:
    """400 for the whole batch when sub-request ``n`` lacks a required field or has a value outside its enum."""
    for name in fields:
        if not isinstance(sub.get(name), str) or not sub[name]:
            raise invalid(f"Invalid request body: requests[{n}] is missing the required field {name}.")
    for name, allowed in enums.items():
        if name in sub and sub[name] not in allowed:
            raise invalid(f"Invalid request body: requests[{n}].{name} {sub[name]!r} is not one of "
                          f"{', '.join(allowed)}.")


def sub_status(code: int) -> dict[str, Any]:
    """The HTTP status line of a sub-response."""
    return {"statusCode": code, "reasonPhrase": _REASONS.get(code, "Error")}


def unanswerable(market: Market | None, marketplace_id: Any, product: Product | None,
                 what: str) -> tuple[dict[str, Any], list[dict[str, str]]] | None:
    """The status line and errors of a sub-request for a marketplace the seller does not sell in (400) or an item it
    does not have (404, ``what`` names it); None when it can be answered."""
    if market is not None and product is not None:
        return None
    if market is None:
        return sub_status(400), [{"code": "InvalidInput",
                                  "message": f"Marketplace {marketplace_id!r} is not a marketplace of this seller"}]
    return sub_status(404), [{"code": "NotFound", "message": f"{what} was not found in marketplace {market.id}"}]


# ------------------------------------------------------------------------------------------- offers


def _offer(o: Offer, c: Competition) -> dict[str, Any]:
    """An ``OfferDetail``."""
    m = c.market
    out: dict[str, Any] = {
        "MyOffer": o.mine, "offerType": "B2C", "SubCondition": o.sub_condition, "SellerId": o.seller_id,
        "SellerFeedbackRating": {"SellerPositiveFeedbackRating": o.feedback_pct, "FeedbackCount": o.feedback_count},
        "ShippingTime": {"minimumHours": o.min_hours, "maximumHours": o.max_hours, "availabilityType": "NOW"},
        "ListingPrice": money(o.price, m), "Shipping": money(o.shipping, m),
        "ShipsFrom": {"Country": o.ships_from}, "IsFulfilledByAmazon": o.afn,
        "PrimeInformation": {"IsPrime": o.afn, "IsNationalPrime": o.afn},
        "IsBuyBoxWinner": o is c.featured, "IsFeaturedMerchant": o.eligible,
    }
    if o.condition != "New":
        out["ConditionNotes"] = "Original packaging opened; complete."
    return out


def _counts(offers: Sequence[Offer]) -> list[dict[str, Any]]:
    """``OfferCountType`` per condition and fulfillment channel."""
    seen: dict[tuple[str, str], int] = {}
    for o in offers:
        key = (o.condition.lower(), "Amazon" if o.afn else "Merchant")
        seen[key] = seen.get(key, 0) + 1
    return [{"condition": cond, "fulfillmentChannel": ch, "OfferCount": n} for (cond, ch), n in seen.items()]


def _prices(o: Offer, c: Competition) -> dict[str, Any]:
    m = c.market
    return {"LandedPrice": money(o.landed, m), "ListingPrice": money(o.price, m), "Shipping": money(o.shipping, m)}


def offers_result(c: Competition, condition: str, sku: str | None) -> dict[str, Any]:
    """The ``GetOffersResult`` of one product in one marketplace for one item condition."""
    m = c.market
    chosen = c.of(condition)
    lowest: dict[tuple[str, str], Offer] = {}
    for o in chosen:
        lowest.setdefault((o.condition.lower(), "Amazon" if o.afn else "Merchant"), o)
    summary: dict[str, Any] = {
        "TotalOfferCount": len(chosen),
        "NumberOfOffers": _counts(chosen),
        "LowestPrices": [{"condition": cond, "fulfillmentChannel": ch, **_prices(o, c)}
                         for (cond, ch), o in lowest.items()],
        "BuyBoxPrices": [{"condition": "New", **_prices(c.featured, c), "sellerId": c.featured.seller_id}]
        if c.featured is not None and condition == "New" else [],
        "ListPrice": money(c.msrp, m),
        "CompetitivePriceThreshold": money(min(o.landed for o in c.offers), m),
        "SalesRankings": [{"ProductCategoryId": c.category, "Rank": c.rank}],
        "BuyBoxEligibleOffers": _counts([o for o in chosen if o.eligible]),
    }
    identifier: dict[str, Any] = {"MarketplaceId": m.id, "ASIN": c.product.asin, "ItemCondition": condition}
    if sku:
        identifier["SellerSKU"] = sku
    out: dict[str, Any] = {"marketplaceId": m.id, "ASIN": c.product.asin, "ItemCondition": condition,
                           "status": "Success" if chosen else "NoBuyableOffers", "Identifier": identifier,
                           "Summary": summary, "Offers": [_offer(o, c) for o in chosen[:20]]}
    if sku:
        out["SKU"] = sku
    return out


def _offers_batch(uri: re.Pattern[str], key: str, lookup: Callable[[Dataset, str], Product | None],
                  by_sku: bool) -> Callable[[Request], Response]:
    """A handler of getItemOffersBatch (``key`` Asin) or getListingOffersBatch (``key`` SellerSKU)."""
    def handle(req: Request) -> Response:
        subs = batch_requests(req, 20)
        parsed = []
        for n, sub in enumerate(subs):
            require(sub, n, ("uri", "method", "MarketplaceId", "ItemCondition"),
                    {"ItemCondition": CONDITIONS, "CustomerType": CUSTOMER_TYPES, "method": ("GET",)})
            m = uri.match(sub["uri"])
            if m is None:
                raise invalid(f"Invalid request body: requests[{n}].uri {sub['uri']!r} is not the path of one "
                              f"{'listing' if by_sku else 'item'}'s offers.")
            parsed.append((sub, unquote(m[1])))
        return Response(200, {"responses": [offers_response(req.data, sub, value, key, lookup, by_sku, n)
                                            for n, (sub, value) in enumerate(parsed)]})
    return handle


def offers_response(data: Dataset, sub: dict[str, Any], value: str, key: str,
                    lookup: Callable[[Dataset, str], Product | None], by_sku: bool, n: int = 0) -> dict[str, Any]:
    """One ``ItemOffersResponse`` / ``ListingOffersResponse``: the offers, or a 4xx with its errors."""
    echo = {"MarketplaceId": sub["MarketplaceId"], "ItemCondition": sub["ItemCondition"], key: value}
    if "CustomerType" in sub:
        echo["CustomerType"] = sub["CustomerType"]
    out: dict[str, Any] = {"headers": {"x-amzn-RequestId": f"emulator-sub-{n}"}, "request": echo}
    market = market_of(sub["MarketplaceId"])
    product = lookup(data, value)
    failed = unanswerable(market, sub["MarketplaceId"], product, f"{'SKU' if by_sku else 'ASIN'} {value!r}")
    if failed is not None:
        status, errors = failed
        return {**out, "status": status, "body": {"errors": errors}}
    assert market is not None and product is not None
    result = offers_result(competition(data, product, market), sub["ItemCondition"],
                           product.sku if by_sku else None)
    return {**out, "status": sub_status(200), "body": {"payload": result}}


def _by_asin(data: Dataset, asin: str) -> Product | None:
    return find(data, asin=asin)


def _by_sku(data: Dataset, sku: str) -> Product | None:
    return find(data, sku=sku)


def _offers_export(by_sku: bool) -> Callable[[Dataset], Iterator[Row]]:
    """Every sub-response of the default inputs (New, Consumer), with the inputs as its query."""
    key = "SellerSKU" if by_sku else "Asin"

    def export(data: Dataset) -> Iterator[Row]:
        for m in MARKETS:
            for p in data.products:
                value = p.sku if by_sku else p.asin
                sub = {"MarketplaceId": m.id, "ItemCondition": "New", "CustomerType": "Consumer"}
                obj = offers_response(data, sub, value, key, _by_sku if by_sku else _by_asin, by_sku)
                inputs = {"sku" if by_sku else "asin": value, "marketplaceId": m.id, "itemCondition": "New",
                          "customerType": "Consumer", "marketplaceIds": [m.id]}
                yield obj, inputs, {}
    return export


# ------------------------------------------------------------------------------------------- prices


def _identifiers(c: Competition) -> dict[str, Any]:
    m = c.market
    return {"MarketplaceASIN": {"MarketplaceId": m.id, "ASIN": c.product.asin},
            "SKUIdentifier": {"MarketplaceId": m.id, "SellerId": SELLER_ID, "SellerSKU": c.product.sku}}


def _competitive(c: Competition) -> dict[str, Any]:
    """The ``Product`` of getCompetitivePricing: the New (1) and Used (2) Buy Box prices, offer listing counts."""
    prices = []
    for price_id, condition in (("1", "New"), ("2", "Used")):
        chosen = c.featured if condition == "New" else next(iter(c.of("Used")), None)
        if chosen is not None:
            prices.append({"CompetitivePriceId": price_id, "Price": _prices(chosen, c), "condition": condition,
                           "subcondition": chosen.sub_condition, "offerType": "B2C", "sellerId": chosen.seller_id,
                           "belongsToRequester": chosen.mine})
    counts = [{"condition": cond, "Count": len(c.of(cond))} for cond in ("New", "Used") if c.of(cond)]
    return {"Identifiers": _identifiers(c),
            "CompetitivePricing": {"CompetitivePrices": prices, "NumberOfOfferListings": counts},
            "SalesRankings": [{"ProductCategoryId": c.category, "Rank": c.rank}]}


def _own(c: Competition) -> dict[str, Any]:
    """The ``Product`` of getPricing: the seller's own offer."""
    o, m = c.own, c.market
    offer = {"offerType": "B2C", "BuyingPrice": _prices(o, c), "RegularPrice": money(o.price, m),
             "FulfillmentChannel": "Amazon" if o.afn else "Merchant", "ItemCondition": o.condition,
             "ItemSubCondition": o.sub_condition, "SellerSKU": c.product.sku}
    return {"Identifiers": _identifiers(c), "Offers": [offer]}


def _price_list(render: Callable[[Competition], dict[str, Any]]) -> Callable[[Request], Response]:
    """A handler of getCompetitivePricing / getPricing: one ``Price`` per ASIN or SKU asked for."""
    def handle(req: Request) -> Response:
        p = req.params
        mp = p["MarketplaceId"]
        if mp not in KNOWN_MARKETPLACE_IDS:
            raise invalid(f"Invalid MarketplaceId: {mp!r} is not a valid marketplace ID.")
        by_sku = p["ItemType"] == "Sku"
        values = p["Skus"] if by_sku else p["Asins"]
        if not values:
            raise invalid(f"Invalid {'Skus' if by_sku else 'Asins'}: ItemType {p['ItemType']} needs at least one.")
        market = market_of(mp)
        out = []
        for value in values:
            product = find(req.data, sku=value) if by_sku else find(req.data, asin=value)
            item: dict[str, Any] = {"SellerSKU": value} if by_sku else {"ASIN": value}
            if product is None or market is None:
                out.append({"status": "ClientError", **item})
            else:
                out.append({"status": "Success", **item, "Product": render(competition(req.data, product, market))})
        return Response(200, {"payload": out})
    return handle


def _price_export(render: Callable[[Competition], dict[str, Any]]) -> Callable[[Dataset], Iterator[Row]]:
    def export(data: Dataset) -> Iterator[Row]:
        for m in MARKETS:
            for p in data.products:
                obj = {"status": "Success", "ASIN": p.asin, "Product": render(competition(data, p, m))}
                yield obj, {"MarketplaceId": m.id, "ItemType": "Asin", "Asins": [p.asin]}, {}
    return export


ENDPOINTS = (
    Endpoint("pricing", "v0", "getItemOffersBatch", _offers_batch(_ITEM_URI, "Asin", _by_asin, False),
             export=_offers_export(False)),
    Endpoint("pricing", "v0", "getListingOffersBatch", _offers_batch(_LISTING_URI, "SellerSKU", _by_sku, True),
             export=_offers_export(True)),
    Endpoint("pricing", "v0", "getCompetitivePricing", _price_list(_competitive), COMPETITIVE,
             _price_export(_competitive)),
    Endpoint("pricing", "v0", "getPricing", _price_list(_own), PRICES, _price_export(_own)),
)
