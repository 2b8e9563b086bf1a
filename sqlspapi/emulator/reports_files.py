"""Report documents of the emulated Reports API 2021-06-30: which report types exist and what their files hold.

Every file is generated from the emulator's own data (:mod:`sqlspapi.emulator.data` orders and products,
:mod:`sqlspapi.emulator.fba_inventory` stock), so a report and the API tables agree:

* ``GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL`` / ``…_BY_ORDER_DATE_GENERAL``: one row per order item of
  the orders whose LastUpdateDate / PurchaseDate lies in [dataStartTime, dataEndTime] in the report's marketplaces
  (the 31 documented columns; ``cpf`` too for the order-date report). Values as getOrders/getOrderItems give them:
  ``order-status`` is the API's OrderStatus, ``item-price`` is ItemPrice (unit price × quantity), prices are blank
  for Pending orders, dates are ISO 8601 with an offset (``2025-12-01T08:04:21+00:00``).
* ``GET_MERCHANT_LISTINGS_ALL_DATA`` / ``GET_MERCHANT_LISTINGS_DATA`` (29 columns),
  ``GET_FLAT_FILE_OPEN_LISTINGS_DATA``: one row per product in the (single) marketplace; ``item-name`` is the title
  the orders carry there.
* ``GET_FBA_MYI_UNSUPPRESSED_INVENTORY_DATA`` / ``GET_FBA_MYI_ALL_INVENTORY_DATA``, ``GET_AFN_INVENTORY_DATA``: from
  the FBA stock getInventorySummaries returns (``afn-total-quantity`` = totalQuantity).
* ``GET_SALES_AND_TRAFFIC_REPORT``: JSON per ``schemas/reports/sellerSalesAndTrafficReport.json`` — sales counted as
  getOrderMetrics counts them (no Pending, no Canceled orders), traffic drawn from the seed.
* ``GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2``: cannot be requested; the store lists settlement reports Amazon
  "generated" (:func:`settlement_periods`): a summary row, then one row per shipped order item.
* The other types of issue 9 (returns, ledger, reimbursements): a small TSV from the order items in the window.

Real-world quirks (``../shared/docs/report-formats.md``), each a :class:`Quirks` switch, on by default where Amazon
does it: charsets (JP ``Windows-31J`` with cp932-only characters, EU listings ``Cp1252`` with characters outside it as
``?``), local listing dates (``2019-06-17 14:24:11 PDT``, ``29/09/2025 16:19:39 BST``), ragged rows (UK listings:
31 header names, 29 fields), header drift (an extra column in US orders reports; 21 FBA inventory columns instead
of 18), decimal commas in EU settlements. ``not_gzip`` (off by default) labels a file GZIP and sends it plain.
"""

from __future__ import annotations

import gzip
import json
import random
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlspapi.emulator.data import LANGUAGES, Dataset, Item, OrderRecord, Product, money_str
from sqlspapi.emulator.fba_inventory import inventory
from sqlspapi.emulator.pools import MARKETS, MARKETS_BY_ID, Market

ORDERS_UPDATE = "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL"
ORDERS_DATE = "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_ORDER_DATE_GENERAL"
LISTINGS_ALL = "GET_MERCHANT_LISTINGS_ALL_DATA"
MYI_UNSUPPRESSED = "GET_FBA_MYI_UNSUPPRESSED_INVENTORY_DATA"
SALES_TRAFFIC = "GET_SALES_AND_TRAFFIC_REPORT"
SETTLEMENT = "GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2"

ORDER_COLUMNS = (
    "amazon-order-id", "merchant-order-id", "purchase-date", "last-updated-date", "order-status",
    "fulfillment-channel", "sales-channel", "order-channel", "ship-service-level", "product-name", "sku", "asin",
    "item-status", "quantity", "currency", "item-price", "item-tax", "shipping-price", "shipping-tax",
    "gift-wrap-price", "gift-wrap-tax", "item-promotion-discount", "ship-promotion-discount", "ship-city",
    "ship-state", "ship-postal-code", "ship-country", "promotion-ids", "is-business-order", "purchase-order-number",
    "price-designation")
LISTING_COLUMNS = (
    "item-name", "item-description", "listing-id", "seller-sku", "price", "quantity", "open-date", "image-url",
    "item-is-marketplace", "product-id-type", "zshop-shipping-fee", "item-note", "item-condition", "zshop-category1",
    "zshop-browse-path", "zshop-storefront-feature", "asin1", "asin2", "asin3", "will-ship-internationally",
    "expedited-shipping", "zshop-boldface", "product-id", "bid-for-featured-placement", "add-delete",
    "pending-quantity", "fulfillment-channel", "merchant-shipping-group", "status")
MYI_COLUMNS = (
    "sku", "fnsku", "asin", "product-name", "condition", "your-price", "mfn-listing-exists",
    "mfn-fulfillable-quantity", "afn-listing-exists", "afn-warehouse-quantity", "afn-fulfillable-quantity",
    "afn-unsellable-quantity", "afn-reserved-quantity", "afn-total-quantity", "per-unit-volume",
    "afn-inbound-working-quantity", "afn-inbound-shipped-quantity", "afn-inbound-receiving-quantity")
#: The three columns newer FBA inventory files carry (header drift: 18 → 21 columns).
MYI_DRIFT = ("afn-researching-quantity", "afn-reserved-future-supply", "afn-future-supply-buyable")
SETTLEMENT_COLUMNS = (
    "settlement-id", "settlement-start-date", "settlement-end-date", "deposit-date", "total-amount", "currency",
    "transaction-type", "order-id", "merchant-order-id", "adjustment-id", "shipment-id", "marketplace-name",
    "amount-type", "amount-description", "amount", "fulfillment-id", "posted-date", "posted-date-time",
    "order-item-code", "merchant-order-item-id", "merchant-adjustment-item-id", "sku", "quantity-purchased",
    "promotion-id")
#: Listing dates: (zone, strftime format) by marketplace key, as the marketplace's files write them.
LISTING_DATES = {"US": ("America/Los_Angeles", "%Y-%m-%d %H:%M:%S %Z"),
                 "CA": ("America/Los_Angeles", "%Y-%m-%d %H:%M:%S %Z"),
                 "UK": ("Europe/London", "%d/%m/%Y %H:%M:%S %Z"),
                 "DE": ("Europe/Berlin", "%d/%m/%Y %H:%M:%S %Z"),
                 "JP": ("Asia/Tokyo", "%Y/%m/%d %H:%M:%S %Z")}
#: Marketplaces whose listings files are windows-1252 (Amazon's EU listings).
CP1252_MARKETS = frozenset({"UK", "DE"})
#: Extra header names of the UK listings file whose rows stop after the 29 documented fields (ragged rows).
RAGGED_EXTRA = ("minimum-order-quantity", "sell-remainder")


@dataclass
class Quirks:
    """Which real-world file quirks the emulator reproduces (each on by default where Amazon does it)."""

    charsets: bool = True
    local_dates: bool = True
    ragged_rows: bool = True
    header_drift: bool = True
    decimal_comma: bool = True
    not_gzip: bool = False  # a file labelled GZIP whose bytes are not compressed (a fault; off by default)


@dataclass(frozen=True)
class Window:
    """What a report covers: its marketplaces, data window and options."""

    marketplace_ids: tuple[str, ...]
    start: datetime
    end: datetime
    options: dict[str, str] = field(default_factory=dict)

    @property
    def market(self) -> Market:
        """The first marketplace of the report (the demo seller's US store when it sells in none of them)."""
        return next((MARKETS_BY_ID[m] for m in self.marketplace_ids if m in MARKETS_BY_ID), MARKETS[0])

    @property
    def markets(self) -> list[Market]:
        """The report's marketplaces the demo seller sells in."""
        return [MARKETS_BY_ID[m] for m in self.marketplace_ids if m in MARKETS_BY_ID]


@dataclass(frozen=True)
class Table:
    """A flat file before encoding: header names and rows of text fields (a row may be shorter than the header)."""

    header: tuple[str, ...]
    rows: list[list[str]]


@dataclass(frozen=True)
class Document:
    """A stored report document: its bytes as served, the download's Content-Type, the GZIP label."""

    data: bytes
    content_type: str
    compression: str | None  # "GZIP" or None, as getReportDocument labels it


Builder = Callable[[Dataset, Window, Quirks], "Table | dict[str, Any]"]


@dataclass(frozen=True)
class ReportKind:
    """A report type the emulator knows: how to build its file and the rules of its requests."""

    name: str
    build: Builder
    max_days: int | None = None  # the longest data window one request may cover
    max_age_days: int | None = None  # how far back dataStartTime may go
    requestable: bool = True  # False: Amazon generates it (settlements); createReport answers 400
    gzip: bool = False
    single_marketplace: bool = False
    listings: bool = False  # EU listings files are windows-1252
    options: dict[str, tuple[str, ...]] = field(default_factory=dict)  # reportOptions with enumerated values


def _seeded(data: Dataset, *parts: object) -> random.Random:
    return random.Random("-".join(str(p) for p in (data.seed, *parts)))


def _clean(value: str) -> str:
    return value.replace("\t", " ").replace("\r", " ").replace("\n", " ")


def iso_offset(dt: datetime) -> str:
    """``2017-06-17T08:04:21+00:00``: the orders reports' date format."""
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def local_date(dt: datetime, market: Market, quirks: Quirks) -> str:
    """A listings date as the marketplace's file writes it (ISO 8601 UTC when the quirk is off)."""
    if not quirks.local_dates or market.key not in LISTING_DATES:
        return iso_offset(dt)
    zone, fmt = LISTING_DATES[market.key]
    return dt.astimezone(ZoneInfo(zone)).strftime(fmt)


def title(product: Product, market: Market) -> str:
    """The product's title in the marketplace (the Title getOrderItems gives)."""
    return product.titles[LANGUAGES.get(market.key, "en")]


def description(product: Product, market: Market) -> str:
    """A listing description: JP ones carry cp932-only characters, EU ones a character outside windows-1252."""
    name = title(product, market)
    if market.key == "JP":
        return f"【髙品質】①番人気 {name}～"
    if market.key in CP1252_MARKETS:
        return f"{name} ✓ Bestseller"
    return f"{name}. Ships fast."


def list_price(product: Product, market: Market) -> int:
    """The listing price in minor units (deterministic; whole tens of yen in JP, ending in 9 elsewhere)."""
    value = product.usd_cents * market.price_factor
    if market.decimals == 0:
        return max(10, int(round(value / 1000)) * 10)
    return max(1, int(round(value / 10)) * 10 - 1)


# -- orders -----------------------------------------------------------------------------------------------------
def _order_rows(orders: Iterable[OrderRecord], cpf: bool) -> Iterator[list[str]]:
    for o in orders:
        def amount(minor: int, o: OrderRecord = o) -> str:
            return money_str(minor, o.market) if o.status != "Pending" else ""
        m, priced = o.market, o.status != "Pending"
        for i in o.items:
            status = "Cancelled" if o.status == "Canceled" else ("Shipped" if i.shipped == i.quantity
                                                                 else "Unshipped")
            row = [o.order_id, o.seller_order_id or "", iso_offset(o.purchase), iso_offset(o.last_update), o.status,
                   "Amazon" if o.channel == "AFN" else "Merchant", m.sales_channel, "", o.ship_service_level,
                   i.title, i.product.sku, i.product.asin, status, str(i.quantity), m.currency if priced else "",
                   amount(i.item_price), amount(i.item_tax), amount(i.shipping), amount(0), "", "",
                   amount(i.promotion), amount(0), o.address.city, o.address.state, o.address.postal,
                   o.address.country, i.promotion_id or "", "true" if o.is_business else "false",
                   o.purchase_order_number or "", "BusinessPrice" if o.is_business else ""]
            if cpf:
                row.append("")
            yield row


def _orders(by_update: bool) -> Builder:
    def build(data: Dataset, w: Window, quirks: Quirks) -> Table:
        lo, hi = w.start.timestamp(), w.end.timestamp()
        found = data.updated_between(lo, hi) if by_update else data.created_between(lo, hi)
        wanted = set(w.marketplace_ids)
        header = ORDER_COLUMNS if by_update else (*ORDER_COLUMNS, "cpf")
        rows = list(_order_rows((o for o in found if o.market.id in wanted), not by_update))
        if quirks.header_drift and w.market.key == "US":  # a 2022 US file carried this undocumented column
            header = (*header, "signature-confirmation-recommended")
            rows = [[*r, "false"] for r in rows]
        return Table(header, rows)
    return build


# -- listings and inventory -------------------------------------------------------------------------------------
def _listings(active_only: bool) -> Builder:
    def build(data: Dataset, w: Window, quirks: Quirks) -> Table:
        m = w.market
        stock = {s.product.sku: s for s in inventory(data).get(m.id, [])}
        channel = {"US": "AMAZON_NA", "CA": "AMAZON_NA", "JP": "AMAZON_FE"}.get(m.key, "AMAZON_EU")
        rows = []
        for n, p in enumerate(data.products):
            rng = _seeded(data, "listing", m.id, p.sku)
            opened = data.anchor - timedelta(seconds=rng.randrange(86400, 700 * 86400))
            status = "Inactive" if n % 17 == 16 else "Active"
            if active_only and status != "Active":
                continue
            s = stock.get(p.sku)
            rows.append([title(p, m), description(p, m), f"{rng.randrange(10**9, 10**10)}", p.sku,
                         money_str(list_price(p, m), m), "" if s is None else str(s.fulfillable),
                         local_date(opened, m, quirks), "", "y", "1", "", "", "11", "", "", "", p.asin, "", "", "",
                         "", "", p.asin, "", "", "0", channel, "Migrated Template", status])
        header = LISTING_COLUMNS
        if quirks.ragged_rows and m.key == "UK":  # 31 header names, 29 fields per row
            header = (*header, *RAGGED_EXTRA)
        return Table(header, rows)
    return build


def _open_listings(data: Dataset, w: Window, quirks: Quirks) -> Table:
    m = w.market
    stock = {s.product.sku: s for s in inventory(data).get(m.id, [])}
    rows = [[p.sku, p.asin, money_str(list_price(p, m), m), str(stock[p.sku].fulfillable if p.sku in stock else 0)]
            for p in data.products]
    return Table(("sku", "asin", "price", "quantity"), rows)


def _myi(data: Dataset, w: Window, quirks: Quirks) -> Table:
    m = w.market
    header = (*MYI_COLUMNS, *MYI_DRIFT) if quirks.header_drift else MYI_COLUMNS
    rows = []
    for s in inventory(data).get(m.id, []):
        unsellable, reserved = sum(s.unfulfillable), sum(s.reserved)
        row = [s.product.sku, s.fn_sku, s.product.asin, title(s.product, m), "New",
               money_str(list_price(s.product, m), m), "No", "", "Yes", str(s.fulfillable + unsellable + reserved),
               str(s.fulfillable), str(unsellable), str(reserved), str(s.total), "0.05", *map(str, s.inbound)]
        if quirks.header_drift:
            row += [str(sum(s.researching)), "0", "0"]
        rows.append(row)
    return Table(header, rows)


def _afn(data: Dataset, w: Window, quirks: Quirks) -> Table:
    rows = []
    for s in inventory(data).get(w.market.id, []):
        for condition, qty in (("SELLABLE", s.fulfillable), ("UNSELLABLE", sum(s.unfulfillable))):
            rows.append([s.product.sku, s.fn_sku, s.product.asin, "NewItem", condition, str(qty)])
    return Table(("seller-sku", "fulfillment-channel-sku", "asin", "condition-type", "Warehouse-Condition-code",
                  "Quantity Available"), rows)


# -- order-item based small reports (returns, ledger, reimbursements) -------------------------------------------
#: Column → value of (order, item) for the small order-item reports.
_ITEM_VALUES: dict[str, Callable[[OrderRecord, Item], str]] = {
    "return-date": lambda o, i: iso_offset(o.last_update),
    "order-id": lambda o, i: o.order_id,
    "amazon-order-id": lambda o, i: o.order_id,
    "sku": lambda o, i: i.product.sku,
    "MSKU": lambda o, i: i.product.sku,
    "asin": lambda o, i: i.product.asin,
    "ASIN": lambda o, i: i.product.asin,
    "product-name": lambda o, i: i.title,
    "Title": lambda o, i: i.title,
    "quantity": lambda o, i: str(i.quantity),
    "Quantity": lambda o, i: str(-i.quantity),
    "Date": lambda o, i: o.last_update.strftime("%m/%d/%Y"),
    "Event Type": lambda o, i: "Shipments",
    "Reference ID": lambda o, i: o.order_id,
    "Country": lambda o, i: o.market.country_code,
    "approval-date": lambda o, i: iso_offset(o.last_update),
    "currency-unit": lambda o, i: o.market.currency,
    "amount-total": lambda o, i: money_str(i.unit_price, o.market),
    "quantity-reimbursed-cash": lambda o, i: "1",
    "status": lambda o, i: "Unit returned to inventory",
    "reason": lambda o, i: "UNWANTED_ITEM",
    "detailed-disposition": lambda o, i: "SELLABLE",
    "Disposition": lambda o, i: "SELLABLE",
}


def _item_report(columns: tuple[str, ...], every: int) -> Builder:
    """A small TSV with one row per item of every ``every``-th shipped AFN order updated in the window."""
    def build(data: Dataset, w: Window, quirks: Quirks) -> Table:
        wanted = set(w.marketplace_ids)
        rows = []
        for o in data.updated_between(w.start.timestamp(), w.end.timestamp()):
            picked = o.channel == "AFN" and o.status == "Shipped" and int(o.order_id[-3:]) % every == 0
            if picked and o.market.id in wanted:
                rows += [[_ITEM_VALUES[c](o, i) if c in _ITEM_VALUES else "" for c in columns] for i in o.items]
        return Table(columns, rows)
    return build


# -- sales and traffic (JSON) ----------------------------------------------------------------------------------
def _bucket(day: date, granularity: str) -> date:
    if granularity == "WEEK":
        return day - timedelta(days=(day.weekday() + 1) % 7)  # weeks start on Sunday
    if granularity == "MONTH":
        return day.replace(day=1)
    return day


def _amount(minor: int, m: Market) -> dict[str, Any]:
    return {"amount": float(money_str(minor, m)), "currencyCode": m.currency}


def _traffic(rng: random.Random, orders: int) -> dict[str, Any]:
    browser, mobile = rng.randint(orders * 20, orders * 40 + 50), rng.randint(orders * 10, orders * 20 + 30)
    b_sess, m_sess = browser // 2 + 1, mobile // 2 + 1
    sessions = b_sess + m_sess
    return {"browserPageViews": browser, "mobileAppPageViews": mobile, "pageViews": browser + mobile,
            "browserSessions": b_sess, "mobileAppSessions": m_sess, "sessions": sessions,
            "buyBoxPercentage": round(rng.uniform(80, 100), 2),
            "orderItemSessionPercentage": round(min(100.0, 100 * orders / sessions), 2),
            "unitSessionPercentage": round(100 * orders / sessions, 2)}


def _sales_traffic(data: Dataset, w: Window, quirks: Quirks) -> dict[str, Any]:
    m = w.market
    granularity = w.options.get("dateGranularity", "DAY")
    by_sku = w.options.get("asinGranularity", "PARENT") == "SKU"
    first, last = w.start.date(), w.end.date()
    days: dict[date, list[int]] = {}
    day = first
    while day <= last:
        days.setdefault(_bucket(day, granularity), [0, 0, 0, 0, 0])
        day += timedelta(days=1)
    products: dict[str, list[Any]] = {}
    hi = datetime.combine(last + timedelta(days=1), datetime.min.time(), UTC).timestamp()
    for o in data.created_between(datetime.combine(first, datetime.min.time(), UTC).timestamp(), hi):
        if o.purchase_ts >= hi or o.market is not m or o.status in ("Pending", "Canceled"):
            continue
        row = days[_bucket(o.purchase.date(), granularity)]
        row[0] += sum(i.quantity for i in o.items)
        row[1] += len(o.items)
        row[2] += sum(i.item_price for i in o.items)
        row[3] += sum(i.shipped for i in o.items)
        row[4] += 1 if o.units_shipped else 0
        for i in o.items:
            p = products.setdefault(i.product.sku, [i.product, 0, 0, 0])
            p[1], p[2], p[3] = p[1] + i.quantity, p[2] + 1, p[3] + i.item_price
    by_date = []
    for day, (units, items, sales, shipped_units, shipped_orders) in days.items():
        rng = _seeded(data, "traffic", m.id, day)
        traffic = _traffic(rng, items)
        traffic.update({"averageOfferCount": rng.randint(50, 80), "averageParentItems": len(data.products),
                        "feedbackReceived": rng.randint(0, 3), "negativeFeedbackReceived": 0,
                        "receivedNegativeFeedbackRate": 0.0})
        by_date.append({"date": day.isoformat(), "salesByDate": {
            "orderedProductSales": _amount(sales, m), "unitsOrdered": units, "totalOrderItems": items,
            "averageSalesPerOrderItem": _amount(sales // items if items else 0, m),
            "averageUnitsPerOrderItem": round(units / items, 2) if items else 0.0,
            "averageSellingPrice": _amount(sales // units if units else 0, m), "unitsRefunded": 0,
            "refundRate": 0.0, "claimsGranted": 0, "claimsAmount": _amount(0, m),
            "shippedProductSales": _amount(0, m), "unitsShipped": shipped_units, "ordersShipped": shipped_orders},
            "trafficByDate": traffic})
    by_asin = []
    for sku, (product, units, items, sales) in sorted(products.items()):
        entry: dict[str, Any] = {"parentAsin": product.asin, "childAsin": product.asin}
        if by_sku:
            entry["sku"] = sku
        traffic = _traffic(_seeded(data, "asin-traffic", m.id, sku, first), items)
        traffic.pop("orderItemSessionPercentage")
        for name, key in (("browserSession", "browserSessions"), ("mobileAppSession", "mobileAppSessions"),
                          ("session", "sessions"), ("browserPageViews", "browserPageViews"),
                          ("mobileAppPageViews", "mobileAppPageViews"), ("pageViews", "pageViews")):
            traffic[f"{name}Percentage"] = round(min(100.0, traffic[key] / 40), 2)
        entry.update({"salesByAsin": {"unitsOrdered": units, "orderedProductSales": _amount(sales, m),
                                      "totalOrderItems": items}, "trafficByAsin": traffic})
        by_asin.append(entry)
    return {"reportSpecification": {"reportType": SALES_TRAFFIC, "reportOptions": dict(w.options),
                                    "dataStartTime": first.isoformat(), "dataEndTime": last.isoformat(),
                                    "marketplaceIds": list(w.marketplace_ids)},
            "salesAndTrafficByDate": by_date, "salesAndTrafficByAsin": by_asin}


# -- settlements ------------------------------------------------------------------------------------------------
def _settlement_money(minor: int, m: Market, quirks: Quirks) -> str:
    text = money_str(minor, m)
    return text.replace(".", ",") if quirks.decimal_comma and m.key == "DE" else text


def _settlement(data: Dataset, w: Window, quirks: Quirks) -> Table:
    m = w.market
    sid = str(_seeded(data, "settlement", m.id, w.start.date()).randrange(10**10, 10**11))
    lines = []
    for o in data.updated_between(w.start.timestamp(), w.end.timestamp()):
        if o.market is m and o.status == "Shipped":
            lines += [(o, i) for i in o.items]
    total = sum(i.item_price - i.promotion for _, i in lines)
    utc = "%Y-%m-%d %H:%M:%S UTC"
    summary = [sid, w.start.strftime(utc), w.end.strftime(utc), (w.end + timedelta(days=1)).strftime(utc),
               _settlement_money(total, m, quirks), m.currency]
    rows = [summary + [""] * (len(SETTLEMENT_COLUMNS) - len(summary))]
    for o, i in lines:
        rows.append([sid, "", "", "", "", m.currency, "Order", o.order_id, o.seller_order_id or "", "", "",
                     m.sales_channel, "ItemPrice", "Principal", _settlement_money(i.item_price, m, quirks),
                     "AFN" if o.channel == "AFN" else "MFN", o.last_update.strftime("%d/%m/%y"),
                     o.last_update.strftime(utc), i.item_id, "", "", i.product.sku, str(i.quantity),
                     i.promotion_id or ""])
    return Table(SETTLEMENT_COLUMNS, rows)


def settlement_periods(data: Dataset) -> Iterator[tuple[Market, datetime, datetime]]:
    """The settlement periods Amazon closed for the demo seller: four 14-day periods per marketplace, the last ending
    a day before the dataset's anchor, oldest first."""
    for n in range(4, 0, -1):
        end = data.anchor - timedelta(days=14 * (n - 1) + 1)
        for m in MARKETS:
            yield m, end - timedelta(days=14), end


# -- the catalogue ----------------------------------------------------------------------------------------------
_S_AND_T_OPTIONS = {"dateGranularity": ("DAY", "WEEK", "MONTH"), "asinGranularity": ("PARENT", "CHILD", "SKU")}
_RETURNS = ("return-date", "order-id", "sku", "asin", "fnsku", "product-name", "quantity", "fulfillment-center-id",
            "detailed-disposition", "reason", "status", "license-plate-number", "customer-comments")
_LEDGER = ("Date", "FNSKU", "ASIN", "MSKU", "Title", "Event Type", "Reference ID", "Quantity", "Fulfillment Center",
           "Disposition", "Reason", "Country", "Reconciled Quantity", "Unreconciled Quantity")
_LEDGER_SUMMARY = ("Date", "FNSKU", "ASIN", "MSKU", "Title", "Disposition", "Starting Warehouse Balance",
                   "Customer Shipments", "Ending Warehouse Balance", "Location")
_REIMBURSEMENTS = ("approval-date", "reimbursement-id", "case-id", "amazon-order-id", "reason", "sku", "fnsku",
                   "asin", "product-name", "condition", "currency-unit", "amount-per-unit", "amount-total",
                   "quantity-reimbursed-cash", "quantity-reimbursed-inventory", "quantity-reimbursed-total",
                   "original-reimbursement-id", "original-reimbursement-type")
_RETURNS_MFN = ("Order ID", "Order date", "Return request date", "Return request status", "Amazon RMA ID",
                "Merchant SKU", "ASIN", "Item Name", "Return quantity", "Return reason")

KINDS: dict[str, ReportKind] = {k.name: k for k in (
    ReportKind(ORDERS_UPDATE, _orders(True), max_days=30, max_age_days=730, gzip=True),
    ReportKind(ORDERS_DATE, _orders(False), max_days=30, max_age_days=730, gzip=True),
    ReportKind(LISTINGS_ALL, _listings(False), single_marketplace=True, listings=True),
    ReportKind("GET_MERCHANT_LISTINGS_DATA", _listings(True), single_marketplace=True, listings=True),
    ReportKind("GET_FLAT_FILE_OPEN_LISTINGS_DATA", _open_listings, single_marketplace=True, listings=True),
    ReportKind(MYI_UNSUPPRESSED, _myi, single_marketplace=True),
    ReportKind("GET_FBA_MYI_ALL_INVENTORY_DATA", _myi, single_marketplace=True),
    ReportKind("GET_AFN_INVENTORY_DATA", _afn, single_marketplace=True),
    ReportKind("GET_FBA_FULFILLMENT_CUSTOMER_RETURNS_DATA", _item_report(_RETURNS, 7), max_days=90),
    ReportKind("GET_FLAT_FILE_RETURNS_DATA_BY_RETURN_DATE", _item_report(_RETURNS_MFN, 9), max_days=60),
    ReportKind("GET_LEDGER_DETAIL_VIEW_DATA", _item_report(_LEDGER, 1), max_days=540),
    ReportKind("GET_LEDGER_SUMMARY_VIEW_DATA", _item_report(_LEDGER_SUMMARY, 3), max_days=540),
    ReportKind("GET_FBA_REIMBURSEMENTS_DATA", _item_report(_REIMBURSEMENTS, 11), max_days=540),
    ReportKind(SALES_TRAFFIC, _sales_traffic, max_days=730, gzip=True, single_marketplace=True,
               options=_S_AND_T_OPTIONS),
    ReportKind(SETTLEMENT, _settlement, requestable=False),
)}


# -- encoding ---------------------------------------------------------------------------------------------------
def charset(kind: ReportKind, market: Market, quirks: Quirks) -> tuple[str, str]:
    """(the Content-Type's Java charset name, the Python codec) of a report file in a marketplace."""
    if quirks.charsets and market.key == "JP":
        return "Windows-31J", "cp932"
    if quirks.charsets and kind.listings and market.key in CP1252_MARKETS:
        return "Cp1252", "windows-1252"
    return "UTF-8", "utf-8"


def render(kind: ReportKind, data: Dataset, window: Window, quirks: Quirks) -> tuple[Document, int]:
    """Build the report's file: (the document as served, its number of data rows)."""
    built = kind.build(data, window, quirks)
    if isinstance(built, Table):
        java, codec = charset(kind, window.market, quirks)
        lines = ["\t".join(_clean(v) for v in built.header)]
        lines += ["\t".join(_clean(v) for v in row) for row in built.rows]
        raw = ("\n".join(lines) + "\n").encode(codec, errors="replace")
        count = len(built.rows)
    else:
        java, raw = "UTF-8", json.dumps(built, ensure_ascii=False).encode("utf-8")
        count = len(built.get("salesAndTrafficByDate", ())) + len(built.get("salesAndTrafficByAsin", ()))
    content_type = f"text/plain;charset={java}"
    if not kind.gzip:
        return Document(raw, content_type, None), count
    body = raw if quirks.not_gzip else gzip.compress(raw, compresslevel=6, mtime=0)
    return Document(body, content_type, "GZIP"), count


def error_document(reason: str) -> Document:
    """The document a FATAL report points to: JSON ``{"errorDetails": reason}``."""
    return Document(json.dumps({"errorDetails": reason}).encode("utf-8"), "text/plain;charset=UTF-8", None)
