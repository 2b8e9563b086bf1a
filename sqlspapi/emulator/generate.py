"""The generator of the emulator's demo data: products and two years of orders with their items, from one
``random.Random`` (no global random state), so the same seed, count and anchor always give the same orders.
Timestamps lie in the two years before the anchor and strictly before it, with a bias to the last two weeks so that
open orders (Pending, Unshipped, ...) are recent.
"""

from __future__ import annotations

import random
import string
from datetime import UTC, datetime, timedelta

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
from sqlspapi.emulator.records import (
    _OLD_WEIGHTS,
    _RECENT_WEIGHTS,
    LANGUAGES,
    STATUSES,
    Address,
    Item,
    OrderRecord,
    Product,
)

__all__ = ["products", "orders"]

_ALNUM = string.ascii_uppercase + string.digits


def products(rng: random.Random) -> list[Product]:
    """The seller's catalog: one product per pool entry and variant, with unique ASINs and SKUs."""
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


def orders(rng: random.Random, count: int, anchor: datetime, products: list[Product]) -> list[OrderRecord]:
    """``count`` orders of ``products`` in the two years before ``anchor``, oldest first."""
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
