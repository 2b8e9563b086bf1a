"""Report files built from the emulator's orders (:mod:`sqlspapi.emulator.data`), so they agree with the Orders API.

* ``GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL`` / ``…_BY_ORDER_DATE_GENERAL``: one row per order item of
  the orders whose LastUpdateDate / PurchaseDate lies in [dataStartTime, dataEndTime] (the 31 documented columns;
  ``cpf`` too for the order-date report) in EVERY marketplace the seller sells in within the regions of the
  requested ``marketplaceIds``, as Amazon does: it ignores the list for these two types (request US, get US and CA;
  rows name their marketplace only by ``sales-channel``). Sources: amzn/selling-partner-api-models issues #2209,
  #534, #1859, #2513; selling-partner-api-docs #1404, #3645. Values as getOrders/getOrderItems give them:
  ``order-status`` is the API's OrderStatus, ``item-price`` is ItemPrice (unit price × quantity), prices are blank
  for Pending orders, dates are ISO 8601 with an offset (``2025-12-01T08:04:21+00:00``).
* ``GET_FLAT_FILE_ACTIONABLE_ORDER_DATA_SHIPPING`` (restricted): the unshipped orders report — one row per item
  still to ship (``quantity-to-ship`` > 0) of the merchant-fulfilled Unshipped / PartiallyShipped orders purchased
  in the window, with the buyer and the recipient's address as an RDT's getOrderAddress / getOrderBuyerInfo give
  them.
* ``GET_AMAZON_FULFILLED_SHIPMENTS_DATA_GENERAL`` (restricted): one row per shipped item of the Amazon-fulfilled
  Shipped orders whose shipment (LastUpdateDate) lies in the window, with getOrderItems' prices.
* Returns, ledger, reimbursements (:func:`item_report`): a small TSV from the order items in the window.
* ``GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2``: cannot be requested; the store lists settlement reports Amazon
  "generated" (:func:`settlement_periods`): a summary row, then one row per shipped order item.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timedelta

from sqlspapi.emulator.data import Dataset, Item, OrderRecord, money_str
from sqlspapi.emulator.pools import MARKETS, Market
from sqlspapi.emulator.reports_files import Builder, Quirks, Table, Window, iso_offset, seeded
from sqlspapi.settings.marketplaces import MARKETPLACE_BY_ID, regions_of

ORDER_COLUMNS = (
    "amazon-order-id", "merchant-order-id", "purchase-date", "last-updated-date", "order-status",
    "fulfillment-channel", "sales-channel", "order-channel", "ship-service-level", "product-name", "sku", "asin",
    "item-status", "quantity", "currency", "item-price", "item-tax", "shipping-price", "shipping-tax",
    "gift-wrap-price", "gift-wrap-tax", "item-promotion-discount", "ship-promotion-discount", "ship-city",
    "ship-state", "ship-postal-code", "ship-country", "promotion-ids", "is-business-order", "purchase-order-number",
    "price-designation")
#: The unshipped orders report's columns (Amazon's documented 27).
ACTIONABLE_COLUMNS = (
    "order-id", "order-item-id", "purchase-date", "payments-date", "reporting-date", "promise-date",
    "days-past-promise", "buyer-email", "buyer-name", "buyer-phone-number", "sku", "product-name",
    "quantity-purchased", "quantity-shipped", "quantity-to-ship", "ship-service-level", "recipient-name",
    "ship-address-1", "ship-address-2", "ship-address-3", "ship-city", "ship-state", "ship-postal-code",
    "ship-country", "is-business-order", "purchase-order-number", "price-designation")
#: The Amazon Fulfilled Shipments report's columns (Amazon's documented 48).
FBA_SHIPMENT_COLUMNS = (
    "amazon-order-id", "merchant-order-id", "shipment-id", "shipment-item-id", "amazon-order-item-id",
    "merchant-order-item-id", "purchase-date", "payments-date", "shipment-date", "reporting-date", "buyer-email",
    "buyer-name", "buyer-phone-number", "sku", "product-name", "quantity-shipped", "currency", "item-price",
    "item-tax", "shipping-price", "shipping-tax", "gift-wrap-price", "gift-wrap-tax", "ship-service-level",
    "recipient-name", "ship-address-1", "ship-address-2", "ship-address-3", "ship-city", "ship-state",
    "ship-postal-code", "ship-country", "ship-phone-number", "bill-address-1", "bill-address-2", "bill-address-3",
    "bill-city", "bill-state", "bill-postal-code", "bill-country", "item-promotion-discount",
    "ship-promotion-discount", "carrier", "tracking-number", "estimated-arrival-date", "fulfillment-center-id",
    "fulfillment-channel", "sales-channel")
SETTLEMENT_COLUMNS = (
    "settlement-id", "settlement-start-date", "settlement-end-date", "deposit-date", "total-amount", "currency",
    "transaction-type", "order-id", "merchant-order-id", "adjustment-id", "shipment-id", "marketplace-name",
    "amount-type", "amount-description", "amount", "fulfillment-id", "posted-date", "posted-date-time",
    "order-item-code", "merchant-order-item-id", "merchant-adjustment-item-id", "sku", "quantity-purchased",
    "promotion-id")


def _in_markets(orders: Iterable[OrderRecord], w: Window) -> Iterator[OrderRecord]:
    wanted = set(w.marketplace_ids)
    return (o for o in orders if o.market.id in wanted)


def region_markets(w: Window) -> list[Market]:
    """The demo seller's marketplaces in the selling regions of the window's marketplaces (what an order report
    covers, whatever marketplaceIds it was asked for)."""
    regions = set(regions_of(w.marketplace_ids))
    return [m for m in MARKETS if MARKETPLACE_BY_ID[m.id].region in regions]


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


def orders(by_update: bool) -> Builder:
    """The all-orders report by last update (``by_update``) or by order date."""
    def build(data: Dataset, w: Window, quirks: Quirks) -> Table:
        lo, hi = w.start.timestamp(), w.end.timestamp()
        found = data.updated_between(lo, hi) if by_update else data.created_between(lo, hi)
        header = ORDER_COLUMNS if by_update else (*ORDER_COLUMNS, "cpf")
        markets = region_markets(w)
        rows = list(_order_rows((o for o in found if o.market in markets), not by_update))
        if quirks.header_drift and MARKETS[0] in markets:  # a 2022 US file carried this undocumented column
            header = (*header, "signature-confirmation-recommended")
            rows = [[*r, "false"] for r in rows]
        return Table(header, rows)
    return build


# -- restricted: buyer and address ------------------------------------------------------------------------------
def _buyer(o: OrderRecord) -> list[str]:
    """buyer-email, buyer-name, buyer-phone-number."""
    return [o.buyer_email or "", o.buyer_name, o.address.phone or ""]


def _recipient(o: OrderRecord) -> list[str]:
    """recipient-name, ship-address-1..3, ship-city, ship-state, ship-postal-code, ship-country."""
    a = o.address
    return [a.name, a.line1, "", "", a.city, a.state, a.postal, a.country]


def actionable_orders(data: Dataset, w: Window, quirks: Quirks) -> Table:
    """GET_FLAT_FILE_ACTIONABLE_ORDER_DATA_SHIPPING: the items merchant-fulfilled open orders still have to ship."""
    rows = []
    now = data.anchor
    for o in _in_markets(data.created_between(w.start.timestamp(), w.end.timestamp()), w):
        if o.channel != "MFN" or o.status not in ("Unshipped", "PartiallyShipped"):
            continue
        promise = o.latest_ship or o.purchase + timedelta(days=3)
        late = (now - promise).days
        for i in o.items:
            if i.quantity > i.shipped:
                rows.append([o.order_id, i.item_id, iso_offset(o.purchase), iso_offset(o.purchase),
                             iso_offset(o.last_update), iso_offset(promise), str(late), *_buyer(o), i.product.sku,
                             i.title, str(i.quantity), str(i.shipped), str(i.quantity - i.shipped),
                             o.ship_category, *_recipient(o), "true" if o.is_business else "false",
                             o.purchase_order_number or "", "BusinessPrice" if o.is_business else ""])
    return Table(ACTIONABLE_COLUMNS, rows)


def fba_shipments(data: Dataset, w: Window, quirks: Quirks) -> Table:
    """GET_AMAZON_FULFILLED_SHIPMENTS_DATA_GENERAL: the shipped items of Amazon-fulfilled orders."""
    rows = []
    for o in _in_markets(data.updated_between(w.start.timestamp(), w.end.timestamp()), w):
        if o.channel != "AFN" or o.status != "Shipped":
            continue
        m = o.market
        rng = seeded(data, "shipment", o.order_id)
        shipment = f"D{rng.randrange(10**8, 10**9)}"
        carrier, center = rng.choice((("AMZN_US", "PHX7"), ("UPS", "ONT8"), ("DHL", "LEJ1"), ("YAMATO", "NRT5")))
        a = o.address
        for n, i in enumerate(o.items):
            rows.append([o.order_id, o.seller_order_id or "", shipment, f"{shipment}{n + 1:03d}", i.item_id, "",
                         iso_offset(o.purchase), iso_offset(o.purchase), iso_offset(o.last_update),
                         iso_offset(o.last_update), *_buyer(o), i.product.sku, i.title, str(i.shipped), m.currency,
                         money_str(i.item_price, m), money_str(i.item_tax, m), money_str(i.shipping, m),
                         money_str(0, m), "", "", o.ship_category, *_recipient(o), a.phone or "", a.line1, "", "",
                         a.city, a.state, a.postal, a.country, money_str(-i.promotion, m), money_str(0, m),
                         carrier, f"TBA{rng.randrange(10**11, 10**12)}",
                         iso_offset(o.last_update + timedelta(days=2)), center, "AFN", m.sales_channel])
    return Table(FBA_SHIPMENT_COLUMNS, rows)


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


def item_report(columns: tuple[str, ...], every: int) -> Builder:
    """A small TSV with one row per item of every ``every``-th shipped AFN order updated in the window."""
    def build(data: Dataset, w: Window, quirks: Quirks) -> Table:
        rows = []
        for o in _in_markets(data.updated_between(w.start.timestamp(), w.end.timestamp()), w):
            if o.channel == "AFN" and o.status == "Shipped" and int(o.order_id[-3:]) % every == 0:
                rows += [[_ITEM_VALUES[c](o, i) if c in _ITEM_VALUES else "" for c in columns] for i in o.items]
        return Table(columns, rows)
    return build


# -- settlements ------------------------------------------------------------------------------------------------
def _settlement_money(minor: int, m: Market, quirks: Quirks) -> str:
    text = money_str(minor, m)
    return text.replace(".", ",") if quirks.decimal_comma and m.key == "DE" else text


def settlement(data: Dataset, w: Window, quirks: Quirks) -> Table:
    """GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2: a summary row, then one row per shipped item of the period."""
    m = w.market
    sid = str(seeded(data, "settlement", m.id, w.start.date()).randrange(10**10, 10**11))
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
