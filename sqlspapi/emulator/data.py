"""Deterministic demo data for the emulator: orders and their items, generated from a seed.

Everything comes from one ``random.Random(seed)`` (no global random state), so the same seed, count and anchor
always give the same orders. Timestamps lie in the two years before ``anchor`` (default: today 00:00 UTC) and
strictly before it, with a bias to the last two weeks so that open orders (Pending, Unshipped, ...) are recent.
Money is kept in minor units (cents; whole yen for JPY) and rendered by :func:`money_str`.
"""

from __future__ import annotations

import bisect
import random
import string
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from sqlspapi.emulator.pools import (
    FIRST_LAST,
    JP_NAMES,
    MARKET_WEIGHTS,
    MARKETS,
    ORDER_PREFIXES,
    PHONE_FORMATS,
    PLACES,
    PRODUCTS,
    STREETS,
    VARIANTS,
    Market,
)

STATUSES = ("PendingAvailability", "Pending", "Unshipped", "PartiallyShipped", "Shipped", "InvoiceUnconfirmed",
            "Canceled", "Unfulfillable")
_RECENT_WEIGHTS = (4, 12, 20, 8, 40, 4, 8, 4)
_OLD_WEIGHTS = (1, 1.5, 2, 1.5, 82, 2, 9, 1)
OPEN_STATUSES = frozenset({"PendingAvailability", "Pending", "Unshipped", "PartiallyShipped"})
#: Language of product titles by marketplace key (others: English).
LANGUAGES = {"DE": "de", "JP": "ja"}
T = TypeVar("T")
#: Results of :meth:`Dataset.memo` a dataset keeps (least recently used dropped first).
MEMO_SIZE = 32
#: Variants of :meth:`Dataset.encoded` a dataset keeps; one holds at most one encoded text per order.
ENCODED_VARIANTS = 4


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


def default_anchor() -> datetime:
    """Today 00:00 UTC."""
    now = datetime.now(UTC)
    return now.replace(hour=0, minute=0, second=0, microsecond=0)


class Dataset:
    """The generated orders, indexed for the emulator's queries."""

    def __init__(self, seed: int = 7, orders: int = 2000, anchor: datetime | None = None) -> None:
        self.seed = seed
        if anchor is None:
            anchor = default_anchor()
        elif anchor.tzinfo is None:
            anchor = anchor.replace(tzinfo=UTC)
        self.anchor = anchor.astimezone(UTC)
        rng = random.Random(seed)
        self.products = _products(rng)
        self.orders: list[OrderRecord] = _orders(rng, orders, self.anchor, self.products)
        self.by_id: dict[str, OrderRecord] = {o.order_id: o for o in self.orders}
        self.by_update: list[OrderRecord] = sorted(self.orders, key=lambda o: (o.update_ts, o.order_id))
        self._purchase_keys = [o.purchase_ts for o in self.orders]
        self._update_keys = [o.update_ts for o in self.by_update]
        self._derived: dict[str, Any] = {}
        self._derived_lock = threading.Lock()
        self._memo = _Lru(MEMO_SIZE)
        self._encoded = _Lru(ENCODED_VARIANTS)

    def derived(self, key: str, build: Callable[[Dataset], T]) -> T:
        """Data another API derives from this dataset (catalog, inventory), built on first use and kept."""
        with self._derived_lock:
            if key not in self._derived:
                self._derived[key] = build(self)
            return self._derived[key]

    def memo(self, key: Hashable, build: Callable[[], T]) -> T:
        """``build()``, kept for ``key`` while among the :data:`MEMO_SIZE` most recently used (the data never
        changes, so e.g. the filtered order list all pages of one search share is built once)."""
        return self._memo.get(key, build)

    def encoded(self, variant: Hashable) -> dict[str, bytes]:
        """A cache the renderer of ``variant`` fills: object key (order id) → its encoded JSON text.

        Kept while among the :data:`ENCODED_VARIANTS` most recently used variants; a variant holds at most one
        entry per order, so the memory is bounded by the dataset's size.
        """
        return self._encoded.get(variant, dict)

    def created_between(self, after: float, before: float) -> list[OrderRecord]:
        """Orders with after <= PurchaseDate <= before, oldest first."""
        lo = bisect.bisect_left(self._purchase_keys, after)
        hi = bisect.bisect_right(self._purchase_keys, before)
        return self.orders[lo:hi]

    def updated_between(self, after: float, before: float) -> list[OrderRecord]:
        """Orders with after <= LastUpdateDate <= before, least recently updated first."""
        lo = bisect.bisect_left(self._update_keys, after)
        hi = bisect.bisect_right(self._update_keys, before)
        return self.by_update[lo:hi]


class _Lru:
    """A thread-safe map of at most ``size`` values built on first use, least recently used dropped first."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._values: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, build: Callable[[], T]) -> T:
        """The value for ``key``, built (outside the lock) when absent."""
        with self._lock:
            if key in self._values:
                self._values.move_to_end(key)
                return self._values[key]
        value = build()
        with self._lock:
            value = self._values.setdefault(key, value)
            self._values.move_to_end(key)
            while len(self._values) > self._size:
                self._values.popitem(last=False)
        return value


_ALNUM = string.ascii_uppercase + string.digits


def _products(rng: random.Random) -> list[Product]:
    out: list[Product] = []
    seen: set[str] = set()
    for n, (en, de, ja, cents) in enumerate(PRODUCTS):
        for v, (ven, vde, vja) in enumerate(VARIANTS):
            asin = "B0" + "".join(rng.choices(_ALNUM, k=8))
            while asin in seen:
                asin = "B0" + "".join(rng.choices(_ALNUM, k=8))
            seen.add(asin)
            titles = {"en": f"{en} - {ven}", "de": f"{de} – {vde}", "ja": f"{ja}（{vja}）"}
            out.append(Product(asin, f"SKU-{n + 1:03d}-{ven.upper()[:3]}", titles, cents + v * 100))
    return out


def _fill(template: str, rng: random.Random) -> str:
    return "".join(
        str(rng.randrange(10)) if ch == "#" else rng.choice(string.ascii_uppercase) if ch == "@" else ch
        for ch in template
    )


def _address(rng: random.Random, market: Market, name: str) -> Address:
    city, state, postal = rng.choice(PLACES[market.key])
    street = rng.choice(STREETS[market.key]).format(n=rng.randint(1, 299), m=rng.randint(1, 9))
    phone = None
    if rng.random() < 0.85:
        phone = PHONE_FORMATS[market.key].format(n=rng.randint(100, 9999), m=rng.randint(1000, 9999))
    kind = "Commercial" if rng.random() < 0.1 else "Residential"
    return Address(name, street, city, state, _fill(postal, rng), market.country_code, phone, kind)


def _buyer_name(rng: random.Random, market: Market) -> str:
    if market.key == "JP":
        return rng.choice(JP_NAMES)
    first, last = FIRST_LAST[market.key]
    return f"{rng.choice(first)} {rng.choice(last)}"


def _orders(rng: random.Random, count: int, anchor: datetime, products: list[Product]) -> list[OrderRecord]:
    anchor_ts = anchor.timestamp()
    span = 730 * 86400 - 600
    latest = anchor_ts - 300  # nothing within five minutes of the anchor
    stamps = []
    for _ in range(count):
        if rng.random() < 0.12:
            stamps.append(latest - rng.random() * 14 * 86400)
        else:
            stamps.append(latest - rng.random() * span)
    stamps = sorted(int(s) for s in stamps)
    used_ids: set[str] = set()
    used_items: set[str] = set()
    out: list[OrderRecord] = []
    for n, ts in enumerate(stamps):
        market = rng.choices(MARKETS, MARKET_WEIGHTS)[0]
        recent = anchor_ts - ts < 14 * 86400
        status = rng.choices(STATUSES, _RECENT_WEIGHTS if recent else _OLD_WEIGHTS)[0]
        channel = "AFN" if rng.random() < 0.55 else "MFN"
        oid = ""
        while not oid or oid in used_ids:
            oid = f"{rng.choice(ORDER_PREFIXES[market.key])}-{rng.randrange(10**7):07d}-{rng.randrange(10**7):07d}"
        used_ids.add(oid)
        purchase = datetime.fromtimestamp(ts, UTC)
        delay = {"Pending": 0.02, "PendingAvailability": 3.0, "Unshipped": 0.3, "PartiallyShipped": 1.5,
                 "Canceled": 1.0}.get(status, 6.0)
        update_ts = ts + int(rng.random() * delay * 86400) + rng.randint(30, 900)
        if update_ts > latest:
            # not updated that late yet: its last update so far falls as far into (purchase, latest) as it would have
            # fallen into its usual span (clamping them all to `latest` would bunch the newest orders at one instant)
            update_ts = ts + int((update_ts - ts) * (latest - ts) / (delay * 86400 + 900))
        update_ts = max(min(update_ts, latest), ts)
        # items
        n_items = rng.choices((1, 2, 3, 4, 5), (55, 25, 10, 6, 4))[0]
        chosen = rng.sample(products, n_items)
        items: list[Item] = []
        for product in chosen:
            iid = ""
            while not iid or iid in used_items:
                iid = f"{rng.randrange(10**13, 10**14)}"
            used_items.add(iid)
            qty = rng.choices((1, 2, 3), (80, 15, 5))[0]
            unit = _local_price(product.usd_cents, market, rng)
            rate = {"US": 0.08, "CA": 0.13}.get(market.key, 0.19 if market.key == "DE" else 0.2)
            if market.key == "JP":
                rate = 0.1
            tax = round(unit * qty * rate * (1 if not market.tax_inclusive else 1 / (1 + rate)))
            shipping = 0 if channel == "AFN" or rng.random() < 0.5 else _local_price(399, market, rng)
            promo = 0
            promo_id = None
            if rng.random() < 0.1:
                promo = max(1, round(unit * qty * 0.1))
                promo_id = f"PLM-{rng.randrange(10**6):06d}"
            used = rng.random() < 0.05
            items.append(Item(
                iid, product, product.titles[LANGUAGES.get(market.key, "en")], qty, 0, unit, tax, shipping,
                promo, "Used" if used else "New", rng.choice(("Good", "Very Good", "Acceptable")) if used else "New",
                rng.random() < 0.05, promo_id))
        _ship(items, status, rng)
        name = _buyer_name(rng, market)
        payment = "Other"
        if market.key == "JP":
            payment = rng.choices(("Other", "COD", "CVS"), (84, 8, 8))[0]
        has_email = status != "Pending" and rng.random() < 0.97
        email = None
        if has_email:
            email = "".join(rng.choices(string.ascii_lowercase + string.digits, k=16)) + "@" + market.email_domain
        is_business = rng.random() < 0.08
        category = rng.choices(("Standard", "Expedited", "NextDay", "SecondDay", "FreeEconomy"),
                               (60, 15, 8, 7, 10))[0]
        level = {"Standard": f"Std {market.country_code} Dom", "FreeEconomy": "FreeEconomy"}.get(category, category)
        rec = OrderRecord(
            order_id=oid, market=market, purchase=purchase, last_update=datetime.fromtimestamp(update_ts, UTC),
            status=status, channel=channel, payment_method=payment, ship_service_level=level,
            ship_category=category, order_type="Preorder" if status == "PendingAvailability" else "StandardOrder",
            is_business=is_business, is_prime=rng.random() < (0.6 if channel == "AFN" else 0.05),
            is_premium=rng.random() < 0.05, is_access_point=rng.random() < 0.02, buyer_name=name,
            buyer_email=email, address=_address(rng, market, name), items=items,
            purchase_ts=float(ts), update_ts=float(update_ts),
        )
        if rng.random() < 0.35:
            rec.seller_order_id = f"SO-{n + 1:06d}"
        if out and rng.random() < 0.01:
            rec.replaced_order_id = rng.choice(out).order_id
        if is_business:
            rec.buyer_company = rng.choice(("Acme GmbH", "Globex Corp.", "株式会社サンプル", "Initech Ltd"))
            if rng.random() < 0.5:
                rec.purchase_order_number = f"PO-{rng.randrange(10**6):06d}"
        rec.earliest_ship = purchase + timedelta(days=1)
        rec.latest_ship = purchase + timedelta(days=3)
        if channel == "MFN":
            rec.earliest_delivery = purchase + timedelta(days=3)
            rec.latest_delivery = purchase + timedelta(days=7)
        out.append(rec)
    return out


def _local_price(usd_cents: int, market: Market, rng: random.Random) -> int:
    value = usd_cents * market.price_factor * rng.uniform(0.95, 1.05)
    if market.decimals == 0:
        return max(10, int(round(value / 100 / 10)) * 10)  # whole yen, rounded to 10
    return max(1, int(round(value / 10)) * 10 - 1)  # ends in 9 cents


def _ship(items: list[Item], status: str, rng: random.Random) -> None:
    """Set QuantityShipped per item so the order's counts fit its status."""
    if status in ("Shipped", "InvoiceUnconfirmed"):
        for i in items:
            i.shipped = i.quantity
    elif status == "PartiallyShipped":
        if sum(i.quantity for i in items) < 2:  # one unit cannot be partly shipped: make it two
            first = items[0]
            first.quantity, first.item_tax, first.promotion = 2, first.item_tax * 2, first.promotion * 2
        items[0].shipped = 1
        for i in items[1:]:
            i.shipped = rng.randint(0, i.quantity)
        if all(i.shipped == i.quantity for i in items):
            items[-1].shipped = items[-1].quantity - 1
