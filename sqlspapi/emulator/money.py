"""The demo seller's money model: listing prices and Amazon's fees, shared by every API that shows them.

One place decides what Amazon charges, so the APIs agree with each other the way Amazon's do: the fee estimate
for a SKU at its listing price (Product Fees), the fees posted for that SKU's shipped units (Finances, both
versions) and the referral/FBA fee columns of reports are all :func:`fees_for`. Amounts are integers in the
marketplace's minor units (cents; whole yen), converted from USD with the marketplace's ``price_factor``.

* referral fee: 15 % of (item price + shipping) — 8 % for the products :func:`referral_rate` puts in a
  low-rate category — at least the marketplace's equivalent of USD 0.30 per unit;
* FBA fulfilment fee (AFN only): one of five size tiers per product (USD 3.22 … 6.10 per unit);
* no closing fee (the demo sells no media) and no per-item fee (a Professional selling plan).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

from sqlspapi.emulator.data import Product
from sqlspapi.emulator.pools import Market
from sqlspapi.emulator.reports_listings import list_price

__all__ = ["Fees", "fees_for", "referral_rate", "fba_fee", "usd_to_minor", "list_price", "FBA_TIERS_USD_CENTS"]

#: FBA per-unit fulfilment fee tiers (USD cents); a product's tier is fixed by its ASIN.
FBA_TIERS_USD_CENTS = (322, 386, 475, 540, 610)
#: Minimum referral fee per unit (USD cents).
MIN_REFERRAL_USD_CENTS = 30


def usd_to_minor(usd_cents: int, market: Market) -> int:
    """USD cents → the marketplace's minor units (whole yen in JP)."""
    value = usd_cents * market.price_factor
    return int(round(value / 100)) if market.decimals == 0 else int(round(value))


def _bucket(product: Product, salt: str, n: int) -> int:
    return zlib.crc32(f"{salt}:{product.asin}".encode()) % n


def referral_rate(product: Product) -> float:
    """The referral fee rate of the product's category: 0.15, or 0.08 for about one product in four."""
    return 0.08 if _bucket(product, "referral", 4) == 0 else 0.15


def fba_fee(product: Product, market: Market) -> int:
    """The FBA fulfilment fee per unit in minor units."""
    return usd_to_minor(FBA_TIERS_USD_CENTS[_bucket(product, "fba", len(FBA_TIERS_USD_CENTS))], market)


@dataclass(frozen=True)
class Fees:
    """Amazon's fees for one unit sold at a price, in minor units of the marketplace's currency."""

    referral: int
    fba: int
    closing: int = 0
    per_item: int = 0

    @property
    def total(self) -> int:
        """Every fee together."""
        return self.referral + self.fba + self.closing + self.per_item


def fees_for(product: Product, market: Market, price: int, shipping: int = 0, afn: bool = True) -> Fees:
    """The fees for one unit of ``product`` sold in ``market`` at ``price`` plus ``shipping`` (minor units)."""
    referral = max(int(round((price + shipping) * referral_rate(product))),
                   usd_to_minor(MIN_REFERRAL_USD_CENTS, market))
    return Fees(referral=referral, fba=fba_fee(product, market) if afn else 0)
