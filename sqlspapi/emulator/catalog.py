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

import base64
import hashlib
import random
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from sqlspapi.emulator.common import Request, Response, invalid, not_found
from sqlspapi.emulator.data import LANGUAGES, Dataset
from sqlspapi.emulator.generic import Endpoint, Paging, Row, rules
from sqlspapi.emulator.pools import (
    BRANDS,
    CATALOG_EXTRA_ITEMS,
    CATALOG_NOUNS,
    CATEGORIES,
    KNOWN_MARKETPLACE_IDS,
    MARKETS,
    MARKETS_BY_ID,
    PRODUCT_CATEGORIES,
    PRODUCTS,
    VARIANTS,
    Category,
    Market,
)
from sqlspapi.emulator.sellers import SELLER_ID

PARTS_2022 = ("attributes", "classifications", "dimensions", "identifiers", "images", "productTypes",
              "relationships", "salesRanks", "summaries", "vendorDetails")
PARTS_2020_SEARCH = ("identifiers", "images", "productTypes", "salesRanks", "summaries", "variations", "vendorDetails")
PARTS_2020_GET = ("attributes", *PARTS_2020_SEARCH)
IDENTIFIER_TYPES = ("ASIN", "EAN", "GTIN", "ISBN", "JAN", "MINSAN", "SKU", "UPC")
_THEME = {"attributes": ["color"], "theme": "COLOR"}

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


# -- the catalog ---------------------------------------------------------------------------------------------------
@dataclass(slots=True)
class CatalogItem:
    """One ASIN of the emulator's catalog (the same in every marketplace but for language and units)."""

    asin: str
    titles: dict[str, str]  # en always; de, ja when localised
    brand: str
    model_number: str
    category: Category
    classification: str  # BASE_PRODUCT | VARIATION_PARENT
    upc: str
    rank: int
    released: str
    size_cm: tuple[float, float, float]
    weight_kg: float
    colors: tuple[str, str, str] | None = None  # en, de, ja
    sku: str | None = None
    parent: str | None = None
    children: tuple[str, ...] = ()
    usd_cents: int | None = None

    def title(self, market: Market) -> str:
        """The item name in the marketplace's language (English when not localised)."""
        return self.titles.get(LANGUAGES.get(market.key, "en"), self.titles["en"])

    def color(self, market: Market) -> str | None:
        """The colour in the marketplace's language, if the item has one."""
        if self.colors is None:
            return None
        return self.colors[("en", "de", "ja").index(LANGUAGES.get(market.key, "en"))]

    @property
    def ean(self) -> str:
        """EAN-13 (the UPC with a leading 0)."""
        return "0" + self.upc

    @property
    def gtin(self) -> str:
        """GTIN-14 (the UPC with two leading zeros)."""
        return "00" + self.upc


@dataclass
class Catalog:
    """Every catalog item, by ASIN, with the lower-case search text per language."""

    items: list[CatalogItem]
    by_asin: dict[str, CatalogItem] = field(default_factory=dict)
    text: dict[str, list[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.by_asin = {it.asin: it for it in self.items}
        for lang in ("en", "de", "ja"):
            self.text[lang] = [f"{it.titles.get(lang, it.titles['en'])} {it.brand}".lower() for it in self.items]

    def search(self, market: Market | None, p: dict[str, Any]) -> list[CatalogItem]:
        """The items a validated searchCatalogItems query matches, in catalog order."""
        if market is None:
            return []
        if p.get("identifiers"):
            key = _IDENTIFIER_KEYS.get(p["identifiersType"])
            wanted = set(p["identifiers"])
            if key is None or (p["identifiersType"] == "SKU" and p.get("sellerId") != SELLER_ID):
                return []
            found = [it for it in self.items if key(it) in wanted]
        else:
            words = [k.lower() for k in p["keywords"]]
            texts = self.text[LANGUAGES.get(market.key, "en")]
            found = [it for it, text in zip(self.items, texts, strict=True) if all(w in text for w in words)]
        if p.get("brandNames"):
            brands = {b.lower() for b in p["brandNames"]}
            found = [it for it in found if it.brand.lower() in brands]
        if p.get("classificationIds"):
            nodes = set(p["classificationIds"])
            found = [it for it in found if nodes & {it.category.id, *(a for a, _ in it.category.ancestors)}]
        return found


_IDENTIFIER_KEYS: dict[str, Callable[[CatalogItem], str | None]] = {
    "ASIN": lambda it: it.asin, "EAN": lambda it: it.ean, "GTIN": lambda it: it.gtin, "UPC": lambda it: it.upc,
    "SKU": lambda it: it.sku,
}


def _upc(rng: random.Random, seen: set[str]) -> str:
    while True:
        body = "8" + "".join(str(rng.randrange(10)) for _ in range(10))
        total = 3 * sum(int(d) for d in body[0::2]) + sum(int(d) for d in body[1::2])
        code = body + str((10 - total % 10) % 10)
        if code not in seen:
            seen.add(code)
            return code


def _asin(rng: random.Random, seen: set[str]) -> str:
    while True:
        asin = "B0" + "".join(rng.choices("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", k=8))
        if asin not in seen:
            seen.add(asin)
            return asin


def build_catalog(data: Dataset) -> Catalog:
    """The catalog of ``data`` (deterministic in the dataset's seed)."""
    rng = random.Random(f"catalog-{data.seed}")
    asins = {p.asin for p in data.products}
    upcs: set[str] = set()

    def item(asin: str, titles: dict[str, str], brand: str, model: str, category: Category, **kw: Any) -> CatalogItem:
        size = (round(rng.uniform(5, 60), 1), round(rng.uniform(3, 40), 1), round(rng.uniform(1, 30), 1))
        released = f"{rng.randint(2015, 2025)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        return CatalogItem(asin, titles, brand, model, category, kw.pop("classification", "BASE_PRODUCT"),
                           _upc(rng, upcs), rng.randint(1, 250_000), released, size,
                           round(rng.uniform(0.05, 4.0), 2), **kw)

    per = len(VARIANTS)
    parents = [_asin(rng, asins) for _ in PRODUCTS]
    items: list[CatalogItem] = []
    for k, product in enumerate(data.products):
        n, v = divmod(k, per)
        items.append(item(product.asin, product.titles, BRANDS[n % len(BRANDS)], product.sku.replace("SKU", "EM"),
                          CATEGORIES[PRODUCT_CATEGORIES[n]], colors=VARIANTS[v], sku=product.sku, parent=parents[n],
                          usd_cents=product.usd_cents))
    for n, (en, de, ja, _cents) in enumerate(PRODUCTS):
        children = tuple(p.asin for p in data.products[n * per:(n + 1) * per])
        items.append(item(parents[n], {"en": en, "de": de, "ja": ja}, BRANDS[n % len(BRANDS)], f"EM-{n + 1:03d}",
                          CATEGORIES[PRODUCT_CATEGORIES[n]], classification="VARIATION_PARENT", children=children))
    for i in range(CATALOG_EXTRA_ITEMS):
        brand = BRANDS[i % len(BRANDS)]
        noun, cat, code = CATALOG_NOUNS[(i // len(BRANDS)) % len(CATALOG_NOUNS)]
        series = i // (len(BRANDS) * len(CATALOG_NOUNS)) + 1
        items.append(item(_asin(rng, asins), {"en": f"{brand} {noun}, model {series}"}, brand,
                          f"{brand[:3].upper()}-{code}-{series:03d}", CATEGORIES[cat],
                          usd_cents=rng.randrange(999, 4999, 100)))
    return Catalog(items)


def catalog(data: Dataset) -> Catalog:
    """The dataset's catalog (built on first use)."""
    return data.derived("catalog", build_catalog)


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
