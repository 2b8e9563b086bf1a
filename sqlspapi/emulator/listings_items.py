"""Listings Items API 2021-08-01 (read): searchListingsItems over the demo seller's listings.

The seller lists every product (``Dataset.products``) in every marketplace of the dataset: the set the merchant
listings report shows (:mod:`sqlspapi.emulator.reports_listings`), with its creation date ("open-date"), its status
(the report's Inactive listings are suppressed here: an ERROR issue with a LISTING_SUPPRESSED enforcement and no
status; the others are BUYABLE and DISCOVERABLE) and its price (:func:`~sqlspapi.emulator.money.list_price`). Every
listing is fulfilled by Amazon, as the report says: ``fulfillmentAvailability`` is the region's AFN channel
(AMAZON_NA, AMAZON_EU, AMAZON_FE) with the fulfillable units of the FBA inventory
(:func:`~sqlspapi.emulator.fba_inventory.inventory`), and ``fnSku`` is that inventory's. ASIN, product type, brand,
image and external identifiers are the catalog's (:func:`~sqlspapi.emulator.catalog.catalog`). Besides the
suppressed ones, a few listings (chosen from the product and the marketplace) carry a WARNING issue (a missing
attribute), and a few JP listings an ERROR price alert Amazon exempts until a date; one product in three also has a
B2B offer (5 % off); JP offers carry Amazon points (1 %). Sellers have no ``procurement`` (vendors only) and the
demo has no variation-parent or package SKUs (``relationships`` are empty).

Search rules as Amazon's: ``sellerId`` (path) must be the demo seller's merchant token
(:data:`~sqlspapi.emulator.sellers.SELLER_ID`; 403 otherwise); ``identifiers`` and ``identifiersType`` go together
and exclude ``variationParentSku`` and ``packageHierarchySku`` (which exclude each other and match nothing here);
ISBN, JAN and MINSAN identifiers match nothing; created/lastUpdated After/Before are inclusive; ``withIssueSeverity``
keeps listings with an issue of one of those severities, ``withStatus`` those with one of the statuses,
``withoutStatus`` those with none of them. With several marketplaces an item holds one summary (offer, …) per
marketplace it is listed in and matches when one of them does. Items are sorted by ``sortBy`` (default
lastUpdatedDate) in ``sortOrder`` (default DESC), SKU ascending among equals; pages hold ``pageSize`` items (≤ 20,
default 10); at most 1,000 are reachable (``numberOfResults`` is the true total); a ``pageToken`` must come with
the same filters. Issue messages are English whatever ``issueLocale`` says.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from sqlspapi.emulator.catalog import V2022, CatalogItem, catalog
from sqlspapi.emulator.common import ApiError, Request, Response, invalid
from sqlspapi.emulator.data import LANGUAGES, Dataset, Product, iso, money_str
from sqlspapi.emulator.fba_inventory import Stock, inventory
from sqlspapi.emulator.generic import Endpoint, Paging, Row, rules
from sqlspapi.emulator.money import list_price
from sqlspapi.emulator.pools import KNOWN_MARKETPLACE_IDS, MARKETS, MARKETS_BY_ID, Market
from sqlspapi.emulator.reports_files import seeded
from sqlspapi.emulator.sellers import SELLER_ID

#: The ``includedData`` parts, in the model's order.
PARTS = ("summaries", "attributes", "issues", "offers", "fulfillmentAvailability", "procurement", "relationships",
         "productTypes")
IDENTIFIER_TYPES = ("ASIN", "EAN", "FNSKU", "GTIN", "ISBN", "JAN", "MINSAN", "SKU", "UPC")
SEARCH = rules(f"""
marketplaceIds       string[]  required
issueLocale          string
includedData         string[]  enum={','.join(PARTS)} default=summaries
identifiers          string[]  max_items=20
identifiersType      string    enum={','.join(IDENTIFIER_TYPES)}
variationParentSku   string
packageHierarchySku  string
createdAfter         date-time
createdBefore        date-time
lastUpdatedAfter     date-time
lastUpdatedBefore    date-time
withIssueSeverity    string[]  enum=WARNING,ERROR
withStatus           string[]  enum=BUYABLE,DISCOVERABLE
withoutStatus        string[]  enum=BUYABLE,DISCOVERABLE
sortBy               string    enum=sku,createdDate,lastUpdatedDate default=lastUpdatedDate
sortOrder            string    enum=ASC,DESC default=DESC
pageSize             integer   maximum=20 default=10
pageToken            string
""")
#: The filters a pageToken request must repeat (with the path's sellerId).
FILTERS = ("marketplaceIds", "identifiers", "identifiersType", "variationParentSku", "packageHierarchySku",
           "createdAfter", "createdBefore", "lastUpdatedAfter", "lastUpdatedBefore", "withIssueSeverity",
           "withStatus", "withoutStatus", "sortBy", "sortOrder")
PAGING = Paging("listings-2021-08-01", "pageToken", ceiling=1000, previous=True)
#: The FBA channel of each marketplace's region (the merchant listings report's fulfillment-channel).
AFN_CHANNELS = {"US": "AMAZON_NA", "CA": "AMAZON_NA", "JP": "AMAZON_FE"}
DENIED = "Access to requested resource is denied."


@dataclass(frozen=True, slots=True)
class Listing:
    """One SKU listed in one marketplace."""

    product: Product
    market: Market
    item: CatalogItem
    stock: Stock | None
    created: datetime
    updated: datetime
    active: bool  # the merchant listings report's status
    issues: tuple[dict[str, Any], ...]
    b2b: bool

    @property
    def status(self) -> list[str]:
        """The summary's ``status``: BUYABLE and DISCOVERABLE, or nothing for a suppressed listing."""
        return ["BUYABLE", "DISCOVERABLE"] if self.active else []

    @property
    def channel(self) -> str:
        """The FBA fulfillment channel code of the marketplace's region."""
        return AFN_CHANNELS.get(self.market.key, "AMAZON_EU")

    @property
    def price(self) -> int:
        """The listing price in minor units."""
        return list_price(self.product, self.market)


def _issues(n: int, m: Market, active: bool, anchor: datetime) -> tuple[dict[str, Any], ...]:
    """The issues of product ``n``'s listing in ``m`` (deterministic)."""
    out: list[dict[str, Any]] = []
    if not active:
        out.append({"code": "18027", "message": "This listing was removed: the product requires approval to be "
                    "sold in this category.", "severity": "ERROR", "attributeNames": [],
                    "categories": ["QUALIFICATION_REQUIRED"],
                    "enforcements": {"actions": [{"action": "LISTING_SUPPRESSED"}],
                                     "exemption": {"status": "NOT_EXEMPT"}}, "marketplaceIds": [m.id]})
    if (n + MARKETS.index(m)) % 11 == 5:
        out.append({"code": "90220", "message": "'bullet_point' is required but not supplied.",
                    "severity": "WARNING", "attributeNames": ["bullet_point"], "categories": ["MISSING_ATTRIBUTE"],
                    "marketplaceIds": [m.id]})
    if active and m.key == "JP" and n % 13 == 4:
        out.append({"code": "90244", "message": "The price is much higher than the recent prices of this item.",
                    "severity": "ERROR", "attributeNames": ["purchasable_offer"], "categories": ["INVALID_PRICE"],
                    "enforcements": {"actions": [{"action": "SEARCH_SUPPRESSED"}],
                                     "exemption": {"status": "EXEMPT_UNTIL_EXPIRY_DATE",
                                                   "expiryDate": iso(anchor + timedelta(days=14))}},
                    "marketplaceIds": [m.id]})
    return tuple(out)


def build_listings(data: Dataset, items: Mapping[str, CatalogItem],
                   stock: Mapping[str, list[Stock]]) -> dict[str, list[Listing]]:
    """Marketplace id → the seller's listings there, in ``Dataset.products`` order (deterministic in the seed), from
    the catalog's items by ASIN and the FBA stock by marketplace."""
    out: dict[str, list[Listing]] = {}
    for m in MARKETS:
        by_sku = {s.product.sku: s for s in stock.get(m.id, [])}
        rows = out[m.id] = []
        for n, p in enumerate(data.products):
            # the merchant listings report's open-date (its generator's first draw) and Active/Inactive status
            opened = data.anchor - timedelta(seconds=seeded(data, "listing", m.id, p.sku).randrange(86400,
                                                                                                     700 * 86400))
            age = int((data.anchor - opened).total_seconds())
            updated = opened + timedelta(seconds=seeded(data, "listing-updated", m.id, p.sku).randrange(age))
            active = n % 17 != 16
            rows.append(Listing(p, m, items[p.asin], by_sku.get(p.sku), opened, updated, active,
                                _issues(n, m, active, data.anchor), n % 3 == 0))
    return out


def listings(data: Dataset) -> dict[str, list[Listing]]:
    """The dataset's listings (built on first use)."""
    # the catalog and the stock first: Dataset.derived holds its lock while it builds
    items, stock = catalog(data).by_asin, inventory(data)
    return data.derived("listings_items", partial(build_listings, items=items, stock=stock))


# -- rendering --------------------------------------------------------------------------------------------------------
def _money(minor: int, m: Market) -> dict[str, str]:
    return {"currencyCode": m.currency, "amount": money_str(minor, m)}


def _summary(ls: Listing) -> dict[str, Any]:
    m = ls.market
    image = V2022.render(ls.item, [m], ["images"])["images"][0]["images"][0]
    out: dict[str, Any] = {"marketplaceId": m.id, "asin": ls.product.asin,
                           "productType": ls.item.category.product_type, "conditionType": "new_new",
                           "status": ls.status}
    if ls.stock is not None:
        out["fnSku"] = ls.stock.fn_sku
    out.update({"itemName": ls.product.titles[LANGUAGES.get(m.key, "en")], "createdDate": iso(ls.created),
                "lastUpdatedDate": iso(ls.updated),
                "mainImage": {"link": image["link"], "height": image["height"], "width": image["width"]}})
    return out


def _offers(ls: Listing) -> list[dict[str, Any]]:
    m = ls.market
    prices = [("B2C", ls.price, "ALL", "All shoppers")]
    if ls.b2b:
        prices.append(("B2B", ls.price - max(1, ls.price // 20), "B2B", "Amazon Business"))
    out = []
    for kind, price, audience, name in prices:
        offer: dict[str, Any] = {"marketplaceId": m.id, "offerType": kind, "price": _money(price, m)}
        if m.key == "JP":
            offer["points"] = {"pointsNumber": price // 100}
        offer["audience"] = {"value": audience, "displayName": name}
        out.append(offer)
    return out


def _attributes(group: list[Listing]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for ls in group:
        m = ls.market
        lang = {"language_tag": m.language, "marketplace_id": m.id}
        values = {
            "item_name": {"value": ls.product.titles[LANGUAGES.get(m.key, "en")], **lang},
            "brand": {"value": ls.item.brand, **lang},
            "condition_type": {"value": "new_new", "marketplace_id": m.id},
            "merchant_suggested_asin": {"value": ls.product.asin, "marketplace_id": m.id},
            "externally_assigned_product_identifier": {"type": "ean", "value": ls.item.ean, "marketplace_id": m.id},
            "purchasable_offer": {"currency": m.currency, "audience": "ALL", "marketplace_id": m.id,
                                  "our_price": [{"schedule": [{"value_with_tax": float(money_str(ls.price, m))}]}]},
            "fulfillment_availability": {"fulfillment_channel_code": ls.channel, "marketplace_id": m.id},
        }
        for name, value in values.items():
            out.setdefault(name, []).append(value)
    return out


def render(group: list[Listing], parts: list[str] | tuple[str, ...]) -> dict[str, Any]:
    """The model's ``Item`` of one SKU listed in the marketplaces of ``group``, with the parts asked for."""
    wanted = set(parts)
    out: dict[str, Any] = {"sku": group[0].product.sku}
    per_market: dict[str, Callable[[list[Listing]], Any]] = {
        "summaries": lambda g: [_summary(ls) for ls in g],
        "attributes": _attributes,
        "issues": lambda g: [issue for ls in g for issue in ls.issues],
        "offers": lambda g: [offer for ls in g for offer in _offers(ls)],
        "fulfillmentAvailability": lambda g: [{"fulfillmentChannelCode": ls.channel,
                                               "quantity": ls.stock.fulfillable if ls.stock else 0} for ls in g],
        "relationships": lambda g: [{"marketplaceId": ls.market.id, "relationships": []} for ls in g],
        "productTypes": lambda g: [{"marketplaceId": ls.market.id, "productType": ls.item.category.product_type}
                                   for ls in g],
    }
    for part in PARTS:
        if part in wanted and part in per_market:  # procurement: vendors only
            out[part] = per_market[part](group)
    return out


# -- search -----------------------------------------------------------------------------------------------------------
_IDENTIFIERS: dict[str, Callable[[Listing], str | None]] = {
    "SKU": lambda ls: ls.product.sku, "ASIN": lambda ls: ls.product.asin, "EAN": lambda ls: ls.item.ean,
    "UPC": lambda ls: ls.item.upc, "GTIN": lambda ls: ls.item.gtin,
    "FNSKU": lambda ls: ls.stock.fn_sku if ls.stock else None,
}


def _check(req: Request) -> list[Market]:
    """The seller and the rules the schema cannot say; the requested marketplaces the seller sells in."""
    seller = req.path_args.get("sellerId", "")
    if seller != SELLER_ID:
        raise ApiError(403, "Unauthorized", DENIED,
                       f"The sellerId {seller!r} is not the merchant token of the selling partner that authorized "
                       "this application.")
    p = req.params
    unknown = [m for m in p["marketplaceIds"] if m not in KNOWN_MARKETPLACE_IDS]
    if unknown:
        raise invalid(f"Invalid marketplaceIds: {unknown[0]!r} is not a valid marketplace ID.")
    if (p["identifiers"] is None) != (p["identifiersType"] is None):
        raise invalid("Invalid identifiers: identifiers and identifiersType must be provided together.")
    exclusive = [k for k in ("identifiers", "variationParentSku", "packageHierarchySku") if p[k] is not None]
    if len(exclusive) > 1:
        raise invalid(f"Invalid {exclusive[1]}: {exclusive[1]} cannot be used with {exclusive[0]}.")
    if p["pageSize"] < 1:
        raise invalid(f"Invalid pageSize: {p['pageSize']} is less than 1.")
    return [MARKETS_BY_ID[m] for m in dict.fromkeys(p["marketplaceIds"]) if m in MARKETS_BY_ID]


def _matches(ls: Listing, p: dict[str, Any]) -> bool:
    """Whether one listing satisfies a validated query's filters."""
    if p["variationParentSku"] is not None or p["packageHierarchySku"] is not None:
        return False
    if p["identifiers"] is not None:
        key = _IDENTIFIERS.get(p["identifiersType"])
        if key is None or key(ls) not in set(p["identifiers"]):
            return False
    for name, value, after in (("createdAfter", ls.created, True), ("createdBefore", ls.created, False),
                               ("lastUpdatedAfter", ls.updated, True), ("lastUpdatedBefore", ls.updated, False)):
        bound = p[name]
        if bound is not None and (value < bound if after else value > bound):
            return False
    if p["withIssueSeverity"] and not {i["severity"] for i in ls.issues} & set(p["withIssueSeverity"]):
        return False
    if p["withStatus"] and not set(ls.status) & set(p["withStatus"]):
        return False
    return not (p["withoutStatus"] and set(ls.status) & set(p["withoutStatus"]))


_SORT_KEYS: dict[str, Callable[[list[Listing]], Any]] = {
    "sku": lambda g: g[0].product.sku, "createdDate": lambda g: g[0].created,
    "lastUpdatedDate": lambda g: g[0].updated,
}


def search_listings_items(req: Request) -> Response:
    """GET /listings/2021-08-01/items/{sellerId}."""
    markets = _check(req)
    p = req.params
    listed = listings(req.data)
    groups = []
    for k in range(len(req.data.products)):
        group = [listed[m.id][k] for m in markets]
        if group and any(_matches(ls, p) for ls in group):
            groups.append(group)
    groups.sort(key=_SORT_KEYS["sku"])
    groups.sort(key=_SORT_KEYS[p["sortBy"]], reverse=p["sortOrder"] == "DESC")
    filters = {**{k: p[k] for k in FILTERS}, "sellerId": req.path_args["sellerId"]}
    now = req.config.now()
    start, stop = PAGING.window(PAGING.offset(req.query, filters, now), p["pageSize"], len(groups))
    body: dict[str, Any] = {"numberOfResults": len(groups)}
    pagination = PAGING.pagination(start, p["pageSize"], len(groups), filters, now)
    if pagination:
        body["pagination"] = pagination
    body["items"] = [render(group, p["includedData"]) for group in groups[start:stop]]
    return Response(200, body)


def _export(data: Dataset) -> Iterator[Row]:
    """Every listing, by marketplace, in SKU order (the order the tables ask for)."""
    for m in MARKETS:
        for ls in sorted(listings(data)[m.id], key=lambda ls: ls.product.sku):
            yield render([ls], PARTS), {"marketplaceIds": [m.id]}, {"sellerId": SELLER_ID}


#: The operations this module serves.
ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint("listings_items", "2021-08-01", "searchListingsItems", search_listings_items, SEARCH, _export),
)
