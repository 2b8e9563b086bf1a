"""A local, deterministic, rate-limited Selling Partner API for tests, benchmarks and ``--demo``.

``start()`` returns a running :class:`Emulator` (background thread, 127.0.0.1, free port by default);
``main(argv)`` backs ``sqlspapi emulator``. It serves the LWA token endpoint, Orders v0 (getOrders, getOrder,
getOrderItems, getOrderAddress, getOrderBuyerInfo), Orders 2026-01-01 (searchOrders, getOrder), Tokens
(createRestrictedDataToken) and Sellers (getMarketplaceParticipations, getAccount) with Amazon's usage plans.
"""

from __future__ import annotations

from datetime import datetime

from sqlspapi.emulator.calllog import CallLog, EmulatorCall
from sqlspapi.emulator.cli import main
from sqlspapi.emulator.lwa import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_REFRESH_TOKEN
from sqlspapi.emulator.ratelimit import USAGE_PLANS
from sqlspapi.emulator.server import Emulator


def start(*, port: int = 0, seed: int = 7, orders: int = 2000, time_scale: float = 1.0,
          token_lifetime: float = 3600.0, anchor: datetime | None = None, host: str = "127.0.0.1",
          items_page_size: int = 100) -> Emulator:
    """Generate the data, bind ``host:port`` (0 = any free port) and serve in a background thread."""
    return Emulator(host=host, port=port, seed=seed, orders=orders, time_scale=time_scale,
                    token_lifetime=token_lifetime, anchor=anchor, items_page_size=items_page_size).start()


__all__ = ["DEMO_CLIENT_ID", "DEMO_CLIENT_SECRET", "DEMO_REFRESH_TOKEN", "USAGE_PLANS", "CallLog", "Emulator",
           "EmulatorCall", "main", "start"]
