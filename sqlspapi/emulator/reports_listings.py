"""Listings and FBA inventory report files, built from the emulator's products and FBA stock.

* ``GET_MERCHANT_LISTINGS_ALL_DATA`` / ``GET_MERCHANT_LISTINGS_DATA`` (29 columns),
  ``GET_FLAT_FILE_OPEN_LISTINGS_DATA``: one row per product in the (single) marketplace; ``item-name`` is the title
  the orders carry there.
* ``GET_FBA_MYI_UNSUPPRESSED_INVENTORY_DATA`` / ``GET_FBA_MYI_ALL_INVENTORY_DATA``, ``GET_AFN_INVENTORY_DATA``: from
  the FBA stock getInventorySummaries returns (``afn-total-quantity`` = totalQuantity).
"""

from __future__ import annotations

from datetime import timedelta

from sqlspapi.emulator.data import Dataset, Product, money_str
from sqlspapi.emulator.fba_inventory import inventory
from sqlspapi.emulator.pools import Market
from sqlspapi.emulator.reports_files import CP1252_MARKETS, Builder, Quirks, Table, Window, local_date, seeded, title

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
#: Extra header names of the UK listings file whose rows stop after the 29 documented fields (ragged rows).
RAGGED_EXTRA = ("minimum-order-quantity", "sell-remainder")


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


def listings(active_only: bool) -> Builder:
    """The merchant listings report: every listing, or the active ones only."""
    def build(data: Dataset, w: Window, quirks: Quirks) -> Table:
        m = w.market
        stock = {s.product.sku: s for s in inventory(data).get(m.id, [])}
        channel = {"US": "AMAZON_NA", "CA": "AMAZON_NA", "JP": "AMAZON_FE"}.get(m.key, "AMAZON_EU")
        rows = []
        for n, p in enumerate(data.products):
            rng = seeded(data, "listing", m.id, p.sku)
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


def open_listings(data: Dataset, w: Window, quirks: Quirks) -> Table:
    """GET_FLAT_FILE_OPEN_LISTINGS_DATA: sku, asin, price, quantity."""
    m = w.market
    stock = {s.product.sku: s for s in inventory(data).get(m.id, [])}
    rows = [[p.sku, p.asin, money_str(list_price(p, m), m), str(stock[p.sku].fulfillable if p.sku in stock else 0)]
            for p in data.products]
    return Table(("sku", "asin", "price", "quantity"), rows)


def myi(data: Dataset, w: Window, quirks: Quirks) -> Table:
    """The FBA "manage inventory" reports (18 documented columns, 21 with header drift)."""
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


def afn(data: Dataset, w: Window, quirks: Quirks) -> Table:
    """GET_AFN_INVENTORY_DATA: sellable and unsellable units per SKU."""
    rows = []
    for s in inventory(data).get(w.market.id, []):
        for condition, qty in (("SELLABLE", s.fulfillable), ("UNSELLABLE", sum(s.unfulfillable))):
            rows.append([s.product.sku, s.fn_sku, s.product.asin, "NewItem", condition, str(qty)])
    return Table(("seller-sku", "fulfillment-channel-sku", "asin", "condition-type", "Warehouse-Condition-code",
                  "Quantity Available"), rows)
