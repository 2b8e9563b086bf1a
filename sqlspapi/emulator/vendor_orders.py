"""Vendor Retail Procurement Orders API v1: getPurchaseOrders, getPurchaseOrder and getPurchaseOrdersStatus over the
purchase orders of :mod:`sqlspapi.emulator.vendor_data` (submitAcknowledgement is not served: no table writes).

Rules, as Amazon's model states them, and how the emulator settles what it leaves open:

* getPurchaseOrders takes a created window (``createdAfter``/``createdBefore`` on ``purchaseOrderDate``) and/or a
  changed window (``changedAfter``/``changedBefore`` on ``purchaseOrderChangedDate``: only orders Amazon changed
  after placing them). Each spans at most 7 days and lies in the past six months (:func:`retention_start`; an older
  order is read by number with getPurchaseOrder). A side left out is ``now`` (before) or 7 days before the other
  (after); no window at all is the last 7 days of created orders. Windows are half-open (``after <= t < before``),
  so consecutive 7-day windows never return an order twice.
* Its filters: ``purchaseOrderState``, ``orderingVendorCode`` (``sellingParty.partyId``), ``poItemState=Cancelled``
  (an item Amazon cancelled to quantity 0), ``isPOChanged=true`` (changed after placement; ``false``, the default,
  filters nothing); ``includeDetails=false`` returns only each order's number and state.
* getPurchaseOrdersStatus takes created and updated (``lastUpdatedDate``) windows of at most 7 days (no six-month
  limit), or a ``purchaseOrderNumber``, which needs no window; filters ``purchaseOrderStatus`` (OPEN, CLOSED),
  ``orderingVendorCode``, ``shipToPartyId`` and — true when at least one item has it — ``itemConfirmationStatus``
  and ``itemReceiveStatus``.
* Both lists: ``limit`` 1–100 (default 100), ``sortOrder`` ASC (default) or DESC by ``purchaseOrderDate``; the
  ``nextToken`` (``payload.pagination``) must come back with the same parameters.
* getPurchaseOrder: an 8-character alphanumeric number (else 400), 404 for an unknown one; orders of any age.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlspapi.emulator.common import Request, Response, invalid, not_found
from sqlspapi.emulator.data import Dataset, iso
from sqlspapi.emulator.generic import Endpoint, Paging, Row, rules
from sqlspapi.emulator.vendor_data import (
    PurchaseOrder,
    VendorData,
    render_order,
    render_status,
    retention_start,
    vendor_data,
)

#: Rows a page holds without ``limit`` (and at most).
PAGE_SIZE = 100
#: The longest date range one call may ask for.
MAX_SPAN = timedelta(days=7)
#: The page tokens of the two lists (their own kinds: a token of one is refused by the other).
ORDERS_PAGING = Paging("vendor-purchase-orders", "nextToken")
STATUS_PAGING = Paging("vendor-purchase-orders-status", "nextToken")
#: A purchase order number: 8 letters and digits.
NUMBER = re.compile(r"^[A-Za-z0-9]{8}$")
_SORT = "sortOrder string enum=ASC,DESC"
_LIMIT = "limit integer maximum=100 minimum=1"
#: The model's query parameters of getPurchaseOrders, getPurchaseOrder (none) and getPurchaseOrdersStatus.
ORDERS = rules(f"""
{_LIMIT}
createdAfter        date-time
createdBefore       date-time
{_SORT}
nextToken           string
includeDetails      string
changedAfter        date-time
changedBefore       date-time
poItemState         string    enum=Cancelled
isPOChanged         string
purchaseOrderState  string    enum=New,Acknowledged,Closed
orderingVendorCode  string
""")
ORDER = rules("")
STATUS = rules(f"""
{_LIMIT}
{_SORT}
nextToken               string
createdAfter            date-time
createdBefore           date-time
updatedAfter            date-time
updatedBefore           date-time
purchaseOrderNumber     string
purchaseOrderStatus     string    enum=OPEN,CLOSED
itemConfirmationStatus  string    enum=ACCEPTED,PARTIALLY_ACCEPTED,REJECTED,UNCONFIRMED
itemReceiveStatus       string    enum=NOT_RECEIVED,PARTIALLY_RECEIVED,RECEIVED
orderingVendorCode      string
shipToPartyId           string
""")
#: A half-open date window [after, before).
Window = tuple[datetime, datetime]


def _flag(params: dict[str, Any], name: str, default: bool) -> bool:
    """A ``true``/``false`` string parameter (the model's ``format: boolean`` strings)."""
    raw = params[name]
    if raw is None:
        return default
    lowered = str(raw).strip().lower()
    if lowered not in ("true", "false"):
        raise invalid(f"Invalid {name}: {raw!r} is not a boolean (true or false).")
    return lowered == "true"


def _window(params: dict[str, Any], after_name: str, before_name: str, now: datetime) -> Window | None:
    """The half-open window [after, before) of a parameter pair (None when neither is given), at most 7 days."""
    after, before = params[after_name], params[before_name]
    if after is None and before is None:
        return None
    before = before or now
    after = after or before - MAX_SPAN
    if after >= before:
        raise invalid(f"Invalid {after_name}: {after_name} must be before {before_name}.")
    if before - after > MAX_SPAN:
        raise invalid(f"Invalid {before_name}: the date range from {after_name} to {before_name} must not exceed 7 "
                      f"days (send both; {before_name} defaults to now).")
    return after, before


def _inside(moment: datetime | None, window: Window | None) -> bool:
    return window is None or (moment is not None and window[0] <= moment < window[1])


def _created(vd: VendorData, window: Window | None) -> Sequence[PurchaseOrder]:
    """The orders placed in ``window`` (all without one), oldest first."""
    if window is None:
        return vd.orders
    lo = bisect.bisect_left(vd.keys, window[0].timestamp())
    hi = bisect.bisect_left(vd.keys, window[1].timestamp())
    return vd.orders[lo:hi]


def _page(req: Request, paging: Paging, found: Sequence[PurchaseOrder], key: str,
          render: Callable[[PurchaseOrder], dict[str, Any]]) -> Response:
    """One page of ``found`` (sorted as ``sortOrder`` asks) under ``payload.<key>``, with its next token."""
    p = req.params
    ordered = list(found)[::-1] if p["sortOrder"] == "DESC" else found
    filters = {k: v for k, v in req.query.items() if k not in ("nextToken", "limit")}
    size = p["limit"] or PAGE_SIZE
    clock = req.config.now()
    start, stop = paging.window(paging.offset(req.query, filters, clock), size, len(ordered))
    payload: dict[str, Any] = {}
    pagination = paging.pagination(start, size, len(ordered), filters, clock)
    if pagination:
        payload["pagination"] = pagination
    payload[key] = [render(po) for po in ordered[start:stop]]
    return Response(200, {"payload": payload})


def get_purchase_orders(req: Request) -> Response:
    """GET /vendor/orders/v1/purchaseOrders."""
    p = req.params
    now = datetime.now(UTC)
    created = _window(p, "createdAfter", "createdBefore", now)
    changed = _window(p, "changedAfter", "changedBefore", now)
    if created is None and changed is None:
        created = (now - MAX_SPAN, now)
    oldest = retention_start(req.data, now)
    for name, window in (("createdAfter", created), ("changedAfter", changed)):
        if window is not None and window[0] < oldest:
            raise invalid(f"Invalid {name}: purchase orders can be searched for the past 6 months only, so {name} "
                          f"must be on or after {iso(oldest)} (getPurchaseOrder reads an older purchase order by its "
                          "number).")
    details = _flag(p, "includeDetails", True)
    changed_only = _flag(p, "isPOChanged", False)
    state, code, cancelled = p["purchaseOrderState"], p["orderingVendorCode"], p["poItemState"] == "Cancelled"
    found = [po for po in _created(vendor_data(req.data), created)
             if _inside(po.changed, changed) and (not changed_only or po.changed is not None)
             and (state is None or po.state == state) and (code is None or po.vendor_code == code)
             and (not cancelled or po.cancelled_item)]
    return _page(req, ORDERS_PAGING, found, "orders", lambda po: render_order(po, details))


def get_purchase_order(req: Request) -> Response:
    """GET /vendor/orders/v1/purchaseOrders/{purchaseOrderNumber}."""
    number = req.path_args["purchaseOrderNumber"]
    if not NUMBER.match(number):
        raise invalid(f"Invalid purchaseOrderNumber: {number!r} is not a purchase order number (8 letters and "
                      "digits).")
    po = vendor_data(req.data).by_number.get(number)
    if po is None:
        raise not_found(f"Purchase order {number} was not found.")
    return Response(200, {"payload": render_order(po)})


def _confirmations(po: PurchaseOrder) -> set[str]:
    """The confirmation statuses of the order's items (UNCONFIRMED before the acknowledgement)."""
    return {i.confirmation for i in po.items} if po.acknowledged is not None else {"UNCONFIRMED"}


def get_purchase_orders_status(req: Request) -> Response:
    """GET /vendor/orders/v1/purchaseOrdersStatus."""
    p = req.params
    now = datetime.now(UTC)
    vd = vendor_data(req.data)
    created = _window(p, "createdAfter", "createdBefore", now)
    updated = _window(p, "updatedAfter", "updatedBefore", now)
    number = p["purchaseOrderNumber"]
    if number is None and created is None and updated is None:
        created = (now - MAX_SPAN, now)
    if number is not None:
        candidates: Sequence[PurchaseOrder] = [po for po in (vd.by_number.get(number),) if po is not None]
    else:
        candidates = _created(vd, created)
    status, code, ship_to = p["purchaseOrderStatus"], p["orderingVendorCode"], p["shipToPartyId"]
    confirmation, receive = p["itemConfirmationStatus"], p["itemReceiveStatus"]
    found = [po for po in candidates
             if _inside(po.placed, created) and _inside(po.last_updated, updated)
             and (status is None or po.status == status) and (code is None or po.vendor_code == code)
             and (ship_to is None or po.center[0] == ship_to)
             and (confirmation is None or confirmation in _confirmations(po))
             and (receive is None or any(i.receive_status == receive for i in po.items))]
    return _page(req, STATUS_PAGING, found, "ordersStatus", render_status)


def _export_orders(data: Dataset) -> Iterator[Row]:
    for po in vendor_data(data).orders:
        yield render_order(po), {}, {}


def _export_order(data: Dataset) -> Iterator[Row]:
    for po in vendor_data(data).orders:
        yield render_order(po), {}, {"purchaseOrderNumber": po.number}


def _export_status(data: Dataset) -> Iterator[Row]:
    for po in vendor_data(data).orders:
        yield render_status(po), {}, {}


#: The operations this module serves.
ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint("vendor_orders", "v1", "getPurchaseOrders", get_purchase_orders, ORDERS, _export_orders),
    Endpoint("vendor_orders", "v1", "getPurchaseOrder", get_purchase_order, ORDER, _export_order),
    Endpoint("vendor_orders", "v1", "getPurchaseOrdersStatus", get_purchase_orders_status, STATUS, _export_status),
)
