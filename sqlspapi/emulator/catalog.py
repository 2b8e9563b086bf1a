"""Catalog Items API 2022-04-01 and 2020-12-01: searchCatalogItems and getCatalogItem over a deterministic catalog.

The catalog holds, in this order: the seller's products (the same ASINs and SKUs as the orders, in
``Dataset.products`` order), one variation parent per product family (``itemClassification`` VARIATION_PARENT,
children = the colour variants) and :data:`~sqlspapi.emulator.pools.CATALOG_EXTRA_ITEMS` catalog-only items (no
SKU), most of them USB gear, so that ``keywords=usb`` finds more than Amazon's 1,000 reachable results. Every item
is listed in every marketplace of the dataset (titles in the marketplace's language where the product has one).
It is built on first use (``Dataset.derived``), not with the orders.

Search rules: ``keywords`` — every keyword must occur, case-insensitively, in the item name (marketplace language)
or the brand; ``identifiers`` with ``identifiersType`` ASIN, EAN, GTIN, UPC or SKU (SKU needs ``sellerId`` and
matches only the emulator's seller, :data:`~sqlspapi.emulator.sellers.SELLER_ID`); ISBN, JAN and MINSAN match
nothing. ``brandNames`` match the brand exactly (case-insensitive); ``classificationIds`` match the item's browse
node or any of its ancestors. Results keep catalog order; ``numberOfResults`` is the true total while paging stops
after 1,000 items. ``includedData`` picks the parts present (default ``summaries``); ``vendorDetails`` is always an
empty list (vendors only).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from functools import partial
from typing import Any

from sqlspapi.emulator.catalog_data import Catalog, CatalogItem, build_catalog, catalog
from sqlspapi.emulator.catalog_parts import PARTS_2020_GET, PARTS_2020_SEARCH, PARTS_2022, V2020, V2022, Flavour
from sqlspapi.emulator.common import Request, Response, invalid, not_found
from sqlspapi.emulator.data import Dataset
from sqlspapi.emulator.generic import Endpoint, Row, rules
from sqlspapi.emulator.pools import KNOWN_MARKETPLACE_IDS, MARKETS, MARKETS_BY_ID, Market

__all__ = ["ENDPOINTS", "IDENTIFIER_TYPES", "PARTS_2020_GET", "PARTS_2020_SEARCH", "PARTS_2022", "SEARCH_FILTERS",
           "V2020", "V2022", "Catalog", "CatalogItem", "Flavour", "build_catalog", "catalog", "get_catalog_item",
           "search_catalog_items"]

IDENTIFIER_TYPES = ("ASIN", "EAN", "GTIN", "ISBN", "JAN", "MINSAN", "SKU", "UPC")

SEARCH_2022 = rules(f"""
identifiers        string[]  max_items=20
identifiersType    string    enum={','.join(IDENTIFIER_TYPES)}
marketplaceIds     string[]  required max_items=1
includedData       string[]  enum={','.join(PARTS_2022)} default=summaries
locale             string
sellerId           string
keywords           string[]  max_items=20
brandNames         string[]
classificationIds  string[]
pageSize           integer   maximum=20 minimum=1 default=10
pageToken          string
keywordsLocale     string
""")
GET_2022 = rules(f"""
marketplaceIds     string[]  required
includedData       string[]  enum={','.join(PARTS_2022)} default=summaries
locale             string
""")
SEARCH_2020 = rules(f"""
keywords           string[]  required
marketplaceIds     string[]  required max_items=1
includedData       string[]  enum={','.join(PARTS_2020_SEARCH)} default=summaries
brandNames         string[]
classificationIds  string[]
pageSize           integer   maximum=20 minimum=1 default=10
pageToken          string
keywordsLocale     string
locale             string
""")
GET_2020 = rules(f"""
marketplaceIds     string[]  required
includedData       string[]  enum={','.join(PARTS_2020_GET)} default=summaries
locale             string
""")
#: The filters a pageToken request must repeat.
SEARCH_FILTERS = ("marketplaceIds", "keywords", "identifiers", "identifiersType", "sellerId", "brandNames",
                  "classificationIds")



# -- operations ------------------------------------------------------------------------------------------------------
def _markets(ids: list[str]) -> list[Market | None]:
    unknown = [m for m in ids if m not in KNOWN_MARKETPLACE_IDS]
    if unknown:
        raise invalid(f"Invalid marketplaceIds: {unknown[0]!r} is not a valid marketplace ID.")
    return [MARKETS_BY_ID.get(m) for m in dict.fromkeys(ids)]


def _check_search(p: dict[str, Any], fl: Flavour) -> None:
    if not fl.identifiers:
        return
    if p["identifiers"] and p["keywords"]:
        raise invalid("Invalid identifiers: identifiers and keywords cannot be used together.")
    if not p["identifiers"] and not p["keywords"]:
        raise invalid("Missing required parameter: either keywords or identifiers must be specified.")
    if p["identifiers"]:
        if p["identifiersType"] is None:
            raise invalid("Missing required parameter: identifiersType is required with identifiers.")
        for name in ("brandNames", "classificationIds", "keywordsLocale"):
            if p[name] is not None:
                raise invalid(f"Invalid {name}: {name} cannot be used with identifiers.")
        if p["identifiersType"] == "SKU" and not p["sellerId"]:
            raise invalid("Missing required parameter: sellerId is required when identifiersType is SKU.")


def _refinements(found: list[CatalogItem]) -> dict[str, Any]:
    brands = Counter(it.brand for it in found)
    nodes = Counter(it.category for it in found)
    return {"brands": [{"numberOfResults": n, "brandName": b} for b, n in sorted(brands.items(),
                                                                                key=lambda x: (-x[1], x[0]))],
            "classifications": [{"numberOfResults": n, "displayName": c.name, "classificationId": c.id}
                                for c, n in sorted(nodes.items(), key=lambda x: (-x[1], x[0].id))]}


def search_catalog_items(req: Request, fl: Flavour) -> Response:
    """GET /catalog/{version}/items."""
    p = req.params
    _check_search(p, fl)
    market = _markets(p["marketplaceIds"])[0]
    found = catalog(req.data).search(market, p)
    filters = {k: p.get(k) for k in SEARCH_FILTERS}
    now = req.config.now()
    start, stop = fl.paging.window(fl.paging.offset(req.query, filters, now), p["pageSize"], len(found))
    body: dict[str, Any] = {"numberOfResults": len(found)}
    pagination = fl.paging.pagination(start, p["pageSize"], len(found), filters, now)
    if pagination or fl.always_pagination:
        body["pagination"] = pagination
    body["refinements"] = _refinements(found)
    assert market is not None or not found
    body["items"] = [fl.render(it, [market], p["includedData"]) for it in found[start:stop]]  # type: ignore[list-item]
    return Response(200, body)


def get_catalog_item(req: Request, fl: Flavour) -> Response:
    """GET /catalog/{version}/items/{asin}."""
    p = req.params
    asin = req.path_args["asin"]
    markets = [m for m in _markets(p["marketplaceIds"]) if m is not None]
    item = catalog(req.data).by_asin.get(asin)
    if item is None or not markets:
        raise not_found(f"Requested item '{asin}' not found in marketplace(s) {', '.join(p['marketplaceIds'])}.")
    return Response(200, fl.render(item, markets, p["includedData"]))


# -- export ----------------------------------------------------------------------------------------------------------
def _export(fl: Flavour, parts: tuple[str, ...], by_path: bool, data: Dataset) -> Iterator[Row]:
    items = catalog(data).items
    for m in MARKETS:
        for it in items:
            yield fl.render(it, [m], parts), {"marketplaceIds": [m.id]}, ({"asin": it.asin} if by_path else {})


ENDPOINTS = (
    Endpoint("catalog", "2022-04-01", "searchCatalogItems", partial(search_catalog_items, fl=V2022), SEARCH_2022,
             partial(_export, V2022, PARTS_2022, False)),
    Endpoint("catalog", "2022-04-01", "getCatalogItem", partial(get_catalog_item, fl=V2022), GET_2022,
             partial(_export, V2022, PARTS_2022, True)),
    Endpoint("catalog", "2020-12-01", "searchCatalogItems", partial(search_catalog_items, fl=V2020), SEARCH_2020,
             partial(_export, V2020, PARTS_2020_SEARCH, False), "searchCatalogItems2020"),
    Endpoint("catalog", "2020-12-01", "getCatalogItem", partial(get_catalog_item, fl=V2020), GET_2020,
             partial(_export, V2020, PARTS_2020_GET, True), "getCatalogItem2020"),
)
