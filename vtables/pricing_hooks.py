"""Named hooks of the Product Pricing tables (v0 and 2022-05-01): the join keys under their common names, and the
lists Amazon answers that a row wants by name.

* :func:`offer_keys` (``item_offers``, ``listing_offers``): ``asin``, ``sku`` and ``marketplaceId`` of an offers
  sub-response, from the echo of its sub-request (``request``), else its result — a failed sub-response has them too.
* :func:`priced_item` (``competitive_pricing``): the keys of a ``Price`` item (the ASIN and SKU asked for, else its
  identifiers; a blank SKU is none), the New and Used Buy Box prices (``CompetitivePriceId`` 1 and 2) by name, and
  the offer listing counts.
* :func:`own_offers` (``pricing``): one row per offer of the seller's in a ``Price`` item (``Product.Offers`` holding
  that offer), with the item's keys.
* :func:`reference_prices` (``competitive_summary``): each reference price by its name.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from sqlspapi.sql.rows import dig

Obj = Mapping[str, Any]


def _first(*values: Any) -> Any:
    """The first value that is a non-blank string (Amazon's sandbox answers blank identifiers)."""
    return next((v for v in values if isinstance(v, str) and v.strip()), None)


def offer_keys(response: Obj, request: Any) -> Iterator[Obj]:
    """An offers sub-response (or one of its exploded offers) with its ``asin``, ``sku`` and ``marketplaceId``."""
    echo = response.get("request") or {}
    payload = dig(response, "body.payload") or {}
    ident = payload.get("Identifier") or {}
    yield {**response,
           "asin": _first(echo.get("Asin"), payload.get("ASIN"), ident.get("ASIN")),
           "sku": _first(echo.get("SellerSKU"), payload.get("SKU"), ident.get("SellerSKU")),
           "marketplaceId": _first(echo.get("MarketplaceId"), payload.get("marketplaceId"),
                                   ident.get("MarketplaceId"))}


def _price_keys(item: Obj, request: Any) -> dict[str, Any]:
    """The ``asin``, ``sku`` and ``marketplaceId`` of a getPricing / getCompetitivePricing item."""
    ids = dig(item, "Product.Identifiers") or {}
    asked = getattr(request, "query", {}) or {}
    market = asked.get("MarketplaceId")
    return {"asin": _first(item.get("ASIN"), dig(ids, "MarketplaceASIN.ASIN")),
            "sku": _first(item.get("SellerSKU"), dig(ids, "SKUIdentifier.SellerSKU")),
            "marketplaceId": _first(dig(ids, "MarketplaceASIN.MarketplaceId"),
                                    market[0] if isinstance(market, list | tuple) and market else market)}


def priced_item(item: Obj, request: Any) -> Iterator[Obj]:
    """A competitive pricing item with its keys, ``buyBoxPrice`` (New, id 1), ``usedBuyBoxPrice`` (id 2) and
    ``offerListingCounts``."""
    prices = dig(item, "Product.CompetitivePricing.CompetitivePrices") or []
    by_id = {}
    for price in prices:
        if isinstance(price, Mapping):
            by_id.setdefault(str(price.get("CompetitivePriceId")), price)
    yield {**item, **_price_keys(item, request), "buyBoxPrice": by_id.get("1"), "usedBuyBoxPrice": by_id.get("2"),
           "offerListingCounts": dig(item, "Product.CompetitivePricing.NumberOfOfferListings")}


def own_offers(item: Obj, request: Any) -> Iterator[Obj]:
    """One row per offer of the seller's: the item with ``Product.Offers`` holding that offer (not the list); an item
    without offers (an error) is one row with none."""
    keys = _price_keys(item, request)
    product = item.get("Product") if isinstance(item.get("Product"), Mapping) else {}
    offers = [o for o in product.get("Offers") or [] if isinstance(o, Mapping)]
    for offer in offers or [None]:
        sku = _first(offer.get("SellerSKU")) if offer else None
        yield {**item, **keys, "sku": sku or keys["sku"], "Product": {**product, "Offers": offer}}


def reference_prices(body: Obj, request: Any) -> Iterator[Obj]:
    """A competitive summary with ``referencePrice``: reference price name → its price."""
    named = {p["name"]: p.get("price") for p in dig(body, "body.referencePrices") or []
             if isinstance(p, Mapping) and isinstance(p.get("name"), str)}
    yield {**body, "referencePrice": named}
