"""FBA Inventory API v1: getInventorySummaries over the seller's products.

One summary per product SKU per marketplace of the dataset (``Dataset.products`` order), built on first use.
``reservedQuantity.pendingCustomerOrderQuantity`` is the number of units not yet shipped of the open
(PendingAvailability, Pending, Unshipped, PartiallyShipped) AFN orders of that SKU in that marketplace, so inventory
joins the orders; the other quantities and ``lastUpdatedTime`` (within the 45 days before the dataset's anchor)
are drawn from the seed. ``totalQuantity`` = fulfillable + inbound (working, shipped, receiving) + reserved +
researching + unfulfillable.

Rules as Amazon's: ``granularityType=Marketplace`` and ``granularityId`` equal to the one ``marketplaceIds`` value;
``startDateTime`` (at most 18 months back) selects summaries with ``lastUpdatedTime >= startDateTime`` and then
``sellerSkus``/``sellerSku`` are ignored; ``sellerSkus`` (≤ 50) wins over ``sellerSku``; ``details=true`` adds
``inventoryDetails``. Pages hold 50 summaries; the ``nextToken`` (in ``pagination``, beside ``payload``) must come
with the same marketplaceIds, granularity, startDateTime and SKU filters, and expires 30 seconds (emulator clock,
see ``Emulator.advance_clock``) after it was issued.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlspapi.emulator.common import Request, Response, invalid
from sqlspapi.emulator.data import LANGUAGES, OPEN_STATUSES, Dataset, Product, iso
from sqlspapi.emulator.generic import Endpoint, Paging, Row, rules
from sqlspapi.emulator.pools import KNOWN_MARKETPLACE_IDS, MARKETS, Market

PAGE_SIZE = 50
TOKEN_TTL = 30.0
PAGING = Paging("fba-summaries", "nextToken", ttl=TOKEN_TTL)
SUMMARIES = rules("""
details          boolean   default=false
granularityType  string    required enum=Marketplace
granularityId    string    required
startDateTime    date-time
sellerSkus       string[]  max_items=50
sellerSku        string
nextToken        string
marketplaceIds   string[]  required max_items=1
""")
#: The filters a nextToken request must repeat.
FILTERS = ("marketplaceIds", "granularityType", "granularityId", "startDateTime", "sellerSkus", "sellerSku")
_RESEARCH = ("researchingQuantityInShortTerm", "researchingQuantityInMidTerm", "researchingQuantityInLongTerm")
_DAMAGE = ("customerDamagedQuantity", "warehouseDamagedQuantity", "distributorDamagedQuantity",
           "carrierDamagedQuantity", "defectiveQuantity", "expiredQuantity")


@dataclass(slots=True)
class Stock:
    """One SKU's FBA inventory in one marketplace."""

    product: Product
    market: Market
    fn_sku: str
    updated: datetime
    fulfillable: int
    inbound: tuple[int, int, int]  # working, shipped, receiving
    reserved: tuple[int, int, int]  # pending customer orders, pending transshipment, FC processing
    researching: tuple[int, int, int]
    unfulfillable: tuple[int, int, int, int, int, int]

    @property
    def total(self) -> int:
        """totalQuantity."""
        return (self.fulfillable + sum(self.inbound) + sum(self.reserved) + sum(self.researching)
                + sum(self.unfulfillable))

    def render(self, details: bool) -> dict[str, Any]:
        """The model's ``InventorySummary``."""
        out: dict[str, Any] = {"asin": self.product.asin, "fnSku": self.fn_sku, "sellerSku": self.product.sku,
                               "condition": "NewItem"}
        if details:
            out["inventoryDetails"] = {
                "fulfillableQuantity": self.fulfillable,
                "inboundWorkingQuantity": self.inbound[0],
                "inboundShippedQuantity": self.inbound[1],
                "inboundReceivingQuantity": self.inbound[2],
                "reservedQuantity": {"totalReservedQuantity": sum(self.reserved),
                                     "pendingCustomerOrderQuantity": self.reserved[0],
                                     "pendingTransshipmentQuantity": self.reserved[1],
                                     "fcProcessingQuantity": self.reserved[2]},
                "researchingQuantity": {"totalResearchingQuantity": sum(self.researching),
                                        "researchingQuantityBreakdown": [
                                            {"name": n, "quantity": q} for n, q in zip(_RESEARCH, self.researching,
                                                                                       strict=True)]},
                "unfulfillableQuantity": {"totalUnfulfillableQuantity": sum(self.unfulfillable),
                                          **dict(zip(_DAMAGE, self.unfulfillable, strict=True))},
            }
        out.update({"lastUpdatedTime": iso(self.updated),
                    "productName": self.product.titles[LANGUAGES.get(self.market.key, "en")],
                    "totalQuantity": self.total})
        return out


def build_inventory(data: Dataset) -> dict[str, list[Stock]]:
    """Marketplace id -> the stock of every product there (deterministic in the seed and the orders)."""
    rng = random.Random(f"fba-{data.seed}")
    pending: Counter[tuple[str, str]] = Counter()
    for order in data.orders:
        if order.channel == "AFN" and order.status in OPEN_STATUSES:
            for item in order.items:
                pending[(item.product.sku, order.market.id)] += item.quantity - item.shipped
    fn_skus = {p.sku: "X00" + "".join(rng.choices("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", k=7))
               for p in data.products}
    out: dict[str, list[Stock]] = {}
    for m in MARKETS:
        rows = out[m.id] = []
        for p in data.products:
            updated = data.anchor - timedelta(seconds=rng.randrange(60, 45 * 86400))

            def few(n: int, hi: int) -> tuple[int, ...]:
                return tuple(rng.choice((0, 0, rng.randint(1, hi))) for _ in range(n))
            rows.append(Stock(p, m, fn_skus[p.sku], updated, rng.randint(0, 400), few(3, 60),  # type: ignore[arg-type]
                              (pending[(p.sku, m.id)], *few(2, 8)), few(3, 4), few(6, 3)))  # type: ignore[arg-type]
    return out


def inventory(data: Dataset) -> dict[str, list[Stock]]:
    """The dataset's FBA inventory (built on first use)."""
    return data.derived("fba_inventory", build_inventory)


def get_inventory_summaries(req: Request) -> Response:
    """GET /fba/inventory/v1/summaries."""
    p = req.params
    mp = p["marketplaceIds"][0]
    if mp not in KNOWN_MARKETPLACE_IDS:
        raise invalid(f"Invalid marketplaceIds: {mp!r} is not a valid marketplace ID.")
    if p["granularityId"] != mp:
        raise invalid(f"Invalid granularityId: {p['granularityId']!r} must be the marketplace of marketplaceIds "
                      f"({mp}) when granularityType is Marketplace.")
    since = p["startDateTime"]
    if since is not None and since < datetime.now(UTC) - timedelta(days=548):
        raise invalid("Invalid startDateTime: it must be no earlier than 18 months before now.")
    stocks = inventory(req.data).get(mp, [])
    if since is not None:
        stocks = [s for s in stocks if s.updated >= since]
    elif p["sellerSkus"]:
        wanted = set(p["sellerSkus"])
        stocks = [s for s in stocks if s.product.sku in wanted]
    elif p["sellerSku"]:
        stocks = [s for s in stocks if s.product.sku == p["sellerSku"]]
    filters = {k: p[k] for k in FILTERS}
    now = req.config.now()
    start, stop = PAGING.window(PAGING.offset(req.query, filters, now), PAGE_SIZE, len(stocks))
    body: dict[str, Any] = {"payload": {
        "granularity": {"granularityType": p["granularityType"], "granularityId": mp},
        "inventorySummaries": [s.render(p["details"]) for s in stocks[start:stop]],
    }}
    pagination = PAGING.pagination(start, PAGE_SIZE, len(stocks), filters, now)
    if pagination:
        body["pagination"] = pagination
    return Response(200, body)


def _export(data: Dataset) -> Iterator[Row]:
    stock = inventory(data)
    for m in MARKETS:
        for s in stock[m.id]:
            yield s.render(True), {"marketplaceIds": [m.id]}, {}


ENDPOINTS = (Endpoint("fba_inventory", "v1", "getInventorySummaries", get_inventory_summaries, SUMMARIES, _export),)
