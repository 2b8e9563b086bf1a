"""The competitive offer model the Product Pricing APIs (v0 and 2022-05-01) render: who sells each product where,
at what price, and who wins the featured offer (the Buy Box).

For each product and marketplace (deterministic in the dataset's seed):

* the seller's own offer at :func:`~sqlspapi.emulator.money.list_price` (FBA: no shipping, Prime, New);
* 0–4 competitor offers from a fixed pool of sellers, priced 88–115 % of the list price (ending in 9; whole tens of
  yen in JP), FBA or merchant-fulfilled with a shipping charge; about one product in four also has a Used offer;
* about one product in eight has no competitor at all (then the featured offer expected price is
  ``NO_COMPETING_OFFER``).

The featured offer is the New, featured-merchant-eligible offer with the lowest landed price (price + shipping);
a tie goes to the seller's own offer. The featured offer expected price (FOEP) of the seller's SKU is the lowest
landed price of an eligible competitor: at or below it the seller's offer is featured.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from sqlspapi.emulator.data import Dataset, Product
from sqlspapi.emulator.money import list_price, usd_to_minor
from sqlspapi.emulator.pools import MARKETS, MARKETS_BY_ID, Market
from sqlspapi.emulator.sellers import SELLER_ID

__all__ = ["Offer", "Competition", "competition", "find", "market_of", "amount", "money", "COMPETITORS"]

#: Competing sellers: (seller id, positive feedback %, feedback count, ships from).
COMPETITORS: tuple[tuple[str, float, int, str], ...] = (
    ("A2COMPETITORONE", 98.0, 12840, "US"), ("A3PRICEHAWKDEAL", 95.5, 3210, "US"),
    ("A1BUDGETBAZAAR7", 87.0, 410, "CN"), ("A4TRUSTYTRADERS", 99.1, 58112, "DE"),
    ("A5NEWCOMERSHOP9", 80.0, 12, "GB"), ("A6MARKETMOVERSX", 96.8, 7705, "JP"),
)
#: Shipping charges (USD cents) of merchant-fulfilled competitor offers.
_SHIPPING_USD_CENTS = (0, 399, 499, 599)


@dataclass(frozen=True)
class Offer:
    """One offer for a product in a marketplace; money in the marketplace's minor units."""

    seller_id: str
    mine: bool
    condition: str  # New | Used
    sub_condition: str  # New | VeryGood | Good …
    price: int
    shipping: int
    afn: bool
    feedback_pct: float
    feedback_count: int
    ships_from: str
    min_hours: int
    max_hours: int

    @property
    def landed(self) -> int:
        """Price plus shipping (no points in the demo)."""
        return self.price + self.shipping

    @property
    def eligible(self) -> bool:
        """Whether the seller may win the featured offer (``IsFeaturedMerchant``): good feedback, enough of it."""
        return self.mine or (self.feedback_pct >= 90.0 and self.feedback_count >= 100)


@dataclass(frozen=True)
class Competition:
    """Every offer of one product in one marketplace, lowest landed price first, and the featured offer."""

    product: Product
    market: Market
    offers: tuple[Offer, ...]
    featured: Offer | None
    msrp: int
    rank: int
    category: str
    similar: tuple[str, ...]

    @property
    def own(self) -> Offer:
        """The seller's own offer."""
        return next(o for o in self.offers if o.mine)

    def of(self, condition: str) -> list[Offer]:
        """The offers in one condition (New, Used, …), lowest landed price first."""
        return [o for o in self.offers if o.condition == condition]

    @property
    def rival(self) -> Offer | None:
        """The eligible New competitor with the lowest landed price (featured when the seller prices above it)."""
        return next((o for o in self.of("New") if o.eligible and not o.mine), None)


def _price(value: float, market: Market) -> int:
    """A shelf price in minor units: ending in 9 (whole tens of yen in JP)."""
    if market.decimals == 0:
        return max(10, int(round(value / 10)) * 10)
    return max(1, int(round(value / 10)) * 10 - 1)


def _build(data: Dataset) -> dict[tuple[str, str], Competition]:
    out: dict[tuple[str, str], Competition] = {}
    families: dict[str, list[str]] = {}
    for n, p in enumerate(data.products):
        families.setdefault(str(n // 3), []).append(p.asin)
    for n, p in enumerate(data.products):
        for m in MARKETS:
            rng = random.Random(f"offers-{data.seed}-{p.asin}-{m.id}")
            base = list_price(p, m)
            offers = [Offer(SELLER_ID, True, "New", "New", base, 0, True, 99.4, 2210, m.country_code, 0, 24)]
            rivals = 0 if rng.random() < 0.125 else rng.randint(1, 4)
            for sid, pct, count, ships in rng.sample(COMPETITORS, rivals):
                afn = rng.random() < 0.5
                shipping = 0 if afn else usd_to_minor(rng.choice(_SHIPPING_USD_CENTS), m)
                offers.append(Offer(sid, False, "New", "New", _price(base * rng.uniform(0.88, 1.15), m), shipping,
                                    afn, pct, count, ships, 24 if afn else 48, 48 if afn else 96))
            if rivals and rng.random() < 0.25:
                sid, pct, count, ships = rng.choice(COMPETITORS)
                offers.append(Offer(sid, False, "Used", rng.choice(("VeryGood", "Good", "Acceptable")),
                                    _price(base * rng.uniform(0.6, 0.85), m), usd_to_minor(399, m), False, pct,
                                    count, ships, 48, 96))
            offers.sort(key=lambda o: (o.landed, not o.mine, o.seller_id))
            eligible = [o for o in offers if o.condition == "New" and o.eligible]
            featured = min(eligible, key=lambda o: (o.landed, not o.mine)) if eligible else None
            family = families[str(n // 3)]
            out[(p.asin, m.id)] = Competition(
                p, m, tuple(offers), featured, _price(base * 1.25, m), rng.randint(150, 250_000),
                f"{1000 + n // 3}", tuple(a for a in family if a != p.asin))
    return out


def _index(data: Dataset) -> dict[str, Any]:
    """The competition by (ASIN, marketplace), and products by ASIN and by SKU."""
    return {"competition": _build(data), "asin": {p.asin: p for p in data.products},
            "sku": {p.sku: p for p in data.products}}


def competition(data: Dataset, product: Product, market: Market) -> Competition:
    """The offers for ``product`` in ``market`` (built once per dataset)."""
    return data.derived("offers", _index)["competition"][(product.asin, market.id)]


def find(data: Dataset, *, asin: str | None = None, sku: str | None = None) -> Product | None:
    """The seller's product with this ASIN or SKU, or None."""
    index = data.derived("offers", _index)
    return index["asin"].get(asin or "") if asin is not None else index["sku"].get(sku or "")


def market_of(marketplace_id: Any) -> Market | None:
    """The demo marketplace with this id (None: the seller does not sell there)."""
    return MARKETS_BY_ID.get(marketplace_id) if isinstance(marketplace_id, str) else None


def amount(minor: int, market: Market) -> float | int:
    """Minor units as the JSON number Pricing and Fees answers carry (whole yen stay integers)."""
    return minor if market.decimals == 0 else round(minor / 100, 2)


def money(minor: int, market: Market, *, pascal: bool = True) -> dict[str, Any]:
    """A ``MoneyType``: ``{"CurrencyCode", "Amount"}`` (v0) or ``{"currencyCode", "amount"}`` (2022-05-01)."""
    if pascal:
        return {"CurrencyCode": market.currency, "Amount": amount(minor, market)}
    return {"currencyCode": market.currency, "amount": amount(minor, market)}
