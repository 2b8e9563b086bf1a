"""Orders API 2026-01-01: searchOrders and getOrder, rendering the same orders as v0 in the new shape.

No envelope (``{"orders": [...], "pagination": {"nextToken"}}``, ``{"order": {...}}``); ``orderItems`` always,
the other blocks only when ``includedData`` asks for them. PII (BUYER, RECIPIENT) needs no RDT: the demo
application holds the PII roles.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from typing import Any

from sqlspapi.emulator.common import (
    Encoded,
    EncodedList,
    Request,
    Response,
    check_window,
    decode_token,
    encode_json,
    encode_token,
    get_date,
    get_int,
    get_list,
    invalid,
    require_order,
)
from sqlspapi.emulator.data import Dataset, Item, OrderRecord, iso, money_str
from sqlspapi.emulator.generic import Endpoint, Row
from sqlspapi.emulator.pools import MARKETS

INCLUDED_DATA = ("BUYER", "RECIPIENT", "PROCEEDS", "EXPENSE", "PROMOTION", "CANCELLATION", "FULFILLMENT",
                 "PACKAGES", "TAX", "PAYMENT", "FULFILLMENT_ORDERS")
FULFILLMENT_STATUSES = ("PENDING_AVAILABILITY", "PENDING", "UNSHIPPED", "PARTIALLY_SHIPPED", "SHIPPED",
                        "CANCELLED", "UNFULFILLABLE")
FULFILLED_BY = ("MERCHANT", "AMAZON")
#: v0 OrderStatus -> 2026 FulfillmentStatus (InvoiceUnconfirmed orders have shipped: SHIPPED).
STATUS_MAP = {"PendingAvailability": "PENDING_AVAILABILITY", "Pending": "PENDING", "Unshipped": "UNSHIPPED",
              "PartiallyShipped": "PARTIALLY_SHIPPED", "Shipped": "SHIPPED", "InvoiceUnconfirmed": "SHIPPED",
              "Canceled": "CANCELLED", "Unfulfillable": "UNFULFILLABLE"}
SERVICE_LEVELS = {"Standard": "STANDARD", "Expedited": "EXPEDITED", "NextDay": "NEXT_DAY",
                  "SecondDay": "SECOND_DAY", "FreeEconomy": "FREE_ECONOMY"}
FILTERS = ("createdAfter", "createdBefore", "lastUpdatedAfter", "lastUpdatedBefore", "fulfillmentStatuses",
           "marketplaceIds", "fulfilledBy")
#: v0 PaymentMethod -> 2026 paymentExecutions[].paymentMethod (only COD/CVS orders have executions here).
PAYMENT_EXECUTIONS = {"COD": "CashOnDelivery", "CVS": "ConvenienceStore"}
CARRIERS = ("UPS", "USPS", "DHL", "Royal Mail", "Yamato", "Canada Post", "AMZN_US")


def money(minor: int, order: OrderRecord) -> dict[str, str]:
    """A 2026 ``Money`` object (``amount`` is a decimal string)."""
    return {"amount": money_str(minor, order.market), "currencyCode": order.market.currency}


def _item(item: Item, order: OrderRecord, included: set[str]) -> dict[str, Any]:
    product: dict[str, Any] = {"asin": item.product.asin, "title": item.title, "sellerSku": item.product.sku,
                               "condition": {"conditionType": item.condition.upper(),
                                             "conditionSubtype": item.condition_subtype.upper().replace(" ", "_")}}
    if order.status != "Pending":
        product["price"] = {"unitPrice": money(item.unit_price, order)}
    out: dict[str, Any] = {"orderItemId": item.item_id, "quantityOrdered": item.quantity, "product": product}
    if "PROCEEDS" in included and order.status != "Pending":
        tax = 0 if order.market.tax_inclusive else item.item_tax
        breakdowns = [{"type": "ITEM", "subtotal": money(item.item_price, order)},
                      {"type": "SHIPPING", "subtotal": money(item.shipping, order)},
                      {"type": "TAX", "subtotal": money(tax, order)},
                      {"type": "DISCOUNT", "subtotal": money(-item.promotion, order)}]
        total = item.item_price + item.shipping + tax - item.promotion
        out["proceeds"] = {"proceedsTotal": money(total, order), "breakdowns": breakdowns}
    if "PROMOTION" in included and item.promotion_id:
        out["promotion"] = {"breakdowns": [{"promotionId": item.promotion_id}]}
    if "CANCELLATION" in included and order.status == "Canceled":
        out["cancellation"] = {"cancellationRequest": {"requester": "BUYER", "cancelReason": "NoLongerNeeded"}}
    if "FULFILLMENT" in included:
        unfulfilled = 0 if order.status == "Canceled" else item.quantity - item.shipped
        out["fulfillment"] = {"quantityFulfilled": item.shipped, "quantityUnfulfilled": unfulfilled}
    return out


def render_order(order: OrderRecord, included: set[str]) -> dict[str, Any]:
    """The model's 2026 ``Order`` object for ``order`` with the blocks named in ``included``."""
    out: dict[str, Any] = {"orderId": order.order_id, "createdTime": iso(order.purchase),
                           "lastUpdatedTime": iso(order.last_update)}
    programs = [name for name, on in (("AMAZON_BUSINESS", order.is_business), ("PREMIUM", order.is_premium),
                                      ("PREORDER", order.order_type == "Preorder"), ("PRIME", order.is_prime)) if on]
    if programs:
        out["programs"] = programs
    out["salesChannel"] = {"channelName": "AMAZON", "marketplaceId": order.market.id,
                           "marketplaceName": order.market.name}
    if "BUYER" in included:
        buyer: dict[str, Any] = {"buyerName": order.buyer_name}
        if order.buyer_email:
            buyer["buyerEmail"] = order.buyer_email
        if order.buyer_company:
            buyer["buyerCompanyName"] = order.buyer_company
        if order.purchase_order_number:
            buyer["buyerPurchaseOrderNumber"] = order.purchase_order_number
        out["buyer"] = buyer
    if "RECIPIENT" in included:
        a = order.address
        address: dict[str, Any] = {"name": a.name, "addressLine1": a.line1, "city": a.city,
                                   "stateOrRegion": a.state, "postalCode": a.postal, "countryCode": a.country}
        if a.phone:
            address["phone"] = a.phone
        address["addressType"] = a.address_type.upper()
        out["recipient"] = {"deliveryAddress": address}
    total = order.total()
    if "PROCEEDS" in included and total is not None:
        items = order.items
        tax = 0 if order.market.tax_inclusive else sum(i.item_tax for i in items)
        out["proceeds"] = {"grandTotal": money(total, order), "breakdowns": [
            {"type": "ITEM", "subtotal": money(sum(i.item_price for i in items), order)},
            {"type": "SHIPPING", "subtotal": money(sum(i.shipping for i in items), order)},
            {"type": "TAX", "subtotal": money(tax, order)},
            {"type": "DISCOUNT", "subtotal": money(-sum(i.promotion for i in items), order)},
        ]}
    if "PAYMENT" in included and total is not None and order.payment_method in PAYMENT_EXECUTIONS:
        out["payment"] = {"paymentExecutions": [{"paymentMethod": PAYMENT_EXECUTIONS[order.payment_method],
                                                 "paymentAmount": money(total, order)}]}
    if "FULFILLMENT" in included:
        fulfillment: dict[str, Any] = {"fulfillmentStatus": STATUS_MAP[order.status],
                                       "fulfilledBy": "AMAZON" if order.channel == "AFN" else "MERCHANT",
                                       "fulfillmentServiceLevel": SERVICE_LEVELS[order.ship_category]}
        if order.earliest_ship and order.latest_ship:
            fulfillment["shipByWindow"] = {"earliestDateTime": iso(order.earliest_ship),
                                           "latestDateTime": iso(order.latest_ship)}
        if order.earliest_delivery and order.latest_delivery:
            fulfillment["deliverByWindow"] = {"earliestDateTime": iso(order.earliest_delivery),
                                              "latestDateTime": iso(order.latest_delivery)}
        out["fulfillment"] = fulfillment
    out["orderItems"] = [_item(i, order, included) for i in order.items]
    if "PACKAGES" in included:
        shipped = [i for i in order.items if i.shipped]
        if shipped and order.earliest_ship:
            carrier = CARRIERS[int(order.order_id[-1]) % len(CARRIERS)]
            out["packages"] = [{
                "packageReferenceId": "1",
                "createdTime": iso(order.earliest_ship),
                "packageStatus": {"status": "DELIVERED" if order.status == "Shipped" else "SHIPPED"},
                "carrier": carrier,
                "shipTime": iso(order.earliest_ship),
                "shippingService": order.ship_service_level,
                "trackingNumber": "TBA" + order.order_id.replace("-", "")[:12],
                "packageItems": [{"orderItemId": i.item_id, "quantity": i.shipped} for i in shipped],
            }]
        else:
            out["packages"] = []
    return out


def _included(req: Request) -> set[str]:
    return set(get_list(req.query, "includedData", enum=INCLUDED_DATA) or ())


def _encoded(req: Request, orders: list[OrderRecord], included: set[str]) -> EncodedList:
    """``render_order`` of each order, encoded; kept per (order, includedData set): the dataset never changes."""
    cache = req.data.encoded(("orders-2026", frozenset(included)))
    out = EncodedList()
    for o in orders:
        text = cache.get(o.order_id)
        if text is None:
            text = cache[o.order_id] = Encoded(encode_json(render_order(o, included)))
        out.append(text)
    return out


def search_orders(req: Request) -> Response:
    """GET /orders/2026-01-01/orders."""
    q = req.query
    token = q.get("paginationToken")
    state: dict[str, Any] = {}
    if token:
        state = decode_token(token, "paginationToken")
        if state.get("k") != "search":
            raise invalid("Invalid paginationToken: the token does not belong to searchOrders.")
        f: dict[str, str] = state["q"]
    else:
        f = {k: q[k] for k in FILTERS if k in q}
    included = _included(req)
    size = get_int(q, "maxResultsPerPage", 100, 1, 100)
    offset = int(state.get("o", 0))
    markets = get_list(f, "marketplaceIds", max_items=50)
    statuses = get_list(f, "fulfillmentStatuses", enum=FULFILLMENT_STATUSES)
    fulfilled_by = get_list(f, "fulfilledBy", enum=FULFILLED_BY)
    c_after, c_before = get_date(f, "createdAfter"), get_date(f, "createdBefore")
    u_after, u_before = get_date(f, "lastUpdatedAfter"), get_date(f, "lastUpdatedBefore")
    if (c_after is None) == (u_after is None):
        raise invalid("You must provide exactly one of createdAfter and lastUpdatedAfter.")
    if c_after is not None and (u_before is not None):
        raise invalid("Invalid lastUpdatedBefore: lastUpdatedBefore cannot be provided with createdAfter.")
    if u_after is not None and c_before is not None:
        raise invalid("Invalid createdBefore: createdBefore cannot be provided with lastUpdatedAfter.")
    if c_after is not None:
        before_key, after = "createdBefore", c_after
        before = c_before if token and c_before else check_window("createdAfter", c_after, "createdBefore", c_before)
        between = req.data.created_between
    else:
        assert u_after is not None
        before_key, after = "lastUpdatedBefore", u_after
        before = u_before if token and u_before else check_window(
            "lastUpdatedAfter", u_after, "lastUpdatedBefore", u_before)
        between = req.data.updated_between
    market_set = frozenset(markets) if markets else frozenset(m.id for m in MARKETS)

    def select() -> list[OrderRecord]:
        return [
            o for o in between(after.timestamp(), before.timestamp())
            if o.market.id in market_set
            and (statuses is None or STATUS_MAP[o.status] in statuses)
            and (fulfilled_by is None or ("AMAZON" if o.channel == "AFN" else "MERCHANT") in fulfilled_by)
        ]

    # Every page of one search filters the same orders: the list is built once (the pages' tokens keep the window).
    orders = req.data.memo(("searchOrders", before_key, after.timestamp(), before.timestamp(), market_set,
                            statuses and frozenset(statuses), fulfilled_by and frozenset(fulfilled_by)), select)
    body: dict[str, Any] = {"orders": _encoded(req, orders[offset:offset + size], included)}
    if offset + size < len(orders):
        f = dict(f)
        f[before_key] = iso(before)
        body["pagination"] = {"nextToken": encode_token({"k": "search", "o": offset + size, "q": f})}
    body[before_key] = iso(before)
    return Response(200, body)


def get_order(req: Request) -> Response:
    """GET /orders/2026-01-01/orders/{orderId}."""
    included = _included(req)
    order = require_order(req, req.path_args["orderId"])
    return Response(200, {"order": _encoded(req, [order], included)[0]})


def _export(by_path: bool, data: Dataset) -> Iterator[Row]:
    """Every order with all includedData parts (searchOrders: by marketplace; getOrder: by orderId)."""
    everything = set(INCLUDED_DATA)
    for o in data.orders:
        query: dict[str, Any] = {"includedData": list(INCLUDED_DATA)}
        if not by_path:
            query["marketplaceIds"] = [o.market.id]
        yield render_order(o, everything), query, ({"orderId": o.order_id} if by_path else {})


ENDPOINTS = (
    Endpoint("orders", "2026-01-01", "searchOrders", search_orders, export=partial(_export, False)),
    Endpoint("orders", "2026-01-01", "getOrder", get_order, export=partial(_export, True), log_name="getOrder2026"),
)
