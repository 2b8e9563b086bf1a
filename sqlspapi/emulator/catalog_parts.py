"""The parts of a Catalog Items ``Item`` (summaries, images, dimensions, ranks …) and the two API versions' flavours.

Each part renderer turns one :class:`~sqlspapi.emulator.catalog_data.CatalogItem` into the model's JSON for one
marketplace; a :class:`Flavour` says which parts, renderers and paging a version (2022-04-01, 2020-12-01) has.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sqlspapi.emulator.catalog_data import CatalogItem
from sqlspapi.emulator.generic import Paging
from sqlspapi.emulator.pools import MARKETS, Category, Market

PARTS_2022 = ("attributes", "classifications", "dimensions", "identifiers", "images", "productTypes",
              "relationships", "salesRanks", "summaries", "vendorDetails")
PARTS_2020_SEARCH = ("identifiers", "images", "productTypes", "salesRanks", "summaries", "variations", "vendorDetails")
PARTS_2020_GET = ("attributes", *PARTS_2020_SEARCH)
_THEME = {"attributes": ["color"], "theme": "COLOR"}


# -- parts -----------------------------------------------------------------------------------------------------------
def _browse(cat: Category) -> dict[str, Any]:
    node: dict[str, Any] | None = None
    for cid, name in reversed(((cat.id, cat.name), *cat.ancestors)):
        node = {"displayName": name, "classificationId": cid, **({"parent": node} if node else {})}
    assert node is not None
    return node


def _image_stem(asin: str, n: int) -> str:
    digest = hashlib.sha256(f"{asin}/{n}".encode()).digest()
    return base64.b64encode(digest).decode("ascii").replace("/", "A").replace("+", "B")[:11]


def _images(it: CatalogItem, m: Market) -> dict[str, Any]:
    return {"images": [{"variant": variant, "link": f"https://m.media-amazon.com/images/I/{_image_stem(it.asin, n)}"
                        f".jpg", "height": size, "width": size}
                       for n, (variant, size) in enumerate((("MAIN", 1500), ("MAIN", 500), ("PT01", 1000)))]}


def _dimensions(it: CatalogItem, m: Market) -> dict[str, Any]:
    if it.classification == "VARIATION_PARENT":
        return {}
    imperial = m.key == "US"

    def dims(extra_cm: float, extra_kg: float) -> dict[str, Any]:
        def length(cm: float) -> dict[str, Any]:
            cm += extra_cm
            return {"unit": "inches", "value": round(cm / 2.54, 2)} if imperial else {"unit": "centimeters",
                                                                                       "value": round(cm, 2)}
        kg = it.weight_kg + extra_kg
        weight = {"unit": "pounds", "value": round(kg * 2.20462, 2)} if imperial else {"unit": "kilograms",
                                                                                        "value": round(kg, 2)}
        length_cm, width_cm, height_cm = it.size_cm
        return {"height": length(height_cm), "length": length(length_cm), "weight": weight, "width": length(width_cm)}

    return {"item": dims(0, 0), "package": dims(2, 0.1)}


_MARKET_RANK = {m.id: n + 1 for n, m in enumerate(MARKETS)}


def _rank(it: CatalogItem, m: Market) -> int:
    return it.rank * _MARKET_RANK.get(m.id, 1)


def _link(m: Market, cat: Category, node: str = "") -> str:
    return f"https://{m.domain}/gp/bestsellers/{cat.display_group.split('_')[0]}" + (f"/{node}" if node else "")


def _ranks_2022(it: CatalogItem, m: Market) -> dict[str, Any]:
    cat, rank = it.category, _rank(it, m)
    return {"classificationRanks": [{"classificationId": cat.id, "title": cat.name, "link": _link(m, cat, cat.id),
                                     "rank": rank}],
            "displayGroupRanks": [{"websiteDisplayGroup": cat.display_group, "title": cat.display_group_name,
                                   "link": _link(m, cat), "rank": rank * 13}]}


def _ranks_2020(it: CatalogItem, m: Market) -> dict[str, Any]:
    cat, rank = it.category, _rank(it, m)
    return {"ranks": [{"title": cat.name, "link": _link(m, cat, cat.id), "rank": rank},
                      {"title": cat.display_group_name, "link": _link(m, cat), "rank": rank * 13}]}


def _summary_2022(it: CatalogItem, m: Market) -> dict[str, Any]:
    out: dict[str, Any] = {"adultProduct": False, "autographed": False, "brand": it.brand,
                           "browseClassification": {"displayName": it.category.name,
                                                    "classificationId": it.category.id}}
    if (color := it.color(m)) is not None:
        out["color"] = color
    out.update({"itemClassification": it.classification, "itemName": it.title(m), "manufacturer": it.brand,
                "memorabilia": False, "modelNumber": it.model_number, "packageQuantity": 1,
                "partNumber": it.model_number, "releaseDate": it.released, "tradeInEligible": False,
                "websiteDisplayGroup": it.category.display_group,
                "websiteDisplayGroupName": it.category.display_group_name})
    return out


def _summary_2020(it: CatalogItem, m: Market) -> dict[str, Any]:
    out: dict[str, Any] = {"brandName": it.brand, "browseNode": it.category.id}
    if (color := it.color(m)) is not None:
        out["colorName"] = color
    out.update({"itemName": it.title(m), "manufacturer": it.brand, "modelNumber": it.model_number})
    return out


def _identifiers(upper: bool) -> Callable[[CatalogItem, Market], dict[str, Any]]:
    def render(it: CatalogItem, m: Market) -> dict[str, Any]:
        pairs = (("EAN", it.ean), ("GTIN", it.gtin), ("UPC", it.upc)) if upper else (("ean", it.ean), ("upc", it.upc))
        return {"identifiers": [{"identifierType": t, "identifier": v} for t, v in pairs]}
    return render


def _relationships(it: CatalogItem, m: Market) -> dict[str, Any]:
    if it.parent:
        return {"relationships": [{"type": "VARIATION", "parentAsins": [it.parent], "variationTheme": _THEME}]}
    if it.children:
        return {"relationships": [{"type": "VARIATION", "childAsins": list(it.children), "variationTheme": _THEME}]}
    return {"relationships": []}


def _variations(it: CatalogItem, m: Market) -> dict[str, Any] | None:
    if it.parent:
        return {"asins": [it.parent], "variationType": "CHILD"}
    if it.children:
        return {"asins": list(it.children), "variationType": "PARENT"}
    return None


def _attributes(it: CatalogItem, markets: Iterable[Market]) -> dict[str, Any]:
    out: dict[str, list[dict[str, Any]]] = {}
    for m in markets:
        values: list[tuple[str, Any, dict[str, Any]]] = [("item_name", it.title(m), {"language_tag": m.language}),
                                                         ("brand", it.brand, {"language_tag": m.language})]
        if (color := it.color(m)) is not None:
            values.append(("color", color, {"language_tag": m.language}))
        values.append(("model_number", it.model_number, {}))
        if it.usd_cents is not None:
            price = it.usd_cents * m.price_factor / 100
            values.append(("list_price", round(price, -1) if m.decimals == 0 else round(price, 2),
                           {"currency": m.currency}))
        values.append(("externally_assigned_product_identifier", it.ean, {"type": "ean"}))
        for name, value, extra in values:
            out.setdefault(name, []).append({"value": value, **extra, "marketplace_id": m.id})
    return out


PartRenderer = Callable[[CatalogItem, Market], "dict[str, Any] | None"]


@dataclass(frozen=True)
class Flavour:
    """What differs between the two Catalog Items versions: parts, their renderers, paging, search rules."""

    version: str
    renderers: dict[str, PartRenderer]
    search_parts: tuple[str, ...]
    get_parts: tuple[str, ...]
    paging: Paging
    identifiers: bool  # searchCatalogItems accepts identifiers (2022) or keywords only (2020)
    always_pagination: bool  # 2020 requires pagination and refinements in every search answer

    def render(self, it: CatalogItem, markets: list[Market], parts: Iterable[str]) -> dict[str, Any]:
        """The model's ``Item`` with the parts asked for (model order), one entry per marketplace."""
        wanted = set(parts)
        out: dict[str, Any] = {"asin": it.asin}
        for part in self.get_parts:
            if part not in wanted:
                continue
            if part == "attributes":
                out[part] = _attributes(it, markets)
            elif part == "vendorDetails":
                out[part] = []
            else:
                fn = self.renderers[part]
                entries = ((m, fn(it, m)) for m in markets)
                out[part] = [{"marketplaceId": m.id, **body} for m, body in entries if body is not None]
        return out


V2022 = Flavour("2022-04-01", {
    "classifications": lambda it, m: {"classifications": [_browse(it.category)]},
    "dimensions": _dimensions, "identifiers": _identifiers(True), "images": _images,
    "productTypes": lambda it, m: {"productType": it.category.product_type}, "relationships": _relationships,
    "salesRanks": _ranks_2022, "summaries": _summary_2022,
}, PARTS_2022, PARTS_2022, Paging("catalog-2022", "pageToken", ceiling=1000, previous=True), True, False)
V2020 = Flavour("2020-12-01", {
    "identifiers": _identifiers(False), "images": _images,
    "productTypes": lambda it, m: {"productType": it.category.product_type}, "salesRanks": _ranks_2020,
    "summaries": _summary_2020, "variations": _variations,
}, PARTS_2020_SEARCH, PARTS_2020_GET, Paging("catalog-2020", "pageToken", ceiling=1000, previous=True), False, True)

