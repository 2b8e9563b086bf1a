"""Named hooks of the Vendor Orders tables: ship and delivery windows split into their ends, and the child tables.

A purchase order's ``shipWindow``/``deliveryWindow`` is an ISO 8601 interval (``start--end``): :func:`purchase_order`
puts its two ends beside it. :func:`purchase_order_items` makes one row per item of a purchase order and
:func:`item_status` one row per item of a purchase order status, each carrying its order's number, state, dates and
parties, so the child tables filter (and push down) on them like their parent.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

Obj = Mapping[str, Any]

#: Fields of a purchase order (inside its ``orderDetails``) every item row carries.
_ORDER_FIELDS = ("purchaseOrderDate", "purchaseOrderChangedDate", "sellingParty", "shipToParty")
#: Fields of a purchase order status every item status row carries.
_STATUS_FIELDS = ("purchaseOrderNumber", "purchaseOrderStatus", "purchaseOrderDate", "lastUpdatedDate",
                  "sellingParty", "shipToParty")


def _ends(interval: Any) -> tuple[str | None, str | None]:
    """``2026-11-02T07:00:00Z--2026-11-08T07:00:00Z`` → its start and end (None when absent or not an interval)."""
    if not isinstance(interval, str) or "--" not in interval:
        return None, None
    start, _, end = interval.partition("--")
    return start or None, end or None


def purchase_order(order: Obj, request: Any) -> Iterator[Obj]:
    """The order with ``shipWindowStart``/``shipWindowEnd`` and ``deliveryWindowStart``/``deliveryWindowEnd``."""
    details = order.get("orderDetails")
    details = details if isinstance(details, Mapping) else {}
    shaped = dict(order)
    for name in ("shipWindow", "deliveryWindow"):
        shaped[f"{name}Start"], shaped[f"{name}End"] = _ends(details.get(name))
    yield shaped


def purchase_order_items(order: Obj, request: Any) -> Iterator[Obj]:
    """One row per item of the order (none when the answer has no details), with the order's fields."""
    details = order.get("orderDetails")
    if not isinstance(details, Mapping):
        return
    parent = {"purchaseOrderNumber": order.get("purchaseOrderNumber"),
              "purchaseOrderState": order.get("purchaseOrderState"),
              **{name: details.get(name) for name in _ORDER_FIELDS}}
    for item in details.get("items") or ():
        if isinstance(item, Mapping):
            yield {**item, **parent}


def item_status(status: Obj, request: Any) -> Iterator[Obj]:
    """One row per item status of a purchase order status, with the order's fields."""
    parent = {name: status.get(name) for name in _STATUS_FIELDS}
    for item in status.get("itemStatus") or ():
        if isinstance(item, Mapping):
            yield {**item, **parent}
