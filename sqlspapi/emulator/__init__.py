"""A local, deterministic, rate-limited Selling Partner API for tests, benchmarks and ``--demo``.

``start()`` returns a running :class:`Emulator` (background thread, 127.0.0.1, free port by default);
``main(argv)`` backs ``sqlspapi emulator``. It serves the LWA token endpoint, Orders v0 (getOrders, getOrder,
getOrderItems, getOrderAddress, getOrderBuyerInfo), Orders 2026-01-01 (searchOrders, getOrder), Tokens
(createRestrictedDataToken), Sellers (getMarketplaceParticipations, getAccount), Catalog Items 2022-04-01 and
2020-12-01 (searchCatalogItems, getCatalogItem), FBA Inventory v1 (getInventorySummaries), Sales v1
(getOrderMetrics) and Reports 2021-06-30 (:mod:`sqlspapi.emulator.reports`: reports, schedules, document downloads),
with the usage plans of the table definitions (``vtables/*.toml``).

``Emulator.export(operation, version=None)`` returns every row object a list/get operation can return as
``(row, query, path)`` tuples — the query and path parameters under which the API returns that row — for
differential tests (the same SQL over a plain SQLite copy of the data):

* searchCatalogItems: each item with every includedData part of that version, query ``{"marketplaceIds": [mp]}``
  (getCatalogItem: the same, path ``{"asin": asin}``);
* getInventorySummaries: each summary with ``inventoryDetails``, query ``{"marketplaceIds": [mp]}``;
* getOrders (v0): each order as a plain LWA token sees it, query ``{"MarketplaceIds": [mp]}``; getOrder (v0),
  getOrderAddress, getOrderBuyerInfo: path ``{"orderId": id}``; getOrderItems: each item, path ``{"orderId": id}``;
* searchOrders (2026-01-01): each order with every includedData part, query ``{"marketplaceIds": [mp],
  "includedData": [...]}``; getOrder (2026-01-01, logged ``getOrder2026``): the same, path ``{"orderId": id}``;
* getMarketplaceParticipations, getAccount: their rows, ``{}``, ``{}``.

An operationId that two versions share needs ``version=``; getOrderMetrics has no export (an aggregate; see
:mod:`sqlspapi.emulator.sales` for the GROUP BY it equals).
"""

from __future__ import annotations

from datetime import datetime

from sqlspapi.emulator.calllog import CallLog, EmulatorCall
from sqlspapi.emulator.cli import main
from sqlspapi.emulator.lwa import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_REFRESH_TOKEN
from sqlspapi.emulator.ratelimit import UsagePlan
from sqlspapi.emulator.server import Emulator


def start(*, port: int = 0, seed: int = 7, orders: int = 2000, time_scale: float = 1.0,
          token_lifetime: float = 3600.0, anchor: datetime | None = None, host: str = "127.0.0.1",
          items_page_size: int = 100) -> Emulator:
    """Generate the data, bind ``host:port`` (0 = any free port) and serve in a background thread."""
    return Emulator(host=host, port=port, seed=seed, orders=orders, time_scale=time_scale,
                    token_lifetime=token_lifetime, anchor=anchor, items_page_size=items_page_size).start()


__all__ = ["DEMO_CLIENT_ID", "DEMO_CLIENT_SECRET", "DEMO_REFRESH_TOKEN", "CallLog", "Emulator", "EmulatorCall",
           "UsagePlan", "main", "start"]
