"""The demo seller's ledger: the money Amazon posted to the seller, the one model both Finances versions render.

Built once per dataset (:meth:`~sqlspapi.emulator.data.Dataset.derived`) from its orders and products with the
shared money model (:mod:`sqlspapi.emulator.money`), so Finances agrees with Orders, Product Fees and the reports.
Amounts are signed as the seller sees them, in the marketplace's minor units; every event is posted before the
dataset's anchor (five minutes at least) and after the start of its two years of orders.

* **Shipment**: one per order with shipped units (Shipped, InvoiceUnconfirmed, PartiallyShipped), posted at its
  LastUpdateDate. Per shipped item and its ``units`` shipped: Principal = unit price × units (the order item's
  ItemPrice when every unit shipped); Tax where Amazon collects it (US, CA; elsewhere prices include VAT), withheld
  again as MarketplaceFacilitatorTax-Principal; ShippingCharge; Promotion (negative); Commission = −
  ``fees_for(product, market, unit price, afn=AFN order).referral`` × units; for AFN orders
  FBAPerUnitFulfillmentFee = − ``….fba`` × units (shipping and promotion pro rata for a partial shipment).
* **Refund** (about 1 shipped order in 12): the first shipped item refunded whole 2–21 days later: charges, tax and
  promotion reversed, the commission returned and a RefundCommission kept (20 %, at most USD 5); an AFN refund also
  posts a ServiceFee FBACustomerReturnPerUnitFee (the FBA fee again) for the order. **GuaranteeClaim** (A-to-z,
  merchant-fulfilled orders only) and **Chargeback**: rarer, the amounts of a refund. **Retrocharge**: a quarter of
  the first item's tax charged back on a few US/CA orders.
* **ServiceFee** per marketplace each month: the Subscription (USD 39.99) on the 1st and the FBA storage fee on the
  15th (no order). **Adjustment**: an FBA inventory reimbursement (WAREHOUSE_DAMAGE, 60 % of the list price per
  unit, with the FNSKU of the FBA inventory) every four weeks; **ProductAdsPayment**: the advertising invoice on the
  3rd; **CouponPayment**: redemption fees every four weeks; **RemovalShipment**: a liquidation every eight weeks.

Event groups (v0's financial event groups, 2024's FINANCIAL_EVENT_GROUP_ID) are the 14-day settlement periods per
marketplace of :func:`sqlspapi.emulator.reports_orders.settlement_periods`, continued back over the two years, with
the same settlement ids as the settlement reports, and one open group per marketplace since the last one closed.
A business order's shipment is deferred 7 days (reason B2B): DEFERRED until then (in no group; v0 omits it), then
DEFERRED_RELEASED. Every other event is RELEASED.
"""

from __future__ import annotations

import base64
import bisect
import hashlib
import math
from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlspapi.emulator.common import invalid, latest_allowed
from sqlspapi.emulator.data import LANGUAGES, Dataset, OrderRecord, Product
from sqlspapi.emulator.data import Item as OrderItem
from sqlspapi.emulator.fba_inventory import Stock, inventory
from sqlspapi.emulator.money import fees_for, list_price, usd_to_minor
from sqlspapi.emulator.pools import MARKETS, Market
from sqlspapi.emulator.reports_files import seeded

__all__ = ["AMOUNTS", "KINDS", "Amount", "Event", "Group", "Ledger", "LedgerItem", "ledger", "number",
           "PERIOD_DAYS", "HISTORY_PERIODS", "MAX_SPAN_DAYS", "posted_window", "title"]

PERIOD_DAYS = 14
#: Amazon answers nothing for a posted (or started) After/Before pair more than this many days apart.
MAX_SPAN_DAYS = 180
#: Closed 14-day periods per marketplace: enough to cover the dataset's two years.
HISTORY_PERIODS = 53
#: The event kinds the ledger posts (v0 list name = kind + "EventList"; 2024 transactionType = kind).
KINDS = ("Shipment", "Refund", "GuaranteeClaim", "Chargeback", "Retrocharge", "ServiceFee", "Adjustment",
         "ProductAdsPayment", "CouponPayment", "RemovalShipment")
#: Amount name (v0 ChargeType, FeeType or field) → (its place in a v0 event, its 2024 breakdown path).
AMOUNTS: Mapping[str, tuple[str, tuple[str, str, str]]] = {
    "Principal": ("charge", ("Sales", "ProductCharges", "OurPricePrincipal")),
    "Tax": ("charge", ("Sales", "Tax", "OurPriceTax")),
    "MarketplaceFacilitatorTax-Principal": ("withheld", ("Sales", "Tax", "MarketplaceFacilitatorTax")),
    "ShippingCharge": ("charge", ("Sales", "Shipping", "ShippingPrincipal")),
    "Promotion": ("promotion", ("Sales", "Promotions", "PromotionPrincipal")),
    "Commission": ("fee", ("Expenses", "AmazonFees", "Commission")),
    "FBAPerUnitFulfillmentFee": ("fee", ("Expenses", "AmazonFees", "FBAPerUnitFulfillmentFee")),
    "RefundCommission": ("fee", ("Expenses", "AmazonFees", "RefundCommission")),
    "Subscription": ("fee", ("Expenses", "ServiceFees", "Subscription")),
    "FBAStorageFee": ("fee", ("Expenses", "ServiceFees", "FBAStorageFee")),
    "FBACustomerReturnPerUnitFee": ("fee", ("Expenses", "ServiceFees", "FBACustomerReturnPerUnitFee")),
    "WAREHOUSE_DAMAGE": ("value", ("Reimbursements", "FBAInventoryReimbursement", "WarehouseDamage")),
    "BaseTax": ("value", ("Expenses", "Retrocharge", "BaseTax")),
    "baseValue": ("value", ("Expenses", "Advertising", "ProductAdsPayment")),
    "taxValue": ("value", ("Expenses", "Advertising", "ProductAdsTax")),
    "CouponRedemptionFee": ("fee", ("Expenses", "Coupons", "CouponRedemptionFee")),
    "Revenue": ("value", ("Sales", "Liquidations", "LiquidationsRevenue")),
    "FeeAmount": ("value", ("Expenses", "Liquidations", "LiquidationsFee")),
}
_SHIPPED = frozenset({"Shipped", "InvoiceUnconfirmed", "PartiallyShipped"})
_VAT = {"DE": 0.19, "UK": 0.2, "JP": 0.1}


class Amount(NamedTuple):
    """One amount an event moves: its name (a key of :data:`AMOUNTS`) and value (signed, minor units)."""

    name: str
    value: int


@dataclass(frozen=True, slots=True)
class LedgerItem:
    """A product line of an event: the units it concerns and their amounts."""

    product: Product
    quantity: int
    amounts: tuple[Amount, ...]
    order_item_id: str | None = None
    adjustment_id: str | None = None
    fn_sku: str | None = None
    promotion_id: str | None = None
    line_id: str | None = None  # a removal shipment item id


@dataclass(frozen=True, slots=True)
class Group:
    """A financial event group: one settlement period of one marketplace (``end`` None: the open group)."""

    group_id: str
    market: Market
    start: datetime
    end: datetime | None
    settlement_id: str | None
    trace_id: str
    account_tail: str


@dataclass(frozen=True, slots=True)
class Event:
    """One posting: its kind, marketplace, time, items and event-level amounts, status and group."""

    event_id: str
    kind: str
    market: Market
    posted: datetime
    items: tuple[LedgerItem, ...] = ()
    amounts: tuple[Amount, ...] = ()
    order: OrderRecord | None = None
    order_id: str | None = None  # the Amazon order id (a removal order id for a removal shipment)
    status: str = "RELEASED"
    maturity: datetime | None = None
    group: Group | None = None
    detail: Mapping[str, Any] = field(default_factory=dict)

    def every_amount(self) -> Iterator[Amount]:
        """The event-level amounts, then each item's."""
        yield from self.amounts
        for item in self.items:
            yield from item.amounts

    @property
    def total(self) -> int:
        """What the event moves in all (minor units)."""
        return sum(a.value for a in self.every_amount())


def title(product: Product, market: Market) -> str:
    """The product's title in the marketplace's language (as the order items have it)."""
    return product.titles[LANGUAGES.get(market.key, "en")]


def number(minor: int, market: Market) -> int | float:
    """Minor units as the JSON number of a money amount (whole yen in JP)."""
    return minor if market.decimals == 0 else minor / 100


def posted_window(after_name: str, after: datetime | None, before_name: str,
                  before: datetime | None) -> tuple[datetime, bool]:
    """Check an After/Before pair as Amazon does (both more than two minutes before now, After first); return the
    effective Before (default: two minutes before now) and whether the pair is more than 180 days apart (Amazon then
    answers nothing, without an error)."""
    limit = latest_allowed()
    if after is not None and after > limit:
        raise invalid(f"Invalid {after_name}: it must be more than two minutes before the time of the request.")
    if before is not None and before > limit:
        raise invalid(f"Invalid {before_name}: it must be more than two minutes before the time of the request "
                      f"(send at most now minus two minutes, or leave {before_name} out).")
    end = before if before is not None else limit.replace(microsecond=0)
    if after is not None and after >= end:
        raise invalid(f"Invalid {before_name}: it must be later than {after_name}.")
    return end, after is not None and end - after > timedelta(days=MAX_SPAN_DAYS)


def _uid(data: Dataset, *parts: object) -> str:
    """A 43-character id like Amazon's transaction and group ids, fixed by the seed and ``parts``."""
    digest = hashlib.sha256("-".join(str(p) for p in (data.seed, *parts)).encode()).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


def _num(data: Dataset, *parts: object) -> int:
    """A large non-negative integer fixed by the seed and ``parts`` (ids, picks, amounts)."""
    return int.from_bytes(hashlib.sha256("-".join(str(p) for p in (data.seed, *parts)).encode()).digest()[:8], "big")


class Ledger:
    """Every event of a dataset, sorted by posting time, with the groups and the look-ups the operations need."""

    def __init__(self, data: Dataset, stock: Mapping[str, list[Stock]]) -> None:
        self.data = data
        self._fn_skus = {(m, s.product.sku): s.fn_sku for m, rows in stock.items() for s in rows}
        self.limit = data.anchor - timedelta(minutes=5)
        self.start = data.anchor - timedelta(days=730)
        self.groups = _groups(data)
        last_end = data.anchor - timedelta(days=1)
        closed = {(g.market.id, g.start): g for g in self.groups if g.end is not None}
        opened = {g.market.id: g for g in self.groups if g.end is None}

        def group_for(market: Market, posted: datetime) -> Group | None:
            if posted >= last_end:
                return opened[market.id]
            k = math.ceil((last_end - posted) / timedelta(days=PERIOD_DAYS)) - 1
            return closed.get((market.id, last_end - timedelta(days=PERIOD_DAYS * (k + 1))))

        self.events: list[Event] = sorted(_build(data, self, group_for), key=lambda e: (e.posted, e.event_id))
        self._keys = [e.posted.timestamp() for e in self.events]
        self.group_by_id = {g.group_id: g for g in self.groups}
        self.by_order: dict[str, list[Event]] = defaultdict(list)
        self.by_group: dict[str, list[Event]] = defaultdict(list)
        for e in self.events:
            if e.order_id:
                self.by_order[e.order_id].append(e)
            if e.group is not None:
                self.by_group[e.group.group_id].append(e)

    def between(self, after: datetime, before: datetime) -> list[Event]:
        """The events with ``after <= posted < before``, oldest first."""
        return self.events[bisect.bisect_left(self._keys, after.timestamp()):
                           bisect.bisect_left(self._keys, before.timestamp())]

    def group_total(self, group: Group) -> int:
        """The sum of the group's events (its OriginalTotal)."""
        return sum(e.total for e in self.by_group.get(group.group_id, ()))

    def fn_sku(self, product: Product, market: Market) -> str:
        """The product's FNSKU in the marketplace (as the FBA inventory has it)."""
        return self._fn_skus[(market.id, product.sku)]


def ledger(data: Dataset) -> Ledger:
    """The dataset's ledger (built on first use; the FBA inventory first, for its FNSKUs)."""
    stock = inventory(data)
    return data.derived("finance_ledger", lambda d: Ledger(d, stock))


def _groups(data: Dataset) -> list[Group]:
    last_end = data.anchor - timedelta(days=1)
    out = []
    for k in range(HISTORY_PERIODS, -1, -1):
        start = last_end - timedelta(days=PERIOD_DAYS * k)
        end = start + timedelta(days=PERIOD_DAYS) if k else None
        for m in MARKETS:
            settlement = str(seeded(data, "settlement", m.id, start.date()).randrange(10**10, 10**11)) if k else None
            n = _num(data, "trace", m.id, start.date())
            out.append(Group(_uid(data, "group", m.id, start.date()), m, start, end, settlement, str(n % 10**14),
                             f"{n % 1000:03d}"))
    return out


# -- building ----------------------------------------------------------------------------------------------------
def _sale(o: OrderRecord, i: OrderItem, units: int, sign: int, refund: bool) -> tuple[Amount, ...]:
    """The amounts of ``units`` of order item ``i`` sold (sign 1) or given back (sign -1, ``refund``)."""
    m = o.market
    tax = 0 if m.tax_inclusive else round(i.item_tax * units / i.quantity)
    fees = fees_for(i.product, m, i.unit_price, afn=o.channel == "AFN")
    out = [("Principal", i.unit_price * units), ("Tax", tax), ("MarketplaceFacilitatorTax-Principal", -tax),
           ("ShippingCharge", round(i.shipping * units / i.quantity)),
           ("Promotion", -round(i.promotion * units / i.quantity)), ("Commission", -fees.referral * units)]
    values = [Amount(n, sign * v) for n, v in out]
    if refund:
        values.append(Amount("RefundCommission", -min(round(fees.referral * units * 0.2), usd_to_minor(500, m))))
    elif fees.fba:
        values.append(Amount("FBAPerUnitFulfillmentFee", -fees.fba * units))
    return tuple(a for a in values if a.value)


def _order_events(data: Dataset, book: Ledger, group_for: Any) -> Iterator[Event]:
    for o in data.orders:
        shipped = [i for i in o.items if i.shipped]
        if o.status not in _SHIPPED or not shipped:
            continue
        m, posted = o.market, o.last_update
        status, maturity = "RELEASED", None
        if o.is_business:
            maturity = posted + timedelta(days=7)
            status = "DEFERRED" if maturity > data.anchor else "DEFERRED_RELEASED"
        items = tuple(LedgerItem(i.product, i.shipped, _sale(o, i, i.shipped, 1, False), i.item_id,
                                 promotion_id=i.promotion_id) for i in shipped)
        yield Event(_uid(data, "Shipment", o.order_id), "Shipment", m, posted, items, (), o, o.order_id, status,
                    maturity, None if status == "DEFERRED" else group_for(m, posted),
                    {"shipment_id": str(_num(data, "shipment", o.order_id) % 10**14)})
        pick = _num(data, "claim", o.order_id) % 1000
        kind = "Refund" if pick < 80 else "GuaranteeClaim" if pick < 120 and o.channel == "MFN" else \
            "Chargeback" if 120 <= pick < 140 else None
        first = shipped[0]
        if kind is not None:
            when = posted + timedelta(days=2 + pick % 20, seconds=_num(data, kind, o.order_id) % 86400)
            if when < book.limit:
                item = LedgerItem(first.product, first.shipped, _sale(o, first, first.shipped, -1, True),
                                  first.item_id, str(_num(data, "adjustment", o.order_id) % 10**14),
                                  promotion_id=first.promotion_id)
                yield Event(_uid(data, kind, o.order_id), kind, m, when, (item,), (), o, o.order_id,
                            group=group_for(m, when), detail={"refund_id": str(_num(data, "refund", o.order_id)
                                                                               % 10**14)})
                fba = fees_for(first.product, m, first.unit_price, afn=o.channel == "AFN").fba
                if kind == "Refund" and fba:
                    fee = LedgerItem(first.product, first.shipped, (Amount("FBACustomerReturnPerUnitFee",
                                                                           -fba * first.shipped),),
                                     fn_sku=book.fn_sku(first.product, m))
                    later = when + timedelta(hours=1)
                    if later < book.limit:
                        yield Event(_uid(data, "return-fee", o.order_id), "ServiceFee", m, later, (fee,), (), o,
                                    o.order_id, group=group_for(m, later),
                                    detail={"FeeDescription": "FBA customer return fee"})
        if first.item_tax and not m.tax_inclusive and _num(data, "retro", o.order_id) % 40 == 0:
            when = posted + timedelta(days=5 + pick % 25)
            if when < book.limit:
                yield Event(_uid(data, "Retrocharge", o.order_id), "Retrocharge", m, when, (),
                            (Amount("BaseTax", -max(1, first.item_tax // 4)),), o, o.order_id,
                            group=group_for(m, when))


def _months(book: Ledger, day: int) -> Iterator[datetime]:
    """Day ``day`` of every month within the ledger's span, 06:00 UTC."""
    y, mo = book.start.year, book.start.month
    while True:
        when = book.start.replace(year=y, month=mo, day=day, hour=6, minute=0, second=0, microsecond=0)
        if when >= book.limit:
            return
        if when >= book.start:
            yield when
        y, mo = (y + 1, 1) if mo == 12 else (y, mo + 1)


def _every(book: Ledger, days: int, offset: int) -> Iterator[tuple[int, datetime]]:
    """(n, time) every ``days`` days from the ledger's start plus ``offset`` days, 10:00 UTC."""
    first = book.start.replace(hour=10, minute=0, second=0, microsecond=0) + timedelta(days=offset)
    n = 0
    while first + timedelta(days=days * n) < book.limit:
        yield n, first + timedelta(days=days * n)
        n += 1


def _seller_events(data: Dataset, book: Ledger, group_for: Any) -> Iterator[Event]:
    """Fees, reimbursements, advertising, coupons and liquidations: the events that belong to no order."""
    products = data.products
    for m in MARKETS:
        def event(kind: str, key: object, when: datetime, items: tuple[LedgerItem, ...] = (),
                  amounts: tuple[Amount, ...] = (), m: Market = m, order_id: str | None = None,
                  **detail: Any) -> Event:
            return Event(_uid(data, kind, m.id, key), kind, m, when, items, amounts, order_id=order_id,
                         group=group_for(m, when), detail=detail)

        for when in _months(book, 1):
            yield event("ServiceFee", when.date(), when, (), (Amount("Subscription", -usd_to_minor(3999, m)),),
                        FeeDescription="Subscription Fee")
        for when in _months(book, 15):
            fee = -usd_to_minor(1500 + _num(data, "storage", m.id, when.date()) % 6000, m)
            yield event("ServiceFee", ("storage", when.date()), when, (), (Amount("FBAStorageFee", fee),),
                        FeeDescription="FBA storage fee")
        for when in _months(book, 3):
            base = -usd_to_minor(5000 + _num(data, "ads", m.id, when.date()) % 25000, m)
            yield event("ProductAdsPayment", when.date(), when, (), (Amount("baseValue", base),
                        Amount("taxValue", round(base * _VAT.get(m.key, 0)))),
                        invoiceId=f"TRG{_num(data, 'invoice', m.id, when.date()) % 10**10:010d}")
        for n, when in _every(book, 28, 9):
            p = products[_num(data, "reimburse", m.id, n) % len(products)]
            units = 1 + n % 3
            item = LedgerItem(p, units, (Amount("WAREHOUSE_DAMAGE", round(list_price(p, m) * 0.6) * units),),
                              fn_sku=book.fn_sku(p, m))
            yield event("Adjustment", n, when, (item,), AdjustmentType="WAREHOUSE_DAMAGE")
        for n, when in _every(book, 28, 16):
            p = products[_num(data, "coupon", m.id, n) % len(products)]
            count = 5 + _num(data, "clips", m.id, n) % 36
            yield event("CouponPayment", n, when, (), (Amount("CouponRedemptionFee", -usd_to_minor(60, m) * count),),
                        CouponId=f"A{_num(data, 'coupon-id', m.id, n) % 10**12:012d}", ClipOrRedemptionCount=count,
                        SellerCouponDescription=f"Save 10% on {p.titles['en']}",
                        PaymentEventId=str(_num(data, "coupon-payment", m.id, n) % 10**12))
        for n, when in _every(book, 56, 20):
            p = products[_num(data, "removal", m.id, n) % len(products)]
            units = 1 + n % 10
            revenue = usd_to_minor(100 + _num(data, "liquidation", m.id, n) % 400, m) * units
            item = LedgerItem(p, units, (Amount("Revenue", revenue), Amount("FeeAmount", -round(revenue * 0.15))),
                              fn_sku=book.fn_sku(p, m), line_id=str(_num(data, "removal-item", m.id, n) % 10**12))
            removal = "T" + _uid(data, "removal-order", m.id, n).replace("-", "").replace("_", "")[:9]
            yield event("RemovalShipment", n, when, (item,), order_id=removal, MerchantOrderId=f"RO-{m.key}-{n:04d}",
                        TransactionType="WHOLESALE_LIQUIDATION")


def _build(data: Dataset, book: Ledger, group_for: Any) -> Iterator[Event]:
    yield from _order_events(data, book, group_for)
    yield from _seller_events(data, book, group_for)
