"""The emulator's catalog: its items (the seller's products, variation parents, catalog-only items) and the search.

The catalog holds, in this order: the seller's products (the same ASINs and SKUs as the orders, in
``Dataset.products`` order), one variation parent per product family (``itemClassification`` VARIATION_PARENT,
children = the colour variants) and :data:`~sqlspapi.emulator.pools.CATALOG_EXTRA_ITEMS` catalog-only items (no
SKU). It is built on first use (``Dataset.derived``), deterministic in the dataset's seed. The Catalog Items API that
serves it is :mod:`sqlspapi.emulator.catalog`.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlspapi.emulator.data import LANGUAGES, Dataset
from sqlspapi.emulator.pools import (
    BRANDS,
    CATALOG_EXTRA_ITEMS,
    CATALOG_NOUNS,
    CATEGORIES,
    PRODUCT_CATEGORIES,
    PRODUCTS,
    VARIANTS,
    Category,
    Market,
)
from sqlspapi.emulator.sellers import SELLER_ID


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

