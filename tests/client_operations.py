"""The operations the HTTP client tests call (getOrders, getOrder, getMarketplaceParticipations), each with the
rate and burst of Amazon's usage plan."""

from __future__ import annotations

from sqlspapi.definitions.schema import OperationSpec

GET_ORDERS = OperationSpec("getOrders", "orders", "v0", "GET", "/orders/v0/orders", 0.0167, 20, restricted=True)
GET_ORDER = OperationSpec("getOrder", "orders", "v0", "GET", "/orders/v0/orders/{orderId}", 0.5, 30)
PARTICIPATIONS = OperationSpec("getMarketplaceParticipations", "sellers", "v1", "GET",
                               "/sellers/v1/marketplaceParticipations", 0.016, 15)
