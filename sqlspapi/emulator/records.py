"""The emulator's demo data as records: products, orders, their items and addresses, money in minor units
(:func:`money_str`) and timestamps (:func:`iso`). :mod:`sqlspapi.emulator.generate` makes them from a seed;
:class:`sqlspapi.emulator.data.Dataset` holds and indexes them (and re-exports these names, where the APIs import them).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlspapi.emulator.pools import Market

STATUSES = ("PendingAvailability", "Pending", "Unshipped", "PartiallyShipped", "Shipped", "InvoiceUnconfirmed",
            "Canceled", "Unfulfillable")
_RECENT_WEIGHTS = (4, 12, 20, 8, 40, 4, 8, 4)
_OLD_WEIGHTS = (1, 1.5, 2, 1.5, 82, 2, 9, 1)
OPEN_STATUSES = frozenset({"PendingAvailability", "Pending", "Unshipped", "PartiallyShipped"})
#: Language of product titles by marketplace key (others: English).
LANGUAGES = {"DE": "de", "JP": "ja"}


@dataclass(slots=True)
class Product:
    """A catalog product the seller sells."""

    asin: str
    sku: str
    titles: dict[str, str]  # by language: en, de, ja
    usd_cents: int


@dataclass(slots=True)
class Item:
    """One order item (amounts in minor units of the order's currency)."""

    item_id: str
    product: Product
    title: str
    quantity: int
    shipped: int
    unit_price: int
    item_tax: int
    shipping: int
    promotion: int
    condition: str
    condition_subtype: str
    is_gift: bool
    promotion_id: str | None = None

    @property
    def item_price(self) -> int:
        """ItemPrice: unit price times quantity."""
        return self.unit_price * self.quantity


@dataclass(slots=True)
class Address:
    """A shipping address; Name/lines/phone are PII."""

    name: str
    line1: str
    city: str
    state: str
    postal: str
    country: str
    phone: str | None
    address_type: str


@dataclass(slots=True)
class OrderRecord:
    """One order as the emulator stores it; renderers turn it into v0 or 2026-01-01 JSON."""

    order_id: str
    market: Market
    purchase: datetime
    last_update: datetime
    status: str
    channel: str  # AFN | MFN
    payment_method: str
    ship_service_level: str
    ship_category: str
    order_type: str
    is_business: bool
    is_prime: bool
    is_premium: bool
    is_access_point: bool
    buyer_name: str
    buyer_email: str | None
    address: Address
    items: list[Item]
    seller_order_id: str | None = None
    replaced_order_id: str | None = None
    purchase_order_number: str | None = None
    buyer_company: str | None = None
    earliest_ship: datetime | None = None
    latest_ship: datetime | None = None
    earliest_delivery: datetime | None = None
    latest_delivery: datetime | None = None
    purchase_ts: float = 0.0
    update_ts: float = 0.0
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def units(self) -> int:
        """Units ordered over all items."""
        return sum(i.quantity for i in self.items)

    @property
    def units_shipped(self) -> int:
        """Units shipped over all items."""
        return sum(i.shipped for i in self.items)

    def total(self) -> int | None:
        """OrderTotal in minor units; None for Pending orders (Amazon leaves it out until payment)."""
        if self.status == "Pending":
            return None
        tax = 0 if self.market.tax_inclusive else sum(i.item_tax for i in self.items)
        return sum(i.item_price + i.shipping - i.promotion for i in self.items) + tax


def money_str(minor: int, market: Market) -> str:
    """Minor units as the SP-API amount string: ``"12.34"``; whole numbers for zero-decimal JPY (``"1980"``)."""
    if market.decimals == 0:
        return str(minor)
    sign = "-" if minor < 0 else ""
    minor = abs(minor)
    return f"{sign}{minor // 100}.{minor % 100:02d}"


def iso(dt: datetime) -> str:
    """A UTC datetime as ``2026-01-02T03:04:05Z``."""
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
